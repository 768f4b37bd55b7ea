/*
 * client.c: Client, Connection and ProxyBase: requests to mpmgrd.
 *
 * A Client names one daemon (socket path, and a key or a key file). Each
 * thread of each process gets its own Connection to it, kept in the
 * thread's state dict: a thread that ends closes its connection (and the
 * daemon gives back what it held), and a forked child never touches its
 * parent's socket (a connection of an older fork generation is replaced).
 * A call that finds its thread's connection busy (a finalizer or signal
 * handler running inside one of our calls) uses a connection of its own.
 *
 * ProxyBase is a named object: _call packs [name, args...] as values,
 * _kcall the first arg as a key (pack.c), and both wait for the reply
 * with the GIL released. _wait is for verbs that may block for long: the
 * wait can be interrupted by a signal whose handler raises (Ctrl-C), and
 * then the request is cancelled with sys.cancel, which keeps the
 * connection and what it holds. If the reply won the race, an acquire
 * (a true result) is undone with the verb given, and any other result is
 * returned with the exception raised right after (Py_AddPendingCall), so
 * that an item got from a queue is never dropped. _many pipelines.
 *
 * Results are unpacked before the next request on the handle (libmpmgr's
 * views last until then).
 *
 * Connections reconnect (mpmgr_set_reconnect): after the daemon restarted
 * the next call connects again on the same handle. A call lost with the
 * connection raises InFlightError, except a read (the catalogue's flags,
 * handle_rereadable), which is sent again once as mpmgr_call does. Pipes
 * and pool workers ask for connections that do not (Client(reconnect=),
 * session(reconnect=)). Connection.epoch changes when a connection is
 * lost: what it held is gone.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "_mpmgr.h"
#include "handle.h"

static State *
client_state(ClientObject *cl)
{
	return state_of_type(Py_TYPE(cl));
}

/* --- errors -------------------------------------------------------------- */

/*
 * The stream is unusable: the connection is replaced at the next call.
 * A lost one (MPMGR_EIO) too, unless it reconnects: then libmpmgr
 * connects the same handle again, which tells its holds were lost
 * (conn_epoch).
 */
static bool
breaks_stream(const ConnObject *c, int code)
{
	return code == MPMGR_EPROTO || code == MPMGR_EFORK ||
	    code == MPMGR_ENOMEM || (code == MPMGR_EIO && !c->reconnect);
}

/* Raise the handle's error for code; a broken stream is replaced at the
 * next call. */
static PyObject *
conn_raise(State *st, ConnObject *c, int code)
{
	c->err = code;
	if (breaks_stream(c, code))
		c->broken = true;
	return raise_mpmgr(st, code, c->h != NULL ? mpmgr_errmsg(c->h) : "");
}

/* --- Connection ---------------------------------------------------------- */

static void
conn_dealloc(ConnObject *c)
{
	PyTypeObject *t = Py_TYPE(c);

	mpmgr_free(c->h);
	Py_XDECREF(c->client);
	t->tp_free(c);
	Py_DECREF(t);
}

/* Connections made by this process, for ConnObject.serial. */
static unsigned long long conn_serials;

/* A new authenticated connection to cl's daemon, that connects again
 * when the daemon restarted (CONN_RECONNECT_SECS) if reconnect. */
static ConnObject *
conn_open_as(State *st, ClientObject *cl, bool reconnect)
{
	const char *path = NULL, *keyfile = NULL, *key = NULL;
	Py_ssize_t keylen = 0;
	ConnObject *c;
	mpmgr *h = NULL;
	int r;

	if (cl->path != Py_None && (path = PyUnicode_AsUTF8(cl->path)) == NULL)
		return NULL;
	if (cl->keyfile != Py_None &&
	    (keyfile = PyUnicode_AsUTF8(cl->keyfile)) == NULL)
		return NULL;
	if (cl->key != NULL) {
		key = PyBytes_AS_STRING(cl->key);
		keylen = PyBytes_GET_SIZE(cl->key);
	}
	if ((c = PyObject_New(ConnObject, st->conn_type)) == NULL)
		return NULL;
	c->h = NULL;
	c->busy = c->broken = false;
	c->gen = mpmgr_py_fork_gen;
	c->serial = ++conn_serials;
	c->err = 0;
	c->reconnect = reconnect;
	Py_INCREF(cl);
	c->client = cl;
	/* the strings and bytes stay alive: cl holds them */
	Py_BEGIN_ALLOW_THREADS
	if (key != NULL)
		r = mpmgr_connect_key(&h, path, key, (size_t)keylen);
	else
		r = mpmgr_connect(&h, path, keyfile);
	Py_END_ALLOW_THREADS
	c->h = h;
	if (r != 0) {
		raise_mpmgr(st, r, h != NULL ? mpmgr_errmsg(h) :
		    "out of memory");
		Py_DECREF(c);
		return NULL;
	}
	if (reconnect)
		(void)mpmgr_set_reconnect(h, CONN_RECONNECT_SECS);
	if (cl->address == NULL &&
	    (cl->address = PyUnicode_DecodeFSDefault(
	    mpmgr_socket_path(h))) == NULL) {
		Py_DECREF(c);
		return NULL;
	}
	return c;
}

static ConnObject *
conn_open(State *st, ClientObject *cl)
{
	return conn_open_as(st, cl, cl->reconnect);
}

/*
 * This thread's connection to cl (a new reference), made when missing or
 * stale. *transient is set when the thread's own is busy: the caller then
 * has a connection for this one call.
 */
static ConnObject *
conn_for(State *st, ClientObject *cl, bool *transient)
{
	PyObject *tsd = PyThreadState_GetDict();
	ConnObject *c, *n;

	*transient = false;
	if (tsd == NULL) {
		PyErr_SetString(PyExc_RuntimeError, "mpmgr: no thread state");
		return NULL;
	}
	c = (ConnObject *)PyDict_GetItemWithError(tsd, (PyObject *)cl);
	if (c == NULL && PyErr_Occurred())
		return NULL;
	if (c != NULL && c->gen == mpmgr_py_fork_gen && !c->broken) {
		if (!c->busy) {
			Py_INCREF(c);
			return c;
		}
		*transient = true;
		return conn_open(st, cl);
	}
	if ((n = conn_open(st, cl)) == NULL)
		return NULL;
	if (PyDict_SetItem(tsd, (PyObject *)cl, (PyObject *)n) == -1) {
		Py_DECREF(n);
		return NULL;
	}
	return n;
}

/*
 * Which connection c is and how many times it connected again, counting
 * the reconnect its next call will make when the daemon hung up (a
 * restart) or the connection was lost: (serial, n). What a connection
 * holds (locks, permits) lasts as long as its epoch.
 */
static PyObject *
conn_epoch(ConnObject *c)
{
	struct pollfd p = { .fd = mpmgr_fd(c->h), .events = POLLRDHUP };
	unsigned long n = mpmgr_reconnects(c->h);

	if (p.fd < 0 || (poll(&p, 1, 0) > 0 &&
	    (p.revents & (POLLRDHUP | POLLHUP | POLLERR))))
		n++;
	return Py_BuildValue("(Kk)", c->serial, n);
}

/* The connection was made for one call: drop it. */
static void
conn_done(ConnObject *c, bool transient)
{
	if (transient && c->h != NULL) {
		mpmgr_free(c->h);
		c->h = NULL;
		c->broken = true;
	}
	Py_DECREF(c);
}

/* --- requests ------------------------------------------------------------ */

struct call {
	const char *method;
	PyObject *name;         /* str prepended to the params, or NULL */
	PyObject *const *args;
	Py_ssize_t nargs;
	Py_ssize_t nkeys;       /* how many leading args are keys */
	bool keyed_map;         /* args[0] is a dict whose keys are keys */
	bool pairs;             /* the result's arrays of arrays: tuples */
};

/*
 * Pack one request; whole[i] pickles param i whole. 0, -1 with an
 * exception, or 1 and *deep = the param found too deep to pack (nothing
 * is buffered unless 0).
 */
static int
conn_pack(State *st, ConnObject *c, const struct call *k, const bool *whole,
    Py_ssize_t *deep)
{
	struct pyctx ctx = { st, c->client, false };
	msgpack_packer *pk;
	const char *s;
	Py_ssize_t n, i;
	int r;

	pk = mpmgr_request_begin(c->h, k->method,
	    (uint32_t)(k->nargs + (k->name != NULL)));
	if (pk == NULL) {
		/* no connection, and none could be made again */
		r = handle_broken(c->h);
		conn_raise(st, c, r != 0 ? r : MPMGR_EIO);
		return -1;
	}
	if (k->name != NULL) {
		if ((s = PyUnicode_AsUTF8AndSize(k->name, &n)) == NULL)
			goto fail;
		msgpack_pack_str_with_body(pk, s, (size_t)n);
	}
	for (i = 0; i < k->nargs; i++) {
		if (i == 0 && k->keyed_map)
			r = pack_keyed_dict(&ctx, pk, k->args[i]);
		else if (i < k->nkeys)
			r = pack_key(&ctx, pk, k->args[i], 1);
		else if (whole != NULL && whole[i])
			r = pack_pickled(&ctx, pk, k->args[i]);
		else
			r = pack_value(&ctx, pk, k->args[i], 1);
		if (r == -1 && ctx.too_deep && !PyErr_Occurred()) {
			*deep = i;
			mpmgr_request_end(c->h);
			return 1;
		}
		if (r == -1)
			goto fail;
	}
	if ((r = mpmgr_request_end(c->h)) != 0) {
		if (r == MPMGR_EINVAL)
			PyErr_Format(PyExc_ValueError, "mpmgr: %s",
			    mpmgr_errmsg(c->h));
		else
			conn_raise(st, c, r);
		return -1;
	}
	return 0;
fail:
	/* an incomplete request: libmpmgr refuses and drops it */
	mpmgr_request_end(c->h);
	return -1;
}

/* Buffer one request. 0, or -1 with an exception (nothing buffered). */
static int
conn_send(State *st, ConnObject *c, const struct call *k)
{
	Py_ssize_t deep;
	bool *whole;
	int r;

	if ((r = conn_pack(st, c, k, NULL, &deep)) != 1)
		return r;
	/* rare: a value too deep for the daemon, or holding itself */
	if ((whole = PyMem_Calloc((size_t)k->nargs, sizeof(*whole))) == NULL) {
		PyErr_NoMemory();
		return -1;
	}
	do
		whole[deep] = true;
	while ((r = conn_pack(st, c, k, whole, &deep)) == 1);
	PyMem_Free(whole);
	return r;
}

/*
 * Send what is buffered. 0, also when the connection was lost meanwhile
 * with requests of ours in it: their replies (InFlightError) are due and
 * say so in turn. Else -1 with the error raised.
 */
static int
conn_flush(State *st, ConnObject *c)
{
	int r;

	Py_BEGIN_ALLOW_THREADS
	r = mpmgr_flush(c->h);
	Py_END_ALLOW_THREADS
	if (r == 0 || (handle_broken(c->h) != 0 && mpmgr_pending(c->h) > 0))
		return 0;
	conn_raise(st, c, r);
	return -1;
}

/* Read the oldest reply: its value (pairs: unpack_pairs), or NULL with
 * the error raised. */
static PyObject *
conn_recv_as(State *st, ConnObject *c, bool pairs)
{
	struct pyctx ctx = { st, c->client, false };
	msgpack_object res;
	int r;

	Py_BEGIN_ALLOW_THREADS
	r = mpmgr_reply(c->h, &res);
	Py_END_ALLOW_THREADS
	if (r != 0)
		return conn_raise(st, c, r);
	return pairs ? unpack_pairs(&ctx, &res) : unpack_object(&ctx, &res);
}

static PyObject *
conn_recv(State *st, ConnObject *c)
{
	return conn_recv_as(st, c, false);
}

/*
 * Whether a call that failed (NULL) is sent again: it was in flight when
 * the connection was lost (InFlightError) and only reads, as mpmgr_call
 * does; once (*again). A write never is: it may have run. The daemon
 * that died under it has CONN_RESEND_SECS to come back; if it does not,
 * the call raises why (ConnectError).
 */
static bool
conn_resend(State *st, ConnObject *c, const struct call *k, PyObject *r,
    bool *again)
{
	int e;

	if (r != NULL || c->err != MPMGR_EINFLIGHT || !*again ||
	    !handle_rereadable(k->method))
		return false;
	*again = false;
	c->err = 0;
	PyErr_Clear();
	Py_BEGIN_ALLOW_THREADS
	(void)mpmgr_set_reconnect(c->h, CONN_RESEND_SECS);
	e = mpmgr_reconnect(c->h);
	(void)mpmgr_set_reconnect(c->h, CONN_RECONNECT_SECS);
	Py_END_ALLOW_THREADS
	if (e != 0) {
		conn_raise(st, c, e);
		return false;
	}
	return true;
}

static PyObject *
conn_roundtrip(State *st, ConnObject *c, const struct call *k)
{
	PyObject *r;
	bool again = true;

	if (c->busy) {
		PyErr_SetString(PyExc_RuntimeError, "mpmgr: connection in use "
		    "by another call");
		return NULL;
	}
	c->busy = true;
	do {
		c->err = 0;
		r = conn_send(st, c, k) == 0 ?
		    conn_recv_as(st, c, k->pairs) : NULL;
	} while (conn_resend(st, c, k, r, &again));
	c->busy = false;
	return r;
}

/* One call on this thread's connection to cl. */
static PyObject *
client_call(ClientObject *cl, const struct call *k)
{
	State *st = client_state(cl);
	ConnObject *c;
	PyObject *r;
	bool transient;

	if ((c = conn_for(st, cl, &transient)) == NULL)
		return NULL;
	r = conn_roundtrip(st, c, k);
	conn_done(c, transient);
	return r;
}

/* --- interruptible waits ------------------------------------------------- */

/* A wait that a signal handler's exception interrupted. */
struct interrupted {
	PyObject *type, *value, *tb;    /* the exception, to raise */
	PyObject *raced;                /* the reply that won the race */
};

/* Seconds from now to a CLOCK_MONOTONIC deadline, at least 0. */
static double
left_until(const struct timespec *end)
{
	struct timespec now;
	double d;

	clock_gettime(CLOCK_MONOTONIC, &now);
	d = (double)(end->tv_sec - now.tv_sec) +
	    (double)(end->tv_nsec - now.tv_nsec) / 1e9;
	return d > 0 ? d : 0;
}

/*
 * Wait until c's socket has the reply, or timeout seconds (< 0: no
 * limit). 0, 2 on timeout, 1 when a signal handler raised (the exception
 * is set), or -1 on a poll error. Signals are blocked except inside
 * ppoll, so one that comes between the check and the wait still
 * interrupts it; the 1 s bound covers a signal that another thread took
 * while this one had them blocked.
 */
static int
wait_readable_for(ConnObject *c, double timeout)
{
	struct pollfd p = { .fd = mpmgr_fd(c->h), .events = POLLIN };
	struct timespec bound = { .tv_sec = 1 }, end;
	sigset_t block, old;
	int n, err = 0, r = -1;
	double left;

	if (timeout >= 0) {
		clock_gettime(CLOCK_MONOTONIC, &end);
		end.tv_sec += (time_t)timeout;
		end.tv_nsec += (long)((timeout - (double)(time_t)timeout) *
		    1e9);
		if (end.tv_nsec >= 1000000000L) {
			end.tv_sec++;
			end.tv_nsec -= 1000000000L;
		}
	}

	sigfillset(&block);
	/* the synchronous ones cannot wait */
	sigdelset(&block, SIGSEGV);
	sigdelset(&block, SIGBUS);
	sigdelset(&block, SIGFPE);
	sigdelset(&block, SIGILL);
	sigdelset(&block, SIGABRT);
	sigdelset(&block, SIGTRAP);
	sigdelset(&block, SIGSYS);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	for (;;) {
		if (PyErr_CheckSignals() == -1) {
			r = 1;
			break;
		}
		if (timeout >= 0) {
			left = left_until(&end);
			bound.tv_sec = left < 1 ? 0 : 1;
			bound.tv_nsec = left < 1 ? (long)(left * 1e9) : 0;
		}
		Py_BEGIN_ALLOW_THREADS
		n = ppoll(&p, 1, &bound, &old);
		err = errno;
		Py_END_ALLOW_THREADS
		if (n > 0) {
			r = 0;
			break;
		}
		if (n == 0 && timeout >= 0 && left_until(&end) <= 0) {
			r = 2;
			break;
		}
		if (n == -1 && err != EINTR) {
			errno = err;
			PyErr_SetFromErrno(PyExc_OSError);
			break;
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return r;
}

static int
wait_readable(ConnObject *c)
{
	return wait_readable_for(c, -1);
}

/*
 * The wait was interrupted: take the exception into *in, cancel the
 * request and read its reply: cancelled (or failed), or in->raced, the
 * result that was on its way already.
 */
static void
conn_interrupted(State *st, ConnObject *c, struct interrupted *in)
{
	struct pyctx ctx = { st, c->client, false };
	msgpack_object obj;
	int r;

	PyErr_Fetch(&in->type, &in->value, &in->tb);
	if ((r = mpmgr_cancel_pending(c->h)) == 0) {
		Py_BEGIN_ALLOW_THREADS
		r = mpmgr_reply(c->h, &obj);
		Py_END_ALLOW_THREADS
	}
	if (r != 0) {
		/* cancelled ("TIMEOUT: cancelled"), or the verb's own error */
		if (breaks_stream(c, r))
			c->broken = true;
		return;
	}
	if ((in->raced = unpack_object(&ctx, &obj)) == NULL)
		PyErr_Clear();
}

/* Send k and wait for its reply; NULL and in->type set when a signal
 * handler raised meanwhile. */
static PyObject *
conn_wait(State *st, ConnObject *c, const struct call *k,
    struct interrupted *in)
{
	PyObject *res = NULL;

	if (conn_send(st, c, k) == -1 || conn_flush(st, c) == -1)
		return NULL;
	/* lost while sending: the reply says so without a wait */
	if (mpmgr_fd(c->h) < 0)
		return conn_recv(st, c);
	switch (wait_readable(c)) {
	case 0:
		res = conn_recv(st, c);
		break;
	case 1:
		conn_interrupted(st, c, in);
		break;
	default:
		/* poll failed: the request is outstanding for good */
		c->broken = true;
		break;
	}
	return res;
}

/*
 * conn_wait, and when a signal handler raised: undo(the result that won
 * the race) first, on this same connection (an rlock is given back by
 * its owner only; undo may be None), then the exception.
 */
static PyObject *
conn_wait_undo(State *st, ConnObject *c, const struct call *k,
    PyObject *undo)
{
	struct interrupted in = { NULL, NULL, NULL, NULL };
	PyObject *r, *u;
	bool again = true;

	if (c->busy) {
		PyErr_SetString(PyExc_RuntimeError, "mpmgr: connection in use "
		    "by another call");
		return NULL;
	}
	c->busy = true;
	do {
		c->err = 0;
		r = conn_wait(st, c, k, &in);
	} while (in.type == NULL && conn_resend(st, c, k, r, &again));
	c->busy = false;
	if (in.type != NULL) {
		if (in.raced != NULL && undo != Py_None) {
			if ((u = PyObject_CallOneArg(undo, in.raced)) == NULL)
				PyErr_Clear();
			Py_XDECREF(u);
		}
		Py_XDECREF(in.raced);
		PyErr_Restore(in.type, in.value, in.tb);
	}
	return r;
}

/*
 * Pipeline calls, a sequence of (method, args), on c: all sent before any
 * reply is read; name (or NULL) goes before each call's args. The list of
 * results, with the exception instance of each call that failed.
 */
static PyObject *
conn_many(State *st, ConnObject *c, PyObject *name, PyObject *calls)
{
	PyObject *seq, *out = NULL, *item, *v, *et, *ev, *etb;
	PyObject *st_t = NULL, *st_v = NULL, *st_tb = NULL;
	Py_ssize_t n, i, sent = 0;

	if ((seq = PySequence_Fast(calls, "_many: calls must be a sequence"))
	    == NULL)
		return NULL;
	n = PySequence_Fast_GET_SIZE(seq);
	c->busy = true;
	for (i = 0; i < n; i++) {
		PyObject *method, *args;
		struct call k = { .name = name };

		item = PySequence_Fast_GET_ITEM(seq, i);
		if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 2 ||
		    !PyUnicode_Check(method = PyTuple_GET_ITEM(item, 0)) ||
		    !PyTuple_Check(args = PyTuple_GET_ITEM(item, 1))) {
			PyErr_SetString(PyExc_TypeError, "_many: each call is "
			    "(method: str, args: tuple)");
			break;
		}
		k.method = PyUnicode_AsUTF8(method);
		k.args = &PyTuple_GET_ITEM(args, 0);
		k.nargs = PyTuple_GET_SIZE(args);
		if (k.method == NULL || conn_send(st, c, &k) == -1)
			break;
		sent++;
	}
	/* a call that could not be sent fails the whole: the ones sent are
	 * still answered, and read */
	if (sent < n)
		PyErr_Fetch(&st_t, &st_v, &st_tb);
	else if ((out = PyList_New(n)) == NULL)
		PyErr_Fetch(&st_t, &st_v, &st_tb);
	if (sent > 0 && conn_flush(st, c) == -1)
		goto done;
	for (i = 0; i < sent; i++) {
		if ((v = conn_recv(st, c)) == NULL) {
			if (c->broken || !PyErr_ExceptionMatches(st->error_base))
				goto done;
			/* the server's answer to this call: a value */
			PyErr_Fetch(&et, &ev, &etb);
			PyErr_NormalizeException(&et, &ev, &etb);
			Py_XDECREF(et);
			Py_XDECREF(etb);
			v = ev;
		}
		if (out != NULL)
			PyList_SET_ITEM(out, i, v);
		else
			Py_DECREF(v);
	}
done:
	c->busy = false;
	Py_DECREF(seq);
	if (st_t != NULL) {
		PyErr_Restore(st_t, st_v, st_tb);
		Py_CLEAR(out);
	} else if (PyErr_Occurred()) {
		Py_CLEAR(out);
	}
	return out;
}

/* --- Client -------------------------------------------------------------- */

static PyObject *
client_new(PyTypeObject *t, PyObject *args, PyObject *kw)
{
	static char *kwlist[] = { "path", "key", "keyfile", "reconnect",
	    NULL };
	PyObject *path = Py_None, *key = Py_None, *keyfile = Py_None;
	ClientObject *cl;
	int reconnect = 1;

	if (!PyArg_ParseTupleAndKeywords(args, kw, "|OOO$p:Client", kwlist,
	    &path, &key, &keyfile, &reconnect))
		return NULL;
	if ((path != Py_None && !PyUnicode_Check(path)) ||
	    (keyfile != Py_None && !PyUnicode_Check(keyfile))) {
		PyErr_SetString(PyExc_TypeError, "Client: path and keyfile "
		    "must be str or None");
		return NULL;
	}
	if (key != Py_None && !PyBytes_Check(key)) {
		PyErr_SetString(PyExc_TypeError, "Client: key must be bytes "
		    "or None");
		return NULL;
	}
	if ((cl = (ClientObject *)t->tp_alloc(t, 0)) == NULL)
		return NULL;
	cl->reconnect = reconnect;
	Py_INCREF(path);
	cl->path = path;
	Py_INCREF(keyfile);
	cl->keyfile = keyfile;
	if (key != Py_None) {
		Py_INCREF(key);
		cl->key = key;
	}
	return (PyObject *)cl;
}

static void
client_dealloc(ClientObject *cl)
{
	PyTypeObject *t = Py_TYPE(cl);

	if (cl->weakrefs != NULL)
		PyObject_ClearWeakRefs((PyObject *)cl);
	Py_XDECREF(cl->path);
	Py_XDECREF(cl->key);
	Py_XDECREF(cl->keyfile);
	Py_XDECREF(cl->address);
	t->tp_free(cl);
	Py_DECREF(t);
}

static PyObject *
client_repr(ClientObject *cl)
{
	return PyUnicode_FromFormat("<mpmgr Client %R>",
	    cl->address != NULL ? cl->address : cl->path);
}

PyDoc_STRVAR(client_session_doc, "session(reconnect=None) -> Connection\n\n"
"A new connection of the caller's own, not this thread's shared one (a\n"
"manager's session: the objects it creates ephemeral die with it). It\n"
"connects again after a restart as the client's do, unless reconnect\n"
"is false (a pipe's hold: a new connection would hold nothing).");

static PyObject *
client_session(ClientObject *cl, PyObject *args, PyObject *kw)
{
	static char *kwlist[] = { "reconnect", NULL };
	PyObject *rc = Py_None;
	int r;

	if (!PyArg_ParseTupleAndKeywords(args, kw, "|O:session", kwlist, &rc))
		return NULL;
	if (rc == Py_None)
		r = cl->reconnect;
	else if ((r = PyObject_IsTrue(rc)) == -1)
		return NULL;
	return (PyObject *)conn_open_as(client_state(cl), cl, r != 0);
}

static PyObject *
client_conn(ClientObject *cl, PyObject *unused)
{
	bool transient;
	ConnObject *c = conn_for(client_state(cl), cl, &transient);

	if (c != NULL && transient) {
		conn_done(c, true);
		PyErr_SetString(PyExc_RuntimeError, "mpmgr: this thread's "
		    "connection is busy");
		return NULL;
	}
	return (PyObject *)c;
}

/* Pack o (as a key when key is true) into bytes. */
static PyObject *
client_pack(ClientObject *cl, PyObject *o, bool key)
{
	struct pyctx ctx = { client_state(cl), cl, false };
	msgpack_sbuffer sb;
	msgpack_packer pk;
	PyObject *b = NULL;
	int r;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	r = key ? pack_key(&ctx, &pk, o, 1) : pack_value(&ctx, &pk, o, 1);
	if (r == -1 && ctx.too_deep && !PyErr_Occurred()) {
		msgpack_sbuffer_clear(&sb);
		r = pack_pickled(&ctx, &pk, o);
	}
	if (r == 0)
		b = PyBytes_FromStringAndSize(sb.data != NULL ? sb.data : "",
		    (Py_ssize_t)sb.size);
	msgpack_sbuffer_destroy(&sb);
	return b;
}

static PyObject *
client_packb(ClientObject *cl, PyObject *args, PyObject *kw)
{
	static char *kwlist[] = { "obj", "key", NULL };
	PyObject *o;
	int key = 0;

	if (!PyArg_ParseTupleAndKeywords(args, kw, "O|p:packb", kwlist, &o,
	    &key))
		return NULL;
	return client_pack(cl, o, key);
}

static PyObject *
client_unpackb(ClientObject *cl, PyObject *arg)
{
	struct pyctx ctx = { client_state(cl), cl, false };
	Py_buffer view;
	PyObject *r;

	if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) == -1)
		return NULL;
	r = unpack_bytes(&ctx, view.buf, (size_t)view.len);
	PyBuffer_Release(&view);
	return r;
}

static PyObject *
client_key(ClientObject *cl, PyObject *o)
{
	State *st = client_state(cl);
	KeyObject *k;
	PyObject *b;

	if ((b = client_pack(cl, o, true)) == NULL)
		return NULL;
	if ((k = PyObject_New(KeyObject, st->key_type)) == NULL) {
		Py_DECREF(b);
		return NULL;
	}
	k->bytes = b;
	return (PyObject *)k;
}

static PyObject *
client_get_address(ClientObject *cl, void *unused)
{
	PyObject *a = cl->address != NULL ? cl->address : cl->path;

	Py_INCREF(a);
	return a;
}

static PyObject *
client_get_key(ClientObject *cl, void *unused)
{
	PyObject *k = cl->key != NULL ? cl->key : Py_None;

	Py_INCREF(k);
	return k;
}

static PyMethodDef client_methods[] = {
	{ "session", (PyCFunction)(void (*)(void))client_session,
	  METH_VARARGS | METH_KEYWORDS, client_session_doc },
	{ "conn", (PyCFunction)client_conn, METH_NOARGS,
	  "This thread's connection (made if missing)." },
	{ "key", (PyCFunction)client_key, METH_O,
	  "A dict key packed in its canonical form, for pipelines." },
	{ "packb", (PyCFunction)(void (*)(void))client_packb,
	  METH_VARARGS | METH_KEYWORDS,
	  "packb(obj, key=False) -> bytes: obj as the package sends it." },
	{ "unpackb", (PyCFunction)client_unpackb, METH_O,
	  "unpackb(data) -> object: the inverse of packb." },
	{ 0 }
};

static PyMemberDef client_members[] = {
	{ "path", T_OBJECT, offsetof(ClientObject, path), READONLY,
	  "the socket path asked for (None: the default)" },
	{ "keyfile", T_OBJECT, offsetof(ClientObject, keyfile), READONLY,
	  "the key file (None: the default), unless key is given" },
	{ "__weaklistoffset__", T_PYSSIZET, offsetof(ClientObject, weakrefs),
	  READONLY, NULL },
	{ 0 }
};

static PyGetSetDef client_getset[] = {
	{ "address", (getter)client_get_address, NULL,
	  "the socket path, resolved once connected", NULL },
	{ "authkey", (getter)client_get_key, NULL, "the key bytes, or None",
	  NULL },
	{ 0 }
};

static PyType_Slot client_slots[] = {
	{ Py_tp_new, client_new },
	{ Py_tp_dealloc, client_dealloc },
	{ Py_tp_repr, client_repr },
	{ Py_tp_methods, client_methods },
	{ Py_tp_members, client_members },
	{ Py_tp_getset, client_getset },
	{ Py_tp_doc, "Client(path=None, key=None, keyfile=None, *, "
	  "reconnect=True): one mpmgrd, reached by each thread on a "
	  "connection of its own, that connects again after a restart "
	  "unless reconnect is false." },
	{ 0, NULL }
};

static PyType_Spec client_spec = {
	.name = "mpmgr._mpmgr.Client",
	.basicsize = sizeof(ClientObject),
	.flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE,
	.slots = client_slots,
};

/* --- Connection methods -------------------------------------------------- */

/* 0 when c can take a request now, else -1 with an exception. */
static int
conn_check(ConnObject *c)
{
	if (c->h == NULL || c->broken || c->gen != mpmgr_py_fork_gen) {
		PyErr_SetString(PyExc_ConnectionError, "mpmgr: this connection "
		    "is closed, broken or the parent process's");
		return -1;
	}
	if (c->busy) {
		PyErr_SetString(PyExc_RuntimeError, "mpmgr: connection in use "
		    "by another call");
		return -1;
	}
	return 0;
}

/* args[skip:] is (method, *params): into *k. 0, or -1 with TypeError. */
static int
conn_parse(PyObject *const *args, Py_ssize_t nargs, Py_ssize_t skip,
    const char *usage, struct call *k)
{
	if (nargs < skip + 1 || !PyUnicode_Check(args[skip])) {
		PyErr_SetString(PyExc_TypeError, usage);
		return -1;
	}
	*k = (struct call){ .method = PyUnicode_AsUTF8(args[skip]),
	    .args = args + skip + 1, .nargs = nargs - skip - 1 };
	return k->method != NULL ? 0 : -1;
}

static PyObject *
conn_call(ConnObject *c, PyObject *const *args, Py_ssize_t nargs)
{
	State *st = state_of_type(Py_TYPE(c));
	struct call k;

	if (conn_parse(args, nargs, 0, "call(method, *params)", &k) == -1 ||
	    conn_check(c) == -1)
		return NULL;
	return conn_roundtrip(st, c, &k);
}

PyDoc_STRVAR(conn_send_doc, "send(method, *params)\n\n"
"Send one request and return without its reply: read it later with\n"
"reply(), in order (pending counts the unread ones).");

static PyObject *
conn_send_meth(ConnObject *c, PyObject *const *args, Py_ssize_t nargs)
{
	State *st = state_of_type(Py_TYPE(c));
	struct call k;
	int r;

	if (conn_parse(args, nargs, 0, "send(method, *params)", &k) == -1 ||
	    conn_check(c) == -1)
		return NULL;
	c->busy = true;
	if (conn_send(st, c, &k) == -1) {
		c->busy = false;
		return NULL;
	}
	Py_BEGIN_ALLOW_THREADS
	r = mpmgr_flush(c->h);
	Py_END_ALLOW_THREADS
	c->busy = false;
	if (r != 0)
		return conn_raise(st, c, r);
	Py_RETURN_NONE;
}

static PyObject *
conn_reply(ConnObject *c, PyObject *unused)
{
	State *st = state_of_type(Py_TYPE(c));
	PyObject *r;

	if (conn_check(c) == -1)
		return NULL;
	if (mpmgr_pending(c->h) == 0) {
		PyErr_SetString(PyExc_RuntimeError, "mpmgr: no reply is due");
		return NULL;
	}
	c->busy = true;
	r = conn_recv(st, c);
	c->busy = false;
	return r;
}

PyDoc_STRVAR(conn_readable_doc, "readable(timeout=0.0) -> bool\n\n"
"Whether the socket has something to read (a reply) within timeout\n"
"seconds (None: no limit). A signal handler that raises interrupts it.");

static PyObject *
conn_readable(ConnObject *c, PyObject *const *args, Py_ssize_t nargs)
{
	double timeout = 0;
	int r;

	if (nargs > 1) {
		PyErr_SetString(PyExc_TypeError, "readable(timeout=0.0)");
		return NULL;
	}
	if (nargs == 1 && args[0] == Py_None)
		timeout = -1;
	else if (nargs == 1) {
		timeout = PyFloat_AsDouble(args[0]);
		if (timeout == -1 && PyErr_Occurred())
			return NULL;
		if (timeout < 0 || timeout != timeout)
			timeout = 0;
	}
	if (conn_check(c) == -1)
		return NULL;
	if (timeout == 0) {
		/* a look, no wait: no signal to let in */
		struct pollfd p = { .fd = mpmgr_fd(c->h), .events = POLLIN };

		return PyBool_FromLong(poll(&p, 1, 0) > 0);
	}
	c->busy = true;
	r = wait_readable_for(c, timeout);
	c->busy = false;
	if (r == 1 || r == -1) {
		if (r == -1)
			c->broken = true;
		return NULL;
	}
	return PyBool_FromLong(r == 0);
}

PyDoc_STRVAR(conn_cancel_doc, "cancel() -> (answered, result)\n\n"
"Cancel the one outstanding request with sys.cancel and read its reply:\n"
"(False, None) when it was cancelled (or failed), (True, result) when\n"
"its answer came first.");

static PyObject *
conn_cancel(ConnObject *c, PyObject *unused)
{
	State *st = state_of_type(Py_TYPE(c));
	struct pyctx ctx = { st, c->client, false };
	msgpack_object obj;
	PyObject *v;
	int r;

	if (conn_check(c) == -1)
		return NULL;
	if ((r = mpmgr_cancel_pending(c->h)) != 0)
		return conn_raise(st, c, r);
	c->busy = true;
	Py_BEGIN_ALLOW_THREADS
	r = mpmgr_reply(c->h, &obj);
	Py_END_ALLOW_THREADS
	c->busy = false;
	if (r != 0) {
		if (breaks_stream(c, r))
			return conn_raise(st, c, r);
		return Py_BuildValue("(OO)", Py_False, Py_None);
	}
	if ((v = unpack_object(&ctx, &obj)) == NULL)
		return NULL;
	return Py_BuildValue("(ON)", Py_True, v);
}

static PyObject *
conn_wait_meth(ConnObject *c, PyObject *const *args, Py_ssize_t nargs)
{
	State *st = state_of_type(Py_TYPE(c));
	struct call k;

	if (conn_parse(args, nargs, 1, "wait(undo, method, *params)",
	    &k) == -1)
		return NULL;
	if (args[0] != Py_None && !PyCallable_Check(args[0])) {
		PyErr_SetString(PyExc_TypeError, "wait: undo must be callable "
		    "or None");
		return NULL;
	}
	if (conn_check(c) == -1)
		return NULL;
	if (mpmgr_pending(c->h) != 0) {
		PyErr_SetString(PyExc_RuntimeError, "mpmgr: wait() with replies "
		    "still due");
		return NULL;
	}
	return conn_wait_undo(st, c, &k, args[0]);
}

static PyObject *
conn_many_meth(ConnObject *c, PyObject *calls)
{
	if (conn_check(c) == -1)
		return NULL;
	return conn_many(state_of_type(Py_TYPE(c)), c, NULL, calls);
}

static PyObject *
conn_get_pending(ConnObject *c, void *unused)
{
	return PyLong_FromSize_t(c->h != NULL ? mpmgr_pending(c->h) : 0);
}

static PyObject *
conn_close(ConnObject *c, PyObject *unused)
{
	if (c->busy) {
		PyErr_SetString(PyExc_RuntimeError, "mpmgr: connection in use");
		return NULL;
	}
	mpmgr_free(c->h);
	c->h = NULL;
	c->broken = true;
	Py_RETURN_NONE;
}

PyDoc_STRVAR(conn_shutdown_doc, "shutdown()\n\n"
"Shut the socket down for both directions, from any thread: a call\n"
"waiting on it in another thread ends (ConnectionLostError), and the\n"
"daemon drops the connection and what it holds.");

static PyObject *
conn_shutdown(ConnObject *c, PyObject *unused)
{
	if (c->h != NULL && c->gen == mpmgr_py_fork_gen)
		(void)shutdown(mpmgr_fd(c->h), SHUT_RDWR);
	Py_RETURN_NONE;
}

static PyObject *
conn_fileno(ConnObject *c, PyObject *unused)
{
	return PyLong_FromLong(c->h != NULL ? mpmgr_fd(c->h) : -1);
}

static PyObject *
conn_get_epoch(ConnObject *c, void *unused)
{
	if (c->h == NULL || c->broken || c->gen != mpmgr_py_fork_gen)
		Py_RETURN_NONE;
	return conn_epoch(c);
}

static PyObject *
conn_get_usable(ConnObject *c, void *unused)
{
	return PyBool_FromLong(c->h != NULL && !c->broken &&
	    c->gen == mpmgr_py_fork_gen);
}

static PyMethodDef conn_methods[] = {
	{ "call", (PyCFunction)(void (*)(void))conn_call, METH_FASTCALL,
	  "call(method, *params): one request, its result." },
	{ "close", (PyCFunction)conn_close, METH_NOARGS,
	  "Close the connection (the daemon gives back what it holds)." },
	{ "fileno", (PyCFunction)conn_fileno, METH_NOARGS, "The socket." },
	{ "shutdown", (PyCFunction)conn_shutdown, METH_NOARGS,
	  conn_shutdown_doc },
	{ "send", (PyCFunction)(void (*)(void))conn_send_meth, METH_FASTCALL,
	  conn_send_doc },
	{ "reply", (PyCFunction)conn_reply, METH_NOARGS,
	  "The oldest reply due (its result, or its error raised)." },
	{ "readable", (PyCFunction)(void (*)(void))conn_readable,
	  METH_FASTCALL, conn_readable_doc },
	{ "cancel", (PyCFunction)conn_cancel, METH_NOARGS, conn_cancel_doc },
	{ "many", (PyCFunction)conn_many_meth, METH_O,
	  "many(calls): ProxyBase._many's pipeline of (method, args) on this "
	  "connection, each call's params whole." },
	{ "wait", (PyCFunction)(void (*)(void))conn_wait_meth, METH_FASTCALL,
	  "wait(undo, method, *params): ProxyBase._wait on this connection." },
	{ 0 }
};

static PyGetSetDef conn_getset[] = {
	{ "pending", (getter)conn_get_pending, NULL,
	  "requests sent whose replies were not read", NULL },
	{ "usable", (getter)conn_get_usable, NULL,
	  "open, unbroken and made in this process", NULL },
	{ "epoch", (getter)conn_get_epoch, NULL,
	  "(serial, reconnects): changes when the connection is lost and "
	  "made again (what it held is gone); None when unusable", NULL },
	{ 0 }
};

static PyType_Slot conn_slots[] = {
	{ Py_tp_dealloc, conn_dealloc },
	{ Py_tp_methods, conn_methods },
	{ Py_tp_getset, conn_getset },
	{ Py_tp_doc, "One authenticated connection (libmpmgr handle)." },
	{ 0, NULL }
};

static PyType_Spec conn_spec = {
	.name = "mpmgr._mpmgr.Connection",
	.basicsize = sizeof(ConnObject),
	.flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE |
	    Py_TPFLAGS_DISALLOW_INSTANTIATION,
	.slots = conn_slots,
};

/* --- ProxyBase ----------------------------------------------------------- */

static int
proxy_init(ProxyObject *p, PyObject *args, PyObject *kw)
{
	PyObject *cl, *name;
	State *st;

	if (!PyArg_ParseTuple(args, "OU:ProxyBase", &cl, &name))
		return -1;
	if ((st = state_of_subtype(Py_TYPE(p))) == NULL)
		return -1;
	if (Py_TYPE(cl) != st->client_type) {
		PyErr_SetString(PyExc_TypeError, "ProxyBase(client, name): "
		    "client must be an mpmgr._mpmgr.Client");
		return -1;
	}
	Py_INCREF(cl);
	Py_XSETREF(p->client, (ClientObject *)cl);
	Py_INCREF(name);
	Py_XSETREF(p->name, name);
	return 0;
}

static int
proxy_traverse(ProxyObject *p, visitproc visit, void *arg)
{
	Py_VISIT(Py_TYPE(p));
	Py_VISIT(p->client);
	Py_VISIT(p->name);
	Py_VISIT(p->dict);
	return 0;
}

static int
proxy_clear(ProxyObject *p)
{
	Py_CLEAR(p->client);
	Py_CLEAR(p->name);
	Py_CLEAR(p->dict);
	return 0;
}

static void
proxy_dealloc(ProxyObject *p)
{
	PyTypeObject *t = Py_TYPE(p);

	PyObject_GC_UnTrack(p);
	if (p->weakrefs != NULL)
		PyObject_ClearWeakRefs((PyObject *)p);
	proxy_clear(p);
	t->tp_free(p);
	Py_DECREF(t);
}

static int
proxy_ready(ProxyObject *p)
{
	if (p->client == NULL) {
		PyErr_SetString(PyExc_RuntimeError, "mpmgr: proxy not "
		    "initialised");
		return -1;
	}
	return 0;
}

/* _call(method, *args) / _kcall(method, key, *args) */
static PyObject *
proxy_call_common(ProxyObject *p, PyObject *const *args, Py_ssize_t nargs,
    Py_ssize_t nkeys)
{
	struct call k;

	if (proxy_ready(p) == -1)
		return NULL;
	if (nargs < 1 + nkeys || !PyUnicode_Check(args[0])) {
		PyErr_SetString(PyExc_TypeError, nkeys ?
		    "_kcall(method, key, *args)" : "_call(method, *args)");
		return NULL;
	}
	k = (struct call){ .method = PyUnicode_AsUTF8(args[0]),
	    .name = p->name, .args = args + 1, .nargs = nargs - 1,
	    .nkeys = nkeys };
	if (k.method == NULL)
		return NULL;
	return client_call(p->client, &k);
}

static PyObject *
proxy_call(ProxyObject *p, PyObject *const *args, Py_ssize_t nargs)
{
	return proxy_call_common(p, args, nargs, 0);
}

static PyObject *
proxy_kcall(ProxyObject *p, PyObject *const *args, Py_ssize_t nargs)
{
	return proxy_call_common(p, args, nargs, 1);
}

/* _update(method, d): method(name, d) with d's keys packed as keys. */
static PyObject *
proxy_update(ProxyObject *p, PyObject *const *args, Py_ssize_t nargs)
{
	struct call k;

	if (proxy_ready(p) == -1)
		return NULL;
	if (nargs != 2 || !PyUnicode_Check(args[0]) ||
	    !PyDict_CheckExact(args[1])) {
		PyErr_SetString(PyExc_TypeError, "_update(method, dict)");
		return NULL;
	}
	k = (struct call){ .method = PyUnicode_AsUTF8(args[0]),
	    .name = p->name, .args = args + 1, .nargs = 1, .keyed_map = true };
	if (k.method == NULL)
		return NULL;
	return client_call(p->client, &k);
}

/* _pairs(method): the list method answers, its lists made tuples. */
static PyObject *
proxy_pairs(ProxyObject *p, PyObject *method)
{
	struct call k;

	if (proxy_ready(p) == -1)
		return NULL;
	if (!PyUnicode_Check(method)) {
		PyErr_SetString(PyExc_TypeError, "_pairs(method)");
		return NULL;
	}
	k = (struct call){ .method = PyUnicode_AsUTF8(method),
	    .name = p->name, .pairs = true };
	if (k.method == NULL)
		return NULL;
	return client_call(p->client, &k);
}

PyDoc_STRVAR(proxy_wait_doc, "_wait(method, undo, *args)\n\n"
"A call that may block: a signal handler that raises (Ctrl-C) cancels it\n"
"with sys.cancel, the connection and what it holds stay, and the\n"
"exception propagates. If the reply won the race with the cancel,\n"
"undo(result) runs first on this connection (undo may be None): it gives\n"
"back what the call took (a lock, an item).");

static PyObject *
proxy_wait(ProxyObject *p, PyObject *const *args, Py_ssize_t nargs)
{
	State *st;
	ConnObject *c;
	struct call k;
	PyObject *r;
	bool transient;

	if (proxy_ready(p) == -1)
		return NULL;
	if (nargs < 2 || !PyUnicode_Check(args[0]) ||
	    (args[1] != Py_None && !PyCallable_Check(args[1]))) {
		PyErr_SetString(PyExc_TypeError, "_wait(method, undo, *args)");
		return NULL;
	}
	k = (struct call){ .method = PyUnicode_AsUTF8(args[0]),
	    .name = p->name, .args = args + 2, .nargs = nargs - 2 };
	if (k.method == NULL)
		return NULL;
	st = client_state(p->client);
	if ((c = conn_for(st, p->client, &transient)) == NULL)
		return NULL;
	r = conn_wait_undo(st, c, &k, args[1]);
	conn_done(c, transient);
	return r;
}

PyDoc_STRVAR(proxy_epoch_doc, "_epoch() -> (serial, n) or None\n\n"
"The epoch of this thread's connection to the daemon (Connection.epoch),\n"
"None when it has none: a hold taken at one epoch is gone at another.");

static PyObject *
proxy_epoch(ProxyObject *p, PyObject *unused)
{
	PyObject *tsd = PyThreadState_GetDict();
	ConnObject *c;

	if (proxy_ready(p) == -1)
		return NULL;
	if (tsd == NULL)
		Py_RETURN_NONE;
	c = (ConnObject *)PyDict_GetItemWithError(tsd, (PyObject *)p->client);
	if (c == NULL) {
		if (PyErr_Occurred())
			return NULL;
		Py_RETURN_NONE;
	}
	return conn_get_epoch(c, NULL);
}

PyDoc_STRVAR(proxy_many_doc, "_many(calls) -> list\n\n"
"Pipeline: calls is a sequence of (method, args) run on this object in\n"
"order, all sent before any reply is read. The list holds each result,\n"
"or the exception instance of a call that failed.");

static PyObject *
proxy_many(ProxyObject *p, PyObject *calls)
{
	ConnObject *c;
	bool transient;
	State *st;
	PyObject *out;

	if (proxy_ready(p) == -1)
		return NULL;
	st = client_state(p->client);
	if ((c = conn_for(st, p->client, &transient)) == NULL)
		return NULL;
	out = conn_many(st, c, p->name, calls);
	conn_done(c, transient);
	return out;
}

static PyMethodDef proxy_methods[] = {
	{ "_call", (PyCFunction)(void (*)(void))proxy_call, METH_FASTCALL,
	  "_call(method, *args): method(name, *args) on this thread's "
	  "connection." },
	{ "_kcall", (PyCFunction)(void (*)(void))proxy_kcall, METH_FASTCALL,
	  "_kcall(method, key, *args): key is packed as a dict key." },
	{ "_wait", (PyCFunction)(void (*)(void))proxy_wait, METH_FASTCALL,
	  proxy_wait_doc },
	{ "_update", (PyCFunction)(void (*)(void))proxy_update, METH_FASTCALL,
	  "_update(method, d): d (a dict) with its keys packed as keys." },
	{ "_pairs", (PyCFunction)proxy_pairs, METH_O,
	  "_pairs(method): the list answered, its lists made tuples." },
	{ "_many", (PyCFunction)proxy_many, METH_O, proxy_many_doc },
	{ "_epoch", (PyCFunction)proxy_epoch, METH_NOARGS, proxy_epoch_doc },
	{ 0 }
};

static PyMemberDef proxy_members[] = {
	{ "_client", T_OBJECT, offsetof(ProxyObject, client), READONLY,
	  "the daemon (Client)" },
	{ "_name", T_OBJECT, offsetof(ProxyObject, name), READONLY,
	  "the object's name" },
	{ "__dictoffset__", T_PYSSIZET, offsetof(ProxyObject, dict),
	  READONLY, NULL },
	{ "__weaklistoffset__", T_PYSSIZET, offsetof(ProxyObject, weakrefs),
	  READONLY, NULL },
	{ 0 }
};

static PyGetSetDef proxy_getset[] = {
	{ "__dict__", PyObject_GenericGetDict, PyObject_GenericSetDict, NULL,
	  NULL },
	{ 0 }
};

static PyType_Slot proxy_slots[] = {
	{ Py_tp_init, proxy_init },
	{ Py_tp_getset, proxy_getset },
	{ Py_tp_new, PyType_GenericNew },
	{ Py_tp_dealloc, proxy_dealloc },
	{ Py_tp_traverse, proxy_traverse },
	{ Py_tp_clear, proxy_clear },
	{ Py_tp_methods, proxy_methods },
	{ Py_tp_members, proxy_members },
	{ Py_tp_doc, "ProxyBase(client, name): a named object of a daemon." },
	{ 0, NULL }
};

static PyType_Spec proxy_spec = {
	.name = "mpmgr._mpmgr.ProxyBase",
	.basicsize = sizeof(ProxyObject),
	.flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE |
	    Py_TPFLAGS_HAVE_GC,
	.slots = proxy_slots,
};

int
client_types_add(PyObject *m, State *st)
{
	st->client_type = (PyTypeObject *)PyType_FromModuleAndSpec(m,
	    &client_spec, NULL);
	if (st->client_type == NULL ||
	    PyModule_AddType(m, st->client_type) == -1)
		return -1;
	st->conn_type = (PyTypeObject *)PyType_FromModuleAndSpec(m,
	    &conn_spec, NULL);
	if (st->conn_type == NULL || PyModule_AddType(m, st->conn_type) == -1)
		return -1;
	st->proxy_type = (PyTypeObject *)PyType_FromModuleAndSpec(m,
	    &proxy_spec, NULL);
	if (st->proxy_type == NULL ||
	    PyModule_AddType(m, st->proxy_type) == -1)
		return -1;
	return 0;
}
