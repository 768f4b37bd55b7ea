/*
 * it_attack.c: the promises of DESIGN.md's "Robustness rules" against a
 * real mpmgrd and clients that attack it (issue 8):
 *
 * - a client killed with its input full behind a parked request gives
 *   back at once what it holds (lock, rlock, semaphore permit, ack lease,
 *   condition), not when its parked request is answered.
 * - a destructive read (queue.get, get_many, list.pop, dict.pop,
 *   dict.popitem, ack leases) whose reply does not fit what the client
 *   can take is refused with LIMIT and takes nothing; get_many takes what
 *   fits. A limit pair that could store a value it cannot deliver is
 *   refused at start; the floor (9/5 of --max-message) is exact.
 * - no connection stalls the others: while one pipelines 100 heavy
 *   requests, another is answered before the flood is over (each
 *   connection gets a bounded share of a loop turn).
 * - clients' buffers stay under --max-client-memory: clients that never
 *   read, or send half a message, are dropped largest first; a message
 *   left incomplete past --frame-timeout closes its connection.
 * - at --max-clients, root and the daemon's own user still get in (a few
 *   slots are theirs); other users get LIMIT.
 * - a flood of fresh handshakes from one user cannot push out another
 *   user's client between its connect and its proof.
 * - the daemon's key must be at least 16 bytes, in a file owned by the
 *   daemon's uid or root: refused at start, and kept on SIGHUP.
 *
 * The tests of another user's clients need root (to become uid 65534);
 * run as anyone else they check only what that user can.
 *
 * Every wait is a poll of the daemon's state against a deadline
 * (HARNESS_DEADLINE_MS), never a sleep; nothing here asserts speed.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static struct harness *const D = &harness_fixture;

/* A 1 MiB message limit: an input buffer is full at 1 MiB + 16 KiB. */
static void
daemon_small_input_up(void)
{
	static const char *const args[] = { "--max-message", "1m", NULL };

	harness_start(D, args);
}

/* Poll until sys.stats' field is want. */
static void
await_stat(const char *field, uint64_t want)
{
	int64_t deadline = harness_now_ms() + HARNESS_DEADLINE_MS;
	uint64_t v;

	while ((v = harness_stat_once(D, field)) != want) {
		ck_assert_msg(harness_now_ms() < deadline, "sys.stats %s "
		    "stayed %llu, expected %llu", field, (unsigned long long)v,
		    (unsigned long long)want);
		harness_nap(5);
	}
}

/* Poll until method params answers expected; true if it did in time. */
static bool
await_answer(mpmgr *m, const char *method, const char *params,
    const char *expected)
{
	int64_t deadline = harness_now_ms() + HARNESS_DEADLINE_MS;
	msgpack_object res;

	for (;;) {
		if (harness_call(m, method, params, &res) == 0 &&
		    harness_obj_eq(res, expected))
			return true;
		if (harness_now_ms() >= deadline)
			return false;
		harness_nap(5);
	}
}

/* --- a dead client's holds, behind a full input ----------------------- */

/* What the victim takes, and how another client sees it free again. */
static const struct {
	const char *what;
	const char *setup[2][2];              /* calls by the test first */
	const char *take, *take_params;       /* by the victim, twice for
						 an rlock */
	const char *take_result;
	int takes;
	const char *probe, *probe_params;     /* by another client */
	const char *held, *freed;             /* probe's answers */
	const char *explicit;                 /* created: deleted after */
} holds[] = {
	{ "lock", { { NULL } }, "lock.acquire", "['at_lock']", "true", 1,
	  "lock.acquire", "['at_lock', 0]", "false", "true", NULL },
	{ "rlock", { { NULL } }, "rlock.acquire", "['at_rlock']", "true", 2,
	  "rlock.acquire", "['at_rlock', 0]", "false", "true", NULL },
	{ "semaphore permit",
	  { { "semaphore.create", "['at_sem', {'value': 1}]" } },
	  "semaphore.acquire", "['at_sem']", "true", 1,
	  "semaphore.value", "['at_sem']", "0", "1", "['at_sem']" },
	{ "ack lease", { { "queue.create", "['at_ackq', {'ack': true}]" },
	    { "queue.put", "['at_ackq', 'leased']" } },
	  "queue.get", "['at_ackq']", "'leased'", 1,
	  "queue.qsize", "['at_ackq']", "0", "1", "['at_ackq']" },
	{ "condition's lock", { { NULL } },
	  "condition.acquire", "['at_cond']", "true", 1,
	  "condition.acquire", "['at_cond', 0]", "false", "true", NULL },
	/* its end closes with its last holder: the other end sees EOF due
	 * (the pipe stays, end 0 closed for good: deleted after) */
	{ "pipe end", { { NULL } }, "pipe.open", "['at_pipe', 0]", "nil", 1,
	  "pipe.poll", "['at_pipe', 1, 0]", "false", "true", "['at_pipe']" },
};

#define NHOLDS ((int)(sizeof(holds) / sizeof(holds[0])))

/*
 * The victim, in a child: take the hold, park on an event nobody sets,
 * then pipeline pings until the socket blocks (the daemon stops reading
 * once its input is full). It never returns: the test kills it. Exit
 * codes say which step failed. One that reads nothing leaves replies
 * unread, so that its death is an error on the daemon's socket, not only
 * a hang-up.
 */
static _Noreturn void
victim(int i, bool reads)
{
	struct harness_raw r;
	msgpack_sbuffer sb;
	int64_t id;
	msgpack_object res;

	harness_raw_authed(D, &r);
	for (int t = 0; t < holds[i].takes; t++) {
		if (!harness_raw_request(&r, (uint32_t)t + 1, holds[i].take,
		    holds[i].take_params))
			_exit(10);
		if (reads && (harness_raw_result(&r, HARNESS_DEADLINE_MS, &id,
		    &res) != 0 || !harness_obj_eq(res, holds[i].take_result)))
			_exit(11);
	}
	if (!harness_raw_request(&r, 100, "event.wait", "['at_never']"))
		_exit(12);
	msgpack_sbuffer_init(&sb);
	harness_pack_request(&sb, 101, "sys.ping", "[]");
	for (;;) {
		if (!harness_raw_send(&r, sb.data, sb.size))
			_exit(13);
	}
}

/* _i: the hold (holds[]), by a victim that reads its replies, then by
 * one that does not. */
START_TEST(test_full_input_kill)
{
	mpmgr *m = harness_connect(D);
	int i = _i % NHOLDS;
	bool reads = _i < NHOLDS;
	char what[128];
	pid_t pid;
	int st;

	for (int k = 0; k < 2 && holds[i].setup[k][0] != NULL; k++)
		ck_assert_int_eq(harness_call(m, holds[i].setup[k][0],
		    holds[i].setup[k][1], NULL), 0);
	ck_assert((pid = fork()) != -1);
	if (pid == 0)
		victim(i, reads);
	/* Parked, its input full and more in the socket: not read any more. */
	harness_await_waiters(m, "at_never", 1);
	await_stat("paused_clients", 1);
	ck_assert_msg(await_answer(m, holds[i].probe, holds[i].probe_params,
	    holds[i].held), "%s: the victim does not hold it", holds[i].what);
	ck_assert(waitpid(pid, &st, WNOHANG) == 0);

	harness_kill9(pid);
	snprintf(what, sizeof(what), "%s: not given back after kill -9 with "
	    "a full input behind a parked request%s", holds[i].what,
	    reads ? "" : " (replies unread)");
	ck_assert_msg(await_answer(m, holds[i].probe, holds[i].probe_params,
	    holds[i].freed), "%s", what);
	/* The connection is gone with all it had. */
	await_stat("paused_clients", 0);
	ck_assert_int_eq(harness_waiters(m, "at_never"), 0);
	ck_assert_uint_eq(harness_stat(m, "clients"), 1);
	if (holds[i].explicit != NULL)
		ck_assert_int_eq(harness_call(m, "obj.delete",
		    holds[i].explicit, NULL), 0);
	mpmgr_free(m);
}
END_TEST

/* --- destructive reads never take what they cannot deliver ---------- */

/* --max-message 1m, --output-limit 2m: above the floor (1.8m + 64). */
static void
daemon_two_meg_up(void)
{
	static const char *const args[] = { "--max-message", "1m",
	    "--output-limit", "2m", NULL };

	harness_start(D, args);
}

/* A str of n bytes of c, as harness text. */
static char *
big_str(size_t n, char c)
{
	char *t = malloc(n + 3);

	ck_assert_ptr_nonnull(t);
	t[0] = '\'';
	memset(t + 1, c, n);
	t[n + 1] = '\'';
	t[n + 2] = '\0';
	return t;
}

/* The next message on r: a response to id; its PERR_* (PERR_NONE for a
 * result, then *m holds it). */
static int
raw_answer(struct harness_raw *r, uint32_t id, struct msg *m)
{
	struct mpv message;

	ck_assert_int_eq(harness_raw_recv(r, m, HARNESS_DEADLINE_MS), 1);
	ck_assert_int_eq(m->kind, MSG_RESPONSE);
	ck_assert_uint_eq(m->msgid, id);
	return msg_error_code(m, &message);
}

/* A str result of n bytes of c. */
static void
ck_big(const struct msg *m, size_t n, char c)
{
	ck_assert_int_eq(m->result.type, MPV_STR);
	ck_assert_uint_eq(m->result.len, n);
	ck_assert(m->result.ptr[0] == (uint8_t)c &&
	    m->result.ptr[n - 1] == (uint8_t)c);
}

#define BLOB 1000000      /* two fill the output limit, less the socket's */
#define ITEM 600000       /* never fits behind them */
#define SMALL 10000       /* get_many's items: some fit */

/*
 * Two unread 1 MB replies leave less than 600 KB of the 2 MiB output
 * limit (the socket holds a few hundred KB): every destructive read of a
 * 600 KB value answers LIMIT with nothing taken, and get_many takes only
 * the small items that fit. Read, then everything is still there.
 */
START_TEST(test_destructive_reads)
{
	static const struct {
		const char *method, *params;
	} reads[] = {
		{ "queue.get", "['dr_q', 0]" },
		{ "queue.get", "['dr_ackq', 0]" },
		{ "list.pop", "['dr_l']" },
		{ "dict.pop", "['dr_d', 'k']" },
		{ "pipe.recv", "['dr_p', 1, 0]" },
		{ "dict.popitem", "['dr_d']" },	/* last: its reply is a pair */
	};
	const size_t nreads = sizeof(reads) / sizeof(reads[0]);
	char *blob = big_str(BLOB, 'b'), *item = big_str(ITEM, 'i'), *p;
	char *small = big_str(SMALL, 's');
	mpmgr *m = harness_connect(D);
	struct harness_raw r;
	msgpack_sbuffer all;
	struct msg msg;
	uint32_t id = 0;
	size_t i, len = strlen(item) + 64;
	uint64_t got;

	p = malloc(len + BLOB);
	ck_assert_ptr_nonnull(p);
	snprintf(p, len + BLOB, "['dr_blob', %s]", blob);
	ck_assert_int_eq(harness_call(m, "value.set", p, NULL), 0);
	snprintf(p, len, "['dr_q', %s]", item);
	ck_assert_int_eq(harness_call(m, "queue.put", p, NULL), 0);
	ck_assert_int_eq(harness_call(m, "queue.create",
	    "['dr_ackq', {'ack': true}]", NULL), 0);
	snprintf(p, len, "['dr_ackq', %s]", item);
	ck_assert_int_eq(harness_call(m, "queue.put", p, NULL), 0);
	snprintf(p, len, "['dr_l', %s]", item);
	ck_assert_int_eq(harness_call(m, "list.append", p, NULL), 0);
	snprintf(p, len, "['dr_d', 'k', %s]", item);
	ck_assert_int_eq(harness_call(m, "dict.set", p, NULL), 0);
	snprintf(p, len, "['dr_d', 'k2', %s]", item);
	ck_assert_int_eq(harness_call(m, "dict.set", p, NULL), 0);
	snprintf(p, len, "['dr_p', 0, %s]", item);
	ck_assert_int_eq(harness_call(m, "pipe.send", p, NULL), 0);
	for (i = 0; i < 100; i++) {
		snprintf(p, len, "['dr_many', %s]", small);
		ck_assert_int_eq(harness_call(m, "queue.put", p, NULL), 0);
	}

	/* One write: the reads run behind the unread blobs. */
	harness_raw_authed(D, &r);
	msgpack_sbuffer_init(&all);
	harness_append_request(&all, ++id, "value.get", "['dr_blob']");
	harness_append_request(&all, ++id, "value.get", "['dr_blob']");
	for (i = 0; i < nreads; i++)
		harness_append_request(&all, ++id, reads[i].method,
		    reads[i].params);
	harness_append_request(&all, ++id, "queue.get_many",
	    "['dr_many', 100, 0]");
	harness_append_request(&all, ++id, "value.incr", "['dr_done']");
	ck_assert(harness_raw_send(&r, all.data, all.size));
	/* Not a byte read before all of them ran: a reader would make room. */
	ck_assert(await_answer(m, "value.get", "['dr_done']", "1"));

	for (id = 1; id <= 2; id++) {
		ck_assert_int_eq(raw_answer(&r, id, &msg), PERR_NONE);
		ck_big(&msg, BLOB, 'b');
	}
	for (i = 0; i < nreads; i++, id++)
		ck_assert_msg(raw_answer(&r, id, &msg) == PERR_LIMIT,
		    "%s %s was not refused", reads[i].method, reads[i].params);
	ck_assert_int_eq(raw_answer(&r, id, &msg), PERR_NONE);
	ck_assert_int_eq(msg.result.type, MPV_ARRAY);
	got = msg.result.len;
	ck_assert_msg(got >= 1 && got < 100, "get_many took %llu items",
	    (unsigned long long)got);
	ck_assert_int_eq(raw_answer(&r, ++id, &msg), PERR_NONE);

	/* Nothing was taken but what was answered. */
	ck_call_ok(m, "queue.qsize", "['dr_q']", "1");
	ck_call_ok(m, "queue.qsize", "['dr_ackq']", "1");
	ck_call_ok(m, "list.len", "['dr_l']", "1");
	ck_call_ok(m, "dict.len", "['dr_d']", "2");
	ck_call_ok(m, "pipe.poll", "['dr_p', 1, 0]", "true");
	snprintf(p, len, "%llu", (unsigned long long)(100 - got));
	ck_call_ok(m, "queue.qsize", "['dr_many']", p);
	/* No lease was made: task_done has nothing to acknowledge. */
	ck_assert(harness_raw_request(&r, ++id, "queue.task_done",
	    "['dr_ackq']"));
	ck_assert_int_eq(raw_answer(&r, id, &msg), PERR_BADARG);

	/* With the replies read, the same reads deliver. */
	for (i = 0; i < nreads; i++) {
		ck_assert(harness_raw_request(&r, ++id, reads[i].method,
		    reads[i].params));
		ck_assert_int_eq(raw_answer(&r, id, &msg), PERR_NONE);
		if (i < nreads - 1)
			ck_big(&msg, ITEM, 'i');
		else /* popitem: ['k2', item] */
			ck_assert(msg.result.type == MPV_ARRAY &&
			    msg.result.len == 2);
	}
	msgpack_sbuffer_destroy(&all);
	harness_raw_close(&r);
	mpmgr_free(m);
	free(p);
	free(blob);
	free(item);
	free(small);
}
END_TEST

/*
 * A getter parked behind unread replies: the item that arrives does not
 * fit, so the getter gets LIMIT and the item stays for the next one.
 */
START_TEST(test_parked_getter_limit)
{
	char *blob = big_str(BLOB, 'b'), *item = big_str(ITEM, 'i'), *p;
	mpmgr *m = harness_connect(D);
	struct harness_raw r;
	msgpack_sbuffer all;
	struct msg msg;

	p = malloc(BLOB + 64);
	ck_assert_ptr_nonnull(p);
	snprintf(p, BLOB + 64, "['pg_blob', %s]", blob);
	ck_assert_int_eq(harness_call(m, "value.set", p, NULL), 0);
	harness_raw_authed(D, &r);
	msgpack_sbuffer_init(&all);
	harness_append_request(&all, 1, "value.get", "['pg_blob']");
	harness_append_request(&all, 2, "value.get", "['pg_blob']");
	harness_append_request(&all, 3, "queue.get", "['pg_q']");
	ck_assert(harness_raw_send(&r, all.data, all.size));
	harness_await_waiters(m, "pg_q", 1);

	snprintf(p, BLOB + 64, "['pg_q', %s]", item);
	ck_assert_int_eq(harness_call(m, "queue.put", p, NULL), 0);
	ck_call_ok(m, "queue.qsize", "['pg_q']", "1");
	ck_assert_int_eq(harness_waiters(m, "pg_q"), 0);

	ck_assert_int_eq(raw_answer(&r, 1, &msg), PERR_NONE);
	ck_assert_int_eq(raw_answer(&r, 2, &msg), PERR_NONE);
	ck_assert_int_eq(raw_answer(&r, 3, &msg), PERR_LIMIT);
	ck_assert(harness_raw_request(&r, 4, "queue.get", "['pg_q', 0]"));
	ck_assert_int_eq(raw_answer(&r, 4, &msg), PERR_NONE);
	ck_big(&msg, ITEM, 'i');
	msgpack_sbuffer_destroy(&all);
	harness_raw_close(&r);
	mpmgr_free(m);
	free(p);
	free(blob);
	free(item);
}
END_TEST

/* mpmgrd with args (after the socket and key of a fresh directory) must
 * exit at once with status want, saying what in on stderr. */
static void
ck_refused(const char *const args[], int want, const char *what)
{
	struct harness h;
	const char *argv[16];
	char text[4096] = "";
	int n = 0, st;
	pid_t pid;
	FILE *f;

	harness_prepare(&h, NULL);
	argv[n++] = harness_mpmgrd();
	argv[n++] = "--socket";
	argv[n++] = h.sock;
	argv[n++] = "--authkey-file";
	argv[n++] = h.keyfile;
	while (*args != NULL && n < 15)
		argv[n++] = *args++;
	argv[n] = NULL;
	ck_assert((pid = fork()) != -1);
	if (pid == 0) {
		harness_exec_prepare(&h);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	ck_assert(waitpid(pid, &st, 0) == pid);
	if ((f = fopen(h.log, "r")) != NULL) {
		text[fread(text, 1, sizeof(text) - 1, f)] = '\0';
		fclose(f);
	}
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == want,
	    "status %#x, expected exit %d: %s", st, want, text);
	ck_assert_msg(strstr(text, what) != NULL, "'%s' lacks '%s'", text,
	    what);
	h.pid = -1;
	harness_stop(&h);
}

/* Elements of one list.append of float32s in a 1 MiB message: after
 * 23 bytes of envelope (the array's header is an array32). */
#define F32S ((1048576 - 23) / 5)

/*
 * A value stored through a 1 MiB message is at most 9/5 of it once its
 * float32s are widened: 1887437 bytes, plus a reply's 64. One byte less of
 * output limit is refused at start; with exactly that much, the largest
 * such value is stored and popped whole.
 */
START_TEST(test_limit_floor)
{
	static const char *const below[] = { "--max-message", "1m",
	    "--output-limit", "1887500", NULL };
	static const char *const at[] = { "--max-message", "1m",
	    "--output-limit", "1887501", NULL };
	struct harness h;
	struct harness_raw r;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	struct msg msg;

	ck_refused(below, 2, "give at least 1887501");
	harness_start(&h, at);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, 4);
	msgpack_pack_uint8(&pk, MSG_REQUEST);
	msgpack_pack_uint32(&pk, 1);
	msg_pack_cstr(&pk, "list.append");
	msgpack_pack_array(&pk, 2);
	msg_pack_cstr(&pk, "f");
	msgpack_pack_array(&pk, F32S);
	for (int i = 0; i < F32S; i++)
		msgpack_pack_float(&pk, 1.5f);
	ck_assert(sb.size <= 1048576 && sb.size > 1048576 - 5);
	harness_raw_authed(&h, &r);
	ck_assert(harness_raw_send(&r, sb.data, sb.size));
	ck_assert_int_eq(raw_answer(&r, 1, &msg), PERR_NONE);
	ck_assert(harness_raw_request(&r, 2, "list.pop", "['f']"));
	ck_assert_int_eq(raw_answer(&r, 2, &msg), PERR_NONE);
	ck_assert_int_eq(msg.result.type, MPV_ARRAY);
	ck_assert_uint_eq(msg.result.len, F32S);
	ck_assert_uint_eq(msg.result.rawlen, 5 + (size_t)F32S * 9);
	harness_raw_close(&r);
	msgpack_sbuffer_destroy(&sb);
	ck_assert(harness_stop(&h));
}
END_TEST

/*
 * 100 array.get of a 4M-element array, pipelined: each reply would be
 * 36 MB, past the 2 MiB output limit; each is LIMIT, measured before
 * anything is built, and the connection stays.
 */
START_TEST(test_huge_reply_refused)
{
	mpmgr *m = harness_connect(D);
	struct harness_raw r;
	msgpack_sbuffer all;
	struct msg msg;
	uint32_t id;
	uint64_t before;

	ck_assert_int_eq(harness_call(m, "array.create", "['hr_a', "
	    "{'typecode': 'd', 'length': 4194304}]", NULL), 0);
	before = harness_stat(m, "memory_used");
	harness_raw_authed(D, &r);
	msgpack_sbuffer_init(&all);
	for (id = 1; id <= 100; id++)
		harness_append_request(&all, id, "array.get", "['hr_a']");
	harness_append_request(&all, id, "sys.ping", "[]");
	ck_assert(harness_raw_send(&r, all.data, all.size));
	for (id = 1; id <= 100; id++)
		ck_assert_int_eq(raw_answer(&r, id, &msg), PERR_LIMIT);
	ck_assert_int_eq(raw_answer(&r, id, &msg), PERR_NONE);
	/* Nothing of them stayed behind either. */
	ck_assert_uint_le(harness_stat(m, "memory_used"), before + (1 << 20));
	msgpack_sbuffer_destroy(&all);
	harness_raw_close(&r);
	mpmgr_free(m);
}
END_TEST

/* --- no request stalls everyone -------------------------------------- */

#define STALL_ITEMS 1000000
#define STALL_CHUNK 50000
#define STALL_FLOOD 100

/*
 * One connection pipelines 100 list.count over a million elements (each
 * a few ms), with a value.incr after each to count them. Once its first
 * reply is there, a second connection's request is answered before the
 * flood is over: the counter it reads is below 100. Without turns, the
 * whole flood ran before the first reply was written. (How long the
 * second waits is measured by `make bench`, not here.)
 */
START_TEST(test_flood_does_not_stall)
{
	mpmgr *m = harness_connect(D);
	struct harness_raw r;
	msgpack_sbuffer all;
	msgpack_object res;
	struct msg msg;
	uint32_t id = 0;
	int i, j;

	for (i = 0; i < STALL_ITEMS / STALL_CHUNK; i++) {
		msgpack_packer *pk = mpmgr_request_begin(m, "list.extend", 2);

		ck_assert_ptr_nonnull(pk);
		msg_pack_cstr(pk, "st_big");
		msgpack_pack_array(pk, STALL_CHUNK);
		for (j = 0; j < STALL_CHUNK; j++)
			msgpack_pack_int(pk, j % 100);
		ck_assert_int_eq(mpmgr_request_end(m), 0);
		ck_assert_int_eq(mpmgr_reply(m, &res), 0);
	}
	ck_call_ok(m, "list.len", "['st_big']", "1000000");

	harness_raw_authed(D, &r);
	msgpack_sbuffer_init(&all);
	for (i = 0; i < STALL_FLOOD; i++) {
		harness_append_request(&all, ++id, "list.count",
		    "['st_big', 7]");
		harness_append_request(&all, ++id, "value.incr",
		    "['st_progress']");
	}
	ck_assert(harness_raw_send(&r, all.data, all.size));
	ck_assert_int_eq(raw_answer(&r, 1, &msg), PERR_NONE);
	ck_assert_int_eq(harness_call(m, "value.get", "['st_progress']", &res),
	    0);
	/* nil: not even the first value.incr had run */
	ck_assert(res.type == MSGPACK_OBJECT_NIL ||
	    res.type == MSGPACK_OBJECT_POSITIVE_INTEGER);
	ck_assert_msg(res.type == MSGPACK_OBJECT_NIL ||
	    res.via.u64 < STALL_FLOOD, "another client waited until the "
	    "flood of %d requests was over (progress %llu)", STALL_FLOOD,
	    (unsigned long long)res.via.u64);
	ck_assert_int_eq(mpmgr_ping(m), 0);
	/* The flood itself is answered in full and in order. */
	for (id = 2; id <= 2 * STALL_FLOOD; id++) {
		ck_assert_int_eq(raw_answer(&r, id, &msg), PERR_NONE);
		if (id % 2 == 1)
			ck_assert(msg.result.type == MPV_UINT &&
			    msg.result.v.u == STALL_ITEMS / 100);
	}
	ck_call_ok(m, "value.get", "['st_progress']", "100");
	msgpack_sbuffer_destroy(&all);
	harness_raw_close(&r);
	mpmgr_free(m);
}
END_TEST

#define WOKEN_PINGS 200

/*
 * A parked client is woken and, in the same loop turn, its own read
 * callback runs it past its share of the turn: it must leave the ready
 * list for the next turn cleanly (once, it was put on both lists and the
 * daemon spun for ever). The daemon is stopped while the holder's release
 * and then the parked client's pings are sent, so that both arrive in one
 * turn, the release first.
 */
START_TEST(test_woken_then_read)
{
	mpmgr *m = harness_connect(D);
	struct harness_raw r;
	msgpack_sbuffer pings;
	msgpack_packer *pk;
	uint32_t id;

	ck_assert_int_eq(mpmgr_lock_acquire(m, "wr_lock", 0), 1);
	harness_raw_authed(D, &r);
	ck_assert(harness_raw_request(&r, 1, "lock.acquire", "['wr_lock']"));
	harness_await_waiters(m, "wr_lock", 1);
	msgpack_sbuffer_init(&pings);
	for (id = 2; id < 2 + WOKEN_PINGS; id++)
		harness_append_request(&pings, id, "sys.ping", "[]");

	harness_freeze(D);
	/* the release first, then the pings: read in that order */
	ck_assert_ptr_nonnull(pk = mpmgr_request_begin(m, "lock.release", 1));
	msg_pack_cstr(pk, "wr_lock");
	ck_assert_int_eq(mpmgr_request_end(m), 0);
	ck_assert_int_eq(mpmgr_flush(m), 0);
	ck_assert(harness_raw_send(&r, pings.data, pings.size));
	ck_assert(kill(D->pid, SIGCONT) == 0);
	ck_assert_int_eq(mpmgr_reply(m, NULL), 0);
	ck_raw_ok(&r, 1, "true");
	for (id = 2; id < 2 + WOKEN_PINGS; id++)
		ck_raw_ok(&r, id, "'pong'");
	ck_assert_int_eq(mpmgr_ping(m), 0);
	msgpack_sbuffer_destroy(&pings);
	harness_raw_close(&r);
	mpmgr_free(m);
}
END_TEST

/* --- memory: clients' buffers have a ceiling ------------------------- */

#define CEILING (8u << 20)

static void
daemon_memory_up(void)
{
	static const char *const args[] = { "--max-message", "1m",
	    "--output-limit", "2m", "--max-client-memory", "8m",
	    "--frame-timeout", "1", NULL };

	harness_start(D, args);
}

/* The daemon has closed r's connection (POLLRDHUP at once). */
static bool
raw_dropped(const struct harness_raw *r)
{
	struct pollfd p = { .fd = r->fd, .events = POLLRDHUP };

	return poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP));
}

#define READERS 12

/*
 * 12 clients each leave two 900 KB replies unread (~1.6 MB each once the
 * socket holds its share): 19 MB of buffers against a ceiling of 8 MB.
 * The largest are dropped as they pass it; the rest stay, under it.
 */
START_TEST(test_memory_non_readers)
{
	char *blob = big_str(900000, 'm'), *p;
	mpmgr *m = harness_connect(D);
	struct harness_raw r[READERS];
	msgpack_sbuffer all;
	msgpack_object res;
	int64_t deadline;
	int i, dropped = 0;
	uint64_t used, done = 0;

	p = malloc(900000 + 64);
	ck_assert_ptr_nonnull(p);
	snprintf(p, 900000 + 64, "['mem_blob', %s]", blob);
	ck_assert_int_eq(harness_call(m, "value.set", p, NULL), 0);
	msgpack_sbuffer_init(&all);
	for (i = 0; i < READERS; i++) {
		harness_raw_authed(D, &r[i]);
		msgpack_sbuffer_clear(&all);
		harness_append_request(&all, 1, "value.get", "['mem_blob']");
		harness_append_request(&all, 2, "value.get", "['mem_blob']");
		harness_append_request(&all, 3, "value.incr", "['mem_done']");
		ck_assert(harness_raw_send(&r[i], all.data, all.size));
		/* ran all three, or dropped on the way */
		deadline = harness_now_ms() + HARNESS_DEADLINE_MS;
		while (harness_call(m, "value.get", "['mem_done']",
		    &res) != 0 ||
		    res.type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
		    res.via.u64 <= done) {
			if (raw_dropped(&r[i]))
				break;
			ck_assert_msg(harness_now_ms() < deadline, "reader %d "
			    "neither answered nor dropped", i);
			harness_nap(5);
		}
		if (res.type == MSGPACK_OBJECT_POSITIVE_INTEGER)
			done = res.via.u64;
		ck_assert_uint_le(harness_stat(m, "client_memory"), CEILING);
	}
	for (i = 0; i < READERS; i++)
		dropped += raw_dropped(&r[i]);
	ck_assert_msg(dropped >= READERS / 2 && dropped < READERS,
	    "%d of %d non-readers dropped", dropped, READERS);
	used = harness_stat(m, "memory_used");
	ck_assert_msg(used < 2 * CEILING, "memory_used %llu",
	    (unsigned long long)used);
	for (i = 0; i < READERS; i++)
		harness_raw_close(&r[i]);
	ck_assert(await_answer(m, "sys.ping", "[]", "'pong'"));
	msgpack_sbuffer_destroy(&all);
	mpmgr_free(m);
	free(p);
	free(blob);
}
END_TEST

#define HALVES 20

/*
 * 20 clients each send 900 KB of a 1 MB message and stop: 18 MB of input
 * against the ceiling of 8 MB drops the largest at once, and the
 * others are closed with LIMIT once their message has waited 1 s.
 */
START_TEST(test_memory_half_senders)
{
	static const uint8_t head[] = { 0x94, 0x00, 0x01, 0xa8, 'd', 'i',
	    'c', 't', '.', 's', 'e', 't', 0x93, 0xa2, 'h', 's', 0xa1, 'k',
	    0xdb, 0x00, 0x0f, 0x42, 0x40 };  /* str32 of 1000000 bytes */
	struct harness_raw r[HALVES];
	mpmgr *m = harness_connect(D);
	char *body = malloc(900000);
	int i, dropped = 0, timed_out = 0;
	int64_t msgid;

	ck_assert_ptr_nonnull(body);
	memset(body, 'h', 900000);
	for (i = 0; i < HALVES; i++) {
		harness_raw_authed(D, &r[i]);
		/* cut short if it is dropped meanwhile */
		if (harness_raw_send(&r[i], head, sizeof(head)))
			(void)harness_raw_send(&r[i], body, 900000);
		ck_assert_uint_le(harness_stat(m, "client_memory"), CEILING);
	}
	/* m, and the connection that asks */
	await_stat("clients", 2);
	for (i = 0; i < HALVES; i++) {
		int code = harness_raw_error(&r[i], HARNESS_DEADLINE_MS,
		    &msgid);

		/* the ceiling drops without a word; the deadline says why */
		if (code == PERR_LIMIT)
			timed_out++;
		else
			dropped++;
		harness_raw_close(&r[i]);
	}
	ck_assert_msg(dropped >= HALVES / 2 && timed_out >= 1,
	    "%d dropped for memory, %d for the deadline", dropped, timed_out);
	ck_assert_uint_lt(harness_stat(m, "client_memory"), CEILING);
	free(body);
	mpmgr_free(m);
}
END_TEST

/* --- other users: ADMIN slots, fair handshakes ----------------------- */

#define NOBODY HARNESS_NOBODY

/* A client of uid 65534 connects and authenticates: its PERR_* (0 when
 * in). */
static int
nobody_connects(void)
{
	struct harness_raw r;
	pid_t pid;
	int st;

	ck_assert((pid = fork()) != -1);
	if (pid == 0) {
		struct msg m;
		int code;

		harness_become_nobody();
		harness_raw_open(D, &r);
		/* refused at once, or challenged */
		if (harness_raw_recv(&r, &m, HARNESS_DEADLINE_MS) != 1)
			_exit(98);
		if (m.kind == MSG_NOTIFICATION &&
		    mpv_str_eq(&m.method, MPMGR_NOTIFY_ERROR)) {
			struct mpv_iter it;
			struct mpv v;

			mpv_iter_init(&it, &m.params);
			mpv_iter_next(&it, &v);
			_exit(proto_err_lookup((const char *)v.ptr, v.len));
		}
		code = harness_raw_auth(D, &r, MPMGR_PROTO_VERSION);
		_exit(code < 0 ? 97 : code);
	}
	ck_assert(waitpid(pid, &st, 0) == pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) != 99,
	    "cannot become uid %d", NOBODY);
	return WEXITSTATUS(st);
}

/* Slots past --max-clients for root and the daemon's own uid. */
#define ADMIN_SLOTS 4

static void
daemon_two_clients_up(void)
{
	static const char *const args[] = { "--max-clients", "2", NULL };

	harness_start(D, args);
}

/*
 * --max-clients 2, both taken: another user gets LIMIT, and this one
 * (root, or the daemon's own uid: ADMIN) still gets in, 4 more times,
 * and can ask what it wants to know (sys.stats).
 */
START_TEST(test_admin_slots)
{
	mpmgr *held[2 + ADMIN_SLOTS], *m = NULL;
	int i, rc;

	for (i = 0; i < 2; i++)
		held[i] = harness_connect(D);
	if (geteuid() == 0) {
		harness_socket_for_nobody(D);
		ck_assert_int_eq(nobody_connects(), PERR_LIMIT);
	}
	for (; i < 2 + ADMIN_SLOTS; i++) {
		held[i] = harness_connect(D);
		ck_assert_uint_eq(harness_stat(held[i], "clients"),
		    (uint64_t)i + 1);
	}
	rc = mpmgr_connect(&m, D->sock, D->keyfile);
	ck_assert_msg(rc == MPMGR_ELIMIT, "past the ADMIN slots: %s",
	    mpmgr_strerror(rc));
	mpmgr_free(m);
	for (i = 0; i < 2 + ADMIN_SLOTS; i++)
		mpmgr_free(held[i]);
}
END_TEST

#define FLOOD_HANDSHAKES (MPMGR_DEFAULT_MAX_UNAUTH + 6)

/*
 * A client connects and reads its challenge; then another user opens 70
 * fresh handshakes (more than the 64 allowed at once) before the client
 * sends its proof. The flooding user's own oldest are dropped, and the
 * client authenticates.
 */
START_TEST(test_fair_handshakes)
{
	struct harness_raw real, flood[FLOOD_HANDSHAKES];
	int ready[2];
	struct msg msg;
	pid_t pid;
	char c;
	int i, st;

	if (geteuid() != 0)
		return;
	harness_socket_for_nobody(D);
	harness_raw_open(D, &real);
	ck_assert_int_eq(harness_raw_recv(&real, &msg, HARNESS_DEADLINE_MS),
	    1);
	ck_assert(pipe(ready) == 0);
	ck_assert((pid = fork()) != -1);
	if (pid == 0) {
		close(ready[0]);
		harness_become_nobody();
		/* each challenge read: the daemon took them in this order */
		for (i = 0; i < FLOOD_HANDSHAKES; i++) {
			harness_raw_open(D, &flood[i]);
			if (harness_raw_recv(&flood[i], &msg,
			    HARNESS_DEADLINE_MS) != 1)
				_exit(1);
		}
		(void)!write(ready[1], "r", 1);
		/* hold them until the parent is done */
		(void)!read(ready[1], &c, 1);
		pause();
		_exit(0);
	}
	close(ready[1]);
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	ck_assert_uint_le(harness_stat_once(D, "unauth_clients"),
	    MPMGR_DEFAULT_MAX_UNAUTH);
	ck_assert_msg(harness_raw_auth(D, &real, MPMGR_PROTO_VERSION) == 0,
	    "the client was pushed out by another user's handshakes");
	ck_assert(harness_raw_request(&real, 1, "sys.ping", "[]"));
	ck_raw_ok(&real, 1, "'pong'");
	ck_assert(kill(pid, SIGKILL) == 0);
	ck_assert(waitpid(pid, &st, 0) == pid);
	close(ready[0]);
	harness_raw_close(&real);
}
END_TEST

/* --- the key ----------------------------------------------------------- */

/* Write text to path (replacing it), mode 0600. */
static void
write_key(const char *path, const char *text)
{
	FILE *f;

	unlink(path);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	ck_assert(fputs(text, f) >= 0);
	ck_assert(fclose(f) == 0);
	ck_assert(chmod(path, 0600) == 0);
}

/* The log of h holds text (polled: the daemon writes it in its time). */
static bool
log_has(const struct harness *h, const char *text)
{
	int64_t deadline = harness_now_ms() + HARNESS_DEADLINE_MS;
	char buf[8192];
	size_t n;
	FILE *f;

	for (;;) {
		if ((f = fopen(h->log, "r")) != NULL) {
			n = fread(buf, 1, sizeof(buf) - 1, f);
			buf[n] = '\0';
			fclose(f);
			if (strstr(buf, text) != NULL)
				return true;
		}
		if (harness_now_ms() >= deadline)
			return false;
		harness_nap(10);
	}
}

/*
 * A key of 15 bytes, or (as root) one in a file of another user, stops
 * the daemon at start; on SIGHUP the daemon keeps the key it has, and
 * clients that know it still get in.
 */
START_TEST(test_key_checks)
{
	struct harness h;
	char bad[160], args_key[160];
	const char *args[] = { "--authkey-file", args_key, NULL };
	mpmgr *m;

	harness_prepare(&h, NULL);
	snprintf(bad, sizeof(bad), "%s/short", h.dir);
	write_key(bad, "0123456789abcde\n");
	snprintf(args_key, sizeof(args_key), "%s", bad);
	ck_refused(args, 1, "at least 16");
	if (geteuid() == 0) {
		write_key(bad, "0123456789abcdef0123456789abcdef\n");
		ck_assert(chown(bad, NOBODY, NOBODY) == 0);
		ck_refused(args, 1, "owned by uid 65534");
	}
	h.pid = -1;
	harness_stop(&h);

	harness_start(&h, NULL);
	write_key(h.keyfile, "0123456789abcde\n");
	ck_assert(kill(h.pid, SIGHUP) == 0);
	ck_assert(log_has(&h, "kept the old authkey"));
	ck_assert_int_eq(mpmgr_connect_key(&m, h.sock, h.key, h.keylen), 0);
	ck_assert_int_eq(mpmgr_ping(m), 0);
	mpmgr_free(m);
	ck_assert(harness_stop(&h));
}
END_TEST

static Suite *
attack_suite(void)
{
	Suite *s = suite_create("it_attack");
	TCase *tc;

	tc = harness_tcase(s, "full input", 60, daemon_small_input_up,
	    harness_fixture_down);
	tcase_add_loop_test(tc, test_full_input_kill, 0, 2 * NHOLDS);

	tc = harness_tcase(s, "destructive reads", 60, daemon_two_meg_up,
	    harness_fixture_down);
	tcase_add_test(tc, test_destructive_reads);
	tcase_add_test(tc, test_parked_getter_limit);
	tcase_add_test(tc, test_limit_floor);
	tcase_add_test(tc, test_huge_reply_refused);

	tc = harness_tcase(s, "stall", 120, harness_fixture_up,
	    harness_fixture_down);
	tcase_add_test(tc, test_flood_does_not_stall);
	tcase_add_test(tc, test_woken_then_read);

	tc = harness_tcase(s, "memory", 60, daemon_memory_up,
	    harness_fixture_down);
	tcase_add_test(tc, test_memory_non_readers);
	tcase_add_test(tc, test_memory_half_senders);

	tc = harness_tcase(s, "admin slots", 60, daemon_two_clients_up,
	    harness_fixture_down);
	tcase_add_test(tc, test_admin_slots);

	tc = harness_tcase(s, "fair handshakes", 60, harness_fixture_up,
	    harness_fixture_down);
	tcase_add_test(tc, test_fair_handshakes);

	tc = harness_tcase(s, "key", 60, NULL, NULL);
	tcase_add_test(tc, test_key_checks);
	return s;
}

int
main(void)
{
	return harness_run(attack_suite());
}
