/*
 * scan.h: the frame scanner and typed views over MessagePack bytes.
 *
 * scan_frame() finds where one MessagePack value (a frame) ends in a byte
 * stream and validates it in the same pass, allocating nothing:
 *   - nesting at most MPMGR_FRAME_DEPTH containers deep (a stored value
 *     may nest MPMGR_MAX_DEPTH; the envelope around it takes the rest);
 *   - every container count and every str/bin/ext length checked against the
 *     bytes the frame may still have (each element needs at least one byte),
 *     so a 5-byte map header claiming 4 billion entries is rejected at once
 *     instead of being waited for or allocated;
 *   - str must be valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF);
 *   - 0xc1 (never used) is invalid.
 * The scanner is resumable: when the buffer ends inside a frame it answers
 * SCAN_MORE and remembers where it was, so a 16 MiB frame arriving in 64 KiB
 * reads is scanned once, not 256 times. The caller passes the same state
 * and the same bytes (grown at the end, possibly moved in memory) until the
 * frame completes.
 *
 * Views (struct mpv) read values inside a frame that scan_frame accepted.
 * They do no bounds checking of their own: never point them at bytes the
 * scanner has not validated.
 */
#ifndef MPMGR_SCAN_H
#define MPMGR_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mpmgr_proto.h"

enum scan_result {
	SCAN_MORE = 0,   /* the frame is not complete yet */
	SCAN_FRAME = 1,  /* *frame_len bytes from buf[0] are one valid frame */
	SCAN_BAD = -1,   /* invalid bytes: *why says what (static string) */
	SCAN_TOOBIG = -2 /* the frame is (or claims to be) larger than max */
};

struct scan_state {
	size_t pos;       /* next byte to look at, from the frame's start */
	uint32_t depth;   /* open containers */
	uint64_t due;     /* sum of left[]: the least bytes the frame still needs */
	uint64_t left[MPMGR_FRAME_DEPTH + 1]; /* elements still due per level */
};

void scan_init(struct scan_state *s);
/* s[0..n) is valid UTF-8, as the scanner requires of a str. */
bool scan_utf8(const uint8_t *s, size_t n);
/*
 * Scan buf[0..len) for one frame starting at buf[0]. max is the largest
 * frame allowed. On SCAN_FRAME the state is reset, ready for the next frame
 * (which starts at buf[*frame_len]). After SCAN_BAD or SCAN_TOOBIG the
 * stream is unusable. The usual frame, a small fixarray of scalars, short
 * ASCII strs and fixarrays of those, found whole at a fresh state, takes a
 * fast path (scan.c); the answer is the same either way.
 */
int scan_frame(struct scan_state *s, const uint8_t *buf, size_t len,
    size_t max, size_t *frame_len, const char **why);

enum mpv_type {
	MPV_NIL, MPV_BOOL, MPV_UINT, MPV_INT, MPV_FLOAT,
	MPV_STR, MPV_BIN, MPV_ARRAY, MPV_MAP, MPV_EXT
};

/* A typed view of one value. MPV_INT is only for negative integers. */
struct mpv {
	enum mpv_type type;
	const uint8_t *raw;  /* the value's first byte */
	size_t rawlen;       /* all its bytes, header to last nested byte */
	union {
		bool b;
		uint64_t u;
		int64_t i;
		double f;    /* float32 is widened */
	} v;
	const uint8_t *ptr;  /* STR/BIN/EXT payload, ARRAY/MAP first element */
	uint32_t len;        /* STR/BIN/EXT bytes; ARRAY elements; MAP pairs */
	int8_t ext_type;
};

/*
 * The readers below are inline: they run for every value of every request.
 * mpv_head_long and mpv_skip are their out-of-line parts, not for direct
 * use: mpv_head_long decodes a header starting with 0xc0..0xdf into an out
 * whose fields mpv_head has set for a one-byte header; mpv_skip returns
 * the end of the n values starting at p.
 */
void mpv_head_long(const uint8_t *p, struct mpv *out);
const uint8_t *mpv_skip(const uint8_t *p, uint64_t n);

/*
 * View of the value at p without walking a container's elements: all of
 * out is set as by mpv_read except a container's rawlen, which is only its
 * header's. O(1).
 */
static inline void
mpv_head(const uint8_t *p, struct mpv *out)
{
	uint8_t c = p[0];

	out->raw = p;
	out->rawlen = 1;
	out->ptr = p + 1;
	out->len = 0;
	out->ext_type = 0;
	out->v.u = 0;
	if (c <= 0x7f) {
		out->type = MPV_UINT;
		out->v.u = c;
	} else if (c >= 0xe0) {
		out->type = MPV_INT;
		out->v.i = (int8_t)c;
	} else if (c >= 0xc0) {
		mpv_head_long(p, out);
	} else if (c >= 0xa0) {
		out->type = MPV_STR;
		out->len = c & 0x1f;
		out->rawlen = 1 + (size_t)out->len;
	} else {
		out->type = c <= 0x8f ? MPV_MAP : MPV_ARRAY;
		out->len = c & 0x0f;
	}
}

/* Values directly inside a container: elements, or keys plus values. */
static inline uint64_t
mpv_children(const struct mpv *v)
{
	if (v->type == MPV_ARRAY)
		return v->len;
	if (v->type == MPV_MAP)
		return 2 * (uint64_t)v->len;
	return 0;
}

/* Read the value at *p and move *p past it (nested content included). */
static inline void
mpv_read(const uint8_t **p, struct mpv *out)
{
	mpv_head(*p, out);
	if (out->type == MPV_ARRAY || out->type == MPV_MAP)
		out->rawlen = (size_t)(mpv_skip(out->ptr, mpv_children(out)) -
		    *p);
	*p += out->rawlen;
}

/* View of a whole validated frame. */
void mpv_frame(const uint8_t *frame, struct mpv *out);

/* Walk the elements of an ARRAY, or keys and values alternately of a MAP. */
struct mpv_iter {
	const uint8_t *p;
	uint64_t left;
};

static inline void
mpv_iter_init(struct mpv_iter *it, const struct mpv *container)
{
	it->p = container->ptr;
	it->left = mpv_children(container);
}

static inline bool
mpv_iter_next(struct mpv_iter *it, struct mpv *out)
{
	if (it->left == 0)
		return false;
	mpv_read(&it->p, out);
	it->left--;
	return true;
}

/* Integer of either sign that fits int64_t: true and *out; else false. */
bool mpv_to_int64(const struct mpv *v, int64_t *out);
/* Any number (UINT, INT, FLOAT) as a double: true and *out; else false. */
bool mpv_to_double(const struct mpv *v, double *out);
/* STR equal to the NUL-terminated s. */
bool mpv_str_eq(const struct mpv *v, const char *s);
/* Nesting depth of a view: 0 for a scalar, 1 for a flat array... */
unsigned mpv_depth(const struct mpv *v);

/*
 * Canonical encoding, the form in which values are stored and compared:
 * shortest headers; non-negative integers as uint, negative as the shortest
 * int; float32 widened to float64; map order as sent; str, bin and ext
 * payloads unchanged.
 */
/* True when v's bytes are canonical already (all nested values too). */
bool canon_is(const struct mpv *v);

struct buf;
/*
 * Canonical bytes of v: *out points at v->raw when that is canonical,
 * else at the canonical encoding appended to scratch (which the caller
 * resets). 0, or -1 on ENOMEM.
 */
int canon_bytes(const struct mpv *v, struct buf *scratch,
    const uint8_t **out, size_t *outlen);
/* Append v's canonical encoding to b. 0, or -1 on ENOMEM. */
int canon_append(struct buf *b, const struct mpv *v);

#endif
