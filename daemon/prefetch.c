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

/* a[0..n) == b[0..n); 8 to 16 bytes (method names) without a call. */
static bool
prefetch_eq(const uint8_t *a, const uint8_t *b, size_t n)
{
	uint64_t x[2], y[2];

	if (n < 8 || n > 16)
		return memcmp(a, b, n) == 0;
	memcpy(&x[0], a, 8);
	memcpy(&x[1], a + n - 8, 8);
	memcpy(&y[0], b, 8);
	memcpy(&y[1], b + n - 8, 8);
	return x[0] == y[0] && x[1] == y[1];
}

/*
 * The object name at *p, a fixstr or a str8 as clients pack names up to
 * 255 bytes (anything else is left to dispatch): true, *s and *len, and
 * *p past it.
 */
static bool
prefetch_name(const uint8_t **p, const uint8_t **s, uint32_t *len)
{
	const uint8_t *q = *p;

	if ((q[0] & 0xe0) == 0xa0) {
		*len = q[0] & 0x1f;
		*s = q + 1;
	} else if (q[0] == 0xd9) {
		*len = q[1];
		*s = q + 2;
	} else
		return false;
	*p = *s + *len;
	return *len > 0;
}

/*
 * The table lookup m will make, if its type can say: true and b->a[b->n]
 * set. Pipelined requests mostly repeat their method and object, and
 * comparing their bytes with the previous request's costs less than
 * looking them up again.
 */
static bool
prefetch_one(struct prefetch_batch *b, const struct msg *m)
{
	const struct method *mt;
	const uint8_t *p, *name;
	uint32_t nlen;
	bool same = true;

	if (b->n == PREFETCH_MAX)
		return false;
	if (b->method == NULL || b->mlen != m->method.len ||
	    !prefetch_eq(b->method, m->method.ptr, m->method.len)) {
		b->method = m->method.ptr;
		b->mlen = m->method.len;
		b->mt = dispatch_lookup((const char *)m->method.ptr,
		    m->method.len);
		same = false;
	}
	mt = b->mt;
	if (mt == NULL || mt->type == NULL || mt->type->ahead == NULL ||
	    !(mt->flags & MF_OBJ) || m->params.len < 2 ||
	    m->params.len > mt->max_args)
		return false;
	p = m->params.ptr;
	if (!prefetch_name(&p, &name, &nlen))
		return false;
	if (b->name == NULL || b->nlen != nlen ||
	    !prefetch_eq(b->name, name, nlen)) {
		b->name = name;
		b->nlen = nlen;
		b->o = registry_lookup_cached((const char *)name, nlen,
		    &b->c->last_obj, &b->c->last_obj_gen);
		same = false;
	}
	/* The same method on the same object as one declined before (a
	 * table too small to pay, mostly): declined again. */
	if (same && b->declined)
		return false;
	b->declined = true;
	if (b->o == NULL || b->o->type != mt->type ||
	    !mt->type->ahead(b->o, mt, p, &b->a[b->n]))
		return false;
	b->declined = false;
	b->n++;
	return true;
}

bool
prefetch_begin(struct prefetch_batch *b, struct conn *c,
    const struct msg *first)
{
	b->c = c;
	b->method = b->name = NULL;
	b->declined = false;
	b->n = 0;
	return prefetch_one(b, first);
}

void
prefetch_add(struct prefetch_batch *b, const struct msg *m)
{
	prefetch_one(b, m);
}

void
prefetch_run(struct prefetch_batch *b)
{
	if (b->n > 1)
		ohash_prefetch(b->a, b->n);
}
