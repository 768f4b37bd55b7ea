/*
 * dispatch.c: from a parsed request to its handler and back.
 *
 * Owns the method index (built once from every type's table and
 * sys_methods), the checks every method shares, and the reply helpers.
 * Promises the connection layer: every request gets exactly one reply
 * appended to c->out, or is parked (waiter.c) and answered later; nothing
 * a client sends makes dispatch close its connection. (conn.c replaces a
 * reply larger than the output limit by a LIMIT error.)
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "dispatch.h"
#include "log.h"
#include "mem.h"
#include "ohash.h"
#include "registry.h"

/* Method name -> const struct method *, stored as the value bytes. */
static struct ohash *methods;

/* Longest piece of an unknown method name quoted back in NOMETHOD. */
#define QUOTE_MAX 64

static void
dispatch_check_method(const struct method *m)
{
	const char *why = NULL;

	if (m->handler == NULL)
		why = "no handler";
	else if (m->min_args > m->max_args || m->max_args > DISPATCH_MAX_ARGS)
		why = "bad arity";
	else if (m->params == NULL || m->summary == NULL || *m->summary == '\0')
		why = "no params or summary";
	else if ((m->flags & M_OBJ) && m->min_args == 0)
		why = "M_OBJ without a name param";
	else if ((m->flags & M_CREATES) && (!(m->flags & (M_OBJ | M_WRITE)) ||
	    m->type == NULL))
		why = "M_CREATES needs M_OBJ, M_WRITE and a type";
	else if ((m->flags & M_FREES) && !(m->flags & M_WRITE))
		why = "M_FREES without M_WRITE";
	if (why != NULL)
		fatalx("%s: method %s: %s", __func__, m->name, why);
}

static void
dispatch_add_table(const struct method *table)
{
	const struct method *m;
	bool added;

	for (m = table; m->name != NULL; m++) {
		dispatch_check_method(m);
		ohash_set(methods, m->name, strlen(m->name), &m, sizeof m,
		    &added);
		if (!added)
			fatalx("%s: method %s defined twice", __func__, m->name);
	}
}

void
dispatch_init(void)
{
	size_t i;

	if (methods != NULL)
		fatalx("%s: called twice", __func__);
	methods = ohash_new();
	registry_init();
	waiter_init();
	for (i = 0; registry_types[i] != NULL; i++)
		dispatch_add_table(registry_types[i]->methods);
	dispatch_add_table(sys_methods);
}

static const struct method *
dispatch_entry_method(const struct oh_entry *e)
{
	const struct method *m;

	memcpy(&m, e->data + e->klen, sizeof m);
	return m;
}

const struct method *
dispatch_lookup(const char *name, size_t len)
{
	struct oh_entry *e;

	e = ohash_get(methods, name, len);
	return e == NULL ? NULL : dispatch_entry_method(e);
}

const struct method *
dispatch_next(size_t *pos)
{
	struct oh_entry *e;

	e = ohash_next(methods, pos);
	return e == NULL ? NULL : dispatch_entry_method(e);
}

/* "dict.get takes 2 or 3 params (name, key[, default])" */
static void
dispatch_arity_error(struct req *req)
{
	const struct method *m = req->method;

	if (m->max_args == 0)
		reply_error(req, PERR_BADARG, "%s takes no params", m->name);
	else if (m->min_args == m->max_args)
		reply_error(req, PERR_BADARG, "%s takes %u param%s (%s)",
		    m->name, m->min_args, m->min_args == 1 ? "" : "s",
		    m->params);
	else
		reply_error(req, PERR_BADARG, "%s takes %u %s %u params (%s)",
		    m->name, m->min_args,
		    m->max_args == m->min_args + 1 ? "or" : "to", m->max_args,
		    m->params);
}

/* The checks every method shares, then its handler. */
static void
dispatch_run(struct req *req, const struct msg *msg)
{
	const struct method *m;
	const struct mpv *name = &req->argv[0];
	struct object *o = NULL;
	struct mpv_iter it;
	struct conn *c = req->c;

	m = dispatch_lookup((const char *)msg->method.ptr, msg->method.len);
	if (m == NULL) {
		reply_error(req, PERR_NOMETHOD, "no method '%.*s'",
		    (int)(msg->method.len > QUOTE_MAX ? QUOTE_MAX :
		    msg->method.len), (const char *)msg->method.ptr);
		return;
	}
	req->method = m;
	if (msg->params.len < m->min_args || msg->params.len > m->max_args) {
		dispatch_arity_error(req);
		return;
	}
	mpv_iter_init(&it, &msg->params);
	for (req->argc = 0; req->argc < msg->params.len; req->argc++) {
		const struct mpv *v = &req->argv[req->argc];

		mpv_iter_next(&it, &req->argv[req->argc]);
		/* The frame may nest deeper than a value (its envelope). */
		if ((v->type == MPV_ARRAY || v->type == MPV_MAP) &&
		    mpv_depth(v) > MPMGR_MAX_DEPTH) {
			reply_error(req, PERR_BADARG, "%s: param %u nests "
			    "deeper than %d", m->name, req->argc + 1,
			    MPMGR_MAX_DEPTH);
			return;
		}
	}

	if ((m->flags & M_ADMIN) && c->uid != 0 && c->uid != server.uid) {
		reply_error(req, PERR_AUTH, "%s needs root or the daemon's user",
		    m->name);
		return;
	}
	if (m->flags & M_OBJ) {
		if (name->type != MPV_STR || name->len == 0 ||
		    name->len > MPMGR_MAX_NAME) {
			reply_error(req, PERR_BADARG, "%s: the object name must "
			    "be a str of 1 to %d bytes", m->name,
			    MPMGR_MAX_NAME);
			return;
		}
		o = registry_lookup((const char *)name->ptr, name->len);
		if (o != NULL && m->type != NULL && o->type != m->type) {
			reply_error(req, PERR_WRONGTYPE, "'%.*s' is a %s, not "
			    "a %s", (int)name->len, (const char *)name->ptr,
			    o->type->name, m->type->name);
			return;
		}
	}
	if ((m->flags & (M_WRITE | M_FREES)) == M_WRITE &&
	    server.max_memory != 0 && mem_used() > server.max_memory) {
		reply_error(req, PERR_LIMIT, "%s: the daemon holds %zu bytes, "
		    "past its ceiling of %zu", m->name, mem_used(),
		    server.max_memory);
		return;
	}
	if (o == NULL && (m->flags & M_CREATES))
		o = registry_add(m->type, (const char *)name->ptr, name->len);
	req->obj = o;
	m->handler(req);
	if (req->obj != NULL && (m->flags & M_WRITE))
		registry_settle(req->obj);
}

int
dispatch_request(struct conn *c, const struct msg *msg)
{
	struct req req;

	req.c = c;
	req.msgid = msg->msgid;
	req.method = NULL;
	req.argc = 0;
	req.obj = NULL;
	req.replied = false;
	req.parked = false;
	server.ops++;
	c->ops++;

	dispatch_run(&req, msg);
	if (req.parked)
		return DISPATCH_PARKED;
	if (!req.replied)
		fatalx("%s: %s answered nothing", __func__, req.method->name);
	return DISPATCH_DONE;
}

void
dispatch_conn_closed(struct conn *c)
{
	waiter_conn_closed(c);
}

void
dispatch_shutdown(void)
{
	waiter_shutdown();
}

/* --- replies ---------------------------------------------------------- */

static msgpack_packer *
reply_result(struct req *req)
{
	msgpack_packer *pk = conn_packer(req->c);

	if (req->replied)
		fatalx("%s: %s answered twice", __func__,
		    req->method != NULL ? req->method->name : "?");
	req->replied = true;
	msg_pack_result(pk, req->msgid);
	return pk;
}

msgpack_packer *
reply_begin(struct req *req)
{
	return reply_result(req);
}

void
pack_raw(msgpack_packer *pk, const uint8_t *bytes, size_t n)
{
	pk->callback(pk->data, (const char *)bytes, n);
}

void
reply_nil(struct req *req)
{
	msgpack_pack_nil(reply_result(req));
}

void
reply_bool(struct req *req, bool v)
{
	msgpack_packer *pk = reply_result(req);

	if (v)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
}

void
reply_int(struct req *req, int64_t v)
{
	msgpack_pack_int64(reply_result(req), v);
}

void
reply_uint(struct req *req, uint64_t v)
{
	msgpack_pack_uint64(reply_result(req), v);
}

void
reply_double(struct req *req, double v)
{
	msgpack_pack_double(reply_result(req), v);
}

void
reply_str(struct req *req, const char *s, size_t len)
{
	msgpack_packer *pk = reply_result(req);

	msgpack_pack_str(pk, len);
	msgpack_pack_str_body(pk, s, len);
}

void
reply_raw(struct req *req, const uint8_t *bytes, size_t n)
{
	pack_raw(reply_result(req), bytes, n);
}

void
reply_error(struct req *req, int code, const char *fmt, ...)
{
	char message[512];
	va_list ap;

	if (req->replied)
		fatalx("%s: %s answered twice", __func__,
		    req->method != NULL ? req->method->name : "?");
	req->replied = true;
	va_start(ap, fmt);
	vsnprintf(message, sizeof message, fmt, ap);
	va_end(ap);
	msg_pack_error(conn_packer(req->c), req->msgid, code, message);
}

bool
req_uint_arg(struct req *req, unsigned i, uint64_t min, uint64_t max,
    const char *what, uint64_t *out)
{
	const struct mpv *v = &req->argv[i];

	if (v->type != MPV_UINT || v->v.u < min || v->v.u > max) {
		reply_error(req, PERR_BADARG, "%s: %s must be an int from %llu "
		    "to %llu", req->method->name, what,
		    (unsigned long long)min, (unsigned long long)max);
		return false;
	}
	*out = v->v.u;
	return true;
}
