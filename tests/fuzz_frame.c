/*
 * fuzz_frame.c: libFuzzer target for the frame scanner, the message parser
 * and the canonical encoder (proto/scan.c, proto/msg.c).
 *
 * Promises checked on every input, for a few frame limits:
 *   - scan_frame gives the same answers (result and frame length, frame
 *     after frame) whether the input comes whole or in chunks, the chunk
 *     size taken from the first input byte;
 *   - every accepted frame can be walked by views, msg_parse and
 *     msg_parse_frame agree on it, and each value's canonical bytes are a
 *     frame the scanner accepts, of the same depth, that canon_is calls
 *     canonical.
 * Any broken promise aborts, which libFuzzer reports as a crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../proto/buf.h"
#include "../proto/msg.h"
#include "../proto/scan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

struct answer {
	int r;
	size_t flen;
};

/* Scan frame after frame from data, whole: the answers, at most cap. */
static size_t
scan_whole(const uint8_t *data, size_t size, size_t max, struct answer *a,
    size_t cap)
{
	struct scan_state st;
	const char *why;
	size_t off = 0, n = 0;

	scan_init(&st);
	while (n < cap) {
		size_t flen = 0;
		int r = scan_frame(&st, data + off, size - off, max, &flen, &why);

		a[n].r = r;
		a[n].flen = r == SCAN_FRAME ? flen : 0;
		n++;
		if (r != SCAN_FRAME || flen == 0 || off + flen == size)
			break;
		off += flen;
	}
	return n;
}

/* The same, the bytes arriving chunk bytes at a time, each time in a fresh
 * copy so that the scanner cannot rely on where they were before. */
static size_t
scan_chunked(const uint8_t *data, size_t size, size_t max, size_t chunk,
    struct answer *a, size_t cap)
{
	struct scan_state st;
	const char *why;
	size_t off = 0, n = 0, have;

	scan_init(&st);
	while (n < cap) {
		size_t flen = 0;
		int r = SCAN_MORE;

		for (have = 0; have < size - off;) {
			uint8_t *copy;

			have += chunk;
			if (have > size - off)
				have = size - off;
			copy = malloc(have ? have : 1);
			CHECK(copy != NULL);
			memcpy(copy, data + off, have);
			r = scan_frame(&st, copy, have, max, &flen, &why);
			free(copy);
			if (r != SCAN_MORE)
				break;
		}
		a[n].r = r;
		a[n].flen = r == SCAN_FRAME ? flen : 0;
		n++;
		if (r != SCAN_FRAME || flen == 0 || off + flen == size)
			break;
		off += flen;
	}
	return n;
}

/* Check v and everything inside it; returns its depth. */
static unsigned
check_value(const struct mpv *v, struct buf *scratch)
{
	struct scan_state st;
	struct mpv_iter it;
	struct mpv e, cv;
	const char *why;
	size_t flen, before = buf_used(scratch);
	unsigned depth = 0, d;
	const uint8_t *cb;
	size_t cblen;

	if (v->type == MPV_ARRAY || v->type == MPV_MAP) {
		mpv_iter_init(&it, v);
		while (mpv_iter_next(&it, &e)) {
			d = check_value(&e, scratch);
			if (d + 1 > depth)
				depth = d + 1;
		}
		if (depth == 0)
			depth = 1;
		CHECK(it.p == v->raw + v->rawlen);
	}
	/* mpv_depth stops counting past what a stored value may nest. */
	if (depth > MPMGR_MAX_DEPTH)
		depth = MPMGR_MAX_DEPTH + 1;
	CHECK(mpv_depth(v) == depth);

	CHECK(canon_append(scratch, v) == 0);
	cb = buf_head(scratch) + before;
	cblen = buf_used(scratch) - before;
	scan_init(&st);
	CHECK(scan_frame(&st, cb, cblen, SIZE_MAX, &flen, &why) == SCAN_FRAME);
	CHECK(flen == cblen);
	mpv_frame(cb, &cv);
	CHECK(cv.rawlen == cblen);
	CHECK(cv.type == v->type);
	CHECK(canon_is(&cv));
	CHECK(mpv_depth(&cv) == depth);
	/* Already canonical bytes encode to themselves. */
	if (canon_is(v))
		CHECK(cblen == v->rawlen && memcmp(cb, v->raw, cblen) == 0);
	scratch->len = scratch->off + before;

	/* canon_bytes agrees with canon_append. */
	{
		struct buf s2 = BUF_INIT;
		struct buf s3 = BUF_INIT;

		CHECK(canon_append(&s3, v) == 0);
		CHECK(canon_bytes(v, &s2, &cb, &cblen) == 0);
		CHECK(cblen == buf_used(&s3) &&
		    memcmp(cb, buf_head(&s3), cblen) == 0);
		buf_free(&s2);
		buf_free(&s3);
	}
	return depth;
}

static void
check_frame(const uint8_t *frame, size_t len, struct buf *scratch)
{
	struct msg m1, m2;
	const char *why1 = NULL, *why2 = NULL;
	struct mpv v;
	int r1, r2;

	mpv_frame(frame, &v);
	CHECK(v.rawlen == len);
	check_value(&v, scratch);

	r1 = msg_parse(frame, &m1, &why1);
	r2 = msg_parse_frame(frame, len, &m2, &why2);
	CHECK(r1 == r2);
	if (r1 == 0) {
		CHECK(m1.kind == m2.kind);
		CHECK(m1.kind == MSG_REQUEST || m1.kind == MSG_RESPONSE ||
		    m1.kind == MSG_NOTIFICATION);
		if (m1.kind != MSG_NOTIFICATION)
			CHECK(m1.msgid == m2.msgid);
		if (m1.kind != MSG_RESPONSE) {
			CHECK(m1.method.type == MPV_STR);
			CHECK(m1.params.type == MPV_ARRAY);
		} else {
			(void)msg_error_code(&m1, &v);
		}
	} else {
		CHECK(why1 != NULL && why2 != NULL);
		CHECK(m1.has_msgid == m2.has_msgid);
	}
}

#define MAX_FRAMES 64

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t maxes[] = { 64, 1024, 1 << 20 };
	struct answer whole[MAX_FRAMES], chunked[MAX_FRAMES];
	struct buf scratch = BUF_INIT;
	size_t nw, nc, i, k, off, chunk;

	if (size < 1 || size > (1 << 20))
		return 0;
	/* 1..32, or 256 for the reads of the fast path's size. */
	chunk = data[0] == 0xff ? 256 : (size_t)(data[0] & 31) + 1;
	data++;
	size--;
	for (k = 0; k < sizeof maxes / sizeof maxes[0]; k++) {
		nw = scan_whole(data, size, maxes[k], whole, MAX_FRAMES);
		nc = scan_chunked(data, size, maxes[k], chunk, chunked,
		    MAX_FRAMES);
		CHECK(nw == nc);
		for (i = 0; i < nw; i++) {
			CHECK(whole[i].r == chunked[i].r);
			CHECK(whole[i].flen == chunked[i].flen);
			if (whole[i].r == SCAN_FRAME)
				CHECK(whole[i].flen <= maxes[k]);
		}
	}
	/* The largest limit's frames, checked deeper. */
	off = 0;
	for (i = 0; i < nw && whole[i].r == SCAN_FRAME; i++) {
		check_frame(data + off, whole[i].flen, &scratch);
		off += whole[i].flen;
	}
	buf_free(&scratch);
	return 0;
}
