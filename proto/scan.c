/*
 * scan.c: the frame scanner, the typed views over validated frames, and
 * the canonical encoding of values (scan.h).
 *
 * The scanner is the only code here that reads untrusted bytes. It keeps
 * the invariant pos + due <= max (every value still due needs at least one
 * byte), so a header whose count or length cannot fit in what the frame
 * may still have is TOOBIG the moment the header is complete, and a frame
 * that answers SCAN_MORE always has fewer than max bytes buffered. It
 * advances pos only past whole values (a str, bin or ext with its payload,
 * a container by its header), so a resumed scan never looks at a byte
 * twice except the header of a payload still arriving, and a str's UTF-8
 * is checked once, when all of it is there. A frame found whole at a fresh
 * state may instead take the fast path (plain_frame), which checks bounds
 * on every byte it reads and otherwise leaves the frame to this walk.
 *
 * Everything after the scanner (views, depth, canonical form) trusts the
 * bytes it is given and does no bounds checking.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "scan.h"

static inline uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t
be64(const uint8_t *p)
{
	return (uint64_t)be32(p) << 32 | be32(p + 4);
}

static inline void
put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline void
put_be64(uint8_t *p, uint64_t v)
{
	put_be32(p, (uint32_t)(v >> 32));
	put_be32(p + 4, (uint32_t)v);
}

/*
 * Bytes of the headers 0xc0..0xdf: the first byte, the length or count
 * field and an ext's type byte; for scalars, the whole value. 0 for 0xc1,
 * which msgpack never uses.
 */
static const uint8_t head_sizes[32] = {
	1, 0, 1, 1, 2, 3, 5, 3, /* c0 nil, c1, false, true, bin8/16/32, ext8 */
	4, 6, 5, 9, 2, 3, 5, 9, /* ext16/32, float32/64, uint8/16/32/64 */
	2, 3, 5, 9, 2, 2, 2, 2, /* int8/16/32/64, fixext1/2/4/8 */
	2, 2, 3, 5, 3, 5, 3, 5  /* fixext16, str8/16/32, array16/32, map16/32 */
};

/*
 * Of the headers 0xc0..0xdf (bit c - 0xc0), those that are a whole scalar
 * with nothing to check beyond their size: nil, bools, floats, ints.
 */
#define HEAD_SCALAR UINT32_C(0x000ffc0d) /* c0 c2 c3, ca..cf, d0..d3 */

/* The header size for any first byte c (see head_sizes). */
static inline unsigned
head_size(uint8_t c)
{
	if (c <= 0xbf || c >= 0xe0)
		return 1; /* fixint, fixmap, fixarray, fixstr */
	return head_sizes[c - 0xc0];
}

static void
head_ext(struct mpv *out, const uint8_t *p, unsigned hlen, uint32_t len)
{
	out->type = MPV_EXT;
	out->ext_type = (int8_t)p[hlen - 1];
	out->len = len;
	out->ptr = p + hlen;
	out->rawlen = hlen + (size_t)len;
}

/*
 * mpv_head for the first bytes 0xc0..0xdf, with out's common fields
 * already set for a one-byte header (scan.h): out of line so that the fix
 * forms, which are most of the bytes of a request, decode inline.
 */
void __attribute__((noinline))
mpv_head_long(const uint8_t *p, struct mpv *out)
{
	uint8_t c = p[0];
	unsigned hlen = head_sizes[c - 0xc0];
	uint32_t bits32;
	uint64_t bits64;
	float f32;

	out->rawlen = hlen;
	out->ptr = p + hlen;
	switch (c) {
	case 0xc0:
		out->type = MPV_NIL;
		return;
	case 0xc2: case 0xc3:
		out->type = MPV_BOOL;
		out->v.b = c == 0xc3;
		return;
	case 0xc4: case 0xc5: case 0xc6:
		out->type = MPV_BIN;
		out->len = c == 0xc4 ? p[1] : c == 0xc5 ? be16(p + 1) : be32(p + 1);
		out->rawlen = hlen + (size_t)out->len;
		return;
	case 0xc7:
		head_ext(out, p, hlen, p[1]);
		return;
	case 0xc8:
		head_ext(out, p, hlen, be16(p + 1));
		return;
	case 0xc9:
		head_ext(out, p, hlen, be32(p + 1));
		return;
	case 0xca:
		out->type = MPV_FLOAT;
		bits32 = be32(p + 1);
		memcpy(&f32, &bits32, sizeof f32);
		out->v.f = f32;
		return;
	case 0xcb:
		out->type = MPV_FLOAT;
		bits64 = be64(p + 1);
		memcpy(&out->v.f, &bits64, sizeof out->v.f);
		return;
	case 0xcc:
		out->type = MPV_UINT;
		out->v.u = p[1];
		return;
	case 0xcd:
		out->type = MPV_UINT;
		out->v.u = be16(p + 1);
		return;
	case 0xce:
		out->type = MPV_UINT;
		out->v.u = be32(p + 1);
		return;
	case 0xcf:
		out->type = MPV_UINT;
		out->v.u = be64(p + 1);
		return;
	case 0xd0: case 0xd1: case 0xd2: case 0xd3:
		if (c == 0xd0)
			out->v.i = (int8_t)p[1];
		else if (c == 0xd1)
			out->v.i = (int16_t)be16(p + 1);
		else if (c == 0xd2)
			out->v.i = (int32_t)be32(p + 1);
		else {
			bits64 = be64(p + 1);
			memcpy(&out->v.i, &bits64, sizeof out->v.i);
		}
		/* A signed encoding of a non-negative number is still a uint. */
		out->type = out->v.i < 0 ? MPV_INT : MPV_UINT;
		return;
	case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8:
		head_ext(out, p, hlen, 1u << (c - 0xd4));
		return;
	case 0xd9:
		out->type = MPV_STR;
		out->len = p[1];
		out->rawlen = hlen + (size_t)out->len;
		return;
	case 0xda:
		out->type = MPV_STR;
		out->len = be16(p + 1);
		out->rawlen = hlen + (size_t)out->len;
		return;
	case 0xdb:
		out->type = MPV_STR;
		out->len = be32(p + 1);
		out->rawlen = hlen + (size_t)out->len;
		return;
	case 0xdc:
		out->type = MPV_ARRAY;
		out->len = be16(p + 1);
		return;
	case 0xdd:
		out->type = MPV_ARRAY;
		out->len = be32(p + 1);
		return;
	case 0xde:
		out->type = MPV_MAP;
		out->len = be16(p + 1);
		return;
	case 0xdf:
		out->type = MPV_MAP;
		out->len = be32(p + 1);
		return;
	default:
		/* 0xc1: never in a validated frame. */
		out->type = MPV_NIL;
		out->rawlen = 1;
		out->ptr = p + 1;
		return;
	}
}

/* No byte of s[0..n) has its high bit set; overlapping loads, no loop
 * for strings shorter than 16 bytes. */
static inline bool
ascii_only(const uint8_t *s, size_t n)
{
	const uint64_t high = UINT64_C(0x8080808080808080);
	uint64_t w, x;
	uint32_t a, b;
	uint16_t c, d;
	size_t i;

	if (n >= 8) {
		for (i = 0; i + 8 < n; i += 8) {
			memcpy(&w, s + i, sizeof w);
			if (w & high)
				return false;
		}
		memcpy(&x, s + n - 8, sizeof x);
		return (x & high) == 0;
	}
	if (n >= 4) {
		memcpy(&a, s, sizeof a);
		memcpy(&b, s + n - 4, sizeof b);
		return ((a | b) & 0x80808080u) == 0;
	}
	if (n >= 2) {
		memcpy(&c, s, sizeof c);
		memcpy(&d, s + n - 2, sizeof d);
		return ((c | d) & 0x8080u) == 0;
	}
	return n == 0 || s[0] < 0x80;
}

/*
 * Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above
 * U+10FFFF, no truncated sequence. ASCII runs go eight bytes at a time.
 */
static bool __attribute__((noinline))
utf8_valid_slow(const uint8_t *s, size_t n)
{
	size_t i = 0;
	uint64_t w;
	uint8_t c, lo, hi;

	while (i < n) {
		if (n - i >= 8) {
			memcpy(&w, s + i, sizeof w);
			if ((w & UINT64_C(0x8080808080808080)) == 0) {
				i += 8;
				continue;
			}
		}
		c = s[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c < 0xc2 || c > 0xf4)
			return false; /* continuation, overlong lead, > U+10FFFF */
		if (c < 0xe0) {
			if (n - i < 2 || (s[i + 1] & 0xc0) != 0x80)
				return false;
			i += 2;
			continue;
		}
		/* The second byte's range excludes overlongs and surrogates. */
		lo = 0x80;
		hi = 0xbf;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
		else if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
		if (c < 0xf0) {
			if (n - i < 3 || s[i + 1] < lo || s[i + 1] > hi ||
			    (s[i + 2] & 0xc0) != 0x80)
				return false;
			i += 3;
		} else {
			if (n - i < 4 || s[i + 1] < lo || s[i + 1] > hi ||
			    (s[i + 2] & 0xc0) != 0x80 ||
			    (s[i + 3] & 0xc0) != 0x80)
				return false;
			i += 4;
		}
	}
	return true;
}

/* Names, keys and most values are ASCII: that is checked inline. */
static inline bool
utf8_valid(const uint8_t *s, size_t n)
{
	return ascii_only(s, n) || utf8_valid_slow(s, n);
}

/*
 * scan_frame's fast path, for the frames nearly every request and reply
 * is: a fixarray of scalars, ASCII strs and bins of up to 255 bytes, and
 * fixarrays of those (a request's params), all of it in the buffer. Such
 * a frame needs none of the general walk's bookkeeping (due counts, depth,
 * resumable state), which is most of what the walk costs per value.
 * Measured with callgrind (c=50 P=16, -r 100000, instructions per
 * operation, without -> with it): mpmgrd ping 740 -> 621, dict.set 1622 ->
 * 1435, queue.get 1348 -> 1210; mpbench (libmpmgr) ping 992 -> 830,
 * dict.set 1489 -> 1269.
 *
 * When a frame is not of that shape, not all there, or not valid, the
 * fast path answers 0 and the general walk decides from the frame's
 * start: every input gets the same answer either way (tests/unit_proto.c
 * checks it against a byte-by-byte scan, which never takes this path).
 */
_Static_assert(MPMGR_FRAME_DEPTH >= 2, "a plain frame nests two deep");

/*
 * What the fast path makes of a value's first byte: 1..9, the size of a
 * scalar (fixint, nil, bool, float, int); PLAIN_STR, a fixstr; PLAIN_STR8
 * and PLAIN_BIN8, a str 8 or bin 8; PLAIN_ARR, a fixarray; 0, a value
 * left to the general walk.
 */
enum { PLAIN_STR = 16, PLAIN_STR8, PLAIN_BIN8, PLAIN_ARR };
#define A PLAIN_ARR
#define S PLAIN_STR
static const uint8_t plain_kinds[256] = {
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 00 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 10 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 20 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 30 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 40 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 50 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 60 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 70 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 80 fixmap */
	A, A, A, A, A, A, A, A, A, A, A, A, A, A, A, A, /* 90 */
	S, S, S, S, S, S, S, S, S, S, S, S, S, S, S, S, /* a0 */
	S, S, S, S, S, S, S, S, S, S, S, S, S, S, S, S, /* b0 */
	1, 0, 1, 1, PLAIN_BIN8, 0, 0, 0,                /* c0 */
	0, 0, 5, 9, 2, 3, 5, 9,                         /* c8 */
	2, 3, 5, 9, 0, 0, 0, 0,                         /* d0 */
	0, PLAIN_STR8, 0, 0, 0, 0, 0, 0,                /* d8 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* e0 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* f0 */
};
#undef A
#undef S

/* The end of the scalar, str or bin at p (p < end), or NULL. */
static inline const uint8_t * __attribute__((always_inline))
plain_value(const uint8_t *p, const uint8_t *end)
{
	size_t vlen;
	uint8_t k = plain_kinds[*p];

	if (k <= 9)
		return k != 0 && (size_t)(end - p) >= k ? p + k : NULL;
	if (k == PLAIN_STR) {
		vlen = *p & 0x1f;
		p++;
	} else {
		if (k == PLAIN_ARR || end - p < 2)
			return NULL;
		vlen = p[1];
		p += 2;
	}
	if ((size_t)(end - p) < vlen ||
	    (k != PLAIN_BIN8 && !ascii_only(p, vlen)))
		return NULL;
	return p + vlen;
}

/* The length of the plain frame at buf[0..len), or 0 (see above). */
static size_t
plain_frame(const uint8_t *buf, size_t len)
{
	const uint8_t *p = buf + 1, *end = buf + len;
	unsigned n, k;

	if (len == 0 || plain_kinds[buf[0]] != PLAIN_ARR)
		return 0;
	for (n = buf[0] & 0x0f; n > 0; n--) {
		if (p == end)
			return 0;
		if (plain_kinds[*p] != PLAIN_ARR) {
			if ((p = plain_value(p, end)) == NULL)
				return 0;
			continue;
		}
		for (k = *p++ & 0x0f; k > 0; k--)
			if (p == end || (p = plain_value(p, end)) == NULL)
				return 0;
	}
	return (size_t)(p - buf);
}

bool
scan_utf8(const uint8_t *s, size_t n)
{
	return utf8_valid(s, n);
}

void
scan_init(struct scan_state *s)
{
	s->pos = 0;
	s->depth = 0;
	s->due = 1;
	s->left[0] = 1;
}

/*
 * The general walk, resumable, of any frame. The position, depth, due
 * count and the current level's count (cur, the left[depth] of the state)
 * live in locals during the walk (the buffer's bytes may alias anything,
 * so through s they would be reloaded after every store) and go back to s
 * when the call returns. Out of line, so that the fast path does not pay
 * for saving the registers it needs.
 */
static int __attribute__((noinline))
scan_walk(struct scan_state *s, const uint8_t *buf, size_t len,
    size_t max, size_t *frame_len, const char **why)
{
	struct mpv h;
	uint64_t *left = s->left, room, rest, kids, due, cur;
	size_t pos, avail;
	uint32_t depth;
	unsigned hlen;
	uint8_t c;
	int r;

	/* A zeroed state is a fresh one, as if from scan_init. */
	if (s->pos == 0 && s->depth == 0) {
		left[0] = 1;
		s->due = 1;
	}
	pos = s->pos;
	depth = s->depth;
	due = s->due;
	cur = left[depth];
	/*
	 * Checked once per call, in case max changed since the last one:
	 * within a call every step below keeps pos + due <= max.
	 */
	if (pos > max || due > max - pos) {
		*why = "message too large";
		return SCAN_TOOBIG;
	}
	for (;;) {
		while (cur == 0) {
			if (depth == 0) {
				*frame_len = pos;
				scan_init(s);
				return SCAN_FRAME;
			}
			cur = left[--depth];
		}
		if (pos >= len) {
			r = SCAN_MORE;
			break;
		}
		c = buf[pos];
		rest = due - 1; /* due after this value, one byte each */
		if (c <= 0x7f || c >= 0xe0) {
			/* A fixint: its one byte is already counted in due. */
			pos++;
			cur--;
			due = rest;
			continue;
		}
		room = max - pos;
		if (c <= 0xbf) {
			/* The other fix forms, also one byte of header (which
			 * always fits: it is counted in due). */
			room -= rest + 1;
			avail = len - pos - 1;
			if (c >= 0xa0) {
				kids = c & 0x1f; /* fixstr: its length */
				if (kids > room) {
					*why = "length larger than the message "
					    "can hold";
					r = SCAN_TOOBIG;
					break;
				}
				if (avail < kids) {
					r = SCAN_MORE;
					break;
				}
				if (!utf8_valid(buf + pos + 1, (size_t)kids)) {
					*why = "str is not valid UTF-8";
					r = SCAN_BAD;
					break;
				}
				pos += 1 + (size_t)kids;
				cur--;
				due = rest;
				continue;
			}
			if (depth == MPMGR_FRAME_DEPTH) {
				*why = "nested too deep";
				r = SCAN_BAD;
				break;
			}
			kids = c <= 0x8f ? 2 * (uint64_t)(c & 0x0f) : c & 0x0f;
			if (kids > room) {
				*why = "count larger than the message can hold";
				r = SCAN_TOOBIG;
				break;
			}
			pos++;
			left[depth++] = cur - 1;
			due = rest + kids;
			cur = kids;
			continue;
		}
		hlen = head_size(c);
		if (hlen == 0) {
			*why = "invalid byte 0xc1";
			r = SCAN_BAD;
			break;
		}
		if (hlen > room - rest) {
			*why = "message too large";
			r = SCAN_TOOBIG;
			break;
		}
		avail = len - pos;
		if (avail < hlen) {
			r = SCAN_MORE;
			break;
		}
		if (HEAD_SCALAR & (UINT32_C(1) << (c - 0xc0))) {
			pos += hlen;
			cur--;
			due = rest;
			continue;
		}
		mpv_head(buf + pos, &h);
		room -= rest + hlen;

		switch (h.type) {
		case MPV_ARRAY:
		case MPV_MAP:
			if (depth == MPMGR_FRAME_DEPTH) {
				*why = "nested too deep";
				r = SCAN_BAD;
				goto out;
			}
			kids = mpv_children(&h);
			if (kids > room) {
				*why = "count larger than the message can hold";
				r = SCAN_TOOBIG;
				goto out;
			}
			pos += hlen;
			left[depth++] = cur - 1;
			due = rest + kids;
			cur = kids;
			continue;
		case MPV_STR:
		case MPV_BIN:
		case MPV_EXT:
			if (h.len > room) {
				*why = "length larger than the message can hold";
				r = SCAN_TOOBIG;
				goto out;
			}
			if (avail - hlen < h.len) {
				r = SCAN_MORE;
				goto out;
			}
			if (h.type == MPV_STR && !utf8_valid(h.ptr, h.len)) {
				*why = "str is not valid UTF-8";
				r = SCAN_BAD;
				goto out;
			}
			break;
		default:
			break;
		}
		pos += h.rawlen;
		cur--;
		due = rest;
	}
out:
	left[depth] = cur;
	s->pos = pos;
	s->depth = depth;
	s->due = due;
	return r;
}

int
scan_frame(struct scan_state *s, const uint8_t *buf, size_t len,
    size_t max, size_t *frame_len, const char **why)
{
	size_t n;

	if (s->pos == 0 && s->depth == 0 &&
	    (n = plain_frame(buf, len)) != 0 && n <= max) {
		*frame_len = n;
		return SCAN_FRAME;
	}
	return scan_walk(s, buf, len, max, frame_len, why);
}

const uint8_t *
mpv_skip(const uint8_t *p, uint64_t n)
{
	struct mpv h;

	while (n > 0) {
		mpv_head(p, &h);
		p += h.rawlen;
		n += mpv_children(&h);
		n--;
	}
	return p;
}

void
mpv_frame(const uint8_t *frame, struct mpv *out)
{
	mpv_read(&frame, out);
}

bool
mpv_to_int64(const struct mpv *v, int64_t *out)
{
	if (v->type == MPV_INT) {
		*out = v->v.i;
		return true;
	}
	if (v->type == MPV_UINT && v->v.u <= INT64_MAX) {
		*out = (int64_t)v->v.u;
		return true;
	}
	return false;
}

bool
mpv_to_double(const struct mpv *v, double *out)
{
	switch (v->type) {
	case MPV_UINT:
		*out = (double)v->v.u;
		return true;
	case MPV_INT:
		*out = (double)v->v.i;
		return true;
	case MPV_FLOAT:
		*out = v->v.f;
		return true;
	default:
		return false;
	}
}

bool
mpv_str_eq(const struct mpv *v, const char *s)
{
	size_t n = strlen(s);

	return v->type == MPV_STR && v->len == n && memcmp(v->ptr, s, n) == 0;
}

unsigned
mpv_depth(const struct mpv *v)
{
	uint64_t left[MPMGR_MAX_DEPTH + 1];
	const uint8_t *p = v->ptr;
	unsigned d, deepest;
	struct mpv e;

	if (v->type != MPV_ARRAY && v->type != MPV_MAP)
		return 0;
	d = deepest = 1;
	left[1] = mpv_children(v);
	while (d > 0) {
		if (left[d] == 0) {
			d--;
			continue;
		}
		left[d]--;
		mpv_head(p, &e);
		if (e.type != MPV_ARRAY && e.type != MPV_MAP) {
			p += e.rawlen;
			continue;
		}
		if (d == MPMGR_MAX_DEPTH) {
			/* Deeper than any validated frame: say so, stay in bounds. */
			deepest = MPMGR_MAX_DEPTH + 1;
			p = mpv_skip(e.ptr, mpv_children(&e));
			continue;
		}
		p = e.ptr;
		left[++d] = mpv_children(&e);
		if (d > deepest)
			deepest = d;
	}
	return deepest;
}

/* Whether one value's header (not its children) is in canonical form. */
static inline bool
head_canonical(const struct mpv *e)
{
	uint8_t c = e->raw[0];

	switch (c) {
	case 0xca:
		return false;
	case 0xcc:
		return e->v.u > 0x7f;
	case 0xcd:
		return e->v.u > UINT8_MAX;
	case 0xce:
		return e->v.u > UINT16_MAX;
	case 0xcf:
		return e->v.u > UINT32_MAX;
	case 0xd0:
		return e->type == MPV_INT && e->v.i < -32;
	case 0xd1:
		return e->type == MPV_INT && e->v.i < INT8_MIN;
	case 0xd2:
		return e->type == MPV_INT && e->v.i < INT16_MIN;
	case 0xd3:
		return e->type == MPV_INT && e->v.i < INT32_MIN;
	case 0xd9:
		return e->len > 31;
	case 0xc5: case 0xc8: case 0xda:
		return e->len > UINT8_MAX;
	case 0xdc: case 0xde:
		return e->len > 15;
	case 0xc6: case 0xc9: case 0xdb: case 0xdd: case 0xdf:
		return e->len > UINT16_MAX;
	case 0xc7:
		return e->len != 1 && e->len != 2 && e->len != 4 &&
		    e->len != 8 && e->len != 16;
	default:
		return true;
	}
}

bool
canon_is(const struct mpv *v)
{
	const uint8_t *p = v->raw;
	uint64_t n = 1;
	struct mpv e;

	/* A scalar's view is its decoded header already. */
	if (v->type != MPV_ARRAY && v->type != MPV_MAP)
		return head_canonical(v);
	while (n > 0) {
		mpv_head(p, &e);
		if (!head_canonical(&e))
			return false;
		p += e.rawlen;
		n += mpv_children(&e);
		n--;
	}
	return true;
}

/* Header for a length or count: fix form up to fixmax, then 8/16/32-bit. */
static size_t
put_len(uint8_t *h, uint32_t n, uint8_t fix, uint32_t fixmax, uint8_t c8,
    uint8_t c16, uint8_t c32)
{
	if (fix != 0 && n <= fixmax) {
		h[0] = (uint8_t)(fix | n);
		return 1;
	}
	if (c8 != 0 && n <= UINT8_MAX) {
		h[0] = c8;
		h[1] = (uint8_t)n;
		return 2;
	}
	if (n <= UINT16_MAX) {
		h[0] = c16;
		put_be16(h + 1, (uint16_t)n);
		return 3;
	}
	h[0] = c32;
	put_be32(h + 1, n);
	return 5;
}

static size_t
put_uint(uint8_t *h, uint64_t u)
{
	if (u <= 0x7f) {
		h[0] = (uint8_t)u;
		return 1;
	}
	if (u <= UINT8_MAX) {
		h[0] = 0xcc;
		h[1] = (uint8_t)u;
		return 2;
	}
	if (u <= UINT16_MAX) {
		h[0] = 0xcd;
		put_be16(h + 1, (uint16_t)u);
		return 3;
	}
	if (u <= UINT32_MAX) {
		h[0] = 0xce;
		put_be32(h + 1, (uint32_t)u);
		return 5;
	}
	h[0] = 0xcf;
	put_be64(h + 1, u);
	return 9;
}

/* A negative integer in its shortest form. */
static size_t
put_negint(uint8_t *h, int64_t i)
{
	if (i >= -32) {
		h[0] = (uint8_t)(int8_t)i;
		return 1;
	}
	if (i >= INT8_MIN) {
		h[0] = 0xd0;
		h[1] = (uint8_t)(int8_t)i;
		return 2;
	}
	if (i >= INT16_MIN) {
		h[0] = 0xd1;
		put_be16(h + 1, (uint16_t)(int16_t)i);
		return 3;
	}
	if (i >= INT32_MIN) {
		h[0] = 0xd2;
		put_be32(h + 1, (uint32_t)(int32_t)i);
		return 5;
	}
	h[0] = 0xd3;
	put_be64(h + 1, (uint64_t)i);
	return 9;
}

static size_t
put_ext(uint8_t *h, uint32_t len, int8_t type)
{
	size_t n;

	switch (len) {
	case 1: h[0] = 0xd4; n = 1; break;
	case 2: h[0] = 0xd5; n = 1; break;
	case 4: h[0] = 0xd6; n = 1; break;
	case 8: h[0] = 0xd7; n = 1; break;
	case 16: h[0] = 0xd8; n = 1; break;
	default: n = put_len(h, len, 0, 0, 0xc7, 0xc8, 0xc9); break;
	}
	h[n] = (uint8_t)type;
	return n + 1;
}

/* One value's canonical header, and its payload for str, bin and ext. */
static int
canon_put(struct buf *b, const struct mpv *e)
{
	uint8_t h[10];
	uint64_t bits;
	size_t n;

	switch (e->type) {
	case MPV_NIL:
	case MPV_BOOL:
		h[0] = e->raw[0];
		n = 1;
		break;
	case MPV_UINT:
		n = put_uint(h, e->v.u);
		break;
	case MPV_INT:
		n = put_negint(h, e->v.i);
		break;
	case MPV_FLOAT:
		h[0] = 0xcb;
		memcpy(&bits, &e->v.f, sizeof bits);
		put_be64(h + 1, bits);
		n = 9;
		break;
	case MPV_STR:
		n = put_len(h, e->len, 0xa0, 31, 0xd9, 0xda, 0xdb);
		break;
	case MPV_BIN:
		n = put_len(h, e->len, 0, 0, 0xc4, 0xc5, 0xc6);
		break;
	case MPV_EXT:
		n = put_ext(h, e->len, e->ext_type);
		break;
	case MPV_ARRAY:
		n = put_len(h, e->len, 0x90, 15, 0, 0xdc, 0xdd);
		break;
	case MPV_MAP:
		n = put_len(h, e->len, 0x80, 15, 0, 0xde, 0xdf);
		break;
	default:
		return 0;
	}
	if (buf_append(b, h, n) == -1)
		return -1;
	if (e->type == MPV_STR || e->type == MPV_BIN || e->type == MPV_EXT)
		return buf_append(b, e->ptr, e->len);
	return 0;
}

int
canon_append(struct buf *b, const struct mpv *v)
{
	const uint8_t *p = v->raw;
	size_t start = b->len;
	uint64_t n = 1;
	struct mpv e;

	/* Widening floats is the only way the encoding grows: 4 bytes each. */
	if (buf_reserve(b, v->rawlen) == -1)
		return -1;
	while (n > 0) {
		mpv_head(p, &e);
		if (canon_put(b, &e) == -1) {
			b->len = start;
			return -1;
		}
		p += e.rawlen;
		n += mpv_children(&e);
		n--;
	}
	return 0;
}

int
canon_bytes(const struct mpv *v, struct buf *scratch, const uint8_t **out,
    size_t *outlen)
{
	size_t start;

	if (canon_is(v)) {
		*out = v->raw;
		*outlen = v->rawlen;
		return 0;
	}
	start = scratch->len;
	if (canon_append(scratch, v) == -1)
		return -1;
	*out = scratch->data + start;
	*outlen = scratch->len - start;
	return 0;
}
