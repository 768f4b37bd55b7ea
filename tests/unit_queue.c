/*
 * unit_queue.c: the queue type's state machine without sockets: immediate
 * answers as rows, then the parked ones: FIFO among getters and among
 * putters, put_many's atomicity and its protection from barging, deadlines
 * (fired with waiter_expire), getters whose peer is gone, disconnects,
 * task_done and join, and ack leases going back to the head of the queue
 * when their getter's connection closes.
 *
 * Fake connection 0 sends the immediate requests; 1.. park (PARK). A
 * parked request's answer lands in its connection's output, where it must
 * be taken (GOT, GOT_ERR) before the next row: a row clears every output.
 * Object names differ between tests so that they also pass with
 * CK_FORK=no.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "../daemon/dispatch.h"
#include "../daemon/mem.h"
#include "../daemon/mpmgrd.h"
#include "../daemon/registry.h"
#include "../daemon/waiter.h"
#include "unit_util.h"

/* --- immediate answers ------------------------------------------------- */

START_TEST(test_rows)
{
	static const struct row rows[] = {
		/* A non-blocking read of a missing queue creates nothing. */
		{ "queue.qsize", "['qr']", PERR_NONE, "0", NULL },
		{ "queue.empty", "['qr']", PERR_NONE, "true", NULL },
		{ "queue.full", "['qr']", PERR_NONE, "false", NULL },
		{ "queue.get", "['qr', 0]", PERR_EMPTY, NULL, "'qr' is empty" },
		{ "queue.get", "['qr', 0.0]", PERR_EMPTY, NULL, NULL },
		{ "queue.get_many", "['qr', 3, 0]", PERR_EMPTY, NULL, NULL },
		{ "queue.join", "['qr']", PERR_NONE, "true", NULL },
		{ "queue.join", "['qr', 0]", PERR_NONE, "true", NULL },
		{ "obj.info", "['qr']", PERR_NOOBJ, NULL, NULL },
		/* FIFO; values stored and answered canonically. */
		{ "queue.put", "['qr', 1]", PERR_NONE, "nil", NULL },
		{ "queue.put", "['qr', 'two']", PERR_NONE, "nil", NULL },
		{ "queue.put", "['qr', [h'd005', {'k': f32:1.5}], nil]", PERR_NONE,
		  "nil", NULL },
		{ "queue.put", "['qr', nil, 2.5]", PERR_NONE, "nil", NULL },
		{ "queue.qsize", "['qr']", PERR_NONE, "4", NULL },
		{ "queue.empty", "['qr']", PERR_NONE, "false", NULL },
		{ "queue.full", "['qr']", PERR_NONE, "false", NULL },
		{ "queue.get", "['qr']", PERR_NONE, "1", NULL },
		{ "queue.get", "['qr', 0]", PERR_NONE, "'two'", NULL },
		{ "queue.get", "['qr', 1.5]", PERR_NONE, "[5, {'k': 1.5}]", NULL },
		{ "queue.get", "['qr', nil]", PERR_NONE, "nil", NULL },
		{ "queue.get", "['qr', 0]", PERR_EMPTY, NULL, NULL },
		/* Empty, but 4 tasks are unfinished: it stays. */
		{ "obj.info", "['qr']", PERR_NONE, NULL, NULL },
		{ "queue.join", "['qr', 0]", PERR_NONE, "false", NULL },
		{ "queue.task_done", "['qr']", PERR_NONE, "nil", NULL },
		{ "queue.task_done", "['qr']", PERR_NONE, "nil", NULL },
		{ "queue.task_done", "['qr']", PERR_NONE, "nil", NULL },
		{ "queue.join", "['qr', 0]", PERR_NONE, "false", NULL },
		{ "queue.task_done", "['qr']", PERR_NONE, "nil", NULL },
		{ "queue.task_done", "['qr']", PERR_BADARG, NULL, "more times" },
		/* Back to its initial state: gone. */
		{ "obj.info", "['qr']", PERR_NOOBJ, NULL, NULL },
		{ "queue.join", "['qr', 0]", PERR_NONE, "true", NULL },
		/* task_done counts items got, not items put. */
		{ "queue.put", "['qr', 'x']", PERR_NONE, "nil", NULL },
		{ "queue.task_done", "['qr']", PERR_BADARG, NULL, "more times" },
		{ "queue.get", "['qr']", PERR_NONE, "'x'", NULL },
		{ "queue.task_done", "['qr']", PERR_NONE, "nil", NULL },
		{ "obj.info", "['qr']", PERR_NOOBJ, NULL, NULL },
		/* Batches. */
		{ "queue.put_many", "['qr', []]", PERR_NONE, "nil", NULL },
		{ "obj.info", "['qr']", PERR_NOOBJ, NULL, NULL },
		{ "queue.put_many", "['qr', [1, h'cd0002', 'c', [4]]]", PERR_NONE,
		  "nil", NULL },
		{ "queue.put_many", "['qr', [5], 0]", PERR_NONE, "nil", NULL },
		{ "queue.qsize", "['qr']", PERR_NONE, "5", NULL },
		{ "queue.get_many", "['qr', 2]", PERR_NONE, "[1, 2]", NULL },
		{ "queue.get_many", "['qr', 1, 0]", PERR_NONE, "['c']", NULL },
		{ "queue.get_many", "['qr', 10, 0]", PERR_NONE, "[[4], 5]", NULL },
		{ "queue.get_many", "['qr', 10, 0]", PERR_EMPTY, NULL, NULL },
		{ "queue.task_done", "['qr']", PERR_NONE, "nil", NULL },
		{ "queue.task_done", "['qr']", PERR_NONE, "nil", NULL },
		{ "queue.task_done", "['qr']", PERR_NONE, "nil", NULL },
		{ "queue.task_done", "['qr']", PERR_NONE, "nil", NULL },
		{ "queue.task_done", "['qr']", PERR_NONE, "nil", NULL },
		{ "obj.info", "['qr']", PERR_NOOBJ, NULL, NULL },
	};

	RUN(rows);
}
END_TEST

START_TEST(test_args)
{
	static const struct row rows[] = {
		{ "queue.put", "['qa']", PERR_BADARG, NULL, "2 or 3 params" },
		{ "queue.put", "['qa', 1, -1]", PERR_BADARG, NULL, "timeout" },
		{ "queue.put", "['qa', 1, -0.5]", PERR_BADARG, NULL, "timeout" },
		{ "queue.put", "['qa', 1, '1']", PERR_BADARG, NULL, "timeout" },
		{ "queue.get", "['qa', true]", PERR_BADARG, NULL, "timeout" },
		{ "queue.join", "['qa', -1]", PERR_BADARG, NULL, "timeout" },
		{ "queue.get_many", "['qa', 0]", PERR_BADARG, NULL, "n must" },
		{ "queue.get_many", "['qa', -1]", PERR_BADARG, NULL, "n must" },
		{ "queue.get_many", "['qa', 'x']", PERR_BADARG, NULL, "n must" },
		{ "queue.get_many", "['qa', 1, -1]", PERR_BADARG, NULL, NULL },
		{ "queue.put_many", "['qa', 'x']", PERR_BADTYPE, NULL, "array" },
		{ "queue.put_many", "['qa', [1], -2]", PERR_BADARG, NULL, NULL },
		{ "queue.qsize", "['qa', 1]", PERR_BADARG, NULL, NULL },
		{ "queue.task_done", "['qa']", PERR_BADARG, NULL, NULL },
		/* None of it left an object behind. */
		{ "obj.info", "['qa']", PERR_NOOBJ, NULL, NULL },
		{ "queue.create", "['qa', {'maxsize': 'x'}]", PERR_BADARG, NULL,
		  "maxsize" },
		{ "queue.create", "['qa', {'ack': 1}]", PERR_BADARG, NULL, NULL },
		{ "queue.create", "['qa', {'size': 1}]", PERR_BADARG, NULL, NULL },
		{ "queue.create", "['qa', 3]", PERR_BADARG, NULL, "map" },
		{ "obj.info", "['qa']", PERR_NOOBJ, NULL, NULL },
		{ "dict.set", "['qa-dict', 1, 2]", PERR_NONE, "nil", NULL },
		{ "queue.put", "['qa-dict', 1]", PERR_WRONGTYPE, NULL,
		  "is a dict, not a queue" },
		{ "queue.get", "['qa-dict', 0]", PERR_WRONGTYPE, NULL, NULL },
		{ "obj.delete", "['qa-dict']", PERR_NONE, "nil", NULL },
	};

	RUN(rows);
}
END_TEST

START_TEST(test_create)
{
	struct mpv v, opt;
	struct mpv_iter it;

	OK("queue.create", "['qc', {'maxsize': 2}]", "nil");
	OK("queue.create", "['qc', {'maxsize': 2, 'ack': false}]", "nil");
	ERRM("queue.create", "['qc', {'maxsize': 3}]", EXISTS, "other options");
	ERR("queue.create", "['qc', {'maxsize': 2, 'ack': true}]", EXISTS);
	ERR("queue.create", "['qc']", EXISTS);
	OK("obj.info", "['qc']", NULL);
	ck_assert(result_field("options", &v));
	ck_assert_int_eq(v.type, MPV_MAP);
	mpv_iter_init(&it, &v);
	ck_assert(mpv_iter_next(&it, &opt) && mpv_str_eq(&opt, "maxsize"));
	ck_assert(mpv_iter_next(&it, &opt) && opt.v.u == 2);
	ck_assert(mpv_iter_next(&it, &opt) && mpv_str_eq(&opt, "ack"));
	ck_assert(mpv_iter_next(&it, &opt) && opt.type == MPV_BOOL &&
	    !opt.v.b);

	/* Bounded. */
	OK("queue.put", "['qc', 'a']", "nil");
	OK("queue.put", "['qc', 'b', 0]", "nil");
	OK("queue.full", "['qc']", "true");
	ERRM("queue.put", "['qc', 'c', 0]", FULL, "'qc' is full");
	ERR("queue.put_many", "['qc', ['c'], 0]", FULL);
	ERRM("queue.put_many", "['qc', [1, 2, 3]]", BADARG, "maxsize 2");
	OK("queue.put_many", "['qc', []]", "nil");
	OK("queue.qsize", "['qc']", "2");
	OK("queue.get_many", "['qc', 5]", "['a', 'b']");
	OK("queue.full", "['qc']", "false");
	OK("queue.put_many", "['qc', [1, 2]]", "nil");
	OK("queue.get_many", "['qc', 2]", "[1, 2]");
	OK("queue.task_done", "['qc']", "nil");
	OK("queue.task_done", "['qc']", "nil");
	OK("queue.task_done", "['qc']", "nil");
	OK("queue.task_done", "['qc']", "nil");
	/* Explicit: it stays, empty. */
	OK("queue.qsize", "['qc']", "0");
	OK("obj.info", "['qc']", NULL);

	/* maxsize <= 0 is unbounded, as in Python. */
	OK("queue.create", "['qc0', {'maxsize': -1}]", "nil");
	OK("queue.create", "['qc0', {'maxsize': 0}]", "nil");
	OK("queue.create", "['qc0']", "nil");
	OK("queue.put_many", "['qc0', [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]]", "nil");
	OK("queue.full", "['qc0']", "false");

	/* create makes an implicit queue explicit. */
	OK("queue.put", "['qc1', 1]", "nil");
	OK("queue.create", "['qc1', {}]", "nil");
	OK("queue.get", "['qc1']", "1");
	OK("queue.task_done", "['qc1']", "nil");
	OK("obj.info", "['qc1']", NULL);
	ck_assert(result_field("explicit", &v) && v.v.b);
}
END_TEST

/* --- parking ----------------------------------------------------------- */

START_TEST(test_getters_fifo)
{
	/* A blocking get on a missing queue creates it to wait in. */
	PARK(1, "queue.get", "['qg']");
	PARK(2, "queue.get", "['qg', 30]");
	PARK(3, "queue.get_many", "['qg', 5]");
	ck_assert_uint_eq(info_uint("qg", "waiters"), 3);
	OK("queue.put", "['qg', 'a']", "nil");
	GOT(1, "'a'");
	NOTHING(2);
	NOTHING(3);
	OK("queue.put", "['qg', 'b']", "nil");
	GOT(2, "'b'");
	/* The deadline left with its waiter. */
	ck_assert_uint_eq(waiter_heap_size(), 0);
	OK("queue.put_many", "['qg', ['c', 'd', 'e']]", "nil");
	GOT(3, "['c', 'd', 'e']");
	OK("queue.qsize", "['qg']", "0");
	ck_assert_uint_eq(info_uint("qg", "waiters"), 0);

	/* get_many waits only while empty, then answers what there is. */
	PARK(1, "queue.get_many", "['qg', 3]");
	PARK(2, "queue.get", "['qg']");
	OK("queue.put_many", "['qg', [1, 2, 3, 4, 5]]", "nil");
	GOT(1, "[1, 2, 3]");
	GOT(2, "4");
	OK("queue.get_many", "['qg', 3]", "[5]");
	OK("queue.empty", "['qg']", "true");
}
END_TEST

START_TEST(test_putters_fifo)
{
	OK("queue.create", "['qp', {'maxsize': 2}]", "nil");
	OK("queue.put_many", "['qp', [1, 2]]", "nil");
	PARK(1, "queue.put", "['qp', 3]");
	PARK(2, "queue.put", "['qp', 4, 60]");
	PARK(3, "queue.put", "['qp', 5]");
	ERR("queue.put", "['qp', 6, 0]", FULL);
	OK("queue.get", "['qp']", "1");
	GOT(1, "nil");
	NOTHING(2);
	OK("queue.get_many", "['qp', 2]", "[2, 3]");
	GOT(2, "nil");
	GOT(3, "nil");
	ck_assert_uint_eq(waiter_heap_size(), 0);
	OK("queue.get_many", "['qp', 5]", "[4, 5]");
	OK("queue.qsize", "['qp']", "0");
}
END_TEST

START_TEST(test_put_many_atomic)
{
	char params[32];
	uint32_t parked;

	OK("queue.create", "['qm', {'maxsize': 3}]", "nil");
	OK("queue.put_many", "['qm', [1, 2]]", "nil");
	/* Room for one: all or none, so it waits. */
	PARK(1, "queue.put_many", "['qm', ['a', 'b']]");
	OK("queue.qsize", "['qm']", "2");
	/* A single put would fit, but must not barge past the batch. */
	PARK(2, "queue.put", "['qm', 'c']");
	ERR("queue.put", "['qm', 'd', 0]", FULL);
	OK("queue.qsize", "['qm']", "2");
	OK("queue.get", "['qm']", "1");
	GOT(1, "nil");
	NOTHING(2);
	OK("queue.qsize", "['qm']", "3");
	OK("queue.get", "['qm']", "2");
	GOT(2, "nil");
	OK("queue.get_many", "['qm', 9]", "['a', 'b', 'c']");

	/* A batch that times out lets the smaller put behind it in. */
	OK("queue.put_many", "['qm', [1, 2]]", "nil");
	PARK(1, "queue.put_many", "['qm', ['a', 'b'], 5]");
	PARK(2, "queue.put", "['qm', 'c']");
	waiter_expire(now_usec() + LATER_USEC);
	GOT_ERR(1, FULL);
	GOT(2, "nil");
	OK("queue.get_many", "['qm', 9]", "[1, 2, 'c']");

	/* So does one that is cancelled (sys.cancel runs while its
	 * connection is parked, and answers after the cancelled request). */
	OK("queue.put_many", "['qm', [1, 2]]", "nil");
	PARK(1, "queue.put_many", "['qm', ['a', 'b']]");
	parked = msgid;
	PARK(2, "queue.put", "['qm', 'c']");
	snprintf(params, sizeof params, "[%u]", parked);
	fc_use(1);
	ck_assert_int_eq(send_req_any("sys.cancel", params), DISPATCH_DONE);
	fc_use(0);
	ck_assert(take_reply(fc_conn(1)));
	ck_assert_int_eq(reply_err, PERR_TIMEOUT);
	ck_assert_uint_eq(reply.msgid, parked);
	GOT(1, "true");
	GOT(2, "nil");
	OK("queue.get_many", "['qm', 9]", "[1, 2, 'c']");
	ck_assert_uint_eq(info_uint("qm", "waiters"), 0);
}
END_TEST

START_TEST(test_timeouts)
{
	uint64_t now;

	/* Missing queues, created by the blocking reads that park. */
	PARK(1, "queue.get", "['qt', 5]");
	PARK(2, "queue.get_many", "['qt', 2, 0.5]");
	PARK(3, "queue.get", "['qt', 7200]");
	ck_assert_uint_eq(info_uint("qt", "waiters"), 3);
	now = now_usec();
	/* Deadlines count from when the request ran. */
	waiter_expire(now);
	NOTHING(1);
	NOTHING(2);
	waiter_expire(now + 10 * 1000000);
	GOT_ERR(1, EMPTY);
	GOT_ERR(2, EMPTY);
	NOTHING(3);
	OK("queue.put", "['qt', 'late']", "nil");
	GOT(3, "'late'");
	OK("queue.task_done", "['qt']", "nil");
	/* Nothing left: the queue made to wait in is gone. */
	ERR("obj.info", "['qt']", NOOBJ);

	/* A parked get that times out leaves nothing behind either. */
	PARK(1, "queue.get", "['qt2', 1]");
	waiter_expire(now_usec() + LATER_USEC);
	GOT_ERR(1, EMPTY);
	ERR("obj.info", "['qt2']", NOOBJ);

	/* put on a full queue. */
	OK("queue.create", "['qt3', {'maxsize': 1}]", "nil");
	OK("queue.put", "['qt3', 1]", "nil");
	PARK(1, "queue.put", "['qt3', 2, 0.25]");
	waiter_expire(now_usec() + LATER_USEC);
	GOT_ERR(1, FULL);
	OK("queue.get_many", "['qt3', 5]", "[1]");

	/* join. */
	PARK(1, "queue.join", "['qt3', 2]");
	waiter_expire(now_usec() + LATER_USEC);
	GOT(1, "false");
	ck_assert_uint_eq(waiter_heap_size(), 0);
}
END_TEST

START_TEST(test_join)
{
	OK("queue.put_many", "['qj', [1, 2]]", "nil");
	PARK(1, "queue.join", "['qj']");
	PARK(2, "queue.join", "['qj', 60]");
	OK("queue.get", "['qj']", "1");
	OK("queue.get", "['qj']", "2");
	OK("queue.task_done", "['qj']", "nil");
	NOTHING(1);
	NOTHING(2);
	/* task_done from any connection without ack, as in Python. */
	fc_use(4);
	OK("queue.task_done", "['qj']", "nil");
	fc_use(0);
	GOT(1, "true");
	GOT(2, "true");
	ERR("obj.info", "['qj']", NOOBJ);
	OK("queue.join", "['qj']", "true");
}
END_TEST

/* An item is never handed to a connection that is already gone. */
START_TEST(test_gone_getter)
{
	PARK(1, "queue.get", "['qd']");
	PARK(2, "queue.get", "['qd']");
	fc_hang_up(1);
	OK("queue.put", "['qd', 'x']", "nil");
	NOTHING(1);
	GOT(2, "'x'");
	/* With only the gone getter left the item stays queued. */
	OK("queue.put", "['qd', 'y']", "nil");
	NOTHING(1);
	OK("queue.qsize", "['qd']", "1");
	fc_close(1);
	NOTHING(1);
	ck_assert_uint_eq(info_uint("qd", "waiters"), 0);
	fc_use(3);
	OK("queue.get", "['qd']", "'y'");
	fc_use(0);
}
END_TEST

START_TEST(test_gone_putter)
{
	OK("queue.create", "['qe', {'maxsize': 1}]", "nil");
	OK("queue.put", "['qe', 1]", "nil");
	PARK(1, "queue.put", "['qe', 'dead']");
	PARK(2, "queue.put", "['qe', 'live']");
	fc_hang_up(1);
	OK("queue.get", "['qe']", "1");
	NOTHING(1);
	GOT(2, "nil");
	fc_close(1);
	OK("queue.get_many", "['qe', 5]", "['live']");
	ck_assert_uint_eq(info_uint("qe", "waiters"), 0);

	/* A getter closing while parked leaves no trace. */
	PARK(3, "queue.get", "['qe2']");
	fc_close(3);
	NOTHING(3);
	ERR("obj.info", "['qe2']", NOOBJ);
	ck_assert_uint_eq(waiter_count(), 0);
}
END_TEST

/* --- ack ----------------------------------------------------------------- */

START_TEST(test_ack_redelivery)
{
	OK("queue.create", "['qk', {'ack': true}]", "nil");
	OK("queue.put_many", "['qk', ['a', 'b', 'c']]", "nil");
	fc_use(1);
	OK("queue.get", "['qk']", "'a'");
	OK("queue.get", "['qk']", "'b'");
	fc_use(2);
	OK("queue.get", "['qk']", "'c'");
	fc_use(3);
	ERRM("queue.task_done", "['qk']", BADARG, "no leased item");
	fc_use(0);
	OK("queue.join", "['qk', 0]", "false");
	PARK(4, "queue.join", "['qk']");
	PARK(5, "queue.get", "['qk']");
	/* The consumer of 'a' and 'b' dies before task_done: both go back to
	 * the head in order, the first to the waiting getter. */
	fc_close(1);
	GOT(5, "'a'");
	NOTHING(4);
	OK("queue.qsize", "['qk']", "1");
	fc_use(6);
	OK("queue.get", "['qk']", "'b'");
	OK("queue.task_done", "['qk']", "nil");
	ERR("queue.task_done", "['qk']", BADARG);
	fc_use(2);
	OK("queue.task_done", "['qk']", "nil");
	fc_use(0);
	NOTHING(4);
	fc_use(5);
	OK("queue.task_done", "['qk']", "nil");
	fc_use(0);
	GOT(4, "true");
	OK("queue.qsize", "['qk']", "0");
	OK("queue.join", "['qk', 0]", "true");
}
END_TEST

START_TEST(test_ack_order)
{
	OK("queue.create", "['qo', {'ack': true, 'maxsize': 3}]", "nil");
	OK("queue.put_many", "['qo', [1, 2, 3]]", "nil");
	fc_use(1);
	OK("queue.get_many", "['qo', 2]", "[1, 2]");
	OK("queue.get", "['qo']", "3");
	/* task_done releases this connection's oldest lease. */
	OK("queue.task_done", "['qo']", "nil");
	fc_use(0);
	OK("queue.put_many", "['qo', [4, 5, 6]]", "nil");
	OK("queue.full", "['qo']", "true");
	/* Leases come back even past maxsize: an item is never lost. */
	fc_close(1);
	OK("queue.qsize", "['qo']", "5");
	OK("queue.full", "['qo']", "true");
	ERR("queue.put", "['qo', 7, 0]", FULL);
	OK("queue.get_many", "['qo', 9]", "[2, 3, 4, 5, 6]");
	/* Those are leased to connection 0 now. */
	OK("queue.join", "['qo', 0]", "false");
	OK("queue.task_done", "['qo']", "nil");
	OK("queue.task_done", "['qo']", "nil");
	OK("queue.task_done", "['qo']", "nil");
	OK("queue.task_done", "['qo']", "nil");
	OK("queue.task_done", "['qo']", "nil");
	ERRM("queue.task_done", "['qo']", BADARG, "no leased item");
	OK("queue.join", "['qo', 0]", "true");
}
END_TEST

/* A lease returned while the only getter is gone waits for a live one. */
START_TEST(test_ack_gone_getter)
{
	OK("queue.create", "['qx', {'ack': true}]", "nil");
	OK("queue.put", "['qx', 'job']", "nil");
	fc_use(1);
	OK("queue.get", "['qx']", "'job'");
	fc_use(0);
	PARK(2, "queue.get", "['qx']");
	PARK(3, "queue.get", "['qx']");
	fc_hang_up(2);
	fc_close(1);
	NOTHING(2);
	GOT(3, "'job'");
	fc_close(2);
	/* Connection 3 dies too: the job is back for the next getter. */
	fc_close(3);
	OK("queue.get", "['qx', 0]", "'job'");
	OK("queue.task_done", "['qx']", "nil");
	OK("queue.join", "['qx', 0]", "true");
}
END_TEST

START_TEST(test_delete)
{
	size_t m1;
	int i;

	OK("queue.create", "['qz', {'ack': true, 'maxsize': 2}]", "nil");
	OK("queue.put_many", "['qz', [1, 2]]", "nil");
	fc_use(1);
	OK("queue.get", "['qz']", "1");
	fc_use(0);
	PARK(2, "queue.put_many", "['qz', ['a', 'b']]");
	PARK(3, "queue.join", "['qz']");
	OK("obj.delete", "['qz']", "nil");
	GOT_ERR(2, DELETED);
	GOT_ERR(3, DELETED);
	/* The lease went with the queue. */
	fc_use(1);
	ERR("queue.task_done", "['qz']", BADARG);
	fc_use(0);
	fc_close(1);
	ck_assert_uint_eq(waiter_count(), 0);

	/* A long queue is freed in slices. */
	for (i = 0; i < 3; i++)
		OK("queue.put", "['qz2', 'x'*100]", "nil");
	{
		msgpack_packer *pk, pkr;
		int n = 3 * REGISTRY_FREE_SLICE - 2;

		pk = begin_request(&pkr, "queue.put_many");
		msgpack_pack_array(pk, 2);
		msg_pack_cstr(pk, "qz2");
		msgpack_pack_array(pk, n);
		for (i = 0; i < n; i++)
			msgpack_pack_int(pk, i);
		send_packed();
		ck_assert_int_eq(reply_err, PERR_NONE);
	}
	OK("queue.get", "['qz2']", "'x'*100");
	OK("obj.info", "['qz2']", NULL);
	/* 3 * REGISTRY_FREE_SLICE items: obj.delete frees the first slice,
	 * then one per step. */
	OK("obj.delete", "['qz2']", "nil");
	m1 = mem_used();
	ck_assert(!registry_free_step(REGISTRY_FREE_SLICE));
	ck_assert(registry_free_step(REGISTRY_FREE_SLICE));
	ck_assert_uint_le(mem_used() + 2 * REGISTRY_FREE_SLICE * 16, m1);
}
END_TEST

/*
 * get_many takes only as many items as its reply can carry within the
 * output limit, and none (LIMIT) when not even the oldest fits: nothing is
 * taken that cannot be delivered.
 */
START_TEST(test_get_many_budget)
{
	size_t saved = server.output_limit;

	OK("queue.put_many", "['qb', ['a'*60, 'b'*60, 'c'*60, 'd']]", "nil");
	server.output_limit = 150;
	OK("queue.get_many", "['qb', 3]", "['a'*60, 'b'*60]");
	server.output_limit = 50;
	ERRM("queue.get_many", "['qb', 3]", LIMIT, "output limit");
	server.output_limit = saved;
	OK("queue.qsize", "['qb']", "2");
	OK("queue.get_many", "['qb', 3]", "['c'*60, 'd']");
}
END_TEST

START_TEST(test_mem)
{
	struct mpv v;
	uint64_t m1, m2;

	OK("queue.put", "['qmem', 1]", "nil");
	OK("obj.info", "['qmem']", NULL);
	ck_assert(result_field("memory", &v));
	m1 = v.v.u;
	OK("queue.put", "['qmem', 'x'*1000]", "nil");
	OK("obj.info", "['qmem']", NULL);
	ck_assert(result_field("memory", &v));
	m2 = v.v.u;
	ck_assert_uint_ge(m2, m1 + 1000);
	ck_assert(result_field("size", &v) && v.v.u == 2);
}
END_TEST

/* --- shutdown (Python 3.13) ------------------------------------------- */

START_TEST(test_shutdown)
{
	/* Parked putters are refused at once; getters drain, then are
	 * refused; joiners still wait for the items to be done. */
	OK("queue.create", "['qs', {'maxsize': 2}]", "nil");
	OK("queue.put_many", "['qs', [1, 2]]", "nil");
	PARK(1, "queue.put", "['qs', 3]");
	PARK(2, "queue.put_many", "['qs', [4], 60]");
	PARK(3, "queue.join", "['qs']");
	ERRM("queue.shutdown", "['qs', 1]", BADARG, "immediate must be a bool");
	OK("queue.shutdown", "['qs']", "nil");
	GOT_ERR(1, SHUTDOWN);
	GOT_ERR(2, SHUTDOWN);
	NOTHING(3);
	ck_assert_uint_eq(waiter_heap_size(), 0);
	ERRM("queue.put", "['qs', 5]", SHUTDOWN, "'qs' is shut down");
	ERR("queue.put", "['qs', 5, 0]", SHUTDOWN);
	ERR("queue.put_many", "['qs', [5]]", SHUTDOWN);
	OK("queue.qsize", "['qs']", "2");
	OK("queue.get", "['qs']", "1");
	OK("queue.get_many", "['qs', 5]", "[2]");
	ERR("queue.get", "['qs']", SHUTDOWN);
	ERR("queue.get", "['qs', 0]", SHUTDOWN);
	ERR("queue.get_many", "['qs', 2, 5]", SHUTDOWN);
	/* task_done still counts: the joiner is released by it. */
	OK("queue.task_done", "['qs']", "nil");
	NOTHING(3);
	OK("queue.task_done", "['qs']", "nil");
	GOT(3, "true");
	/* Shutting down again is harmless. */
	OK("queue.shutdown", "['qs', false]", "nil");
	OK("queue.shutdown", "['qs', nil]", "nil");

	/* Parked getters of an empty queue are released at once; the queue
	 * made by the blocking get stays shut down (no longer initial). */
	PARK(1, "queue.get", "['qs2']");
	PARK(2, "queue.get_many", "['qs2', 3, 60]");
	OK("queue.shutdown", "['qs2']", "nil");
	GOT_ERR(1, SHUTDOWN);
	GOT_ERR(2, SHUTDOWN);
	ERR("queue.put", "['qs2', 1]", SHUTDOWN);
	OK("obj.info", "['qs2']", NULL);
	/* Until obj.delete, which frees the name. */
	OK("obj.delete", "['qs2']", "nil");
	OK("queue.put", "['qs2', 1]", "nil");
	OK("queue.get", "['qs2']", "1");
	OK("queue.task_done", "['qs2']", "nil");
	ERR("obj.info", "['qs2']", NOOBJ);

	/* A shutdown of a missing queue makes it, shut down: a producer
	 * that comes late is refused. */
	OK("queue.shutdown", "['qs3']", "nil");
	ERR("queue.put", "['qs3', 1]", SHUTDOWN);
	OK("obj.delete", "['qs3']", "nil");
}
END_TEST

START_TEST(test_shutdown_immediate)
{
	/* The queue is emptied, each item dropped counted done; everyone
	 * waiting is released: getters, putters, joiners. */
	OK("queue.create", "['qi', {'maxsize': 3}]", "nil");
	OK("queue.put_many", "['qi', [1, 2, 3]]", "nil");
	PARK(1, "queue.put", "['qi', 4]");
	PARK(2, "queue.join", "['qi']");
	PARK(3, "queue.join", "['qi', 60]");
	OK("queue.shutdown", "['qi', true]", "nil");
	GOT_ERR(1, SHUTDOWN);
	GOT(2, "true");
	GOT(3, "true");
	OK("queue.qsize", "['qi']", "0");
	ERR("queue.get", "['qi', 0]", SHUTDOWN);
	ERRM("queue.task_done", "['qi']", BADARG, "more times");
	OK("queue.join", "['qi', 0]", "true");

	/* As in Python, an item already got and not done keeps join
	 * waiting: immediate marks done only what it drops. */
	OK("queue.put_many", "['qi2', [1, 2]]", "nil");
	OK("queue.get", "['qi2']", "1");
	PARK(2, "queue.join", "['qi2']");
	PARK(3, "queue.get", "['qi2-empty']");
	OK("queue.shutdown", "['qi2', true]", "nil");
	NOTHING(2);
	OK("queue.task_done", "['qi2']", "nil");
	GOT(2, "true");
	/* Draining first, then immediate: immediate still empties it. */
	OK("queue.put_many", "['qi3', [1, 2]]", "nil");
	OK("queue.shutdown", "['qi3']", "nil");
	OK("queue.shutdown", "['qi3', true]", "nil");
	OK("queue.qsize", "['qi3']", "0");
	OK("queue.join", "['qi3', 0]", "true");
	OK("queue.put", "['qi2-empty', 'x']", "nil");
	GOT(3, "'x'");
}
END_TEST

/* With ack: leases given back after an immediate shutdown are dropped
 * and counted done; after a draining one they come back for the gets. */
START_TEST(test_shutdown_ack)
{
	OK("queue.create", "['qa1', {'ack': true}]", "nil");
	OK("queue.put_many", "['qa1', ['a', 'b']]", "nil");
	fc_use(1);
	OK("queue.get", "['qa1']", "'a'");
	fc_use(0);
	PARK(2, "queue.join", "['qa1']");
	OK("queue.shutdown", "['qa1']", "nil");
	fc_close(1);
	NOTHING(2);
	OK("queue.get_many", "['qa1', 5]", "['a', 'b']");
	ERR("queue.get", "['qa1']", SHUTDOWN);
	OK("queue.task_done", "['qa1']", "nil");
	OK("queue.task_done", "['qa1']", "nil");
	GOT(2, "true");

	OK("queue.create", "['qa2', {'ack': true}]", "nil");
	OK("queue.put_many", "['qa2', ['a', 'b']]", "nil");
	fc_use(1);
	OK("queue.get", "['qa2']", "'a'");
	fc_use(0);
	PARK(2, "queue.join", "['qa2']");
	OK("queue.shutdown", "['qa2', true]", "nil");
	NOTHING(2);
	fc_close(1);
	GOT(2, "true");
	OK("queue.qsize", "['qa2']", "0");
	OK("obj.info", "['qa2']", NULL);
}
END_TEST

static Suite *
queue_suite(void)
{
	Suite *s = suite_create("queue");
	TCase *tc;

	tc = tcase_create("immediate");
	tcase_add_unchecked_fixture(tc, setup_conn0, NULL);
	tcase_add_test(tc, test_rows);
	tcase_add_test(tc, test_args);
	tcase_add_test(tc, test_create);
	tcase_add_test(tc, test_get_many_budget);
	tcase_add_test(tc, test_mem);
	suite_add_tcase(s, tc);

	tc = tcase_create("parking");
	tcase_add_unchecked_fixture(tc, setup_conn0, NULL);
	tcase_add_test(tc, test_getters_fifo);
	tcase_add_test(tc, test_putters_fifo);
	tcase_add_test(tc, test_put_many_atomic);
	tcase_add_test(tc, test_timeouts);
	tcase_add_test(tc, test_join);
	tcase_add_test(tc, test_gone_getter);
	tcase_add_test(tc, test_gone_putter);
	suite_add_tcase(s, tc);

	tc = tcase_create("ack");
	tcase_add_unchecked_fixture(tc, setup_conn0, NULL);
	tcase_add_test(tc, test_ack_redelivery);
	tcase_add_test(tc, test_ack_order);
	tcase_add_test(tc, test_ack_gone_getter);
	tcase_add_test(tc, test_delete);
	suite_add_tcase(s, tc);

	tc = tcase_create("shutdown");
	tcase_add_unchecked_fixture(tc, setup_conn0, NULL);
	tcase_add_test(tc, test_shutdown);
	tcase_add_test(tc, test_shutdown_immediate);
	tcase_add_test(tc, test_shutdown_ack);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(queue_suite());
}
