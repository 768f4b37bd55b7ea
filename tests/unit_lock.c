/*
 * unit_lock.c: the lock and rlock types (obj_lock.c) without sockets:
 * immediate answers as tables of rows, and scenarios across the fake
 * connections of unit_util.h for everything that parks: FIFO order without
 * barging, direct hand-over, deadlines (fired with waiter_expire, never
 * waited for), sys.cancel, disconnects (dispatch_conn_closed), gone peers
 * (CONN_EOF), release_on_disconnect false, an rlock's recursion, and
 * implicit locks that vanish once free.
 *
 * Every reply must be taken: a request sent with AS(i) first checks that
 * no connection has an answer nobody looked at. Object names differ
 * between tests so that they also pass with CK_FORK=no.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "../daemon/dispatch.h"
#include "../daemon/mpmgrd.h"
#include "../daemon/registry.h"
#include "../daemon/waiter.h"
#include "unit_util.h"

/* The next request goes from fake connection i. */
#define AS(i) fc_from(__LINE__, i)

/* --- immediate answers ------------------------------------------------- */

static const struct row lock_rows[] = {
	/* A missing lock reads as free and is not created by reading. */
	{ "lock.locked", "['l1']", PERR_NONE, "false", NULL },
	{ "lock.release", "['l1']", PERR_NOTHELD, NULL, "'l1' is not held" },
	{ "obj.info", "['l1']", PERR_NOOBJ, NULL, NULL },
	{ "lock.acquire", "['l1']", PERR_NONE, "true", NULL },
	{ "lock.locked", "['l1']", PERR_NONE, "true", NULL },
	/* Not recursive: the holder itself cannot take it again. */
	{ "lock.acquire", "['l1', 0]", PERR_NONE, "false", NULL },
	{ "lock.acquire", "['l1', 0.0]", PERR_NONE, "false", NULL },
	{ "lock.acquire", "['l1', -1]", PERR_BADARG, NULL, "timeout" },
	{ "lock.acquire", "['l1', 'x']", PERR_BADARG, NULL, NULL },
	{ "lock.acquire", "['l1', 1, 2]", PERR_BADARG, NULL, NULL },
	{ "lock.locked", "['l1', 1]", PERR_BADARG, NULL, NULL },
	{ "obj.info", "['l1']", PERR_NONE, NULL, NULL },
	{ "lock.release", "['l1']", PERR_NONE, "nil", NULL },
	{ "lock.release", "['l1']", PERR_NOTHELD, NULL, NULL },
	/* Free again with nobody waiting: the implicit lock is gone. */
	{ "obj.info", "['l1']", PERR_NOOBJ, NULL, NULL },
	{ "lock.acquire", "['l1', 0]", PERR_NONE, "true", NULL },
	{ "lock.release", "['l1']", PERR_NONE, "nil", NULL },
	{ "obj.info", "['l1']", PERR_NOOBJ, NULL, NULL },
	/* create: idempotent for equal options; it stays when free. */
	{ "lock.create", "['l2', {'release_on_disconnect': false}]",
	  PERR_NONE, "nil", NULL },
	{ "lock.create", "['l2', {'release_on_disconnect': false}]",
	  PERR_NONE, "nil", NULL },
	{ "lock.create", "['l2']", PERR_EXISTS, NULL, NULL },
	{ "lock.create", "['l3', {'bogus': 1}]", PERR_BADARG, NULL,
	  "release_on_disconnect" },
	{ "lock.create", "['l3', {'release_on_disconnect': 1}]", PERR_BADARG,
	  NULL, "bool" },
	{ "lock.create", "['l3', 5]", PERR_BADARG, NULL, NULL },
	{ "obj.info", "['l3']", PERR_NOOBJ, NULL, NULL },
	{ "lock.acquire", "['l2']", PERR_NONE, "true", NULL },
	{ "lock.release", "['l2']", PERR_NONE, "nil", NULL },
	{ "lock.locked", "['l2']", PERR_NONE, "false", NULL },
	{ "obj.info", "['l2']", PERR_NONE, NULL, NULL },
	{ "obj.delete", "['l2']", PERR_NONE, "nil", NULL },
	/* Types. */
	{ "dict.set", "['l4', 1, 1]", PERR_NONE, "nil", NULL },
	{ "lock.acquire", "['l4']", PERR_WRONGTYPE, NULL,
	  "'l4' is a dict, not a lock" },
	{ "rlock.acquire", "['l4']", PERR_WRONGTYPE, NULL, NULL },
	{ "dict.delete", "['l4', 1]", PERR_NONE, "nil", NULL },
};

static const struct row rlock_rows[] = {
	{ "rlock.locked", "['r1']", PERR_NONE, "false", NULL },
	{ "rlock.owned", "['r1']", PERR_NONE, "false", NULL },
	{ "rlock.release", "['r1']", PERR_NOTHELD, NULL, "not held" },
	{ "rlock.acquire", "['r1']", PERR_NONE, "true", NULL },
	{ "rlock.acquire", "['r1', 0]", PERR_NONE, "true", NULL },
	{ "rlock.acquire", "['r1', 5]", PERR_NONE, "true", NULL },
	{ "rlock.owned", "['r1']", PERR_NONE, "true", NULL },
	{ "rlock.locked", "['r1']", PERR_NONE, "true", NULL },
	{ "rlock.release", "['r1']", PERR_NONE, "nil", NULL },
	{ "rlock.release", "['r1']", PERR_NONE, "nil", NULL },
	{ "rlock.locked", "['r1']", PERR_NONE, "true", NULL },
	{ "rlock.release", "['r1']", PERR_NONE, "nil", NULL },
	{ "rlock.release", "['r1']", PERR_NOTHELD, NULL, NULL },
	{ "obj.info", "['r1']", PERR_NOOBJ, NULL, NULL },
	{ "rlock.create", "['r2', {'release_on_disconnect': true}]",
	  PERR_NONE, "nil", NULL },
	{ "rlock.create", "['r2']", PERR_NONE, "nil", NULL },
	{ "lock.acquire", "['r2']", PERR_WRONGTYPE, NULL,
	  "'r2' is a rlock, not a lock" },
	{ "obj.delete", "['r2']", PERR_NONE, "nil", NULL },
};

START_TEST(test_rows)
{
	RUN(lock_rows);
	RUN(rlock_rows);
	fc_close_all();
}
END_TEST

START_TEST(test_info)
{
	struct mpv v;

	AS(0);
	OK("rlock.acquire", "['i2']", "true");
	OK("rlock.acquire", "['i2']", "true");
	ck_assert_uint_eq(info_uint("i2", "size"), 2);
	OK("lock.acquire", "['i3']", "true");
	ck_assert_uint_eq(info_uint("i3", "size"), 1);
	OK("obj.info", "['i3']", NULL);
	ck_assert(result_field("options", &v) && v.type == MPV_MAP &&
	    v.len == 1);
	fc_close_all();
	GONE("i2");
	GONE("i3");
}
END_TEST

/* --- lock -------------------------------------------------------------- */

START_TEST(test_lock_fifo)
{
	AS(0);
	OK("lock.acquire", "['f1']", "true");
	PARK(1, "lock.acquire", "['f1']");
	PARK(2, "lock.acquire", "['f1', 30]");
	PARK(3, "lock.acquire", "['f1']");
	ck_assert_uint_eq(info_uint("f1", "waiters"), 3);
	AS(4);
	OK("lock.acquire", "['f1', 0]", "false");
	/* Handed straight to the oldest waiter. */
	AS(0);
	OK("lock.release", "['f1']", "nil");
	GOT(1, "true");
	NOTHING(2);
	NOTHING(3);
	/* No barging: free for an instant, never for a newcomer. */
	AS(4);
	OK("lock.acquire", "['f1', 0]", "false");
	OK("lock.locked", "['f1']", "true");
	/* Python's Lock: anyone may release a held lock. */
	AS(5);
	OK("lock.release", "['f1']", "nil");
	GOT(2, "true");
	ck_assert_uint_eq(waiter_heap_size(), 0);
	/* The previous holder's release now finds it held by 2. */
	AS(1);
	OK("lock.release", "['f1']", "nil");
	GOT(3, "true");
	AS(3);
	OK("lock.release", "['f1']", "nil");
	ERR("lock.release", "['f1']", NOTHELD);
	GONE("f1");
	fc_close_all();
}
END_TEST

START_TEST(test_lock_disconnect)
{
	AS(0);
	OK("lock.acquire", "['d1']", "true");
	PARK(1, "lock.acquire", "['d1']");
	PARK(2, "lock.acquire", "['d1']");
	PARK(3, "lock.acquire", "['d1']");
	/* A waiter that leaves is just removed. */
	fc_close(2);
	NOTHING(1);
	NOTHING(3);
	/* The holder's close hands the lock on. */
	fc_close(0);
	GOT(1, "true");
	NOTHING(3);
	fc_close(1);
	GOT(3, "true");
	fc_close(3);
	GONE("d1");

	/* A gone peer is skipped: the lock goes to the next live waiter. */
	AS(0);
	OK("lock.acquire", "['d2']", "true");
	PARK(1, "lock.acquire", "['d2']");
	PARK(2, "lock.acquire", "['d2']");
	fc_hang_up(1);
	AS(0);
	OK("lock.release", "['d2']", "nil");
	NOTHING(1);
	GOT(2, "true");
	fc_close(1);
	AS(2);
	OK("lock.release", "['d2']", "nil");
	GONE("d2");

	/* Free with only gone waiters: a newcomer takes it. */
	AS(0);
	OK("lock.acquire", "['d3']", "true");
	PARK(1, "lock.acquire", "['d3']");
	fc_hang_up(1);
	AS(0);
	OK("lock.release", "['d3']", "nil");
	NOTHING(1);
	AS(2);
	OK("lock.acquire", "['d3', 0]", "true");
	fc_close(1);
	fc_close(2);
	GONE("d3");
	fc_close_all();
}
END_TEST

START_TEST(test_lock_keep_on_disconnect)
{
	/* release_on_disconnect false: Python's behaviour. */
	AS(0);
	OK("lock.create", "['k1', {'release_on_disconnect': false}]", "nil");
	OK("lock.acquire", "['k1']", "true");
	PARK(1, "lock.acquire", "['k1']");
	fc_close(0);
	NOTHING(1);
	AS(2);
	OK("lock.locked", "['k1']", "true");
	OK("lock.release", "['k1']", "nil");
	GOT(1, "true");
	fc_close(1);
	AS(2);
	OK("lock.locked", "['k1']", "true");
	OK("lock.release", "['k1']", "nil");
	OK("lock.locked", "['k1']", "false");
	OK("obj.delete", "['k1']", "nil");

	/* An rlock stays held, and only its owner could release it. */
	OK("rlock.create", "['k2', {'release_on_disconnect': false}]", "nil");
	AS(0);
	OK("rlock.acquire", "['k2']", "true");
	fc_close(0);
	AS(1);
	OK("rlock.locked", "['k2']", "true");
	ERR("rlock.release", "['k2']", NOTOWNER);
	OK("rlock.acquire", "['k2', 0]", "false");
	PARK(2, "rlock.acquire", "['k2']");
	/* obj.delete wakes the waiter. */
	AS(1);
	OK("obj.delete", "['k2']", "nil");
	GOT_ERR(2, DELETED);
	fc_close_all();
}
END_TEST

START_TEST(test_lock_timeout_cancel)
{
	uint32_t id;

	AS(0);
	OK("lock.acquire", "['t1']", "true");
	PARK(1, "lock.acquire", "['t1', 10]");
	PARK(2, "lock.acquire", "['t1']");
	PARK(3, "lock.acquire", "['t1', 1000.5]");
	ck_assert_uint_eq(waiter_heap_size(), 2);
	waiter_expire(LATER(20));
	GOT(1, "false");
	NOTHING(2);
	NOTHING(3);
	ck_assert_uint_eq(waiter_heap_size(), 1);
	/* sys.cancel: TIMEOUT for the parked request, then true. */
	id = msgid;
	AS(3);
	ck_assert_int_eq(send_req_any("sys.cancel", "[0]"), DISPATCH_DONE);
	ck_assert(take_reply(conn) && reply_is("false"));
	{
		char params[32];

		snprintf(params, sizeof params, "[%u]", id);
		ck_assert_int_eq(send_req_any("sys.cancel", params),
		    DISPATCH_DONE);
	}
	ck_assert(take_reply(conn));
	ck_assert_int_eq(reply_err, PERR_TIMEOUT);
	ck_assert_uint_eq(reply.msgid, id);
	ck_assert(take_reply(conn) && reply_is("true"));
	ck_assert_uint_eq(waiter_heap_size(), 0);
	AS(0);
	OK("lock.release", "['t1']", "nil");
	GOT(2, "true");
	AS(2);
	OK("lock.release", "['t1']", "nil");
	GONE("t1");

	/* A timeout expiring with the lock free never happens: the last
	 * waiter that times out leaves nothing behind. */
	AS(0);
	OK("lock.acquire", "['t2']", "true");
	PARK(1, "lock.acquire", "['t2', 1]");
	waiter_expire(LATER(5));
	GOT(1, "false");
	AS(0);
	OK("lock.release", "['t2']", "nil");
	GONE("t2");
	fc_close_all();
}
END_TEST

/* --- rlock ------------------------------------------------------------- */

START_TEST(test_rlock)
{
	AS(0);
	OK("rlock.acquire", "['r1']", "true");
	OK("rlock.acquire", "['r1']", "true");
	PARK(1, "rlock.acquire", "['r1']");
	AS(2);
	ERRM("rlock.release", "['r1']", NOTOWNER, "held by another");
	OK("rlock.owned", "['r1']", "false");
	OK("rlock.locked", "['r1']", "true");
	AS(0);
	OK("rlock.release", "['r1']", "nil");
	NOTHING(1);
	OK("rlock.release", "['r1']", "nil");
	GOT(1, "true");
	AS(0);
	OK("rlock.owned", "['r1']", "false");
	ERR("rlock.release", "['r1']", NOTOWNER);
	/* The owner's close releases every level. */
	AS(1);
	OK("rlock.acquire", "['r1']", "true");
	OK("rlock.acquire", "['r1']", "true");
	PARK(2, "rlock.acquire", "['r1']");
	fc_close(1);
	GOT(2, "true");
	AS(2);
	OK("rlock.owned", "['r1']", "true");
	ck_assert_uint_eq(info_uint("r1", "size"), 1);
	fc_close(2);
	GONE("r1");
	fc_close_all();
}
END_TEST

static Suite *
lock_suite(void)
{
	Suite *s = suite_create("lock");
	TCase *tc;

	tc = tcase_create("immediate");
	tcase_add_unchecked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_rows);
	tcase_add_test(tc, test_info);
	suite_add_tcase(s, tc);

	tc = tcase_create("lock");
	tcase_add_unchecked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_lock_fifo);
	tcase_add_test(tc, test_lock_disconnect);
	tcase_add_test(tc, test_lock_keep_on_disconnect);
	tcase_add_test(tc, test_lock_timeout_cancel);
	tcase_add_test(tc, test_rlock);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(lock_suite());
}
