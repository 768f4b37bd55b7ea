/*
 * unit_event.c: the event type without sockets: immediate answers as rows,
 * then waiters parked on it, answered true by set, false at their
 * deadline (fired with waiter_expire, never waited for), forever for a
 * huge timeout, and the implicit event that goes once clear.
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

/* --- event ------------------------------------------------------------- */

static const struct row event_rows[] = {
	/* A missing event reads as unset and is not created by reading. */
	{ "event.is_set", "['ev1']", PERR_NONE, "false", NULL },
	{ "event.wait", "['ev1', 0]", PERR_NONE, "false", NULL },
	{ "event.wait", "['ev1', 0.0]", PERR_NONE, "false", NULL },
	{ "event.clear", "['ev1']", PERR_NONE, "nil", NULL },
	{ "obj.info", "['ev1']", PERR_NOOBJ, NULL, NULL },
	/* Timeouts: nil forever, numbers >= 0; anything else BADARG. */
	{ "event.wait", "['ev1', -1]", PERR_BADARG, NULL, "timeout" },
	{ "event.wait", "['ev1', -0.5]", PERR_BADARG, NULL, NULL },
	{ "event.wait", "['ev1', h'cb7ff8000000000000']", PERR_BADARG, NULL,
	  NULL },
	{ "event.wait", "['ev1', 'soon']", PERR_BADARG, NULL, NULL },
	{ "event.wait", "['ev1', true]", PERR_BADARG, NULL, NULL },
	{ "event.wait", "['ev1', 1, 2]", PERR_BADARG, NULL, NULL },
	{ "event.set", "['ev1', 1]", PERR_BADARG, NULL, NULL },
	/* set, then wait answers at once. */
	{ "event.set", "['ev1']", PERR_NONE, "nil", NULL },
	{ "event.set", "['ev1']", PERR_NONE, "nil", NULL },
	{ "event.is_set", "['ev1']", PERR_NONE, "true", NULL },
	{ "event.wait", "['ev1']", PERR_NONE, "true", NULL },
	{ "event.wait", "['ev1', 0]", PERR_NONE, "true", NULL },
	{ "event.wait", "['ev1', 5]", PERR_NONE, "true", NULL },
	{ "obj.list", "['event']", PERR_NONE, "[['ev1', 'event', 1]]", NULL },
	/* Unset again, the implicit event is gone. */
	{ "event.clear", "['ev1']", PERR_NONE, "nil", NULL },
	{ "event.is_set", "['ev1']", PERR_NONE, "false", NULL },
	{ "obj.info", "['ev1']", PERR_NOOBJ, NULL, NULL },
	/* An explicit one stays; create is idempotent, has no options. */
	{ "event.create", "['ev2']", PERR_NONE, "nil", NULL },
	{ "event.create", "['ev2', {}]", PERR_NONE, "nil", NULL },
	{ "event.create", "['ev2', nil]", PERR_NONE, "nil", NULL },
	{ "event.create", "['ev3', {'flag': true}]", PERR_BADARG, NULL,
	  "no options" },
	{ "event.create", "['ev3', 1]", PERR_BADARG, NULL, NULL },
	{ "obj.info", "['ev3']", PERR_NOOBJ, NULL, NULL },
	{ "event.set", "['ev2']", PERR_NONE, "nil", NULL },
	{ "event.clear", "['ev2']", PERR_NONE, "nil", NULL },
	{ "event.is_set", "['ev2']", PERR_NONE, "false", NULL },
	{ "obj.info", "['ev2']", PERR_NONE, NULL, NULL },
	/* create makes an implicit one explicit. */
	{ "event.set", "['ev4']", PERR_NONE, "nil", NULL },
	{ "event.create", "['ev4']", PERR_NONE, "nil", NULL },
	{ "event.clear", "['ev4']", PERR_NONE, "nil", NULL },
	{ "obj.info", "['ev4']", PERR_NONE, NULL, NULL },
	{ "dict.set", "['ev4', 1, 1]", PERR_WRONGTYPE, NULL,
	  "'ev4' is a event, not a dict" },
	{ "obj.delete", "['ev4']", PERR_NONE, "nil", NULL },
	{ "obj.delete", "['ev2']", PERR_NONE, "nil", NULL },
};

START_TEST(test_event_rows)
{
	RUN(event_rows);
}
END_TEST

START_TEST(test_event_wait)
{
	struct mpv v;
	uint32_t a, b, c;

	/* Parking creates it; waiters count in obj.info. */
	a = PARK(1, "event.wait", "['evw']");
	b = PARK(2, "event.wait", "['evw', 30]");
	c = PARK(3, "event.wait", "['evw', nil]");
	OK("obj.info", "['evw']", NULL);
	ck_assert(result_field("waiters", &v) && v.v.u == 3);
	ck_assert(result_field("explicit", &v) && !v.v.b);
	OK("event.is_set", "['evw']", "false");
	/* set answers every waiter true, and stays set. */
	OK("event.set", "['evw']", "nil");
	reply_on(fc_conn(1), a, "true");
	reply_on(fc_conn(2), b, "true");
	reply_on(fc_conn(3), c, "true");
	ck_assert_uint_eq(waiter_count(), 0);
	ck_assert_uint_eq(waiter_heap_size(), 0);
	ck_assert(fc_conn(1)->flags & CONN_QUEUED);
	OK("event.is_set", "['evw']", "true");
	OK("event.clear", "['evw']", "nil");
	ERR("obj.info", "['evw']", NOOBJ);

	/* A timeout answers false; the implicit event goes with it. */
	a = PARK(1, "event.wait", "['evt', 0.000001]");
	b = PARK(2, "event.wait", "['evt']");
	waiter_expire(now_usec() + 10);
	reply_on(fc_conn(1), a, "false");
	nothing_on(fc_conn(2));
	OK("obj.info", "['evt']", NULL);
	waiter_expire(FOREVER);
	nothing_on(fc_conn(2));
	OK("event.set", "['evt']", "nil");
	reply_on(fc_conn(2), b, "true");
	OK("event.clear", "['evt']", "nil");
	a = PARK(1, "event.wait", "['evt', 2.5]");
	ck_assert_uint_ge(fc_conn(1)->parked->dl.at, now_usec() + 2400000);
	ck_assert_uint_le(fc_conn(1)->parked->dl.at, now_usec() + 2500000);
	waiter_expire(FOREVER);
	reply_on(fc_conn(1), a, "false");
	ERR("obj.info", "['evt']", NOOBJ);
	/* A huge timeout is forever. */
	a = PARK(1, "event.wait", "['evt', 1e300]");
	ck_assert_uint_eq(fc_conn(1)->parked->dl.at, 0);
	b = PARK(2, "event.wait", "['evt', 18446744073709551615]");
	ck_assert_uint_eq(fc_conn(2)->parked->dl.at, 0);
	waiter_expire(FOREVER);
	nothing_on(fc_conn(1));
	OK("event.set", "['evt']", "nil");
	reply_on(fc_conn(1), a, "true");
	reply_on(fc_conn(2), b, "true");
	OK("obj.delete", "['evt']", "nil");
}
END_TEST

static Suite *
event_suite(void)
{
	Suite *s = suite_create("event");
	TCase *tc;

	tc = tcase_create("event");
	tcase_add_unchecked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_event_rows);
	tcase_add_test(tc, test_event_wait);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(event_suite());
}
