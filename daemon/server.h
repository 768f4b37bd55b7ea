/*
 * server.h: the server's state, its clock, and its start and stop.
 *
 * `server` is the one global of the daemon: its configuration (set by
 * main.c before the loop starts), its key, its counters and its lists of
 * connections. server.c owns it; every module may read it, and the
 * connection layer keeps its lists.
 */
#ifndef MPMGR_SERVER_H
#define MPMGR_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>
#include <sys/un.h>

#include <event2/event.h>

#include "../proto/mpmgr_proto.h"

/* Limits of the daemon alone (the shared ones are in mpmgr_proto.h). */
#define MPMGRD_DEFAULT_FRAME_TIMEOUT_SEC 10
/* --max-client-memory without --max-memory */
#define MPMGRD_DEFAULT_MAX_CLIENT_MEMORY ((size_t)1 << 30)

struct conn;
TAILQ_HEAD(conn_list, conn);

struct server {
	struct event_base *base;
	/* configuration */
	char socket_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char authkey_path[4096];
	size_t max_message;
	size_t max_clients;
	size_t max_unauth;
	size_t output_limit;
	size_t max_memory;        /* 0: no ceiling */
	size_t max_client_memory; /* every client's buffers; 0: no ceiling */
	uint64_t frame_timeout_usec; /* a message not all read for this
					long closes its connection */
	/* the key */
	uint8_t key[MPMGR_KEY_MAX];
	size_t keylen;
	uid_t uid;                /* the daemon's own: ADMIN peers are it or root */
	/* state */
	uint64_t start_usec;      /* monotonic clock at start */
	uint64_t ops;             /* requests served */
	uint64_t conns_total;     /* connections accepted */
	size_t nclients;          /* authenticated */
	size_t nunauth;
	size_t npaused;           /* not read: input full behind a parked
				     request (sys.stats paused_clients) */
	size_t client_memory;     /* every connection's buffers (bufmem) */
	struct conn_list clients; /* authenticated */
	struct conn_list unauth;  /* oldest first: dropped first past max */
	struct conn_list ready;   /* woken or with output to flush this turn */
	struct conn_list monitors; /* watchers (sys.monitor), newest last */
	size_t nmonitors;         /* of monitors: the one branch a request
				     pays when nobody watches */
	bool stopping;
	const char *stop_why;     /* what asked for the stop */
	struct event *ev_stop;    /* the connection layer's stop, run from the
				     loop (conn.c makes it) */
};

extern struct server server;

/* Fill `server` with the documented defaults (empty lists, limits). */
void server_init(void);
/* Monotonic clock in microseconds. */
uint64_t now_usec(void);
/*
 * Begin a graceful stop: stop accepting, answer what is in hand, exit 0.
 * Idempotent. The work runs from the loop (server.ev_stop), off the
 * caller's stack: a handler may ask for it.
 */
void server_stop(const char *why);

#endif
