/*
 * unit_condition.c: the condition type (obj_condition.c, over obj_lock.c
 * through locks.h) without sockets: immediate answers as rows, its own
 * rlock or a named lock, then wait and notify across the fake connections,
 * timeouts (fired with waiter_expire), gone peers, named locks and
 * deletion.
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

static const struct row condition_rows[] = {
	/* Every verb but acquire needs the lock held. */
	{ "condition.wait", "['c1']", PERR_NOTHELD, NULL, "not held" },
	{ "condition.notify", "['c1']", PERR_NOTHELD, NULL, NULL },
	{ "condition.notify_all", "['c1']", PERR_NOTHELD, NULL, NULL },
	{ "condition.release", "['c1']", PERR_NOTHELD, NULL, NULL },
	{ "obj.info", "['c1']", PERR_NOOBJ, NULL, NULL },
	/* Its own rlock is recursive. */
	{ "condition.acquire", "['c1']", PERR_NONE, "true", NULL },
	{ "condition.acquire", "['c1', 0]", PERR_NONE, "true", NULL },
	{ "condition.wait", "['c1', 0]", PERR_NONE, "false", NULL },
	{ "condition.wait", "['c1', -1]", PERR_BADARG, NULL, NULL },
	{ "condition.notify", "['c1']", PERR_NONE, "nil", NULL },
	{ "condition.notify", "['c1', 0]", PERR_NONE, "nil", NULL },
	{ "condition.notify", "['c1', 'x']", PERR_BADARG, NULL, NULL },
	{ "condition.notify_all", "['c1']", PERR_NONE, "nil", NULL },
	{ "obj.info", "['c1']", PERR_NONE, NULL, NULL },
	{ "condition.release", "['c1']", PERR_NONE, "nil", NULL },
	{ "condition.release", "['c1']", PERR_NONE, "nil", NULL },
	{ "condition.release", "['c1']", PERR_NOTHELD, NULL, NULL },
	{ "obj.info", "['c1']", PERR_NOOBJ, NULL, NULL },
	/* Options. */
	{ "condition.create", "['c2']", PERR_NONE, "nil", NULL },
	{ "condition.create", "['c2', {'release_on_disconnect': true}]",
	  PERR_NONE, "nil", NULL },
	{ "condition.create", "['c2', {'lock': 'x'}]", PERR_EXISTS, NULL,
	  NULL },
	{ "obj.delete", "['c2']", PERR_NONE, "nil", NULL },
	{ "dict.set", "['c3d', 1, 1]", PERR_NONE, "nil", NULL },
	{ "condition.create", "['c3', {'lock': 'c3d'}]", PERR_WRONGTYPE, NULL,
	  "'c3d' is a dict, not a lock or rlock" },
	{ "condition.create", "['c3', {'lock': 'c3'}]", PERR_BADARG, NULL,
	  NULL },
	{ "condition.create", "['c3', {'lock': ''}]", PERR_BADARG, NULL,
	  NULL },
	{ "condition.create", "['c3', {'lock': 'c3l', "
	  "'release_on_disconnect': true}]", PERR_BADARG, NULL,
	  "named lock's option" },
	{ "condition.create", "['c3', {'other': 1}]", PERR_BADARG, NULL,
	  NULL },
	{ "obj.info", "['c3']", PERR_NOOBJ, NULL, NULL },
	{ "condition.create", "['c3', {'lock': 'c3l'}]", PERR_NONE, "nil",
	  NULL },
	{ "condition.create", "['c3', {'lock': 'c3l'}]", PERR_NONE, "nil",
	  NULL },
	{ "condition.create", "['c3', {'lock': 'c3m'}]", PERR_EXISTS, NULL,
	  NULL },
	{ "condition.create", "['c3']", PERR_EXISTS, NULL, NULL },
	/* The named lock is missing: a plain lock, made when acquired. */
	{ "obj.info", "['c3l']", PERR_NOOBJ, NULL, NULL },
	{ "condition.acquire", "['c3']", PERR_NONE, "true", NULL },
	{ "lock.locked", "['c3l']", PERR_NONE, "true", NULL },
	{ "condition.acquire", "['c3', 0]", PERR_NONE, "false", NULL },
	{ "lock.release", "['c3l']", PERR_NONE, "nil", NULL },
	{ "obj.info", "['c3l']", PERR_NOOBJ, NULL, NULL },
	{ "condition.release", "['c3']", PERR_NOTHELD, NULL, NULL },
	{ "condition.wait", "['c3']", PERR_NOTHELD, NULL, NULL },
	/* A timeout in error creates nothing. */
	{ "condition.acquire", "['c3', -2]", PERR_BADARG, NULL, NULL },
	{ "obj.info", "['c3l']", PERR_NOOBJ, NULL, NULL },
	/* The name taken by another type: WRONGTYPE at use. */
	{ "dict.set", "['c3l', 1, 1]", PERR_NONE, "nil", NULL },
	{ "condition.acquire", "['c3']", PERR_WRONGTYPE, NULL,
	  "'c3l', the lock of 'c3', is a dict" },
	{ "condition.notify", "['c3']", PERR_WRONGTYPE, NULL, NULL },
	{ "dict.delete", "['c3l', 1]", PERR_NONE, "nil", NULL },
	{ "obj.delete", "['c3']", PERR_NONE, "nil", NULL },
	{ "dict.delete", "['c3d', 1]", PERR_NONE, "nil", NULL },
	{ "lock.acquire", "['c4']", PERR_NONE, "true", NULL },
	{ "condition.acquire", "['c4']", PERR_WRONGTYPE, NULL,
	  "'c4' is a lock, not a condition" },
	{ "lock.release", "['c4']", PERR_NONE, "nil", NULL },
};

START_TEST(test_rows)
{
	struct mpv v;

	AS(0);
	RUN(condition_rows);
	OK("condition.create", "['i4', {'lock': 'i3'}]", "nil");
	OK("obj.info", "['i4']", NULL);
	ck_assert(result_field("type", &v) && mpv_str_eq(&v, "condition"));
	ck_assert(result_field("options", &v) && v.type == MPV_MAP &&
	    v.len == 1);
	OK("obj.delete", "['i4']", "nil");
	fc_close_all();
}
END_TEST

/* --- condition --------------------------------------------------------- */

START_TEST(test_condition_wait_notify)
{
	AS(0);
	OK("condition.acquire", "['w1']", "true");
	PARK(0, "condition.wait", "['w1']");
	/* wait released the lock. */
	AS(1);
	OK("condition.acquire", "['w1', 0]", "true");
	PARK(1, "condition.wait", "['w1']");
	AS(2);
	OK("condition.acquire", "['w1']", "true");
	PARK(2, "condition.wait", "['w1']");
	AS(3);
	OK("condition.acquire", "['w1']", "true");
	ck_assert_uint_eq(info_uint("w1", "size"), 3);
	/* Non-holders can neither wait nor notify. */
	AS(4);
	ERRM("condition.wait", "['w1']", NOTOWNER, "held by another");
	ERR("condition.notify", "['w1']", NOTOWNER);
	/* notify(2) moves the two oldest; they hold the lock in turn. */
	AS(3);
	OK("condition.notify", "['w1', 2]", "nil");
	NOTHING(0);
	NOTHING(1);
	ck_assert_uint_eq(info_uint("w1", "size"), 1);
	/* A newcomer queues behind the notified ones. */
	PARK(4, "condition.acquire", "['w1']");
	AS(3);
	OK("condition.release", "['w1']", "nil");
	GOT(0, "true");
	NOTHING(1);
	AS(0);
	OK("condition.release", "['w1']", "nil");
	GOT(1, "true");
	NOTHING(4);
	AS(1);
	OK("condition.notify_all", "['w1']", "nil");
	OK("condition.release", "['w1']", "nil");
	GOT(4, "true");
	AS(4);
	OK("condition.release", "['w1']", "nil");
	GOT(2, "true");
	AS(2);
	OK("condition.release", "['w1']", "nil");
	ERR("condition.release", "['w1']", NOTHELD);
	GONE("w1");

	/* The rlock's depth comes back after the wait. */
	AS(0);
	OK("condition.acquire", "['w2']", "true");
	OK("condition.acquire", "['w2']", "true");
	OK("condition.acquire", "['w2']", "true");
	PARK(0, "condition.wait", "['w2', 60]");
	AS(1);
	OK("condition.acquire", "['w2']", "true");
	OK("condition.notify", "['w2']", "nil");
	OK("condition.notify", "['w2']", "nil");
	OK("condition.release", "['w2']", "nil");
	GOT(0, "true");
	ck_assert_uint_eq(waiter_heap_size(), 0);
	AS(0);
	OK("condition.release", "['w2']", "nil");
	OK("condition.release", "['w2']", "nil");
	OK("obj.info", "['w2']", NULL);
	OK("condition.release", "['w2']", "nil");
	ERR("condition.release", "['w2']", NOTHELD);
	GONE("w2");
	fc_close_all();
}
END_TEST

START_TEST(test_condition_timeout)
{
	/* Timed out while another holds the lock: false once re-held. */
	AS(0);
	OK("condition.acquire", "['tc1']", "true");
	PARK(0, "condition.wait", "['tc1', 5]");
	AS(1);
	OK("condition.acquire", "['tc1']", "true");
	waiter_expire(LATER(10));
	NOTHING(0);
	ck_assert_uint_eq(info_uint("tc1", "size"), 0);
	/* Already timed out: a notify does not reach it. */
	AS(1);
	OK("condition.notify", "['tc1']", "nil");
	OK("condition.release", "['tc1']", "nil");
	GOT(0, "false");
	AS(0);
	OK("condition.release", "['tc1']", "nil");
	GONE("tc1");

	/* Timed out with the lock free: false at once, and held. */
	AS(0);
	OK("condition.acquire", "['tc2']", "true");
	PARK(0, "condition.wait", "['tc2', 0.25]");
	waiter_expire(LATER(1));
	GOT(0, "false");
	AS(1);
	OK("condition.acquire", "['tc2', 0]", "false");
	AS(0);
	OK("condition.release", "['tc2']", "nil");
	GONE("tc2");

	/* condition.acquire times out on the condition's own rlock. */
	AS(0);
	OK("condition.acquire", "['tc3']", "true");
	PARK(1, "condition.acquire", "['tc3', 3]");
	waiter_expire(LATER(5));
	GOT(1, "false");
	AS(0);
	OK("condition.release", "['tc3']", "nil");
	GONE("tc3");
	fc_close_all();
}
END_TEST

START_TEST(test_condition_gone)
{
	uint32_t id;
	char params[32];

	/* A notified waiter that leaves passes its notify on. */
	AS(0);
	OK("condition.acquire", "['g1']", "true");
	PARK(0, "condition.wait", "['g1']");
	AS(1);
	OK("condition.acquire", "['g1']", "true");
	PARK(1, "condition.wait", "['g1']");
	AS(2);
	OK("condition.acquire", "['g1']", "true");
	OK("condition.notify", "['g1']", "nil");
	fc_close(0);
	AS(2);
	OK("condition.release", "['g1']", "nil");
	GOT(1, "true");
	AS(1);
	OK("condition.release", "['g1']", "nil");
	GONE("g1");

	/* Cancelled after the notify: the same. */
	AS(0);
	OK("condition.acquire", "['g2']", "true");
	id = PARK(0, "condition.wait", "['g2']");
	AS(1);
	OK("condition.acquire", "['g2']", "true");
	PARK(1, "condition.wait", "['g2']");
	AS(2);
	OK("condition.acquire", "['g2']", "true");
	OK("condition.notify", "['g2']", "nil");
	AS(0);
	snprintf(params, sizeof params, "[%u]", id);
	ck_assert_int_eq(send_req_any("sys.cancel", params), DISPATCH_DONE);
	ck_assert(take_reply(conn) && reply_err == PERR_TIMEOUT);
	ck_assert(take_reply(conn) && reply_is("true"));
	AS(2);
	OK("condition.release", "['g2']", "nil");
	GOT(1, "true");
	AS(1);
	OK("condition.release", "['g2']", "nil");
	GONE("g2");

	/* A gone peer takes no notify; a waiter that leaves unnotified
	 * passes nothing. */
	AS(0);
	OK("condition.acquire", "['g3']", "true");
	PARK(0, "condition.wait", "['g3']");
	AS(1);
	OK("condition.acquire", "['g3']", "true");
	PARK(1, "condition.wait", "['g3']");
	AS(2);
	OK("condition.acquire", "['g3']", "true");
	PARK(2, "condition.wait", "['g3']");
	fc_hang_up(0);
	AS(3);
	OK("condition.acquire", "['g3']", "true");
	OK("condition.notify", "['g3']", "nil");
	OK("condition.release", "['g3']", "nil");
	GOT(1, "true");
	NOTHING(2);
	fc_close(0);
	fc_close(2);
	AS(1);
	OK("condition.release", "['g3']", "nil");
	GONE("g3");

	/* The holder of its own rlock dies: the condition goes with it. */
	AS(0);
	OK("condition.acquire", "['g4']", "true");
	OK("condition.acquire", "['g4']", "true");
	PARK(1, "condition.acquire", "['g4']");
	fc_close(0);
	GOT(1, "true");
	fc_close(1);
	GONE("g4");
	fc_close_all();
}
END_TEST

START_TEST(test_condition_named)
{
	/* On a named lock: it vanishes while free and comes back. */
	AS(0);
	OK("condition.create", "['n1', {'lock': 'n1l'}]", "nil");
	OK("condition.acquire", "['n1']", "true");
	AS(1);
	OK("lock.acquire", "['n1l', 0]", "false");
	PARK(0, "condition.wait", "['n1']");
	AS(1);
	GONE("n1l");
	OK("lock.acquire", "['n1l']", "true");
	OK("condition.notify", "['n1']", "nil");
	OK("lock.release", "['n1l']", "nil");
	GOT(0, "true");
	AS(1);
	OK("lock.locked", "['n1l']", "true");
	ERR("condition.wait", "['n1']", NOTOWNER);
	AS(0);
	OK("condition.release", "['n1']", "nil");
	GONE("n1l");

	/* A notified waiter whose lock holder dies gets it. */
	AS(0);
	OK("condition.acquire", "['n1']", "true");
	PARK(0, "condition.wait", "['n1', 100]");
	AS(1);
	OK("lock.acquire", "['n1l']", "true");
	OK("condition.notify_all", "['n1']", "nil");
	fc_close(1);
	GOT(0, "true");
	ck_assert_uint_eq(waiter_heap_size(), 0);
	AS(0);
	OK("lock.release", "['n1l']", "nil");
	OK("obj.delete", "['n1']", "nil");

	/* On a named rlock: depth saved and restored. */
	OK("rlock.create", "['n2r']", "nil");
	OK("condition.create", "['n2', {'lock': 'n2r'}]", "nil");
	OK("rlock.acquire", "['n2r']", "true");
	OK("rlock.acquire", "['n2r']", "true");
	PARK(0, "condition.wait", "['n2']");
	AS(1);
	OK("rlock.locked", "['n2r']", "false");
	OK("condition.acquire", "['n2']", "true");
	OK("rlock.owned", "['n2r']", "true");
	OK("condition.notify", "['n2']", "nil");
	OK("condition.release", "['n2']", "nil");
	GOT(0, "true");
	AS(0);
	OK("rlock.release", "['n2r']", "nil");
	OK("rlock.release", "['n2r']", "nil");
	ERR("rlock.release", "['n2r']", NOTHELD);

	/* Deleting the lock under a notified waiter answers DELETED. */
	OK("condition.acquire", "['n2']", "true");
	PARK(0, "condition.wait", "['n2']");
	AS(1);
	OK("condition.acquire", "['n2']", "true");
	OK("condition.notify", "['n2']", "nil");
	OK("obj.delete", "['n2r']", "nil");
	GOT_ERR(0, DELETED);
	AS(1);
	ERR("condition.release", "['n2']", NOTHELD);
	OK("obj.delete", "['n2']", "nil");
	fc_close_all();
}
END_TEST

START_TEST(test_condition_delete)
{
	/* Waiters on the condition and on its own rlock: DELETED. */
	AS(0);
	OK("condition.create", "['x1']", "nil");
	OK("condition.acquire", "['x1']", "true");
	PARK(0, "condition.wait", "['x1']");
	AS(1);
	OK("condition.acquire", "['x1']", "true");
	PARK(2, "condition.acquire", "['x1', 20]");
	AS(3);
	OK("obj.delete", "['x1']", "nil");
	GOT_ERR(0, DELETED);
	GOT_ERR(2, DELETED);
	ck_assert_uint_eq(waiter_heap_size(), 0);
	GONE("x1");
	/* The old holder's connection closes on nothing. */
	fc_close(1);
	AS(1);
	ERR("condition.release", "['x1']", NOTHELD);
	GONE("x1");
	fc_close_all();
}
END_TEST

static Suite *
condition_suite(void)
{
	Suite *s = suite_create("condition");
	TCase *tc;

	tc = tcase_create("immediate");
	tcase_add_unchecked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_rows);
	suite_add_tcase(s, tc);

	tc = tcase_create("condition");
	tcase_add_unchecked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_condition_wait_notify);
	tcase_add_test(tc, test_condition_timeout);
	tcase_add_test(tc, test_condition_gone);
	tcase_add_test(tc, test_condition_named);
	tcase_add_test(tc, test_condition_delete);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(condition_suite());
}
