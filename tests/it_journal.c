/*
 * it_journal.c: a real mpmgrd with --data-dir, killed and started again.
 *
 * - A workload over every type, then kill -9: the restarted daemon has
 *   every object as it was (obj.info and contents, compared as text),
 *   and the queue's items in order (the test keeps its own model).
 * - The restart rule: leased ack items back at the head in order, held
 *   locks released (but one that outlives its holder), permits given
 *   back, barriers reset, parked waiters gone, ephemeral objects gone.
 * - Crashes: a writer pipelining writes keeps its own record of what was
 *   acknowledged; the daemon is killed with SIGKILL at random moments
 *   (after a random number of acknowledged writes, never a sleep), 20
 *   times with --fsync always and 5 with everysec: every acknowledged
 *   write is there after each restart. everysec's thread syncs all that
 *   was written.
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
 * far as reads show them (a queue: its size), by name.
 */
static char *
snapshot(mpmgr *m)
{
	static const char *const reads[][2] = {
		{ "dict", "dict.items" }, { "list", "list.copy" },
		{ "value", "value.get" }, { "array", "array.get" },
		{ "event", "event.is_set" }, { "semaphore", "semaphore.value" },
		{ "lock", "lock.locked" }, { "rlock", "rlock.locked" },
		{ "queue", "queue.qsize" }, { "barrier", "barrier.broken" },
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
	ck_call_ok(m, "dict.set", "['d', 'a', 1]", "null");
	ck_call_ok(m, "dict.update", "['d', {'b': [1, 2.5], 'c': {'x': null}}]",
	    "null");
	ck_call_ok(m, "dict.incr", "['d', 'n', 41]", "41");
	ck_call_ok(m, "dict.incr", "['d', 'n']", "42");
	ck_call_ok(m, "dict.pop", "['d', 'a']", "1");
	ck_call_ok(m, "dict.set", "['d', x\"00ff\", ext(5, \"0102\")]", "null");
	ck_call_ok(m, "dict.create", "['d0']", "null");
	ck_call_ok(m, "value.set", "['v', 'hello']", "null");
	ck_call_ok(m, "value.create", "['vc', {'value': 3}]", "null");
	ck_call_ok(m, "value.incr", "['vc', 0.5]", "3.5");
	ck_call_ok(m, "list.extend", "['l', [5, 3, 9, 1]]", "null");
	ck_call_ok(m, "list.sort", "['l']", "null");
	ck_call_ok(m, "list.insert", "['l', 1, 'two']", "null");
	ck_call_ok(m, "list.remove", "['l', 9]", "null");
	ck_call_ok(m, "array.create", "['a', {'typecode': 'd', 'items': "
	    "[1, 2, 3]}]", "null");
	ck_call_ok(m, "array.set", "['a', 1, 0.25]", "null");
	ck_call_ok(m, "event.set", "['e']", "null");
	ck_call_ok(m, "event.create", "['e0']", "null");
	ck_call_ok(m, "barrier.create", "['b', {'parties': 4}]", "null");
	ck_call_ok(m, "semaphore.create", "['s', {'value': 5, 'bounded': "
	    "true}]", "null");
	ck_call_ok(m, "semaphore.acquire", "['s', 0]", "true");
	ck_call_ok(m, "lock.create", "['k', {'release_on_disconnect': "
	    "false}]", "null");
	ck_call_ok(m, "condition.create", "['c', {'lock': 'k'}]", "null");
	ck_call_ok(m, "queue.create", "['q', {'maxsize': 1000}]", "null");
	for (i = 0; i < 300; i++) {
		snprintf(params, sizeof params, "['q', {'n': %d}]", next++);
		ck_call_ok(m, "queue.put", params, "null");
		if (i % 3 == 2) {
			char want[64];

			snprintf(want, sizeof want, "{'n': %d}", head++);
			ck_call_ok(m, "queue.get", "['q', 0]", want);
		}
	}
	ck_call_ok(m, "dict.set", "['gone', 1, 1]", "null");
	ck_call_ok(m, "obj.delete", "['gone']", "null");
	mpmgr_free(m);
	m = harness_connect(&h);
	before = snapshot(m);
	mpmgr_free(m);

	harness_kill(&h);
	harness_restart(&h, jargs(&h, "everysec", NULL));
	m = harness_connect(&h);
	after = snapshot(m);
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
	before = snapshot(m);
	mpmgr_free(m);
	ck_assert(harness_stop_keep(&h));
	harness_restart(&h, jargs(&h, "everysec", NULL));
	m = harness_connect(&h);
	after = snapshot(m);
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
	mpmgr *m, *holder, *waiter, *party;

	jstart(&h, "always");
	m = harness_connect(&h);
	holder = harness_connect(&h);
	waiter = harness_connect(&h);
	party = harness_connect(&h);
	ck_call_ok(m, "queue.create", "['qa', {'ack': true}]", "null");
	ck_call_ok(m, "queue.put_many", "['qa', [1, 2, 3, 4, 5, 6]]", "null");
	/* leased: 1 and 3 to holder, 2 to waiter, 4 to m, which gives it
	 * back by task_done */
	ck_call_ok(holder, "queue.get", "['qa', 0]", "1");
	ck_call_ok(waiter, "queue.get", "['qa', 0]", "2");
	ck_call_ok(holder, "queue.get", "['qa', 0]", "3");
	ck_call_ok(m, "queue.get", "['qa', 0]", "4");
	ck_call_ok(m, "queue.task_done", "['qa']", "null");
	ck_call_ok(holder, "lock.acquire", "['k', 0]", "true");
	ck_call_ok(m, "lock.create", "['kr', {'release_on_disconnect': "
	    "false}]", "null");
	ck_call_ok(holder, "lock.acquire", "['kr', 0]", "true");
	ck_call_ok(holder, "rlock.acquire", "['rk', 0]", "true");
	ck_call_ok(m, "semaphore.create", "['s', {'value': 3}]", "null");
	ck_call_ok(holder, "semaphore.acquire", "['s', 0]", "true");
	ck_call_ok(holder, "semaphore.acquire", "['s', 0]", "true");
	ck_call_ok(m, "semaphore.create", "['sr', {'value': 3, "
	    "'release_on_disconnect': false}]", "null");
	ck_call_ok(holder, "semaphore.acquire", "['sr', 0]", "true");
	ck_call_ok(m, "semaphore.release", "['sig']", "null");
	ck_call_ok(m, "barrier.create", "['b', {'parties': 3}]", "null");
	ck_call_ok(m, "dict.create", "['eph', {'ephemeral': true}]", "null");
	ck_call_ok(m, "dict.set", "['eph', 1, 1]", "null");
	/* parked: a get on a missing queue, a barrier party */
	harness_send(waiter, "queue.get", "['pq']");
	harness_send(party, "barrier.wait", "['b']");
	harness_await_waiters(m, "pq", 1);
	harness_await_waiters(m, "b", 1);
	ck_assert_uint_eq(harness_stat(m, "waiters"), 2);

	harness_kill(&h);
	mpmgr_free(m);
	mpmgr_free(holder);
	mpmgr_free(waiter);
	mpmgr_free(party);
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
	mpmgr_free(m);
	ck_assert(harness_stop(&h));
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

/* everysec: what is written is synced by the thread within about a
 * second (polled, never timed). */
START_TEST(test_everysec_syncs)
{
	struct harness h;
	mpmgr *m;
	char p[64];
	int i;

	jstart(&h, "everysec");
	m = harness_connect(&h);
	for (i = 0; i < 200; i++) {
		snprintf(p, sizeof p, "['d', %d, %d]", i, i);
		ck_call_ok(m, "dict.set", p, "null");
	}
	ck_assert_uint_ge(harness_stat(m, "journal_written"), 200 * 10);
	for (i = 0; harness_stat(m, "journal_synced") !=
	    harness_stat(m, "journal_written"); i++) {
		ck_assert_msg(i < HARNESS_DEADLINE_MS / 10, "not synced");
		harness_nap(10);
	}
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
		ck_call_ok(m, "dict.set", p, "null");
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
	ck_call_ok(m, "dict.set", "['t', 'after', 1]", "null");
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
		ck_call_ok(m, "sys.save", "[]", "null");
	harness_reap(pids, 3, "writers");
	ck_call_ok(m, "sys.save", "[]", "null");
	ck_assert_uint_ge(harness_stat(m, "compactions"), 4);
	ck_assert_int_eq(count_files(".base"), 1);
	ck_assert_int_eq(count_files(".tmp"), 0);
	before = snapshot(m);
	mpmgr_free(m);
	harness_kill(&h);
	harness_restart(&h, jargs(&h, "no", NULL));
	m = harness_connect(&h);
	after = snapshot(m);
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
	ck_call_ok(m, "dict.set", "['d', 1, 1]", "null");
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
	tcase_add_test(tc, test_torn_and_corrupt);
	tcase_add_test(tc, test_data_dir);
	tc = harness_tcase(s, "crash", 300, NULL, NULL);
	tcase_add_test(tc, test_crash_always);
	tcase_add_test(tc, test_crash_everysec);
	tcase_add_test(tc, test_everysec_syncs);
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
