/*
 * it_pipe.c: pipes between real processes through a real mpmgrd: EOF when
 * the writer closes its end, when the last holder is killed with
 * SIGKILL, and when a hand-off is never claimed; a send into an end
 * whose reader died; 100,000 messages through a bounded pipe, none lost
 * nor duplicated nor out of order; and the seed's Pipe program (the
 * parent closes its copy of the child's end right after starting the
 * child, sends twice and closes; the child reads until EOF), with and
 * without the hand-off that makes it safe.
 *
 * One daemon per TCase (unchecked fixture). Parked requests are awaited by
 * polling obj.info "waiters", children through their exit status; nothing
 * sleeps to let something happen.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static struct harness *const D = &harness_fixture;

/* The children of a test tell the parent how far they got through this
 * pipe (a byte each step), and the parent them. */
static int up[2] = { -1, -1 };
static int down[2] = { -1, -1 };

static void
pipes_open(void)
{
	ck_assert(pipe(up) == 0 && pipe(down) == 0);
}

static void
step(int fd)
{
	(void)!write(fd, "s", 1);
}

/* Wait for a step on fd: true when it came (false: EOF). */
static bool
await_step(int fd)
{
	char ch;

	return read(fd, &ch, 1) == 1;
}

/* --- children ----------------------------------------------------------- */

/* Hold end 1 of name and read until EOF: the ints 0..count-1 in order,
 * then EOF. */
static int
read_until_eof(mpmgr *m, const char *name, int64_t count)
{
	msgpack_object v;
	int64_t i;
	int rc;

	CHILD_CHECK(m, mpmgr_pipe_open(m, name, 1, 0) == 0, 2);
	for (i = 0; i < count; i++) {
		rc = mpmgr_pipe_recv(m, name, 1, MPMGR_FOREVER, &v);
		CHILD_CHECK(m, rc == 0, 3);
		CHILD_CHECK(m, v.type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
		    v.via.u64 == (uint64_t)i, 4);
	}
	rc = mpmgr_pipe_recv(m, name, 1, MPMGR_FOREVER, &v);
	CHILD_CHECK(m, rc == MPMGR_EEOF, 5);
	CHILD_CHECK(m, strcmp(mpmgr_errcode(m), "EOF") == 0, 6);
	return 0;
}

static int
reader_of_pe(mpmgr *m, int count)
{
	return read_until_eof(m, "pe", count);
}

/* Hold end 0, send one message, say so, and wait to be killed. */
static int
holder_then_killed(mpmgr *m, int arg)
{
	msgpack_object v = mpmgr_obj_int(0);

	CHILD_CHECK(m, mpmgr_pipe_open(m, "pk", 0, 0) == 0, 2);
	CHILD_CHECK(m, mpmgr_pipe_send(m, "pk", 0, &v, MPMGR_FOREVER) == 0,
	    3);
	step(up[1]);
	for (;;)
		pause();
}

static int
reader_of_pk(mpmgr *m, int arg)
{
	return read_until_eof(m, "pk", 1);
}

/* --- EOF ---------------------------------------------------------------- */

START_TEST(test_eof_on_close)
{
	mpmgr *w = harness_connect(D);
	msgpack_object v;
	pid_t reader;
	int i;

	ck_assert_int_eq(mpmgr_pipe_open(w, "pe", 0, 0), 0);
	reader = harness_spawn(D, reader_of_pe, 3);
	for (i = 0; i < 3; i++) {
		v = mpmgr_obj_int(i);
		ck_assert_int_eq(mpmgr_pipe_send(w, "pe", 0, &v, 5), 0);
	}
	harness_await_waiters(w, "pe", 1);
	ck_assert_int_eq(mpmgr_pipe_close(w, "pe", 0), 0);
	harness_reap(&reader, 1, "the reader, after the writer's close");
	/* Both ends closed (the reader's once the daemon has read its
	 * hang-up): the pipe is gone. */
	harness_await_gone(w, "pe");
	mpmgr_free(w);
}
END_TEST

START_TEST(test_eof_on_kill9)
{
	mpmgr *m = harness_connect(D);
	pid_t holder, reader;

	pipes_open();
	holder = harness_spawn(D, holder_then_killed, 0);
	ck_assert(await_step(up[0]));
	reader = harness_spawn(D, reader_of_pk, 0);
	/* The reader took the message and waits for the next. */
	harness_await_waiters(m, "pk", 1);
	harness_kill9(holder);
	harness_reap(&reader, 1, "the reader, after kill -9 of the holder");
	mpmgr_free(m);
}
END_TEST

/* A send into an end whose reader was killed: EOF, a broken pipe. */
START_TEST(test_broken_pipe)
{
	mpmgr *w = harness_connect(D);
	msgpack_object v = mpmgr_obj_str("x");
	int64_t deadline;
	pid_t reader;
	int rc;

	pipes_open();
	ck_assert_int_eq(mpmgr_pipe_open(w, "pb", 0, 0), 0);
	if ((reader = fork()) == 0) {
		mpmgr *r = NULL;

		if (mpmgr_connect(&r, D->sock, D->keyfile) != 0 ||
		    mpmgr_pipe_open(r, "pb", 1, 0) != 0)
			_exit(1);
		step(up[1]);
		for (;;)
			pause();
	}
	ck_assert(await_step(up[0]));
	ck_assert_int_eq(mpmgr_pipe_send(w, "pb", 0, &v, 0), 0);
	harness_kill9(reader);
	/* The daemon sees the hang-up on its own time. */
	deadline = harness_now_ms() + HARNESS_DEADLINE_MS;
	while ((rc = mpmgr_pipe_send(w, "pb", 0, &v, 0)) == 0 &&
	    harness_now_ms() < deadline)
		harness_nap(2);
	ck_assert_msg(rc == MPMGR_EEOF, "send after the reader died: %s",
	    mpmgr_strerror(rc));
	ck_assert_int_eq(mpmgr_pipe_close(w, "pb", 0), 0);
	ck_call_err(w, "obj.info", "['pb']", MPMGR_ENOOBJ);
	mpmgr_free(w);
}
END_TEST

/* --- hand-offs ---------------------------------------------------------- */

static uint64_t seed_token;

/*
 * The seed's child: `while True: print(conn.recv())` until EOFError. It
 * opens its end only after the parent has closed its own copy (down
 * pipe), the worst case of the race; the messages go back up as steps.
 */
static int
seed_child(mpmgr *m, int with_token)
{
	msgpack_object v;
	int rc, n = 0;

	CHILD_CHECK(m, await_step(down[0]), 2);
	rc = mpmgr_pipe_open(m, "ps", 1, with_token ? seed_token : 0);
	if (!with_token)
		return rc == MPMGR_EEOF ? 0 : 3;
	CHILD_CHECK(m, rc == 0, 4);
	while ((rc = mpmgr_pipe_recv(m, "ps", 1, MPMGR_FOREVER, &v)) == 0) {
		CHILD_CHECK(m, n == 0 ? v.type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
		    v.via.u64 == 1 : v.type == MSGPACK_OBJECT_STR &&
		    v.via.str.size == 2 && memcmp(v.via.str.ptr, "hi", 2) == 0,
		    5);
		n++;
	}
	CHILD_CHECK(m, rc == MPMGR_EEOF && n == 2, 6);
	return 0;
}

/* parent, son = Pipe(); p = Process(target=f, args=(son,)); p.start();
 * son.close(); parent.send(1); parent.send('hi'); parent.close();
 * p.join() */
static void
seed_program(bool with_token)
{
	mpmgr *parent = harness_connect(D);
	msgpack_object one = mpmgr_obj_int(1), hi = mpmgr_obj_str("hi");
	pid_t child;

	pipes_open();
	ck_assert_int_eq(mpmgr_pipe_open(parent, "ps", 0, 0), 0);
	ck_assert_int_eq(mpmgr_pipe_open(parent, "ps", 1, 0), 0);
	/* Pickling the son for the child takes a hand-off. */
	if (with_token)
		ck_assert_int_eq(mpmgr_pipe_handoff(parent, "ps", 1, -1,
		    &seed_token), 0);
	child = harness_spawn(D, seed_child, with_token);
	ck_assert_int_eq(mpmgr_pipe_close(parent, "ps", 1), 0);
	step(down[1]);
	if (!with_token) {
		/* The child found its end closed (EOF at open). */
		harness_reap(&child, 1, "the seed's child, without hand-off");
		ck_assert_int_eq(mpmgr_pipe_close(parent, "ps", 0), 0);
		mpmgr_free(parent);
		return;
	}
	ck_assert_int_eq(mpmgr_pipe_send(parent, "ps", 0, &one, 5), 0);
	ck_assert_int_eq(mpmgr_pipe_send(parent, "ps", 0, &hi, 5), 0);
	ck_assert_int_eq(mpmgr_pipe_close(parent, "ps", 0), 0);
	harness_reap(&child, 1, "the seed's child");
	mpmgr_free(parent);
}

START_TEST(test_seed_program)
{
	seed_program(true);
}
END_TEST

/* Without the hand-off the parent's son.close() closes the child's end
 * before the child opens it: the race the hand-off is there for. */
START_TEST(test_seed_program_without_handoff)
{
	seed_program(false);
}
END_TEST

static int
reader_of_pu(mpmgr *m, int arg)
{
	return read_until_eof(m, "pu", 0);
}

/*
 * A hand-off nobody claims closes the end at its deadline. (Children are
 * forked before the giver connects: a child would keep the giver's socket
 * open, and the daemon would never see it close.)
 */
START_TEST(test_handoff_unclaimed)
{
	mpmgr *m = harness_connect(D), *g;
	uint64_t token;
	pid_t reader;

	reader = harness_spawn(D, reader_of_pu, 0);
	harness_await_waiters(m, "pu", 1);
	g = harness_connect(D);
	ck_assert_int_eq(mpmgr_pipe_open(g, "pu", 0, 0), 0);
	ck_assert_int_eq(mpmgr_pipe_handoff(g, "pu", 0, 0.5, &token), 0);
	ck_assert_uint_ne(token, 0);
	/* The giver goes; the receiver never comes. */
	mpmgr_free(g);
	harness_reap(&reader, 1, "the reader, after an unclaimed hand-off");
	mpmgr_free(m);
}
END_TEST

/* --- many messages ------------------------------------------------------ */

#define MANY 100000
#define WINDOW 256

/* Send 0..MANY-1 at end 0 of "pm", WINDOW requests in flight. */
static int
many_writer(mpmgr *m, int arg)
{
	msgpack_packer *pk;
	int64_t sent = 0, got = 0;

	CHILD_CHECK(m, mpmgr_pipe_open(m, "pm", 0, 0) == 0, 2);
	while (got < MANY) {
		while (sent < MANY && sent - got < WINDOW) {
			pk = mpmgr_request_begin(m, "pipe.send", 3);
			CHILD_CHECK(m, pk != NULL, 3);
			msgpack_pack_str_with_body(pk, "pm", 2);
			msgpack_pack_int(pk, 0);
			msgpack_pack_int64(pk, sent++);
			CHILD_CHECK(m, mpmgr_request_end(m) == 0, 4);
		}
		CHILD_CHECK(m, mpmgr_reply(m, NULL) == 0, 5);
		got++;
	}
	CHILD_CHECK(m, mpmgr_pipe_close(m, "pm", 0) == 0, 6);
	return 0;
}

/* Receive at end 1 of "pm" until EOF, WINDOW recvs in flight: exactly
 * 0..MANY-1 in order. */
static int
many_reader(mpmgr *m, int arg)
{
	msgpack_object v;
	msgpack_packer *pk;
	int64_t next = 0;
	int rc;
	bool eof = false;

	CHILD_CHECK(m, mpmgr_pipe_open(m, "pm", 1, 0) == 0, 2);
	step(up[1]);
	for (;;) {
		while (!eof && mpmgr_pending(m) < WINDOW) {
			pk = mpmgr_request_begin(m, "pipe.recv", 2);
			CHILD_CHECK(m, pk != NULL, 3);
			msgpack_pack_str_with_body(pk, "pm", 2);
			msgpack_pack_int(pk, 1);
			CHILD_CHECK(m, mpmgr_request_end(m) == 0, 4);
		}
		if (mpmgr_pending(m) == 0)
			break;
		rc = mpmgr_reply(m, &v);
		if (rc == MPMGR_EEOF) {
			eof = true;
			continue;
		}
		CHILD_CHECK(m, rc == 0 && !eof, 5);
		if (v.type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
		    v.via.u64 != (uint64_t)next) {
			fprintf(stderr, "message %lld: got %llu\n",
			    (long long)next, (unsigned long long)v.via.u64);
			return 6;
		}
		next++;
	}
	CHILD_CHECK(m, next == MANY, 7);
	return 0;
}

START_TEST(test_many_messages)
{
	mpmgr *m = harness_connect(D);
	pid_t pids[2];

	pipes_open();
	/* Bounded: senders park and are let in as the reader drains. */
	ck_call_ok(m, "pipe.create", "['pm', {'maxsize': 1000}]", "nil");
	pids[0] = harness_spawn(D, many_reader, 0);
	ck_assert(await_step(up[0]));
	pids[1] = harness_spawn(D, many_writer, 0);
	harness_reap(pids, 2, "100,000 messages through a pipe");
	harness_await_gone(m, "pm");
	mpmgr_free(m);
}
END_TEST

static Suite *
pipe_suite(void)
{
	Suite *s = suite_create("it_pipe");
	TCase *tc;

	tc = harness_tcase(s, "pipe", 120, harness_fixture_up,
	    harness_fixture_down);
	tcase_add_test(tc, test_eof_on_close);
	tcase_add_test(tc, test_eof_on_kill9);
	tcase_add_test(tc, test_broken_pipe);
	tcase_add_test(tc, test_seed_program);
	tcase_add_test(tc, test_seed_program_without_handoff);
	tcase_add_test(tc, test_handoff_unclaimed);
	tcase_add_test(tc, test_many_messages);
	return s;
}

int
main(void)
{
	return harness_run(pipe_suite());
}
