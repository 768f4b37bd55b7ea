/*
 * value.h: the value rules every type shares (DESIGN.md, Values): the
 * canonical form values are stored and compared in, Python's numeric
 * equality and order, and incr's arithmetic.
 *
 * (The `value` object type, one shared value, is obj_value.c.)
 */
#ifndef MPMGR_VALUE_H
#define MPMGR_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../proto/buf.h"
#include "../proto/scan.h"

struct req;

/* The canonical nil. */
extern const uint8_t value_nil[1];

/*
 * Canonical bytes of v: v's own bytes, or its re-encoding appended to
 * scratch after resetting it (valid until scratch's next use).
 */
void value_canon(const struct mpv *v, struct buf *scratch,
    const uint8_t **bytes, size_t *n);
/* "int", "str"...: a value's kind for error messages. */
const char *value_kind(const struct mpv *v);

/*
 * incr: cur + delta, with cur NULL meaning 0 and delta NULL meaning 1.
 * int + int stays int, computed exactly: a sum that fits int64 or uint64
 * is the answer, one beyond both is RANGE; with a float it is a float. 0
 * and the canonical result in *bytes (valid until the next call), or -1
 * after replying RANGE or BADTYPE to req.
 */
int value_add(struct req *req, const struct mpv *cur,
    const struct mpv *delta, const uint8_t **bytes, size_t *n);

/* cas's answer: [ok, current], current being the n canonical bytes at
 * cur (the value after the call). */
void value_reply_cas(struct req *req, bool ok, const uint8_t *cur, size_t n);

/*
 * A number as Python compares it: an int of either sign, or a float.
 * bool is not a number here, as in incr.
 */
enum value_num_kind {
	VALUE_NUM_U,              /* a non-negative int */
	VALUE_NUM_I,              /* a negative int */
	VALUE_NUM_F
};
struct value_num {
	enum value_num_kind kind;
	union {
		uint64_t u;
		int64_t i;
		double f;
	};
};
/* value_num_cmp's answer when a NaN is involved: neither less, equal nor
 * more. */
#define VALUE_UNORDERED 2

/* v as a number: true and *x, or false when v is no int or float. */
bool value_num(const struct mpv *v, struct value_num *x);
/*
 * -1, 0 or 1 as a <, ==, > b, exactly (Python compares 2**53 + 1 and
 * 2.0**53 as different); VALUE_UNORDERED with a NaN.
 */
int value_num_cmp(const struct value_num *a, const struct value_num *b);
/* b can start the canonical bytes of a number (ints of any width, floats):
 * a cheap test before decoding a stored value. */
bool value_byte_is_num(uint8_t b);

#endif
