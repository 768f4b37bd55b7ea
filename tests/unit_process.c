/*
 * unit_process.c: the process record's state machine without sockets:
 * register on a supervisor's connection, the exit it reports (only it),
 * join answered at once or parked until the exit, its timeout, terminate
 * and kill as notifications on the supervisor's connection, a supervisor
 * that closes without reporting (lost, joiners released with LOST), and
 * records that stay until obj.delete.
 *
 * Fake connection 1 is the supervisor; 0 sends the other requests; joiners
 * park from 2 up (PARK).
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <check.h>

#include "../daemon/dispatch.h"
#include "../daemon/mpmgrd.h"
#include "../daemon/registry.h"
#include "../daemon/waiter.h"
#include "unit_util.h"

#define AS(i, row) do { fc_use(i); row; fc_use(0); } while (0)

/*
 * The next message in c's output is [2, "process.signal", [name, signo]]:
 * the signal number, after checking the name.
 */
static int
take_signal(struct conn *c, const char *name)
{
	struct scan_state st;
	struct msg m;
	struct mpv_iter it;
	struct mpv v;
	const char *why = NULL;
	size_t flen;
	int signo;

	ck_assert_msg(buf_used(&c->out) > 0, "no notification");
	scan_init(&st);
	ck_assert_int_eq(scan_frame(&st, buf_head(&c->out), buf_used(&c->out),
	    SIZE_MAX, &flen, &why), SCAN_FRAME);
	ck_assert(msg_parse(buf_head(&c->out), &m, &why) == 0);
	ck_assert_int_eq(m.kind, MSG_NOTIFICATION);
	ck_assert(mpv_str_eq(&m.method, MPMGR_NOTIFY_PROCESS_SIGNAL));
	ck_assert_uint_eq(m.params.len, 2);
	mpv_iter_init(&it, &m.params);
	ck_assert(mpv_iter_next(&it, &v) && mpv_str_eq(&v, name));
	ck_assert(mpv_iter_next(&it, &v) && v.type == MPV_UINT);
	signo = (int)v.v.u;
	buf_consume(&c->out, flen);
	return signo;
}

START_TEST(test_rows)
{
	static const struct row rows[] = {
		/* A missing record: NOOBJ, and nothing is made. */
		{ "process.join", "['pr', 0]", PERR_NOOBJ, NULL,
		  "no process 'pr'" },
		{ "process.join", "['pr']", PERR_NOOBJ, NULL, NULL },
		{ "process.is_alive", "['pr']", PERR_NOOBJ, NULL, NULL },
		{ "process.info", "['pr']", PERR_NOOBJ, NULL, NULL },
		{ "process.terminate", "['pr']", PERR_NOOBJ, NULL, NULL },
		{ "process.kill", "['pr']", PERR_NOOBJ, NULL, NULL },
		{ "process.exited", "['pr', 0]", PERR_NOOBJ, NULL, NULL },
		/* A register that fails leaves nothing behind. */
		{ "process.register", "['pr', 5]", PERR_BADARG, NULL, "map" },
		{ "process.register", "['pr', {'pid': 5}]", PERR_BADARG, NULL,
		  "pid and argv are required" },
		{ "process.register", "['pr', {'pid': 0, 'argv': ['x']}]",
		  PERR_BADARG, NULL, "pid must be" },
		{ "process.register", "['pr', {'pid': 5, 'argv': []}]",
		  PERR_BADARG, NULL, "argv an array" },
		{ "process.register", "['pr', {'pid': 5, 'argv': ['a', 1]}]",
		  PERR_BADARG, NULL, NULL },
		{ "process.register",
		  "['pr', {'pid': 5, 'argv': ['a'], 'daemon': 1}]",
		  PERR_BADARG, NULL, "daemon a bool" },
		{ "process.register",
		  "['pr', {'pid': 5, 'pid': 6, 'argv': ['a']}]",
		  PERR_BADARG, NULL, "unknown or repeated" },
		{ "process.register", "['pr', {'pid': 5, 'argv': ['a'], 'x': 1}]",
		  PERR_BADARG, NULL, "unknown" },
		{ "obj.info", "['pr']", PERR_NOOBJ, NULL, NULL },
		{ "dict.set", "['pd', 1, 2]", PERR_NONE, "nil", NULL },
		{ "process.join", "['pd']", PERR_WRONGTYPE, NULL,
		  "is a dict, not a process" },
		{ "obj.delete", "['pd']", PERR_NONE, "nil", NULL },
	};

	RUN(rows);
}
END_TEST

START_TEST(test_exit)
{
	struct mpv v;

	AS(1, OK("process.register", "['px', {'pid': 4242, 'argv': ['sleep', "
	    "'9'], 'daemon': true}]", "nil"));
	AS(3, ERRM("process.register", "['px', {'pid': 1, 'argv': ['x']}]",
	    EXISTS, "exists (running)"));
	OK("process.is_alive", "['px']", "true");
	OK("process.info", "['px']", NULL);
	ck_assert(result_field("pid", &v) && v.v.u == 4242);
	ck_assert(result_field("state", &v) && mpv_str_eq(&v, "running"));
	ck_assert(result_field("exitcode", &v) && v.type == MPV_NIL);
	ck_assert(result_field("ended", &v) && v.type == MPV_NIL);
	ck_assert(result_field("started", &v) && v.type == MPV_FLOAT &&
	    v.v.f > 1e9);
	ck_assert(result_field("daemon", &v) && v.type == MPV_BOOL && v.v.b);
	ck_assert(result_field("argv", &v) && v.type == MPV_ARRAY &&
	    v.len == 2);
	ck_assert_uint_eq(info_uint("px", "size"), 1);
	ERR("process.join", "['px', 0]", TIMEOUT);
	PARK(2, "process.join", "['px']");
	PARK(3, "process.join", "['px', 30]");
	PARK(4, "process.join", "['px', 0.5]");
	waiter_expire(now_usec() + 5 * 1000000);
	GOT_ERR(4, TIMEOUT);
	NOTHING(2);
	/* Only its supervisor reports the exit. */
	ERRM("process.exited", "['px', 0]", NOTOWNER, "only the supervisor");
	AS(1, ERRM("process.exited", "['px', 256]", BADARG, "exit code"));
	AS(1, ERR("process.exited", "['px', -65]", BADARG));
	AS(1, ERR("process.exited", "['px', 'x']", BADARG));
	AS(1, OK("process.exited", "['px', -15]", "nil"));
	GOT(2, "-15");
	GOT(3, "-15");
	OK("process.join", "['px']", "-15");
	OK("process.join", "['px', 0]", "-15");
	OK("process.is_alive", "['px']", "false");
	/* Python's terminate of a finished process does nothing. */
	OK("process.terminate", "['px']", "nil");
	OK("process.kill", "['px']", "nil");
	ck_assert_uint_eq(buf_used(&fc_conn(1)->out), 0);
	OK("process.info", "['px']", NULL);
	ck_assert(result_field("state", &v) && mpv_str_eq(&v, "exited"));
	ck_assert(result_field("exitcode", &v) && v.v.i == -15);
	ck_assert(result_field("ended", &v) && v.type == MPV_FLOAT);
	ck_assert_uint_eq(info_uint("px", "size"), 0);
	/* Reported once: the supervisor holds it no more. */
	AS(1, ERR("process.exited", "['px', 0]", NOTOWNER));
	/* It stays once its supervisor is gone, until obj.delete. */
	fc_close(1);
	OK("process.join", "['px']", "-15");
	ERRM("process.register", "['px', {'pid': 1, 'argv': ['x']}]",
	    EXISTS, "(exited)");
	OK("obj.delete", "['px']", "nil");
	ERR("process.join", "['px']", NOOBJ);
	/* The name is free again. */
	AS(1, OK("process.register", "['px', {'pid': 7, 'argv': ['true']}]",
	    "nil"));
	AS(1, OK("process.exited", "['px', 0]", "nil"));
	OK("process.join", "['px']", "0");
	OK("obj.delete", "['px']", "nil");
}
END_TEST

/* terminate and kill reach the supervisor as notifications. */
START_TEST(test_signals)
{
	AS(1, OK("process.register", "['ps', {'pid': 99, 'argv': ['x']}]",
	    "nil"));
	OK("process.terminate", "['ps']", "nil");
	ck_assert_int_eq(take_signal(fc_conn(1), "ps"), SIGTERM);
	OK("process.kill", "['ps']", "nil");
	ck_assert_int_eq(take_signal(fc_conn(1), "ps"), SIGKILL);
	ck_assert_uint_eq(buf_used(&fc_conn(1)->out), 0);
	/* A parked supervisor gets it too, and stays parked. */
	PARK(1, "queue.get", "['ps-q']");
	OK("process.terminate", "['ps']", "nil");
	ck_assert_int_eq(take_signal(fc_conn(1), "ps"), SIGTERM);
	ck_assert_ptr_nonnull(fc_conn(1)->parked);
	OK("queue.put", "['ps-q', 1]", "nil");
	GOT(1, "1");
	/* A supervisor that hung up cannot be reached: LOST. */
	fc_hang_up(1);
	ERRM("process.terminate", "['ps']", LOST, "supervisor went away");
	fc_close(1);
	OK("obj.delete", "['ps']", "nil");
}
END_TEST

/* The supervisor goes without reporting: lost, and joiners are told. */
START_TEST(test_lost)
{
	struct mpv v;

	AS(1, OK("process.register", "['pl', {'pid': 1234, 'argv': ['cmd']}]",
	    "nil"));
	PARK(2, "process.join", "['pl']");
	PARK(3, "process.join", "['pl', 60]");
	fc_close(1);
	GOT_ERR(2, LOST);
	GOT_ERR(3, LOST);
	ck_assert_uint_eq(waiter_heap_size(), 0);
	ERRM("process.join", "['pl']", LOST, "pid 1234");
	OK("process.is_alive", "['pl']", "false");
	ERR("process.terminate", "['pl']", LOST);
	ERR("process.kill", "['pl']", LOST);
	OK("process.info", "['pl']", NULL);
	ck_assert(result_field("state", &v) && mpv_str_eq(&v, "lost"));
	ck_assert(result_field("pid", &v) && v.v.u == 1234);
	ck_assert(result_field("exitcode", &v) && v.type == MPV_NIL);
	ck_assert(result_field("ended", &v) && v.type == MPV_FLOAT);
	ck_assert(result_field("explicit", &v) == false);
	OK("obj.info", "['pl']", NULL);
	ck_assert(result_field("explicit", &v) && v.v.b);
	OK("obj.list", "['process']", "[['pl', 'process', 0]]");
	OK("obj.delete", "['pl']", "nil");

	/* Deleted while running and joined: DELETED; the supervisor's later
	 * report finds nothing. */
	AS(1, OK("process.register", "['pl', {'pid': 5, 'argv': ['cmd']}]",
	    "nil"));
	PARK(2, "process.join", "['pl']");
	OK("obj.delete", "['pl']", "nil");
	GOT_ERR(2, DELETED);
	AS(1, ERR("process.exited", "['pl', 0]", NOOBJ));
	fc_close(1);
	ck_assert_uint_eq(waiter_count(), 0);
}
END_TEST

static Suite *
process_suite(void)
{
	Suite *s = suite_create("process");
	TCase *tc;

	tc = tcase_create("process");
	tcase_add_unchecked_fixture(tc, setup_conn0, NULL);
	tcase_add_test(tc, test_rows);
	tcase_add_test(tc, test_exit);
	tcase_add_test(tc, test_signals);
	tcase_add_test(tc, test_lost);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(process_suite());
}
