/*
 * unit_journal.c: the journal without a daemon or a file.
 *
 * A restart, differentially: each test forks a replayer first, while the
 * registry is still empty (as a daemon that starts), then runs requests
 * through dispatch with every record captured; it then closes its fake
 * connections (newest first: the restart rule on the live side) and sends
 * the records to the replayer, which checks their framing and CRC,
 * replays them, closes the ghosts and sends back a description of every
 * object: name, type, explicit, options, size and its dump. Both sides
 * must describe the same registry, byte for byte. The workloads are
 * tables of requests per type and a random mix of every write over every
 * type from several connections, with parked requests, timeouts,
 * cancels, disconnects and ephemeral objects.
 *
 * Then single records: the CRC framing, a record on a missing object
 * making it as a write would, and records replay refuses.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>

#include "../daemon/crc32c.h"
#include "../daemon/dispatch.h"
#include "../daemon/journal.h"
#include "../daemon/mem.h"
#include "../daemon/mpmgrd.h"
#include "../daemon/options.h"
#include "../daemon/registry.h"
#include "../daemon/replay.h"
#include "../daemon/reply.h"
#include "../daemon/waiter.h"
#include "unit_util.h"

/* --- describing a registry --------------------------------------------- */

static int
describe_cmp(const void *a, const void *b)
{
	const struct object *x = *(struct object *const *)a;
	const struct object *y = *(struct object *const *)b;
	size_t n = x->namelen < y->namelen ? x->namelen : y->namelen;
	int r = memcmp(x->name, y->name, n);

	return r != 0 ? r : (int)x->namelen - (int)y->namelen;
}

/*
 * Every object a restart keeps (not a pipe), by name: [name, type, explicit, options,
 * size, [records...]], into out.
 */
static void
describe(struct buf *out)
{
	static struct buf scratch = BUF_INIT;
	struct object **v = NULL, *o;
	struct buf recs = BUF_INIT;
	msgpack_packer pk;
	const uint8_t *opts;
	size_t n = 0, i, len;
	uint64_t nrec;

	for (o = registry_next(NULL); o != NULL; o = registry_next(o)) {
		if (o->owner != NULL || o->type->dropped)
			continue;
		v = realloc(v, (n + 1) * sizeof *v);
		v[n++] = o;
	}
	qsort(v, n, sizeof *v, describe_cmp);
	buf_reset(out);
	msgpack_packer_init(&pk, out, buf_pack_write);
	msgpack_pack_array(&pk, n);
	for (i = 0; i < n; i++) {
		o = v[i];
		msgpack_pack_array(&pk, 6);
		msgpack_pack_str(&pk, o->namelen);
		msgpack_pack_str_body(&pk, o->name, o->namelen);
		msg_pack_cstr(&pk, o->type->name);
		if (o->explicit)
			msgpack_pack_true(&pk);
		else
			msgpack_pack_false(&pk);
		options_of(o, &scratch, &opts, &len);
		pack_raw(&pk, opts, len);
		msgpack_pack_uint64(&pk, registry_size(o));
		buf_reset(&recs);
		journal_capture_begin(&recs, false);
		if (o->type->dump != NULL)
			o->type->dump(o);
		nrec = journal_capture_end();
		msgpack_pack_array(&pk, nrec);
		pack_raw(&pk, buf_head(&recs), buf_used(&recs));
	}
	buf_free(&recs);
	free(v);
}

/* --- the replayer ------------------------------------------------------ */

static int to_child[2] = { -1, -1 };
static int from_child[2] = { -1, -1 };
static pid_t replayer_pid = -1;
static struct buf records;

static bool
read_all(int fd, struct buf *b)
{
	ssize_t n;

	buf_reset(b);
	for (;;) {
		if (buf_reserve(b, 65536) == -1)
			return false;
		n = read(fd, buf_tail(b), buf_room(b));
		if (n == 0)
			return true;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return false;
		b->len += (size_t)n;
	}
}

static bool
write_all(int fd, const uint8_t *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

static uint32_t
le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

/*
 * Replay framed records as a start does: each one's length, CRC and
 * MessagePack checked, applied, then the ghosts closed. NULL, or why not.
 */
static const char *
replay_framed(const struct buf *in)
{
	static char err[256];
	const uint8_t *p = buf_head(in), *end = p + buf_used(in);
	struct scan_state st;
	const char *why;
	struct conn *g;
	size_t len, flen;

	for (; p < end; p += JOURNAL_RECORD_HEAD + len) {
		if (end - p < JOURNAL_RECORD_HEAD ||
		    (size_t)(end - p) - JOURNAL_RECORD_HEAD < (len = le32(p)))
			return "a record runs past the end";
		if (crc32c(crc32c(0, p, 4), p + JOURNAL_RECORD_HEAD, len) !=
		    le32(p + 4))
			return "CRC mismatch";
		scan_init(&st);
		if (scan_frame(&st, p + JOURNAL_RECORD_HEAD, len, len, &flen,
		    &why) != SCAN_FRAME || flen != len)
			return "not MessagePack";
		if ((why = replay_record(p + JOURNAL_RECORD_HEAD, len, err,
		    sizeof err)) != NULL)
			return why;
		journal_ghost_sweep();
	}
	while ((g = journal_ghost_last()) != NULL) {
		waiter_conn_closed(g);
		journal_ghost_free(g);
	}
	return NULL;
}

/* In the replayer: exit 0 after sending the description, else why. */
static void __attribute__((noreturn))
replayer(void)
{
	struct buf in = BUF_INIT, out = BUF_INIT;
	const char *why;

	close(to_child[1]);
	close(from_child[0]);
	if (!read_all(to_child[0], &in))
		_exit(10);
	if ((why = replay_framed(&in)) != NULL) {
		fprintf(stderr, "replayer: %s\n", why);
		_exit(11);
	}
	describe(&out);
	if (!write_all(from_child[1], buf_head(&out), buf_used(&out)))
		_exit(16);
	_exit(0);
}

/* At a test's start: the replayer forks off an empty registry, and every
 * record from now on is captured. */
static void
restart_begin(void)
{
	ck_assert(registry_count() == 0);
	ck_assert(pipe(to_child) == 0 && pipe(from_child) == 0);
	replayer_pid = fork();
	ck_assert(replayer_pid != -1);
	if (replayer_pid == 0)
		replayer();
	close(to_child[0]);
	close(from_child[1]);
	buf_init(&records);
	journal_capture_begin(&records, true);
	journal_on = true;
}

/* Print the first object that differs, for the failure message. */
static void
restart_diff(const struct buf *live, const struct buf *replayed)
{
	struct mpv a, b, x, y, name;
	struct mpv_iter ia, ib;

	mpv_frame(buf_head(live), &a);
	mpv_frame(buf_head(replayed), &b);
	fprintf(stderr, "live: %u objects, replayed: %u\n", a.len, b.len);
	mpv_iter_init(&ia, &a);
	mpv_iter_init(&ib, &b);
	while (mpv_iter_next(&ia, &x)) {
		if (!mpv_iter_next(&ib, &y)) {
			fprintf(stderr, "replayed has no more objects\n");
			return;
		}
		if (x.rawlen == y.rawlen && memcmp(x.raw, y.raw, x.rawlen) == 0)
			continue;
		mpv_frame(x.ptr, &name);
		fprintf(stderr, "first difference at '%.*s' (%zu and %zu "
		    "bytes)\n", (int)name.len, (const char *)name.ptr,
		    x.rawlen, y.rawlen);
		return;
	}
}

/*
 * At a test's end: close every connection (newest first, as the replay
 * closes its ghosts), replay in the replayer, compare.
 */
static void
restart_check(void)
{
	struct buf live = BUF_INIT, replayed = BUF_INIT;
	struct scan_state st;
	const char *why;
	size_t flen;
	int i, status;

	for (i = FC_CONNS - 1; i >= 0; i--)
		fc_close(i);
	waiter_expire(now_usec() + LATER_USEC);
	journal_on = false;
	journal_capture_end();
	ck_assert(write_all(to_child[1], buf_head(&records),
	    buf_used(&records)));
	close(to_child[1]);
	ck_assert(read_all(from_child[0], &replayed));
	close(from_child[0]);
	ck_assert(waitpid(replayer_pid, &status, 0) == replayer_pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "the replayer failed: status %d", status);
	describe(&live);
	scan_init(&st);
	ck_assert(scan_frame(&st, buf_head(&replayed), buf_used(&replayed),
	    SIZE_MAX, &flen, &why) == SCAN_FRAME);
	if (buf_used(&live) != buf_used(&replayed) ||
	    memcmp(buf_head(&live), buf_head(&replayed), buf_used(&live)) != 0)
		restart_diff(&live, &replayed);
	ck_assert_msg(buf_used(&live) == buf_used(&replayed) &&
	    memcmp(buf_head(&live), buf_head(&replayed), buf_used(&live)) == 0,
	    "the replayed registry differs from the live one");
	buf_free(&live);
	buf_free(&replayed);
	buf_free(&records);
}

/* The records captured so far. */
static uint64_t
nrecords(void)
{
	const uint8_t *p = buf_head(&records), *end = p + buf_used(&records);
	uint64_t n = 0;

	while (p < end) {
		p += JOURNAL_RECORD_HEAD + le32(p);
		n++;
	}
	return n;
}

/* --- every write of every type, as rows ---------------------------------- */

START_TEST(test_types)
{
	static const struct row rows[] = {
		/* dict */
		{ "dict.set", "['d', 'a', 1]", PERR_NONE, "nil", NULL },
		{ "dict.set", "['d', [1, 2], {'x': f32:1.5}]", PERR_NONE, "nil",
		  NULL },
		{ "dict.setdefault", "['d', 'b']", PERR_NONE, "nil", NULL },
		{ "dict.setdefault", "['d', 'b', 3]", PERR_NONE, "nil", NULL },
		{ "dict.incr", "['d', 'n', 5]", PERR_NONE, "5", NULL },
		{ "dict.incr", "['d', 'n', 1.5]", PERR_NONE, "6.5", NULL },
		{ "dict.cas", "['d', 'a', 1, 'one']", PERR_NONE,
		  "[true, 'one']", NULL },
		{ "dict.cas", "['d', 'a', 1, 'two']", PERR_NONE,
		  "[false, 'one']", NULL },
		{ "dict.update", "['d', {'u': 1, 'v': 2}]", PERR_NONE, "nil",
		  NULL },
		{ "dict.update", "['d', [['w', 3], ['a', 4]]]", PERR_NONE, "nil",
		  NULL },
		{ "dict.pop", "['d', 'u']", PERR_NONE, "1", NULL },
		{ "dict.popitem", "['d']", PERR_NONE, "['w', 3]", NULL },
		{ "dict.delete", "['d', 'v']", PERR_NONE, "nil", NULL },
		{ "dict.set", "['d2', 1, 1]", PERR_NONE, "nil", NULL },
		{ "dict.clear", "['d2']", PERR_NONE, "nil", NULL },
		{ "dict.create", "['d3']", PERR_NONE, "nil", NULL },
		/* value */
		{ "value.set", "['v', 'x']", PERR_NONE, "nil", NULL },
		{ "value.set", "['vi', 1]", PERR_NONE, "nil", NULL },
		{ "value.incr", "['vi', 2]", PERR_NONE, "3", NULL },
		{ "value.cas", "['vi', 3, [1]]", PERR_NONE, "[true, [1]]", NULL },
		{ "value.create", "['vc', {'value': 7}]", PERR_NONE, "nil", NULL },
		{ "value.set", "['vn', 1]", PERR_NONE, "nil", NULL },
		{ "value.set", "['vn', nil]", PERR_NONE, "nil", NULL },
		/* list */
		{ "list.append", "['l', 1]", PERR_NONE, "nil", NULL },
		{ "list.extend", "['l', [2, 3, 'x', 4.5]]", PERR_NONE, "nil",
		  NULL },
		{ "list.insert", "['l', -2, 'ins']", PERR_NONE, "nil", NULL },
		{ "list.insert", "['l', 100, 'end']", PERR_NONE, "nil", NULL },
		{ "list.pop", "['l']", PERR_NONE, "'end'", NULL },
		{ "list.pop", "['l', 0]", PERR_NONE, "1", NULL },
		{ "list.remove", "['l', 'x']", PERR_NONE, "nil", NULL },
		{ "list.reverse", "['l']", PERR_NONE, "nil", NULL },
		{ "list.set", "['l', 1, 9]", PERR_NONE, "nil", NULL },
		{ "list.delete", "['l', -1]", PERR_NONE, "nil", NULL },
		{ "list.extend", "['ls', [3, 1.5, 2, 1]]", PERR_NONE, "nil",
		  NULL },
		{ "list.sort", "['ls', true]", PERR_NONE, "nil", NULL },
		{ "list.extend", "['lc', [1, 2]]", PERR_NONE, "nil", NULL },
		{ "list.clear", "['lc']", PERR_NONE, "nil", NULL },
		/* array */
		{ "array.create", "['a', {'typecode': 'f', 'length': 4}]",
		  PERR_NONE, "nil", NULL },
		{ "array.set", "['a', 1, 0.1]", PERR_NONE, "nil", NULL },
		{ "array.set", "['a', -1, 7]", PERR_NONE, "nil", NULL },
		{ "array.create", "['ai', {'typecode': 'b', 'items': [1, -2, 3]}]",
		  PERR_NONE, "nil", NULL },
		{ "array.set", "['ai', 0, 0]", PERR_NONE, "nil", NULL },
		/* event */
		{ "event.set", "['e']", PERR_NONE, "nil", NULL },
		{ "event.set", "['e2']", PERR_NONE, "nil", NULL },
		{ "event.clear", "['e2']", PERR_NONE, "nil", NULL },
		{ "event.create", "['e3']", PERR_NONE, "nil", NULL },
		/* barrier: created, nothing else kept */
		{ "barrier.create", "['b', {'parties': 3}]", PERR_NONE, "nil",
		  NULL },
		{ "barrier.abort", "['b']", PERR_NONE, "nil", NULL },
		/* semaphores */
		{ "semaphore.create", "['s', {'value': 3}]", PERR_NONE, "nil",
		  NULL },
		{ "semaphore.acquire", "['s', 0]", PERR_NONE, "true", NULL },
		{ "semaphore.release", "['s', 3]", PERR_NONE, "nil", NULL },
		{ "semaphore.create", "['sb', {'value': 2, 'bounded': true}]",
		  PERR_NONE, "nil", NULL },
		{ "semaphore.acquire", "['sb', 0]", PERR_NONE, "true", NULL },
		{ "semaphore.create", "['sr', {'value': 2, "
		  "'release_on_disconnect': false}]", PERR_NONE, "nil", NULL },
		{ "semaphore.acquire", "['sr', 0]", PERR_NONE, "true", NULL },
		{ "semaphore.release", "['si']", PERR_NONE, "nil", NULL },
		/* locks */
		{ "lock.acquire", "['k', 0]", PERR_NONE, "true", NULL },
		{ "lock.create", "['kr', {'release_on_disconnect': false}]",
		  PERR_NONE, "nil", NULL },
		{ "lock.acquire", "['kr', 0]", PERR_NONE, "true", NULL },
		{ "rlock.create", "['rr', {'release_on_disconnect': false}]",
		  PERR_NONE, "nil", NULL },
		{ "rlock.acquire", "['rr', 0]", PERR_NONE, "true", NULL },
		{ "rlock.acquire", "['rr', 0]", PERR_NONE, "true", NULL },
		{ "rlock.acquire", "['rr', 0]", PERR_NONE, "true", NULL },
		{ "rlock.release", "['rr']", PERR_NONE, "nil", NULL },
		/* conditions */
		{ "condition.create", "['c', {'release_on_disconnect': false}]",
		  PERR_NONE, "nil", NULL },
		{ "condition.acquire", "['c', 0]", PERR_NONE, "true", NULL },
		{ "condition.acquire", "['c', 0]", PERR_NONE, "true", NULL },
		{ "rlock.acquire", "['nl', 0]", PERR_NONE, "true", NULL },
		{ "condition.create", "['cn', {'lock': 'nl'}]", PERR_NONE, "nil",
		  NULL },
		/* queues */
		{ "queue.put", "['q', 1]", PERR_NONE, "nil", NULL },
		{ "queue.put_many", "['q', [2, 'x', [3]]]", PERR_NONE, "nil",
		  NULL },
		{ "queue.get", "['q', 0]", PERR_NONE, "1", NULL },
		{ "queue.get_many", "['q', 2, 0]", PERR_NONE, "[2, 'x']", NULL },
		{ "queue.task_done", "['q']", PERR_NONE, "nil", NULL },
		{ "queue.create", "['qa', {'ack': true, 'maxsize': 5}]",
		  PERR_NONE, "nil", NULL },
		{ "queue.put_many", "['qa', [1, 2, 3, 4]]", PERR_NONE, "nil",
		  NULL },
		{ "queue.get", "['qa', 0]", PERR_NONE, "1", NULL },
		{ "queue.get_many", "['qa', 2, 0]", PERR_NONE, "[2, 3]", NULL },
		{ "queue.task_done", "['qa']", PERR_NONE, "nil", NULL },
		/* queues shut down: draining, immediate (a lease given back
		 * later is dropped), one made by its shutdown */
		{ "queue.put_many", "['qs', [1, 2]]", PERR_NONE, "nil", NULL },
		{ "queue.shutdown", "['qs']", PERR_NONE, "nil", NULL },
		{ "queue.create", "['qi', {'ack': true}]", PERR_NONE, "nil",
		  NULL },
		{ "queue.put_many", "['qi', [1, 2, 3]]", PERR_NONE, "nil", NULL },
		{ "queue.get", "['qi', 0]", PERR_NONE, "1", NULL },
		{ "queue.shutdown", "['qi', true]", PERR_NONE, "nil", NULL },
		{ "queue.shutdown", "['qn', false]", PERR_NONE, "nil", NULL },
		/* processes: exited, killed, running (lost at the restart) */
		{ "process.register", "['p1', {'pid': 101, 'argv': ['a', 'b']}]",
		  PERR_NONE, "nil", NULL },
		{ "process.exited", "['p1', 3]", PERR_NONE, "nil", NULL },
		{ "process.register", "['p2', {'pid': 102, 'argv': ['c'], "
		  "'daemon': true}]", PERR_NONE, "nil", NULL },
		{ "process.exited", "['p2', -9]", PERR_NONE, "nil", NULL },
		{ "process.register", "['p3', {'pid': 103, 'argv': ['d']}]",
		  PERR_NONE, "nil", NULL },
		/* a pipe: nothing of it is journaled */
		{ "pipe.create", "['pp']", PERR_NONE, "nil", NULL },
		{ "pipe.send", "['pp', 0, 'm']", PERR_NONE, "nil", NULL },
		{ "pipe.send", "['pq', 1, 'm']", PERR_NONE, "nil", NULL },
		/* ephemeral: gone at a restart */
		{ "dict.create", "['eph', {'ephemeral': true}]", PERR_NONE,
		  "nil", NULL },
		{ "dict.set", "['eph', 1, 1]", PERR_NONE, "nil", NULL },
		{ "dict.set", "['eph2', 1, 1]", PERR_NONE, "nil", NULL },
		{ "dict.create", "['eph2', {'ephemeral': true}]", PERR_NONE,
		  "nil", NULL },
		/* deleted */
		{ "dict.set", "['gone', 1, 1]", PERR_NONE, "nil", NULL },
		{ "obj.delete", "['gone']", PERR_NONE, "nil", NULL },
		{ "queue.put", "['qa', 5]", PERR_NONE, "nil", NULL },
		/* pools: done, failed, cancelled, consumed, one running (back
		 * at the restart), closed; a terminated one */
		{ "pool.create", "['pl', {'max_attempts': 2}]", PERR_NONE,
		  "nil", NULL },
		{ "pool.submit", "['pl', 'a']", PERR_NONE, "1", NULL },
		{ "pool.submit", "['pl', 'b', {'key': 'k'}]", PERR_NONE, "2",
		  NULL },
		{ "pool.submit", "['pl', 'c']", PERR_NONE, "3", NULL },
		{ "pool.submit", "['pl', 'd', {'attempts': 1}]", PERR_NONE, "4",
		  NULL },
		{ "pool.submit", "['pl', 'e']", PERR_NONE, "5", NULL },
		{ "pool.take", "['pl', 0]", PERR_NONE, "[1, 'a', 1]", NULL },
		{ "pool.done", "['pl', 1, 'r1']", PERR_NONE, "nil", NULL },
		{ "pool.take", "['pl', 0]", PERR_NONE, "[2, 'b', 1]", NULL },
		{ "pool.fail", "['pl', 2, 'e2']", PERR_NONE, "nil", NULL },
		{ "pool.take", "['pl', 0]", PERR_NONE, "[3, 'c', 1]", NULL },
		{ "pool.cancel", "['pl', 4]", PERR_NONE, "true", NULL },
		{ "pool.result", "['pl', 1, true]", PERR_NONE, "['done', 'r1']",
		  NULL },
		{ "pool.close", "['pl']", PERR_NONE, "nil", NULL },
		{ "pool.submit", "['pt', 'x']", PERR_NONE, "1", NULL },
		{ "pool.submit", "['pt', 'y']", PERR_NONE, "2", NULL },
		{ "pool.terminate", "['pt']", PERR_NONE, "nil", NULL },
		{ "pool.collect", "['pt', 1]", PERR_NONE,
		  "[[1, 'cancelled', nil]]", NULL },
	};

	char p[64];
	int i;

	restart_begin();
	RUN(rows);
	/* large ones, cleared or deleted: their tables freed in slices, on
	 * both sides */
	for (i = 0; i < 3 * REGISTRY_FREE_SLICE; i++) {
		snprintf(p, sizeof p, "['big%d', %d, %d]", i % 3, i, i);
		OK("dict.set", p, "nil");
		snprintf(p, sizeof p, "['bigl%d', %d]", i % 3, i);
		OK("list.append", p, "nil");
	}
	OK("dict.clear", "['big0']", "nil");
	OK("dict.set", "['big0', 'after', 1]", "nil");
	OK("obj.delete", "['big1']", "nil");
	OK("list.clear", "['bigl0']", "nil");
	OK("list.append", "['bigl0', 'after']", "nil");
	OK("obj.delete", "['bigl1']", "nil");
	/* What the rows left, before the restart rule: */
	ck_assert_uint_eq(info_uint("s", "size"), 5);
	ck_assert_uint_eq(info_uint("qa", "size"), 2);
	ck_assert_uint_gt(nrecords(), 40);
	restart_check();
}
END_TEST

/*
 * After a restart: the disconnect rule everywhere. Checked here on a
 * replay of this test's own records, in this process's registry.
 */
START_TEST(test_restart_rule)
{
	static const struct row rows[] = {
		{ "semaphore.create", "['s', {'value': 3}]", PERR_NONE, "nil",
		  NULL },
		{ "semaphore.acquire", "['s', 0]", PERR_NONE, "true", NULL },
		{ "semaphore.acquire", "['s', 0]", PERR_NONE, "true", NULL },
		{ "semaphore.create", "['sr', {'value': 3, "
		  "'release_on_disconnect': false}]", PERR_NONE, "nil", NULL },
		{ "semaphore.acquire", "['sr', 0]", PERR_NONE, "true", NULL },
		{ "lock.acquire", "['k', 0]", PERR_NONE, "true", NULL },
		{ "lock.create", "['kr', {'release_on_disconnect': false}]",
		  PERR_NONE, "nil", NULL },
		{ "lock.acquire", "['kr', 0]", PERR_NONE, "true", NULL },
		{ "queue.create", "['qa', {'ack': true}]", PERR_NONE, "nil",
		  NULL },
		{ "queue.put_many", "['qa', [1, 2, 3, 4, 5]]", PERR_NONE, "nil",
		  NULL },
		{ "queue.get", "['qa', 0]", PERR_NONE, "1", NULL },
		{ "barrier.create", "['b', {'parties': 2}]", PERR_NONE, "nil",
		  NULL },
		{ "dict.create", "['eph', {'ephemeral': true}]", PERR_NONE,
		  "nil", NULL },
		{ "process.register", "['pr', {'pid': 7, 'argv': ['x']}]",
		  PERR_NONE, "nil", NULL },
		{ "process.register", "['pe', {'pid': 8, 'argv': ['x']}]",
		  PERR_NONE, "nil", NULL },
		{ "process.exited", "['pe', 0]", PERR_NONE, "nil", NULL },
		{ "pipe.open", "['pp', 0]", PERR_NONE, "nil", NULL },
		{ "pipe.send", "['pp', 0, 'm']", PERR_NONE, "nil", NULL },
	};
	struct buf recs = BUF_INIT;

	buf_init(&records);
	journal_capture_begin(&records, true);
	journal_on = true;
	RUN(rows);
	fc_use(1);
	OK("queue.get", "['qa', 0]", "2");
	OK("queue.get", "['qa', 0]", "3");
	fc_use(2);
	OK("queue.get", "['qa', 0]", "4");
	/* pool jobs: one past its attempts, one back, one done */
	OK("pool.submit", "['pw', 'j1', {'attempts': 1}]", "1");
	OK("pool.submit", "['pw', 'j2']", "2");
	OK("pool.submit", "['pw', 'j3']", "3");
	OK("pool.take", "['pw', 0]", "[1, 'j1', 1]");
	fc_use(1);
	OK("pool.take", "['pw', 0]", "[2, 'j2', 1]");
	OK("pool.take", "['pw', 0]", "[3, 'j3', 1]");
	OK("pool.done", "['pw', 3, 'r3']", "nil");
	fc_use(0);
	PARK(3, "barrier.wait", "['b']");
	PARK(4, "queue.get", "['pq']");
	PARK(5, "process.join", "['pr']");
	journal_on = false;
	journal_capture_end();
	recs = records;

	/* A restart: nothing of this process's registry is left, but what
	 * replay makes of the records. */
	for (int i = FC_CONNS - 1; i >= 0; i--)
		fc_close(i);
	while (registry_count() > 0) {
		struct object *o = registry_next(NULL);

		waiter_object_deleted(o);
		registry_delete(o);
	}
	const char *why = replay_framed(&recs);
	ck_assert_msg(why == NULL, "%s", why);
	/* permits given back, but not the ones kept for good */
	OK("semaphore.value", "['s']", "3");
	OK("semaphore.value", "['sr']", "2");
	/* locks released, but the one that outlives its holder */
	OK("lock.locked", "['k']", "false");
	ERR("obj.info", "['k']", NOOBJ);
	OK("lock.locked", "['kr']", "true");
	OK("lock.release", "['kr']", "nil");
	/* leases back at the head: connection 1's, 2's... oldest first */
	OK("queue.get_many", "['qa', 10, 0]", "[1, 2, 3, 4, 5]");
	/* running jobs back at the head with their attempt counted, or
	 * failed past max attempts; results kept */
	OK("pool.take", "['pw', 0]", "[2, 'j2', 2]");
	OK("pool.result", "['pw', 1]", "['failed', 'the worker running job 1 "
	    "died (its connection closed) on attempt 1 of 1']");
	OK("pool.result", "['pw', 3, true]", "['done', 'r3']");
	ERR("pool.result", "['pw', 3]", NOTFOUND);
	OK("pool.submit", "['pw', 'j4']", "4");
	/* a barrier as created, waiters gone; ephemeral gone; no queue made
	 * by a parked get */
	OK("barrier.n_waiting", "['b']", "0");
	OK("barrier.broken", "['b']", "false");
	ERR("obj.info", "['eph']", NOOBJ);
	ERR("obj.info", "['pq']", NOOBJ);
	/* a running process lost, as if its supervisor had hung up; an
	 * exited one as it was; no pipe */
	OK("process.is_alive", "['pr']", "false");
	ERR("process.join", "['pr', 0]", LOST);
	OK("process.join", "['pe', 0]", "0");
	ERR("obj.info", "['pp']", NOOBJ);
	buf_free(&recs);
}
END_TEST

/* Parked requests served by writes, timeouts, cancels and disconnects. */
START_TEST(test_parked)
{
	restart_begin();
	/* a get served by a put: both journaled */
	PARK(1, "queue.get", "['q']");
	OK("queue.put", "['q', 'a']", "nil");
	GOT(1, "'a'");
	/* put_many waiting for room, admitted by a get */
	OK("queue.create", "['qb', {'maxsize': 2}]", "nil");
	OK("queue.put_many", "['qb', [1, 2]]", "nil");
	PARK(2, "queue.put_many", "['qb', [3, 4]]");
	PARK(3, "queue.put", "['qb', 5]");
	OK("queue.get_many", "['qb', 2, 0]", "[1, 2]");
	GOT(2, "nil");
	NOTHING(3);
	OK("queue.get", "['qb', 0]", "3");
	GOT(3, "nil");
	/* the big put's connection closes: the small one behind it gets in */
	OK("queue.get", "['qb', 0]", "4");
	PARK(2, "queue.put_many", "['qb', [6, 7]]");
	PARK(3, "queue.put", "['qb', 8]");
	fc_close(2);
	GOT(3, "nil");
	/* an ack lease handed to a parked getter, then its connection goes */
	OK("queue.create", "['qa', {'ack': true}]", "nil");
	PARK(4, "queue.get", "['qa']");
	PARK(5, "queue.get", "['qa']");
	OK("queue.put_many", "['qa', [1, 2, 3]]", "nil");
	GOT(4, "1");
	GOT(5, "2");
	fc_close(4);
	OK("queue.get", "['qa', 0]", "1");
	/* a lock handed to a waiter by a release; one kept for good */
	OK("lock.create", "['kr', {'release_on_disconnect': false}]", "nil");
	OK("lock.acquire", "['kr', 0]", "true");
	PARK(6, "lock.acquire", "['kr']");
	OK("lock.release", "['kr']", "nil");
	GOT(6, "true");
	fc_close(6);
	/* a semaphore's permit to a waiter, then given back by a close */
	OK("semaphore.create", "['s', {'value': 1}]", "nil");
	OK("semaphore.acquire", "['s', 0]", "true");
	PARK(7, "semaphore.acquire", "['s', 5]");
	OK("semaphore.release", "['s']", "nil");
	GOT(7, "true");
	OK("semaphore.release", "['s', 2]", "nil");
	/* a timeout */
	PARK(1, "queue.get", "['qt', 1]");
	waiter_expire(now_usec() + LATER_USEC);
	GOT_ERR(1, EMPTY);
	/* a condition's own rlock kept for good, through a wait */
	OK("condition.create", "['c', {'release_on_disconnect': false}]",
	    "nil");
	OK("condition.acquire", "['c', 0]", "true");
	OK("condition.acquire", "['c', 0]", "true");
	fc_use(1);
	restart_check();
}
END_TEST

/* --- a random mix -------------------------------------------------------- */

static uint64_t rng = 88172645463325252ull;

static uint64_t
rnd(uint64_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng % n;
}

static const char *const names[] = { "x0", "x1", "x2", "x3" };

static const char *
rvalue(char *b, size_t len)
{
	switch (rnd(8)) {
	case 0: return "nil";
	case 1: return "1.5";
	case 2: return "'s'";
	case 3: return "[1, 'two']";
	case 4: return "{'k': 2}";
	case 5: snprintf(b, len, "-%llu", (unsigned long long)rnd(5)); return b;
	default: snprintf(b, len, "%llu", (unsigned long long)rnd(4)); return b;
	}
}

/* One random request from the current connection; parks allowed. */
static void
random_request(void)
{
	char p[256], v1[32], v2[32];
	const char *n = names[rnd(4)], *m = NULL;
	const char *t0 = rnd(3) == 0 ? "" : ", 0";
	int i = (int)rnd(7) - 3;

	switch (rnd(48)) {
	case 0: m = "dict.set"; snprintf(p, sizeof p, "['%s', %s, %s]", n,
	    rvalue(v1, sizeof v1), rvalue(v2, sizeof v2)); break;
	case 1: m = "dict.pop"; snprintf(p, sizeof p, "['%s', %llu]", n,
	    (unsigned long long)rnd(4)); break;
	case 2: m = "dict.popitem"; snprintf(p, sizeof p, "['%s']", n); break;
	case 3: m = "dict.incr"; snprintf(p, sizeof p, "['%s', %llu, %s]", n,
	    (unsigned long long)rnd(4), rnd(2) ? "1" : "0.5"); break;
	case 4: m = "dict.update"; snprintf(p, sizeof p,
	    "['%s', {1: %s, 'z': 2}]", n, rvalue(v1, sizeof v1)); break;
	case 5: m = "dict.clear"; snprintf(p, sizeof p, "['%s']", n); break;
	case 6: m = "dict.cas"; snprintf(p, sizeof p, "['%s', 1, %s, 5]", n,
	    rvalue(v1, sizeof v1)); break;
	case 7: m = "value.set"; snprintf(p, sizeof p, "['%s', %s]", n,
	    rvalue(v1, sizeof v1)); break;
	case 8: m = "value.incr"; snprintf(p, sizeof p, "['%s']", n); break;
	case 9: m = "list.append"; snprintf(p, sizeof p, "['%s', %s]", n,
	    rvalue(v1, sizeof v1)); break;
	case 10: m = "list.insert"; snprintf(p, sizeof p, "['%s', %d, %s]", n,
	    i, rvalue(v1, sizeof v1)); break;
	case 11: m = "list.pop"; snprintf(p, sizeof p, "['%s', %d]", n, i);
	    break;
	case 12: m = "list.remove"; snprintf(p, sizeof p, "['%s', %s]", n,
	    rvalue(v1, sizeof v1)); break;
	case 13: m = "list.sort"; snprintf(p, sizeof p, "['%s', %s]", n,
	    rnd(2) ? "true" : "false"); break;
	case 14: m = "list.reverse"; snprintf(p, sizeof p, "['%s']", n); break;
	case 15: m = "list.set"; snprintf(p, sizeof p, "['%s', %d, 7]", n, i);
	    break;
	case 16: m = "list.extend"; snprintf(p, sizeof p, "['%s', [3, 1, 2]]",
	    n); break;
	case 17: m = "array.create"; snprintf(p, sizeof p,
	    "['%s', {'typecode': 'h', 'length': 5}]", n); break;
	case 18: m = "array.set"; snprintf(p, sizeof p, "['%s', %d, %d]", n, i,
	    i * 100); break;
	case 19: m = "queue.put"; snprintf(p, sizeof p, "['%s', %s%s]", n,
	    rvalue(v1, sizeof v1), t0); break;
	case 20: m = "queue.put_many"; snprintf(p, sizeof p,
	    "['%s', [1, 2]%s]", n, t0); break;
	case 21: m = "queue.get"; snprintf(p, sizeof p, "['%s'%s]", n, t0);
	    break;
	case 22: m = "queue.get_many"; snprintf(p, sizeof p, "['%s', 2%s]", n,
	    t0); break;
	case 23: m = "queue.task_done"; snprintf(p, sizeof p, "['%s']", n);
	    break;
	case 24: m = "queue.create"; snprintf(p, sizeof p,
	    "['%s', {'ack': %s, 'maxsize': 3}]", n, rnd(2) ? "true" : "false");
	    break;
	case 25: m = "event.set"; snprintf(p, sizeof p, "['%s']", n); break;
	case 26: m = "event.clear"; snprintf(p, sizeof p, "['%s']", n); break;
	case 27: m = "event.wait"; snprintf(p, sizeof p, "['%s'%s]", n, t0);
	    break;
	case 28: m = "lock.acquire"; snprintf(p, sizeof p, "['%s'%s]", n, t0);
	    break;
	case 29: m = "lock.release"; snprintf(p, sizeof p, "['%s']", n); break;
	case 30: m = "lock.create"; snprintf(p, sizeof p,
	    "['%s', {'release_on_disconnect': false}]", n); break;
	case 31: m = "rlock.acquire"; snprintf(p, sizeof p, "['%s'%s]", n, t0);
	    break;
	case 32: m = "rlock.release"; snprintf(p, sizeof p, "['%s']", n); break;
	case 33: m = "semaphore.acquire"; snprintf(p, sizeof p, "['%s'%s]", n,
	    t0); break;
	case 34: m = "semaphore.release"; snprintf(p, sizeof p,
	    "['%s', %llu]", n, (unsigned long long)rnd(3) + 1); break;
	case 35: m = "semaphore.create"; snprintf(p, sizeof p,
	    "['%s', {'value': 2, 'bounded': %s, 'release_on_disconnect': "
	    "%s}]", n, rnd(2) ? "true" : "false", rnd(2) ? "true" : "false");
	    break;
	case 36: m = "condition.acquire"; snprintf(p, sizeof p, "['%s'%s]", n,
	    t0); break;
	case 37: m = "condition.wait"; snprintf(p, sizeof p, "['%s', 1]", n);
	    break;
	case 38: m = "condition.notify"; snprintf(p, sizeof p, "['%s']", n);
	    break;
	case 39: m = "barrier.create"; snprintf(p, sizeof p,
	    "['%s', {'parties': 2}]", n); break;
	case 40: m = "barrier.wait"; snprintf(p, sizeof p, "['%s'%s]", n, t0);
	    break;
	case 41: m = "obj.delete"; snprintf(p, sizeof p, "['%s']", n); break;
	case 42: m = "dict.create"; snprintf(p, sizeof p,
	    "['%s', {'ephemeral': true}]", n); break;
	case 43: m = "condition.create"; snprintf(p, sizeof p,
	    "['%s', {'release_on_disconnect': false}]", n); break;
	case 44: m = "queue.shutdown"; snprintf(p, sizeof p, "['%s', %s]", n,
	    rnd(2) ? "true" : "false"); break;
	case 45: m = "process.register"; snprintf(p, sizeof p,
	    "['%s', {'pid': %llu, 'argv': ['x']}]", n,
	    (unsigned long long)rnd(100) + 1); break;
	case 46: m = "process.exited"; snprintf(p, sizeof p, "['%s', %d]", n,
	    i); break;
	case 47: m = "pipe.send"; snprintf(p, sizeof p, "['%s', 0, 1]", n);
	    break;
	}
	send_req_any(m, p);
}

START_TEST(test_random)
{
	int round, c, k;

	rng += (uint64_t)_i * 7919;
	restart_begin();
	for (round = 0; round < 3000; round++) {
		for (k = 0; k < FC_CONNS; k++)
			buf_reset(&fc_conn(k)->out);
		c = (int)rnd(FC_CONNS);
		switch (rnd(40)) {
		case 0:
			fc_close(c);
			continue;
		case 1:
			waiter_expire(now_usec() + LATER_USEC);
			continue;
		case 2:
			if (fc_conn(c)->parked != NULL) {
				fc_use(c);
				waiter_cancel(fc_conn(c), fc_conn(c)->parked->
				    req.msgid);
			}
			continue;
		}
		/* a parked connection sends nothing but cancels */
		if (fc_conn(c)->parked != NULL)
			continue;
		fc_use(c);
		random_request();
	}
	fc_use(0);
	for (k = 0; k < FC_CONNS; k++)
		buf_reset(&fc_conn(k)->out);
	ck_assert_uint_gt(nrecords(), 150);
	restart_check();
}
END_TEST

/* --- single records ----------------------------------------------------- */

/* Replay one record written in the notation. */
static const char *
replay_text(const char *text)
{
	static char err[256];

	pn_to_buf(&expbuf, text);
	return replay_record(buf_head(&expbuf), buf_used(&expbuf), err,
	    sizeof err);
}

START_TEST(test_records)
{
	/* dict set on a missing dict: made implicitly, as a write would */
	ck_assert_ptr_null(replay_text("[1, 0, 'rd', 'k', 'v']"));
	OK("dict.get", "['rd', 'k']", "'v'");
	OK("obj.info", "['rd']", NULL);
	/* an implicit object back at its initial state goes */
	ck_assert_ptr_null(replay_text("[1, 1, 'rd', 'k']"));
	ERR("obj.info", "['rd']", NOOBJ);
	/* create, then delete */
	ck_assert_ptr_null(replay_text("[0, 0, 'rq', 5, {'maxsize': 2, "
	    "'ack': false}]"));
	OK("queue.full", "['rq']", "false");
	ck_assert_ptr_null(replay_text("[0, 1, 'rq']"));
	ERR("obj.info", "['rq']", NOOBJ);
	/* refused: not a record, unknown code or op, bad arity, wrong type,
	 * a state the op cannot apply to, a type that needs a create */
	ck_assert_ptr_nonnull(replay_text("[1, 0]"));
	ck_assert_ptr_nonnull(replay_text("[30, 0, 'x']"));
	ck_assert_ptr_nonnull(replay_text("[1, 99, 'x']"));
	ck_assert_ptr_nonnull(replay_text("[1, 0, 'x', 1]"));
	ck_assert_ptr_nonnull(replay_text("['x', 0, 'x', 1, 2]"));
	ck_assert_ptr_null(replay_text("[2, 0, 'rv', 1]"));
	ck_assert_ptr_nonnull(replay_text("[1, 0, 'rv', 1, 2]"));
	ck_assert_ptr_nonnull(replay_text("[3, 3, 'rl', 0]"));
	ck_assert_ptr_nonnull(replay_text("[5, 1, 'rq2', 1]"));
	ck_assert_ptr_nonnull(replay_text("[4, 0, 'ra', 0, 1]"));
	ck_assert_ptr_nonnull(replay_text("[0, 0, 'rz', 99, {}]"));
	ck_assert_ptr_nonnull(replay_text("[0, 0, 'rz', 5, {'nope': 1}]"));
	ck_assert_ptr_nonnull(replay_text("[1, 1, 'rd2', 'missing']"));
}
END_TEST

/* The framing: length, CRC over the length and the body. */
START_TEST(test_framing)
{
	struct buf b = BUF_INIT;
	struct object *o;
	uint32_t len;

	OK("value.set", "['fv', 'abc']", "nil");
	o = registry_lookup("fv", 2);
	ck_assert_ptr_nonnull(o);
	journal_capture_begin(&b, true);
	o->type->dump(o);
	ck_assert_uint_eq(journal_capture_end(), 1);
	len = le32(buf_head(&b));
	ck_assert_uint_eq(buf_used(&b), JOURNAL_RECORD_HEAD + len);
	ck_assert_uint_eq(le32(buf_head(&b) + 4), crc32c(crc32c(0,
	    buf_head(&b), 4), buf_head(&b) + JOURNAL_RECORD_HEAD, len));
	pn_to_buf(&expbuf, "[2, 0, 'fv', 'abc']");
	ck_assert_uint_eq(len, buf_used(&expbuf));
	ck_assert(memcmp(buf_head(&b) + JOURNAL_RECORD_HEAD,
	    buf_head(&expbuf), len) == 0);
	/* without framing: the bodies alone */
	buf_reset(&b);
	journal_capture_begin(&b, false);
	o->type->dump(o);
	journal_capture_end();
	ck_assert(buf_used(&b) == len &&
	    memcmp(buf_head(&b), buf_head(&expbuf), len) == 0);
	buf_free(&b);
	/* the check value of CRC-32C, and the instruction against the table */
	ck_assert_uint_eq(crc32c(0, "123456789", 9), 0xe3069283);
	ck_assert_uint_eq(crc32c_sw(0, "123456789", 9), 0xe3069283);
	{
		uint8_t data[1000];

		for (size_t i = 0; i < sizeof data; i++)
			data[i] = (uint8_t)(i * 131 + 7);
		for (size_t off = 0; off < 9; off++)
			for (size_t n = 0; n + off <= sizeof data; n += 97)
				ck_assert_uint_eq(crc32c(0, data + off, n),
				    crc32c_sw(0, data + off, n));
		ck_assert_uint_eq(crc32c(crc32c(0, data, 300), data + 300,
		    700), crc32c(0, data, 1000));
	}
}
END_TEST

/* A daemon-wide counter: its reservations replay to its floor, and a
 * compaction writes its ceiling. */
static uint64_t tc_floor, tc_ceiling;

static void
tc_set_floor(uint64_t v)
{
	tc_floor = v;
}

static uint64_t
tc_get_ceiling(void)
{
	return tc_ceiling;
}

START_TEST(test_counter)
{
	struct buf b = BUF_INIT;

	journal_counter_register("tc", tc_set_floor, tc_get_ceiling);
	/* without a journal, nothing */
	journal_capture_begin(&b, true);
	journal_counter_reserve("tc", 100);
	ck_assert_uint_eq(journal_capture_end(), 0);
	journal_on = true;
	journal_capture_begin(&b, true);
	journal_counter_reserve("tc", 65536);
	journal_counter_reserve("tc", 131072);
	ck_assert_uint_eq(journal_capture_end(), 2);
	journal_on = false;
	ck_assert_ptr_null(replay_framed(&b));
	ck_assert_uint_eq(tc_floor, 131072);
	/* in a dump, with the counters (after the fencing tokens'): the
	 * ceiling it reports */
	tc_ceiling = 196608;
	buf_reset(&b);
	journal_capture_begin(&b, false);
	replay_dump_all();
	ck_assert_uint_ge(journal_capture_end(), 2);
	pn_to_buf(&expbuf, "[0, 2, 'tc', 196608]");
	ck_assert(memmem(buf_head(&b), buf_used(&b), buf_head(&expbuf),
	    buf_used(&expbuf)) != NULL);
	/* a counter nobody registered is a bad record */
	ck_assert_ptr_nonnull(replay_text("[0, 2, 'nobody', 5]"));
	ck_assert_ptr_nonnull(replay_text("[0, 2, 'tc', 'x']"));
	buf_free(&b);
}
END_TEST

static Suite *
journal_suite(void)
{
	Suite *s = suite_create("journal");
	TCase *tc = tcase_create("restart");

	tcase_add_unchecked_fixture(tc, setup_conn0, NULL);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_types);
	tcase_add_test(tc, test_restart_rule);
	tcase_add_test(tc, test_parked);
	tcase_add_loop_test(tc, test_random, 0, 8);
	tcase_add_test(tc, test_records);
	tcase_add_test(tc, test_framing);
	tcase_add_test(tc, test_counter);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	return unit_run(journal_suite());
}
