/*
 * unpack.c: MessagePack to Python objects.
 *
 * Replies come from libmpmgr as msgpack_object trees (validated by its
 * scanner); the payloads of the package's extension types are MessagePack
 * bytes that another client wrote, decoded here with every length checked
 * against the bytes left before anything is allocated. The ext types are
 * those of pack.c; an unknown one comes back as mpmgr.ExtType(code, data),
 * which packs back to the same bytes.
 *
 * A map key that Python cannot hash (an array written by a C program) is
 * made a tuple.
 */
#include <string.h>

#include "_mpmgr.h"

struct rd {
	const uint8_t *p;
	const uint8_t *end;
};

static PyObject *decode(struct pyctx *, struct rd *, int);

static PyObject *
bad_payload(const char *why)
{
	PyErr_Format(PyExc_ValueError, "mpmgr: malformed value from the "
	    "daemon: %s", why);
	return NULL;
}

/* Lists in map keys become tuples (recursively), so they hash. */
static PyObject *
hashable(PyObject *k)
{
	PyObject *t;

	if (!PyList_CheckExact(k))
		return k;
	for (Py_ssize_t i = 0; i < PyList_GET_SIZE(k); i++) {
		PyObject *e = hashable(PyList_GET_ITEM(k, i));

		if (e == NULL) {
			Py_DECREF(k);
			return NULL;
		}
		PyList_SET_ITEM(k, i, e);
	}
	t = PyList_AsTuple(k);
	Py_DECREF(k);
	return t;
}

static PyObject *
list_to_frozenset(PyObject *l)
{
	PyObject *s;

	if (l == NULL)
		return NULL;
	s = PyFrozenSet_New(l);
	Py_DECREF(l);
	return s;
}

/* The value of an ext type: its payload is n bytes at p. */
static PyObject *
from_ext(struct pyctx *ctx, int8_t type, const char *p, size_t n, int depth)
{
	State *st = ctx->st;
	PyObject *b, *r, *l;
	struct rd rd = { (const uint8_t *)p, (const uint8_t *)p + n };

	switch (type) {
	case EXT_TUPLE:
	case EXT_FROZENSET:
		if (n == 0 || (l = decode(ctx, &rd, depth + 1)) == NULL)
			return n == 0 ? bad_payload("empty ext payload") : NULL;
		if (rd.p != rd.end || !PyList_CheckExact(l)) {
			Py_DECREF(l);
			return bad_payload("a tuple or frozenset ext is not one "
			    "array");
		}
		if (type == EXT_FROZENSET) {
			for (Py_ssize_t i = 0; i < PyList_GET_SIZE(l); i++) {
				PyObject *e = PyList_GET_ITEM(l, i);

				Py_INCREF(e);
				if ((e = hashable(e)) == NULL) {
					Py_DECREF(l);
					return NULL;
				}
				PyList_SetItem(l, i, e);
			}
			return list_to_frozenset(l);
		}
		r = PyList_AsTuple(l);
		Py_DECREF(l);
		return r;
	case EXT_REF: {
		const char *colon = memchr(p, ':', n);
		PyObject *kind, *name;

		if (colon == NULL)
			return bad_payload("a reference has no ':'");
		kind = PyUnicode_DecodeUTF8(p, colon - p, "strict");
		name = PyUnicode_DecodeUTF8(colon + 1, p + n - colon - 1,
		    "strict");
		r = kind != NULL && name != NULL ? PyObject_CallFunctionObjArgs(
		    st->make_ref, (PyObject *)ctx->client, kind, name, NULL) :
		    NULL;
		Py_XDECREF(kind);
		Py_XDECREF(name);
		return r;
	}
	default:
		break;
	}
	if ((b = PyBytes_FromStringAndSize(p, (Py_ssize_t)n)) == NULL)
		return NULL;
	switch (type) {
	case EXT_PICKLE:
		r = PyObject_CallOneArg(st->pickle_loads, b);
		break;
	case EXT_BIGINT:
		r = PyObject_CallOneArg(st->bigint_from_bytes, b);
		break;
	default:
		r = PyObject_CallFunction(st->ext_type, "iO", (int)type, b);
		break;
	}
	Py_DECREF(b);
	return r;
}

/* --- msgpack_object trees (replies) ------------------------------------ */

static PyObject *
from_object(struct pyctx *ctx, const msgpack_object *o, int depth)
{
	PyObject *r, *k, *v;
	uint32_t i;

	switch (o->type) {
	case MSGPACK_OBJECT_NIL:
		Py_RETURN_NONE;
	case MSGPACK_OBJECT_BOOLEAN:
		return PyBool_FromLong(o->via.boolean);
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		return PyLong_FromUnsignedLongLong(o->via.u64);
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		return PyLong_FromLongLong(o->via.i64);
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		return PyFloat_FromDouble(o->via.f64);
	case MSGPACK_OBJECT_STR:
		return PyUnicode_DecodeUTF8(o->via.str.ptr, o->via.str.size,
		    "strict");
	case MSGPACK_OBJECT_BIN:
		return PyBytes_FromStringAndSize(o->via.bin.ptr,
		    o->via.bin.size);
	case MSGPACK_OBJECT_EXT:
		return from_ext(ctx, o->via.ext.type, o->via.ext.ptr,
		    o->via.ext.size, depth);
	case MSGPACK_OBJECT_ARRAY:
		if ((r = PyList_New(o->via.array.size)) == NULL)
			return NULL;
		for (i = 0; i < o->via.array.size; i++) {
			if ((v = from_object(ctx, &o->via.array.ptr[i],
			    depth + 1)) == NULL) {
				Py_DECREF(r);
				return NULL;
			}
			PyList_SET_ITEM(r, i, v);
		}
		return r;
	case MSGPACK_OBJECT_MAP:
		if ((r = PyDict_New()) == NULL)
			return NULL;
		for (i = 0; i < o->via.map.size; i++) {
			k = hashable(from_object(ctx, &o->via.map.ptr[i].key,
			    depth + 1));
			v = k != NULL ? from_object(ctx,
			    &o->via.map.ptr[i].val, depth + 1) : NULL;
			if (v == NULL || PyDict_SetItem(r, k, v) == -1) {
				Py_XDECREF(k);
				Py_XDECREF(v);
				Py_DECREF(r);
				return NULL;
			}
			Py_DECREF(k);
			Py_DECREF(v);
		}
		return r;
	}
	return bad_payload("unknown MessagePack type");
}

PyObject *
unpack_object(struct pyctx *ctx, const msgpack_object *o)
{
	PyObject *r;

	if (Py_EnterRecursiveCall(" while unpacking a value"))
		return NULL;
	r = from_object(ctx, o, 0);
	Py_LeaveRecursiveCall();
	return r;
}

/* An array of arrays (dict.items): a list of tuples, made directly. */
PyObject *
unpack_pairs(struct pyctx *ctx, const msgpack_object *o)
{
	const msgpack_object *e;
	PyObject *r, *t, *v;
	uint32_t i, j;

	if (o->type != MSGPACK_OBJECT_ARRAY)
		return unpack_object(ctx, o);
	if (Py_EnterRecursiveCall(" while unpacking a value"))
		return NULL;
	if ((r = PyList_New(o->via.array.size)) == NULL)
		goto out;
	for (i = 0; i < o->via.array.size; i++) {
		e = &o->via.array.ptr[i];
		if (e->type != MSGPACK_OBJECT_ARRAY) {
			t = from_object(ctx, e, 1);
		} else if ((t = PyTuple_New(e->via.array.size)) != NULL) {
			for (j = 0; j < e->via.array.size; j++) {
				if ((v = from_object(ctx, &e->via.array.ptr[j],
				    2)) == NULL) {
					Py_CLEAR(t);
					break;
				}
				PyTuple_SET_ITEM(t, j, v);
			}
		}
		if (t == NULL) {
			Py_CLEAR(r);
			goto out;
		}
		PyList_SET_ITEM(r, i, t);
	}
out:
	Py_LeaveRecursiveCall();
	return r;
}

/* --- bytes (ext payloads) --------------------------------------------- */

static bool
need(struct rd *rd, size_t n)
{
	return (size_t)(rd->end - rd->p) >= n;
}

static uint64_t
be(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* n bytes of payload after a header: a pointer to them, or NULL. */
static const char *
take(struct rd *rd, uint64_t n)
{
	const uint8_t *p = rd->p;

	if (!need(rd, n))
		return NULL;
	rd->p += n;
	return (const char *)p;
}

static PyObject *
decode_array(struct pyctx *ctx, struct rd *rd, uint64_t n, int depth)
{
	PyObject *l, *v;

	/* every element takes a byte at least: a count past the bytes left
	 * is a lie, refused before allocating for it */
	if (!need(rd, n))
		return bad_payload("array longer than its bytes");
	if ((l = PyList_New((Py_ssize_t)n)) == NULL)
		return NULL;
	for (uint64_t i = 0; i < n; i++) {
		if ((v = decode(ctx, rd, depth + 1)) == NULL) {
			Py_DECREF(l);
			return NULL;
		}
		PyList_SET_ITEM(l, (Py_ssize_t)i, v);
	}
	return l;
}

static PyObject *
decode_map(struct pyctx *ctx, struct rd *rd, uint64_t n, int depth)
{
	PyObject *d, *k, *v;

	if (n > (uint64_t)(rd->end - rd->p) / 2)
		return bad_payload("map longer than its bytes");
	if ((d = PyDict_New()) == NULL)
		return NULL;
	for (uint64_t i = 0; i < n; i++) {
		k = hashable(decode(ctx, rd, depth + 1));
		v = k != NULL ? decode(ctx, rd, depth + 1) : NULL;
		if (v == NULL || PyDict_SetItem(d, k, v) == -1) {
			Py_XDECREF(k);
			Py_XDECREF(v);
			Py_DECREF(d);
			return NULL;
		}
		Py_DECREF(k);
		Py_DECREF(v);
	}
	return d;
}

static PyObject *
decode_ext(struct pyctx *ctx, struct rd *rd, uint64_t n, int depth)
{
	const char *body;
	int8_t type;

	if (!need(rd, 1))
		return bad_payload("truncated ext");
	type = (int8_t)*rd->p++;
	if ((body = take(rd, n)) == NULL)
		return bad_payload("truncated ext");
	return from_ext(ctx, type, body, (size_t)n, depth);
}

static PyObject *
decode(struct pyctx *ctx, struct rd *rd, int depth)
{
	const char *s;
	uint8_t c;
	union {
		uint32_t u;
		float f;
	} f32;
	union {
		uint64_t u;
		double d;
	} f64;
	/* header bytes after the type byte, by type byte 0xc4..0xdf */
	static const uint8_t extra[] = {
		1, 2, 4, 1, 2, 4, 4, 8, 1, 2, 4, 8, 1, 2, 4, 8,
		1, 1, 1, 1, 1, 1, 2, 4, 2, 4, 2, 4
	};
	uint64_t len;
	const uint8_t *h;

	if (depth > UNPACK_MAX_DEPTH)
		return bad_payload("nested too deeply");
	if (!need(rd, 1))
		return bad_payload("truncated");
	c = *rd->p++;
	if (c <= 0x7f)
		return PyLong_FromLong(c);
	if (c >= 0xe0)
		return PyLong_FromLong((int8_t)c);
	if (c >= 0xa0 && c <= 0xbf) {
		if ((s = take(rd, c & 0x1f)) == NULL)
			return bad_payload("truncated str");
		return PyUnicode_DecodeUTF8(s, c & 0x1f, "strict");
	}
	if (c <= 0x8f)
		return decode_map(ctx, rd, c & 0x0f, depth);
	if (c <= 0x9f)
		return decode_array(ctx, rd, c & 0x0f, depth);
	switch (c) {
	case 0xc0:
		Py_RETURN_NONE;
	case 0xc2:
		Py_RETURN_FALSE;
	case 0xc3:
		Py_RETURN_TRUE;
	case 0xc1:
		return bad_payload("reserved byte 0xc1");
	}
	/* 0xc4..0xdf: a header of extra[c - 0xc4] bytes */
	if (!need(rd, extra[c - 0xc4]))
		return bad_payload("truncated header");
	h = rd->p;
	rd->p += extra[c - 0xc4];
	switch (c) {
	case 0xc4: case 0xc5: case 0xc6:        /* bin 8/16/32 */
		len = be(h, extra[c - 0xc4]);
		if ((s = take(rd, len)) == NULL)
			return bad_payload("truncated bin");
		return PyBytes_FromStringAndSize(s, (Py_ssize_t)len);
	case 0xc7: case 0xc8: case 0xc9:        /* ext 8/16/32 */
		return decode_ext(ctx, rd, be(h, extra[c - 0xc4]), depth);
	case 0xca:
		f32.u = (uint32_t)be(h, 4);
		return PyFloat_FromDouble(f32.f);
	case 0xcb:
		f64.u = be(h, 8);
		return PyFloat_FromDouble(f64.d);
	case 0xcc: case 0xcd: case 0xce: case 0xcf:
		return PyLong_FromUnsignedLongLong(be(h, extra[c - 0xc4]));
	case 0xd0:
		return PyLong_FromLong((int8_t)h[0]);
	case 0xd1:
		return PyLong_FromLong((int16_t)be(h, 2));
	case 0xd2:
		return PyLong_FromLong((int32_t)be(h, 4));
	case 0xd3:
		return PyLong_FromLongLong((int64_t)be(h, 8));
	case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8:
		/* fixext 1..16: the one header byte was the type */
		rd->p--;
		return decode_ext(ctx, rd, 1u << (c - 0xd4), depth);
	case 0xd9: case 0xda: case 0xdb:        /* str 8/16/32 */
		len = be(h, extra[c - 0xc4]);
		if ((s = take(rd, len)) == NULL)
			return bad_payload("truncated str");
		return PyUnicode_DecodeUTF8(s, (Py_ssize_t)len, "strict");
	case 0xdc: case 0xdd:
		return decode_array(ctx, rd, be(h, extra[c - 0xc4]), depth);
	case 0xde: case 0xdf:
		return decode_map(ctx, rd, be(h, extra[c - 0xc4]), depth);
	}
	return bad_payload("unknown type byte");
}

PyObject *
unpack_bytes(struct pyctx *ctx, const char *p, size_t n)
{
	struct rd rd = { (const uint8_t *)p, (const uint8_t *)p + n };
	PyObject *r;

	if (Py_EnterRecursiveCall(" while unpacking a value"))
		return NULL;
	r = decode(ctx, &rd, 0);
	Py_LeaveRecursiveCall();
	if (r != NULL && rd.p != rd.end) {
		Py_DECREF(r);
		return bad_payload("bytes after the value");
	}
	return r;
}
