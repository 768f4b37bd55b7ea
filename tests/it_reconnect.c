/*
 * it_reconnect.c: libmpmgr's reconnection against a real mpmgrd stopped
 * (gracefully, or killed) and started again on the same socket.
 *
 * With mpmgr_set_reconnect, the next call after a restart connects and
 * authenticates again instead of failing; requests in flight when the
 * daemon went answer MPMGR_EINFLIGHT, in order, and mpmgr_call sends a read
 * again but never a write; while the daemon is away a call fails with
 * MPMGR_ECONNECT and the next one tries again. Without it a handle stays
 * broken (MPMGR_EIO), as before, and so does one over an inherited
 * connection (mpmgr_attach), which refuses to reconnect.
 *
 * Each test starts a daemon of its own in its own forked process.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* The daemon of the running test (its process is the test's). */
static struct harness d;

static void
up(void)
{
	harness_start(&d, NULL);
}

static void
down(void)
{
	harness_stop(&d);
}

START_TEST(test_next_call_reconnects)
{
	mpmgr *m = harness_connect(&d), *plain = harness_connect(&d);
	int sig = _i == 0 ? SIGTERM : SIGKILL;

	ck_assert_int_eq(mpmgr_set_reconnect(m, 10), 0);
	ck_call_ok(m, "dict.set", "['rc', 'k', 1]", "nil");
	ck_assert_uint_eq(mpmgr_reconnects(m), 0);
	if (sig == SIGKILL)
		harness_kill(&d);
	else
		ck_assert(harness_stop_keep(&d));
	harness_restart(&d, NULL);
	/* A new daemon without a journal: the dict is gone, not the
	 * handle. */
	ck_call_err(m, "dict.get", "['rc', 'k']", MPMGR_ENOKEY);
	ck_assert_uint_eq(mpmgr_reconnects(m), 1);
	ck_call_ok(m, "dict.set", "['rc', 'k', 2]", "nil");
	ck_call_ok(m, "dict.get", "['rc', 'k']", "2");
	ck_assert_int_eq(mpmgr_pending(m), 0);
	/* Without reconnecting: broken for good, as before. */
	ck_assert_int_eq(harness_call(plain, "sys.ping", "[]", NULL),
	    MPMGR_EIO);
	ck_assert_int_eq(harness_call(plain, "sys.ping", "[]", NULL),
	    MPMGR_EIO);
	ck_assert_int_eq(mpmgr_fd(plain), -1);
	mpmgr_free(plain);
	mpmgr_free(m);
}
END_TEST

START_TEST(test_in_flight_lost)
{
	mpmgr *m = harness_connect(&d), *w = harness_connect(&d);

	ck_assert_int_eq(mpmgr_set_reconnect(m, 10), 0);
	/* Two requests parked in flight (a blocking get, then a set behind
	 * it) when the daemon dies. */
	harness_request(m, "queue.get", "['lq']");
	harness_send(m, "dict.set", "['ld', 'k', 1]");
	harness_await_waiters(w, "lq", 1);
	harness_kill(&d);
	harness_restart(&d, NULL);
	ck_assert_int_eq(mpmgr_pending(m), 2);
	ck_assert_int_eq(mpmgr_reply(m, NULL), MPMGR_EINFLIGHT);
	ck_assert_msg(strstr(mpmgr_errmsg(m), "may or may not have run") !=
	    NULL, "%s", mpmgr_errmsg(m));
	ck_assert_str_eq(mpmgr_errcode(m), "");
	ck_assert_str_eq(mpmgr_strerror(MPMGR_EINFLIGHT), "EINFLIGHT");
	ck_assert_int_eq(mpmgr_pending(m), 1);
	/* A new request may go before the lost replies are read: it
	 * reconnects, and its reply comes after theirs. */
	harness_send(m, "sys.ping", "[]");
	ck_assert_int_eq(mpmgr_pending(m), 2);
	ck_assert_int_eq(mpmgr_reply(m, NULL), MPMGR_EINFLIGHT);
	ck_reply_ok(m, "'pong'");
	ck_assert_int_eq(mpmgr_reply(m, NULL), MPMGR_ESTATE);
	ck_assert_uint_eq(mpmgr_reconnects(m), 1);
	mpmgr_free(w);
	mpmgr_free(m);
}
END_TEST

/* A child blocked in a read (event.wait), sent again after the restart:
 * it sees the event set on the new daemon. */
static int
child_wait(mpmgr *m, int arg)
{
	msgpack_object res;
	int rc;

	CHILD_CHECK(m, mpmgr_set_reconnect(m, 10) == 0, 1);
	rc = mpmgr_call(m, "event.wait", (msgpack_object[]){
	    mpmgr_obj_str("re") }, 1, &res);
	CHILD_CHECK(m, rc == 0, 2);
	CHILD_CHECK(m, res.type == MSGPACK_OBJECT_BOOLEAN && res.via.boolean,
	    3);
	CHILD_CHECK(m, mpmgr_reconnects(m) == 1, 4);
	return 0;
}

/* A child blocked in a write (queue.get takes an item): never sent again,
 * MPMGR_EINFLIGHT, and the item put on the new daemon stays there. */
static int
child_get(mpmgr *m, int arg)
{
	int rc;

	CHILD_CHECK(m, mpmgr_set_reconnect(m, 10) == 0, 1);
	rc = mpmgr_call(m, "queue.get", (msgpack_object[]){
	    mpmgr_obj_str("rq") }, 1, NULL);
	CHILD_CHECK(m, rc == MPMGR_EINFLIGHT, 2);
	CHILD_CHECK(m, strstr(mpmgr_errmsg(m), "queue.get") != NULL, 3);
	CHILD_CHECK(m, mpmgr_reconnects(m) == 0, 4);
	/* The next call reconnects. */
	CHILD_CHECK(m, mpmgr_ping(m) == 0, 5);
	CHILD_CHECK(m, mpmgr_reconnects(m) == 1, 6);
	return 0;
}

/* A party waiting at a barrier: barrier.wait is a change (its cycle may
 * have passed with the answer lost), never sent again. */
static int
child_barrier(mpmgr *m, int arg)
{
	int rc;

	CHILD_CHECK(m, mpmgr_set_reconnect(m, 10) == 0, 1);
	rc = mpmgr_call(m, "barrier.wait", (msgpack_object[]){
	    mpmgr_obj_str("rb") }, 1, NULL);
	CHILD_CHECK(m, rc == MPMGR_EINFLIGHT, 2);
	CHILD_CHECK(m, mpmgr_reconnects(m) == 0, 3);
	return 0;
}

START_TEST(test_call_resends_reads_only)
{
	mpmgr *m = harness_connect(&d);
	pid_t kids[3];

	ck_call_ok(m, "barrier.create", "['rb', {'parties': 2}]", "nil");
	kids[0] = harness_spawn(&d, child_wait, 0);
	kids[1] = harness_spawn(&d, child_get, 0);
	kids[2] = harness_spawn(&d, child_barrier, 0);
	harness_await_waiters(m, "re", 1);
	harness_await_waiters(m, "rq", 1);
	harness_await_waiters(m, "rb", 1);
	mpmgr_free(m);
	harness_kill(&d);
	harness_restart(&d, NULL);
	m = harness_connect(&d);
	ck_call_ok(m, "queue.put", "['rq', 'item']", "nil");
	/* The waiter is back (sent again), the getter is not. */
	harness_await_waiters(m, "re", 1);
	ck_call_ok(m, "event.set", "['re']", "nil");
	harness_reap(kids, 3, "the children in flight");
	ck_call_ok(m, "queue.qsize", "['rq']", "1");
	mpmgr_free(m);
}
END_TEST

START_TEST(test_daemon_away)
{
	mpmgr *m = harness_connect(&d);
	int64_t start;

	ck_assert_int_eq(mpmgr_set_reconnect(m, 0), 0);
	ck_assert(harness_stop_keep(&d));
	/* Away: the call fails at once (one try), and keeps failing. */
	start = harness_now_ms();
	ck_assert_int_eq(harness_call(m, "sys.ping", "[]", NULL),
	    MPMGR_ECONNECT);
	ck_assert_int_eq(harness_call(m, "sys.ping", "[]", NULL),
	    MPMGR_ECONNECT);
	ck_assert_int_eq(mpmgr_fd(m), -1);
	/* A window: retried until it passes, no longer. */
	ck_assert_int_eq(mpmgr_set_reconnect(m, 0.3), 0);
	start = harness_now_ms();
	ck_assert_int_eq(harness_call(m, "sys.ping", "[]", NULL),
	    MPMGR_ECONNECT);
	ck_assert_int_ge(harness_now_ms() - start, 300);
	/* Back: the next call goes through. */
	harness_restart(&d, NULL);
	ck_call_ok(m, "sys.ping", "[]", "'pong'");
	ck_assert_uint_eq(mpmgr_reconnects(m), 1);
	ck_assert_int_eq(mpmgr_pending(m), 0);
	ck_assert_int_ge(mpmgr_fd(m), 0);
	/* An explicit reconnect, and bad settings. */
	ck_assert_int_eq(mpmgr_reconnect(m), 0);
	ck_assert_uint_eq(mpmgr_reconnects(m), 2);
	ck_call_ok(m, "sys.ping", "[]", "'pong'");
	ck_assert_int_eq(mpmgr_set_reconnect(m, 0.0 / 0.0), MPMGR_EINVAL);
	ck_assert_int_eq(mpmgr_set_reconnect(NULL, 1), MPMGR_EINVAL);
	ck_assert_int_eq(mpmgr_reconnect(NULL), MPMGR_EINVAL);
	mpmgr_free(m);
}
END_TEST

START_TEST(test_connect_failed_then_reconnect)
{
	char sock[200];
	mpmgr *m = NULL;

	/* A handle whose connect found no daemon reconnects once it is
	 * there (mpctl -w). */
	snprintf(sock, sizeof sock, "%s", d.sock);
	ck_assert(harness_stop_keep(&d));
	ck_assert_int_eq(mpmgr_connect(&m, sock, d.keyfile), MPMGR_ECONNECT);
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(mpmgr_reconnect(m), MPMGR_ECONNECT);
	harness_restart(&d, NULL);
	ck_assert_int_eq(mpmgr_reconnect(m), 0);
	ck_assert_int_eq(mpmgr_ping(m), 0);
	mpmgr_free(m);
	/* The same with the key given as bytes. */
	ck_assert(harness_stop_keep(&d));
	ck_assert_int_eq(mpmgr_connect_key(&m, sock, d.key, d.keylen),
	    MPMGR_ECONNECT);
	harness_restart(&d, NULL);
	ck_assert_int_eq(mpmgr_set_reconnect(m, 5), 0);
	ck_assert_int_eq(mpmgr_ping(m), 0);
	mpmgr_free(m);
}
END_TEST

/*
 * A handle over an inherited connection (mpmgr_attach) is never opened
 * again: the key is the parent's, and what the connection holds is
 * shared with it. After a restart it stays broken.
 */
START_TEST(test_attached_never_reconnects)
{
	mpmgr *m = harness_connect(&d), *a = NULL;
	int fd = dup(mpmgr_fd(m));

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(mpmgr_attach(&a, fd), 0);
	ck_assert_int_eq(mpmgr_set_reconnect(a, 5), MPMGR_EINVAL);
	ck_assert_msg(strstr(mpmgr_errmsg(a), "attached") != NULL, "%s",
	    mpmgr_errmsg(a));
	ck_assert_int_eq(mpmgr_set_reconnect(a, -1), 0);
	ck_assert_int_eq(mpmgr_reconnect(a), MPMGR_EINVAL);
	ck_assert_int_eq(mpmgr_ping(a), 0);
	harness_kill(&d);
	harness_restart(&d, NULL);
	ck_assert_int_eq(mpmgr_ping(a), MPMGR_EIO);
	ck_assert_int_eq(mpmgr_ping(a), MPMGR_EIO);
	ck_assert_uint_eq(mpmgr_reconnects(a), 0);
	mpmgr_free(a);
	mpmgr_free(m);
}
END_TEST

static Suite *
reconnect_suite(void)
{
	Suite *s = suite_create("it_reconnect");
	TCase *tc = harness_tcase(s, "reconnect", 60, NULL, NULL);

	tcase_add_checked_fixture(tc, up, down);
	tcase_add_loop_test(tc, test_next_call_reconnects, 0, 2);
	tcase_add_test(tc, test_in_flight_lost);
	tcase_add_test(tc, test_call_resends_reads_only);
	tcase_add_test(tc, test_daemon_away);
	tcase_add_test(tc, test_connect_failed_then_reconnect);
	tcase_add_test(tc, test_attached_never_reconnects);
	return s;
}

int
main(void)
{
	return harness_run(reconnect_suite());
}
