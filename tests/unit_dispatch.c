/*
 * unit_dispatch.c: request handling without sockets: the checks dispatch
 * makes before any handler (the method table against the catalogue and
 * the docs is unit_catalogue.c's), the registry's object lifetime and the
 * per-connection object cache, and the obj and sys verbs. Each type's own
 * verbs are its unit_<type>.c's.
 *
 * Requests and expected results are written in the value notation of
 * harness_notation.h and compared byte for byte, which also checks that the
 * daemon answers canonical encodings. Each scenario is a table of rows run
 * in order; object names differ between scenarios so that they also pass
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
	ck_assert_uint_eq(reply.result.len, 10);
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
	/* Nobody holds or waits; it stays because it was created. */
	ck_assert(result_field("holders", &v) && v.type == MPV_ARRAY &&
	    v.len == 0);
	ck_assert(result_field("waiting", &v) && v.type == MPV_ARRAY &&
	    v.len == 0);
	ck_assert(result_field("stays", &v) && v.type == MPV_ARRAY &&
	    v.len == 1);

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
		"max_client_memory", "waiters", "monitors", "persistence"
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
