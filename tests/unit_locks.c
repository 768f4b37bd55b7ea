/*
 * unit_locks.c: the lock, rlock, semaphore and condition types without
 * sockets: immediate answers as tables of rows, and scenarios across the
 * fake connections of unit_util.h for everything that parks: FIFO order
 * without barging, direct hand-over, deadlines (fired with waiter_expire,
 * never waited for), sys.cancel, disconnects (dispatch_conn_closed), gone
 * peers (CONN_EOF), release_on_disconnect false, and implicit objects that
 * vanish once free.
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

static const struct row semaphore_rows[] = {
	/* A missing semaphore reads as a default one: one permit. */
	{ "semaphore.value", "['s1']", PERR_NONE, "1", NULL },
	{ "obj.info", "['s1']", PERR_NOOBJ, NULL, NULL },
	{ "semaphore.acquire", "['s1']", PERR_NONE, "true", NULL },
	{ "semaphore.value", "['s1']", PERR_NONE, "0", NULL },
	{ "semaphore.acquire", "['s1', 0]", PERR_NONE, "false", NULL },
	{ "semaphore.acquire", "['s1', -0.5]", PERR_BADARG, NULL, NULL },
	{ "semaphore.release", "['s1']", PERR_NONE, "nil", NULL },
	{ "obj.info", "['s1']", PERR_NOOBJ, NULL, NULL },
	/* Bounded: over-release is RANGE and changes nothing. */
	{ "semaphore.create", "['s2', {'value': 2, 'bounded': true}]",
	  PERR_NONE, "nil", NULL },
	{ "semaphore.create", "['s2', {'bounded': true, 'value': 2}]",
	  PERR_NONE, "nil", NULL },
	{ "semaphore.create", "['s2', {'value': 2}]", PERR_EXISTS, NULL,
	  NULL },
	{ "semaphore.release", "['s2']", PERR_RANGE, NULL, "bounded" },
	{ "semaphore.acquire", "['s2']", PERR_NONE, "true", NULL },
	{ "semaphore.release", "['s2', 2]", PERR_RANGE, NULL, NULL },
	{ "semaphore.value", "['s2']", PERR_NONE, "1", NULL },
	{ "semaphore.release", "['s2', 1]", PERR_NONE, "nil", NULL },
	{ "semaphore.value", "['s2']", PERR_NONE, "2", NULL },
	{ "semaphore.release", "['s2', 0]", PERR_BADARG, NULL, "n must be" },
	{ "semaphore.release", "['s2', -1]", PERR_BADARG, NULL, NULL },
	{ "obj.delete", "['s2']", PERR_NONE, "nil", NULL },
	/* Unbounded: release past the start is fine, and it then stays. */
	{ "semaphore.create", "['s3', {'value': 0}]", PERR_NONE, "nil", NULL },
	{ "semaphore.acquire", "['s3', 0]", PERR_NONE, "false", NULL },
	{ "semaphore.release", "['s3', 3]", PERR_NONE, "nil", NULL },
	{ "semaphore.value", "['s3']", PERR_NONE, "3", NULL },
	{ "semaphore.release", "['s3', 9223372036854775807]", PERR_RANGE,
	  NULL, NULL },
	{ "semaphore.value", "['s3']", PERR_NONE, "3", NULL },
	{ "obj.delete", "['s3']", PERR_NONE, "nil", NULL },
	{ "semaphore.release", "['s4']", PERR_NONE, "nil", NULL },
	{ "semaphore.value", "['s4']", PERR_NONE, "2", NULL },
	{ "obj.delete", "['s4']", PERR_NONE, "nil", NULL },
	{ "semaphore.create", "['s5', {'value': -1}]", PERR_BADARG, NULL,
	  "value must be" },
	{ "semaphore.create", "['s5', {'value': 1.5}]", PERR_BADARG, NULL,
	  NULL },
	{ "semaphore.create", "['s5', {'bounded': 1}]", PERR_BADARG, NULL,
	  "bounded must be a bool" },
	{ "semaphore.create", "['s5', {'size': 1}]", PERR_BADARG, NULL,
	  NULL },
	{ "obj.info", "['s5']", PERR_NOOBJ, NULL, NULL },
};

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
	RUN(lock_rows);
	RUN(rlock_rows);
	RUN(semaphore_rows);
	RUN(condition_rows);
	fc_close_all();
}
END_TEST

START_TEST(test_info)
{
	struct mpv v;

	AS(0);
	OK("semaphore.create", "['i1', {'value': 3}]", "nil");
	OK("semaphore.acquire", "['i1']", "true");
	ck_assert_uint_eq(info_uint("i1", "size"), 2);
	OK("obj.info", "['i1']", NULL);
	ck_assert(result_field("type", &v) && mpv_str_eq(&v, "semaphore"));
	ck_assert(result_field("options", &v) && v.type == MPV_MAP &&
	    v.len == 3);
	OK("rlock.acquire", "['i2']", "true");
	OK("rlock.acquire", "['i2']", "true");
	ck_assert_uint_eq(info_uint("i2", "size"), 2);
	OK("lock.acquire", "['i3']", "true");
	ck_assert_uint_eq(info_uint("i3", "size"), 1);
	OK("obj.info", "['i3']", NULL);
	ck_assert(result_field("options", &v) && v.type == MPV_MAP &&
	    v.len == 1);
	OK("condition.create", "['i4', {'lock': 'i3'}]", "nil");
	OK("obj.info", "['i4']", NULL);
	ck_assert(result_field("type", &v) && mpv_str_eq(&v, "condition"));
	ck_assert(result_field("options", &v) && v.type == MPV_MAP &&
	    v.len == 1);
	OK("obj.delete", "['i1']", "nil");
	OK("obj.delete", "['i4']", "nil");
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

/* --- semaphore --------------------------------------------------------- */

START_TEST(test_semaphore_peak)
{
	/* The mini KTV: 4 rooms, FC_CONNS singers. */
	bool holding[FC_CONNS] = { false };
	int i, inside = 0, peak = 0, served = 0, next = 4;

	AS(0);
	OK("semaphore.create", "['ktv', {'value': 4}]", "nil");
	for (i = 0; i < FC_CONNS; i++) {
		if (i < 4) {
			AS(i);
			OK("semaphore.acquire", "['ktv']", "true");
			holding[i] = true;
			inside++;
		} else
			PARK(i, "semaphore.acquire", "['ktv']");
	}
	OK("semaphore.value", "['ktv']", "0");
	peak = inside;
	/* Each release lets exactly the oldest waiter in. */
	for (i = 0; i < FC_CONNS; i++) {
		AS(i);
		OK("semaphore.release", "['ktv']", "nil");
		holding[i] = false;
		inside--;
		served++;
		if (next < FC_CONNS) {
			GOT(next, "true");
			holding[next++] = true;
			inside++;
		}
		for (int j = next; j < FC_CONNS; j++)
			NOTHING(j);
		if (inside > peak)
			peak = inside;
		ck_assert_int_le(inside, 4);
	}
	ck_assert_int_eq(peak, 4);
	ck_assert_int_eq(served, FC_CONNS);
	ck_assert_int_eq(inside, 0);
	for (i = 0; i < FC_CONNS; i++)
		ck_assert(!holding[i]);
	AS(0);
	OK("semaphore.value", "['ktv']", "4");
	OK("obj.delete", "['ktv']", "nil");
	fc_close_all();
}
END_TEST

START_TEST(test_semaphore_disconnect)
{
	AS(0);
	OK("semaphore.create", "['sd1', {'value': 3}]", "nil");
	OK("semaphore.acquire", "['sd1']", "true");
	OK("semaphore.acquire", "['sd1']", "true");
	AS(1);
	OK("semaphore.acquire", "['sd1']", "true");
	PARK(2, "semaphore.acquire", "['sd1']");
	PARK(3, "semaphore.acquire", "['sd1', 50]");
	PARK(4, "semaphore.acquire", "['sd1']");
	fc_hang_up(3);
	/* 0's two outstanding permits: to 2 and (3 is gone) to 4. */
	fc_close(0);
	GOT(2, "true");
	NOTHING(3);
	GOT(4, "true");
	fc_close(3);
	AS(5);
	OK("semaphore.value", "['sd1']", "0");
	/* Outstanding = max(0, acquired - released), counted as it goes. */
	AS(1);
	OK("semaphore.release", "['sd1', 2]", "nil");
	fc_close(1);
	AS(5);
	OK("semaphore.value", "['sd1']", "2");
	fc_close(2);
	fc_close(4);
	AS(5);
	OK("semaphore.value", "['sd1']", "4");
	OK("obj.delete", "['sd1']", "nil");

	/* Bounded: a give-back stops at the initial value. */
	AS(0);
	OK("semaphore.create", "['sd2', {'value': 1, 'bounded': true}]",
	    "nil");
	OK("semaphore.acquire", "['sd2']", "true");
	AS(1);
	OK("semaphore.release", "['sd2']", "nil");
	fc_close(0);
	AS(1);
	OK("semaphore.value", "['sd2']", "1");
	OK("obj.delete", "['sd2']", "nil");

	/* release_on_disconnect false: nothing comes back. */
	AS(0);
	OK("semaphore.create", "['sd3', {'release_on_disconnect': false}]",
	    "nil");
	OK("semaphore.acquire", "['sd3']", "true");
	PARK(1, "semaphore.acquire", "['sd3']");
	fc_close(0);
	NOTHING(1);
	AS(2);
	OK("semaphore.release", "['sd3']", "nil");
	GOT(1, "true");
	OK("obj.delete", "['sd3']", "nil");

	/* An implicit one goes once its holder's permit comes back. */
	AS(0);
	OK("semaphore.acquire", "['sd4']", "true");
	PARK(1, "semaphore.acquire", "['sd4', 7]");
	waiter_expire(LATER(10));
	GOT(1, "false");
	fc_close(0);
	GONE("sd4");
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
locks_suite(void)
{
	Suite *s = suite_create("locks");
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

	tc = tcase_create("semaphore");
	tcase_add_unchecked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_semaphore_peak);
	tcase_add_test(tc, test_semaphore_disconnect);
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
	return unit_run(locks_suite());
}
