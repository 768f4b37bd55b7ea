/*
 * unit_dispatch.c: request handling without sockets: the checks dispatch
 * makes before any handler (the method table against the catalogue and
 * the docs is unit_catalogue.c's), the registry's object
 * lifetime and the per-connection object cache, and every dict, value,
 * obj and sys verb.
 *
 * A fake connection's output buffer collects the replies. Requests and
 * expected results are written in a small notation for MessagePack
 * values, packed by msgpack-c:
 *
 *   nil true false 12 -3 1.5 f32:1.5 'str' 'x'*256 b'bin' x7'ext'
 *   h'd005' (raw bytes, for non-canonical encodings) [a, b] {k: v}
 *
 * Results are compared byte for byte, which also checks that the daemon
 * answers canonical encodings. Each scenario is a table of rows run in
 * order; object names differ between scenarios so that they also pass
 * with CK_FORK=no.
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

/* --- central checks ---------------------------------------------------- */

static const struct row checks[] = {
	{ "dict.nope", "['d']", PERR_NOMETHOD, NULL, "no method 'dict.nope'" },
	{ "", "[]", PERR_NOMETHOD, NULL, NULL },
	{ "auth", "[1]", PERR_NOMETHOD, NULL, NULL },
	{ "dict.get", "['chk']", PERR_BADARG, NULL,
	  "dict.get takes 2 or 3 params (name, key[, default])" },
	{ "dict.get", "['chk', 1, 2, 3]", PERR_BADARG, NULL, "2 or 3" },
	{ "dict.set", "['chk', 1]", PERR_BADARG, NULL,
	  "dict.set takes 3 params (name, key, value)" },
	{ "dict.len", "[]", PERR_BADARG, NULL, "takes 1 param (name)" },
	{ "sys.ping", "[1]", PERR_BADARG, NULL, "sys.ping takes no params" },
	{ "obj.list", "[1, 2]", PERR_BADARG, NULL, "0 or 1" },
	/* The object name: a str of 1..255 bytes. */
	{ "dict.get", "['', 1]", PERR_BADARG, NULL, "1 to 255 bytes" },
	{ "dict.get", "['x'*256, 1]", PERR_BADARG, NULL, NULL },
	{ "dict.get", "[5, 1]", PERR_BADARG, NULL, NULL },
	{ "dict.get", "[nil, 1]", PERR_BADARG, NULL, NULL },
	{ "dict.get", "[b'chk', 1]", PERR_BADARG, NULL, NULL },
	{ "obj.info", "[['chk']]", PERR_BADARG, NULL, NULL },
	{ "dict.set", "['x'*255, 1, 2]", PERR_NONE, "nil", NULL },
	{ "dict.get", "['x'*255, 1]", PERR_NONE, "2", NULL },
	/* Types. */
	{ "value.set", "['chk.v', 1]", PERR_NONE, "nil", NULL },
	{ "dict.get", "['chk.v', 1]", PERR_WRONGTYPE, NULL,
	  "'chk.v' is a value, not a dict" },
	{ "dict.set", "['chk.v', 1, 2]", PERR_WRONGTYPE, NULL, NULL },
	{ "dict.create", "['chk.v']", PERR_WRONGTYPE, NULL, NULL },
	{ "value.get", "['chk.v']", PERR_NONE, "1", NULL },
	{ "obj.info", "['chk.v']", PERR_NONE, NULL, NULL },
};

START_TEST(test_checks)
{
	RUN(checks);
}
END_TEST

START_TEST(test_nomethod_long)
{
	char name[1001];
	msgpack_packer pk;

	memset(name, 'm', sizeof name - 1);
	name[sizeof name - 1] = '\0';
	begin_request(&pk, name);
	msgpack_pack_array(&pk, 0);
	send_packed();
	ck_assert_int_eq(reply_err, PERR_NOMETHOD);
	ck_assert_uint_lt(reply_msg.len, 100);
}
END_TEST

START_TEST(test_admin)
{
	conn->uid = server.uid + 1;
	if (conn->uid == 0)
		conn->uid = 2;
	ERRM("sys.shutdown", "[]", AUTH,
	    "sys.shutdown needs root or the daemon's user");
	ck_assert(!server.stopping);
	OK("sys.ping", "[]", "'pong'");
}
END_TEST

START_TEST(test_memory_ceiling)
{
	OK("dict.set", "['ceil', 1, 1]", "nil");
	server.max_memory = 1;
	ERRM("dict.set", "['ceil', 2, 2]", LIMIT, "ceiling");
	ERR("dict.incr", "['ceil', 1]", LIMIT);
	ERR("value.set", "['ceil.v', 1]", LIMIT);
	ERR("dict.create", "['ceil.new']", LIMIT);
	/* Reads and writes that only free still work. */
	OK("dict.get", "['ceil', 1]", "1");
	ERR("dict.delete", "['ceil', 2]", NOKEY);
	OK("dict.pop", "['ceil', 1]", "1");
	ERR("obj.info", "['ceil']", NOOBJ);
	server.max_memory = 0;
	OK("dict.set", "['ceil', 2, 2]", "nil");
}
END_TEST

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
	/* int64 edges */
	{ "dict.set", "['d5', 'max', 9223372036854775806]", PERR_NONE, "nil",
	  NULL },
	{ "dict.incr", "['d5', 'max']", PERR_NONE, "9223372036854775807", NULL },
	{ "dict.incr", "['d5', 'max']", PERR_RANGE, NULL, "int64" },
	{ "dict.get", "['d5', 'max']", PERR_NONE, "9223372036854775807", NULL },
	{ "dict.incr", "['d5', 'min', -9223372036854775807]", PERR_NONE,
	  "-9223372036854775807", NULL },
	{ "dict.incr", "['d5', 'min', -1]", PERR_NONE, "-9223372036854775808",
	  NULL },
	{ "dict.incr", "['d5', 'min', -1]", PERR_RANGE, NULL, NULL },
	{ "dict.incr", "['d5', 'big', 9223372036854775808]", PERR_RANGE, NULL,
	  NULL },
	{ "dict.set", "['d5', 'u64', 18446744073709551615]", PERR_NONE, "nil",
	  NULL },
	{ "dict.incr", "['d5', 'u64', -1]", PERR_RANGE, NULL, NULL },
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

/* Fill name with keys 0..n-1 (values equal to the keys). */
static void
fill_dict(const char *name, int n)
{
	msgpack_packer pk;
	int i;

	begin_request(&pk, "dict.update");
	msgpack_pack_array(&pk, 2);
	msg_pack_cstr(&pk, name);
	msgpack_pack_map(&pk, (size_t)n);
	for (i = 0; i < n; i++) {
		msgpack_pack_int(&pk, i);
		msgpack_pack_int(&pk, i);
	}
	send_packed();
	ck_assert_int_eq(reply_err, PERR_NONE);
}

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

/* --- value --------------------------------------------------------------- */

static const struct row value_rows[] = {
	{ "value.get", "['v1']", PERR_NONE, "nil", NULL },
	{ "obj.info", "['v1']", PERR_NOOBJ, NULL, NULL },
	{ "value.incr", "['v1']", PERR_NONE, "1", NULL },
	{ "value.incr", "['v1', -3]", PERR_NONE, "-2", NULL },
	{ "value.incr", "['v1', 0.5]", PERR_NONE, "-1.5", NULL },
	{ "value.set", "['v1', 9223372036854775807]", PERR_NONE, "nil", NULL },
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

/* --- objects and the registry -------------------------------------------- */

static const struct row lifetime[] = {
	/* Implicit: gone when emptied. */
	{ "dict.set", "['o1', 'k', 1]", PERR_NONE, "nil", NULL },
	{ "obj.info", "['o1']", PERR_NONE, NULL, NULL },
	{ "dict.delete", "['o1', 'k']", PERR_NONE, "nil", NULL },
	{ "obj.info", "['o1']", PERR_NOOBJ, NULL, NULL },
	/* Explicit: stays empty until obj.delete. */
	{ "dict.create", "['o2']", PERR_NONE, "nil", NULL },
	{ "dict.create", "['o2', {}]", PERR_NONE, "nil", NULL },
	{ "dict.create", "['o2', nil]", PERR_NONE, "nil", NULL },
	{ "dict.set", "['o2', 'k', 1]", PERR_NONE, "nil", NULL },
	{ "dict.create", "['o2']", PERR_NONE, "nil", NULL },
	{ "dict.len", "['o2']", PERR_NONE, "1", NULL },
	{ "dict.pop", "['o2', 'k']", PERR_NONE, "1", NULL },
	{ "obj.info", "['o2']", PERR_NONE, NULL, NULL },
	{ "obj.delete", "['o2']", PERR_NONE, "nil", NULL },
	{ "obj.info", "['o2']", PERR_NOOBJ, NULL, NULL },
	{ "obj.delete", "['o2']", PERR_NOOBJ, NULL, "no object 'o2'" },
	/* create makes an implicit object explicit. */
	{ "dict.set", "['o3', 'k', 1]", PERR_NONE, "nil", NULL },
	{ "dict.create", "['o3']", PERR_NONE, "nil", NULL },
	{ "dict.clear", "['o3']", PERR_NONE, "nil", NULL },
	{ "dict.len", "['o3']", PERR_NONE, "0", NULL },
	{ "obj.delete", "['o3']", PERR_NONE, "nil", NULL },
	/* obj.delete takes any type. */
	{ "value.set", "['o4', 1]", PERR_NONE, "nil", NULL },
	{ "obj.delete", "['o4']", PERR_NONE, "nil", NULL },
	{ "value.get", "['o4']", PERR_NONE, "nil", NULL },
	{ "obj.delete", "['']", PERR_BADARG, NULL, NULL },
};

START_TEST(test_lifetime)
{
	RUN(lifetime);
}
END_TEST

START_TEST(test_obj_info)
{
	struct mpv v;

	OK("dict.create", "['i1']", "nil");
	OK("dict.set", "['i1', 'a', 'b']", "nil");
	OK("obj.info", "['i1']", NULL);
	ck_assert_uint_eq(reply.result.len, 7);
	ck_assert(result_field("name", &v) && mpv_str_eq(&v, "i1"));
	ck_assert(result_field("type", &v) && mpv_str_eq(&v, "dict"));
	ck_assert(result_field("size", &v) && v.type == MPV_UINT &&
	    v.v.u == 1);
	ck_assert(result_field("explicit", &v) && v.type == MPV_BOOL &&
	    v.v.b);
	ck_assert(result_field("memory", &v) && v.type == MPV_UINT &&
	    v.v.u > 0);
	ck_assert(result_field("waiters", &v) && v.type == MPV_UINT &&
	    v.v.u == 0);
	ck_assert(result_field("options", &v) && v.type == MPV_MAP &&
	    v.len == 0);

	OK("value.set", "['i2', 3]", "nil");
	OK("obj.info", "['i2']", NULL);
	ck_assert(result_field("explicit", &v) && !v.v.b);
	ck_assert(result_field("type", &v) && mpv_str_eq(&v, "value"));
	ck_assert(result_field("options", &v) && v.type == MPV_MAP &&
	    v.len == 1);
}
END_TEST

START_TEST(test_obj_list_scan)
{
	char params[64];
	int seen[30], i, steps = 0;
	uint64_t cursor = 0;
	struct mpv_iter lit, eit;
	struct mpv e, name, type;

	for (i = 0; i < 30; i++) {
		snprintf(params, sizeof params, "['l%d', %d]", i, i + 1);
		OK("value.set", params, "nil");
	}
	memset(seen, 0, sizeof seen);
	do {
		struct mpv_iter it;
		struct mpv cur, list;

		snprintf(params, sizeof params, "[%llu, 4]",
		    (unsigned long long)cursor);
		send_req("obj.scan", params);
		ck_assert_msg(reply_err == PERR_NONE, "%s", show_reply());
		mpv_iter_init(&it, &reply.result);
		mpv_iter_next(&it, &cur);
		mpv_iter_next(&it, &list);
		mpv_iter_init(&it, &list);
		while (mpv_iter_next(&it, &e)) {
			ck_assert_uint_eq(e.len, 3);
			mpv_iter_init(&eit, &e);
			mpv_iter_next(&eit, &name);
			if (name.len >= 2 && name.ptr[0] == 'l')
				seen[atoi((const char *)name.ptr + 1)]++;
		}
		cursor = cur.v.u;
		ck_assert_int_lt(++steps, 1000);
	} while (cursor != 0);
	for (i = 0; i < 30; i++)
		ck_assert_msg(seen[i] == 1, "l%d seen %d times", i, seen[i]);

	OK("dict.set", "['l.dict', 1, 1]", "nil");
	OK("obj.list", "[]", NULL);
	ck_assert_uint_eq(reply.result.len, registry_count());
	OK("obj.list", "[nil]", NULL);
	ck_assert_uint_eq(reply.result.len, registry_count());
	OK("obj.list", "['dict']", NULL);
	ck_assert_uint_ge(reply.result.len, 1);
	ck_assert_uint_lt(reply.result.len, registry_count());
	mpv_iter_init(&lit, &reply.result);
	while (mpv_iter_next(&lit, &e)) {
		mpv_iter_init(&eit, &e);
		mpv_iter_next(&eit, &name);
		mpv_iter_next(&eit, &type);
		ck_assert(mpv_str_eq(&type, "dict"));
	}
	ERR("obj.list", "['nope']", BADARG);
	ERR("obj.list", "[1]", BADARG);
	ERR("obj.scan", "[-1]", BADARG);
	ERR("obj.scan", "[0, 0]", BADARG);
}
END_TEST

START_TEST(test_sys)
{
	static const char *const fields[] = {
		"version", "pid", "uptime_sec", "clients", "unauth_clients",
		"paused_clients", "objects", "ops", "conns_total",
		"memory_used", "max_memory", "client_memory",
		"max_client_memory", "waiters", "persistence"
	};
	struct mpv v;
	uint64_t ops;
	size_t i;

	OK("sys.ping", "[]", "'pong'");
	server.nclients = 3;
	server.nunauth = 2;
	server.conns_total = 7;
	server.max_memory = 1u << 30;
	ops = server.ops;
	OK("sys.stats", "[]", NULL);
	ck_assert_uint_eq(reply.result.len, sizeof fields / sizeof fields[0]);
	for (i = 0; i < sizeof fields / sizeof fields[0]; i++)
		ck_assert_msg(result_field(fields[i], &v), "no %s", fields[i]);
	ck_assert(result_field("version", &v) &&
	    mpv_str_eq(&v, MPMGRD_VERSION));
	ck_assert(result_field("pid", &v) && v.v.u == (uint64_t)getpid());
	ck_assert(result_field("uptime_sec", &v) && v.type == MPV_UINT);
	ck_assert(result_field("clients", &v) && v.v.u == 3);
	ck_assert(result_field("unauth_clients", &v) && v.v.u == 2);
	ck_assert(result_field("conns_total", &v) && v.v.u == 7);
	ck_assert(result_field("objects", &v) && v.v.u == registry_count());
	ck_assert(result_field("ops", &v) && v.v.u == ops + 1);
	ck_assert(result_field("memory_used", &v) && v.v.u > 0 &&
	    v.v.u <= mem_used());
	ck_assert(result_field("max_memory", &v) && v.v.u == 1u << 30);
	/* no --data-dir: memory only, and nothing to save */
	ck_assert(result_field("persistence", &v) && mpv_str_eq(&v, "memory"));
	ERR("sys.save", "[]", BADARG);
	server.max_memory = 0;
}
END_TEST

/* --- the per-connection object cache --------------------------------------- */

/*
 * dispatch finds a request's object through its connection's one-entry
 * cache (registry_lookup_cached). Deleting the object, explicitly or by
 * emptying an implicit one, and making another of a different type under
 * the same name must never leave a connection with the old object: the
 * type checks are the new object's, and the old one is not touched (under
 * SANITIZE=1 a read of it is a use after free).
 */
static const struct row cache_one_conn[] = {
	/* obj.delete, then the name taken by another type */
	{ "dict.set", "['oc1', 'k', 1]", PERR_NONE, "nil", NULL },
	{ "dict.get", "['oc1', 'k']", PERR_NONE, "1", NULL },
	{ "obj.delete", "['oc1']", PERR_NONE, "nil", NULL },
	{ "value.set", "['oc1', 5]", PERR_NONE, "nil", NULL },
	{ "dict.get", "['oc1', 'k']", PERR_WRONGTYPE, NULL,
	  "'oc1' is a value, not a dict" },
	{ "dict.set", "['oc1', 'k', 2]", PERR_WRONGTYPE, NULL, NULL },
	{ "value.get", "['oc1']", PERR_NONE, "5", NULL },
	/* an implicit object gone when emptied, then re-made as a list */
	{ "dict.set", "['oc2', 'k', 1]", PERR_NONE, "nil", NULL },
	{ "dict.delete", "['oc2', 'k']", PERR_NONE, "nil", NULL },
	{ "list.append", "['oc2', 'x']", PERR_NONE, "nil", NULL },
	{ "dict.len", "['oc2']", PERR_WRONGTYPE, NULL,
	  "'oc2' is a list, not a dict" },
	{ "list.len", "['oc2']", PERR_NONE, "1", NULL },
	/* and back to the first type: a fresh, empty object */
	{ "obj.delete", "['oc2']", PERR_NONE, "nil", NULL },
	{ "dict.len", "['oc2']", PERR_NONE, "0", NULL },
	{ "dict.set", "['oc2', 'j', 2]", PERR_NONE, "nil", NULL },
	{ "dict.get", "['oc2', 'k']", PERR_NOKEY, NULL, NULL },
	{ "dict.get", "['oc2', 'j']", PERR_NONE, "2", NULL },
	/* a delete of another object in between */
	{ "value.set", "['oc3', 1]", PERR_NONE, "nil", NULL },
	{ "obj.delete", "['oc1']", PERR_NONE, "nil", NULL },
	{ "value.get", "['oc3']", PERR_NONE, "1", NULL },
	{ "obj.delete", "['oc3']", PERR_NONE, "nil", NULL },
	{ "queue.put", "['oc3', 'q']", PERR_NONE, "nil", NULL },
	{ "value.get", "['oc3']", PERR_WRONGTYPE, NULL,
	  "'oc3' is a queue, not a value" },
	{ "queue.qsize", "['oc3']", PERR_NONE, "1", NULL },
};

START_TEST(test_cache_one_conn)
{
	RUN(cache_one_conn);
}
END_TEST

/* Connection 1 caches an object; connection 0 deletes and re-makes it. */
START_TEST(test_cache_two_conns)
{
	struct object *o;

	fc_use(1);
	OK("dict.set", "['oc4', 'k', 1]", "nil");
	OK("dict.get", "['oc4', 'k']", "1");
	o = registry_lookup("oc4", 3);
	ck_assert_ptr_eq(conn->last_obj, o);

	fc_use(0);
	OK("dict.get", "['oc4', 'k']", "1");
	OK("obj.delete", "['oc4']", "nil");
	OK("value.set", "['oc4', 'v']", "nil");

	fc_use(1);
	ERRM("dict.get", "['oc4', 'k']", WRONGTYPE,
	    "'oc4' is a value, not a dict");
	OK("value.get", "['oc4']", "'v'");
	ck_assert_ptr_eq(conn->last_obj, registry_lookup("oc4", 3));

	/* emptied (so gone) by connection 1, made a dict by connection 0 */
	fc_use(1);
	OK("list.append", "['oc6', 1]", "nil");
	OK("list.pop", "['oc6']", "1");
	ck_assert_ptr_null(registry_lookup("oc6", 3));
	fc_use(0);
	OK("dict.set", "['oc6', 'k', 1]", "nil");
	fc_use(1);
	ERRM("list.len", "['oc6']", WRONGTYPE, "'oc6' is a dict, not a list");
	OK("dict.len", "['oc6']", "1");
	fc_use(0);
}
END_TEST

/*
 * The cache itself: a hit only while no object has been deleted since it
 * was filled; a deleted object is never answered, even when the name is
 * missing now and the cache still holds the old pointer.
 */
START_TEST(test_cache_lookup)
{
	struct object *cache = NULL, *a, *b;
	uint64_t gen = 0;

	ck_assert_ptr_null(registry_lookup_cached("oc7", 3, &cache, &gen));
	ck_assert_ptr_null(cache);
	OK("dict.set", "['oc7', 'k', 1]", "nil");
	a = registry_lookup_cached("oc7", 3, &cache, &gen);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_eq(a, registry_lookup("oc7", 3));
	ck_assert_ptr_eq(cache, a);
	ck_assert_ptr_eq(registry_lookup_cached("oc7", 3, &cache, &gen), a);
	/* another name: looked up, and cached instead */
	OK("value.set", "['oc8', 1]", "nil");
	b = registry_lookup_cached("oc8", 3, &cache, &gen);
	ck_assert_ptr_eq(b, registry_lookup("oc8", 3));
	ck_assert_ptr_eq(cache, b);
	ck_assert_ptr_eq(registry_lookup_cached("oc7", 3, &cache, &gen), a);

	OK("obj.delete", "['oc7']", "nil");
	ck_assert_ptr_null(registry_lookup_cached("oc7", 3, &cache, &gen));
	OK("value.set", "['oc7', 2]", "nil");
	b = registry_lookup_cached("oc7", 3, &cache, &gen);
	ck_assert_ptr_eq(b, registry_lookup("oc7", 3));
	ck_assert_ptr_eq(b->type, &value_type);
	OK("obj.delete", "['oc7']", "nil");
	OK("obj.delete", "['oc8']", "nil");
}
END_TEST

/* --- incremental frees --------------------------------------------------- */

#define BIG 100000

/* Slack for scratch buffers and the registry's own table. */
#define SLACK 65536

/* The request buffer is counted in mem_used() too: grow it beforehand. */
static void
reserve_request(void)
{
	ck_assert_int_eq(buf_reserve(&reqbuf, 4u << 20), 0);
}

START_TEST(test_delete_big)
{
	size_t m0, m1, m2;
	int steps = 0;

	reserve_request();
	fill_dict("big", 1);
	OK("obj.delete", "['big']", "nil");
	m0 = mem_used();
	fill_dict("big", BIG);
	m1 = mem_used();
	ck_assert_uint_gt(m1, m0 + BIG * 16);

	/* The reply comes before the memory goes. */
	OK("obj.delete", "['big']", "nil");
	ERR("obj.info", "['big']", NOOBJ);
	m2 = mem_used();
	ck_assert_uint_gt(m2, m0 + (m1 - m0) / 2);
	OK("dict.set", "['big', 'new', 1]", "nil");
	OK("dict.len", "['big']", "1");
	OK("obj.delete", "['big']", "nil");

	while (!registry_free_step(REGISTRY_FREE_SLICE))
		ck_assert_int_lt(++steps, BIG);
	ck_assert_int_ge(steps, BIG / REGISTRY_FREE_SLICE / 2);
	ck_assert_uint_le(mem_used(), m0 + SLACK);
}
END_TEST

/* The same through the loop's timer, and for dict.clear. */
START_TEST(test_free_by_timer)
{
	size_t m0, m1;
	int turns = 0;

	reserve_request();
	fill_dict("big2", 1);
	OK("dict.clear", "['big2']", "nil");
	m0 = mem_used();
	fill_dict("big2", BIG);
	m1 = mem_used();
	ck_assert_uint_gt(m1, m0 + BIG * 16);
	OK("dict.clear", "['big2']", "nil");
	ERR("obj.info", "['big2']", NOOBJ);
	ck_assert_uint_gt(mem_used(), m0 + (m1 - m0) / 2);
	while (mem_used() > m0 + SLACK) {
		/* One loop turn: I/O would be served between slices. */
		ck_assert_int_ne(event_base_loop(server.base,
		    EVLOOP_ONCE | EVLOOP_NONBLOCK), -1);
		ck_assert_int_lt(++turns, BIG);
	}
	ck_assert_int_ge(turns, BIG / REGISTRY_FREE_SLICE / 2);
	ck_assert(registry_free_step(REGISTRY_FREE_SLICE));
}
END_TEST

static Suite *
dispatch_suite(void)
{
	Suite *s = suite_create("dispatch");
	TCase *tc;

	tc = tcase_create("dispatch");
	tcase_add_unchecked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_checks);
	tcase_add_test(tc, test_nomethod_long);
	tcase_add_test(tc, test_admin);
	tcase_add_test(tc, test_memory_ceiling);
	suite_add_tcase(s, tc);

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

	tc = tcase_create("value");
	tcase_add_unchecked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_value);
	suite_add_tcase(s, tc);

	tc = tcase_create("registry");
	tcase_add_unchecked_fixture(tc, setup, NULL);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_lifetime);
	tcase_add_test(tc, test_obj_info);
	tcase_add_test(tc, test_obj_list_scan);
	tcase_add_test(tc, test_sys);
	tcase_add_test(tc, test_cache_one_conn);
	tcase_add_test(tc, test_cache_two_conns);
	tcase_add_test(tc, test_cache_lookup);
	tcase_add_test(tc, test_delete_big);
	tcase_add_test(tc, test_free_by_timer);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(dispatch_suite());
}
