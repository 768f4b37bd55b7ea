/*
 * mpctl_process.c: process records: `process start`, the supervisor, and
 * `process join`.
 *
 * start runs CMD under a supervisor that is this mpctl (--wait) or a
 * child of it that stays in the background while mpctl prints CMD's pid
 * and exits. The supervisor connects on its own (a libmpmgr handle does
 * not cross fork), forks CMD into a process group of its own, held at a
 * gate until the record is registered with CMD's pid (a name already
 * taken runs nothing), then waits, on one poll(2), for:
 *   - CMD's exit (its pidfd), reported with process.exited: N, or -SIG;
 *   - process.signal notifications on its connection (terminate, kill):
 *     the signal goes to CMD's group;
 *   - SIGINT, SIGTERM, SIGHUP, SIGQUIT sent to it (a signalfd): passed on
 *     to CMD's group, and it keeps waiting to report the exit;
 *   - with --daemon, the exit of the process that ran mpctl (a pidfd
 *     opened before anything else): SIGTERM to CMD's group, as Python
 *     terminates daemonic children when their parent exits.
 * If the daemon goes away meanwhile the supervisor still waits for CMD
 * (there is nobody to report to: the record is lost). A killed supervisor
 * leaves CMD running and the record lost.
 *
 * The background supervisor tells the foreground mpctl how the start went
 * through a pipe ("P pid", or "E status" after saying why on stderr), and
 * lets go of standard input and output so that a $(mpctl process start
 * ...) returns once mpctl has printed the pid (CMD keeps them).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../proto/mpmgr_proto.h"
#include "mpctl.h"

/* The signals a supervisor passes on to CMD's group. */
static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };

/* Signals the daemon asked for (process.signal), as a mask: bit N for
 * signal N. Set by the notification callback, acted on after the call. */
static uint64_t asked;

static void
on_notify(void *arg, const char *method, size_t len,
    const msgpack_object *params)
{
	const struct ctx *c = arg;
	const msgpack_object *name, *signo;

	if (len != strlen(MPMGR_NOTIFY_PROCESS_SIGNAL) ||
	    memcmp(method, MPMGR_NOTIFY_PROCESS_SIGNAL, len) != 0 ||
	    params->type != MSGPACK_OBJECT_ARRAY ||
	    params->via.array.size != 2)
		return;
	name = &params->via.array.ptr[0];
	signo = &params->via.array.ptr[1];
	if (!mpctl_is_str(name, c->name) ||
	    signo->type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
	    signo->via.u64 < 1 || signo->via.u64 > 63)
		return;
	asked |= (uint64_t)1 << signo->via.u64;
}

/* Send CMD's group the signals the daemon asked for. */
static void
deliver_asked(pid_t pgid)
{
	int sig;

	for (sig = 1; sig < 64 && asked != 0; sig++) {
		if (asked & ((uint64_t)1 << sig)) {
			asked &= ~((uint64_t)1 << sig);
			kill(-pgid, sig);
		}
	}
}

/* Tell the foreground mpctl (fd, or -1 with --wait) how the start went. */
static void
tell(int fd, char what, long n)
{
	char buf[32];
	int len;

	if (fd < 0)
		return;
	len = snprintf(buf, sizeof(buf), "%c %ld\n", what, n);
	(void)!write(fd, buf, (size_t)len);
	close(fd);
}

/*
 * In CMD's child: its own process group, the signal mask and dispositions
 * mpctl had, then wait at the gate: a byte means go, EOF means the start
 * failed. No return.
 */
static _Noreturn void
cmd_child(struct ctx *c, const sigset_t *mask, int gate, int errfd)
{
	char go;
	int e;
	size_t i;

	setpgid(0, 0);
	for (i = 0; i < NELEM(forwarded); i++)
		signal(forwarded[i], SIG_DFL);
	sigprocmask(SIG_SETMASK, mask, NULL);
	if (read(gate, &go, 1) != 1)
		_exit(127);
	close(gate);
	execvp(c->operands[0], c->operands);
	e = errno;
	(void)!write(errfd, &e, sizeof(e));
	_exit(e == ENOENT ? 127 : 126);
}

/* The exit code of a wait status, Python's way: N, or -SIG. */
static int
exit_code(int st)
{
	return WIFSIGNALED(st) ? -WTERMSIG(st) : WEXITSTATUS(st);
}

/* A shell's status for an exit code: N, or 128 + SIG. */
static int
shell_status(int code)
{
	return code < 0 ? 128 - code : code;
}

/*
 * Wait for CMD (pid, pidfd), acting on notifications, forwarded signals
 * and the starter's exit (starter: a pidfd, or -1). Its wait status.
 */
static int
supervise_wait(struct ctx *c, pid_t pid, int pidfd, int sigfd, int starter)
{
	struct signalfd_siginfo si;
	struct pollfd p[4];
	int st, r;
	bool connected = true;

	for (;;) {
		if (connected && mpmgr_poll_notify(c->h) < 0)
			connected = false;
		deliver_asked(pid);
		p[0] = (struct pollfd){ .fd = pidfd, .events = POLLIN };
		p[1] = (struct pollfd){ .fd = sigfd, .events = POLLIN };
		p[2] = (struct pollfd){ .fd = starter, .events = POLLIN };
		p[3] = (struct pollfd){ .fd = connected ? mpmgr_fd(c->h) : -1,
		    .events = POLLIN };
		if ((r = poll(p, 4, -1)) == -1 && errno != EINTR)
			break;
		if (r <= 0)
			continue;
		if (p[0].revents != 0)
			break;
		if ((p[1].revents & POLLIN) &&
		    read(sigfd, &si, sizeof(si)) == sizeof(si))
			kill(-pid, (int)si.ssi_signo);
		if (p[2].revents != 0) {
			/* The process that started it is gone: --daemon. */
			kill(-pid, SIGTERM);
			close(starter);
			starter = -1;
		}
	}
	while (waitpid(pid, &st, 0) == -1) {
		if (errno != EINTR) {
			mpctl_say(0, "%s: waitpid: %s", c->who,
			    strerror(errno));
			return -1;
		}
	}
	return st;
}

/*
 * The supervisor: start CMD, register it, wait, report. tellfd: the pipe
 * to the foreground mpctl, or -1 (--wait). starter: a pidfd for --daemon,
 * or -1. Its exit status: CMD's as a shell gives it, or mpctl's own when
 * the start failed.
 */
static int
supervise(struct ctx *c, int tellfd, int starter)
{
	sigset_t block, mask;
	int gate[2], errp[2], pidfd, sigfd, devnull, err, e, st, code, rc;
	pid_t pid;
	size_t i;
	ssize_t n;

	if ((rc = mpctl_connect(c, false)) != 0) {
		tell(tellfd, 'E', rc);
		return rc;
	}
	mpmgr_set_notify(c->h, on_notify, c);
	sigemptyset(&block);
	for (i = 0; i < NELEM(forwarded); i++)
		sigaddset(&block, forwarded[i]);
	sigprocmask(SIG_BLOCK, &block, &mask);
	if ((sigfd = signalfd(-1, &block, SFD_CLOEXEC)) == -1 ||
	    pipe2(gate, O_CLOEXEC) == -1 || pipe2(errp, O_CLOEXEC) == -1) {
		rc = mpctl_say(EXIT_ERROR, "%s: %s", c->who, strerror(errno));
		tell(tellfd, 'E', rc);
		return rc;
	}
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == -1) {
		rc = mpctl_say(EXIT_ERROR, "%s: fork: %s", c->who,
		    strerror(errno));
		tell(tellfd, 'E', rc);
		return rc;
	}
	if (pid == 0) {
		close(gate[1]);
		close(errp[0]);
		cmd_child(c, &mask, gate[0], errp[1]);
	}
	close(gate[0]);
	close(errp[1]);
	/* Both sides set the group: whichever runs first, it is set. */
	setpgid(pid, pid);
	pidfd = pidfd_open(pid, 0);
	err = mpmgr_process_register(c->h, c->name, pid,
	    (const char *const *)c->operands, c->opt[OPT_DAEMON] != NULL);
	if (pidfd == -1 || err != MPMGR_OK) {
		/* It never ran: the gate closes on it. */
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		rc = err != MPMGR_OK ? mpctl_fail(c, err) : mpctl_say(EXIT_ERROR,
		    "%s: pidfd_open: %s", c->who, strerror(errno));
		tell(tellfd, 'E', rc);
		return rc;
	}
	/* -t bounded the registration; CMD runs as long as it runs. */
	mpctl_deadline_disarm();
	(void)!write(gate[1], "g", 1);
	close(gate[1]);
	n = read(errp[0], &e, sizeof(e));
	close(errp[0]);
	if (n == (ssize_t)sizeof(e)) {
		mpctl_say(0, "%s: %s: %s", c->who, c->operands[0],
		    strerror(e));
		tell(tellfd, 'E', e == ENOENT ? 127 : 126);
		tellfd = -1;
	}
	tell(tellfd, 'P', (long)pid);
	if (tellfd >= 0) {
		/* The foreground prints the pid; $(...) must not wait for
		 * us, only for CMD, which keeps its own copies. */
		if ((devnull = open("/dev/null", O_RDWR)) >= 0) {
			dup2(devnull, STDIN_FILENO);
			dup2(devnull, STDOUT_FILENO);
			if (devnull > STDERR_FILENO)
				close(devnull);
		}
	}
	if ((st = supervise_wait(c, pid, pidfd, sigfd, starter)) == -1)
		return EXIT_ERROR;
	code = exit_code(st);
	/* Nobody to tell when the daemon went away or the record was
	 * deleted: the status is still CMD's. */
	(void)mpmgr_process_exited(c->h, c->name, code);
	return shell_status(code);
}

/* What the background supervisor said: exit as it says. */
static int
await_supervisor(struct ctx *c, int fd)
{
	char buf[64], what = 0;
	size_t len = 0;
	ssize_t n;
	long v = 0;

	while (len < sizeof(buf) - 1 &&
	    (n = read(fd, buf + len, sizeof(buf) - 1 - len)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	close(fd);
	if (sscanf(buf, "%c %ld", &what, &v) != 2)
		return mpctl_say(EXIT_ERROR, "%s: the supervisor of '%s' died "
		    "before CMD started", c->who, c->name);
	if (what == 'E')
		return (int)v;
	printf("%ld\n", v);
	return EXIT_TRUE;
}

int
process_start(struct ctx *c)
{
	int tellp[2], starter = -1, rc;
	pid_t parent, pid;

	if (c->opt[OPT_DAEMON] != NULL) {
		/* Opened before anything else, while that process is our
		 * parent (gone already: ESRCH, and nothing starts). */
		parent = getppid();
		if ((starter = pidfd_open(parent, 0)) == -1)
			return mpctl_say(EXIT_ERROR, "%s: pidfd_open(%d), the "
			    "process that ran mpctl: %s", c->who, (int)parent,
			    strerror(errno));
	}
	if (c->opt[OPT_WAIT] != NULL)
		return supervise(c, -1, starter);
	if (pipe2(tellp, O_CLOEXEC) == -1)
		return mpctl_say(EXIT_ERROR, "%s: pipe: %s", c->who,
		    strerror(errno));
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == -1)
		return mpctl_say(EXIT_ERROR, "%s: fork: %s", c->who,
		    strerror(errno));
	if (pid == 0) {
		close(tellp[0]);
		rc = supervise(c, tellp[1], starter);
		mpmgr_free(c->h);
		fflush(NULL);
		_exit(rc);
	}
	close(tellp[1]);
	if (starter >= 0)
		close(starter);
	return await_supervisor(c, tellp[0]);
}

/* Wait for the record's exit code and exit with it, as a shell would. */
int
process_join(struct ctx *c)
{
	int code, err, rc;

	if ((rc = mpctl_connect(c, false)) != 0)
		return rc;
	if ((err = mpmgr_process_join(c->h, c->name, c->timeout >= 0 ?
	    mpctl_left(c) : MPMGR_FOREVER, &code)) != MPMGR_OK)
		return mpctl_fail(c, err);
	return shell_status(code);
}
