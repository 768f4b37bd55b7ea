/*
 * waiter.h: parked requests and what connections hold.
 *
 * A request that cannot be answered yet parks a waiter: its reply-to record
 * {connection, msgid, method, object}, a deadline and verb data. Each
 * object keeps its waiters in FIFO order and the types serve them in that
 * order (no barging). Every deadline lives in one min-heap with one
 * libevent timer armed for the earliest: O(log n) per waiter, not one
 * event each.
 *
 * Rules every type follows:
 *   - Whoever answers a waiter calls waiter_done() right after the reply;
 *     that unlinks it (object FIFO, heap, connection), wakes its connection
 *     and frees it. Never touch w after waiter_done(w).
 *   - Before handing an item, a lock or a permit to a waiter, check
 *     waiter_peer_gone(w): a gone peer's waiter is skipped (its close,
 *     already queued, removes it through the gone op).
 *   - waiter_park/done/move and the ops never call registry_settle():
 *     the code that changed an object settles it once it is done with it
 *     (an object must not vanish under a loop over its own waiters).
 *     dispatch settles req->obj after MF_WRITE methods; the paths here
 *     that run outside a request (waiter_expire, waiter_cancel,
 *     waiter_conn_closed, waiter_shutdown) settle the objects they
 *     touched, by name, once all their ops have run.
 *
 * Holdings (struct hold) record what a connection holds in an object (a
 * lock, an rlock's recursion count, semaphore permits, leased queue items,
 * pipe ends, a process record it supervises) so that its close gives them
 * back: obj_type.conn_gone runs for each hold of the closing connection.
 * A holder may also be sent a notification (hold_notify).
 */
#ifndef MPMGR_WAITER_H
#define MPMGR_WAITER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include <msgpack.h>

#include "dispatch.h"

struct hold;
struct object;
struct waiter;

/*
 * A deadline in the one heap: a parked waiter's timeout, or the end of a
 * hold's lease. Embedded in its owner.
 */
struct deadline {
	uint64_t at;              /* now_usec() clock; 0: none */
	uint32_t seq;             /* arming order << 1 | its kind (DEADLINE_*):
				     breaks ties, compared as a serial number
				     (a waiter stays within 128 bytes) */
	uint32_t index;           /* in the heap, if armed */
};
enum { DEADLINE_WAITER, DEADLINE_LEASE };
#define DEADLINE_KIND(d) ((d)->seq & 1)

struct waiter_ops {
	/*
	 * The deadline passed. Answer w (acquire: false; queue.get: EMPTY;
	 * barrier: TIMEOUT and break it...) and waiter_done(w). Required for
	 * waiters with a deadline.
	 */
	void (*timeout)(struct waiter *w);
	/*
	 * w leaves without being served: its peer is gone (no answer
	 * possible) or sys.cancel removed it (waiter.c has answered TIMEOUT).
	 * Undo what parking did (a barrier breaks; a notified condition
	 * waiter passes its notify on; whoever waited behind w may now be
	 * served). w is already out of its object's FIFO, the heap and its
	 * connection, and w->req.obj still names the object; answering
	 * other waiters is allowed, settling is not (waiter.c settles).
	 * waiter.c then frees w. NULL: nothing to undo.
	 */
	void (*gone)(struct waiter *w);
};

struct waiter {
	struct req req;           /* the reply-to record: c, msgid, method,
				     obj (no params) */
	const struct waiter_ops *ops;
	struct deadline dl;       /* its timeout; dl.at 0: none */
	uint64_t since;           /* parked (now_usec clock): obj.info */
	TAILQ_ENTRY(waiter) link; /* req.obj's FIFO */
	/* Verb data, copied at park time (the request's views die). */
	int64_t n;                /* a count: get_many's n, rlock depth... */
	uint8_t *data;            /* owned bytes (put's items), xfree'd */
	size_t datalen;
	union {
		uint64_t nitems;  /* put, put_many: the items in data */
		uint64_t ttl;     /* acquire: the lease its grant starts, in
				     usec (hold_lease); 0: none */
	};
	int state;                /* type-defined */
};
TAILQ_HEAD(waiter_list, waiter);

/*
 * What one connection holds in one object. A hold may be a lease
 * (hold_lease): at its deadline the type's lease_end gives back what it
 * holds, as a close would, and the hold stays behind marked lost, so that
 * its connection's next release there is refused (NOTHELD) instead of
 * releasing what someone else got meanwhile; a release, a new grant
 * (hold_get) or the connection's close ends that.
 */
struct hold {
	struct conn *c;
	struct object *o;
	uint64_t n;               /* type-defined count (permits, depth) */
	void *data;               /* type-owned (an ack queue's leases) */
	uint64_t since;           /* first held (now_usec clock) */
	LIST_ENTRY(hold) by_conn;
	LIST_ENTRY(hold) by_obj;
	struct deadline lease;    /* its lease's end; lease.at 0: none */
	bool lost;                /* its lease ran out (see above) */
};
LIST_HEAD(hold_list, hold);

void waiter_init(void);

/*
 * Parse params[i] as a timeout: absent (i >= argc) or nil = forever (*usec
 * = -1), 0 = do not wait (*usec = 0), a non-negative number of seconds
 * (int or float) = that long, rounded up to a microsecond. true, or false
 * after replying BADARG (negative, NaN, not a number).
 */
bool waiter_timeout_arg(struct req *req, unsigned i, int64_t *usec);

/*
 * Park req on its object's FIFO (creating the object with its type's
 * defaults when req->obj is NULL: a blocking read that must wait creates
 * it). usec: -1 forever, > 0 a deadline from now (0 is the caller's
 * business: answer at once instead). Marks req answered for dispatch,
 * which reports DISPATCH_PARKED; sets c->parked. The caller fills the
 * verb data of the returned waiter.
 */
struct waiter *waiter_park(struct req *req, const struct waiter_ops *ops,
    int64_t usec);
/* Unlink, wake the connection, free. Call right after answering w. */
void waiter_done(struct waiter *w);
/* Move w to the tail of another object's FIFO with other ops and no
 * deadline (a notified condition waiter queueing for its lock). */
void waiter_move(struct waiter *w, struct object *to,
    const struct waiter_ops *ops);
/*
 * w's peer has hung up (conn_peer_gone): hand it nothing, and skip it (its
 * close, already queued, removes it through the gone op).
 */
bool waiter_peer_gone(struct waiter *w);
/* The oldest waiter of o, the next after w: FIFO order. */
struct waiter *waiter_first(const struct object *o);
struct waiter *waiter_next(const struct waiter *w);

/* sys.cancel: remove c's parked request msgid, answering it TIMEOUT. true
 * if there was one. */
bool waiter_cancel(struct conn *c, uint32_t msgid);
/* c is closing: drop its parked waiter (gone op, no answer), delete the
 * ephemeral objects it created (as obj.delete), give back its holds
 * (conn_gone op per hold), settle what changed. */
void waiter_conn_closed(struct conn *c);
/* o is being deleted: every waiter answers DELETED (no gone op); then
 * every hold on o goes through the type's conn_gone (nobody is left to
 * wake; what it gives back is freed with o), or is dropped when the type
 * has none. The holders learn on their next call. */
void waiter_object_deleted(struct object *o);
/*
 * sys.kill: drop c as its peer's hanging up would (conn_kill): its parked
 * request leaves and its holds are given back before this returns. c is
 * not the connection whose request runs.
 */
void waiter_conn_kill(struct conn *c);
/* The daemon stops: every waiter answers SHUTDOWN. */
void waiter_shutdown(void);
/* The timer's work: time out every waiter whose deadline <= now, oldest
 * deadline first, then re-arm. Tests call it directly. */
void waiter_expire(uint64_t now);
/* Parked waiters in all (sys.stats) and in the deadline heap (tests). */
size_t waiter_count(void);
size_t waiter_heap_size(void);
/* Comparisons and swaps the deadline heap has made since start (tests
 * check that parking and expiring cost O(log n) each). */
uint64_t waiter_heap_ops(void);

/* The hold of c in o, or NULL. O(1) amortized, whatever c holds. */
struct hold *hold_find(struct conn *c, struct object *o);
/* The hold of c in o, created with n = 0 when missing; a lost one is a
 * hold again (not lost, no lease). */
struct hold *hold_get(struct conn *c, struct object *o);
/* Forget h (its type has given back or cleared what it held), its lease
 * too; h->data is the type's to free before. */
void hold_drop(struct hold *h);
/* Holds in all, and the index slots looked at since start (tests check
 * that a lookup costs O(1) among 100k holds). */
size_t hold_count(void);
uint64_t hold_steps(void);
/*
 * A notification [2, method, params] to h's connection (a process
 * record's supervisor asked to signal its process): the caller packs the
 * nparams params with the packer returned, and the connection writes it
 * this loop turn, parked or not. NULL, and nothing sent, when that
 * connection's peer has hung up.
 */
msgpack_packer *hold_notify(struct hold *h, const char *method,
    uint32_t nparams);
/*
 * Make h a lease that ends usec (> 0) from now, or again from now if it
 * is one (extend); -1: no lease any more. At the end, from the deadline
 * heap: h is marked lost, its type's lease_end runs (registry.h), the
 * object is settled.
 */
void hold_lease(struct hold *h, int64_t usec);
/*
 * v as a lease's ttl: a number of seconds > 0 (int or float), rounded up
 * to a microsecond, into *usec. true, or false after replying BADARG
 * naming what.
 */
bool waiter_ttl_arg(struct req *req, const struct mpv *v, const char *what,
    int64_t *usec);

/*
 * c's hold in o (req's connection; o may be NULL) is lost, its lease
 * ended: answer req NOTHELD, saying what happened then ("it was released
 * then"), and forget the hold if release (a release takes the news; an
 * extend leaves it for the release to come). true when so.
 */
bool hold_lost(struct req *req, struct object *o, bool release,
    const char *then);

/* An acquire's options (lock, rlock, semaphore). */
struct hold_opts {
	int64_t ttl;              /* usec: the grant is a lease; 0: not */
	bool fence;               /* answer the fencing token, not true */
};
/*
 * Param i as an acquire's options: absent, nil or a map of {ttl: seconds
 * > 0 or nil, fence: bool}. A ttl needs rod, the object's
 * release_on_disconnect (a lease belongs to its holder's connection).
 * true, or false after replying BADARG.
 */
bool hold_opts_arg(struct req *req, unsigned i, bool rod,
    struct hold_opts *opts);

#endif
