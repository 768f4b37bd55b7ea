/*
 * unit_hold.c: what connections hold, found by (connection, object) in
 * O(1) however many holds there are: index slots looked at are counted
 * (hold_steps), never time. Also that the index stays exact through
 * drops in any order (backward-shift deletion), growth and shrinking, and
 * that a connection with 100k holds gives every one back on close.
 *
 * The scale test holds permits through semaphore.acquire requests, as a
 * client would; names differ between tests so that they also pass with
 * CK_FORK=no.
 */
#include <stdio.h>
#include <string.h>

#include <check.h>

#include "../daemon/dispatch.h"
#include "../daemon/mem.h"
#include "../daemon/mpmgrd.h"
#include "../daemon/registry.h"
#include "../daemon/waiter.h"
#include "unit_util.h"

#define MANY 100000
#define FEW 1000

static struct object *objs[MANY];

/* An implicit semaphore, held through hold_get directly. */
static struct object *
sem(const char *prefix, size_t i)
{
	char name[64];
	int n = snprintf(name, sizeof name, "%s.%zu", prefix, i);

	return registry_add(&semaphore_type, name, (size_t)n);
}

/*
 * method ['hold.k.<i>'] from c, answered at once with result (one byte
 * of MessagePack): true or false. No Check assertion per call (each
 * costs Check a write(2)): the scale test checks the count at the end.
 */
static bool
call_quiet(struct conn *c, const char *method, size_t i, uint8_t result)
{
	msgpack_packer pk;
	struct msg m;
	const char *why;
	char name[64];
	int n = snprintf(name, sizeof name, "hold.k.%zu", i);
	bool ok;

	begin_request(&pk, method);
	msgpack_pack_array(&pk, 1);
	msgpack_pack_str_with_body(&pk, name, (size_t)n);
	buf_reset(&c->out);
	if (msg_parse(buf_head(&reqbuf), &m, &why) != 0 ||
	    dispatch_request(c, &m) != DISPATCH_DONE)
		return false;
	ok = buf_used(&c->out) > 0 && buf_head(&c->out)[buf_used(&c->out) -
	    1] == result;
	buf_reset(&c->out);
	return ok;
}

/*
 * Slots looked at per hold_find of c in each of objs[0..n): c holds in
 * each (held), or in none (a miss ends at an empty slot).
 */
static double
steps_per_find(struct conn *c, size_t n, bool held)
{
	uint64_t before = hold_steps();
	size_t i, wrong = 0;

	for (i = 0; i < n; i++)
		wrong += (hold_find(c, objs[i]) != NULL) != held;
	ck_assert_uint_eq(wrong, 0);
	return (double)(hold_steps() - before) / (double)n;
}

/*
 * One connection holds a permit in 100k semaphores: finding any of its
 * holds, or a missing one, looks at a couple of slots, as with 1k; a scan
 * of the connection's list looked at 50k on average.
 */
START_TEST(test_find_is_constant)
{
	struct conn *c = fc_conn(1), *other = fc_conn(2);
	double few_hit, few_miss, many_hit, many_miss;
	uint64_t before;
	char params[64], name[64];
	size_t i;

	size_t bad = 0;

	for (i = 0; i < MANY; i++) {
		bad += !call_quiet(c, "semaphore.acquire", i, 0xc3);
		snprintf(name, sizeof name, "hold.k.%zu", i);
		objs[i] = registry_lookup(name, strlen(name));
		bad += objs[i] == NULL;
	}
	ck_assert_uint_eq(bad, 0);
	ck_assert_uint_eq(hold_count(), MANY);
	many_hit = steps_per_find(c, MANY, true);
	many_miss = steps_per_find(other, MANY, false);
	/* At most half full: 1.5 and 2.5 slots expected (Knuth). */
	ck_assert_msg(many_hit <= 3 && many_miss <= 5,
	    "100k holds: %.2f slots per hit, %.2f per miss", many_hit,
	    many_miss);

	/* A release and an acquire among the 100k: a few slots each. */
	fc_use(1);
	before = hold_steps();
	snprintf(params, sizeof params, "['hold.k.%d']", MANY / 2);
	send_req("semaphore.release", params);
	send_req("semaphore.acquire", params);
	ck_assert(reply_is("true"));
	objs[MANY / 2] = registry_lookup(params + 2, strlen(params) - 4);
	ck_assert_ptr_nonnull(objs[MANY / 2]);
	ck_assert_msg(hold_steps() - before <= 40, "a release and an "
	    "acquire among 100k holds looked at %llu slots",
	    (unsigned long long)(hold_steps() - before));

	/* Released in a scattered order down to 1k: what is left is still
	 * found, and the index shrank back with them. */
	for (i = 0; i < MANY; i++) {
		size_t j = (i * 7919) % MANY;

		if (j >= FEW)
			bad += !call_quiet(c, "semaphore.release", j, 0xc0);
	}
	ck_assert_uint_eq(bad, 0);
	fc_use(0);
	ck_assert_uint_eq(hold_count(), FEW);
	few_hit = steps_per_find(c, FEW, true);
	few_miss = steps_per_find(other, FEW, false);
	ck_assert_msg(few_hit <= 3 && few_miss <= 5,
	    "1k holds: %.2f slots per hit, %.2f per miss", few_hit, few_miss);

	/* The close gives the rest back (semaphore_conn_gone per hold). */
	fc_close(1);
	ck_assert_uint_eq(hold_count(), 0);
	ck_assert_ptr_null(registry_lookup("hold.k.0", 8));
}
END_TEST

/* Several connections in one object, one connection in several objects:
 * each pair is its own hold, and dropping one leaves the others. */
START_TEST(test_pairs)
{
	struct object *a = sem("hold.p", 0), *b = sem("hold.p", 1);
	struct hold *h[FC_CONNS][2];
	int i, j;

	for (i = 0; i < FC_CONNS; i++) {
		h[i][0] = hold_get(fc_conn(i), a);
		h[i][1] = hold_get(fc_conn(i), b);
		ck_assert_ptr_ne(h[i][0], h[i][1]);
		ck_assert_ptr_eq(hold_get(fc_conn(i), a), h[i][0]);
	}
	for (i = 0; i < FC_CONNS; i += 2)
		hold_drop(h[i][0]);
	for (i = 0; i < FC_CONNS; i++)
		for (j = 0; j < 2; j++) {
			if (j == 0 && i % 2 == 0)
				ck_assert_ptr_null(hold_find(fc_conn(i), a));
			else
				ck_assert_ptr_eq(hold_find(fc_conn(i),
				    j == 0 ? a : b), h[i][j]);
		}
	for (i = 0; i < FC_CONNS; i++) {
		if (i % 2 != 0)
			hold_drop(h[i][0]);
		hold_drop(h[i][1]);
	}
	ck_assert_uint_eq(hold_count(), 0);
}
END_TEST

static Suite *
hold_suite(void)
{
	Suite *s = suite_create("hold");
	TCase *tc = tcase_create("index");

	tcase_set_timeout(tc, 120);
	tcase_add_unchecked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_pairs);
	tcase_add_test(tc, test_find_is_constant);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(hold_suite());
}
