/*
 * locks.h: what a condition (obj_condition.c) needs from the lock and
 * rlock types (obj_lock.c). Internal to those two files.
 *
 * Every waiter queued on a lock's FIFO is a request to hold it: when the
 * lock is handed to it, its connection holds it with recursion depth w->n
 * (a lease of w->ttl usec if not 0) and it is answered as w->state says:
 * true, false for LOCK_GRANT_FALSE (a condition wait that timed out
 * answers false only once it holds its lock again), or the grant's
 * fencing token for LOCK_GRANT_FENCE. lock.acquire parks such waiters;
 * a condition moves its notified or timed-out waiters there with
 * lock_requeue().
 */
#ifndef MPMGR_LOCKS_H
#define MPMGR_LOCKS_H

#include <stdbool.h>
#include <stdint.h>

#include "registry.h"
#include "waiter.h"

enum { LOCK_GRANT_TRUE = 0, LOCK_GRANT_FALSE = 1, LOCK_GRANT_FENCE = 2 };

/* t is lock or rlock: what a condition can stand on. */
bool lock_kind(const struct obj_type *t);

/*
 * A condition's own rlock: an rlock object outside the registry, named
 * like its condition (so that waiter.c, which settles by name after a
 * timeout, a cancel or a close, settles the condition) and explicit (so
 * that nothing settles it by pointer). lock_internal_free() answers its
 * waiters DELETED, drops its holds and frees it. Its depth, when it
 * outlives the holder, is journaled as cond's op jop (one arg).
 */
struct object *lock_internal_new(const struct object *cond,
    bool release_on_disconnect, unsigned jop);
void lock_internal_free(struct object *lk);
size_t lock_internal_mem(const struct object *lk);
/* Free, and nobody waits for it or holds it. */
bool lock_idle(const struct object *lk);
/* The depth a restart keeps (release_on_disconnect false), and its
 * replay: held at depth by nobody. */
uint64_t lock_kept_depth(const struct object *lk);
void lock_replay_depth(struct object *lk, uint64_t depth);

/*
 * PERR_NONE when c holds lk; else PERR_NOTHELD (lk is free or NULL, a
 * missing lock) or PERR_NOTOWNER (another connection holds it).
 */
int lock_holder_check(const struct object *lk, const struct conn *c);

/*
 * The acquire and release verbs on lk for req (lock.*, rlock.* and
 * condition.*): acquire reads its timeout from param 1 and its options
 * (hold_opts_arg) from param 2, and may park req on lk's FIFO; release
 * answers NOTHELD for a NULL lk. req->obj is left as it
 * was: dispatch settles that one, the caller settles lk when it differs.
 */
void lock_acquire_req(struct req *req, struct object *lk);
void lock_release_req(struct req *req, struct object *lk);

/* c holds lk: release every level and hand lk to the next live waiter.
 * The depth c held (1 for a lock). */
uint64_t lock_release_all(struct object *lk, struct conn *c);

/*
 * Queue w at the tail of lk's FIFO (waiter_move with ops) to hold lk
 * again with depth w->n, answering per grant (LOCK_GRANT_*), and hand lk
 * over at once if it is free. w may be answered and gone on return.
 */
void lock_requeue(struct waiter *w, struct object *lk,
    const struct waiter_ops *ops, int grant);

#endif
