/*
 * it_ephemeral.c: ephemeral objects in a real mpmgrd. A child process
 * creates them with {ephemeral: true} and is killed with SIGKILL: the
 * daemon deletes them as obj.delete does, answering DELETED to the
 * requests parked on them (here the parent's), and what others held in
 * them goes with them; objects it made without the option stay. One
 * daemon for the suite (unchecked fixture); waits poll with a deadline.
 */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static struct harness *const D = &harness_fixture;

/* The child says "created" through this pipe, then waits to be killed. */
static int ready[2] = { -1, -1 };

static int
child_create(mpmgr *m, int arg)
{
	CHILD_CHECK(m, harness_call(m, "dict.create",
	    "['eph.d', {'ephemeral': true}]", NULL) == 0, 1);
	CHILD_CHECK(m, harness_call(m, "dict.set", "['eph.d', 'k', 1]",
	    NULL) == 0, 2);
	CHILD_CHECK(m, harness_call(m, "queue.create",
	    "['eph.q', {'maxsize': 1, 'ephemeral': true}]", NULL) == 0, 3);
	CHILD_CHECK(m, harness_call(m, "lock.create",
	    "['eph.l', {'ephemeral': true}]", NULL) == 0, 4);
	CHILD_CHECK(m, harness_call(m, "dict.create", "['eph.kept']",
	    NULL) == 0, 5);
	(void)!write(ready[1], "r", 1);
	for (;;)
		pause();
}

START_TEST(test_owner_killed)
{
	mpmgr *m = harness_connect(D), *w = harness_connect(D);
	struct pollfd p;
	msgpack_object res;
	const msgpack_object *f;
	pid_t pid;
	char c;
	int st;

	ck_assert(pipe(ready) == 0);
	pid = harness_spawn(D, child_create, 0);
	p.fd = ready[0];
	p.events = POLLIN;
	ck_assert_msg(poll(&p, 1, HARNESS_DEADLINE_MS) == 1, "the child "
	    "created nothing");
	ck_assert(read(ready[0], &c, 1) == 1);

	/* What obj.info says of an ephemeral object, and of another. */
	ck_assert_int_eq(harness_call(m, "obj.info", "['eph.d']", &res), 0);
	ck_assert_int_eq(res.via.map.size, 12);
	f = harness_map_get(&res, "ephemeral");
	ck_assert(f != NULL && f->type == MSGPACK_OBJECT_BOOLEAN &&
	    f->via.boolean);
	f = harness_map_get(&res, "owner");
	ck_assert(f != NULL && f->type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
	    f->via.u64 > 0);
	f = harness_map_get(&res, "options");
	ck_assert(f != NULL && f->type == MSGPACK_OBJECT_MAP &&
	    f->via.map.size == 0);
	ck_assert_int_eq(harness_call(m, "obj.info", "['eph.kept']", &res), 0);
	ck_assert_int_eq(res.via.map.size, 10);
	ck_assert_ptr_null(harness_map_get(&res, "ephemeral"));

	/* Others use them: w waits for an item, m holds the lock. */
	ck_call_ok(m, "dict.get", "['eph.d', 'k']", "1");
	ck_call_ok(m, "lock.acquire", "['eph.l', 0]", "true");
	harness_send(w, "queue.get", "['eph.q']");
	harness_await_waiters(m, "eph.q", 1);

	ck_assert(kill(pid, SIGKILL) == 0);
	ck_assert(waitpid(pid, &st, 0) == pid);
	ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);

	/* The parked get is answered DELETED; the objects are gone. */
	ck_assert_int_eq(mpmgr_reply(w, &res), MPMGR_EDELETED);
	harness_await_gone(m, "eph.d");
	harness_await_gone(m, "eph.q");
	harness_await_gone(m, "eph.l");
	ck_call_err(m, "lock.release", "['eph.l']", MPMGR_ENOTHELD);
	ck_assert_int_eq(harness_call(m, "obj.info", "['eph.kept']", NULL), 0);
	ck_call_ok(m, "obj.delete", "['eph.kept']", "nil");
	/* Both connections are as they were. */
	ck_call_ok(w, "sys.ping", "[]", "'pong'");
	close(ready[0]);
	close(ready[1]);
	mpmgr_free(w);
	mpmgr_free(m);
}
END_TEST

/* A clean close (the handle freed) deletes them too. */
START_TEST(test_owner_closes)
{
	mpmgr *m = harness_connect(D), *o = harness_connect(D);

	ck_call_ok(o, "value.create", "['eph.v', {'value': 5, "
	    "'ephemeral': true}]", "nil");
	ck_call_ok(m, "value.get", "['eph.v']", "5");
	mpmgr_free(o);
	harness_await_gone(m, "eph.v");
	mpmgr_free(m);
}
END_TEST

static Suite *
ephemeral_suite(void)
{
	Suite *s = suite_create("it_ephemeral");
	TCase *tc = harness_tcase(s, "ephemeral", 60, harness_fixture_up,
	    harness_fixture_down);

	tcase_add_test(tc, test_owner_killed);
	tcase_add_test(tc, test_owner_closes);
	return s;
}

int
main(void)
{
	return harness_run(ephemeral_suite());
}
