/*
 * pipe.c: messages per second through an mpmgr pipe, and through a raw
 * AF_UNIX socketpair for the floor, between two processes.
 *
 *	pipebench mpmgr [-s SOCKET] [-n MESSAGES] [-w WINDOW]
 *	pipebench raw [-n MESSAGES]
 *
 * Two measures, each one line "NAME RATE" on stdout:
 *   oneway    the parent sends MESSAGES messages of 32 bytes (a str) at
 *             end 0, the child receives them at end 1 until EOF: messages
 *             per second, from the first send to the child's EOF. The
 *             mpmgr sides keep WINDOW (64) requests in flight each, as a
 *             streaming program does; the raw sides write and read the
 *             bytes as they go (the kernel's buffer is their window).
 *   pingpong  the parent sends one message and waits for the child's
 *             answer: round trips per second (MESSAGES / 10 of them).
 *   pingpong-pipelined (mpmgr only) the same, each side sending its send
 *             and its next recv in one write instead of one after the
 *             other: what a client gains by pipelining.
 * With mpmgr, MPMGR_AUTHKEY_FILE (or the key beside the socket) gives the
 * key. CPU placement is the caller's (taskset). Exit 0, or 1 on an error.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../client/mpmgr.h"

#define MSG_LEN 32

static const char *sock;
static unsigned long n = 200000;
static unsigned long window = 64;
static char msg[MSG_LEN + 1];

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
die(const char *what, mpmgr *h)
{
	fprintf(stderr, "pipebench: %s: %s\n", what,
	    h != NULL ? mpmgr_errmsg(h) : strerror(errno));
	exit(1);
}

/* --- raw ---------------------------------------------------------------- */

static bool
io_all(int fd, char *p, size_t len, bool out)
{
	ssize_t r;

	while (len > 0) {
		r = out ? write(fd, p, len) : read(fd, p, len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		p += r;
		len -= (size_t)r;
	}
	return true;
}

static void
raw(void)
{
	char buf[MSG_LEN];
	unsigned long i, rounds = n / 10;
	double t0;
	int sv[2], st;
	pid_t pid;

	/* one way: the child reads until EOF, then says so */
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		die("socketpair", NULL);
	if ((pid = fork()) == 0) {
		close(sv[0]);
		while (io_all(sv[1], buf, MSG_LEN, false))
			;
		(void)!write(sv[1], "e", 1);
		_exit(0);
	}
	close(sv[1]);
	t0 = now();
	for (i = 0; i < n; i++) {
		if (!io_all(sv[0], msg, MSG_LEN, true))
			die("write", NULL);
	}
	shutdown(sv[0], SHUT_WR);
	if (!io_all(sv[0], buf, 1, false))
		die("read", NULL);
	printf("oneway %.0f\n", (double)n / (now() - t0));
	close(sv[0]);
	waitpid(pid, &st, 0);

	/* ping-pong */
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		die("socketpair", NULL);
	if ((pid = fork()) == 0) {
		close(sv[0]);
		while (io_all(sv[1], buf, MSG_LEN, false) &&
		    io_all(sv[1], buf, MSG_LEN, true))
			;
		_exit(0);
	}
	close(sv[1]);
	t0 = now();
	for (i = 0; i < rounds; i++) {
		if (!io_all(sv[0], msg, MSG_LEN, true) ||
		    !io_all(sv[0], buf, MSG_LEN, false))
			die("ping-pong", NULL);
	}
	printf("pingpong %.0f\n", (double)rounds / (now() - t0));
	close(sv[0]);
	waitpid(pid, &st, 0);
}

/* --- mpmgr -------------------------------------------------------------- */

static mpmgr *
connect_or_die(void)
{
	mpmgr *h = NULL;

	if (mpmgr_connect(&h, sock, NULL) != 0)
		die("connect", h);
	return h;
}

static void
request(mpmgr *h, const char *method, const char *name, int end, bool item)
{
	msgpack_packer *pk = mpmgr_request_begin(h, method, item ? 3 : 2);

	if (pk == NULL)
		die(method, h);
	msgpack_pack_str_with_body(pk, name, strlen(name));
	msgpack_pack_int(pk, end);
	if (item)
		msgpack_pack_str_with_body(pk, msg, MSG_LEN);
	if (mpmgr_request_end(h) != 0)
		die(method, h);
}

/* The child of the one-way run: receive at end 1 until EOF, WINDOW recvs
 * in flight. */
static void
oneway_reader(const char *name, int ready)
{
	mpmgr *h = connect_or_die();
	msgpack_object v;
	bool eof = false;
	int r;

	if (mpmgr_pipe_open(h, name, 1, 0) != 0)
		die("open", h);
	(void)!write(ready, "r", 1);
	for (;;) {
		while (!eof && mpmgr_pending(h) < window)
			request(h, "pipe.recv", name, 1, false);
		if (mpmgr_pending(h) == 0)
			break;
		r = mpmgr_reply(h, &v);
		if (r == MPMGR_EEOF)
			eof = true;
		else if (r != 0)
			die("recv", h);
	}
	mpmgr_free(h);
	_exit(0);
}

/* The child of the ping-pong run: answer every message on end 1. */
static void
echoer(const char *name, int ready)
{
	mpmgr *h = connect_or_die();
	msgpack_object v;
	int r;

	if (mpmgr_pipe_open(h, name, 1, 0) != 0)
		die("open", h);
	(void)!write(ready, "r", 1);
	while ((r = mpmgr_pipe_recv(h, name, 1, MPMGR_FOREVER, &v)) == 0) {
		if (mpmgr_pipe_send(h, name, 1, &v, MPMGR_FOREVER) != 0)
			die("send", h);
	}
	if (r != MPMGR_EEOF)
		die("recv", h);
	mpmgr_free(h);
	_exit(0);
}

/* The same, with a recv always in flight: a send and the next recv go
 * in one write. */
static void
echoer_pipelined(const char *name, int ready)
{
	mpmgr *h = connect_or_die();
	msgpack_object v;
	msgpack_packer *pk;
	int r;

	if (mpmgr_pipe_open(h, name, 1, 0) != 0)
		die("open", h);
	(void)!write(ready, "r", 1);
	request(h, "pipe.recv", name, 1, false);
	while ((r = mpmgr_reply(h, &v)) == 0) {
		if ((pk = mpmgr_request_begin(h, "pipe.send", 3)) == NULL)
			die("send", h);
		msgpack_pack_str_with_body(pk, name, strlen(name));
		msgpack_pack_int(pk, 1);
		msgpack_pack_object(pk, v);
		if (mpmgr_request_end(h) != 0)
			die("send", h);
		request(h, "pipe.recv", name, 1, false);
		if (mpmgr_reply(h, NULL) != 0)
			die("send", h);
	}
	if (r != MPMGR_EEOF)
		die("recv", h);
	mpmgr_free(h);
	_exit(0);
}

/* Fork the child body on the pipe name, and wait until it holds its end
 * (before the parent connects: a child must not share its socket). */
static pid_t
child(void (*body)(const char *, int), const char *name)
{
	int p[2];
	char c;
	pid_t pid;

	if (pipe(p) == -1)
		die("pipe", NULL);
	if ((pid = fork()) == 0) {
		close(p[0]);
		body(name, p[1]);
	}
	close(p[1]);
	if (read(p[0], &c, 1) != 1)
		die("the child did not start", NULL);
	close(p[0]);
	return pid;
}

static void
with_mpmgr(void)
{
	char name[64];
	msgpack_object item = mpmgr_obj_strn(msg, MSG_LEN), v;
	unsigned long i, sent, rounds = n / 10;
	double t0;
	mpmgr *h;
	pid_t pid;
	int st;

	snprintf(name, sizeof(name), "pipebench-%d-a", (int)getpid());
	pid = child(oneway_reader, name);
	h = connect_or_die();
	if (mpmgr_pipe_open(h, name, 0, 0) != 0)
		die("open", h);
	t0 = now();
	for (sent = 0, i = 0; i < n; i++) {
		while (sent < n && mpmgr_pending(h) < window) {
			request(h, "pipe.send", name, 0, true);
			sent++;
		}
		if (mpmgr_reply(h, NULL) != 0)
			die("send", h);
	}
	if (mpmgr_pipe_close(h, name, 0) != 0)
		die("close", h);
	waitpid(pid, &st, 0);
	printf("oneway %.0f\n", (double)n / (now() - t0));
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		die("the reader failed", NULL);
	mpmgr_free(h);

	snprintf(name, sizeof(name), "pipebench-%d-b", (int)getpid());
	pid = child(echoer, name);
	h = connect_or_die();
	if (mpmgr_pipe_open(h, name, 0, 0) != 0)
		die("open", h);
	t0 = now();
	for (i = 0; i < rounds; i++) {
		if (mpmgr_pipe_send(h, name, 0, &item, MPMGR_FOREVER) != 0 ||
		    mpmgr_pipe_recv(h, name, 0, MPMGR_FOREVER, &v) != 0)
			die("ping-pong", h);
	}
	printf("pingpong %.0f\n", (double)rounds / (now() - t0));
	mpmgr_pipe_close(h, name, 0);
	waitpid(pid, &st, 0);
	mpmgr_free(h);

	snprintf(name, sizeof(name), "pipebench-%d-c", (int)getpid());
	pid = child(echoer_pipelined, name);
	h = connect_or_die();
	if (mpmgr_pipe_open(h, name, 0, 0) != 0)
		die("open", h);
	t0 = now();
	for (i = 0; i < rounds; i++) {
		request(h, "pipe.send", name, 0, true);
		request(h, "pipe.recv", name, 0, false);
		if (mpmgr_reply(h, NULL) != 0 || mpmgr_reply(h, &v) != 0)
			die("ping-pong", h);
	}
	printf("pingpong-pipelined %.0f\n", (double)rounds / (now() - t0));
	mpmgr_pipe_close(h, name, 0);
	waitpid(pid, &st, 0);
	mpmgr_free(h);
}

int
main(int argc, char **argv)
{
	char *end;
	int ch;

	if (argc < 2 || (strcmp(argv[1], "mpmgr") != 0 &&
	    strcmp(argv[1], "raw") != 0))
		goto usage;
	optind = 2;
	while ((ch = getopt(argc, argv, "s:n:w:")) != -1) {
		switch (ch) {
		case 's':
			sock = optarg;
			break;
		case 'n':
		case 'w':
			errno = 0;
			*(ch == 'n' ? &n : &window) = strtoul(optarg, &end,
			    10);
			if (errno != 0 || *end != '\0' || *optarg == '-' ||
			    (ch == 'n' ? n < 10 : window == 0))
				goto usage;
			break;
		default:
			goto usage;
		}
	}
	if (optind != argc)
		goto usage;
	signal(SIGPIPE, SIG_IGN);
	memset(msg, 'x', MSG_LEN);
	if (argv[1][0] == 'r')
		raw();
	else
		with_mpmgr();
	return 0;
usage:
	fprintf(stderr, "usage: pipebench mpmgr [-s SOCKET] [-n MESSAGES] "
	    "[-w WINDOW]\n       pipebench raw [-n MESSAGES]\n");
	return 2;
}
