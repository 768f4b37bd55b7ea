/*
 * unit_lease.c: fencing tokens and leases on locks, rlocks and
 * semaphores, without sockets: tokens that only grow (per object, across
 * objects, across an implicit object's deletion), the acquire options
 * and their errors, leases ending from the deadline heap (fired with
 * waiter_expire, never waited for) and handing the lock to the next
 * waiter, extend, and the lost hold a lease leaves behind, which refuses
 * its connection's next release.
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
#include "../daemon/fence.h"
#include "../daemon/journal.h"
#include "../daemon/replay.h"
#include "../daemon/mpmgrd.h"
#include "../daemon/registry.h"
#include "../daemon/waiter.h"
#include "unit_util.h"

/* The next request goes from fake connection i. */
#define AS(i) fc_from(__LINE__, i)

/* The request answers a fencing token: an int. */
static uint64_t
token_of(int line, const char *method, const char *params)
{
	expect(line, &(struct row){ method, params, PERR_NONE, NULL, NULL });
	ck_assert_msg(reply.result.type == MPV_UINT, "line %d: %s %s: got "
	    "%s, not a token", line, method, params, show_reply());
	return reply.result.v.u;
}
#define TOKEN(m, p) token_of(__LINE__, m, p)

/* Connection i's parked request was answered with a token: it. */
static uint64_t
got_token(int line, int i)
{
	ck_assert_msg(take_reply(fc_conn(i)), "line %d: connection %d has no "
	    "reply", line, i);
	ck_assert_msg(reply_err == PERR_NONE && reply.result.type == MPV_UINT,
	    "line %d: connection %d got %s, not a token", line, i,
	    show_reply());
	ck_assert_msg(!take_reply(fc_conn(i)), "line %d: connection %d has "
	    "two replies", line, i);
	return reply.result.v.u;
}
#define GOT_TOKEN(i) got_token(__LINE__, i)

/* --- fencing tokens ---------------------------------------------------- */

static const struct row option_rows[] = {
	{ "lock.acquire", "['o1', 0, 5]", PERR_BADARG, NULL, "map" },
	{ "lock.acquire", "['o1', 0, {'ttl': 0}]", PERR_BADARG, NULL,
	  "ttl must be a number of seconds > 0" },
	{ "lock.acquire", "['o1', 0, {'ttl': -1}]", PERR_BADARG, NULL, "ttl" },
	{ "lock.acquire", "['o1', 0, {'ttl': 'x'}]", PERR_BADARG, NULL, "ttl" },
	{ "lock.acquire", "['o1', 0, {'fence': 1}]", PERR_BADARG, NULL,
	  "fence must be true or false" },
	{ "lock.acquire", "['o1', 0, {'bogus': 1}]", PERR_BADARG, NULL,
	  "ttl and fence" },
	{ "lock.acquire", "['o1', 0, {'ttl': 1, 'ttl': 2}]", PERR_BADARG,
	  NULL, "each once" },
	{ "rlock.acquire", "['o1r', nil, {'ttl': 0.0}]", PERR_BADARG, NULL,
	  NULL },
	{ "semaphore.acquire", "['o1s', nil, []]", PERR_BADARG, NULL, NULL },
	/* Nothing was made by an acquire in error. */
	{ "obj.info", "['o1']", PERR_NOOBJ, NULL, NULL },
	/* Options that change nothing: the answer stays true. */
	{ "lock.acquire", "['o1', nil, {}]", PERR_NONE, "true", NULL },
	{ "lock.release", "['o1']", PERR_NONE, "nil", NULL },
	{ "lock.acquire", "['o1', nil, nil]", PERR_NONE, "true", NULL },
	{ "lock.release", "['o1']", PERR_NONE, "nil", NULL },
	{ "lock.acquire", "['o1', 1, {'fence': false, 'ttl': nil}]",
	  PERR_NONE, "true", NULL },
	{ "lock.release", "['o1']", PERR_NONE, "nil", NULL },
	/* A lease belongs to a connection: not where holds outlive it. */
	{ "lock.create", "['o2', {'release_on_disconnect': false}]",
	  PERR_NONE, "nil", NULL },
	{ "lock.acquire", "['o2', 0, {'ttl': 5}]", PERR_BADARG, NULL,
	  "release_on_disconnect false" },
	{ "lock.acquire", "['o2', 0, {'fence': true}]", PERR_NONE, NULL,
	  NULL },
	{ "lock.release", "['o2']", PERR_NONE, "nil", NULL },
	{ "obj.delete", "['o2']", PERR_NONE, "nil", NULL },
	{ "semaphore.create", "['o3', {'release_on_disconnect': false}]",
	  PERR_NONE, "nil", NULL },
	{ "semaphore.acquire", "['o3', 0, {'ttl': 5}]", PERR_BADARG, NULL,
	  "release_on_disconnect false" },
	{ "obj.delete", "['o3']", PERR_NONE, "nil", NULL },
	/* extend's ttl, and extend of what nobody holds. */
	{ "lock.extend", "['o4']", PERR_BADARG, NULL, NULL },
	{ "lock.extend", "['o4', 0]", PERR_BADARG, NULL, "ttl" },
	{ "lock.extend", "['o4', 5]", PERR_NOTHELD, NULL, "not held" },
	{ "rlock.extend", "['o4', 5]", PERR_NOTHELD, NULL, NULL },
	{ "semaphore.extend", "['o4', 5]", PERR_NOTHELD, NULL,
	  "holds no permit" },
	{ "obj.info", "['o4']", PERR_NOOBJ, NULL, NULL },
};

START_TEST(test_options)
{
	RUN(option_rows);
	fc_close_all();
}
END_TEST

START_TEST(test_fence_grows)
{
	uint64_t t, u, w;

	AS(0);
	t = TOKEN("lock.acquire", "['g1', nil, {'fence': true}]");
	/* Tokens start above the wall clock (microseconds since 1970). */
	ck_assert_uint_gt(t, UINT64_C(1600000000000000));
	OK("lock.release", "['g1']", "nil");
	GONE("g1");
	/* The implicit lock went; made again, it does not start over. */
	u = TOKEN("lock.acquire", "['g1', nil, {'fence': true}]");
	ck_assert_uint_gt(u, t);
	/* A waiter's grant takes a token then. */
	PARK(1, "lock.acquire", "['g1', nil, {'fence': true}]");
	AS(2);
	w = TOKEN("lock.acquire", "['g2', nil, {'fence': true}]");
	ck_assert_uint_gt(w, u);
	AS(0);
	OK("lock.release", "['g1']", "nil");
	t = GOT_TOKEN(1);
	ck_assert_uint_gt(t, w);
	/* An rlock's token is its first level's. */
	AS(3);
	u = TOKEN("rlock.acquire", "['g3', nil, {'fence': true}]");
	ck_assert_uint_gt(u, t);
	ck_assert_uint_eq(TOKEN("rlock.acquire", "['g3', 0, {'fence': true}]"),
	    u);
	OK("rlock.acquire", "['g3']", "true");
	/* Every permit its own. */
	AS(4);
	OK("semaphore.create", "['g4', {'value': 2}]", "nil");
	t = TOKEN("semaphore.acquire", "['g4', nil, {'fence': true}]");
	ck_assert_uint_gt(t, u);
	u = TOKEN("semaphore.acquire", "['g4', nil, {'fence': true}]");
	ck_assert_uint_gt(u, t);
	PARK(5, "semaphore.acquire", "['g4', nil, {'fence': true}]");
	AS(4);
	OK("semaphore.release", "['g4']", "nil");
	t = GOT_TOKEN(5);
	ck_assert_uint_gt(t, u);
	ck_assert_uint_eq(fence_last(), t);
	AS(0);
	OK("obj.delete", "['g4']", "nil");
	fc_close_all();
	GONE("g1");
	GONE("g2");
	GONE("g3");
}
END_TEST

/*
 * The journal's counter: one record per block of tokens, before them, and
 * a replayed record is a floor.
 */
START_TEST(test_fence_reserve)
{
	struct buf recs = BUF_INIT;
	const uint8_t *body;
	struct mpv rec;
	uint64_t t, floor;
	char err[128];
	int i;

	journal_on = true;
	AS(0);
	/* The first token reserves a block past it (lock.acquire makes no
	 * other record). */
	journal_capture_begin(&recs, false);
	t = TOKEN("lock.acquire", "['r1', nil, {'fence': true}]");
	ck_assert_uint_eq(journal_capture_end(), 1);
	ck_assert_uint_ge(fence_ceiling(), t + FENCE_BLOCK);
	OK("lock.release", "['r1']", "nil");
	journal_capture_begin(&recs, false);
	for (i = 0; i < 100; i++)
		(void)fence_next();
	/* Up to the ceiling: no record. */
	while (fence_last() < fence_ceiling())
		(void)fence_next();
	ck_assert_uint_eq(journal_capture_end(), 0);
	/* Past it: a new ceiling first. */
	buf_reset(&recs);
	journal_capture_begin(&recs, false);
	t = fence_next();
	ck_assert_uint_eq(journal_capture_end(), 1);
	ck_assert_uint_eq(fence_ceiling(), t + FENCE_BLOCK);
	/* That record replayed (as after a restart): later tokens are past
	 * its ceiling, not just past the last one. */
	floor = fence_ceiling();
	body = buf_head(&recs);
	mpv_frame(body, &rec);
	ck_assert_ptr_null(replay_record(body, rec.rawlen, err, sizeof err));
	ck_assert_uint_eq(fence_last(), floor);
	journal_capture_begin(&recs, false);
	ck_assert_uint_gt(TOKEN("lock.acquire", "['r1', nil, {'fence': true}]"),
	    floor);
	OK("lock.release", "['r1']", "nil");
	journal_capture_end();
	journal_on = false;
	buf_free(&recs);
	fc_close_all();
}
END_TEST

/* --- leases ------------------------------------------------------------ */

/* The last obj.info reply lists one holder, which holds what (its
 * "holds" text). */
static bool
only_holder_holds(const char *what)
{
	struct mpv holders, h, k, v;
	struct mpv_iter it, in;

	if (!result_field("holders", &holders) || holders.type != MPV_ARRAY ||
	    holders.len != 1)
		return false;
	mpv_iter_init(&it, &holders);
	if (!mpv_iter_next(&it, &h) || h.type != MPV_MAP)
		return false;
	mpv_iter_init(&in, &h);
	while (mpv_iter_next(&in, &k) && mpv_iter_next(&in, &v)) {
		if (mpv_str_eq(&k, "holds"))
			return mpv_str_eq(&v, what);
	}
	return false;
}

START_TEST(test_lock_lease)
{
	AS(0);
	OK("lock.acquire", "['l1', nil, {'ttl': 10}]", "true");
	ck_assert_uint_eq(waiter_heap_size(), 1);
	PARK(1, "lock.acquire", "['l1']");
	PARK(2, "lock.acquire", "['l1', nil, {'ttl': 20}]");
	/* Only the holder releases a leased lock. */
	AS(3);
	ERR("lock.release", "['l1']", NOTOWNER);
	ERR("lock.extend", "['l1', 5]", NOTOWNER);
	/* Not yet: nothing moves. */
	waiter_expire(LATER(5));
	NOTHING(1);
	/* The end: the next waiter gets it. */
	waiter_expire(LATER(11));
	GOT(1, "true");
	NOTHING(2);
	ck_assert_uint_eq(waiter_heap_size(), 0);
	/* The old holder's release is refused, once, and frees nothing. */
	AS(0);
	ERRM("lock.release", "['l1']", NOTHELD, "lease on 'l1' ended");
	OK("lock.locked", "['l1']", "true");
	NOTHING(2);
	ERR("lock.extend", "['l1', 5]", NOTOWNER);
	/* 1 holds without a lease: Python's Lock, anyone releases. */
	OK("lock.release", "['l1']", "nil");
	GOT(2, "true");
	/* 2's lease starts at its grant. */
	ck_assert_uint_eq(waiter_heap_size(), 1);
	waiter_expire(LATER(21));
	ck_assert_uint_eq(waiter_heap_size(), 0);
	OK("lock.locked", "['l1']", "false");
	/* Its lost hold keeps the implicit lock until it closes, and shows
	 * as what it is. */
	OK("obj.info", "['l1']", NULL);
	ck_assert(only_holder_holds("lease ended"));
	fc_close(2);
	GONE("l1");
	fc_close_all();
}
END_TEST

START_TEST(test_lock_extend)
{
	AS(0);
	OK("lock.acquire", "['e1', nil, {'ttl': 1}]", "true");
	PARK(1, "lock.acquire", "['e1']");
	AS(0);
	OK("lock.extend", "['e1', 100]", "nil");
	ck_assert_uint_eq(waiter_heap_size(), 1);
	waiter_expire(LATER(50));
	NOTHING(1);
	OK("lock.locked", "['e1']", "true");
	/* extend makes a lease of a plain hold, and a release ends it. */
	OK("lock.release", "['e1']", "nil");
	GOT(1, "true");
	ck_assert_uint_eq(waiter_heap_size(), 0);
	AS(1);
	OK("lock.extend", "['e1', 100]", "nil");
	ck_assert_uint_eq(waiter_heap_size(), 1);
	OK("lock.release", "['e1']", "nil");
	ck_assert_uint_eq(waiter_heap_size(), 0);
	GONE("e1");
	/* After the end, extend says so and keeps saying it. */
	AS(2);
	OK("lock.acquire", "['e2', nil, {'ttl': 1}]", "true");
	waiter_expire(LATER(2));
	ERRM("lock.extend", "['e2', 10]", NOTHELD, "ended");
	ERRM("lock.release", "['e2']", NOTHELD, "ended");
	/* Consumed by that release: the lock is gone. */
	GONE("e2");
	/* A lost hold taken again is an ordinary hold. */
	OK("lock.acquire", "['e3', nil, {'ttl': 1}]", "true");
	waiter_expire(LATER(2));
	OK("lock.acquire", "['e3', 0]", "true");
	OK("lock.release", "['e3']", "nil");
	GONE("e3");
	fc_close_all();
}
END_TEST

START_TEST(test_rlock_lease)
{
	AS(0);
	OK("rlock.acquire", "['q1']", "true");
	OK("rlock.acquire", "['q1', nil, {'ttl': 5}]", "true");
	OK("rlock.acquire", "['q1']", "true");
	ck_assert_uint_eq(info_uint("q1", "size"), 3);
	PARK(1, "rlock.acquire", "['q1', nil, {'fence': true}]");
	waiter_expire(LATER(6));
	/* Every level goes. */
	(void)GOT_TOKEN(1);
	AS(1);
	ck_assert_uint_eq(info_uint("q1", "size"), 1);
	AS(0);
	ERR("rlock.release", "['q1']", NOTHELD);
	ERR("rlock.release", "['q1']", NOTOWNER);
	AS(1);
	OK("rlock.release", "['q1']", "nil");
	GONE("q1");
	fc_close_all();
}
END_TEST

START_TEST(test_semaphore_lease)
{
	AS(0);
	OK("semaphore.create", "['s1', {'value': 3, 'bounded': true}]",
	    "nil");
	OK("semaphore.acquire", "['s1', nil, {'ttl': 5}]", "true");
	OK("semaphore.acquire", "['s1']", "true");
	AS(1);
	OK("semaphore.acquire", "['s1']", "true");
	PARK(2, "semaphore.acquire", "['s1']");
	PARK(3, "semaphore.acquire", "['s1', nil, {'ttl': 30}]");
	AS(4);
	ERR("semaphore.extend", "['s1', 5]", NOTHELD);
	/* The lease covers both of 0's permits. */
	waiter_expire(LATER(6));
	GOT(2, "true");
	GOT(3, "true");
	AS(0);
	OK("semaphore.value", "['s1']", "0");
	ERRM("semaphore.extend", "['s1', 5]", NOTHELD, "ended");
	ERRM("semaphore.release", "['s1']", NOTHELD, "permits were given "
	    "back");
	OK("semaphore.value", "['s1']", "0");
	/* The lost hold is gone: now a release is a plain signal again. */
	AS(1);
	OK("semaphore.release", "['s1']", "nil");
	OK("semaphore.value", "['s1']", "1");
	AS(3);
	OK("semaphore.extend", "['s1', 100]", "nil");
	waiter_expire(LATER(50));
	OK("semaphore.value", "['s1']", "1");
	OK("semaphore.release", "['s1']", "nil");
	ck_assert_uint_eq(waiter_heap_size(), 0);
	OK("semaphore.value", "['s1']", "2");
	AS(0);
	OK("obj.delete", "['s1']", "nil");
	fc_close_all();

	/* An implicit one goes once the lease gave its permit back and the
	 * lost hold closed. */
	AS(4);
	OK("semaphore.acquire", "['s2', nil, {'ttl': 1}]", "true");
	waiter_expire(LATER(2));
	OK("semaphore.value", "['s2']", "1");
	fc_close(4);
	GONE("s2");
	fc_close_all();
}
END_TEST

START_TEST(test_lease_delete)
{
	/* obj.delete takes the leases with the object. */
	AS(0);
	OK("lock.acquire", "['x1', nil, {'ttl': 5}]", "true");
	OK("semaphore.acquire", "['x2', nil, {'ttl': 5}]", "true");
	ck_assert_uint_eq(waiter_heap_size(), 2);
	OK("obj.delete", "['x1']", "nil");
	OK("obj.delete", "['x2']", "nil");
	ck_assert_uint_eq(waiter_heap_size(), 0);
	ERR("lock.extend", "['x1', 5]", NOTHELD);
	waiter_expire(LATER(6));
	fc_close_all();
}
END_TEST

static Suite *
lease_suite(void)
{
	Suite *s = suite_create("lease");
	TCase *tc;

	tc = tcase_create("fence");
	tcase_add_unchecked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_options);
	tcase_add_test(tc, test_fence_grows);
	tcase_add_test(tc, test_fence_reserve);
	suite_add_tcase(s, tc);

	tc = tcase_create("lease");
	tcase_add_unchecked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_lock_lease);
	tcase_add_test(tc, test_lock_extend);
	tcase_add_test(tc, test_rlock_lease);
	tcase_add_test(tc, test_semaphore_lease);
	tcase_add_test(tc, test_lease_delete);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(lease_suite());
}
