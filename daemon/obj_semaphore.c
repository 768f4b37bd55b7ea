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
#include "journal.h"
#include "log.h"
#include "mem.h"
#include "registry.h"
#include "reply.h"
#include "waiter.h"

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

static void
semaphore_take(struct object *o, struct conn *c)
{
	struct semaphore *s = semaphore_of(o);

	s->value--;
	if (s->release_on_disconnect) {
		hold_get(c, o)->n++;
		s->held++;
	} else
		semaphore_journal(o, s->value + 1);
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
		semaphore_take(o, w->req.c);
		reply_bool(&w->req, true);
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
	struct waiter *w;
	int64_t usec;

	if (!waiter_timeout_arg(req, 1, &usec))
		return;
	/* Permits left means no live waiter: taking one overtakes nobody. */
	if (s->value > 0) {
		semaphore_take(req->obj, req->c);
		reply_bool(req, true);
	} else if (usec == 0)
		reply_bool(req, false);
	else {
		w = waiter_park(req, &semaphore_acquire_ops, usec);
		w->n = 1;
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

static void
semaphore_value(struct req *req)
{
	/* A missing semaphore reads as a default one. */
	reply_uint(req, req->obj == NULL ? 1 : semaphore_of(req->obj)->value);
}

/* --- the type ---------------------------------------------------------- */

static void
semaphore_conn_gone(struct hold *h)
{
	struct object *o = h->o;
	struct semaphore *s = semaphore_of(o);
	uint64_t room = s->bounded ? s->initial - s->value :
	    SEMAPHORE_MAX - s->value;

	s->value += h->n < room ? h->n : room;
	s->held -= h->n;
	hold_drop(h);
	semaphore_serve(o);
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
	.hold_text = semaphore_hold_text,
	.jcode = JC_SEMAPHORE,
	.jops = semaphore_jops,
	.dump = semaphore_dump,
};
