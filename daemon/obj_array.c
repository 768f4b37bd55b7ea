/*
 * obj_array.c: the array type, a fixed-length array of one C number type,
 * Python's multiprocessing.Array (docs/PROTOCOL.md, array).
 *
 * An array has no defaults: it exists only once array.create has given
 * its typecode and its length or initial items, and every verb on a
 * missing one is NOOBJ (none of them is M_CREATES, and registry_add
 * refuses it). Elements are stored as their C type, so 'f' answers the
 * float32 rounding of what was set; an int that does not fit the type is
 * RANGE (Python's array module, not ctypes' silent wrap-around), a value
 * of the wrong kind BADTYPE (bool is not a number, as in incr).
 *
 * array.create is idempotent for the same typecode and length and, when
 * made from items, the same initial elements (kept for that and for
 * obj.info), whatever the array holds now.
 */
#include <stdio.h>
#include <string.h>

#include "dispatch.h"
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
	uint8_t *init;    /* the items it was created from, or NULL */
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
 * v as an element of tc: true and *x, or false after replying BADTYPE
 * (not a number, or a float for an int type) or RANGE (what names the
 * value in the message).
 */
static bool
array_convert(struct req *req, const struct typecode *tc,
    const struct mpv *v, const char *what, union elem *x)
{
	bool fits;

	if (v->type != MPV_UINT && v->type != MPV_INT &&
	    (v->type != MPV_FLOAT || !tc->is_float)) {
		reply_error(req, PERR_BADTYPE, "%s: an array of '%c' (%s) "
		    "takes %s, not %s", req->method->name, tc->code,
		    tc->ctype, tc->is_float ? "numbers" : "ints",
		    value_kind(v));
		return false;
	}
	if (tc->is_float) {
		mpv_to_double(v, &x->f);
		return true;
	}
	if (v->type == MPV_INT) {
		fits = tc->is_signed && v->v.i >= tc->min;
		x->i = v->v.i;
	} else {
		fits = v->v.u <= tc->max;
		x->u = v->v.u;
	}
	if (!fits) {
		reply_error(req, PERR_RANGE, "%s: %s is out of range for '%c' "
		    "(%s)", req->method->name, what, tc->code, tc->ctype);
		return false;
	}
	return true;
}

static struct array *
array_of(struct req *req)
{
	if (req->obj != NULL)
		return req->obj->data;
	reply_error(req, PERR_NOOBJ, "no array '%.*s': array.create makes one",
	    req_namelen(req), req_name(req));
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

static int
array_bad(struct req *req, const char *why)
{
	reply_error(req, PERR_BADARG, "array.create: %s", why);
	return -1;
}

/* Fill a from items (checked against a->tc): 0, or -1 after replying. */
static int
array_fill(struct array *a, const struct mpv *items, struct req *req)
{
	struct mpv_iter it;
	struct mpv v;
	union elem x;
	char what[32];
	size_t i;

	mpv_iter_init(&it, items);
	for (i = 0; mpv_iter_next(&it, &v); i++) {
		snprintf(what, sizeof what, "item %zu", i);
		if (!array_convert(req, a->tc, &v, what, &x))
			return -1;
		array_store(a->tc, a->items, i, x);
	}
	return 0;
}

/*
 * Options {typecode, length} or {typecode, items}. There are no
 * defaults: without options (registry_add, req NULL) it fails.
 */
static int
array_create(struct object *o, const struct mpv *opts, struct req *req)
{
	const struct mpv *len = NULL, *items = NULL, *code = NULL;
	struct mpv_iter it;
	struct mpv k, v[3];
	struct array *a;
	size_t n, bytes, nv = 0;

	if (opts == NULL)
		return req == NULL ? -1 : array_bad(req, "the options "
		    "{typecode, length} or {typecode, items} are required");
	mpv_iter_init(&it, opts);
	while (mpv_iter_next(&it, &k) && nv < 3 && mpv_iter_next(&it, &v[nv])) {
		if (mpv_str_eq(&k, "typecode") && code == NULL)
			code = &v[nv++];
		else if (mpv_str_eq(&k, "length") && len == NULL)
			len = &v[nv++];
		else if (mpv_str_eq(&k, "items") && items == NULL)
			items = &v[nv++];
		else
			return array_bad(req, "the options are typecode and "
			    "one of length or items, each once");
	}
	if (opts->len > nv)
		return array_bad(req, "the options are typecode and one of "
		    "length or items, each once");
	if (code == NULL || array_typecode(code) == NULL)
		return array_bad(req, "typecode must be one of 'b' 'B' 'h' "
		    "'H' 'i' 'I' 'l' 'L' 'q' 'Q' 'f' 'd'");
	if ((len == NULL) == (items == NULL))
		return array_bad(req, "give exactly one of length or items");
	if (len != NULL && (len->type != MPV_UINT ||
	    len->v.u > ARRAY_MAX_LENGTH))
		return array_bad(req, "length must be an int from 0 to "
		    "67108864");
	if (items != NULL && items->type != MPV_ARRAY)
		return array_bad(req, "items must be an array");
	if (items != NULL && items->len > ARRAY_MAX_LENGTH)
		return array_bad(req, "more than 67108864 items");
	n = len != NULL ? (size_t)len->v.u : items->len;
	bytes = n * array_typecode(code)->width;
	/* The one write that can take much more than its request's size. */
	if (server.max_memory != 0 && mem_used() + bytes > server.max_memory) {
		reply_error(req, PERR_LIMIT, "array.create: %zu bytes would "
		    "pass the daemon's ceiling of %zu", bytes,
		    server.max_memory);
		return -1;
	}
	a = xcalloc(1, sizeof *a);
	a->tc = array_typecode(code);
	a->length = n;
	a->items = xcalloc(1, bytes);
	if (items != NULL) {
		if (array_fill(a, items, req) != 0) {
			xfree(a->items);
			xfree(a);
			return -1;
		}
		a->init = xmalloc(bytes);
		memcpy(a->init, a->items, bytes);
	}
	o->data = a;
	return 0;
}

static bool
array_same_options(const struct object *oa, const struct object *ob)
{
	const struct array *a = oa->data, *b = ob->data;

	if (a->tc != b->tc || a->length != b->length ||
	    (a->init == NULL) != (b->init == NULL))
		return false;
	return a->init == NULL ||
	    memcmp(a->init, b->init, a->length * a->tc->width) == 0;
}

static void
array_pack_options(const struct object *o, msgpack_packer *pk)
{
	const struct array *a = o->data;
	size_t i;

	msgpack_pack_map(pk, 2);
	msg_pack_cstr(pk, "typecode");
	msgpack_pack_str(pk, 1);
	msgpack_pack_str_body(pk, &a->tc->code, 1);
	if (a->init == NULL) {
		msg_pack_cstr(pk, "length");
		msgpack_pack_uint64(pk, a->length);
		return;
	}
	msg_pack_cstr(pk, "items");
	msgpack_pack_array(pk, a->length);
	for (i = 0; i < a->length; i++)
		array_pack_elem(pk, a->tc, array_load(a->tc, a->init, i));
}

static bool
array_free_step(struct object *o, size_t budget)
{
	struct array *a = o->data;

	xfree(a->items);
	xfree(a->init);
	xfree(a);
	return true;
}

/* Only ever explicit: never implicitly initial. */
static bool
array_is_initial(const struct object *o)
{
	return false;
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

	return mem_usable(a) + mem_usable(a->items) + mem_usable(a->init);
}

static const struct method array_methods[] = {
	MPMGR_METHODS_ARRAY(DISPATCH_ROW)
	DISPATCH_END
};

const struct obj_type array_type = {
	.name = "array",
	.methods = array_methods,
	.create = array_create,
	.same_options = array_same_options,
	.pack_options = array_pack_options,
	.free_step = array_free_step,
	.is_initial = array_is_initial,
	.size = array_size,
	.mem = array_mem,
};
