/*
 * create.c: TYPE.create for every type (create.h).
 *
 * Idempotent for equal options: two creates are the same when their
 * options maps (options.h) are the same bytes, so each type compares
 * parameters, not spellings ({maxsize: 2} and {ack: false, maxsize: 2}
 * are one queue). Bad options are BADARG even when the object exists.
 */
#include <string.h>

#include "create.h"
#include "dispatch.h"
#include "options.h"
#include "registry.h"
#include "reply.h"

/* The options map of this request, and of the object it finds. */
static struct buf want = BUF_INIT;
static struct buf have = BUF_INIT;

void
create_verb(struct req *req)
{
	const struct obj_type *t = req->method->type;
	struct optval v[OPTS_MAX];
	struct object *o = req->obj;
	const uint8_t *cur;
	size_t n;

	if (options_parse(req, v) != 0)
		return;
	buf_reset(&want);
	options_encode(t, v, &want);
	if (o == NULL) {
		req->obj = registry_create(t, req_name(req),
		    (size_t)req_namelen(req), v, buf_head(&want),
		    buf_used(&want));
		reply_nil(req);
		return;
	}
	options_of(o, &have, &cur, &n);
	if (n != buf_used(&want) || memcmp(cur, buf_head(&want), n) != 0) {
		reply_error(req, PERR_EXISTS, "'%.*s' exists with other options",
		    req_namelen(req), req_name(req));
		return;
	}
	o->explicit = true;
	reply_nil(req);
}
