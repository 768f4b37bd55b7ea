/*
 * unit_array.c: the array type through request handling, against what
 * Python's array does: typecodes and their ranges, floats, create's
 * options (length or items, exactly one), no implicit arrays, and the
 * memory ceiling.
 *
 * Object names differ between scenarios so that they also pass with
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
#include "unit_util.h"

/* --- array --------------------------------------------------------------- */

static const char *const array_methods[] = {
	"array.create", "array.get", "array.set", "array.len",
};

static const struct row array_missing[] = {
	/* No defaults: nothing works, and nothing is created, before
	 * array.create. */
	{ "array.get", "['a1']", PERR_NOOBJ, NULL, "no array 'a1'" },
	{ "array.get", "['a1', 0]", PERR_NOOBJ, NULL, NULL },
	{ "array.set", "['a1', 0, 1]", PERR_NOOBJ, NULL, NULL },
	{ "array.len", "['a1']", PERR_NOOBJ, NULL, NULL },
	{ "obj.info", "['a1']", PERR_NOOBJ, NULL, NULL },
	/* Bad options. */
	{ "array.create", "['a1']", PERR_BADARG, NULL, NULL },
	{ "array.create", "['a1', nil]", PERR_BADARG, NULL, "are required" },
	{ "array.create", "['a1', {}]", PERR_BADARG, NULL, "typecode must be" },
	{ "array.create", "['a1', 5]", PERR_BADARG, NULL, NULL },
	{ "array.create", "['a1', {'length': 3}]", PERR_BADARG, NULL,
	  "typecode" },
	{ "array.create", "['a1', {'typecode': 'c', 'length': 3}]", PERR_BADARG,
	  NULL, "typecode must be" },
	{ "array.create", "['a1', {'typecode': 'ii', 'length': 3}]",
	  PERR_BADARG, NULL, NULL },
	{ "array.create", "['a1', {'typecode': 105, 'length': 3}]", PERR_BADARG,
	  NULL, NULL },
	{ "array.create", "['a1', {'typecode': 'i'}]", PERR_BADARG, NULL,
	  "exactly one of length or items" },
	{ "array.create", "['a1', {'typecode': 'i', 'length': 1, "
	  "'items': [1]}]", PERR_BADARG, NULL, "exactly one" },
	{ "array.create", "['a1', {'typecode': 'i', 'length': -1}]",
	  PERR_BADARG, NULL, "length must be an int from 0" },
	{ "array.create", "['a1', {'typecode': 'i', 'length': 1.0}]",
	  PERR_BADARG, NULL, NULL },
	{ "array.create", "['a1', {'typecode': 'd', 'length': 67108865}]",
	  PERR_BADARG, NULL, NULL },
	{ "array.create", "['a1', {'typecode': 'i', 'items': 3}]", PERR_BADARG,
	  NULL, "items must be an array" },
	{ "array.create", "['a1', {'typecode': 'i', 'length': 1, 'x': 1}]",
	  PERR_BADARG, NULL, "the options are" },
	{ "array.create", "['a1', {'typecode': 'i', 'typecode': 'i', "
	  "'length': 1}]", PERR_BADARG, NULL, "each once" },
	{ "array.create", "['a1', {'typecode': 'b', 'items': [1, 128]}]",
	  PERR_RANGE, NULL, "item 1 is out of range for 'b' (int8)" },
	{ "array.create", "['a1', {'typecode': 'i', 'items': [1, 'x']}]",
	  PERR_BADTYPE, NULL, "takes ints, not str" },
	{ "obj.info", "['a1']", PERR_NOOBJ, NULL, NULL },
	{ "array.len", "['a1']", PERR_NOOBJ, NULL, NULL },
};

START_TEST(test_array_missing)
{
	const struct method *m;
	size_t i;

	for (i = 0; i < sizeof array_methods / sizeof array_methods[0]; i++) {
		m = dispatch_lookup(array_methods[i], strlen(array_methods[i]));
		ck_assert_msg(m != NULL, "%s missing", array_methods[i]);
		ck_assert_ptr_eq(m->type, &array_type);
		/* An array has no defaults: nothing may create it implicitly. */
		ck_assert_msg(!(m->flags & MF_CREATES), "%s creates", m->name);
	}
	ck_assert_ptr_eq(registry_type("array", 5), &array_type);
	RUN(array_missing);
}
END_TEST

static const struct row array_basic[] = {
	{ "array.create", "['a2', {'typecode': 'i', 'length': 4}]", PERR_NONE,
	  "nil", NULL },
	{ "array.len", "['a2']", PERR_NONE, "4", NULL },
	{ "array.get", "['a2']", PERR_NONE, "[0, 0, 0, 0]", NULL },
	{ "array.set", "['a2', 0, 7]", PERR_NONE, "nil", NULL },
	{ "array.set", "['a2', -1, -7]", PERR_NONE, "nil", NULL },
	{ "array.set", "['a2', h'd002', h'cd0100']", PERR_NONE, "nil", NULL },
	{ "array.get", "['a2']", PERR_NONE, "[7, 0, 256, -7]", NULL },
	{ "array.get", "['a2', 0]", PERR_NONE, "7", NULL },
	{ "array.get", "['a2', 3]", PERR_NONE, "-7", NULL },
	{ "array.get", "['a2', -4]", PERR_NONE, "7", NULL },
	{ "array.get", "['a2', 4]", PERR_NOINDEX, NULL,
	  "array index out of range" },
	{ "array.get", "['a2', -5]", PERR_NOINDEX, NULL, NULL },
	{ "array.get", "['a2', 18446744073709551615]", PERR_NOINDEX, NULL, NULL },
	{ "array.get", "['a2', -9223372036854775808]", PERR_NOINDEX, NULL,
	  NULL },
	{ "array.set", "['a2', 4, 1]", PERR_NOINDEX, NULL, NULL },
	{ "array.get", "['a2', 'a']", PERR_BADARG, NULL,
	  "the index must be an int" },
	{ "array.get", "['a2', 1.0]", PERR_BADARG, NULL, NULL },
	{ "array.set", "['a2', nil, 1]", PERR_BADARG, NULL, NULL },
	/* Kinds: ints only for int types; bool is not a number. */
	{ "array.set", "['a2', 0, 1.0]", PERR_BADTYPE, NULL,
	  "array.set: an array of 'i' (int32) takes ints, not float" },
	{ "array.set", "['a2', 0, true]", PERR_BADTYPE, NULL, NULL },
	{ "array.set", "['a2', 0, nil]", PERR_BADTYPE, NULL, NULL },
	{ "array.set", "['a2', 0, '1']", PERR_BADTYPE, NULL, NULL },
	{ "array.set", "['a2', 0, [1]]", PERR_BADTYPE, NULL, NULL },
	{ "array.set", "['a2', 0, 2147483648]", PERR_RANGE, NULL,
	  "the value is out of range for 'i' (int32)" },
	{ "array.get", "['a2', 0]", PERR_NONE, "7", NULL },
	{ "array.len", "['a2', 0]", PERR_BADARG, NULL, NULL },
	{ "array.get", "['a2', 0, 1]", PERR_BADARG, NULL, NULL },
	/* Explicit: it stays whatever it holds, until obj.delete. */
	{ "obj.info", "['a2']", PERR_NONE, NULL, NULL },
	{ "list.len", "['a2']", PERR_WRONGTYPE, NULL,
	  "'a2' is a array, not a list" },
	{ "array.len", "['l1.x']", PERR_NOOBJ, NULL, NULL },
	{ "obj.delete", "['a2']", PERR_NONE, "nil", NULL },
	{ "array.get", "['a2']", PERR_NOOBJ, NULL, NULL },
	/* Empty arrays exist too. */
	{ "array.create", "['a2', {'typecode': 'd', 'length': 0}]", PERR_NONE,
	  "nil", NULL },
	{ "array.get", "['a2']", PERR_NONE, "[]", NULL },
	{ "array.get", "['a2', 0]", PERR_NOINDEX, NULL, NULL },
	{ "array.get", "['a2', -1]", PERR_NOINDEX, NULL, NULL },
	{ "array.len", "['a2']", PERR_NONE, "0", NULL },
	{ "obj.delete", "['a2']", PERR_NONE, "nil", NULL },
	{ "array.create", "['a2', {'typecode': 'B', 'items': []}]", PERR_NONE,
	  "nil", NULL },
	{ "array.len", "['a2']", PERR_NONE, "0", NULL },
	{ "obj.delete", "['a2']", PERR_NONE, "nil", NULL },
};

START_TEST(test_array_basic)
{
	RUN(array_basic);
}
END_TEST

/* Every typecode at its limits (one row per typecode and limit). */
struct limit_row {
	char code;
	const char *lo, *hi;        /* the range's ends: fit */
	const char *below, *above;  /* just outside: RANGE (NULL: none) */
};

static const struct limit_row limits[] = {
	{ 'b', "-128", "127", "-129", "128" },
	{ 'B', "0", "255", "-1", "256" },
	{ 'h', "-32768", "32767", "-32769", "32768" },
	{ 'H', "0", "65535", "-1", "65536" },
	{ 'i', "-2147483648", "2147483647", "-2147483649", "2147483648" },
	{ 'I', "0", "4294967295", "-1", "4294967296" },
	{ 'l', "-9223372036854775808", "9223372036854775807", NULL,
	  "9223372036854775808" },
	{ 'L', "0", "18446744073709551615", "-1", NULL },
	{ 'q', "-9223372036854775808", "9223372036854775807", NULL,
	  "9223372036854775808" },
	{ 'Q', "0", "18446744073709551615", "-1", NULL },
};

START_TEST(test_array_limits)
{
	const struct limit_row *r = &limits[_i];
	char params[160], result[100], name[8];

	snprintf(name, sizeof name, "a3.%c", r->code);
	snprintf(params, sizeof params, "['%s', {'typecode': '%c', "
	    "'length': 3}]", name, r->code);
	OK("array.create", params, "nil");
	snprintf(params, sizeof params, "['%s', 0, %s]", name, r->lo);
	OK("array.set", params, "nil");
	snprintf(params, sizeof params, "['%s', 2, %s]", name, r->hi);
	OK("array.set", params, "nil");
	if (r->below != NULL) {
		snprintf(params, sizeof params, "['%s', 1, %s]", name,
		    r->below);
		ERR("array.set", params, RANGE);
	}
	if (r->above != NULL) {
		snprintf(params, sizeof params, "['%s', 1, %s]", name,
		    r->above);
		ERR("array.set", params, RANGE);
	}
	snprintf(params, sizeof params, "['%s', 1, 0.5]", name);
	ERR("array.set", params, BADTYPE);
	snprintf(result, sizeof result, "[%s, 0, %s]", r->lo, r->hi);
	snprintf(params, sizeof params, "['%s']", name);
	OK("array.get", params, result);
	/* The same limits hold for create's items. */
	snprintf(params, sizeof params, "['%s.i', {'typecode': '%c', "
	    "'items': [%s, %s]}]", name, r->code, r->lo, r->hi);
	OK("array.create", params, "nil");
	snprintf(result, sizeof result, "[%s, %s]", r->lo, r->hi);
	snprintf(params, sizeof params, "['%s.i']", name);
	OK("array.get", params, result);
	if (r->above != NULL) {
		snprintf(params, sizeof params, "['%s.j', {'typecode': '%c', "
		    "'items': [%s]}]", name, r->code, r->above);
		ERR("array.create", params, RANGE);
	}
}
END_TEST

static const struct row array_floats[] = {
	{ "array.create", "['a4', {'typecode': 'f', 'items': [0.1, 1, -2.5, "
	  "16777217]}]", PERR_NONE, "nil", NULL },
	/* float32: the rounded value comes back, widened. */
	{ "array.get", "['a4']", PERR_NONE,
	  "[0.10000000149011612, 1.0, -2.5, 16777216.0]", NULL },
	{ "array.set", "['a4', 0, 1e300]", PERR_NONE, "nil", NULL },
	{ "array.get", "['a4', 0]", PERR_NONE, "h'cb7ff0000000000000'", NULL },
	{ "array.set", "['a4', 0, -1e39]", PERR_NONE, "nil", NULL },
	{ "array.get", "['a4', 0]", PERR_NONE, "h'cbfff0000000000000'", NULL },
	{ "array.set", "['a4', 1, 18446744073709551615]", PERR_NONE, "nil",
	  NULL },
	{ "array.get", "['a4', 1]", PERR_NONE, "18446744073709551616.0", NULL },
	{ "array.set", "['a4', 1, f32:0.25]", PERR_NONE, "nil", NULL },
	{ "array.get", "['a4', 1]", PERR_NONE, "0.25", NULL },
	{ "array.set", "['a4', 1, true]", PERR_BADTYPE, NULL,
	  "an array of 'f' (float) takes numbers, not bool" },
	{ "array.set", "['a4', 1, 'x']", PERR_BADTYPE, NULL, NULL },
	{ "array.create", "['a5', {'typecode': 'd', 'length': 2}]", PERR_NONE,
	  "nil", NULL },
	{ "array.get", "['a5']", PERR_NONE, "[0.0, 0.0]", NULL },
	{ "array.set", "['a5', 0, 0.1]", PERR_NONE, "nil", NULL },
	{ "array.set", "['a5', 1, -9007199254740993]", PERR_NONE, "nil", NULL },
	{ "array.get", "['a5']", PERR_NONE, "[0.1, -9007199254740992.0]", NULL },
	{ "array.set", "['a5', 1, h'cb7ff8000000000000']", PERR_NONE, "nil",
	  NULL },
	{ "array.get", "['a5', -1]", PERR_NONE, "h'cb7ff8000000000000'", NULL },
};

START_TEST(test_array_floats)
{
	RUN(array_floats);
}
END_TEST

static const struct row array_create[] = {
	{ "array.create", "['a6', {'typecode': 'h', 'length': 3}]", PERR_NONE,
	  "nil", NULL },
	{ "array.set", "['a6', 0, 5]", PERR_NONE, "nil", NULL },
	/* Same typecode and length: idempotent, whatever it holds now. */
	{ "array.create", "['a6', {'length': 3, 'typecode': 'h'}]", PERR_NONE,
	  "nil", NULL },
	{ "array.get", "['a6', 0]", PERR_NONE, "5", NULL },
	{ "array.create", "['a6', {'typecode': 'h', 'length': 4}]", PERR_EXISTS,
	  NULL, "'a6' exists with other options" },
	{ "array.create", "['a6', {'typecode': 'H', 'length': 3}]", PERR_EXISTS,
	  NULL, NULL },
	{ "array.create", "['a6', {'typecode': 'h', 'items': [0, 0, 0]}]",
	  PERR_EXISTS, NULL, NULL },
	/* Made from items: the same initial items too. */
	{ "array.create", "['a7', {'typecode': 'd', 'items': [1, 2.5]}]",
	  PERR_NONE, "nil", NULL },
	{ "array.set", "['a7', 0, 9]", PERR_NONE, "nil", NULL },
	{ "array.create", "['a7', {'typecode': 'd', 'items': [1.0, 2.5]}]",
	  PERR_NONE, "nil", NULL },
	{ "array.get", "['a7']", PERR_NONE, "[9.0, 2.5]", NULL },
	{ "array.create", "['a7', {'typecode': 'd', 'items': [9, 2.5]}]",
	  PERR_EXISTS, NULL, NULL },
	{ "array.create", "['a7', {'typecode': 'd', 'length': 2}]",
	  PERR_EXISTS, NULL, NULL },
	/* Bad options are BADARG even when it exists. */
	{ "array.create", "['a7', {'typecode': 'd'}]", PERR_BADARG, NULL, NULL },
	{ "dict.create", "['a7']", PERR_WRONGTYPE, NULL, NULL },
	{ "list.create", "['a7']", PERR_WRONGTYPE, NULL, NULL },
	{ "array.create", "['l.a7', {'typecode': 'd', 'length': 1}]",
	  PERR_NONE, "nil", NULL },
	{ "list.append", "['l.a7', 1]", PERR_WRONGTYPE, NULL,
	  "'l.a7' is a array, not a list" },
};

START_TEST(test_array_create)
{
	struct mpv v;

	RUN(array_create);
	info_field("a6", "options", &v);
	pn_to_buf(&expbuf, "{'typecode': 'h', 'length': 3}");
	ck_assert_uint_eq(v.rawlen, buf_used(&expbuf));
	ck_assert(memcmp(v.raw, buf_head(&expbuf), v.rawlen) == 0);
	info_field("a7", "options", &v);
	pn_to_buf(&expbuf, "{'typecode': 'd', 'items': [1.0, 2.5]}");
	ck_assert_uint_eq(v.rawlen, buf_used(&expbuf));
	ck_assert(memcmp(v.raw, buf_head(&expbuf), v.rawlen) == 0);
	info_field("a7", "size", &v);
	ck_assert_uint_eq(v.v.u, 2);
	info_field("a7", "explicit", &v);
	ck_assert(v.type == MPV_BOOL && v.v.b);
	info_field("a6", "memory", &v);
	ck_assert_uint_ge(v.v.u, 6);
}
END_TEST

/* A large array is refused past the memory ceiling, not allocated. */
START_TEST(test_array_ceiling)
{
	size_t before = mem_used();

	server.max_memory = before + (1u << 20);
	ERRM("array.create", "['a8', {'typecode': 'd', 'length': 1000000}]",
	    LIMIT, "ceiling");
	ck_assert_uint_lt(mem_used(), before + (1u << 20));
	OK("array.create", "['a8', {'typecode': 'd', 'length': 1000}]", "nil");
	server.max_memory = 0;
	OK("array.len", "['a8']", "1000");
	OK("array.set", "['a8', 999, 1.5]", "nil");
	OK("array.get", "['a8', -1]", "1.5");
	OK("obj.delete", "['a8']", "nil");
}
END_TEST

static Suite *
array_suite(void)
{
	Suite *s = suite_create("array");
	TCase *tc;

	tc = tcase_create("array");
	tcase_add_unchecked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_array_missing);
	tcase_add_test(tc, test_array_basic);
	tcase_add_loop_test(tc, test_array_limits, 0,
	    sizeof limits / sizeof limits[0]);
	tcase_add_test(tc, test_array_floats);
	tcase_add_test(tc, test_array_create);
	tcase_add_test(tc, test_array_ceiling);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(array_suite());
}
