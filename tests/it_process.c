/*
 * it_process.c: process records through libmpmgr against a real mpmgrd: a
 * C supervisor registers a child it started, an unrelated process joins
 * it, terminate reaches the supervisor as a notification (read with
 * mpmgr_poll_notify, and also while the supervisor waits for a reply of
 * its own), and a supervisor that goes without reporting leaves the
 * record lost, its joiners released with MPMGR_ELOST.
 *
 * Children are forked before the connections whose close a test relies
 * on: a forked child keeps its parent's sockets open. One daemon per
 * TCase; nothing sleeps to let something happen.
 */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static struct harness *const D = &harness_fixture;

/* What the notification callback saw. */
struct seen {
	int count;
	char name[64];
	int signo;
};

static void
on_notify(void *arg, const char *method, size_t len,
    const msgpack_object *params)
{
	struct seen *s = arg;

	if (len != strlen("process.signal") ||
	    memcmp(method, "process.signal", len) != 0 ||
	    params->type != MSGPACK_OBJECT_ARRAY ||
	    params->via.array.size != 2 ||
	    params->via.array.ptr[0].type != MSGPACK_OBJECT_STR ||
	    params->via.array.ptr[1].type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return;
	snprintf(s->name, sizeof(s->name), "%.*s",
	    (int)params->via.array.ptr[0].via.str.size,
	    params->via.array.ptr[0].via.str.ptr);
	s->signo = (int)params->via.array.ptr[1].via.u64;
	s->count++;
}

/* A child that waits to be killed (with the default action: Check's
 * handlers would pass a SIGTERM on to the test's process group). */
static pid_t
sleeper(void)
{
	sigset_t block, old;
	pid_t pid;

	/* Blocked until the child has the default action: a SIGTERM sent
	 * at once (a loaded machine may not run the child before the test
	 * goes on) must not meet Check's handler in it. */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &old);
	pid = fork();
	if (pid == 0) {
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		sigprocmask(SIG_SETMASK, &old, NULL);
		for (;;)
			pause();
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	ck_assert(pid != -1);
	return pid;
}

/* The parent tells the joiner that the record exists. */
static int go[2] = { -1, -1 };

/* The joiner, an unrelated process: once told, join "pj" until it has an
 * exit code (arg: the code expected, or 1000 for LOST). */
static int
joiner(mpmgr *m, int want)
{
	int code = 0, rc;
	char ch;

	CHILD_CHECK(m, read(go[0], &ch, 1) == 1, 6);
	rc = mpmgr_process_join(m, "pj", MPMGR_FOREVER, &code);
	if (want == 1000) {
		CHILD_CHECK(m, rc == MPMGR_ELOST, 2);
		CHILD_CHECK(m, strcmp(mpmgr_errcode(m), "LOST") == 0, 3);
		return 0;
	}
	CHILD_CHECK(m, rc == 0, 4);
	CHILD_CHECK(m, code == want, 5);
	return 0;
}

/* Poll the supervisor's socket until a notification has come. */
static void
await_notification(mpmgr *s, const struct seen *seen, int count)
{
	int64_t deadline = harness_now_ms() + HARNESS_DEADLINE_MS;
	struct pollfd p = { .fd = mpmgr_fd(s), .events = POLLIN };
	int rc;

	for (;;) {
		rc = mpmgr_poll_notify(s);
		ck_assert_msg(rc >= 0, "mpmgr_poll_notify: %s",
		    mpmgr_strerror(rc));
		if (seen->count >= count)
			return;
		ck_assert_msg(harness_now_ms() < deadline, "no notification");
		poll(&p, 1, 100);
	}
}

START_TEST(test_supervise)
{
	mpmgr *m = harness_connect(D), *s;
	const char *const argv[] = { "sleeper", "--forever", NULL };
	struct seen seen = { 0 };
	msgpack_object item;
	pid_t join, child;
	int st;

	ck_assert(pipe(go) == 0);
	join = harness_spawn(D, joiner, -SIGTERM);
	s = harness_connect(D);
	mpmgr_set_notify(s, on_notify, &seen);
	child = sleeper();
	ck_assert_int_eq(mpmgr_process_register(s, "pj", child, argv, false),
	    0);
	ck_assert_int_eq(mpmgr_process_register(m, "pj", 1, argv, false),
	    MPMGR_EEXISTS);
	ck_assert_int_eq(mpmgr_process_is_alive(m, "pj"), 1);
	ck_assert(write(go[1], "g", 1) == 1);
	harness_await_waiters(m, "pj", 1);
	ck_assert_int_eq(mpmgr_process_exited(m, "pj", 0), MPMGR_ENOTOWNER);

	/* Nothing has come yet. */
	ck_assert_int_eq(mpmgr_poll_notify(s), 0);
	ck_assert_int_eq(seen.count, 0);
	/* terminate from another connection reaches the supervisor. */
	ck_assert_int_eq(mpmgr_process_terminate(m, "pj"), 0);
	await_notification(s, &seen, 1);
	ck_assert_str_eq(seen.name, "pj");
	ck_assert_int_eq(seen.signo, SIGTERM);

	/* One that comes while the supervisor waits for a reply of its own
	 * is handed over by that call. */
	harness_send(s, "queue.get", "['pj-q']");
	harness_await_waiters(m, "pj-q", 1);
	ck_assert_int_eq(mpmgr_process_kill(m, "pj"), 0);
	item = mpmgr_obj_int(7);
	ck_assert_int_eq(mpmgr_queue_put(m, "pj-q", &item, 0), 0);
	ck_reply_ok(s, "7");
	ck_assert_int_eq(seen.count, 2);
	ck_assert_int_eq(seen.signo, SIGKILL);

	/* The supervisor acts on the first, and reports. */
	ck_assert(kill(child, SIGTERM) == 0);
	ck_assert(waitpid(child, &st, 0) == child);
	ck_assert(WIFSIGNALED(st));
	ck_assert_int_eq(mpmgr_process_exited(s, "pj", -WTERMSIG(st)), 0);
	harness_reap(&join, 1, "the joiner");
	ck_assert_int_eq(mpmgr_process_is_alive(m, "pj"), 0);
	/* Terminating a finished process does nothing. */
	ck_assert_int_eq(mpmgr_process_terminate(m, "pj"), 0);
	ck_assert_int_eq(mpmgr_poll_notify(s), 0);
	ck_call_ok(m, "obj.delete", "['pj']", "nil");
	mpmgr_free(s);
	mpmgr_free(m);
}
END_TEST

START_TEST(test_lost)
{
	mpmgr *m = harness_connect(D), *s;
	const char *const argv[] = { "sleeper", NULL };
	pid_t join, child;
	int code;

	ck_assert(pipe(go) == 0);
	join = harness_spawn(D, joiner, 1000);
	child = sleeper();
	s = harness_connect(D);
	ck_assert_int_eq(mpmgr_process_register(s, "pj", child, argv, true),
	    0);
	ck_assert(write(go[1], "g", 1) == 1);
	harness_await_waiters(m, "pj", 1);
	/* The supervisor goes without reporting. */
	mpmgr_free(s);
	harness_reap(&join, 1, "the joiner of a lost process");
	ck_assert_int_eq(mpmgr_process_join(m, "pj", 0, &code), MPMGR_ELOST);
	ck_assert_int_eq(mpmgr_process_terminate(m, "pj"), MPMGR_ELOST);
	ck_call_ok(m, "obj.delete", "['pj']", "nil");
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	/* A missing record is no process. */
	ck_assert_int_eq(mpmgr_process_join(m, "pj", 0, &code), MPMGR_ENOOBJ);
	mpmgr_free(m);
}
END_TEST

static Suite *
process_suite(void)
{
	Suite *s = suite_create("it_process");
	TCase *tc;

	tc = harness_tcase(s, "process", 60, harness_fixture_up,
	    harness_fixture_down);
	tcase_add_test(tc, test_supervise);
	tcase_add_test(tc, test_lost);
	return s;
}

int
main(void)
{
	return harness_run(process_suite());
}
