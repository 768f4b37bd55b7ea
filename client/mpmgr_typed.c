/*
 * mpmgr_typed.c: libmpmgr's typed helpers (the contract is mpmgr.h): the
 * msgpack_object constructors and one thin function per common verb, each
 * a mpmgr_call with its params built and its result checked for type.
 *
 * Nothing here touches the socket or the buffers: a helper is what a user
 * could write over mpmgr_call, kept apart from the core (mpmgr.c) so that
 * the core stays about connections, requests and replies. Method names
 * come from the catalogue (proto/mpmgr_methods.h) through
 * MPMGR_METHOD_NAME (METHOD here), which does not compile for a method
 * the protocol does not have. Misuse (a NULL key, a NaN timeout) and results of the
 * wrong type are client errors set on the handle through handle_fail().
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../proto/mpmgr_methods.h"
#include "handle.h"
#include "mpmgr.h"

#define METHOD(t, v) MPMGR_METHOD_NAME(t, v)

msgpack_object
mpmgr_obj_strn(const char *s, size_t n)
{
	msgpack_object o = { .type = MSGPACK_OBJECT_STR };

	o.via.str.ptr = s;
	o.via.str.size = (uint32_t)n;
	return o;
}

msgpack_object
mpmgr_obj_str(const char *s)
{
	return mpmgr_obj_strn(s, strlen(s));
}

msgpack_object
mpmgr_obj_int(int64_t i)
{
	msgpack_object o;

	if (i >= 0) {
		o.type = MSGPACK_OBJECT_POSITIVE_INTEGER;
		o.via.u64 = (uint64_t)i;
	} else {
		o.type = MSGPACK_OBJECT_NEGATIVE_INTEGER;
		o.via.i64 = i;
	}
	return o;
}

msgpack_object
mpmgr_obj_double(double d)
{
	msgpack_object o = { .type = MSGPACK_OBJECT_FLOAT64 };

	o.via.f64 = d;
	return o;
}

msgpack_object
mpmgr_obj_nil(void)
{
	msgpack_object o = { .type = MSGPACK_OBJECT_NIL };

	return o;
}

msgpack_object
mpmgr_obj_bool(bool b)
{
	msgpack_object o = { .type = MSGPACK_OBJECT_BOOLEAN };

	o.via.boolean = b;
	return o;
}

static bool
obj_int64(const msgpack_object *o, int64_t *out)
{
	if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
	    o->via.u64 <= INT64_MAX) {
		*out = (int64_t)o->via.u64;
		return true;
	}
	if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
		*out = o->via.i64;
		return true;
	}
	return false;
}

static int
want_int(mpmgr *h, const msgpack_object *o, int64_t *out)
{
	int64_t v;

	if (!obj_int64(o, &v))
		return handle_fail(h, MPMGR_EBADTYPE, "the result is not an "
		    "integer that fits int64");
	if (out != NULL)
		*out = v;
	return 0;
}

/* MPMGR_EINVAL for a NULL argument, said on h when there is one. */
static int
missing(mpmgr *h, const char *method, const char *what)
{
	if (h == NULL)
		return MPMGR_EINVAL;
	return handle_fail(h, MPMGR_EINVAL, "%s: no %s", method, what);
}

/* The object name first, then up to three more params. */
static int
call_named(mpmgr *h, const char *method, const char *name,
    const msgpack_object *more, uint32_t nmore, msgpack_object *result)
{
	msgpack_object params[4];
	uint32_t i;

	if (h == NULL || name == NULL)
		return missing(h, method, "object name");
	params[0] = mpmgr_obj_str(name);
	for (i = 0; i < nmore; i++)
		params[1 + i] = more[i];
	return mpmgr_call(h, method, params, 1 + nmore, result);
}

int
mpmgr_ping(mpmgr *h)
{
	return mpmgr_call(h, METHOD(sys, ping), NULL, 0, NULL);
}

int
mpmgr_dict_set(mpmgr *h, const char *name, const msgpack_object *key,
    const msgpack_object *value)
{
	msgpack_object kv[2];

	if (h == NULL || key == NULL || value == NULL)
		return missing(h, METHOD(dict, set), "key or value");
	kv[0] = *key;
	kv[1] = *value;
	return call_named(h, METHOD(dict, set), name, kv, 2, NULL);
}

int
mpmgr_dict_get(mpmgr *h, const char *name, const msgpack_object *key,
    msgpack_object *value)
{
	if (h == NULL || key == NULL)
		return missing(h, METHOD(dict, get), "key");
	return call_named(h, METHOD(dict, get), name, key, 1, value);
}

int
mpmgr_dict_set_str(mpmgr *h, const char *name, const char *key,
    const char *value)
{
	msgpack_object k, v;

	if (h == NULL || key == NULL || value == NULL)
		return missing(h, METHOD(dict, set), "key or value");
	k = mpmgr_obj_str(key);
	v = mpmgr_obj_str(value);
	return mpmgr_dict_set(h, name, &k, &v);
}

int
mpmgr_dict_set_int(mpmgr *h, const char *name, const char *key,
    int64_t value)
{
	msgpack_object k, v;

	if (h == NULL || key == NULL)
		return missing(h, METHOD(dict, set), "key");
	k = mpmgr_obj_str(key);
	v = mpmgr_obj_int(value);
	return mpmgr_dict_set(h, name, &k, &v);
}

int
mpmgr_dict_get_str(mpmgr *h, const char *name, const char *key,
    const char **value, size_t *len)
{
	msgpack_object k, v;
	int r;

	if (h == NULL || key == NULL)
		return missing(h, METHOD(dict, get), "key");
	k = mpmgr_obj_str(key);
	if ((r = mpmgr_dict_get(h, name, &k, &v)) != 0)
		return r;
	if (v.type != MSGPACK_OBJECT_STR)
		return handle_fail(h, MPMGR_EBADTYPE, "the value of '%s' is "
		    "not a str", key);
	if (value != NULL)
		*value = v.via.str.ptr;
	if (len != NULL)
		*len = v.via.str.size;
	return 0;
}

int
mpmgr_dict_get_int(mpmgr *h, const char *name, const char *key,
    int64_t *value)
{
	msgpack_object k, v;
	int r;

	if (h == NULL || key == NULL)
		return missing(h, METHOD(dict, get), "key");
	k = mpmgr_obj_str(key);
	if ((r = mpmgr_dict_get(h, name, &k, &v)) != 0)
		return r;
	return want_int(h, &v, value);
}

int
mpmgr_dict_incr(mpmgr *h, const char *name, const char *key, int64_t delta,
    int64_t *result)
{
	msgpack_object kd[2], res;
	int r;

	if (h == NULL || key == NULL)
		return missing(h, METHOD(dict, incr), "key");
	kd[0] = mpmgr_obj_str(key);
	kd[1] = mpmgr_obj_int(delta);
	if ((r = call_named(h, METHOD(dict, incr), name, kd, 2, &res)) != 0)
		return r;
	return want_int(h, &res, result);
}

int
mpmgr_dict_incr_double(mpmgr *h, const char *name, const char *key,
    double delta, double *result)
{
	msgpack_object kd[2], res;
	int r;

	if (h == NULL || key == NULL)
		return missing(h, METHOD(dict, incr), "key");
	kd[0] = mpmgr_obj_str(key);
	kd[1] = mpmgr_obj_double(delta);
	if ((r = call_named(h, METHOD(dict, incr), name, kd, 2, &res)) != 0)
		return r;
	if (res.type != MSGPACK_OBJECT_FLOAT64 &&
	    res.type != MSGPACK_OBJECT_FLOAT32)
		return handle_fail(h, MPMGR_EBADTYPE, "the result is not a "
		    "float");
	if (result != NULL)
		*result = res.via.f64;
	return 0;
}

int
mpmgr_dict_delete(mpmgr *h, const char *name, const char *key)
{
	msgpack_object k;

	if (h == NULL || key == NULL)
		return missing(h, METHOD(dict, delete), "key");
	k = mpmgr_obj_str(key);
	return call_named(h, METHOD(dict, delete), name, &k, 1, NULL);
}

int64_t
mpmgr_dict_len(mpmgr *h, const char *name)
{
	msgpack_object res;
	int64_t n = 0;
	int r;

	if ((r = call_named(h, METHOD(dict, len), name, NULL, 0, &res)) != 0)
		return r;
	if ((r = want_int(h, &res, &n)) != 0)
		return r;
	return n;
}

int
mpmgr_value_set(mpmgr *h, const char *name, const msgpack_object *value)
{
	if (h == NULL || value == NULL)
		return missing(h, METHOD(value, set), "value");
	return call_named(h, METHOD(value, set), name, value, 1, NULL);
}

int
mpmgr_value_get(mpmgr *h, const char *name, msgpack_object *value)
{
	return call_named(h, METHOD(value, get), name, NULL, 0, value);
}

int
mpmgr_value_set_int(mpmgr *h, const char *name, int64_t value)
{
	msgpack_object v = mpmgr_obj_int(value);

	return mpmgr_value_set(h, name, &v);
}

int
mpmgr_value_get_int(mpmgr *h, const char *name, int64_t *value)
{
	msgpack_object v;
	int r;

	if ((r = mpmgr_value_get(h, name, &v)) != 0)
		return r;
	return want_int(h, &v, value);
}

int
mpmgr_value_incr(mpmgr *h, const char *name, int64_t delta, int64_t *result)
{
	msgpack_object d = mpmgr_obj_int(delta), res;
	int r;

	if ((r = call_named(h, METHOD(value, incr), name, &d, 1, &res)) != 0)
		return r;
	return want_int(h, &res, result);
}

/* --- blocking verbs --------------------------------------------------- */

/*
 * The timeout param: 1 and *o to send it, 0 to leave it out (forever), or
 * MPMGR_EINVAL for NaN.
 */
static int
timeout_param(mpmgr *h, const char *method, double timeout,
    msgpack_object *o)
{
	if (isnan(timeout))
		return handle_fail(h, MPMGR_EINVAL, "%s: the timeout is NaN",
		    method);
	if (timeout < 0 || isinf(timeout))
		return 0;
	*o = mpmgr_obj_double(timeout);
	return 1;
}

/* name, then the params in more, then the timeout unless forever. */
static int
call_timed(mpmgr *h, const char *method, const char *name,
    const msgpack_object *more, uint32_t nmore, double timeout,
    msgpack_object *result)
{
	msgpack_object params[3];
	int r;

	if (h == NULL)
		return MPMGR_EINVAL;
	for (uint32_t i = 0; i < nmore; i++)
		params[i] = more[i];
	if ((r = timeout_param(h, method, timeout, &params[nmore])) < 0)
		return r;
	return call_named(h, method, name, params, nmore + (uint32_t)r,
	    result);
}

/* A bool result as 1 or 0. */
static int
want_bool(mpmgr *h, const msgpack_object *o)
{
	if (o->type != MSGPACK_OBJECT_BOOLEAN)
		return handle_fail(h, MPMGR_EBADTYPE, "the result is not a "
		    "bool");
	return o->via.boolean ? 1 : 0;
}

/* A verb answering true or false, such as an acquire or a wait. */
static int
call_bool(mpmgr *h, const char *method, const char *name, double timeout)
{
	msgpack_object res;
	int r;

	if ((r = call_timed(h, method, name, NULL, 0, timeout, &res)) != 0)
		return r;
	return want_bool(h, &res);
}

int
mpmgr_lock_acquire(mpmgr *h, const char *name, double timeout)
{
	return call_bool(h, METHOD(lock, acquire), name, timeout);
}

int
mpmgr_lock_release(mpmgr *h, const char *name)
{
	return call_named(h, METHOD(lock, release), name, NULL, 0, NULL);
}

int
mpmgr_rlock_acquire(mpmgr *h, const char *name, double timeout)
{
	return call_bool(h, METHOD(rlock, acquire), name, timeout);
}

int
mpmgr_rlock_release(mpmgr *h, const char *name)
{
	return call_named(h, METHOD(rlock, release), name, NULL, 0, NULL);
}

int
mpmgr_sem_acquire(mpmgr *h, const char *name, double timeout)
{
	return call_bool(h, METHOD(semaphore, acquire), name, timeout);
}

int
mpmgr_sem_release(mpmgr *h, const char *name, int64_t n)
{
	msgpack_object o = mpmgr_obj_int(n);

	return call_named(h, METHOD(semaphore, release), name, &o, 1, NULL);
}

/* --- fencing tokens and leases --------------------------------------- */

/*
 * acquire with its options: [name, timeout or nil, {fence: true[, ttl}]:
 * 1 and the token, 0 timed out, or < 0.
 */
static int
call_fenced(mpmgr *h, const char *method, const char *name, double timeout,
    double ttl, uint64_t *fence)
{
	msgpack_object params[2], res;
	msgpack_object_kv kv[2];
	int r;

	if (h == NULL)
		return MPMGR_EINVAL;
	if (isnan(ttl))
		return handle_fail(h, MPMGR_EINVAL, "%s: the ttl is NaN",
		    method);
	if ((r = timeout_param(h, method, timeout, &params[0])) < 0)
		return r;
	if (r == 0)
		params[0] = mpmgr_obj_nil();
	kv[0].key = mpmgr_obj_str("fence");
	kv[0].val = mpmgr_obj_bool(true);
	kv[1].key = mpmgr_obj_str("ttl");
	kv[1].val = mpmgr_obj_double(ttl);
	params[1].type = MSGPACK_OBJECT_MAP;
	params[1].via.map.ptr = kv;
	params[1].via.map.size = ttl > 0 ? 2 : 1;
	if ((r = call_named(h, method, name, params, 2, &res)) != 0)
		return r;
	if (res.type == MSGPACK_OBJECT_BOOLEAN && !res.via.boolean)
		return 0;
	if (res.type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return handle_fail(h, MPMGR_EBADTYPE, "the result is neither "
		    "false nor a fencing token");
	if (fence != NULL)
		*fence = res.via.u64;
	return 1;
}

/* extend: [name, ttl]. */
static int
call_extend(mpmgr *h, const char *method, const char *name, double ttl)
{
	msgpack_object o;

	if (h == NULL)
		return MPMGR_EINVAL;
	if (!(ttl > 0) || isinf(ttl))
		return handle_fail(h, MPMGR_EINVAL, "%s: the ttl must be a "
		    "number of seconds > 0", method);
	o = mpmgr_obj_double(ttl);
	return call_named(h, method, name, &o, 1, NULL);
}

int
mpmgr_lock_acquire_fenced(mpmgr *h, const char *name, double timeout,
    double ttl, uint64_t *fence)
{
	return call_fenced(h, METHOD(lock, acquire), name, timeout, ttl,
	    fence);
}

int
mpmgr_rlock_acquire_fenced(mpmgr *h, const char *name, double timeout,
    double ttl, uint64_t *fence)
{
	return call_fenced(h, METHOD(rlock, acquire), name, timeout, ttl,
	    fence);
}

int
mpmgr_sem_acquire_fenced(mpmgr *h, const char *name, double timeout,
    double ttl, uint64_t *fence)
{
	return call_fenced(h, METHOD(semaphore, acquire), name, timeout, ttl,
	    fence);
}

int
mpmgr_lock_extend(mpmgr *h, const char *name, double ttl)
{
	return call_extend(h, METHOD(lock, extend), name, ttl);
}

int
mpmgr_rlock_extend(mpmgr *h, const char *name, double ttl)
{
	return call_extend(h, METHOD(rlock, extend), name, ttl);
}

int
mpmgr_sem_extend(mpmgr *h, const char *name, double ttl)
{
	return call_extend(h, METHOD(semaphore, extend), name, ttl);
}

int
mpmgr_event_set(mpmgr *h, const char *name)
{
	return call_named(h, METHOD(event, set), name, NULL, 0, NULL);
}

int
mpmgr_event_clear(mpmgr *h, const char *name)
{
	return call_named(h, METHOD(event, clear), name, NULL, 0, NULL);
}

int
mpmgr_event_wait(mpmgr *h, const char *name, double timeout)
{
	return call_bool(h, METHOD(event, wait), name, timeout);
}

int
mpmgr_queue_put(mpmgr *h, const char *name, const msgpack_object *item,
    double timeout)
{
	if (h == NULL || item == NULL)
		return missing(h, METHOD(queue, put), "item");
	return call_timed(h, METHOD(queue, put), name, item, 1, timeout, NULL);
}

int
mpmgr_queue_get(mpmgr *h, const char *name, double timeout,
    msgpack_object *item)
{
	return call_timed(h, METHOD(queue, get), name, NULL, 0, timeout, item);
}

int
mpmgr_queue_task_done(mpmgr *h, const char *name)
{
	return call_named(h, METHOD(queue, task_done), name, NULL, 0, NULL);
}

int
mpmgr_queue_join(mpmgr *h, const char *name, double timeout)
{
	return call_bool(h, METHOD(queue, join), name, timeout);
}

int
mpmgr_barrier_wait(mpmgr *h, const char *name, double timeout,
    int64_t *index)
{
	msgpack_object res;
	int r;

	if ((r = call_timed(h, METHOD(barrier, wait), name, NULL, 0, timeout,
	    &res)) != 0)
		return r;
	return want_int(h, &res, index);
}


int
mpmgr_queue_shutdown(mpmgr *h, const char *name, bool immediate)
{
	msgpack_object o = mpmgr_obj_bool(immediate);

	return call_named(h, METHOD(queue, shutdown), name, &o, 1, NULL);
}

/* --- pipes ------------------------------------------------------------ */

/* An end param: 0 or 1, else MPMGR_EINVAL said on h. */
static int
end_param(mpmgr *h, const char *method, int end, msgpack_object *o)
{
	if (h == NULL)
		return MPMGR_EINVAL;
	if (end != 0 && end != 1)
		return handle_fail(h, MPMGR_EINVAL, "%s: the end is 0 or 1, "
		    "not %d", method, end);
	*o = mpmgr_obj_int(end);
	return 0;
}

int
mpmgr_pipe_open(mpmgr *h, const char *name, int end, uint64_t token)
{
	msgpack_object p[2];
	int r;

	if ((r = end_param(h, METHOD(pipe, open), end, &p[0])) != 0)
		return r;
	p[1].type = MSGPACK_OBJECT_POSITIVE_INTEGER;
	p[1].via.u64 = token;
	return call_named(h, METHOD(pipe, open), name, p, token != 0 ? 2 : 1,
	    NULL);
}

int
mpmgr_pipe_close(mpmgr *h, const char *name, int end)
{
	msgpack_object e;
	int r;

	if ((r = end_param(h, METHOD(pipe, close), end, &e)) != 0)
		return r;
	return call_named(h, METHOD(pipe, close), name, &e, 1, NULL);
}

int
mpmgr_pipe_send(mpmgr *h, const char *name, int end,
    const msgpack_object *item, double timeout)
{
	msgpack_object p[2];
	int r;

	if (h == NULL || item == NULL)
		return missing(h, METHOD(pipe, send), "item");
	if ((r = end_param(h, METHOD(pipe, send), end, &p[0])) != 0)
		return r;
	p[1] = *item;
	return call_timed(h, METHOD(pipe, send), name, p, 2, timeout, NULL);
}

int
mpmgr_pipe_recv(mpmgr *h, const char *name, int end, double timeout,
    msgpack_object *item)
{
	msgpack_object e;
	int r;

	if ((r = end_param(h, METHOD(pipe, recv), end, &e)) != 0)
		return r;
	return call_timed(h, METHOD(pipe, recv), name, &e, 1, timeout, item);
}

int
mpmgr_pipe_poll(mpmgr *h, const char *name, int end, double timeout)
{
	msgpack_object e, res;
	int r;

	if ((r = end_param(h, METHOD(pipe, poll), end, &e)) != 0)
		return r;
	if ((r = call_timed(h, METHOD(pipe, poll), name, &e, 1, timeout,
	    &res)) != 0)
		return r;
	return want_bool(h, &res);
}

int
mpmgr_pipe_handoff(mpmgr *h, const char *name, int end, double timeout,
    uint64_t *token)
{
	msgpack_object e, res;
	int r;

	if ((r = end_param(h, METHOD(pipe, handoff), end, &e)) != 0)
		return r;
	/* A negative or infinite timeout leaves the param out: the
	 * daemon's default. */
	if ((r = call_timed(h, METHOD(pipe, handoff), name, &e, 1, timeout,
	    &res)) != 0)
		return r;
	if (res.type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return handle_fail(h, MPMGR_EBADTYPE, "the token is not an "
		    "unsigned integer");
	if (token != NULL)
		*token = res.via.u64;
	return 0;
}

/* --- process records --------------------------------------------------- */

int
mpmgr_process_register(mpmgr *h, const char *name, int64_t pid,
    const char *const *argv, bool daemon)
{
	msgpack_object_kv kv[3];
	msgpack_object fields, *args;
	uint32_t i, n;
	int r;

	if (h == NULL || argv == NULL || argv[0] == NULL)
		return missing(h, METHOD(process, register), "argv");
	for (n = 0; argv[n] != NULL; n++)
		;
	if ((args = calloc(n, sizeof(*args))) == NULL)
		return handle_fail(h, MPMGR_ENOMEM, "out of memory");
	for (i = 0; i < n; i++)
		args[i] = mpmgr_obj_str(argv[i]);
	kv[0].key = mpmgr_obj_str("pid");
	kv[0].val = mpmgr_obj_int(pid);
	kv[1].key = mpmgr_obj_str("argv");
	kv[1].val.type = MSGPACK_OBJECT_ARRAY;
	kv[1].val.via.array.size = n;
	kv[1].val.via.array.ptr = args;
	kv[2].key = mpmgr_obj_str("daemon");
	kv[2].val = mpmgr_obj_bool(daemon);
	fields.type = MSGPACK_OBJECT_MAP;
	fields.via.map.size = 3;
	fields.via.map.ptr = kv;
	r = call_named(h, METHOD(process, register), name, &fields, 1, NULL);
	free(args);
	return r;
}

int
mpmgr_process_exited(mpmgr *h, const char *name, int exitcode)
{
	msgpack_object c = mpmgr_obj_int(exitcode);

	return call_named(h, METHOD(process, exited), name, &c, 1, NULL);
}

int
mpmgr_process_join(mpmgr *h, const char *name, double timeout,
    int *exitcode)
{
	msgpack_object res;
	int64_t code = 0;
	int r;

	if ((r = call_timed(h, METHOD(process, join), name, NULL, 0, timeout,
	    &res)) != 0)
		return r;
	if ((r = want_int(h, &res, &code)) != 0)
		return r;
	if (exitcode != NULL)
		*exitcode = (int)code;
	return 0;
}

int
mpmgr_process_is_alive(mpmgr *h, const char *name)
{
	msgpack_object res;
	int r;

	if ((r = call_named(h, METHOD(process, is_alive), name, NULL, 0,
	    &res)) != 0)
		return r;
	return want_bool(h, &res);
}

int
mpmgr_process_terminate(mpmgr *h, const char *name)
{
	return call_named(h, METHOD(process, terminate), name, NULL, 0, NULL);
}

int
mpmgr_process_kill(mpmgr *h, const char *name)
{
	return call_named(h, METHOD(process, kill), name, NULL, 0, NULL);
}

/* --- pools ------------------------------------------------------------- */

static int
want_uint(mpmgr *h, const msgpack_object *o, uint64_t *out)
{
	if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return handle_fail(h, MPMGR_EBADTYPE, "the result is not an "
		    "unsigned integer");
	if (out != NULL)
		*out = o->via.u64;
	return 0;
}

static msgpack_object
obj_uint(uint64_t u)
{
	msgpack_object o = { .type = MSGPACK_OBJECT_POSITIVE_INTEGER };

	o.via.u64 = u;
	return o;
}

int
mpmgr_pool_submit(mpmgr *h, const char *name, const msgpack_object *payload,
    uint64_t *id)
{
	msgpack_object res;
	int r;

	if (h == NULL || payload == NULL)
		return missing(h, METHOD(pool, submit), "payload");
	if ((r = call_named(h, METHOD(pool, submit), name, payload, 1,
	    &res)) != 0)
		return r;
	return want_uint(h, &res, id);
}

int
mpmgr_pool_take(mpmgr *h, const char *name, double timeout, uint64_t *id,
    msgpack_object *payload, unsigned *attempt)
{
	msgpack_object res, *a;
	int r;

	if ((r = call_timed(h, METHOD(pool, take), name, NULL, 0, timeout,
	    &res)) != 0)
		return r;
	a = res.via.array.ptr;
	if (res.type != MSGPACK_OBJECT_ARRAY || res.via.array.size != 3 ||
	    a[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
	    a[2].type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return handle_fail(h, MPMGR_EPROTO, "%s: the result is not "
		    "[id, payload, attempt]", METHOD(pool, take));
	if (id != NULL)
		*id = a[0].via.u64;
	if (payload != NULL)
		*payload = a[1];
	if (attempt != NULL)
		*attempt = a[2].via.u64 > UINT32_MAX ? UINT32_MAX :
		    (unsigned)a[2].via.u64;
	return 0;
}

/* done and fail: [name, id, value]. */
static int
pool_finish(mpmgr *h, const char *method, const char *name, uint64_t id,
    const msgpack_object *value)
{
	msgpack_object more[2];

	if (h == NULL || value == NULL)
		return missing(h, method, "value");
	more[0] = obj_uint(id);
	more[1] = *value;
	return call_named(h, method, name, more, 2, NULL);
}

int
mpmgr_pool_done(mpmgr *h, const char *name, uint64_t id,
    const msgpack_object *result)
{
	return pool_finish(h, METHOD(pool, done), name, id, result);
}

int
mpmgr_pool_fail(mpmgr *h, const char *name, uint64_t id,
    const msgpack_object *error)
{
	return pool_finish(h, METHOD(pool, fail), name, id, error);
}

/* "done", "failed", "cancelled" as MPMGR_JOB_*, or 0. */
static int
job_state(const msgpack_object *s)
{
	static const char *const names[] = {
		[MPMGR_JOB_DONE] = "done",
		[MPMGR_JOB_FAILED] = "failed",
		[MPMGR_JOB_CANCELLED] = "cancelled",
	};
	size_t i;

	if (s->type != MSGPACK_OBJECT_STR)
		return 0;
	for (i = 1; i < sizeof(names) / sizeof(names[0]); i++) {
		if (s->via.str.size == strlen(names[i]) &&
		    memcmp(s->via.str.ptr, names[i], s->via.str.size) == 0)
			return (int)i;
	}
	return 0;
}

int
mpmgr_pool_result(mpmgr *h, const char *name, uint64_t id, bool consume,
    double timeout, int *state, msgpack_object *value)
{
	msgpack_object more[2], res;
	int r, s;

	more[0] = obj_uint(id);
	more[1] = mpmgr_obj_bool(consume);
	if ((r = call_timed(h, METHOD(pool, result), name, more, 2, timeout,
	    &res)) != 0)
		return r;
	if (res.type != MSGPACK_OBJECT_ARRAY || res.via.array.size != 2 ||
	    (s = job_state(&res.via.array.ptr[0])) == 0)
		return handle_fail(h, MPMGR_EPROTO, "%s: the result is not "
		    "[state, value]", METHOD(pool, result));
	if (state != NULL)
		*state = s;
	if (value != NULL)
		*value = res.via.array.ptr[1];
	return 0;
}

int
mpmgr_pool_cancel(mpmgr *h, const char *name, uint64_t id)
{
	msgpack_object i = obj_uint(id), res;
	int r;

	if ((r = call_named(h, METHOD(pool, cancel), name, &i, 1, &res)) != 0)
		return r;
	return want_bool(h, &res);
}

int
mpmgr_pool_close(mpmgr *h, const char *name)
{
	return call_named(h, METHOD(pool, close), name, NULL, 0, NULL);
}

int
mpmgr_pool_terminate(mpmgr *h, const char *name)
{
	return call_named(h, METHOD(pool, terminate), name, NULL, 0, NULL);
}

int
mpmgr_pool_join(mpmgr *h, const char *name, double timeout)
{
	return call_bool(h, METHOD(pool, join), name, timeout);
}
