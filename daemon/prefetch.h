/*
 * prefetch.h: the memory a pipelined batch of requests will touch,
 * brought into the cache for all of them before the first one runs.
 */
#ifndef MPMGR_PREFETCH_H
#define MPMGR_PREFETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mpmgrd.h"
#include "ohash.h"

/* Most requests a connection takes apart ahead to prefetch together. */
#define PREFETCH_MAX 16

/*
 * The lookups of one batch, in the caller's memory. Between
 * prefetch_begin and prefetch_run, requests of c, whole and well-formed,
 * about to run in the order given; nothing is answered, changed or
 * checked (dispatch_request does all that when each runs), beyond the
 * lookups' own caches (c's last object, as dispatch would set it).
 */
struct prefetch_batch {
	struct conn *c;
	const uint8_t *method;    /* the previous request's, NULL: none */
	uint32_t mlen;
	const struct method *mt;
	const uint8_t *name;      /* its object's name, NULL: none */
	uint32_t nlen;
	struct object *o;
	bool declined;            /* the type had no lookup for mt in o */
	size_t n;                 /* of a[] */
	struct oh_ahead a[PREFETCH_MAX];
};

/*
 * Start a batch with its first request: true if that one makes a lookup
 * worth prefetching, and the rest are worth taking apart ahead; false
 * otherwise (a ping, a small dict...), and b is done with.
 */
bool prefetch_begin(struct prefetch_batch *b, struct conn *c,
    const struct msg *first);
/* The next request of the batch. */
void prefetch_add(struct prefetch_batch *b, const struct msg *m);
/* Prefetch what the batch's lookups will read, all of them at once. */
void prefetch_run(struct prefetch_batch *b);

#endif
