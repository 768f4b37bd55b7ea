/*
 * module.c: the module mpmgr._mpmgr, its state and its plain functions.
 *
 * The state holds what the C code calls back into Python for: pickle,
 * the package's exception classes (one per libmpmgr code, each a subclass
 * of the CPython exception a program expects: KeyError for NOKEY...), the
 * key normaliser and proxy rebuilding. mpmgr/__init__.py hands them over
 * once with _setup() before anything connects.
 *
 * The fork generation is process-wide by nature and lives in a global:
 * after_fork() (run by os.register_at_fork in the child) bumps it, and a
 * connection made in an older generation is never used again (its socket
 * is the parent's).
 */
#include <string.h>

#include "_mpmgr.h"

unsigned long mpmgr_py_fork_gen;

State *
state_of_type(PyTypeObject *t)
{
	return PyType_GetModuleState(t);
}

static struct PyModuleDef mod_def;

State *
state_of_subtype(PyTypeObject *t)
{
	PyObject *m = PyType_GetModuleByDef(t, &mod_def);

	return m != NULL ? PyModule_GetState(m) : NULL;
}

/* Slot in State.errors for a libmpmgr code, or -1: server codes first
 * (the wire's, which only grow), then the client's from MPMGR_ECONNECT. */
static int
err_slot(long code)
{
	if (code < 0 && code > -ERR_CLIENT_SLOT)
		return (int)-code;
	if (code <= MPMGR_ECONNECT &&
	    code > MPMGR_ECONNECT - (ERR_SLOTS - ERR_CLIENT_SLOT))
		return (int)(ERR_CLIENT_SLOT + MPMGR_ECONNECT - code);
	return -1;
}

PyObject *
raise_mpmgr(State *st, int code, const char *msg)
{
	int slot = err_slot(code);
	PyObject *cls = slot >= 0 && slot < ERR_SLOTS && st->errors[slot] ?
	    st->errors[slot] : st->error_base;
	PyObject *exc, *name;

	if (cls == NULL) {
		PyErr_Format(PyExc_RuntimeError, "mpmgr %s: %s",
		    mpmgr_strerror(code), msg);
		return NULL;
	}
	/* one argument: an OSError subclass would read two as errno */
	exc = PyObject_CallFunction(cls, "s", msg);
	name = exc != NULL ? PyUnicode_FromString(mpmgr_strerror(code)) : NULL;
	if (name == NULL || PyObject_SetAttrString(exc, "code", name) == -1)
		Py_CLEAR(exc);
	Py_XDECREF(name);
	if (exc != NULL) {
		PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
		Py_DECREF(exc);
	}
	return NULL;
}

/* --- key objects --------------------------------------------------------- */

static void
key_dealloc(KeyObject *k)
{
	PyTypeObject *t = Py_TYPE(k);

	Py_XDECREF(k->bytes);
	t->tp_free(k);
	Py_DECREF(t);
}

static PyObject *
key_repr(KeyObject *k)
{
	return PyUnicode_FromFormat("<mpmgr key %R>", k->bytes);
}

static PyMemberDef key_members[] = {
	{ "bytes", T_OBJECT, offsetof(KeyObject, bytes), READONLY,
	  "the key's canonical MessagePack bytes" },
	{ 0 }
};

static PyType_Slot key_slots[] = {
	{ Py_tp_dealloc, key_dealloc },
	{ Py_tp_repr, key_repr },
	{ Py_tp_members, key_members },
	{ Py_tp_doc, "A dict key already packed in its canonical form "
	  "(Client.key()): packs as those bytes." },
	{ 0, NULL }
};

static PyType_Spec key_spec = {
	.name = "mpmgr._mpmgr.Key",
	.basicsize = sizeof(KeyObject),
	.flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE |
	    Py_TPFLAGS_DISALLOW_INSTANTIATION,
	.slots = key_slots,
};

/* --- functions ----------------------------------------------------------- */

static PyObject *
mod_after_fork(PyObject *m, PyObject *unused)
{
	mpmgr_py_fork_gen++;
	Py_RETURN_NONE;
}

static int
setup_hook(PyObject *hooks, const char *name, PyObject **slot)
{
	PyObject *f = PyDict_GetItemString(hooks, name);

	if (f == NULL || !PyCallable_Check(f)) {
		PyErr_Format(PyExc_TypeError, "_setup: hook %s missing", name);
		return -1;
	}
	Py_INCREF(f);
	Py_XSETREF(*slot, f);
	return 0;
}

PyDoc_STRVAR(setup_doc, "_setup(errors, base, hooks, plain_numbers)\n\n"
"errors maps libmpmgr codes (negative ints) to exception classes, base is\n"
"mpmgr.Error, hooks names the callbacks (pickle_dumps, pickle_loads,\n"
"norm_key, make_ref, bigint_to_bytes, bigint_from_bytes, ext_type) and\n"
"plain_numbers the int and float subclasses that pack as plain numbers.");

static PyObject *
mod_setup(PyObject *m, PyObject *args)
{
	State *st = PyModule_GetState(m);
	PyObject *errors, *base, *hooks, *plain, *k, *v;
	Py_ssize_t pos = 0;

	if (!PyArg_ParseTuple(args, "O!OO!O!:_setup", &PyDict_Type, &errors,
	    &base, &PyDict_Type, &hooks, &PyTuple_Type, &plain))
		return NULL;
	while (PyDict_Next(errors, &pos, &k, &v)) {
		long code = PyLong_AsLong(k);
		int slot = err_slot(code);

		if (code == -1 && PyErr_Occurred())
			return NULL;
		if (slot < 0 || slot >= ERR_SLOTS) {
			PyErr_Format(PyExc_ValueError, "_setup: no error code "
			    "%ld", code);
			return NULL;
		}
		Py_INCREF(v);
		Py_XSETREF(st->errors[slot], v);
	}
	Py_INCREF(base);
	Py_XSETREF(st->error_base, base);
	Py_INCREF(plain);
	Py_XSETREF(st->plain_numbers, plain);
	if (setup_hook(hooks, "pickle_dumps", &st->pickle_dumps) == -1 ||
	    setup_hook(hooks, "pickle_loads", &st->pickle_loads) == -1 ||
	    setup_hook(hooks, "norm_key", &st->norm_key) == -1 ||
	    setup_hook(hooks, "make_ref", &st->make_ref) == -1 ||
	    setup_hook(hooks, "bigint_to_bytes", &st->bigint_to_bytes) == -1 ||
	    setup_hook(hooks, "bigint_from_bytes",
	    &st->bigint_from_bytes) == -1 ||
	    setup_hook(hooks, "ext_type", &st->ext_type) == -1)
		return NULL;
	Py_RETURN_NONE;
}

static PyObject *
mod_strerror(PyObject *m, PyObject *arg)
{
	long code = PyLong_AsLong(arg);

	if (code == -1 && PyErr_Occurred())
		return NULL;
	return PyUnicode_FromString(mpmgr_strerror((int)code));
}

static PyMethodDef mod_methods[] = {
	{ "_setup", mod_setup, METH_VARARGS, setup_doc },
	{ "after_fork", mod_after_fork, METH_NOARGS,
	  "Forget every connection: run in the child after a fork." },
	{ "strerror", mod_strerror, METH_O,
	  "The name of a libmpmgr code (-1 -> 'NOKEY')." },
	{ NULL, NULL, 0, NULL }
};

/* --- the module ------------------------------------------------------------ */

static int
mod_exec(PyObject *m)
{
	State *st = PyModule_GetState(m);

	st->key_type = (PyTypeObject *)PyType_FromModuleAndSpec(m, &key_spec,
	    NULL);
	if (st->key_type == NULL ||
	    PyModule_AddType(m, st->key_type) == -1)
		return -1;
	if ((st->str_kind = PyUnicode_InternFromString("_kind")) == NULL)
		return -1;
	st->plain_numbers = PyTuple_New(0);
	if (st->plain_numbers == NULL || client_types_add(m, st) == -1)
		return -1;
	if (PyModule_AddIntConstant(m, "EXT_PICKLE", EXT_PICKLE) == -1 ||
	    PyModule_AddIntConstant(m, "EXT_TUPLE", EXT_TUPLE) == -1 ||
	    PyModule_AddIntConstant(m, "EXT_REF", EXT_REF) == -1 ||
	    PyModule_AddIntConstant(m, "EXT_FROZENSET", EXT_FROZENSET) == -1 ||
	    PyModule_AddIntConstant(m, "EXT_BIGINT", EXT_BIGINT) == -1 ||
	    PyModule_AddIntConstant(m, "PACK_MAX_DEPTH", PACK_MAX_DEPTH) == -1)
		return -1;
	return 0;
}

static int
mod_traverse(PyObject *m, visitproc visit, void *arg)
{
	State *st = PyModule_GetState(m);

	for (int i = 0; i < ERR_SLOTS; i++)
		Py_VISIT(st->errors[i]);
	Py_VISIT(st->error_base);
	Py_VISIT(st->pickle_dumps);
	Py_VISIT(st->pickle_loads);
	Py_VISIT(st->norm_key);
	Py_VISIT(st->make_ref);
	Py_VISIT(st->bigint_to_bytes);
	Py_VISIT(st->bigint_from_bytes);
	Py_VISIT(st->ext_type);
	Py_VISIT(st->plain_numbers);
	Py_VISIT(st->client_type);
	Py_VISIT(st->conn_type);
	Py_VISIT(st->proxy_type);
	Py_VISIT(st->key_type);
	return 0;
}

static int
mod_clear(PyObject *m)
{
	State *st = PyModule_GetState(m);

	for (int i = 0; i < ERR_SLOTS; i++)
		Py_CLEAR(st->errors[i]);
	Py_CLEAR(st->error_base);
	Py_CLEAR(st->pickle_dumps);
	Py_CLEAR(st->pickle_loads);
	Py_CLEAR(st->norm_key);
	Py_CLEAR(st->make_ref);
	Py_CLEAR(st->bigint_to_bytes);
	Py_CLEAR(st->bigint_from_bytes);
	Py_CLEAR(st->ext_type);
	Py_CLEAR(st->plain_numbers);
	Py_CLEAR(st->client_type);
	Py_CLEAR(st->conn_type);
	Py_CLEAR(st->proxy_type);
	Py_CLEAR(st->key_type);
	Py_CLEAR(st->str_kind);
	return 0;
}

static void
mod_free(void *m)
{
	mod_clear(m);
}

static PyModuleDef_Slot mod_slots[] = {
	{ Py_mod_exec, mod_exec },
	{ 0, NULL }
};

static struct PyModuleDef mod_def = {
	PyModuleDef_HEAD_INIT,
	.m_name = "mpmgr._mpmgr",
	.m_doc = "The C half of mpmgr: connections to mpmgrd and MessagePack "
	    "conversion (see the mpmgr package).",
	.m_size = sizeof(State),
	.m_methods = mod_methods,
	.m_slots = mod_slots,
	.m_traverse = mod_traverse,
	.m_clear = mod_clear,
	.m_free = mod_free,
};

PyMODINIT_FUNC PyInit__mpmgr(void);

PyMODINIT_FUNC
PyInit__mpmgr(void)
{
	return PyModuleDef_Init(&mod_def);
}
