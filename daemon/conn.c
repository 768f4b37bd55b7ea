/*
 * conn.c: client connections and the graceful stop.
 *
 * Owns every struct conn from accept to free, the ready list and the
 * graceful stop (server_stop asks for it through server.ev_stop). A
 * connection reads into its input buffer (capped at the message limit in
 * force plus one read), runs its
 * complete frames in order (the handshake here, every later request through
 * dispatch_request) and writes its output directly at the end of each read
 * callback or ready-list run, arming EV_WRITE only on EAGAIN.
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
 *   here; dispatch packs replies without checking sizes.
 * - once a close is decided, dispatch_conn_closed runs at once (before any
 *   other request), and the struct is freed only by the ready event, when
 *   nothing is up the stack.
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
#include "log.h"
#include "mem.h"
#include "mpmgrd.h"
#include "notify.h"
#include "waiter.h"

/* Private flags, above the ones mpmgrd.h shares. */
#define CONN_HELD    0x100 /* parked and the next frame is not sys.cancel:
			      look at the input again only once woken */
#define CONN_RDPAUSE 0x200 /* not reading: input at its cap */
#define CONN_LINGER  0x400 /* closed, still writing its last bytes */

#define CONN_READ_CHUNK (16 * 1024)   /* least room offered to one read() */
#define CONN_IN_KEEP (64 * 1024)      /* the spare input buffer's ceiling */
#define CONN_OUT_KEEP (16 * 1024)     /* the spare output buffer's ceiling */
#define CONN_LINGER_MSEC 1000         /* last bytes of a closed connection */
#define CONN_STOP_ROUNDS 3            /* shutdown answers before giving up */
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
static enum { STOP_NONE, STOP_FLUSHING, STOP_DONE } stop_phase;

static void conn_close(struct conn *, bool);
static void conn_timer_cb(evutil_socket_t, short, void *);
static void conn_write_cb(evutil_socket_t, short, void *);

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

static void
conn_queue(struct conn *c)
{
	if (c->flags & (CONN_QUEUED | CONN_CLOSING))
		return;
	c->flags |= CONN_QUEUED;
	TAILQ_INSERT_TAIL(&server.ready, c, qlink);
	if (ev_ready != NULL)
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

bool
conn_peer_gone(struct conn *c)
{
	struct pollfd pfd;

	if (c->flags & (CONN_CLOSING | CONN_EOF))
		return true;
	pfd.fd = c->fd;
	pfd.events = POLLRDHUP;
	pfd.revents = 0;
	if (poll(&pfd, 1, 0) == 1 &&
	    (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR))) {
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
 * Write c's output until done or EAGAIN. 0 all written, 1 some left (EV_WRITE
 * armed), -1 the peer is gone (the caller closes).
 */
static int
conn_write(struct conn *c)
{
	ssize_t n;

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
	buf_free(&c->in);
	buf_free(&c->out);
	if (c->scan != NULL)
		xfree(c->scan);
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
	if (c->flags & CONN_QUEUED) {
		c->flags &= ~CONN_QUEUED;
		TAILQ_REMOVE(&server.ready, c, qlink);
	}
	if (c->state == CONN_READY) {
		TAILQ_REMOVE(&server.clients, c, link);
		server.nclients--;
		dispatch_conn_closed(c);
	} else {
		TAILQ_REMOVE(&server.unauth, c, link);
		server.nunauth--;
	}
	log_debug("client %" PRIu64 " (pid %d) closed after %" PRIu64
	    " requests", c->id, (int)c->pid, c->ops);
	event_del(c->ev_read);
	if (c->ev_timer != NULL)
		event_del(c->ev_timer);
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
		return;
	}
	conn_bury(c);
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
	if (buf_used(&c->out) <= server.output_limit)
		return true;
	if (conn_write(c) == -1) {
		conn_close(c, false);
		return false;
	}
	if (buf_used(&c->out) <= server.output_limit)
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
	if (server.nclients >= server.max_clients) {
		snprintf(text, sizeof text, "too many clients (max %zu)",
		    server.max_clients);
		conn_fail(c, m, PERR_LIMIT, text);
		return;
	}
	TAILQ_REMOVE(&server.unauth, c, link);
	server.nunauth--;
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

static void
conn_request(struct conn *c, const struct msg *m)
{
	size_t before = buf_used(&c->out), reply;
	char text[96];

	/* dispatch_request counts server.ops and c->ops. */
	if (dispatch_request(c, m) == DISPATCH_PARKED) {
		c->flags |= CONN_PARKED;
		return;
	}
	reply = buf_used(&c->out) - before;
	if (reply > server.output_limit) {
		/* Packing may have compacted out: cut relative to off. */
		c->out.len = c->out.off + before;
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

/* Run c's complete frames until its input runs dry, it parks or closes. */
static void
conn_run(struct conn *c)
{
	struct msg m;
	const uint8_t *frame;
	const char *why;
	size_t flen;
	char text[160];
	bool wellformed;
	int r;

	conn_out_borrow(c);
	while (!(c->flags & (CONN_CLOSING | CONN_HELD)) &&
	    buf_used(&c->in) > 0) {
		r = scan_frame(c->scan != NULL ? c->scan : &spare_scan,
		    buf_head(&c->in), buf_used(&c->in), conn_limit(c), &flen,
		    &why);
		if (r == SCAN_MORE) {
			/* the rest comes in a later read: keep where it is */
			if (c->scan == NULL) {
				c->scan = xmalloc(sizeof *c->scan);
				*c->scan = spare_scan;
				scan_init(&spare_scan);
			}
			return;
		}
		if (c->scan != NULL) {
			xfree(c->scan);
			c->scan = NULL;
		} else if (r != SCAN_FRAME)
			scan_init(&spare_scan);
		if (r == SCAN_BAD) {
			snprintf(text, sizeof text, "malformed message: %s",
			    why);
			conn_fail(c, NULL, PERR_BADARG, text);
			return;
		}
		if (r == SCAN_TOOBIG) {
			snprintf(text, sizeof text, "message larger than %zu "
			    "bytes", conn_limit(c));
			conn_fail(c, NULL, PERR_TOOBIG, text);
			return;
		}
		frame = buf_head(&c->in);
		wellformed = msg_parse_frame(frame, flen, &m, &why) == 0;
		if (c->flags & CONN_PARKED) {
			int kind = wellformed ? conn_cancel_kind(c, &m) :
			    CANCEL_NONE;

			if (kind == CANCEL_MISS &&
			    c->ncancel_miss < MPMGR_MAX_CANCELS) {
				c->cancel_miss[c->ncancel_miss++] = m.msgid;
				server.ops++;
				c->ops++;
				buf_consume(&c->in, flen);
				continue;
			}
			if (kind != CANCEL_PARKED) {
				c->flags |= CONN_HELD;
				return;
			}
		}
		conn_frame(c, &m, wellformed, why);
		if (c->flags & CONN_CLOSING)
			return;
		buf_consume(&c->in, flen);
	}
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
	if (n == 0)
		return CONN_READ_EOF;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return CONN_READ_AGAIN;
	log_debug("%s: client %" PRIu64 ": %s", __func__, c->id,
	    strerror(errno));
	return CONN_READ_ERROR;
}

/* After new input or a wake: run frames, write, close on EOF, resume. */
static void
conn_service(struct conn *c)
{
	conn_run(c);
	if (c->flags & CONN_CLOSING)
		return;
	if (c->flags & CONN_EOF) {
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
	if ((c->flags & CONN_RDPAUSE) && !server.stopping &&
	    buf_used(&c->in) < conn_cap(c)) {
		c->flags &= ~CONN_RDPAUSE;
		event_add(c->ev_read, NULL);
	}
}

static void
conn_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	switch (conn_read(c)) {
	case CONN_READ_AGAIN:
		return;
	case CONN_READ_FULL:
		/* Parked with its input full: resumes when woken. */
		c->flags |= CONN_RDPAUSE;
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
	conn_service(c);
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

static void
conn_run_ready(void)
{
	struct conn *c;

	while ((c = TAILQ_FIRST(&server.ready)) != NULL) {
		TAILQ_REMOVE(&server.ready, c, qlink);
		c->flags &= ~CONN_QUEUED;
		conn_service(c);
	}
}

static void
conn_ready_cb(evutil_socket_t fd, short what, void *arg)
{
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
	TAILQ_INSERT_TAIL(&server.unauth, c, link);
	server.nunauth++;
	log_debug("client %" PRIu64 " connected (pid %d, uid %u)", c->id,
	    (int)c->pid, (unsigned)c->uid);

	if (server.nclients >= server.max_clients) {
		snprintf(text, sizeof text, "too many clients (max %zu)",
		    server.max_clients);
		conn_fail(c, NULL, PERR_LIMIT, text);
		return;
	}
	if (server.nunauth > server.max_unauth) {
		conn_fail(TAILQ_FIRST(&server.unauth), NULL, PERR_LIMIT,
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
		conn_run(c);
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
	while ((c = TAILQ_FIRST(&server.unauth)) != NULL)
		conn_close(c, false);
	TAILQ_FOREACH(c, &server.clients, link)
		event_del(c->ev_read);
	for (c = TAILQ_FIRST(&server.clients); c != NULL; c = next) {
		next = TAILQ_NEXT(c, link);
		conn_drain(c);
	}
	conn_run_ready();
	for (round = 0; round < CONN_STOP_ROUNDS; round++) {
		dispatch_shutdown();
		conn_run_ready();
		if (!conn_any_parked())
			break;
	}
	while ((c = TAILQ_FIRST(&server.clients)) != NULL)
		conn_close(c, true);
	conn_reap();
	stop_phase = STOP_FLUSHING;
	conn_stop_check();
}

void
conn_setup(struct event_base *base)
{
	server.base = base;
	ev_ready = event_new(base, -1, 0, conn_ready_cb, NULL);
	server.ev_stop = event_new(base, -1, 0, conn_stop_cb, NULL);
	if (ev_ready == NULL || server.ev_stop == NULL)
		fatalx("%s: event_new failed", __func__);
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
	if (server.ev_stop != NULL)
		event_free(server.ev_stop);
	ev_ready = server.ev_stop = NULL;
}
