/*
 * obj_array.c: the array type, a fixed-length array of one C number type,
 * Python's multiprocessing.Array (docs/PROTOCOL.md, array).
 *
 * An array has no defaults: it exists only once array.create has given
 * its typecode and its length or initial items, and every verb on a
 * missing one is NOOBJ (none of them is MF_CREATES, and registry_add
 * refuses a type with a required option). Elements are stored as their C type, so 'f' answers the
 * float32 rounding of what was set; an int that does not fit the type is
 * RANGE (Python's array module, not ctypes' silent wrap-around), a value
 * of the wrong kind BADTYPE (bool is not a number, as in incr).
 *
 * array.create is idempotent for the same typecode and length and, when
 * made from items, the same initial elements as stored (its options map
 * keeps them, for that and for obj.info), whatever the array holds now.
 * The journal gets each set as the element stored (after conversion).
 */
#include <stdio.h>
#include <string.h>

#include "dispatch.h"
#include "journal.h"
#include "log.h"
#include "mem.h"
#include "registry.h"
#include "reply.h"
#include "value.h"

/* Most elements an array may have: 512 MiB of 'd'. */
#define ARRAY_MAX_LENGTH (1u << 26)

struct typecode {
	char code;
	uint8_t width;     /* bytes per element */
	bool is_float;
	bool is_signed;
	int64_t min;       /* signed ints */
	uint64_t max;      /* ints */
	const char *ctype; /* for messages */
};

/* The array module's typecodes; 'l' and 'L' are C long: 64 bits here. */
static const struct typecode typecodes[] = {
	{ 'b', 1, false, true, INT8_MIN, INT8_MAX, "int8" },
	{ 'B', 1, false, false, 0, UINT8_MAX, "uint8" },
	{ 'h', 2, false, true, INT16_MIN, INT16_MAX, "int16" },
	{ 'H', 2, false, false, 0, UINT16_MAX, "uint16" },
	{ 'i', 4, false, true, INT32_MIN, INT32_MAX, "int32" },
	{ 'I', 4, false, false, 0, UINT32_MAX, "uint32" },
	{ 'l', 8, false, true, INT64_MIN, INT64_MAX, "int64" },
	{ 'L', 8, false, false, 0, UINT64_MAX, "uint64" },
	{ 'q', 8, false, true, INT64_MIN, INT64_MAX, "int64" },
	{ 'Q', 8, false, false, 0, UINT64_MAX, "uint64" },
	{ 'f', 4, true, true, 0, 0, "float" },
	{ 'd', 8, true, true, 0, 0, "double" },
};

struct array {
	const struct typecode *tc;
	size_t length;
	uint8_t *items;   /* length * width bytes */
	bool from_items;  /* created with items, not zeros */
};

/* One element on its way in or out. */
union elem {
	int64_t i;
	uint64_t u;
	double f;
};

static const struct typecode *
array_typecode(const struct mpv *v)
{
	size_t i;

	if (v->type != MPV_STR || v->len != 1)
		return NULL;
	for (i = 0; i < sizeof typecodes / sizeof typecodes[0]; i++) {
		if (typecodes[i].code == (char)v->ptr[0])
			return &typecodes[i];
	}
	return NULL;
}

/* Read element i of a buffer of tc's elements. */
static union elem
array_load(const struct typecode *tc, const uint8_t *items, size_t i)
{
	const uint8_t *p = items + i * tc->width;
	union elem x;
	int8_t i8; uint8_t u8; int16_t i16; uint16_t u16;
	int32_t i32; uint32_t u32; float f32;

	switch (tc->code) {
	case 'b': memcpy(&i8, p, 1); x.i = i8; break;
	case 'B': memcpy(&u8, p, 1); x.u = u8; break;
	case 'h': memcpy(&i16, p, 2); x.i = i16; break;
	case 'H': memcpy(&u16, p, 2); x.u = u16; break;
	case 'i': memcpy(&i32, p, 4); x.i = i32; break;
	case 'I': memcpy(&u32, p, 4); x.u = u32; break;
	case 'f': memcpy(&f32, p, 4); x.f = f32; break;
	default: memcpy(&x, p, 8); break; /* l L q Q d: stored as is */
	}
	return x;
}

static void
array_store(const struct typecode *tc, uint8_t *items, size_t i, union elem x)
{
	uint8_t *p = items + i * tc->width;
	int8_t i8 = (int8_t)x.i; uint8_t u8 = (uint8_t)x.u;
	int16_t i16 = (int16_t)x.i; uint16_t u16 = (uint16_t)x.u;
	int32_t i32 = (int32_t)x.i; uint32_t u32 = (uint32_t)x.u;
	/* Out of float's range IEEE conversion gives inf, like Python. */
	float f32 = (float)x.f;

	switch (tc->code) {
	case 'b': memcpy(p, &i8, 1); break;
	case 'B': memcpy(p, &u8, 1); break;
	case 'h': memcpy(p, &i16, 2); break;
	case 'H': memcpy(p, &u16, 2); break;
	case 'i': memcpy(p, &i32, 4); break;
	case 'I': memcpy(p, &u32, 4); break;
	case 'f': memcpy(p, &f32, 4); break;
	default: memcpy(p, &x, 8); break;
	}
}

static void
array_pack_elem(msgpack_packer *pk, const struct typecode *tc, union elem x)
{
	if (tc->is_float)
		msgpack_pack_double(pk, x.f);
	else if (tc->is_signed)
		msgpack_pack_int64(pk, x.i);
	else
		msgpack_pack_uint64(pk, x.u);
}

/*
 * v as an element of tc: PERR_NONE and *x, PERR_BADTYPE (not a number, or
 * a float for an int type) or PERR_RANGE.
 */
static int
array_elem(const struct typecode *tc, const struct mpv *v, union elem *x)
{
	bool fits;

	if (v->type != MPV_UINT && v->type != MPV_INT &&
	    (v->type != MPV_FLOAT || !tc->is_float))
		return PERR_BADTYPE;
	if (tc->is_float) {
		mpv_to_double(v, &x->f);
		return PERR_NONE;
	}
	if (v->type == MPV_INT) {
		fits = tc->is_signed && v->v.i >= tc->min;
		x->i = v->v.i;
	} else {
		fits = v->v.u <= tc->max;
		x->u = v->v.u;
	}
	return fits ? PERR_NONE : PERR_RANGE;
}

/* array_elem, or false after replying its error (what names v). */
static bool
array_convert(struct req *req, const struct typecode *tc,
    const struct mpv *v, const char *what, union elem *x)
{
	switch (array_elem(tc, v, x)) {
	case PERR_NONE:
		return true;
	case PERR_BADTYPE:
		reply_error(req, PERR_BADTYPE, "%s: an array of '%c' (%s) "
		    "takes %s, not %s", req->method->name, tc->code,
		    tc->ctype, tc->is_float ? "numbers" : "ints",
		    value_kind(v));
		return false;
	default:
		reply_error(req, PERR_RANGE, "%s: %s is out of range for '%c' "
		    "(%s)", req->method->name, what, tc->code, tc->ctype);
		return false;
	}
}

/* Journal ops: set one element, or a run of them from start. */
enum { ARRAY_J_SET, ARRAY_J_SETRANGE };

static struct array *
array_of(struct req *req)
{
	if (req->obj != NULL)
		return req->obj->data;
	reply_error(req, PERR_NOOBJ, "no array '%.*s': %s makes one",
	    req_namelen(req), req_name(req), MPMGR_METHOD_NAME(array, create));
	return NULL;
}

/* Param i as an index of a: true, or false after BADARG or NOINDEX. */
static bool
array_index_arg(struct req *req, const struct array *a, unsigned i,
    size_t *pos)
{
	const struct mpv *v = &req->argv[i];
	int64_t x;

	if (v->type != MPV_UINT && v->type != MPV_INT) {
		reply_error(req, PERR_BADARG, "%s: the index must be an int, "
		    "not %s", req->method->name, value_kind(v));
		return false;
	}
	if (v->type == MPV_UINT && v->v.u >= a->length)
		x = -1;
	else if (v->type == MPV_UINT)
		x = (int64_t)v->v.u;
	else
		x = v->v.i + (int64_t)a->length;
	if (x < 0) {
		reply_error(req, PERR_NOINDEX, "array index out of range");
		return false;
	}
	*pos = (size_t)x;
	return true;
}

/*
 * What array.get without an index answers, in bytes. Every element packs
 * to 1 to 9 bytes (a float to 9): an array too long for 1 byte each is
 * refused without a walk, and the exact size of ints is counted only when
 * 9 bytes each could pass the limit (a walk over at most output-limit
 * elements).
 */
static size_t
array_all_size(const struct array *a)
{
	size_t size = msg_array_head_size(a->length), i;
	union elem x;

	if (a->length > server.output_limit)
		return size + a->length; /* at least that: too much */
	if (a->tc->is_float || a->length <= (server.output_limit - size) / 9)
		return size + a->length * 9;
	for (i = 0; i < a->length; i++) {
		x = array_load(a->tc, a->items, i);
		size += a->tc->is_signed ? msg_int_size(x.i) :
		    msg_uint_size(x.u);
	}
	return size;
}

static void
array_get(struct req *req)
{
	struct array *a = array_of(req);
	msgpack_packer *pk;
	size_t i;

	if (a == NULL)
		return;
	if (req->argc > 1) {
		if (!array_index_arg(req, a, 1, &i))
			return;
		array_pack_elem(reply_begin(req), a->tc,
		    array_load(a->tc, a->items, i));
		return;
	}
	if (!reply_fits(req, array_all_size(a)))
		return;
	pk = reply_begin(req);
	msgpack_pack_array(pk, a->length);
	for (i = 0; i < a->length; i++)
		array_pack_elem(pk, a->tc, array_load(a->tc, a->items, i));
}

static void
array_set(struct req *req)
{
	struct array *a = array_of(req);
	union elem x;
	size_t i;

	if (a == NULL || !array_index_arg(req, a, 1, &i) ||
	    !array_convert(req, a->tc, &req->argv[2], "the value", &x))
		return;
	array_store(a->tc, a->items, i, x);
	if (journal_wants(req->obj)) {
		msgpack_packer *pk = journal_begin(req->obj, ARRAY_J_SET, 2);

		msgpack_pack_uint64(pk, i);
		array_pack_elem(pk, a->tc, array_load(a->tc, a->items, i));
		journal_end();
	}
	reply_nil(req);
}

static void
array_len(struct req *req)
{
	struct array *a = array_of(req);

	if (a != NULL)
		reply_uint(req, a->length);
}

/* --- the type ---------------------------------------------------------- */

/*
 * Options {typecode, length} or {typecode, items}: no defaults, so an
 * array is only ever made by array.create.
 */
enum { ARRAY_OPT_TYPECODE, ARRAY_OPT_LENGTH, ARRAY_OPT_ITEMS };

static const struct opt array_opts[] = {
	[ARRAY_OPT_TYPECODE] = { .key = "typecode", .kind = OPT_CHAR,
	    .flags = OPT_REQUIRED, .choices = "bBhHiIlLqQfd" },
	[ARRAY_OPT_LENGTH] = { .key = "length", .kind = OPT_UINT,
	    .flags = OPT_NODEFAULT, .min = 0, .max = ARRAY_MAX_LENGTH },
	[ARRAY_OPT_ITEMS] = { .key = "items", .kind = OPT_ARRAY,
	    .flags = OPT_NODEFAULT },
	{ .key = NULL }
};

/* The items as stored, for the options map: [1, 2.5] and [1.0, 2.5] are
 * one array of 'd'. */
static struct buf ibuf = BUF_INIT;

static int
array_bad(struct req *req, const char *why)
{
	reply_error(req, PERR_BADARG, "%s: %s", req->method->name, why);
	return -1;
}

static const struct typecode *
array_opt_typecode(const struct optval *v)
{
	return array_typecode(&v[ARRAY_OPT_TYPECODE].v);
}

static size_t
array_opt_length(const struct optval *v)
{
	return v[ARRAY_OPT_ITEMS].given ? v[ARRAY_OPT_ITEMS].v.len :
	    (size_t)v[ARRAY_OPT_LENGTH].u;
}

/* Exactly one of length or items, every item of the type, and room. */
static int
array_check(struct optval *v, struct req *req)
{
	const struct typecode *tc = array_opt_typecode(v);
	const struct mpv *items = &v[ARRAY_OPT_ITEMS].v;
	msgpack_packer pk;
	struct mpv_iter it;
	struct mpv e;
	union elem x;
	char what[32];
	size_t i, bytes;

	if (v[ARRAY_OPT_LENGTH].given == v[ARRAY_OPT_ITEMS].given)
		return array_bad(req, "give exactly one of length or items");
	if (v[ARRAY_OPT_ITEMS].given && items->len > ARRAY_MAX_LENGTH)
		return array_bad(req, "more than 67108864 items");
	bytes = array_opt_length(v) * tc->width;
	/* The one write that can take much more than its request's size. */
	if (server.max_memory != 0 && mem_used() + bytes > server.max_memory) {
		reply_error(req, PERR_LIMIT, "%s: %zu bytes would pass the "
		    "daemon's ceiling of %zu", req->method->name, bytes,
		    server.max_memory);
		return -1;
	}
	if (!v[ARRAY_OPT_ITEMS].given)
		return 0;
	buf_reset(&ibuf);
	msgpack_packer_init(&pk, &ibuf, buf_pack_write);
	msgpack_pack_array(&pk, items->len);
	mpv_iter_init(&it, items);
	for (i = 0; mpv_iter_next(&it, &e); i++) {
		snprintf(what, sizeof what, "item %zu", i);
		if (!array_convert(req, tc, &e, what, &x))
			return -1;
		array_pack_elem(&pk, tc, x);
	}
	v[ARRAY_OPT_ITEMS].canon = buf_head(&ibuf);
	v[ARRAY_OPT_ITEMS].canonlen = buf_used(&ibuf);
	return 0;
}

static void
array_init(struct object *o, const struct optval *v)
{
	struct array *a = xcalloc(1, sizeof *a);
	struct mpv_iter it;
	struct mpv e;
	union elem x;
	size_t i;

	a->tc = array_opt_typecode(v);
	a->length = array_opt_length(v);
	a->items = xcalloc(1, a->length * a->tc->width);
	a->from_items = v[ARRAY_OPT_ITEMS].given;
	if (v[ARRAY_OPT_ITEMS].given) {
		/* array_check converted every item already. */
		mpv_iter_init(&it, &v[ARRAY_OPT_ITEMS].v);
		for (i = 0; mpv_iter_next(&it, &e); i++) {
			array_elem(a->tc, &e, &x);
			array_store(a->tc, a->items, i, x);
		}
	}
	o->data = a;
}

static bool
array_free_step(struct object *o, size_t budget)
{
	struct array *a = o->data;

	xfree(a->items);
	xfree(a);
	return true;
}

static uint64_t
array_size(const struct object *o)
{
	const struct array *a = o->data;

	return a->length;
}

static size_t
array_mem(const struct object *o)
{
	const struct array *a = o->data;

	return mem_usable(a) + mem_usable(a->items);
}

/* Contents: every element, as get answers them. */
static void
array_contents(const struct object *o, msgpack_packer *pk)
{
	const struct array *a = o->data;
	size_t i;

	msgpack_pack_array(pk, a->length);
	for (i = 0; i < a->length; i++)
		array_pack_elem(pk, a->tc, array_load(a->tc, a->items, i));
}

static int
array_restore(struct object *o, const struct mpv *c, struct req *req)
{
	struct array *a = o->data;
	struct mpv_iter it;
	struct mpv e;
	union elem x;
	char what[32];
	size_t i;

	if (c->type == MPV_NIL)
		return 0;
	if (c->type != MPV_ARRAY || c->len != a->length) {
		reply_error(req, PERR_BADARG, "%s: an array of '%c' holds %zu "
		    "elements: its contents must be an array of as many",
		    req->method->name, a->tc->code, a->length);
		return -1;
	}
	mpv_iter_init(&it, c);
	for (i = 0; mpv_iter_next(&it, &e); i++) {
		snprintf(what, sizeof what, "element %zu", i);
		if (!array_convert(req, a->tc, &e, what, &x))
			return -1;
		array_store(a->tc, a->items, i, x);
	}
	return 0;
}

/* --- the journal -------------------------------------------------------- */

/* args: start, then elements from there on. */
static const char *
array_replay_set(struct object *o, struct mpv_iter *args, uint32_t nargs)
{
	struct array *a = o->data;
	struct mpv v;
	union elem x;
	uint64_t i;

	jop_arg(args, &v);
	if (v.type != MPV_UINT || v.v.u > a->length ||
	    nargs - 1 > a->length - v.v.u)
		return "elements past the end";
	for (i = v.v.u; mpv_iter_next(args, &v); i++) {
		if (array_elem(a->tc, &v, &x) != PERR_NONE)
			return "an element of the wrong kind";
		array_store(a->tc, a->items, i, x);
	}
	return NULL;
}

static const struct jop array_jops[] = {
	[ARRAY_J_SET] = { "set", 2, 2, array_replay_set },
	[ARRAY_J_SETRANGE] = { "setrange", 1, JOP_ANY, array_replay_set },
	JOP_END
};

/* Its elements in runs of up to a batch; zeros are skipped when the
 * creation makes zeros. */
static void
array_dump(const struct object *o)
{
	const struct array *a = o->data;
	const size_t run = JOURNAL_BATCH / 8;
	msgpack_packer *pk;
	size_t i = 0, end, k;

	for (;;) {
		while (i < a->length && !a->from_items &&
		    memcmp(a->items + i * a->tc->width, "\0\0\0\0\0\0\0\0",
		    a->tc->width) == 0)
			i++;
		if (i == a->length)
			return;
		end = a->length - i > run ? i + run : a->length;
		pk = journal_begin(o, ARRAY_J_SETRANGE, 1 + (uint32_t)(end - i));
		msgpack_pack_uint64(pk, i);
		for (k = i; k < end; k++)
			array_pack_elem(pk, a->tc, array_load(a->tc, a->items,
			    k));
		journal_end();
		i = end;
	}
}

static const struct method array_methods[] = {
	MPMGR_METHODS_ARRAY(DISPATCH_ROW)
	DISPATCH_END
};

/* Only ever made by array.create: never initial, never settled away. */
const struct obj_type array_type = {
	.name = "array",
	.methods = array_methods,
	.opts = array_opts,
	.opts_usage = "the options are typecode, one of length or items, and "
	    "ephemeral, each once",
	.check = array_check,
	.init = array_init,
	.free_step = array_free_step,
	.size = array_size,
	.mem = array_mem,
	.contents = array_contents,
	.restore = array_restore,
	.jcode = JC_ARRAY,
	.jops = array_jops,
	.dump = array_dump,
};
