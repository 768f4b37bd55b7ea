/*
 * unit_waiter.c: parked requests without sockets: the deadline heap and
 * its cost, FIFO order, expiry, sys.cancel, a parked connection's close,
 * deletion and shutdown with waiters, and holdings. The types that park
 * are tested in their own unit_<type>.c.
 *
 * Deadlines fire through waiter_expire(now), never by sleeping. Fake
 * connections (unit_util.h, plus a pool made here for the scale tests)
 * collect replies, taken with take_reply() in the order they were written.
 * Object names differ between tests so that they also pass with
 * CK_FORK=no.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "../daemon/dispatch.h"
#include "../daemon/log.h"
#include "../daemon/mem.h"
#include "../daemon/mpmgrd.h"
#include "../daemon/registry.h"
#include "../daemon/reply.h"
#include "../daemon/waiter.h"
#include "unit_util.h"

/* --- helpers ------------------------------------------------------------ */

/* A connection of our own, for tests that need thousands. */
static struct conn *
pool_conn(uint64_t id)
{
	struct conn *c = xcalloc(1, sizeof *c);

	c->id = id;
	c->fd = -1;
	c->state = CONN_READY;
	buf_init(&c->out);
	msgpack_packer_init(&c->pk, &c->out, buf_pack_write);
	return c;
}

static uint64_t rng = 88172645463325252ull;

static uint64_t
rand64(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* floor(log2(n)) + 1: the heap's depth for n entries. */
static uint64_t
depth(uint64_t n)
{
	return n == 0 ? 0 : 64 - (uint64_t)__builtin_clzll(n);
}

/* --- waiters parked directly, with ops that record ---------------------- */

static uint32_t order[20000];
static size_t norder;

static void
rec_timeout(struct waiter *w)
{
	order[norder++] = w->req.msgid;
	reply_nil(&w->req);
	waiter_done(w);
}

static int gone_calls;

static void
rec_gone(struct waiter *w)
{
	/* waiter.c unlinks w before its type's undo runs. */
	ck_assert_ptr_null(w->req.c->parked);
	gone_calls++;
}

static const struct waiter_ops rec_ops = {
	.timeout = rec_timeout,
	.gone = rec_gone,
};

static struct waiter *
park_raw(struct conn *c, struct object *o, uint32_t id, int64_t usec)
{
	struct req req;

	memset(&req, 0, sizeof req);
	req.c = c;
	req.msgid = id;
	req.method = dispatch_lookup("event.wait", 10);
	req.obj = o;
	return waiter_park(&req, &rec_ops, usec);
}

struct expected {
	uint64_t deadline;
	uint32_t id;
};

static int
expected_cmp(const void *a, const void *b)
{
	const struct expected *x = a, *y = b;

	if (x->deadline != y->deadline)
		return x->deadline < y->deadline ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

#define HEAP_N 2000

START_TEST(test_heap_order)
{
	static struct conn *cs[HEAP_N];
	static struct expected ex[HEAP_N];
	struct object *o = registry_add(&event_type, "heap.order", 10);
	struct waiter *w;
	size_t i, cut;

	norder = 0;
	for (i = 0; i < HEAP_N; i++) {
		cs[i] = pool_conn(1000 + i);
		/* Few distinct values: ties must expire in park order. */
		w = park_raw(cs[i], o, (uint32_t)i + 1,
		    1 + (int64_t)(rand64() % 500) * 1000000);
		ex[i].deadline = w->dl.at;
		ex[i].id = (uint32_t)i + 1;
	}
	ck_assert_uint_eq(o->nwaiters, HEAP_N);
	ck_assert_uint_eq(waiter_heap_size(), HEAP_N);
	/* FIFO: the object's list is in park order, whatever the deadlines. */
	for (i = 0, w = waiter_first(o); w != NULL; w = waiter_next(w), i++)
		ck_assert_uint_eq(w->req.msgid, i + 1);
	ck_assert_uint_eq(i, HEAP_N);

	qsort(ex, HEAP_N, sizeof ex[0], expected_cmp);
	/* Nothing is due before the first deadline. */
	waiter_expire(ex[0].deadline - 1);
	ck_assert_uint_eq(norder, 0);
	/* Up to a cut: exactly those due, earliest first. */
	cut = HEAP_N / 3;
	while (cut + 1 < HEAP_N && ex[cut + 1].deadline == ex[cut].deadline)
		cut++;
	waiter_expire(ex[cut].deadline);
	ck_assert_uint_eq(norder, cut + 1);
	waiter_expire(FOREVER);
	ck_assert_uint_eq(norder, HEAP_N);
	for (i = 0; i < HEAP_N; i++)
		ck_assert_msg(order[i] == ex[i].id, "expiry %zu: got %u, "
		    "expected %u", i, order[i], ex[i].id);
	for (i = 0; i < HEAP_N; i++) {
		ck_assert_ptr_null(cs[i]->parked);
		reply_on(cs[i], (uint32_t)i + 1, "nil");
	}
	ck_assert_uint_eq(waiter_heap_size(), 0);
	ck_assert_uint_eq(waiter_count(), 0);
	/* The recording ops run outside a request: waiter.c settled it. */
	ck_assert_ptr_null(registry_lookup("heap.order", 10));
}
END_TEST

/* Removing from the middle (wakes, cancels) keeps the heap ordered. */
START_TEST(test_heap_remove)
{
	static struct conn *cs[HEAP_N];
	static uint64_t dl[HEAP_N];
	struct object *o = registry_add(&event_type, "heap.rm", 7);
	struct waiter *w, *next;
	size_t i, left = 0;
	uint64_t last = 0;

	norder = 0;
	for (i = 0; i < HEAP_N; i++) {
		cs[i] = pool_conn(5000 + i);
		w = park_raw(cs[i], o, (uint32_t)i + 1,
		    1 + (int64_t)(rand64() % 1000000000));
		dl[i] = w->dl.at;
	}
	/* Every third waiter answered early, in FIFO order. */
	for (i = 0, w = waiter_first(o); w != NULL; w = next, i++) {
		next = waiter_next(w);
		if (i % 3 == 0) {
			reply_bool(&w->req, true);
			waiter_done(w);
		}
	}
	/* Every third of the rest cancelled. */
	for (i = 0; i < HEAP_N; i++) {
		if (i % 3 == 1 && i % 2 == 0) {
			ck_assert(waiter_cancel(cs[i], (uint32_t)i + 1));
			ck_assert_ptr_null(cs[i]->parked);
		} else if (i % 3 != 0)
			left++;
	}
	ck_assert_uint_eq(waiter_heap_size(), left);
	waiter_expire(FOREVER);
	ck_assert_uint_eq(norder, left);
	for (i = 0; i < norder; i++) {
		size_t k = order[i] - 1;

		ck_assert_uint_ge(dl[k], last);
		last = dl[k];
		ck_assert(k % 3 != 0 && !(k % 3 == 1 && k % 2 == 0));
	}
	ck_assert_uint_eq(waiter_count(), 0);
}
END_TEST

/*
 * The scale: 10,000 parked waiters with deadlines on one object,
 * and 10,000 on as many objects, parked and expired through dispatch. The
 * heap's comparisons and swaps per park and per expiry stay within
 * 3 * depth + 3: O(log n), counted, not timed.
 */
#define SCALE_N 10000

static void
scale(bool one_object)
{
	static struct conn *cs[SCALE_N];
	static struct expected ex[SCALE_N];
	static uint32_t ids[SCALE_N];
	char params[96];
	uint64_t before, used, max_park = 0, max_expire = 0, bound;
	size_t i, j, answered;
	struct conn *saved = conn;
	int64_t secs;

	bound = 3 * depth(SCALE_N) + 3;
	for (i = 0; i < SCALE_N; i++) {
		cs[i] = pool_conn(100000 + i);
		secs = 1 + (int64_t)(rand64() % 100000);
		if (one_object)
			snprintf(params, sizeof params, "['scale.one', %lld.%03d]",
			    (long long)secs, (int)(rand64() % 1000));
		else
			snprintf(params, sizeof params, "['scale.%zu', %lld.5]",
			    i, (long long)secs);
		conn = cs[i];
		before = waiter_heap_ops();
		ck_assert_int_eq(send_req_any("event.wait", params),
		    DISPATCH_PARKED);
		used = waiter_heap_ops() - before;
		if (used > max_park)
			max_park = used;
		ids[i] = msgid;
		ex[i].deadline = cs[i]->parked->dl.at;
		ex[i].id = (uint32_t)i;
	}
	conn = saved;
	ck_assert_uint_eq(waiter_heap_size(), SCALE_N);
	ck_assert_msg(max_park <= bound, "a park cost %llu heap ops (bound "
	    "%llu)", (unsigned long long)max_park, (unsigned long long)bound);

	qsort(ex, SCALE_N, sizeof ex[0], expected_cmp);
	for (i = 0; i < SCALE_N; i += answered) {
		before = waiter_heap_ops();
		waiter_expire(ex[i].deadline);
		used = waiter_heap_ops() - before;
		for (answered = 0; i + answered < SCALE_N &&
		    ex[i + answered].deadline == ex[i].deadline; answered++)
			;
		if (used / answered > max_expire)
			max_expire = used / answered;
		for (j = i; j < i + answered; j++)
			ck_assert_ptr_null(cs[ex[j].id]->parked);
		if (i + answered < SCALE_N)
			ck_assert_ptr_nonnull(cs[ex[i + answered].id]->parked);
	}
	ck_assert_msg(max_expire <= bound, "an expiry cost %llu heap ops "
	    "(bound %llu)", (unsigned long long)max_expire,
	    (unsigned long long)bound);
	for (i = 0; i < SCALE_N; i++)
		reply_on(cs[i], ids[i], "false");
	ck_assert_uint_eq(waiter_count(), 0);
	ck_assert_ptr_null(registry_lookup("scale.one", 9));
	ck_assert_ptr_null(registry_lookup("scale.0", 7));
}

START_TEST(test_scale_one_object)
{
	scale(true);
}
END_TEST

START_TEST(test_scale_many_objects)
{
	scale(false);
}
END_TEST

/* --- sys.cancel, close, delete, shutdown -------------------------------- */

START_TEST(test_cancel)
{
	uint32_t parked, cancel;

	parked = PARK(1, "event.wait", "['cancel.ev']");
	ck_assert_uint_eq(waiter_count(), 1);
	/* Another msgid, or another connection: nothing to cancel. */
	fc_use(1);
	ck_assert_int_eq(send_req_any("sys.cancel", "[12345678]"),
	    DISPATCH_DONE);
	reply_on(fc_conn(1), msgid, "false");
	fc_use(2);
	ck_assert_int_eq(send_req_any("sys.cancel", "[1]"), DISPATCH_DONE);
	reply_on(fc_conn(2), msgid, "false");
	ck_assert_ptr_nonnull(fc_conn(1)->parked);
	/* The parked request answers TIMEOUT first, then the cancel true. */
	fc_use(1);
	ck_assert_int_eq(send_req_any("sys.cancel", "[]"), DISPATCH_DONE);
	error_on(fc_conn(1), msgid, PERR_BADARG);
	ck_assert_int_eq(send_req_any("sys.cancel", "[-1]"), DISPATCH_DONE);
	error_on(fc_conn(1), msgid, PERR_BADARG);
	{
		char params[32];

		snprintf(params, sizeof params, "[%u]", parked);
		ck_assert_int_eq(send_req_any("sys.cancel", params),
		    DISPATCH_DONE);
	}
	cancel = msgid;
	error_on(fc_conn(1), parked, PERR_TIMEOUT);
	ck_assert_msg(reply_msg.len == 9 &&
	    memcmp(reply_msg.ptr, "cancelled", 9) == 0, "%s", show_reply());
	reply_on(fc_conn(1), cancel, "true");
	nothing_on(fc_conn(1));
	ck_assert_ptr_null(fc_conn(1)->parked);
	ck_assert(fc_conn(1)->flags & CONN_QUEUED);
	ck_assert_uint_eq(waiter_count(), 0);
	fc_use(0);
	/* The implicit event it created is gone with its only waiter. */
	ERR("obj.info", "['cancel.ev']", NOOBJ);
	/* Twice: nothing left to cancel. */
	ck_assert(!waiter_cancel(fc_conn(1), parked));
}
END_TEST

START_TEST(test_conn_closed)
{
	PARK(1, "event.wait", "['closed.ev', 30]");
	PARK(2, "event.wait", "['closed.ev']");
	ck_assert_uint_eq(waiter_heap_size(), 1);
	fc_close(1);
	nothing_on(fc_conn(1));
	ck_assert_uint_eq(waiter_heap_size(), 0);
	ck_assert_uint_eq(info_uint("closed.ev", "waiters"), 1);
	fc_close(2);
	nothing_on(fc_conn(2));
	ck_assert_uint_eq(waiter_count(), 0);
	ERR("obj.info", "['closed.ev']", NOOBJ);
	/* A closed connection has nothing more to give back. */
	fc_close(1);
}
END_TEST

START_TEST(test_object_deleted)
{
	uint32_t a, b;

	OK("event.create", "['del.ev']", "nil");
	a = PARK(1, "event.wait", "['del.ev', 10]");
	b = PARK(2, "event.wait", "['del.ev']");
	ck_assert_uint_eq(info_uint("del.ev", "waiters"), 2);
	OK("obj.delete", "['del.ev']", "nil");
	error_on(fc_conn(1), a, PERR_DELETED);
	error_on(fc_conn(2), b, PERR_DELETED);
	ck_assert_uint_eq(waiter_count(), 0);
	ck_assert_uint_eq(waiter_heap_size(), 0);
	ERR("obj.info", "['del.ev']", NOOBJ);
	/* Gone for good: a new wait makes a new, implicit event. */
	PARK(1, "event.wait", "['del.ev']");
	OK("event.set", "['del.ev']", "nil");
	reply_on(fc_conn(1), msgid - 1, "true");
	OK("event.clear", "['del.ev']", "nil");
	ERR("obj.info", "['del.ev']", NOOBJ);
}
END_TEST

START_TEST(test_shutdown)
{
	uint32_t a, b;

	a = PARK(1, "event.wait", "['stop.ev1', 10]");
	b = PARK(2, "event.wait", "['stop.ev2']");
	ck_assert_uint_eq(waiter_count(), 2);
	dispatch_shutdown();
	error_on(fc_conn(1), a, PERR_SHUTDOWN);
	error_on(fc_conn(2), b, PERR_SHUTDOWN);
	ck_assert_uint_eq(waiter_count(), 0);
	ck_assert_ptr_null(registry_lookup("stop.ev1", 8));
	ck_assert_ptr_null(registry_lookup("stop.ev2", 8));
	/* Nothing parked: nothing to do. */
	dispatch_shutdown();
	nothing_on(fc_conn(1));
}
END_TEST

/* --- holdings, through a type of the test's own ------------------------ */

static int holder_gone_calls;

static void
holder_init(struct object *o, const struct optval *v)
{
	o->data = NULL;
}

static bool
holder_free_step(struct object *o, size_t budget)
{
	return true;
}

static bool
holder_is_initial(const struct object *o)
{
	return true;
}

static void
holder_conn_gone(struct hold *h)
{
	holder_gone_calls++;
	hold_drop(h);
}

static const struct method holder_methods[] = { { .name = NULL } };

static const struct obj_type holder_type = {
	.name = "holder",
	.methods = holder_methods,
	.init = holder_init,
	.free_step = holder_free_step,
	.is_initial = holder_is_initial,
	.conn_gone = holder_conn_gone,
};

START_TEST(test_holds)
{
	struct object *a = registry_add(&holder_type, "hold.a", 6);
	struct object *b = registry_add(&holder_type, "hold.b", 6);
	struct object *d = registry_add(&holder_type, "hold.d", 6);
	struct conn *c1 = fc_conn(1), *c2 = fc_conn(2);
	struct hold *h;

	ck_assert_ptr_null(hold_find(c1, a));
	h = hold_get(c1, a);
	h->n = 3;
	ck_assert_ptr_eq(hold_get(c1, a), h);
	ck_assert_ptr_eq(hold_find(c1, a), h);
	ck_assert_ptr_null(hold_find(c2, a));
	hold_get(c2, a);
	hold_get(c1, b);
	hold_get(c1, d);
	hold_get(c2, d);
	/* Held objects never settle away. */
	ck_assert(!registry_settle(a));
	ck_assert(!registry_settle(b));
	/* Deleting d gives its holds back through the type. */
	holder_gone_calls = 0;
	waiter_object_deleted(d);
	registry_delete(d);
	ck_assert_int_eq(holder_gone_calls, 2);
	ck_assert_ptr_null(hold_find(c1, d));
	/* c1 closes: its holds go back, then what is free settles. */
	dispatch_conn_closed(c1);
	ck_assert_int_eq(holder_gone_calls, 4);
	ck_assert_ptr_null(c1->holdings);
	ck_assert_ptr_null(registry_lookup("hold.b", 6));
	/* a is still held by c2. */
	ck_assert_ptr_eq(registry_lookup("hold.a", 6), a);
	ck_assert_ptr_null(hold_find(c1, a));
	h = hold_find(c2, a);
	ck_assert_ptr_nonnull(h);
	hold_drop(h);
	ck_assert_ptr_null(hold_find(c2, a));
	ck_assert(registry_settle(a));
	dispatch_conn_closed(c2);
	ck_assert_int_eq(holder_gone_calls, 4);
}
END_TEST

START_TEST(test_stats)
{
	struct mpv v;

	PARK(1, "event.wait", "['stats.ev']");
	OK("sys.stats", "[]", NULL);
	ck_assert(result_field("waiters", &v) && v.v.u == 1);
	OK("event.set", "['stats.ev']", "nil");
	OK("sys.stats", "[]", NULL);
	ck_assert(result_field("waiters", &v) && v.v.u == 0);
	OK("obj.delete", "['stats.ev']", "nil");
}
END_TEST
static Suite *
waiter_suite(void)
{
	Suite *s = suite_create("waiter");
	TCase *tc;

	tc = tcase_create("heap");
	tcase_add_unchecked_fixture(tc, setup, NULL);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_heap_order);
	tcase_add_test(tc, test_heap_remove);
	tcase_add_test(tc, test_scale_one_object);
	tcase_add_test(tc, test_scale_many_objects);
	suite_add_tcase(s, tc);

	tc = tcase_create("lifecycle");
	tcase_add_unchecked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_cancel);
	tcase_add_test(tc, test_conn_closed);
	tcase_add_test(tc, test_object_deleted);
	tcase_add_test(tc, test_shutdown);
	tcase_add_test(tc, test_holds);
	tcase_add_test(tc, test_stats);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(waiter_suite());
}
