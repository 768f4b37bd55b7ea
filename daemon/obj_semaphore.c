/*
 * obj_semaphore.c: the semaphore type (Python's Semaphore and
 * BoundedSemaphore in one).
 *
 * A counter of permits: acquire takes one (parking while there is none),
 * release [n] gives n back, to the oldest waiters first: a permit goes
 * straight to the oldest waiter whose peer is still there, so a new
 * acquire never overtakes one. Anyone may release (semaphores signal); a
 * bounded semaphore refuses, with RANGE and nothing changed, a release
 * that would take it past its initial value.
 *
 * Each connection's outstanding acquisitions, max(0, acquired - released)
 * counted as it goes, are a hold; its close gives them back (a bounded
 * semaphore no further than its initial value) unless the semaphore was
 * created with release_on_disconnect false, as Python does. An implicit
 * semaphore goes away when back at its initial value with no waiter and
 * no hold.
 *
 * Every acquire takes a fencing token (fence.h), answered instead of true
 * when asked for ({fence: true}). An acquire with a ttl makes the
 * connection's hold a lease (waiter.h) covering all it holds here: at its
 * end those permits are given back as a close would, and the connection's
 * next release here is refused (NOTHELD) rather than adding permits that
 * were already returned.
 *
 * A restart gives back what every connection holds, as their disconnects
 * would: what survives is the value with the outstanding acquisitions
 * given back (capped as conn_gone caps them), which changes only when a
 * release gives back more than its connection holds or when a permit is
 * taken for good (release_on_disconnect false). The journal gets that
 * value then, and nothing for an acquire and release within a
 * connection's holdings (sem exec).
 */
#include <stdint.h>
#include <stdio.h>

#include "dispatch.h"
#include "fence.h"
#include "journal.h"
#include "log.h"
#include "mem.h"
#include "registry.h"
#include "reply.h"
#include "waiter.h"

/* What happened to a lease's permits at its end (NOTHELD's message). */
#define SEMAPHORE_LOST "its permits were given back then"

/* Values are ints on the wire: keep them in int64 range. */
#define SEMAPHORE_MAX ((uint64_t)INT64_MAX)

struct semaphore {
	uint64_t value;
	uint64_t initial;
	uint64_t held;         /* outstanding acquisitions of all holds */
	bool bounded;
	bool release_on_disconnect;
};

/* Journal ops: the value a restart keeps. */
enum { SEM_J_VALUE };

static void semaphore_acquire_timeout(struct waiter *);

/* A waiter that leaves undoes nothing: while permits remain nobody
 * live waits. */
static const struct waiter_ops semaphore_acquire_ops = {
	.timeout = semaphore_acquire_timeout,
};

static struct semaphore *
semaphore_of(const struct object *o)
{
	return o->data;
}

/* The value once every holder has given its acquisitions back. */
static uint64_t
semaphore_kept(const struct semaphore *s)
{
	uint64_t cap = s->bounded ? s->initial : SEMAPHORE_MAX;

	return s->held > cap - s->value ? cap : s->value + s->held;
}

/* After a change: journal the kept value if it moved from was. */
static void
semaphore_journal(const struct object *o, uint64_t was)
{
	uint64_t now = semaphore_kept(semaphore_of(o));

	if (now != was && journal_wants(o)) {
		msgpack_pack_uint64(journal_begin(o, SEM_J_VALUE, 1), now);
		journal_end();
	}
}

/* c takes a permit, its hold a lease of ttl usec if > 0; answer req. */
static void
semaphore_take(struct object *o, struct conn *c, int64_t ttl, bool fence,
    struct req *req)
{
	struct semaphore *s = semaphore_of(o);
	struct hold *h;
	uint64_t token = fence_next();

	s->value--;
	if (s->release_on_disconnect) {
		h = hold_get(c, o);
		h->n++;
		s->held++;
		if (ttl > 0)
			hold_lease(h, ttl);
	} else
		semaphore_journal(o, s->value + 1);
	if (fence)
		reply_uint(req, token);
	else
		reply_bool(req, true);
}

/* Hand permits to the oldest waiters whose peers are still there. */
static void
semaphore_serve(struct object *o)
{
	struct semaphore *s = semaphore_of(o);
	struct waiter *w, *next;

	for (w = waiter_first(o); w != NULL && s->value > 0; w = next) {
		next = waiter_next(w);
		/* A gone peer's close removes its waiter. */
		if (waiter_peer_gone(w))
			continue;
		semaphore_take(o, w->req.c, (int64_t)w->ttl, w->state != 0,
		    &w->req);
		waiter_done(w);
	}
}

static void
semaphore_acquire_timeout(struct waiter *w)
{
	reply_bool(&w->req, false);
	waiter_done(w);
}

/* --- verbs ------------------------------------------------------------- */

static void
semaphore_acquire(struct req *req)
{
	struct semaphore *s = semaphore_of(req->obj);
	struct hold_opts opts;
	struct waiter *w;
	int64_t usec;

	if (!waiter_timeout_arg(req, 1, &usec) ||
	    !hold_opts_arg(req, 2, s->release_on_disconnect, &opts))
		return;
	/* Permits left means no live waiter: taking one overtakes nobody. */
	if (s->value > 0)
		semaphore_take(req->obj, req->c, opts.ttl, opts.fence, req);
	else if (usec == 0)
		reply_bool(req, false);
	else {
		w = waiter_park(req, &semaphore_acquire_ops, usec);
		w->n = 1;
		w->ttl = (uint64_t)opts.ttl;
		w->state = opts.fence;
	}
}

static void
semaphore_release(struct req *req)
{
	struct semaphore *s = semaphore_of(req->obj);
	struct hold *h;
	uint64_t n = 1, was, back;

	if (req->argc > 1 && req->argv[1].type != MPV_NIL &&
	    !req_uint_arg(req, 1, 1, SEMAPHORE_MAX, "n", &n))
		return;
	if (hold_lost(req, req->obj, true, SEMAPHORE_LOST))
		return;
	if (s->bounded && n > s->initial - s->value) {
		reply_error(req, PERR_RANGE, "%s: '%.*s' is bounded: %llu + "
		    "%llu is past its initial value %llu", req->method->name,
		    req_namelen(req), req_name(req),
		    (unsigned long long)s->value, (unsigned long long)n,
		    (unsigned long long)s->initial);
		return;
	}
	if (n > SEMAPHORE_MAX - s->value) {
		reply_error(req, PERR_RANGE, "%s: the value would pass %llu",
		    req->method->name, (unsigned long long)SEMAPHORE_MAX);
		return;
	}
	was = semaphore_kept(s);
	s->value += n;
	if ((h = hold_find(req->c, req->obj)) != NULL) {
		back = h->n < n ? h->n : n;
		h->n -= back;
		s->held -= back;
		if (h->n == 0)
			hold_drop(h);
	}
	semaphore_journal(req->obj, was);
	semaphore_serve(req->obj);
	reply_nil(req);
}

/* Renew the caller's lease on its permits: ttl from now. */
static void
semaphore_extend(struct req *req)
{
	struct hold *h;
	int64_t usec;

	if (!waiter_ttl_arg(req, &req->argv[1], "ttl", &usec) ||
	    hold_lost(req, req->obj, false, SEMAPHORE_LOST))
		return;
	h = req->obj == NULL ? NULL : hold_find(req->c, req->obj);
	if (h == NULL || h->n == 0) {
		reply_error(req, PERR_NOTHELD, "%s: this connection holds no "
		    "permit of '%.*s'", req->method->name, req_namelen(req),
		    req_name(req));
		return;
	}
	hold_lease(h, usec);
	reply_nil(req);
}

static void
semaphore_value(struct req *req)
{
	/* A missing semaphore reads as a default one. */
	reply_uint(req, req->obj == NULL ? 1 : semaphore_of(req->obj)->value);
}

/* --- the type ---------------------------------------------------------- */

/* What h holds, back into the value (a bounded one no further than its
 * initial value). */
static void
semaphore_give_back(struct hold *h)
{
	struct semaphore *s = semaphore_of(h->o);
	uint64_t room = s->bounded ? s->initial - s->value :
	    SEMAPHORE_MAX - s->value;

	s->value += h->n < room ? h->n : room;
	s->held -= h->n;
	h->n = 0;
}

static void
semaphore_conn_gone(struct hold *h)
{
	struct object *o = h->o;

	semaphore_give_back(h);
	hold_drop(h);
	semaphore_serve(o);
}

static void
semaphore_lease_end(struct hold *h)
{
	log_debug("%s: the lease of client %llu on '%.*s' ended (%llu "
	    "permits)", __func__, (unsigned long long)h->c->id,
	    (int)h->o->namelen, h->o->name, (unsigned long long)h->n);
	semaphore_give_back(h);
	semaphore_serve(h->o);
}

/* Contents (obj.dump): the value as a restart leaves it, what the
 * journal keeps. */
static void
semaphore_contents(const struct object *o, msgpack_packer *pk)
{
	msgpack_pack_uint64(pk, semaphore_kept(semaphore_of(o)));
}

static int
semaphore_restore(struct object *o, const struct mpv *c, struct req *req)
{
	struct semaphore *s = semaphore_of(o);
	uint64_t max = s->bounded ? s->initial : SEMAPHORE_MAX;

	if (c->type == MPV_NIL)
		return 0;
	if (c->type != MPV_UINT || c->v.u > max) {
		reply_error(req, PERR_BADARG, "%s: a %ssemaphore's contents "
		    "are its value, an int from 0 to %llu", req->method->name,
		    s->bounded ? "bounded " : "", (unsigned long long)max);
		return -1;
	}
	s->value = c->v.u;
	return 0;
}

/* Options: {value: N (1), bounded: bool, release_on_disconnect: bool}. */
enum { SEM_OPT_VALUE, SEM_OPT_BOUNDED, SEM_OPT_ROD };

static const struct opt semaphore_opts[] = {
	[SEM_OPT_VALUE] = { .key = "value", .kind = OPT_UINT, .min = 0,
	    .max = SEMAPHORE_MAX, .def = 1 },
	[SEM_OPT_BOUNDED] = { .key = "bounded", .kind = OPT_BOOL,
	    .def = false },
	[SEM_OPT_ROD] = { .key = "release_on_disconnect", .kind = OPT_BOOL,
	    .def = true },
	{ .key = NULL }
};

static void
semaphore_init(struct object *o, const struct optval *v)
{
	struct semaphore *s = xmalloc(sizeof *s);

	s->initial = s->value = v[SEM_OPT_VALUE].u;
	s->held = 0;
	s->bounded = v[SEM_OPT_BOUNDED].u;
	s->release_on_disconnect = v[SEM_OPT_ROD].u;
	o->data = s;
}

static bool
semaphore_is_initial(const struct object *o)
{
	return semaphore_of(o)->value == semaphore_of(o)->initial;
}

/* The permits left. */
static uint64_t
semaphore_size(const struct object *o)
{
	return semaphore_of(o)->value;
}

static const char *
semaphore_replay(struct object *o, struct mpv_iter *args, uint32_t nargs)
{
	struct semaphore *s = semaphore_of(o);
	struct mpv v;

	jop_arg(args, &v);
	if (v.type != MPV_UINT || v.v.u > SEMAPHORE_MAX ||
	    (s->bounded && v.v.u > s->initial))
		return "a value the semaphore cannot have";
	s->value = v.v.u;
	s->held = 0;
	return NULL;
}

static const struct jop semaphore_jops[] = {
	[SEM_J_VALUE] = { "value", 1, 1, semaphore_replay },
	JOP_END
};

static void
semaphore_dump(const struct object *o)
{
	const struct semaphore *s = semaphore_of(o);
	uint64_t kept = semaphore_kept(s);

	if (kept != s->initial) {
		msgpack_pack_uint64(journal_begin(o, SEM_J_VALUE, 1), kept);
		journal_end();
	}
}

static const struct method semaphore_methods[] = {
	MPMGR_METHODS_SEMAPHORE(DISPATCH_ROW)
	DISPATCH_END
};

static const char *
semaphore_hold_text(const struct hold *h, char *buf, size_t len)
{
	snprintf(buf, len, "%llu permit%s", (unsigned long long)h->n,
	    h->n == 1 ? "" : "s");
	return buf;
}

const struct obj_type semaphore_type = {
	.name = "semaphore",
	.methods = semaphore_methods,
	.opts = semaphore_opts,
	.init = semaphore_init,
	.is_initial = semaphore_is_initial,
	.size = semaphore_size,
	.conn_gone = semaphore_conn_gone,
	.lease_end = semaphore_lease_end,
	.contents = semaphore_contents,
	.restore = semaphore_restore,
	.hold_text = semaphore_hold_text,
	.jcode = JC_SEMAPHORE,
	.jops = semaphore_jops,
	.dump = semaphore_dump,
};
