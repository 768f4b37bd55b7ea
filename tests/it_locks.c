/*
 * it_locks.c: lock, rlock, semaphore and condition against a real mpmgrd,
 * several connections at once: a parked request answered when another
 * connection releases, and what a closing connection gives back (its
 * lock, its permits, a notify it received), with the daemon seeing the
 * hang-up as a real socket's EOF.
 *
 * Leases end on the daemon's own timer here (unit_lease drives the heap
 * by hand): a holder that stops extending loses the lock to the waiter
 * behind it, with a larger fencing token, and its late release is
 * refused; the libmpmgr helpers for tokens and leases are used as a
 * program would.
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

START_TEST(test_lease_expiry)
{
	mpmgr *a = harness_connect(D), *b = harness_connect(D);
	uint64_t ta = 0, tb = 0;
	int64_t start;

	ck_assert_int_eq(mpmgr_lock_acquire_fenced(a, "le", MPMGR_FOREVER,
	    0.2, &ta), 1);
	/* a hangs (never extends); b waits behind it. */
	start = harness_now_ms();
	ck_assert_int_eq(mpmgr_lock_acquire_fenced(b, "le", MPMGR_FOREVER,
	    0, &tb), 1);
	/* Not before the lease's end (the daemon rounds it up, never
	 * down). */
	ck_assert_int_ge(harness_now_ms() - start, 150);
	ck_assert_uint_gt(tb, ta);
	ck_assert_int_eq(mpmgr_lock_release(a, "le"), MPMGR_ENOTHELD);
	ck_assert_msg(strstr(mpmgr_errmsg(a), "lease") != NULL, "%s",
	    mpmgr_errmsg(a));
	ck_assert_int_eq(mpmgr_lock_extend(a, "le", 5), MPMGR_ENOTOWNER);
	ck_call_ok(b, "lock.locked", "['le']", "true");
	ck_assert_int_eq(mpmgr_lock_release(b, "le"), 0);
	vanishes(b, "le");
	mpmgr_free(a);
	mpmgr_free(b);
}
END_TEST

START_TEST(test_lease_extend)
{
	mpmgr *a = harness_connect(D), *b = harness_connect(D);
	uint64_t t[4] = { 0 };
	int i;

	ck_assert_int_eq(mpmgr_sem_acquire_fenced(a, "lx", 0, 0.3, &t[0]), 1);
	harness_send(b, "semaphore.acquire", "['lx', 30]");
	harness_await_waiters(a, "lx", 1);
	/* Extended well past three ttls: b still waits. */
	for (i = 0; i < 6; i++) {
		harness_nap(100);
		ck_assert_int_eq(mpmgr_sem_extend(a, "lx", 0.3), 0);
	}
	ck_assert_int_eq(harness_waiters(a, "lx"), 1);
	/* Then a stops: b gets the permit, a is told once. */
	ck_reply_ok(b, "true");
	ck_assert_int_eq(mpmgr_sem_release(a, "lx", 1), MPMGR_ENOTHELD);
	ck_assert_int_eq(mpmgr_sem_extend(a, "lx", 1), MPMGR_ENOTHELD);
	ck_assert_int_eq(mpmgr_sem_extend(a, "lx", 0), MPMGR_EINVAL);
	/* Tokens only grow, across objects and kinds. */
	ck_assert_int_eq(mpmgr_rlock_acquire_fenced(a, "lr", 0, 0, &t[1]), 1);
	ck_assert_int_eq(mpmgr_rlock_acquire_fenced(a, "lr", 0, 0, &t[2]), 1);
	ck_assert_uint_eq(t[2], t[1]);
	ck_assert_int_eq(mpmgr_lock_acquire_fenced(b, "lk", 0, 0, &t[3]), 1);
	ck_assert_uint_gt(t[1], t[0]);
	ck_assert_uint_gt(t[3], t[2]);
	ck_assert_int_eq(mpmgr_rlock_acquire_fenced(b, "lr", 0, 0, NULL), 0);
	mpmgr_free(a);
	mpmgr_free(b);
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
	tcase_add_test(tc, test_lease_expiry);
	tcase_add_test(tc, test_lease_extend);
	return s;
}

int
main(void)
{
	return harness_run(locks_suite());
}
