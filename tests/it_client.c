/*
 * it_client.c: libmpmgr against a real mpmgrd. Every dict and value verb
 * with exact results, the error codes as the library returns them, the
 * handshake's refusals, pipelining, many processes at once, the fork
 * guard, deep and large values, the registry, sys.stats and shutdown.
 *
 * One daemon per TCase (unchecked fixture, in the runner process); each
 * test runs in its own forked process and connects to it.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static struct harness *const D = &harness_fixture;

/* Write key bytes into a file of the test's directory with mode. */
static void
write_key(const char *path, const void *key, size_t len, mode_t mode)
{
	int fd;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ck_assert_msg(fd != -1, "%s: %s", path, strerror(errno));
	ck_assert(write(fd, key, len) == (ssize_t)len);
	ck_assert(fchmod(fd, mode) == 0);
	close(fd);
}

/* --- verbs ----------------------------------------------------------- */

START_TEST(test_ping)
{
	mpmgr *m = harness_connect(D);

	ck_assert_int_eq(mpmgr_ping(m), 0);
	ck_call_ok(m, "sys.ping", "[]", "'pong'");
	ck_assert_str_eq(mpmgr_socket_path(m), D->sock);
	ck_assert(fcntl(mpmgr_fd(m), F_GETFD) & FD_CLOEXEC);
	mpmgr_free(m);
}
END_TEST

START_TEST(test_dict_get_set)
{
	mpmgr *m = harness_connect(D);

	ck_call_ok(m, "dict.set", "['dgs', 'k1', 'v1']", "nil");
	ck_call_ok(m, "dict.get", "['dgs', 'k1']", "'v1'");
	ck_call_ok(m, "dict.get", "['dgs', 'nope', 7]", "7");
	ck_call_err(m, "dict.get", "['dgs', 'nope']", MPMGR_ENOKEY);
	/* a stored nil is not a missing key */
	ck_call_ok(m, "dict.set", "['dgs', 'n', nil]", "nil");
	ck_call_ok(m, "dict.get", "['dgs', 'n']", "nil");
	ck_call_ok(m, "dict.contains", "['dgs', 'n']", "true");
	ck_call_ok(m, "dict.contains", "['dgs', 'nope']", "false");
	/* keys compare by canonical bytes: 1 and 1.0 differ; arrays are keys */
	ck_call_ok(m, "dict.set", "['dgs', 1, 'int']", "nil");
	ck_call_ok(m, "dict.set", "['dgs', 1.0, 'float']", "nil");
	ck_call_ok(m, "dict.get", "['dgs', 1]", "'int'");
	ck_call_ok(m, "dict.get", "['dgs', 1.0]", "'float'");
	ck_call_ok(m, "dict.set", "['dgs', [1, 'a'], b'\\x00\\xff']", "nil");
	ck_call_ok(m, "dict.get", "['dgs', [1, 'a']]", "b'\\x00\\xff'");
	ck_call_err(m, "dict.set", "['dgs', {'a': 1}, 1]", MPMGR_EBADTYPE);
	ck_call_err(m, "dict.set", "['dgs', [1, {'a': 1}], 1]",
	    MPMGR_EBADTYPE);
	/* overwriting keeps the key's place */
	ck_call_ok(m, "dict.set", "['dgs', 'k1', {'v': [true, false, -3]}]",
	    "nil");
	ck_call_ok(m, "dict.len", "['dgs']", "5");
	ck_call_ok(m, "dict.keys", "['dgs']", "['k1', 'n', 1, 1.0, [1, 'a']]");
	ck_call_ok(m, "dict.values", "['dgs']",
	    "[{'v': [true, false, -3]}, nil, 'int', 'float', b'\\x00\\xff']");
	ck_call_ok(m, "dict.items", "['dgs']",
	    "[['k1', {'v': [true, false, -3]}], ['n', nil], [1, 'int'],"
	    " [1.0, 'float'], [[1, 'a'], b'\\x00\\xff']]");
	ck_call_ok(m, "dict.copy", "['dgs']",
	    "{'k1': {'v': [true, false, -3]}, 'n': nil, 1: 'int',"
	    " 1.0: 'float', [1, 'a']: b'\\x00\\xff'}");
	/* values of every kind come back as they went, ext included */
	ck_call_ok(m, "dict.set", "['dgs', 'x', [-1, -129, -40000, "
	    "-3000000000, 255, 65536, 18446744073709551615, 0.5, -2.25e300, "
	    "'été', x5'\\x01\\x02', x-1'', {}, []]]",
	    "nil");
	ck_call_ok(m, "dict.get", "['dgs', 'x']", "[-1, -129, -40000, "
	    "-3000000000, 255, 65536, 18446744073709551615, 0.5, -2.25e300, "
	    "'été', x5'\\x01\\x02', x-1'', {}, []]");
	mpmgr_free(m);
}
END_TEST

START_TEST(test_dict_mutators)
{
	mpmgr *m = harness_connect(D);

	ck_call_ok(m, "dict.setdefault", "['dm', 'a', 1]", "1");
	ck_call_ok(m, "dict.setdefault", "['dm', 'a', 2]", "1");
	ck_call_ok(m, "dict.setdefault", "['dm', 'b']", "nil");
	ck_call_ok(m, "dict.get", "['dm', 'b']", "nil");
	ck_call_ok(m, "dict.update", "['dm', {'c': 3, 'd': 4}]", "nil");
	ck_call_ok(m, "dict.update", "['dm', [['e', 5], ['a', 10]]]", "nil");
	ck_call_ok(m, "dict.items", "['dm']",
	    "[['a', 10], ['b', nil], ['c', 3], ['d', 4], ['e', 5]]");
	ck_call_ok(m, "dict.pop", "['dm', 'c']", "3");
	ck_call_err(m, "dict.pop", "['dm', 'c']", MPMGR_ENOKEY);
	ck_call_ok(m, "dict.pop", "['dm', 'c', 'gone']", "'gone'");
	ck_call_ok(m, "dict.popitem", "['dm']", "['e', 5]");
	ck_call_ok(m, "dict.popitem", "['dm']", "['d', 4]");
	ck_call_ok(m, "dict.delete", "['dm', 'b']", "nil");
	ck_call_err(m, "dict.delete", "['dm', 'b']", MPMGR_ENOKEY);
	ck_call_ok(m, "dict.keys", "['dm']", "['a']");
	ck_call_ok(m, "dict.clear", "['dm']", "nil");
	ck_call_ok(m, "dict.len", "['dm']", "0");
	ck_call_err(m, "dict.popitem", "['dm']", MPMGR_ENOKEY);
	/* an implicit dict back to empty is gone */
	ck_call_err(m, "obj.info", "['dm']", MPMGR_ENOOBJ);
	/* reads of a missing dict act on an empty one and create nothing */
	ck_call_ok(m, "dict.keys", "['dnever']", "[]");
	ck_call_ok(m, "dict.len", "['dnever']", "0");
	ck_call_ok(m, "dict.get", "['dnever', 'k', 1]", "1");
	ck_call_err(m, "obj.info", "['dnever']", MPMGR_ENOOBJ);
	mpmgr_free(m);
}
END_TEST

START_TEST(test_dict_scan)
{
	mpmgr *m = harness_connect(D);
	bool seen[40] = { false };
	msgpack_object res, *page;
	uint64_t cursor = 0;
	int i, rounds = 0;
	char params[64];

	for (i = 0; i < 40; i++) {
		snprintf(params, sizeof(params), "['dsc', %d, %d]", i, i * 2);
		ck_call_ok(m, "dict.set", params, "nil");
	}
	do {
		snprintf(params, sizeof(params), "['dsc', %llu, 7]",
		    (unsigned long long)cursor);
		ck_assert_int_eq(harness_call(m, "dict.scan", params, &res), 0);
		ck_assert(res.type == MSGPACK_OBJECT_ARRAY &&
		    res.via.array.size == 2);
		ck_assert(res.via.array.ptr[0].type ==
		    MSGPACK_OBJECT_POSITIVE_INTEGER);
		cursor = res.via.array.ptr[0].via.u64;
		page = &res.via.array.ptr[1];
		ck_assert(page->type == MSGPACK_OBJECT_ARRAY);
		for (uint32_t j = 0; j < page->via.array.size; j++) {
			msgpack_object *kv = &page->via.array.ptr[j];

			ck_assert(kv->type == MSGPACK_OBJECT_ARRAY &&
			    kv->via.array.size == 2);
			ck_assert(kv->via.array.ptr[0].type ==
			    MSGPACK_OBJECT_POSITIVE_INTEGER);
			i = (int)kv->via.array.ptr[0].via.u64;
			ck_assert(i < 40);
			ck_assert(kv->via.array.ptr[1].via.u64 ==
			    (uint64_t)i * 2);
			seen[i] = true;
		}
		ck_assert_msg(++rounds < 1000, "dict.scan never ends");
	} while (cursor != 0);
	for (i = 0; i < 40; i++)
		ck_assert_msg(seen[i], "dict.scan missed key %d", i);
	mpmgr_free(m);
}
END_TEST

START_TEST(test_dict_incr_cas_create)
{
	mpmgr *m = harness_connect(D);

	ck_call_ok(m, "dict.incr", "['dic', 'n']", "1");
	ck_call_ok(m, "dict.incr", "['dic', 'n', 41]", "42");
	ck_call_ok(m, "dict.incr", "['dic', 'n', -50]", "-8");
	ck_call_ok(m, "dict.incr", "['dic', 'n', 0.5]", "-7.5");
	ck_call_ok(m, "dict.incr", "['dic', 'f', 1.5]", "1.5");
	ck_call_ok(m, "dict.incr", "['dic', 'f', 1]", "2.5");
	/* The sum is exact: an answer when it fits int64 or uint64. */
	ck_call_ok(m, "dict.set", "['dic', 'max', 9223372036854775807]",
	    "nil");
	ck_call_ok(m, "dict.incr", "['dic', 'max', 1]", "9223372036854775808");
	ck_call_ok(m, "dict.incr", "['dic', 'max', -1]",
	    "9223372036854775807");
	ck_call_ok(m, "dict.set", "['dic', 'max', 18446744073709551615]",
	    "nil");
	ck_call_err(m, "dict.incr", "['dic', 'max', 1]", MPMGR_ERANGE);
	ck_call_ok(m, "dict.get", "['dic', 'max']", "18446744073709551615");
	ck_call_ok(m, "dict.set", "['dic', 'min', -9223372036854775808]",
	    "nil");
	ck_call_err(m, "dict.incr", "['dic', 'min', -1]", MPMGR_ERANGE);
	ck_call_ok(m, "dict.set", "['dic', 's', 'text']", "nil");
	ck_call_err(m, "dict.incr", "['dic', 's', 1]", MPMGR_EBADTYPE);
	ck_call_err(m, "dict.incr", "['dic', 'n', 'x']", MPMGR_EBADTYPE);
	ck_call_ok(m, "dict.get", "['dic', 's']", "'text'");

	ck_call_ok(m, "dict.cas", "['dic', 'c', nil, 1]", "[true, 1]");
	ck_call_ok(m, "dict.cas", "['dic', 'c', 2, 3]", "[false, 1]");
	ck_call_ok(m, "dict.cas", "['dic', 'c', 1.0, 3]", "[false, 1]");
	ck_call_ok(m, "dict.cas", "['dic', 'c', 1, 'one']", "[true, 'one']");
	ck_call_ok(m, "dict.cas", "['dic', 'absent', 1, 2]", "[false, nil]");
	ck_call_ok(m, "dict.contains", "['dic', 'absent']", "false");

	ck_call_ok(m, "dict.create", "['dcr']", "nil");
	ck_call_ok(m, "dict.create", "['dcr']", "nil");
	ck_call_ok(m, "dict.create", "['dcr', {}]", "nil");
	/* made with create: stays while empty */
	ck_call_ok(m, "dict.len", "['dcr']", "0");
	ck_call_ok(m, "dict.set", "['dcr', 'k', 1]", "nil");
	ck_call_ok(m, "dict.delete", "['dcr', 'k']", "nil");
	ck_assert_int_eq(harness_call(m, "obj.info", "['dcr']", NULL), 0);
	mpmgr_free(m);
}
END_TEST

START_TEST(test_value_verbs)
{
	mpmgr *m = harness_connect(D);

	ck_call_ok(m, "value.get", "['vv']", "nil");
	ck_call_ok(m, "value.set", "['vv', [1, 2.5, 'x', {'k': nil}]]",
	    "nil");
	ck_call_ok(m, "value.get", "['vv']", "[1, 2.5, 'x', {'k': nil}]");
	ck_call_ok(m, "value.set", "['vv', x7'\\xff\\x00']", "nil");
	ck_call_ok(m, "value.get", "['vv']", "x7'\\xff\\x00'");
	ck_call_ok(m, "value.set", "['vi', 10]", "nil");
	ck_call_ok(m, "value.incr", "['vi']", "11");
	ck_call_ok(m, "value.incr", "['vi', -20]", "-9");
	ck_call_ok(m, "value.incr", "['vi', 0.25]", "-8.75");
	ck_call_ok(m, "value.incr", "['vnew', 3]", "3");
	ck_call_ok(m, "value.cas", "['vc', nil, 1]", "[true, 1]");
	ck_call_ok(m, "value.cas", "['vc', 2, 3]", "[false, 1]");
	ck_call_ok(m, "value.cas", "['vc', 1, 2]", "[true, 2]");
	ck_call_ok(m, "value.set", "['vs', 'str']", "nil");
	ck_call_err(m, "value.incr", "['vs']", MPMGR_EBADTYPE);
	ck_call_ok(m, "value.set", "['vmax', 9223372036854775807]", "nil");
	ck_call_ok(m, "value.incr", "['vmax']", "9223372036854775808");
	ck_call_ok(m, "value.incr", "['vmax', 9223372036854775807]",
	    "18446744073709551615");
	ck_call_ok(m, "value.set", "['vmax', 18446744073709551615]", "nil");
	ck_call_err(m, "value.incr", "['vmax']", MPMGR_ERANGE);
	ck_call_ok(m, "value.get", "['vmax']", "18446744073709551615");
	ck_call_ok(m, "value.create", "['vcr', {'value': 5}]", "nil");
	ck_call_ok(m, "value.create", "['vcr', {'value': 5}]", "nil");
	ck_call_err(m, "value.create", "['vcr', {'value': 6}]", MPMGR_EEXISTS);
	ck_call_ok(m, "value.get", "['vcr']", "5");
	/* an implicit value back to nil is gone; a created one stays */
	ck_call_ok(m, "value.set", "['vgone', 1]", "nil");
	ck_call_ok(m, "value.set", "['vgone', nil]", "nil");
	ck_call_err(m, "obj.info", "['vgone']", MPMGR_ENOOBJ);
	ck_call_ok(m, "value.set", "['vcr', nil]", "nil");
	ck_assert_int_eq(harness_call(m, "obj.info", "['vcr']", NULL), 0);
	mpmgr_free(m);
}
END_TEST

START_TEST(test_typed_helpers)
{
	mpmgr *m = harness_connect(D);
	msgpack_object k = mpmgr_obj_int(7), v = mpmgr_obj_bool(true), out;
	const char *s;
	size_t len;
	int64_t i;
	double d;

	ck_assert_int_eq(mpmgr_dict_set_str(m, "dt", "s", "hello"), 0);
	ck_assert_int_eq(mpmgr_dict_get_str(m, "dt", "s", &s, &len), 0);
	ck_assert(len == 5 && memcmp(s, "hello", 5) == 0);
	ck_assert_int_eq(mpmgr_dict_set_int(m, "dt", "i", -42), 0);
	ck_assert_int_eq(mpmgr_dict_get_int(m, "dt", "i", &i), 0);
	ck_assert_int_eq(i, -42);
	ck_assert_int_eq(mpmgr_dict_get_int(m, "dt", "s", &i), MPMGR_EBADTYPE);
	ck_assert_int_eq(mpmgr_dict_get_str(m, "dt", "i", &s, &len),
	    MPMGR_EBADTYPE);
	ck_assert_int_eq(mpmgr_dict_get_int(m, "dt", "nope", &i), MPMGR_ENOKEY);
	ck_assert_str_eq(mpmgr_errcode(m), "NOKEY");
	ck_assert_str_eq(mpmgr_errmsg(m), "no such key in 'dt'");
	ck_assert_int_eq(mpmgr_dict_incr(m, "dt", "i", 50, &i), 0);
	ck_assert_int_eq(i, 8);
	ck_assert_int_eq(mpmgr_dict_incr(m, "dt", "i", 1, NULL), 0);
	ck_assert_int_eq(mpmgr_dict_incr_double(m, "dt", "d", 0.5, &d), 0);
	ck_assert(d == 0.5);
	ck_assert_int_eq(mpmgr_dict_incr_double(m, "dt", "d", 0.25, &d), 0);
	ck_assert(d == 0.75);
	ck_assert_int_eq(mpmgr_dict_len(m, "dt"), 3);
	ck_assert_int_eq(mpmgr_dict_set(m, "dt", &k, &v), 0);
	ck_assert_int_eq(mpmgr_dict_get(m, "dt", &k, &out), 0);
	ck_assert(out.type == MSGPACK_OBJECT_BOOLEAN && out.via.boolean);
	ck_assert_int_eq(mpmgr_dict_delete(m, "dt", "s"), 0);
	ck_assert_int_eq(mpmgr_dict_delete(m, "dt", "s"), MPMGR_ENOKEY);
	ck_assert_int_eq(mpmgr_dict_len(m, "dt"), 3);
	ck_call_ok(m, "dict.items", "['dt']", "[['i', 9], ['d', 0.75], "
	    "[7, true]]");

	ck_assert_int_eq(mpmgr_value_set_int(m, "vt", 5), 0);
	ck_assert_int_eq(mpmgr_value_get_int(m, "vt", &i), 0);
	ck_assert_int_eq(i, 5);
	ck_assert_int_eq(mpmgr_value_incr(m, "vt", -7, &i), 0);
	ck_assert_int_eq(i, -2);
	v = mpmgr_obj_double(2.5);
	ck_assert_int_eq(mpmgr_value_set(m, "vt", &v), 0);
	ck_assert_int_eq(mpmgr_value_get(m, "vt", &out), 0);
	ck_assert(out.type == MSGPACK_OBJECT_FLOAT64 && out.via.f64 == 2.5);
	ck_assert_int_eq(mpmgr_value_get_int(m, "vt", &i), MPMGR_EBADTYPE);
	v = mpmgr_obj_strn("abc", 2);
	ck_assert_int_eq(mpmgr_value_set(m, "vt", &v), 0);
	ck_call_ok(m, "value.get", "['vt']", "'ab'");
	v = mpmgr_obj_nil();
	ck_assert_int_eq(mpmgr_value_set(m, "vt", &v), 0);
	ck_call_ok(m, "value.get", "['vt']", "nil");
	mpmgr_free(m);
}
END_TEST

/* --- errors ---------------------------------------------------------- */

static const struct {
	const char *method;
	const char *params;
	int err;
} error_cases[] = {
	{ "dict.get", "['e_d', 'missing']", MPMGR_ENOKEY },
	{ "dict.pop", "['e_d', 'missing']", MPMGR_ENOKEY },
	{ "value.get", "['e_d']", MPMGR_EWRONGTYPE },
	{ "dict.get", "['e_v', 1]", MPMGR_EWRONGTYPE },
	{ "dict.create", "['e_v']", MPMGR_EWRONGTYPE },
	{ "dict.get", "['e_d']", MPMGR_EBADARG },
	{ "dict.set", "['e_d', 1, 2, 3]", MPMGR_EBADARG },
	{ "dict.len", "[]", MPMGR_EBADARG },
	{ "dict.get", "['', 1]", MPMGR_EBADARG },
	{ "dict.get", "[300, 1]", MPMGR_EBADARG },
	{ "dict.incr", "['e_d', 's']", MPMGR_EBADTYPE },
	{ "dict.set", "['e_d', {}, 1]", MPMGR_EBADTYPE },
	{ "dict.nope", "['e_d']", MPMGR_ENOMETHOD },
	{ "nope", "[]", MPMGR_ENOMETHOD },
	{ "obj.info", "['e_missing']", MPMGR_ENOOBJ },
	{ "obj.delete", "['e_missing']", MPMGR_ENOOBJ },
	{ "dict.incr", "['e_d', 'max', 1]", MPMGR_ERANGE },
	{ "value.incr", "['e_v', 18446744073709551615]", MPMGR_ERANGE },
	{ "value.create", "['e_v', {'value': 2}]", MPMGR_EEXISTS },
};

START_TEST(test_error_codes)
{
	mpmgr *m = harness_connect(D);
	char name[300], params[400];

	ck_call_ok(m, "dict.set", "['e_d', 's', 'str']", "nil");
	ck_call_ok(m, "dict.set", "['e_d', 'max', 18446744073709551615]",
	    "nil");
	ck_call_ok(m, "value.create", "['e_v', {'value': 1}]", "nil");
	ck_call_ok(m, "value.incr", "['e_v', 1]", "2");
	for (size_t i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]);
	    i++) {
		ck_call_err(m, error_cases[i].method, error_cases[i].params,
		    error_cases[i].err);
		/* a server error leaves the handle usable */
		ck_assert_int_eq(mpmgr_ping(m), 0);
	}
	ck_call_err(m, "value.get", "['e_d']", MPMGR_EWRONGTYPE);
	ck_assert_msg(strstr(mpmgr_errmsg(m), "dict") != NULL &&
	    strstr(mpmgr_errmsg(m), "value") != NULL,
	    "WRONGTYPE should name both types: %s", mpmgr_errmsg(m));
	/* names are 1 to 255 bytes */
	memset(name, 'n', 256);
	name[256] = '\0';
	snprintf(params, sizeof(params), "['%s', 1]", name);
	ck_call_err(m, "dict.get", params, MPMGR_EBADARG);
	name[255] = '\0';
	snprintf(params, sizeof(params), "['%s', 1, 2]", name);
	ck_call_ok(m, "dict.set", params, "nil");
	mpmgr_free(m);
}
END_TEST

START_TEST(test_library_misuse)
{
	mpmgr *m = harness_connect(D), *bad = NULL;
	msgpack_packer *pk;
	msgpack_object p[1];

	ck_assert_str_eq(mpmgr_strerror(MPMGR_OK), "OK");
	ck_assert_str_eq(mpmgr_strerror(MPMGR_ENOKEY), "NOKEY");
	ck_assert_str_eq(mpmgr_strerror(MPMGR_EINTERNAL), "INTERNAL");
	ck_assert_str_eq(mpmgr_strerror(MPMGR_ECONNECT), "ECONNECT");
	ck_assert_str_eq(mpmgr_strerror(MPMGR_ESTATE), "ESTATE");
	ck_assert_str_eq(mpmgr_strerror(-999), "?");

	ck_assert_int_eq(mpmgr_reply(m, NULL), MPMGR_ESTATE);
	/* a request with the wrong number of params is never sent */
	pk = mpmgr_request_begin(m, "dict.set", 3);
	ck_assert_ptr_nonnull(pk);
	msgpack_pack_str(pk, 3);
	msgpack_pack_str_body(pk, "mis", 3);
	ck_assert_int_eq(mpmgr_request_end(m), MPMGR_EINVAL);
	ck_assert_uint_eq(mpmgr_pending(m), 0);
	/* nor is invalid UTF-8 */
	pk = mpmgr_request_begin(m, "value.set", 2);
	msgpack_pack_str(pk, 3);
	msgpack_pack_str_body(pk, "mis", 3);
	msgpack_pack_str(pk, 2);
	msgpack_pack_str_body(pk, "\xc3\x28", 2);
	ck_assert_int_eq(mpmgr_request_end(m), MPMGR_EINVAL);
	ck_assert_int_eq(mpmgr_request_end(m), MPMGR_ESTATE);
	ck_assert_int_eq(mpmgr_ping(m), 0);
	/* calls out of order */
	ck_assert_ptr_nonnull(mpmgr_request_begin(m, "sys.ping", 0));
	ck_assert_int_eq(mpmgr_flush(m), MPMGR_ESTATE);
	ck_assert_ptr_null(mpmgr_request_begin(m, "sys.ping", 0));
	ck_assert_int_eq(mpmgr_request_end(m), 0);
	ck_assert_int_eq(mpmgr_ping(m), MPMGR_ESTATE);
	ck_assert_int_eq(mpmgr_reply(m, NULL), 0);
	p[0] = mpmgr_obj_str("mis");
	ck_assert_int_eq(mpmgr_call(m, "dict.len", p, 1, NULL), 0);

	/* no daemon there */
	ck_assert_int_eq(mpmgr_connect(&bad, "/nonexistent/mpmgr.sock",
	    D->keyfile), MPMGR_ECONNECT);
	ck_assert_ptr_nonnull(strstr(mpmgr_errmsg(bad),
	    "/nonexistent/mpmgr.sock"));
	ck_assert_int_eq(mpmgr_ping(bad), MPMGR_ECONNECT);
	mpmgr_free(bad);
	/* the environment names the socket and key */
	setenv("MPMGR_SOCKET", D->sock, 1);
	setenv("MPMGR_AUTHKEY_FILE", D->keyfile, 1);
	ck_assert_int_eq(mpmgr_connect(&bad, NULL, NULL), 0);
	ck_assert_int_eq(mpmgr_ping(bad), 0);
	mpmgr_free(bad);
	mpmgr_free(NULL);
	mpmgr_free(m);
}
END_TEST

/* Non-canonical encodings on the wire are stored canonical: a uint32 1
 * is the key 1, a float32 comes back as float64. */
START_TEST(test_canonical)
{
	static const uint8_t req[] = {
		0x94, 0x00, 0x01, 0xa8, 'd', 'i', 'c', 't', '.', 's', 'e', 't',
		0x93, 0xa5, 'c', 'a', 'n', 'o', 'n',
		0xce, 0x00, 0x00, 0x00, 0x01,     /* uint32 1 */
		0xca, 0x3f, 0xc0, 0x00, 0x00      /* float32 1.5 */
	};
	struct harness_raw r;
	mpmgr *m;

	harness_raw_authed(D, &r);
	ck_assert(harness_raw_send(&r, req, sizeof(req)));
	ck_raw_ok(&r, 1, "nil");
	harness_raw_close(&r);

	m = harness_connect(D);
	ck_call_ok(m, "dict.get", "['canon', 1]", "1.5");
	ck_call_ok(m, "dict.keys", "['canon']", "[1]");
	mpmgr_free(m);
}
END_TEST

/* --- the registry and the server ------------------------------------- */

/* The [name, type, size] entry for name in an obj.list result. */
static const msgpack_object *
list_find(const msgpack_object *list, const char *name)
{
	size_t len = strlen(name);

	ck_assert(list->type == MSGPACK_OBJECT_ARRAY);
	for (uint32_t i = 0; i < list->via.array.size; i++) {
		const msgpack_object *e = &list->via.array.ptr[i];

		ck_assert(e->type == MSGPACK_OBJECT_ARRAY &&
		    e->via.array.size == 3);
		if (e->via.array.ptr[0].type == MSGPACK_OBJECT_STR &&
		    e->via.array.ptr[0].via.str.size == len &&
		    memcmp(e->via.array.ptr[0].via.str.ptr, name, len) == 0)
			return e;
	}
	return NULL;
}

START_TEST(test_registry)
{
	mpmgr *m = harness_connect(D);
	const msgpack_object *e, *f;
	msgpack_object res;
	char params[64];
	uint64_t cursor = 0;
	bool seen_d = false, seen_v = false;
	int rounds = 0;

	ck_call_ok(m, "dict.create", "['r_d']", "nil");
	ck_call_ok(m, "dict.set", "['r_d', 'a', 1]", "nil");
	ck_call_ok(m, "dict.set", "['r_d', 'b', 2]", "nil");
	ck_call_ok(m, "value.set", "['r_v', 1]", "nil");

	ck_assert_int_eq(harness_call(m, "obj.list", "[]", &res), 0);
	ck_assert_ptr_nonnull(e = list_find(&res, "r_d"));
	ck_assert(harness_obj_eq(*e, "['r_d', 'dict', 2]"));
	ck_assert_ptr_nonnull(e = list_find(&res, "r_v"));
	ck_assert(harness_obj_eq(e->via.array.ptr[1], "'value'"));
	ck_assert_int_eq(harness_call(m, "obj.list", "['dict']", &res), 0);
	ck_assert_ptr_nonnull(list_find(&res, "r_d"));
	ck_assert_ptr_null(list_find(&res, "r_v"));

	ck_assert_int_eq(harness_call(m, "obj.info", "['r_d']", &res), 0);
	ck_assert(res.type == MSGPACK_OBJECT_MAP);
	ck_assert((f = harness_map_get(&res, "name")) &&
	    harness_obj_eq(*f, "'r_d'"));
	ck_assert((f = harness_map_get(&res, "type")) &&
	    harness_obj_eq(*f, "'dict'"));
	ck_assert((f = harness_map_get(&res, "size")) &&
	    harness_obj_eq(*f, "2"));
	ck_assert((f = harness_map_get(&res, "explicit")) &&
	    harness_obj_eq(*f, "true"));
	ck_assert((f = harness_map_get(&res, "waiters")) &&
	    harness_obj_eq(*f, "0"));
	ck_assert((f = harness_map_get(&res, "memory")) &&
	    f->type == MSGPACK_OBJECT_POSITIVE_INTEGER && f->via.u64 > 0);
	ck_assert_int_eq(harness_call(m, "obj.info", "['r_v']", &res), 0);
	ck_assert((f = harness_map_get(&res, "explicit")) &&
	    harness_obj_eq(*f, "false"));

	do {
		snprintf(params, sizeof(params), "[%llu, 3]",
		    (unsigned long long)cursor);
		ck_assert_int_eq(harness_call(m, "obj.scan", params, &res), 0);
		ck_assert(res.type == MSGPACK_OBJECT_ARRAY &&
		    res.via.array.size == 2 &&
		    res.via.array.ptr[0].type ==
		    MSGPACK_OBJECT_POSITIVE_INTEGER);
		cursor = res.via.array.ptr[0].via.u64;
		if (list_find(&res.via.array.ptr[1], "r_d") != NULL)
			seen_d = true;
		if (list_find(&res.via.array.ptr[1], "r_v") != NULL)
			seen_v = true;
		ck_assert_msg(++rounds < 10000, "obj.scan never ends");
	} while (cursor != 0);
	ck_assert(seen_d && seen_v);

	ck_call_ok(m, "obj.delete", "['r_d']", "nil");
	ck_call_err(m, "obj.info", "['r_d']", MPMGR_ENOOBJ);
	ck_call_err(m, "obj.delete", "['r_d']", MPMGR_ENOOBJ);
	ck_call_ok(m, "dict.len", "['r_d']", "0");
	ck_call_ok(m, "obj.delete", "['r_v']", "nil");
	ck_call_ok(m, "value.get", "['r_v']", "nil");
	mpmgr_free(m);
}
END_TEST

START_TEST(test_sys_stats)
{
	static const char *const ints[] = { "pid", "uptime_sec", "clients",
	    "unauth_clients", "objects", "ops", "conns_total", "memory_used",
	    "max_memory" };
	mpmgr *m = harness_connect(D);
	const msgpack_object *f;
	msgpack_object res;

	ck_assert_int_eq(harness_call(m, "sys.stats", "[]", &res), 0);
	ck_assert(res.type == MSGPACK_OBJECT_MAP);
	ck_assert((f = harness_map_get(&res, "version")) &&
	    f->type == MSGPACK_OBJECT_STR);
	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
		f = harness_map_get(&res, ints[i]);
		ck_assert_msg(f != NULL &&
		    f->type == MSGPACK_OBJECT_POSITIVE_INTEGER,
		    "sys.stats: %s missing or not an unsigned int", ints[i]);
	}
	ck_assert(harness_map_get(&res, "pid")->via.u64 == (uint64_t)D->pid);
	ck_assert(harness_map_get(&res, "clients")->via.u64 >= 1);
	ck_assert(harness_map_get(&res, "conns_total")->via.u64 >= 1);
	ck_assert(harness_map_get(&res, "ops")->via.u64 >= 1);
	ck_assert(harness_map_get(&res, "memory_used")->via.u64 > 0);
	mpmgr_free(m);
}
END_TEST

/* --- the handshake --------------------------------------------------- */

START_TEST(test_wrong_key)
{
	mpmgr *m = harness_connect(D), *bad = NULL;
	char path[256];

	ck_call_ok(m, "value.set", "['wk', 'precious']", "nil");
	ck_assert_int_eq(mpmgr_connect_key(&bad, D->sock, "wrong", 5),
	    MPMGR_EAUTH);
	ck_assert_str_eq(mpmgr_errcode(bad), "AUTH");
	ck_assert(mpmgr_errmsg(bad)[0] != '\0');
	ck_assert_int_eq(mpmgr_ping(bad), MPMGR_EAUTH);
	mpmgr_free(bad);

	snprintf(path, sizeof(path), "%s/wrongkey", D->dir);
	write_key(path, "0123456789abcdef\n", 17, 0600);
	ck_assert_int_eq(mpmgr_connect(&bad, D->sock, path), MPMGR_EAUTH);
	mpmgr_free(bad);
	unlink(path);

	ck_assert(harness_alive(D));
	ck_call_ok(m, "value.get", "['wk']", "'precious'");
	mpmgr_free(m);
	m = harness_connect(D);
	ck_call_ok(m, "value.get", "['wk']", "'precious'");
	mpmgr_free(m);
}
END_TEST

START_TEST(test_key_file_checks)
{
	mpmgr *m = NULL;
	char path[256], link[256];

	snprintf(path, sizeof(path), "%s/key-o", D->dir);
	write_key(path, D->key, D->keylen, 0644);
	ck_assert_int_eq(mpmgr_connect(&m, D->sock, path), MPMGR_EKEY);
	ck_assert_msg(strstr(mpmgr_errmsg(m), path) != NULL,
	    "message should name the file: %s", mpmgr_errmsg(m));
	mpmgr_free(m);
	/* group may read (root:mpmgr 0640) */
	ck_assert(chmod(path, 0640) == 0);
	ck_assert_int_eq(mpmgr_connect(&m, D->sock, path), 0);
	mpmgr_free(m);
	/* a symlink is not followed */
	snprintf(link, sizeof(link), "%s/key-l", D->dir);
	ck_assert(symlink(D->keyfile, link) == 0);
	ck_assert_int_eq(mpmgr_connect(&m, D->sock, link), MPMGR_EKEY);
	mpmgr_free(m);
	/* a trailing newline is not part of the key */
	ck_assert_int_eq(mpmgr_connect_key(&m, D->sock, D->key, D->keylen), 0);
	mpmgr_free(m);
	snprintf(path, sizeof(path), "%s/missing", D->dir);
	ck_assert_int_eq(mpmgr_connect(&m, D->sock, path), MPMGR_EKEY);
	mpmgr_free(m);
	unlink(link);
	unlink(path);
}
END_TEST

/* --- volume ---------------------------------------------------------- */

#define PIPELINED 10000

START_TEST(test_pipeline)
{
	mpmgr *m = harness_connect(D);
	msgpack_packer *pk;
	msgpack_object res;
	char key[32];
	int i, n, rc;

	for (i = 0; i < PIPELINED; i++) {
		bool miss = i % 1000 == 999;

		pk = mpmgr_request_begin(m, miss ? "dict.get" : "dict.incr",
		    miss ? 2 : 3);
		ck_assert_ptr_nonnull(pk);
		msgpack_pack_str(pk, 2);
		msgpack_pack_str_body(pk, "pl", 2);
		n = snprintf(key, sizeof(key), miss ? "miss%d" : "k%d", i);
		msgpack_pack_str(pk, (size_t)n);
		msgpack_pack_str_body(pk, key, (size_t)n);
		if (!miss)
			msgpack_pack_int64(pk, i + 1);
		ck_assert_int_eq(mpmgr_request_end(m), 0);
	}
	ck_assert_uint_eq(mpmgr_pending(m), PIPELINED);
	ck_assert_int_eq(mpmgr_flush(m), 0);
	for (i = 0; i < PIPELINED; i++) {
		rc = mpmgr_reply(m, &res);
		if (i % 1000 == 999) {
			ck_assert_int_eq(rc, MPMGR_ENOKEY);
			continue;
		}
		ck_assert_msg(rc == 0, "reply %d: %s", i, mpmgr_errmsg(m));
		ck_assert_msg(res.type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
		    res.via.u64 == (uint64_t)i + 1, "reply %d out of order", i);
	}
	ck_assert_uint_eq(mpmgr_pending(m), 0);
	ck_call_ok(m, "dict.len", "['pl']", "9990");
	mpmgr_free(m);
}
END_TEST

#define CLIENTS 200
#define INCRS 1000
#define MAX_HANDSHAKING 32 /* well under the daemon's 64 unauthenticated */

START_TEST(test_concurrent_clients)
{
	int go[2], ready[2], st, failed = 0, outstanding = 0;
	pid_t pids[CLIENTS];
	char c;

	ck_assert(pipe(go) == 0 && pipe(ready) == 0);
	for (int i = 0; i < CLIENTS; i++) {
		if (outstanding == MAX_HANDSHAKING) {
			ck_assert(read(ready[0], &c, 1) == 1);
			outstanding--;
		}
		pids[i] = fork();
		ck_assert(pids[i] != -1);
		if (pids[i] == 0) {
			mpmgr *m = NULL;
			int rc = mpmgr_connect(&m, D->sock, D->keyfile);

			close(go[1]);
			(void)!write(ready[1], "r", 1);
			if (rc != 0)
				_exit(10);
			/* all start together: EOF once the parent closes */
			(void)!read(go[0], &c, 1);
			for (int j = 0; j < INCRS; j++)
				if (mpmgr_dict_incr(m, "conc", "n", 1, NULL) != 0)
					_exit(11);
			mpmgr_free(m);
			_exit(0);
		}
		outstanding++;
	}
	while (outstanding-- > 0)
		ck_assert(read(ready[0], &c, 1) == 1);
	close(go[1]);
	for (int i = 0; i < CLIENTS; i++) {
		ck_assert(waitpid(pids[i], &st, 0) == pids[i]);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			failed++;
	}
	ck_assert_msg(failed == 0, "%d of %d clients failed", failed, CLIENTS);
	{
		mpmgr *m = harness_connect(D);
		int64_t n = 0;

		ck_assert_int_eq(mpmgr_dict_get_int(m, "conc", "n", &n), 0);
		ck_assert_int_eq(n, CLIENTS * INCRS);
		mpmgr_free(m);
	}
}
END_TEST

START_TEST(test_fork_guard)
{
	mpmgr *m = harness_connect(D);
	pid_t pid;
	int st;

	ck_call_ok(m, "value.set", "['fg', 1]", "nil");
	pid = fork();
	ck_assert(pid != -1);
	if (pid == 0) {
		int ok = mpmgr_ping(m) == MPMGR_EFORK &&
		    mpmgr_request_begin(m, "sys.ping", 0) == NULL &&
		    mpmgr_flush(m) == MPMGR_EFORK &&
		    mpmgr_reply(m, NULL) == MPMGR_EFORK &&
		    mpmgr_value_set_int(m, "fg", 2) == MPMGR_EFORK &&
		    strstr(mpmgr_errmsg(m), "fork") != NULL;

		mpmgr_free(m);
		_exit(ok ? 0 : 1);
	}
	ck_assert(waitpid(pid, &st, 0) == pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "the child could use the parent's handle");
	/* the parent's stream is untouched by the child */
	ck_assert_int_eq(mpmgr_ping(m), 0);
	ck_call_ok(m, "value.get", "['fg']", "1");
	mpmgr_free(m);
}
END_TEST

/* '[' x depth, 1, ']' x depth */
static char *
nested(int depth)
{
	char *s = malloc((size_t)depth * 2 + 2);

	ck_assert_ptr_nonnull(s);
	memset(s, '[', (size_t)depth);
	s[depth] = '1';
	memset(s + depth + 1, ']', (size_t)depth);
	s[2 * depth + 1] = '\0';
	return s;
}

START_TEST(test_nested_64)
{
	mpmgr *m = harness_connect(D);
	char *v64 = nested(MPMGR_MAX_DEPTH), *params;
	msgpack_object res;
	int rc;

	ck_assert(asprintf(&params, "['deep', %s]", v64) > 0);
	rc = harness_call(m, "value.set", params, NULL);
	ck_assert_msg(rc == 0, "a value nested %d deep: %s: %s",
	    MPMGR_MAX_DEPTH, mpmgr_strerror(rc), mpmgr_errmsg(m));
	rc = harness_call(m, "value.get", "['deep']", &res);
	ck_assert_msg(rc == 0, "%s: %s", mpmgr_strerror(rc), mpmgr_errmsg(m));
	ck_assert(harness_obj_eq(res, v64));
	free(params);
	free(v64);
	mpmgr_free(m);
}
END_TEST

/*
 * A value one level too deep is BADARG and the connection stays; a frame
 * deeper than MPMGR_FRAME_DEPTH is malformed: the library does not send it,
 * and the server hangs up on it.
 */
START_TEST(test_nested_65)
{
	char *v65 = nested(MPMGR_MAX_DEPTH + 1);
	char *vframe = nested(MPMGR_FRAME_DEPTH);
	char *params, *params_frame;
	struct harness_raw r;
	mpmgr *m = harness_connect(D);
	int64_t msgid = -2;

	ck_call_ok(m, "value.set", "['deep65', 'intact']", "nil");
	ck_assert(asprintf(&params, "['deep65', %s]", v65) > 0);
	ck_assert(asprintf(&params_frame, "['deep65', %s]", vframe) > 0);
	ck_call_err(m, "value.set", params, MPMGR_EBADARG);
	ck_assert_int_eq(mpmgr_ping(m), 0);
	ck_assert_int_eq(harness_call(m, "value.set", params_frame, NULL),
	    MPMGR_EINVAL);
	ck_assert_int_eq(mpmgr_ping(m), 0);

	harness_raw_authed(D, &r);
	ck_assert(harness_raw_request(&r, 1, "value.set", params));
	ck_assert_int_eq(harness_raw_error(&r, 10000, &msgid), PERR_BADARG);
	ck_assert_int_eq(msgid, 1);
	ck_assert(harness_raw_request(&r, 2, "sys.ping", "[]"));
	ck_raw_ok(&r, 2, "'pong'");
	ck_assert(harness_raw_request(&r, 3, "value.set", params_frame));
	ck_assert_int_eq(harness_raw_error(&r, 10000, &msgid), PERR_BADARG);
	ck_assert(harness_raw_closed(&r, 10000));
	harness_raw_close(&r);

	ck_assert(harness_alive(D));
	ck_call_ok(m, "value.get", "['deep65']", "'intact'");
	free(params);
	free(params_frame);
	free(v65);
	free(vframe);
	mpmgr_free(m);
}
END_TEST

#define LARGE (8u << 20)

START_TEST(test_large_value)
{
	mpmgr *m = harness_connect(D);
	char *big = malloc(LARGE);
	msgpack_object k, v, res;

	ck_assert_ptr_nonnull(big);
	for (size_t i = 0; i < LARGE; i++)
		big[i] = (char)(i * 2654435761u >> 24);
	v.type = MSGPACK_OBJECT_BIN;
	v.via.bin.ptr = big;
	v.via.bin.size = LARGE;
	ck_assert_int_eq(mpmgr_value_set(m, "large", &v), 0);
	ck_assert_int_eq(mpmgr_value_get(m, "large", &res), 0);
	ck_assert(res.type == MSGPACK_OBJECT_BIN);
	ck_assert_uint_eq(res.via.bin.size, LARGE);
	ck_assert(memcmp(res.via.bin.ptr, big, LARGE) == 0);

	/* a str of the same size as a dict key's value */
	memset(big, 'a', LARGE);
	v = mpmgr_obj_strn(big, LARGE);
	k = mpmgr_obj_str("k");
	ck_assert_int_eq(mpmgr_dict_set(m, "largedict", &k, &v), 0);
	ck_assert_int_eq(mpmgr_dict_get(m, "largedict", &k, &res), 0);
	ck_assert(res.type == MSGPACK_OBJECT_STR);
	ck_assert_uint_eq(res.via.str.size, LARGE);
	ck_assert(memcmp(res.via.str.ptr, big, LARGE) == 0);
	mpmgr_free(m);
	free(big);
}
END_TEST

/* --- shutdown (a daemon of its own) --------------------------------- */

START_TEST(test_shutdown)
{
	struct harness h;
	mpmgr *m;
	int st;

	harness_start(&h, NULL);
	m = harness_connect(&h);
	ck_call_ok(m, "value.set", "['x', 1]", "nil");
	ck_call_ok(m, "sys.shutdown", "[]", "nil");
	st = harness_wait_exit(&h, 10000);
	ck_assert_msg(st != -1, "mpmgrd still runs 10 s after sys.shutdown");
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "mpmgrd exit status %#x after sys.shutdown", st);
	ck_assert_int_eq(mpmgr_ping(m), MPMGR_EIO);
	mpmgr_free(m);
	ck_assert(harness_stop(&h));
}
END_TEST

/* --- a fake server: the library's own checks ---------------------- */

enum fake_mode {
	FAKE_SILENT,       /* accepts and says nothing */
	FAKE_WRONG_PROOF,  /* a challenge, then a proof made with another key */
	FAKE_VERSION,      /* a challenge announcing version 99 */
	FAKE_BAD_BYTES,    /* bytes that are not MessagePack */
	FAKE_NOBODY        /* serves from uid 65534 (run as root only) */
};

/*
 * Listen on dir/fake and serve one connection in a child, the mode's way.
 * The socket is bound before the fork, so the client cannot be early.
 */
static pid_t
fake_server(const char *dir, enum fake_mode mode, char *path, size_t len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int lfd, fd;
	pid_t pid;

	snprintf(path, len, "%s/fake", dir);
	ck_assert(strlen(path) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert(lfd != -1);
	ck_assert(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	ck_assert(chmod(path, 0777) == 0);
	/* SO_PEERCRED records who called listen(): for FAKE_NOBODY, the
	 * child after dropping to nobody (the client retries meanwhile) */
	if (mode != FAKE_NOBODY)
		ck_assert(listen(lfd, 4) == 0);
	ck_assert((pid = fork()) != -1);
	if (pid != 0) {
		close(lfd);
		return pid;
	}
	signal(SIGPIPE, SIG_IGN); /* the client may hang up first */
	if (mode == FAKE_NOBODY &&
	    (setgid(65534) != 0 || setuid(65534) != 0 || listen(lfd, 4) != 0))
		_exit(2);
	if ((fd = accept(lfd, NULL, NULL)) == -1)
		_exit(4);
	{
		msgpack_sbuffer sb;
		msgpack_packer pk;
		uint8_t zeros[MPMGR_MAC_LEN] = { 0 }, in[1024];

		msgpack_sbuffer_init(&sb);
		msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
		switch (mode) {
		case FAKE_SILENT:
			break;
		case FAKE_BAD_BYTES:
			msgpack_sbuffer_write(&sb, "\xc1\xc1", 2);
			break;
		default:
			msg_pack_notification(&pk, MPMGR_NOTIFY_CHALLENGE, 2);
			msgpack_pack_int(&pk, mode == FAKE_VERSION ? 99 :
			    MPMGR_PROTO_VERSION);
			msgpack_pack_bin_with_body(&pk, zeros, sizeof(zeros));
			break;
		}
		/* may fail: a client refusing our uid has hung up already */
		if (sb.size > 0)
			(void)!write(fd, sb.data, sb.size);
		/* read the client's auth (or its hang-up), then answer */
		if (read(fd, in, sizeof(in)) > 0 && mode != FAKE_SILENT) {
			if (mode == FAKE_NOBODY)
				_exit(6); /* the client sent a proof */
			msgpack_sbuffer_clear(&sb);
			msg_pack_result(&pk, 0);
			msgpack_pack_bin_with_body(&pk, zeros, sizeof(zeros));
			(void)!write(fd, sb.data, sb.size);
		}
		/* wait for the client to hang up */
		while (read(fd, in, sizeof(in)) > 0)
			;
		msgpack_sbuffer_destroy(&sb);
	}
	_exit(0);
}

static void
fake_case(enum fake_mode mode, int expect, const char *in_msg)
{
	char dir[] = "/tmp/mpmgr-fake-XXXXXX", path[128];
	uint8_t key[] = "fake key";
	mpmgr *m = NULL;
	pid_t pid;
	int rc, st;

	ck_assert(mkdtemp(dir) != NULL);
	pid = fake_server(dir, mode, path, sizeof(path));
	if (mode == FAKE_NOBODY) {
		/* refused (ECONNECT) until the child listens as nobody */
		int64_t deadline = harness_now_ms() + 10000;

		while ((rc = mpmgr_connect_key(&m, path, key, sizeof(key) - 1))
		    == MPMGR_ECONNECT && harness_now_ms() < deadline) {
			mpmgr_free(m);
			harness_nap(5);
		}
	} else {
		rc = mpmgr_connect_key(&m, path, key, sizeof(key) - 1);
	}
	ck_assert_msg(rc == expect, "got %s (%s), expected %s",
	    mpmgr_strerror(rc), mpmgr_errmsg(m), mpmgr_strerror(expect));
	ck_assert_msg(strstr(mpmgr_errmsg(m), in_msg) != NULL,
	    "message '%s' lacks '%s'", mpmgr_errmsg(m), in_msg);
	ck_assert_int_eq(mpmgr_ping(m), expect);
	mpmgr_free(m);
	ck_assert(waitpid(pid, &st, 0) == pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "fake server status %#x", st);
	unlink(path);
	rmdir(dir);
}

START_TEST(test_fake_wrong_proof)
{
	fake_case(FAKE_WRONG_PROOF, MPMGR_EPEER, "prove");
}
END_TEST

START_TEST(test_fake_version)
{
	fake_case(FAKE_VERSION, MPMGR_EPROTO, "version 99");
}
END_TEST

START_TEST(test_fake_bad_bytes)
{
	fake_case(FAKE_BAD_BYTES, MPMGR_EPROTO, "malformed");
}
END_TEST

/* The handshake has a deadline (10 s): a silent server cannot hang us. */
START_TEST(test_fake_silent)
{
	fake_case(FAKE_SILENT, MPMGR_EIO, "no answer");
}
END_TEST

/* Refused before any proof is sent: only root can serve from another uid
 * here, so the check is exercised when the tests run as root. */
START_TEST(test_fake_untrusted_uid)
{
	if (geteuid() != 0)
		return;
	fake_case(FAKE_NOBODY, MPMGR_EPEER, "uid 65534");
}
END_TEST

static Suite *
client_suite(void)
{
	Suite *s = suite_create("it_client");
	TCase *tc, *vol, *own, *fake;

	tc = harness_tcase(s, "verbs", 30, harness_fixture_up,
	    harness_fixture_down);
	tcase_add_test(tc, test_ping);
	tcase_add_test(tc, test_dict_get_set);
	tcase_add_test(tc, test_dict_mutators);
	tcase_add_test(tc, test_dict_scan);
	tcase_add_test(tc, test_dict_incr_cas_create);
	tcase_add_test(tc, test_value_verbs);
	tcase_add_test(tc, test_typed_helpers);
	tcase_add_test(tc, test_error_codes);
	tcase_add_test(tc, test_library_misuse);
	tcase_add_test(tc, test_canonical);
	tcase_add_test(tc, test_registry);
	tcase_add_test(tc, test_sys_stats);
	tcase_add_test(tc, test_wrong_key);
	tcase_add_test(tc, test_key_file_checks);

	vol = harness_tcase(s, "volume", 60, harness_fixture_up,
	    harness_fixture_down);
	tcase_add_test(vol, test_pipeline);
	tcase_add_test(vol, test_concurrent_clients);
	tcase_add_test(vol, test_fork_guard);
	tcase_add_test(vol, test_nested_64);
	tcase_add_test(vol, test_nested_65);
	tcase_add_test(vol, test_large_value);

	own = harness_tcase(s, "own daemon", 30, NULL, NULL);
	tcase_add_test(own, test_shutdown);

	fake = harness_tcase(s, "fake server", 30, NULL, NULL);
	tcase_add_test(fake, test_fake_wrong_proof);
	tcase_add_test(fake, test_fake_version);
	tcase_add_test(fake, test_fake_bad_bytes);
	tcase_add_test(fake, test_fake_untrusted_uid);
	tcase_add_test(fake, test_fake_silent);
	return s;
}

int
main(void)
{
	return harness_run(client_suite());
}
