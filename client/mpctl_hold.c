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
#include <poll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mpctl.h"

/* CMD's pid while exec waits for it, for forward_signal. */
static volatile sig_atomic_t cmd_pid;

/* Seconds between SIGTERM and SIGKILL to CMD once its lease is lost. */
#define EXEC_KILL_GRACE 5

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

/* How CMD is started. */
struct cmd_env {
	uint64_t fence;         /* MPMGR_FENCE */
	bool pass_fd;           /* the connection inherited: MPMGR_HELD_FD */
	bool parent_death;      /* SIGTERM when mpctl dies (--ttl) */
};

/* In the child: CMD as env says. No return. */
static void
exec_cmd(struct ctx *c, const sigset_t *mask, const struct cmd_env *env)
{
	int fd = mpmgr_fd(c->h), flags = 0, e;
	char num[24];

	if (env->pass_fd)
		flags = fcntl(fd, F_GETFD);
	sigprocmask(SIG_SETMASK, mask, NULL);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)env->fence);
	if (setenv("MPMGR_FENCE", num, 1) == -1) {
		mpctl_say(0, "%s: cannot set MPMGR_FENCE: %s", c->who,
		    strerror(errno));
		_exit(126);
	}
	snprintf(num, sizeof(num), "%d", fd);
	if (env->pass_fd && (flags == -1 ||
	    fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC) == -1 ||
	    setenv("MPMGR_HELD_FD", num, 1) == -1)) {
		mpctl_say(0, "%s: cannot pass the connection on: %s", c->who,
		    strerror(errno));
		_exit(126);
	}
	/* mpctl gone, nobody extends the lease: CMD must not outlive it. */
	if (env->parent_death && (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1 ||
	    getppid() == 1)) {
		mpctl_say(0, "%s: mpctl is gone: %s not run", c->who,
		    c->operands[0]);
		_exit(126);
	}
	execvp(c->operands[0], c->operands);
	e = errno;
	mpctl_say(0, "%s: %s: %s", c->who, c->operands[0], strerror(e));
	_exit(e == ENOENT ? 127 : 126);
}

/* CMD's wait status as a shell reports it. */
static int
cmd_status(int status)
{
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) :
	    WEXITSTATUS(status);
}

/* Wait for CMD (signals forwarded meanwhile): its status, or -1. */
static int
wait_cmd(struct ctx *c, pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) == -1) {
		if (errno != EINTR) {
			mpctl_say(0, "%s: waitpid: %s", c->who,
			    strerror(errno));
			return -1;
		}
	}
	return cmd_status(status);
}

/*
 * How long a lease lives in mpctl's eyes: from the moment the request
 * that set it was sent (the daemon's end is later), so that CMD is ended
 * before the daemon releases the lock, never after.
 */
struct lease {
	double ttl;
	double until;           /* the lease is sure to last until then */
	double next;            /* when to send the next extend */
	double sent;            /* of the extend outstanding, or < 0 */
	char why[300];          /* why it was lost; "" while it holds */
};

/* Send an extend; a failure loses the lease. */
static void
lease_send(struct ctx *c, struct lease *l)
{
	msgpack_packer *pk;
	double now = mpctl_now();
	int err = MPMGR_OK;

	pk = mpmgr_request_begin(c->h, catalogue_methods[c->verb->extend].name,
	    2);
	if (pk == NULL)
		err = MPMGR_EINVAL;
	else {
		msgpack_pack_str_with_body(pk, c->name, strlen(c->name));
		msgpack_pack_double(pk, l->ttl);
		if ((err = mpmgr_request_end(c->h)) == MPMGR_OK)
			err = mpmgr_flush(c->h);
	}
	if (err != MPMGR_OK) {
		snprintf(l->why, sizeof(l->why), "cannot extend it: %s: %s",
		    mpmgr_strerror(err), mpmgr_errmsg(c->h));
		return;
	}
	l->sent = now;
	l->next = now + l->ttl / 3;
}

/* Read the extend's answer; a refusal loses the lease. */
static void
lease_answer(struct ctx *c, struct lease *l)
{
	int err = mpmgr_reply(c->h, NULL);
	const char *code = mpmgr_errcode(c->h);

	if (err != MPMGR_OK) {
		snprintf(l->why, sizeof(l->why), "%s: %s", code[0] != '\0' ?
		    code : mpmgr_strerror(err), mpmgr_errmsg(c->h));
		return;
	}
	l->until = l->sent + l->ttl;
	l->sent = -1;
}

/* Run CMD in a child as env says, and wait for it: its status, shell-style;
 * with a lease, keep it extended meanwhile (run_leased). */
static int run_leased(struct ctx *, pid_t, struct lease *);

static int
run_child(struct ctx *c, const struct cmd_env *env, struct lease *lease)
{
	struct sigaction sa = { .sa_sigaction = forward_signal,
		.sa_flags = SA_SIGINFO | SA_RESTART };
	struct sigaction old[NELEM(forwarded)];
	sigset_t block, mask;
	size_t i;
	int rc;
	pid_t pid;

	sigemptyset(&block);
	for (i = 0; i < NELEM(forwarded); i++)
		sigaddset(&block, forwarded[i]);
	/* Blocked until cmd_pid is known; the child restores the mask. */
	sigprocmask(SIG_BLOCK, &block, &mask);
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == 0)
		exec_cmd(c, &mask, env);
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
	rc = lease != NULL ? run_leased(c, pid, lease) : wait_cmd(c, pid);
	for (i = 0; i < NELEM(forwarded); i++)
		sigaction(forwarded[i], &old[i], NULL);
	cmd_pid = 0;
	return rc < 0 ? EXIT_ERROR : rc;
}

/*
 * Wait for CMD while extending the lease every third of its ttl. When
 * the lease is lost (an extend refused, or none answered before the lease
 * would end), CMD gets SIGTERM, and SIGKILL EXEC_KILL_GRACE seconds later
 * if it still runs. CMD's status, or -1.
 */
static int
run_leased(struct ctx *c, pid_t pid, struct lease *l)
{
	struct pollfd pfd[2];
	double now, until, kill_at = -1;
	int pidfd, n, status, timeout;
	bool termed = false, killed = false;

	if ((pidfd = (int)syscall(SYS_pidfd_open, pid, 0)) == -1) {
		/* No pidfd (Linux < 5.3): CMD must not run unguarded. */
		mpctl_say(0, "%s: pidfd_open: %s: ending %s", c->who,
		    strerror(errno), c->operands[0]);
		kill(pid, SIGKILL);
		wait_cmd(c, pid);
		return -1;
	}
	for (;;) {
		now = mpctl_now();
		if (l->why[0] == '\0' && now >= l->until)
			snprintf(l->why, sizeof(l->why), "no extend was "
			    "answered within its ttl of %g s", l->ttl);
		if (l->why[0] != '\0' && !termed) {
			mpctl_say(0, "%s: the lease on '%s' is lost (%s): "
			    "sending SIGTERM to %s", c->who, c->name, l->why,
			    c->operands[0]);
			kill(pid, SIGTERM);
			termed = true;
			kill_at = now + EXEC_KILL_GRACE;
		}
		if (termed && !killed && now >= kill_at) {
			mpctl_say(0, "%s: %s still runs %d s after SIGTERM: "
			    "SIGKILL", c->who, c->operands[0],
			    EXEC_KILL_GRACE);
			kill(pid, SIGKILL);
			killed = true;
		}
		if (!termed && l->sent < 0 && now >= l->next) {
			lease_send(c, l);
			continue;
		}
		until = termed ? (killed ? -1 : kill_at) :
		    l->sent < 0 && l->next < l->until ? l->next : l->until;
		timeout = until < 0 ? -1 : (int)((until - now) * 1000) + 1;
		pfd[0] = (struct pollfd){ .fd = pidfd, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = mpmgr_fd(c->h),
		    .events = POLLIN };
		n = poll(pfd, !termed && l->sent >= 0 ? 2 : 1, timeout);
		if (n == -1 && errno != EINTR) {
			mpctl_say(0, "%s: poll: %s", c->who, strerror(errno));
			break;
		}
		if (n > 0 && pfd[0].revents != 0)
			break;
		if (n > 0 && !termed && l->sent >= 0 && pfd[1].revents != 0)
			lease_answer(c, l);
	}
	close(pidfd);
	while (waitpid(pid, &status, 0) == -1) {
		if (errno != EINTR)
			return -1;
	}
	return cmd_status(status);
}

/*
 * exec's acquire and its reply: [name, what is left of -t (nil: wait),
 * {fence: true, ttl}], answered by the fencing token or false.
 */
static int
exec_acquire(struct ctx *c, msgpack_object *res)
{
	double left = mpctl_left(c);
	msgpack_packer *pk;
	int err;

	pk = mpmgr_request_begin(c->h, verbs_method(c->verb), 3);
	if (pk == NULL)
		return MPMGR_EINVAL;
	msgpack_pack_str_with_body(pk, c->name, strlen(c->name));
	if (left >= 0)
		msgpack_pack_double(pk, left);
	else
		msgpack_pack_nil(pk);
	msgpack_pack_map(pk, c->ttl > 0 ? 2 : 1);
	msgpack_pack_str_with_body(pk, "fence", 5);
	msgpack_pack_true(pk);
	if (c->ttl > 0) {
		msgpack_pack_str_with_body(pk, "ttl", 3);
		msgpack_pack_double(pk, c->ttl);
	}
	if ((err = mpmgr_request_end(c->h)) != MPMGR_OK)
		return err;
	return mpmgr_reply(c->h, res);
}

/*
 * lock, rlock, semaphore exec: acquire (asking for the fencing token, and
 * a lease with --ttl), run CMD with the token in $MPMGR_FENCE, release,
 * exit with CMD's status. Nothing runs when -t passes first: -E's code.
 * -t bounds the wait for the object, not CMD. Without --ttl CMD inherits
 * the connection (what is held lives while mpctl or CMD does); with it
 * mpctl keeps the lease extended, CMD ends with it, and nothing outlives
 * mpctl.
 *
 * An rlock is its owner connection's to acquire again, and CMD's mpctl
 * shares that connection: a nested `rlock exec` under $MPMGR_HELD_FD
 * (for the same daemon, of an rlock that connection owns) acquires on
 * it, one level deeper, instead of waiting on a connection of its own for
 * what its parent holds (mpctl_connect). It talks on the shared socket
 * while its parent waits for CMD, so nested commands under one exec must
 * run one at a time, not side by side. A nested exec with --ttl is
 * refused (usage): a lease is on a connection's whole hold, and the
 * parent's levels are not the child's to lease, while waiting on a
 * connection of its own would wait for its parent for ever.
 */
int
hold_exec(struct ctx *c)
{
	struct cmd_env env = { .pass_fd = c->ttl <= 0,
		.parent_death = c->ttl > 0 };
	struct lease lease = { .ttl = c->ttl, .sent = -1 };
	bool rlock = c->verb->method == MPMGR_MID_rlock_acquire;
	msgpack_object res;
	int err, rc;

	if ((rc = mpctl_connect(c, rlock)) != 0)
		return rc;
	if (c->adopted && c->ttl > 0)
		return mpctl_say(EXIT_USAGE, "%s: '%s' is held by the exec "
		    "this runs under ($MPMGR_HELD_FD), and a lease covers a "
		    "connection's whole hold: a nested exec takes no --ttl "
		    "(give it to the outer one); %s not run", c->who, c->name,
		    c->operands[0]);
	if ((err = exec_acquire(c, &res)) != MPMGR_OK)
		return mpctl_fail(c, err);
	if (res.type == MSGPACK_OBJECT_BOOLEAN && !res.via.boolean &&
	    c->opt[OPT_QUIET] != NULL)
		return c->conflict;
	if (res.type == MSGPACK_OBJECT_BOOLEAN && !res.via.boolean)
		return mpctl_say(c->conflict, "TIMEOUT: %s: '%s' not acquired "
		    "within %g s; %s not run", c->who, c->name, c->timeout,
		    c->operands[0]);
	if (res.type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return mpctl_unexpected(&res);
	mpctl_deadline_disarm();
	env.fence = res.via.u64;
	if (c->ttl > 0) {
		/*
		 * The lease started when the lock was granted, some time after
		 * the acquire was sent: extend it once, so that mpctl knows a
		 * moment before which it surely holds, before CMD runs.
		 */
		lease_send(c, &lease);
		if (lease.why[0] == '\0')
			lease_answer(c, &lease);
		if (lease.why[0] != '\0')
			return mpctl_say(EXIT_ERROR, "%s: the lease on '%s' is "
			    "lost (%s): %s not run", c->who, c->name,
			    lease.why, c->operands[0]);
	}
	rc = run_child(c, &env, c->ttl > 0 ? &lease : NULL);
	if (lease.why[0] != '\0')
		return mpctl_say(EXIT_ERROR, "%s: %s ended (status %d) after "
		    "the lease on '%s' was lost", c->who, c->operands[0], rc,
		    c->name);
	if ((err = mpctl_send_named(c, c->verb->release, c->name, -1)) !=
	    MPMGR_OK || (err = mpmgr_reply(c->h, NULL)) != MPMGR_OK)
		mpctl_say(0, "%s: release of '%s' after %s: %s: %s", c->who,
		    c->name, c->operands[0], mpmgr_errcode(c->h)[0] ?
		    mpmgr_errcode(c->h) : mpmgr_strerror(err),
		    mpmgr_errmsg(c->h));
	return rc;
}
