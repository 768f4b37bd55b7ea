/*
 * prefetch.c: memory access amortization for a pipelined batch
 * (prefetch.h).
 *
 * A lookup in a dict larger than the caches is three dependent cache
 * misses (index slot, cell, entry: ohash.c), and a request that waits for
 * them one after another spends most of its time waiting. When a
 * connection's input holds several whole requests, conn.c takes them
 * apart ahead and hands them here: each one whose type says which table
 * lookup it will make (obj_type.ahead) becomes an oh_ahead, and
 * ohash_prefetch issues the loads of all of them round by round, so that
 * sixteen lookups wait for three rounds of overlapping misses instead of
 * forty-eight misses in a row (Valkey 8's memory access amortization,
 * valkey-io/valkey#861; Redis's memory_prefetch.c, redis/redis#14017).
 *
 * Everything here is a hint: a request that does not look like a keyed
 * request of a live object of the right type is skipped, and the request
 * is checked and answered by dispatch_request as if this had not run.
 */
#include <stdbool.h>
#include <string.h>

#include "dispatch.h"
#include "ohash.h"
#include "prefetch.h"
#include "registry.h"

/*
 * What the batch's previous request resolved to: pipelined requests
 * mostly repeat their method and object, and comparing their bytes costs
 * less than looking them up again.
 */
struct prefetch_last {
	struct mpv method;        /* raw NULL: none yet */
	const struct method *mt;
	const uint8_t *p;
	struct mpv name, key;
	struct object *o;
};

/* The same str payload; 8 to 16 bytes (method names) without a call. */
static bool
prefetch_same(const struct mpv *a, const struct mpv *b)
{
	uint64_t x[2], y[2];
	size_t n = a->len;

	if (a->raw == NULL || n != b->len)
		return false;
	if (n < 8 || n > 16)
		return memcmp(a->ptr, b->ptr, n) == 0;
	memcpy(&x[0], a->ptr, 8);
	memcpy(&x[1], a->ptr + n - 8, 8);
	memcpy(&y[0], b->ptr, 8);
	memcpy(&y[1], b->ptr + n - 8, 8);
	return x[0] == y[0] && x[1] == y[1];
}

/* The table lookup m will make, if its type can say: true and *a. */
static bool
prefetch_one(struct conn *c, const struct msg *m, struct prefetch_last *last,
    struct oh_ahead *a)
{
	const struct method *mt;
	const uint8_t *p;
	struct mpv name, key;

	if (!prefetch_same(&last->method, &m->method)) {
		last->method = m->method;
		last->mt = dispatch_lookup((const char *)m->method.ptr,
		    m->method.len);
	}
	mt = last->mt;
	if (mt == NULL || !(mt->flags & MF_OBJ) || mt->type == NULL ||
	    mt->type->ahead == NULL || m->params.len < 2 ||
	    m->params.len > mt->max_args)
		return false;
	p = m->params.ptr;
	mpv_read(&p, &name);
	if (name.type != MPV_STR || name.len == 0 ||
	    name.len > MPMGR_MAX_NAME)
		return false;
	if (!prefetch_same(&last->name, &name)) {
		last->name = name;
		last->o = registry_lookup_cached((const char *)name.ptr,
		    name.len, &c->last_obj, &c->last_obj_gen);
	}
	if (last->o == NULL || last->o->type != mt->type)
		return false;
	mpv_read(&p, &key);
	return mt->type->ahead(last->o, mt, &key, a);
}

void
prefetch_requests(struct conn *c, const struct msg *const *reqs, size_t n)
{
	struct oh_ahead a[PREFETCH_MAX];
	struct prefetch_last last;
	size_t i, k = 0;

	memset(&last, 0, sizeof last);
	for (i = 0; i < n && k < PREFETCH_MAX; i++) {
		if (prefetch_one(c, reqs[i], &last, &a[k]))
			k++;
	}
	if (k > 1)
		ohash_prefetch(a, k);
}
