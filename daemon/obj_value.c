/*
 * obj_value.c: the value type (one shared value, Python's Value). The
 * value rules every type shares are value.c's.
 *
 * A value holds the canonical bytes of its current value and of the
 * initial one it was created with (nil by default); value.create is
 * idempotent when the initial values are equal, whatever the value holds
 * now. An implicit value goes away when set back to nil.
 */
#include <string.h>

#include "dispatch.h"
#include "log.h"
#include "mem.h"
#include "registry.h"
#include "reply.h"
#include "value.h"

struct value {
	uint8_t *cur;     /* canonical bytes */
	size_t len;
	uint8_t *init;    /* value.create's {value: X}, canonical */
	size_t ilen;
};

/* Scratch: a value param, cas's expected. */
static struct buf vbuf = BUF_INIT;
static struct buf ebuf = BUF_INIT;

static void
value_store(struct value *v, const uint8_t *bytes, size_t n)
{
	if (n != v->len)
		v->cur = xrealloc(v->cur, n);
	memcpy(v->cur, bytes, n);
	v->len = n;
}

static void
value_get(struct req *req)
{
	const struct value *v = req->obj == NULL ? NULL : req->obj->data;

	if (v == NULL)
		reply_raw(req, value_nil, sizeof value_nil);
	else
		reply_raw(req, v->cur, v->len);
}

static void
value_set(struct req *req)
{
	const uint8_t *bytes;
	size_t n;

	value_canon(&req->argv[1], &vbuf, &bytes, &n);
	value_store(req->obj->data, bytes, n);
	reply_nil(req);
}

static void
value_incr(struct req *req)
{
	struct value *v = req->obj->data;
	struct mpv cur;
	const uint8_t *p = v->cur, *sum;
	size_t n;

	mpv_read(&p, &cur);
	if (value_add(req, cur.type == MPV_NIL ? NULL : &cur,
	    req->argc > 1 ? &req->argv[1] : NULL, &sum, &n) != 0)
		return;
	value_store(v, sum, n);
	reply_raw(req, v->cur, v->len);
}

static void
value_cas(struct req *req)
{
	struct value *v = req->obj->data;
	msgpack_packer *pk;
	const uint8_t *expected, *new;
	size_t en, nn;
	bool ok;

	value_canon(&req->argv[1], &ebuf, &expected, &en);
	value_canon(&req->argv[2], &vbuf, &new, &nn);
	ok = v->len == en && memcmp(v->cur, expected, en) == 0;
	if (ok)
		value_store(v, new, nn);
	pk = reply_begin(req);
	msgpack_pack_array(pk, 2);
	if (ok)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
	pack_raw(pk, v->cur, v->len);
}

/* Options: {value: initial}. */
static int
value_create(struct object *o, const struct mpv *opts, struct req *req)
{
	const uint8_t *init = value_nil;
	size_t ilen = sizeof value_nil;
	struct value *v;
	struct mpv_iter it;
	struct mpv k, x;

	if (opts != NULL) {
		mpv_iter_init(&it, opts);
		while (mpv_iter_next(&it, &k) && mpv_iter_next(&it, &x)) {
			if (!mpv_str_eq(&k, "value")) {
				reply_error(req, PERR_BADARG, "value.create: "
				    "the only option is 'value'");
				return -1;
			}
			value_canon(&x, &vbuf, &init, &ilen);
		}
	}
	v = xmalloc(sizeof *v);
	v->init = xmalloc(ilen);
	memcpy(v->init, init, ilen);
	v->ilen = ilen;
	v->cur = xmalloc(ilen);
	memcpy(v->cur, init, ilen);
	v->len = ilen;
	o->data = v;
	return 0;
}

static bool
value_same_options(const struct object *a, const struct object *b)
{
	const struct value *va = a->data, *vb = b->data;

	return va->ilen == vb->ilen && memcmp(va->init, vb->init, va->ilen) == 0;
}

static void
value_pack_options(const struct object *o, msgpack_packer *pk)
{
	const struct value *v = o->data;

	msgpack_pack_map(pk, 1);
	msg_pack_cstr(pk, "value");
	pack_raw(pk, v->init, v->ilen);
}

static bool
value_free_step(struct object *o, size_t budget)
{
	struct value *v = o->data;

	xfree(v->cur);
	xfree(v->init);
	xfree(v);
	return true;
}

static bool
value_is_initial(const struct object *o)
{
	const struct value *v = o->data;

	return v->len == sizeof value_nil && v->cur[0] == value_nil[0];
}

static uint64_t
value_size(const struct object *o)
{
	return 1;
}

static size_t
value_mem(const struct object *o)
{
	const struct value *v = o->data;

	return sizeof *v + v->len + v->ilen;
}

static const struct method value_methods[] = {
	MPMGR_METHODS_VALUE(DISPATCH_ROW)
	DISPATCH_END
};

const struct obj_type value_type = {
	.name = "value",
	.methods = value_methods,
	.create = value_create,
	.same_options = value_same_options,
	.pack_options = value_pack_options,
	.free_step = value_free_step,
	.is_initial = value_is_initial,
	.size = value_size,
	.mem = value_mem,
};
