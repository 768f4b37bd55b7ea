/*
 * unit_value.c: the value type through request handling, without sockets:
 * get, set, incr and cas, the implicit value that goes back to nil, and
 * create's {value: X} option, idempotent for an equal X.
 *
 * Object names differ between scenarios so that they also pass with
 * CK_FORK=no.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "../daemon/dispatch.h"
#include "../daemon/log.h"
#include "../daemon/mem.h"
#include "../daemon/mpmgrd.h"
#include "../daemon/registry.h"
#include "unit_util.h"

/* --- value --------------------------------------------------------------- */

static const struct row value_rows[] = {
	{ "value.get", "['v1']", PERR_NONE, "nil", NULL },
	{ "obj.info", "['v1']", PERR_NOOBJ, NULL, NULL },
	{ "value.incr", "['v1']", PERR_NONE, "1", NULL },
	{ "value.incr", "['v1', -3]", PERR_NONE, "-2", NULL },
	{ "value.incr", "['v1', 0.5]", PERR_NONE, "-1.5", NULL },
	{ "value.set", "['v1', 9223372036854775807]", PERR_NONE, "nil", NULL },
	{ "value.incr", "['v1']", PERR_NONE, "9223372036854775808", NULL },
	{ "value.set", "['v1', 18446744073709551615]", PERR_NONE, "nil", NULL },
	{ "value.incr", "['v1']", PERR_RANGE, NULL, NULL },
	{ "value.set", "['v1', 'str']", PERR_NONE, "nil", NULL },
	{ "value.incr", "['v1']", PERR_BADTYPE, NULL, NULL },
	{ "value.set", "['v1', [h'cd0005', f32:0.25]]", PERR_NONE, "nil", NULL },
	{ "value.get", "['v1']", PERR_NONE, "[5, 0.25]", NULL },
	{ "value.cas", "['v1', [5, 0.25], 7]", PERR_NONE, "[true, 7]", NULL },
	{ "value.cas", "['v1', 7.0, 8]", PERR_NONE, "[false, 7]", NULL },
	{ "value.cas", "['v1', 7, nil]", PERR_NONE, "[true, nil]", NULL },
	/* Back to nil: the implicit value is gone. */
	{ "obj.info", "['v1']", PERR_NOOBJ, NULL, NULL },
	{ "value.cas", "['v1', nil, 1]", PERR_NONE, "[true, 1]", NULL },
	{ "value.set", "['v1', nil]", PERR_NONE, "nil", NULL },
	{ "obj.info", "['v1']", PERR_NOOBJ, NULL, NULL },
	/* create: {value: X}; idempotent for an equal X */
	{ "value.create", "['v2', {'value': 5}]", PERR_NONE, "nil", NULL },
	{ "value.get", "['v2']", PERR_NONE, "5", NULL },
	{ "value.set", "['v2', 6]", PERR_NONE, "nil", NULL },
	{ "value.create", "['v2', {'value': h'd005'}]", PERR_NONE, "nil", NULL },
	{ "value.get", "['v2']", PERR_NONE, "6", NULL },
	{ "value.create", "['v2', {'value': 6}]", PERR_EXISTS, NULL,
	  "'v2' exists" },
	{ "value.create", "['v2']", PERR_EXISTS, NULL, NULL },
	{ "value.create", "['v2', {'bogus': 1}]", PERR_BADARG, NULL, NULL },
	{ "value.create", "['v2', {1: 1}]", PERR_BADARG, NULL, NULL },
	{ "dict.create", "['v2']", PERR_WRONGTYPE, NULL,
	  "'v2' is a value, not a dict" },
	/* Explicit: stays at nil. */
	{ "value.set", "['v2', nil]", PERR_NONE, "nil", NULL },
	{ "obj.info", "['v2']", PERR_NONE, NULL, NULL },
	{ "value.create", "['v3']", PERR_NONE, "nil", NULL },
	{ "value.create", "['v3', nil]", PERR_NONE, "nil", NULL },
	{ "value.create", "['v3', {'value': nil}]", PERR_NONE, "nil", NULL },
	{ "value.get", "['v3']", PERR_NONE, "nil", NULL },
	{ "obj.info", "['v3']", PERR_NONE, NULL, NULL },
};

START_TEST(test_value)
{
	RUN(value_rows);
}
END_TEST

static Suite *
value_suite(void)
{
	Suite *s = suite_create("value");
	TCase *tc;

	tc = tcase_create("value");
	tcase_add_unchecked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_value);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(value_suite());
}
