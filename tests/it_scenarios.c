/*
 * it_scenarios.c: the seed documents' examples with real processes
 * against a real mpmgrd: the mini KTV (a semaphore of 4 and 20 singers),
 * producers and consumers around a JoinableQueue, the traffic light (an
 * Event), ten processes decrementing a shared value under a Lock, and a
 * barrier of N over repeated cycles. Then the answers of libmpmgr's
 * blocking helpers at their edges (timeouts, misuse).
 *
 * Each child process connects on its own and reports through the daemon
 * (dict counters) and its exit status; the parent waits for children and
 * for parked waiters (obj.info "waiters") against deadlines, never with a
 * fixed sleep. One daemon for the suite (unchecked fixture).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static struct harness *const D = &harness_fixture;

/* dict.cas name key expected new: 1 swapped, 0 not, < 0 an error. */
static int
dict_cas_int(mpmgr *m, const char *name, const char *key, int64_t expected,
    int64_t value)
{
	msgpack_object args[4] = { mpmgr_obj_str(name), mpmgr_obj_str(key),
	    mpmgr_obj_int(expected), mpmgr_obj_int(value) }, res;
	int rc = mpmgr_call(m, "dict.cas", args, 4, &res);

	if (rc != 0)
		return rc;
	if (res.type != MSGPACK_OBJECT_ARRAY || res.via.array.size != 2 ||
	    res.via.array.ptr[0].type != MSGPACK_OBJECT_BOOLEAN)
		return MPMGR_EPROTO;
	return res.via.array.ptr[0].via.boolean ? 1 : 0;
}

/* Raise the int at name[key] to at least n (compare and swap). */
static int
dict_raise(mpmgr *m, const char *name, const char *key, int64_t n)
{
	int64_t cur;
	int rc;

	for (;;) {
		if ((rc = mpmgr_dict_get_int(m, name, key, &cur)) != 0)
			return rc;
		if (cur >= n)
			return 0;
		if ((rc = dict_cas_int(m, name, key, cur, n)) != 0)
			return rc < 0 ? rc : 0;
	}
}

/* --- the mini KTV ---------------------------------------------------- */

#define KTV_ROOMS 4
#define KTV_SINGERS 20

/*
 * A singer takes a room (a permit), counts itself in, notes the peak, and
 * sings. The first KTV_ROOMS wait for each other (the event "ktv_full",
 * set by whoever fills the last room) so that the peak is certainly
 * reached; a fifth room would show as a peak above KTV_ROOMS.
 */
static int
ktv_singer(mpmgr *m, int i)
{
	char key[32];
	int64_t in = 0;

	CHILD_CHECK(m, mpmgr_sem_acquire(m, "ktv", MPMGR_FOREVER) == 1, 10);
	CHILD_CHECK(m, mpmgr_dict_incr(m, "ktv_stats", "in", 1, &in) == 0,
	    11);
	CHILD_CHECK(m, dict_raise(m, "ktv_stats", "max", in) == 0, 12);
	if (in == KTV_ROOMS)
		CHILD_CHECK(m, mpmgr_event_set(m, "ktv_full") == 0, 13);
	CHILD_CHECK(m, mpmgr_event_wait(m, "ktv_full", MPMGR_FOREVER) == 1,
	    14);
	snprintf(key, sizeof(key), "singer%d", i);
	CHILD_CHECK(m, mpmgr_dict_incr(m, "ktv_sung", key, 1, NULL) == 0, 15);
	CHILD_CHECK(m, mpmgr_dict_incr(m, "ktv_stats", "in", -1, NULL) == 0,
	    16);
	CHILD_CHECK(m, mpmgr_sem_release(m, "ktv", 1) == 0, 17);
	return 0;
}

START_TEST(test_ktv)
{
	mpmgr *m = harness_connect(D);
	pid_t pids[KTV_SINGERS];
	int64_t v;
	char key[32];

	ck_call_ok(m, "semaphore.create", "['ktv', {'value': 4}]", "nil");
	ck_assert_int_eq(mpmgr_dict_set_int(m, "ktv_stats", "in", 0), 0);
	ck_assert_int_eq(mpmgr_dict_set_int(m, "ktv_stats", "max", 0), 0);
	for (int i = 0; i < KTV_SINGERS; i++)
		pids[i] = harness_spawn(D, ktv_singer, i);
	harness_reap(pids, KTV_SINGERS, "singers");

	ck_assert_int_eq(mpmgr_dict_get_int(m, "ktv_stats", "max", &v), 0);
	ck_assert_msg(v == KTV_ROOMS, "peak occupancy %lld, rooms %d",
	    (long long)v, KTV_ROOMS);
	ck_assert_int_eq(mpmgr_dict_get_int(m, "ktv_stats", "in", &v), 0);
	ck_assert_int_eq(v, 0);
	ck_assert_int_eq(mpmgr_dict_len(m, "ktv_sung"), KTV_SINGERS);
	for (int i = 0; i < KTV_SINGERS; i++) {
		snprintf(key, sizeof(key), "singer%d", i);
		ck_assert_int_eq(mpmgr_dict_get_int(m, "ktv_sung", key, &v), 0);
		ck_assert_msg(v == 1, "%s sang %lld times", key, (long long)v);
	}
	/* every room is free again and nobody waits */
	ck_call_ok(m, "semaphore.value", "['ktv']", "4");
	ck_assert_int_eq(harness_waiters(m, "ktv"), 0);
	mpmgr_free(m);
}
END_TEST

/* --- producers and consumers around a JoinableQueue ------------------ */

#define PC_PRODUCERS 2
#define PC_CONSUMERS 3
#define PC_ITEMS 100    /* per producer */

static int
pc_producer(mpmgr *m, int p)
{
	for (int i = 0; i < PC_ITEMS; i++) {
		msgpack_object item = mpmgr_obj_int(p * 1000 + i);

		CHILD_CHECK(m, mpmgr_queue_put(m, "pc_jobs", &item,
		    MPMGR_FOREVER) == 0, 10);
	}
	return 0;
}

/* Counts each item it gets in pc_seen, until a nil says stop. */
static int
pc_consumer(mpmgr *m, int c)
{
	msgpack_object item;
	char key[32];
	int64_t times;

	for (;;) {
		CHILD_CHECK(m, mpmgr_queue_get(m, "pc_jobs", MPMGR_FOREVER,
		    &item) == 0, 10);
		if (item.type == MSGPACK_OBJECT_NIL)
			break;
		CHILD_CHECK(m, item.type == MSGPACK_OBJECT_POSITIVE_INTEGER,
		    11);
		snprintf(key, sizeof(key), "%llu",
		    (unsigned long long)item.via.u64);
		CHILD_CHECK(m, mpmgr_dict_incr(m, "pc_seen", key, 1,
		    &times) == 0, 12);
		CHILD_CHECK(m, times == 1, 13);
		CHILD_CHECK(m, mpmgr_queue_task_done(m, "pc_jobs") == 0, 15);
	}
	CHILD_CHECK(m, mpmgr_queue_task_done(m, "pc_jobs") == 0, 16);
	return 0;
}

START_TEST(test_producer_consumer)
{
	mpmgr *m = harness_connect(D);
	pid_t prod[PC_PRODUCERS], cons[PC_CONSUMERS];
	msgpack_object stop = mpmgr_obj_nil();
	int64_t v;
	char key[32];

	/* bounded, so that producers also block on a full queue */
	ck_call_ok(m, "queue.create", "['pc_jobs', {'maxsize': 8}]", "nil");
	for (int c = 0; c < PC_CONSUMERS; c++)
		cons[c] = harness_spawn(D, pc_consumer, c);
	for (int p = 0; p < PC_PRODUCERS; p++)
		prod[p] = harness_spawn(D, pc_producer, p);
	harness_reap(prod, PC_PRODUCERS, "producers");

	/* every item put is done once join answers */
	ck_assert_int_eq(mpmgr_queue_join(m, "pc_jobs",
	    HARNESS_DEADLINE_MS / 1000.0), 1);
	ck_assert_int_eq(mpmgr_dict_len(m, "pc_seen"),
	    PC_PRODUCERS * PC_ITEMS);
	for (int p = 0; p < PC_PRODUCERS; p++) {
		for (int i = 0; i < PC_ITEMS; i++) {
			snprintf(key, sizeof(key), "%d", p * 1000 + i);
			ck_assert_int_eq(mpmgr_dict_get_int(m, "pc_seen", key,
			    &v), 0);
			ck_assert_msg(v == 1, "item %s consumed %lld times",
			    key, (long long)v);
		}
	}

	for (int c = 0; c < PC_CONSUMERS; c++)
		ck_assert_int_eq(mpmgr_queue_put(m, "pc_jobs", &stop, 0), 0);
	harness_reap(cons, PC_CONSUMERS, "consumers");
	ck_assert_int_eq(mpmgr_queue_join(m, "pc_jobs", 0), 1);
	ck_call_ok(m, "queue.qsize", "['pc_jobs']", "0");
	/* one more task_done than items got is Python's ValueError */
	ck_assert_int_eq(mpmgr_queue_task_done(m, "pc_jobs"), MPMGR_EBADARG);
	mpmgr_free(m);
}
END_TEST

/* --- the traffic light ----------------------------------------------- */

#define CARS 6

/* A car waits for green, then passes, noting whether it was green. */
static int
car(mpmgr *m, int i)
{
	msgpack_object args[1] = { mpmgr_obj_str("light") }, res;

	CHILD_CHECK(m, mpmgr_event_wait(m, "light", MPMGR_FOREVER) == 1, 10);
	CHILD_CHECK(m, mpmgr_call(m, "event.is_set", args, 1, &res) == 0, 11);
	CHILD_CHECK(m, res.type == MSGPACK_OBJECT_BOOLEAN &&
	    res.via.boolean, 12);
	CHILD_CHECK(m, mpmgr_dict_incr(m, "light_passed", "n", 1, NULL) == 0,
	    13);
	return 0;
}

START_TEST(test_traffic_light)
{
	mpmgr *m = harness_connect(D);
	pid_t pids[CARS];
	int64_t n;

	ck_assert_int_eq(mpmgr_event_clear(m, "light"), 0);
	for (int i = 0; i < CARS; i++)
		pids[i] = harness_spawn(D, car, i);
	/* every car is at the red light and none has passed */
	harness_await_waiters(m, "light", CARS);
	ck_assert_int_eq(mpmgr_dict_len(m, "light_passed"), 0);
	ck_assert_int_eq(mpmgr_event_wait(m, "light", 0), 0);
	ck_assert_int_eq(mpmgr_event_wait(m, "light", 0.01), 0);
	ck_assert_int_eq(mpmgr_dict_len(m, "light_passed"), 0);

	ck_assert_int_eq(mpmgr_event_set(m, "light"), 0);
	harness_reap(pids, CARS, "cars");
	ck_assert_int_eq(mpmgr_dict_get_int(m, "light_passed", "n", &n), 0);
	ck_assert_int_eq(n, CARS);
	/* a car coming to a green light passes at once */
	ck_assert_int_eq(mpmgr_event_wait(m, "light", MPMGR_FOREVER), 1);
	ck_assert_int_eq(harness_waiters(m, "light"), 0);
	/* red again: the implicit event goes away */
	ck_assert_int_eq(mpmgr_event_clear(m, "light"), 0);
	ck_call_err(m, "obj.info", "['light']", MPMGR_ENOOBJ);
	mpmgr_free(m);
}
END_TEST

/* --- a shared balance under a Lock ----------------------------------- */

#define BANK_CLIENTS 10
#define BANK_WITHDRAWALS 40
#define BANK_START 1000

/* get, then set: a read-modify-write that only the lock makes exact. */
static int
bank_client(mpmgr *m, int i)
{
	int64_t balance;

	for (int j = 0; j < BANK_WITHDRAWALS; j++) {
		CHILD_CHECK(m, mpmgr_lock_acquire(m, "bank_lock",
		    MPMGR_FOREVER) == 1, 10);
		CHILD_CHECK(m, mpmgr_dict_get_int(m, "bank", "balance",
		    &balance) == 0, 11);
		CHILD_CHECK(m, mpmgr_dict_set_int(m, "bank", "balance",
		    balance - 1) == 0, 12);
		CHILD_CHECK(m, mpmgr_lock_release(m, "bank_lock") == 0, 13);
	}
	return 0;
}

START_TEST(test_locked_decrement)
{
	mpmgr *m = harness_connect(D);
	pid_t pids[BANK_CLIENTS];
	int64_t balance;

	ck_assert_int_eq(mpmgr_dict_set_int(m, "bank", "balance",
	    BANK_START), 0);
	for (int i = 0; i < BANK_CLIENTS; i++)
		pids[i] = harness_spawn(D, bank_client, i);
	harness_reap(pids, BANK_CLIENTS, "bank clients");
	ck_assert_int_eq(mpmgr_dict_get_int(m, "bank", "balance", &balance),
	    0);
	ck_assert_int_eq(balance, BANK_START - BANK_CLIENTS *
	    BANK_WITHDRAWALS);
	/* the implicit lock, free with nobody waiting, is gone */
	ck_call_err(m, "obj.info", "['bank_lock']", MPMGR_ENOOBJ);
	ck_assert_int_eq(mpmgr_lock_release(m, "bank_lock"), MPMGR_ENOTHELD);
	mpmgr_free(m);
}
END_TEST

/* --- a barrier of N -------------------------------------------------- */

#define BAR_PARTIES 5
#define BAR_CYCLES 8

/*
 * Each party waits once per cycle, so cycle c of every party is the same
 * generation of the barrier: its indexes must be 0..N-1, each once.
 */
static int
bar_party(mpmgr *m, int i)
{
	char key[32];
	int64_t index, times;

	for (int c = 0; c < BAR_CYCLES; c++) {
		CHILD_CHECK(m, mpmgr_barrier_wait(m, "bar", MPMGR_FOREVER,
		    &index) == 0, 10);
		CHILD_CHECK(m, index >= 0 && index < BAR_PARTIES, 11);
		snprintf(key, sizeof(key), "c%d-i%lld", c, (long long)index);
		CHILD_CHECK(m, mpmgr_dict_incr(m, "bar_seen", key, 1,
		    &times) == 0, 12);
		CHILD_CHECK(m, times == 1, 13);
	}
	return 0;
}

START_TEST(test_barrier_cycles)
{
	mpmgr *m = harness_connect(D);
	pid_t pids[BAR_PARTIES];
	char key[32];
	int64_t v;

	ck_call_ok(m, "barrier.create", "['bar', {'parties': 5}]", "nil");
	for (int i = 0; i < BAR_PARTIES; i++)
		pids[i] = harness_spawn(D, bar_party, i);
	harness_reap(pids, BAR_PARTIES, "barrier parties");
	ck_assert_int_eq(mpmgr_dict_len(m, "bar_seen"),
	    BAR_PARTIES * BAR_CYCLES);
	for (int c = 0; c < BAR_CYCLES; c++) {
		for (int i = 0; i < BAR_PARTIES; i++) {
			snprintf(key, sizeof(key), "c%d-i%d", c, i);
			ck_assert_int_eq(mpmgr_dict_get_int(m, "bar_seen", key,
			    &v), 0);
			ck_assert_int_eq(v, 1);
		}
	}
	ck_call_ok(m, "barrier.n_waiting", "['bar']", "0");
	ck_call_ok(m, "barrier.broken", "['bar']", "false");
	mpmgr_free(m);
}
END_TEST

/* --- the blocking helpers at their edges ----------------------------- */

START_TEST(test_helper_edges)
{
	mpmgr *m = harness_connect(D), *other = harness_connect(D);
	msgpack_object item = mpmgr_obj_int(1);
	int64_t index = 42;

	/* NaN never reaches the server; the handle stays usable */
	ck_assert_int_eq(mpmgr_lock_acquire(m, "he_lock", NAN),
	    MPMGR_EINVAL);
	ck_assert_int_eq(mpmgr_queue_get(m, "he_q", NAN, NULL),
	    MPMGR_EINVAL);
	ck_assert_int_eq(mpmgr_ping(m), 0);

	/* timeouts: 0 and a short wait answer "no" without parking */
	ck_assert_int_eq(mpmgr_lock_acquire(m, "he_lock", MPMGR_FOREVER), 1);
	ck_assert_int_eq(mpmgr_lock_acquire(other, "he_lock", 0), 0);
	ck_assert_int_eq(mpmgr_lock_acquire(other, "he_lock", 0.01), 0);
	ck_assert_int_eq(mpmgr_lock_release(other, "he_lock"), 0);
	ck_assert_int_eq(mpmgr_lock_release(m, "he_lock"), MPMGR_ENOTHELD);

	ck_assert_int_eq(mpmgr_rlock_acquire(m, "he_rlock", 0), 1);
	ck_assert_int_eq(mpmgr_rlock_acquire(m, "he_rlock", 0), 1);
	ck_assert_int_eq(mpmgr_rlock_acquire(other, "he_rlock", 0.01), 0);
	ck_assert_int_eq(mpmgr_rlock_release(other, "he_rlock"),
	    MPMGR_ENOTOWNER);
	ck_assert_int_eq(mpmgr_rlock_release(m, "he_rlock"), 0);
	ck_assert_int_eq(mpmgr_rlock_release(m, "he_rlock"), 0);
	ck_assert_int_eq(mpmgr_rlock_release(m, "he_rlock"), MPMGR_ENOTHELD);

	ck_call_ok(m, "semaphore.create",
	    "['he_sem', {'value': 1, 'bounded': true}]", "nil");
	ck_assert_int_eq(mpmgr_sem_acquire(m, "he_sem", 0), 1);
	ck_assert_int_eq(mpmgr_sem_acquire(other, "he_sem", 0.01), 0);
	ck_assert_int_eq(mpmgr_sem_release(m, "he_sem", 0), MPMGR_EBADARG);
	ck_assert_int_eq(mpmgr_sem_release(m, "he_sem", 2), MPMGR_ERANGE);
	ck_assert_int_eq(mpmgr_sem_release(m, "he_sem", 1), 0);

	ck_assert_int_eq(mpmgr_event_wait(m, "he_ev", 0), 0);
	ck_assert_int_eq(mpmgr_event_wait(m, "he_ev", 0.01), 0);
	ck_assert_int_eq(mpmgr_event_set(m, "he_ev"), 0);
	ck_assert_int_eq(mpmgr_event_wait(m, "he_ev", MPMGR_FOREVER), 1);
	ck_assert_int_eq(mpmgr_event_clear(m, "he_ev"), 0);
	ck_assert_int_eq(mpmgr_event_wait(m, "he_ev", 0), 0);

	ck_call_ok(m, "queue.create", "['he_q', {'maxsize': 1}]", "nil");
	ck_assert_int_eq(mpmgr_queue_get(m, "he_q", 0.01, NULL), MPMGR_EEMPTY);
	ck_assert_int_eq(mpmgr_queue_put(m, "he_q", &item, 0), 0);
	ck_assert_int_eq(mpmgr_queue_put(m, "he_q", &item, 0.01), MPMGR_EFULL);
	ck_assert_int_eq(mpmgr_queue_join(m, "he_q", 0.01), 0);
	ck_assert_int_eq(mpmgr_queue_get(m, "he_q", 0, &item), 0);
	ck_assert(harness_obj_eq(item, "1"));
	ck_assert_int_eq(mpmgr_queue_task_done(m, "he_q"), 0);
	ck_assert_int_eq(mpmgr_queue_join(m, "he_q", MPMGR_FOREVER), 1);
	ck_assert_int_eq(mpmgr_queue_task_done(m, "he_q"), MPMGR_EBADARG);

	ck_assert_int_eq(mpmgr_barrier_wait(m, "he_bar", 0, &index),
	    MPMGR_ENOOBJ);
	ck_call_ok(m, "barrier.create", "['he_bar', {'parties': 1}]", "nil");
	ck_assert_int_eq(mpmgr_barrier_wait(m, "he_bar", MPMGR_FOREVER,
	    &index), 0);
	ck_assert_int_eq(index, 0);
	ck_call_ok(m, "barrier.create", "['he_bar2', {'parties': 2}]",
	    "nil");
	ck_assert_int_eq(mpmgr_barrier_wait(m, "he_bar2", 0.01, NULL),
	    MPMGR_ETIMEOUT);
	ck_assert_int_eq(mpmgr_barrier_wait(other, "he_bar2", 0, NULL),
	    MPMGR_EBROKEN);

	ck_assert_int_eq(mpmgr_lock_acquire(m, NULL, 0), MPMGR_EINVAL);
	ck_assert_int_eq(mpmgr_queue_put(m, "he_q", NULL, 0), MPMGR_EINVAL);
	mpmgr_free(other);
	mpmgr_free(m);
}
END_TEST

static Suite *
scenarios_suite(void)
{
	Suite *s = suite_create("it_scenarios");
	TCase *tc = harness_tcase(s, "scenarios", 60, harness_fixture_up,
	    harness_fixture_down);

	tcase_add_test(tc, test_ktv);
	tcase_add_test(tc, test_producer_consumer);
	tcase_add_test(tc, test_traffic_light);
	tcase_add_test(tc, test_locked_decrement);
	tcase_add_test(tc, test_barrier_cycles);
	tcase_add_test(tc, test_helper_edges);
	return s;
}

int
main(void)
{
	return harness_run(scenarios_suite());
}
