/*
 * unit_pool.c: the pool type's job state machine without sockets: submit,
 * take and its lease, done and fail from the leasing connection only,
 * result (parked until the job finishes, consume), collect in finish
 * order, leases going back to the head of the queue when their worker's
 * connection closes and failing past max attempts, close and join (takes
 * answered SHUTDOWN once nothing is queued or running), terminate and
 * cancel (notifications to the workers), maxsize, deduplicating keys,
 * takes that would not fit, status, obj.info and deletion.
 *
 * Fake connection 0 sends the immediate requests; workers take from 1 up
 * (AS switches for one row, PARK parks). Object names differ between
 * tests so that they also pass with CK_FORK=no.
 */
#include <stdio.h>
#include <string.h>

#include <check.h>

#include "../daemon/dispatch.h"
#include "../daemon/mpmgrd.h"
#include "../daemon/registry.h"
#include "../daemon/waiter.h"
#include "unit_util.h"

#define AS(i, row) do { fc_use(i); row; fc_use(0); } while (0)

/*
 * The next message in c's output is the notification [2, method, [name
 * (, id)]]: check it and take it; the id, or 0 when it has none.
 */
static uint64_t
take_note(struct conn *c, const char *method, const char *name)
{
	struct scan_state st;
	struct msg m;
	struct mpv_iter it;
	struct mpv v;
	const char *why = NULL;
	uint64_t id = 0;
	size_t flen;

	ck_assert_msg(buf_used(&c->out) > 0, "no notification");
	scan_init(&st);
	ck_assert_int_eq(scan_frame(&st, buf_head(&c->out), buf_used(&c->out),
	    SIZE_MAX, &flen, &why), SCAN_FRAME);
	ck_assert(msg_parse(buf_head(&c->out), &m, &why) == 0);
	ck_assert_int_eq(m.kind, MSG_NOTIFICATION);
	ck_assert(mpv_str_eq(&m.method, method));
	mpv_iter_init(&it, &m.params);
	ck_assert(mpv_iter_next(&it, &v) && mpv_str_eq(&v, name));
	if (mpv_iter_next(&it, &v)) {
		ck_assert_int_eq(v.type, MPV_UINT);
		id = v.v.u;
	}
	buf_consume(&c->out, flen);
	return id;
}

/* The value of key in pool.status of name. */
static uint64_t
status_of(const char *name, const char *key)
{
	char params[300];
	struct mpv v;

	snprintf(params, sizeof params, "['%s']", name);
	send_req("pool.status", params);
	ck_assert_msg(reply_err == PERR_NONE, "%s", show_reply());
	ck_assert_msg(result_field(key, &v), "no %s", key);
	if (v.type == MPV_BOOL)
		return v.v.b;
	ck_assert_int_eq(v.type, MPV_UINT);
	return v.v.u;
}

/* --- immediate answers ---------------------------------------------------- */

START_TEST(test_rows)
{
	static const struct row rows[] = {
		/* Reads of a missing pool act on an empty one and create
		 * nothing. */
		{ "pool.take", "['pr', 0]", PERR_EMPTY, NULL,
		  "'pr' has no queued job" },
		{ "pool.result", "['pr', 1]", PERR_NOTFOUND, NULL,
		  "no job 1 in pool 'pr'" },
		{ "pool.collect", "['pr', 5, 0]", PERR_EMPTY, NULL, NULL },
		{ "pool.cancel", "['pr', 1]", PERR_NOTFOUND, NULL, NULL },
		{ "pool.done", "['pr', 1, 'x']", PERR_NOTFOUND, NULL, NULL },
		{ "pool.join", "['pr', 0]", PERR_BADARG, NULL, "still open" },
		{ "pool.status", "['pr']", PERR_NONE, "{'queued': 0, "
		  "'running': 0, 'done': 0, 'failed': 0, 'cancelled': 0, "
		  "'workers': 0, 'idle': 0, 'submitted': 0, 'closed': false, "
		  "'terminated': false}", NULL },
		{ "obj.info", "['pr']", PERR_NOOBJ, NULL, NULL },
		/* Bad params. */
		{ "pool.submit", "['pr', 1, 5]", PERR_BADARG, NULL,
		  "a map {attempts, key}" },
		{ "pool.submit", "['pr', 1, {'attempts': 0}]", PERR_BADARG,
		  NULL, "attempts must be" },
		{ "pool.submit", "['pr', 1, {'key': 3}]", PERR_BADARG, NULL,
		  "key must be a str" },
		{ "pool.submit", "['pr', 1, {'key': ''}]", PERR_BADARG, NULL,
		  NULL },
		{ "pool.submit", "['pr', 1, {'x': 1}]", PERR_BADARG, NULL,
		  "unknown or repeated" },
		{ "pool.submit", "['pr', 1, {'key': 'a', 'key': 'b'}]",
		  PERR_BADARG, NULL, "repeated" },
		{ "pool.result", "['pr', 0]", PERR_BADARG, NULL, "job id" },
		{ "pool.result", "['pr', 'x']", PERR_BADARG, NULL, NULL },
		{ "pool.result", "['pr', 1, 5]", PERR_BADARG, NULL,
		  "consume must be a bool" },
		{ "pool.result", "['pr', 1, false, -1]", PERR_BADARG, NULL,
		  NULL },
		{ "pool.collect", "['pr', 0]", PERR_BADARG, NULL, NULL },
		{ "pool.take", "['pr', 'x']", PERR_BADARG, NULL, NULL },
		{ "pool.create", "['pr', {'max_attempts': 0}]", PERR_BADARG,
		  NULL, "max_attempts" },
		{ "pool.create", "['pr', {'nope': 0}]", PERR_BADARG, NULL,
		  NULL },
		{ "obj.info", "['pr']", PERR_NOOBJ, NULL, NULL },
		{ "dict.set", "['pd', 1, 2]", PERR_NONE, "nil", NULL },
		{ "pool.take", "['pd', 0]", PERR_WRONGTYPE, NULL,
		  "is a dict, not a pool" },
		{ "obj.delete", "['pd']", PERR_NONE, "nil", NULL },
		/* A job's life: ids count from 1, values stay canonical. */
		{ "pool.submit", "['pr', ['echo', f32:1.5]]", PERR_NONE, "1",
		  NULL },
		{ "pool.submit", "['pr', {'k': h'd005'}, nil]", PERR_NONE, "2",
		  NULL },
		{ "pool.result", "['pr', 1, false, 0]", PERR_TIMEOUT, NULL,
		  "job 1 of pool 'pr' has not finished" },
		{ "pool.take", "['pr']", PERR_NONE, "[1, ['echo', 1.5], 1]",
		  NULL },
		{ "pool.take", "['pr', 0]", PERR_NONE, "[2, {'k': 5}, 1]",
		  NULL },
		{ "pool.take", "['pr', 0]", PERR_EMPTY, NULL, NULL },
		{ "pool.done", "['pr', 1, {'out': 'hi'}]", PERR_NONE, "nil",
		  NULL },
		{ "pool.done", "['pr', 1, 1]", PERR_NOTOWNER, NULL,
		  "not leased to this connection (it is done)" },
		{ "pool.fail", "['pr', 2, 'boom']", PERR_NONE, "nil", NULL },
		{ "pool.done", "['pr', 9, 1]", PERR_NOTFOUND, NULL, NULL },
		{ "pool.result", "['pr', 1]", PERR_NONE,
		  "['done', {'out': 'hi'}]", NULL },
		{ "pool.result", "['pr', 2, nil, 0]", PERR_NONE,
		  "['failed', 'boom']", NULL },
		{ "pool.result", "['pr', 1, true]", PERR_NONE,
		  "['done', {'out': 'hi'}]", NULL },
		{ "pool.result", "['pr', 1]", PERR_NOTFOUND, NULL, NULL },
		{ "pool.collect", "['pr', 10]", PERR_NONE,
		  "[[2, 'failed', 'boom']]", NULL },
		{ "pool.collect", "['pr', 10, 0]", PERR_EMPTY, NULL,
		  "no finished job" },
		/* Its jobs consumed: the pool still has a worker, this
		 * connection. */
		{ "obj.list", "['pool']", PERR_NONE, "[['pr', 'pool', 0]]",
		  NULL },
	};

	RUN(rows);
	ck_assert_uint_eq(status_of("pr", "workers"), 1);
	ck_assert_uint_eq(status_of("pr", "submitted"), 2);
	/* Once its worker is gone, an implicit pool with nothing held goes. */
	fc_close(0);
	ERR("obj.info", "['pr']", NOOBJ);
}
END_TEST

START_TEST(test_create)
{
	struct mpv v;

	OK("pool.create", "['pc']", "nil");
	OK("pool.create", "['pc', {'max_attempts': 3, 'maxsize': 0}]", "nil");
	ERR("pool.create", "['pc', {'max_attempts': 2}]", EXISTS);
	OK("obj.info", "['pc']", NULL);
	ck_assert(result_field("options", &v) && v.type == MPV_MAP &&
	    v.len == 2);
	ck_assert(result_field("explicit", &v) && v.v.b);
	/* An explicit pool stays when empty. */
	OK("pool.submit", "['pc', 1]", "1");
	OK("pool.take", "['pc']", "[1, 1, 1]");
	OK("pool.done", "['pc', 1, nil]", "nil");
	OK("pool.result", "['pc', 1, true]", "['done', nil]");
	fc_close(0);
	ck_assert_uint_eq(info_uint("pc", "size"), 0);
	OK("obj.delete", "['pc']", "nil");
}
END_TEST

/* --- leases and attempts ---------------------------------------------------- */

START_TEST(test_lease_owner)
{
	OK("pool.submit", "['pl', 'a']", "1");
	AS(1, OK("pool.take", "['pl']", "[1, 'a', 1]"));
	ck_assert_uint_eq(status_of("pl", "running"), 1);
	ck_assert_uint_eq(status_of("pl", "workers"), 1);
	ERRM("pool.done", "['pl', 1, 'x']", NOTOWNER, "another worker's");
	ERRM("pool.fail", "['pl', 1, 'x']", NOTOWNER, NULL);
	AS(1, OK("pool.done", "['pl', 1, 'r']", "nil"));
	OK("pool.result", "['pl', 1, true]", "['done', 'r']");
	fc_close(1);
	ERR("obj.info", "['pl']", NOOBJ);
}
END_TEST

START_TEST(test_requeue)
{
	OK("pool.submit", "['pq', 'a']", "1");
	OK("pool.submit", "['pq', 'b']", "2");
	OK("pool.submit", "['pq', 'c']", "3");
	AS(1, OK("pool.take", "['pq']", "[1, 'a', 1]"));
	AS(1, OK("pool.take", "['pq']", "[2, 'b', 1]"));
	AS(2, OK("pool.take", "['pq']", "[3, 'c', 1]"));
	PARK(3, "pool.result", "['pq', 1]");
	/* Its worker dies: 1 and 2 go back to the head, in the order they
	 * were taken, and run again as attempt 2. */
	fc_close(1);
	NOTHING(3);
	ck_assert_uint_eq(status_of("pq", "queued"), 2);
	ck_assert_uint_eq(status_of("pq", "running"), 1);
	ck_assert_uint_eq(status_of("pq", "workers"), 1);
	AS(4, OK("pool.take", "['pq']", "[1, 'a', 2]"));
	AS(4, OK("pool.done", "['pq', 1, 'A']", "nil"));
	GOT(3, "['done', 'A']");
	AS(4, OK("pool.take", "['pq']", "[2, 'b', 2]"));
	fc_close(2);
	AS(5, OK("pool.take", "['pq']", "[3, 'c', 2]"));
	fc_close(4);
	fc_close(5);
	OK("pool.take", "['pq']", "[3, 'c', 3]");
	OK("pool.take", "['pq']", "[2, 'b', 3]");
	/* The third death is the last attempt: failed, saying so. */
	PARK(6, "pool.result", "['pq', 3]");
	fc_close(0);
	GOT(6, "['failed', 'the worker running job 3 died (its connection "
	    "closed) on attempt 3 of 3']");
	OK("pool.result", "['pq', 2, true]", "['failed', 'the worker running "
	    "job 2 died (its connection closed) on attempt 3 of 3']");
	ck_assert_uint_eq(status_of("pq", "failed"), 1);
	ck_assert_uint_eq(status_of("pq", "done"), 1);
	OK("obj.delete", "['pq']", "nil");
}
END_TEST

START_TEST(test_attempts)
{
	OK("pool.create", "['pa', {'max_attempts': 1}]", "nil");
	OK("pool.submit", "['pa', 'once']", "1");
	OK("pool.submit", "['pa', 'twice', {'attempts': 2}]", "2");
	AS(1, OK("pool.take", "['pa']", "[1, 'once', 1]"));
	AS(1, OK("pool.take", "['pa']", "[2, 'twice', 1]"));
	fc_close(1);
	OK("pool.result", "['pa', 1]", "['failed', 'the worker running job 1 "
	    "died (its connection closed) on attempt 1 of 1']");
	AS(1, OK("pool.take", "['pa']", "[2, 'twice', 2]"));
	AS(1, OK("pool.done", "['pa', 2, 2]", "nil"));
	OK("pool.collect", "['pa', 5]", "[[1, 'failed', 'the worker running "
	    "job 1 died (its connection closed) on attempt 1 of 1'], [2, "
	    "'done', 2]]");
	fc_close(1);
	OK("obj.delete", "['pa']", "nil");
}
END_TEST

/* --- parked requests --------------------------------------------------------- */

START_TEST(test_takers)
{
	PARK(1, "pool.take", "['pt']");
	PARK(2, "pool.take", "['pt', 60]");
	PARK(3, "pool.take", "['pt']");
	PARK(4, "pool.take", "['pt', 0.5]");
	ck_assert_uint_eq(status_of("pt", "idle"), 4);
	waiter_expire(now_usec() + 5 * 1000000);
	GOT_ERR(4, EMPTY);
	/* The oldest live taker gets the job; a hung-up one nothing. */
	fc_hang_up(1);
	OK("pool.submit", "['pt', 'x']", "1");
	NOTHING(1);
	GOT(2, "[1, 'x', 1]");
	OK("pool.submit", "['pt', 'y']", "2");
	GOT(3, "[2, 'y', 1]");
	fc_close(1);
	ck_assert_uint_eq(status_of("pt", "idle"), 0);
	/* A connection that parked a take is a worker until it closes. */
	ck_assert_uint_eq(status_of("pt", "workers"), 3);
	fc_close(4);
	ck_assert_uint_eq(status_of("pt", "workers"), 2);
	/* Each goes back to the head: the last back is the next out. */
	fc_close(2);
	fc_close(3);
	OK("pool.take", "['pt', 0]", "[2, 'y', 2]");
	OK("pool.take", "['pt', 0]", "[1, 'x', 2]");
	fc_close(0);
	OK("obj.delete", "['pt']", "nil");
}
END_TEST

START_TEST(test_results_parked)
{
	OK("pool.submit", "['pw', 'a']", "1");
	OK("pool.submit", "['pw', 'b']", "2");
	PARK(1, "pool.result", "['pw', 1]");
	PARK(2, "pool.result", "['pw', 1, true, 60]");
	PARK(3, "pool.result", "['pw', 2, false, 0.5]");
	PARK(4, "pool.collect", "['pw', 10]");
	waiter_expire(now_usec() + 5 * 1000000);
	GOT_ERR(3, TIMEOUT);
	AS(5, OK("pool.take", "['pw']", "[1, 'a', 1]"));
	AS(5, OK("pool.take", "['pw']", "[2, 'b', 1]"));
	AS(5, OK("pool.done", "['pw', 1, 'A']", "nil"));
	/* Both results are answered; the consuming one forgets the job, so
	 * the collector does not see it. */
	GOT(1, "['done', 'A']");
	GOT(2, "['done', 'A']");
	NOTHING(4);
	ERR("pool.result", "['pw', 1]", NOTFOUND);
	AS(5, OK("pool.fail", "['pw', 2, 'B']", "nil"));
	GOT(4, "[[2, 'failed', 'B']]");
	ck_assert_uint_eq(status_of("pw", "failed"), 0);
	fc_close(5);
	ERR("obj.info", "['pw']", NOOBJ);
	ck_assert_uint_eq(waiter_count(), 0);
}
END_TEST

START_TEST(test_collect_budget)
{
	size_t saved = server.max_message;
	int i;

	for (i = 1; i <= 4; i++) {
		AS(1, send_req("pool.submit", i < 4 ? "['pb', 'x'*60]" :
		    "['pb', 'y']"));
		AS(1, send_req("pool.take", "['pb']"));
	}
	AS(1, OK("pool.done", "['pb', 3, 'c'*60]", "nil"));
	AS(1, OK("pool.done", "['pb', 1, 'a'*60]", "nil"));
	AS(1, OK("pool.done", "['pb', 2, 'b'*60]", "nil"));
	AS(1, OK("pool.done", "['pb', 4, 'd']", "nil"));
	server.max_message = 200;
	/* In the order they finished, as many as fit. */
	OK("pool.collect", "['pb', 10]", "[[3, 'done', 'c'*60], [1, 'done', "
	    "'a'*60]]");
	server.max_message = 20;
	/* At least one, if it fits the output at all. */
	OK("pool.collect", "['pb', 10]", "[[2, 'done', 'b'*60]]");
	server.max_message = saved;
	OK("pool.collect", "['pb', 10]", "[[4, 'done', 'd']]");
	fc_close(1);
	ERR("obj.info", "['pb']", NOOBJ);
}
END_TEST

/* A take never leases a job whose reply cannot go out now, nor does a
 * result that consumes take one. */
START_TEST(test_fits)
{
	size_t saved = server.output_limit;

	OK("pool.submit", "['pf', 'z'*500]", "1");
	server.output_limit = 200;
	ERRM("pool.take", "['pf']", LIMIT, "nothing was taken");
	PARK(1, "pool.take", "['pf2']");
	OK("pool.submit", "['pf2', 'z'*500]", "1");
	GOT_ERR(1, LIMIT);
	server.output_limit = saved;
	ck_assert_uint_eq(status_of("pf", "queued"), 1);
	OK("pool.take", "['pf']", "[1, 'z'*500, 1]");
	OK("pool.take", "['pf2']", "[1, 'z'*500, 1]");
	/* A parked result that consumes: LIMIT, and the result stays. */
	OK("pool.submit", "['pf3', 'a']", "1");
	AS(2, OK("pool.take", "['pf3']", "[1, 'a', 1]"));
	PARK(1, "pool.result", "['pf3', 1, true]");
	server.output_limit = 200;
	AS(2, OK("pool.done", "['pf3', 1, 'r'*500]", "nil"));
	GOT_ERR(1, LIMIT);
	server.output_limit = saved;
	OK("pool.result", "['pf3', 1, true]", "['done', 'r'*500]");
	fc_close(0);
	OK("obj.delete", "['pf']", "nil");
	OK("obj.delete", "['pf2']", "nil");
	OK("obj.delete", "['pf3']", "nil");
}
END_TEST

/* --- close, join, terminate, cancel ------------------------------------------ */

START_TEST(test_close_join)
{
	OK("pool.submit", "['pj', 'a']", "1");
	OK("pool.submit", "['pj', 'b']", "2");
	AS(1, OK("pool.take", "['pj']", "[1, 'a', 1]"));
	ERR("pool.join", "['pj']", BADARG);
	OK("pool.close", "['pj']", "nil");
	ERRM("pool.submit", "['pj', 'c']", SHUTDOWN, "'pj' is closed");
	OK("pool.join", "['pj', 0]", "false");
	PARK(2, "pool.join", "['pj']");
	PARK(3, "pool.join", "['pj', 0.5]");
	AS(4, OK("pool.take", "['pj']", "[2, 'b', 1]"));
	/* Nothing queued, but a job runs and may come back: takers wait. */
	PARK(5, "pool.take", "['pj']");
	waiter_expire(now_usec() + 5 * 1000000);
	GOT(3, "false");
	/* Its worker dies: the job comes back to the waiting taker. */
	fc_close(4);
	GOT(5, "[2, 'b', 2]");
	AS(1, OK("pool.done", "['pj', 1, 'A']", "nil"));
	NOTHING(2);
	PARK(6, "pool.take", "['pj']");
	AS(5, OK("pool.done", "['pj', 2, 'B']", "nil"));
	/* Drained: joiners true, takers SHUTDOWN (the workers stop). */
	GOT(2, "true");
	GOT_ERR(6, SHUTDOWN);
	ERRM("pool.take", "['pj']", SHUTDOWN, "closed and has no job left");
	OK("pool.join", "['pj']", "true");
	/* Results stay readable. */
	OK("pool.collect", "['pj', 5]", "[[1, 'done', 'A'], [2, 'done', "
	    "'B']]");
	fc_close(1);
	fc_close(5);
	fc_close(0);
	/* A closed pool is never back in its initial state. */
	OK("pool.status", "['pj']", NULL);
	ck_assert_uint_eq(info_uint("pj", "size"), 0);
	OK("obj.delete", "['pj']", "nil");
	/* close of a missing pool makes it closed. */
	OK("pool.close", "['pj']", "nil");
	OK("pool.join", "['pj', 0]", "true");
	ERR("pool.submit", "['pj', 1]", SHUTDOWN);
	OK("obj.delete", "['pj']", "nil");
}
END_TEST

START_TEST(test_terminate)
{
	OK("pool.submit", "['px', 'a']", "1");
	OK("pool.submit", "['px', 'b']", "2");
	OK("pool.submit", "['px', 'c']", "3");
	AS(1, OK("pool.take", "['px']", "[1, 'a', 1]"));
	AS(2, OK("pool.take", "['px']", "[2, 'b', 1]"));
	PARK(3, "pool.result", "['px', 1]");
	PARK(4, "pool.result", "['px', 3]");
	/* An idle worker, parked in take, on the way. */
	AS(5, OK("pool.take", "['px']", "[3, 'c', 1]"));
	AS(5, OK("pool.done", "['px', 3, 'C']", "nil"));
	GOT(4, "['done', 'C']");
	OK("pool.submit", "['px', 'd']", "4");
	PARK(6, "pool.take", "['px-other']");
	OK("pool.terminate", "['px']", "nil");
	GOT(3, "['cancelled', nil]");
	/* Every worker is told, busy or not. */
	take_note(fc_conn(1), MPMGR_NOTIFY_POOL_TERMINATE, "px");
	take_note(fc_conn(2), MPMGR_NOTIFY_POOL_TERMINATE, "px");
	take_note(fc_conn(5), MPMGR_NOTIFY_POOL_TERMINATE, "px");
	NOTHING(1);
	NOTHING(2);
	NOTHING(5);
	NOTHING(6);
	ck_assert_uint_eq(status_of("px", "cancelled"), 3);
	ck_assert_uint_eq(status_of("px", "terminated"), 1);
	OK("pool.join", "['px']", "true");
	ERRM("pool.take", "['px']", SHUTDOWN, "terminated");
	ERRM("pool.submit", "['px', 'e']", SHUTDOWN, "terminated");
	/* The workers' late reports find their jobs gone. */
	AS(1, ERRM("pool.done", "['px', 1, 'A']", NOTOWNER, "cancelled"));
	/* Finish order: queued jobs are cancelled first, then running
	 * ones, newest worker first. */
	OK("pool.collect", "['px', 9]", "[[3, 'done', 'C'], [4, 'cancelled', "
	    "nil], [2, 'cancelled', nil], [1, 'cancelled', nil]]");
	/* A parked taker is answered at once, with the notification. */
	OK("pool.terminate", "['px-other']", "nil");
	take_note(fc_conn(6), MPMGR_NOTIFY_POOL_TERMINATE, "px-other");
	GOT_ERR(6, SHUTDOWN);
	fc_close(1);
	fc_close(2);
	fc_close(5);
	fc_close(6);
	OK("obj.delete", "['px']", "nil");
	OK("obj.delete", "['px-other']", "nil");
	ck_assert_uint_eq(waiter_count(), 0);
}
END_TEST

START_TEST(test_cancel)
{
	OK("pool.submit", "['pn', 'a']", "1");
	OK("pool.submit", "['pn', 'b']", "2");
	OK("pool.submit", "['pn', 'c']", "3");
	AS(1, OK("pool.take", "['pn']", "[1, 'a', 1]"));
	PARK(2, "pool.result", "['pn', 2, true]");
	OK("pool.cancel", "['pn', 2]", "true");
	GOT(2, "['cancelled', nil]");
	OK("pool.cancel", "['pn', 1]", "true");
	ck_assert_uint_eq(take_note(fc_conn(1), MPMGR_NOTIFY_POOL_CANCEL,
	    "pn"), 1);
	NOTHING(1);
	OK("pool.cancel", "['pn', 1]", "false");
	ERR("pool.cancel", "['pn', 2]", NOTFOUND);
	AS(1, ERR("pool.done", "['pn', 1, 'x']", NOTOWNER));
	/* Still a worker: it takes the next. */
	AS(1, OK("pool.take", "['pn']", "[3, 'c', 1]"));
	ck_assert_uint_eq(status_of("pn", "workers"), 1);
	fc_close(1);
	OK("pool.result", "['pn', 1]", "['cancelled', nil]");
	OK("pool.take", "['pn']", "[3, 'c', 2]");
	fc_close(0);
	OK("obj.delete", "['pn']", "nil");
}
END_TEST

/* --- bounds, keys, memory, deletion ------------------------------------------ */

START_TEST(test_maxsize)
{
	OK("pool.create", "['pm', {'maxsize': 2}]", "nil");
	OK("pool.submit", "['pm', 1]", "1");
	OK("pool.submit", "['pm', 2]", "2");
	ERRM("pool.submit", "['pm', 3]", FULL, "holds 2 jobs");
	OK("pool.take", "['pm']", "[1, 1, 1]");
	OK("pool.done", "['pm', 1, nil]", "nil");
	/* A finished job still counts until it is consumed. */
	ERR("pool.submit", "['pm', 3]", FULL);
	OK("pool.result", "['pm', 1, true]", "['done', nil]");
	OK("pool.submit", "['pm', 3]", "3");
	fc_close(0);
	OK("obj.delete", "['pm']", "nil");
}
END_TEST

START_TEST(test_key)
{
	OK("pool.submit", "['pk', 'a', {'key': 'k1'}]", "1");
	OK("pool.submit", "['pk', 'other', {'key': 'k1'}]", "1");
	OK("pool.submit", "['pk', 'b', {'key': 'k2', 'attempts': 5}]", "2");
	ck_assert_uint_eq(status_of("pk", "submitted"), 2);
	OK("pool.take", "['pk']", "[1, 'a', 1]");
	OK("pool.done", "['pk', 1, 'A']", "nil");
	/* Held while finished, too. */
	OK("pool.submit", "['pk', 'again', {'key': 'k1'}]", "1");
	OK("pool.result", "['pk', 1, true]", "['done', 'A']");
	OK("pool.submit", "['pk', 'again', {'key': 'k1'}]", "3");
	fc_close(0);
	OK("obj.delete", "['pk']", "nil");
}
END_TEST

START_TEST(test_mem)
{
	uint64_t m1, m2, m3;

	OK("pool.submit", "['pmem', 1]", "1");
	m1 = info_uint("pmem", "memory");
	OK("pool.submit", "['pmem', 'x'*1000, {'key': 'k'}]", "2");
	m2 = info_uint("pmem", "memory");
	ck_assert_uint_ge(m2, m1 + 1000);
	ck_assert_uint_eq(info_uint("pmem", "size"), 2);
	/* A finished job's payload goes; its result stays. */
	OK("pool.take", "['pmem']", "[1, 1, 1]");
	OK("pool.take", "['pmem']", "[2, 'x'*1000, 1]");
	OK("pool.done", "['pmem', 2, 'r']", "nil");
	m3 = info_uint("pmem", "memory");
	ck_assert_uint_lt(m3, m2 - 900);
	fc_close(0);
	OK("obj.delete", "['pmem']", "nil");
}
END_TEST

START_TEST(test_delete)
{
	int i;

	for (i = 0; i < 2500; i++)
		send_req("pool.submit", "['pdel', 'job']");
	AS(1, OK("pool.take", "['pdel']", "[1, 'job', 1]"));
	PARK(2, "pool.result", "['pdel', 1]");
	PARK(4, "pool.take", "['pdel3']");
	OK("obj.delete", "['pdel']", "nil");
	GOT_ERR(2, DELETED);
	/* Its worker learns on its next call. */
	AS(1, ERR("pool.done", "['pdel', 1, 'x']", NOTFOUND));
	fc_close(1);
	while (!registry_free_step(REGISTRY_FREE_SLICE))
		;
	OK("obj.delete", "['pdel3']", "nil");
	GOT_ERR(4, DELETED);
	ck_assert_uint_eq(waiter_count(), 0);
}
END_TEST

static Suite *
pool_suite(void)
{
	Suite *s = suite_create("pool");
	TCase *tc;

	tc = tcase_create("immediate");
	tcase_add_unchecked_fixture(tc, setup_conn0, NULL);
	tcase_add_test(tc, test_rows);
	tcase_add_test(tc, test_create);
	tcase_add_test(tc, test_maxsize);
	tcase_add_test(tc, test_key);
	tcase_add_test(tc, test_mem);
	suite_add_tcase(s, tc);

	tc = tcase_create("leases");
	tcase_add_unchecked_fixture(tc, setup_conn0, NULL);
	tcase_add_test(tc, test_lease_owner);
	tcase_add_test(tc, test_requeue);
	tcase_add_test(tc, test_attempts);
	tcase_add_test(tc, test_fits);
	suite_add_tcase(s, tc);

	tc = tcase_create("parking");
	tcase_add_unchecked_fixture(tc, setup_conn0, NULL);
	tcase_add_test(tc, test_takers);
	tcase_add_test(tc, test_results_parked);
	tcase_add_test(tc, test_collect_budget);
	suite_add_tcase(s, tc);

	tc = tcase_create("lifecycle");
	tcase_add_unchecked_fixture(tc, setup_conn0, NULL);
	tcase_add_test(tc, test_close_join);
	tcase_add_test(tc, test_terminate);
	tcase_add_test(tc, test_cancel);
	tcase_add_test(tc, test_delete);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(pool_suite());
}
