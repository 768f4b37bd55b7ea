/*
 * obj_pipe.c: the pipe type (Python's multiprocessing.Pipe), a named
 * channel of messages between two ends, with end-of-file (docs/PROTOCOL.md,
 * pipe).
 *
 * Each end, 0 and 1, has a FIFO of the messages waiting to be read there
 * (a message sent at one end waits at the other), its holders (opens not
 * yet closed, every connection's: struct hold, so that a connection's
 * close lets go of what it held) and its pending hand-offs. An end that
 * was opened or handed off closes for good once it has no holder and no
 * hand-off left: its unread messages go, and everything waiting on the
 * pipe is answered again: a recv at the other end gets EOF once nothing is
 * left to read there, a send into the closed end (or at it) EOF at once.
 * Before an end is ever opened it is open: messages wait for it, so a
 * reader may come first.
 *
 * Parked requests share the object's FIFO: recv and poll at an end, send
 * at an end (waiting for room at the other, with maxsize). Each kind is
 * served oldest first; a message goes to the oldest recv whose peer is
 * still there and whose reply fits (else it stays), and a send waiting
 * for room is never overtaken by a later send at the same end. After any
 * change pipe_pump answers whoever can now be answered.
 *
 * Hand-offs keep an end open across the gap between a giver's close and
 * a receiver's open (a pickled Connection): each has a token and a
 * deadline, kept in deadline order, and the pipe's timer (timer.h) is
 * armed for the first.
 *
 * A pipe goes when it is back in its initial state (no end ever opened,
 * nothing waiting to be read, no hand-off) or finished (both ends closed;
 * then an explicit pipe goes too: nothing can be done with it), and
 * nobody waits on it.
 *
 * A restart drops every pipe (registry.h, obj_type.dropped): nothing of
 * one is journaled, not even its creation. A pipe joins the processes
 * holding its ends, and a restart closes every end held (the disconnect
 * rule), so most pipes would be finished and gone anyway; what could
 * outlive its holders (messages sent before any open, a hand-off's 60
 * seconds) is passing by design, and journaling every message would put
 * the disk under the pipe's throughput for state a restart mostly drops
 * (docs/PROTOCOL.md, Restarts).
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "dispatch.h"
#include "journal.h"
#include "log.h"
#include "mem.h"
#include "registry.h"
#include "reply.h"
#include "timer.h"
#include "value.h"
#include "waiter.h"

/* A hand-off's life when its request does not say: long enough for a
 * child process to start and unpickle its end. */
#define PIPE_HANDOFF_USEC (60ull * 1000000)
/* Hand-offs one pipe may have pending: each is a list insert. */
#define PIPE_MAX_HANDOFFS 4096

struct pmsg {
	struct pmsg *next;
	size_t len;
	uint8_t data[];           /* canonical bytes */
};

struct pipe_end {
	struct pmsg *head;        /* waiting to be read here, oldest first */
	struct pmsg *tail;
	uint64_t count;
	uint64_t holders;         /* opens not closed yet */
	uint32_t handoffs;        /* pending */
	uint32_t nsenders;        /* sends at this end parked for room */
	bool opened;              /* opened or handed off once: it can close */
	bool closed;              /* for good */
};

struct handoff {
	struct handoff *next;     /* by deadline, earliest first */
	uint64_t token;
	uint64_t deadline;
	int end;
};

struct pipe {
	struct pipe_end end[2];
	uint64_t maxsize;         /* messages waiting per end; 0 unbounded */
	bool duplex;              /* false: end 0 sends, end 1 receives */
	size_t bytes;             /* messages and hand-offs */
	struct handoff *handoffs;
	uint32_t nhandoffs;
	struct timer timer;       /* the first hand-off's deadline */
};

/* A pipe waiter's state; its end is w->n. */
enum { PW_RECV, PW_POLL, PW_SEND };

static uint64_t pipe_next_token;

static void pipe_timeout(struct waiter *);
static void pipe_left(struct waiter *);

static const struct waiter_ops pipe_waiter_ops = {
	.timeout = pipe_timeout,
	.gone = pipe_left,
};

static struct buf mbuf = BUF_INIT;

/* A connection's opens of both ends in one hold: h->n is end 0's count
 * in its low half, end 1's in its high half. */
#define PIPE_HELD(h, e) ((uint32_t)((h)->n >> (32 * (e))))
#define PIPE_HOLD_ONE(e) ((uint64_t)1 << (32 * (e)))

static struct pipe *
pipe_of(const struct object *o)
{
	struct pipe *p = o == NULL ? NULL : o->data;

	/* waiter_shutdown and waiter_object_deleted answer waiters behind
	 * our back: with none left, none is counted. */
	if (p != NULL && o->nwaiters == 0)
		p->end[0].nsenders = p->end[1].nsenders = 0;
	return p;
}

/* --- messages ----------------------------------------------------------- */

static void
pipe_push(struct pipe *p, int e, const uint8_t *bytes, size_t len)
{
	struct pipe_end *pe = &p->end[e];
	struct pmsg *m = xmalloc(sizeof *m + len);

	m->next = NULL;
	m->len = len;
	memcpy(m->data, bytes, len);
	if (pe->tail == NULL)
		pe->head = m;
	else
		pe->tail->next = m;
	pe->tail = m;
	pe->count++;
	p->bytes += sizeof *m + len;
}

static void
pipe_msg_free(struct pipe *p, struct pmsg *m)
{
	p->bytes -= sizeof *m + m->len;
	xfree(m);
}

/* The oldest message of end e, unlinked: the caller frees it. */
static struct pmsg *
pipe_pop(struct pipe *p, int e)
{
	struct pipe_end *pe = &p->end[e];
	struct pmsg *m = pe->head;

	pe->head = m->next;
	if (pe->head == NULL)
		pe->tail = NULL;
	pe->count--;
	return m;
}

static bool
pipe_has_room(const struct pipe *p, int e)
{
	return p->maxsize == 0 || p->end[e].count < p->maxsize;
}

/*
 * Answer req with end e's oldest message if its reply fits in what req's
 * connection can take now (its unread replies count): a recv never takes
 * a message it cannot deliver. false after answering LIMIT (the message
 * stays).
 */
static bool
pipe_deliver(struct pipe *p, int e, struct req *req)
{
	struct pmsg *m = p->end[e].head;

	if (!reply_fits_now(req, m->len))
		return false;
	m = pipe_pop(p, e);
	reply_raw(req, m->data, m->len);
	pipe_msg_free(p, m);
	return true;
}

/* --- answers ------------------------------------------------------------ */

static void
pipe_eof(struct req *req, const struct object *o, int e, bool here)
{
	reply_error(req, PERR_EOF, "end %d of pipe '%.*s' is closed", here ?
	    e : 1 - e, (int)o->namelen, o->name);
}

/* Answer w if an answer is due now, else false (it stays parked).
 * blocked[e]: a send at end e found no room in this pass, and no later
 * send at e may overtake it. */
static bool
pipe_answer(struct object *o, struct waiter *w, bool blocked[2])
{
	struct pipe *p = o->data;
	int e = (int)w->n, k = w->state;
	struct pipe_end *here = &p->end[e], *there = &p->end[1 - e];

	if (here->closed || (k == PW_SEND && there->closed)) {
		pipe_eof(&w->req, o, e, here->closed);
		return true;
	}
	switch (k) {
	case PW_RECV:
		if (here->count > 0) {
			/* An item is never handed to a peer that is gone (its
			 * close removes the waiter); LIMIT leaves it queued. */
			if (waiter_peer_gone(w))
				return false;
			pipe_deliver(p, e, &w->req);
			return true;
		}
		if (there->closed) {
			pipe_eof(&w->req, o, e, false);
			return true;
		}
		return false;
	case PW_POLL:
		if (here->count == 0 && !there->closed)
			return false;
		reply_bool(&w->req, true);
		return true;
	case PW_SEND:
		if (blocked[e] || !pipe_has_room(p, 1 - e)) {
			blocked[e] = true;
			return false;
		}
		if (waiter_peer_gone(w))
			return false;
		pipe_push(p, 1 - e, w->data, w->datalen);
		reply_nil(&w->req);
		return true;
	}
	return false;
}

/*
 * After p changed: answer every waiter that can be answered, in FIFO
 * order, until a pass answers nobody (a message taken makes room for a
 * send, a send brings a message). Never settles o.
 */
static void
pipe_pump(struct object *o)
{
	struct pipe *p = pipe_of(o);
	struct waiter *w, *next;
	bool moved, blocked[2];

	do {
		moved = false;
		blocked[0] = blocked[1] = false;
		for (w = waiter_first(o); w != NULL; w = next) {
			next = waiter_next(w);
			if (!pipe_answer(o, w, blocked))
				continue;
			if (w->state == PW_SEND)
				p->end[w->n].nsenders--;
			waiter_done(w);
			moved = true;
		}
	} while (moved);
}

/* --- ends: opening, closing, hand-offs ---------------------------------- */

/* End e of o closes for good: its messages go; waiters are answered. */
static void
pipe_close_end(struct object *o, int e)
{
	struct pipe *p = o->data;
	struct pipe_end *pe = &p->end[e];

	pe->opened = pe->closed = true;
	while (pe->count > 0)
		pipe_msg_free(p, pipe_pop(p, e));
	pipe_pump(o);
	/* Finished: it goes once nobody waits on it, explicit or not. */
	if (p->end[0].closed && p->end[1].closed)
		o->explicit = false;
}

/* Close end e if nothing keeps it open any more. */
static void
pipe_settle_end(struct object *o, int e)
{
	struct pipe_end *pe = &((struct pipe *)o->data)->end[e];

	if (pe->opened && !pe->closed && pe->holders == 0 &&
	    pe->handoffs == 0)
		pipe_close_end(o, e);
}

static void
pipe_rearm(struct pipe *p)
{
	if (p->handoffs != NULL)
		timer_arm(&p->timer, p->handoffs->deadline);
	else
		timer_disarm(&p->timer);
}

static void
pipe_handoff_free(struct pipe *p, struct handoff *ho)
{
	p->end[ho->end].handoffs--;
	p->nhandoffs--;
	p->bytes -= sizeof *ho;
	xfree(ho);
}

/* Hand-offs whose deadline passed: the ends they kept open may close. */
static void
pipe_handoffs_expire(struct timer *t, uint64_t now)
{
	struct pipe *p = (struct pipe *)((char *)t - offsetof(struct pipe,
	    timer));
	struct object *o = t->o;
	struct handoff *ho;

	while ((ho = p->handoffs) != NULL && ho->deadline <= now) {
		p->handoffs = ho->next;
		pipe_handoff_free(p, ho);
	}
	pipe_rearm(p);
	pipe_settle_end(o, 0);
	pipe_settle_end(o, 1);
}

/* --- waiters leaving ---------------------------------------------------- */

static void
pipe_timeout(struct waiter *w)
{
	struct object *o = w->req.obj;
	int e = (int)w->n, k = w->state;

	switch (k) {
	case PW_RECV:
		reply_error(&w->req, PERR_TIMEOUT, "no message at end %d of "
		    "pipe '%.*s'", e, (int)o->namelen, o->name);
		break;
	case PW_POLL:
		reply_bool(&w->req, false);
		break;
	case PW_SEND:
		pipe_of(o)->end[e].nsenders--;
		reply_error(&w->req, PERR_FULL, "end %d of pipe '%.*s' is "
		    "full", 1 - e, (int)o->namelen, o->name);
		break;
	}
	waiter_done(w);
	/* A send that gave up may have held back the sends behind it. */
	if (k == PW_SEND)
		pipe_pump(o);
}

static void
pipe_left(struct waiter *w)
{
	if (w->state != PW_SEND)
		return;
	pipe_of(w->req.obj)->end[w->n].nsenders--;
	pipe_pump(w->req.obj);
}

/* --- params ------------------------------------------------------------- */

/* Param 1, the end: 0 or 1. */
static bool
pipe_end_arg(struct req *req, int *e)
{
	uint64_t v;

	if (!req_uint_arg(req, 1, 0, 1, "end", &v))
		return false;
	*e = (int)v;
	return true;
}

/* A one-way pipe sends at end 0 and receives at end 1 (Pipe(False)). */
static bool
pipe_direction_ok(struct req *req, const struct pipe *p, int e, bool sends)
{
	if (p == NULL || p->duplex || e == (sends ? 0 : 1))
		return true;
	reply_error(req, PERR_BADARG, "%s: pipe '%.*s' is one-way: end %d "
	    "only %s", req->method->name, req_namelen(req), req_name(req), e,
	    sends ? "receives" : "sends");
	return false;
}

/* --- verbs -------------------------------------------------------------- */

static void
pipe_open(struct req *req)
{
	struct object *o = req->obj;
	struct pipe *p = pipe_of(o);
	struct handoff **pp, *ho;
	struct hold *h;
	uint64_t token = 0;
	int e;

	if (!pipe_end_arg(req, &e))
		return;
	if (req->argc > 2 && req->argv[2].type != MPV_NIL &&
	    !req_uint_arg(req, 2, 0, UINT64_MAX, "token", &token))
		return;
	if (p->end[e].closed) {
		pipe_eof(req, o, e, true);
		return;
	}
	h = hold_get(req->c, o);
	if (PIPE_HELD(h, e) == UINT32_MAX) {
		reply_error(req, PERR_LIMIT, "%s: this connection holds end %d "
		    "%u times", req->method->name, e, UINT32_MAX);
		return;
	}
	/* A token no longer pending (claimed, or past its deadline while
	 * the end stayed open) is no hindrance: the end is open. */
	for (pp = &p->handoffs; token != 0 && (ho = *pp) != NULL;
	    pp = &ho->next) {
		if (ho->token == token && ho->end == e) {
			*pp = ho->next;
			pipe_handoff_free(p, ho);
			pipe_rearm(p);
			break;
		}
	}
	h->n += PIPE_HOLD_ONE(e);
	p->end[e].holders++;
	p->end[e].opened = true;
	reply_nil(req);
}

static void
pipe_close(struct req *req)
{
	struct object *o = req->obj;
	struct pipe *p = pipe_of(o);
	struct pipe_end *pe;
	struct hold *h;
	int e;

	if (!pipe_end_arg(req, &e))
		return;
	pe = &p->end[e];
	h = hold_find(req->c, o);
	if (h != NULL && PIPE_HELD(h, e) > 0) {
		h->n -= PIPE_HOLD_ONE(e);
		if (h->n == 0)
			hold_drop(h);
		pe->holders--;
		pipe_settle_end(o, e);
	} else if (!pe->closed) {
		if (pe->holders != 0 || pe->handoffs != 0) {
			reply_error(req, PERR_NOTHELD, "%s: end %d of '%.*s' is "
			    "held by %llu other connection%s and %u hand-off%s: "
			    "it closes when they let it go", req->method->name,
			    e, req_namelen(req), req_name(req),
			    (unsigned long long)pe->holders,
			    pe->holders == 1 ? "" : "s", pe->handoffs,
			    pe->handoffs == 1 ? "" : "s");
			return;
		}
		pipe_close_end(o, e);
	}
	reply_nil(req);
}

static void
pipe_handoff(struct req *req)
{
	struct object *o = req->obj;
	struct pipe *p = pipe_of(o);
	struct handoff **pp, *ho;
	int64_t usec = -1;
	int e;

	if (!pipe_end_arg(req, &e))
		return;
	if (req->argc > 2 && req->argv[2].type != MPV_NIL) {
		if (!waiter_timeout_arg(req, 2, &usec))
			return;
		if (usec == 0) {
			reply_error(req, PERR_BADARG, "%s: a hand-off's timeout "
			    "must be more than 0", req->method->name);
			return;
		}
	}
	if (usec < 0)
		usec = req->argc > 2 && req->argv[2].type != MPV_NIL ?
		    INT64_MAX / 2 : (int64_t)PIPE_HANDOFF_USEC;
	if (p->end[e].closed) {
		pipe_eof(req, o, e, true);
		return;
	}
	if (p->nhandoffs >= PIPE_MAX_HANDOFFS) {
		reply_error(req, PERR_LIMIT, "%s: pipe '%.*s' has %d hand-offs "
		    "pending", req->method->name, req_namelen(req),
		    req_name(req), PIPE_MAX_HANDOFFS);
		return;
	}
	ho = xmalloc(sizeof *ho);
	ho->token = ++pipe_next_token;
	ho->deadline = now_usec() + (uint64_t)usec;
	ho->end = e;
	/* Usually the latest deadline: walk to its place from the start of
	 * a short list. */
	for (pp = &p->handoffs; *pp != NULL && (*pp)->deadline <= ho->deadline;
	    pp = &(*pp)->next)
		;
	ho->next = *pp;
	*pp = ho;
	p->nhandoffs++;
	p->bytes += sizeof *ho;
	p->end[e].handoffs++;
	p->end[e].opened = true;
	pipe_rearm(p);
	reply_uint(req, ho->token);
}

static void
pipe_send(struct req *req)
{
	struct object *o = req->obj;
	struct pipe *p = pipe_of(o);
	const uint8_t *bytes;
	struct waiter *w;
	int64_t usec;
	size_t n;
	int e;

	if (!pipe_end_arg(req, &e) || !waiter_timeout_arg(req, 3, &usec) ||
	    !pipe_direction_ok(req, p, e, true))
		return;
	if (p->end[e].closed || p->end[1 - e].closed) {
		pipe_eof(req, o, e, p->end[e].closed);
		return;
	}
	value_canon(&req->argv[2], &mbuf, &bytes, &n);
	if (p->end[e].nsenders == 0 && pipe_has_room(p, 1 - e)) {
		pipe_push(p, 1 - e, bytes, n);
		reply_nil(req);
		pipe_pump(o);
		return;
	}
	if (usec == 0) {
		reply_error(req, PERR_FULL, "end %d of pipe '%.*s' is full",
		    1 - e, req_namelen(req), req_name(req));
		return;
	}
	w = waiter_park(req, &pipe_waiter_ops, usec);
	w->state = PW_SEND;
	w->n = e;
	w->data = xmalloc(n);
	memcpy(w->data, bytes, n);
	w->datalen = n;
	p->end[e].nsenders++;
}

/* recv and poll: answer at once, or park (creating a missing pipe). */
static void
pipe_wait(struct req *req, int kind)
{
	struct object *o = req->obj;
	struct pipe *p = pipe_of(o);
	struct waiter *w;
	int64_t usec;
	int e;

	if (!pipe_end_arg(req, &e) || !waiter_timeout_arg(req, 2, &usec) ||
	    !pipe_direction_ok(req, p, e, false))
		return;
	if (p != NULL && p->end[e].closed) {
		pipe_eof(req, o, e, true);
		return;
	}
	if (p != NULL && p->end[e].count > 0) {
		if (kind == PW_POLL)
			reply_bool(req, true);
		else if (pipe_deliver(p, e, req))
			pipe_pump(o);
		return;
	}
	if (p != NULL && p->end[1 - e].closed) {
		if (kind == PW_POLL)
			reply_bool(req, true);
		else
			pipe_eof(req, o, e, false);
		return;
	}
	if (usec == 0) {
		if (kind == PW_POLL)
			reply_bool(req, false);
		else
			reply_error(req, PERR_TIMEOUT, "no message at end %d of "
			    "pipe '%.*s'", e, req_namelen(req), req_name(req));
		return;
	}
	w = waiter_park(req, &pipe_waiter_ops, usec);
	w->state = kind;
	w->n = e;
}

static void
pipe_recv(struct req *req)
{
	pipe_wait(req, PW_RECV);
}

static void
pipe_poll(struct req *req)
{
	pipe_wait(req, PW_POLL);
}

/* --- the type ----------------------------------------------------------- */

/* Options: {duplex: bool (true), maxsize: int (<= 0 unbounded)}. */
enum { PIPE_OPT_DUPLEX, PIPE_OPT_MAXSIZE };

static const struct opt pipe_opts[] = {
	[PIPE_OPT_DUPLEX] = { .key = "duplex", .kind = OPT_BOOL, .def = true },
	[PIPE_OPT_MAXSIZE] = { .key = "maxsize", .kind = OPT_SIZE, .def = 0 },
	{ .key = NULL }
};

static void
pipe_init(struct object *o, const struct optval *v)
{
	struct pipe *p = xcalloc(1, sizeof *p);

	p->duplex = v[PIPE_OPT_DUPLEX].u;
	p->maxsize = v[PIPE_OPT_MAXSIZE].u;
	timer_setup(&p->timer, o, pipe_handoffs_expire);
	o->data = p;
}

static bool
pipe_free_step(struct object *o, size_t budget)
{
	struct pipe *p = o->data;
	struct handoff *ho;
	int e;

	timer_disarm(&p->timer);
	while ((ho = p->handoffs) != NULL) {
		p->handoffs = ho->next;
		pipe_handoff_free(p, ho);
	}
	for (e = 0; e < 2; e++) {
		for (; budget > 0 && p->end[e].count > 0; budget--)
			pipe_msg_free(p, pipe_pop(p, e));
	}
	if (p->end[0].count > 0 || p->end[1].count > 0)
		return false;
	xfree(p);
	return true;
}

static bool
pipe_is_initial(const struct object *o)
{
	const struct pipe *p = o->data;
	const struct pipe_end *a = &p->end[0], *b = &p->end[1];

	return (a->closed && b->closed) || (!a->opened && !b->opened &&
	    a->count == 0 && b->count == 0);
}

static uint64_t
pipe_size(const struct object *o)
{
	const struct pipe *p = o->data;

	return p->end[0].count + p->end[1].count;
}

static size_t
pipe_mem(const struct object *o)
{
	const struct pipe *p = o->data;

	return sizeof *p + p->bytes;
}

/* h->c closed: its opens of either end are closed. */
static void
pipe_conn_gone(struct hold *h)
{
	struct object *o = h->o;
	struct pipe *p = o->data;
	int e;

	for (e = 0; e < 2; e++)
		p->end[e].holders -= PIPE_HELD(h, e);
	hold_drop(h);
	pipe_settle_end(o, 0);
	pipe_settle_end(o, 1);
}

static const struct method pipe_methods[] = {
	MPMGR_METHODS_PIPE(DISPATCH_ROW)
	DISPATCH_END
};

/* The ends a connection has open, with how many opens of each. */
static const char *
pipe_hold_text(const struct hold *h, char *buf, size_t len)
{
	uint32_t a = PIPE_HELD(h, 0), b = PIPE_HELD(h, 1);

	if (a != 0 && b != 0)
		snprintf(buf, len, "ends 0 (%u) and 1 (%u)", (unsigned)a,
		    (unsigned)b);
	else
		snprintf(buf, len, "end %d (%u)", a != 0 ? 0 : 1,
		    (unsigned)(a != 0 ? a : b));
	return buf;
}

const struct obj_type pipe_type = {
	.name = "pipe",
	.methods = pipe_methods,
	.opts = pipe_opts,
	.init = pipe_init,
	.free_step = pipe_free_step,
	.is_initial = pipe_is_initial,
	.size = pipe_size,
	.mem = pipe_mem,
	.conn_gone = pipe_conn_gone,
	.hold_text = pipe_hold_text,
	.jcode = JC_PIPE,
	.dropped = true,
	.nodump = "its messages and holders last only as long as their "
	    "connections (a restart drops pipes too)",
};
