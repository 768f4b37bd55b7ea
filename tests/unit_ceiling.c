/*
 * unit_ceiling.c: past --max-memory only what makes memory grow is
 * refused (issue 8 item 9): the writes the catalogue marks MF_GROWS, and
 * any method that would create a missing object. Waking waiters, taking
 * and releasing existing locks and permits, sorting, reversing and every
 * read and delete still run, so a full daemon stays usable and can be
 * emptied.
 */
#include <string.h>

#include <check.h>

#include "../daemon/dispatch.h"
#include "../daemon/mpmgrd.h"
#include "../proto/mpmgr_methods.h"
#include "unit_util.h"

/* A write that grows is one that keeps what it stores. */
START_TEST(test_catalogue)
{
	size_t i, n = 0;

	for (i = 0; i < MPMGR_MID_COUNT; i++) {
		unsigned fl = catalogue_methods[i].flags;

		if (!(fl & MF_GROWS))
			continue;
		n++;
		ck_assert_msg((fl & MF_WRITE) && !(fl & MF_FREES),
		    "%s: MF_GROWS needs MF_WRITE and no MF_FREES",
		    catalogue_methods[i].name);
	}
	ck_assert_uint_ge(n, 10);
}
END_TEST

static const struct row grows[] = {
	{ "dict.set", "['cl_d', 'k2', 1]", PERR_LIMIT, NULL, "ceiling" },
	{ "dict.setdefault", "['cl_d', 'k2', 1]", PERR_LIMIT, NULL, NULL },
	{ "dict.update", "['cl_d', {'k2': 1}]", PERR_LIMIT, NULL, NULL },
	{ "dict.incr", "['cl_d', 'k']", PERR_LIMIT, NULL, NULL },
	{ "dict.cas", "['cl_d', 'k', 1, 2]", PERR_LIMIT, NULL, NULL },
	{ "value.set", "['cl_v', 1]", PERR_LIMIT, NULL, NULL },
	{ "value.incr", "['cl_v']", PERR_LIMIT, NULL, NULL },
	{ "value.cas", "['cl_v', 5, 6]", PERR_LIMIT, NULL, NULL },
	{ "list.append", "['cl_l', 1]", PERR_LIMIT, NULL, NULL },
	{ "list.extend", "['cl_l', [1]]", PERR_LIMIT, NULL, NULL },
	{ "list.insert", "['cl_l', 0, 1]", PERR_LIMIT, NULL, NULL },
	{ "list.set", "['cl_l', 0, 9]", PERR_LIMIT, NULL, NULL },
	{ "queue.put", "['cl_q', 1, 0]", PERR_LIMIT, NULL, NULL },
	{ "queue.put_many", "['cl_q', [1], 0]", PERR_LIMIT, NULL, NULL },
	{ "pipe.send", "['cl_pipe', 0, 'm2']", PERR_LIMIT, NULL, NULL },
	{ "process.register", "['cl_newproc', {'pid': 6, 'argv': ['y']}]",
	  PERR_LIMIT, NULL, NULL },
	{ "pool.submit", "['cl_pool', 'job2']", PERR_LIMIT, NULL, NULL },
	/* creating an object is memory that stays */
	{ "lock.acquire", "['cl_new']", PERR_LIMIT, NULL, NULL },
	{ "event.set", "['cl_new']", PERR_LIMIT, NULL, NULL },
	{ "semaphore.release", "['cl_new']", PERR_LIMIT, NULL, NULL },
	{ "queue.create", "['cl_new']", PERR_LIMIT, NULL, NULL },
	{ "dict.create", "['cl_new']", PERR_LIMIT, NULL, NULL },
	{ "pool.submit", "['cl_pool', 'job2']", PERR_LIMIT, NULL, NULL },
};

static const struct row keeps[] = {
	{ "lock.acquire", "['cl_lock']", PERR_NONE, "true", NULL },
	{ "lock.release", "['cl_lock']", PERR_NONE, "nil", NULL },
	{ "rlock.acquire", "['cl_rlock']", PERR_NONE, "true", NULL },
	{ "rlock.acquire", "['cl_rlock']", PERR_NONE, "true", NULL },
	{ "rlock.release", "['cl_rlock']", PERR_NONE, "nil", NULL },
	{ "semaphore.acquire", "['cl_sem']", PERR_NONE, "true", NULL },
	{ "semaphore.release", "['cl_sem']", PERR_NONE, "nil", NULL },
	{ "condition.acquire", "['cl_cond']", PERR_NONE, "true", NULL },
	{ "condition.notify_all", "['cl_cond']", PERR_NONE, "nil", NULL },
	{ "condition.release", "['cl_cond']", PERR_NONE, "nil", NULL },
	{ "event.clear", "['cl_ev']", PERR_NONE, "nil", NULL },
	{ "list.sort", "['cl_l']", PERR_NONE, "nil", NULL },
	{ "list.reverse", "['cl_l']", PERR_NONE, "nil", NULL },
	{ "list.copy", "['cl_l']", PERR_NONE, "[3, 2, 1]", NULL },
	{ "list.pop", "['cl_l']", PERR_NONE, "1", NULL },
	{ "dict.get", "['cl_d', 'k']", PERR_NONE, "'v'", NULL },
	{ "dict.pop", "['cl_d', 'k']", PERR_NONE, "'v'", NULL },
	{ "queue.get", "['cl_q', 0]", PERR_NONE, "'item'", NULL },
	{ "barrier.abort", "['cl_bar']", PERR_NONE, "nil", NULL },
	{ "barrier.reset", "['cl_bar']", PERR_NONE, "nil", NULL },
	{ "array.set", "['cl_arr', 0, 7]", PERR_NONE, "nil", NULL },
	{ "pipe.open", "['cl_pipe', 1]", PERR_NONE, "nil", NULL },
	{ "pipe.poll", "['cl_pipe', 1, 0]", PERR_NONE, "true", NULL },
	{ "pipe.recv", "['cl_pipe', 1, 0]", PERR_NONE, "'m'", NULL },
	{ "pipe.close", "['cl_pipe', 1]", PERR_NONE, "nil", NULL },
	{ "process.exited", "['cl_proc', 0]", PERR_NONE, "nil", NULL },
	{ "queue.shutdown", "['cl_q', true]", PERR_NONE, "nil", NULL },
	{ "pool.take", "['cl_pool', 0]", PERR_NONE, "[1, 'job', 1]", NULL },
	/* a result replaces the payload: refusing it would keep the job
	 * leased, and its payload held */
	{ "pool.done", "['cl_pool', 1, 'ok']", PERR_NONE, "nil", NULL },
	{ "pool.result", "['cl_pool', 1, true]", PERR_NONE, "['done', 'ok']",
	  NULL },
	{ "pool.close", "['cl_pool']", PERR_NONE, "nil", NULL },
	{ "obj.delete", "['cl_v']", PERR_NONE, "nil", NULL },
};

START_TEST(test_past_the_ceiling)
{
	OK("dict.set", "['cl_d', 'k', 'v']", "nil");
	OK("value.set", "['cl_v', 5]", "nil");
	OK("list.extend", "['cl_l', [2, 1, 3]]", "nil");
	OK("queue.put", "['cl_q', 'item']", "nil");
	OK("lock.create", "['cl_lock']", "nil");
	OK("rlock.create", "['cl_rlock']", "nil");
	OK("semaphore.create", "['cl_sem', {'value': 1}]", "nil");
	OK("condition.create", "['cl_cond']", "nil");
	OK("event.create", "['cl_ev']", "nil");
	OK("barrier.create", "['cl_bar', {'parties': 2}]", "nil");
	OK("array.create", "['cl_arr', {'typecode': 'i', 'length': 2}]",
	    "nil");
	OK("pipe.send", "['cl_pipe', 0, 'm']", "nil");
	OK("process.register", "['cl_proc', {'pid': 5, 'argv': ['x']}]",
	    "nil");
	OK("pool.submit", "['cl_pool', 'job']", "1");
	/* a waiter, to be woken past the ceiling */
	PARK(1, "event.wait", "['cl_ev']");

	server.max_memory = 1;
	RUN(grows);
	OK("event.set", "['cl_ev']", "nil");
	GOT(1, "true");
	RUN(keeps);
	/* a blocking read parks (creating its object: one per connection) */
	PARK(2, "queue.get", "['cl_park']");
	server.max_memory = 0;
	OK("queue.put", "['cl_park', 1]", "nil");
	GOT(2, "1");
	OK("dict.set", "['cl_d', 'k2', 1]", "nil");
}
END_TEST

static Suite *
ceiling_suite(void)
{
	Suite *s = suite_create("ceiling");
	TCase *tc = tcase_create("ceiling");

	tcase_add_unchecked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_catalogue);
	tcase_add_test(tc, test_past_the_ceiling);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(ceiling_suite());
}
