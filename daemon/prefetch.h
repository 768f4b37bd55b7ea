/*
 * prefetch.h: the memory a pipelined batch of requests will touch,
 * brought into the cache for all of them before the first one runs.
 */
#ifndef MPMGR_PREFETCH_H
#define MPMGR_PREFETCH_H

#include <stddef.h>

#include "mpmgrd.h"

/* Most requests a connection takes apart ahead to prefetch together. */
#define PREFETCH_MAX 16

/*
 * reqs[0..n) are requests of c, whole and well-formed, about to run in
 * this order. Prefetches what their table lookups will read; answers,
 * changes and checks nothing (dispatch_request does all that when each
 * runs), beyond the lookups' own caches (c's last object, as dispatch
 * would set it).
 */
void prefetch_requests(struct conn *c, const struct msg *const *reqs,
    size_t n);

#endif
