/*
 * unit_options.c: the create options every type declares as a table
 * (daemon/options.c) and TYPE.create (daemon/create.c), without sockets:
 * what the table checks for every type alike (an unknown or repeated key,
 * the kind and range of a value, a required option), the options map that
 * makes create idempotent (table order, defaults filled in, an implicit
 * object's defaults), and the obj_type operations a type leaves out.
 *
 * Object names differ between tests so that they also pass with
 * CK_FORK=no.
 */
#include <stdio.h>
#include <string.h>

#include <check.h>

#include "../daemon/dispatch.h"
#include "../daemon/mpmgrd.h"
#include "../daemon/registry.h"
#include "unit_util.h"

/* Every type that takes options, with one valid map of them. */
static const struct {
	const char *type;
	const char *key;      /* one of its options */
	const char *value;    /* a valid value for it */
	const char *rest;     /* the other options a create needs, or "" */
} typed[] = {
	{ "value", "value", "1", "" },
	{ "queue", "maxsize", "2", "" },
	{ "lock", "release_on_disconnect", "false", "" },
	{ "rlock", "release_on_disconnect", "false", "" },
	{ "semaphore", "bounded", "true", "" },
	{ "condition", "release_on_disconnect", "false", "" },
	{ "barrier", "parties", "2", "" },
	{ "array", "typecode", "'b'", ", 'length': 1" },
};

/* An option given twice is BADARG for every type (a map with a repeated
 * key says two things), and creates nothing. */
START_TEST(test_repeated)
{
	char method[32], params[160], name[32];
	size_t i;

	for (i = 0; i < sizeof typed / sizeof typed[0]; i++) {
		snprintf(method, sizeof method, "%s.create", typed[i].type);
		snprintf(name, sizeof name, "rep.%s", typed[i].type);
		snprintf(params, sizeof params, "['%s', {'%s': %s, '%s': %s%s}]",
		    name, typed[i].key, typed[i].value, typed[i].key,
		    typed[i].value, typed[i].rest);
		ERR(method, params, BADARG);
		snprintf(params, sizeof params, "['%s']", name);
		ERR("obj.info", params, NOOBJ);
		/* Once, it is fine. */
		snprintf(params, sizeof params, "['%s', {'%s': %s%s}]", name,
		    typed[i].key, typed[i].value, typed[i].rest);
		OK(method, params, "nil");
		snprintf(params, sizeof params, "['%s']", name);
		OK("obj.delete", params, "nil");
	}
	ERR("dict.create", "['rep.dict', {'a': 1, 'a': 1}]", BADARG);
}
END_TEST

/* What the table says of each option, in the texts of BADARG. */
static const struct row texts[] = {
	{ "queue.create", "['tx.q', {'size': 1}]", PERR_BADARG, NULL,
	  "queue.create: the options are maxsize, ack and ephemeral" },
	{ "queue.create", "['tx.q', {'maxsize': 2, 'maxsize': 2}]", PERR_BADARG,
	  NULL, "queue.create: 'maxsize' is given twice" },
	{ "queue.create", "['tx.q', {'maxsize': 1.5}]", PERR_BADARG, NULL,
	  "queue.create: maxsize must be an int" },
	{ "queue.create", "['tx.q', {'ack': 'yes'}]", PERR_BADARG, NULL,
	  "queue.create: ack must be a bool" },
	/* an int is no bool, and its bytes are not read as one (the live
	 * fuzzer's {ack: 13} was UBSan's "load of value 13") */
	{ "queue.create", "['tx.q', {'ack': 13}]", PERR_BADARG, NULL,
	  "queue.create: ack must be a bool" },
	{ "lock.create", "['tx.l', {'release_on_disconnect': 2}]", PERR_BADARG,
	  NULL, "lock.create: release_on_disconnect must be a bool" },
	{ "dict.create", "['tx.d', {'ephemeral': 7}]", PERR_BADARG, NULL,
	  "dict.create: ephemeral must be a bool" },
	{ "lock.create", "['tx.l', {1: true}]", PERR_BADARG, NULL,
	  "lock.create: the only option is 'release_on_disconnect', besides "
	  "ephemeral" },
	{ "rlock.create", "['tx.l', {'x': true}]", PERR_BADARG, NULL,
	  "rlock.create: the only option is 'release_on_disconnect'" },
	{ "dict.create", "['tx.d', {'x': 1}]", PERR_BADARG, NULL,
	  "dict.create: dict has no options but ephemeral" },
	{ "semaphore.create", "['tx.s', {'value': 9223372036854775808}]",
	  PERR_BADARG, NULL,
	  "semaphore.create: value must be an int from 0 to "
	  "9223372036854775807" },
	{ "barrier.create", "['tx.b', {}]", PERR_BADARG, NULL,
	  "barrier.create: parties must be an int from 1 to 4294967295 (it is "
	  "required)" },
	{ "barrier.create", "['tx.b', nil]", PERR_BADARG, NULL,
	  "barrier.create: options are required (parties must be" },
	{ "array.create", "['tx.a', {'typecode': 'x', 'length': 1}]",
	  PERR_BADARG, NULL, "array.create: typecode must be one of 'b' 'B' "
	  "'h' 'H' 'i' 'I' 'l' 'L' 'q' 'Q' 'f' 'd'" },
	{ "array.create", "['tx.a', {'typecode': '', 'length': 1}]",
	  PERR_BADARG, NULL, "typecode must be one of" },
	{ "condition.create", "['tx.c', {'lock': 'x'*256}]", PERR_BADARG, NULL,
	  "condition.create: lock must be a str of 1 to 255 bytes" },
	{ "condition.create", "['tx.c', {'lock': 'tx.c'}]", PERR_BADARG, NULL,
	  "condition.create: lock must name another object" },
	{ "obj.info", "['tx.q']", PERR_NOOBJ, NULL, NULL },
	{ "obj.info", "['tx.l']", PERR_NOOBJ, NULL, NULL },
	{ "obj.info", "['tx.s']", PERR_NOOBJ, NULL, NULL },
	{ "obj.info", "['tx.a']", PERR_NOOBJ, NULL, NULL },
	{ "obj.info", "['tx.c']", PERR_NOOBJ, NULL, NULL },
};

START_TEST(test_texts)
{
	RUN(texts);
}
END_TEST

/*
 * Two creates are one when their options maps are: every option in table
 * order, defaults filled in, values canonical. An implicit object has its
 * type's defaults, so a create with them (spelled any way) makes it
 * explicit and anything else is EXISTS.
 */
static const struct row same[] = {
	{ "semaphore.create", "['sm.s', {'release_on_disconnect': true, "
	  "'value': 1}]", PERR_NONE, "nil", NULL },
	{ "semaphore.create", "['sm.s', {'bounded': false}]", PERR_NONE, "nil",
	  NULL },
	{ "semaphore.create", "['sm.s']", PERR_NONE, "nil", NULL },
	{ "semaphore.create", "['sm.s', {'value': 2}]", PERR_EXISTS, NULL,
	  "'sm.s' exists with other options" },
	/* maxsize below 0 is 0, unbounded, as in Python. */
	{ "queue.create", "['sm.q', {'maxsize': -5}]", PERR_NONE, "nil", NULL },
	{ "queue.create", "['sm.q', {'ack': false, 'maxsize': 0}]", PERR_NONE,
	  "nil", NULL },
	{ "obj.info", "['sm.q']", PERR_NONE, NULL, NULL },
	/* An implicit queue and lock, then created with their defaults. */
	{ "queue.put", "['sm.q2', 1]", PERR_NONE, "nil", NULL },
	{ "queue.create", "['sm.q2', {'maxsize': 1}]", PERR_EXISTS, NULL,
	  NULL },
	{ "queue.create", "['sm.q2', {'maxsize': 0}]", PERR_NONE, "nil", NULL },
	{ "queue.get", "['sm.q2', 0]", PERR_NONE, "1", NULL },
	{ "queue.task_done", "['sm.q2']", PERR_NONE, "nil", NULL },
	{ "queue.qsize", "['sm.q2']", PERR_NONE, "0", NULL },
	{ "obj.info", "['sm.q2']", PERR_NONE, NULL, NULL },
	{ "lock.acquire", "['sm.l', 0]", PERR_NONE, "true", NULL },
	{ "lock.create", "['sm.l', {'release_on_disconnect': false}]",
	  PERR_EXISTS, NULL, NULL },
	{ "lock.create", "['sm.l', {'release_on_disconnect': true}]",
	  PERR_NONE, "nil", NULL },
	{ "lock.release", "['sm.l']", PERR_NONE, "nil", NULL },
	{ "obj.info", "['sm.l']", PERR_NONE, NULL, NULL },
	/* value's option is any value, compared canonical. */
	{ "value.create", "['sm.v', {'value': [h'cd0001', f32:0.5]}]",
	  PERR_NONE, "nil", NULL },
	{ "value.create", "['sm.v', {'value': [1, 0.5]}]", PERR_NONE, "nil",
	  NULL },
	{ "value.get", "['sm.v']", PERR_NONE, "[1, 0.5]", NULL },
	{ "value.create", "['sm.v', {'value': [1, 0.25]}]", PERR_EXISTS, NULL,
	  NULL },
};

START_TEST(test_same)
{
	struct mpv v;

	RUN(same);
	OK("obj.info", "['sm.q']", NULL);
	ck_assert(result_field("options", &v));
	pn_to_buf(&expbuf, "{'maxsize': 0, 'ack': false}");
	ck_assert_uint_eq(v.rawlen, buf_used(&expbuf));
	ck_assert(memcmp(v.raw, buf_head(&expbuf), v.rawlen) == 0);
	OK("obj.info", "['sm.v']", NULL);
	ck_assert(result_field("options", &v));
	pn_to_buf(&expbuf, "{'value': [1, 0.5]}");
	ck_assert_uint_eq(v.rawlen, buf_used(&expbuf));
	ck_assert(memcmp(v.raw, buf_head(&expbuf), v.rawlen) == 0);
}
END_TEST

/*
 * An object made explicitly keeps its options map after its name: obj.info
 * counts them in its memory.
 */
START_TEST(test_memory)
{
	uint64_t small, big;

	OK("value.create", "['mem.a', {'value': 1}]", "nil");
	OK("value.create", "['mem.b', {'value': 'x'*1000}]", "nil");
	small = info_uint("mem.a", "memory");
	big = info_uint("mem.b", "memory");
	/* The value itself and its option: twice the 1000 bytes. */
	ck_assert_uint_ge(big, small + 1990);
}
END_TEST

static Suite *
options_suite(void)
{
	Suite *s = suite_create("options");
	TCase *tc = tcase_create("options");

	tcase_add_unchecked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_repeated);
	tcase_add_test(tc, test_texts);
	tcase_add_test(tc, test_same);
	tcase_add_test(tc, test_memory);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(options_suite());
}
