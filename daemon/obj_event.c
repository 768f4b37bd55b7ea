/*
 * obj_event.c: the event type (Python's threading.Event).
 *
 * An event is a flag. set wakes every waiter (each answers true) and the
 * flag stays set until clear; wait answers true at once when it is set,
 * false at once with timeout 0, and otherwise parks until set (true) or
 * its deadline (false). A missing event reads as unset; wait that must
 * park creates it. An implicit event goes when it is unset with nobody
 * waiting. The journal gets the flag's changes.
 */
#include "dispatch.h"
#include "journal.h"
#include "log.h"
#include "mem.h"
#include "registry.h"
#include "reply.h"
#include "waiter.h"

struct event_state {
	bool set;
};

/* Journal ops. */
enum { EVENT_J_SET, EVENT_J_CLEAR };

static void
event_journal(const struct object *o, unsigned op)
{
	if (journal_wants(o)) {
		journal_begin(o, op, 0);
		journal_end();
	}
}

static bool
event_flag(const struct object *o)
{
	return o != NULL && ((const struct event_state *)o->data)->set;
}

static void
event_wait_timeout(struct waiter *w)
{
	reply_bool(&w->req, false);
	waiter_done(w);
}

static const struct waiter_ops event_wait_ops = {
	.timeout = event_wait_timeout,
};

static void
event_set(struct req *req)
{
	struct event_state *e = req->obj->data;
	struct waiter *w;

	if (!e->set)
		event_journal(req->obj, EVENT_J_SET);
	e->set = true;
	/* Nothing is handed over: a gone peer's true is harmless. */
	while ((w = waiter_first(req->obj)) != NULL) {
		reply_bool(&w->req, true);
		waiter_done(w);
	}
	reply_nil(req);
}

static void
event_clear(struct req *req)
{
	struct event_state *e = req->obj == NULL ? NULL : req->obj->data;

	if (e != NULL && e->set) {
		e->set = false;
		event_journal(req->obj, EVENT_J_CLEAR);
	}
	reply_nil(req);
}

static void
event_is_set(struct req *req)
{
	reply_bool(req, event_flag(req->obj));
}

static void
event_wait(struct req *req)
{
	int64_t usec;

	if (!waiter_timeout_arg(req, 1, &usec))
		return;
	if (event_flag(req->obj))
		reply_bool(req, true);
	else if (usec == 0)
		reply_bool(req, false);
	else
		waiter_park(req, &event_wait_ops, usec);
}

static void
event_init(struct object *o, const struct optval *v)
{
	o->data = xcalloc(1, sizeof(struct event_state));
}

static bool
event_is_initial(const struct object *o)
{
	return !event_flag(o);
}

/* 1 while set: obj.list shows the flag. */
static uint64_t
event_size(const struct object *o)
{
	return event_flag(o);
}

/* Contents: the flag. */
static void
event_contents(const struct object *o, msgpack_packer *pk)
{
	if (event_flag(o))
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
}

static int
event_restore(struct object *o, const struct mpv *c, struct req *req)
{
	if (c->type != MPV_NIL && c->type != MPV_BOOL) {
		reply_error(req, PERR_BADARG, "%s: an event's contents are "
		    "true or false", req->method->name);
		return -1;
	}
	((struct event_state *)o->data)->set = c->type == MPV_BOOL && c->v.b;
	return 0;
}

static const char *
event_replay_set(struct object *o, struct mpv_iter *args, uint32_t nargs)
{
	((struct event_state *)o->data)->set = true;
	return NULL;
}

static const char *
event_replay_clear(struct object *o, struct mpv_iter *args, uint32_t nargs)
{
	((struct event_state *)o->data)->set = false;
	return NULL;
}

static const struct jop event_jops[] = {
	[EVENT_J_SET] = { "set", 0, 0, event_replay_set },
	[EVENT_J_CLEAR] = { "clear", 0, 0, event_replay_clear },
	JOP_END
};

static void
event_dump(const struct object *o)
{
	if (event_flag(o)) {
		journal_begin(o, EVENT_J_SET, 0);
		journal_end();
	}
}

static const struct method event_methods[] = {
	MPMGR_METHODS_EVENT(DISPATCH_ROW)
	DISPATCH_END
};

const struct obj_type event_type = {
	.name = "event",
	.methods = event_methods,
	.init = event_init,
	.is_initial = event_is_initial,
	.size = event_size,
	.contents = event_contents,
	.restore = event_restore,
	.jcode = JC_EVENT,
	.jops = event_jops,
	.dump = event_dump,
};
