/*
 * it_journal.c: a real mpmgrd with --data-dir, killed and started again.
 *
 * - A workload over every type, then kill -9: the restarted daemon has
 *   every object as it was (obj.info and contents, compared as text),
 *   and the queue's items in order (the test keeps its own model).
 * - The restart rule: leased ack items back at the head in order, held
 *   locks released (but one that outlives its holder), permits given
 *   back, barriers reset, parked waiters gone, ephemeral objects gone.
 * - Differential: a random workload from several connections goes to a
 *   daemon with a journal and one without (answers compared); after
 *   some park, the first is killed and restarted, the second's clients
 *   leave: every object, queues' items included, is the same in both.
 * - Crashes: a writer pipelining writes keeps its own record of what was
 *   acknowledged; the daemon is killed with SIGKILL at random moments
 *   (after a random number of acknowledged writes, never a sleep), 20
 *   times with --fsync always and 5 with everysec: every acknowledged
 *   write is there after each restart. everysec's thread syncs what was
 *   written while a writer goes on (the bound on an OS crash's loss),
 *   and all of it once writes stop.
 * - A torn last record is dropped with a warning; trailing zeros too; a
 *   CRC mismatch earlier refuses the start, naming the offset and
 *   --repair, which cuts there keeping a copy.
 * - Compaction while clients write and sys.save asks for more: the
 *   files left replay to the same state.
 * - A journal that cannot be written (RLIMIT_FSIZE) stops the daemon,
 *   and what it acknowledged is there after a restart.
 * - The data directory's checks: another daemon's, or one others may
 *   write in, is refused.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static char datadir[200];
static const char *args[16];

/* mpmgrd's options with a data directory in h's: --fsync fsync, then
 * more (NULL-terminated, up to 8). */
static const char *const *
jargs(struct harness *h, const char *fsync, ...)
{
	va_list ap;
	const char *a;
	int n = 0;

	snprintf(datadir, sizeof datadir, "%s/data", h->dir);
	args[n++] = "--data-dir";
	args[n++] = datadir;
	args[n++] = "--fsync";
	args[n++] = fsync;
	va_start(ap, fsync);
	while ((a = va_arg(ap, const char *)) != NULL && n < 14)
		args[n++] = a;
	va_end(ap);
	args[n] = NULL;
	return args;
}

/* Start the first daemon of a test in a fresh directory. */
static void
jstart(struct harness *h, const char *fsync)
{
	harness_prepare(h, NULL);
	harness_restart(h, jargs(h, fsync, NULL));
}

/* --- a registry as text --------------------------------------------------- */

struct text {
	char *s;
	size_t len, cap;
};

static void
text_add(struct text *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
text_add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < t->cap - t->len) {
			t->len += (size_t)n;
			return;
		}
		t->cap = t->cap * 2 + (size_t)n + 256;
		t->s = realloc(t->s, t->cap);
		ck_assert_ptr_nonnull(t->s);
	}
}

static void
text_obj(struct text *t, msgpack_object o)
{
	char *b = malloc(1 << 20);

	harness_obj_str(o, b, 1 << 20);
	text_add(t, "%s", b);
	free(b);
}

/*
 * Every object: name, type, size, explicit, options, and its contents as
 * far as reads show them (a queue: its size; and with drain, its items,
 * taken out), by name.
 */
static char *
snapshot(mpmgr *m, bool drain)
{
	static const char *const reads[][2] = {
		{ "dict", "dict.items" }, { "list", "list.copy" },
		{ "value", "value.get" }, { "array", "array.get" },
		{ "event", "event.is_set" }, { "semaphore", "semaphore.value" },
		{ "lock", "lock.locked" }, { "rlock", "rlock.locked" },
		{ "queue", "queue.qsize" }, { "barrier", "barrier.broken" },
		{ "process", "process.is_alive" }, { "process", "process.join" },
	};
	struct text t = { NULL, 0, 0 };
	msgpack_object list, res, *f;
	char params[600], name[300];
	int rc;

	ck_assert_int_eq(harness_call(m, "obj.list", "[]", &list), 0);
	/* a copy: the next call on m reuses the reply's memory */
	{
		size_t n = list.via.array.size, i, j;
		char (*v)[300] = calloc(n + 1, sizeof *v);
		char (*ty)[32] = calloc(n + 1, sizeof *ty);

		for (i = 0; i < n; i++) {
			msgpack_object e = list.via.array.ptr[i];

			snprintf(v[i], sizeof v[i], "%.*s",
			    (int)e.via.array.ptr[0].via.str.size,
			    e.via.array.ptr[0].via.str.ptr);
			snprintf(ty[i], sizeof ty[i], "%.*s",
			    (int)e.via.array.ptr[1].via.str.size,
			    e.via.array.ptr[1].via.str.ptr);
		}
		/* by name */
		for (i = 1; i < n; i++) {
			for (j = i; j > 0 && strcmp(v[j - 1], v[j]) > 0; j--) {
				char tn[300], tt[32];

				memcpy(tn, v[j], sizeof tn);
				memcpy(v[j], v[j - 1], sizeof tn);
				memcpy(v[j - 1], tn, sizeof tn);
				memcpy(tt, ty[j], sizeof tt);
				memcpy(ty[j], ty[j - 1], sizeof tt);
				memcpy(ty[j - 1], tt, sizeof tt);
			}
		}
		for (i = 0; i < n; i++) {
			snprintf(name, sizeof name, "%s", v[i]);
			snprintf(params, sizeof params, "['%s']", name);
			rc = harness_call(m, "obj.info", params, &res);
			ck_assert_int_eq(rc, 0);
			text_add(&t, "%s %s", name, ty[i]);
			if ((f = (msgpack_object *)harness_map_get(&res, "size")))
				text_add(&t, " size=%llu", (unsigned long long)
				    f->via.u64);
			if ((f = (msgpack_object *)harness_map_get(&res,
			    "explicit")))
				text_add(&t, " explicit=%d", f->via.boolean);
			if ((f = (msgpack_object *)harness_map_get(&res,
			    "options"))) {
				text_add(&t, " options=");
				text_obj(&t, *f);
			}
			for (j = 0; j < sizeof reads / sizeof reads[0]; j++) {
				if (strcmp(reads[j][0], ty[i]) != 0)
					continue;
				rc = harness_call(m, reads[j][1], params, &res);
				text_add(&t, " %s=", reads[j][1]);
				if (rc == 0)
					text_obj(&t, res);
				else
					text_add(&t, "!%s", mpmgr_errcode(m));
			}
			if (drain && strcmp(ty[i], "queue") == 0) {
				snprintf(params, sizeof params, "['%s', 100000, 0]",
				    name);
				rc = harness_call(m, "queue.get_many", params, &res);
				text_add(&t, " items=");
				if (rc == 0)
					text_obj(&t, res);
				else
					text_add(&t, "!%s", mpmgr_errcode(m));
			}
			text_add(&t, "\n");
		}
		free(v);
		free(ty);
	}
	if (t.s == NULL)
		text_add(&t, "%s", "");
	return t.s;
}

static void
ck_same(const char *before, const char *after)
{
	ck_assert_msg(strcmp(before, after) == 0, "after the restart:\n%s\n"
	    "before:\n%s", after, before);
}

/* --- state survives a crash ------------------------------------------- */

START_TEST(test_restart_keeps)
{
	struct harness h;
	mpmgr *m;
	char *before, *after, params[200];
	int i, next = 1, head = 1;

	jstart(&h, "everysec");
	m = harness_connect(&h);
	ck_call_ok(m, "dict.set", "['d', 'a', 1]", "nil");
	ck_call_ok(m, "dict.update", "['d', {'b': [1, 2.5], 'c': {'x': nil}}]",
	    "nil");
	ck_call_ok(m, "dict.incr", "['d', 'n', 41]", "41");
	ck_call_ok(m, "dict.incr", "['d', 'n']", "42");
	ck_call_ok(m, "dict.pop", "['d', 'a']", "1");
	ck_call_ok(m, "dict.set", "['d', b'\\x00\\xff', x5'\\x01\\x02']", "nil");
	ck_call_ok(m, "dict.create", "['d0']", "nil");
	ck_call_ok(m, "value.set", "['v', 'hello']", "nil");
	ck_call_ok(m, "value.create", "['vc', {'value': 3}]", "nil");
	ck_call_ok(m, "value.incr", "['vc', 0.5]", "3.5");
	ck_call_ok(m, "list.extend", "['l', [5, 3, 9, 1]]", "nil");
	ck_call_ok(m, "list.sort", "['l']", "nil");
	ck_call_ok(m, "list.insert", "['l', 1, 'two']", "nil");
	ck_call_ok(m, "list.remove", "['l', 9]", "nil");
	ck_call_ok(m, "array.create", "['a', {'typecode': 'd', 'items': "
	    "[1, 2, 3]}]", "nil");
	ck_call_ok(m, "array.set", "['a', 1, 0.25]", "nil");
	ck_call_ok(m, "event.set", "['e']", "nil");
	ck_call_ok(m, "event.create", "['e0']", "nil");
	ck_call_ok(m, "barrier.create", "['b', {'parties': 4}]", "nil");
	ck_call_ok(m, "semaphore.create", "['s', {'value': 5, 'bounded': "
	    "true}]", "nil");
	ck_call_ok(m, "semaphore.acquire", "['s', 0]", "true");
	ck_call_ok(m, "lock.create", "['k', {'release_on_disconnect': "
	    "false}]", "nil");
	ck_call_ok(m, "condition.create", "['c', {'lock': 'k'}]", "nil");
	ck_call_ok(m, "queue.create", "['q', {'maxsize': 1000}]", "nil");
	for (i = 0; i < 300; i++) {
		snprintf(params, sizeof params, "['q', {'n': %d}]", next++);
		ck_call_ok(m, "queue.put", params, "nil");
		if (i % 3 == 2) {
			char want[64];

			snprintf(want, sizeof want, "{'n': %d}", head++);
			ck_call_ok(m, "queue.get", "['q', 0]", want);
		}
	}
	ck_call_ok(m, "dict.set", "['gone', 1, 1]", "nil");
	ck_call_ok(m, "obj.delete", "['gone']", "nil");
	mpmgr_free(m);
	m = harness_connect(&h);
	before = snapshot(m, false);
	mpmgr_free(m);

	harness_kill(&h);
	harness_restart(&h, jargs(&h, "everysec", NULL));
	m = harness_connect(&h);
	after = snapshot(m, false);
	ck_same(before, after);
	/* the queue's items, in order */
	for (; head < next; head++) {
		char want[64];

		snprintf(want, sizeof want, "{'n': %d}", head);
		ck_call_ok(m, "queue.get", "['q', 0]", want);
	}
	ck_call_err(m, "queue.get", "['q', 0]", MPMGR_EEMPTY);
	free(before);
	free(after);
	/* and once more, after a graceful stop */
	before = snapshot(m, false);
	mpmgr_free(m);
	ck_assert(harness_stop_keep(&h));
	harness_restart(&h, jargs(&h, "everysec", NULL));
	m = harness_connect(&h);
	after = snapshot(m, false);
	ck_same(before, after);
	free(before);
	free(after);
	mpmgr_free(m);
	ck_assert(harness_stop(&h));
}
END_TEST

/* --- the restart rule ------------------------------------------------------ */

START_TEST(test_restart_rule)
{
	struct harness h;
	mpmgr *m, *holder, *waiter, *party, *party2;

	jstart(&h, "always");
	m = harness_connect(&h);
	holder = harness_connect(&h);
	waiter = harness_connect(&h);
	party = harness_connect(&h);
	party2 = harness_connect(&h);
	ck_call_ok(m, "queue.create", "['qa', {'ack': true}]", "nil");
	ck_call_ok(m, "queue.put_many", "['qa', [1, 2, 3, 4, 5, 6]]", "nil");
	/* leased: 1 and 3 to holder, 2 to waiter, 4 to m, which gives it
	 * back by task_done */
	ck_call_ok(holder, "queue.get", "['qa', 0]", "1");
	ck_call_ok(waiter, "queue.get", "['qa', 0]", "2");
	ck_call_ok(holder, "queue.get", "['qa', 0]", "3");
	ck_call_ok(m, "queue.get", "['qa', 0]", "4");
	ck_call_ok(m, "queue.task_done", "['qa']", "nil");
	ck_call_ok(holder, "lock.acquire", "['k', 0]", "true");
	ck_call_ok(m, "lock.create", "['kr', {'release_on_disconnect': "
	    "false}]", "nil");
	ck_call_ok(holder, "lock.acquire", "['kr', 0]", "true");
	ck_call_ok(holder, "rlock.acquire", "['rk', 0]", "true");
	ck_call_ok(m, "semaphore.create", "['s', {'value': 3}]", "nil");
	ck_call_ok(holder, "semaphore.acquire", "['s', 0]", "true");
	ck_call_ok(holder, "semaphore.acquire", "['s', 0]", "true");
	ck_call_ok(m, "semaphore.create", "['sr', {'value': 3, "
	    "'release_on_disconnect': false}]", "nil");
	ck_call_ok(holder, "semaphore.acquire", "['sr', 0]", "true");
	ck_call_ok(m, "semaphore.release", "['sig']", "nil");
	ck_call_ok(m, "barrier.create", "['b', {'parties': 3}]", "nil");
	ck_call_ok(m, "dict.create", "['eph', {'ephemeral': true}]", "nil");
	ck_call_ok(m, "dict.set", "['eph', 1, 1]", "nil");
	/* a process running under holder, one that exited; a pipe; a queue
	 * shut down */
	ck_call_ok(holder, "process.register", "['pr', {'pid': 4242, "
	    "'argv': ['sleep', '9']}]", "nil");
	ck_call_ok(holder, "process.register", "['pe', {'pid': 4243, "
	    "'argv': ['true']}]", "nil");
	ck_call_ok(holder, "process.exited", "['pe', 7]", "nil");
	ck_call_ok(holder, "pipe.open", "['pp', 0]", "nil");
	ck_call_ok(holder, "pipe.send", "['pp', 0, 'hello']", "nil");
	ck_call_ok(m, "queue.put_many", "['qs', [1, 2]]", "nil");
	ck_call_ok(m, "queue.shutdown", "['qs']", "nil");
	/* parked: a get on a missing queue, a barrier party */
	harness_send(waiter, "queue.get", "['pq']");
	harness_send(party, "barrier.wait", "['b']");
	harness_await_waiters(m, "pq", 1);
	harness_await_waiters(m, "b", 1);
	harness_send(party2, "process.join", "['pr']");
	harness_await_waiters(m, "pr", 1);
	ck_assert_uint_eq(harness_stat(m, "waiters"), 3);

	harness_kill(&h);
	mpmgr_free(m);
	mpmgr_free(holder);
	mpmgr_free(waiter);
	mpmgr_free(party);
	mpmgr_free(party2);
	harness_restart(&h, jargs(&h, "always", NULL));
	m = harness_connect(&h);
	/* leases back at the head, the oldest connection's first, each in
	 * the order it got them */
	ck_call_ok(m, "queue.get_many", "['qa', 10, 0]", "[1, 3, 2, 5, 6]");
	/* locks released but the one that outlives its holder */
	ck_call_ok(m, "lock.locked", "['k']", "false");
	ck_call_ok(m, "rlock.locked", "['rk']", "false");
	ck_call_err(m, "obj.info", "['k']", MPMGR_ENOOBJ);
	ck_call_ok(m, "lock.locked", "['kr']", "true");
	/* permits given back, but not the one taken for good; a signal kept */
	ck_call_ok(m, "semaphore.value", "['s']", "3");
	ck_call_ok(m, "semaphore.value", "['sr']", "2");
	ck_call_ok(m, "semaphore.value", "['sig']", "2");
	/* a fresh barrier, no waiter anywhere, no ephemeral object */
	ck_call_ok(m, "barrier.n_waiting", "['b']", "0");
	ck_call_ok(m, "barrier.broken", "['b']", "false");
	ck_assert_uint_eq(harness_stat(m, "waiters"), 0);
	ck_call_err(m, "obj.info", "['pq']", MPMGR_ENOOBJ);
	ck_call_err(m, "obj.info", "['eph']", MPMGR_ENOOBJ);
	/* the running process lost, what is known of it kept; the exited
	 * one as it was; no pipe; the queue still shut down */
	ck_call_ok(m, "process.is_alive", "['pr']", "false");
	ck_call_err(m, "process.join", "['pr', 0]", MPMGR_ELOST);
	{
		msgpack_object res;
		const msgpack_object *f;

		ck_assert_int_eq(harness_call(m, "process.info", "['pr']", &res),
		    0);
		ck_assert((f = harness_map_get(&res, "state")) != NULL &&
		    harness_obj_eq(*f, "'lost'"));
		ck_assert((f = harness_map_get(&res, "argv")) != NULL &&
		    harness_obj_eq(*f, "['sleep', '9']"));
		ck_assert((f = harness_map_get(&res, "pid")) != NULL &&
		    harness_obj_eq(*f, "4242"));
	}
	ck_call_ok(m, "process.join", "['pe', 0]", "7");
	ck_call_err(m, "obj.info", "['pp']", MPMGR_ENOOBJ);
	ck_call_err(m, "queue.put", "['qs', 3, 0]", MPMGR_ESHUTDOWN);
	ck_call_ok(m, "queue.get_many", "['qs', 5, 0]", "[1, 2]");
	ck_call_err(m, "queue.get", "['qs', 0]", MPMGR_ESHUTDOWN);
	mpmgr_free(m);
	/* and the lost one stays so at the next restart, after a compaction */
	harness_kill(&h);
	harness_restart(&h, jargs(&h, "always", NULL));
	m = harness_connect(&h);
	ck_call_ok(m, "sys.save", "[]", "nil");
	mpmgr_free(m);
	harness_kill(&h);
	harness_restart(&h, jargs(&h, "always", NULL));
	m = harness_connect(&h);
	ck_call_err(m, "process.join", "['pr', 0]", MPMGR_ELOST);
	ck_call_ok(m, "process.join", "['pe', 0]", "7");
	ck_call_err(m, "queue.put", "['qs', 3, 0]", MPMGR_ESHUTDOWN);
	mpmgr_free(m);
	ck_assert(harness_stop(&h));
}
END_TEST

/* --- differential: a restart against everyone leaving ---------------------- */

/*
 * The same random requests, one at a time from the same connections, go
 * to a daemon with a journal and to one without; both must answer alike.
 * Then some connections park; the first daemon is killed (kill -9) and
 * started again, while the second's connections close, newest first
 * (as a restart closes its ghosts), and its barriers are reset (a restart
 * resets them): every object of the two must be the same, queues' items
 * included, in order.
 */
#define DIFF_CONNS 5

static uint64_t diff_rng;

static uint64_t
diff_rnd(uint64_t n)
{
	diff_rng ^= diff_rng << 13;
	diff_rng ^= diff_rng >> 7;
	diff_rng ^= diff_rng << 17;
	return diff_rng % n;
}

/* A name for type prefix c: mostly its own, at times one every type
 * shares (WRONGTYPE then). */
static const char *
diff_name(char *b, size_t len, char c)
{
	if (diff_rnd(8) == 0)
		snprintf(b, len, "x");
	else
		snprintf(b, len, "%c%llu", c,
		    (unsigned long long)diff_rnd(3));
	return b;
}

static const char *
diff_value(char *b, size_t len)
{
	switch (diff_rnd(7)) {
	case 0: return "nil";
	case 1: return "1.5";
	case 2: return "'s'";
	case 3: return "[1, 'two']";
	case 4: return "{'k': b'\\x00\\xff'}";
	default:
		snprintf(b, len, "%lld", (long long)diff_rnd(9) - 4);
		return b;
	}
}

/* One random request that never parks: method and params. */
static const char *
diff_request(char *p, size_t len)
{
	char n[16], v1[32], v2[32];
	int i = (int)diff_rnd(7) - 3;

#define P(...) snprintf(p, len, __VA_ARGS__)
	switch (diff_rnd(45)) {
	case 0: P("['%s', %s, %s]", diff_name(n, 16, 'd'),
	    diff_value(v1, 32), diff_value(v2, 32)); return "dict.set";
	case 1: P("['%s', %d]", diff_name(n, 16, 'd'), i); return "dict.pop";
	case 2: P("['%s']", diff_name(n, 16, 'd')); return "dict.popitem";
	case 3: P("['%s', %d, %s]", diff_name(n, 16, 'd'), i,
	    diff_rnd(2) ? "1" : "0.5"); return "dict.incr";
	case 4: P("['%s', {%d: %s, 'z': 2}]", diff_name(n, 16, 'd'), i,
	    diff_value(v1, 32)); return "dict.update";
	case 5: P("['%s']", diff_name(n, 16, 'd')); return "dict.clear";
	case 6: P("['%s', 1, %s, 5]", diff_name(n, 16, 'd'),
	    diff_value(v1, 32)); return "dict.cas";
	case 7: P("['%s', %d, 7]", diff_name(n, 16, 'd'), i);
	    return "dict.setdefault";
	case 8: P("['%s', %s]", diff_name(n, 16, 'v'), diff_value(v1, 32));
	    return "value.set";
	case 9: P("['%s']", diff_name(n, 16, 'v')); return "value.incr";
	case 10: P("['%s', %s]", diff_name(n, 16, 'l'), diff_value(v1, 32));
	    return "list.append";
	case 11: P("['%s', %d, %s]", diff_name(n, 16, 'l'), i,
	    diff_value(v1, 32)); return "list.insert";
	case 12: P("['%s', %d]", diff_name(n, 16, 'l'), i); return "list.pop";
	case 13: P("['%s', %s]", diff_name(n, 16, 'l'), diff_value(v1, 32));
	    return "list.remove";
	case 14: P("['%s', %s]", diff_name(n, 16, 'l'), diff_rnd(2) ? "true" :
	    "false"); return "list.sort";
	case 15: P("['%s']", diff_name(n, 16, 'l')); return "list.reverse";
	case 16: P("['%s', %d, 7]", diff_name(n, 16, 'l'), i);
	    return "list.set";
	case 17: P("['%s', [3, 1, 2]]", diff_name(n, 16, 'l'));
	    return "list.extend";
	case 18: P("['%s', {'typecode': 'h', 'length': 5}]",
	    diff_name(n, 16, 'a')); return "array.create";
	case 19: P("['%s', %d, %d]", diff_name(n, 16, 'a'), i, i * 100);
	    return "array.set";
	case 20: P("['%s', %s, 0]", diff_name(n, 16, 'q'), diff_value(v1, 32));
	    return "queue.put";
	case 21: P("['%s', [1, 2, 3], 0]", diff_name(n, 16, 'q'));
	    return "queue.put_many";
	case 22: P("['%s', 0]", diff_name(n, 16, 'q')); return "queue.get";
	case 23: P("['%s', 2, 0]", diff_name(n, 16, 'q'));
	    return "queue.get_many";
	case 24: P("['%s']", diff_name(n, 16, 'q')); return "queue.task_done";
	case 25: P("['%s', {'ack': %s, 'maxsize': 6}]", diff_name(n, 16, 'q'),
	    diff_rnd(2) ? "true" : "false"); return "queue.create";
	case 26: P("['%s']", diff_name(n, 16, 'e')); return diff_rnd(2) ?
	    "event.set" : "event.clear";
	case 27: P("['%s', 0]", diff_name(n, 16, 'k')); return "lock.acquire";
	case 28: P("['%s']", diff_name(n, 16, 'k')); return "lock.release";
	case 29: P("['%s', {'release_on_disconnect': false}]",
	    diff_name(n, 16, 'k')); return "lock.create";
	case 30: P("['%s', 0]", diff_name(n, 16, 'r')); return "rlock.acquire";
	case 31: P("['%s']", diff_name(n, 16, 'r')); return "rlock.release";
	case 32: P("['%s', 0]", diff_name(n, 16, 's'));
	    return "semaphore.acquire";
	case 33: P("['%s', %llu]", diff_name(n, 16, 's'),
	    (unsigned long long)diff_rnd(3) + 1); return "semaphore.release";
	case 34: P("['%s', {'value': 2, 'bounded': %s, "
	    "'release_on_disconnect': %s}]", diff_name(n, 16, 's'),
	    diff_rnd(2) ? "true" : "false", diff_rnd(2) ? "true" : "false");
	    return "semaphore.create";
	case 35: P("['%s', 0]", diff_name(n, 16, 'c'));
	    return "condition.acquire";
	case 36: P("['%s', 0]", diff_name(n, 16, 'c')); return "condition.wait";
	case 37: P("['%s']", diff_name(n, 16, 'c')); return "condition.notify";
	case 38: P("['%s', {'release_on_disconnect': false}]",
	    diff_name(n, 16, 'c')); return "condition.create";
	case 39: P("['%s', {'parties': 2}]", diff_name(n, 16, 'b'));
	    return "barrier.create";
	case 40: P("['%s', {'ephemeral': true}]", diff_name(n, 16, 'd'));
	    return "dict.create";
	case 41: P("['%s', %s]", diff_name(n, 16, 'q'), diff_rnd(2) ? "true" :
	    "false"); return "queue.shutdown";
	case 42: P("['%s', {'pid': %d, 'argv': ['x', '%d']}]",
	    diff_name(n, 16, 'p'), i + 10, i); return "process.register";
	case 43: P("['%s', %d]", diff_name(n, 16, 'p'), i); return
	    "process.exited";
	default: P("['%s']", diff_name(n, 16, "dvlaqekrscbp"[diff_rnd(12)]));
	    return "obj.delete";
	}
#undef P
}

/* One request that may park (no timeout). */
static const char *
diff_park(char *p, size_t len)
{
	static const char *const parks[][2] = {
		{ "queue.get", "q" }, { "lock.acquire", "k" },
		{ "rlock.acquire", "r" }, { "semaphore.acquire", "s" },
		{ "event.wait", "e" }, { "barrier.wait", "b" },
		{ "condition.wait", "c" }, { "process.join", "p" },
	};
	const char *const *k = parks[diff_rnd(sizeof parks / sizeof parks[0])];
	char n[16];

	snprintf(p, len, "['%s']", diff_name(n, sizeof n, k[1][0]));
	return k[0];
}

/* The answer to a call as text. */
static void
diff_answer(mpmgr *m, const char *method, const char *p, char *b,
    size_t len)
{
	msgpack_object res;

	if (harness_call(m, method, p, &res) == 0)
		harness_obj_str(res, b, len);
	else
		snprintf(b, len, "!%s", mpmgr_errcode(m));
}

/* Wait until the daemon has taken n requests more than when base was
 * read (by the call on ctl just before), parked or answered. */
static void
diff_await_ops(mpmgr *ctl, uint64_t base, uint64_t n)
{
	uint64_t i;

	for (i = 1; harness_stat(ctl, "ops") - base - i < n; i++) {
		ck_assert_msg(i < HARNESS_DEADLINE_MS / 5, "requests not taken");
		harness_nap(5);
	}
}

START_TEST(test_differential)
{
	struct harness h[2];
	mpmgr *ctl[2], *c[2][DIFF_CONNS];
	char p[256], a[2][4096], n[8];
	char *before, *after;
	uint64_t seed = (uint64_t)getpid() * 0x9e3779b97f4a7c15ull + 1;
	uint64_t base[2], sent;
	int round, i, k, d;

	jstart(&h[0], "always");
	harness_prepare(&h[1], NULL);
	harness_restart(&h[1], NULL);
	for (round = 0; round < 4; round++) {
		diff_rng = seed + (uint64_t)round;
		for (d = 0; d < 2; d++) {
			ctl[d] = harness_connect(&h[d]);
			for (k = 0; k < DIFF_CONNS; k++)
				c[d][k] = harness_connect(&h[d]);
		}
		for (i = 0; i < 1500; i++) {
			const char *meth = diff_request(p, sizeof p);

			k = (int)diff_rnd(DIFF_CONNS);
			for (d = 0; d < 2; d++)
				diff_answer(c[d][k], meth, p, a[d], sizeof a[d]);
			ck_assert_msg(strcmp(a[0], a[1]) == 0, "seed %llu round "
			    "%d request %d: %s %s: %s with a journal, %s "
			    "without", (unsigned long long)seed, round, i, meth,
			    p, a[0], a[1]);
		}
		/* some park: every waiter of before goes */
		for (d = 0; d < 2; d++)
			base[d] = harness_stat(ctl[d], "ops");
		sent = 0;
		for (k = 0; k < DIFF_CONNS; k++) {
			const char *meth;

			if (diff_rnd(4) == 0)
				continue;
			meth = diff_park(p, sizeof p);
			for (d = 0; d < 2; d++)
				harness_send(c[d][k], meth, p);
			sent++;
		}
		for (d = 0; d < 2; d++)
			diff_await_ops(ctl[d], base[d], sent);
		ck_assert_uint_eq(harness_stat(ctl[0], "waiters"),
		    harness_stat(ctl[1], "waiters"));

		harness_kill(&h[0]);
		harness_restart(&h[0], jargs(&h[0], "always", NULL));
		for (k = DIFF_CONNS - 1; k >= 0; k--) {
			mpmgr_free(c[1][k]);
			for (i = 0; harness_stat(ctl[1], "clients") > 1 +
			    (uint64_t)k; i++) {
				ck_assert_msg(i < HARNESS_DEADLINE_MS / 5,
				    "a close not seen");
				harness_nap(5);
			}
			mpmgr_free(c[0][k]);
		}
		for (i = 0; i < 3; i++) {
			snprintf(n, sizeof n, "['b%d']", i);
			diff_answer(ctl[1], "barrier.reset", n, a[1],
			    sizeof a[1]);
		}
		diff_answer(ctl[1], "barrier.reset", "['x']", a[1], sizeof a[1]);
		mpmgr_free(ctl[0]);
		ctl[0] = harness_connect(&h[0]);
		ck_assert_uint_eq(harness_stat(ctl[0], "waiters"), 0);
		ck_assert_uint_eq(harness_stat(ctl[1], "waiters"), 0);
		after = snapshot(ctl[0], true);
		before = snapshot(ctl[1], true);
		ck_assert_msg(strcmp(before, after) == 0, "seed %llu round %d: "
		    "after the restart:\n%s\nafter every client left:\n%s",
		    (unsigned long long)seed, round, after, before);
		ck_assert_ptr_nonnull(strstr(after, "queue"));
		free(before);
		free(after);
		for (d = 0; d < 2; d++)
			mpmgr_free(ctl[d]);
	}
	ck_assert(harness_stop(&h[0]));
	ck_assert(harness_stop(&h[1]));
}
END_TEST

/* --- crashes ------------------------------------------------------------- */

/* What the writer has had acknowledged: it writes this after each reply. */
struct acked {
	int64_t sets;             /* dict.set w<r> i i, i = 1, 2... */
	int64_t puts;             /* queue.put q<r> i */
	int64_t incrs;            /* value.incr c<r> */
};

static int ack_pipe[2];

/* The writer of round arg: batches of 8 pipelined writes until the
 * daemon dies. */
static int
writer(mpmgr *m, int round)
{
	struct acked a = { 0, 0, 0 };
	char p[3][64];
	msgpack_object res;
	int k, kind[8];
	int64_t next_set = 1, next_put = 1;

	close(ack_pipe[0]);
	for (;;) {
		for (k = 0; k < 8; k++) {
			kind[k] = k % 4 == 3 ? 2 : k % 4 == 2 ? 1 : 0;
			if (kind[k] == 0) {
				snprintf(p[0], sizeof p[0], "['w%d', %lld, %lld]",
				    round, (long long)next_set,
				    (long long)next_set);
				next_set++;
				harness_request(m, "dict.set", p[0]);
			} else if (kind[k] == 1) {
				snprintf(p[1], sizeof p[1], "['q%d', %lld]",
				    round, (long long)next_put++);
				harness_request(m, "queue.put", p[1]);
			} else {
				snprintf(p[2], sizeof p[2], "['c%d']", round);
				harness_request(m, "value.incr", p[2]);
			}
		}
		if (mpmgr_flush(m) != 0)
			return 0;
		for (k = 0; k < 8; k++) {
			if (mpmgr_reply(m, &res) != 0)
				return 0;
			if (kind[k] == 0)
				a.sets++;
			else if (kind[k] == 1)
				a.puts++;
			else
				a.incrs++;
			if (write(ack_pipe[1], &a, sizeof a) != sizeof a)
				return 1;
		}
	}
}

/* Read what the writer reports until it has n sets acknowledged (or it
 * ended: false). */
static bool
await_acked(struct acked *a, int64_t n)
{
	struct pollfd pfd = { .fd = ack_pipe[0], .events = POLLIN };
	int64_t deadline = harness_now_ms() + HARNESS_DEADLINE_MS;
	ssize_t r;

	while (a->sets < n) {
		if (poll(&pfd, 1, (int)(deadline - harness_now_ms())) != 1)
			return false;
		r = read(ack_pipe[0], a, sizeof *a);
		if (r == 0)
			return false;
		ck_assert_int_eq(r, sizeof *a);
	}
	return true;
}

/* What it reported last, once it has ended. */
static void
drain_acked(struct acked *a)
{
	ssize_t r;

	while ((r = read(ack_pipe[0], a, sizeof *a)) == sizeof *a)
		;
	ck_assert_int_eq(r, 0);
}

/* Round r's acknowledged writes are all in the daemon m talks to. */
static void
check_round(mpmgr *m, int r, const struct acked *a)
{
	msgpack_object res;
	char p[64];

	if (a->sets > 0) {
		snprintf(p, sizeof p, "['w%d', %lld]", r, (long long)a->sets);
		ck_assert_msg(harness_call(m, "dict.get", p, &res) == 0,
		    "round %d: acknowledged set %lld is lost", r,
		    (long long)a->sets);
		snprintf(p, sizeof p, "['w%d']", r);
		ck_assert_int_eq(harness_call(m, "dict.len", p, &res), 0);
		ck_assert_int_ge(res.via.u64, a->sets);
	}
	snprintf(p, sizeof p, "['q%d']", r);
	ck_assert_int_eq(harness_call(m, "queue.qsize", p, &res), 0);
	ck_assert_msg((int64_t)res.via.u64 >= a->puts, "round %d: %llu "
	    "items, %lld acknowledged", r, (unsigned long long)res.via.u64,
	    (long long)a->puts);
	snprintf(p, sizeof p, "['c%d']", r);
	ck_assert_int_eq(harness_call(m, "value.get", p, &res), 0);
	ck_assert_msg(a->incrs == 0 || (int64_t)res.via.u64 >= a->incrs,
	    "round %d: counter at %llu, %lld incrs acknowledged", r,
	    (unsigned long long)res.via.u64, (long long)a->incrs);
}

static void
crash_rounds(const char *fsync, int rounds)
{
	struct acked all[32];
	struct harness h;
	mpmgr *m;
	pid_t pid;
	int r, st;
	uint64_t seed = (uint64_t)getpid() * 2654435761u;

	ck_assert_int_le(rounds, 32);
	jstart(&h, fsync);
	for (r = 0; r < rounds; r++) {
		memset(&all[r], 0, sizeof all[r]);
		ck_assert(pipe(ack_pipe) == 0);
		pid = harness_spawn(&h, writer, r);
		close(ack_pipe[1]);
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		/* a random moment: after 1 to 400 acknowledged sets */
		ck_assert_msg(await_acked(&all[r], 1 + (int64_t)(seed >> 33) %
		    400), "round %d: the writer stopped", r);
		harness_kill(&h);
		ck_assert(waitpid(pid, &st, 0) == pid);
		ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		    "round %d: writer status %d", r, st);
		drain_acked(&all[r]);
		close(ack_pipe[0]);
		harness_restart(&h, jargs(&h, fsync, NULL));
		m = harness_connect(&h);
		check_round(m, r, &all[r]);
		mpmgr_free(m);
	}
	/* every round's writes, still there at the end */
	m = harness_connect(&h);
	for (r = 0; r < rounds; r++)
		check_round(m, r, &all[r]);
	mpmgr_free(m);
	ck_assert(harness_stop(&h));
}

START_TEST(test_crash_always)
{
	crash_rounds("always", 20);
}
END_TEST

START_TEST(test_crash_everysec)
{
	crash_rounds("everysec", 5);
}
END_TEST

/* A writer that goes on until it is killed. */
static int
busy_writer(mpmgr *m, int arg)
{
	msgpack_object res;
	char p[64];
	int64_t i;
	int b;

	for (i = 0;; i += 16) {
		for (b = 0; b < 16; b++) {
			snprintf(p, sizeof p, "['busy', %lld, %lld]",
			    (long long)(i + b) % 5000, (long long)i);
			harness_request(m, "dict.set", p);
		}
		for (b = 0; b < 16; b++)
			if (mpmgr_reply(m, &res) != 0)
				return 1;
	}
}

/* n dict.set one after the other, each waiting for its reply. */
static int
steady_writer(mpmgr *m, int n)
{
	char p[64];
	int i;

	for (i = 0; i < n; i++) {
		snprintf(p, sizeof p, "['steady', '%d.%d', %d]",
		    (int)getpid(), i, i);
		if (harness_call(m, "dict.set", p, NULL) != 0)
			return 1;
	}
	return 0;
}

/*
 * always: a reply comes only after a sync that covers its record, so a
 * client that waits for each reply sees a sync per write; the syncs that
 * gather many clients' writes (journal_gather) give every one of them
 * its reply, also when fewer clients come back than the last sync
 * answered (the gathering then ends on its time bound).
 */
START_TEST(test_always_syncs)
{
	struct harness h;
	mpmgr *m;
	uint64_t syncs, records;
	pid_t pids[20];
	int i, st;

	jstart(&h, "always");
	m = harness_connect(&h);
	syncs = harness_stat(m, "journal_syncs");
	records = harness_stat(m, "journal_records");
	ck_assert_int_eq(steady_writer(m, 50), 0);
	ck_assert_uint_eq(harness_stat(m, "journal_records") - records, 50);
	ck_assert_uint_ge(harness_stat(m, "journal_syncs") - syncs, 50);
	/* twenty clients at once, then one alone */
	for (i = 0; i < 20; i++)
		pids[i] = harness_spawn(&h, steady_writer, 200);
	for (i = 0; i < 20; i++) {
		ck_assert_int_eq(waitpid(pids[i], &st, 0), pids[i]);
		ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		    "writer %d: status %d", i, st);
	}
	records = harness_stat(m, "journal_records");
	syncs = harness_stat(m, "journal_syncs");
	ck_assert_int_eq(steady_writer(m, 20), 0);
	ck_assert_uint_eq(harness_stat(m, "journal_records") - records, 20);
	ck_assert_uint_ge(harness_stat(m, "journal_syncs") - syncs, 20);
	ck_call_ok(m, "dict.len", "['steady']", "4050");
	mpmgr_free(m);
	ck_assert(harness_stop(&h));
}
END_TEST

/*
 * everysec: what is written is synced by the thread within about a
 * second while writes go on (so an OS crash loses about the last second
 * at most), and all of it once they stop (polled, never timed).
 */
START_TEST(test_everysec_syncs)
{
	struct harness h;
	mpmgr *m;
	uint64_t w;
	pid_t pid;
	char p[64];
	int i, r, st;

	jstart(&h, "everysec");
	m = harness_connect(&h);
	for (i = 0; i < 200; i++) {
		snprintf(p, sizeof p, "['d', %d, %d]", i, i);
		ck_call_ok(m, "dict.set", p, "nil");
	}
	ck_assert_uint_ge(harness_stat(m, "journal_written"), 200 * 10);
	for (i = 0; harness_stat(m, "journal_synced") !=
	    harness_stat(m, "journal_written"); i++) {
		ck_assert_msg(i < HARNESS_DEADLINE_MS / 10, "not synced");
		harness_nap(10);
	}
	/* with a writer that never pauses: what was written at one moment
	 * is synced later, while it still writes */
	pid = harness_spawn(&h, busy_writer, 0);
	for (r = 0; r < 3; r++) {
		w = harness_stat(m, "journal_written");
		for (i = 0; harness_stat(m, "journal_synced") < w ||
		    harness_stat(m, "journal_written") == w; i++) {
			ck_assert_msg(i < HARNESS_DEADLINE_MS / 10,
			    "%llu bytes written, not synced while writes go "
			    "on", (unsigned long long)w);
			harness_nap(10);
		}
	}
	ck_assert_int_eq(waitpid(pid, &st, WNOHANG), 0);
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	mpmgr_free(m);
	ck_assert(harness_stop(&h));
}
END_TEST

/* --- torn and corrupt files ---------------------------------------------- */

/* The incr file with the highest number in the data directory. */
static void
last_incr(char *path, size_t len)
{
	struct dirent *e;
	unsigned long best = 0, n;
	bool found = false;
	DIR *d = opendir(datadir);

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL) {
		if (sscanf(e->d_name, "journal.%lu.incr", &n) == 1 &&
		    strstr(e->d_name, "broken") == NULL &&
		    (!found || n > best)) {
			best = n;
			found = true;
		}
	}
	closedir(d);
	ck_assert(found);
	snprintf(path, len, "%s/journal.%lu.incr", datadir, best);
}

static off_t
file_size(const char *path)
{
	struct stat st;

	ck_assert_int_eq(stat(path, &st), 0);
	return st.st_size;
}

/* The number of files in the data directory whose name holds s. */
static int
count_files(const char *s)
{
	struct dirent *e;
	int n = 0;
	DIR *d = opendir(datadir);

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL)
		n += strstr(e->d_name, s) != NULL;
	closedir(d);
	return n;
}

static bool
log_has(const struct harness *h, const char *s)
{
	char b[65536];
	ssize_t n;
	int fd = open(harness_log(h), O_RDONLY);

	if (fd == -1)
		return false;
	n = read(fd, b, sizeof b - 1);
	close(fd);
	b[n > 0 ? n : 0] = '\0';
	return strstr(b, s) != NULL;
}

/* Run mpmgrd in h's directory with a (NULL-ended) and wait for it to
 * exit by itself: its exit status. */
static int
run_to_exit(struct harness *h, const char *const *a)
{
	const char *argv[24];
	int n = 0, st;

	argv[n++] = harness_mpmgrd();
	argv[n++] = "--socket";
	argv[n++] = h->sock;
	argv[n++] = "--authkey-file";
	argv[n++] = h->keyfile;
	while (*a != NULL && n < 23)
		argv[n++] = *a++;
	argv[n] = NULL;
	h->pid = fork();
	ck_assert(h->pid != -1);
	if (h->pid == 0) {
		harness_exec_prepare(h);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	st = harness_wait_exit(h, HARNESS_DEADLINE_MS);
	ck_assert_msg(st != -1, "mpmgrd did not exit");
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* The offset of record n (from 0) of a journal file. */
static off_t
record_offset(const char *path, int n)
{
	unsigned char hd[4];
	off_t off = 16;
	int fd = open(path, O_RDONLY);

	ck_assert_int_ne(fd, -1);
	while (n-- > 0) {
		ck_assert_int_eq(pread(fd, hd, 4, off), 4);
		off += 8 + (hd[0] | hd[1] << 8 | hd[2] << 16 |
		    (off_t)hd[3] << 24);
	}
	close(fd);
	return off;
}

START_TEST(test_torn_and_corrupt)
{
	static const char zeros[64];
	struct harness h;
	mpmgr *m;
	char path[400], p[64];
	off_t size;
	int i, fd;

	jstart(&h, "always");
	m = harness_connect(&h);
	for (i = 1; i <= 100; i++) {
		snprintf(p, sizeof p, "['t', %d, %d]", i, i);
		ck_call_ok(m, "dict.set", p, "nil");
	}
	mpmgr_free(m);
	ck_assert(harness_stop_keep(&h));

	/* the last record cut short: dropped, with a warning */
	last_incr(path, sizeof path);
	size = file_size(path);
	ck_assert_int_eq(truncate(path, size - 3), 0);
	harness_restart(&h, jargs(&h, "always", NULL));
	ck_assert(log_has(&h, "cut short by a crash"));
	m = harness_connect(&h);
	ck_call_ok(m, "dict.len", "['t']", "99");
	ck_call_err(m, "dict.get", "['t', 100]", MPMGR_ENOKEY);
	ck_call_ok(m, "dict.get", "['t', 99]", "99");
	mpmgr_free(m);
	ck_assert(harness_stop_keep(&h));
	/* and cut off the file, which goes on whole */
	ck_assert_int_lt(file_size(path), size);

	/* zeros after the last record (a file extended, never written) */
	size = file_size(path);
	fd = open(path, O_WRONLY | O_APPEND);
	ck_assert_int_eq(write(fd, zeros, sizeof zeros), sizeof zeros);
	close(fd);
	harness_restart(&h, jargs(&h, "always", NULL));
	m = harness_connect(&h);
	ck_call_ok(m, "dict.len", "['t']", "99");
	ck_call_ok(m, "dict.set", "['t', 'after', 1]", "nil");
	mpmgr_free(m);
	ck_assert(harness_stop_keep(&h));
	ck_assert_int_gt(file_size(path), size);

	/* a CRC mismatch in record 50 of 100: refused, naming the offset */
	fd = open(path, O_WRONLY);
	{
		off_t off = record_offset(path, 49) + 12;

		ck_assert_int_eq(pwrite(fd, "\xff", 1, off), 1);
		snprintf(p, sizeof p, "offset %lld", (long long)off - 12);
	}
	close(fd);
	ck_assert_int_eq(run_to_exit(&h, jargs(&h, "always", NULL)), 1);
	ck_assert(log_has(&h, "CRC mismatch"));
	ck_assert(log_has(&h, p));
	ck_assert(log_has(&h, "--repair"));
	/* --repair: a copy kept, the file cut there, then it starts */
	ck_assert_int_eq(count_files("broken"), 0);
	ck_assert_int_eq(run_to_exit(&h, jargs(&h, "always", "--repair",
	    NULL)), 0);
	ck_assert_int_eq(count_files("broken"), 1);
	harness_restart(&h, jargs(&h, "always", NULL));
	m = harness_connect(&h);
	ck_call_ok(m, "dict.len", "['t']", "49");
	ck_call_ok(m, "dict.get", "['t', 49]", "49");
	mpmgr_free(m);
	/* nothing left to repair */
	ck_assert(harness_stop_keep(&h));
	ck_assert_int_eq(run_to_exit(&h, jargs(&h, "always", "--repair",
	    NULL)), 0);
	ck_assert(log_has(&h, "nothing to repair"));
	ck_assert_int_eq(count_files("broken"), 1);
	harness_restart(&h, jargs(&h, "always", NULL));
	ck_assert(harness_stop(&h));
}
END_TEST

/*
 * A pool across restarts: queued jobs, results until consumed, a running
 * job back at the head with its attempt counted, then (from a snapshot:
 * sys.save while it runs) failed past max attempts; closed stays closed.
 */
START_TEST(test_pool_restart)
{
	struct harness h;
	msgpack_object res;
	const msgpack_object *f;
	mpmgr *m, *w;

	jstart(&h, "always");
	m = harness_connect(&h);
	w = harness_connect(&h);
	ck_call_ok(m, "pool.create", "['pl', {'max_attempts': 2}]", "nil");
	ck_call_ok(m, "pool.submit", "['pl', 'a']", "1");
	ck_call_ok(m, "pool.submit", "['pl', 'b']", "2");
	ck_call_ok(m, "pool.submit", "['pl', [3, 'c']]", "3");
	ck_call_ok(m, "pool.submit", "['pl', 'd', {'key': 'kd'}]", "4");
	ck_call_ok(w, "pool.take", "['pl', 0]", "[1, 'a', 1]");
	ck_call_ok(w, "pool.done", "['pl', 1, {'r': 1}]", "nil");
	ck_call_ok(w, "pool.take", "['pl', 0]", "[2, 'b', 1]");
	ck_call_ok(w, "pool.fail", "['pl', 2, 'e2']", "nil");
	ck_call_ok(w, "pool.take", "['pl', 0]", "[3, [3, 'c'], 1]");
	harness_kill(&h);
	mpmgr_free(m);
	mpmgr_free(w);
	harness_restart(&h, jargs(&h, "always", NULL));
	m = harness_connect(&h);
	ck_assert_int_eq(harness_call(m, "pool.status", "['pl']", &res), 0);
	ck_assert((f = harness_map_get(&res, "queued")) != NULL &&
	    harness_obj_eq(*f, "2"));
	ck_assert((f = harness_map_get(&res, "running")) != NULL &&
	    harness_obj_eq(*f, "0"));
	ck_call_ok(m, "pool.result", "['pl', 1, true]", "['done', {'r': 1}]");
	ck_call_ok(m, "pool.result", "['pl', 2]", "['failed', 'e2']");
	ck_call_ok(m, "pool.submit", "['pl', 'x', {'key': 'kd'}]", "4");
	ck_call_ok(m, "pool.take", "['pl', 0]", "[3, [3, 'c'], 2]");
	ck_call_ok(m, "pool.close", "['pl']", "nil");
	ck_call_ok(m, "sys.save", "[]", "nil");
	harness_kill(&h);
	mpmgr_free(m);
	harness_restart(&h, jargs(&h, "always", NULL));
	m = harness_connect(&h);
	ck_call_ok(m, "pool.result", "['pl', 3]", "['failed', 'the worker "
	    "running job 3 died (its connection closed) on attempt 2 of 2']");
	ck_call_err(m, "pool.result", "['pl', 1]", MPMGR_ENOTFOUND);
	ck_call_ok(m, "pool.result", "['pl', 2, true]", "['failed', 'e2']");
	ck_call_err(m, "pool.submit", "['pl', 'y']", MPMGR_ESHUTDOWN);
	ck_call_ok(m, "pool.take", "['pl', 0]", "[4, 'd', 1]");
	ck_call_ok(m, "pool.done", "['pl', 4, 'r4']", "nil");
	ck_call_ok(m, "pool.join", "['pl', 0]", "true");
	mpmgr_free(m);
	ck_assert(harness_stop(&h));
}
END_TEST

/* --- compaction -------------------------------------------------------- */

static int
compact_writer(mpmgr *m, int k)
{
	msgpack_object res;
	char p[64];
	int i, b;

	for (i = 1; i <= 1600; i += 16) {
		for (b = 0; b < 16; b++) {
			snprintf(p, sizeof p, "['cw%d', %d, %d]", k, i + b,
			    i + b);
			harness_request(m, "dict.set", p);
			snprintf(p, sizeof p, "['c%c%d', %d]", b % 2 ? 'q' : 'l',
			    k, i + b);
			harness_request(m, b % 2 ? "queue.put" : "list.append",
			    p);
		}
		for (b = 0; b < 32; b++)
			CHILD_CHECK(m, mpmgr_reply(m, &res) == 0, 1);
		if (i % 160 == 1) {
			snprintf(p, sizeof p, "['cq%d', 0]", k);
			CHILD_CHECK(m, harness_call(m, "queue.get", p, &res) ==
			    0, 2);
		}
	}
	return 0;
}

START_TEST(test_compaction)
{
	struct harness h;
	mpmgr *m;
	pid_t pids[3];
	char *before, *after;
	int k;

	harness_prepare(&h, NULL);
	harness_restart(&h, jargs(&h, "no", "--compact-min", "4k",
	    "--compact-ratio", "1.5", NULL));
	m = harness_connect(&h);
	for (k = 0; k < 3; k++)
		pids[k] = harness_spawn(&h, compact_writer, k);
	/* forced ones while they write */
	for (k = 0; k < 3; k++)
		ck_call_ok(m, "sys.save", "[]", "nil");
	harness_reap(pids, 3, "writers");
	ck_call_ok(m, "sys.save", "[]", "nil");
	ck_assert_uint_ge(harness_stat(m, "compactions"), 4);
	ck_assert_int_eq(count_files(".base"), 1);
	ck_assert_int_eq(count_files(".tmp"), 0);
	before = snapshot(m, false);
	mpmgr_free(m);
	harness_kill(&h);
	harness_restart(&h, jargs(&h, "no", NULL));
	m = harness_connect(&h);
	after = snapshot(m, false);
	ck_same(before, after);
	ck_call_ok(m, "dict.len", "['cw2']", "1600");
	free(before);
	free(after);
	mpmgr_free(m);
	ck_assert(harness_stop(&h));
}
END_TEST

/* --- a journal that cannot be written ------------------------------------ */

START_TEST(test_write_failure)
{
	struct rlimit rl = { 256 * 1024, 256 * 1024 };
	const char *const *a;
	const char *argv[24];
	struct harness h;
	msgpack_object res;
	mpmgr *m;
	char p[1200];
	int n = 0, i, st;
	int64_t acked = 0;

	harness_prepare(&h, NULL);
	a = jargs(&h, "always", NULL);
	argv[n++] = harness_mpmgrd();
	argv[n++] = "--socket";
	argv[n++] = h.sock;
	argv[n++] = "--authkey-file";
	argv[n++] = h.keyfile;
	while (*a != NULL)
		argv[n++] = *a++;
	argv[n] = NULL;
	h.pid = fork();
	ck_assert(h.pid != -1);
	if (h.pid == 0) {
		harness_exec_prepare(&h);
		setrlimit(RLIMIT_FSIZE, &rl);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	ck_assert_int_eq(harness_await_ping(&h, h.keyfile), 0);
	m = harness_connect(&h);
	for (i = 1;; i++) {
		snprintf(p, sizeof p, "['f', %d, '%0*d']", i, 1000, i);
		if (harness_call(m, "dict.set", p, &res) != 0)
			break;
		acked = i;
	}
	mpmgr_free(m);
	st = harness_wait_exit(&h, HARNESS_DEADLINE_MS);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 1, "status %d", st);
	ck_assert(log_has(&h, "cannot write the journal"));
	ck_assert_int_gt(acked, 100);
	harness_restart(&h, jargs(&h, "always", NULL));
	m = harness_connect(&h);
	snprintf(p, sizeof p, "['f', %lld]", (long long)acked);
	ck_assert_int_eq(harness_call(m, "dict.get", p, &res), 0);
	mpmgr_free(m);
	ck_assert(harness_stop(&h));
}
END_TEST

/* --- the data directory -------------------------------------------------- */

START_TEST(test_data_dir)
{
	struct harness h, other;
	mpmgr *m;

	jstart(&h, "everysec");
	m = harness_connect(&h);
	ck_assert_uint_eq(harness_stat(m, "journal_records"), 0);
	ck_call_ok(m, "dict.set", "['d', 1, 1]", "nil");
	ck_assert_uint_eq(harness_stat(m, "journal_records"), 1);
	mpmgr_free(m);
	/* a second daemon on the same directory */
	harness_prepare(&other, NULL);
	{
		const char *a[] = { "--data-dir", datadir, NULL };

		ck_assert_int_eq(run_to_exit(&other, a), 1);
		ck_assert(log_has(&other, "another mpmgrd"));
	}
	other.status = 0;  /* it exited 1, as it should: no failure */
	ck_assert(harness_stop(&other));
	ck_assert(harness_stop_keep(&h));
	/* one others may write in */
	ck_assert_int_eq(chmod(datadir, 0777), 0);
	ck_assert_int_eq(run_to_exit(&h, jargs(&h, "everysec", NULL)), 1);
	ck_assert(log_has(&h, "writable by others"));
	ck_assert_int_eq(chmod(datadir, 0700), 0);
	/* made with its parents, 0700 */
	snprintf(datadir, sizeof datadir, "%s/a/b/c", h.dir);
	{
		const char *a[] = { "--data-dir", datadir, NULL };
		struct stat st;

		harness_restart(&h, a);
		ck_assert_int_eq(stat(datadir, &st), 0);
		ck_assert_int_eq(st.st_mode & 0777, 0700);
	}
	ck_assert(harness_stop_keep(&h));
	/* without --data-dir: memory only, and stats say so */
	harness_restart(&h, NULL);
	m = harness_connect(&h);
	ck_call_err(m, "sys.save", "[]", MPMGR_EBADARG);
	mpmgr_free(m);
	ck_assert(log_has(&h, "memory only"));
	ck_assert(harness_stop(&h));
}
END_TEST

static Suite *
journal_suite(void)
{
	Suite *s = suite_create("it_journal");
	TCase *tc;

	tc = harness_tcase(s, "restart", 120, NULL, NULL);
	tcase_add_test(tc, test_restart_keeps);
	tcase_add_test(tc, test_restart_rule);
	tcase_add_test(tc, test_pool_restart);
	tcase_add_test(tc, test_torn_and_corrupt);
	tcase_add_test(tc, test_data_dir);
	tcase_add_test(tc, test_differential);
	tc = harness_tcase(s, "crash", 300, NULL, NULL);
	tcase_add_test(tc, test_crash_always);
	tcase_add_test(tc, test_crash_everysec);
	tcase_add_test(tc, test_everysec_syncs);
	tcase_add_test(tc, test_always_syncs);
	tcase_add_test(tc, test_write_failure);
	tc = harness_tcase(s, "compaction", 300, NULL, NULL);
	tcase_add_test(tc, test_compaction);
	return s;
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	return harness_run(journal_suite());
}
