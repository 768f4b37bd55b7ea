/*
 * value.c: the value rules every type shares (value.h): canonical bytes,
 * numeric equality and order, and incr's arithmetic.
 *
 * Nothing here keeps state beyond scratch buffers reused from request to
 * request.
 */
#include <math.h>
#include <string.h>

#include "dispatch.h"
#include "log.h"
#include "reply.h"
#include "value.h"

const uint8_t value_nil[1] = { 0xc0 };

/* Scratch: incr's result. */
static struct buf sumbuf = BUF_INIT;

void
value_canon(const struct mpv *v, struct buf *scratch, const uint8_t **bytes,
    size_t *n)
{
	/* Nearly every value arrives canonical: no call beyond the check. */
	if (canon_is(v)) {
		*bytes = v->raw;
		*n = v->rawlen;
		return;
	}
	buf_reset(scratch);
	if (canon_append(scratch, v) != 0)
		fatalx("%s: out of memory", __func__);
	*bytes = buf_head(scratch);
	*n = buf_used(scratch);
}

const char *
value_kind(const struct mpv *v)
{
	static const char *const kinds[] = {
		[MPV_NIL] = "nil", [MPV_BOOL] = "bool", [MPV_UINT] = "int",
		[MPV_INT] = "int", [MPV_FLOAT] = "float", [MPV_STR] = "str",
		[MPV_BIN] = "bin", [MPV_ARRAY] = "array", [MPV_MAP] = "map",
		[MPV_EXT] = "ext"
	};

	return kinds[v->type];
}

static bool
value_is_number(const struct mpv *v)
{
	return v->type == MPV_UINT || v->type == MPV_INT ||
	    v->type == MPV_FLOAT;
}

/*
 * x + y, computed exactly whatever the operands' types (the overflow
 * builtins add in infinite precision and say whether the result fits the
 * type it is stored in), packed as the int64, else the uint64, it fits:
 * 2^63 + -1 and -2 + 2^63 are answers, not overflows. ok is false when
 * the sum fits neither.
 */
#define VALUE_INT_SUM(x, y, pk, ok) do {				\
	int64_t s_;							\
	uint64_t u_;							\
									\
	(ok) = true;							\
	if (!__builtin_add_overflow((x), (y), &s_))			\
		msgpack_pack_int64((pk), s_);				\
	else if (!__builtin_add_overflow((x), (y), &u_))		\
		msgpack_pack_uint64((pk), u_);				\
	else								\
		(ok) = false;						\
} while (0)

/*
 * An int sum into pk: cur (NULL: 0) + delta (NULL: 1), each an int64
 * (MPV_INT, or a MPV_UINT up to INT64_MAX) or a uint64 past it.
 */
static bool
value_int_sum(const struct mpv *cur, const struct mpv *delta,
    msgpack_packer *pk)
{
	int64_t a = 0, b = 1;
	bool ua = cur != NULL && !mpv_to_int64(cur, &a);
	bool ub = delta != NULL && !mpv_to_int64(delta, &b);
	bool ok;

	if (ua && ub)
		VALUE_INT_SUM(cur->v.u, delta->v.u, pk, ok);
	else if (ua)
		VALUE_INT_SUM(cur->v.u, b, pk, ok);
	else if (ub)
		VALUE_INT_SUM(a, delta->v.u, pk, ok);
	else
		VALUE_INT_SUM(a, b, pk, ok);
	return ok;
}

#undef VALUE_INT_SUM

int
value_add(struct req *req, const struct mpv *cur, const struct mpv *delta,
    const uint8_t **bytes, size_t *n)
{
	msgpack_packer pk;
	double fa = 0, fb = 1;

	if (cur != NULL && !value_is_number(cur)) {
		reply_error(req, PERR_BADTYPE, "%s: cannot add to %s",
		    req->method->name, value_kind(cur));
		return -1;
	}
	if (delta != NULL && !value_is_number(delta)) {
		reply_error(req, PERR_BADTYPE, "%s: the delta must be a "
		    "number, not %s", req->method->name, value_kind(delta));
		return -1;
	}
	buf_reset(&sumbuf);
	msgpack_packer_init(&pk, &sumbuf, buf_pack_write);
	if ((cur != NULL && cur->type == MPV_FLOAT) ||
	    (delta != NULL && delta->type == MPV_FLOAT)) {
		if (cur != NULL)
			mpv_to_double(cur, &fa);
		if (delta != NULL)
			mpv_to_double(delta, &fb);
		msgpack_pack_double(&pk, fa + fb);
	} else if (!value_int_sum(cur, delta, &pk)) {
		reply_error(req, PERR_RANGE, "%s: the sum is beyond both int64 "
		    "and uint64", req->method->name);
		return -1;
	}
	*bytes = buf_head(&sumbuf);
	*n = buf_used(&sumbuf);
	return 0;
}

void
value_reply_cas(struct req *req, bool ok, const uint8_t *cur, size_t n)
{
	msgpack_packer *pk = reply_begin(req);

	msgpack_pack_array(pk, 2);
	if (ok)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
	pack_raw(pk, cur, n);
}

/* --- numbers as Python compares them ----------------------------------- */

bool
value_num(const struct mpv *v, struct value_num *x)
{
	switch (v->type) {
	case MPV_UINT:
		x->kind = VALUE_NUM_U;
		x->u = v->v.u;
		return true;
	case MPV_INT:
		x->kind = VALUE_NUM_I;
		x->i = v->v.i;
		return true;
	case MPV_FLOAT:
		x->kind = VALUE_NUM_F;
		x->f = v->v.f;
		return true;
	default:
		return false;
	}
}

static int
value_cmp3(bool less, bool more)
{
	return less ? -1 : more ? 1 : 0;
}

/*
 * An int against a float, exactly. Inside the int's range the float's
 * integer part converts exactly, and only its fraction is left to decide.
 */
static int
value_cmp_u_f(uint64_t u, double f)
{
	uint64_t t;

	if (isnan(f))
		return VALUE_UNORDERED;
	if (f < 0)
		return 1;
	if (f >= 18446744073709551616.0)
		return -1;
	t = (uint64_t)f;
	if (u != t)
		return value_cmp3(u < t, u > t);
	return f > (double)t ? -1 : 0;
}

static int
value_cmp_i_f(int64_t i, double f)
{
	int64_t t;

	if (isnan(f))
		return VALUE_UNORDERED;
	if (f >= 0)
		return -1;
	if (f < -9223372036854775808.0)
		return 1;
	t = (int64_t)f;
	if (i != t)
		return value_cmp3(i < t, i > t);
	return f < (double)t ? 1 : 0;
}

int
value_num_cmp(const struct value_num *a, const struct value_num *b)
{
	int r;

	if (a->kind == VALUE_NUM_F && b->kind == VALUE_NUM_F) {
		if (isnan(a->f) || isnan(b->f))
			return VALUE_UNORDERED;
		return value_cmp3(a->f < b->f, a->f > b->f);
	}
	if (a->kind == VALUE_NUM_F) {
		r = value_num_cmp(b, a);
		return r == VALUE_UNORDERED ? r : -r;
	}
	if (b->kind == VALUE_NUM_F)
		return a->kind == VALUE_NUM_U ? value_cmp_u_f(a->u, b->f) :
		    value_cmp_i_f(a->i, b->f);
	if (a->kind != b->kind)
		return a->kind == VALUE_NUM_U ? 1 : -1;
	if (a->kind == VALUE_NUM_U)
		return value_cmp3(a->u < b->u, a->u > b->u);
	return value_cmp3(a->i < b->i, a->i > b->i);
}

/* First bytes of ints and floats: fixints, uint/int 8..64, float 32/64. */
bool
value_byte_is_num(uint8_t b)
{
	return b <= 0x7f || b >= 0xe0 || (b >= 0xca && b <= 0xd3);
}
