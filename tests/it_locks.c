/*
 * it_locks.c: lock, rlock, semaphore and condition against a real mpmgrd,
 * several connections at once: a parked request answered when another
 * connection releases, and what a closing connection gives back (its
 * lock, its permits, a notify it received), with the daemon seeing the
 * hang-up as a real socket's EOF.
 *
 * One daemon per TCase (unchecked fixture, in the runner process); each
 * test runs in its own forked process. Requests that park are sent with
 * the pipelining API and their replies read later.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static struct harness *const D = &harness_fixture;

/* Poll (the daemon handles a close on its own time) until name is gone. */
static void
vanishes(mpmgr *m, const char *name)
{
	char params[300];
	int64_t deadline = harness_now_ms() + 10000;
	int rc;

	snprintf(params, sizeof params, "['%s']", name);
	while ((rc = harness_call(m, "obj.info", params, NULL)) == 0) {
		ck_assert_msg(harness_now_ms() < deadline, "%s stays", name);
		harness_nap(5);
	}
	ck_assert_int_eq(rc, MPMGR_ENOOBJ);
}

START_TEST(test_lock_handover)
{
	mpmgr *a = harness_connect(D), *b = harness_connect(D);
	mpmgr *c = harness_connect(D);

	ck_call_ok(a, "lock.acquire", "['hl']", "true");
	harness_send(b, "lock.acquire", "['hl']");
	harness_send(c, "lock.acquire", "['hl', 30]");
	/* The holder goes away without releasing: b gets it, then c. */
	mpmgr_free(a);
	ck_reply_ok(b, "true");
	ck_call_ok(b, "lock.release", "['hl']", "nil");
	ck_reply_ok(c, "true");
	ck_call_ok(b, "lock.acquire", "['hl', 0]", "false");
	mpmgr_free(c);
	vanishes(b, "hl");
	mpmgr_free(b);
}
END_TEST

START_TEST(test_rlock_and_semaphore_give_back)
{
	mpmgr *a = harness_connect(D), *b = harness_connect(D);

	ck_call_ok(a, "rlock.acquire", "['gr']", "true");
	ck_call_ok(a, "rlock.acquire", "['gr']", "true");
	ck_call_err(b, "rlock.release", "['gr']", MPMGR_ENOTOWNER);
	ck_call_ok(a, "semaphore.create", "['gs', {'value': 2}]", "nil");
	ck_call_ok(a, "semaphore.acquire", "['gs']", "true");
	ck_call_ok(a, "semaphore.acquire", "['gs']", "true");
	harness_send(b, "semaphore.acquire", "['gs']");
	mpmgr_free(a);
	ck_reply_ok(b, "true");
	ck_call_ok(b, "semaphore.value", "['gs']", "1");
	ck_call_ok(b, "rlock.acquire", "['gr', 0]", "true");
	ck_call_ok(b, "rlock.release", "['gr']", "nil");
	vanishes(b, "gr");
	mpmgr_free(b);
}
END_TEST

START_TEST(test_condition)
{
	mpmgr *a = harness_connect(D), *b = harness_connect(D);
	mpmgr *c = harness_connect(D);

	/* b's acquire returns once a's wait has released the lock, c's
	 * once b's has: both are waiting when c notifies. */
	ck_call_ok(a, "condition.acquire", "['cv']", "true");
	harness_send(a, "condition.wait", "['cv']");
	ck_call_ok(b, "condition.acquire", "['cv']", "true");
	harness_send(b, "condition.wait", "['cv', 60]");
	ck_call_ok(c, "condition.acquire", "['cv']", "true");
	ck_call_ok(c, "condition.notify", "['cv']", "nil");
	/* a got the notify and dies before holding the lock again: its
	 * notify passes to b, whatever the daemon sees first. */
	mpmgr_free(a);
	ck_call_ok(c, "condition.release", "['cv']", "nil");
	ck_reply_ok(b, "true");
	ck_call_err(c, "condition.notify", "['cv']", MPMGR_ENOTOWNER);
	ck_call_ok(b, "condition.release", "['cv']", "nil");
	vanishes(c, "cv");
	mpmgr_free(b);
	mpmgr_free(c);
}
END_TEST

static Suite *
locks_suite(void)
{
	Suite *s = suite_create("it_locks");
	TCase *tc = harness_tcase(s, "locks", 30, harness_fixture_up,
	    harness_fixture_down);

	tcase_add_test(tc, test_lock_handover);
	tcase_add_test(tc, test_rlock_and_semaphore_give_back);
	tcase_add_test(tc, test_condition);
	return s;
}

int
main(void)
{
	return harness_run(locks_suite());
}
