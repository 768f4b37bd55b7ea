/*
 * unit_pipe.c: the pipe type's state machine without sockets: messages
 * both ways in order, one-way pipes, ends opened, closed and let go of by
 * a closing connection, EOF at once for parked readers and for senders
 * into a closed end, hand-offs claimed or expiring (timer_expire, no
 * sleeping), maxsize with parked senders that nothing overtakes, readers
 * whose peer is gone, a recv that cannot deliver taking nothing, and the
 * lifetime of implicit and explicit pipes.
 *
 * Fake connection 0 sends the immediate requests; others hold ends and
 * park (PARK). A parked request's answer lands in its connection's
 * output, where it must be taken (GOT, GOT_ERR) before the next row.
 * Object names differ between tests so that they also pass with
 * CK_FORK=no.
 */
#include <stdio.h>
#include <string.h>

#include <check.h>

#include "../daemon/dispatch.h"
#include "../daemon/mpmgrd.h"
#include "../daemon/registry.h"
#include "../daemon/timer.h"
#include "../daemon/waiter.h"
#include "unit_util.h"

/* Run one row from fake connection i. */
#define AS(i, row) do { fc_use(i); row; fc_use(0); } while (0)

/* The token a pipe.handoff just answered. */
static uint64_t
token(void)
{
	ck_assert_int_eq(reply_err, PERR_NONE);
	ck_assert_int_eq(reply.result.type, MPV_UINT);
	return reply.result.v.u;
}

START_TEST(test_rows)
{
	static const struct row rows[] = {
		/* Reads of a missing pipe create nothing. */
		{ "pipe.poll", "['pr', 1, 0]", PERR_NONE, "false", NULL },
		{ "pipe.poll", "['pr', 0, 0.0]", PERR_NONE, "false", NULL },
		{ "pipe.recv", "['pr', 1, 0]", PERR_TIMEOUT, NULL,
		  "no message at end 1" },
		{ "obj.info", "['pr']", PERR_NOOBJ, NULL, NULL },
		/* Both ways, in order, canonical. A send before any end is
		 * opened waits at the other end. */
		{ "pipe.send", "['pr', 0, 'a']", PERR_NONE, "nil", NULL },
		{ "pipe.send", "['pr', 0, [h'd005', {'k': f32:1.5}]]", PERR_NONE,
		  "nil", NULL },
		{ "pipe.send", "['pr', 1, 'back']", PERR_NONE, "nil", NULL },
		{ "obj.info", "['pr']", PERR_NONE, NULL, NULL },
		{ "pipe.poll", "['pr', 1]", PERR_NONE, "true", NULL },
		{ "pipe.poll", "['pr', 0]", PERR_NONE, "true", NULL },
		{ "pipe.recv", "['pr', 1]", PERR_NONE, "'a'", NULL },
		{ "pipe.recv", "['pr', 1, 0]", PERR_NONE, "[5, {'k': 1.5}]",
		  NULL },
		{ "pipe.recv", "['pr', 1, 0]", PERR_TIMEOUT, NULL, NULL },
		{ "pipe.recv", "['pr', 0, 2.5]", PERR_NONE, "'back'", NULL },
		/* Back in its initial state: gone. */
		{ "obj.info", "['pr']", PERR_NOOBJ, NULL, NULL },
		/* Params. */
		{ "pipe.send", "['pr', 2, 'x']", PERR_BADARG, NULL,
		  "end must be an int from 0 to 1" },
		{ "pipe.send", "['pr', -1, 'x']", PERR_BADARG, NULL, NULL },
		{ "pipe.send", "['pr', '0', 'x']", PERR_BADARG, NULL, NULL },
		{ "pipe.send", "['pr', 0]", PERR_BADARG, NULL, "3 or 4 params" },
		{ "pipe.send", "['pr', 0, 1, -1]", PERR_BADARG, NULL,
		  "timeout" },
		{ "pipe.recv", "['pr', 0, 'x']", PERR_BADARG, NULL, "timeout" },
		{ "pipe.open", "['pr', 0, 'tok']", PERR_BADARG, NULL, "token" },
		{ "pipe.handoff", "['pr', 0, 0]", PERR_BADARG, NULL,
		  "more than 0" },
		{ "pipe.handoff", "['pr', 0, -2]", PERR_BADARG, NULL,
		  "timeout" },
		{ "pipe.close", "['pr']", PERR_BADARG, NULL, NULL },
		{ "obj.info", "['pr']", PERR_NOOBJ, NULL, NULL },
		/* Options. */
		{ "pipe.create", "['pc', {'duplex': 1}]", PERR_BADARG, NULL,
		  "duplex" },
		{ "pipe.create", "['pc', {'size': 1}]", PERR_BADARG, NULL, NULL },
		{ "pipe.create", "['pc', {'duplex': false}]", PERR_NONE, "nil",
		  NULL },
		{ "pipe.create", "['pc', {'duplex': false, 'maxsize': 0}]",
		  PERR_NONE, "nil", NULL },
		{ "pipe.create", "['pc']", PERR_EXISTS, NULL, NULL },
		/* One-way: end 0 sends, end 1 receives (Pipe(False)). */
		{ "pipe.send", "['pc', 1, 'x']", PERR_BADARG, NULL,
		  "one-way: end 1 only receives" },
		{ "pipe.recv", "['pc', 0, 0]", PERR_BADARG, NULL,
		  "one-way: end 0 only sends" },
		{ "pipe.poll", "['pc', 0, 0]", PERR_BADARG, NULL, NULL },
		{ "pipe.send", "['pc', 0, 'x']", PERR_NONE, "nil", NULL },
		{ "pipe.recv", "['pc', 1]", PERR_NONE, "'x'", NULL },
		/* Explicit: it stays. */
		{ "obj.info", "['pc']", PERR_NONE, NULL, NULL },
		{ "dict.set", "['pd', 1, 2]", PERR_NONE, "nil", NULL },
		{ "pipe.send", "['pd', 0, 1]", PERR_WRONGTYPE, NULL,
		  "is a dict, not a pipe" },
		{ "obj.delete", "['pd']", PERR_NONE, "nil", NULL },
	};

	RUN(rows);
}
END_TEST

/* Closing the last holder's end: the reader drains, then EOF. */
START_TEST(test_eof_after_drain)
{
	AS(1, OK("pipe.open", "['pe', 0]", "nil"));
	AS(2, OK("pipe.open", "['pe', 1]", "nil"));
	AS(1, OK("pipe.send", "['pe', 0, 1]", "nil"));
	AS(1, OK("pipe.send", "['pe', 0, 2]", "nil"));
	AS(1, OK("pipe.close", "['pe', 0]", "nil"));
	/* close is idempotent once closed, as Python's. */
	AS(1, OK("pipe.close", "['pe', 0]", "nil"));
	AS(2, OK("pipe.poll", "['pe', 1, 0]", "true"));
	AS(2, OK("pipe.recv", "['pe', 1]", "1"));
	AS(2, OK("pipe.recv", "['pe', 1]", "2"));
	AS(2, ERRM("pipe.recv", "['pe', 1]", EOF, "end 0 of pipe 'pe' is "
	    "closed"));
	/* EOF pending: a recv would not wait. */
	AS(2, OK("pipe.poll", "['pe', 1]", "true"));
	/* Sending into the closed end, or at it, is EOF too. */
	AS(2, ERR("pipe.send", "['pe', 1, 'x']", EOF));
	AS(1, ERR("pipe.send", "['pe', 0, 'x']", EOF));
	AS(1, ERR("pipe.open", "['pe', 0]", EOF));
	AS(1, ERR("pipe.handoff", "['pe', 0]", EOF));
	AS(1, ERR("pipe.recv", "['pe', 0, 0]", EOF));
	/* The last end closes: the pipe is finished, and gone. */
	AS(2, OK("pipe.close", "['pe', 1]", "nil"));
	ERR("obj.info", "['pe']", NOOBJ);
	fc_close(1);
	fc_close(2);
}
END_TEST

/* Readers and pollers already parked get EOF (true) at once. */
START_TEST(test_eof_parked)
{
	AS(1, OK("pipe.open", "['pp', 0]", "nil"));
	PARK(2, "pipe.recv", "['pp', 1]");
	PARK(3, "pipe.poll", "['pp', 1, 30]");
	PARK(4, "pipe.recv", "['pp', 1, 30]");
	ck_assert_uint_eq(info_uint("pp", "waiters"), 3);
	/* Its holder's connection closes: the end closes with it. */
	fc_close(1);
	GOT_ERR(2, EOF);
	GOT(3, "true");
	GOT_ERR(4, EOF);
	ck_assert_uint_eq(waiter_heap_size(), 0);
	/* Nobody holds end 1 nor waits: end 0 closed, end 1 never opened;
	 * the pipe stays for a reader to find EOF. */
	ERR("pipe.recv", "['pp', 1]", EOF);
	OK("pipe.close", "['pp', 1]", "nil");
	ERR("obj.info", "['pp']", NOOBJ);
}
END_TEST

/* A send into an end whose reader went: EOF, parked senders too. */
START_TEST(test_broken_pipe)
{
	OK("pipe.create", "['pb', {'maxsize': 1}]", "nil");
	AS(1, OK("pipe.open", "['pb', 0]", "nil"));
	AS(2, OK("pipe.open", "['pb', 1]", "nil"));
	AS(1, OK("pipe.send", "['pb', 0, 'a']", "nil"));
	AS(1, ERRM("pipe.send", "['pb', 0, 'b', 0]", FULL, "end 1 of pipe "
	    "'pb' is full"));
	PARK(1, "pipe.send", "['pb', 0, 'b']");
	PARK(3, "pipe.send", "['pb', 0, 'c', 60]");
	/* The reader dies with a message unread: it goes with the end. */
	fc_close(2);
	GOT_ERR(1, EOF);
	GOT_ERR(3, EOF);
	OK("obj.info", "['pb']", NULL);
	ck_assert_uint_eq(info_uint("pb", "size"), 0);
	AS(1, ERRM("pipe.send", "['pb', 0, 'd']", EOF, "end 1 of pipe 'pb' "
	    "is closed"));
	/* Explicit, but finished once both ends close: it goes. */
	AS(1, OK("pipe.close", "['pb', 0]", "nil"));
	ERR("obj.info", "['pb']", NOOBJ);
}
END_TEST

/* maxsize per direction: senders park in order; none overtakes. */
START_TEST(test_maxsize)
{
	OK("pipe.create", "['pm', {'maxsize': 2}]", "nil");
	OK("pipe.send", "['pm', 0, 1]", "nil");
	OK("pipe.send", "['pm', 0, 2]", "nil");
	/* The other direction has its own room. */
	OK("pipe.send", "['pm', 1, 'r']", "nil");
	PARK(1, "pipe.send", "['pm', 0, 3]");
	PARK(2, "pipe.send", "['pm', 0, 4, 5]");
	PARK(3, "pipe.send", "['pm', 0, 5]");
	ERR("pipe.send", "['pm', 0, 6, 0]", FULL);
	OK("pipe.recv", "['pm', 1]", "1");
	GOT(1, "nil");
	NOTHING(2);
	/* A sender that times out lets the one behind it in. */
	waiter_expire(now_usec() + LATER_USEC);
	GOT_ERR(2, FULL);
	NOTHING(3);
	OK("pipe.recv", "['pm', 1]", "2");
	GOT(3, "nil");
	OK("pipe.recv", "['pm', 1]", "3");
	OK("pipe.recv", "['pm', 1]", "5");
	OK("pipe.recv", "['pm', 0]", "'r'");
	ck_assert_uint_eq(info_uint("pm", "waiters"), 0);

	/* A parked sender that leaves (cancel) lets the next in. */
	OK("pipe.send", "['pm', 0, 1]", "nil");
	OK("pipe.send", "['pm', 0, 2]", "nil");
	PARK(1, "pipe.send", "['pm', 0, 3]");
	PARK(2, "pipe.send", "['pm', 0, 4]");
	fc_close(1);
	NOTHING(1);
	OK("pipe.recv", "['pm', 1]", "1");
	GOT(2, "nil");
	OK("pipe.recv", "['pm', 1]", "2");
	OK("pipe.recv", "['pm', 1]", "4");
}
END_TEST

/* Readers are served in order; one whose peer is gone is skipped. */
START_TEST(test_readers)
{
	/* A poll is answered true while a recv would not wait: before the
	 * readers behind it take the message. */
	PARK(3, "pipe.poll", "['pg', 1]");
	PARK(1, "pipe.recv", "['pg', 1]");
	PARK(2, "pipe.recv", "['pg', 1]");
	PARK(4, "pipe.recv", "['pg', 0, 10]");
	fc_hang_up(1);
	OK("pipe.send", "['pg', 0, 'x']", "nil");
	NOTHING(1);
	GOT(2, "'x'");
	GOT(3, "true");
	NOTHING(4);
	/* With only the gone reader left the message stays. */
	OK("pipe.send", "['pg', 0, 'y']", "nil");
	NOTHING(1);
	ck_assert_uint_eq(info_uint("pg", "size"), 1);
	fc_close(1);
	AS(5, OK("pipe.recv", "['pg', 1]", "'y'"));
	waiter_expire(now_usec() + LATER_USEC);
	GOT_ERR(4, TIMEOUT);
	/* Nothing held, nothing waits, nothing left: gone. */
	ERR("obj.info", "['pg']", NOOBJ);
}
END_TEST

/* A hand-off keeps the end open across the giver's close. */
START_TEST(test_handoff)
{
	uint64_t t1, t2;
	char params[64];

	AS(1, OK("pipe.open", "['ph', 0]", "nil"));
	AS(2, OK("pipe.open", "['ph', 1]", "nil"));
	AS(1, OK("pipe.handoff", "['ph', 0]", NULL));
	t1 = token();
	ck_assert_uint_eq(timer_count(), 1);
	/* The seed's son.close() right after p.start(). */
	AS(1, OK("pipe.close", "['ph', 0]", "nil"));
	PARK(2, "pipe.recv", "['ph', 1]");
	/* The child claims it, and sends. */
	snprintf(params, sizeof params, "['ph', 0, %llu]",
	    (unsigned long long)t1);
	AS(3, OK("pipe.open", params, "nil"));
	ck_assert_uint_eq(timer_count(), 0);
	AS(3, OK("pipe.send", "['ph', 0, 'hi']", "nil"));
	GOT(2, "'hi'");
	/* A stale token does not matter while the end is open. */
	AS(4, OK("pipe.open", params, "nil"));
	AS(4, OK("pipe.close", "['ph', 0]", "nil"));
	/* A token of the other end claims nothing. */
	AS(3, OK("pipe.handoff", "['ph', 0, 30]", NULL));
	t2 = token();
	ck_assert_uint_ne(t1, t2);
	snprintf(params, sizeof params, "['ph', 1, %llu]",
	    (unsigned long long)t2);
	AS(4, OK("pipe.open", params, "nil"));
	AS(4, OK("pipe.close", "['ph', 1]", "nil"));
	ck_assert_uint_eq(timer_count(), 1);
	/* Its holder gone, the hand-off still keeps end 0 open... */
	fc_close(3);
	PARK(2, "pipe.recv", "['ph', 1]");
	timer_expire(now_usec());
	NOTHING(2);
	/* ...until its deadline: then EOF, at once. */
	timer_expire(now_usec() + LATER_USEC);
	GOT_ERR(2, EOF);
	ck_assert_uint_eq(timer_count(), 0);
	fc_close(2);
	ERR("obj.info", "['ph']", NOOBJ);
}
END_TEST

/* A hand-off nobody claims: the reader gets EOF at its deadline. */
START_TEST(test_handoff_unclaimed)
{
	uint64_t now = now_usec();

	AS(2, OK("pipe.open", "['pu', 1]", "nil"));
	OK("pipe.handoff", "['pu', 0, 5]", NULL);
	OK("pipe.handoff", "['pu', 0, 1]", NULL);
	OK("pipe.handoff", "['pu', 0]", NULL);
	PARK(2, "pipe.recv", "['pu', 1]");
	timer_expire(now + 2 * 1000000);
	NOTHING(2);
	timer_expire(now + 10 * 1000000);
	NOTHING(2);
	/* The default: 60 s. */
	timer_expire(now + 61 * 1000000);
	GOT_ERR(2, EOF);
	ck_assert_uint_eq(timer_count(), 0);
	/* A pipe deleted with hand-offs pending takes its timer along. */
	OK("pipe.handoff", "['pu2', 1]", NULL);
	ck_assert_uint_eq(timer_count(), 1);
	OK("obj.delete", "['pu2']", "nil");
	ck_assert(registry_free_step(REGISTRY_FREE_SLICE));
	ck_assert_uint_eq(timer_count(), 0);
	fc_close(2);
	ERR("obj.info", "['pu']", NOOBJ);
}
END_TEST

/* Shells send and receive without holding an end, and close one nobody
 * holds; a non-holder cannot close an end others hold. */
START_TEST(test_unheld)
{
	OK("pipe.send", "['ps', 0, 'one']", "nil");
	OK("pipe.send", "['ps', 0, 'two']", "nil");
	AS(2, OK("pipe.open", "['ps', 1]", "nil"));
	AS(3, ERRM("pipe.close", "['ps', 1]", NOTHELD, "held by 1 other "
	    "connection"));
	OK("pipe.close", "['ps', 0]", "nil");
	AS(2, OK("pipe.recv", "['ps', 1]", "'one'"));
	AS(3, OK("pipe.recv", "['ps', 1]", "'two'"));
	AS(2, ERR("pipe.recv", "['ps', 1]", EOF));
	/* Two opens on one connection take two closes. */
	AS(2, OK("pipe.open", "['ps', 1]", "nil"));
	AS(2, OK("pipe.close", "['ps', 1]", "nil"));
	OK("obj.info", "['ps']", NULL);
	AS(2, OK("pipe.close", "['ps', 1]", "nil"));
	ERR("obj.info", "['ps']", NOOBJ);

	/* Closing an end of a missing pipe makes it, that end closed: a
	 * reader that comes later finds EOF. */
	OK("pipe.close", "['ps2', 0]", "nil");
	AS(2, ERR("pipe.recv", "['ps2', 1]", EOF));
	OK("pipe.close", "['ps2', 1]", "nil");
	ERR("obj.info", "['ps2']", NOOBJ);

	/* One connection holding both ends (a parent before it hands one
	 * on) lets go of both when it closes. */
	AS(1, OK("pipe.open", "['ps3', 0]", "nil"));
	AS(1, OK("pipe.open", "['ps3', 1]", "nil"));
	AS(1, OK("pipe.send", "['ps3', 0, 'self']", "nil"));
	AS(1, OK("pipe.recv", "['ps3', 1]", "'self'"));
	OK("obj.info", "['ps3']", NULL);
	fc_close(1);
	ERR("obj.info", "['ps3']", NOOBJ);
}
END_TEST

/* recv never takes what its reply cannot carry. */
START_TEST(test_limit)
{
	size_t saved = server.output_limit;

	OK("pipe.send", "['pl', 0, 'x'*200]", "nil");
	OK("pipe.send", "['pl', 0, 'small']", "nil");
	server.output_limit = 100;
	ERRM("pipe.recv", "['pl', 1]", LIMIT, "nothing was taken");
	ck_assert_uint_eq(info_uint("pl", "size"), 2);
	server.output_limit = saved;
	OK("pipe.recv", "['pl', 1]", "'x'*200");
	/* A parked reader too: LIMIT, and the message stays. */
	OK("pipe.recv", "['pl', 1]", "'small'");
	PARK(1, "pipe.recv", "['pl', 1]");
	server.output_limit = 100;
	OK("pipe.send", "['pl', 0, 'y'*200]", "nil");
	GOT_ERR(1, LIMIT);
	server.output_limit = saved;
	OK("pipe.recv", "['pl', 1]", "'y'*200");
}
END_TEST

START_TEST(test_delete)
{
	AS(1, OK("pipe.open", "['pz', 0]", "nil"));
	PARK(2, "pipe.recv", "['pz', 1]");
	OK("pipe.send", "['pz', 1, 'unread']", "nil");
	OK("obj.delete", "['pz']", "nil");
	GOT_ERR(2, DELETED);
	/* Its holds went with it (a hold left behind would point at the
	 * freed pipe when the connection closes). */
	fc_close(1);
	/* The name is free: a new pipe, open again. */
	AS(1, OK("pipe.open", "['pz', 0]", "nil"));
	fc_close(1);
	/* End 0 closed, end 1 never opened: it stays, for a reader to find
	 * EOF, until that end closes too. */
	ERR("pipe.recv", "['pz', 1]", EOF);
	OK("pipe.close", "['pz', 1]", "nil");
	ERR("obj.info", "['pz']", NOOBJ);
	ck_assert_uint_eq(waiter_count(), 0);
}
END_TEST

static Suite *
pipe_suite(void)
{
	Suite *s = suite_create("pipe");
	TCase *tc;

	tc = tcase_create("pipe");
	tcase_add_unchecked_fixture(tc, setup_conn0, NULL);
	tcase_add_test(tc, test_rows);
	tcase_add_test(tc, test_eof_after_drain);
	tcase_add_test(tc, test_eof_parked);
	tcase_add_test(tc, test_broken_pipe);
	tcase_add_test(tc, test_maxsize);
	tcase_add_test(tc, test_readers);
	tcase_add_test(tc, test_handoff);
	tcase_add_test(tc, test_handoff_unclaimed);
	tcase_add_test(tc, test_unheld);
	tcase_add_test(tc, test_limit);
	tcase_add_test(tc, test_delete);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(pipe_suite());
}
