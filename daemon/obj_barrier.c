/*
 * obj_barrier.c: the barrier type (Python's threading.Barrier).
 *
 * barrier.create name {parties: N} is the only way a barrier comes to be:
 * every verb on a missing one answers NOOBJ. wait parks until N parties
 * have arrived; then all of them are answered at once, each with its
 * arrival index in this cycle (0 for the first, N-1 for the last, as
 * CPython numbers them), and the barrier is ready for the next cycle.
 *
 * Breaking: abort, a wait that times out (it gets TIMEOUT), and a waiter
 * whose connection goes away break the barrier: every waiter gets BROKEN
 * and so does every later wait until reset. reset answers the waiters
 * BROKEN and leaves the barrier fresh. If a waiter's peer is found gone
 * when the last party arrives, the cycle breaks instead of releasing:
 * the others must not believe that all parties passed.
 *
 * A restart resets a barrier: only its creation is journaled (by the
 * registry's records).
 */
#include "dispatch.h"
#include "journal.h"
#include "log.h"
#include "mem.h"
#include "registry.h"
#include "reply.h"
#include "waiter.h"

/* Most parties a barrier may have. */
#define BARRIER_MAX_PARTIES UINT32_MAX

struct barrier {
	uint64_t parties;
	uint64_t count;           /* arrived in this cycle, all parked */
	bool broken;
};

static void
barrier_noobj(struct req *req)
{
	reply_error(req, PERR_NOOBJ, "no barrier '%.*s': create it first "
	    "with %s", req_namelen(req), req_name(req),
	    MPMGR_METHOD_NAME(barrier, create));
}

/* Answer every waiter of o BROKEN; the cycle starts over. */
static void
barrier_release_broken(struct object *o)
{
	struct barrier *b = o->data;
	struct waiter *w;

	while ((w = waiter_first(o)) != NULL) {
		reply_error(&w->req, PERR_BROKEN, "barrier '%.*s' is broken",
		    (int)o->namelen, o->name);
		waiter_done(w);
	}
	b->count = 0;
}

static void
barrier_break(struct object *o)
{
	((struct barrier *)o->data)->broken = true;
	barrier_release_broken(o);
}

static void
barrier_wait_timeout(struct waiter *w)
{
	struct object *o = w->req.obj;

	reply_error(&w->req, PERR_TIMEOUT, "%s timed out",
	    w->req.method->name);
	waiter_done(w);
	barrier_break(o);
}

/* A party left without passing: the others cannot all pass. */
static void
barrier_wait_gone(struct waiter *w)
{
	barrier_break(w->req.obj);
}

static const struct waiter_ops barrier_wait_ops = {
	.timeout = barrier_wait_timeout,
	.gone = barrier_wait_gone,
};

/* The last party arrived (req): answer everyone's index, or break. */
static void
barrier_pass(struct req *req)
{
	struct object *o = req->obj;
	struct barrier *b = o->data;
	struct waiter *w;

	for (w = waiter_first(o); w != NULL; w = waiter_next(w)) {
		if (waiter_peer_gone(w)) {
			barrier_break(o);
			reply_error(req, PERR_BROKEN, "barrier '%.*s' is broken: "
			    "a party hung up", (int)o->namelen, o->name);
			return;
		}
	}
	while ((w = waiter_first(o)) != NULL) {
		reply_uint(&w->req, (uint64_t)w->n);
		waiter_done(w);
	}
	reply_uint(req, b->parties - 1);
	b->count = 0;
}

static void
barrier_wait(struct req *req)
{
	struct barrier *b;
	struct waiter *w;
	int64_t usec;

	if (req->obj == NULL) {
		barrier_noobj(req);
		return;
	}
	if (!waiter_timeout_arg(req, 1, &usec))
		return;
	b = req->obj->data;
	if (b->broken) {
		reply_error(req, PERR_BROKEN, "barrier '%.*s' is broken",
		    req_namelen(req), req_name(req));
		return;
	}
	if (b->count + 1 == b->parties) {
		barrier_pass(req);
		return;
	}
	if (usec == 0) {
		reply_error(req, PERR_TIMEOUT, "%s timed out",
		    req->method->name);
		barrier_break(req->obj);
		return;
	}
	w = waiter_park(req, &barrier_wait_ops, usec);
	w->n = (int64_t)b->count++;
}

static void
barrier_abort(struct req *req)
{
	if (req->obj == NULL) {
		barrier_noobj(req);
		return;
	}
	barrier_break(req->obj);
	reply_nil(req);
}

static void
barrier_reset(struct req *req)
{
	if (req->obj == NULL) {
		barrier_noobj(req);
		return;
	}
	barrier_release_broken(req->obj);
	((struct barrier *)req->obj->data)->broken = false;
	reply_nil(req);
}

static void
barrier_parties(struct req *req)
{
	if (req->obj == NULL)
		barrier_noobj(req);
	else
		reply_uint(req, ((struct barrier *)req->obj->data)->parties);
}

static void
barrier_n_waiting(struct req *req)
{
	if (req->obj == NULL)
		barrier_noobj(req);
	else
		reply_uint(req, ((struct barrier *)req->obj->data)->count);
}

static void
barrier_broken(struct req *req)
{
	if (req->obj == NULL)
		barrier_noobj(req);
	else
		reply_bool(req, ((struct barrier *)req->obj->data)->broken);
}

/* Options: {parties: N}, required. */
enum { BARRIER_OPT_PARTIES };

static const struct opt barrier_opts[] = {
	[BARRIER_OPT_PARTIES] = { .key = "parties", .kind = OPT_UINT,
	    .flags = OPT_REQUIRED, .min = 1, .max = BARRIER_MAX_PARTIES },
	{ .key = NULL }
};

static void
barrier_init(struct object *o, const struct optval *v)
{
	struct barrier *b = xcalloc(1, sizeof *b);

	b->parties = v[BARRIER_OPT_PARTIES].u;
	o->data = b;
}

/* Parties waiting now. */
static uint64_t
barrier_size(const struct object *o)
{
	return ((const struct barrier *)o->data)->count;
}

static const struct method barrier_methods[] = {
	MPMGR_METHODS_BARRIER(DISPATCH_ROW)
	DISPATCH_END
};

/* Only ever made by barrier.create: never initial, never settled away. */
const struct obj_type barrier_type = {
	.name = "barrier",
	.methods = barrier_methods,
	.opts = barrier_opts,
	.init = barrier_init,
	.size = barrier_size,
	.jcode = JC_BARRIER,
};
