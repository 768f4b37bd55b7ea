/*
 * unit_semaphore.c: the semaphore type without sockets: immediate answers
 * as rows (bounded and unbounded, the default of one permit), then parked
 * acquirers: the peak of permits handed out, and permits given back by a
 * closing connection.
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

START_TEST(test_rows)
{
	struct mpv v;

	AS(0);
	RUN(semaphore_rows);
	OK("semaphore.create", "['i1', {'value': 3}]", "nil");
	OK("semaphore.acquire", "['i1']", "true");
	ck_assert_uint_eq(info_uint("i1", "size"), 2);
	OK("obj.info", "['i1']", NULL);
	ck_assert(result_field("type", &v) && mpv_str_eq(&v, "semaphore"));
	ck_assert(result_field("options", &v) && v.type == MPV_MAP &&
	    v.len == 3);
	OK("obj.delete", "['i1']", "nil");
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

static Suite *
semaphore_suite(void)
{
	Suite *s = suite_create("semaphore");
	TCase *tc;

	tc = tcase_create("immediate");
	tcase_add_unchecked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_rows);
	suite_add_tcase(s, tc);

	tc = tcase_create("semaphore");
	tcase_add_unchecked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_semaphore_peak);
	tcase_add_test(tc, test_semaphore_disconnect);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(semaphore_suite());
}
