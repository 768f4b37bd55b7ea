/*
 * ohash.c: the compact ordered hash (see ohash.h for the contract).
 *
 * Layout. A table is an index of uint32 slots (0 empty, UINT32_MAX a
 * dummy left by a delete, else 1 + a position with hash bits above it, see
 * slot_of) over a dense array of cells in insertion order. A cell holds an
 * entry pointer or, once its entry is deleted, a hole: the entry's seq
 * shifted left with the low bit set (entries are aligned, so the low bit
 * tells them apart). Holes keep their seq so that the dense array stays
 * sorted by seq and ohash_scan can binary-search it. Probing is
 * CPython's: i = 5i + 1 + perturb, perturb shifted right by 5 each step,
 * over the entry's 32-bit hash (SipHash-1-3, random key). New keys take the
 * first empty slot, never a dummy, so a table's `fill` (slots not empty)
 * only grows, and fill <= cap = 2/3 of the slots keeps every probe chain
 * short and ending at an empty slot.
 *
 * Rebuilding. When an insert would leave too little room, or after a
 * delete the table is mostly unused (len < cap / 8), a new table `nt` is
 * allocated (calloc: zeroed pages cost nothing up front, so a big index is
 * not cleared in one go) and sized from the live count, which both grows
 * and shrinks it and drops every dummy and hole. Then every operation
 * except the const ones first migrates the next OHASH_STEP positions of
 * the old table `t`, in order: live entries are appended to nt and linked
 * into its index, holes are dropped. Meanwhile:
 *
 *   - the logical order is nt's cells [0, nt.n) then t's cells [r, t.n),
 *     where r is the first unmigrated position of t;
 *   - lookups try nt, then t, where t's slots pointing below r are stale
 *     and skipped;
 *   - new keys are appended to t, after everything not yet migrated, so
 *     the order holds; migration reaches them in turn.
 *
 * For that last point t must have room for the inserts that can happen
 * before the migration ends: a rebuild over s positions takes at most
 * reserve(s) operations beyond the first, each inserting at most one key,
 * so a table is never filled past cap - reserve(fill) (the invariant
 * checked on insert), and nt is sized so that it holds the same invariant
 * when it takes over. No operation examines more than OHASH_STEP
 * positions of migration, and the arrays are never copied whole.
 *
 * Costs that are amortized, not bounded: ohash_pop_last and ohash_last
 * walk back over trailing holes (each hole once, as CPython's popitem),
 * and ohash_scan skips at most 10 holes per entry asked for, answering
 * fewer entries (but a nonzero cursor) when it meets more. ohash_clear and
 * ohash_free are O(n); ohash_free_step frees in slices, after which h is
 * only good for more ohash_free_step calls.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "log.h"
#include "mem.h"
#include "ohash.h"

/* Slots of a lookup's chain ohash_prefetch reads to find its cell. */
#define AHEAD_PROBES 4
/* Index slots of a table worth prefetching: 8192 or more (about 2,700
 * entries or more); smaller ones stay in the caches. */
#define AHEAD_MIN_SIZE 8192
#define SLOT_EMPTY 0u
#define SLOT_DUMMY UINT32_MAX
#define MIN_SIZE 8
/* Positions must stay below SLOT_DUMMY - 1; this keeps them far below. */
#define MAX_SIZE ((size_t)1 << 31)
/* Holes ohash_scan may skip per entry asked for (Redis's emptyVisits). */
#define SCAN_HOLES 10

struct otab {
	uint32_t *idx;  /* size slots */
	uint64_t *ents; /* cap cells */
	size_t size;    /* a power of two, or 0 before the first insert */
	size_t cap;     /* size * 2 / 3 */
	size_t fill;    /* slots not empty: live + dummy */
	size_t n;       /* cells in use, holes included */
};

struct ohash {
	struct otab t;  /* the table; the old one during a rebuild */
	struct otab nt; /* the one being built; idx NULL when none */
	size_t r;       /* t's cells below r have moved to nt */
	size_t len;
	uint64_t seq;   /* the last one given */
	size_t mem;
	size_t kbytes;  /* every key's bytes, and every value's */
	size_t vbytes;
	uint64_t moved; /* cells migrated so far (test hook) */
};

/* A position in one table: where a key was found. */
struct oh_loc {
	struct otab *tab;
	size_t slot;
	size_t pos;
};

/* --- SipHash-1-3 ---------------------------------------------------- */

static uint8_t sip_key[16];
static uint64_t sip_k0, sip_k1; /* sip_key as SipHash reads it */
static int sip_keyed;

static inline uint64_t
sip_le64(const uint8_t *p)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	uint64_t v;

	memcpy(&v, p, sizeof v);
	return v;
#else
	return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
	    (uint64_t)p[3] << 24 | (uint64_t)p[4] << 32 |
	    (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
	    (uint64_t)p[7] << 56;
#endif
}

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND do {							\
	v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);	\
	v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;				\
	v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;				\
	v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);	\
} while (0)

static uint64_t
siphash13(const uint8_t *in, size_t len, uint64_t k0, uint64_t k1)
{
	uint64_t v0 = 0x736f6d6570736575ULL ^ k0;
	uint64_t v1 = 0x646f72616e646f6dULL ^ k1;
	uint64_t v2 = 0x6c7967656e657261ULL ^ k0;
	uint64_t v3 = 0x7465646279746573ULL ^ k1;
	uint64_t m, b = (uint64_t)len << 56;
	size_t i, tail = len & 7;

	for (i = 0; i + 8 <= len; i += 8) {
		m = sip_le64(in + i);
		v3 ^= m;
		SIPROUND;
		v0 ^= m;
	}
	switch (tail) {
	case 7: b |= (uint64_t)in[i + 6] << 48; /* FALLTHROUGH */
	case 6: b |= (uint64_t)in[i + 5] << 40; /* FALLTHROUGH */
	case 5: b |= (uint64_t)in[i + 4] << 32; /* FALLTHROUGH */
	case 4: b |= (uint64_t)in[i + 3] << 24; /* FALLTHROUGH */
	case 3: b |= (uint64_t)in[i + 2] << 16; /* FALLTHROUGH */
	case 2: b |= (uint64_t)in[i + 1] << 8;  /* FALLTHROUGH */
	case 1: b |= (uint64_t)in[i];
	}
	v3 ^= b;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

/* Keyed per process so that clients cannot aim keys at one chain. */
static void __attribute__((noinline))
ohash_key(void)
{
	size_t got = 0;
	ssize_t r;

	while (got < sizeof sip_key) {
		r = getrandom(sip_key + got, sizeof sip_key - got, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			fatal("%s: getrandom", __func__);
		}
		got += (size_t)r;
	}
	sip_k0 = sip_le64(sip_key);
	sip_k1 = sip_le64(sip_key + 8);
	sip_keyed = 1;
}

static uint32_t
ohash_siphash(const void *key, size_t klen)
{
	if (!sip_keyed)
		ohash_key();
	return (uint32_t)siphash13(key, klen, sip_k0, sip_k1);
}

/*
 * The hashes ohash_prefetch made, for the lookups that follow it to take
 * instead of hashing the same keys again (a SipHash of a 16-byte key is
 * most of the cost of prefetching it). Direct-mapped on the key's
 * address, and only for the same bytes: an entry keeps a copy of its
 * short key and answers only a key equal to it, so that whatever was put
 * at that address since, the hash given is the hash of the bytes asked.
 */
#define MEMO_SLOTS 64           /* a power of two, >= 4 * PREFETCH_MAX */
#define MEMO_KEY 32             /* longer keys are hashed again */
static struct memo {
	const void *key;
	uint32_t klen;
	uint32_t hash;
	uint8_t bytes[MEMO_KEY];
} memo[MEMO_SLOTS];

static inline struct memo *
memo_slot(const void *key)
{
	uint64_t x = (uint64_t)(uintptr_t)key * UINT64_C(0x9e3779b97f4a7c15);

	return &memo[x >> 58];
}
_Static_assert(MEMO_SLOTS == 64, "memo_slot takes 6 bits");

/* a[0..n) == b[0..n), n <= MEMO_KEY, without a call for the usual keys. */
static inline bool
memo_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
	uint64_t x, y;
	size_t i;

	if (n < 8)
		return memcmp(a, b, n) == 0;
	for (i = 0; i + 8 < n; i += 8) {
		memcpy(&x, a + i, 8);
		memcpy(&y, b + i, 8);
		if (x != y)
			return false;
	}
	/* the last 8 bytes, overlapping what was compared */
	memcpy(&x, a + n - 8, 8);
	memcpy(&y, b + n - 8, 8);
	return x == y;
}

/* The hash of key for a lookup in h: the memo's, if h is one that
 * ohash_prefetch fills it for. */
static uint32_t
ohash_hash(const struct ohash *h, const void *key, size_t klen)
{
	struct memo *m;

	if (h->t.size + h->nt.size >= AHEAD_MIN_SIZE) {
		m = memo_slot(key);
		if (m->key == key && m->klen == klen &&
		    memo_equal(m->bytes, key, klen))
			return m->hash;
	}
	return ohash_siphash(key, klen);
}

/* Hash key for ohash_prefetch, and keep the hash for the lookup after. */
static uint32_t
ohash_hash_ahead(const void *key, size_t klen)
{
	struct memo *m;
	uint32_t hash = ohash_siphash(key, klen);

	if (klen <= MEMO_KEY) {
		m = memo_slot(key);
		m->key = key;
		m->klen = (uint32_t)klen;
		m->hash = hash;
		memcpy(m->bytes, key, klen);
	}
	return hash;
}

/* --- cells ------------------------------------------------------------ */

static bool cell_hole(uint64_t c) { return (c & 1) != 0; }
static uint64_t cell_of(struct oh_entry *e) { return (uint64_t)(uintptr_t)e; }
static uint64_t hole_of(uint64_t seq) { return seq << 1 | 1; }

static struct oh_entry *
cell_entry(uint64_t c)
{
	return (struct oh_entry *)(uintptr_t)c;
}

static uint64_t
cell_seq(uint64_t c)
{
	return cell_hole(c) ? c >> 1 : cell_entry(c)->seq;
}

/* Cells in logical order: nt's, then t's not yet migrated. */
static size_t
ohash_cells(const struct ohash *h)
{
	return h->nt.n + (h->t.n - h->r);
}

static uint64_t
ohash_cell(const struct ohash *h, size_t i)
{
	if (i < h->nt.n)
		return h->nt.ents[i];
	return h->t.ents[h->r + (i - h->nt.n)];
}

static size_t
entry_bytes(size_t klen, size_t vlen)
{
	return offsetof(struct oh_entry, data) + klen + vlen;
}

/* e leaves h: it no longer counts (ohash_del, ohash_pop_last). */
static void
entry_out(struct ohash *h, struct oh_entry *e)
{
	h->mem -= mem_usable(e);
	h->kbytes -= e->klen;
	h->vbytes -= e->vlen;
}

static void
entry_free(struct ohash *h, struct oh_entry *e)
{
	entry_out(h, e);
	xfree(e);
}

/* --- one table -------------------------------------------------------- */

/*
 * A live slot of a table of size 2^b: 1 + the position in its low b bits
 * (positions stay below cap < size), and above them the top 32 - b bits
 * of the entry's hash, the bits that the first probe's index does not
 * already say. A probe compares those before it looks at the entry, so a
 * slot of another key costs no load of the cells or of an entry but once
 * in 2^(32 - b) (1 in 2048 for a million keys). Empty is 0 (1 + pos never
 * is) and a dummy UINT32_MAX (its low bits would be a position >= cap).
 */
static inline uint32_t
slot_of(uint32_t hash, size_t mask, size_t pos)
{
	return (hash & ~(uint32_t)mask) | (uint32_t)(pos + 1);
}

/* Find key in tab, skipping slots that point below lo (migrated). */
static bool
tab_find(struct otab *tab, size_t lo, uint32_t hash, const void *key,
    size_t klen, struct oh_loc *loc)
{
	size_t mask, i, pos;
	uint32_t perturb = hash, ix, tagmask;
	struct oh_entry *e;

	if (tab->size == 0)
		return false;
	mask = tab->size - 1;
	tagmask = ~(uint32_t)mask;
	for (i = hash & mask;; i = (i * 5 + perturb + 1) & mask) {
		ix = tab->idx[i];
		if (ix == SLOT_EMPTY)
			return false;
		/* A slot that is neither empty nor a dummy points at a live
		 * entry: deletes turn the slot into a dummy with the cell. */
		if (((ix ^ hash) & tagmask) == 0 && ix != SLOT_DUMMY &&
		    (pos = (ix & mask) - 1) >= lo) {
			e = cell_entry(tab->ents[pos]);
			if (e->hash == hash && e->klen == klen &&
			    (klen == 0 || memcmp(e->data, key, klen) == 0)) {
				loc->tab = tab;
				loc->slot = i;
				loc->pos = pos;
				return true;
			}
		}
		perturb >>= 5;
	}
}

/*
 * The cell that a lookup of hash in tab would compare first, reading the
 * slots of its chain up to the first whose hash bits match (at most
 * AHEAD_PROBES of them); NULL when the chain ends or runs on.
 */
static const uint64_t *
tab_ahead_cell(const struct otab *tab, size_t lo, uint32_t hash)
{
	size_t mask, i, pos;
	uint32_t perturb = hash, ix, tagmask;
	int probes;

	if (tab->size == 0)
		return NULL;
	mask = tab->size - 1;
	tagmask = ~(uint32_t)mask;
	i = hash & mask;
	for (probes = 0; probes < AHEAD_PROBES; probes++) {
		ix = tab->idx[i];
		if (ix == SLOT_EMPTY)
			return NULL;
		if (((ix ^ hash) & tagmask) == 0 && ix != SLOT_DUMMY &&
		    (pos = (ix & mask) - 1) >= lo)
			return &tab->ents[pos];
		i = (i * 5 + perturb + 1) & mask;
		perturb >>= 5;
	}
	return NULL;
}

/* Point the first empty slot of hash's chain at pos. */
static void
tab_link(struct otab *tab, uint32_t hash, size_t pos)
{
	size_t mask = tab->size - 1, i;
	uint32_t perturb = hash;

	for (i = hash & mask; tab->idx[i] != SLOT_EMPTY;
	    i = (i * 5 + perturb + 1) & mask)
		perturb >>= 5;
	tab->idx[i] = slot_of(hash, mask, pos);
	tab->fill++;
}

/* The slot that points at pos, which holds an entry with this hash. */
static size_t
tab_slot_of(const struct otab *tab, uint32_t hash, size_t pos)
{
	size_t mask = tab->size - 1, i;
	uint32_t perturb = hash, want = slot_of(hash, mask, pos);

	for (i = hash & mask; tab->idx[i] != want;
	    i = (i * 5 + perturb + 1) & mask) {
		if (tab->idx[i] == SLOT_EMPTY)
			fatalx("%s: position %zu not indexed", __func__, pos);
		perturb >>= 5;
	}
	return i;
}

static void
tab_free(struct ohash *h, struct otab *tab)
{
	h->mem -= mem_usable(tab->idx) + mem_usable(tab->ents);
	xfree(tab->idx);
	xfree(tab->ents);
	memset(tab, 0, sizeof *tab);
}

/* --- rebuilding ------------------------------------------------------- */

/*
 * Inserts a rebuild over n cells may have to take in the old table before
 * it ends: the first step moves OHASH_STEP cells and each later operation
 * moves OHASH_STEP and adds at most one.
 */
static size_t
reserve(size_t n)
{
	return n > OHASH_STEP ? n / (OHASH_STEP - 1) + 1 : 0;
}

static bool
rebuilding(const struct ohash *h)
{
	return h->nt.idx != NULL;
}

/* Start a rebuild sized for the live entries plus extra about to come. */
static void
rebuild_start(struct ohash *h, size_t extra)
{
	size_t need, target, size = MIN_SIZE;
	struct otab *nt = &h->nt;

	need = h->len + reserve(h->t.n) + extra;
	target = need + reserve(need);
	/* Room for twice the live count, as CPython: growth stays amortized. */
	if (target < 2 * (h->len + extra))
		target = 2 * (h->len + extra);
	while (size * 2 / 3 < target) {
		size *= 2;
		if (size > MAX_SIZE)
			fatalx("%s: more than %zu entries", __func__,
			    MAX_SIZE * 2 / 3);
	}
	nt->size = size;
	nt->cap = size * 2 / 3;
	nt->idx = xcalloc(size, sizeof *nt->idx);
	nt->ents = xmalloc(nt->cap * sizeof *nt->ents);
	nt->fill = nt->n = 0;
	h->mem += mem_usable(nt->idx) + mem_usable(nt->ents);
	h->r = 0;
}

static void
rebuild_finish(struct ohash *h)
{
	tab_free(h, &h->t);
	h->t = h->nt;
	memset(&h->nt, 0, sizeof h->nt);
	h->r = 0;
}

/* Migrate the next OHASH_STEP cells of t; finish when none is left. */
static void
rebuild_step(struct ohash *h)
{
	size_t budget = OHASH_STEP, pos;
	uint64_t c;

	if (!rebuilding(h))
		return;
	for (; budget > 0 && h->r < h->t.n; budget--) {
		c = h->t.ents[h->r++];
		h->moved++;
		if (cell_hole(c))
			continue;
		pos = h->nt.n++;
		h->nt.ents[pos] = c;
		tab_link(&h->nt, cell_entry(c)->hash, pos);
	}
	if (h->r == h->t.n)
		rebuild_finish(h);
}

/* After a removal: give memory back once the table is mostly unused. */
static void
maybe_shrink(struct ohash *h)
{
	if (rebuilding(h) || h->t.size <= MIN_SIZE || h->len * 8 >= h->t.cap)
		return;
	rebuild_start(h, 0);
	rebuild_step(h);
}

static bool
ohash_find(struct ohash *h, uint32_t hash, const void *key, size_t klen,
    struct oh_loc *loc)
{
	if (rebuilding(h) && tab_find(&h->nt, 0, hash, key, klen, loc))
		return true;
	return tab_find(&h->t, h->r, hash, key, klen, loc);
}

/* --- the API ---------------------------------------------------------- */

bool
ohash_prefetch_pays(const struct ohash *h)
{
	return h->t.size + h->nt.size >= AHEAD_MIN_SIZE;
}

void
ohash_prefetch(struct oh_ahead *a, size_t n)
{
	const struct oh_entry *e;
	const struct ohash *h;
	size_t i;

	for (i = 0; i < n; i++) {
		h = a[i].h;
		a[i].cell = NULL;
		if (!ohash_prefetch_pays(h))
			continue;
		a[i].hash = ohash_hash_ahead(a[i].key, a[i].klen);
		if (rebuilding(h))
			__builtin_prefetch(&h->nt.idx[a[i].hash &
			    (h->nt.size - 1)]);
		if (h->t.size != 0)
			__builtin_prefetch(&h->t.idx[a[i].hash &
			    (h->t.size - 1)]);
	}
	for (i = 0; i < n; i++) {
		h = a[i].h;
		if (!ohash_prefetch_pays(h))
			continue;
		if (rebuilding(h))
			a[i].cell = tab_ahead_cell(&h->nt, 0, a[i].hash);
		if (a[i].cell == NULL)
			a[i].cell = tab_ahead_cell(&h->t, h->r, a[i].hash);
		if (a[i].cell != NULL)
			__builtin_prefetch(a[i].cell);
	}
	for (i = 0; i < n; i++) {
		if (a[i].cell == NULL)
			continue;
		/* A live slot's cell holds an entry (deletes make both go). */
		e = cell_entry(*a[i].cell);
		__builtin_prefetch(e);
		/* where the key ends and the value starts, if another line */
		__builtin_prefetch(e->data + a[i].klen);
	}
}

struct ohash *
ohash_new(void)
{
	struct ohash *h;

	h = xcalloc(1, sizeof *h);
	h->mem = mem_usable(h);
	return h;
}

size_t
ohash_len(const struct ohash *h)
{
	return h->len;
}

size_t
ohash_mem(const struct ohash *h)
{
	return h->mem;
}

size_t
ohash_key_bytes(const struct ohash *h)
{
	return h->kbytes;
}

size_t
ohash_value_bytes(const struct ohash *h)
{
	return h->vbytes;
}

struct oh_entry *
ohash_get(struct ohash *h, const void *key, size_t klen)
{
	uint32_t hash = ohash_hash(h, key, klen);
	struct oh_loc loc;

	rebuild_step(h);
	if (!ohash_find(h, hash, key, klen, &loc))
		return NULL;
	return cell_entry(loc.tab->ents[loc.pos]);
}

struct oh_entry *
ohash_set(struct ohash *h, const void *key, size_t klen, const void *val,
    size_t vlen, bool *added)
{
	uint32_t hash = ohash_hash(h, key, klen);
	struct oh_entry *e;
	struct oh_loc loc;
	struct otab *t = &h->t;
	size_t pos;

	if (klen > UINT32_MAX || vlen > UINT32_MAX)
		fatalx("%s: key or value too long", __func__);
	rebuild_step(h);
	if (ohash_find(h, hash, key, klen, &loc)) {
		e = cell_entry(loc.tab->ents[loc.pos]);
		h->vbytes += vlen - e->vlen;
		if (e->vlen != vlen) {
			h->mem -= mem_usable(e);
			e = xrealloc(e, entry_bytes(klen, vlen));
			h->mem += mem_usable(e);
			e->vlen = (uint32_t)vlen;
			loc.tab->ents[loc.pos] = cell_of(e);
		}
		if (vlen > 0)
			memcpy(oh_val(e), val, vlen);
		if (added != NULL)
			*added = false;
		return e;
	}

	if (!rebuilding(h) && t->fill + 1 + reserve(t->fill + 1) > t->cap) {
		rebuild_start(h, 1);
		rebuild_step(h);
	}
	/* During a rebuild the new key goes after everything unmigrated. */
	if (t->fill >= t->cap || t->n >= t->cap)
		fatalx("%s: no room in the table (fill %zu, n %zu, cap %zu)",
		    __func__, t->fill, t->n, t->cap);
	e = xmalloc(entry_bytes(klen, vlen));
	h->mem += mem_usable(e);
	h->kbytes += klen;
	h->vbytes += vlen;
	e->seq = ++h->seq;
	e->hash = hash;
	e->klen = (uint32_t)klen;
	e->vlen = (uint32_t)vlen;
	if (klen > 0)
		memcpy(e->data, key, klen);
	if (vlen > 0)
		memcpy(oh_val(e), val, vlen);
	pos = t->n++;
	t->ents[pos] = cell_of(e);
	tab_link(t, hash, pos);
	h->len++;
	if (added != NULL)
		*added = true;
	return e;
}

bool
ohash_del(struct ohash *h, const void *key, size_t klen,
    struct oh_entry **out)
{
	uint32_t hash = ohash_hash(h, key, klen);
	struct oh_entry *e;
	struct oh_loc loc;

	rebuild_step(h);
	if (!ohash_find(h, hash, key, klen, &loc))
		return false;
	e = cell_entry(loc.tab->ents[loc.pos]);
	loc.tab->ents[loc.pos] = hole_of(e->seq);
	loc.tab->idx[loc.slot] = SLOT_DUMMY;
	h->len--;
	if (out != NULL) {
		entry_out(h, e);
		*out = e;
	} else
		entry_free(h, e);
	maybe_shrink(h);
	return true;
}

/*
 * The position in t of the newest entry (len > 0), after trimming the
 * trailing holes (each once: amortized O(1), as CPython's popitem); when t
 * holds nothing unmigrated any more, the rebuild is over and t is the new
 * table.
 */
static size_t
ohash_last_pos(struct ohash *h)
{
	struct otab *t = &h->t;

	for (;;) {
		while (t->n > h->r && cell_hole(t->ents[t->n - 1]))
			t->n--;
		if (t->n > h->r)
			return t->n - 1;
		if (!rebuilding(h))
			fatalx("%s: %zu entries but no cell", __func__, h->len);
		rebuild_finish(h);
	}
}

struct oh_entry *
ohash_last(struct ohash *h)
{
	if (h->len == 0)
		return NULL;
	return cell_entry(h->t.ents[ohash_last_pos(h)]);
}

struct oh_entry *
ohash_pop_last(struct ohash *h)
{
	struct otab *t = &h->t;
	struct oh_entry *e;
	size_t pos;

	if (h->len == 0)
		return NULL;
	rebuild_step(h);
	pos = ohash_last_pos(h);
	e = cell_entry(t->ents[pos]);
	t->idx[tab_slot_of(t, e->hash, pos)] = SLOT_DUMMY;
	/* The dummy keeps counting in fill, so reusing pos is safe. */
	t->n = pos;
	h->len--;
	entry_out(h, e);
	maybe_shrink(h);
	return e;
}

static void
tab_free_entries(struct ohash *h, struct otab *tab, size_t lo)
{
	size_t i;

	for (i = lo; i < tab->n; i++) {
		if (!cell_hole(tab->ents[i]))
			entry_free(h, cell_entry(tab->ents[i]));
	}
	tab->n = lo;
}

void
ohash_clear(struct ohash *h)
{
	tab_free_entries(h, &h->t, h->r);
	tab_free_entries(h, &h->nt, 0);
	tab_free(h, &h->t);
	tab_free(h, &h->nt);
	h->r = 0;
	h->len = 0;
	/* seq goes on: a scan cursor from before the clear stays valid. */
}

bool
ohash_free_step(struct ohash *h, size_t budget)
{
	struct otab *tab;
	uint64_t c;

	/* From the end, so that what is left is always [r, t.n) + nt. */
	for (; budget > 0; budget--) {
		if (h->t.n > h->r)
			tab = &h->t;
		else if (h->nt.n > 0)
			tab = &h->nt;
		else
			break;
		c = tab->ents[--tab->n];
		if (!cell_hole(c))
			entry_free(h, cell_entry(c));
	}
	if (h->t.n > h->r || h->nt.n > 0)
		return false;
	tab_free(h, &h->t);
	tab_free(h, &h->nt);
	xfree(h);
	return true;
}

void
ohash_free(struct ohash *h)
{
	if (h != NULL)
		ohash_free_step(h, SIZE_MAX);
}

struct oh_entry *
ohash_next(const struct ohash *h, size_t *pos)
{
	size_t n = ohash_cells(h);
	uint64_t c;

	while (*pos < n) {
		c = ohash_cell(h, (*pos)++);
		if (!cell_hole(c))
			return cell_entry(c);
	}
	return NULL;
}

uint64_t
ohash_scan(const struct ohash *h, uint64_t cursor, size_t count,
    void (*fn)(void *arg, const struct oh_entry *e), void *arg)
{
	size_t n = ohash_cells(h), lo = 0, hi = n, mid, holes;
	uint64_t c;

	/* The first cell whose seq is >= cursor: cells are sorted by seq,
	 * holes included, whatever was inserted, deleted or migrated since
	 * the cursor was handed out. */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (cell_seq(ohash_cell(h, mid)) < cursor)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (count == 0)
		count = 1;
	holes = count > SIZE_MAX / SCAN_HOLES ? SIZE_MAX : count * SCAN_HOLES;
	for (; lo < n; lo++) {
		c = ohash_cell(h, lo);
		if (cell_hole(c)) {
			if (holes-- == 0)
				return cell_seq(c);
			continue;
		}
		if (count == 0)
			return cell_seq(c);
		fn(arg, cell_entry(c));
		count--;
	}
	return 0;
}

uint64_t
ohash_test_moved(const struct ohash *h)
{
	return h->moved;
}

bool
ohash_test_rehashing(const struct ohash *h)
{
	return rebuilding(h);
}
