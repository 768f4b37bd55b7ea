/*
 * dump.c: objects as records and back (dump.h): obj.dump and
 * obj.restore.
 *
 * The record's parts are the registry's (name, type, explicit,
 * ephemeral), options.c's (the options map) and the type's (contents,
 * through obj_type.dump and .restore). A record is read strictly: an
 * unknown or repeated key is BADARG, so that a record written by a later
 * version is refused rather than half restored.
 *
 * A type whose state has no record form (obj_type.nodump: pipe, pool) is
 * refused both ways with BADTYPE rather than dumped as an empty object.
 * A restore is journaled as a compaction writes the object (its creation
 * and its type's journal dump, replay_dump_object), after the deletion of
 * the object it replaces.
 */
#include <string.h>

#include "dispatch.h"
#include "dump.h"
#include "journal.h"
#include "log.h"
#include "options.h"
#include "registry.h"
#include "replay.h"
#include "reply.h"
#include "waiter.h"

/* The options map being restored, and its type's defaults; a record
 * being dumped. */
static struct buf want = BUF_INIT;
static struct buf defaults = BUF_INIT;
static struct buf out = BUF_INIT;

/* BADTYPE for a type without a record form: true after replying. */
static bool
dump_refused(struct req *req, const struct obj_type *t)
{
	if (t->nodump == NULL)
		return false;
	reply_error(req, PERR_BADTYPE, "%s: a %s cannot be dumped or "
	    "restored: %s", req->method->name, t->name, t->nodump);
	return true;
}

static void
dump_pack_bool(msgpack_packer *pk, bool b)
{
	if (b)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
}

void
dump_pack(const struct object *o, msgpack_packer *pk)
{
	bool ephemeral = registry_owner(o) != NULL;

	msgpack_pack_map(pk, ephemeral ? 6 : 5);
	msg_pack_cstr(pk, "name");
	msgpack_pack_str(pk, o->namelen);
	msgpack_pack_str_body(pk, o->name, o->namelen);
	msg_pack_cstr(pk, "type");
	msg_pack_cstr(pk, o->type->name);
	msg_pack_cstr(pk, "explicit");
	dump_pack_bool(pk, o->explicit);
	if (ephemeral) {
		msg_pack_cstr(pk, "ephemeral");
		msgpack_pack_true(pk);
	}
	msg_pack_cstr(pk, "options");
	options_pack(o, pk);
	msg_pack_cstr(pk, "contents");
	if (o->type->contents != NULL)
		o->type->contents(o, pk);
	else
		msgpack_pack_nil(pk);
}

void
dump_reply(struct req *req)
{
	msgpack_packer pk;

	if (dump_refused(req, req->obj->type))
		return;
	buf_reset(&out);
	msgpack_packer_init(&pk, &out, buf_pack_write);
	dump_pack(req->obj, &pk);
	if (reply_fits(req, buf_used(&out)))
		reply_raw(req, buf_head(&out), buf_used(&out));
	buf_shrink(&out, 64 * 1024);
}

/* A record's parts, as read. */
struct record {
	const struct obj_type *type;
	const struct mpv *options;    /* NULL: none (the defaults) */
	const struct mpv *contents;   /* NULL: none (as made) */
	bool explicit;
	bool ephemeral;
	struct mpv opts, cont;        /* what those point at */
};

static int
dump_bad(struct req *req, const char *why)
{
	reply_error(req, PERR_BADARG, "%s: %s", req->method->name, why);
	return -1;
}

/* The record map param 1 into r: 0, or -1 after BADARG. */
static int
dump_read(struct req *req, struct record *r)
{
	const struct mpv *map = &req->argv[1];
	struct mpv_iter it;
	struct mpv k, v;
	unsigned seen = 0, bit;
	static const char *const keys[] = { "name", "type", "explicit",
	    "ephemeral", "options", "contents" };
	enum { K_NAME, K_TYPE, K_EXPLICIT, K_EPHEMERAL, K_OPTIONS, K_CONTENTS };
	size_t i;

	memset(r, 0, sizeof *r);
	r->explicit = true;
	if (map->type != MPV_MAP)
		return dump_bad(req, "the record must be a map {type, "
		    "explicit, options, contents}, as obj.dump answers");
	mpv_iter_init(&it, map);
	while (mpv_iter_next(&it, &k) && mpv_iter_next(&it, &v)) {
		for (i = 0; i < sizeof keys / sizeof keys[0]; i++)
			if (mpv_str_eq(&k, keys[i]))
				break;
		bit = 1u << i;
		if (i == sizeof keys / sizeof keys[0] || (seen & bit))
			return dump_bad(req, "a record's keys are name, type, "
			    "explicit, ephemeral, options and contents, each "
			    "once");
		seen |= bit;
		switch (i) {
		case K_NAME:
			if (v.type != MPV_STR ||
			    v.len != (uint32_t)req_namelen(req) ||
			    memcmp(v.ptr, req_name(req), v.len) != 0)
				return dump_bad(req, "the record's name is not "
				    "the name restored");
			break;
		case K_TYPE:
			r->type = v.type == MPV_STR ? registry_type(
			    (const char *)v.ptr, v.len) : NULL;
			if (r->type == NULL)
				return dump_bad(req, "the record's type is not "
				    "a type of this daemon");
			break;
		case K_EXPLICIT:
		case K_EPHEMERAL:
			if (v.type != MPV_BOOL)
				return dump_bad(req, "explicit and ephemeral "
				    "are true or false");
			if (i == K_EXPLICIT)
				r->explicit = v.v.b;
			else
				r->ephemeral = v.v.b;
			break;
		case K_OPTIONS:
			r->opts = v;
			if (v.type != MPV_NIL)
				r->options = &r->opts;
			break;
		case K_CONTENTS:
			r->cont = v;
			r->contents = &r->cont;
			break;
		}
	}
	if (r->type == NULL)
		return dump_bad(req, "the record has no type");
	return 0;
}

/*
 * The object r describes, built outside the registry: NULL after
 * replying.
 */
static struct object *
dump_build(struct req *req, const struct record *r)
{
	const struct obj_type *t = r->type;
	struct optval v[OPTS_MAX], dv[OPTS_MAX];
	struct object *o;
	bool ephemeral;

	if (options_parse_map(req, t, r->options, v, &ephemeral) != 0)
		return NULL;
	ephemeral = ephemeral || r->ephemeral;
	buf_reset(&want);
	options_encode(t, v, &want);
	if (!r->explicit) {
		/* What only an implicit creation makes: defaults, nobody's. */
		buf_reset(&defaults);
		options_defaults(t, dv);
		options_encode(t, dv, &defaults);
		if (ephemeral || buf_used(&want) != buf_used(&defaults) ||
		    memcmp(buf_head(&want), buf_head(&defaults),
		    buf_used(&want)) != 0) {
			dump_bad(req, "an object that is not explicit has its "
			    "type's default options and is not ephemeral");
			return NULL;
		}
		o = registry_detached(t, req_name(req),
		    (size_t)req_namelen(req), dv, NULL, 0, false);
	} else
		o = registry_detached(t, req_name(req),
		    (size_t)req_namelen(req), v, buf_head(&want),
		    buf_used(&want), true);
	/* No contents: as its type makes it. */
	if (r->contents != NULL && t->restore != NULL) {
		if (t->restore(o, r->contents, req) != 0) {
			registry_discard_detached(o);
			return NULL;
		}
	} else if (r->contents != NULL && r->contents->type != MPV_NIL) {
		registry_discard_detached(o);
		reply_error(req, PERR_BADARG, "%s: a %s's contents are nil: "
		    "only its options are kept", req->method->name, t->name);
		return NULL;
	}
	if (ephemeral)
		registry_own(o, req->c);
	return o;
}

void
dump_restore(struct req *req)
{
	const struct mpv *rp = &req->argv[2];
	struct record r;
	struct object *o;
	bool replace = false;

	if (req->argc > 2 && rp->type != MPV_NIL) {
		if (rp->type != MPV_BOOL) {
			dump_bad(req, "replace is true or false");
			return;
		}
		replace = rp->v.b;
	}
	if (dump_read(req, &r) != 0 || dump_refused(req, r.type))
		return;
	if (req->obj != NULL && !replace) {
		reply_error(req, PERR_EXISTS, "%s: '%.*s' exists (type %s): "
		    "replace it, or delete it first", req->method->name,
		    req_namelen(req), req_name(req), req->obj->type->name);
		return;
	}
	if ((o = dump_build(req, &r)) == NULL)
		return;
	if (req->obj != NULL) {
		waiter_object_deleted(req->obj);
		journal_delete(req->obj);
		registry_delete(req->obj);
	}
	registry_attach(o);
	if (journal_wants_registry(o))
		replay_dump_object(o);
	req->obj = o;
	reply_nil(req);
}
