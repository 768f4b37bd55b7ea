/*
 * mpmgrd.h: what the daemon's modules share: the server state (server.h),
 * the connection as the rest of the daemon sees it, and the seam between the
 * connection layer (conn.c, main.c) and request handling (dispatch.c,
 * registry.c, obj_*.c).
 *
 * One thread, one libevent loop: nothing here is locked.
 */
#ifndef MPMGRD_H
#define MPMGRD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

#include <event2/event.h>
#include <msgpack.h>

#include "../proto/buf.h"
#include "../proto/msg.h"
#include "../proto/mpmgr_proto.h"
#include "../proto/scan.h"
#include "server.h"

/* The release, written once in proto/mpmgr_proto.h. */
#define MPMGRD_VERSION MPMGR_VERSION

struct conn;
struct object;
struct owner;
struct waiter;

/* Connection states and flags. */
enum conn_state {
	CONN_HANDSHAKE, /* challenge sent, waiting for auth */
	CONN_READY      /* authenticated */
};
#define CONN_CLOSING   0x01 /* close at the next safe point; no more I/O */
#define CONN_PARKED    0x02 /* a request is parked: later ones wait */
#define CONN_WANTWRITE 0x04 /* EV_WRITE armed: output hit EAGAIN */
#define CONN_EOF       0x08 /* peer hung up (read EOF or POLLRDHUP) */
#define CONN_QUEUED    0x10 /* on server.ready: run input / flush output */
#define CONN_MONITOR   0x20 /* a watcher: on server.monitors (monitor.c) */
#define CONN_DEAF      0x40 /* its peer is gone: replies are dropped, what it
				sent still runs, but no destructive read
				(reply.h: nothing fits) */

struct conn {
	int fd;
	uint8_t ncancel_miss;     /* of cancel_miss[], below */
	uint64_t id;
	enum conn_state state;
	unsigned flags;
	uid_t uid;                /* SO_PEERCRED */
	gid_t gid;
	pid_t pid;
	char comm[16];            /* /proc/PID/comm at accept, or "" */
	uint64_t since_usec;      /* accepted (now_usec clock) */
	uint64_t last_usec;       /* last bytes read */
	uint64_t bytes_in;
	uint64_t bytes_out;
	struct event *ev_read;
	struct event *ev_write;   /* made on the first EAGAIN, else NULL */
	struct event *ev_timer;   /* handshake deadline, then the linger's */
	struct event *ev_hup;     /* parked with a full input: its hang-up,
				     on a dup of fd (conn.c, conn_watch) */
	struct buf in;            /* capped at the message limit in force */
	struct buf out;           /* capped at server.output_limit */
	struct scan_state *scan;  /* of a frame not all read yet, else NULL */
	msgpack_packer pk;        /* writes into out */
	uint8_t ns[MPMGR_NONCE_LEN];
	uint64_t ops;
	size_t bufmem;            /* its buffers, as counted in
				     server.client_memory */
	struct waiter *parked;    /* the parked request, if CONN_PARKED */
	/* sys.cancel requests that missed the parked one: answered false
	 * right after it (conn.c, conn_cancel_kind); as many as a client
	 * may have outstanding */
	uint32_t cancel_miss[MPMGR_MAX_CANCELS];
	void *holdings;           /* waiter.c: its struct hold_list, or NULL */
	LIST_HEAD(owner_list, owner) owned; /* registry.c: the ephemeral
				     objects it created */
	struct object *last_obj;  /* registry_lookup_cached's cache */
	uint64_t last_obj_gen;
	uint64_t journal_mark;    /* journal_count_waiting's */
	TAILQ_ENTRY(conn) link;   /* server.clients or server.unauth */
	TAILQ_ENTRY(conn) qlink;  /* server.ready while CONN_QUEUED */
	TAILQ_ENTRY(conn) mlink;  /* server.monitors while CONN_MONITOR */
	uint64_t mlost;           /* a watcher's lines not given since its
				     last one (its output was full) */
};
/* --- conn.c: offered to request handling ------------------------------ */

/* The packer that appends to c's output (the reply goes out at the end of
 * this loop turn). */
static inline msgpack_packer *conn_packer(struct conn *c) { return &c->pk; }
/*
 * A parked request of c was answered (its reply is in c->out): clear
 * CONN_PARKED and queue c so its buffered requests run and its output is
 * written before the loop sleeps.
 */
void conn_wake(struct conn *c);
/* True when c's peer has hung up (checked with POLLRDHUP if not seen yet):
 * nothing must be handed to it. */
bool conn_peer_gone(struct conn *c);
/*
 * c's output holds something that answers none of its requests (a
 * notification): queue c so that it is written this loop turn, whether a
 * request of c is parked or not.
 */
void conn_push(struct conn *c);
/*
 * Close c as if its peer had hung up (sys.kill): what it holds is given
 * back and its waiters leave, before this returns; its output is dropped.
 * c must not be the connection whose request is running.
 */
void conn_kill(struct conn *c);

/* --- dispatch.c: offered to the connection layer ---------------------- */

void dispatch_init(void);
enum { DISPATCH_DONE = 0, DISPATCH_PARKED = 1 };
/*
 * Run one request of an authenticated connection. The reply (or error) is
 * appended to c->out, or the request is parked (DISPATCH_PARKED; c gets
 * CONN_PARKED and conn_wake() later).
 */
int dispatch_request(struct conn *c, const struct msg *m);
/*
 * c is closing: remove its waiters, release what it holds, wake whoever
 * waits behind it, delete the ephemeral objects it created. Runs before
 * anything else once a close is decided.
 */
void dispatch_conn_closed(struct conn *c);
/* The daemon is stopping: answer every parked request with SHUTDOWN. */
void dispatch_shutdown(void);

#endif
