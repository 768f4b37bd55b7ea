/*
 * obj_condition.c: the condition type (Python's Condition).
 *
 * A condition stands on a lock: its own rlock by default (outside the
 * registry, see locks.h), or a named lock or rlock given at create, which
 * is looked up by name at each use and created implicitly (with the type
 * it had at create, a lock if it was missing) when a condition verb must
 * acquire it and it is gone. acquire and release act on that lock with its
 * own rules. wait, notify and notify_all need the caller to hold it
 * (NOTHELD when it is free, NOTOWNER when another connection holds it).
 *
 * wait releases the lock fully (an rlock's depth is saved in the waiter),
 * parks on the condition's FIFO, and once notified moves to the lock's
 * FIFO (lock_requeue) to answer true when it holds the lock again with its
 * depth restored. A timed-out wait also queues for the lock first and then
 * answers false. wait with timeout 0 answers false at once and keeps the
 * lock. notify moves the oldest waiters whose peers are still there; a
 * notified waiter that leaves before holding the lock again (its peer gone,
 * or sys.cancel) passes its notify to the next waiter of the condition, so
 * no wakeup is lost. An implicit condition goes away when its own rlock is
 * free and nobody waits for it or on it.
 *
 * A restart keeps a condition's options (create's record) and, when its
 * own rlock is not released on disconnect, that rlock's depth; waiters
 * are gone. The type a missing named lock is made with is the one the
 * name had at create, or a lock: after a restart, a lock, unless the
 * named lock outlived it (an explicit one).
 */
#include <string.h>

#include "dispatch.h"
#include "journal.h"
#include "locks.h"
#include "log.h"
#include "mem.h"
#include "registry.h"
#include "reply.h"
#include "waiter.h"

struct condition {
	struct object *own;          /* its own rlock, or NULL */
	const struct obj_type *locktype; /* the named lock's, to recreate it */
	char *lockname;              /* the named lock, when own is NULL */
	uint8_t locklen;
};

/* Journal ops: its own rlock's depth. */
enum { COND_J_OWN_DEPTH };

static void condition_wait_timeout(struct waiter *);
static void condition_notified_gone(struct waiter *);

/* Waiting on the condition: w->n is the depth to restore, w->data the
 * condition's name (the notified phase needs it). */
static const struct waiter_ops condition_wait_ops = {
	.timeout = condition_wait_timeout,
};

/* Queued on the lock after a notify (LOCK_GRANT_TRUE) or a timeout. */
static const struct waiter_ops condition_relock_ops = {
	.gone = condition_notified_gone,
};

static struct condition *
condition_of(const struct object *o)
{
	return o->data;
}

/*
 * The lock o stands on; NULL when a named one is missing and create is
 * false, or when the name now holds another type (*wrong is that type).
 */
static struct object *
condition_lock(struct object *o, bool create, const struct obj_type **wrong)
{
	struct condition *cd = condition_of(o);
	struct object *lk;

	*wrong = NULL;
	if (cd->own != NULL)
		return cd->own;
	lk = registry_lookup(cd->lockname, cd->locklen);
	if (lk != NULL && !lock_kind(lk->type)) {
		*wrong = lk->type;
		return NULL;
	}
	if (lk == NULL && create)
		lk = registry_add(cd->locktype, cd->lockname, cd->locklen);
	return lk;
}

/* condition_lock for a request: false after replying WRONGTYPE. */
static bool
condition_req_lock(struct req *req, bool create, struct object **lk)
{
	const struct condition *cd = condition_of(req->obj);
	const struct obj_type *wrong;

	*lk = condition_lock(req->obj, create, &wrong);
	if (wrong == NULL)
		return true;
	reply_error(req, PERR_WRONGTYPE, "%s: '%.*s', the lock of '%.*s', is "
	    "a %s, not a lock or rlock", req->method->name, (int)cd->locklen,
	    cd->lockname, req_namelen(req), req_name(req), wrong->name);
	return false;
}

/* After a request: a named lock it created or freed may go. */
static void
condition_settle_lock(const struct object *o, struct object *lk)
{
	if (lk != NULL && lk != condition_of(o)->own)
		registry_settle(lk);
}

/* Move up to n waiters whose peers are still there onto lk's FIFO. */
static void
condition_notify_n(struct object *o, struct object *lk, uint64_t n)
{
	struct waiter *w, *next;

	for (w = waiter_first(o); w != NULL && n > 0; w = next) {
		next = waiter_next(w);
		/* A gone peer's close removes it: it takes no notify. */
		if (waiter_peer_gone(w))
			continue;
		lock_requeue(w, lk, &condition_relock_ops, LOCK_GRANT_TRUE);
		n--;
	}
}

static void
condition_wait_timeout(struct waiter *w)
{
	const struct obj_type *wrong;
	struct object *lk;

	lk = condition_lock(w->req.obj, true, &wrong);
	if (lk == NULL) {
		reply_error(&w->req, PERR_WRONGTYPE, "%s: the lock of '%.*s' "
		    "is now a %s: it cannot be held again", w->req.method->name,
		    (int)w->req.obj->namelen, w->req.obj->name, wrong->name);
		waiter_done(w);
		return;
	}
	lock_requeue(w, lk, &condition_relock_ops, LOCK_GRANT_FALSE);
}

/*
 * A notified waiter left before holding the lock again: its notify goes to
 * the next waiter. The condition is found by name: it may have been
 * deleted meanwhile.
 */
static void
condition_notified_gone(struct waiter *w)
{
	const struct obj_type *wrong;
	struct object *o, *lk;

	if (w->state != LOCK_GRANT_TRUE)
		return;
	o = registry_lookup((const char *)w->data, w->datalen);
	if (o != NULL && o->type == &condition_type &&
	    (lk = condition_lock(o, false, &wrong)) != NULL)
		condition_notify_n(o, lk, 1);
}

/* --- verbs ------------------------------------------------------------- */

static void
condition_acquire(struct req *req)
{
	struct object *lk;

	if (!condition_req_lock(req, true, &lk))
		return;
	lock_acquire_req(req, lk);
	condition_settle_lock(req->obj, lk);
}

static void
condition_release(struct req *req)
{
	struct object *lk = NULL;

	if (req->obj != NULL && !condition_req_lock(req, false, &lk))
		return;
	lock_release_req(req, lk);
	condition_settle_lock(req->obj, lk);
}

/* The caller must hold the lock: lk, or false after replying. */
static bool
condition_held(struct req *req, struct object **lk)
{
	static const char *const why[] = {
		[PERR_NOTHELD] = "is not held",
		[PERR_NOTOWNER] = "is held by another connection",
	};
	int err;

	*lk = NULL;
	if (req->obj != NULL && !condition_req_lock(req, false, lk))
		return false;
	if ((err = lock_holder_check(*lk, req->c)) == PERR_NONE)
		return true;
	reply_error(req, err, "%s: the lock of '%.*s' %s", req->method->name,
	    req_namelen(req), req_name(req), why[err]);
	return false;
}

static void
condition_wait(struct req *req)
{
	struct object *lk;
	struct waiter *w;
	uint64_t depth;
	int64_t usec;

	if (!condition_held(req, &lk) || !waiter_timeout_arg(req, 1, &usec))
		return;
	if (usec == 0) {
		reply_bool(req, false);
		return;
	}
	depth = lock_release_all(lk, req->c);
	w = waiter_park(req, &condition_wait_ops, usec);
	w->n = (int64_t)depth;
	w->datalen = req->obj->namelen;
	w->data = xmalloc(w->datalen);
	memcpy(w->data, req->obj->name, w->datalen);
	condition_settle_lock(req->obj, lk);
}

static void
condition_notify(struct req *req)
{
	struct object *lk;
	uint64_t n = 1;

	if (req->argc > 1 && req->argv[1].type != MPV_NIL &&
	    !req_uint_arg(req, 1, 0, UINT64_MAX, "n", &n))
		return;
	if (!condition_held(req, &lk))
		return;
	condition_notify_n(req->obj, lk, n);
	reply_nil(req);
}

static void
condition_notify_all(struct req *req)
{
	struct object *lk;

	if (!condition_held(req, &lk))
		return;
	condition_notify_n(req->obj, lk, UINT64_MAX);
	reply_nil(req);
}

/* --- the type ---------------------------------------------------------- */

/* Options: {lock: NAME} or {release_on_disconnect: bool (true)}. */
enum { COND_OPT_LOCK, COND_OPT_ROD };

static const struct opt condition_opts[] = {
	[COND_OPT_LOCK] = { .key = "lock", .kind = OPT_NAME,
	    .flags = OPT_NODEFAULT },
	[COND_OPT_ROD] = { .key = "release_on_disconnect", .kind = OPT_BOOL,
	    .def = true },
	{ .key = NULL }
};

/* The named lock is another object, a lock or rlock if it exists, and
 * release_on_disconnect is its own option then. */
static int
condition_check(struct optval *v, struct req *req)
{
	const struct mpv *name = &v[COND_OPT_LOCK].v;
	const struct object *lk;

	if (!v[COND_OPT_LOCK].given)
		return 0;
	if (v[COND_OPT_ROD].given) {
		reply_error(req, PERR_BADARG, "%s: release_on_disconnect is "
		    "the named lock's option (its create)", req->method->name);
		return -1;
	}
	if (name->len == (uint32_t)req_namelen(req) &&
	    memcmp(name->ptr, req_name(req), name->len) == 0) {
		reply_error(req, PERR_BADARG, "%s: lock must name another "
		    "object", req->method->name);
		return -1;
	}
	lk = registry_lookup((const char *)name->ptr, name->len);
	if (lk != NULL && !lock_kind(lk->type)) {
		reply_error(req, PERR_WRONGTYPE, "%s: '%.*s' is a %s, not a "
		    "lock or rlock", req->method->name, (int)name->len,
		    (const char *)name->ptr, lk->type->name);
		return -1;
	}
	v[COND_OPT_ROD].present = false;
	return 0;
}

static void
condition_init(struct object *o, const struct optval *v)
{
	const struct mpv *name = &v[COND_OPT_LOCK].v;
	struct condition *cd = xcalloc(1, sizeof *cd);
	const struct object *lk;

	if (!v[COND_OPT_LOCK].given)
		cd->own = lock_internal_new(o, v[COND_OPT_ROD].u,
		    COND_J_OWN_DEPTH);
	else {
		lk = registry_lookup((const char *)name->ptr, name->len);
		cd->lockname = xstrndup((const char *)name->ptr, name->len);
		cd->locklen = (uint8_t)name->len;
		cd->locktype = lk != NULL ? lk->type : &lock_type;
	}
	o->data = cd;
}

/* Its own rlock goes with it, its waiters answered DELETED. */
static bool
condition_free_step(struct object *o, size_t budget)
{
	struct condition *cd = condition_of(o);

	if (cd->own != NULL)
		lock_internal_free(cd->own);
	xfree(cd->lockname);
	xfree(cd);
	return true;
}

static bool
condition_is_initial(const struct object *o)
{
	const struct condition *cd = condition_of(o);

	return cd->own == NULL || lock_idle(cd->own);
}

/* Connections waiting in wait (not yet notified). */
static uint64_t
condition_size(const struct object *o)
{
	return o->nwaiters;
}

static size_t
condition_mem(const struct object *o)
{
	const struct condition *cd = condition_of(o);

	return mem_usable(cd) + mem_usable(cd->lockname) +
	    (cd->own != NULL ? lock_internal_mem(cd->own) : 0);
}

static const char *
condition_replay_depth(struct object *o, struct mpv_iter *args,
    uint32_t nargs)
{
	struct condition *cd = condition_of(o);
	struct mpv v;

	jop_arg(args, &v);
	if (cd->own == NULL || v.type != MPV_UINT)
		return "a depth for a condition without its own rlock";
	lock_replay_depth(cd->own, v.v.u);
	return NULL;
}

static const struct jop condition_jops[] = {
	[COND_J_OWN_DEPTH] = { "own_depth", 1, 1, condition_replay_depth },
	JOP_END
};

static void
condition_dump(const struct object *o)
{
	const struct condition *cd = condition_of(o);
	uint64_t depth;

	if (cd->own != NULL && (depth = lock_kept_depth(cd->own)) != 0) {
		msgpack_pack_uint64(journal_begin(o, COND_J_OWN_DEPTH, 1),
		    depth);
		journal_end();
	}
}

static const struct method condition_methods[] = {
	MPMGR_METHODS_CONDITION(DISPATCH_ROW)
	DISPATCH_END
};

const struct obj_type condition_type = {
	.name = "condition",
	.methods = condition_methods,
	.opts = condition_opts,
	.opts_usage = "the options are lock (another object's name) or "
	    "release_on_disconnect (a bool, for its own rlock), and ephemeral",
	.check = condition_check,
	.init = condition_init,
	.free_step = condition_free_step,
	.is_initial = condition_is_initial,
	.size = condition_size,
	.mem = condition_mem,
	.jcode = JC_CONDITION,
	.jops = condition_jops,
	.dump = condition_dump,
};
