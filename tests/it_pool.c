/*
 * it_pool.c: pools through libmpmgr against a real mpmgrd, with workers
 * that are real processes: 10,000 jobs across 4 workers, 3 of them
 * killed with SIGKILL at random moments, every job finished exactly once
 * as result sees it; the helpers one by one (a worker's notifications on
 * terminate and cancel, mpmgr_reply_ready on a parked take); a worker
 * that dies on every attempt fails its job with the attempt said.
 *
 * Children are forked before the connections whose close a test relies
 * on: a forked child keeps its parent's sockets open. Nothing sleeps to
 * let something happen: the tests poll the pool's status.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

static struct harness *const D = &harness_fixture;

/* pool.status's field key of pool. */
static uint64_t
status_field(mpmgr *m, const char *pool, const char *key)
{
	msgpack_object p = mpmgr_obj_str(pool), res;
	uint32_t i;

	ck_assert_int_eq(mpmgr_call(m, "pool.status", &p, 1, &res), 0);
	for (i = 0; i < res.via.map.size; i++) {
		if (res.via.map.ptr[i].key.via.str.size == strlen(key) &&
		    memcmp(res.via.map.ptr[i].key.via.str.ptr, key,
		    strlen(key)) == 0)
			return res.via.map.ptr[i].val.type ==
			    MSGPACK_OBJECT_BOOLEAN ?
			    res.via.map.ptr[i].val.via.boolean :
			    res.via.map.ptr[i].val.via.u64;
	}
	ck_abort_msg("pool.status has no %s", key);
	return 0;
}

/* Poll until the pool's status field key reaches at least n. */
static void
await_status(mpmgr *m, const char *pool, const char *key, uint64_t n)
{
	int64_t deadline = harness_now_ms() + HARNESS_DEADLINE_MS;

	while (status_field(m, pool, key) < n) {
		ck_assert_msg(harness_now_ms() < deadline, "pool %s: %s stays "
		    "below %llu", pool, key, (unsigned long long)n);
		harness_nap(1);
	}
}

/*
 * The worker of libmpmgr(3): squares the ints of pool "squares" until it
 * is closed and drained (arg: the pool's name index, 0 for "squares").
 */
static const char *const pools[] = { "squares", "crash" };

static int
squarer(mpmgr *h, int arg)
{
	const char *name = pools[arg];
	msgpack_object job, res;
	uint64_t id;
	int r;

	for (;;) {
		r = mpmgr_pool_take(h, name, MPMGR_FOREVER, &id, &job, NULL);
		if (r == MPMGR_ESHUTDOWN)
			return 0;
		CHILD_CHECK(h, r == 0, 2);
		if (job.type != MSGPACK_OBJECT_POSITIVE_INTEGER) {
			res = mpmgr_obj_str("not an int");
			CHILD_CHECK(h, mpmgr_pool_fail(h, name, id, &res) == 0,
			    3);
			continue;
		}
		res = mpmgr_obj_int((int64_t)(job.via.u64 * job.via.u64));
		CHILD_CHECK(h, mpmgr_pool_done(h, name, id, &res) == 0, 4);
	}
}

#define NJOBS 10000
#define NWORKERS 4

START_TEST(test_crash_many)
{
	pid_t workers[NWORKERS];
	mpmgr *m;
	msgpack_packer *pk;
	msgpack_object res;
	unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
	uint64_t at[NWORKERS - 1], i, got;
	int k, state;

	/* Deaths at three random points of the run, in order. */
	srand(seed);
	for (k = 0; k < NWORKERS - 1; k++)
		at[k] = (uint64_t)(rand() % (NJOBS / 4)) + (uint64_t)k *
		    (NJOBS / 4);
	fprintf(stderr, "test_crash_many: seed %u, kills after %llu, %llu, "
	    "%llu jobs\n", seed, (unsigned long long)at[0],
	    (unsigned long long)at[1], (unsigned long long)at[2]);
	/* Three deaths may hit one job: it must not fail for them. The
	 * pool is made before the workers' takes would make it plain. */
	m = harness_connect(D);
	ck_call_ok(m, "pool.create", "['squares', {'max_attempts': 4}]",
	    "nil");
	mpmgr_free(m);
	for (k = 0; k < NWORKERS; k++)
		workers[k] = harness_spawn(D, squarer, 0);
	m = harness_connect(D);
	for (i = 1; i <= NJOBS; i++) {
		pk = mpmgr_request_begin(m, "pool.submit", 2);
		msgpack_pack_str_with_body(pk, "squares", 7);
		msgpack_pack_uint64(pk, i);
		ck_assert_int_eq(mpmgr_request_end(m), 0);
		if (mpmgr_pending(m) >= 64 || i == NJOBS) {
			while (mpmgr_pending(m) > 0)
				ck_assert_int_eq(mpmgr_reply(m, NULL), 0);
		}
	}
	for (k = 0; k < NWORKERS - 1; k++) {
		await_status(m, "squares", "done", at[k]);
		harness_kill9(workers[k]);
	}
	ck_call_ok(m, "pool.close", "['squares']", "nil");
	ck_assert_int_eq(mpmgr_pool_join(m, "squares", MPMGR_FOREVER), 1);
	harness_reap(&workers[NWORKERS - 1], 1, "the last worker");
	/* Every job once, done, with its own result. */
	for (i = 1; i <= NJOBS; i++) {
		ck_assert_int_eq(mpmgr_pool_result(m, "squares", i, true, 0,
		    &state, &res), 0);
		ck_assert_int_eq(state, MPMGR_JOB_DONE);
		ck_assert_int_eq(res.type, MSGPACK_OBJECT_POSITIVE_INTEGER);
		ck_assert_uint_eq(res.via.u64, i * i);
		ck_assert_int_eq(mpmgr_pool_result(m, "squares", i, true, 0,
		    &state, &res), MPMGR_ENOTFOUND);
	}
	/* Nothing else finished, nothing is left. */
	ck_call_err(m, "pool.collect", "['squares', 10, 0]", MPMGR_EEMPTY);
	for (k = 0; k < 5; k++) {
		got = status_field(m, "squares", (const char *[]){ "queued",
		    "running", "done", "failed", "cancelled" }[k]);
		ck_assert_uint_eq(got, 0);
	}
	ck_assert_uint_eq(status_field(m, "squares", "submitted"), NJOBS);
	ck_call_ok(m, "obj.delete", "['squares']", "nil");
	mpmgr_free(m);
}
END_TEST

/* A worker that dies as soon as it takes a job (arg: 1, "crash"). */
static int
dier(mpmgr *h, int arg)
{
	uint64_t id;

	CHILD_CHECK(h, mpmgr_pool_take(h, pools[arg], MPMGR_FOREVER, &id, NULL,
	    NULL) == 0, 2);
	raise(SIGKILL);
	return 1;
}

START_TEST(test_dies_every_time)
{
	mpmgr *m = harness_connect(D);
	msgpack_object job = mpmgr_obj_str("boom"), res;
	pid_t w;
	uint64_t id;
	int state, k, st;

	ck_call_ok(m, "pool.create", "['crash', {'max_attempts': 2}]", "nil");
	ck_assert_int_eq(mpmgr_pool_submit(m, "crash", &job, &id), 0);
	for (k = 0; k < 2; k++) {
		w = harness_spawn(D, dier, 1);
		while (waitpid(w, &st, 0) == -1 && errno == EINTR)
			;
		ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	}
	ck_assert_int_eq(mpmgr_pool_result(m, "crash", id, false, 10, &state,
	    &res), 0);
	ck_assert_int_eq(state, MPMGR_JOB_FAILED);
	ck_assert_int_eq(res.type, MSGPACK_OBJECT_STR);
	ck_assert_msg(strstr(res.via.str.ptr, "died (its connection closed) "
	    "on attempt 2 of 2") != NULL, "%.*s", (int)res.via.str.size,
	    res.via.str.ptr);
	ck_call_ok(m, "obj.delete", "['crash']", "nil");
	mpmgr_free(m);
}
END_TEST

/* What a worker's notification callback saw. */
struct seen {
	int terminate;
	int cancel;
	uint64_t id;
};

static void
on_notify(void *arg, const char *method, size_t len,
    const msgpack_object *params)
{
	struct seen *s = arg;

	if (params->type != MSGPACK_OBJECT_ARRAY || params->via.array.size < 1)
		return;
	if (len == strlen("pool.terminate") &&
	    memcmp(method, "pool.terminate", len) == 0)
		s->terminate++;
	else if (len == strlen("pool.cancel") &&
	    memcmp(method, "pool.cancel", len) == 0 &&
	    params->via.array.size == 2) {
		s->cancel++;
		s->id = params->via.array.ptr[1].via.u64;
	}
}

START_TEST(test_helpers)
{
	mpmgr *m = harness_connect(D), *w = harness_connect(D);
	msgpack_object job = mpmgr_obj_int(7), res, v;
	struct seen seen = { 0 };
	msgpack_packer *pk;
	uint64_t id, id2, got;
	unsigned attempt;
	int state, r;

	mpmgr_set_notify(w, on_notify, &seen);
	/* A parked take: its reply is not there until a job is. */
	pk = mpmgr_request_begin(w, "pool.take", 1);
	msgpack_pack_str_with_body(pk, "ph", 2);
	ck_assert_int_eq(mpmgr_request_end(w), 0);
	ck_assert_int_eq(mpmgr_reply_ready(w), 0);
	harness_await_waiters(m, "ph", 1);
	ck_assert_int_eq(mpmgr_reply_ready(w), 0);
	ck_assert_int_eq(mpmgr_pool_submit(m, "ph", &job, &id), 0);
	ck_assert_uint_eq(id, 1);
	while ((r = mpmgr_reply_ready(w)) == 0)
		harness_nap(1);
	ck_assert_int_eq(r, 1);
	ck_reply_ok(w, "[1, 7, 1]");
	ck_assert_int_eq(mpmgr_reply_ready(w), MPMGR_ESTATE);
	/* Only the leasing connection reports. */
	v = mpmgr_obj_int(49);
	ck_assert_int_eq(mpmgr_pool_done(m, "ph", id, &v), MPMGR_ENOTOWNER);
	ck_assert_int_eq(mpmgr_pool_result(m, "ph", id, false, 0, &state,
	    &res), MPMGR_ETIMEOUT);
	ck_assert_int_eq(mpmgr_pool_done(w, "ph", id, &v), 0);
	ck_assert_int_eq(mpmgr_pool_result(m, "ph", id, false, MPMGR_FOREVER,
	    &state, &res), 0);
	ck_assert_int_eq(state, MPMGR_JOB_DONE);
	ck_assert_uint_eq(res.via.u64, 49);
	/* fail, and cancel of a running job: its worker is told. */
	ck_assert_int_eq(mpmgr_pool_submit(m, "ph", &job, &id), 0);
	ck_assert_int_eq(mpmgr_pool_submit(m, "ph", &job, &id2), 0);
	ck_assert_int_eq(mpmgr_pool_take(w, "ph", 0, &got, &res, &attempt), 0);
	ck_assert_uint_eq(got, id);
	ck_assert_uint_eq(attempt, 1);
	v = mpmgr_obj_str("bad");
	ck_assert_int_eq(mpmgr_pool_fail(w, "ph", id, &v), 0);
	ck_assert_int_eq(mpmgr_pool_result(m, "ph", id, true, 0, &state, &res),
	    0);
	ck_assert_int_eq(state, MPMGR_JOB_FAILED);
	ck_assert_int_eq(mpmgr_pool_take(w, "ph", 0, &got, NULL, NULL), 0);
	ck_assert_int_eq(mpmgr_pool_cancel(m, "ph", id2), 1);
	ck_assert_int_eq(mpmgr_pool_cancel(m, "ph", id2), 0);
	ck_assert_int_eq(mpmgr_poll_notify(w), 1);
	ck_assert_int_eq(seen.cancel, 1);
	ck_assert_uint_eq(seen.id, id2);
	ck_assert_int_eq(mpmgr_pool_done(w, "ph", id2, &v), MPMGR_ENOTOWNER);
	ck_assert_int_eq(mpmgr_pool_result(m, "ph", id2, true, 0, &state,
	    &res), 0);
	ck_assert_int_eq(state, MPMGR_JOB_CANCELLED);
	ck_assert_int_eq(mpmgr_pool_take(w, "ph", 0, NULL, NULL, NULL),
	    MPMGR_EEMPTY);
	/* join needs a closed pool; terminate reaches the worker. */
	ck_assert_int_eq(mpmgr_pool_join(m, "ph", 0), MPMGR_EBADARG);
	ck_assert_int_eq(mpmgr_pool_terminate(m, "ph"), 0);
	ck_assert_int_eq(mpmgr_pool_join(m, "ph", 0), 1);
	ck_assert_int_eq(mpmgr_pool_take(w, "ph", MPMGR_FOREVER, NULL, NULL,
	    NULL), MPMGR_ESHUTDOWN);
	ck_assert_int_eq(seen.terminate, 1);
	ck_assert_int_eq(mpmgr_pool_submit(m, "ph", &job, &id),
	    MPMGR_ESHUTDOWN);
	ck_assert_int_eq(mpmgr_pool_close(m, "ph"), 0);
	ck_call_ok(m, "obj.delete", "['ph']", "nil");
	mpmgr_free(w);
	mpmgr_free(m);
}
END_TEST

static Suite *
pool_suite(void)
{
	Suite *s = suite_create("it_pool");
	TCase *tc;

	tc = harness_tcase(s, "pool", 240, harness_fixture_up,
	    harness_fixture_down);
	tcase_add_test(tc, test_helpers);
	tcase_add_test(tc, test_dies_every_time);
	tcase_add_test(tc, test_crash_many);
	return s;
}

int
main(void)
{
	return harness_run(pool_suite());
}
