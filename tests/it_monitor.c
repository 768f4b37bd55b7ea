/*
 * it_monitor.c: sys.monitor against a real mpmgrd.
 *
 * - A watcher (a raw connection, so that the lines are read as sent)
 *   gets one "sys.monitor" line for each request another connection
 *   runs, in order: time, client, pid, method, object name (nil for a
 *   method without one), the params after the name as text (a long
 *   string cut to 64 bytes with its length, the text to 256 bytes), lost
 *   0. Its own requests are not shown to it.
 * - A peer that is neither root nor the daemon's user gets AUTH (run as
 *   root only: the child becomes uid 65534).
 * - A watcher that stops reading costs the daemon a bounded amount: after
 *   20,000 requests of 200-byte values (6 MB of lines) the daemon's client
 *   memory stays under 2 MB; once it reads again, the lines it got and
 *   the lost counts of the lines add up to every request run.
 *
 * One daemon for the suite (unchecked fixture).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

static struct harness *const D = &harness_fixture;

/* One line as a watcher gets it; strings NUL-terminated copies. */
struct line {
	double time;
	uint64_t client;
	int64_t pid;
	char method[80];
	char name[80];           /* "" for nil */
	bool named;
	char args[300];
	uint64_t lost;
};

static void
copy_str(char *dst, size_t len, const struct mpv *v)
{
	ck_assert_int_eq(v->type, MPV_STR);
	ck_assert_uint_lt(v->len, len);
	memcpy(dst, v->ptr, v->len);
	dst[v->len] = '\0';
}

/* The next message on w is a line (1, *l), or nothing came within
 * timeout_ms (0). */
static int
next_line(struct harness_raw *w, struct line *l, int timeout_ms)
{
	struct mpv_iter it;
	struct mpv v;
	struct msg m;
	int r;

	r = harness_raw_recv(w, &m, timeout_ms);
	if (r == -1)
		return 0;
	ck_assert_int_eq(r, 1);
	ck_assert_int_eq(m.kind, MSG_NOTIFICATION);
	ck_assert(mpv_str_eq(&m.method, MPMGR_NOTIFY_MONITOR));
	ck_assert_uint_eq(m.params.len, 7);
	mpv_iter_init(&it, &m.params);
	mpv_iter_next(&it, &v);
	ck_assert(mpv_to_double(&v, &l->time));
	mpv_iter_next(&it, &v);
	ck_assert_int_eq(v.type, MPV_UINT);
	l->client = v.v.u;
	mpv_iter_next(&it, &v);
	ck_assert(mpv_to_int64(&v, &l->pid));
	mpv_iter_next(&it, &v);
	copy_str(l->method, sizeof l->method, &v);
	mpv_iter_next(&it, &v);
	l->named = v.type != MPV_NIL;
	l->name[0] = '\0';
	if (l->named)
		copy_str(l->name, sizeof l->name, &v);
	mpv_iter_next(&it, &v);
	copy_str(l->args, sizeof l->args, &v);
	mpv_iter_next(&it, &v);
	ck_assert_int_eq(v.type, MPV_UINT);
	l->lost = v.v.u;
	return 1;
}

/* A raw connection that watches from now on. */
static void
watch(struct harness_raw *w)
{
	harness_raw_authed(D, w);
	ck_assert(harness_raw_request(w, 1, "sys.monitor", "[]"));
	ck_raw_ok(w, 1, "nil");
}

/* The next line is for method on name (NULL: none) with args, from a
 * client of this process, nothing lost. */
static void
ck_line(struct harness_raw *w, const char *method, const char *name,
    const char *args)
{
	struct line l;

	ck_assert_msg(next_line(w, &l, HARNESS_DEADLINE_MS) == 1,
	    "no line for %s", method);
	ck_assert_str_eq(l.method, method);
	ck_assert_int_eq(l.named, name != NULL);
	if (name != NULL)
		ck_assert_str_eq(l.name, name);
	ck_assert_str_eq(l.args, args);
	ck_assert_int_eq(l.pid, getpid());
	ck_assert_uint_eq(l.lost, 0);
	ck_assert_msg(l.time > (double)time(NULL) - 60 &&
	    l.time < (double)time(NULL) + 60, "time %f", l.time);
}

START_TEST(test_lines)
{
	struct harness_raw w;
	mpmgr *m = harness_connect(D);
	char longer[1001], call[1100], want[300];

	watch(&w);
	ck_call_ok(m, "dict.set", "['md', 'k', [1, -2, 2.5, nil, true]]",
	    "nil");
	ck_line(&w, "dict.set", "md", "\"k\" [1, -2, 2.5, nil, true]");
	ck_call_ok(m, "dict.get", "['md', 'k']",
	    "[1, -2, 2.5, nil, true]");
	ck_line(&w, "dict.get", "md", "\"k\"");
	ck_call_ok(m, "sys.ping", "[]", "'pong'");
	ck_line(&w, "sys.ping", NULL, "");
	ck_call_err(m, "no.such", "[1, {'a': 'b'}]", MPMGR_ENOMETHOD);
	ck_line(&w, "no.such", NULL, "1 {\"a\": \"b\"}");

	/* a long value: its first 64 bytes and its length */
	memset(longer, 'x', sizeof longer - 1);
	longer[sizeof longer - 1] = '\0';
	snprintf(call, sizeof call, "['mq', '%s']", longer);
	ck_call_ok(m, "queue.put", call, "nil");
	snprintf(want, sizeof want, "\"%.64s\"...(1000 bytes)", longer);
	ck_line(&w, "queue.put", "mq", want);
	/* many params: the text stops at 256 bytes */
	ck_call_ok(m, "list.extend", "['ml', ['x'*60, 'x'*60, 'x'*60, "
	    "'x'*60, 'x'*60]]", "nil");
	{
		struct line l;

		ck_assert_int_eq(next_line(&w, &l, HARNESS_DEADLINE_MS), 1);
		ck_assert_str_eq(l.method, "list.extend");
		ck_assert_uint_le(strlen(l.args), 256);
		ck_assert_msg(strcmp(l.args + strlen(l.args) - 3, "...") == 0,
		    "cut text: %s", l.args);
	}

	/* the watcher's own requests are not shown to it */
	ck_assert(harness_raw_request(&w, 2, "sys.ping", "[]"));
	ck_raw_ok(&w, 2, "'pong'");
	ck_call_ok(m, "sys.ping", "[]", "'pong'");
	ck_line(&w, "sys.ping", NULL, "");

	/* a second watcher sees the first one's requests */
	{
		struct harness_raw w2;
		struct line l;

		watch(&w2);
		ck_line(&w, "sys.monitor", NULL, "");
		ck_assert(harness_raw_request(&w, 3, "dict.get",
		    "['md', 'nokey']"));
		ck_assert_int_eq(harness_raw_error(&w, HARNESS_DEADLINE_MS,
		    NULL), PERR_NOKEY);
		ck_assert_int_eq(next_line(&w2, &l, HARNESS_DEADLINE_MS), 1);
		ck_assert_str_eq(l.method, "dict.get");
		ck_assert_str_eq(l.args, "\"nokey\"");
		harness_raw_close(&w2);
	}
	ck_assert_uint_eq(harness_stat(m, "monitors"), 1);
	harness_raw_close(&w);
	mpmgr_free(m);
}
END_TEST

/* Another user may not watch: AUTH. */
START_TEST(test_not_admin)
{
	struct harness_raw r;
	int64_t id;
	pid_t pid;
	int st;

	if (geteuid() != 0)
		return;
	harness_socket_for_nobody(D);
	ck_assert((pid = fork()) != -1);
	if (pid == 0) {
		harness_become_nobody();
		harness_raw_authed(D, &r);
		if (!harness_raw_request(&r, 1, "sys.monitor", "[]"))
			_exit(98);
		_exit(harness_raw_error(&r, HARNESS_DEADLINE_MS, &id) ==
		    PERR_AUTH && id == 1 ? 0 : 1);
	}
	ck_assert(waitpid(pid, &st, 0) == pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "uid %d's sys.monitor: exit %d", HARNESS_NOBODY, WEXITSTATUS(st));
	ck_assert(chmod(D->sock, 0600) == 0);
	ck_assert(chmod(D->dir, 0700) == 0);
}
END_TEST

#define FLOOD 20000
#define BATCH 100
#define CLIENT_MEMORY_MAX (2u << 20)

START_TEST(test_slow_watcher)
{
	struct harness_raw w;
	struct line l;
	mpmgr *m = harness_connect(D);
	msgpack_packer *pk;
	char key[16], value[201];
	uint64_t sent = 0, got = 0, lost = 0, mem;
	int64_t deadline;
	int i, j, bad = 0;
	bool pinged = false, done = false;

	watch(&w);
	memset(value, 'v', sizeof value - 1);
	value[sizeof value - 1] = '\0';
	/* By hand, not through ck_*: Check pays a pipe write an assertion. */
	for (i = 0; i < FLOOD && bad == 0; i += BATCH) {
		for (j = 0; j < BATCH; j++) {
			snprintf(key, sizeof key, "k%d", (i + j) % 100);
			pk = mpmgr_request_begin(m, "dict.set", 3);
			msgpack_pack_str_with_body(pk, "ms", 2);
			msgpack_pack_str_with_body(pk, key, strlen(key));
			msgpack_pack_str_with_body(pk, value, sizeof value - 1);
			bad += mpmgr_request_end(m) != 0;
		}
		for (j = 0; j < BATCH; j++)
			bad += mpmgr_reply(m, NULL) != 0;
		sent += BATCH;
	}
	ck_assert_int_eq(bad, 0);
	mem = harness_stat(m, "client_memory");
	sent++;
	ck_assert_msg(mem < CLIENT_MEMORY_MAX, "client memory %llu bytes "
	    "with a watcher that does not read", (unsigned long long)mem);

	/* Read again: lines and lost counts cover every request; a ping
	 * after the backlog is read carries what was lost. */
	deadline = harness_now_ms() + HARNESS_DEADLINE_MS;
	while (!done && harness_now_ms() < deadline) {
		if (next_line(&w, &l, 200) == 0) {
			ck_call_ok(m, "sys.ping", "[]", "'pong'");
			sent++;
			pinged = true;
			continue;
		}
		got++;
		lost += l.lost;
		done = pinged && strcmp(l.method, "sys.ping") == 0 &&
		    got + lost == sent;
	}
	ck_assert_msg(done, "%llu lines and %llu lost for %llu requests",
	    (unsigned long long)got, (unsigned long long)lost,
	    (unsigned long long)sent);
	ck_assert_msg(lost > 0, "nothing lost from %d requests", FLOOD);
	harness_raw_close(&w);
	mpmgr_free(m);
}
END_TEST

static Suite *
monitor_suite(void)
{
	Suite *s = suite_create("it_monitor");
	TCase *tc;

	tc = harness_tcase(s, "monitor", 120, harness_fixture_up,
	    harness_fixture_down);
	tcase_add_test(tc, test_lines);
	tcase_add_test(tc, test_not_admin);
	tcase_add_test(tc, test_slow_watcher);
	return s;
}

int
main(void)
{
	return harness_run(monitor_suite());
}
