/*
 * unit_dict.c: the dict type through request handling, without sockets:
 * missing keys and stored nils, keys by canonical form (1 and 1.0 differ),
 * unhashable keys, insertion order, the write verbs, incr and cas at the
 * int64 edges, dict.scan's cursor while keys are added, and the everyday
 * error texts built without printf.
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

/* --- dict ---------------------------------------------------------------- */

static const struct row dict_basic[] = {
	/* A missing key and a stored nil differ. */
	{ "dict.get", "['d1', 'k']", PERR_NOKEY, NULL, "no such key in 'd1'" },
	{ "dict.get", "['d1', 'k', 5]", PERR_NONE, "5", NULL },
	{ "dict.get", "['d1', 'k', h'd005']", PERR_NONE, "5", NULL },
	{ "dict.set", "['d1', 'k', nil]", PERR_NONE, "nil", NULL },
	{ "dict.get", "['d1', 'k']", PERR_NONE, "nil", NULL },
	{ "dict.get", "['d1', 'k', 5]", PERR_NONE, "nil", NULL },
	{ "dict.contains", "['d1', 'k']", PERR_NONE, "true", NULL },
	{ "dict.contains", "['d1', 'j']", PERR_NONE, "false", NULL },
	{ "dict.len", "['d1']", PERR_NONE, "1", NULL },
	/* 1 and 1.0 are two keys; equal canonical forms are one. */
	{ "dict.set", "['d1', 1, 'int']", PERR_NONE, "nil", NULL },
	{ "dict.set", "['d1', 1.0, 'float']", PERR_NONE, "nil", NULL },
	{ "dict.get", "['d1', 1]", PERR_NONE, "'int'", NULL },
	{ "dict.get", "['d1', 1.0]", PERR_NONE, "'float'", NULL },
	{ "dict.get", "['d1', h'd001']", PERR_NONE, "'int'", NULL },
	{ "dict.set", "['d1', f32:1.5, 'f']", PERR_NONE, "nil", NULL },
	{ "dict.get", "['d1', 1.5]", PERR_NONE, "'f'", NULL },
	{ "dict.len", "['d1']", PERR_NONE, "4", NULL },
	/* Values are stored canonical. */
	{ "dict.set", "['d1', 'v', [h'cd0001', f32:0.5, {'a': h'd9016e'}]]",
	  PERR_NONE, "nil", NULL },
	{ "dict.get", "['d1', 'v']", PERR_NONE, "[1, 0.5, {'a': 'n'}]", NULL },
	/* Keys: arrays yes, maps no, at any depth. */
	{ "dict.set", "['d1', {'a': 1}, 1]", PERR_BADTYPE, NULL,
	  "unhashable key: map" },
	{ "dict.set", "['d1', [1, [2, {}]], 1]", PERR_BADTYPE, NULL, NULL },
	{ "dict.get", "['d1', {}]", PERR_BADTYPE, NULL, NULL },
	{ "dict.get", "['nodict', {}]", PERR_BADTYPE, NULL, NULL },
	{ "dict.contains", "['d1', [{}]]", PERR_BADTYPE, NULL, NULL },
	{ "dict.set", "['d1', [1, [2, 'x']], 'tuple']", PERR_NONE, "nil", NULL },
	{ "dict.get", "['d1', [1, [2, 'x']]]", PERR_NONE, "'tuple'", NULL },
	{ "dict.set", "['d1', x5'ext', b'bin']", PERR_NONE, "nil", NULL },
	{ "dict.get", "['d1', x5'ext']", PERR_NONE, "b'bin'", NULL },
	{ "dict.get", "['d1', b'ext']", PERR_NOKEY, NULL, NULL },
	/* delete */
	{ "dict.delete", "['d1', 'nope']", PERR_NOKEY, NULL, NULL },
	{ "dict.delete", "['d1', 'k']", PERR_NONE, "nil", NULL },
	{ "dict.contains", "['d1', 'k']", PERR_NONE, "false", NULL },
	/* A missing dict reads as empty. */
	{ "dict.len", "['nodict']", PERR_NONE, "0", NULL },
	{ "dict.keys", "['nodict']", PERR_NONE, "[]", NULL },
	{ "dict.items", "['nodict']", PERR_NONE, "[]", NULL },
	{ "dict.copy", "['nodict']", PERR_NONE, "{}", NULL },
	{ "dict.contains", "['nodict', 1]", PERR_NONE, "false", NULL },
	{ "dict.pop", "['nodict', 1]", PERR_NOKEY, NULL, NULL },
	{ "dict.pop", "['nodict', 1, 'dflt']", PERR_NONE, "'dflt'", NULL },
	{ "dict.popitem", "['nodict']", PERR_NOKEY, NULL, NULL },
	{ "dict.delete", "['nodict', 1]", PERR_NOKEY, NULL, NULL },
	{ "dict.clear", "['nodict']", PERR_NONE, "nil", NULL },
	{ "dict.scan", "['nodict', 0]", PERR_NONE, "[0, []]", NULL },
	{ "obj.info", "['nodict']", PERR_NOOBJ, NULL, "no object 'nodict'" },
};

START_TEST(test_dict_basic)
{
	RUN(dict_basic);
}
END_TEST

static const struct row dict_order[] = {
	{ "dict.set", "['d2', 'a', 1]", PERR_NONE, "nil", NULL },
	{ "dict.set", "['d2', 'b', 2]", PERR_NONE, "nil", NULL },
	{ "dict.set", "['d2', 'c', 3]", PERR_NONE, "nil", NULL },
	/* Overwriting keeps the key's place; re-adding moves it last. */
	{ "dict.set", "['d2', 'a', 10]", PERR_NONE, "nil", NULL },
	{ "dict.keys", "['d2']", PERR_NONE, "['a', 'b', 'c']", NULL },
	{ "dict.values", "['d2']", PERR_NONE, "[10, 2, 3]", NULL },
	{ "dict.delete", "['d2', 'b']", PERR_NONE, "nil", NULL },
	{ "dict.set", "['d2', 'b', 20]", PERR_NONE, "nil", NULL },
	{ "dict.items", "['d2']", PERR_NONE,
	  "[['a', 10], ['c', 3], ['b', 20]]", NULL },
	{ "dict.copy", "['d2']", PERR_NONE, "{'a': 10, 'c': 3, 'b': 20}", NULL },
	/* popitem is LIFO */
	{ "dict.popitem", "['d2']", PERR_NONE, "['b', 20]", NULL },
	{ "dict.popitem", "['d2']", PERR_NONE, "['c', 3]", NULL },
	{ "dict.set", "['d2', 'z', nil]", PERR_NONE, "nil", NULL },
	{ "dict.popitem", "['d2']", PERR_NONE, "['z', nil]", NULL },
	{ "dict.popitem", "['d2']", PERR_NONE, "['a', 10]", NULL },
	{ "dict.popitem", "['d2']", PERR_NOKEY, NULL, "empty" },
	/* Emptied: the implicit dict is gone. */
	{ "obj.info", "['d2']", PERR_NOOBJ, NULL, NULL },
};

/* The reply's error is code with exactly the message text. */
static void
error_is(int code, const char *text)
{
	ck_assert_msg(reply_err == code, "%s", show_reply());
	ck_assert_msg(reply_msg.len == strlen(text) &&
	    memcmp(reply_msg.ptr, text, reply_msg.len) == 0,
	    "message '%.*s', not '%s'", (int)reply_msg.len,
	    (const char *)reply_msg.ptr, text);
}

/*
 * The everyday errors are built without printf: their texts are still
 * the printf ones, the longest name whole, a name with a NUL cut there as
 * %.*s cuts it.
 */
START_TEST(test_error_texts)
{
	char name[MPMGR_MAX_NAME + 1], text[MPMGR_MAX_NAME + 64];
	msgpack_packer pk;

	send_req("dict.get", "['txt', 'k']");
	error_is(PERR_NOKEY, "no such key in 'txt'");
	send_req("dict.pop", "['txt', 'k']");
	error_is(PERR_NOKEY, "no such key in 'txt'");
	send_req("dict.delete", "['txt', 'k']");
	error_is(PERR_NOKEY, "no such key in 'txt'");
	send_req("dict.popitem", "['txt']");
	error_is(PERR_NOKEY, "popitem: 'txt' is empty");
	send_req("queue.get", "['txt.q', 0]");
	error_is(PERR_EMPTY, "queue 'txt.q' is empty");
	OK("queue.create", "['txt.q', {'maxsize': 1}]", "nil");
	OK("queue.put", "['txt.q', 1, 0]", "nil");
	send_req("queue.put", "['txt.q', 2, 0]");
	error_is(PERR_FULL, "queue 'txt.q' is full");
	send_req("dict.get", "[h'a3610062', 'k']");
	error_is(PERR_NOKEY, "no such key in 'a'");

	memset(name, 'n', MPMGR_MAX_NAME);
	name[MPMGR_MAX_NAME] = '\0';
	begin_request(&pk, "dict.get");
	msgpack_pack_array(&pk, 2);
	msg_pack_cstr(&pk, name);
	msg_pack_cstr(&pk, "k");
	send_packed();
	snprintf(text, sizeof text, "no such key in '%s'", name);
	error_is(PERR_NOKEY, text);
}
END_TEST

START_TEST(test_dict_order)
{
	RUN(dict_order);
}
END_TEST

static const struct row dict_write[] = {
	/* setdefault */
	{ "dict.setdefault", "['d3', 'a', 1]", PERR_NONE, "1", NULL },
	{ "dict.setdefault", "['d3', 'a', 2]", PERR_NONE, "1", NULL },
	{ "dict.setdefault", "['d3', 'n']", PERR_NONE, "nil", NULL },
	{ "dict.get", "['d3', 'n']", PERR_NONE, "nil", NULL },
	{ "dict.setdefault", "['d3', 'f', f32:2.5]", PERR_NONE, "2.5", NULL },
	/* pop */
	{ "dict.pop", "['d3', 'a']", PERR_NONE, "1", NULL },
	{ "dict.pop", "['d3', 'a']", PERR_NOKEY, NULL, NULL },
	{ "dict.pop", "['d3', 'a', 'dflt']", PERR_NONE, "'dflt'", NULL },
	{ "dict.pop", "['d3', 'n', 'dflt']", PERR_NONE, "nil", NULL },
	/* update: a map, or pairs; all or nothing */
	{ "dict.update", "['d3', {'x': 1, 'y': [2], 'x': 3}]", PERR_NONE, "nil",
	  NULL },
	{ "dict.update", "['d3', [['p', 1], [[1, 2], 'q'], ['p', 2]]]",
	  PERR_NONE, "nil", NULL },
	{ "dict.items", "['d3']", PERR_NONE,
	  "[['f', 2.5], ['x', 3], ['y', [2]], ['p', 2], [[1, 2], 'q']]", NULL },
	{ "dict.update", "['d3', [['k', 1], ['bad', 1, 2]]]", PERR_BADARG, NULL,
	  NULL },
	{ "dict.update", "['d3', [['k', 1], 'bad']]", PERR_BADTYPE, NULL, NULL },
	{ "dict.update", "['d3', [['k', 1], [{}, 1]]]", PERR_BADTYPE, NULL,
	  "unhashable" },
	{ "dict.update", "['d3', {'k': 1, [{}]: 1}]", PERR_BADTYPE, NULL, NULL },
	{ "dict.update", "['d3', 5]", PERR_BADTYPE, NULL, NULL },
	{ "dict.update", "['d3', 'str']", PERR_BADTYPE, NULL, NULL },
	{ "dict.contains", "['d3', 'k']", PERR_NONE, "false", NULL },
	{ "dict.len", "['d3']", PERR_NONE, "5", NULL },
	{ "dict.update", "['d3', {}]", PERR_NONE, "nil", NULL },
	{ "dict.update", "['d3', []]", PERR_NONE, "nil", NULL },
	/* clear */
	{ "dict.clear", "['d3']", PERR_NONE, "nil", NULL },
	{ "dict.len", "['d3']", PERR_NONE, "0", NULL },
	{ "obj.info", "['d3']", PERR_NOOBJ, NULL, NULL },
	/* A write that fails, or leaves nothing, creates nothing. */
	{ "dict.update", "['d4', {}]", PERR_NONE, "nil", NULL },
	{ "obj.info", "['d4']", PERR_NOOBJ, NULL, NULL },
	{ "dict.set", "['d4', {}, 1]", PERR_BADTYPE, NULL, NULL },
	{ "obj.info", "['d4']", PERR_NOOBJ, NULL, NULL },
	{ "dict.incr", "['d4', 'k', 'x']", PERR_BADTYPE, NULL, NULL },
	{ "obj.info", "['d4']", PERR_NOOBJ, NULL, NULL },
	{ "dict.cas", "['d4', 'k', 1, 2]", PERR_NONE, "[false, nil]", NULL },
	{ "obj.info", "['d4']", PERR_NOOBJ, NULL, NULL },
};

START_TEST(test_dict_write)
{
	RUN(dict_write);
}
END_TEST

static const struct row dict_incr[] = {
	{ "dict.incr", "['d5', 'n']", PERR_NONE, "1", NULL },
	{ "dict.incr", "['d5', 'n', 199]", PERR_NONE, "200", NULL },
	{ "dict.get", "['d5', 'n']", PERR_NONE, "h'ccc8'", NULL },
	{ "dict.incr", "['d5', 'n', -300]", PERR_NONE, "-100", NULL },
	{ "dict.get", "['d5', 'n']", PERR_NONE, "h'd09c'", NULL },
	{ "dict.incr", "['d5', 'n', 100]", PERR_NONE, "h'00'", NULL },
	{ "dict.incr", "['d5', 'n', 1.5]", PERR_NONE, "1.5", NULL },
	{ "dict.incr", "['d5', 'n', 1]", PERR_NONE, "2.5", NULL },
	{ "dict.incr", "['d5', 'f', f32:0.5]", PERR_NONE, "0.5", NULL },
	{ "dict.incr", "['d5', 'f', f32:1.0]", PERR_NONE, "1.5", NULL },
	{ "dict.get", "['d5', 'f']", PERR_NONE, "h'cb3ff8000000000000'", NULL },
	/*
	 * int64 and uint64 edges: the sum is exact whatever the operands'
	 * kinds, and an answer when it fits either; past INT64_MAX it is a
	 * uint64, canonical as one.
	 */
	{ "dict.set", "['d5', 'max', 9223372036854775806]", PERR_NONE, "nil",
	  NULL },
	{ "dict.incr", "['d5', 'max']", PERR_NONE, "9223372036854775807", NULL },
	{ "dict.incr", "['d5', 'max']", PERR_NONE, "9223372036854775808", NULL },
	{ "dict.get", "['d5', 'max']", PERR_NONE, "h'cf8000000000000000'",
	  NULL },
	{ "dict.incr", "['d5', 'max', -1]", PERR_NONE, "9223372036854775807",
	  NULL },
	{ "dict.get", "['d5', 'max']", PERR_NONE, "h'cf7fffffffffffffff'",
	  NULL },
	{ "dict.incr", "['d5', 'min', -9223372036854775807]", PERR_NONE,
	  "-9223372036854775807", NULL },
	{ "dict.incr", "['d5', 'min', -1]", PERR_NONE, "-9223372036854775808",
	  NULL },
	{ "dict.incr", "['d5', 'min', -1]", PERR_RANGE, NULL,
	  "beyond both int64 and uint64" },
	{ "dict.get", "['d5', 'min']", PERR_NONE, "-9223372036854775808", NULL },
	{ "dict.incr", "['d5', 'min', 18446744073709551615]", PERR_NONE,
	  "9223372036854775807", NULL },
	{ "dict.set", "['d5', 'neg', -2]", PERR_NONE, "nil", NULL },
	{ "dict.incr", "['d5', 'neg', 9223372036854775808]", PERR_NONE,
	  "9223372036854775806", NULL },
	{ "dict.incr", "['d5', 'big', 9223372036854775808]", PERR_NONE,
	  "9223372036854775808", NULL },
	{ "dict.incr", "['d5', 'big', 9223372036854775808]", PERR_RANGE, NULL,
	  NULL },
	{ "dict.set", "['d5', 'u64', 18446744073709551615]", PERR_NONE, "nil",
	  NULL },
	{ "dict.incr", "['d5', 'u64']", PERR_RANGE, NULL, NULL },
	{ "dict.incr", "['d5', 'u64', -1]", PERR_NONE, "18446744073709551614",
	  NULL },
	{ "dict.incr", "['d5', 'u64']", PERR_NONE, "18446744073709551615",
	  NULL },
	{ "dict.incr", "['d5', 'u64', -9223372036854775808]", PERR_NONE,
	  "9223372036854775807", NULL },
	{ "dict.incr", "['d5', 'u64', -9223372036854775808]", PERR_NONE,
	  "-1", NULL },
	{ "dict.set", "['d5', 'u64', 18446744073709551615]", PERR_NONE, "nil",
	  NULL },
	{ "dict.incr", "['d5', 'u64', 1.0]", PERR_NONE, "18446744073709551616.0",
	  NULL },
	/* Not numbers */
	{ "dict.set", "['d5', 's', 'str']", PERR_NONE, "nil", NULL },
	{ "dict.incr", "['d5', 's']", PERR_BADTYPE, NULL, "cannot add to str" },
	{ "dict.set", "['d5', 'nil', nil]", PERR_NONE, "nil", NULL },
	{ "dict.incr", "['d5', 'nil']", PERR_BADTYPE, NULL, NULL },
	{ "dict.set", "['d5', 'b', true]", PERR_NONE, "nil", NULL },
	{ "dict.incr", "['d5', 'b']", PERR_BADTYPE, NULL, NULL },
	{ "dict.incr", "['d5', 'x', 'one']", PERR_BADTYPE, NULL, "delta" },
	{ "dict.incr", "['d5', 'x', nil]", PERR_BADTYPE, NULL, NULL },
	{ "dict.contains", "['d5', 'x']", PERR_NONE, "false", NULL },
	{ "dict.incr", "['d5', {}]", PERR_BADTYPE, NULL, NULL },
};

START_TEST(test_dict_incr)
{
	RUN(dict_incr);
}
END_TEST

static const struct row dict_cas[] = {
	/* A missing key matches only nil. */
	{ "dict.cas", "['d6', 'k', 0, 1]", PERR_NONE, "[false, nil]", NULL },
	{ "dict.contains", "['d6', 'k']", PERR_NONE, "false", NULL },
	{ "dict.cas", "['d6', 'k', nil, 1]", PERR_NONE, "[true, 1]", NULL },
	{ "dict.cas", "['d6', 'k', 1.0, 2]", PERR_NONE, "[false, 1]", NULL },
	{ "dict.cas", "['d6', 'k', h'd001', 2]", PERR_NONE, "[true, 2]", NULL },
	{ "dict.set", "['d6', 'n', nil]", PERR_NONE, "nil", NULL },
	{ "dict.cas", "['d6', 'n', nil, [1, {'a': 2}]]", PERR_NONE,
	  "[true, [1, {'a': 2}]]", NULL },
	{ "dict.cas", "['d6', 'n', [1, {'a': 2}], 'x']", PERR_NONE,
	  "[true, 'x']", NULL },
	{ "dict.cas", "['d6', 'n', 'y', 'z']", PERR_NONE, "[false, 'x']", NULL },
	{ "dict.cas", "['d6', {}, nil, 1]", PERR_BADTYPE, NULL, NULL },
	{ "dict.get", "['d6', 'n']", PERR_NONE, "'x'", NULL },
};

START_TEST(test_dict_cas)
{
	RUN(dict_cas);
}
END_TEST

static const struct row dict_args[] = {
	{ "dict.scan", "['d7', -1]", PERR_BADARG, NULL, "cursor" },
	{ "dict.scan", "['d7', 'x']", PERR_BADARG, NULL, NULL },
	{ "dict.scan", "['d7', 0, 0]", PERR_BADARG, NULL, "count" },
	{ "dict.scan", "['d7', 0, 1.0]", PERR_BADARG, NULL, NULL },
	{ "dict.create", "['d7', {'size': 1}]", PERR_BADARG, NULL, NULL },
	{ "dict.create", "['d7', 5]", PERR_BADARG, NULL, "map" },
	{ "obj.info", "['d7']", PERR_NOOBJ, NULL, NULL },
};

START_TEST(test_dict_args)
{
	RUN(dict_args);
}
END_TEST

/* Walk name with dict.scan count at a time; seen[k] counts key k. With
 * add, a new key is added after each step (a walk must survive it). */
static void
scan_dict(const char *name, int count, int *seen, int nseen, bool add)
{
	char params[64];
	uint64_t cursor = 0;
	int steps = 0, extra = 100000;

	do {
		struct mpv_iter it, pit;
		struct mpv cur, list, pair, k;

		snprintf(params, sizeof params, "['%s', %llu, %d]", name,
		    (unsigned long long)cursor, count);
		send_req("dict.scan", params);
		ck_assert_msg(reply_err == PERR_NONE, "%s", show_reply());
		mpv_iter_init(&it, &reply.result);
		mpv_iter_next(&it, &cur);
		mpv_iter_next(&it, &list);
		ck_assert_int_eq(cur.type, MPV_UINT);
		ck_assert_uint_le(list.len, (unsigned)count);
		mpv_iter_init(&it, &list);
		while (mpv_iter_next(&it, &pair)) {
			mpv_iter_init(&pit, &pair);
			mpv_iter_next(&pit, &k);
			ck_assert_int_eq(k.type, MPV_UINT);
			if (k.v.u < (uint64_t)nseen)
				seen[k.v.u]++;
		}
		cursor = cur.v.u;
		if (add) {
			snprintf(params, sizeof params, "['%s', %d, 0]", name,
			    extra++);
			OK("dict.set", params, "nil");
		}
		ck_assert_int_lt(++steps, 100000);
	} while (cursor != 0);
}

START_TEST(test_dict_scan)
{
	int seen[1000], i;

	fill_dict("d8", 1000);
	memset(seen, 0, sizeof seen);
	scan_dict("d8", 7, seen, 1000, false);
	for (i = 0; i < 1000; i++)
		ck_assert_msg(seen[i] == 1, "key %d seen %d times", i, seen[i]);

	memset(seen, 0, sizeof seen);
	scan_dict("d8", 50, seen, 1000, true);
	for (i = 0; i < 1000; i++)
		ck_assert_msg(seen[i] == 1, "key %d seen %d times while adding",
		    i, seen[i]);
}
END_TEST

static Suite *
dict_suite(void)
{
	Suite *s = suite_create("dict");
	TCase *tc;

	tc = tcase_create("dict");
	tcase_add_unchecked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_dict_basic);
	tcase_add_test(tc, test_error_texts);
	tcase_add_test(tc, test_dict_order);
	tcase_add_test(tc, test_dict_write);
	tcase_add_test(tc, test_dict_incr);
	tcase_add_test(tc, test_dict_cas);
	tcase_add_test(tc, test_dict_args);
	tcase_add_test(tc, test_dict_scan);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(dict_suite());
}
