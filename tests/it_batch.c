/*
 * it_batch.c: requests that arrive together, as a pipelining client
 * sends them, answer exactly as the same requests sent one at a time.
 *
 * mpmgrd takes apart the whole requests its input holds and prefetches
 * their dict lookups together before running them (daemon/prefetch.c):
 * a hint that must change no answer. The same script of requests runs
 * against two equal dicts, once in one write and once request by
 * request, and the replies (error code, or the result's bytes) and the
 * dicts after must be the same; the dicts are large enough to be
 * prefetched. A batch that parks in its middle, or holds a malformed
 * frame, is answered up to there as before.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static struct harness *const D = &harness_fixture;

/* Keys in each dict: past the size from which tables are prefetched. */
#define BATCH_KEYS 6000

/* The script: method and params, @ for the dict's name. */
static const struct {
	const char *method;
	const char *params;
} script[] = {
	{ "dict.get", "['@', 'k:1']" },
	{ "dict.get", "['@', 'k:5999']" },
	{ "dict.get", "['@', 'missing']" },
	{ "dict.get", "['@', 'missing', 'dflt']" },
	{ "dict.set", "['@', 'k:2', 'same length']" },
	{ "dict.get", "['@', 'k:2']" },
	{ "dict.set", "['@', 'k:3', 'a value of another length']" },
	{ "dict.get", "['@', 'k:3']" },
	{ "dict.set", "['@', 'new:1', [1, 'two']]" },
	{ "dict.get", "['@', 'new:1']" },
	{ "dict.delete", "['@', 'k:4']" },
	{ "dict.get", "['@', 'k:4']" },
	{ "dict.delete", "['@', 'k:4']" },
	{ "sys.ping", "[]" },
	{ "dict.pop", "['@', 'k:5']" },
	{ "dict.pop", "['@', 'k:5', 0]" },
	{ "dict.incr", "['@', 'n:1', 5]" },
	{ "dict.incr", "['@', 'n:1', 5]" },
	{ "dict.incr", "['@', 'k:6', 1]" },
	{ "dict.contains", "['@', 'k:7']" },
	{ "dict.contains", "['@', 'k:4']" },
	{ "dict.setdefault", "['@', 'k:8', 'x']" },
	{ "dict.setdefault", "['@', 'sd:1', 'x']" },
	{ "dict.cas", "['@', 'k:9', 'v:9', 'w']" },
	{ "dict.cas", "['@', 'k:9', 'v:9', 'z']" },
	{ "dict.set", "['@', [1, 2], 'tuple']" },
	{ "dict.get", "['@', [1, 2]]" },
	{ "dict.set", "['@', 1, 'int']" },
	{ "dict.set", "['@', 1.0, 'float']" },
	{ "dict.get", "['@', 1]" },
	{ "dict.get", "['@', {'a': 1}]" },
	{ "dict.get", "['@']" },
	{ "dict.gett", "['@', 'k:1']" },
	{ "dict.get", "['@.v', 'k:1']" },
	{ "value.set", "['@.v', 3]" },
	{ "dict.get", "['@.v', 'k:1']" },
	{ "dict.get", "['@.none', 'k:1']" },
	{ "dict.len", "['@']" },
	{ "queue.put", "['@.q', 'item']" },
	{ "dict.get", "['@', 'k:10']" },
	{ "queue.get", "['@.q', 0]" },
	{ "queue.get", "['@.q', 0]" },
	{ "dict.popitem", "['@']" },
	{ "dict.get", "['@', 'sd:1']" },
	{ "dict.delete", "['@', 'k:11']" },
	{ "dict.set", "['@', 'k:11', 'back']" },
	{ "dict.get", "['@', 'k:11']" },
	{ "dict.len", "['@']" },
};
#define SCRIPT_LEN (sizeof script / sizeof script[0])
/* Rounds of the script, each with other keys, so batches hit many. */
#define ROUNDS 4

/* One reply as compared: its msgid, error code, and result's bytes. */
struct answer {
	int64_t msgid;
	int code;
	size_t len;
	uint8_t bytes[256];
};

static void
fill(const char *name)
{
	mpmgr *m = harness_connect(D);
	char params[96];
	int i;

	for (i = 0; i < BATCH_KEYS; i++) {
		snprintf(params, sizeof params, "['%s', 'k:%d', 'v:%d']", name,
		    i, i);
		harness_request(m, "dict.set", params);
	}
	ck_assert_int_eq(mpmgr_flush(m), 0);
	for (i = 0; i < BATCH_KEYS; i++)
		ck_reply_ok(m, "nil");
	mpmgr_free(m);
}

/*
 * Request i of the script in round r for the dict name, into sb: @ is the
 * name, and each round has keys of its own (k:1 is k:1001 in round 1).
 */
static void
pack_step(msgpack_sbuffer *sb, const char *name, size_t i, int r)
{
	const char *p = script[i].params;
	char params[256];
	size_t n = 0;
	int w;

	while (*p != '\0') {
		if (*p == '@')
			w = snprintf(params + n, sizeof params - n, "%s", name);
		else if (strncmp(p, "'k:", 3) == 0) {
			w = snprintf(params + n, sizeof params - n, "'k:%d",
			    atoi(p + 3) + 1000 * r);
			p += 3;
			while (*p >= '0' && *p <= '9')
				p++;
			n += (size_t)w;
			continue;
		} else
			w = snprintf(params + n, sizeof params - n, "%c", *p);
		ck_assert(w > 0 && (size_t)w < sizeof params - n);
		n += (size_t)w;
		p++;
	}
	harness_pack_request(sb, (uint32_t)(r * SCRIPT_LEN + i + 1),
	    script[i].method, params);
}

static void
take(struct harness_raw *raw, struct answer *a)
{
	struct msg m;
	struct mpv message;

	ck_assert_int_eq(harness_raw_recv(raw, &m, 10000), 1);
	ck_assert_int_eq(m.kind, MSG_RESPONSE);
	a->msgid = m.msgid;
	a->code = msg_error_code(&m, &message);
	a->len = m.result.rawlen;
	ck_assert_uint_le(a->len, sizeof a->bytes);
	memcpy(a->bytes, m.result.raw, a->len);
}

START_TEST(test_batch_as_one_by_one)
{
	static struct answer one[ROUNDS * SCRIPT_LEN], all[ROUNDS * SCRIPT_LEN];
	msgpack_sbuffer sb, batch;
	struct harness_raw raw;
	mpmgr *m, *mb;
	msgpack_object ra, rb;
	size_t i, n = ROUNDS * SCRIPT_LEN;
	int r;

	fill("ba");
	fill("bb");
	msgpack_sbuffer_init(&sb);
	msgpack_sbuffer_init(&batch);

	/* One by one: each answered before the next goes. */
	harness_raw_authed(D, &raw);
	for (r = 0; r < ROUNDS; r++) {
		for (i = 0; i < SCRIPT_LEN; i++) {
			pack_step(&sb, "bb", i, r);
			ck_assert(harness_raw_send(&raw, sb.data, sb.size));
			take(&raw, &one[r * SCRIPT_LEN + i]);
		}
	}
	harness_raw_close(&raw);

	/* All in one write. */
	harness_raw_authed(D, &raw);
	for (r = 0; r < ROUNDS; r++) {
		for (i = 0; i < SCRIPT_LEN; i++) {
			pack_step(&sb, "ba", i, r);
			msgpack_sbuffer_write(&batch, sb.data, sb.size);
		}
	}
	ck_assert(harness_raw_send(&raw, batch.data, batch.size));
	for (i = 0; i < n; i++)
		take(&raw, &all[i]);
	harness_raw_close(&raw);

	for (i = 0; i < n; i++) {
		ck_assert_msg(one[i].msgid == (int64_t)i + 1 &&
		    all[i].msgid == (int64_t)i + 1, "reply %zu out of order", i);
		ck_assert_msg(one[i].code == all[i].code && one[i].len ==
		    all[i].len && memcmp(one[i].bytes, all[i].bytes,
		    one[i].len) == 0, "request %zu (%s %s): the batch answered "
		    "otherwise", i, script[i % SCRIPT_LEN].method,
		    script[i % SCRIPT_LEN].params);
	}

	/* And the dicts are the same, in the same order. */
	m = harness_connect(D);
	mb = harness_connect(D);
	ck_assert_int_eq(harness_call(m, "dict.items", "['ba']", &ra), 0);
	ck_assert_int_eq(harness_call(mb, "dict.items", "['bb']", &rb), 0);
	ck_assert_uint_eq(ra.via.array.size, rb.via.array.size);
	ck_assert(msgpack_object_equal(ra, rb));
	mpmgr_free(m);
	mpmgr_free(mb);
	msgpack_sbuffer_destroy(&sb);
	msgpack_sbuffer_destroy(&batch);
}
END_TEST

/*
 * A request that parks in the middle of a batch holds the rest back (they
 * were taken apart and prefetched already), and they run when it is
 * answered, in order.
 */
START_TEST(test_batch_parks_midway)
{
	msgpack_sbuffer sb, batch;
	struct harness_raw raw;
	int64_t msgid = -2;

	fill("bp");
	msgpack_sbuffer_init(&sb);
	msgpack_sbuffer_init(&batch);
	harness_pack_request(&sb, 1, "dict.get", "['bp', 'k:1']");
	msgpack_sbuffer_write(&batch, sb.data, sb.size);
	harness_pack_request(&sb, 2, "queue.get", "['bp.q', 0.2]");
	msgpack_sbuffer_write(&batch, sb.data, sb.size);
	harness_pack_request(&sb, 3, "dict.set", "['bp', 'k:2', 'after']");
	msgpack_sbuffer_write(&batch, sb.data, sb.size);
	harness_pack_request(&sb, 4, "dict.get", "['bp', 'k:2']");
	msgpack_sbuffer_write(&batch, sb.data, sb.size);
	harness_pack_request(&sb, 5, "dict.get", "['bp', 'k:3']");
	msgpack_sbuffer_write(&batch, sb.data, sb.size);

	harness_raw_authed(D, &raw);
	ck_assert(harness_raw_send(&raw, batch.data, batch.size));
	ck_raw_ok(&raw, 1, "'v:1'");
	ck_assert_int_eq(harness_raw_error(&raw, 10000, &msgid), PERR_EMPTY);
	ck_assert_int_eq(msgid, 2);
	ck_raw_ok(&raw, 3, "nil");
	ck_raw_ok(&raw, 4, "'after'");
	ck_raw_ok(&raw, 5, "'v:3'");
	harness_raw_close(&raw);
	msgpack_sbuffer_destroy(&sb);
	msgpack_sbuffer_destroy(&batch);
}
END_TEST

/*
 * A batch with a malformed frame, or a frame that is not a request, in
 * its middle: what comes before is answered, then the error, then the
 * close; nothing after it runs.
 */
START_TEST(test_batch_bad_frame_midway)
{
	static const uint8_t garbage[] = { 0xc1 };
	static const uint8_t response[] = { 0x94, 0x01, 0x07, 0xc0, 0xc0 };
	const struct {
		const uint8_t *bytes;
		size_t len;
	} bad[] = { { garbage, sizeof garbage }, { response, sizeof response } };
	msgpack_sbuffer sb, batch;
	struct harness_raw raw;
	mpmgr *m;
	int64_t msgid;
	size_t i;

	fill("bm");
	msgpack_sbuffer_init(&sb);
	msgpack_sbuffer_init(&batch);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		msgpack_sbuffer_clear(&batch);
		harness_pack_request(&sb, 1, "dict.get", "['bm', 'k:1']");
		msgpack_sbuffer_write(&batch, sb.data, sb.size);
		harness_pack_request(&sb, 2, "dict.set", "['bm', 'k:1', 'x']");
		msgpack_sbuffer_write(&batch, sb.data, sb.size);
		msgpack_sbuffer_write(&batch, (const char *)bad[i].bytes,
		    bad[i].len);
		harness_pack_request(&sb, 3, "dict.set", "['bm', 'k:2', 'y']");
		msgpack_sbuffer_write(&batch, sb.data, sb.size);

		harness_raw_authed(D, &raw);
		ck_assert(harness_raw_send(&raw, batch.data, batch.size));
		ck_raw_ok(&raw, 1, i == 0 ? "'v:1'" : "'x'");
		ck_raw_ok(&raw, 2, "nil");
		msgid = -2;
		ck_assert_int_eq(harness_raw_error(&raw, 10000, &msgid),
		    PERR_BADARG);
		ck_assert(harness_raw_closed(&raw, 10000));
		harness_raw_close(&raw);
	}
	m = harness_connect(D);
	ck_call_ok(m, "dict.get", "['bm', 'k:2']", "'v:2'");
	mpmgr_free(m);
	msgpack_sbuffer_destroy(&sb);
	msgpack_sbuffer_destroy(&batch);
}
END_TEST

static Suite *
batch_suite(void)
{
	Suite *s = suite_create("it_batch");
	TCase *tc;

	tc = harness_tcase(s, "batch", 60, harness_fixture_up,
	    harness_fixture_down);
	tcase_add_test(tc, test_batch_as_one_by_one);
	tcase_add_test(tc, test_batch_parks_midway);
	tcase_add_test(tc, test_batch_bad_frame_midway);
	return s;
}

int
main(void)
{
	return harness_run(batch_suite());
}
