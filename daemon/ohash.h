/*
 * ohash.h: the compact ordered hash behind dict and the object registry.
 *
 * CPython's compact dict layout: an index table of uint32 slots pointing
 * into a dense array of entries kept in insertion order. Each entry is one
 * allocation holding its key bytes then its value bytes. Keys compare by
 * bytes (dict keys are canonical msgpack, so 1 and 1.0 differ). The hash is
 * SipHash-1-3 with a per-process random seed (hash flooding).
 *
 * Growth never stalls the loop: when the index table must grow, a new table
 * is built incrementally (a few slots moved per operation, as Redis's
 * dictRehashStep), and lookups consult both tables meanwhile. Deleted
 * entries leave holes in the dense array that are squeezed out the same way.
 * Every operation is O(1) amortized; none is O(n) at once except
 * ohash_clear() (use ohash_free_step() to free a big table in slices).
 *
 * Memory comes from the daemon's xmalloc family (mem.h).
 */
#ifndef MPMGR_OHASH_H
#define MPMGR_OHASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct oh_entry {
	uint64_t seq;     /* insertion number: the scan cursor's order */
	uint32_t hash;
	uint32_t klen;
	uint32_t vlen;
	uint8_t data[];   /* klen key bytes, then vlen value bytes */
};

static inline const uint8_t *oh_key(const struct oh_entry *e) { return e->data; }
static inline uint8_t *oh_val(struct oh_entry *e) { return e->data + e->klen; }

struct ohash;

struct ohash *ohash_new(void);
/* Free at once: O(n). */
void ohash_free(struct ohash *h);
/* Free up to budget entries; true when h is gone. For incremental deletes. */
bool ohash_free_step(struct ohash *h, size_t budget);
size_t ohash_len(const struct ohash *h);
/* Bytes held by h (tables and entries), for sys.stats and obj.info. */
size_t ohash_mem(const struct ohash *h);
/* The keys' bytes and the values' bytes, all of them: the size of a reply
 * that carries them, known before it is built. */
size_t ohash_key_bytes(const struct ohash *h);
size_t ohash_value_bytes(const struct ohash *h);

/* The entry for key, or NULL. Valid until the next change to h. */
struct oh_entry *ohash_get(struct ohash *h, const void *key, size_t klen);
/*
 * Set key to value, keeping the key's place if it exists. Returns the
 * entry (valid until the next change) and *added tells whether the key is
 * new.
 */
struct oh_entry *ohash_set(struct ohash *h, const void *key, size_t klen,
    const void *val, size_t vlen, bool *added);
/*
 * Delete key. true if it was there. When out is not NULL the entry is
 * handed over instead of freed (caller xfree()s it).
 */
bool ohash_del(struct ohash *h, const void *key, size_t klen,
    struct oh_entry **out);
/* Remove and hand over the newest entry (Python's popitem), or NULL. */
struct oh_entry *ohash_pop_last(struct ohash *h);
/* The entry ohash_pop_last would hand over, left in place, or NULL. */
struct oh_entry *ohash_last(struct ohash *h);
/* Remove everything now: O(n). */
void ohash_clear(struct ohash *h);

/*
 * A lookup about to be made, for ohash_prefetch: the caller sets h, key
 * and klen; the rest is ohash_prefetch's.
 */
struct oh_ahead {
	struct ohash *h;
	const void *key;
	size_t klen;
	uint32_t hash;
	const uint64_t *cell;   /* the key's likely cell, or NULL */
};

/*
 * Bring into the cache what the n lookups will read, for all of them at
 * once: the first index slot of each key, then the cell of the slot whose
 * hash bits match, then that cell's entry, each round's loads issued
 * together so that their misses overlap instead of following one another
 * (Valkey's memory access amortization, Redis's memory_prefetch.c). Reads
 * only: h does not change, and a key that is not there costs a wasted
 * load at most.
 */
void ohash_prefetch(struct oh_ahead *a, size_t n);
/* Whether h is large enough for prefetching to pay: a small table stays
 * in the caches, and ohash_prefetch leaves it alone. */
bool ohash_prefetch_pays(const struct ohash *h);

/*
 * Iterate in insertion order: pos starts at 0; NULL at the end. h must not
 * change during the walk.
 */
struct oh_entry *ohash_next(const struct ohash *h, size_t *pos);

/*
 * Cursor scan, stable across inserts, deletes and rehashing: start with
 * cursor 0; up to count entries are passed to fn in insertion order and the
 * next cursor is returned (0 when the walk is over). Every entry present
 * for the whole walk is seen exactly once; entries added during the walk
 * may or may not be. O(log n + count).
 */
uint64_t ohash_scan(const struct ohash *h, uint64_t cursor, size_t count,
    void (*fn)(void *arg, const struct oh_entry *e), void *arg);

/*
 * For tests: rehashing migrates at most OHASH_STEP cells (entries or holes)
 * per operation; ohash_test_moved() counts them since ohash_new().
 */
#define OHASH_STEP 64
uint64_t ohash_test_moved(const struct ohash *h);
bool ohash_test_rehashing(const struct ohash *h);

#endif
