/*
 * mpmgr.c: libmpmgr, the C client of mpmgrd (the contract is mpmgr.h).
 *
 * A handle owns one socket, one output buffer of requests not yet sent, one
 * input buffer of bytes read and one msgpack_zone holding the
 * msgpack_object tree of the last reply. That tree points into the input
 * buffer, so the reply's frame is consumed only when the next call starts
 * reading: until then neither the buffer nor the zone changes.
 *
 * Frames from the server are found and validated by proto/'s scanner, not
 * by msgpack-c's unpacker (which stops at depth 32 and allocates on a
 * container's header). The server has proved it knows the key before
 * anything but the handshake is read, hence the generous frame limit.
 *
 * What every request and reply goes through is kept short, since a
 * pipelining caller's CPU is spent there: no system call (the fork guard
 * is a generation counter, not getpid()), no allocation once the buffers
 * have grown, the request's envelope written directly (msg_request_head),
 * and the usual frames validated and taken apart by proto's fast paths
 * (scan_frame's for small flat frames, msg_parse_frame's for the usual
 * envelopes); a result is converted to msgpack_object only when the
 * caller asks for it.
 *
 * I/O is blocking, except that the handshake has a deadline (a silent
 * server must not hang mpmgr_connect) and that sending reads replies
 * whenever the socket is full, so that a long pipeline cannot deadlock
 * with a server that is itself waiting for us to read.
 *
 * The sys.cancel requests of mpmgr_cancel_pending take msgids between the
 * caller's; their replies are recognised by msgid and dropped wherever
 * they arrive, so the caller sees only its own replies, in order.
 *
 * Reconnecting (mpmgr_set_reconnect) is off unless asked for. When on, a
 * broken connection's outstanding requests become `lost` (answered
 * MPMGR_EINFLIGHT in order, before anything the new connection answers), and
 * the next request started with nothing outstanding connects again first
 * (revive), after one poll() has told whether an idle connection was
 * hung up meanwhile. mpmgr_call alone sends a lost request again, and
 * only a read: the catalogue's flags, expanded here at compile time, say
 * which methods are writes. A handle made by mpmgr_attach never
 * reconnects: it has no key (the parent authenticated), and a new
 * connection would not hold what the inherited one shares with it.
 *
 * The typed helpers (mpmgr_dict_set, mpmgr_lock_acquire...) live in
 * mpmgr_typed.c, over mpmgr_call; handle.h is all they see of the handle.
 * Notifications the server sends between replies are met here, wherever
 * a frame is read, and handed to mpmgr_notify.c (the callback, and the
 * reading of what is there without waiting).
 */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../proto/auth.h"
#include "../proto/buf.h"
#include "../proto/mpmgr_methods.h"
#include "../proto/mpmgr_proto.h"
#include "../proto/msg.h"
#include "../proto/paths.h"
#include "../proto/scan.h"
#include "handle.h"
#include "mpmgr.h"

/* The library's codes for server errors are the wire's, negated. */
#define ERR_MATCHES(n) \
	_Static_assert(MPMGR_E##n == -PERR_##n, "MPMGR_E" #n " != -PERR_" #n);
MPMGR_ERRORS(ERR_MATCHES)
#undef ERR_MATCHES

#define MAX_FRAME ((size_t)1 << 30)     /* a reply from the trusted server */
#define HANDSHAKE_MS 10000
#define READ_CHUNK (64u << 10)
#define IN_KEEP (256u << 10)            /* buffer memory kept between calls */
#define OUT_KEEP (256u << 10)
#define ZONE_CHUNK 8192
#define ZONE_KEEP (1u << 20)
#define NO_DEADLINE (-1)

/* A sys.cancel sent by mpmgr_cancel_pending: its reply is ours to drop. */
struct cancel {
	uint32_t msgid;         /* of the sys.cancel */
	uint32_t target;        /* the request it takes back */
	bool answered;          /* its reply was read */
};

struct mpmgr {
	int fd;
	uint64_t fork_gen;      /* fork_gen when it connected */
	bool check_pid;         /* no atfork handler: compare getpid() */
	pid_t pid;              /* of the process that connected */
	int broken;             /* sticky code once the stream is unusable */
	bool closed;            /* the server hung up: read what is left */
	struct buf out;         /* requests not yet sent */
	struct buf in;          /* bytes read, the held frame first */
	struct scan_state scan; /* of the frame being read at buf_head(&in) */
	size_t held;            /* bytes of the frame the last result
				   points into */
	msgpack_zone zone;      /* arrays and maps of the last result */
	size_t zone_used;
	msgpack_packer pk;      /* writes into out */
	bool nomem;             /* the packer hit ENOMEM in this request */
	bool in_request;        /* between request_begin and request_end */
	uint32_t req_nparams;
	size_t req_start;       /* buf_used(&out) when the request began */
	size_t req_params;      /* buf_used(&out) at the params array, or
				   req_start if the method is not UTF-8 */
	uint32_t next_msgid;
	uint32_t oldest_msgid;  /* the oldest outstanding caller's request's
				   msgid; next_msgid when none */
	size_t pending;         /* the caller's requests, not our cancels */
	/* Our cancels in msgid order, kept until oldest_msgid passes them
	 * (their msgids are not the caller's: replies skip over them). */
	struct cancel cancels[MPMGR_MAX_CANCELS];
	size_t ncancels;
	struct handle_notify notify; /* mpmgr_set_notify's (mpmgr_notify.c) */
	char socket_path[PATHS_MAX];
	/* Reconnecting (mpmgr_set_reconnect): how long to retry, < 0 off;
	 * the key again: its file, re-read each time, or its bytes. */
	double reconnect;
	unsigned long reconnects; /* done so far */
	size_t lost;            /* the caller's requests the last broken
				   connection took with it: mpmgr_reply
				   answers MPMGR_EINFLIGHT for each, first */
	char keypath[4096];     /* "" when the key was given as bytes */
	uint8_t key[MPMGR_KEY_MAX];
	size_t keylen;
	bool attached;          /* mpmgr_attach's: never reconnects */
	char errcode[16];
	char errmsg[1024];
	char broken_msg[1100];  /* errmsg for every call after the break */
};

/* --- errors ---------------------------------------------------------- */

static const char *const client_err_names[] = {
	[0] = "ECONNECT", [1] = "EKEY", [2] = "EPEER", [3] = "EIO",
	[4] = "EPROTO", [5] = "EFORK", [6] = "ENOMEM", [7] = "EINVAL",
	[8] = "ESTATE", [9] = "EINFLIGHT"
};

const char *
mpmgr_strerror(int err)
{
	const char *name;
	int i;

	if (err == MPMGR_OK)
		return "OK";
	if ((name = proto_err_name(-err)) != NULL)
		return name;
	i = MPMGR_ECONNECT - err;
	if (i >= 0 && i < (int)(sizeof(client_err_names) /
	    sizeof(client_err_names[0])))
		return client_err_names[i];
	return "?";
}

static void seterr(mpmgr *, const char *, const char *, va_list)
    __attribute__((format(printf, 3, 0)));
static int breaks(mpmgr *, int, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
seterr(mpmgr *h, const char *code, const char *fmt, va_list ap)
{
	snprintf(h->errcode, sizeof(h->errcode), "%s", code);
	vsnprintf(h->errmsg, sizeof(h->errmsg), fmt, ap);
}

/* A client-side error that leaves the handle usable (handle.h). */
int
handle_fail(mpmgr *h, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	seterr(h, "", fmt, ap);
	va_end(ap);
	return err;
}

/*
 * Whether a handle broken by err can connect again: the connection was
 * lost (EIO) or could not be made again (ECONNECT), and reconnecting is
 * on.
 */
static bool
revivable(const mpmgr *h, int err)
{
	return h->reconnect >= 0 && (err == MPMGR_EIO || err == MPMGR_ECONNECT);
}

/*
 * The connection is gone: close it; every later call answers err, unless
 * it can reconnect. The caller's requests in flight are lost (mpmgr_reply
 * answers MPMGR_EINFLIGHT for each) when it can.
 */
static void
drop_stream(mpmgr *h, int err)
{
	h->broken = err;
	if (h->fd >= 0) {
		close(h->fd);
		h->fd = -1;
	}
	if (revivable(h, err))
		h->lost += h->pending;
	h->pending = 0;
	h->ncancels = 0;
	buf_reset(&h->out);
}

/* The stream is unusable: close it; every later call answers err. */
static void
close_stream(mpmgr *h, int err)
{
	snprintf(h->broken_msg, sizeof(h->broken_msg), "%s", h->errmsg);
	drop_stream(h, err);
}

static int
breaks(mpmgr *h, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	seterr(h, "", fmt, ap);
	va_end(ap);
	close_stream(h, err);
	return err;
}

/*
 * A server error: its code as ours, its message kept (what snprintf's
 * "%.*s" would keep, without its cost: NOKEY and EMPTY are everyday
 * answers).
 */
static int
server_error(mpmgr *h, int code, const struct mpv *message)
{
	size_t n = 0;

	if (proto_err_name(code) == NULL)
		code = PERR_INTERNAL;
	_Static_assert(sizeof("WRONGTYPE") <= sizeof(h->errcode),
	    "errcode holds every code name");
	memcpy(h->errcode, proto_err_name(code), proto_err_name_len(code) + 1);
	if (message->type == MPV_STR) {
		n = strnlen((const char *)message->ptr, message->len);
		if (n >= sizeof(h->errmsg))
			n = sizeof(h->errmsg) - 1;
		memcpy(h->errmsg, message->ptr, n);
	}
	h->errmsg[n] = '\0';
	return -code;
}

/*
 * The fork guard, without a system call per call (glibc's getpid() is not
 * cached, and one per request was a third of a pipelining client's CPU).
 * A pthread_atfork child handler bumps fork_gen in every child; a handle
 * remembers the generation it connected in. Only a child's one thread
 * writes it, before fork() returns there, and the parent's copy never
 * changes, so reading it needs no lock. What is detected: fork() and
 * anything else that runs the atfork handlers (system(), popen()...). Not
 * detected: a raw clone(2) without CLONE_VM, and glibc's _Fork(), which
 * run no handlers; a vfork() child may only exec or _exit anyway. Should
 * registering the handler fail (ENOMEM), handles fall back to getpid().
 */
static uint64_t fork_gen;
static bool fork_hooked;
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;

static void
fork_child(void)
{
	fork_gen++;
}

static void
fork_hook(void)
{
	fork_hooked = pthread_atfork(NULL, NULL, fork_child) == 0;
}

/*
 * Whether h may be used by this call: 0, or the code to answer. A forked
 * child must not touch the socket it shares with its parent.
 */
static int
usable(mpmgr *h)
{
	if (h->fork_gen != fork_gen || (h->check_pid && getpid() != h->pid))
		return handle_fail(h, MPMGR_EFORK, "handle used in a forked "
		    "child (connected in pid %ld): connect again",
		    (long)h->pid);
	if (h->broken != 0) {
		h->errcode[0] = '\0';
		snprintf(h->errmsg, sizeof(h->errmsg), "%.*s",
		    (int)sizeof(h->errmsg) - 1, h->broken_msg);
		return h->broken;
	}
	return 0;
}

/* --- I/O ------------------------------------------------------------- */

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for events until deadline (ms, or NO_DEADLINE). 0 and *revents,
 * or MPMGR_EIO with the handle broken. */
static int
wait_fd(mpmgr *h, short events, int64_t deadline, short *revents)
{
	struct pollfd pfd = { .fd = h->fd, .events = events };
	int timeout, n;

	for (;;) {
		timeout = -1;
		if (deadline != NO_DEADLINE) {
			int64_t left = deadline - now_ms();
			timeout = left > 0 ? (int)left : 0;
		}
		n = poll(&pfd, 1, timeout);
		if (n > 0) {
			*revents = pfd.revents;
			return 0;
		}
		if (n == 0)
			return breaks(h, MPMGR_EIO, "%s: no answer from the "
			    "server within %d s", h->socket_path,
			    HANDSHAKE_MS / 1000);
		if (errno != EINTR)
			return breaks(h, MPMGR_EIO, "poll: %s",
			    strerror(errno));
	}
}

/*
 * Read what the socket has into the input buffer. 1 when bytes came, 0
 * when none did (EOF and a reset only set h->closed: what was read before
 * is still to be used), or MPMGR_ENOMEM / MPMGR_EIO with the handle broken.
 */
static int
recv_some(mpmgr *h, bool nowait)
{
	ssize_t n;

	if (buf_reserve(&h->in, READ_CHUNK) == -1)
		return breaks(h, MPMGR_ENOMEM, "out of memory reading a reply");
	n = recv(h->fd, buf_tail(&h->in), buf_room(&h->in),
	    nowait ? MSG_DONTWAIT : 0);
	if (n > 0) {
		h->in.len += (size_t)n;
		return 1;
	}
	if (n == 0 || errno == ECONNRESET || errno == EPIPE) {
		h->closed = true;
		return 0;
	}
	if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
		return 0;
	return breaks(h, MPMGR_EIO, "recv: %s", strerror(errno));
}

/*
 * Send all of out. While the socket is full, read replies so that a
 * server blocked on writing to us keeps reading our requests. A server
 * that hung up sets h->closed and drops what was not sent: the caller
 * still reads what arrived before (perhaps a mpmgr.error saying why).
 */
static int
send_out(mpmgr *h, int64_t deadline)
{
	ssize_t n;
	short rev;
	int r;

	while (buf_used(&h->out) > 0 && !h->closed) {
		n = send(h->fd, buf_head(&h->out), buf_used(&h->out),
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			buf_consume(&h->out, (size_t)n);
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno == EPIPE || errno == ECONNRESET) {
			h->closed = true;
			break;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return breaks(h, MPMGR_EIO, "send: %s",
			    strerror(errno));
		if ((r = wait_fd(h, POLLIN | POLLOUT, deadline, &rev)) != 0)
			return r;
		if ((rev & (POLLIN | POLLHUP | POLLERR)) &&
		    (r = recv_some(h, true)) < 0)
			return r;
	}
	if (h->closed) {
		buf_reset(&h->out);
		/* Whatever the server said before closing is still queued. */
		while ((r = recv_some(h, true)) == 1)
			;
		if (r < 0)
			return r;
	}
	buf_shrink(&h->out, OUT_KEEP);
	return 0;
}

/* Find the next frame in in, after the held one, reading as needed. */
static int
read_frame(mpmgr *h, int64_t deadline, size_t *flen)
{
	const char *why;
	short rev;
	int r;

	for (;;) {
		r = scan_frame(&h->scan, buf_head(&h->in),
		    buf_used(&h->in), MAX_FRAME, flen, &why);
		if (r == SCAN_FRAME)
			return 0;
		if (r != SCAN_MORE)
			return breaks(h, MPMGR_EPROTO, "malformed data from "
			    "the server: %s", why != NULL ? why : "too big");
		if (h->closed)
			return breaks(h, MPMGR_EIO, "connection closed by the "
			    "server");
		if (deadline != NO_DEADLINE &&
		    (r = wait_fd(h, POLLIN, deadline, &rev)) != 0)
			return r;
		if ((r = recv_some(h, false)) < 0)
			return r;
	}
}

/* The last result's frame and objects are no longer needed. */
static void
release(mpmgr *h)
{
	msgpack_zone fresh;

	if (h->held > 0) {
		buf_consume(&h->in, h->held);
		h->held = 0;
		buf_shrink(&h->in, IN_KEEP);
	}
	if (h->zone_used > ZONE_KEEP && msgpack_zone_init(&fresh, ZONE_CHUNK)) {
		/* clear would keep the largest chunk: give it back */
		msgpack_zone_destroy(&h->zone);
		h->zone = fresh;
	} else if (h->zone_used > 0) {
		msgpack_zone_clear(&h->zone);
	}
	h->zone_used = 0;
}

/* --- results as msgpack_object -------------------------------------- */

static void *
zalloc(mpmgr *h, size_t n)
{
	h->zone_used += n;
	return msgpack_zone_malloc(&h->zone, n);
}

/* Convert a validated view into o (the scanner bounds the recursion). */
static int
to_object(mpmgr *h, const struct mpv *v, msgpack_object *o)
{
	struct mpv_iter it;
	struct mpv e;
	uint32_t i;

	memset(o, 0, sizeof(*o));
	switch (v->type) {
	case MPV_NIL:
		o->type = MSGPACK_OBJECT_NIL;
		break;
	case MPV_BOOL:
		o->type = MSGPACK_OBJECT_BOOLEAN;
		o->via.boolean = v->v.b;
		break;
	case MPV_UINT:
		o->type = MSGPACK_OBJECT_POSITIVE_INTEGER;
		o->via.u64 = v->v.u;
		break;
	case MPV_INT:
		o->type = MSGPACK_OBJECT_NEGATIVE_INTEGER;
		o->via.i64 = v->v.i;
		break;
	case MPV_FLOAT:
		o->type = MSGPACK_OBJECT_FLOAT64;
		o->via.f64 = v->v.f;
		break;
	case MPV_STR:
		o->type = MSGPACK_OBJECT_STR;
		o->via.str.size = v->len;
		o->via.str.ptr = (const char *)v->ptr;
		break;
	case MPV_BIN:
		o->type = MSGPACK_OBJECT_BIN;
		o->via.bin.size = v->len;
		o->via.bin.ptr = (const char *)v->ptr;
		break;
	case MPV_EXT:
		o->type = MSGPACK_OBJECT_EXT;
		o->via.ext.type = v->ext_type;
		o->via.ext.size = v->len;
		o->via.ext.ptr = (const char *)v->ptr;
		break;
	case MPV_ARRAY:
		o->type = MSGPACK_OBJECT_ARRAY;
		if (v->len == 0)
			break;
		o->via.array.ptr = zalloc(h, (size_t)v->len *
		    sizeof(msgpack_object));
		if (o->via.array.ptr == NULL)
			return -1;
		o->via.array.size = v->len;
		mpv_iter_init(&it, v);
		for (i = 0; i < v->len && mpv_iter_next(&it, &e); i++)
			if (to_object(h, &e, &o->via.array.ptr[i]) == -1)
				return -1;
		break;
	case MPV_MAP:
		o->type = MSGPACK_OBJECT_MAP;
		if (v->len == 0)
			break;
		o->via.map.ptr = zalloc(h, (size_t)v->len *
		    sizeof(msgpack_object_kv));
		if (o->via.map.ptr == NULL)
			return -1;
		o->via.map.size = v->len;
		mpv_iter_init(&it, v);
		for (i = 0; i < v->len; i++) {
			if (!mpv_iter_next(&it, &e) ||
			    to_object(h, &e, &o->via.map.ptr[i].key) == -1 ||
			    !mpv_iter_next(&it, &e) ||
			    to_object(h, &e, &o->via.map.ptr[i].val) == -1)
				return -1;
		}
		break;
	}
	return 0;
}

/* --- replies --------------------------------------------------------- */

/* [2, "mpmgr.error", [code, message]]: the server closes after it. */
static int
error_notification(mpmgr *h, const struct msg *m)
{
	struct mpv_iter it;
	struct mpv code = { .type = MPV_NIL }, message = { .type = MPV_NIL };
	int perr = PERR_INTERNAL, err;

	mpv_iter_init(&it, &m->params);
	if (mpv_iter_next(&it, &code) && code.type == MPV_STR) {
		perr = proto_err_lookup((const char *)code.ptr, code.len);
		if (perr == PERR_NONE)
			perr = PERR_INTERNAL;
	}
	if (!mpv_iter_next(&it, &message))
		message.type = MPV_NIL;
	err = server_error(h, perr, &message);
	snprintf(h->broken_msg, sizeof(h->broken_msg), "connection closed by "
	    "the server after %s: %s", h->errcode, h->errmsg);
	/* The request being read gets err; the others are lost. */
	if (h->pending > 0)
		h->pending--;
	drop_stream(h, MPMGR_EIO);
	return err;
}

/* --- our cancels' replies ------------------------------------------ */

/* Whether msgid a was sent before b (msgids wrap at 2^32). */
static bool
msgid_before(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static struct cancel *
cancel_find(mpmgr *h, uint32_t msgid)
{
	for (size_t i = 0; i < h->ncancels; i++)
		if (h->cancels[i].msgid == msgid)
			return &h->cancels[i];
	return NULL;
}

/* Forget the answered cancels that no caller's msgid can skip over any
 * more. */
static void
cancels_prune(mpmgr *h)
{
	size_t n = 0;

	while (n < h->ncancels && h->cancels[n].answered &&
	    msgid_before(h->cancels[n].msgid, h->oldest_msgid))
		n++;
	if (n == 0)
		return;
	h->ncancels -= n;
	memmove(h->cancels, h->cancels + n, h->ncancels *
	    sizeof(h->cancels[0]));
}

/*
 * An unanswered cancel whose reply comes before any of the caller's, or
 * NULL. Replies come in order, so reading it waits for nothing parked.
 */
static struct cancel *
cancel_due(mpmgr *h)
{
	for (size_t i = 0; i < h->ncancels; i++) {
		if (h->cancels[i].answered)
			continue;
		if (h->pending == 0 ||
		    msgid_before(h->cancels[i].msgid, h->oldest_msgid))
			return &h->cancels[i];
		return NULL;
	}
	return NULL;
}

/* The caller's oldest request was answered: the next one is due. */
static void
caller_reply_taken(mpmgr *h)
{
	h->pending--;
	if (h->pending == 0) {
		h->oldest_msgid = h->next_msgid;
	} else {
		h->oldest_msgid++;
		while (cancel_find(h, h->oldest_msgid) != NULL)
			h->oldest_msgid++;
	}
	cancels_prune(h);
}

/*
 * The next response, held in in (notifications skipped): 0 and *m, or an
 * error (a mpmgr.error notification's code, or a client error).
 */
static int
next_response(mpmgr *h, int64_t deadline, struct msg *m)
{
	const char *why;
	size_t flen;
	int r;

	for (;;) {
		if ((r = read_frame(h, deadline, &flen)) != 0)
			return r;
		h->held = flen;
		if (msg_parse_frame(buf_head(&h->in), flen, m, &why) == -1)
			return breaks(h, MPMGR_EPROTO, "malformed message from "
			    "the server: %s", why);
		if (m->kind == MSG_NOTIFICATION) {
			if (mpv_str_eq(&m->method, MPMGR_NOTIFY_ERROR))
				return error_notification(h, m);
			/* Out of memory drops it: the reply is still due. */
			(void)handle_notify(h, m);
			release(h);
			continue;
		}
		if (m->kind != MSG_RESPONSE)
			return breaks(h, MPMGR_EPROTO, "the server sent a "
			    "request");
		return 0;
	}
}

/* m answers one of our cancels: note it and drop it. */
static bool
cancel_reply(mpmgr *h, const struct msg *m)
{
	struct cancel *c = cancel_find(h, m->msgid);

	if (c == NULL || c->answered)
		return false;
	c->answered = true;
	cancels_prune(h);
	release(h);
	return true;
}

/*
 * Read the replies of our cancels that come before any of the caller's,
 * so that the socket is readable only for the caller's replies.
 */
static int
drain_cancels(mpmgr *h)
{
	struct cancel *c;
	struct msg m;
	int r;

	while ((c = cancel_due(h)) != NULL) {
		if ((r = next_response(h, NO_DEADLINE, &m)) != 0)
			return r;
		if (!cancel_reply(h, &m))
			return breaks(h, MPMGR_EPROTO, "reply to msgid %u "
			    "while %u was due", m.msgid, c->msgid);
	}
	return 0;
}

/*
 * Read the reply to the oldest outstanding request into *result (NULL:
 * not converted). 0, a server error as MPMGR_E*, or a client error.
 */
static int
take_reply(mpmgr *h, int64_t deadline, msgpack_object *result)
{
	struct msg m;
	struct mpv message;
	int r, code;

	for (;;) {
		if ((r = next_response(h, deadline, &m)) != 0)
			return r;
		if (cancel_reply(h, &m))
			continue;
		if (m.msgid != h->oldest_msgid)
			return breaks(h, MPMGR_EPROTO, "reply to msgid %u "
			    "while %u was due", m.msgid, h->oldest_msgid);
		caller_reply_taken(h);
		if ((code = msg_error_code(&m, &message)) != PERR_NONE)
			return server_error(h, code, &message);
		if (result != NULL && to_object(h, &m.result, result) == -1)
			return handle_fail(h, MPMGR_ENOMEM, "out of memory "
			    "converting a reply");
		return 0;
	}
}

/* --- for mpmgr_notify.c ---------------------------------------------- */

struct handle_notify *
handle_notify_of(mpmgr *h)
{
	return &h->notify;
}

int
handle_object(mpmgr *h, const struct mpv *v, msgpack_object *o)
{
	return to_object(h, v, o);
}

int
handle_next_notification(mpmgr *h, struct msg *m)
{
	const char *why;
	size_t flen;
	int r;

	if ((r = usable(h)) != 0)
		return r;
	if (h->in_request)
		return handle_fail(h, MPMGR_ESTATE, "mpmgr_poll_notify inside "
		    "a request");
	release(h);
	while ((r = recv_some(h, true)) == 1)
		;
	if (r < 0)
		return r;
	for (;;) {
		r = scan_frame(&h->scan, buf_head(&h->in), buf_used(&h->in),
		    MAX_FRAME, &flen, &why);
		if (r == SCAN_MORE) {
			if (h->closed)
				return breaks(h, MPMGR_EIO, "connection closed "
				    "by the server");
			return 0;
		}
		if (r != SCAN_FRAME)
			return breaks(h, MPMGR_EPROTO, "malformed data from "
			    "the server: %s", why != NULL ? why : "too big");
		if (msg_parse_frame(buf_head(&h->in), flen, m, &why) == -1)
			return breaks(h, MPMGR_EPROTO, "malformed message from "
			    "the server: %s", why);
		h->held = flen;
		if (m->kind != MSG_RESPONSE)
			break;
		/* One of our cancels' replies goes, as mpmgr_reply drops
		 * it; a caller's stays for mpmgr_reply. */
		if (!cancel_reply(h, m)) {
			h->held = 0;
			return HANDLE_REPLY_NEXT;
		}
	}
	if (m->kind != MSG_NOTIFICATION)
		return breaks(h, MPMGR_EPROTO, "the server sent a request");
	if (mpv_str_eq(&m->method, MPMGR_NOTIFY_ERROR))
		return error_notification(h, m);
	return 1;
}

/* --- handle and handshake ------------------------------------------- */

/* The packer's sink: called for every header and payload packed, so the
 * usual case, room enough, is kept to a copy. */
static int
pack_write(void *data, const char *p, size_t n)
{
	mpmgr *h = data;

	/* An empty str, bin or ext may come with a NULL pointer (as
	 * msgpack_unpack makes them): nothing to copy. */
	if (n == 0)
		return 0;
	if (n <= buf_room(&h->out)) {
		/* most calls are a 1-byte header: no call to memcpy for it */
		if (n == 1)
			*buf_tail(&h->out) = (uint8_t)*p;
		else
			memcpy(buf_tail(&h->out), p, n);
		h->out.len += n;
		return 0;
	}
	if (buf_append(&h->out, p, n) == -1) {
		h->nomem = true;
		return -1;
	}
	return 0;
}

static mpmgr *
handle_new(void)
{
	mpmgr *h;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	if (!msgpack_zone_init(&h->zone, ZONE_CHUNK)) {
		free(h);
		return NULL;
	}
	h->fd = -1;
	h->reconnect = -1;
	pthread_once(&fork_once, fork_hook);
	h->fork_gen = fork_gen;
	h->check_pid = !fork_hooked;
	h->pid = getpid();
	buf_init(&h->out);
	buf_init(&h->in);
	scan_init(&h->scan);
	msgpack_packer_init(&h->pk, h, pack_write);
	return h;
}

/* Root, ourselves or the mpmgr user may serve us; nobody else. */
static bool
peer_trusted(uid_t uid)
{
	struct passwd pw, *res = NULL;
	char pwbuf[4096];

	if (uid == 0 || uid == geteuid())
		return true;
	if (getpwnam_r("mpmgr", &pw, pwbuf, sizeof(pwbuf), &res) != 0 ||
	    res == NULL)
		return false;
	return pw.pw_uid == uid;
}

static int
open_socket(mpmgr *h)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = HANDSHAKE_MS / 1000 };
	struct timeval zero = { 0 };
	struct ucred cred;
	socklen_t credlen = sizeof(cred);
	size_t len = strlen(h->socket_path);

	if (len >= sizeof(sa.sun_path))
		return breaks(h, MPMGR_ECONNECT, "socket path too long: %s",
		    h->socket_path);
	memcpy(sa.sun_path, h->socket_path, len + 1);
	if ((h->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return breaks(h, MPMGR_ECONNECT, "socket: %s", strerror(errno));
	/* connect() waits while the listen backlog is full: bound that too */
	setsockopt(h->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	while (connect(h->fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		if (errno != EINTR)
			return breaks(h, MPMGR_ECONNECT, "cannot connect to "
			    "%s: %s", h->socket_path, strerror(errno));
	}
	setsockopt(h->fd, SOL_SOCKET, SO_SNDTIMEO, &zero, sizeof(zero));
	if (getsockopt(h->fd, SOL_SOCKET, SO_PEERCRED, &cred, &credlen) == -1)
		return breaks(h, MPMGR_EPEER, "SO_PEERCRED: %s",
		    strerror(errno));
	if (!peer_trusted(cred.uid))
		return breaks(h, MPMGR_EPEER, "%s is served by uid %ld, not "
		    "root, us or mpmgr: refusing to authenticate",
		    h->socket_path, (long)cred.uid);
	return 0;
}

/* [2, "mpmgr.challenge", [version, Ns]]: Ns into ns. */
static int
read_challenge(mpmgr *h, int64_t deadline, uint8_t ns[MPMGR_NONCE_LEN])
{
	struct mpv_iter it;
	struct mpv version, nonce;
	struct msg m;
	const char *why;
	size_t flen;
	int64_t v;
	int r;

	if ((r = read_frame(h, deadline, &flen)) != 0)
		return r;
	h->held = flen;
	if (msg_parse_frame(buf_head(&h->in), flen, &m, &why) == -1)
		return breaks(h, MPMGR_EPROTO, "malformed message from the "
		    "server: %s", why);
	if (m.kind != MSG_NOTIFICATION)
		return breaks(h, MPMGR_EPROTO, "the server did not start with "
		    "a challenge");
	if (mpv_str_eq(&m.method, MPMGR_NOTIFY_ERROR)) {
		r = error_notification(h, &m);
		h->broken = r;
		return r;
	}
	if (!mpv_str_eq(&m.method, MPMGR_NOTIFY_CHALLENGE))
		return breaks(h, MPMGR_EPROTO, "the server did not start with "
		    "a challenge");
	mpv_iter_init(&it, &m.params);
	if (!mpv_iter_next(&it, &version) || !mpv_to_int64(&version, &v) ||
	    !mpv_iter_next(&it, &nonce) || nonce.type != MPV_BIN ||
	    nonce.len != MPMGR_NONCE_LEN)
		return breaks(h, MPMGR_EPROTO, "malformed challenge");
	if (v != MPMGR_PROTO_VERSION)
		return breaks(h, MPMGR_EPROTO, "the server speaks protocol "
		    "version %lld, this library %d", (long long)v,
		    MPMGR_PROTO_VERSION);
	memcpy(ns, nonce.ptr, MPMGR_NONCE_LEN);
	release(h);
	return 0;
}

/* On a connected socket (open_socket), the handshake. */
static int
handshake(mpmgr *h, const uint8_t *key, size_t keylen)
{
	uint8_t ns[MPMGR_NONCE_LEN], nc[MPMGR_NONCE_LEN];
	uint8_t proof[MPMGR_MAC_LEN], expect[MPMGR_MAC_LEN];
	int64_t deadline = now_ms() + HANDSHAKE_MS;
	msgpack_object res;
	int r;

	if (keylen == 0 || keylen > MPMGR_KEY_MAX)
		return breaks(h, MPMGR_EKEY, "the authkey must hold 1 to %d "
		    "bytes", MPMGR_KEY_MAX);
	if ((r = read_challenge(h, deadline, ns)) != 0)
		return r;
	if (auth_random(nc, sizeof(nc)) == -1)
		return breaks(h, MPMGR_EIO, "getrandom: %s", strerror(errno));
	auth_client_proof(key, keylen, ns, nc, proof);
	h->oldest_msgid = h->next_msgid;
	msg_pack_request(&h->pk, h->next_msgid++, MPMGR_METHOD_AUTH, 3);
	msgpack_pack_int(&h->pk, MPMGR_PROTO_VERSION);
	msgpack_pack_bin_with_body(&h->pk, proof, sizeof(proof));
	msgpack_pack_bin_with_body(&h->pk, nc, sizeof(nc));
	if (h->nomem)
		return breaks(h, MPMGR_ENOMEM, "out of memory");
	h->pending = 1;
	if ((r = send_out(h, deadline)) != 0)
		return r;
	if ((r = take_reply(h, deadline, &res)) != 0) {
		/* the server closes after refusing: later calls answer r */
		close_stream(h, r);
		return r;
	}
	auth_server_proof(key, keylen, nc, ns, expect);
	if (res.type != MSGPACK_OBJECT_BIN ||
	    !auth_equal((const uint8_t *)res.via.bin.ptr, res.via.bin.size,
	    expect, sizeof(expect)))
		return breaks(h, MPMGR_EPEER, "server failed to prove it knows "
		    "the authkey");
	release(h);
	h->errcode[0] = h->errmsg[0] = '\0';
	return 0;
}

/* On a connected socket, authenticate with the key of h: its file, read
 * anew, or its bytes. */
static int
handshake_keyed(mpmgr *h)
{
	uint8_t key[MPMGR_KEY_MAX];
	char err[512];
	size_t keylen;
	int r;

	if (h->keypath[0] == '\0')
		return handshake(h, h->key, h->keylen);
	if (auth_key_load(h->keypath, key, &keylen, err, sizeof(err)) == -1)
		return breaks(h, MPMGR_EKEY, "%s", err);
	r = handshake(h, key, keylen);
	explicit_bzero(key, sizeof(key));
	return r;
}

/* Connect and authenticate with the key of h. */
static int
connect_keyed(mpmgr *h)
{
	int r;

	if ((r = open_socket(h)) != 0)
		return r;
	return handshake_keyed(h);
}

int
mpmgr_connect(mpmgr **out, const char *socket_path, const char *authkey_file)
{
	char err[512];
	mpmgr *h;
	int r;

	if ((*out = h = handle_new()) == NULL)
		return MPMGR_ENOMEM;
	if (paths_socket(socket_path, h->socket_path, sizeof(h->socket_path),
	    err, sizeof(err)) == -1)
		return breaks(h, MPMGR_ECONNECT, "%s", err);
	/* Where the key is, before the socket: a handle that cannot reach
	 * the daemon yet may reconnect later (mpmgr_reconnect). */
	if (paths_authkey(authkey_file, h->socket_path, h->keypath,
	    sizeof(h->keypath), err, sizeof(err)) == -1)
		h->keypath[0] = '\0';
	/* The socket first: no daemon is ECONNECT, not a key problem. */
	if ((r = open_socket(h)) != 0)
		return r;
	if (h->keypath[0] == '\0')
		return breaks(h, MPMGR_EKEY, "%s", err);
	return handshake_keyed(h);
}

int
mpmgr_connect_key(mpmgr **out, const char *socket_path, const void *key,
    size_t keylen)
{
	char err[512];
	mpmgr *h;
	int r;

	if ((*out = h = handle_new()) == NULL)
		return MPMGR_ENOMEM;
	if (key == NULL)
		return breaks(h, MPMGR_EINVAL, "no key given");
	if (paths_socket(socket_path, h->socket_path, sizeof(h->socket_path),
	    err, sizeof(err)) == -1)
		return breaks(h, MPMGR_ECONNECT, "%s", err);
	if (keylen == 0 || keylen > MPMGR_KEY_MAX)
		return breaks(h, MPMGR_EKEY, "the authkey must hold 1 to %d "
		    "bytes", MPMGR_KEY_MAX);
	memcpy(h->key, key, keylen);
	h->keylen = keylen;
	if ((r = open_socket(h)) != 0)
		return r;
	return handshake(h, key, keylen);
}

int
mpmgr_attach(mpmgr **out, int fd)
{
	struct sockaddr_un sa;
	socklen_t len = sizeof(sa), tlen = sizeof(int), clen;
	struct ucred cred;
	size_t n;
	int type;
	mpmgr *h;

	if ((*out = h = handle_new()) == NULL)
		return MPMGR_ENOMEM;
	memset(&sa, 0, sizeof(sa));
	/* h->fd is still -1: a refusal leaves fd open, the caller's. */
	if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) == -1 ||
	    type != SOCK_STREAM ||
	    getpeername(fd, (struct sockaddr *)&sa, &len) == -1 ||
	    sa.sun_family != AF_UNIX || len <= offsetof(struct sockaddr_un,
	    sun_path) || sa.sun_path[0] == '\0')
		return breaks(h, MPMGR_EINVAL, "descriptor %d is not a "
		    "connection to a Unix socket", fd);
	n = len - offsetof(struct sockaddr_un, sun_path);
	if (n >= sizeof(h->socket_path))
		n = sizeof(h->socket_path) - 1;
	memcpy(h->socket_path, sa.sun_path, n);
	h->socket_path[n] = '\0';
	clen = sizeof(cred);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == -1)
		return breaks(h, MPMGR_EPEER, "SO_PEERCRED: %s",
		    strerror(errno));
	if (!peer_trusted(cred.uid))
		return breaks(h, MPMGR_EPEER, "%s is served by uid %ld, not "
		    "root, us or mpmgr: refusing it", h->socket_path,
		    (long)cred.uid);
	h->fd = fd;
	h->attached = true;
	return 0;
}


/* --- reconnecting ------------------------------------------------------ */

/* Forget the old connection's stream: buffers, frames, cancels. */
static void
reset_stream(mpmgr *h)
{
	if (h->fd >= 0) {
		close(h->fd);
		h->fd = -1;
	}
	h->held = 0;
	buf_reset(&h->in);
	buf_reset(&h->out);
	buf_shrink(&h->in, IN_KEEP);
	buf_shrink(&h->out, OUT_KEEP);
	msgpack_zone_clear(&h->zone);
	h->zone_used = 0;
	scan_init(&h->scan);
	h->closed = false;
	h->broken = 0;
	h->pending = 0;
	h->ncancels = 0;
	h->oldest_msgid = h->next_msgid;
}

static void
pause_ms(int64_t ms)
{
	struct timespec ts = { .tv_sec = ms / 1000,
		.tv_nsec = (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

int
mpmgr_reconnect(mpmgr *h)
{
	int64_t deadline, left, pause = 10;
	size_t lost;
	int r;

	if (h == NULL)
		return MPMGR_EINVAL;
	if (h->fork_gen != fork_gen || (h->check_pid && getpid() != h->pid))
		return usable(h);
	if (h->in_request)
		return handle_fail(h, MPMGR_ESTATE, "mpmgr_reconnect inside a "
		    "request");
	if (h->attached)
		return handle_fail(h, MPMGR_EINVAL, "mpmgr_reconnect: an "
		    "attached connection (mpmgr_attach) is never opened again");
	if (h->keypath[0] == '\0' && h->keylen == 0)
		return handle_fail(h, MPMGR_EKEY, "no key to connect with");
	/* What was outstanding stays lost, answered MPMGR_EINFLIGHT in turn. */
	h->lost += h->pending;
	deadline = now_ms() + (h->reconnect > 0 ? (int64_t)(h->reconnect *
	    1000) : 0);
	for (;;) {
		reset_stream(h);
		lost = h->lost;
		if ((r = connect_keyed(h)) == 0) {
			h->reconnects++;
			return 0;
		}
		/* The handshake's own request is not the caller's. */
		h->lost = lost;
		left = deadline - now_ms();
		if ((r != MPMGR_ECONNECT && r != MPMGR_EIO) || left <= 0)
			return r;
		pause_ms(pause < left ? pause : left);
		if (pause < 250)
			pause *= 2;
	}
}

int
mpmgr_set_reconnect(mpmgr *h, double seconds)
{
	if (h == NULL)
		return MPMGR_EINVAL;
	if (isnan(seconds))
		return handle_fail(h, MPMGR_EINVAL, "mpmgr_set_reconnect: NaN");
	/* A new connection would not hold what the shared one holds, and
	 * the key is the parent's: an inherited connection ends with it. */
	if (h->attached && seconds >= 0)
		return handle_fail(h, MPMGR_EINVAL, "mpmgr_set_reconnect: an "
		    "attached connection (mpmgr_attach) is never opened again");
	h->reconnect = seconds < 0 ? -1 : seconds > 1e9 ? 1e9 : seconds;
	return 0;
}

unsigned long
mpmgr_reconnects(const mpmgr *h)
{
	return h != NULL ? h->reconnects : 0;
}

/*
 * Before a request on a connection with nothing outstanding: if it broke,
 * or the server hung up since the last reply (a restart), connect again
 * when reconnecting is on. 0, or why not (the handle then answers that).
 */
static int
revive(mpmgr *h)
{
	struct pollfd pfd;

	if (h->reconnect < 0 || h->pending > 0 || buf_used(&h->out) > 0)
		return 0;
	if (h->broken == 0) {
		pfd.fd = h->fd;
		pfd.events = POLLRDHUP;
		pfd.revents = 0;
		if (poll(&pfd, 1, 0) <= 0 ||
		    !(pfd.revents & (POLLRDHUP | POLLHUP | POLLERR)))
			return 0;
	} else if (!revivable(h, h->broken))
		return 0;
	return mpmgr_reconnect(h);
}

/* The reply of a request the broken connection took along. */
static int
lost_reply(mpmgr *h)
{
	h->lost--;
	return handle_fail(h, MPMGR_EINFLIGHT, "the connection to %s was lost "
	    "with this request in flight: it may or may not have run",
	    h->socket_path);
}

void
mpmgr_free(mpmgr *h)
{
	if (h == NULL)
		return;
	/* In a forked child this closes only the child's copy of the fd. */
	if (h->fd >= 0)
		close(h->fd);
	explicit_bzero(h->key, sizeof(h->key));
	buf_free(&h->out);
	buf_free(&h->in);
	msgpack_zone_destroy(&h->zone);
	free(h);
}

const char *
mpmgr_errmsg(const mpmgr *h)
{
	return h != NULL ? h->errmsg : "";
}

const char *
mpmgr_errcode(const mpmgr *h)
{
	return h != NULL ? h->errcode : "";
}

int
mpmgr_fd(const mpmgr *h)
{
	return h != NULL ? h->fd : -1;
}

const char *
mpmgr_socket_path(const mpmgr *h)
{
	return h != NULL ? h->socket_path : "";
}

/* --- generic requests ------------------------------------------------ */

msgpack_packer *
mpmgr_request_begin(mpmgr *h, const char *method, uint32_t nparams)
{
	size_t len, at;

	if (h == NULL || (!h->in_request && revive(h) != 0) || usable(h) != 0)
		return NULL;
	if (h->in_request) {
		handle_fail(h, MPMGR_ESTATE, "mpmgr_request_begin: the "
		    "previous request was not ended");
		return NULL;
	}
	if (method == NULL) {
		handle_fail(h, MPMGR_EINVAL, "mpmgr_request_begin: no method");
		return NULL;
	}
	len = strlen(method);
	if (len > UINT32_MAX) {
		handle_fail(h, MPMGR_EINVAL, "mpmgr_request_begin: method too "
		    "long");
		return NULL;
	}
	h->in_request = true;
	h->nomem = false;
	h->req_nparams = nparams;
	h->req_start = buf_used(&h->out);
	if (buf_reserve(&h->out, MSG_REQUEST_HEAD_MAX + len) == -1) {
		h->nomem = true;
		return &h->pk;
	}
	h->out.len += msg_request_head(buf_tail(&h->out), h->next_msgid,
	    method, (uint32_t)len, nparams, &at);
	h->req_params = scan_utf8((const uint8_t *)method, len) ?
	    h->req_start + at : h->req_start;
	return &h->pk;
}

/*
 * Whether what was packed since request_begin is one well-formed request:
 * 0, 1 for a wrong count of params, or -1 and *why (invalid UTF-8,
 * nesting beyond the limit...). The envelope before the params array is
 * msg_request_head's, sound when the method is UTF-8: then only the
 * params are scanned (40-50 instructions less per request, callgrind),
 * unless they are long enough (MPMGR_FRAME_DEPTH bytes) to nest as deep
 * as the frame's limit, which counts the envelope's level too.
 */
static int
request_check(mpmgr *h, const char **why)
{
	struct scan_state st;
	const uint8_t *frame = buf_head(&h->out) + h->req_params;
	size_t len = buf_used(&h->out) - h->req_params, flen = 0;
	int r;

	if (len >= MPMGR_FRAME_DEPTH) {
		frame = buf_head(&h->out) + h->req_start;
		len = buf_used(&h->out) - h->req_start;
	}
	scan_init(&st);
	r = scan_frame(&st, frame, len, SIZE_MAX, &flen, why);
	if (r == SCAN_FRAME && flen == len)
		return 0;
	return r == SCAN_FRAME || r == SCAN_MORE ? 1 : -1;
}

/*
 * The request must be exactly one well-formed frame: a wrong count of
 * params (or invalid UTF-8, or nesting beyond the limit) is refused here
 * rather than desynchronising the stream or earning a close from the
 * server.
 */
int
mpmgr_request_end(mpmgr *h)
{
	const char *why = NULL;
	int r;

	if (h == NULL)
		return MPMGR_EINVAL;
	if ((r = usable(h)) != 0)
		return r;
	if (!h->in_request)
		return handle_fail(h, MPMGR_ESTATE, "mpmgr_request_end without "
		    "mpmgr_request_begin");
	h->in_request = false;
	if (h->nomem || (r = request_check(h, &why)) != 0) {
		h->out.len = h->out.off + h->req_start;
		if (h->nomem)
			return handle_fail(h, MPMGR_ENOMEM, "out of memory "
			    "packing a request");
		if (r == 1)
			return handle_fail(h, MPMGR_EINVAL, "request must hold "
			    "exactly %u params", h->req_nparams);
		return handle_fail(h, MPMGR_EINVAL, "invalid request: %s",
		    why != NULL ? why : "too big");
	}
	h->next_msgid++;
	h->pending++;
	return 0;
}

int
mpmgr_flush(mpmgr *h)
{
	int r;

	if (h == NULL)
		return MPMGR_EINVAL;
	if ((r = usable(h)) != 0)
		return r;
	if (h->in_request)
		return handle_fail(h, MPMGR_ESTATE, "mpmgr_flush inside a "
		    "request");
	release(h);
	if ((r = drain_cancels(h)) != 0)
		return r;
	if ((r = send_out(h, NO_DEADLINE)) != 0)
		return r;
	if (h->closed)
		return handle_fail(h, MPMGR_EIO, "connection closed by the "
		    "server");
	return 0;
}

size_t
mpmgr_pending(const mpmgr *h)
{
	return h != NULL ? h->pending + h->lost : 0;
}

int
mpmgr_reply(mpmgr *h, msgpack_object *result)
{
	int r;

	if (h == NULL)
		return MPMGR_EINVAL;
	if (h->in_request)
		return handle_fail(h, MPMGR_ESTATE, "mpmgr_reply inside a "
		    "request");
	/* Replies come in order: those lost with a connection first. */
	if (h->lost > 0 && h->fork_gen == fork_gen &&
	    !(h->check_pid && getpid() != h->pid))
		return lost_reply(h);
	if ((r = usable(h)) != 0)
		return r;
	if (h->pending == 0)
		return handle_fail(h, MPMGR_ESTATE, "mpmgr_reply with no "
		    "request outstanding");
	release(h);
	/* a server that hung up may have said why: take_reply reads it */
	if ((r = send_out(h, NO_DEADLINE)) == 0)
		r = take_reply(h, NO_DEADLINE, result);
	/* The connection broke under this request: it is lost too. */
	if (r < 0 && r == h->broken && revivable(h, r) && h->lost > 0)
		return lost_reply(h);
	return r;
}

/*
 * Whether method only reads, so that it may be sent again after the
 * connection was lost under it: neither MF_WRITE nor MF_ADMIN in the
 * catalogue (an unknown method is not).
 */
static bool
method_rereadable(const char *method)
{
#define LIB_METHOD_ROW(t, v, mn, mx, fl, p, sm) { #t "." #v, (fl) },
	static const struct {
		const char *name;
		unsigned flags;
	} rows[] = { MPMGR_METHODS(LIB_METHOD_ROW) };
#undef LIB_METHOD_ROW

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (strcmp(rows[i].name, method) == 0)
			return !(rows[i].flags & (MF_WRITE | MF_ADMIN));
	return false;
}

int
mpmgr_call(mpmgr *h, const char *method, const msgpack_object *params,
    uint32_t nparams, msgpack_object *result)
{
	msgpack_packer *pk;
	bool again = true;
	uint32_t i;
	int r;

	if (h == NULL)
		return MPMGR_EINVAL;
	for (;;) {
		if (!h->in_request && (r = revive(h)) != 0)
			return r;
		if ((r = usable(h)) != 0)
			return r;
		if (h->pending > 0 || h->lost > 0 || h->in_request)
			return handle_fail(h, MPMGR_ESTATE, "mpmgr_call with "
			    "%zu replies pending: read them first",
			    h->pending + h->lost);
		if (nparams > 0 && params == NULL)
			return handle_fail(h, MPMGR_EINVAL, "mpmgr_call: no "
			    "params");
		if (method == NULL ||
		    (pk = mpmgr_request_begin(h, method, nparams)) == NULL)
			return MPMGR_EINVAL;
		for (i = 0; i < nparams; i++)
			msgpack_pack_object(pk, params[i]);
		if ((r = mpmgr_request_end(h)) != 0)
			return r;
		r = mpmgr_reply(h, result);
		/* A read lost with the connection is sent again, once; a
		 * write never is: it may have run. */
		if (r != MPMGR_EINFLIGHT || !again || !method_rereadable(method))
			break;
		again = false;
	}
	if (r == MPMGR_EINFLIGHT)
		handle_fail(h, MPMGR_EINFLIGHT, "the connection to %s was lost "
		    "with %s in flight: it may or may not have run",
		    h->socket_path, method);
	return r;
}

int
mpmgr_cancel_pending(mpmgr *h)
{
	size_t start;
	int r;

	if (h == NULL)
		return MPMGR_EINVAL;
	if ((r = usable(h)) != 0)
		return r;
	if (h->in_request)
		return handle_fail(h, MPMGR_ESTATE, "mpmgr_cancel_pending "
		    "inside a request");
	if (h->pending == 0)
		return handle_fail(h, MPMGR_ESTATE, "mpmgr_cancel_pending with "
		    "no request outstanding");
	for (size_t i = 0; i < h->ncancels; i++)
		if (h->cancels[i].target == h->oldest_msgid)
			return 0;
	if (h->ncancels == MPMGR_MAX_CANCELS)
		return handle_fail(h, MPMGR_ESTATE, "%d cancels unanswered: "
		    "read replies first", MPMGR_MAX_CANCELS);
	/* send_out may read into in: the last result's views end here */
	release(h);
	h->nomem = false;
	start = buf_used(&h->out);
	msg_pack_request(&h->pk, h->next_msgid,
	    MPMGR_METHOD_NAME(sys, cancel), 1);
	msgpack_pack_uint32(&h->pk, h->oldest_msgid);
	if (h->nomem) {
		h->out.len = h->out.off + start;
		return handle_fail(h, MPMGR_ENOMEM, "out of memory packing a "
		    "cancel");
	}
	h->cancels[h->ncancels++] = (struct cancel){
		.msgid = h->next_msgid++,
		.target = h->oldest_msgid,
	};
	if ((r = send_out(h, NO_DEADLINE)) != 0)
		return r;
	if (h->closed)
		return handle_fail(h, MPMGR_EIO, "connection closed by the "
		    "server");
	return 0;
}
