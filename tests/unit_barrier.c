/*
 * unit_barrier.c: the barrier type without sockets: immediate answers as
 * rows, cycles of parties passing in arrival order, and every way a
 * barrier breaks: a timeout, abort, reset, a party's close or hang-up,
 * sys.cancel and deletion (deadlines fired with waiter_expire).
 *
 * Object names differ between scenarios so that they also pass with
 * CK_FORK=no.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "../daemon/dispatch.h"
#include "../daemon/log.h"
#include "../daemon/mem.h"
#include "../daemon/mpmgrd.h"
#include "../daemon/registry.h"
#include "../daemon/reply.h"
#include "../daemon/waiter.h"
#include "unit_util.h"

/* --- barrier ------------------------------------------------------------- */

static const struct row barrier_rows[] = {
	/* No defaults: NOOBJ until created. */
	{ "barrier.wait", "['b1']", PERR_NOOBJ, NULL, "barrier.create" },
	{ "barrier.wait", "['b1', 0]", PERR_NOOBJ, NULL, NULL },
	{ "barrier.abort", "['b1']", PERR_NOOBJ, NULL, NULL },
	{ "barrier.reset", "['b1']", PERR_NOOBJ, NULL, NULL },
	{ "barrier.parties", "['b1']", PERR_NOOBJ, NULL, NULL },
	{ "barrier.n_waiting", "['b1']", PERR_NOOBJ, NULL, NULL },
	{ "barrier.broken", "['b1']", PERR_NOOBJ, NULL, NULL },
	{ "obj.info", "['b1']", PERR_NOOBJ, NULL, NULL },
	/* create needs {parties: N >= 1}. */
	{ "barrier.create", "['b1']", PERR_BADARG, NULL, "takes 2 params" },
	{ "barrier.create", "['b1', nil]", PERR_BADARG, NULL, "required" },
	{ "barrier.create", "['b1', {}]", PERR_BADARG, NULL, "required" },
	{ "barrier.create", "['b1', {'parties': 0}]", PERR_BADARG, NULL,
	  "from 1" },
	{ "barrier.create", "['b1', {'parties': -2}]", PERR_BADARG, NULL, NULL },
	{ "barrier.create", "['b1', {'parties': 2.0}]", PERR_BADARG, NULL, NULL },
	{ "barrier.create", "['b1', {'parties': 4294967296}]", PERR_BADARG,
	  NULL, NULL },
	{ "barrier.create", "['b1', {'parties': 2, 'x': 1}]", PERR_BADARG,
	  NULL, "only option" },
	{ "barrier.create", "['b1', 3]", PERR_BADARG, NULL, "map" },
	{ "obj.info", "['b1']", PERR_NOOBJ, NULL, NULL },
	{ "barrier.create", "['b1', {'parties': 3}]", PERR_NONE, "nil", NULL },
	{ "barrier.create", "['b1', {'parties': 3}]", PERR_NONE, "nil", NULL },
	{ "barrier.create", "['b1', {'parties': 4}]", PERR_EXISTS, NULL, NULL },
	{ "barrier.parties", "['b1']", PERR_NONE, "3", NULL },
	{ "barrier.n_waiting", "['b1']", PERR_NONE, "0", NULL },
	{ "barrier.broken", "['b1']", PERR_NONE, "false", NULL },
	{ "barrier.wait", "['b1', -1]", PERR_BADARG, NULL, NULL },
	{ "barrier.parties", "['b1', 1]", PERR_BADARG, NULL, NULL },
	{ "event.set", "['b1']", PERR_WRONGTYPE, NULL, NULL },
	/* A lone party passes at once, every time. */
	{ "barrier.create", "['b.solo', {'parties': 1}]", PERR_NONE, "nil",
	  NULL },
	{ "barrier.wait", "['b.solo']", PERR_NONE, "0", NULL },
	{ "barrier.wait", "['b.solo', 0]", PERR_NONE, "0", NULL },
	/* A wait that cannot pass with timeout 0 times out and breaks it. */
	{ "barrier.wait", "['b1', 0]", PERR_TIMEOUT, NULL, NULL },
	{ "barrier.broken", "['b1']", PERR_NONE, "true", NULL },
	{ "barrier.wait", "['b1']", PERR_BROKEN, NULL, "broken" },
	{ "barrier.n_waiting", "['b1']", PERR_NONE, "0", NULL },
	{ "barrier.reset", "['b1']", PERR_NONE, "nil", NULL },
	{ "barrier.broken", "['b1']", PERR_NONE, "false", NULL },
	{ "barrier.abort", "['b1']", PERR_NONE, "nil", NULL },
	{ "barrier.broken", "['b1']", PERR_NONE, "true", NULL },
	{ "barrier.reset", "['b1']", PERR_NONE, "nil", NULL },
	{ "obj.info", "['b1']", PERR_NONE, NULL, NULL },
	{ "obj.list", "['barrier']", PERR_NONE,
	  "[['b1', 'barrier', 0], ['b.solo', 'barrier', 0]]", NULL },
	{ "obj.delete", "['b1']", PERR_NONE, "nil", NULL },
	{ "barrier.wait", "['b1']", PERR_NOOBJ, NULL, NULL },
	{ "obj.delete", "['b.solo']", PERR_NONE, "nil", NULL },
};

START_TEST(test_barrier_rows)
{
	RUN(barrier_rows);
}
END_TEST

START_TEST(test_barrier_cycles)
{
	uint32_t a, b;
	int cycle;

	OK("barrier.create", "['bc', {'parties': 3}]", "nil");
	OK("obj.info", "['bc']", NULL);
	{
		struct mpv opts, n;
		struct mpv_iter it;

		ck_assert(result_field("options", &opts));
		mpv_iter_init(&it, &opts);
		ck_assert(mpv_iter_next(&it, &n) && mpv_str_eq(&n, "parties"));
		ck_assert(mpv_iter_next(&it, &n) && n.v.u == 3);
	}
	for (cycle = 0; cycle < 3; cycle++) {
		a = PARK(1, "barrier.wait", "['bc']");
		OK("barrier.n_waiting", "['bc']", "1");
		b = PARK(2, "barrier.wait", "['bc', 60]");
		OK("barrier.n_waiting", "['bc']", "2");
		/* The last party passes at once; all get arrival order. */
		OK("barrier.wait", "['bc', 0]", "2");
		reply_on(fc_conn(1), a, "0");
		reply_on(fc_conn(2), b, "1");
		ck_assert_uint_eq(waiter_count(), 0);
		ck_assert_uint_eq(waiter_heap_size(), 0);
		OK("barrier.n_waiting", "['bc']", "0");
		OK("barrier.broken", "['bc']", "false");
	}
	/* Arrival order is the FIFO order, whoever arrives last. */
	a = PARK(3, "barrier.wait", "['bc']");
	b = PARK(1, "barrier.wait", "['bc']");
	fc_use(2);
	ck_assert_int_eq(send_req_any("barrier.wait", "['bc']"),
	    DISPATCH_DONE);
	reply_on(fc_conn(2), msgid, "2");
	fc_use(0);
	reply_on(fc_conn(3), a, "0");
	reply_on(fc_conn(1), b, "1");
	OK("obj.delete", "['bc']", "nil");
}
END_TEST

START_TEST(test_barrier_breaking)
{
	uint32_t a, b, cancel;
	char params[32];

	OK("barrier.create", "['bb', {'parties': 3}]", "nil");

	/* A timeout: that waiter TIMEOUT, the others BROKEN. */
	a = PARK(1, "barrier.wait", "['bb', 5]");
	b = PARK(2, "barrier.wait", "['bb']");
	waiter_expire(FOREVER);
	error_on(fc_conn(1), a, PERR_TIMEOUT);
	error_on(fc_conn(2), b, PERR_BROKEN);
	OK("barrier.broken", "['bb']", "true");
	OK("barrier.n_waiting", "['bb']", "0");
	ERR("barrier.wait", "['bb']", BROKEN);
	OK("barrier.reset", "['bb']", "nil");

	/* abort: every waiter BROKEN, and it stays broken. */
	a = PARK(1, "barrier.wait", "['bb']");
	b = PARK(2, "barrier.wait", "['bb', 10]");
	OK("barrier.abort", "['bb']", "nil");
	error_on(fc_conn(1), a, PERR_BROKEN);
	error_on(fc_conn(2), b, PERR_BROKEN);
	ck_assert_uint_eq(waiter_heap_size(), 0);
	OK("barrier.broken", "['bb']", "true");

	/* reset: the waiters BROKEN, the barrier fresh. */
	OK("barrier.reset", "['bb']", "nil");
	a = PARK(1, "barrier.wait", "['bb']");
	OK("barrier.reset", "['bb']", "nil");
	error_on(fc_conn(1), a, PERR_BROKEN);
	OK("barrier.broken", "['bb']", "false");
	OK("barrier.n_waiting", "['bb']", "0");

	/* timeout 0 by a non-last party: TIMEOUT for it, BROKEN for others. */
	a = PARK(1, "barrier.wait", "['bb']");
	ERR("barrier.wait", "['bb', 0]", TIMEOUT);
	error_on(fc_conn(1), a, PERR_BROKEN);
	OK("barrier.reset", "['bb']", "nil");

	/* A waiter's connection closes: the others BROKEN, no answer to it. */
	a = PARK(1, "barrier.wait", "['bb']");
	b = PARK(2, "barrier.wait", "['bb']");
	fc_close(1);
	nothing_on(fc_conn(1));
	error_on(fc_conn(2), b, PERR_BROKEN);
	OK("barrier.broken", "['bb']", "true");
	OK("barrier.reset", "['bb']", "nil");

	/* A hung-up party found when the last arrives: broken, not passed. */
	a = PARK(1, "barrier.wait", "['bb']");
	b = PARK(2, "barrier.wait", "['bb']");
	fc_hang_up(1);
	ERRM("barrier.wait", "['bb']", BROKEN, "hung up");
	fc_conn(1)->flags &= ~CONN_EOF;
	error_on(fc_conn(2), b, PERR_BROKEN);
	ck_assert_uint_eq(waiter_count(), 0);
	OK("barrier.broken", "['bb']", "true");
	OK("barrier.reset", "['bb']", "nil");

	/* sys.cancel: TIMEOUT then true to the canceller, the others BROKEN. */
	a = PARK(1, "barrier.wait", "['bb']");
	b = PARK(2, "barrier.wait", "['bb']");
	fc_use(2);
	snprintf(params, sizeof params, "[%u]", b);
	ck_assert_int_eq(send_req_any("sys.cancel", params), DISPATCH_DONE);
	cancel = msgid;
	fc_use(0);
	error_on(fc_conn(2), b, PERR_TIMEOUT);
	reply_on(fc_conn(2), cancel, "true");
	error_on(fc_conn(1), a, PERR_BROKEN);
	OK("barrier.broken", "['bb']", "true");
	OK("barrier.reset", "['bb']", "nil");

	/* Deleted under its waiters: DELETED. */
	a = PARK(1, "barrier.wait", "['bb', 3]");
	OK("obj.delete", "['bb']", "nil");
	error_on(fc_conn(1), a, PERR_DELETED);
	ck_assert_uint_eq(waiter_count(), 0);
	ck_assert_uint_eq(waiter_heap_size(), 0);
}
END_TEST


static Suite *
barrier_suite(void)
{
	Suite *s = suite_create("barrier");
	TCase *tc;

	tc = tcase_create("barrier");
	tcase_add_unchecked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_barrier_rows);
	tcase_add_test(tc, test_barrier_cycles);
	tcase_add_test(tc, test_barrier_breaking);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(barrier_suite());
}
