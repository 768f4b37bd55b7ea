/*
 * listen.c: the listening Unix socket, from taking its path to removing it.
 *
 * Owns the lock file "<socket>.lock", held for the whole life of the process
 * before anything at the path is probed or unlinked (two daemons starting at
 * once cannot both take it), the socket itself (bound 0600, listening,
 * nonblocking, close-on-exec) and the accept loop, which hands each new
 * socket to the function listen_start was given (main.c gives
 * conn_accept). Running out of descriptors pauses accepting for
 * LISTEN_PAUSE_MSEC instead of spinning on a listener that stays readable.
 *
 * The lock file is never unlinked: a daemon that removed it could let a
 * third one lock a fresh file while a second still holds the old one.
 *
 * A socket passed by systemd (socket activation) is taken as it is: it is
 * already bound and listening, its path belongs to the socket unit, so
 * nothing is locked, probed, bound or unlinked for it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "conn.h"
#include "log.h"
#include "mpmgrd.h"

#define LISTEN_BACKLOG 511
#define LISTEN_PAUSE_MSEC 100
#define LISTEN_ACCEPT_BATCH 256 /* accepts per callback, for fairness */

static int lock_fd = -1;
static int listen_fd = -1;
static struct event *ev_accept;
static struct event *ev_resume;
static char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static bool bound;
static dev_t bound_dev;
static ino_t bound_ino;
static bool paused_logged;
static void (*accept_fn)(int);

int
listen_lock(const char *path, char *err, size_t errlen)
{
	char lockpath[PATH_MAX];

	if ((size_t)snprintf(lockpath, sizeof lockpath, "%s.lock", path) >=
	    sizeof lockpath) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	lock_fd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (lock_fd == -1) {
		snprintf(err, errlen, "%s: %s", lockpath, strerror(errno));
		return -1;
	}
	if (flock(lock_fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK)
			snprintf(err, errlen, "another mpmgrd is starting or "
			    "running on %s", path);
		else
			snprintf(err, errlen, "%s: flock: %s", lockpath,
			    strerror(errno));
		close(lock_fd);
		lock_fd = -1;
		return -1;
	}
	return 0;
}

static int
listen_addr(const char *path, struct sockaddr_un *sun, char *err,
    size_t errlen)
{
	memset(sun, 0, sizeof *sun);
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun->sun_path) {
		snprintf(err, errlen, "%s: socket path too long", path);
		return -1;
	}
	memcpy(sun->sun_path, path, strlen(path) + 1);
	return 0;
}

/* Whatever is at path: nothing, a stale socket (removed) or a refusal. */
static int
listen_probe(const struct sockaddr_un *sun, char *err, size_t errlen)
{
	const char *path = sun->sun_path;
	struct stat st;
	int fd, r, saved;

	if (lstat(path, &st) == -1) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s exists and is not a socket; not "
		    "touching it", path);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	/* Nonblocking: a live daemon with a full backlog answers EAGAIN. */
	r = connect(fd, (const struct sockaddr *)sun, sizeof *sun);
	saved = errno;
	close(fd);
	if (r == 0 || saved == EAGAIN || saved == EINPROGRESS) {
		snprintf(err, errlen, "an mpmgrd is already running on %s",
		    path);
		return -1;
	}
	if (saved == ENOENT)
		return 0;
	if (saved != ECONNREFUSED) {
		snprintf(err, errlen, "%s: connect: %s", path,
		    strerror(saved));
		return -1;
	}
	if (unlink(path) == -1 && errno != ENOENT) {
		snprintf(err, errlen, "%s: cannot remove the stale socket: %s",
		    path, strerror(errno));
		return -1;
	}
	log_info("removed the stale socket %s", path);
	return 0;
}

int
listen_bind(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct stat st;
	mode_t old;
	int fd, r;

	if (listen_addr(path, &sun, err, errlen) == -1 ||
	    listen_probe(&sun, err, errlen) == -1)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	old = umask(0177);
	r = bind(fd, (struct sockaddr *)&sun, sizeof sun);
	umask(old);
	if (r == -1) {
		snprintf(err, errlen, "bind %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (fstatat(AT_FDCWD, path, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		bound = true;
		bound_dev = st.st_dev;
		bound_ino = st.st_ino;
	}
	memcpy(sock_path, sun.sun_path, sizeof sock_path);
	if (listen(fd, LISTEN_BACKLOG) == -1) {
		snprintf(err, errlen, "listen %s: %s", path, strerror(errno));
		close(fd);
		listen_unlink();
		return -1;
	}
	listen_fd = fd;
	return 0;
}

int
listen_inherit(char *path, size_t pathlen, char *err, size_t errlen)
{
	const size_t off = offsetof(struct sockaddr_un, sun_path);
	struct sockaddr_un sun;
	socklen_t len = sizeof sun;
	size_t namelen = 0;
	int n, fd, r, fl;

	n = sd_listen_fds(1);
	if (n < 0) {
		snprintf(err, errlen, "sd_listen_fds: %s", strerror(-n));
		return -1;
	}
	if (n == 0)
		return 0;
	if (n > 1) {
		snprintf(err, errlen, "systemd passed %d sockets; mpmgrd "
		    "serves exactly one (one ListenStream= in the socket unit)",
		    n);
		return -1;
	}
	fd = SD_LISTEN_FDS_START;
	r = sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0);
	if (r < 0) {
		snprintf(err, errlen, "the socket systemd passed (fd %d): %s",
		    fd, strerror(-r));
		return -1;
	}
	if (r == 0) {
		snprintf(err, errlen, "the socket systemd passed (fd %d) is "
		    "not a listening Unix stream socket: the socket unit "
		    "needs ListenStream=PATH and Accept=no", fd);
		return -1;
	}
	memset(&sun, 0, sizeof sun);
	if (getsockname(fd, (struct sockaddr *)&sun, &len) == -1) {
		snprintf(err, errlen, "the socket systemd passed: getsockname: "
		    "%s", strerror(errno));
		return -1;
	}
	/*
	 * Clients find the daemon by path: an abstract or unnamed socket
	 * would be unreachable for them. The kernel may count a NUL that
	 * did not fit in sun_path.
	 */
	if (len > off)
		namelen = strnlen(sun.sun_path, len - off <
		    sizeof sun.sun_path ? len - off : sizeof sun.sun_path);
	if (namelen == 0) {
		snprintf(err, errlen, "the socket systemd passed has no path "
		    "(abstract or unnamed); mpmgr clients reach the daemon by "
		    "path: ListenStream=/PATH");
		return -1;
	}
	if (namelen >= pathlen) {
		snprintf(err, errlen, "the socket systemd passed: path too "
		    "long");
		return -1;
	}
	memcpy(path, sun.sun_path, namelen);
	path[namelen] = '\0';
	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) == -1) {
		snprintf(err, errlen, "the socket systemd passed: fcntl: %s",
		    strerror(errno));
		return -1;
	}
	listen_fd = fd;
	return 1;
}

static void
listen_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	if (ev_accept != NULL)
		event_add(ev_accept, NULL);
}

static void
listen_accept_cb(evutil_socket_t fd, short what, void *arg)
{
	struct timeval tv = { 0, LISTEN_PAUSE_MSEC * 1000 };
	int i, cfd;

	for (i = 0; i < LISTEN_ACCEPT_BATCH && listen_fd != -1; i++) {
		cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd != -1) {
			paused_logged = false;
			accept_fn(cfd);
			continue;
		}
		switch (errno) {
		case EINTR:
		case ECONNABORTED:
			continue;
		case EAGAIN:
			return;
		case EMFILE:
		case ENFILE:
		case ENOBUFS:
		case ENOMEM:
			if (!paused_logged) {
				log_warn("accept: pausing new connections for "
				    "%d ms", LISTEN_PAUSE_MSEC);
				paused_logged = true;
			}
			event_del(ev_accept);
			evtimer_add(ev_resume, &tv);
			return;
		default:
			log_warn("%s: accept", __func__);
			return;
		}
	}
}

void
listen_start(struct event_base *base, void (*accept)(int fd))
{
	accept_fn = accept;
	ev_accept = event_new(base, listen_fd, EV_READ | EV_PERSIST,
	    listen_accept_cb, NULL);
	ev_resume = evtimer_new(base, listen_resume_cb, NULL);
	if (ev_accept == NULL || ev_resume == NULL)
		fatalx("%s: event_new failed", __func__);
	event_add(ev_accept, NULL);
}

void
listen_close(void)
{
	if (ev_accept != NULL) {
		event_free(ev_accept);
		ev_accept = NULL;
	}
	if (ev_resume != NULL) {
		event_free(ev_resume);
		ev_resume = NULL;
	}
	if (listen_fd != -1) {
		close(listen_fd);
		listen_fd = -1;
	}
}

void
listen_unlink(void)
{
	struct stat st;

	listen_close();
	if (bound && lstat(sock_path, &st) == 0 && st.st_dev == bound_dev &&
	    st.st_ino == bound_ino && unlink(sock_path) == -1)
		log_warn("%s: unlink %s", __func__, sock_path);
	bound = false;
	if (lock_fd != -1) {
		close(lock_fd);
		lock_fd = -1;
	}
}
