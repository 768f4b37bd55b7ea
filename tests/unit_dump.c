/*
 * unit_dump.c: obj.dump and obj.restore without sockets: every type's
 * record, byte for byte, and a round trip for each (dump, delete, restore,
 * dump again: the same bytes); what a record keeps of a held object (the
 * disconnect rule: locks released unless kept, permits and leased items
 * given back, waiters gone); and every way a record is refused, changing
 * nothing.
 *
 * Every reply must be taken: a request sent with AS(i) first checks that
 * no connection has an answer nobody looked at.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "../daemon/dispatch.h"
#include "../daemon/mpmgrd.h"
#include "../daemon/registry.h"
#include "../daemon/reply.h"
#include "../daemon/waiter.h"
#include "unit_util.h"

/* The next request goes from fake connection i. */
#define AS(i) fc_from(__LINE__, i)

/* obj.restore [name, record bytes(, extra notation)]. */
static void
restore_raw(const char *name, const uint8_t *rec, size_t n,
    const char *replace)
{
	msgpack_packer pk;

	begin_request(&pk, "obj.restore");
	msgpack_pack_array(&pk, replace != NULL ? 3 : 2);
	msgpack_pack_str(&pk, strlen(name));
	msgpack_pack_str_body(&pk, name, strlen(name));
	pack_raw(&pk, rec, n);
	if (replace != NULL)
		harness_pack_text(&pk, replace);
	send_packed();
}

/*
 * name's record is expected; then it is deleted, restored from that
 * record, and dumped again: the same bytes.
 */
static void
roundtrip(int line, const char *name, const char *expected)
{
	char params[300];
	struct buf rec = BUF_INIT;

	snprintf(params, sizeof params, "['%s']", name);
	expect(line, &(struct row){ "obj.dump", params, PERR_NONE, expected,
	    NULL });
	ck_assert_int_eq(buf_append(&rec, reply.result.raw,
	    reply.result.rawlen), 0);
	OK("obj.delete", params, "nil");
	restore_raw(name, buf_head(&rec), buf_used(&rec), NULL);
	ck_assert_msg(reply_err == PERR_NONE, "line %d: restore %s: %s", line,
	    name, show_reply());
	expect(line, &(struct row){ "obj.dump", params, PERR_NONE, NULL,
	    NULL });
	ck_assert_msg(reply.result.rawlen == buf_used(&rec) &&
	    memcmp(reply.result.raw, buf_head(&rec), buf_used(&rec)) == 0,
	    "line %d: %s restored as %s", line, name, show_reply());
	buf_free(&rec);
}
#define ROUNDTRIP(name, expected) roundtrip(__LINE__, name, expected)

/* The last reply's record has contents[key] == expected (notation). */
static bool
contents_field(const char *key, const char *expected)
{
	struct buf want = BUF_INIT;
	struct mpv c, k, v;
	struct mpv_iter it;
	bool same = false;

	if (!result_field("contents", &c) || c.type != MPV_MAP)
		return false;
	pn_to_buf(&want, expected);
	mpv_iter_init(&it, &c);
	while (mpv_iter_next(&it, &k) && mpv_iter_next(&it, &v)) {
		if (mpv_str_eq(&k, key))
			same = v.rawlen == buf_used(&want) &&
			    memcmp(v.raw, buf_head(&want), v.rawlen) == 0;
	}
	buf_free(&want);
	return same;
}

START_TEST(test_every_type)
{
	AS(0);
	OK("dict.set", "['d', 'a', 1]", "nil");
	OK("dict.set", "['d', [1, 2], {'x': [b'\\x00\\xff', x5'e']}]", "nil");
	OK("dict.set", "['d', 2.5, nil]", "nil");
	ROUNDTRIP("d", "{'name': 'd', 'type': 'dict', 'explicit': false, "
	    "'options': {}, 'contents': [['a', 1], [[1, 2], {'x': "
	    "[b'\\x00\\xff', x5'e']}], [2.5, nil]]}");
	OK("list.extend", "['l', [3, 'three', [3], -3]]", "nil");
	ROUNDTRIP("l", "{'name': 'l', 'type': 'list', 'explicit': false, "
	    "'options': {}, 'contents': [3, 'three', [3], -3]}");
	OK("list.create", "['le']", "nil");
	ROUNDTRIP("le", "{'name': 'le', 'type': 'list', 'explicit': true, "
	    "'options': {}, 'contents': []}");
	OK("value.create", "['v', {'value': 10}]", "nil");
	OK("value.incr", "['v', 5]", "15");
	ROUNDTRIP("v", "{'name': 'v', 'type': 'value', 'explicit': true, "
	    "'options': {'value': 10}, 'contents': 15}");
	OK("array.create", "['a', {'typecode': 'd', 'items': [1, 2.5]}]",
	    "nil");
	OK("array.set", "['a', 0, 7]", "nil");
	ROUNDTRIP("a", "{'name': 'a', 'type': 'array', 'explicit': true, "
	    "'options': {'typecode': 'd', 'items': [1.0, 2.5]}, "
	    "'contents': [7.0, 2.5]}");
	OK("array.create", "['ab', {'typecode': 'b', 'length': 3}]", "nil");
	OK("array.set", "['ab', 2, -128]", "nil");
	ROUNDTRIP("ab", "{'name': 'ab', 'type': 'array', 'explicit': true, "
	    "'options': {'typecode': 'b', 'length': 3}, "
	    "'contents': [0, 0, -128]}");
	OK("queue.create", "['q', {'maxsize': 2}]", "nil");
	OK("queue.put_many", "['q', ['x', 'y']]", "nil");
	ROUNDTRIP("q", "{'name': 'q', 'type': 'queue', 'explicit': true, "
	    "'options': {'maxsize': 2, 'ack': false}, 'contents': ['x', 'y']}");
	OK("queue.qsize", "['q']", "2");
	OK("queue.full", "['q']", "true");
	OK("event.set", "['e']", "nil");
	ROUNDTRIP("e", "{'name': 'e', 'type': 'event', 'explicit': false, "
	    "'options': {}, 'contents': true}");
	OK("event.is_set", "['e']", "true");
	OK("semaphore.create", "['s', {'value': 3, 'bounded': true}]", "nil");
	OK("semaphore.acquire", "['s']", "true");
	ROUNDTRIP("s", "{'name': 's', 'type': 'semaphore', 'explicit': true, "
	    "'options': {'value': 3, 'bounded': true, "
	    "'release_on_disconnect': true}, 'contents': 3}");
	OK("lock.create", "['k', {'release_on_disconnect': false}]", "nil");
	OK("lock.acquire", "['k']", "true");
	ROUNDTRIP("k", "{'name': 'k', 'type': 'lock', 'explicit': true, "
	    "'options': {'release_on_disconnect': false}, 'contents': 1}");
	/* Restored held by nobody: anyone may release a lock. */
	OK("lock.acquire", "['k', 0]", "false");
	OK("lock.release", "['k']", "nil");
	OK("rlock.create", "['r', {'release_on_disconnect': false}]", "nil");
	OK("rlock.acquire", "['r']", "true");
	OK("rlock.acquire", "['r']", "true");
	ROUNDTRIP("r", "{'name': 'r', 'type': 'rlock', 'explicit': true, "
	    "'options': {'release_on_disconnect': false}, 'contents': 2}");
	ERR("rlock.release", "['r']", NOTOWNER);
	OK("rlock.locked", "['r']", "true");
	OK("condition.create", "['c', {'lock': 'k'}]", "nil");
	ROUNDTRIP("c", "{'name': 'c', 'type': 'condition', 'explicit': true, "
	    "'options': {'lock': 'k'}, 'contents': nil}");
	OK("barrier.create", "['b', {'parties': 3}]", "nil");
	ROUNDTRIP("b", "{'name': 'b', 'type': 'barrier', 'explicit': true, "
	    "'options': {'parties': 3}, 'contents': nil}");
	/* Pipes and pools have no record form: refused both ways, rather
	 * than dumped as empty objects. */
	OK("pipe.create", "['p', {'duplex': false}]", "nil");
	ERRM("obj.dump", "['p']", BADTYPE, "a pipe cannot be dumped");
	ERRM("obj.restore", "['p2', {'type': 'pipe', 'options': {}, "
	    "'contents': nil}]", BADTYPE, "a pipe cannot be");
	OK("pool.create", "['po']", "nil");
	ERRM("obj.dump", "['po']", BADTYPE, "a pool cannot be dumped");
	ERRM("obj.restore", "['po', {'type': 'pool', 'options': {}, "
	    "'contents': nil}, true]", BADTYPE, "a pool cannot be");
	OK("obj.info", "['po']", NULL);
	/* A process record: an exited one as it is; a running one lost
	 * (its supervisor's connection goes with a restart). */
	AS(4);
	OK("process.register", "['px', {'pid': 42, 'argv': ['sleep', '1']}]",
	    "nil");
	OK("process.exited", "['px', 3]", "nil");
	OK("process.register", "['pr', {'pid': 43, 'argv': ['x'], "
	    "'daemon': true}]", "nil");
	OK("obj.dump", "['px']", NULL);
	ck_assert(contents_field("state", "'exited'"));
	ck_assert(contents_field("exitcode", "3"));
	ck_assert(contents_field("argv", "['sleep', '1']"));
	OK("obj.dump", "['pr']", NULL);
	ck_assert(contents_field("state", "'lost'"));
	ck_assert(contents_field("daemon", "true"));
	ROUNDTRIP("px", NULL);
	OK("process.join", "['px', 0]", "3");
	ROUNDTRIP("pr", NULL);
	ERR("process.join", "['pr', 0]", LOST);
	OK("process.is_alive", "['pr']", "false");
	AS(0);
	/* Ephemeral: the restoring connection's, gone with it. */
	OK("dict.create", "['eph', {'ephemeral': true}]", "nil");
	OK("dict.set", "['eph', 1, 1]", "nil");
	ROUNDTRIP("eph", "{'name': 'eph', 'type': 'dict', 'explicit': true, "
	    "'ephemeral': true, 'options': {}, 'contents': [[1, 1]]}");
	fc_close(0);
	ERR("obj.info", "['eph']", NOOBJ);
	ERR("obj.dump", "['eph']", NOOBJ);
	for (const char *const *n = (const char *const[]){ "a", "ab", "q",
	    "s", "k", "r", "c", "b", "le", "v", "p", "po", "px", "pr", NULL };
	    *n != NULL; n++) {
		char params[40];

		snprintf(params, sizeof params, "['%s']", *n);
		OK("obj.delete", params, "nil");
	}
	OK("dict.clear", "['d']", "nil");
	OK("list.clear", "['l']", "nil");
	OK("event.clear", "['e']", "nil");
	ck_assert_uint_eq(registry_count(), 0);
	fc_close_all();
}
END_TEST

/* What a record keeps of what connections hold: a restart's view. */
START_TEST(test_disconnect_rule)
{
	AS(1);
	OK("semaphore.create", "['hs', {'value': 4}]", "nil");
	OK("semaphore.acquire", "['hs']", "true");
	OK("semaphore.acquire", "['hs', nil, {'ttl': 30}]", "true");
	AS(2);
	OK("semaphore.acquire", "['hs']", "true");
	OK("semaphore.value", "['hs']", "1");
	OK("obj.dump", "['hs']", "{'name': 'hs', 'type': 'semaphore', "
	    "'explicit': true, 'options': {'value': 4, 'bounded': false, "
	    "'release_on_disconnect': true}, 'contents': 4}");
	/* A held lock given back on disconnect is free in its record; an
	 * implicit one so restored goes at once, as after a restart. */
	OK("lock.acquire", "['hl']", "true");
	OK("obj.dump", "['hl']", "{'name': 'hl', 'type': 'lock', 'explicit': "
	    "false, 'options': {'release_on_disconnect': true}, 'contents': "
	    "0}");
	OK("rlock.acquire", "['hr']", "true");
	OK("obj.dump", "['hr']", NULL);
	ck_assert(reply_is("{'name': 'hr', 'type': 'rlock', 'explicit': false, "
	    "'options': {'release_on_disconnect': true}, 'contents': 0}"));
	/* Leased items first, then the queue's; waiters are not kept. */
	OK("queue.create", "['hq', {'ack': true}]", "nil");
	OK("queue.put_many", "['hq', [1, 2, 3, 4]]", "nil");
	OK("queue.get", "['hq']", "1");
	OK("queue.get", "['hq']", "2");
	PARK(3, "event.wait", "['he']");
	AS(2);
	OK("obj.dump", "['hq']", "{'name': 'hq', 'type': 'queue', 'explicit': "
	    "true, 'options': {'maxsize': 0, 'ack': true}, 'contents': "
	    "[1, 2, 3, 4]}");
	OK("obj.dump", "['he']", "{'name': 'he', 'type': 'event', 'explicit': "
	    "false, 'options': {}, 'contents': false}");
	/* Restored over itself: the queue has all four, the event wakes its
	 * waiter with DELETED. */
	OK("obj.dump", "['hq']", NULL);
	{
		struct buf rec = BUF_INIT;

		buf_append(&rec, reply.result.raw, reply.result.rawlen);
		restore_raw("hq", buf_head(&rec), buf_used(&rec), "true");
		ck_assert_int_eq(reply_err, PERR_NONE);
		buf_free(&rec);
	}
	OK("queue.qsize", "['hq']", "4");
	OK("obj.restore", "['he', {'type': 'event', 'contents': true}, true]",
	    "nil");
	GOT_ERR(3, DELETED);
	AS(2);
	OK("event.is_set", "['he']", "true");
	OK("obj.info", "['he']", NULL);
	fc_close_all();
	OK("obj.delete", "['hq']", "nil");
	OK("obj.delete", "['hs']", "nil");
	/* Restored explicit: a record says so unless it says otherwise. */
	OK("obj.delete", "['he']", "nil");
	ck_assert_uint_eq(registry_count(), 0);
}
END_TEST

static const struct row bad_rows[] = {
	{ "obj.restore", "['x', 5]", PERR_BADARG, NULL, "must be a map" },
	{ "obj.restore", "['x', {}]", PERR_BADARG, NULL, "no type" },
	{ "obj.restore", "['x', {'type': 'table'}]", PERR_BADARG, NULL,
	  "not a type" },
	{ "obj.restore", "['x', {'type': 1}]", PERR_BADARG, NULL, NULL },
	{ "obj.restore", "['x', {'type': 'dict', 'size': 1}]", PERR_BADARG,
	  NULL, "each once" },
	{ "obj.restore", "['x', {'type': 'dict', 'type': 'dict'}]",
	  PERR_BADARG, NULL, "each once" },
	{ "obj.restore", "['x', {'name': 'y', 'type': 'dict'}]", PERR_BADARG,
	  NULL, "not the name restored" },
	{ "obj.restore", "['x', {'type': 'dict', 'explicit': 1}]",
	  PERR_BADARG, NULL, "true or false" },
	{ "obj.restore", "['x', {'type': 'dict'}, 1]", PERR_BADARG, NULL,
	  "replace" },
	{ "obj.restore", "['x', {'type': 'dict', 'options': {'maxsize': 1}}]",
	  PERR_BADARG, NULL, NULL },
	{ "obj.restore", "['x', {'type': 'queue', 'explicit': false, "
	  "'options': {'maxsize': 1}}]", PERR_BADARG, NULL,
	  "default options" },
	{ "obj.restore", "['x', {'type': 'dict', 'explicit': false, "
	  "'ephemeral': true}]", PERR_BADARG, NULL, "not ephemeral" },
	{ "obj.restore", "['x', {'type': 'array'}]", PERR_BADARG, NULL,
	  "typecode" },
	{ "obj.restore", "['x', {'type': 'array', 'options': {'typecode': "
	  "'b', 'length': 2}, 'contents': [1]}]", PERR_BADARG, NULL,
	  "holds 2 elements" },
	{ "obj.restore", "['x', {'type': 'array', 'options': {'typecode': "
	  "'b', 'length': 2}, 'contents': [1, 300]}]", PERR_RANGE, NULL,
	  "element 1" },
	{ "obj.restore", "['x', {'type': 'array', 'options': {'typecode': "
	  "'b', 'length': 2}, 'contents': [1, 'a']}]", PERR_BADTYPE, NULL,
	  NULL },
	{ "obj.restore", "['x', {'type': 'dict', 'contents': [[{}, 1]]}]",
	  PERR_BADTYPE, NULL, "unhashable" },
	{ "obj.restore", "['x', {'type': 'dict', 'contents': [[1]]}]",
	  PERR_BADARG, NULL, NULL },
	{ "obj.restore", "['x', {'type': 'list', 'contents': 5}]",
	  PERR_BADTYPE, NULL, NULL },
	{ "obj.restore", "['x', {'type': 'queue', 'contents': {}}]",
	  PERR_BADTYPE, NULL, NULL },
	{ "obj.restore", "['x', {'type': 'event', 'contents': 1}]",
	  PERR_BADARG, NULL, "true or false" },
	{ "obj.restore", "['x', {'type': 'lock', 'options': "
	  "{'release_on_disconnect': false}, 'contents': 2}]", PERR_BADARG,
	  NULL, "0 or 1" },
	{ "obj.restore", "['x', {'type': 'lock', 'contents': 1}]",
	  PERR_BADARG, NULL, "never held by nobody" },
	{ "obj.restore", "['x', {'type': 'rlock', 'contents': -1}]",
	  PERR_BADARG, NULL, NULL },
	{ "obj.restore", "['x', {'type': 'semaphore', 'options': {'value': "
	  "2, 'bounded': true}, 'contents': 3}]", PERR_BADARG, NULL,
	  "from 0 to 2" },
	{ "obj.restore", "['x', {'type': 'barrier', 'options': {'parties': "
	  "2}, 'contents': 1}]", PERR_BADARG, NULL, "only its options" },
	{ "obj.restore", "['x', {'type': 'condition', 'options': {'lock': "
	  "'x'}}]", PERR_BADARG, NULL, NULL },
	{ "obj.restore", "['x', {'type': 'process', 'contents': 5}]",
	  PERR_BADARG, NULL, "a process's contents" },
	{ "obj.restore", "['x', {'type': 'process', 'contents': {'state': "
	  "'running', 'argv': ['a'], 'pid': 1}}]", PERR_BADARG, NULL, NULL },
	{ "obj.restore", "['x', {'type': 'process', 'contents': {'state': "
	  "'exited', 'pid': 1}}]", PERR_BADARG, NULL, NULL },
	{ "obj.restore", "['x', {'type': 'process', 'contents': {'state': "
	  "'exited', 'argv': [1], 'pid': 1}}]", PERR_BADARG, NULL, NULL },
	{ "obj.restore", "['x']", PERR_BADARG, NULL, NULL },
	/* None of it made anything. */
	{ "obj.info", "['x']", PERR_NOOBJ, NULL, NULL },
	{ "obj.dump", "['x']", PERR_NOOBJ, NULL, NULL },
	/* What exists is refused unless replaced; a refused replace changes
	 * nothing. */
	{ "dict.set", "['x', 1, 1]", PERR_NONE, "nil", NULL },
	{ "obj.restore", "['x', {'type': 'list'}]", PERR_EXISTS, NULL,
	  "type dict" },
	{ "obj.restore", "['x', {'type': 'list', 'contents': 5}, true]",
	  PERR_BADTYPE, NULL, NULL },
	{ "dict.get", "['x', 1]", PERR_NONE, "1", NULL },
	{ "obj.restore", "['x', {'type': 'list', 'contents': [5]}, true]",
	  PERR_NONE, "nil", NULL },
	{ "list.copy", "['x']", PERR_NONE, "[5]", NULL },
	/* A record without contents: the type's defaults; an implicit one
	 * in its initial state goes at once. */
	{ "obj.restore", "['x', {'type': 'value'}, true]", PERR_NONE, "nil",
	  NULL },
	{ "obj.info", "['x']", PERR_NONE, NULL, NULL },
	{ "obj.restore", "['x', {'type': 'value', 'explicit': false}, true]",
	  PERR_NONE, "nil", NULL },
	{ "obj.info", "['x']", PERR_NOOBJ, NULL, NULL },
	{ "obj.dump", "['x', 1]", PERR_BADARG, NULL, NULL },
	{ "obj.dump", "[5]", PERR_BADARG, NULL, NULL },
};

START_TEST(test_refused)
{
	AS(0);
	RUN(bad_rows);
	ck_assert_uint_eq(registry_count(), 0);
	fc_close_all();
}
END_TEST

static Suite *
dump_suite(void)
{
	Suite *s = suite_create("dump");
	TCase *tc;

	tc = tcase_create("dump");
	tcase_add_unchecked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_every_type);
	tcase_add_test(tc, test_disconnect_rule);
	tcase_add_test(tc, test_refused);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(dump_suite());
}
