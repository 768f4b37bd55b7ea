/*
 * obj_lock.c: the lock and rlock types (Python's Lock and RLock), which
 * share everything but recursion, and what a condition needs of them
 * (locks.h).
 *
 * The holder is a connection, recorded with a hold, so that its close
 * releases the lock (every level of an rlock) and hands it to the next
 * waiter, unless the object was created with release_on_disconnect false:
 * then the lock stays held, as in Python. Waiters are served strictly in
 * FIFO order: release hands the lock straight to the oldest waiter whose
 * peer is still there, so a free lock never has a live waiter and a new
 * acquire cannot overtake one. lock.release by a connection that does not
 * hold the lock is allowed while it is held (Python's Lock); rlock.release
 * by a non-owner is NOTOWNER; releasing a free lock or rlock is NOTHELD.
 * An implicit lock or rlock goes away once it is free with nobody waiting.
 *
 * Every grant (the first level of an rlock) takes a fencing token
 * (fence.h), which acquire answers instead of true when asked to ({fence:
 * true}). A grant asked for with a ttl is a lease on the holder's hold
 * (waiter.h): at its end the lock is released as if its holder had closed,
 * and the holder's hold stays lost until it releases (NOTHELD) or closes.
 * While a lease holds it, only its holder may release the lock, whatever
 * Python's Lock allows: the point of a lease is that nobody else's
 * release, nor the old holder's after the end, frees a newer holder.
 *
 * A restart releases what connections hold, so the journal gets nothing
 * of a lock but its depth when release_on_disconnect is false: that depth
 * outlives its holder (held by nobody after a restart, as after the
 * holder's disconnect).
 */
#include <stdio.h>
#include <string.h>

#include "dispatch.h"
#include "fence.h"
#include "journal.h"
#include "locks.h"
#include "log.h"
#include "mem.h"
#include "registry.h"
#include "reply.h"
#include "waiter.h"

struct lk {
	struct hold *holder;  /* the holder's hold; NULL when free, or when a
				 holder that left kept it (no release on
				 disconnect) */
	uint64_t depth;       /* 0 free; a lock 1 while held; an rlock's
				 recursion count */
	uint64_t fence;       /* the fencing token of the last grant */
	bool release_on_disconnect;
	/* The object whose records carry the depth and the op: a
	 * condition's, for its own rlock; NULL: this one's LOCK_J_DEPTH. */
	const struct object *jobj;
	unsigned jop;
};

/* What happened to a lease's lock at its end (NOTHELD's message). */
#define LOCK_LOST "it was released then"
/* Journal ops: the depth that outlives the holder. */
enum { LOCK_J_DEPTH };

static void lock_acquire_timeout(struct waiter *);

/* A waiter that leaves undoes nothing: a free lock has no live waiter
 * behind it to serve. */
static const struct waiter_ops lock_acquire_ops = {
	.timeout = lock_acquire_timeout,
};

bool
lock_kind(const struct obj_type *t)
{
	return t == &lock_type || t == &rlock_type;
}

static struct lk *
lk_of(const struct object *o)
{
	return o->data;
}

static bool
lk_owned_by(const struct lk *l, const struct conn *c)
{
	return l->depth != 0 && l->holder != NULL && l->holder->c == c;
}

/* After a change of o's depth: journal it when it outlives the holder. */
static void
lk_journal(const struct object *o)
{
	const struct lk *l = lk_of(o);
	const struct object *jo = l->jobj != NULL ? l->jobj : o;

	if (l->release_on_disconnect || !journal_wants(jo))
		return;
	msgpack_pack_uint64(journal_begin(jo, l->jobj != NULL ? l->jop :
	    LOCK_J_DEPTH, 1), l->depth);
	journal_end();
}

/* c holds o now, with depth levels, as a lease of ttl usec if > 0. */
static void
lk_grant(struct object *o, struct conn *c, uint64_t depth, int64_t ttl)
{
	struct lk *l = lk_of(o);

	l->depth = depth;
	l->holder = hold_get(c, o);
	l->fence = fence_next();
	if (ttl > 0)
		hold_lease(l->holder, ttl);
	lk_journal(o);
}

/* A granted acquire's answer, per grant (LOCK_GRANT_*). */
static void
lk_answer(struct req *req, const struct lk *l, int grant)
{
	if (grant == LOCK_GRANT_FENCE)
		reply_uint(req, l->fence);
	else
		reply_bool(req, grant != LOCK_GRANT_FALSE);
}

/* Free it, forgetting the holder; the caller serves the waiters. */
static void
lk_clear(struct lk *l)
{
	if (l->holder != NULL)
		hold_drop(l->holder);
	l->holder = NULL;
	l->depth = 0;
}

/* Hand o, if free, to its oldest waiter whose peer is still there. */
static void
lock_serve(struct object *o)
{
	struct waiter *w;

	if (lk_of(o)->depth != 0)
		return;
	for (w = waiter_first(o); w != NULL; w = waiter_next(w)) {
		/* A gone peer's close removes its waiter. */
		if (waiter_peer_gone(w))
			continue;
		lk_grant(o, w->req.c, (uint64_t)w->n, (int64_t)w->ttl);
		lk_answer(&w->req, lk_of(o), w->state);
		waiter_done(w);
		return;
	}
}

static void
lock_acquire_timeout(struct waiter *w)
{
	reply_bool(&w->req, false);
	waiter_done(w);
}

void
lock_acquire_req(struct req *req, struct object *o)
{
	struct object *self = req->obj;
	struct lk *l = lk_of(o);
	struct hold_opts opts;
	struct waiter *w;
	int64_t usec;
	int grant;

	if (!waiter_timeout_arg(req, 1, &usec) ||
	    !hold_opts_arg(req, 2, l->release_on_disconnect, &opts))
		return;
	grant = opts.fence ? LOCK_GRANT_FENCE : LOCK_GRANT_TRUE;
	if (o->type == &rlock_type && lk_owned_by(l, req->c)) {
		l->depth++;
		if (opts.ttl > 0)
			hold_lease(l->holder, opts.ttl);
		lk_journal(o);
		lk_answer(req, l, grant);
		return;
	}
	/* A free lock has no live waiter (it is handed over on release):
	 * taking it overtakes nobody. */
	if (l->depth == 0) {
		lk_grant(o, req->c, 1, opts.ttl);
		lk_answer(req, l, grant);
	} else if (usec == 0)
		reply_bool(req, false);
	else {
		/* A condition's acquire parks on the lock, not on itself. */
		req->obj = o;
		w = waiter_park(req, &lock_acquire_ops, usec);
		req->obj = self;
		w->n = 1;
		w->state = grant;
		w->ttl = (uint64_t)opts.ttl;
	}
}

int
lock_holder_check(const struct object *o, const struct conn *c)
{
	const struct lk *l = o == NULL ? NULL : lk_of(o);

	if (l == NULL || l->depth == 0)
		return PERR_NOTHELD;
	return lk_owned_by(l, c) ? PERR_NONE : PERR_NOTOWNER;
}

void
lock_release_req(struct req *req, struct object *o)
{
	struct lk *l = o == NULL ? NULL : lk_of(o);

	if (l == NULL) {
		reply_error(req, PERR_NOTHELD, "%s: '%.*s' is not held",
		    req->method->name, req_namelen(req), req_name(req));
		return;
	}
	if (hold_lost(req, o, true, LOCK_LOST))
		return;
	if (l->depth == 0) {
		reply_error(req, PERR_NOTHELD, "%s: '%.*s' is not held",
		    req->method->name, (int)o->namelen, o->name);
		return;
	}
	if (l->holder != NULL && l->holder->c != req->c &&
	    l->holder->lease.at != 0) {
		reply_error(req, PERR_NOTOWNER, "%s: '%.*s' is held under a "
		    "lease by another connection", req->method->name,
		    (int)o->namelen, o->name);
		return;
	}
	if (o->type == &rlock_type) {
		if (!lk_owned_by(l, req->c)) {
			reply_error(req, PERR_NOTOWNER, "%s: '%.*s' is held "
			    "by another connection", req->method->name,
			    (int)o->namelen, o->name);
			return;
		}
		if (--l->depth != 0) {
			lk_journal(o);
			reply_nil(req);
			return;
		}
	}
	lk_clear(l);
	lk_journal(o);
	lock_serve(o);
	reply_nil(req);
}

uint64_t
lock_release_all(struct object *o, struct conn *c)
{
	struct lk *l = lk_of(o);
	uint64_t depth = l->depth;

	if (!lk_owned_by(l, c))
		fatalx("%s: '%.*s' is not held by connection %llu", __func__,
		    (int)o->namelen, o->name, (unsigned long long)c->id);
	lk_clear(l);
	lk_journal(o);
	lock_serve(o);
	return depth;
}

void
lock_requeue(struct waiter *w, struct object *o, const struct waiter_ops *ops,
    int grant)
{
	waiter_move(w, o, ops);
	w->state = grant;
	w->ttl = 0;
	lock_serve(o);
}

/* --- verbs ------------------------------------------------------------- */

static void
lock_acquire(struct req *req)
{
	lock_acquire_req(req, req->obj);
}

static void
lock_release(struct req *req)
{
	lock_release_req(req, req->obj);
}

/* Renew the caller's lease: ttl from now. */
static void
lock_extend(struct req *req)
{
	struct object *o = req->obj;
	struct lk *l = o == NULL ? NULL : lk_of(o);
	int64_t usec;

	if (!waiter_ttl_arg(req, &req->argv[1], "ttl", &usec) ||
	    hold_lost(req, o, false, LOCK_LOST))
		return;
	if (l == NULL || l->depth == 0) {
		reply_error(req, PERR_NOTHELD, "%s: '%.*s' is not held",
		    req->method->name, req_namelen(req), req_name(req));
		return;
	}
	if (!lk_owned_by(l, req->c)) {
		reply_error(req, PERR_NOTOWNER, "%s: '%.*s' is held by another "
		    "connection", req->method->name, req_namelen(req),
		    req_name(req));
		return;
	}
	hold_lease(l->holder, usec);
	reply_nil(req);
}

static void
lock_locked(struct req *req)
{
	reply_bool(req, req->obj != NULL && lk_of(req->obj)->depth != 0);
}

static void
lock_owned(struct req *req)
{
	reply_bool(req, req->obj != NULL && lk_owned_by(lk_of(req->obj),
	    req->c));
}

/* --- the types --------------------------------------------------------- */

static void
lock_conn_gone(struct hold *h)
{
	struct object *o = h->o;
	struct lk *l = lk_of(o);

	if (l->holder != h) {
		hold_drop(h);
		return;
	}
	l->holder = NULL;
	hold_drop(h);
	if (l->release_on_disconnect) {
		l->depth = 0;
		lock_serve(o);
	}
}

/* The lease of h, its holder's, ended: release every level. */
static void
lock_lease_end(struct hold *h)
{
	struct object *o = h->o;
	struct lk *l = lk_of(o);

	if (l->holder != h)
		return;
	log_debug("%s: the lease of client %llu on '%.*s' ended", __func__,
	    (unsigned long long)h->c->id, (int)o->namelen, o->name);
	l->holder = NULL;
	l->depth = 0;
	lock_serve(o);
}

/* Options: {release_on_disconnect: bool (true)}. */
enum { LOCK_OPT_ROD };

static const struct opt lock_opts[] = {
	[LOCK_OPT_ROD] = { .key = "release_on_disconnect", .kind = OPT_BOOL,
	    .def = true },
	{ .key = NULL }
};

static void
lock_init(struct object *o, const struct optval *v)
{
	struct lk *l = xcalloc(1, sizeof *l);

	l->release_on_disconnect = v[LOCK_OPT_ROD].u;
	o->data = l;
}

static bool
lock_is_initial(const struct object *o)
{
	return lk_of(o)->depth == 0;
}

/* The recursion depth: 1 for a held lock, 0 when free. */
static uint64_t
lock_size(const struct object *o)
{
	return lk_of(o)->depth;
}

/* --- the journal -------------------------------------------------------- */

void
lock_replay_depth(struct object *o, uint64_t depth)
{
	struct lk *l = lk_of(o);

	/* Nobody holds anything during a replay. */
	l->holder = NULL;
	l->depth = depth;
}

uint64_t
lock_kept_depth(const struct object *o)
{
	const struct lk *l = lk_of(o);

	return l->release_on_disconnect ? 0 : l->depth;
}

/*
 * Contents (obj.dump): the recursion depth as a restart leaves it: 0
 * unless the lock is kept when its holder disconnects
 * (release_on_disconnect false), then held by nobody.
 */
static void
lock_contents(const struct object *o, msgpack_packer *pk)
{
	msgpack_pack_uint64(pk, lock_kept_depth(o));
}

static int
lock_restore(struct object *o, const struct mpv *c, struct req *req)
{
	struct lk *l = lk_of(o);
	uint64_t depth = c->v.u;

	if (c->type == MPV_NIL || (c->type == MPV_UINT && depth == 0))
		return 0;
	if (c->type != MPV_UINT || (o->type == &lock_type && depth != 1)) {
		reply_error(req, PERR_BADARG, "%s: a %s's contents are its "
		    "depth, %s", req->method->name, o->type->name,
		    o->type == &lock_type ? "0 or 1" : "an int >= 0");
		return -1;
	}
	if (l->release_on_disconnect) {
		reply_error(req, PERR_BADARG, "%s: a %s released when its "
		    "holder disconnects is never held by nobody: its depth "
		    "must be 0", req->method->name, o->type->name);
		return -1;
	}
	lock_replay_depth(o, depth);
	return 0;
}

static const char *
lock_replay(struct object *o, struct mpv_iter *args, uint32_t nargs)
{
	struct mpv v;

	jop_arg(args, &v);
	if (v.type != MPV_UINT || (o->type == &lock_type && v.v.u > 1) ||
	    lk_of(o)->release_on_disconnect)
		return "a depth a lock cannot have";
	lock_replay_depth(o, v.v.u);
	return NULL;
}

static const struct jop lock_jops[] = {
	[LOCK_J_DEPTH] = { "depth", 1, 1, lock_replay },
	JOP_END
};

static void
lock_dump(const struct object *o)
{
	uint64_t depth = lock_kept_depth(o);

	if (depth != 0) {
		msgpack_pack_uint64(journal_begin(o, LOCK_J_DEPTH, 1), depth);
		journal_end();
	}
}

/* lock and rlock share their handlers: lock_VERB. */
#define LOCK_ROW(t, v, ...) DISPATCH_METHOD(lock, &t##_type, t, v, __VA_ARGS__)

static const struct method lock_methods[] = {
	MPMGR_METHODS_LOCK(LOCK_ROW)
	DISPATCH_END
};

static const struct method rlock_methods[] = {
	MPMGR_METHODS_RLOCK(LOCK_ROW)
	DISPATCH_END
};

/* An rlock's holder holds it so many levels deep; a lock's holds it. */
static const char *
lock_hold_text(const struct hold *h, char *buf, size_t len)
{
	const struct lk *l = lk_of(h->o);

	if (h->o->type != &rlock_type || l->holder != h)
		return "held";
	snprintf(buf, len, "depth %llu", (unsigned long long)l->depth);
	return buf;
}

/* lock and rlock differ only in their methods (rlock.owned) and in
 * recursion, which acquire and release read from o->type. */
#define LOCK_TYPE(t, code) {			\
	.name = #t,				\
	.methods = t##_methods,			\
	.opts = lock_opts,			\
	.init = lock_init,			\
	.is_initial = lock_is_initial,		\
	.size = lock_size,			\
	.conn_gone = lock_conn_gone,		\
	.lease_end = lock_lease_end,		\
	.contents = lock_contents,		\
	.restore = lock_restore,		\
	.hold_text = lock_hold_text,		\
	.jcode = (code),			\
	.jops = lock_jops,			\
	.dump = lock_dump,			\
}

const struct obj_type lock_type = LOCK_TYPE(lock, JC_LOCK);
const struct obj_type rlock_type = LOCK_TYPE(rlock, JC_RLOCK);

/* --- a condition's own rlock ------------------------------------------- */

struct object *
lock_internal_new(const struct object *cond, bool release_on_disconnect,
    unsigned jop)
{
	struct object *o = xcalloc(1, sizeof *o + cond->namelen + 1u);
	struct lk *l = xcalloc(1, sizeof *l);

	o->type = &rlock_type;
	o->explicit = true;
	TAILQ_INIT(&o->waiters);
	LIST_INIT(&o->holds);
	o->namelen = cond->namelen;
	memcpy(o->name, cond->name, cond->namelen);
	l->release_on_disconnect = release_on_disconnect;
	l->jobj = cond;
	l->jop = jop;
	o->data = l;
	return o;
}

void
lock_internal_free(struct object *o)
{
	/* Its holds' conn_gone find nobody left to serve. */
	waiter_object_deleted(o);
	xfree(o->data);
	xfree(o);
}

size_t
lock_internal_mem(const struct object *o)
{
	return mem_usable(o) + mem_usable(o->data);
}

bool
lock_idle(const struct object *o)
{
	return lk_of(o)->depth == 0 && o->nwaiters == 0 &&
	    LIST_EMPTY(&o->holds);
}
