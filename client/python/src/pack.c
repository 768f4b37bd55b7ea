/*
 * pack.c: Python objects to MessagePack, straight into libmpmgr's packer.
 *
 * Values round-trip: None, bool, int, float, str, bytes, list and dict are
 * MessagePack's own; a tuple, a frozenset, a shared object (a proxy of the
 * same daemon), an int past 64 bits and anything else picklable are
 * extension types (_mpmgr.h, docs/PROTOCOL.md). Only exact types take the
 * plain forms: a subclass (an IntEnum, an OrderedDict) is pickled so that
 * it comes back as itself.
 *
 * Keys are packed so that keys Python calls equal have equal bytes, since
 * the daemon compares keys by bytes: bool and integral floats become ints
 * (1 == 1.0 == True), a tuple's and a frozenset's elements are keys too
 * (the frozenset's sorted by their bytes, so that two processes with other
 * hash seeds agree), a subclass of a plain type is its base value, and the
 * rest goes through mpmgr.values.norm_key (Decimal, Fraction, complex) or
 * is pickled. An unhashable key is Python's TypeError.
 *
 * The caller owns the packer; on error (-1) a Python exception is set and
 * what was packed is incomplete (libmpmgr then refuses the request).
 */
#include <math.h>
#include <string.h>

#include "_mpmgr.h"

static int pack_any(struct pyctx *, msgpack_packer *, PyObject *, int, bool);

/* Write bytes as they are (a KeyObject's canonical form). */
static int
pack_raw(msgpack_packer *pk, const char *p, size_t n)
{
	if (pk->callback(pk->data, p, n) != 0) {
		PyErr_NoMemory();
		return -1;
	}
	return 0;
}

static int
pack_ext(msgpack_packer *pk, int8_t type, const char *p, size_t n)
{
	if (n > UINT32_MAX) {
		PyErr_SetString(PyExc_OverflowError, "value too large to pack");
		return -1;
	}
	if (msgpack_pack_ext(pk, n, type) != 0 ||
	    msgpack_pack_ext_body(pk, p, n) != 0) {
		PyErr_NoMemory();
		return -1;
	}
	return 0;
}

/* Call hook(o), which must answer bytes, and pack them as ext type. */
static int
pack_ext_hook(msgpack_packer *pk, PyObject *hook, PyObject *o, int8_t type)
{
	PyObject *b;
	int r;

	if ((b = PyObject_CallOneArg(hook, o)) == NULL)
		return -1;
	if (!PyBytes_Check(b)) {
		Py_DECREF(b);
		PyErr_SetString(PyExc_TypeError, "mpmgr: a hook returned "
		    "something other than bytes");
		return -1;
	}
	r = pack_ext(pk, type, PyBytes_AS_STRING(b),
	    (size_t)PyBytes_GET_SIZE(b));
	Py_DECREF(b);
	return r;
}

int
pack_pickled(struct pyctx *ctx, msgpack_packer *pk, PyObject *o)
{
	return pack_ext_hook(pk, ctx->st->pickle_dumps, o, EXT_PICKLE);
}

/* Any int (subclasses read as their value). */
static int
pack_int(struct pyctx *ctx, msgpack_packer *pk, PyObject *o)
{
	unsigned long long u;
	long long v;
	int overflow;

	v = PyLong_AsLongLongAndOverflow(o, &overflow);
	if (v == -1 && PyErr_Occurred())
		return -1;
	if (overflow == 0)
		return v >= 0 ? msgpack_pack_uint64(pk, (uint64_t)v) :
		    msgpack_pack_int64(pk, v);
	if (overflow > 0) {
		u = PyLong_AsUnsignedLongLong(o);
		if (u != (unsigned long long)-1 || !PyErr_Occurred())
			return msgpack_pack_uint64(pk, u);
		if (!PyErr_ExceptionMatches(PyExc_OverflowError))
			return -1;
		PyErr_Clear();
	}
	return pack_ext_hook(pk, ctx->st->bigint_to_bytes, o, EXT_BIGINT);
}

/* A str, or -1 with the UnicodeEncodeError of a lone surrogate cleared
 * and *pickle set: such a str is pickled to come back as it was. */
static int
pack_str(msgpack_packer *pk, PyObject *o, bool *pickle)
{
	Py_ssize_t n;
	const char *s;

	if ((s = PyUnicode_AsUTF8AndSize(o, &n)) == NULL) {
		if (PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) {
			PyErr_Clear();
			*pickle = true;
		}
		return -1;
	}
	return msgpack_pack_str_with_body(pk, s, (size_t)n);
}

/* A packer into a growing buffer, for ext payloads. */
static void
sbuf_packer(msgpack_sbuffer *sb, msgpack_packer *pk)
{
	msgpack_sbuffer_init(sb);
	msgpack_packer_init(pk, sb, msgpack_sbuffer_write);
}

/* A tuple: EXT_TUPLE around the array of its elements (as keys in key
 * mode). */
static int
pack_tuple(struct pyctx *ctx, msgpack_packer *pk, PyObject *o, int depth,
    bool key)
{
	Py_ssize_t i, n = PyTuple_GET_SIZE(o);
	msgpack_sbuffer sb;
	msgpack_packer in;
	int r = -1;

	sbuf_packer(&sb, &in);
	if (msgpack_pack_array(&in, (size_t)n) != 0) {
		PyErr_NoMemory();
		goto out;
	}
	for (i = 0; i < n; i++)
		if (pack_any(ctx, &in, PyTuple_GET_ITEM(o, i), depth + 1,
		    key) == -1)
			goto out;
	r = pack_ext(pk, EXT_TUPLE, sb.data != NULL ? sb.data : "", sb.size);
out:
	msgpack_sbuffer_destroy(&sb);
	return r;
}

struct piece {
	char *p;
	size_t n;
};

static int
piece_cmp(const void *a, const void *b)
{
	const struct piece *x = a, *y = b;
	size_t n = x->n < y->n ? x->n : y->n;
	int c = memcmp(x->p, y->p, n);

	if (c != 0)
		return c;
	return x->n < y->n ? -1 : x->n > y->n;
}

/* A frozenset: EXT_FROZENSET around the array of its elements packed as
 * keys, sorted by their bytes. */
static int
pack_frozenset(struct pyctx *ctx, msgpack_packer *pk, PyObject *o,
    int depth)
{
	Py_ssize_t n = PySet_GET_SIZE(o), i = 0;
	struct piece *pieces;
	msgpack_sbuffer sb, all;
	msgpack_packer in;
	PyObject *it, *e;
	int r = -1;

	if ((pieces = PyMem_Calloc((size_t)n + 1, sizeof(*pieces))) == NULL) {
		PyErr_NoMemory();
		return -1;
	}
	/* a frozenset cannot change: exactly n elements come */
	if ((it = PyObject_GetIter(o)) == NULL)
		goto out;
	while (i < n && (e = PyIter_Next(it)) != NULL) {
		sbuf_packer(&sb, &in);
		r = pack_any(ctx, &in, e, depth + 1, true);
		Py_DECREF(e);
		if (r == -1) {
			msgpack_sbuffer_destroy(&sb);
			Py_DECREF(it);
			goto out;
		}
		pieces[i].p = sb.data;
		pieces[i].n = sb.size;
		i++;
	}
	Py_DECREF(it);
	r = -1;
	if (PyErr_Occurred())
		goto out;
	qsort(pieces, (size_t)i, sizeof(*pieces), piece_cmp);
	sbuf_packer(&all, &in);
	if (msgpack_pack_array(&in, (size_t)i) != 0)
		goto nomem;
	for (Py_ssize_t j = 0; j < i; j++)
		if (msgpack_sbuffer_write(&all, pieces[j].p, pieces[j].n) != 0)
			goto nomem;
	r = pack_ext(pk, EXT_FROZENSET, all.data, all.size);
	msgpack_sbuffer_destroy(&all);
	goto out;
nomem:
	msgpack_sbuffer_destroy(&all);
	PyErr_NoMemory();
out:
	for (Py_ssize_t j = 0; j < n; j++)
		free(pieces[j].p);
	PyMem_Free(pieces);
	return r;
}

static int
pack_list(struct pyctx *ctx, msgpack_packer *pk, PyObject *o, int depth)
{
	Py_ssize_t i, n = PyList_GET_SIZE(o);
	PyObject *e;
	int r;

	if (msgpack_pack_array(pk, (size_t)n) != 0)
		return PyErr_NoMemory(), -1;
	for (i = 0; i < n; i++) {
		if (PyList_GET_SIZE(o) != n) {
			PyErr_SetString(PyExc_RuntimeError, "list changed size "
			    "during packing");
			return -1;
		}
		e = PyList_GET_ITEM(o, i);
		Py_INCREF(e);
		r = pack_any(ctx, pk, e, depth + 1, false);
		Py_DECREF(e);
		if (r == -1)
			return -1;
	}
	return 0;
}

static int
pack_dict(struct pyctx *ctx, msgpack_packer *pk, PyObject *o, int depth)
{
	Py_ssize_t pos = 0, n = PyDict_GET_SIZE(o), done = 0;
	PyObject *k, *v;
	int r;

	if (msgpack_pack_map(pk, (size_t)n) != 0)
		return PyErr_NoMemory(), -1;
	while (PyDict_Next(o, &pos, &k, &v)) {
		if (done == n || PyDict_GET_SIZE(o) != n) {
			PyErr_SetString(PyExc_RuntimeError, "dictionary changed "
			    "size during packing");
			return -1;
		}
		Py_INCREF(k);
		Py_INCREF(v);
		r = pack_any(ctx, pk, k, depth + 1, false);
		if (r == 0)
			r = pack_any(ctx, pk, v, depth + 1, false);
		Py_DECREF(k);
		Py_DECREF(v);
		if (r == -1)
			return -1;
		done++;
	}
	if (done != n) {
		PyErr_SetString(PyExc_RuntimeError, "dictionary changed size "
		    "during packing");
		return -1;
	}
	return 0;
}

/* Two clients of one socket (two managers attached to one daemon). */
static bool
same_daemon(ClientObject *a, ClientObject *b)
{
	int r;

	if (a == b)
		return true;
	if (a->address == NULL || b->address == NULL)
		return false;
	if ((r = PyUnicode_Compare(a->address, b->address)) == -1 &&
	    PyErr_Occurred())
		PyErr_Clear();
	return r == 0;
}

/* A proxy: a reference when it names an object of ctx's daemon, else
 * pickled (its own address and name travel). */
static int
pack_proxy(struct pyctx *ctx, msgpack_packer *pk, PyObject *o)
{
	ProxyObject *p = (ProxyObject *)o;
	PyObject *kind, *ref;
	Py_ssize_t n;
	const char *s;
	int r;

	if (!same_daemon(p->client, ctx->client))
		return pack_pickled(ctx, pk, o);
	if ((kind = PyObject_GetAttr((PyObject *)Py_TYPE(o),
	    ctx->st->str_kind)) == NULL)
		return -1;
	ref = PyUnicode_FromFormat("%U:%U", kind, p->name);
	Py_DECREF(kind);
	if (ref == NULL)
		return -1;
	if ((s = PyUnicode_AsUTF8AndSize(ref, &n)) == NULL)
		r = -1;
	else
		r = pack_ext(pk, EXT_REF, s, (size_t)n);
	Py_DECREF(ref);
	return r;
}

/* mpmgr.ExtType(code, data): the ext as it came. */
static int
pack_exttype(msgpack_packer *pk, PyObject *o)
{
	PyObject *data;
	long code;

	if (PyTuple_GET_SIZE(o) != 2)
		goto bad;
	code = PyLong_AsLong(PyTuple_GET_ITEM(o, 0));
	if (code == -1 && PyErr_Occurred())
		return -1;
	data = PyTuple_GET_ITEM(o, 1);
	if (code < -128 || code > 127 || !PyBytes_Check(data))
		goto bad;
	return pack_ext(pk, (int8_t)code, PyBytes_AS_STRING(data),
	    (size_t)PyBytes_GET_SIZE(data));
bad:
	PyErr_SetString(PyExc_ValueError, "ExtType(code, data): code in "
	    "-128..127 and data bytes");
	return -1;
}

/* A float as a key: integral values are ints (1.0 == 1). */
static int
pack_float_key(struct pyctx *ctx, msgpack_packer *pk, double d)
{
	PyObject *i;
	int r;

	if (!isfinite(d) || floor(d) != d)
		return msgpack_pack_double(pk, d);
	if (d >= -9.2e18 && d <= 9.2e18) {
		long long v = (long long)d;

		return v >= 0 ? msgpack_pack_uint64(pk, (uint64_t)v) :
		    msgpack_pack_int64(pk, v);
	}
	if ((i = PyLong_FromDouble(d)) == NULL)
		return -1;
	r = pack_int(ctx, pk, i);
	Py_DECREF(i);
	return r;
}

/* The kinds of key other than the exact plain types: normalised by the
 * Python hook (which answers the object itself for "pickle it"). */
static int
pack_odd_key(struct pyctx *ctx, msgpack_packer *pk, PyObject *o, int depth)
{
	PyObject *n;
	int r;

	if (PyObject_Hash(o) == -1)
		return -1;
	if ((n = PyObject_CallOneArg(ctx->st->norm_key, o)) == NULL)
		return -1;
	if (n == o)
		r = pack_pickled(ctx, pk, o);
	else
		r = pack_any(ctx, pk, n, depth + 1, true);
	Py_DECREF(n);
	return r;
}

static int
pack_any(struct pyctx *ctx, msgpack_packer *pk, PyObject *o, int depth,
    bool key)
{
	PyTypeObject *t = Py_TYPE(o);
	bool pickle = false;
	int r;

	if (o == Py_None)
		return msgpack_pack_nil(pk);
	if (t == &PyUnicode_Type) {
		if ((r = pack_str(pk, o, &pickle)) == -1 && pickle)
			return pack_pickled(ctx, pk, o);
		return r;
	}
	if (t == &PyLong_Type)
		return pack_int(ctx, pk, o);
	if (o == Py_True || o == Py_False) {
		if (key)
			return msgpack_pack_uint64(pk, o == Py_True);
		return o == Py_True ? msgpack_pack_true(pk) :
		    msgpack_pack_false(pk);
	}
	if (t == &PyFloat_Type)
		return key ? pack_float_key(ctx, pk, PyFloat_AS_DOUBLE(o)) :
		    msgpack_pack_double(pk, PyFloat_AS_DOUBLE(o));
	if (t == &PyBytes_Type)
		return msgpack_pack_bin_with_body(pk, PyBytes_AS_STRING(o),
		    (size_t)PyBytes_GET_SIZE(o));
	if (t == ctx->st->key_type)
		return pack_raw(pk, PyBytes_AS_STRING(((KeyObject *)o)->bytes),
		    (size_t)PyBytes_GET_SIZE(((KeyObject *)o)->bytes));
	if (PyObject_TypeCheck(o, ctx->st->proxy_type))
		return pack_proxy(ctx, pk, o);
	if ((PyObject *)t == ctx->st->ext_type)
		return pack_exttype(pk, o);
	if (depth > PACK_MAX_DEPTH && !key) {
		/* too deep for the daemon, or a list that holds itself */
		ctx->too_deep = true;
		return -1;
	}
	if (t == &PyTuple_Type)
		return pack_tuple(ctx, pk, o, depth, key);
	if (t == &PyFrozenSet_Type)
		return pack_frozenset(ctx, pk, o, depth);
	if (key) {
		if (depth > PACK_MAX_DEPTH) {
			PyErr_SetString(PyExc_ValueError, "mpmgr: key nested "
			    "too deeply");
			return -1;
		}
		return pack_odd_key(ctx, pk, o, depth);
	}
	if (t == &PyList_Type)
		return pack_list(ctx, pk, o, depth);
	if (t == &PyDict_Type)
		return pack_dict(ctx, pk, o, depth);
	/* d['n'] -= 1 reads an int subclass that must travel as an int */
	for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(ctx->st->plain_numbers);
	    i++) {
		if ((PyObject *)t != PyTuple_GET_ITEM(ctx->st->plain_numbers, i))
			continue;
		if (PyLong_Check(o))
			return pack_int(ctx, pk, o);
		return msgpack_pack_double(pk, PyFloat_AsDouble(o));
	}
	return pack_pickled(ctx, pk, o);
}

/* msgpack-c's functions fail only when the buffer cannot grow, and set no
 * exception: that is MemoryError. */
static int
pack_result(struct pyctx *ctx, int r)
{
	if (r == 0)
		return 0;
	if (!PyErr_Occurred() && !ctx->too_deep)
		PyErr_NoMemory();
	return -1;
}

int
pack_value(struct pyctx *ctx, msgpack_packer *pk, PyObject *o, int depth)
{
	int r;

	if (Py_EnterRecursiveCall(" while packing a value"))
		return -1;
	r = pack_any(ctx, pk, o, depth, false);
	Py_LeaveRecursiveCall();
	return pack_result(ctx, r);
}

int
pack_key(struct pyctx *ctx, msgpack_packer *pk, PyObject *o, int depth)
{
	int r;

	if (Py_EnterRecursiveCall(" while packing a key"))
		return -1;
	r = pack_any(ctx, pk, o, depth, true);
	Py_LeaveRecursiveCall();
	return pack_result(ctx, r);
}

int
pack_keyed_dict(struct pyctx *ctx, msgpack_packer *pk, PyObject *o)
{
	Py_ssize_t pos = 0, n, done = 0;
	PyObject *k, *v;
	int r = 0;

	if (!PyDict_CheckExact(o)) {
		PyErr_SetString(PyExc_TypeError, "mpmgr: a dict was expected");
		return -1;
	}
	n = PyDict_GET_SIZE(o);
	if (Py_EnterRecursiveCall(" while packing a dict"))
		return -1;
	if (msgpack_pack_map(pk, (size_t)n) != 0)
		r = -1;
	while (r == 0 && PyDict_Next(o, &pos, &k, &v)) {
		if (done++ == n || PyDict_GET_SIZE(o) != n) {
			PyErr_SetString(PyExc_RuntimeError, "dictionary changed "
			    "size during packing");
			r = -1;
			break;
		}
		Py_INCREF(k);
		Py_INCREF(v);
		r = pack_any(ctx, pk, k, 2, true);
		if (r == 0)
			r = pack_any(ctx, pk, v, 2, false);
		Py_DECREF(k);
		Py_DECREF(v);
	}
	Py_LeaveRecursiveCall();
	if (r == 0 && done != n) {
		PyErr_SetString(PyExc_RuntimeError, "dictionary changed size "
		    "during packing");
		r = -1;
	}
	return pack_result(ctx, r);
}
