/*
 * obj_value.c: the value type (one shared value, Python's Value). The
 * value rules every type shares are value.c's.
 *
 * A value holds the canonical bytes of its current value; the initial one
 * it was created with (nil by default) is its option, so value.create is
 * idempotent when the initial values are equal, whatever the value holds
 * now. An implicit value goes away when set back to nil. The journal
 * gets every change as the value stored (incr's sum, cas's new value).
 */
#include <string.h>

#include "dispatch.h"
#include "journal.h"
#include "log.h"
#include "mem.h"
#include "registry.h"
#include "reply.h"
#include "value.h"

struct value {
	uint8_t *cur;     /* canonical bytes */
	size_t len;
};

/* Scratch: a value param, cas's expected. */
static struct buf vbuf = BUF_INIT;
static struct buf ebuf = BUF_INIT;

/* Journal ops. */
enum { VALUE_J_SET };

static void
value_store(struct value *v, const uint8_t *bytes, size_t n)
{
	if (n != v->len)
		v->cur = xrealloc(v->cur, n);
	memcpy(v->cur, bytes, n);
	v->len = n;
}

static void __attribute__((noinline))
value_journal(const struct object *o, const uint8_t *bytes, size_t n)
{
	pack_raw(journal_begin(o, VALUE_J_SET, 1), bytes, n);
	journal_end();
}

/* Store, and journal, the new value of o. */
static inline void
value_change(struct object *o, const uint8_t *bytes, size_t n)
{
	value_store(o->data, bytes, n);
	if (journal_wants(o))
		value_journal(o, bytes, n);
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
	value_change(req->obj, bytes, n);
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
	value_change(req->obj, sum, n);
	reply_raw(req, v->cur, v->len);
}

static void
value_cas(struct req *req)
{
	struct value *v = req->obj->data;
	const uint8_t *expected, *new;
	size_t en, nn;
	bool ok;

	value_canon(&req->argv[1], &ebuf, &expected, &en);
	value_canon(&req->argv[2], &vbuf, &new, &nn);
	ok = v->len == en && memcmp(v->cur, expected, en) == 0;
	if (ok)
		value_change(req->obj, new, nn);
	value_reply_cas(req, ok, v->cur, v->len);
}

/* Options: {value: initial (nil)}. */
enum { VALUE_OPT_VALUE };

static const struct opt value_opts[] = {
	[VALUE_OPT_VALUE] = { .key = "value", .kind = OPT_VALUE },
	{ .key = NULL }
};

static void
value_init(struct object *o, const struct optval *opt)
{
	struct value *v = xmalloc(sizeof *v);
	const uint8_t *init;
	size_t n;

	value_canon(&opt[VALUE_OPT_VALUE].v, &vbuf, &init, &n);
	v->cur = xmalloc(n);
	memcpy(v->cur, init, n);
	v->len = n;
	o->data = v;
}

static bool
value_free_step(struct object *o, size_t budget)
{
	struct value *v = o->data;

	xfree(v->cur);
	xfree(v);
	return true;
}

static bool
value_is_initial(const struct object *o)
{
	const struct value *v = o->data;

	return v->len == sizeof value_nil && v->cur[0] == value_nil[0];
}

static size_t
value_mem(const struct object *o)
{
	const struct value *v = o->data;

	return mem_usable(v) + mem_usable(v->cur);
}

/* Contents: the value now (its initial one is its option). */
static void
value_contents(const struct object *o, msgpack_packer *pk)
{
	const struct value *v = o->data;

	pack_raw(pk, v->cur, v->len);
}

static int
value_restore(struct object *o, const struct mpv *c, struct req *req)
{
	const uint8_t *bytes;
	size_t n;

	value_canon(c, &vbuf, &bytes, &n);
	value_store(o->data, bytes, n);
	return 0;
}

static const char *
value_replay_set(struct object *o, struct mpv_iter *args, uint32_t nargs)
{
	struct mpv v;

	jop_arg(args, &v);
	value_store(o->data, v.raw, v.rawlen);
	return NULL;
}

static const struct jop value_jops[] = {
	[VALUE_J_SET] = { "set", 1, 1, value_replay_set },
	JOP_END
};

/* Its value (an explicit one's creation gives it its initial value
 * first). */
static void
value_dump(const struct object *o)
{
	const struct value *v = o->data;

	pack_raw(journal_begin(o, VALUE_J_SET, 1), v->cur, v->len);
	journal_end();
}

static const struct method value_methods[] = {
	MPMGR_METHODS_VALUE(DISPATCH_ROW)
	DISPATCH_END
};

const struct obj_type value_type = {
	.name = "value",
	.methods = value_methods,
	.opts = value_opts,
	.init = value_init,
	.free_step = value_free_step,
	.is_initial = value_is_initial,
	.mem = value_mem,
	.contents = value_contents,
	.restore = value_restore,
	.jcode = JC_VALUE,
	.jops = value_jops,
	.dump = value_dump,
};
