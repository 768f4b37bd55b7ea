/*
 * conn.h: the connection layer's entry points for main.c: the loop hooks,
 * and the listening socket (listen.c).
 *
 * What the rest of the daemon sees of a connection is in mpmgrd.h.
 */
#ifndef MPMGR_CONN_H
#define MPMGR_CONN_H

#include <stddef.h>

#include <event2/event.h>

/* Hook the connection layer into base (server.base is set to it). */
void conn_setup(struct event_base *base);
/*
 * Take an accepted, nonblocking, close-on-exec socket: send the challenge,
 * start the handshake deadline, or refuse it (LIMIT) when the server is
 * full. The fd belongs to the connection layer from here on.
 */
void conn_accept(int fd);
/*
 * The most descriptors the connection layer holds at once: a socket per
 * connection (authenticated, ADMIN slots and handshakes included) and a
 * second one for each that is parked with its input full (the watch on
 * its hang-up, conn.c's conn_hup_start).
 */
size_t conn_max_fds(void);
/* After the loop has ended: free every connection left and the buffers. */
void conn_teardown(void);

/* --- listen.c ---------------------------------------------------------- */

/*
 * Take the exclusive lock "<path>.lock" (created 0600) and hold it for the
 * life of the process, so that two daemons starting at once cannot both
 * probe, unlink and bind path. 0, or -1 with err ("another mpmgrd is
 * starting or running on PATH").
 */
int listen_lock(const char *path, char *err, size_t errlen);
/*
 * Take the listening socket systemd passed (sd_listen_fds), if any: it
 * must be exactly one listening Unix stream socket with a path, which is
 * copied to path[pathlen]. It is made nonblocking and close-on-exec, and
 * its path is never locked, probed or unlinked. 1 taken, 0 none passed (bind
 * one with listen_lock and listen_bind), -1 with err.
 */
int listen_inherit(char *path, size_t pathlen, char *err, size_t errlen);
/*
 * Refuse a live daemon answering on path, remove a stale socket, bind a new
 * one (mode 0600) and listen. Call with the lock held. 0, or -1 with err.
 */
int listen_bind(const char *path, char *err, size_t errlen);
/* Start accepting on base: each new socket goes to accept (conn_accept),
 * whose it is from then on. */
void listen_start(struct event_base *base, void (*accept)(int fd));
/* Stop accepting and close the listening socket. Idempotent. */
void listen_close(void);
/* Remove the socket if the path still names the one we bound, then drop
 * the lock. Idempotent. */
void listen_unlink(void);

#endif
