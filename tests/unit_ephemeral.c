/*
 * unit_ephemeral.c: the create option every type takes, ephemeral: the
 * object belongs to the connection that created it and is deleted when
 * that connection closes, as obj.delete deletes (its waiters answered
 * DELETED, what others hold in it released). Without sockets: the fake
 * connections of unit_util.h close with fc_close, as conn.c closes.
 *
 * Object names differ between tests so that they also pass with
 * CK_FORK=no.
 */
#include <stdio.h>
#include <string.h>

#include <check.h>

#include "../daemon/dispatch.h"
#include "../daemon/mpmgrd.h"
#include "../daemon/registry.h"
#include "../daemon/waiter.h"
#include "unit_util.h"

/* The next request goes from fake connection i. */
#define AS(i) fc_from(__LINE__, i)

/* name is ephemeral, owned by fake connection i. */
static void
owned_by(const char *name, int i)
{
	struct mpv v;

	info_field(name, "ephemeral", &v);
	ck_assert_msg(v.type == MPV_BOOL && v.v.b, "%s is not ephemeral",
	    name);
	ck_assert_uint_eq(info_uint(name, "owner"), fc_conn(i)->id);
	ck_assert_uint_eq(reply.result.len, 12);
}

/* Every type takes it, with its own options beside it. */
START_TEST(test_every_type)
{
	static const char *const creates[][2] = {
		{ "dict.create", "{'ephemeral': true}" },
		{ "value.create", "{'value': 3, 'ephemeral': true}" },
		{ "list.create", "{'ephemeral': true}" },
		{ "array.create", "{'typecode': 'i', 'length': 2, "
		  "'ephemeral': true}" },
		{ "queue.create", "{'ephemeral': true, 'maxsize': 2}" },
		{ "event.create", "{'ephemeral': true}" },
		{ "barrier.create", "{'parties': 2, 'ephemeral': true}" },
		{ "lock.create", "{'ephemeral': true}" },
		{ "rlock.create", "{'ephemeral': true}" },
		{ "semaphore.create", "{'value': 2, 'ephemeral': true}" },
		{ "condition.create", "{'ephemeral': true}" },
	};
	char params[160], name[32];
	struct mpv v;
	size_t i;

	AS(1);
	for (i = 0; i < sizeof creates / sizeof creates[0]; i++) {
		snprintf(name, sizeof name, "ev.%zu", i);
		snprintf(params, sizeof params, "['%s', %s]", name,
		    creates[i][1]);
		OK(creates[i][0], params, "nil");
		owned_by(name, 1);
	}
	/* It is the registry's option, not the type's. */
	info_field("ev.4", "options", &v);
	pn_to_buf(&expbuf, "{'maxsize': 2, 'ack': false}");
	ck_assert_uint_eq(v.rawlen, buf_used(&expbuf));
	ck_assert(memcmp(v.raw, buf_head(&expbuf), v.rawlen) == 0);
	/* Others see them and use them; the owner's close takes them all. */
	AS(2);
	OK("dict.set", "['ev.0', 'k', 1]", "nil");
	OK("lock.acquire", "['ev.7', 0]", "true");
	fc_close(1);
	for (i = 0; i < sizeof creates / sizeof creates[0]; i++) {
		snprintf(name, sizeof name, "ev.%zu", i);
		GONE(name);
	}
	/* What connection 2 held went with the lock. */
	ERR("lock.release", "['ev.7']", NOTHELD);
	fc_close(2);
	fc_use(0);
}
END_TEST

/* Its waiters answer DELETED, before its owner's holds are given back. */
START_TEST(test_waiters)
{
	uint32_t a, b, c;

	AS(1);
	OK("lock.create", "['ew.l', {'ephemeral': true}]", "nil");
	OK("lock.acquire", "['ew.l']", "true");
	OK("queue.create", "['ew.q', {'ephemeral': true}]", "nil");
	/* The owner waits too: its own wait dies with it, unanswered. */
	OK("event.create", "['ew.e', {'ephemeral': true}]", "nil");
	a = PARK(2, "lock.acquire", "['ew.l']");
	b = PARK(3, "queue.get", "['ew.q']");
	c = PARK(1, "event.wait", "['ew.e']");
	ck_assert_uint_eq(waiter_count(), 3);
	fc_close(1);
	GOT_ERR(2, DELETED);
	GOT_ERR(3, DELETED);
	NOTHING(1);
	ck_assert_uint_eq(waiter_count(), 0);
	GONE("ew.l");
	GONE("ew.q");
	GONE("ew.e");
	(void)a;
	(void)b;
	(void)c;
	fc_use(0);
}
END_TEST

/*
 * create on an existing object: an implicit one becomes explicit and the
 * caller's; the same options again are nil whoever asks (the owner stays);
 * a different ephemeral is EXISTS either way.
 */
static const struct row existing[] = {
	{ "dict.set", "['ex.d', 'k', 1]", PERR_NONE, "nil", NULL },
	{ "dict.create", "['ex.d', {'ephemeral': true}]", PERR_NONE, "nil",
	  NULL },
	{ "dict.create", "['ex.d', {'ephemeral': true}]", PERR_NONE, "nil",
	  NULL },
	{ "dict.create", "['ex.d']", PERR_EXISTS, NULL,
	  "'ex.d' exists with other options" },
	{ "dict.create", "['ex.d', {'ephemeral': false}]", PERR_EXISTS, NULL,
	  NULL },
	{ "value.create", "['ex.v', {'value': 1}]", PERR_NONE, "nil", NULL },
	{ "value.create", "['ex.v', {'value': 1, 'ephemeral': true}]",
	  PERR_EXISTS, NULL, NULL },
	{ "value.create", "['ex.v', {'value': 2, 'ephemeral': true}]",
	  PERR_EXISTS, NULL, NULL },
	{ "value.create", "['ex.v', {'value': 1, 'ephemeral': false}]",
	  PERR_NONE, "nil", NULL },
	{ "dict.create", "['ex.b', {'ephemeral': 1}]", PERR_BADARG, NULL,
	  "dict.create: ephemeral must be a bool" },
	{ "dict.create", "['ex.b', {'ephemeral': true, 'ephemeral': true}]",
	  PERR_BADARG, NULL, "'ephemeral' is given twice" },
	{ "array.create", "['ex.b', {'typecode': 'i', 'length': 1, "
	  "'ephemeral': 'yes'}]", PERR_BADARG, NULL, "ephemeral" },
	{ "obj.info", "['ex.b']", PERR_NOOBJ, NULL, NULL },
};

START_TEST(test_existing)
{
	AS(1);
	RUN(existing);
	owned_by("ex.d", 1);
	/* Another connection's equal create changes nothing. */
	AS(2);
	OK("dict.create", "['ex.d', {'ephemeral': true}]", "nil");
	owned_by("ex.d", 1);
	fc_close(2);
	OK("dict.get", "['ex.d', 'k']", "1");
	fc_close(1);
	GONE("ex.d");
	/* ex.v was never ephemeral. */
	OK("obj.info", "['ex.v']", NULL);
	ck_assert_uint_eq(reply.result.len, 10);
	OK("obj.delete", "['ex.v']", "nil");
	fc_use(0);
}
END_TEST

/* Anyone may delete it first; the name is free for anyone after. */
START_TEST(test_deleted_first)
{
	AS(1);
	OK("dict.create", "['ed.d', {'ephemeral': true}]", "nil");
	OK("dict.create", "['ed.e', {'ephemeral': true}]", "nil");
	AS(2);
	OK("obj.delete", "['ed.d']", "nil");
	OK("dict.create", "['ed.d']", "nil");
	fc_close(1);
	/* Connection 2's ed.d is not connection 1's. */
	OK("obj.info", "['ed.d']", NULL);
	ck_assert_uint_eq(reply.result.len, 10);
	GONE("ed.e");
	OK("obj.delete", "['ed.d']", "nil");
	fc_close(2);
	fc_use(0);
}
END_TEST

static Suite *
ephemeral_suite(void)
{
	Suite *s = suite_create("ephemeral");
	TCase *tc = tcase_create("ephemeral");

	tcase_add_unchecked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_every_type);
	tcase_add_test(tc, test_waiters);
	tcase_add_test(tc, test_existing);
	tcase_add_test(tc, test_deleted_first);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(ephemeral_suite());
}
