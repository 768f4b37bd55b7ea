/*
 * mpctl_pool.c: pools from the shell: `pool worker` runs jobs, `pool
 * submit` queues one, `pool wait` waits for jobs and exits with their
 * status, `pool map` runs a command for each line of stdin and prints the
 * outputs in input order (GNU parallel -k, xargs -P), `pool result`.
 *
 * A job's payload is an argv array of strs (run with execvp) or one str
 * (run with sh -c). A worker runs it in a process group of its own, stdin
 * /dev/null, with $MPMGR_POOL, $MPMGR_POOL_JOB and $MPMGR_POOL_ATTEMPT set,
 * and reports {exitcode, stdout, stderr}: the exit code as Python's (N, or
 * -SIG when signal SIG killed it) and the last --tail bytes of each
 * stream (a str when they are UTF-8, else a bin); done when the exit code
 * is 0, else fail. A payload of another kind fails with a str saying so.
 *
 * `worker -j N` serves the pool on N connections, one job each, all on
 * one poll(2): the connections (a parked take's reply, notifications),
 * each job's pipes and pidfd, and a signalfd. The first SIGINT, SIGTERM
 * or SIGHUP stops the taking (a parked take is cancelled with sys.cancel,
 * so that no job is leased in vain) and lets the running jobs finish and
 * be reported; the second kills them (SIGKILL to their groups) and exits
 * without reporting: their connections close and the daemon puts the
 * jobs back. pool.terminate kills the running jobs (SIGTERM to their
 * groups) and stops the worker; pool.cancel kills the one job.
 *
 * `map` submits a job per line, starts its own worker (a child running
 * worker -j N, which a SIGTERM reaches if map dies) when -j is given,
 * then reads the results in input order with result's consume, a window
 * of requests in flight, and writes each job's output. On SIGINT, SIGTERM
 * or SIGHUP it cancels and forgets the jobs it has not read, on a second
 * connection, and exits 128 + the signal.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../proto/mpmgr_proto.h"
#include "../proto/scan.h"
#include "mpctl.h"
#include "mpctl_json.h"

/* The last bytes of each stream a worker keeps and reports. */
#define POOL_TAIL_DEFAULT 65536
#define POOL_TAIL_MAX (4u << 20)
/* Requests map and wait keep in flight. */
#define POOL_WINDOW 64

/* The signals that stop a worker, and a map. */
static const int stop_signals[] = { SIGINT, SIGTERM, SIGHUP };

static void
pack_cstr(msgpack_packer *pk, const char *s)
{
	msgpack_pack_str_with_body(pk, s, strlen(s));
}

/* --- the last bytes of a stream ------------------------------------------- */

struct tail {
	char *buf;                /* a ring of cap bytes */
	size_t cap, start, len;
};

static void
tail_reset(struct tail *t)
{
	t->start = t->len = 0;
}

static void
tail_add(struct tail *t, const char *p, size_t n)
{
	size_t end, k;

	if (n >= t->cap) {
		memcpy(t->buf, p + n - t->cap, t->cap);
		t->start = 0;
		t->len = t->cap;
		return;
	}
	while (n > 0) {
		end = (t->start + t->len) % t->cap;
		k = t->cap - end < n ? t->cap - end : n;
		memcpy(t->buf + end, p, k);
		p += k;
		n -= k;
		if (t->len + k > t->cap) {
			t->start = (t->start + t->len + k - t->cap) % t->cap;
			t->len = t->cap;
		} else
			t->len += k;
	}
}

/* The bytes in order, at the start of the ring. */
static void
tail_flatten(struct tail *t)
{
	char *tmp;

	if (t->start == 0)
		return;
	if ((tmp = malloc(t->len)) == NULL)
		return;
	for (size_t i = 0; i < t->len; i++)
		tmp[i] = t->buf[(t->start + i) % t->cap];
	memcpy(t->buf, tmp, t->len);
	free(tmp);
	t->start = 0;
}

/*
 * The stream as a value: a str when its bytes are UTF-8 (a character the
 * cut split at the start is left out), else a bin.
 */
static msgpack_object
tail_value(struct tail *t)
{
	msgpack_object o;
	const char *p;
	size_t n;

	tail_flatten(t);
	p = t->buf;
	n = t->len;
	while (n > 0 && ((unsigned char)*p & 0xc0) == 0x80 && t->len == t->cap) {
		p++;
		n--;
	}
	if (scan_utf8((const uint8_t *)p, n)) {
		o.type = MSGPACK_OBJECT_STR;
		o.via.str.ptr = p;
		o.via.str.size = (uint32_t)n;
	} else {
		o.type = MSGPACK_OBJECT_BIN;
		o.via.bin.ptr = t->buf;
		o.via.bin.size = (uint32_t)t->len;
	}
	return o;
}

/* --- the worker ------------------------------------------------------------ */

enum { SLOT_IDLE, SLOT_TAKING, SLOT_RUNNING, SLOT_STOPPED };

struct worker;

struct slot {
	struct worker *w;
	mpmgr *h;
	int state;
	bool cancelling;          /* sys.cancel sent for its parked take */
	bool lost;                /* its connection broke */
	uint64_t id;              /* the job it runs */
	pid_t pid;
	int pidfd;
	int fd[2];                /* the job's stdout and stderr; -1 at EOF */
	struct tail tail[2];
	bool exited;
	int status;               /* the job's wait status */
	bool cancelled;           /* pool.cancel for its job */
	bool killed;              /* its group was signalled */
};

struct worker {
	struct ctx *c;
	struct slot *slots;
	int n;
	int sigfd;
	sigset_t mask;            /* mpctl's, for the jobs */
	int stopping;             /* signals received */
	int lastsig;
	bool terminated;          /* pool.terminate came */
	int rc;
};

static void
worker_on_notify(void *arg, const char *method, size_t len,
    const msgpack_object *params)
{
	struct slot *s = arg;
	const msgpack_object *p = params->via.array.ptr;

	if (params->type != MSGPACK_OBJECT_ARRAY || params->via.array.size < 1 ||
	    !mpctl_is_str(&p[0], s->w->c->name))
		return;
	if (len == strlen(MPMGR_NOTIFY_POOL_TERMINATE) &&
	    memcmp(method, MPMGR_NOTIFY_POOL_TERMINATE, len) == 0)
		s->w->terminated = true;
	else if (len == strlen(MPMGR_NOTIFY_POOL_CANCEL) &&
	    memcmp(method, MPMGR_NOTIFY_POOL_CANCEL, len) == 0 &&
	    params->via.array.size == 2 &&
	    p[1].type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
	    s->state == SLOT_RUNNING && p[1].via.u64 == s->id)
		s->cancelled = true;
}

/* Say err of slot s's connection and stop the worker with EXIT_ERROR. */
static void
slot_error(struct slot *s, const char *what, int err)
{
	const char *code = mpmgr_errcode(s->h), *msg = mpmgr_errmsg(s->h);

	mpctl_say(0, "%s: %s: %s%s%s", s->w->c->who, what,
	    code[0] != '\0' ? code : mpmgr_strerror(err),
	    msg[0] != '\0' ? ": " : "", msg);
	s->w->rc = EXIT_ERROR;
}

static void
slot_stop(struct slot *s)
{
	mpmgr_free(s->h);
	s->h = NULL;
	s->state = SLOT_STOPPED;
}

/* Ask for the next job, without waiting for it. */
static void
slot_take(struct slot *s)
{
	msgpack_packer *pk;
	const char *name = s->w->c->name;
	int err;

	if ((pk = mpmgr_request_begin(s->h, catalogue_methods[
	    MPMGR_MID_pool_take].name, 1)) == NULL) {
		slot_error(s, "take", MPMGR_ESTATE);
		slot_stop(s);
		return;
	}
	msgpack_pack_str_with_body(pk, name, strlen(name));
	if ((err = mpmgr_request_end(s->h)) != 0 ||
	    (err = mpmgr_flush(s->h)) != 0) {
		slot_error(s, "take", err);
		slot_stop(s);
		return;
	}
	s->state = SLOT_TAKING;
	s->cancelling = false;
}

/* A job's argv from its payload (strdup'd; NULL-ended), or its shell
 * string into *shell: 0, or -1 when it is neither. */
static int
job_command(const msgpack_object *p, char ***argv, char **shell)
{
	uint32_t i, n;
	char **v;

	*argv = NULL;
	*shell = NULL;
	if (p->type == MSGPACK_OBJECT_STR) {
		*shell = strndup(p->via.str.ptr, p->via.str.size);
		return *shell == NULL ? -1 : 0;
	}
	if (p->type != MSGPACK_OBJECT_ARRAY || p->via.array.size == 0)
		return -1;
	n = p->via.array.size;
	if ((v = calloc(n + 1, sizeof(*v))) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		if (p->via.array.ptr[i].type != MSGPACK_OBJECT_STR ||
		    (v[i] = strndup(p->via.array.ptr[i].via.str.ptr,
		    p->via.array.ptr[i].via.str.size)) == NULL) {
			while (i > 0)
				free(v[--i]);
			free(v);
			return -1;
		}
	}
	*argv = v;
	return 0;
}

static void
job_command_free(char **argv, char *shell)
{
	if (argv != NULL)
		for (char **a = argv; *a != NULL; a++)
			free(*a);
	free(argv);
	free(shell);
}

/* In the job's child: no return. */
static _Noreturn void
job_exec(const struct slot *s, unsigned attempt, char **argv, char *shell,
    const int out[2], const int err[2])
{
	char num[32];
	int devnull, e;
	size_t i;

	setpgid(0, 0);
	for (i = 0; i < NELEM(stop_signals); i++)
		signal(stop_signals[i], SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	sigprocmask(SIG_SETMASK, &s->w->mask, NULL);
	if ((devnull = open("/dev/null", O_RDONLY)) >= 0) {
		dup2(devnull, STDIN_FILENO);
		if (devnull != STDIN_FILENO)
			close(devnull);
	}
	dup2(out[1], STDOUT_FILENO);
	dup2(err[1], STDERR_FILENO);
	setenv("MPMGR_POOL", s->w->c->name, 1);
	snprintf(num, sizeof(num), "%" PRIu64, s->id);
	setenv("MPMGR_POOL_JOB", num, 1);
	snprintf(num, sizeof(num), "%u", attempt);
	setenv("MPMGR_POOL_ATTEMPT", num, 1);
	if (shell != NULL)
		execl("/bin/sh", "sh", "-c", shell, (char *)NULL);
	else
		execvp(argv[0], argv);
	e = errno;
	fprintf(stderr, "mpctl: pool worker: %s: %s\n", shell != NULL ?
	    "/bin/sh" : argv[0], strerror(e));
	_exit(e == ENOENT ? 127 : 126);
}

/* Report job s->id as failed with the str why; 0, or -1 after saying
 * why the daemon did not take it. */
static int
slot_report(struct slot *s, bool done, const msgpack_object *v)
{
	const char *name = s->w->c->name;
	int err;

	err = done ? mpmgr_pool_done(s->h, name, s->id, v) :
	    mpmgr_pool_fail(s->h, name, s->id, v);
	/* Cancelled or terminated while it ran, or the pool deleted: the
	 * report has nowhere to go, and nothing is wrong with the worker. */
	if (err == 0 || err == MPMGR_ENOTOWNER || err == MPMGR_ENOTFOUND ||
	    err == MPMGR_ENOOBJ)
		return 0;
	slot_error(s, done ? "done" : "fail", err);
	return -1;
}

/* Run the job just taken (its payload borrowed from s->h). */
static void
slot_start(struct slot *s, const msgpack_object *payload, unsigned attempt)
{
	int out[2] = { -1, -1 }, err[2] = { -1, -1 }, i;
	msgpack_object why;
	char **argv, *shell;
	pid_t pid, self = getpid();

	if (job_command(payload, &argv, &shell) == -1) {
		why = mpmgr_obj_str("mpctl pool worker: a payload must be an "
		    "argv array of strs, or a str for sh -c");
		if (slot_report(s, false, &why) == -1)
			slot_stop(s);
		else
			s->state = SLOT_IDLE;
		return;
	}
	if (pipe2(out, O_CLOEXEC) == -1 || pipe2(err, O_CLOEXEC) == -1) {
		mpctl_say(0, "%s: pipe: %s", s->w->c->who, strerror(errno));
		goto fail;
	}
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == -1) {
		mpctl_say(0, "%s: fork: %s", s->w->c->who, strerror(errno));
		goto fail;
	}
	if (pid == 0) {
		/* A worker killed by SIGKILL takes its job's process with
		 * it: the daemon gives the job to another worker. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != self)
			_exit(127);
		job_exec(s, attempt, argv, shell, out, err);
	}
	job_command_free(argv, shell);
	setpgid(pid, pid);
	close(out[1]);
	close(err[1]);
	s->pid = pid;
	s->pidfd = pidfd_open(pid, 0);
	s->fd[0] = out[0];
	s->fd[1] = err[0];
	for (i = 0; i < 2; i++) {
		fcntl(s->fd[i], F_SETFL, O_NONBLOCK);
		tail_reset(&s->tail[i]);
	}
	s->exited = s->cancelled = s->killed = false;
	s->state = SLOT_RUNNING;
	return;
fail:
	job_command_free(argv, shell);
	for (i = 0; i < 2; i++) {
		if (out[i] >= 0)
			close(out[i]);
		if (err[i] >= 0)
			close(err[i]);
	}
	/* The job goes back when this connection closes. */
	s->w->rc = EXIT_ERROR;
	slot_stop(s);
}

/* A take's reply is there: start the job, or stop the slot. */
static void
slot_taken(struct slot *s)
{
	msgpack_object res, *a;
	int err;

	err = mpmgr_reply(s->h, &res);
	if (err == MPMGR_ESHUTDOWN || (err == MPMGR_ETIMEOUT && s->cancelling)) {
		slot_stop(s);
		return;
	}
	if (err != 0) {
		slot_error(s, "take", err);
		slot_stop(s);
		return;
	}
	a = res.via.array.ptr;
	if (res.type != MSGPACK_OBJECT_ARRAY || res.via.array.size != 3 ||
	    a[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
	    a[2].type != MSGPACK_OBJECT_POSITIVE_INTEGER) {
		mpctl_unexpected(&res);
		s->w->rc = EXIT_ERROR;
		slot_stop(s);
		return;
	}
	s->id = a[0].via.u64;
	slot_start(s, &a[1], (unsigned)a[2].via.u64);
}

/* Read what a job's stream has; close it at EOF. */
static void
slot_read(struct slot *s, int i)
{
	char buf[16384];
	ssize_t n;

	while ((n = read(s->fd[i], buf, sizeof(buf))) > 0)
		tail_add(&s->tail[i], buf, (size_t)n);
	if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR)) {
		close(s->fd[i]);
		s->fd[i] = -1;
	}
}

/* The job exited: what its streams hold now is its output (a child it
 * left behind may keep them open: they are not waited for). Report it. */
static void
slot_finish(struct slot *s)
{
	msgpack_object_kv kv[3];
	msgpack_object v;
	int i, code;

	for (i = 0; i < 2; i++) {
		if (s->fd[i] >= 0) {
			slot_read(s, i);
			if (s->fd[i] >= 0)
				close(s->fd[i]);
			s->fd[i] = -1;
		}
	}
	close(s->pidfd);
	s->pidfd = -1;
	code = WIFSIGNALED(s->status) ? -WTERMSIG(s->status) :
	    WEXITSTATUS(s->status);
	kv[0].key = mpmgr_obj_str("exitcode");
	kv[0].val = mpmgr_obj_int(code);
	kv[1].key = mpmgr_obj_str("stdout");
	kv[1].val = tail_value(&s->tail[0]);
	kv[2].key = mpmgr_obj_str("stderr");
	kv[2].val = tail_value(&s->tail[1]);
	v.type = MSGPACK_OBJECT_MAP;
	v.via.map.size = 3;
	v.via.map.ptr = kv;
	s->state = SLOT_IDLE;
	if (s->lost || slot_report(s, code == 0, &v) == -1)
		slot_stop(s);
}

/* Signal every running job's group (again: always, else once). */
static void
worker_kill(struct worker *w, int sig, bool again)
{
	struct slot *s;

	for (int i = 0; i < w->n; i++) {
		s = &w->slots[i];
		if (s->state == SLOT_RUNNING && !s->exited &&
		    (again || !s->killed)) {
			kill(-s->pid, sig);
			s->killed = true;
		}
	}
}

/* A signal to the worker: the first stops the taking, the second kills
 * the jobs. 0, or the status to exit with at once. */
static int
worker_signal(struct worker *w)
{
	struct signalfd_siginfo si;
	struct slot *s;
	int i;

	if (read(w->sigfd, &si, sizeof(si)) != sizeof(si))
		return 0;
	w->lastsig = (int)si.ssi_signo;
	if (++w->stopping >= 2) {
		worker_kill(w, SIGKILL, true);
		for (i = 0; i < w->n; i++) {
			s = &w->slots[i];
			if (s->state == SLOT_RUNNING)
				waitpid(s->pid, NULL, 0);
		}
		return 128 + w->lastsig;
	}
	for (i = 0; i < w->n; i++) {
		s = &w->slots[i];
		if (s->state == SLOT_TAKING && !s->cancelling &&
		    mpmgr_cancel_pending(s->h) == 0)
			s->cancelling = true;
	}
	return 0;
}

/* Everything a slot waits for, into p (at most 4 entries): how many. */
static int
slot_pollfds(struct slot *s, struct pollfd *p)
{
	int n = 0;

	if (s->state == SLOT_TAKING || (s->state == SLOT_RUNNING && !s->lost))
		p[n++] = (struct pollfd){ .fd = mpmgr_fd(s->h),
		    .events = POLLIN };
	if (s->state != SLOT_RUNNING)
		return n;
	if (s->fd[0] >= 0)
		p[n++] = (struct pollfd){ .fd = s->fd[0], .events = POLLIN };
	if (s->fd[1] >= 0)
		p[n++] = (struct pollfd){ .fd = s->fd[1], .events = POLLIN };
	if (!s->exited)
		p[n++] = (struct pollfd){ .fd = s->pidfd, .events = POLLIN };
	return n;
}

/* Act on what poll found for slot s (p: its entries). */
static void
slot_serve(struct slot *s)
{
	int r;

	if (s->state == SLOT_TAKING) {
		if ((r = mpmgr_reply_ready(s->h)) == 1)
			slot_taken(s);
		else if (r < 0) {
			slot_error(s, "take", r);
			slot_stop(s);
		}
		return;
	}
	if (s->state != SLOT_RUNNING)
		return;
	if (!s->lost && mpmgr_poll_notify(s->h) < 0) {
		/* The daemon is gone: the job runs on, unreported. */
		slot_error(s, "connection", MPMGR_EIO);
		s->lost = true;
	}
	if (s->fd[0] >= 0)
		slot_read(s, 0);
	if (s->fd[1] >= 0)
		slot_read(s, 1);
	if (!s->exited && waitpid(s->pid, &s->status, WNOHANG) == s->pid)
		s->exited = true;
	if (s->cancelled && !s->killed && !s->exited) {
		kill(-s->pid, SIGTERM);
		s->killed = true;
	}
	if (s->exited)
		slot_finish(s);
}

static void
worker_free(struct worker *w)
{
	struct slot *s;
	int i;

	for (i = 0; w->slots != NULL && i < w->n; i++) {
		s = &w->slots[i];
		mpmgr_free(s->h);
		free(s->tail[0].buf);
		free(s->tail[1].buf);
		if (s->pidfd >= 0)
			close(s->pidfd);
		if (s->fd[0] >= 0)
			close(s->fd[0]);
		if (s->fd[1] >= 0)
			close(s->fd[1]);
	}
	free(w->slots);
	if (w->sigfd >= 0)
		close(w->sigfd);
}

/* Connect slot s and give it its buffers: 0, or the exit status. */
static int
slot_setup(struct worker *w, struct slot *s, size_t tailcap)
{
	struct ctx *c = w->c;
	int k, err, rc;

	s->w = w;
	s->pidfd = s->fd[0] = s->fd[1] = -1;
	for (k = 0; k < 2; k++) {
		s->tail[k].cap = tailcap;
		if ((s->tail[k].buf = malloc(tailcap)) == NULL)
			return mpctl_say(EXIT_ERROR, "%s: out of memory",
			    c->who);
	}
	if ((err = mpmgr_connect(&s->h, c->socket_path,
	    c->authkey_file)) != 0) {
		c->h = s->h;
		rc = mpctl_fail(c, err);
		c->h = NULL;
		return err == MPMGR_ELIMIT ? EXIT_CONNECT : rc;
	}
	mpmgr_set_notify(s->h, worker_on_notify, s);
	return 0;
}

/*
 * Serve the pool c->name on n connections until stopped: the exit
 * status. One poll waits for everything; after it every slot looks at
 * all it has, ready or not (reads are nonblocking, and a slot's entries
 * move as it changes).
 */
static int
worker_loop(struct worker *w, struct pollfd *p)
{
	struct slot *s;
	int i, k, live, rc;

	for (;;) {
		live = 0;
		for (i = 0; i < w->n; i++) {
			s = &w->slots[i];
			if (s->state == SLOT_IDLE &&
			    (w->stopping || w->terminated))
				slot_stop(s);
			else if (s->state == SLOT_IDLE)
				slot_take(s);
			if (s->state != SLOT_STOPPED)
				live++;
		}
		if (live == 0)
			return w->rc;
		p[0] = (struct pollfd){ .fd = w->sigfd, .events = POLLIN };
		for (i = 0, k = 1; i < w->n; i++)
			k += slot_pollfds(&w->slots[i], p + k);
		if (poll(p, (nfds_t)k, -1) == -1 && errno != EINTR)
			return mpctl_say(EXIT_ERROR, "%s: poll: %s", w->c->who,
			    strerror(errno));
		if ((p[0].revents & POLLIN) && (rc = worker_signal(w)) != 0)
			return rc;
		for (i = 0; i < w->n; i++)
			slot_serve(&w->slots[i]);
		if (w->terminated)
			worker_kill(w, SIGTERM, false);
	}
}

static int
worker_run(struct ctx *c, int n, size_t tailcap)
{
	struct worker w = { .c = c, .n = n, .sigfd = -1 };
	struct pollfd *p = NULL;
	sigset_t block;
	int i, rc = 0;
	size_t j;

	sigemptyset(&block);
	for (j = 0; j < NELEM(stop_signals); j++)
		sigaddset(&block, stop_signals[j]);
	sigprocmask(SIG_BLOCK, &block, &w.mask);
	signal(SIGPIPE, SIG_IGN);
	if ((w.sigfd = signalfd(-1, &block, SFD_CLOEXEC)) == -1 ||
	    (w.slots = calloc((size_t)n, sizeof(*w.slots))) == NULL ||
	    (p = calloc((size_t)n * 4 + 1, sizeof(*p))) == NULL)
		rc = mpctl_say(EXIT_ERROR, "%s: %s", c->who, strerror(errno));
	for (i = 0; rc == 0 && i < n; i++)
		rc = slot_setup(&w, &w.slots[i], tailcap);
	if (rc == 0)
		rc = worker_loop(&w, p);
	free(p);
	worker_free(&w);
	return rc;
}

/* -j's number, or the CPUs without it: 0 and *n, or EXIT_USAGE. */
static int
pool_jobs(struct ctx *c, int *n)
{
	const char *j = c->opt[OPT_JOBS];
	char *end;
	long v;

	if (j == NULL) {
		v = sysconf(_SC_NPROCESSORS_ONLN);
		*n = v < 1 ? 1 : (int)v;
		return 0;
	}
	errno = 0;
	v = strtol(j, &end, 10);
	if (end == j || *end != '\0' || errno != 0 || v < 1 || v > 1024)
		return mpctl_say(EXIT_USAGE, "%s: -j wants a number of jobs "
		    "from 1 to 1024, not '%s'", c->who, j);
	*n = (int)v;
	return 0;
}

/* --tail's bytes: 0 and *n, or EXIT_USAGE. */
static int
pool_tail(struct ctx *c, size_t *n)
{
	const char *t = c->opt[OPT_TAIL];
	char *end;
	unsigned long long v;

	*n = POOL_TAIL_DEFAULT;
	if (t == NULL)
		return 0;
	errno = 0;
	v = strtoull(t, &end, 10);
	if (end == t || *end != '\0' || errno != 0 || t[0] == '-' || v < 1 ||
	    v > POOL_TAIL_MAX)
		return mpctl_say(EXIT_USAGE, "%s: --tail wants bytes from 1 to "
		    "%u, not '%s'", c->who, POOL_TAIL_MAX, t);
	*n = (size_t)v;
	return 0;
}

int
pool_worker(struct ctx *c)
{
	size_t tailcap;
	int n, rc;

	if ((rc = pool_jobs(c, &n)) != 0 || (rc = pool_tail(c, &tailcap)) != 0)
		return rc;
	return worker_run(c, n, tailcap);
}

/* --- submitting ------------------------------------------------------------ */

/* Append s to b, shell-quoted ('...' with each ' as '\''). */
static int
quote_append(msgpack_sbuffer *b, const char *s)
{
	if (msgpack_sbuffer_write(b, "'", 1) != 0)
		return -1;
	for (; *s != '\0'; s++) {
		if (*s == '\'' ? msgpack_sbuffer_write(b, "'\\''", 4) != 0 :
		    msgpack_sbuffer_write(b, s, 1) != 0)
			return -1;
	}
	return msgpack_sbuffer_write(b, "'", 1);
}

/*
 * Append word to b with each {} replaced by arg (quoted for a shell when
 * quote); arg NULL: as it is. *used is set when a {} was found.
 */
static int
subst_append(msgpack_sbuffer *b, const char *word, const char *arg,
    bool quote, bool *used)
{
	const char *p;

	while (arg != NULL && (p = strstr(word, "{}")) != NULL) {
		if (msgpack_sbuffer_write(b, word, (size_t)(p - word)) != 0 ||
		    (quote ? quote_append(b, arg) :
		    msgpack_sbuffer_write(b, arg, strlen(arg))) != 0)
			return -1;
		*used = true;
		word = p + 2;
	}
	return msgpack_sbuffer_write(b, word, strlen(word));
}

/*
 * Pack the job for CMD (c's operands) into pk: an argv array, or with
 * --shell one str of the operands joined by spaces. arg, when not NULL,
 * replaces each {} (shell-quoted with --shell), or is appended as the last
 * argument when no operand has a {}.
 */
static int
pack_command(struct ctx *c, msgpack_packer *pk, const char *arg)
{
	msgpack_sbuffer b;
	bool used = false, shell = c->opt[OPT_SHELL] != NULL;
	size_t start;
	int i, n = c->noperands;

	msgpack_sbuffer_init(&b);
	if (shell) {
		for (i = 0; i < n; i++) {
			if ((i > 0 && msgpack_sbuffer_write(&b, " ", 1) != 0) ||
			    subst_append(&b, c->operands[i], arg, true,
			    &used) != 0)
				goto nomem;
		}
		if (arg != NULL && !used && (msgpack_sbuffer_write(&b, " ",
		    1) != 0 || quote_append(&b, arg) != 0))
			goto nomem;
		msgpack_pack_str_with_body(pk, b.data, b.size);
		msgpack_sbuffer_destroy(&b);
		return 0;
	}
	for (i = 0; i < n; i++)
		for (const char *p = c->operands[i]; arg != NULL &&
		    (p = strstr(p, "{}")) != NULL; p += 2)
			used = true;
	msgpack_pack_array(pk, (size_t)n + (arg != NULL && !used));
	for (i = 0; i < n; i++) {
		start = b.size;
		if (subst_append(&b, c->operands[i], arg, false, &used) != 0)
			goto nomem;
		msgpack_pack_str_with_body(pk, b.data + start, b.size - start);
	}
	if (arg != NULL && !used)
		msgpack_pack_str_with_body(pk, arg, strlen(arg));
	msgpack_sbuffer_destroy(&b);
	return 0;
nomem:
	msgpack_sbuffer_destroy(&b);
	return mpctl_say(EXIT_ERROR, "%s: out of memory", c->who);
}

/* submit's options map {attempts, key}, when either is given. */
static int
pack_submit_opts(struct ctx *c, msgpack_packer *pk)
{
	const char *a = c->opt[OPT_ATTEMPTS], *k = c->opt[OPT_KEY];
	char *end;
	unsigned long long v = 0;

	if (a == NULL && k == NULL)
		return 0;
	if (a != NULL) {
		errno = 0;
		v = strtoull(a, &end, 10);
		if (end == a || *end != '\0' || errno != 0 || a[0] == '-' ||
		    v < 1 || v > UINT32_MAX)
			return mpctl_say(EXIT_USAGE, "%s: --attempts wants a "
			    "number from 1 to %u, not '%s'", c->who,
			    UINT32_MAX, a);
	}
	msgpack_pack_map(pk, (a != NULL) + (k != NULL));
	if (a != NULL) {
		pack_cstr(pk, "attempts");
		msgpack_pack_uint64(pk, v);
	}
	if (k != NULL) {
		pack_cstr(pk, "key");
		pack_cstr(pk, k);
	}
	return 0;
}

/* Send one pool.submit of CMD for arg (see pack_command). */
static int
send_submit(struct ctx *c, mpmgr *h, const char *arg)
{
	bool opts = c->opt[OPT_ATTEMPTS] != NULL || c->opt[OPT_KEY] != NULL;
	msgpack_packer *pk;
	int rc;

	if ((pk = mpmgr_request_begin(h, catalogue_methods[
	    MPMGR_MID_pool_submit].name, 2 + opts)) == NULL)
		return mpctl_fail(c, MPMGR_ESTATE);
	pack_cstr(pk, c->name);
	if ((rc = pack_command(c, pk, arg)) != 0 ||
	    (rc = pack_submit_opts(c, pk)) != 0)
		return rc;
	return mpmgr_request_end(h) == 0 ? 0 : mpctl_fail(c, MPMGR_ESTATE);
}

int
pool_submit(struct ctx *c)
{
	msgpack_object res;
	int err, rc;

	if ((rc = mpctl_connect(c, false)) != 0)
		return rc;
	if ((rc = send_submit(c, c->h, NULL)) != 0)
		return rc;
	if ((err = mpmgr_reply(c->h, &res)) != 0)
		return mpctl_fail(c, err);
	if (res.type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return mpctl_unexpected(&res);
	printf("%" PRIu64 "\n", res.via.u64);
	return EXIT_TRUE;
}

/* --- results ---------------------------------------------------------------- */

/* Send pool.result [name, id, consume[, timeout]]. */
static int
send_result(struct ctx *c, mpmgr *h, uint64_t id, bool consume)
{
	double left = mpctl_left(c);
	msgpack_packer *pk;

	/* -t bounds the whole command: each wait gets what is left. */
	if ((pk = mpmgr_request_begin(h, catalogue_methods[
	    MPMGR_MID_pool_result].name, 3 + (left >= 0))) == NULL)
		return mpctl_fail(c, MPMGR_ESTATE);
	pack_cstr(pk, c->name);
	msgpack_pack_uint64(pk, id);
	if (consume)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
	if (left >= 0)
		msgpack_pack_double(pk, left);
	return mpmgr_request_end(h) == 0 ? 0 : mpctl_fail(c, MPMGR_ESTATE);
}

static void
write_stream(FILE *f, const msgpack_object *o)
{
	if (o != NULL && o->type == MSGPACK_OBJECT_STR)
		fwrite(o->via.str.ptr, 1, o->via.str.size, f);
	else if (o != NULL && o->type == MSGPACK_OBJECT_BIN)
		fwrite(o->via.bin.ptr, 1, o->via.bin.size, f);
}

/*
 * Show job id's outcome, [state, value]: a command's output goes to
 * stdout and stderr; another result prints as JSON; a failure without an
 * exit code is said on stderr. The exit status it means: the command's
 * (128 + N for signal N), 0 for another result, 1 for a failure or a
 * cancel.
 */
static int
show_outcome(struct ctx *c, uint64_t id, const msgpack_object *res)
{
	const msgpack_object *state, *v, *code;

	if (res->type != MSGPACK_OBJECT_ARRAY || res->via.array.size != 2)
		return mpctl_unexpected(res);
	state = &res->via.array.ptr[0];
	v = &res->via.array.ptr[1];
	code = mpctl_map_get(v, "exitcode");
	if (code != NULL && (code->type == MSGPACK_OBJECT_POSITIVE_INTEGER ||
	    code->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)) {
		fflush(stdout);
		write_stream(stdout, mpctl_map_get(v, "stdout"));
		fflush(stdout);
		write_stream(stderr, mpctl_map_get(v, "stderr"));
		if (code->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
			return 128 - (int)code->via.i64;
		return code->via.u64 > 255 ? 255 : (int)code->via.u64;
	}
	if (mpctl_is_str(state, "done")) {
		mpctl_json_print(stdout, v);
		putc('\n', stdout);
		return EXIT_TRUE;
	}
	fflush(stdout);
	if (mpctl_is_str(state, "cancelled")) {
		fprintf(stderr, "mpctl: %s: job %" PRIu64 " was cancelled\n",
		    c->who, id);
		return EXIT_FALSE;
	}
	fprintf(stderr, "mpctl: %s: job %" PRIu64 " failed: ", c->who, id);
	if (v->type == MSGPACK_OBJECT_STR)
		fwrite(v->via.str.ptr, 1, v->via.str.size, stderr);
	else
		mpctl_json_print(stderr, v);
	putc('\n', stderr);
	return EXIT_FALSE;
}

/* An operand as a job id: 0 and *id, or EXIT_USAGE. */
static int
parse_id(struct ctx *c, const char *s, uint64_t *id)
{
	char *end;

	errno = 0;
	*id = strtoull(s, &end, 10);
	if (end == s || *end != '\0' || errno != 0 || s[0] == '-' || *id == 0)
		return mpctl_say(EXIT_USAGE, "%s: '%s' is not a job id (the "
		    "number submit printed)", c->who, s);
	return 0;
}

int
pool_result(struct ctx *c)
{
	msgpack_object res;
	uint64_t id;
	int err, rc;

	if ((rc = parse_id(c, c->operands[0], &id)) != 0 ||
	    (rc = mpctl_connect(c, false)) != 0)
		return rc;
	if ((rc = send_result(c, c->h, id, c->opt[OPT_CONSUME] != NULL)) != 0)
		return rc;
	if ((err = mpmgr_reply(c->h, &res)) != 0)
		return mpctl_fail(c, err);
	return mpctl_print_result(c, &res);
}

/* Wait for every job named and show each outcome in order: the first
 * failure's status, or 0. */
int
pool_wait(struct ctx *c)
{
	msgpack_object res;
	uint64_t *ids;
	bool consume = c->opt[OPT_CONSUME] != NULL;
	int i, sent = 0, err, rc, st, status = EXIT_TRUE;

	if ((ids = calloc((size_t)c->noperands, sizeof(*ids))) == NULL)
		return mpctl_say(EXIT_ERROR, "%s: out of memory", c->who);
	for (i = 0; i < c->noperands; i++) {
		if ((rc = parse_id(c, c->operands[i], &ids[i])) != 0)
			goto out;
	}
	if ((rc = mpctl_connect(c, false)) != 0)
		goto out;
	for (i = 0; i < c->noperands; i++) {
		while (sent < c->noperands && sent - i < POOL_WINDOW)
			if ((rc = send_result(c, c->h, ids[sent++],
			    consume)) != 0)
				goto out;
		if ((err = mpmgr_reply(c->h, &res)) != 0) {
			rc = mpctl_fail(c, err);
			goto out;
		}
		st = show_outcome(c, ids[i], &res);
		if (status == EXIT_TRUE)
			status = st;
	}
	rc = status;
out:
	free(ids);
	return rc;
}

/* --- map -------------------------------------------------------------------- */

struct map {
	struct ctx *c;
	uint64_t *ids;
	size_t nids, cap;
	size_t shown;             /* results read and shown, in order */
	pid_t worker;             /* its own worker, or 0 */
	int status;
};

static int
map_add_id(struct map *m, uint64_t id)
{
	uint64_t *v;
	size_t cap;

	if (m->nids == m->cap) {
		cap = m->cap == 0 ? 256 : m->cap * 2;
		if ((v = realloc(m->ids, cap * sizeof(*v))) == NULL)
			return -1;
		m->ids = v;
		m->cap = cap;
	}
	m->ids[m->nids++] = id;
	return 0;
}

/* Read one submit's reply: 0, or the exit status after saying why. */
static int
map_submitted(struct map *m)
{
	msgpack_object res;
	int err;

	if ((err = mpmgr_reply(m->c->h, &res)) != 0)
		return mpctl_fail(m->c, err);
	if (res.type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return mpctl_unexpected(&res);
	if (map_add_id(m, res.via.u64) == -1)
		return mpctl_say(EXIT_ERROR, "%s: out of memory", m->c->who);
	return 0;
}

/* A job per line of stdin, a window of submits in flight. */
static int
map_submit_all(struct map *m)
{
	struct ctx *c = m->c;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int rc = 0;

	while ((len = getline(&line, &cap, stdin)) != -1) {
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if ((rc = send_submit(c, c->h, line)) != 0)
			break;
		if (mpmgr_pending(c->h) >= POOL_WINDOW &&
		    (rc = map_submitted(m)) != 0)
			break;
	}
	free(line);
	while (rc == 0 && mpmgr_pending(c->h) > 0)
		rc = map_submitted(m);
	return rc;
}

/* Start map's own worker: a child serving the pool with n slots, which
 * stops (as on a first signal) when map dies. */
static int
map_start_worker(struct map *m, int n, size_t tailcap)
{
	struct ctx *c = m->c;
	pid_t parent = getpid(), pid;
	int rc;

	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == -1)
		return mpctl_say(EXIT_ERROR, "%s: fork: %s", c->who,
		    strerror(errno));
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(0);
		mpmgr_free(c->h);
		c->h = NULL;
		snprintf(c->who, sizeof(c->who), "pool map's worker");
		rc = worker_run(c, n, tailcap);
		fflush(NULL);
		_exit(rc);
	}
	m->worker = pid;
	return 0;
}

/* Stop map's worker (a signal as if from a user: twice kills its jobs). */
static void
map_stop_worker(struct map *m, int times)
{
	int st;

	if (m->worker == 0)
		return;
	while (times-- > 0)
		kill(m->worker, SIGTERM);
	while (waitpid(m->worker, &st, 0) == -1 && errno == EINTR)
		;
	m->worker = 0;
}

/* Interrupted: cancel and forget the jobs not shown yet, on a connection
 * of its own (the first has results parked). */
static void
map_cancel(struct map *m)
{
	struct ctx *c = m->c;
	msgpack_packer *pk;
	mpmgr *h;
	size_t i;

	if (mpmgr_connect(&h, c->socket_path, c->authkey_file) != 0) {
		mpmgr_free(h);
		return;
	}
	for (i = m->shown; i < m->nids; i++) {
		if ((pk = mpmgr_request_begin(h, catalogue_methods[
		    MPMGR_MID_pool_cancel].name, 2)) == NULL)
			break;
		pack_cstr(pk, c->name);
		msgpack_pack_uint64(pk, m->ids[i]);
		mpmgr_request_end(h);
		if ((pk = mpmgr_request_begin(h, catalogue_methods[
		    MPMGR_MID_pool_result].name, 4)) == NULL)
			break;
		pack_cstr(pk, c->name);
		msgpack_pack_uint64(pk, m->ids[i]);
		msgpack_pack_true(pk);
		msgpack_pack_double(pk, 0);
		mpmgr_request_end(h);
		while (mpmgr_pending(h) >= POOL_WINDOW)
			(void)mpmgr_reply(h, NULL);
	}
	while (mpmgr_pending(h) > 0 && mpmgr_reply(h, NULL) != MPMGR_EIO)
		;
	mpmgr_free(h);
}

/* The results in input order, each consumed; a signal interrupts. */
static int
map_results(struct map *m, int sigfd)
{
	struct ctx *c = m->c;
	struct signalfd_siginfo si;
	struct pollfd p[2];
	msgpack_object res;
	size_t sent = 0;
	int err, r, st;

	m->status = EXIT_TRUE;
	while (m->shown < m->nids) {
		while (sent < m->nids && sent - m->shown < POOL_WINDOW)
			if ((r = send_result(c, c->h, m->ids[sent++], true)) != 0)
				return r;
		if ((r = mpmgr_reply_ready(c->h)) < 0)
			return mpctl_fail(c, r);
		if (r == 1) {
			if ((err = mpmgr_reply(c->h, &res)) != 0)
				return mpctl_fail(c, err);
			st = show_outcome(c, m->ids[m->shown], &res);
			if (m->status == EXIT_TRUE)
				m->status = st;
			m->shown++;
			continue;
		}
		p[0] = (struct pollfd){ .fd = sigfd, .events = POLLIN };
		p[1] = (struct pollfd){ .fd = mpmgr_fd(c->h), .events = POLLIN };
		if (poll(p, 2, -1) == -1 && errno != EINTR)
			return mpctl_say(EXIT_ERROR, "%s: poll: %s", c->who,
			    strerror(errno));
		if ((p[0].revents & POLLIN) &&
		    read(sigfd, &si, sizeof(si)) == sizeof(si)) {
			map_cancel(m);
			return 128 + (int)si.ssi_signo;
		}
	}
	return m->status;
}

int
pool_map(struct ctx *c)
{
	struct map m = { .c = c };
	sigset_t block, old;
	size_t tailcap, i;
	int n = 0, sigfd, rc;

	if ((c->opt[OPT_JOBS] != NULL && (rc = pool_jobs(c, &n)) != 0) ||
	    (rc = pool_tail(c, &tailcap)) != 0)
		return rc;
	sigemptyset(&block);
	for (i = 0; i < NELEM(stop_signals); i++)
		sigaddset(&block, stop_signals[i]);
	sigprocmask(SIG_BLOCK, &block, &old);
	if ((sigfd = signalfd(-1, &block, SFD_CLOEXEC)) == -1)
		return mpctl_say(EXIT_ERROR, "%s: signalfd: %s", c->who,
		    strerror(errno));
	if (n > 0 && (rc = map_start_worker(&m, n, tailcap)) != 0)
		return rc;
	if ((rc = mpctl_connect(c, false)) == 0 && (rc = map_submit_all(&m)) == 0)
		rc = map_results(&m, sigfd);
	map_stop_worker(&m, rc > 128 ? 2 : 1);
	close(sigfd);
	free(m.ids);
	return rc;
}
