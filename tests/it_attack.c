/*
 * it_attack.c: the promises of DESIGN.md's "Robustness rules" against a
 * real mpmgrd and clients that attack it (issue 8):
 *
 * - a client killed with its input full behind a parked request gives
 *   back at once what it holds (lock, rlock, semaphore permit, ack lease,
 *   condition), not when its parked request is answered.
 *
 * Every wait is a poll of the daemon's state against a deadline
 * (HARNESS_DEADLINE_MS), never a sleep; nothing here asserts speed.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static struct harness *const D = &harness_fixture;

/* A 1 MiB message limit: an input buffer is full at 1 MiB + 16 KiB. */
static void
daemon_small_input_up(void)
{
	static const char *const args[] = { "--max-message", "1m", NULL };

	harness_start(D, args);
}

/* sys.stats' field, asked on a connection of its own. */
static uint64_t
stat_u64(const char *field)
{
	mpmgr *m = harness_connect(D);
	uint64_t v = harness_stat(m, field);

	mpmgr_free(m);
	return v;
}

/* Poll until sys.stats' field is want. */
static void
await_stat(const char *field, uint64_t want)
{
	int64_t deadline = harness_now_ms() + HARNESS_DEADLINE_MS;
	uint64_t v;

	while ((v = stat_u64(field)) != want) {
		ck_assert_msg(harness_now_ms() < deadline, "sys.stats %s "
		    "stayed %llu, expected %llu", field, (unsigned long long)v,
		    (unsigned long long)want);
		harness_nap(5);
	}
}

/* Poll until method params answers expected; true if it did in time. */
static bool
await_answer(mpmgr *m, const char *method, const char *params,
    const char *expected)
{
	int64_t deadline = harness_now_ms() + HARNESS_DEADLINE_MS;
	msgpack_object res;

	for (;;) {
		if (harness_call(m, method, params, &res) == 0 &&
		    harness_obj_eq(res, expected))
			return true;
		if (harness_now_ms() >= deadline)
			return false;
		harness_nap(5);
	}
}

/* --- a dead client's holds, behind a full input ----------------------- */

/* What the victim takes, and how another client sees it free again. */
static const struct {
	const char *what;
	const char *setup[2][2];              /* calls by the test first */
	const char *take, *take_params;       /* by the victim, twice for
						 an rlock */
	const char *take_result;
	int takes;
	const char *probe, *probe_params;     /* by another client */
	const char *held, *freed;             /* probe's answers */
} holds[] = {
	{ "lock", { { NULL } }, "lock.acquire", "['at_lock']", "true", 1,
	  "lock.acquire", "['at_lock', 0]", "false", "true" },
	{ "rlock", { { NULL } }, "rlock.acquire", "['at_rlock']", "true", 2,
	  "rlock.acquire", "['at_rlock', 0]", "false", "true" },
	{ "semaphore permit",
	  { { "semaphore.create", "['at_sem', {'value': 1}]" } },
	  "semaphore.acquire", "['at_sem']", "true", 1,
	  "semaphore.value", "['at_sem']", "0", "1" },
	{ "ack lease", { { "queue.create", "['at_ackq', {'ack': true}]" },
	    { "queue.put", "['at_ackq', 'leased']" } },
	  "queue.get", "['at_ackq']", "'leased'", 1,
	  "queue.qsize", "['at_ackq']", "0", "1" },
	{ "condition's lock", { { NULL } },
	  "condition.acquire", "['at_cond']", "true", 1,
	  "condition.acquire", "['at_cond', 0]", "false", "true" },
};

/*
 * The victim, in a child: take the hold, park on an event nobody sets,
 * then pipeline pings until the socket blocks (the daemon stops reading
 * once its input is full). It never returns: the test kills it. Exit
 * codes say which step failed.
 */
static _Noreturn void
victim(int i)
{
	struct harness_raw r;
	msgpack_sbuffer sb;
	int64_t id;
	msgpack_object res;

	harness_raw_authed(D, &r);
	for (int t = 0; t < holds[i].takes; t++) {
		if (!harness_raw_request(&r, (uint32_t)t + 1, holds[i].take,
		    holds[i].take_params) ||
		    harness_raw_result(&r, HARNESS_DEADLINE_MS, &id, &res) != 0 ||
		    !harness_obj_eq(res, holds[i].take_result))
			_exit(10);
	}
	if (!harness_raw_request(&r, 100, "event.wait", "['at_never']"))
		_exit(11);
	msgpack_sbuffer_init(&sb);
	harness_pack_request(&sb, 101, "sys.ping", "[]");
	for (;;) {
		if (!harness_raw_send(&r, sb.data, sb.size))
			_exit(12);
	}
}

START_TEST(test_full_input_kill)
{
	mpmgr *m = harness_connect(D);
	char what[128];
	pid_t pid;
	int st;

	for (int k = 0; k < 2 && holds[_i].setup[k][0] != NULL; k++)
		ck_assert_int_eq(harness_call(m, holds[_i].setup[k][0],
		    holds[_i].setup[k][1], NULL), 0);
	ck_assert((pid = fork()) != -1);
	if (pid == 0)
		victim(_i);
	/* Parked, its input full and more in the socket: not read any more. */
	harness_await_waiters(m, "at_never", 1);
	await_stat("paused_clients", 1);
	ck_assert_msg(await_answer(m, holds[_i].probe, holds[_i].probe_params,
	    holds[_i].held), "%s: the victim does not hold it", holds[_i].what);
	ck_assert(waitpid(pid, &st, WNOHANG) == 0);

	ck_assert(kill(pid, SIGKILL) == 0);
	ck_assert(waitpid(pid, &st, 0) == pid);
	snprintf(what, sizeof(what), "%s: not given back after kill -9 with "
	    "a full input behind a parked request", holds[_i].what);
	ck_assert_msg(await_answer(m, holds[_i].probe, holds[_i].probe_params,
	    holds[_i].freed), "%s", what);
	/* The connection is gone with all it had. */
	await_stat("paused_clients", 0);
	ck_assert_int_eq(harness_waiters(m, "at_never"), 0);
	ck_assert_uint_eq(harness_stat(m, "clients"), 1);
	mpmgr_free(m);
}
END_TEST

static Suite *
attack_suite(void)
{
	Suite *s = suite_create("it_attack");
	TCase *tc;

	tc = harness_tcase(s, "full input", 60, daemon_small_input_up,
	    harness_fixture_down);
	tcase_add_loop_test(tc, test_full_input_kill, 0,
	    (int)(sizeof(holds) / sizeof(holds[0])));
	return s;
}

int
main(void)
{
	return harness_run(attack_suite());
}
