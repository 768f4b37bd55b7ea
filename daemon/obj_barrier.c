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
 */
#include "dispatch.h"
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
	    "with barrier.create", req_namelen(req), req_name(req));
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

	reply_error(&w->req, PERR_TIMEOUT, "barrier.wait timed out");
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
		reply_error(req, PERR_TIMEOUT, "barrier.wait timed out");
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
static int
barrier_create(struct object *o, const struct mpv *opts, struct req *req)
{
	struct barrier *b;
	struct mpv_iter it;
	struct mpv k, v;
	uint64_t parties = 0;

	if (req == NULL)
		fatalx("%s: a barrier has no defaults", __func__);
	if (opts != NULL) {
		mpv_iter_init(&it, opts);
		while (mpv_iter_next(&it, &k) && mpv_iter_next(&it, &v)) {
			if (!mpv_str_eq(&k, "parties")) {
				reply_error(req, PERR_BADARG, "barrier.create: "
				    "the only option is 'parties'");
				return -1;
			}
			if (v.type != MPV_UINT || v.v.u < 1 ||
			    v.v.u > BARRIER_MAX_PARTIES) {
				reply_error(req, PERR_BADARG, "barrier.create: "
				    "parties must be an int from 1 to %u",
				    BARRIER_MAX_PARTIES);
				return -1;
			}
			parties = v.v.u;
		}
	}
	if (parties == 0) {
		reply_error(req, PERR_BADARG, "barrier.create: {parties: N} "
		    "is required");
		return -1;
	}
	b = xcalloc(1, sizeof *b);
	b->parties = parties;
	o->data = b;
	return 0;
}

static bool
barrier_same_options(const struct object *a, const struct object *b)
{
	return ((const struct barrier *)a->data)->parties ==
	    ((const struct barrier *)b->data)->parties;
}

static void
barrier_pack_options(const struct object *o, msgpack_packer *pk)
{
	msgpack_pack_map(pk, 1);
	msg_pack_cstr(pk, "parties");
	msgpack_pack_uint64(pk, ((const struct barrier *)o->data)->parties);
}

static bool
barrier_free_step(struct object *o, size_t budget)
{
	xfree(o->data);
	return true;
}

/* Never made implicitly, so never settled away. */
static bool
barrier_is_initial(const struct object *o)
{
	return false;
}

/* Parties waiting now. */
static uint64_t
barrier_size(const struct object *o)
{
	return ((const struct barrier *)o->data)->count;
}

static size_t
barrier_mem(const struct object *o)
{
	return mem_usable(o->data);
}

static const struct method barrier_methods[] = {
	MPMGR_METHODS_BARRIER(DISPATCH_ROW)
	DISPATCH_END
};

const struct obj_type barrier_type = {
	.name = "barrier",
	.methods = barrier_methods,
	.create = barrier_create,
	.same_options = barrier_same_options,
	.pack_options = barrier_pack_options,
	.free_step = barrier_free_step,
	.is_initial = barrier_is_initial,
	.size = barrier_size,
	.mem = barrier_mem,
};
