/*
 * unit_monitor.c: sys.monitor's lines without sockets (monitor.c): how a
 * request's params read (quotes, escapes, bytes that are not UTF-8, bin
 * and ext, maps), where a long string and the whole text are cut (never
 * inside a character), what has no name, a method that is not UTF-8; a
 * full watcher's lines counted lost and the count carried by the next;
 * and who may watch (ADMIN).
 */
#include <string.h>
#include <unistd.h>

#include "../daemon/dispatch.h"
#include "../daemon/monitor.h"
#include "unit_util.h"

/* The fields of a line as strs (time, client and pid checked here). */
struct fields {
	struct mpv method, name, args, lost;
};

/* Request method(params) of fc_conn(0), rendered. */
static void
render(const char *method, const char *params)
{
	msgpack_packer pk;
	struct msg m;
	const char *why;

	begin_request(&pk, method);
	harness_pack_text(&pk, params);
	ck_assert_msg(msg_parse(buf_head(&reqbuf), &m, &why) == 0, "%s", why);
	monitor_render(fc_conn(0), &m, dispatch_lookup((const char *)
	    m.method.ptr, m.method.len));
}

/* The same, given to fc_conn(1) (a watcher): its fields; false if the
 * watcher got nothing. */
static bool
line_of(const char *method, const char *params, struct fields *f)
{
	struct conn *w = fc_conn(1);
	struct mpv_iter it;
	struct mpv v;
	struct msg m;
	const char *why;

	render(method, params);
	buf_reset(&w->out);
	if (!monitor_give(w))
		return false;
	ck_assert(msg_parse(buf_head(&w->out), &m, &why) == 0);
	ck_assert_int_eq(m.kind, MSG_NOTIFICATION);
	ck_assert(mpv_str_eq(&m.method, MPMGR_NOTIFY_MONITOR));
	ck_assert_uint_eq(m.params.len, 7);
	mpv_iter_init(&it, &m.params);
	mpv_iter_next(&it, &v);
	ck_assert_int_eq(v.type, MPV_FLOAT);
	mpv_iter_next(&it, &v);
	ck_assert(v.type == MPV_UINT && v.v.u == fc_conn(0)->id);
	mpv_iter_next(&it, &v);
	mpv_iter_next(&it, &f->method);
	mpv_iter_next(&it, &f->name);
	mpv_iter_next(&it, &f->args);
	mpv_iter_next(&it, &f->lost);
	ck_assert_int_eq(f->method.type, MPV_STR);
	ck_assert_int_eq(f->args.type, MPV_STR);
	ck_assert_int_eq(f->lost.type, MPV_UINT);
	return true;
}

static bool
str_is(const struct mpv *v, const char *s)
{
	return v->type == MPV_STR && v->len == strlen(s) &&
	    memcmp(v->ptr, s, v->len) == 0;
}

/* method(params) reads as name (NULL: nil) and args. */
static void
ck_reads(int line, const char *method, const char *params, const char *name,
    const char *args)
{
	struct fields f;

	ck_assert_msg(line_of(method, params, &f), "line %d: no line", line);
	ck_assert_msg(str_is(&f.method, method), "line %d: method", line);
	if (name == NULL)
		ck_assert_msg(f.name.type == MPV_NIL, "line %d: a name", line);
	else
		ck_assert_msg(str_is(&f.name, name), "line %d: name", line);
	ck_assert_msg(str_is(&f.args, args), "line %d: args '%.*s', "
	    "wanted '%s'", line, (int)f.args.len, (const char *)f.args.ptr,
	    args);
	ck_assert_uint_eq(f.lost.v.u, 0);
}
#define READS(m, p, n, a) ck_reads(__LINE__, m, p, n, a)

static void
setup_watch(void)
{
	setup();
	monitor_add(fc_conn(1));
}

START_TEST(test_text)
{
	char params[256], want[300], e40[81];
	int i;

	READS("dict.set", "['d', 'k', [1, -2, 2.5, nil, true, false]]", "d",
	    "\"k\" [1, -2, 2.5, nil, true, false]");
	READS("dict.update", "['d', {'a': 1, 'b': {}}]", "d",
	    "{\"a\": 1, \"b\": {}}");
	READS("sys.ping", "[]", NULL, "");
	READS("sys.kill", "[7]", NULL, "7");
	/* a method on an object whose first param is no str: no name */
	READS("dict.get", "[1, 2]", NULL, "1 2");
	READS("no.such", "['x']", NULL, "\"x\"");
	READS("dict.set", "['d', 'q\"\\\\\x01', b'abc']", "d",
	    "\"q\\\"\\\\\\u0001\" <bin 3 bytes>");
	READS("dict.set", "['d', 'a\\xffb', x7'ab']", "d",
	    "\"a\\xffb\" <ext 7, 2 bytes>");
	/* 80 bytes of two-byte characters: cut at 64, a whole character */
	for (i = 0; i < 40; i++)
		memcpy(e40 + 2 * i, "\xc3\xa9", 2);
	e40[80] = '\0';
	snprintf(params, sizeof params, "['d', 'k', '%s']", e40);
	snprintf(want, sizeof want, "\"k\" \"%.64s\"...(80 bytes)", e40);
	READS("dict.set", params, "d", want);
	/* one byte before them: 31 characters, not half of the 32nd */
	snprintf(params, sizeof params, "['d', 'k', 'x%s']", e40);
	snprintf(want, sizeof want, "\"k\" \"x%.62s\"...(81 bytes)", e40);
	READS("dict.set", params, "d", want);
}
END_TEST

START_TEST(test_cut)
{
	struct fields f;
	size_t n;

	/* the whole text: 256 bytes at most, "..." where it stops */
	ck_assert(line_of("list.extend", "['l', ['x'*60, 'x'*60, 'x'*60, "
	    "'x'*60, 'x'*60]]", &f));
	ck_assert_uint_le(f.args.len, MONITOR_ARGS_MAX);
	ck_assert(memcmp(f.args.ptr + f.args.len - 3, "...", 3) == 0);
	/* a long value's length is said */
	ck_assert(line_of("dict.set", "['d', 'k', 'v'*100000]", &f));
	n = f.args.len;
	ck_assert(memmem(f.args.ptr, n, "\"...(100000 bytes)", 18) != NULL);
	/* a method that is not UTF-8 reads with '?' */
	ck_assert(line_of("x\xff", "[]", &f));
	ck_assert(str_is(&f.method, "x?"));
}
END_TEST

START_TEST(test_lost)
{
	struct conn *w = fc_conn(1);
	struct fields f;
	static uint8_t fill[MONITOR_OUT_MAX];

	render("sys.ping", "[]");
	buf_reset(&w->out);
	buf_append(&w->out, fill, sizeof fill);
	ck_assert(!monitor_give(w));
	ck_assert(!monitor_give(w));
	ck_assert_uint_eq(w->mlost, 2);
	ck_assert(line_of("sys.ping", "[]", &f));
	ck_assert_uint_eq(f.lost.v.u, 2);
	ck_assert_uint_eq(w->mlost, 0);
}
END_TEST

START_TEST(test_admin)
{
	uid_t uid = conn->uid, suid = server.uid;

	server.uid = 4242;
	conn->uid = 4343;
	ERR("sys.monitor", "[]", AUTH);
	ck_assert(!(conn->flags & CONN_MONITOR));
	conn->uid = 4242;
	OK("sys.monitor", "[]", "nil");
	OK("sys.monitor", "[]", "nil");
	ck_assert(conn->flags & CONN_MONITOR);
	ck_assert_uint_eq(server.nmonitors, 2);
	monitor_remove(conn);
	ck_assert_uint_eq(server.nmonitors, 1);
	conn->uid = uid;
	server.uid = suid;
}
END_TEST

static Suite *
monitor_suite(void)
{
	Suite *s = suite_create("monitor");
	TCase *tc;

	tc = tcase_create("monitor");
	tcase_add_unchecked_fixture(tc, setup_watch, NULL);
	tcase_add_test(tc, test_text);
	tcase_add_test(tc, test_cut);
	tcase_add_test(tc, test_lost);
	tcase_add_test(tc, test_admin);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(monitor_suite());
}
