/*
 * unit_sizes.c: replies whose size is known before they are built
 * (docs/PROTOCOL.md, "Reply sizes"). For each reader that can answer a
 * whole object (list.copy, list.slice, dict.keys/values/items/copy,
 * dict.scan, array.get, obj.list, obj.scan), the size it computes first
 * is exact: with the output limit at the reply's size the reply goes
 * out, one byte less and it is LIMIT. The byte counts behind them (a
 * list's, a dict's keys and values) stay exact through every mutation.
 * And the size helpers agree with what msgpack-c packs.
 */
#include <stdio.h>
#include <string.h>

#include <check.h>

#include "../daemon/dispatch.h"
#include "../daemon/mpmgrd.h"
#include "unit_util.h"

/* What msgpack-c packs for v through fn, in bytes. */
#define PACKED(fn, v) ({                                                \
	msgpack_sbuffer sb_;                                            \
	msgpack_packer pk_;                                             \
	size_t n_;                                                      \
	msgpack_sbuffer_init(&sb_);                                     \
	msgpack_packer_init(&pk_, &sb_, msgpack_sbuffer_write);         \
	fn(&pk_, v);                                                    \
	n_ = sb_.size;                                                  \
	msgpack_sbuffer_destroy(&sb_);                                  \
	n_;                                                             \
})

START_TEST(test_helpers)
{
	static const int64_t ints[] = { 0, 1, 31, 32, 127, 128, 255, 256,
	    65535, 65536, 4294967295LL, 4294967296LL, INT64_MAX, -1, -32,
	    -33, -128, -129, -32768, -32769, INT32_MIN, (int64_t)INT32_MIN - 1,
	    INT64_MIN };
	static const size_t lens[] = { 0, 15, 16, 31, 32, 255, 256, 65535,
	    65536, 70000 };
	size_t i;

	for (i = 0; i < sizeof ints / sizeof ints[0]; i++) {
		ck_assert_uint_eq(msg_int_size(ints[i]),
		    PACKED(msgpack_pack_int64, ints[i]));
		if (ints[i] >= 0)
			ck_assert_uint_eq(msg_uint_size((uint64_t)ints[i]),
			    PACKED(msgpack_pack_uint64, (uint64_t)ints[i]));
	}
	ck_assert_uint_eq(msg_uint_size(UINT64_MAX),
	    PACKED(msgpack_pack_uint64, UINT64_MAX));
	for (i = 0; i < sizeof lens / sizeof lens[0]; i++) {
		ck_assert_uint_eq(msg_str_head_size(lens[i]),
		    PACKED(msgpack_pack_str, lens[i]));
		ck_assert_uint_eq(msg_array_head_size(lens[i]),
		    PACKED(msgpack_pack_array, lens[i]));
		ck_assert_uint_eq(msg_array_head_size(lens[i]),
		    PACKED(msgpack_pack_map, lens[i]));
	}
}
END_TEST

/*
 * method params answers a result of some size R when unlimited; with the
 * output limit at R (+ the response's envelope) it still does, at one
 * byte less it is LIMIT: the size checked before building is exact.
 */
static void
exact(int line, const char *method, const char *params)
{
	size_t saved = server.output_limit, r;

	server.output_limit = 0;
	send_req(method, params);
	ck_assert_msg(reply_err == PERR_NONE, "line %d: %s %s: %s", line,
	    method, params, show_reply());
	r = reply.result.rawlen;
	server.output_limit = r + MSG_RESULT_HEAD_MAX;
	send_req(method, params);
	ck_assert_msg(reply_err == PERR_NONE, "line %d: %s %s at a limit of "
	    "its own size (%zu): %s", line, method, params, r, show_reply());
	ck_assert_uint_eq(reply.result.rawlen, r);
	server.output_limit = r + MSG_RESULT_HEAD_MAX - 1;
	send_req(method, params);
	ck_assert_msg(reply_err == PERR_LIMIT, "line %d: %s %s one byte "
	    "over the limit: %s", line, method, params, show_reply());
	server.output_limit = saved;
}

#define EXACT(m, p) exact(__LINE__, m, p)

START_TEST(test_list)
{
	OK("list.extend", "['sz_l', [1, -1, 300, 'abc', 'x'*40, 1.5, "
	    "[1, [2]], {'a': nil}, b'bin']]", "nil");
	EXACT("list.copy", "['sz_l']");
	EXACT("list.slice", "['sz_l', 1, 7, 2]");
	EXACT("list.slice", "['sz_l', -1, nil, -3]");
	/* Through the mutations that change the bytes held. */
	OK("list.set", "['sz_l', 0, 'y'*300]", "nil");
	OK("list.pop", "['sz_l']", NULL);
	OK("list.insert", "['sz_l', 2, 'z'*70000]", "nil");
	OK("list.remove", "['sz_l', 'abc']", "nil");
	OK("list.delete", "['sz_l', 1]", "nil");
	OK("list.append", "['sz_l', f32:2.5]", "nil");
	EXACT("list.copy", "['sz_l']");
	OK("list.clear", "['sz_l']", "nil");
	OK("list.append", "['sz_l', 7]", "nil");
	EXACT("list.copy", "['sz_l']");
}
END_TEST

START_TEST(test_dict)
{
	OK("dict.update", "['sz_d', {'a': 1, 'bb': 'x'*40, 3: [1, 2], "
	    "'k'*35: {'m': nil}}]", "nil");
	EXACT("dict.keys", "['sz_d']");
	EXACT("dict.values", "['sz_d']");
	EXACT("dict.items", "['sz_d']");
	EXACT("dict.copy", "['sz_d']");
	EXACT("dict.scan", "['sz_d', 0, 3]");
	OK("dict.set", "['sz_d', 'a', 'longer now'*10]", "nil");
	OK("dict.incr", "['sz_d', 'n', 1000000]", "1000000");
	OK("dict.pop", "['sz_d', 'bb']", NULL);
	OK("dict.popitem", "['sz_d']", NULL);
	OK("dict.delete", "['sz_d', 3]", "nil");
	OK("dict.setdefault", "['sz_d', 'sd', 'v'*20]", NULL);
	OK("dict.cas", "['sz_d', 'sd', 'v'*20, 'w']", NULL);
	EXACT("dict.items", "['sz_d']");
	EXACT("dict.copy", "['sz_d']");
	OK("dict.clear", "['sz_d']", "nil");
	OK("dict.set", "['sz_d', 'z', 'y']", "nil");
	EXACT("dict.copy", "['sz_d']");
}
END_TEST

START_TEST(test_array_and_registry)
{
	OK("array.create", "['sz_ai', {'typecode': 'q', 'items': [0, -1, "
	    "-40, 200, 70000, -70000, 5000000000, -5000000000]}]", "nil");
	EXACT("array.get", "['sz_ai']");
	OK("array.create", "['sz_au', {'typecode': 'B', 'length': 300}]",
	    "nil");
	OK("array.set", "['sz_au', 5, 255]", "nil");
	EXACT("array.get", "['sz_au']");
	OK("array.create", "['sz_af', {'typecode': 'f', 'length': 20}]",
	    "nil");
	EXACT("array.get", "['sz_af']");
	EXACT("obj.list", "[]");
	EXACT("obj.list", "['array']");
	EXACT("obj.scan", "[0, 2]");
}
END_TEST

static Suite *
sizes_suite(void)
{
	Suite *s = suite_create("sizes");
	TCase *tc = tcase_create("exact");

	tcase_add_unchecked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_helpers);
	tcase_add_test(tc, test_list);
	tcase_add_test(tc, test_dict);
	tcase_add_test(tc, test_array_and_registry);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(sizes_suite());
}
