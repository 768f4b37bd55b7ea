/*
 * it_kill.c: processes killed with SIGKILL while they hold or wait for
 * something in a real mpmgrd leave nothing stuck and lose nothing: a dead
 * holder's lock, rlock or permits go to the next waiter; a dead waiter
 * (queue.get, acquire, condition.wait, event.wait, barrier.wait) takes no
 * item, permit or wakeup with it; an ack queue re-delivers what a dead
 * consumer had got; release_on_disconnect false keeps Python's behaviour.
 * Then sys.cancel through mpmgr_cancel_pending: the request is taken back
 * and the connection keeps what it holds.
 *
 * A waiter is killed while the daemon is stopped (SIGSTOP), after the
 * request that will serve it was sent: once continued, the daemon reads
 * that request before it reads the hang-up, so it must itself see that the
 * peer is gone and not hand it the item, lock, permit or notify. Parked
 * waiters are awaited by polling obj.info "waiters", never by sleeping.
 * One daemon for the suite (unchecked fixture).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static struct harness *const D = &harness_fixture;

/* --- processes ------------------------------------------------------- */

/* Children tell the parent "I hold it" through this pipe. */
static int ready[2] = { -1, -1 };

static void
ready_open(void)
{
	ck_assert(pipe(ready) == 0);
}

static void
ready_close(void)
{
	close(ready[0]);
	close(ready[1]);
}

/* In a child: tell the parent, then wait to be killed. */
static _Noreturn int
hold_until_killed(void)
{
	(void)!write(ready[1], "r", 1);
	for (;;)
		pause();
}

/* In the parent: one child said it holds what it should. */
static void
await_ready(void)
{
	struct pollfd p = { .fd = ready[0], .events = POLLIN };
	char c;

	ck_assert_msg(poll(&p, 1, HARNESS_DEADLINE_MS) == 1, "no child got "
	    "ready within %d ms", HARNESS_DEADLINE_MS);
	ck_assert(read(ready[0], &c, 1) == 1);
}

/*
 * Send m's buffered requests, then SIGKILL victim, while the daemon is
 * stopped: the requests are read before the victim's hang-up.
 */
static void
kill9_after_send(pid_t victim, mpmgr *m)
{
	harness_freeze(D);
	ck_assert_int_eq(mpmgr_flush(m), 0);
	harness_kill9(victim);
	ck_assert(kill(D->pid, SIGCONT) == 0);
}

/* Poll until the call answers expected (state that settles after a
 * close the daemon has yet to read). */
static void
await_result(mpmgr *m, const char *method, const char *params,
    const char *expected)
{
	int64_t deadline = harness_now_ms() + HARNESS_DEADLINE_MS;
	msgpack_object res;
	char got[256] = "";
	int rc;

	for (;;) {
		rc = harness_call(m, method, params, &res);
		if (rc == 0 && harness_obj_eq(res, expected))
			return;
		if (rc == 0)
			harness_obj_str(res, got, sizeof(got));
		else
			snprintf(got, sizeof(got), "%s", mpmgr_strerror(rc));
		if (harness_now_ms() >= deadline)
			break;
		harness_nap(2);
	}
	ck_abort_msg("%s %s: still %s after %d ms, expected %s", method,
	    params, got, HARNESS_DEADLINE_MS, expected);
}

/* Poll until the daemon has n authenticated clients: it has read every
 * other close. */
static void
await_clients(mpmgr *m, uint64_t n)
{
	int64_t deadline = harness_now_ms() + HARNESS_DEADLINE_MS;
	uint64_t got;

	while ((got = harness_stat(m, "clients")) != n &&
	    harness_now_ms() < deadline)
		harness_nap(2);
	ck_assert_msg(got == n, "%llu clients, expected %llu",
	    (unsigned long long)got, (unsigned long long)n);
}

/* --- the three kinds of holdings ------------------------------------- */

struct kind {
	const char *type;
	int (*acquire)(mpmgr *, const char *, double);
	int depth;          /* acquisitions a holder makes */
	const char *create; /* options, as text */
	const char *keep;   /* the same, release_on_disconnect false */
	const char *held;   /* method answering "held" / "free", as text */
	const char *held_answer;
	const char *free_answer;
};

static const struct kind kinds[] = {
	{ "lock", mpmgr_lock_acquire, 1, "{}",
	  "{'release_on_disconnect': false}", "lock.locked", "true",
	  "false" },
	/* an rlock held two levels deep is given back whole */
	{ "rlock", mpmgr_rlock_acquire, 2, "{}",
	  "{'release_on_disconnect': false}", "rlock.locked", "true",
	  "false" },
	/* a holder of both permits gives back both */
	{ "semaphore", mpmgr_sem_acquire, 2, "{'value': 2}",
	  "{'value': 2, 'release_on_disconnect': false}", "semaphore.value",
	  "0", "2" },
};

/* The kind and object name the children of a test work on. */
static const struct kind *K;
static char kname[64];

/* Create kinds[i] named prefix_type; keep: release_on_disconnect false. */
static void
kind_setup(mpmgr *m, int i, const char *prefix, bool keep)
{
	char method[64], params[160];

	K = &kinds[i];
	snprintf(kname, sizeof(kname), "%s_%s", prefix, K->type);
	snprintf(method, sizeof(method), "%s.create", K->type);
	snprintf(params, sizeof(params), "['%s', %s]", kname,
	    keep ? K->keep : K->create);
	ck_call_ok(m, method, params, "nil");
}

static void
kind_state(mpmgr *m, const char *answer)
{
	char params[96];

	snprintf(params, sizeof(params), "['%s']", kname);
	await_result(m, K->held, params, answer);
}

/* Takes K depth times, then waits to be killed. */
static int
kind_holder(mpmgr *m, int unused)
{
	for (int i = 0; i < K->depth; i++)
		CHILD_CHECK(m, K->acquire(m, kname, MPMGR_FOREVER) == 1, 10);
	return hold_until_killed();
}

/* Takes K once, waiting as long as it takes; gives it back if asked. */
static int
kind_waiter(mpmgr *m, int give_back)
{
	msgpack_object name = mpmgr_obj_str(kname);
	char method[64];

	CHILD_CHECK(m, K->acquire(m, kname, MPMGR_FOREVER) == 1, 10);
	snprintf(method, sizeof(method), "%s.release", K->type);
	if (give_back)
		CHILD_CHECK(m, mpmgr_call(m, method, &name, 1, NULL) == 0, 11);
	return 0;
}

/* Waits for K, and must be killed before it gets it. */
static int
kind_victim(mpmgr *m, int unused)
{
	K->acquire(m, kname, MPMGR_FOREVER);
	return 20;
}

START_TEST(test_holder_dies)
{
	mpmgr *m = harness_connect(D);
	pid_t holder, waiter;

	kind_setup(m, _i, "kh", false);
	ready_open();
	holder = harness_spawn(D, kind_holder, 0);
	await_ready();
	kind_state(m, K->held_answer);
	waiter = harness_spawn(D, kind_waiter, 0);
	harness_await_waiters(m, kname, 1);

	harness_kill9(holder);
	harness_reap(&waiter, 1, "the next waiter");
	/* and the waiter's exit gave back what it got */
	kind_state(m, K->free_answer);
	ck_assert_int_eq(harness_waiters(m, kname), 0);
	ready_close();
	mpmgr_free(m);
}
END_TEST

START_TEST(test_blocked_acquire_dies)
{
	mpmgr *m = harness_connect(D);
	pid_t victim, waiter;
	char method[64], params[96];

	/* what a dead waiter were given would stay taken for good */
	kind_setup(m, _i, "kb", true);
	for (int i = 0; i < K->depth; i++)
		ck_assert_int_eq(K->acquire(m, kname, 0), 1);
	victim = harness_spawn(D, kind_victim, 0);
	harness_await_waiters(m, kname, 1);
	waiter = harness_spawn(D, kind_waiter, 1);
	harness_await_waiters(m, kname, 2);

	/* released before the daemon reads the victim's hang-up: the dead
	 * waiter must not take it */
	snprintf(params, sizeof(params), "['%s']", kname);
	snprintf(method, sizeof(method), "%s.release", K->type);
	for (int i = 0; i < K->depth; i++)
		harness_request(m, method, params);
	kill9_after_send(victim, m);
	for (int i = 0; i < K->depth; i++)
		ck_reply_ok(m, "nil");
	harness_reap(&waiter, 1, "the live waiter behind a dead one");
	kind_state(m, K->free_answer);
	ck_assert_int_eq(harness_waiters(m, kname), 0);
	mpmgr_free(m);
}
END_TEST

/* --- blocked waiters that die ---------------------------------------- */

/* Gets one item and must be killed before it does. */
static int
getter_victim(mpmgr *m, int unused)
{
	mpmgr_queue_get(m, "kq", MPMGR_FOREVER, NULL);
	return 20;
}

/* Gets one item within the deadline: it must be 'x'. */
static int
getter_x(mpmgr *m, int unused)
{
	msgpack_object item;

	CHILD_CHECK(m, mpmgr_queue_get(m, "kq", HARNESS_DEADLINE_MS / 1000.0,
	    &item) == 0, 10);
	CHILD_CHECK(m, harness_obj_eq(item, "'x'"), 11);
	return 0;
}

START_TEST(test_blocked_get_dies)
{
	mpmgr *m = harness_connect(D);
	msgpack_object item;
	pid_t victim, getter;

	victim = harness_spawn(D, getter_victim, 0);
	harness_await_waiters(m, "kq", 1);
	getter = harness_spawn(D, getter_x, 0);
	harness_await_waiters(m, "kq", 2);
	harness_request(m, "queue.put", "['kq', 'x', 0]");
	kill9_after_send(victim, m);
	ck_reply_ok(m, "nil");
	harness_reap(&getter, 1, "the live getter behind a dead one");

	/* with no live getter the item stays in the queue */
	victim = harness_spawn(D, getter_victim, 0);
	harness_await_waiters(m, "kq", 1);
	harness_request(m, "queue.put", "['kq', 'y', 0]");
	kill9_after_send(victim, m);
	ck_reply_ok(m, "nil");
	ck_assert_int_eq(mpmgr_queue_get(m, "kq", 0, &item), 0);
	ck_assert_msg(harness_obj_eq(item, "'y'"), "the item was lost");
	ck_assert_int_eq(mpmgr_queue_get(m, "kq", 0, NULL), MPMGR_EEMPTY);
	/* both items were got once: two task_done finish the queue, which
	 * then goes away once the daemon has read the victims' closes */
	ck_assert_int_eq(mpmgr_queue_join(m, "kq", 0), 0);
	ck_assert_int_eq(mpmgr_queue_task_done(m, "kq"), 0);
	ck_assert_int_eq(mpmgr_queue_task_done(m, "kq"), 0);
	ck_assert_int_eq(mpmgr_queue_join(m, "kq", 0), 1);
	await_clients(m, 1);
	ck_call_err(m, "obj.info", "['kq']", MPMGR_ENOOBJ);
	mpmgr_free(m);
}
END_TEST

/*
 * condition.acquire, wait, release: exits 0 when the wait answered true.
 * Must be killed instead when arg is 1.
 */
static int
cond_waiter(mpmgr *m, int victim)
{
	msgpack_object name = mpmgr_obj_str("kc"), res;

	CHILD_CHECK(m, mpmgr_call(m, "condition.acquire", &name, 1,
	    &res) == 0 && harness_obj_eq(res, "true"), 10);
	CHILD_CHECK(m, mpmgr_call(m, "condition.wait", &name, 1,
	    &res) == 0 && harness_obj_eq(res, "true"), 11);
	if (victim)
		return 20;
	CHILD_CHECK(m, mpmgr_call(m, "condition.release", &name, 1,
	    NULL) == 0, 12);
	return 0;
}

START_TEST(test_blocked_cond_wait_dies)
{
	mpmgr *m = harness_connect(D);
	pid_t victim, waiter;

	/* killed while waiting: notify must skip it */
	victim = harness_spawn(D, cond_waiter, 1);
	harness_await_waiters(m, "kc", 1);
	waiter = harness_spawn(D, cond_waiter, 0);
	harness_await_waiters(m, "kc", 2);
	ck_call_ok(m, "condition.acquire", "['kc']", "true");
	harness_request(m, "condition.notify", "['kc']");
	harness_request(m, "condition.release", "['kc']");
	kill9_after_send(victim, m);
	ck_reply_ok(m, "nil");
	ck_reply_ok(m, "nil");
	harness_reap(&waiter, 1, "the waiter behind a dead one, notified once");

	/* killed once notified, before it holds the lock again: the
	 * notify passes to the next waiter */
	victim = harness_spawn(D, cond_waiter, 1);
	harness_await_waiters(m, "kc", 1);
	waiter = harness_spawn(D, cond_waiter, 0);
	harness_await_waiters(m, "kc", 2);
	ck_call_ok(m, "condition.acquire", "['kc']", "true");
	ck_call_ok(m, "condition.notify", "['kc', 1]", "nil");
	harness_await_waiters(m, "kc", 1);
	harness_request(m, "condition.release", "['kc']");
	kill9_after_send(victim, m);
	ck_reply_ok(m, "nil");
	harness_reap(&waiter, 1, "the waiter given a dead waiter's notify");

	await_clients(m, 1);
	ck_assert_int_eq(harness_waiters(m, "kc"), 0);
	mpmgr_free(m);
}
END_TEST

/* event.wait: true within the deadline, or killed when arg is 1. */
static int
event_waiter(mpmgr *m, int victim)
{
	CHILD_CHECK(m, mpmgr_event_wait(m, "ke", victim ? MPMGR_FOREVER :
	    HARNESS_DEADLINE_MS / 1000.0) == 1, 10);
	return victim ? 20 : 0;
}

START_TEST(test_blocked_event_wait_dies)
{
	mpmgr *m = harness_connect(D);
	pid_t victim, waiter;

	victim = harness_spawn(D, event_waiter, 1);
	harness_await_waiters(m, "ke", 1);
	waiter = harness_spawn(D, event_waiter, 0);
	harness_await_waiters(m, "ke", 2);
	harness_request(m, "event.set", "['ke']");
	kill9_after_send(victim, m);
	ck_reply_ok(m, "nil");
	harness_reap(&waiter, 1, "the event waiter beside a dead one");
	ck_assert_int_eq(harness_waiters(m, "ke"), 0);
	ck_assert_int_eq(mpmgr_event_clear(m, "ke"), 0);
	mpmgr_free(m);
}
END_TEST

/* barrier.wait on kbar: arg 0 expects BROKEN, 1 is killed, 2 expects an
 * index, written to the dict kbar_idx. */
static int
barrier_party(mpmgr *m, int role)
{
	int64_t index;
	int rc = mpmgr_barrier_wait(m, "kbar", HARNESS_DEADLINE_MS / 1000.0,
	    &index);
	char key[32];

	if (role == 1)
		return 20;
	if (role == 0) {
		CHILD_CHECK(m, rc == MPMGR_EBROKEN, 10);
		return 0;
	}
	CHILD_CHECK(m, rc == 0, 11);
	snprintf(key, sizeof(key), "%lld", (long long)index);
	CHILD_CHECK(m, mpmgr_dict_incr(m, "kbar_idx", key, 1, NULL) == 0, 12);
	return 0;
}

START_TEST(test_blocked_barrier_dies)
{
	mpmgr *m = harness_connect(D);
	pid_t victim, other, p1, p2;
	int64_t index, n;
	char key[8];

	ck_call_ok(m, "barrier.create", "['kbar', {'parties': 3}]", "nil");
	victim = harness_spawn(D, barrier_party, 1);
	harness_await_waiters(m, "kbar", 1);
	other = harness_spawn(D, barrier_party, 0);
	harness_await_waiters(m, "kbar", 2);
	harness_kill9(victim);
	harness_reap(&other, 1, "the barrier party beside a dead one");
	ck_call_ok(m, "barrier.broken", "['kbar']", "true");
	ck_assert_int_eq(mpmgr_barrier_wait(m, "kbar", 0, NULL),
	    MPMGR_EBROKEN);

	/* reset: a full cycle passes again, indexes 0..2 once each */
	ck_call_ok(m, "barrier.reset", "['kbar']", "nil");
	p1 = harness_spawn(D, barrier_party, 2);
	p2 = harness_spawn(D, barrier_party, 2);
	harness_await_waiters(m, "kbar", 2);
	ck_assert_int_eq(mpmgr_barrier_wait(m, "kbar", MPMGR_FOREVER,
	    &index), 0);
	harness_reap(&p1, 1, "barrier party");
	harness_reap(&p2, 1, "barrier party");
	snprintf(key, sizeof(key), "%lld", (long long)index);
	ck_assert_int_eq(mpmgr_dict_incr(m, "kbar_idx", key, 1, NULL), 0);
	for (int i = 0; i < 3; i++) {
		snprintf(key, sizeof(key), "%d", i);
		ck_assert_int_eq(mpmgr_dict_get_int(m, "kbar_idx", key, &n), 0);
		ck_assert_msg(n == 1, "index %d seen %lld times", i,
		    (long long)n);
	}
	ck_call_ok(m, "barrier.broken", "['kbar']", "false");

	/* the last party arrives before the daemon reads a waiter's
	 * hang-up: the cycle breaks instead of passing */
	victim = harness_spawn(D, barrier_party, 1);
	harness_await_waiters(m, "kbar", 1);
	other = harness_spawn(D, barrier_party, 0);
	harness_await_waiters(m, "kbar", 2);
	harness_request(m, "barrier.wait", "['kbar']");
	kill9_after_send(victim, m);
	ck_assert_int_eq(mpmgr_reply(m, NULL), MPMGR_EBROKEN);
	harness_reap(&other, 1, "the barrier party beside a dead one");
	ck_call_ok(m, "barrier.broken", "['kbar']", "true");
	mpmgr_free(m);
}
END_TEST

/* --- an ack queue's consumer dies between get and task_done ---------- */

/* Gets 'job' and dies with it (arg 1), or gets it and finishes it. */
static int
ack_consumer(mpmgr *m, int victim)
{
	msgpack_object item;

	CHILD_CHECK(m, mpmgr_queue_get(m, "kaq", HARNESS_DEADLINE_MS / 1000.0,
	    &item) == 0, 10);
	CHILD_CHECK(m, harness_obj_eq(item, "'job'"), 11);
	if (victim)
		return hold_until_killed();
	CHILD_CHECK(m, mpmgr_queue_task_done(m, "kaq") == 0, 12);
	return 0;
}

static int
joiner(mpmgr *m, int unused)
{
	CHILD_CHECK(m, mpmgr_queue_join(m, "kaq", MPMGR_FOREVER) == 1, 10);
	return 0;
}

START_TEST(test_ack_consumer_dies)
{
	mpmgr *m = harness_connect(D);
	msgpack_object item = harness_obj("'job'");
	pid_t victim, waiting, consumer;

	ck_call_ok(m, "queue.create", "['kaq', {'ack': true}]", "nil");
	ck_assert_int_eq(mpmgr_queue_put(m, "kaq", &item, 0), 0);
	ready_open();
	victim = harness_spawn(D, ack_consumer, 1);
	await_ready();
	/* leased, not done: join waits */
	ck_assert_int_eq(mpmgr_queue_join(m, "kaq", 0), 0);
	waiting = harness_spawn(D, joiner, 0);
	harness_await_waiters(m, "kaq", 1);

	harness_kill9(victim);
	consumer = harness_spawn(D, ack_consumer, 0);
	harness_reap(&consumer, 1, "the consumer after a dead one");
	harness_reap(&waiting, 1, "join after the item was done");
	ck_assert_int_eq(mpmgr_queue_join(m, "kaq", 0), 1);
	ck_assert_int_eq(mpmgr_queue_get(m, "kaq", 0, NULL), MPMGR_EEMPTY);
	ready_close();
	mpmgr_free(m);
}
END_TEST

/* --- Python's behaviour on request ----------------------------------- */

static int
nr_holder(mpmgr *m, int unused)
{
	CHILD_CHECK(m, mpmgr_lock_acquire(m, "knr_lock", 0) == 1, 10);
	CHILD_CHECK(m, mpmgr_sem_acquire(m, "knr_sem", 0) == 1, 11);
	return hold_until_killed();
}

START_TEST(test_no_release_on_disconnect)
{
	mpmgr *m = harness_connect(D);
	pid_t holder;

	ck_call_ok(m, "lock.create",
	    "['knr_lock', {'release_on_disconnect': false}]", "nil");
	ck_call_ok(m, "semaphore.create",
	    "['knr_sem', {'value': 1, 'release_on_disconnect': false}]",
	    "nil");
	ready_open();
	holder = harness_spawn(D, nr_holder, 0);
	await_ready();
	harness_kill9(holder);
	await_clients(m, 1);

	/* the daemon has seen the close, and both stay taken */
	ck_call_ok(m, "lock.locked", "['knr_lock']", "true");
	ck_assert_int_eq(mpmgr_lock_acquire(m, "knr_lock", 0), 0);
	ck_call_ok(m, "semaphore.value", "['knr_sem']", "0");
	ck_assert_int_eq(mpmgr_sem_acquire(m, "knr_sem", 0), 0);
	/* anyone may give them back */
	ck_assert_int_eq(mpmgr_lock_release(m, "knr_lock"), 0);
	ck_assert_int_eq(mpmgr_sem_release(m, "knr_sem", 1), 0);
	ck_assert_int_eq(mpmgr_lock_acquire(m, "knr_lock", 0), 1);
	ck_assert_int_eq(mpmgr_lock_release(m, "knr_lock"), 0);
	ck_call_ok(m, "semaphore.value", "['knr_sem']", "1");
	ready_close();
	mpmgr_free(m);
}
END_TEST

/* --- sys.cancel through mpmgr_cancel_pending ------------------------- */

/* Send name's lock.acquire, forever, through the pipelining API. */
static int
send_acquire(mpmgr *m, const char *name)
{
	msgpack_packer *pk = mpmgr_request_begin(m, "lock.acquire", 1);

	if (pk == NULL)
		return MPMGR_EINVAL;
	msgpack_pack_str_with_body(pk, name, strlen(name));
	return mpmgr_request_end(m);
}

START_TEST(test_cancel_pending)
{
	mpmgr *m = harness_connect(D), *other = harness_connect(D);
	struct pollfd p;
	msgpack_object res;

	ck_assert_int_eq(mpmgr_cancel_pending(m), MPMGR_ESTATE);
	ck_assert_int_eq(mpmgr_lock_acquire(m, "kx_held", 0), 1);
	ck_assert_int_eq(mpmgr_lock_acquire(other, "kx_busy", 0), 1);

	ck_assert_int_eq(send_acquire(m, "kx_busy"), 0);
	ck_assert_int_eq(mpmgr_flush(m), 0);
	harness_await_waiters(other, "kx_busy", 1);
	ck_assert_int_eq(mpmgr_cancel_pending(m), 0);
	/* a second Ctrl-C sends nothing more */
	ck_assert_int_eq(mpmgr_cancel_pending(m), 0);
	ck_assert_int_eq(mpmgr_reply(m, NULL), MPMGR_ETIMEOUT);
	ck_assert_msg(strstr(mpmgr_errmsg(m), "cancel") != NULL, "%s",
	    mpmgr_errmsg(m));
	ck_assert_uint_eq(mpmgr_pending(m), 0);
	ck_assert_int_eq(mpmgr_reply(m, NULL), MPMGR_ESTATE);
	ck_assert_int_eq(harness_waiters(other, "kx_busy"), 0);

	/* the connection works and still holds its lock */
	ck_assert_int_eq(mpmgr_ping(m), 0);
	ck_assert_int_eq(mpmgr_lock_acquire(other, "kx_held", 0), 0);
	ck_call_ok(m, "lock.locked", "['kx_held']", "true");

	/* answered before the cancel came: the real answer, and the
	 * cancel's reply does not linger on the socket */
	ck_assert_int_eq(send_acquire(m, "kx_free"), 0);
	ck_assert_int_eq(mpmgr_flush(m), 0);
	p = (struct pollfd){ .fd = mpmgr_fd(m), .events = POLLIN };
	ck_assert_int_eq(poll(&p, 1, HARNESS_DEADLINE_MS), 1);
	ck_assert_int_eq(mpmgr_cancel_pending(m), 0);
	ck_assert_int_eq(mpmgr_reply(m, &res), 0);
	ck_assert(harness_obj_eq(res, "true"));
	ck_assert_int_eq(send_acquire(m, "kx_busy"), 0);
	ck_assert_int_eq(mpmgr_flush(m), 0);
	harness_await_waiters(other, "kx_busy", 1);
	p.revents = 0;
	ck_assert_msg(poll(&p, 1, 0) == 0, "the socket is readable while "
	    "the request is parked");
	ck_assert_int_eq(mpmgr_cancel_pending(m), 0);
	ck_assert_int_eq(mpmgr_reply(m, NULL), MPMGR_ETIMEOUT);

	/* other requests behind a parked one: the cancel still runs */
	ck_assert_int_eq(send_acquire(m, "kx_busy"), 0);
	ck_assert_int_eq(mpmgr_flush(m), 0);
	harness_await_waiters(other, "kx_busy", 1);
	ck_assert_int_eq(mpmgr_cancel_pending(m), 0);
	ck_assert(mpmgr_request_begin(m, "sys.ping", 0) != NULL);
	ck_assert_int_eq(mpmgr_request_end(m), 0);
	ck_assert_uint_eq(mpmgr_pending(m), 2);
	ck_assert_int_eq(mpmgr_reply(m, NULL), MPMGR_ETIMEOUT);
	ck_assert_int_eq(mpmgr_reply(m, &res), 0);
	ck_assert(harness_obj_eq(res, "'pong'"));

	/* the oldest outstanding was answered already (unread) and the
	 * parked one is behind it: the first cancel misses, the second
	 * takes the parked one back; the misses' replies, wherever the
	 * daemon puts them, never reach the caller */
	ck_assert(mpmgr_request_begin(m, "sys.ping", 0) != NULL);
	ck_assert_int_eq(mpmgr_request_end(m), 0);
	ck_assert_int_eq(send_acquire(m, "kx_busy"), 0);
	ck_assert_int_eq(mpmgr_flush(m), 0);
	harness_await_waiters(other, "kx_busy", 1);
	ck_assert_int_eq(mpmgr_cancel_pending(m), 0);
	ck_assert_int_eq(mpmgr_reply(m, &res), 0);
	ck_assert(harness_obj_eq(res, "'pong'"));
	ck_assert_int_eq(mpmgr_cancel_pending(m), 0);
	ck_assert_int_eq(mpmgr_reply(m, NULL), MPMGR_ETIMEOUT);
	ck_assert_uint_eq(mpmgr_pending(m), 0);
	ck_assert_int_eq(mpmgr_ping(m), 0);

	ck_assert_int_eq(mpmgr_lock_release(m, "kx_held"), 0);
	ck_assert_int_eq(mpmgr_lock_release(m, "kx_free"), 0);
	ck_assert_int_eq(mpmgr_lock_release(other, "kx_busy"), 0);
	mpmgr_free(other);
	mpmgr_free(m);
}
END_TEST

static volatile sig_atomic_t interrupted;

static void
on_sigint(int sig)
{
	interrupted = 1;
}

/*
 * The recipe of mpmgr.h: hold kx2_held, block in kx2_busy's acquire
 * until SIGINT, cancel, then report and wait to be killed.
 */
static int
ctrl_c_child(mpmgr *m, int unused)
{
	struct sigaction sa = { .sa_handler = on_sigint };
	sigset_t sigint, old;
	struct pollfd p;
	int rc;

	CHILD_CHECK(m, mpmgr_lock_acquire(m, "kx2_held", 0) == 1, 10);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigemptyset(&sigint);
	sigaddset(&sigint, SIGINT);
	sigprocmask(SIG_BLOCK, &sigint, &old);
	CHILD_CHECK(m, send_acquire(m, "kx2_busy") == 0, 11);
	CHILD_CHECK(m, mpmgr_flush(m) == 0, 12);
	p = (struct pollfd){ .fd = mpmgr_fd(m), .events = POLLIN };
	while (ppoll(&p, 1, NULL, &old) == -1 && errno == EINTR)
		if (interrupted)
			CHILD_CHECK(m, mpmgr_cancel_pending(m) == 0, 13);
	sigprocmask(SIG_SETMASK, &old, NULL);
	CHILD_CHECK(m, interrupted, 14);
	rc = mpmgr_reply(m, NULL);
	CHILD_CHECK(m, rc == MPMGR_ETIMEOUT, 15);
	CHILD_CHECK(m, mpmgr_ping(m) == 0, 16);
	return hold_until_killed();
}

START_TEST(test_cancel_sigint)
{
	mpmgr *m = harness_connect(D);
	pid_t child;

	ck_assert_int_eq(mpmgr_lock_acquire(m, "kx2_busy", 0), 1);
	ready_open();
	child = harness_spawn(D, ctrl_c_child, 0);
	harness_await_waiters(m, "kx2_busy", 1);
	ck_assert(kill(child, SIGINT) == 0);
	await_ready();
	/* cancelled, alive, and still the holder of kx2_held */
	ck_assert_int_eq(harness_waiters(m, "kx2_busy"), 0);
	ck_assert_int_eq(mpmgr_lock_acquire(m, "kx2_held", 0), 0);
	harness_kill9(child);
	ck_assert_int_eq(mpmgr_lock_acquire(m, "kx2_held",
	    HARNESS_DEADLINE_MS / 1000.0), 1);
	ck_assert_int_eq(mpmgr_lock_release(m, "kx2_held"), 0);
	ck_assert_int_eq(mpmgr_lock_release(m, "kx2_busy"), 0);
	ready_close();
	mpmgr_free(m);
}
END_TEST

static Suite *
kill_suite(void)
{
	Suite *s = suite_create("it_kill");
	TCase *tc, *cancel;
	int nkinds = (int)(sizeof(kinds) / sizeof(kinds[0]));

	tc = harness_tcase(s, "kill -9", 60, harness_fixture_up,
	    harness_fixture_down);
	tcase_add_loop_test(tc, test_holder_dies, 0, nkinds);
	tcase_add_loop_test(tc, test_blocked_acquire_dies, 0, nkinds);
	tcase_add_test(tc, test_blocked_get_dies);
	tcase_add_test(tc, test_blocked_cond_wait_dies);
	tcase_add_test(tc, test_blocked_event_wait_dies);
	tcase_add_test(tc, test_blocked_barrier_dies);
	tcase_add_test(tc, test_ack_consumer_dies);
	tcase_add_test(tc, test_no_release_on_disconnect);

	cancel = harness_tcase(s, "cancel", 60, harness_fixture_up,
	    harness_fixture_down);
	tcase_add_test(cancel, test_cancel_pending);
	tcase_add_test(cancel, test_cancel_sigint);
	return s;
}

int
main(void)
{
	return harness_run(kill_suite());
}
