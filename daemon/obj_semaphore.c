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
 */
#include <stdint.h>

#include "dispatch.h"
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
	bool bounded;
	bool release_on_disconnect;
};

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

static void
semaphore_take(struct object *o, struct conn *c)
{
	struct semaphore *s = semaphore_of(o);

	s->value--;
	if (s->release_on_disconnect)
		hold_get(c, o)->n++;
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
	uint64_t n = 1;

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
	s->value += n;
	if ((h = hold_find(req->c, req->obj)) != NULL) {
		h->n = h->n > n ? h->n - n : 0;
		if (h->n == 0)
			hold_drop(h);
	}
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
	hold_drop(h);
	semaphore_serve(o);
}

/* One create option into t: 0, or -1 after replying BADARG. */
static int
semaphore_option(struct req *req, const struct mpv *k, const struct mpv *v,
    struct semaphore *t)
{
	if (mpv_str_eq(k, "value")) {
		if (v->type != MPV_UINT || v->v.u > SEMAPHORE_MAX) {
			reply_error(req, PERR_BADARG, "semaphore.create: value "
			    "must be an int from 0 to %llu",
			    (unsigned long long)SEMAPHORE_MAX);
			return -1;
		}
		t->initial = v->v.u;
		return 0;
	}
	if (!mpv_str_eq(k, "bounded") &&
	    !mpv_str_eq(k, "release_on_disconnect")) {
		reply_error(req, PERR_BADARG, "semaphore.create: the options "
		    "are value, bounded and release_on_disconnect");
		return -1;
	}
	if (v->type != MPV_BOOL) {
		reply_error(req, PERR_BADARG, "semaphore.create: %.*s must be "
		    "a bool", (int)k->len, (const char *)k->ptr);
		return -1;
	}
	if (mpv_str_eq(k, "bounded"))
		t->bounded = v->v.b;
	else
		t->release_on_disconnect = v->v.b;
	return 0;
}

/* Options: {value: N (1), bounded: bool, release_on_disconnect: bool}. */
static int
semaphore_create(struct object *o, const struct mpv *opts, struct req *req)
{
	struct semaphore *s, t = { .initial = 1 };
	struct mpv_iter it;
	struct mpv k, v;

	t.release_on_disconnect = true;
	if (opts != NULL) {
		mpv_iter_init(&it, opts);
		while (mpv_iter_next(&it, &k) && mpv_iter_next(&it, &v)) {
			if (semaphore_option(req, &k, &v, &t) != 0)
				return -1;
		}
	}
	t.value = t.initial;
	s = xmalloc(sizeof *s);
	*s = t;
	o->data = s;
	return 0;
}

static bool
semaphore_same_options(const struct object *a, const struct object *b)
{
	const struct semaphore *sa = semaphore_of(a), *sb = semaphore_of(b);

	return sa->initial == sb->initial && sa->bounded == sb->bounded &&
	    sa->release_on_disconnect == sb->release_on_disconnect;
}

static void
semaphore_pack_bool(msgpack_packer *pk, const char *key, bool v)
{
	msg_pack_cstr(pk, key);
	if (v)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
}

static void
semaphore_pack_options(const struct object *o, msgpack_packer *pk)
{
	const struct semaphore *s = semaphore_of(o);

	msgpack_pack_map(pk, 3);
	msg_pack_cstr(pk, "value");
	msgpack_pack_uint64(pk, s->initial);
	semaphore_pack_bool(pk, "bounded", s->bounded);
	semaphore_pack_bool(pk, "release_on_disconnect",
	    s->release_on_disconnect);
}

/* The deletion answered the waiters and dropped the holds already. */
static bool
semaphore_free_step(struct object *o, size_t budget)
{
	xfree(o->data);
	return true;
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

static size_t
semaphore_mem(const struct object *o)
{
	return mem_usable(o->data);
}

static const struct method semaphore_methods[] = {
	MPMGR_METHODS_SEMAPHORE(DISPATCH_ROW)
	DISPATCH_END
};

const struct obj_type semaphore_type = {
	.name = "semaphore",
	.methods = semaphore_methods,
	.create = semaphore_create,
	.same_options = semaphore_same_options,
	.pack_options = semaphore_pack_options,
	.free_step = semaphore_free_step,
	.is_initial = semaphore_is_initial,
	.size = semaphore_size,
	.mem = semaphore_mem,
	.conn_gone = semaphore_conn_gone,
};
