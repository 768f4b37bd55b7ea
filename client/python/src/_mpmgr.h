/*
 * _mpmgr.h: what the files of the extension mpmgr._mpmgr share.
 *
 * The extension is the C half of the mpmgr package: it owns the
 * connections to mpmgrd (libmpmgr handles, one per thread and process),
 * sends requests and waits for their replies with the GIL released, and
 * converts Python objects to and from MessagePack without an intermediate
 * copy. The Python half (the modules of mpmgr/) owns everything else: managers,
 * proxies, the mapping of errors to CPython's exceptions.
 *
 * module.c   the module, its state (the Python objects the C code calls
 *            back: pickle, exception classes, proxy rebuilding), keys
 * client.c   Client (one daemon address and key), Connection (one handle),
 *            ProxyBase (a named object): calls, pipelines, waits
 * pack.c     Python objects -> MessagePack (values and keys)
 * unpack.c   MessagePack -> Python objects
 */
#ifndef MPMGR_PY_H
#define MPMGR_PY_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

#include <stdbool.h>
#include <stdint.h>

#include <msgpack.h>

#include "mpmgr.h"

/*
 * Extension types of MessagePack used by the package (docs/PROTOCOL.md,
 * "Python values"). The daemon stores them opaquely.
 */
#define EXT_PICKLE 1    /* pickle (protocol 5) of any other object */
#define EXT_TUPLE 2     /* a tuple: its elements as a MessagePack array */
#define EXT_REF 3       /* a shared object: UTF-8 "KIND:NAME" */
#define EXT_FROZENSET 4 /* a frozenset: array of elements, sorted by bytes */
#define EXT_BIGINT 5    /* an int past 64 bits: two's complement, big end */

/* Deeper than this a value is pickled (one opaque ext) rather than
 * nested further: the daemon allows 64 levels per param. */
#define PACK_MAX_DEPTH 48
/* Nesting an unpacked ext payload may have (they nest inside each other). */
#define UNPACK_MAX_DEPTH 200

/* Index of an error code in State.errors: server codes from 1, client
 * codes (MPMGR_ECONNECT...) from ERR_CLIENT_SLOT. */
#define ERR_CLIENT_SLOT 64
#define ERR_SLOTS 80

typedef struct {
	PyObject *errors[ERR_SLOTS];    /* exception class per code */
	PyObject *error_base;           /* mpmgr.Error */
	PyObject *pickle_dumps;         /* obj -> bytes */
	PyObject *pickle_loads;         /* bytes -> obj */
	PyObject *norm_key;             /* odd key -> plain key, or itself */
	PyObject *make_ref;             /* (client, kind, name) -> proxy */
	PyObject *bigint_to_bytes;      /* int -> bytes */
	PyObject *bigint_from_bytes;    /* bytes -> int */
	PyObject *ext_type;             /* mpmgr.ExtType(code, data) */
	PyObject *plain_numbers;        /* tuple of int/float subclasses
					   that pack as plain numbers */
	PyTypeObject *client_type;
	PyTypeObject *conn_type;
	PyTypeObject *proxy_type;
	PyTypeObject *key_type;
	PyObject *str_kind;             /* "_kind" */
} State;

/* A daemon: its socket and the key (bytes) or key file (None: default). */
typedef struct {
	PyObject_HEAD
	PyObject *path;         /* str, or None for the default socket */
	PyObject *key;          /* bytes, or NULL */
	PyObject *keyfile;      /* str, or None for the default */
	PyObject *address;      /* the resolved socket path, once known */
	PyObject *weakrefs;
	bool reconnect;         /* its connections connect again (default) */
} ClientObject;

/*
 * How long a call waits for a daemon that is gone to come back on its
 * socket (mpmgr_set_reconnect): 0, one attempt per call; a call that
 * finds no daemon raises ConnectError at once and the next one tries
 * again.
 */
#define CONN_RECONNECT_SECS 0.0
/* How long a read that was in flight when the connection was lost waits
 * for the daemon to come back before it is sent again. */
#define CONN_RESEND_SECS 10.0

/* One handle: a thread's connection, or a manager's session. */
typedef struct {
	PyObject_HEAD
	mpmgr *h;
	ClientObject *client;
	unsigned long long serial; /* which connection of this process */
	unsigned long gen;      /* fork generation it was made in */
	int err;                /* the libmpmgr code last raised, or 0 */
	bool reconnect;         /* connects again after a restart */
	bool busy;              /* a request of ours is outstanding */
	bool broken;            /* the stream is unusable: replace it */
} ConnObject;

/* A named object of a daemon; Python subclasses add the API. */
typedef struct {
	PyObject_HEAD
	ClientObject *client;
	PyObject *name;         /* str */
	PyObject *dict;         /* subclasses' attributes */
	PyObject *weakrefs;
} ProxyObject;

/* A key already in its canonical MessagePack form (_mpmgr.key()). */
typedef struct {
	PyObject_HEAD
	PyObject *bytes;
} KeyObject;

/* What packing and unpacking need besides the object. */
struct pyctx {
	State *st;
	ClientObject *client;   /* whose references are EXT_REF */
	bool too_deep;          /* pack_value gave up: pickle it whole */
};

/* module.c */
extern unsigned long mpmgr_py_fork_gen;
State *state_of_type(PyTypeObject *t);     /* t: one of the module's types */
State *state_of_subtype(PyTypeObject *t);  /* or a subclass (slower) */
/* Raise the exception for a libmpmgr code (h may be NULL). NULL. */
PyObject *raise_mpmgr(State *st, int code, const char *msg);

/* client.c */
int client_types_add(PyObject *module, State *st);

/*
 * pack.c: 0, or -1 with a Python exception set. pack_value also fails
 * without an exception, ctx->too_deep set, for a value nested deeper than
 * PACK_MAX_DEPTH (or holding itself): the caller drops what was packed and
 * packs it with pack_pickled, whole, so that it comes back as it was.
 */
int pack_value(struct pyctx *ctx, msgpack_packer *pk, PyObject *o,
    int depth);
int pack_pickled(struct pyctx *ctx, msgpack_packer *pk, PyObject *o);
/* An exact dict as a map, its keys packed as keys (dict.update). */
int pack_keyed_dict(struct pyctx *ctx, msgpack_packer *pk, PyObject *o);
int pack_key(struct pyctx *ctx, msgpack_packer *pk, PyObject *o, int depth);

/* unpack.c: a new reference, or NULL with an exception set. */
PyObject *unpack_object(struct pyctx *ctx, const msgpack_object *o);
PyObject *unpack_bytes(struct pyctx *ctx, const char *p, size_t n);
/* An array whose arrays become tuples (dict.items' pairs). */
PyObject *unpack_pairs(struct pyctx *ctx, const msgpack_object *o);

#endif
