/*
 * create.c: TYPE.create for every type (create.h).
 *
 * Idempotent for equal options: two creates are the same when their
 * options maps (options.h) are the same bytes, so each type compares
 * parameters, not spellings ({maxsize: 2} and {ack: false, maxsize: 2}
 * are one queue). Bad options are BADARG even when the object exists.
 *
 * ephemeral, the option every type takes, is the registry's: an ephemeral
 * object belongs to the connection that created it and goes when that
 * connection closes (dispatch_conn_closed). On an existing explicit
 * object it must match (EXISTS otherwise; the owner stays whoever made
 * it ephemeral); an implicit object made explicit with ephemeral true
 * becomes the caller's.
 *
 * The journal gets a create that makes an object or makes an implicit one
 * explicit, unless it is ephemeral (a restart deletes those); an object
 * becoming ephemeral is deleted for the journal. A type a restart drops
 * (pipe) is never journaled.
 */
#include <string.h>

#include "create.h"
#include "dispatch.h"
#include "journal.h"
#include "options.h"
#include "registry.h"
#include "reply.h"

/* The options map of this request, and of the object it finds. */
static struct buf want = BUF_INIT;
static struct buf have = BUF_INIT;

/* o, explicit now, with the options map opts: journal it (JR_CREATE). */
static void
create_journal(const struct object *o, const uint8_t *opts, size_t n)
{
	msgpack_packer *pk;

	if (!journal_wants_registry(o))
		return;
	pk = journal_begin_raw(JC_REGISTRY, JR_CREATE, o->name, o->namelen, 2);
	msgpack_pack_uint64(pk, o->type->jcode);
	pack_raw(pk, opts, n);
	journal_end();
}

void
create_verb(struct req *req)
{
	const struct obj_type *t = req->method->type;
	struct optval v[OPTS_MAX];
	struct object *o = req->obj;
	const uint8_t *cur;
	size_t n;
	bool ephemeral;

	if (options_parse(req, v, &ephemeral) != 0)
		return;
	buf_reset(&want);
	options_encode(t, v, &want);
	if (o == NULL) {
		o = registry_create(t, req_name(req), (size_t)req_namelen(req),
		    v, buf_head(&want), buf_used(&want));
		if (ephemeral)
			registry_own(o, req->c);
		create_journal(o, buf_head(&want), buf_used(&want));
		req->obj = o;
		reply_nil(req);
		return;
	}
	options_of(o, &have, &cur, &n);
	if (n != buf_used(&want) || memcmp(cur, buf_head(&want), n) != 0 ||
	    (o->explicit && (registry_owner(o) != NULL) != ephemeral)) {
		reply_error(req, PERR_EXISTS, "'%.*s' exists with other options",
		    req_namelen(req), req_name(req));
		return;
	}
	if (!o->explicit) {
		/* What the journal has of it goes when it becomes ephemeral. */
		if (ephemeral)
			journal_delete(o);
		o->explicit = true;
		if (ephemeral)
			registry_own(o, req->c);
		create_journal(o, cur, n);
	}
	reply_nil(req);
}
