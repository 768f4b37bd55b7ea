/*
 * it_robust.c: mpmgrd against hostile and broken clients. Random and
 * mutated bytes, oversize messages before and after auth, headers that
 * claim gigabytes, wrong shapes, clients that vanish mid-message or never
 * read, too many unauthenticated connections, too many clients, a silent
 * handshake and a wrong protocol version. After each: the daemon is alive
 * and other clients' data is intact. And sys.cancel, pipelined behind a
 * parked request: its replies keep the order of requests.
 *
 * Wire-level tests use raw connections (harness_raw_*); one daemon per
 * TCase, started with the options the TCase is about.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"

static struct harness *const D = &harness_fixture;

static void
daemon_limits_up(void)
{
	static const char *const args[] = { "--max-message", "65536",
	    "--output-limit", "1048576", NULL };

	harness_start(D, args);
}

static void
daemon_two_clients_up(void)
{
	static const char *const args[] = { "--max-clients", "2", NULL };

	harness_start(D, args);
}

/* Store a value under the test's name, to find it intact at the end. */
static void
keep_set(const char *name)
{
	mpmgr *m = harness_connect(D);
	char params[128];

	snprintf(params, sizeof(params), "['keep', '%s', [1, 'two', 3.5]]",
	    name);
	ck_call_ok(m, "dict.set", params, "nil");
	mpmgr_free(m);
}

static void
keep_check(const char *name)
{
	mpmgr *m;
	char params[128];

	ck_assert_msg(harness_alive(D), "mpmgrd died (log: %s)",
	    harness_log(D));
	m = harness_connect(D);
	snprintf(params, sizeof(params), "['keep', '%s']", name);
	ck_call_ok(m, "dict.get", params, "[1, 'two', 3.5]");
	mpmgr_free(m);
}

/* --- random and mutated bytes --------------------------------------- */

#define SEEDS 40

START_TEST(test_random_bytes_preauth)
{
	struct harness_raw r[SEEDS];
	uint8_t junk[1500];
	size_t n;

	keep_set("random_pre");
	for (int s = 0; s < SEEDS; s++) {
		srandom((unsigned)s + 1);
		n = 1 + (size_t)random() % sizeof(junk);
		for (size_t i = 0; i < n; i++)
			junk[i] = (uint8_t)random();
		harness_raw_open(D, &r[s]);
		harness_raw_send(&r[s], junk, n);
	}
	/* the server hangs up by itself: on the garbage, or at the
	 * handshake deadline for a frame that is still incomplete */
	for (int s = 0; s < SEEDS; s++) {
		ck_assert_msg(harness_raw_closed(&r[s], 10000),
		    "seed %d: connection still open", s + 1);
		harness_raw_close(&r[s]);
	}
	keep_check("random_pre");
}
END_TEST

START_TEST(test_random_bytes_postauth)
{
	struct harness_raw r[SEEDS];
	uint8_t junk[4000];
	size_t n;

	keep_set("random_post");
	for (int s = 0; s < SEEDS; s++) {
		srandom((unsigned)s + 1000);
		n = 1 + (size_t)random() % sizeof(junk);
		for (size_t i = 0; i < n; i++)
			junk[i] = (uint8_t)random();
		harness_raw_authed(D, &r[s]);
		harness_raw_send(&r[s], junk, n);
		/* after auth nothing times out: end the stream ourselves */
		shutdown(r[s].fd, SHUT_WR);
	}
	for (int s = 0; s < SEEDS; s++) {
		ck_assert_msg(harness_raw_closed(&r[s], 10000),
		    "seed %d: connection still open", s + 1000);
		harness_raw_close(&r[s]);
	}
	keep_check("random_post");
}
END_TEST

static const struct {
	const char *method;
	const char *params;
} templates[] = {
	{ "dict.set", "['fz', 'k', [1, 2, {'a': 'b'}, b'\\x00\\x01']]" },
	{ "dict.update", "['fz', {'x': 1, 'y': [1.5, nil, true]}]" },
	{ "dict.get", "['fz', 'x', x3'\\xab\\xcd']" },
	{ "value.cas", "['fzv', nil, 'x']" },
	{ "dict.items", "['fz']" },
	{ "obj.list", "[]" },
	{ "dict.scan", "['fz', 0, 5]" },
	{ "dict.incr", "['fz', 'n', 2.5]" },
	{ "dict.pop", "['fz', [1, [2, [3]]], -70000]" },
};

#define MUTANTS 300
#define BATCH 30

START_TEST(test_mutated_requests)
{
	struct harness_raw r[BATCH];
	msgpack_sbuffer sb, ping;
	uint8_t b[512];
	size_t n;

	keep_set("mutated");
	msgpack_sbuffer_init(&sb);
	msgpack_sbuffer_init(&ping);
	harness_pack_request(&ping, 99, "sys.ping", "[]");
	srandom(4242);
	for (int base = 0; base < MUTANTS; base += BATCH) {
		for (int j = 0; j < BATCH; j++) {
			size_t t = (size_t)random() %
			    (sizeof(templates) / sizeof(templates[0]));
			int flips = 1 + (int)(random() % 3);

			harness_pack_request(&sb, (uint32_t)j,
			    templates[t].method, templates[t].params);
			ck_assert(sb.size <= sizeof(b));
			memcpy(b, sb.data, sb.size);
			n = sb.size;
			while (flips-- > 0)
				b[(size_t)random() % n] = (uint8_t)random();
			if (random() % 4 == 0)
				n = 1 + (size_t)random() % n;
			harness_raw_authed(D, &r[j]);
			harness_raw_send(&r[j], b, n);
			harness_raw_send(&r[j], ping.data, ping.size);
			shutdown(r[j].fd, SHUT_WR);
		}
		for (int j = 0; j < BATCH; j++) {
			ck_assert_msg(harness_raw_closed(&r[j], 10000),
			    "mutant %d: connection still open", base + j);
			harness_raw_close(&r[j]);
		}
	}
	msgpack_sbuffer_destroy(&sb);
	msgpack_sbuffer_destroy(&ping);
	keep_check("mutated");
}
END_TEST

/* --- oversize -------------------------------------------------------- */

START_TEST(test_big_message_preauth)
{
	static const uint8_t head[] = { 0x94, 0x00, 0x00, 0xa4, 'a', 'u', 't',
	    'h', 0x93, 0x01, 0xc6, 0x00, 0x9f, 0xff, 0xe0 };
	size_t n = 10u << 20;
	uint8_t *big = calloc(1, n);
	struct harness_raw r;
	struct msg m;
	int code;

	keep_set("big_pre");
	ck_assert_ptr_nonnull(big);
	memcpy(big, head, sizeof(head));
	harness_raw_open(D, &r);
	ck_assert_int_eq(harness_raw_recv(&r, &m, 10000), 1);
	ck_assert(mpv_str_eq(&m.method, MPMGR_NOTIFY_CHALLENGE));
	harness_raw_send(&r, big, n); /* cut short when the server hangs up */
	code = harness_raw_error(&r, 10000, NULL);
	ck_assert_msg(code == PERR_TOOBIG || code == PERR_BADARG,
	    "expected mpmgr.error TOOBIG or BADARG, got %d", code);
	ck_assert(harness_raw_closed(&r, 10000));
	harness_raw_close(&r);
	free(big);
	keep_check("big_pre");
}
END_TEST

START_TEST(test_garbage_after_auth)
{
	struct harness_raw r;
	int64_t msgid = 0;

	keep_set("garbage");
	harness_raw_authed(D, &r);
	harness_raw_send(&r, "\xc1\xc1\xc1", 3);
	ck_assert_int_eq(harness_raw_error(&r, 10000, &msgid), PERR_BADARG);
	ck_assert_int_eq(msgid, -1);
	ck_assert(harness_raw_closed(&r, 10000));
	harness_raw_close(&r);
	keep_check("garbage");
}
END_TEST

/* Headers claiming 4G elements or bytes: refused at once (the server
 * closes without waiting for more), nothing large allocated. */
START_TEST(test_huge_headers_after_auth)
{
	static const struct {
		const char *bytes;
		size_t len;
	} cases[] = {
#define BYTES(s) { s, sizeof(s) - 1 }
		BYTES("\xdf\xff\xff\xff\xff"),             /* map32 */
		BYTES("\xdd\xff\xff\xff\xff"),             /* array32 */
		BYTES("\x94\x00\x01\xa8" "dict.set" "\x93\xa2hh\xa1k"
		    "\xdf\xff\xff\xff\xff"),                /* map32 value */
		BYTES("\x94\x00\x02\xa8" "dict.set" "\x93\xa2hh\xa1k"
		    "\xdd\x7f\xff\xff\xff"),                /* array32 */
		BYTES("\x94\x00\x03\xa8" "dict.set" "\x93\xa2hh\xa1k"
		    "\xdb\xff\xff\xff\xff"),                /* str32 */
		BYTES("\x94\x00\x04\xa8" "dict.set" "\x93\xa2hh\xa1k"
		    "\xc6\xff\xff\xff\xff"),                /* bin32 */
#undef BYTES
	};
	uint64_t before, after;
	struct harness_raw r;
	int code;

	keep_set("huge");
	before = harness_stat_once(D, "memory_used");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		harness_raw_authed(D, &r);
		harness_raw_send(&r, cases[i].bytes, cases[i].len);
		code = harness_raw_error(&r, 10000, NULL);
		ck_assert_msg(code == PERR_TOOBIG || code == PERR_BADARG,
		    "case %zu: expected TOOBIG or BADARG, got %d", i, code);
		ck_assert_msg(harness_raw_closed(&r, 10000),
		    "case %zu: still open", i);
		harness_raw_close(&r);
	}
	after = harness_stat_once(D, "memory_used");
	ck_assert_msg(after < before + (1u << 20), "memory_used %llu -> %llu",
	    (unsigned long long)before, (unsigned long long)after);
	keep_check("huge");
}
END_TEST

/* --- wrong shapes ---------------------------------------------------- */

START_TEST(test_wrong_shape)
{
	static const struct {
		const char *text;
		int64_t msgid;     /* -1: a notification is the answer */
	} cases[] = {
		{ "[0, 5, 5, []]", 5 },
		{ "[0, 6, 'sys.ping', 5]", 6 },
		{ "[0, 7, 'sys.ping']", 7 },
		{ "[0, 8, 'sys.ping', [], 1]", 8 },
		{ "[0, 'x', 'sys.ping', []]", -1 },
		{ "[0, -1, 'sys.ping', []]", -1 },
		{ "[3, 1, 'sys.ping', []]", -1 },
		{ "[]", -1 },
		{ "5", -1 },
		{ "{'a': 1}", -1 },
	};
	msgpack_sbuffer sb;
	msgpack_packer pk;
	struct harness_raw r;
	int64_t msgid;
	int code;

	keep_set("shape");
	msgpack_sbuffer_init(&sb);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		msgpack_sbuffer_clear(&sb);
		msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
		msgpack_pack_object(&pk, harness_obj(cases[i].text));
		harness_raw_authed(D, &r);
		harness_raw_send(&r, sb.data, sb.size);
		msgid = -2;
		code = harness_raw_error(&r, 10000, &msgid);
		ck_assert_msg(code == PERR_BADARG, "%s: got %d",
		    cases[i].text, code);
		ck_assert_msg(msgid == cases[i].msgid, "%s: answered msgid "
		    "%lld", cases[i].text, (long long)msgid);
		ck_assert_msg(harness_raw_closed(&r, 10000), "%s: still open",
		    cases[i].text);
		harness_raw_close(&r);
	}
	msgpack_sbuffer_destroy(&sb);
	keep_check("shape");
}
END_TEST

START_TEST(test_client_sends_response)
{
	static const char *const cases[] = {
		"[1, 7, nil, nil]",
		"[1, 7, ['AUTH', 'x'], nil]",
		"[2, 'sys.ping', []]",
	};
	msgpack_sbuffer sb;
	msgpack_packer pk;
	struct harness_raw r;
	int64_t msgid;
	int code;

	keep_set("response");
	msgpack_sbuffer_init(&sb);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		msgpack_sbuffer_clear(&sb);
		msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
		msgpack_pack_object(&pk, harness_obj(cases[i]));
		harness_raw_authed(D, &r);
		harness_raw_send(&r, sb.data, sb.size);
		msgid = -2;
		code = harness_raw_error(&r, 10000, &msgid);
		ck_assert_msg(code == PERR_BADARG, "%s: got %d", cases[i],
		    code);
		/* a response has a msgid to address; a notification not */
		ck_assert_msg(msgid == -1 || (i < 2 && msgid == 7),
		    "%s: answered msgid %lld", cases[i], (long long)msgid);
		ck_assert_msg(harness_raw_closed(&r, 10000), "%s: still open",
		    cases[i]);
		harness_raw_close(&r);
	}
	msgpack_sbuffer_destroy(&sb);
	keep_check("response");
}
END_TEST

/* --- clients that misbehave in time --------------------------------- */

START_TEST(test_half_message)
{
	msgpack_sbuffer sb;
	struct harness_raw r;

	keep_set("half");
	msgpack_sbuffer_init(&sb);
	harness_pack_request(&sb, 1, "dict.set",
	    "['keep', 'half', 'overwritten?']");
	/* after auth */
	harness_raw_authed(D, &r);
	harness_raw_send(&r, sb.data, sb.size / 2);
	harness_raw_close(&r);
	/* before auth */
	harness_raw_open(D, &r);
	harness_raw_send(&r, sb.data, sb.size / 2);
	harness_raw_close(&r);
	/* after auth, with a complete request first */
	harness_raw_authed(D, &r);
	harness_pack_request(&sb, 1, "dict.set", "['keep', 'half2', 1]");
	harness_raw_send(&r, sb.data, sb.size);
	harness_pack_request(&sb, 2, "dict.set",
	    "['keep', 'half', 'overwritten?']");
	harness_raw_send(&r, sb.data, sb.size - 1);
	harness_raw_close(&r);
	msgpack_sbuffer_destroy(&sb);
	keep_check("half");
}
END_TEST

START_TEST(test_handshake_deadline)
{
	struct harness_raw r;
	struct msg m;
	int64_t msgid = 0;

	harness_raw_open(D, &r);
	ck_assert_int_eq(harness_raw_recv(&r, &m, 10000), 1);
	ck_assert(mpv_str_eq(&m.method, MPMGR_NOTIFY_CHALLENGE));
	/* say nothing: the daemon gives up after its 5 s deadline */
	ck_assert_int_eq(harness_raw_error(&r, 10000, &msgid), PERR_AUTH);
	ck_assert_int_eq(msgid, -1);
	ck_assert(harness_raw_closed(&r, 10000));
	harness_raw_close(&r);
	ck_assert(harness_alive(D));
}
END_TEST

START_TEST(test_wrong_version)
{
	struct harness_raw r;

	keep_set("version");
	harness_raw_open(D, &r);
	ck_assert_int_eq(harness_raw_auth(D, &r, MPMGR_PROTO_VERSION + 1),
	    PERR_AUTH);
	ck_assert(harness_raw_closed(&r, 10000));
	harness_raw_close(&r);
	harness_raw_open(D, &r);
	ck_assert_int_eq(harness_raw_auth(D, &r, 0), PERR_AUTH);
	ck_assert(harness_raw_closed(&r, 10000));
	harness_raw_close(&r);
	keep_check("version");
}
END_TEST

/* --- sys.cancel on the wire ----------------------------------------- */

/*
 * While a request is parked, cancels run from the head of the input, and
 * replies keep the order of requests: a cancel that misses answers false
 * right after the parked request's reply, whether a cancel behind it or
 * the lock's release is what answers the parked request.
 */
START_TEST(test_cancel_order)
{
	mpmgr *holder = harness_connect(D);
	msgpack_sbuffer all;
	struct harness_raw r;
	int64_t msgid = -2;

	ck_assert_int_eq(mpmgr_lock_acquire(holder, "rc_lock", 0), 1);
	harness_raw_authed(D, &r);
	msgpack_sbuffer_init(&all);

	/* Parks; misses; takes the parked request back. */
	harness_append_request(&all, 10, "lock.acquire", "['rc_lock']");
	harness_append_request(&all, 11, "sys.cancel", "[9]");
	harness_append_request(&all, 12, "sys.cancel", "[10]");
	ck_assert(harness_raw_send(&r, all.data, all.size));
	ck_assert_int_eq(harness_raw_error(&r, 10000, &msgid), PERR_TIMEOUT);
	ck_assert_int_eq(msgid, 10);
	ck_raw_ok(&r, 11, "false");
	ck_raw_ok(&r, 12, "true");
	ck_assert_int_eq(harness_waiters(holder, "rc_lock"), 0);

	/* Parks; misses; then the holder's release answers the parked
	 * request, and the miss after it. */
	msgpack_sbuffer_clear(&all);
	harness_append_request(&all, 20, "lock.acquire", "['rc_lock']");
	harness_append_request(&all, 21, "sys.cancel", "[19]");
	ck_assert(harness_raw_send(&r, all.data, all.size));
	harness_await_waiters(holder, "rc_lock", 1);
	ck_assert_int_eq(mpmgr_lock_release(holder, "rc_lock"), 0);
	ck_raw_ok(&r, 20, "true");
	ck_raw_ok(&r, 21, "false");

	/* Nothing else was answered, and the lock is the raw connection's. */
	ck_assert(harness_raw_request(&r, 22, "lock.release", "['rc_lock']"));
	ck_raw_ok(&r, 22, "nil");
	ck_assert(harness_raw_request(&r, 23, "sys.ping", "[]"));
	ck_raw_ok(&r, 23, "'pong'");
	harness_raw_close(&r);
	msgpack_sbuffer_destroy(&all);
	mpmgr_free(holder);
}
END_TEST

/*
 * As many cancels as a client may have outstanding (MPMGR_MAX_CANCELS)
 * miss while a request is parked: the daemon keeps every one, so a cancel
 * of the parked request sent after them still runs at once.
 */
START_TEST(test_cancel_misses)
{
	mpmgr *holder = harness_connect(D);
	msgpack_sbuffer all;
	struct harness_raw r;
	int64_t msgid = -2;
	uint32_t i;

	ck_assert_int_eq(mpmgr_lock_acquire(holder, "rc_miss", 0), 1);
	harness_raw_authed(D, &r);
	msgpack_sbuffer_init(&all);
	harness_append_request(&all, 100, "lock.acquire", "['rc_miss']");
	for (i = 0; i < MPMGR_MAX_CANCELS; i++) {
		char params[16];

		snprintf(params, sizeof params, "[%u]", 50 + i);
		harness_append_request(&all, 101 + i, "sys.cancel", params);
	}
	harness_append_request(&all, 101 + MPMGR_MAX_CANCELS, "sys.cancel",
	    "[100]");
	ck_assert(harness_raw_send(&r, all.data, all.size));
	ck_assert_int_eq(harness_raw_error(&r, 10000, &msgid), PERR_TIMEOUT);
	ck_assert_int_eq(msgid, 100);
	for (i = 0; i < MPMGR_MAX_CANCELS; i++)
		ck_raw_ok(&r, 101 + i, "false");
	ck_raw_ok(&r, 101 + MPMGR_MAX_CANCELS, "true");
	ck_assert_int_eq(harness_waiters(holder, "rc_miss"), 0);
	harness_raw_close(&r);
	msgpack_sbuffer_destroy(&all);
	ck_assert_int_eq(mpmgr_lock_release(holder, "rc_miss"), 0);
	mpmgr_free(holder);
}
END_TEST

#define UNAUTH MPMGR_DEFAULT_MAX_UNAUTH

START_TEST(test_unauth_limit)
{
	struct harness_raw r[UNAUTH + 1];
	struct pollfd pfd;
	struct msg m;
	int64_t deadline = harness_now_ms() + 10000;

	keep_set("unauth");
	/* connections of earlier tests must be gone first */
	while (harness_stat_once(D, "unauth_clients") != 0) {
		ck_assert_msg(harness_now_ms() < deadline,
		    "unauthenticated connections linger");
		harness_nap(10);
	}
	/* each challenge read: the daemon has them, in this order */
	for (int i = 0; i <= UNAUTH; i++) {
		harness_raw_open(D, &r[i]);
		ck_assert_msg(harness_raw_recv(&r[i], &m, 10000) == 1 &&
		    mpv_str_eq(&m.method, MPMGR_NOTIFY_CHALLENGE),
		    "connection %d got no challenge", i);
	}
	/* the oldest was dropped for the newest */
	ck_assert_msg(harness_raw_closed(&r[0], 10000),
	    "the oldest unauthenticated connection was not dropped");
	pfd.fd = r[1].fd;
	pfd.events = POLLIN;
	ck_assert_msg(poll(&pfd, 1, 0) == 0, "the second oldest was dropped "
	    "too");
	/* the newest, and the others, still work */
	ck_assert_int_eq(harness_raw_auth(D, &r[UNAUTH],
	    MPMGR_PROTO_VERSION), 0);
	ck_assert(harness_raw_request(&r[UNAUTH], 1, "sys.ping", "[]"));
	ck_raw_ok(&r[UNAUTH], 1, "'pong'");
	ck_assert_int_eq(harness_raw_auth(D, &r[1], MPMGR_PROTO_VERSION), 0);
	for (int i = 0; i <= UNAUTH; i++)
		harness_raw_close(&r[i]);
	keep_check("unauth");
}
END_TEST

/* --- limits (a daemon with --max-message 64k --output-limit 1m) ------ */

START_TEST(test_toobig)
{
	char *v = malloc(100000);
	msgpack_object k = mpmgr_obj_str("k"), val;
	struct harness_raw r;
	msgpack_sbuffer sb;
	mpmgr *m;
	int rc, code;

	keep_set("toobig");
	ck_assert_ptr_nonnull(v);
	memset(v, 'x', 100000);
	m = harness_connect(D);
	val = mpmgr_obj_strn(v, 100000);
	rc = mpmgr_dict_set(m, "tb", &k, &val);
	ck_assert_msg(rc == MPMGR_ETOOBIG, "got %s: %s", mpmgr_strerror(rc),
	    mpmgr_errmsg(m));
	ck_assert_str_eq(mpmgr_errcode(m), "TOOBIG");
	/* the server closed after it */
	ck_assert_int_eq(mpmgr_ping(m), MPMGR_EIO);
	mpmgr_free(m);

	/* just under the limit is fine */
	m = harness_connect(D);
	val = mpmgr_obj_strn(v, 60000);
	ck_assert_int_eq(mpmgr_dict_set(m, "tb", &k, &val), 0);
	ck_assert_int_eq(mpmgr_dict_len(m, "tb"), 1);
	mpmgr_free(m);

	/* raw: the error comes as soon as the header says too much */
	msgpack_sbuffer_init(&sb);
	harness_pack_request(&sb, 3, "dict.set", "['tb', 'k2', 'x']");
	harness_raw_authed(D, &r);
	harness_raw_send(&r, sb.data, sb.size - 2); /* up to the str header */
	harness_raw_send(&r, "\xdb\x00\x10\x00\x00", 5); /* str32 of 1 MiB */
	code = harness_raw_error(&r, 10000, NULL);
	ck_assert_int_eq(code, PERR_TOOBIG);
	ck_assert(harness_raw_closed(&r, 10000));
	harness_raw_close(&r);
	msgpack_sbuffer_destroy(&sb);
	free(v);
	keep_check("toobig");
}
END_TEST

START_TEST(test_no_reader)
{
	size_t blob = 60000;
	char *v = calloc(1, blob);
	msgpack_object val;
	msgpack_sbuffer sb;
	struct harness_raw r;
	struct pollfd pfd;
	mpmgr *m;
	int n;

	keep_set("noreader");
	ck_assert_ptr_nonnull(v);
	m = harness_connect(D);
	val.type = MSGPACK_OBJECT_BIN;
	val.via.bin.ptr = v;
	val.via.bin.size = (uint32_t)blob;
	ck_assert_int_eq(mpmgr_value_set(m, "blob", &val), 0);
	mpmgr_free(m);

	/* 200 replies of 60 KB = 12 MB, never read, limit 1 MiB */
	msgpack_sbuffer_init(&sb);
	harness_raw_authed(D, &r);
	for (uint32_t i = 0; i < 200; i++) {
		harness_pack_request(&sb, i + 1, "value.get", "['blob']");
		if (!harness_raw_send(&r, sb.data, sb.size))
			break;
	}
	pfd.fd = r.fd;
	pfd.events = POLLRDHUP;
	do
		n = poll(&pfd, 1, 10000);
	while (n == -1 && errno == EINTR);
	ck_assert_msg(n == 1 && (pfd.revents & (POLLHUP | POLLRDHUP)),
	    "a client that never reads was not dropped");
	harness_raw_close(&r);
	msgpack_sbuffer_destroy(&sb);
	free(v);

	m = harness_connect(D);
	ck_assert_int_eq(mpmgr_ping(m), 0);
	mpmgr_free(m);
	keep_check("noreader");
}
END_TEST

/* Poll until list name has n elements (a gone client's requests run in
 * the daemon's time); fails with how many ran. */
static void
await_list_len(mpmgr *m, const char *name, uint64_t n)
{
	int64_t deadline = harness_now_ms() + HARNESS_DEADLINE_MS;
	msgpack_object res;
	char params[64];

	snprintf(params, sizeof params, "['%s']", name);
	for (;;) {
		ck_assert_int_eq(harness_call(m, "list.len", params, &res), 0);
		if (res.via.u64 == n || harness_now_ms() > deadline)
			break;
		harness_nap(20);
	}
	ck_assert_msg(res.via.u64 == n, "%s: %" PRIu64 " of %" PRIu64
	    " requests ran", name, res.via.u64, n);
}

/*
 * A client that pipelines requests and goes without reading a reply: the
 * daemon still runs everything it sent (as a pipe's reader gets what a
 * writer wrote before it died). Its unread replies make the socket say
 * ECONNRESET behind the last bytes, and a reply written after its close
 * fails with EPIPE: neither may drop the requests not yet run.
 */
START_TEST(test_gone_without_reading)
{
	enum { N = 20000 };
	msgpack_sbuffer all;
	struct harness_raw r;
	mpmgr *m;

	msgpack_sbuffer_init(&all);
	for (uint32_t i = 0; i < N; i++)
		harness_append_request(&all, i + 1, "list.append",
		    "['gone', 1]");
	harness_raw_authed(D, &r);
	ck_assert(harness_raw_send(&r, all.data, all.size));
	harness_raw_close(&r);
	msgpack_sbuffer_destroy(&all);

	m = harness_connect(D);
	await_list_len(m, "gone", N);
	mpmgr_free(m);
}
END_TEST

/*
 * ...but a destructive read it sent takes nothing once the daemon knows it
 * is gone: what it took could never be delivered. The daemon is frozen
 * while the client sends 3,000 appends and 10 queue.get and closes; the
 * first reply the daemon writes meets the closed socket, and the gets at
 * the end find a client known to be gone.
 */
START_TEST(test_gone_takes_nothing)
{
	enum { N = 3000, GETS = 10 };
	msgpack_sbuffer all;
	struct harness_raw r;
	uint32_t i;
	mpmgr *m;

	m = harness_connect(D);
	for (i = 0; i < GETS; i++)
		ck_call_ok(m, "queue.put", "['gone_q', 'item']", "nil");
	msgpack_sbuffer_init(&all);
	for (i = 0; i < N; i++)
		harness_append_request(&all, i + 1, "list.append",
		    "['gone_l', 1]");
	for (i = 0; i < GETS; i++)
		harness_append_request(&all, N + i + 1, "queue.get",
		    "['gone_q', 0]");
	harness_raw_authed(D, &r);
	harness_freeze(D);
	ck_assert(harness_raw_send(&r, all.data, all.size));
	harness_raw_close(&r);
	ck_assert(kill(D->pid, SIGCONT) == 0);
	msgpack_sbuffer_destroy(&all);

	await_list_len(m, "gone_l", N);
	/* its gets ran after its appends: they took nothing */
	ck_call_ok(m, "queue.qsize", "['gone_q']", "10");
	mpmgr_free(m);
}
END_TEST

/* --- max clients (a daemon with --max-clients 2) -------------------- */

/* Slots past --max-clients for ADMIN peers: this test's uid is the
 * daemon's own (docs/PROTOCOL.md). */
#define ADMIN_SLOTS 4

START_TEST(test_max_clients)
{
	mpmgr *a = harness_connect(D), *b = harness_connect(D), *c = NULL;
	mpmgr *admin[ADMIN_SLOTS];
	int64_t deadline;
	int rc, i;

	for (i = 0; i < ADMIN_SLOTS; i++)
		admin[i] = harness_connect(D);
	rc = mpmgr_connect(&c, D->sock, D->keyfile);
	ck_assert_msg(rc == MPMGR_ELIMIT, "client past the ADMIN slots: "
	    "%s: %s", mpmgr_strerror(rc), mpmgr_errmsg(c));
	ck_assert_str_eq(mpmgr_errcode(c), "LIMIT");
	mpmgr_free(c);
	ck_assert_int_eq(mpmgr_ping(a), 0);
	ck_assert_int_eq(mpmgr_ping(b), 0);
	/* a place freed is a place taken (once the daemon saw the close) */
	mpmgr_free(a);
	deadline = harness_now_ms() + 10000;
	for (;;) {
		rc = mpmgr_connect(&c, D->sock, D->keyfile);
		if (rc != MPMGR_ELIMIT || harness_now_ms() > deadline)
			break;
		mpmgr_free(c);
		harness_nap(10);
	}
	ck_assert_msg(rc == 0, "%s: %s", mpmgr_strerror(rc), mpmgr_errmsg(c));
	ck_assert_int_eq(mpmgr_ping(c), 0);
	mpmgr_free(c);
	mpmgr_free(b);
	for (i = 0; i < ADMIN_SLOTS; i++)
		mpmgr_free(admin[i]);
}
END_TEST

static Suite *
robust_suite(void)
{
	Suite *s = suite_create("it_robust");
	TCase *tc, *lim, *two;

	tc = harness_tcase(s, "hostile", 30, harness_fixture_up,
	    harness_fixture_down);
	tcase_add_test(tc, test_random_bytes_preauth);
	tcase_add_test(tc, test_random_bytes_postauth);
	tcase_add_test(tc, test_mutated_requests);
	tcase_add_test(tc, test_big_message_preauth);
	tcase_add_test(tc, test_garbage_after_auth);
	tcase_add_test(tc, test_huge_headers_after_auth);
	tcase_add_test(tc, test_wrong_shape);
	tcase_add_test(tc, test_client_sends_response);
	tcase_add_test(tc, test_half_message);
	tcase_add_test(tc, test_handshake_deadline);
	tcase_add_test(tc, test_wrong_version);
	tcase_add_test(tc, test_cancel_order);
	tcase_add_test(tc, test_cancel_misses);
	tcase_add_test(tc, test_unauth_limit);
	tcase_add_test(tc, test_gone_without_reading);
	tcase_add_test(tc, test_gone_takes_nothing);

	lim = harness_tcase(s, "limits", 30, daemon_limits_up,
	    harness_fixture_down);
	tcase_add_test(lim, test_toobig);
	tcase_add_test(lim, test_no_reader);

	two = harness_tcase(s, "max clients", 30, daemon_two_clients_up,
	    harness_fixture_down);
	tcase_add_test(two, test_max_clients);
	return s;
}

int
main(void)
{
	return harness_run(robust_suite());
}
