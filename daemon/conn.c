/*
 * conn.c: client connections and the graceful stop.
 *
 * Owns every struct conn from accept to free, the ready list and the
 * graceful stop (server_stop asks for it through server.ev_stop). A
 * connection reads into its input buffer (capped at the message limit in
 * force plus one read), runs its
 * complete frames in order (the handshake here, every later request through
 * dispatch_request) and writes its output directly at the end of each read
 * callback or ready-list run, arming EV_WRITE only on EAGAIN. A connection
 * runs at most CONN_TURN_FRAMES requests, or until the coarse clock ticks,
 * per loop turn; with input left it goes on the `later` list, run from a
 * zero timer after the loop has polled the others.
 *
 * An idle authenticated connection holds its struct, its read event and
 * nothing else: its input and output buffers and its scanner's state are
 * lent from spares here for each turn and given back once empty (a frame
 * not all read yet keeps a scan state of its own), the write event is made
 * on the first EAGAIN, and the handshake deadline's timer goes at auth (a
 * closing connection that must linger makes one again).
 *
 * Promises to request handling (dispatch.c and below):
 * - dispatch_request runs only for authenticated connections, one request
 *   at a time, in the order they were sent; while a connection is parked
 *   only a sys.cancel of the parked request, at the head of its input,
 *   runs.
 * - the views in the struct msg given to dispatch_request point into the
 *   connection's input and live only during the call: a parked waiter
 *   copies what it keeps.
 * - a reply larger than the output limit is replaced by the LIMIT error
 *   here (a safety net: the readers that know their size check it first,
 *   reply.h's reply_fits and reply_fits_now).
 * - nothing is written to a connection's socket while a request of its
 *   runs: its reply is the last bytes of its output.
 * - once a close is decided, dispatch_conn_closed runs at once (before any
 *   other request), and the struct is freed only by the ready event, when
 *   nothing is up the stack.
 *
 * With a journal, output waits while records made this turn are not
 * written (journal_holds_output): a connection with output to write goes
 * on the ready list instead, without running it, and the journal's flush
 * (conn_journal_flushed) runs the list, which may be some loop passes
 * later under --fsync always (journal.c gathers a sync's requests); a
 * closing connection's last bytes go then too.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../proto/auth.h"
#include "../proto/mpmgr_methods.h"
#include "conn.h"
#include "dispatch.h"
#include "journal.h"
#include "log.h"
#include "mem.h"
#include "monitor.h"
#include "mpmgrd.h"
#include "notify.h"
#include "prefetch.h"
#include "waiter.h"

/* Private flags, above the ones mpmgrd.h shares. */
#define CONN_HELD    0x100 /* parked and the next frame is not sys.cancel:
			      look at the input again only once woken */
#define CONN_RDPAUSE 0x200 /* not reading: input at its cap */
#define CONN_LINGER  0x400 /* closed, still writing its last bytes */
#define CONN_LATER   0x1000 /* on `later`: used its turn, runs again next */

#define CONN_READ_CHUNK (16 * 1024)   /* least room offered to one read() */
#define CONN_IN_KEEP (64 * 1024)      /* the spare input buffer's ceiling */
#define CONN_OUT_KEEP (16 * 1024)     /* the spare output buffer's ceiling */
#define CONN_LINGER_MSEC 1000         /* last bytes of a closed connection */
/* Output a connection may hold past the limit before it is dropped: room
 * for the LIMIT errors that refuse replies which do not fit. */
#define CONN_OUT_SLACK (64 * 1024)
#define CONN_STOP_ROUNDS 3            /* shutdown answers before giving up */
/*
 * One connection's share of a loop turn: after this many requests, or once
 * the kernel's coarse clock has ticked (CLOCK_MONOTONIC_COARSE: 4 ms at
 * HZ=250, 3.5 ns a read where the fine clock costs 30), its output is
 * written and the others run before it goes on (the request in progress
 * always finishes).
 */
#define CONN_TURN_FRAMES 64
/* Connections past --max-clients kept for ADMIN peers (root, the
 * daemon's own uid), so that they can still look and shut down. */
#define CONN_ADMIN_SLOTS 4
#define CONN_CANCEL_METHOD MPMGR_METHOD_NAME(sys, cancel)

enum {
	CONN_READ_DATA,
	CONN_READ_AGAIN,
	CONN_READ_FULL,
	CONN_READ_EOF,
	CONN_READ_ERROR
};

static struct event *ev_ready;     /* runs server.ready, then frees the dead */
/* closed, writing their last bytes */
static struct conn_list lingering = TAILQ_HEAD_INITIALIZER(lingering);
/* closed, freed by the next ev_ready */
static struct conn_list graveyard = TAILQ_HEAD_INITIALIZER(graveyard);
/* used their turn with input left */
static struct conn_list later = TAILQ_HEAD_INITIALIZER(later);
static struct event *ev_later;     /* runs `later` after the loop polls */
/*
 * The input buffer of a connection with nothing buffered is lent from here
 * for each read and given back once its frames have run, and the output
 * buffer for each turn until all is written, so idle connections hold no
 * buffer memory and a request costs no allocation.
 */
static struct buf spare_in;
static struct buf spare_out;
/* The scan state of the frames that are all there when read (fresh
 * between uses); one that is not gets its own (conn_run). */
static struct scan_state spare_scan;
/*
 * A frame not all read yet: its own scan state (c->scan points at it),
 * and since when the connection owes the rest. Every one is on
 * `partials`, oldest first, and one timer closes the connections whose
 * frame has waited longer than server.frame_timeout_usec.
 */
struct partial {
	struct scan_state scan;   /* first: c->scan is the struct's address */
	struct conn *c;
	uint64_t since;
	TAILQ_ENTRY(partial) link;
};
static TAILQ_HEAD(, partial) partials = TAILQ_HEAD_INITIALIZER(partials);
static struct event *ev_partial;
/*
 * How many connections in the handshake each uid has, for choosing whom
 * to drop past --max-unauth (conn_unauth_victim). Few entries: one per
 * user with a handshake under way.
 */
static struct unauth_uid {
	uid_t uid;
	size_t n;
} *unauth_uids;
static size_t unauth_nuids, unauth_cap;
static enum { STOP_NONE, STOP_FLUSHING, STOP_DONE } stop_phase;

static void conn_close(struct conn *, bool);
static void conn_partial_cb(evutil_socket_t, short, void *);
static void conn_timer_cb(evutil_socket_t, short, void *);
static void conn_read_cb(evutil_socket_t, short, void *);
static int conn_write(struct conn *);
static void conn_write_cb(evutil_socket_t, short, void *);
static void conn_hup_cb(evutil_socket_t, short, void *);
static void conn_hup_stop(struct conn *);

/* c's buffers, as counted in server.client_memory: brought up to date. */
static void
conn_mem_update(struct conn *c)
{
	size_t now = c->in.cap + c->out.cap +
	    (c->scan != NULL ? sizeof(struct partial) : 0);

	server.client_memory += now - c->bufmem;
	c->bufmem = now;
}

/* c's frame is not all there: it owes the rest from now on. */
static void
conn_partial_begin(struct conn *c)
{
	struct partial *p = xmalloc(sizeof *p);
	struct timeval tv;

	p->scan = spare_scan;
	scan_init(&spare_scan);
	p->c = c;
	p->since = now_usec();
	c->scan = &p->scan;
	if (TAILQ_EMPTY(&partials) && ev_partial != NULL &&
	    server.frame_timeout_usec != 0) {
		tv.tv_sec = (time_t)(server.frame_timeout_usec / 1000000);
		tv.tv_usec = (suseconds_t)(server.frame_timeout_usec % 1000000);
		evtimer_add(ev_partial, &tv);
	}
	TAILQ_INSERT_TAIL(&partials, p, link);
}

/* c's partial frame is complete, or c closes. Idempotent. */
static void
conn_partial_end(struct conn *c)
{
	struct partial *p = (struct partial *)(void *)c->scan;

	if (p == NULL)
		return;
	TAILQ_REMOVE(&partials, p, link);
	xfree(p);
	c->scan = NULL;
}

static size_t
conn_limit(const struct conn *c)
{
	return c->state == CONN_READY ? server.max_message :
	    MPMGR_PREAUTH_MAX_MESSAGE;
}

/* Input beyond one message: room for a read to complete the frame. */
static size_t
conn_cap(const struct conn *c)
{
	return conn_limit(c) + CONN_READ_CHUNK;
}

/* Put c on the ready list, if not there already: true when it was put. */
static bool
conn_list_ready(struct conn *c)
{
	/* One on `later` runs next turn anyway, output and all. */
	if (c->flags & (CONN_QUEUED | CONN_CLOSING | CONN_LATER))
		return false;
	c->flags |= CONN_QUEUED;
	TAILQ_INSERT_TAIL(&server.ready, c, qlink);
	return true;
}

/* ...and have the ready event run it. */
static void
conn_queue(struct conn *c)
{
	if (conn_list_ready(c) && ev_ready != NULL)
		event_active(ev_ready, EV_TIMEOUT, 0);
}

void
conn_wake(struct conn *c)
{
	uint8_t i;

	c->flags &= ~(CONN_PARKED | CONN_HELD);
	/* The parked request's reply is out: now the cancels that missed it
	 * (conn_cancel_kind). */
	for (i = 0; i < c->ncancel_miss; i++) {
		msg_pack_result(&c->pk, c->cancel_miss[i]);
		msgpack_pack_false(&c->pk);
	}
	c->ncancel_miss = 0;
	conn_queue(c);
}

void
conn_push(struct conn *c)
{
	conn_queue(c);
}

void
conn_kill(struct conn *c)
{
	log_info("client %" PRIu64 " (pid %d, %s) killed", c->id, (int)c->pid,
	    c->comm[0] != '\0' ? c->comm : "?");
	conn_close(c, false);
}

/*
 * What c's socket says of its peer now, without waiting: with rdhup, a
 * hang-up of either kind (closed, or only its side shut: POLLRDHUP);
 * without, only a peer that has closed its socket (POLLHUP) or an error.
 */
static bool
conn_hup_poll(const struct conn *c, bool rdhup)
{
	struct pollfd pfd;

	pfd.fd = c->fd;
	pfd.events = rdhup ? POLLRDHUP : 0;
	pfd.revents = 0;
	return poll(&pfd, 1, 0) == 1 &&
	    (pfd.revents & (pfd.events | POLLHUP | POLLERR));
}

bool
conn_peer_gone(struct conn *c)
{
	if (c->flags & (CONN_CLOSING | CONN_EOF))
		return true;
	if (conn_hup_poll(c, true)) {
		/* The ready run closes it: the caller may be up our stack. */
		c->flags |= CONN_EOF;
		conn_queue(c);
		return true;
	}
	return false;
}

static void
conn_in_borrow(struct conn *c)
{
	struct buf t;

	if (buf_used(&c->in) == 0 && c->in.cap < spare_in.cap) {
		t = spare_in;
		spare_in = c->in;
		c->in = t;
		buf_reset(&c->in);
	}
}

/* An emptied buffer *b goes to *spare if it is larger, else is freed. */
static void
conn_buf_return(struct buf *b, struct buf *spare, size_t keep)
{
	struct buf t;

	if (buf_used(b) > 0 || b->data == NULL)
		return;
	buf_shrink(b, keep);
	if (b->cap > spare->cap) {
		t = *spare;
		*spare = *b;
		*b = t;
	}
	buf_free(b);
}

static void
conn_in_return(struct conn *c)
{
	conn_buf_return(&c->in, &spare_in, CONN_IN_KEEP);
}

/* Replies of the turn to come go into the spare output buffer. */
static void
conn_out_borrow(struct conn *c)
{
	struct buf t;

	if (buf_used(&c->out) == 0 && c->out.cap < spare_out.cap) {
		t = spare_out;
		spare_out = c->out;
		c->out = t;
		buf_reset(&c->out);
	}
}

/*
 * c's peer is gone (a reply met EPIPE or ECONNRESET, or its socket says so
 * at EOF) but what it sent before it went may still be unread: like a
 * pipe's writer that exits, its requests run to the end of its input
 * (conn_service closes at its EOF), their replies go nowhere, and a
 * destructive read takes nothing (reply_room: no room), since what it took
 * could never be delivered. A parked request dies with its peer at once,
 * as conn_hup_cb does it.
 */
static void
conn_deafen(struct conn *c)
{
	log_debug("client %" PRIu64 ": gone; runs what it sent", c->id);
	c->flags |= CONN_DEAF;
	buf_reset(&c->out);
	if (c->flags & CONN_PARKED) {
		c->flags |= CONN_EOF;
		conn_queue(c);
	}
}

/*
 * Write c's output until done or EAGAIN. 0 all written, 1 some left (EV_WRITE
 * armed), -1 the peer is gone (the caller closes).
 */
static int
conn_write(struct conn *c)
{
	ssize_t n;

	if (journal_holds_output() && buf_used(&c->out) > 0) {
		/* on the ready list, run once the journal has flushed
		 * (conn_journal_flushed) */
		journal_count_waiting(&c->journal_mark);
		(void)conn_list_ready(c);
		return 1;
	}
	if (c->flags & CONN_DEAF)
		buf_reset(&c->out);
	while (buf_used(&c->out) > 0) {
		n = send(c->fd, buf_head(&c->out), buf_used(&c->out),
		    MSG_NOSIGNAL);
		if (n > 0) {
			buf_consume(&c->out, (size_t)n);
			c->bytes_out += (uint64_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EPIPE || errno == ECONNRESET) &&
		    !(c->flags & CONN_CLOSING)) {
			conn_deafen(c);
			break;
		}
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (c->ev_write == NULL && (c->ev_write =
			    event_new(server.base, c->fd, EV_WRITE | EV_PERSIST,
			    conn_write_cb, c)) == NULL)
				fatalx("%s: event_new failed", __func__);
			if (!(c->flags & CONN_WANTWRITE)) {
				c->flags |= CONN_WANTWRITE;
				event_add(c->ev_write, NULL);
			}
			return 1;
		}
		log_debug("%s: client %" PRIu64 ": %s", __func__, c->id,
		    n == 0 ? "wrote nothing" : strerror(errno));
		return -1;
	}
	if (c->flags & CONN_WANTWRITE) {
		c->flags &= ~CONN_WANTWRITE;
		event_del(c->ev_write);
	}
	conn_buf_return(&c->out, &spare_out, CONN_OUT_KEEP);
	conn_mem_update(c);
	return 0;
}

static void
conn_stop_check(void)
{
	if (stop_phase != STOP_FLUSHING || !TAILQ_EMPTY(&lingering))
		return;
	stop_phase = STOP_DONE;
	listen_unlink();
	log_info("stopped");
	event_base_loopbreak(server.base);
}

/* Hand c to the ready event, which frees it. */
static void
conn_bury(struct conn *c)
{
	if (c->flags & CONN_LINGER) {
		c->flags &= ~CONN_LINGER;
		TAILQ_REMOVE(&lingering, c, link);
	}
	event_del(c->ev_read);
	if (c->ev_write != NULL)
		event_del(c->ev_write);
	if (c->ev_timer != NULL)
		event_del(c->ev_timer);
	TAILQ_INSERT_TAIL(&graveyard, c, link);
	if (ev_ready != NULL)
		event_active(ev_ready, EV_TIMEOUT, 0);
	conn_stop_check();
}

static void
conn_free(struct conn *c)
{
	close(c->fd);
	event_free(c->ev_read);
	if (c->ev_write != NULL)
		event_free(c->ev_write);
	if (c->ev_timer != NULL)
		event_free(c->ev_timer);
	conn_hup_stop(c);
	buf_free(&c->in);
	buf_free(&c->out);
	conn_partial_end(c);
	server.client_memory -= c->bufmem;
	xfree(c);
}

static void
conn_reap(void)
{
	struct conn *c;

	while ((c = TAILQ_FIRST(&graveyard)) != NULL) {
		TAILQ_REMOVE(&graveyard, c, link);
		conn_free(c);
	}
}

/* No room for c among the authenticated: ADMIN peers have a few more. */
static bool
conn_full(const struct conn *c)
{
	size_t max = server.max_clients;

	if (c->uid == 0 || c->uid == server.uid)
		max += CONN_ADMIN_SLOTS;
	return server.nclients >= max;
}

static struct unauth_uid *
conn_unauth_uid(uid_t uid)
{
	size_t i;

	for (i = 0; i < unauth_nuids; i++) {
		if (unauth_uids[i].uid == uid)
			return &unauth_uids[i];
	}
	return NULL;
}

/* c enters the handshake. */
static void
conn_unauth_add(struct conn *c)
{
	struct unauth_uid *u = conn_unauth_uid(c->uid);

	if (u == NULL) {
		if (unauth_nuids == unauth_cap) {
			unauth_cap = unauth_cap == 0 ? 8 : 2 * unauth_cap;
			unauth_uids = xrealloc(unauth_uids,
			    unauth_cap * sizeof *unauth_uids);
		}
		u = &unauth_uids[unauth_nuids++];
		u->uid = c->uid;
		u->n = 0;
	}
	u->n++;
	TAILQ_INSERT_TAIL(&server.unauth, c, link);
	server.nunauth++;
}

/* c leaves the handshake (authenticated, or closed). */
static void
conn_unauth_remove(struct conn *c)
{
	struct unauth_uid *u = conn_unauth_uid(c->uid);

	if (u == NULL || u->n == 0)
		fatalx("%s: client %" PRIu64 " not counted", __func__, c->id);
	if (--u->n == 0)
		*u = unauth_uids[--unauth_nuids];
	TAILQ_REMOVE(&server.unauth, c, link);
	server.nunauth--;
}

/*
 * Past --max-unauth: the oldest handshake of the uid that has the most
 * (the oldest of all on a tie), so that a flood of fresh handshakes from
 * one user cannot push out another's client between its connect and its
 * proof.
 */
static struct conn *
conn_unauth_victim(void)
{
	struct conn *c;
	size_t i, most = 0;

	for (i = 0; i < unauth_nuids; i++) {
		if (unauth_uids[i].n > most)
			most = unauth_uids[i].n;
	}
	TAILQ_FOREACH(c, &server.unauth, link) {
		if (conn_unauth_uid(c->uid)->n == most)
			return c;
	}
	fatalx("%s: %zu in the handshake, none found", __func__,
	    server.nunauth);
}

/*
 * Decide to close c: it leaves the server's lists and dispatch forgets it
 * now; with flush, what it has in its output is still written (for at most
 * CONN_LINGER_MSEC) before the socket closes.
 */
static void
conn_close(struct conn *c, bool flush)
{
	struct timeval tv = { 0, CONN_LINGER_MSEC * 1000 };

	if (c->flags & CONN_CLOSING)
		return;
	c->flags |= CONN_CLOSING;
	if (c->flags & CONN_RDPAUSE) {
		c->flags &= ~CONN_RDPAUSE;
		server.npaused--;
	}
	if (c->flags & CONN_QUEUED) {
		c->flags &= ~CONN_QUEUED;
		TAILQ_REMOVE(&server.ready, c, qlink);
	}
	if (c->flags & CONN_LATER) {
		c->flags &= ~CONN_LATER;
		TAILQ_REMOVE(&later, c, qlink);
	}
	if (c->state == CONN_READY) {
		TAILQ_REMOVE(&server.clients, c, link);
		server.nclients--;
		monitor_remove(c);
		dispatch_conn_closed(c);
	} else
		conn_unauth_remove(c);
	log_debug("client %" PRIu64 " (pid %d) closed after %" PRIu64
	    " requests", c->id, (int)c->pid, c->ops);
	event_del(c->ev_read);
	if (c->ev_timer != NULL)
		event_del(c->ev_timer);
	/* (freed with c: this may run in its own callback) */
	if (c->ev_hup != NULL)
		event_del(c->ev_hup);
	conn_partial_end(c);
	buf_reset(&c->in);
	conn_in_return(c);
	if (flush && conn_write(c) == 1) {
		if (c->ev_timer == NULL &&
		    (c->ev_timer = evtimer_new(server.base, conn_timer_cb,
		    c)) == NULL)
			fatalx("%s: evtimer_new failed", __func__);
		c->flags |= CONN_LINGER;
		TAILQ_INSERT_TAIL(&lingering, c, link);
		evtimer_add(c->ev_timer, &tv);
		conn_mem_update(c);
		return;
	}
	/* Nothing more is written: its memory goes now, not when freed. */
	buf_free(&c->out);
	conn_mem_update(c);
	conn_bury(c);
}

/*
 * Past --max-client-memory: drop the clients whose buffers hold the most,
 * largest first, until all of them fit (Redis 7's maxmemory-clients).
 * Runs with nothing of theirs up the stack. False when c itself went.
 */
static bool
conn_mem_check(struct conn *c)
{
	struct conn *x, *big;
	bool alive = true;

	while (server.max_client_memory != 0 &&
	    server.client_memory > server.max_client_memory) {
		big = NULL;
		TAILQ_FOREACH(x, &server.clients, link) {
			if (big == NULL || x->bufmem > big->bufmem)
				big = x;
		}
		/* What is left is in the handshake or lingering: bounded. */
		if (big == NULL || big->bufmem == 0)
			break;
		log_info("client %" PRIu64 " (pid %d) dropped: its buffers "
		    "hold %zu bytes, the most when all clients' pass "
		    "--max-client-memory %zu", big->id, (int)big->pid,
		    big->bufmem, server.max_client_memory);
		if (big == c)
			alive = false;
		conn_close(big, false);
	}
	return alive;
}

/* Answer a fatal protocol error (to m's msgid when it has one) and close. */
static void
conn_fail(struct conn *c, const struct msg *m, int code, const char *text)
{
	log_info("client %" PRIu64 " (pid %d): %s: %s; closing", c->id,
	    (int)c->pid, proto_err_name(code), text);
	if (m != NULL && m->has_msgid)
		msg_pack_error(&c->pk, m->msgid, code, text);
	else
		msg_pack_error_notification(&c->pk, code, text);
	conn_close(c, true);
}

/*
 * Output past the limit: write what the peer takes now, and drop it if that
 * is not enough. False when c was closed.
 */
static bool
conn_out_ok(struct conn *c)
{
	if (buf_used(&c->out) <= server.output_limit + CONN_OUT_SLACK)
		return true;
	/* Writing out is the way down: the journal goes first. */
	journal_flush_now();
	if (conn_write(c) == -1) {
		conn_close(c, false);
		return false;
	}
	if (buf_used(&c->out) <= server.output_limit + CONN_OUT_SLACK)
		return true;
	log_info("client %" PRIu64 " (pid %d) dropped: output buffer over %zu"
	    " bytes", c->id, (int)c->pid, server.output_limit);
	conn_close(c, false);
	return false;
}

/* The one request accepted before authentication. */
static void
conn_auth(struct conn *c, const struct msg *m, bool wellformed)
{
	struct mpv version, proof, nc;
	struct mpv_iter it;
	uint8_t mac[MPMGR_MAC_LEN];
	char text[96];
	bool ok;

	if (!wellformed || m->kind != MSG_REQUEST ||
	    !mpv_str_eq(&m->method, MPMGR_METHOD_AUTH)) {
		conn_fail(c, m, PERR_AUTH, "authenticate first");
		return;
	}
	mpv_iter_init(&it, &m->params);
	if (!mpv_iter_next(&it, &version) || version.type != MPV_UINT) {
		conn_fail(c, m, PERR_AUTH, "malformed auth request: expected "
		    "[version, proof, nonce]");
		return;
	}
	if (version.v.u != MPMGR_PROTO_VERSION) {
		snprintf(text, sizeof text, "protocol version %" PRIu64
		    " not supported (server speaks %d)", version.v.u,
		    MPMGR_PROTO_VERSION);
		conn_fail(c, m, PERR_AUTH, text);
		return;
	}
	if (m->params.len != 3 || !mpv_iter_next(&it, &proof) ||
	    proof.type != MPV_BIN || !mpv_iter_next(&it, &nc) ||
	    nc.type != MPV_BIN || nc.len != MPMGR_NONCE_LEN) {
		conn_fail(c, m, PERR_AUTH, "malformed auth request: expected "
		    "[version, proof, nonce]");
		return;
	}
	auth_client_proof(server.key, server.keylen, c->ns, nc.ptr, mac);
	ok = auth_equal(mac, sizeof mac, proof.ptr, proof.len);
	if (!ok) {
		conn_fail(c, m, PERR_AUTH, "wrong authkey");
		return;
	}
	if (conn_full(c)) {
		snprintf(text, sizeof text, "too many clients (max %zu)",
		    server.max_clients);
		conn_fail(c, m, PERR_LIMIT, text);
		return;
	}
	conn_unauth_remove(c);
	TAILQ_INSERT_TAIL(&server.clients, c, link);
	server.nclients++;
	c->state = CONN_READY;
	event_free(c->ev_timer);
	c->ev_timer = NULL;
	auth_server_proof(server.key, server.keylen, nc.ptr, c->ns, mac);
	msg_pack_result(&c->pk, m->msgid);
	msgpack_pack_bin(&c->pk, sizeof mac);
	msgpack_pack_bin_body(&c->pk, mac, sizeof mac);
	log_debug("client %" PRIu64 " (pid %d, uid %u) authenticated", c->id,
	    (int)c->pid, (unsigned)c->uid);
}

/* Request m of c, as a line to every other watcher (monitor.c). Out of
 * line and cold: a request nobody watches pays the test of
 * server.nmonitors, nothing more. */
static void __attribute__((noinline, cold))
conn_monitor(struct conn *c, const struct msg *m)
{
	struct conn *w;

	monitor_render(c, m, dispatch_lookup((const char *)m->method.ptr,
	    m->method.len));
	TAILQ_FOREACH(w, &server.monitors, mlink) {
		if (w != c && monitor_give(w))
			conn_queue(w);
	}
}

static void
conn_request(struct conn *c, const struct msg *m)
{
	size_t before = buf_used(&c->out), reply;
	char text[96];

	if (server.nmonitors != 0)
		conn_monitor(c, m);
	/* dispatch_request counts server.ops and c->ops. */
	if (dispatch_request(c, m) == DISPATCH_PARKED) {
		c->flags |= CONN_PARKED;
		return;
	}
	/* The reply is the last bytes of out (packing may have compacted
	 * it: cut from the end). */
	reply = buf_used(&c->out) - before;
	if (reply > server.output_limit) {
		c->out.len -= reply;
		snprintf(text, sizeof text, "reply of %zu bytes exceeds the "
		    "output limit (%zu)", reply, server.output_limit);
		msg_pack_error(&c->pk, m->msgid, PERR_LIMIT, text);
	}
	conn_out_ok(c);
}

static void
conn_frame(struct conn *c, const struct msg *m, bool wellformed,
    const char *why)
{
	char text[160];

	if (c->state == CONN_HANDSHAKE) {
		conn_auth(c, m, wellformed);
		return;
	}
	if (!wellformed) {
		snprintf(text, sizeof text, "malformed message: %s", why);
		conn_fail(c, m, PERR_BADARG, text);
		return;
	}
	if (m->kind != MSG_REQUEST) {
		conn_fail(c, m, PERR_BADARG, m->kind == MSG_RESPONSE ?
		    "a client sends requests, not responses" :
		    "a client sends requests, not notifications");
		return;
	}
	conn_request(c, m);
}

/*
 * While c is parked, the one request that runs is sys.cancel (DESIGN.md).
 * One that targets the parked request runs at once: that request answers
 * TIMEOUT, then the cancel answers true. One that misses (its target was
 * answered already: the client raced the reply) is consumed and answered
 * false right after the parked request's reply (conn_wake), so replies
 * keep request order and a miss never blocks a cancel behind it.
 */
enum { CANCEL_NONE, CANCEL_PARKED, CANCEL_MISS };

static int
conn_cancel_kind(const struct conn *c, const struct msg *m)
{
	struct mpv_iter it;
	struct mpv id;

	if (m->kind != MSG_REQUEST || c->parked == NULL ||
	    !mpv_str_eq(&m->method, CONN_CANCEL_METHOD) || m->params.len != 1)
		return CANCEL_NONE;
	mpv_iter_init(&it, &m->params);
	mpv_iter_next(&it, &id);
	if (id.type != MPV_UINT)
		return CANCEL_NONE;
	return id.v.u == c->parked->req.msgid ? CANCEL_PARKED : CANCEL_MISS;
}

/* The coarse clock, for turns: it changes once a tick. */
static uint64_t
conn_tick(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

/*
 * The frame at the head of c's input: true and *flen, or false after
 * keeping a partial frame's scan state (its deadline runs from now:
 * conn_partial_begin) or failing c on a bad one.
 */
static bool
conn_scan(struct conn *c, size_t *flen)
{
	const char *why;
	char text[160];
	int r;

	r = scan_frame(c->scan != NULL ? c->scan : &spare_scan,
	    buf_head(&c->in), buf_used(&c->in), conn_limit(c), flen, &why);
	if (r == SCAN_MORE) {
		/* the rest comes in a later read: keep where it is */
		if (c->scan == NULL)
			conn_partial_begin(c);
		return false;
	}
	if (c->scan != NULL)
		conn_partial_end(c);
	else if (r != SCAN_FRAME)
		scan_init(&spare_scan);
	if (r == SCAN_BAD) {
		snprintf(text, sizeof text, "malformed message: %s", why);
		conn_fail(c, NULL, PERR_BADARG, text);
		return false;
	}
	if (r == SCAN_TOOBIG) {
		snprintf(text, sizeof text, "message larger than %zu bytes",
		    conn_limit(c));
		conn_fail(c, NULL, PERR_TOOBIG, text);
		return false;
	}
	return true;
}

/*
 * Requests taken apart ahead of running them (conn_ahead), or, when the
 * first of a batch had nothing worth prefetching, how many more frames to
 * run one by one before trying again.
 */
struct conn_ahead {
	unsigned n, next, skip;
	size_t flen[PREFETCH_MAX - 1];
	struct msg m[PREFETCH_MAX - 1];
};

/*
 * When head (flen bytes at the head of c's input) makes a lookup worth
 * prefetching (prefetch.c), the whole, well-formed requests that follow
 * it are taken apart into a, up to PREFETCH_MAX with head, and what they
 * all will look up is prefetched together. It stops at the first frame
 * that is not all there or not a request: conn_run meets that one in
 * turn, as it would have.
 */
static void
conn_ahead(struct conn *c, struct conn_ahead *a, const struct msg *head,
    size_t flen)
{
	struct prefetch_batch pb;
	struct scan_state st;
	const uint8_t *p = buf_head(&c->in) + flen;
	size_t left = buf_used(&c->in) - flen, len;
	const char *why;

	a->n = a->next = 0;
	if (!prefetch_begin(&pb, c, head)) {
		a->skip = PREFETCH_MAX - 1;
		return;
	}
	scan_init(&st);
	while (a->n < PREFETCH_MAX - 1 && left > 0 &&
	    scan_frame(&st, p, left, conn_limit(c), &len, &why) == SCAN_FRAME &&
	    msg_parse_frame(p, len, &a->m[a->n], &why) == 0 &&
	    a->m[a->n].kind == MSG_REQUEST) {
		prefetch_add(&pb, &a->m[a->n]);
		a->flen[a->n++] = len;
		p += len;
		left -= len;
	}
	prefetch_run(&pb);
}

/*
 * Run c's complete frames until its input runs dry, it parks or closes,
 * or (with budget) it has had its share of the turn: true then, when
 * frames may be left to run.
 */
static bool
conn_run(struct conn *c, bool budget)
{
	struct conn_ahead ahead;
	struct msg m;
	const struct msg *mp;
	const char *why = NULL;
	size_t flen;
	bool wellformed;
	unsigned frames = 0;
	uint64_t start = budget ? conn_tick() : 0;

	conn_out_borrow(c);
	ahead.n = ahead.next = ahead.skip = 0;
	while (!(c->flags & (CONN_CLOSING | CONN_HELD)) &&
	    buf_used(&c->in) > 0) {
		if (ahead.next < ahead.n) {
			mp = &ahead.m[ahead.next];
			flen = ahead.flen[ahead.next++];
			wellformed = true;
		} else if (!conn_scan(c, &flen))
			return false;
		else {
			wellformed = msg_parse_frame(buf_head(&c->in), flen,
			    &m, &why) == 0;
			mp = &m;
			if (ahead.skip > 0)
				ahead.skip--;
			else if (wellformed && c->state == CONN_READY &&
			    !(c->flags & CONN_PARKED) &&
			    buf_used(&c->in) > flen)
				conn_ahead(c, &ahead, &m, flen);
		}
		if (c->flags & CONN_PARKED) {
			int kind = wellformed ? conn_cancel_kind(c, mp) :
			    CANCEL_NONE;

			if (kind == CANCEL_MISS &&
			    c->ncancel_miss < MPMGR_MAX_CANCELS) {
				c->cancel_miss[c->ncancel_miss++] = mp->msgid;
				server.ops++;
				c->ops++;
				buf_consume(&c->in, flen);
				continue;
			}
			if (kind != CANCEL_PARKED) {
				c->flags |= CONN_HELD;
				return false;
			}
		}
		conn_frame(c, mp, wellformed, why);
		if (c->flags & CONN_CLOSING)
			return false;
		buf_consume(&c->in, flen);
		if (budget && (++frames >= CONN_TURN_FRAMES ||
		    conn_tick() != start) && buf_used(&c->in) > 0)
			return true;
	}
	return false;
}

/* Read once into c->in. One of CONN_READ_*. */
static int
conn_read(struct conn *c)
{
	size_t cap = conn_cap(c), used, want;
	ssize_t n;

	conn_in_borrow(c);
	used = buf_used(&c->in);
	if (used >= cap)
		return CONN_READ_FULL;
	want = cap - used;
	if (buf_reserve(&c->in, want < CONN_READ_CHUNK ? want :
	    CONN_READ_CHUNK) == -1)
		fatalx("%s: out of memory", __func__);
	if (want > buf_room(&c->in))
		want = buf_room(&c->in);
	n = read(c->fd, buf_tail(&c->in), want);
	if (n > 0) {
		c->in.len += (size_t)n;
		c->bytes_in += (uint64_t)n;
		c->last_usec = now_usec();
		return CONN_READ_DATA;
	}
	/* After the last byte its peer sent: a reset is an EOF whose peer
	 * left replies unread (af_unix reports the error only once the queue
	 * is empty); a plain EOF is a peer gone (hang-up both ways) or one
	 * that only shut its side and still reads. */
	if (n == 0 || errno == ECONNRESET) {
		if (n != 0 || conn_hup_poll(c, false))
			conn_deafen(c);
		return CONN_READ_EOF;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return CONN_READ_AGAIN;
	log_debug("%s: client %" PRIu64 ": %s", __func__, c->id,
	    strerror(errno));
	return CONN_READ_ERROR;
}

/*
 * Watch c's socket for its peer's hang-up alone, on a dup of its fd,
 * edge-triggered. Edges: the unread data behind the hang-up must not wake
 * the loop again and again. A dup: libevent wants every event of one fd
 * edge-triggered or none, and ev_write (armed while output is pending)
 * is not. EV_CLOSED alone sees a clean close only: a peer that goes with
 * replies unread leaves an error on the socket (EPOLLERR, and a Unix
 * socket's peer close is EPOLLHUP too), which libevent 2.1 reports as
 * EV_READ | EV_WRITE, never EV_CLOSED; so EV_READ too, and conn_hup_cb
 * looks at the socket to tell a hang-up from more data. The descriptors
 * are in main.c's budget (main_raise_nofile); when none is left after
 * all, the hang-up is seen when the parked request is answered.
 */
static void
conn_hup_start(struct conn *c)
{
	int fd;

	if ((fd = fcntl(c->fd, F_DUPFD_CLOEXEC, 0)) == -1) {
		log_warn("%s: client %" PRIu64 ": its hang-up is seen only "
		    "once its parked request is answered", __func__, c->id);
		return;
	}
	c->ev_hup = event_new(server.base, fd, EV_READ | EV_CLOSED | EV_ET |
	    EV_PERSIST, conn_hup_cb, c);
	if (c->ev_hup == NULL || event_add(c->ev_hup, NULL) == -1)
		fatalx("%s: cannot watch client %" PRIu64, __func__, c->id);
}

static void
conn_hup_stop(struct conn *c)
{
	int fd;

	if (c->ev_hup == NULL)
		return;
	fd = event_get_fd(c->ev_hup);
	event_free(c->ev_hup);
	close(fd);
	c->ev_hup = NULL;
}

/*
 * A read-paused c (CONN_RDPAUSE: its input reached its cap): read again
 * once there is room; while there is none and a request is parked (the
 * input cannot drain until it is answered), watch only for the peer's
 * hang-up (conn_hup_start: seen behind any amount of unread data), so
 * that a client killed with a full input gives back its locks, permits
 * and leases at once, not when its parked request is answered. Not
 * parked, its input drains turn by turn: no watch.
 */
static void
conn_watch(struct conn *c)
{
	if (buf_used(&c->in) < conn_cap(c)) {
		c->flags &= ~CONN_RDPAUSE;
		server.npaused--;
		conn_hup_stop(c);
		event_add(c->ev_read, NULL);
	} else if (!(c->flags & CONN_PARKED))
		conn_hup_stop(c);
	else if (c->ev_hup == NULL)
		conn_hup_start(c);
}

/* c used its turn: it goes on after the loop has polled the others. */
static void
conn_later(struct conn *c)
{
	static const struct timeval now = { 0, 0 };

	if (c->flags & (CONN_CLOSING | CONN_LATER))
		return;
	/* Serviced from its read callback while on the ready list: its
	 * turn is over for this pass too. */
	if (c->flags & CONN_QUEUED) {
		c->flags &= ~CONN_QUEUED;
		TAILQ_REMOVE(&server.ready, c, qlink);
	}
	c->flags |= CONN_LATER;
	TAILQ_INSERT_TAIL(&later, c, qlink);
	if (ev_later != NULL)
		evtimer_add(ev_later, &now);
}

/* After new input or a wake: run frames, write, close on EOF, resume. */
static void
conn_service(struct conn *c)
{
	bool more = conn_run(c, true);

	if (c->flags & CONN_CLOSING)
		return;
	if ((c->flags & CONN_EOF) && !more) {
		/* Answered what it sent; a parked request dies with it. */
		conn_close(c, true);
		return;
	}
	if (conn_write(c) == -1) {
		conn_close(c, false);
		return;
	}
	if (!conn_out_ok(c))
		return;
	conn_in_return(c);
	conn_mem_update(c);
	if (!conn_mem_check(c))
		return;
	if ((c->flags & CONN_RDPAUSE) && !server.stopping)
		conn_watch(c);
	if (more)
		conn_later(c);
}

static void
conn_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	switch (conn_read(c)) {
	case CONN_READ_AGAIN:
		return;
	case CONN_READ_FULL:
		/* Parked with its input full: resumes when woken, and
		 * meanwhile only its hang-up is watched (conn_watch). */
		c->flags |= CONN_RDPAUSE;
		server.npaused++;
		event_del(c->ev_read);
		break;
	case CONN_READ_EOF:
		c->flags |= CONN_EOF;
		event_del(c->ev_read);
		break;
	case CONN_READ_ERROR:
		conn_close(c, false);
		return;
	}
	conn_mem_update(c);
	if (!conn_mem_check(c))
		return;
	/* Used its turn already: what came runs in its next one. */
	if (!(c->flags & CONN_LATER))
		conn_service(c);
}

/*
 * Something happened on the socket of c, read-paused (conn_hup_start).
 * When its peer has hung up and a request is parked, nothing behind it
 * can run: close now and give back what it holds (a parked request dies
 * with its peer). Woken meanwhile, it runs what it was sent first, as at
 * any EOF (conn_service). Else it was more data: that waits.
 */
static void
conn_hup_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	if (!conn_hup_poll(c, true))
		return;
	log_debug("client %" PRIu64 ": hung up with its input full", c->id);
	c->flags |= CONN_EOF;
	if (c->flags & CONN_PARKED)
		conn_close(c, true);
	else
		conn_queue(c);
}

static void
conn_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	int r;

	r = conn_write(c);
	if (c->flags & CONN_LINGER) {
		if (r != 1)
			conn_bury(c);
	} else if (r == -1)
		conn_close(c, false);
}

/* The handshake deadline, or the end of a closed connection's linger. */
static void
conn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	if (c->flags & CONN_LINGER) {
		log_debug("client %" PRIu64 ": gave up writing its last %zu "
		    "bytes", c->id, buf_used(&c->out));
		conn_bury(c);
		return;
	}
	conn_fail(c, NULL, PERR_AUTH, "handshake timed out");
}

/* The oldest partial frames past their deadline close their connections. */
static void
conn_partial_cb(evutil_socket_t fd, short what, void *arg)
{
	struct partial *p;
	struct timeval tv;
	uint64_t now = now_usec(), due;
	char text[96];

	while ((p = TAILQ_FIRST(&partials)) != NULL &&
	    (due = p->since + server.frame_timeout_usec) <= now) {
		snprintf(text, sizeof text, "a message not complete after "
		    "%" PRIu64 " s", server.frame_timeout_usec / 1000000);
		/* conn_close takes p off the list. */
		conn_fail(p->c, NULL, PERR_LIMIT, text);
	}
	if (p != NULL) {
		tv.tv_sec = (time_t)((due - now) / 1000000);
		tv.tv_usec = (suseconds_t)((due - now) % 1000000);
		evtimer_add(ev_partial, &tv);
	}
}

/*
 * Serve the ready list, about as many connections as it holds now: one
 * queued again meanwhile (a reply held for the journal, a connection
 * woken by another) waits for the next run, which conn_queue has asked
 * for and which comes after the journal's flush.
 */
static void
conn_run_ready(void)
{
	struct conn *c;
	size_t n = 0;

	TAILQ_FOREACH(c, &server.ready, qlink)
		n++;
	while (n-- > 0 && (c = TAILQ_FIRST(&server.ready)) != NULL) {
		TAILQ_REMOVE(&server.ready, c, qlink);
		c->flags &= ~CONN_QUEUED;
		conn_service(c);
	}
}

/* The whole ready list, run after run, the journal flushed in between. */
static void
conn_drain_ready(void)
{
	while (!TAILQ_EMPTY(&server.ready)) {
		journal_flush_now();
		conn_run_ready();
	}
}

static void
conn_ready_cb(evutil_socket_t fd, short what, void *arg)
{
	conn_run_ready();
	conn_reap();
}

/* The connections that used their turn take the next one, in order. */
static void
conn_later_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c;

	while ((c = TAILQ_FIRST(&later)) != NULL) {
		TAILQ_REMOVE(&later, c, qlink);
		c->flags &= ~CONN_LATER;
		c->flags |= CONN_QUEUED;
		TAILQ_INSERT_TAIL(&server.ready, c, qlink);
	}
	conn_run_ready();
	conn_reap();
}

/*
 * The peer's command name, as ps shows it, for operators (sys.clients,
 * obj.info): read once at accept, so that it names the process that
 * connected even after its pid is reused. "" when unknown.
 */
static void
conn_comm(struct conn *c)
{
	char path[64];
	ssize_t n;
	int fd;

	if (c->pid <= 0)
		return;
	snprintf(path, sizeof path, "/proc/%d/comm", (int)c->pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return;
	n = read(fd, c->comm, sizeof c->comm - 1);
	close(fd);
	if (n <= 0)
		n = 0;
	c->comm[n] = '\0';
	c->comm[strcspn(c->comm, "\n")] = '\0';
}

void
conn_accept(int fd)
{
	struct timeval tv = { MPMGR_HANDSHAKE_TIMEOUT_SEC, 0 };
	struct conn *c;
	struct ucred cred;
	socklen_t len = sizeof cred;
	char text[64];

	c = xcalloc(1, sizeof *c);
	c->fd = fd;
	c->id = ++server.conns_total;
	c->state = CONN_HANDSHAKE;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
		c->uid = cred.uid;
		c->gid = cred.gid;
		c->pid = cred.pid;
	} else {
		log_warn("%s: SO_PEERCRED", __func__);
		c->uid = (uid_t)-1;
		c->gid = (gid_t)-1;
	}
	conn_comm(c);
	c->since_usec = c->last_usec = now_usec();
	buf_init(&c->in);
	buf_init(&c->out);
	conn_out_borrow(c);
	msgpack_packer_init(&c->pk, &c->out, buf_pack_write);
	c->ev_read = event_new(server.base, fd, EV_READ | EV_PERSIST,
	    conn_read_cb, c);
	c->ev_timer = evtimer_new(server.base, conn_timer_cb, c);
	if (c->ev_read == NULL || c->ev_timer == NULL)
		fatalx("%s: event_new failed", __func__);
	conn_unauth_add(c);
	log_debug("client %" PRIu64 " connected (pid %d, uid %u)", c->id,
	    (int)c->pid, (unsigned)c->uid);

	if (conn_full(c)) {
		snprintf(text, sizeof text, "too many clients (max %zu)",
		    server.max_clients);
		conn_fail(c, NULL, PERR_LIMIT, text);
		return;
	}
	if (server.nunauth > server.max_unauth) {
		conn_fail(conn_unauth_victim(), NULL, PERR_LIMIT,
		    "too many unauthenticated connections");
	}
	if (auth_random(c->ns, sizeof c->ns) == -1) {
		log_warn("%s: auth_random", __func__);
		conn_close(c, false);
		return;
	}
	msg_pack_notification(&c->pk, MPMGR_NOTIFY_CHALLENGE, 2);
	msgpack_pack_unsigned_int(&c->pk, MPMGR_PROTO_VERSION);
	msgpack_pack_bin(&c->pk, sizeof c->ns);
	msgpack_pack_bin_body(&c->pk, c->ns, sizeof c->ns);
	event_add(c->ev_read, NULL);
	evtimer_add(c->ev_timer, &tv);
	if (conn_write(c) == -1)
		conn_close(c, false);
}

static bool
conn_any_parked(void)
{
	struct conn *c;

	TAILQ_FOREACH(c, &server.clients, link) {
		if (c->flags & CONN_PARKED)
			return true;
	}
	return false;
}

/*
 * Stopping: read what c's peer has already sent (up to about one message
 * more than its input holds) and run it.
 */
static void
conn_drain(struct conn *c)
{
	size_t budget = conn_cap(c), before;
	int r;

	for (;;) {
		before = buf_used(&c->in);
		r = conn_read(c);
		if (r == CONN_READ_ERROR) {
			conn_close(c, false);
			return;
		}
		if (r == CONN_READ_EOF)
			c->flags |= CONN_EOF;
		conn_run(c, false);
		if (r != CONN_READ_DATA || (c->flags & CONN_CLOSING))
			return;
		if (buf_used(&c->in) - before >= budget)
			return;
		budget -= buf_used(&c->in) - before;
	}
}

/*
 * The graceful stop (server_stop), run from the loop: nothing new is
 * accepted or read; what clients had sent runs, parked requests get
 * SHUTDOWN, and every client's output is flushed (giving up on one that
 * does not read within CONN_LINGER_MSEC) before the loop ends.
 */
static void
conn_stop_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c, *next;
	int round;

	notify_stopping(server.stop_why);
	listen_close();
	journal_flush_now();
	while ((c = TAILQ_FIRST(&server.unauth)) != NULL)
		conn_close(c, false);
	TAILQ_FOREACH(c, &server.clients, link)
		event_del(c->ev_read);
	for (c = TAILQ_FIRST(&server.clients); c != NULL; c = next) {
		next = TAILQ_NEXT(c, link);
		conn_drain(c);
	}
	conn_drain_ready();
	for (round = 0; round < CONN_STOP_ROUNDS; round++) {
		dispatch_shutdown();
		conn_drain_ready();
		if (!conn_any_parked())
			break;
	}
	journal_flush_now();
	while ((c = TAILQ_FIRST(&server.clients)) != NULL)
		conn_close(c, true);
	/* Closes give back leases: their records go before the last bytes. */
	journal_flush_now();
	conn_reap();
	stop_phase = STOP_FLUSHING;
	conn_stop_check();
}

/*
 * The journal has flushed: what lingering connections still hold can go
 * (the others are on the ready list).
 */
static void
conn_journal_flushed(void)
{
	struct conn *c, *next;

	for (c = TAILQ_FIRST(&lingering); c != NULL; c = next) {
		next = TAILQ_NEXT(c, link);
		if (conn_write(c) != 1)
			conn_bury(c);
	}
	if (!TAILQ_EMPTY(&server.ready) && ev_ready != NULL)
		event_active(ev_ready, EV_TIMEOUT, 0);
}

size_t
conn_max_fds(void)
{
	return 2 * (server.max_clients + CONN_ADMIN_SLOTS) + server.max_unauth;
}

void
conn_setup(struct event_base *base)
{
	server.base = base;
	ev_ready = event_new(base, -1, 0, conn_ready_cb, NULL);
	ev_later = evtimer_new(base, conn_later_cb, NULL);
	ev_partial = evtimer_new(base, conn_partial_cb, NULL);
	server.ev_stop = event_new(base, -1, 0, conn_stop_cb, NULL);
	if (ev_ready == NULL || ev_later == NULL || ev_partial == NULL ||
	    server.ev_stop == NULL)
		fatalx("%s: event_new failed", __func__);
	journal_set_flushed(conn_journal_flushed);
}

void
conn_teardown(void)
{
	struct conn *c;

	while ((c = TAILQ_FIRST(&server.unauth)) != NULL)
		conn_close(c, false);
	while ((c = TAILQ_FIRST(&server.clients)) != NULL)
		conn_close(c, false);
	while ((c = TAILQ_FIRST(&lingering)) != NULL)
		conn_bury(c);
	conn_reap();
	buf_free(&spare_in);
	buf_free(&spare_out);
	if (ev_ready != NULL)
		event_free(ev_ready);
	if (ev_later != NULL)
		event_free(ev_later);
	if (ev_partial != NULL)
		event_free(ev_partial);
	if (server.ev_stop != NULL)
		event_free(server.ev_stop);
	ev_ready = ev_later = ev_partial = server.ev_stop = NULL;
}
