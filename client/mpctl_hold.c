/*
 * mpctl_hold.c: the verbs that hold a lock, an rlock or a semaphore
 * permit on one connection.
 *
 * What a connection holds is given back when it closes, and mpctl's
 * connection closes when mpctl exits. So these verbs hold on one
 * connection for as long as something runs: `exec` acquires, runs CMD
 * with the connection's socket inherited (its number in $MPMGR_HELD_FD:
 * what is held lives while mpctl or CMD lives), waits for it and
 * releases; `condition wait/notify` run acquire + verb + release. Plain
 * acquire and release are refused unless the object was created with
 * release_on_disconnect false (they would be undone at once otherwise).
 *
 * exec passes SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to mpctl by another
 * process on to CMD, and still waits for CMD before releasing; exits with
 * CMD's status (128 + N when signal N killed it), or -E's code when the
 * acquire timed out and nothing ran.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mpctl.h"

/* CMD's pid while exec waits for it, for forward_signal. */
static volatile sig_atomic_t cmd_pid;

/* The signals exec passes on to CMD. */
static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };

/*
 * Whether what a connection holds in name stays held after it closes:
 * its release_on_disconnect is false (for a condition on a named lock,
 * that lock's: follow). A missing object would be made with the default,
 * true. An object of another type is not for mpctl to judge: the verb
 * goes through and the daemon answers WRONGTYPE. 0 or an MPMGR_E* code.
 */
static int
hold_kept(struct ctx *c, const char *name, bool follow, bool *kept)
{
	const msgpack_object *type, *opts, *lock;
	msgpack_object res;
	char lockname[256];
	int err;

	*kept = false;
	if ((err = mpctl_send_named(c, MPMGR_MID_obj_info, name, -1)) !=
	    MPMGR_OK)
		return err;
	if ((err = mpmgr_reply(c->h, &res)) != MPMGR_OK)
		return err == MPMGR_ENOOBJ ? MPMGR_OK : err;
	type = mpctl_map_get(&res, "type");
	opts = mpctl_map_get(&res, "options");
	lock = mpctl_map_get(opts, "lock");
	if (follow && !mpctl_is_str(type, c->verb->type)) {
		*kept = true;
		return MPMGR_OK;
	}
	if (follow && lock != NULL && lock->type == MSGPACK_OBJECT_STR &&
	    lock->via.str.size < sizeof(lockname)) {
		memcpy(lockname, lock->via.str.ptr, lock->via.str.size);
		lockname[lock->via.str.size] = '\0';
		return hold_kept(c, lockname, false, kept);
	}
	*kept = mpctl_is_bool(mpctl_map_get(opts, "release_on_disconnect"),
	    false);
	return MPMGR_OK;
}

/* Plain acquire and release: only where a hold outlives mpctl. */
int
hold_plain(struct ctx *c)
{
	const char *type = c->verb->type;
	msgpack_object res;
	bool kept;
	int err, rc;

	if ((rc = mpctl_pack_operands(c)) != 0 ||
	    (rc = mpctl_connect(c, false)) != 0)
		return rc;
	if ((err = hold_kept(c, c->name, true, &kept)) != MPMGR_OK)
		return mpctl_fail(c, err);
	if (!kept && strcmp(type, "condition") == 0)
		return mpctl_say(EXIT_USAGE, "%s: refused: the lock of '%s' is "
		    "released when its holder disconnects, and mpctl "
		    "disconnects as it exits: plain acquire and release are "
		    "for locks created with --no-release-on-disconnect; 'mpctl "
		    "condition wait' and 'notify' hold it themselves", c->who,
		    c->name);
	if (!kept)
		return mpctl_say(EXIT_USAGE, "%s: refused: '%s' is given back "
		    "when its holder disconnects, and mpctl disconnects as it "
		    "exits: plain acquire and release are for objects created "
		    "with --no-release-on-disconnect; hold it while a command "
		    "runs with 'mpctl %s exec -n %s -- CMD...'", c->who,
		    c->name, type, c->name);
	if ((err = mpctl_call(c, &res)) != MPMGR_OK)
		return mpctl_fail(c, err);
	return mpctl_print_result(c, &res);
}

/*
 * condition wait, notify, notify_all: acquire the condition's lock, run
 * the verb, release, on one connection. -t bounds the whole: the acquire,
 * then the wait with what is left (mpctl_send sends what is left).
 */
int
hold_cond(struct ctx *c)
{
	bool wait = c->verb->method == MPMGR_MID_condition_wait;
	msgpack_object res;
	int err, rc;

	if ((rc = mpctl_pack_operands(c)) != 0 ||
	    (rc = mpctl_connect(c, false)) != 0)
		return rc;
	if ((err = mpctl_send_named(c, MPMGR_MID_condition_acquire, c->name,
	    mpctl_left(c))) != MPMGR_OK ||
	    (err = mpmgr_reply(c->h, &res)) != MPMGR_OK)
		return mpctl_fail(c, err);
	if (res.type != MSGPACK_OBJECT_BOOLEAN)
		return mpctl_unexpected(&res);
	if (!res.via.boolean && wait)
		return mpctl_print_result(c, &res);
	if (!res.via.boolean && c->opt[OPT_QUIET] != NULL)
		return EXIT_FALSE;
	if (!res.via.boolean)
		return mpctl_say(EXIT_FALSE, "TIMEOUT: %s: the lock of '%s' "
		    "was not acquired within %g s; nobody was notified",
		    c->who, c->name, c->timeout);
	if ((err = mpctl_send(c)) != MPMGR_OK ||
	    (err = mpctl_send_named(c, MPMGR_MID_condition_release, c->name,
	    -1)) != MPMGR_OK)
		return mpctl_fail(c, err);
	/* Printed before the release's reply: res lives until that call. */
	err = mpmgr_reply(c->h, &res);
	rc = err == MPMGR_OK ? mpctl_print_result(c, &res) : mpctl_fail(c, err);
	/* A failed verb (DELETED...) has the release fail too: said once. */
	if ((err = mpmgr_reply(c->h, NULL)) != MPMGR_OK && rc <= EXIT_FALSE)
		rc = mpctl_fail(c, err);
	return rc;
}

/*
 * Pass a signal on to CMD, unless CMD sent it or the kernel did: a
 * terminal's ^C, ^\ and hang-up go to the whole foreground process group,
 * CMD included, and must not arrive twice.
 */
static void
forward_signal(int sig, siginfo_t *si, void *uctx)
{
	(void)uctx;
	if (cmd_pid > 0 && si->si_code <= 0 && si->si_pid != cmd_pid)
		kill(cmd_pid, sig);
}

/* In the child: CMD, keeping the connection's socket open. No return. */
static void
exec_cmd(struct ctx *c, const sigset_t *mask)
{
	int fd = mpmgr_fd(c->h), flags, e;
	char num[16];

	flags = fcntl(fd, F_GETFD);
	sigprocmask(SIG_SETMASK, mask, NULL);
	snprintf(num, sizeof(num), "%d", fd);
	if (flags == -1 || fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC) == -1 ||
	    setenv("MPMGR_HELD_FD", num, 1) == -1) {
		mpctl_say(0, "%s: cannot pass the connection on: %s", c->who,
		    strerror(errno));
		_exit(126);
	}
	execvp(c->operands[0], c->operands);
	e = errno;
	mpctl_say(0, "%s: %s: %s", c->who, c->operands[0], strerror(e));
	_exit(e == ENOENT ? 127 : 126);
}

/* Run CMD in a child and wait for it: its status, shell-style. */
static int
run_child(struct ctx *c)
{
	struct sigaction sa = { .sa_sigaction = forward_signal,
		.sa_flags = SA_SIGINFO | SA_RESTART };
	struct sigaction old[NELEM(forwarded)];
	sigset_t block, mask;
	size_t i;
	int status;
	pid_t pid;

	sigemptyset(&block);
	for (i = 0; i < NELEM(forwarded); i++)
		sigaddset(&block, forwarded[i]);
	/* Blocked until cmd_pid is known; the child restores the mask. */
	sigprocmask(SIG_BLOCK, &block, &mask);
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == 0)
		exec_cmd(c, &mask);
	if (pid == -1) {
		sigprocmask(SIG_SETMASK, &mask, NULL);
		return mpctl_say(EXIT_ERROR, "%s: fork: %s", c->who,
		    strerror(errno));
	}
	cmd_pid = pid;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < NELEM(forwarded); i++) {
		sigaction(forwarded[i], NULL, &old[i]);
		/* Ignored from the start (sh's `cmd &`): CMD's too, as is. */
		if (old[i].sa_handler != SIG_IGN)
			sigaction(forwarded[i], &sa, NULL);
	}
	sigprocmask(SIG_SETMASK, &mask, NULL);
	while (waitpid(pid, &status, 0) == -1) {
		if (errno != EINTR) {
			status = -1;
			mpctl_say(0, "%s: waitpid: %s", c->who,
			    strerror(errno));
			break;
		}
	}
	for (i = 0; i < NELEM(forwarded); i++)
		sigaction(forwarded[i], &old[i], NULL);
	cmd_pid = 0;
	if (status == -1)
		return EXIT_ERROR;
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) :
	    WEXITSTATUS(status);
}

/*
 * lock, rlock, semaphore exec: acquire, run CMD with the connection
 * inherited (what is held lives while mpctl or CMD does), release, exit
 * with CMD's status. Nothing runs when -t passes first: -E's code. -t
 * bounds the wait for the object, not CMD.
 *
 * An rlock is its owner connection's to acquire again, and CMD's mpctl
 * shares that connection: a nested `rlock exec` under $MPMGR_HELD_FD
 * (for the same daemon, of an rlock that connection owns) acquires on
 * it, one level deeper, instead of waiting on a connection of its own for
 * what its parent holds (mpctl_connect). It talks on the shared socket
 * while its parent waits for CMD, so nested commands under one exec must
 * run one at a time, not side by side.
 */
int
hold_exec(struct ctx *c)
{
	bool rlock = c->verb->method == MPMGR_MID_rlock_acquire;
	msgpack_object res;
	int err, rc;

	if ((rc = mpctl_connect(c, rlock)) != 0)
		return rc;
	if ((err = mpctl_call(c, &res)) != MPMGR_OK)
		return mpctl_fail(c, err);
	if (res.type != MSGPACK_OBJECT_BOOLEAN)
		return mpctl_unexpected(&res);
	if (!res.via.boolean && c->opt[OPT_QUIET] != NULL)
		return c->conflict;
	if (!res.via.boolean)
		return mpctl_say(c->conflict, "TIMEOUT: %s: '%s' not acquired "
		    "within %g s; %s not run", c->who, c->name, c->timeout,
		    c->operands[0]);
	mpctl_deadline_disarm();
	rc = run_child(c);
	if ((err = mpctl_send_named(c, c->verb->release, c->name, -1)) !=
	    MPMGR_OK || (err = mpmgr_reply(c->h, NULL)) != MPMGR_OK)
		mpctl_say(0, "%s: release of '%s' after %s: %s: %s", c->who,
		    c->name, c->operands[0], mpmgr_errcode(c->h)[0] ?
		    mpmgr_errcode(c->h) : mpmgr_strerror(err),
		    mpmgr_errmsg(c->h));
	return rc;
}
