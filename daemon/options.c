/*
 * options.c: the create options of every type (options.h), parsed from
 * TYPE.create's map against the type's table, encoded as the object's
 * options map, and reported by obj.info.
 *
 * The texts of BADARG name the method, the option and what it must be
 * ("semaphore.create: value must be an int from 0 to 9223372036854775807").
 * Besides its type's, every create takes the registry's own option,
 * ephemeral, which is not part of the options map (create.c).
 */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "options.h"
#include "registry.h"
#include "reply.h"
#include "value.h"

/* The registry's own option, which every type takes: {ephemeral: bool}. */
static const struct opt options_ephemeral = {
	.key = "ephemeral", .kind = OPT_BOOL, .def = false
};

/* What an option of kind must be, for BADARG: "an int from 1 to 3". */
static void
options_expect(const struct opt *op, char *s, size_t len)
{
	const char *c;
	size_t n;

	switch (op->kind) {
	case OPT_BOOL:
		snprintf(s, len, "a bool");
		break;
	case OPT_UINT:
		snprintf(s, len, "an int from %llu to %llu",
		    (unsigned long long)op->min, (unsigned long long)op->max);
		break;
	case OPT_SIZE:
		snprintf(s, len, "an int");
		break;
	case OPT_VALUE:
		snprintf(s, len, "a value");
		break;
	case OPT_NAME:
		snprintf(s, len, "a str of 1 to %d bytes", MPMGR_MAX_NAME);
		break;
	case OPT_CHAR:
		n = (size_t)snprintf(s, len, "one of");
		for (c = op->choices; *c != '\0' && n + 4 < len; c++)
			n += (size_t)snprintf(s + n, len - n, " '%c'", *c);
		break;
	case OPT_ARRAY:
		snprintf(s, len, "an array");
		break;
	}
}

/* Take x as the value of op into *ov: false when it is not one. */
static bool
options_take(const struct opt *op, const struct mpv *x, struct optval *ov)
{
	ov->v = *x;
	switch (op->kind) {
	case OPT_BOOL:
		/* v.b only of a bool: an int's bytes are no bool (UBSan) */
		ov->u = x->type == MPV_BOOL && x->v.b;
		return x->type == MPV_BOOL;
	case OPT_UINT:
		ov->u = x->v.u;
		return x->type == MPV_UINT && x->v.u >= op->min &&
		    x->v.u <= op->max;
	case OPT_SIZE:
		ov->u = x->type == MPV_UINT ? x->v.u : 0;
		return x->type == MPV_UINT || x->type == MPV_INT;
	case OPT_VALUE:
		return true;
	case OPT_NAME:
		return x->type == MPV_STR && x->len >= 1 &&
		    x->len <= MPMGR_MAX_NAME;
	case OPT_CHAR:
		return x->type == MPV_STR && x->len == 1 && x->ptr[0] != '\0' &&
		    strchr(op->choices, (char)x->ptr[0]) != NULL;
	case OPT_ARRAY:
		return x->type == MPV_ARRAY;
	}
	return false;
}

/* The error for an unknown key: the type's usage, or its keys. */
static void
options_usage(const struct obj_type *t, const char *what, char *err,
    size_t errlen)
{
	const struct opt *op;
	char keys[256];
	size_t n = 0, i, count = 0;

	if (t->opts_usage != NULL) {
		snprintf(err, errlen, "%s: %s", what, t->opts_usage);
		return;
	}
	for (op = t->opts; op != NULL && op->key != NULL; op++)
		count++;
	if (count == 0) {
		snprintf(err, errlen, "%s: %s has no options but %s", what,
		    t->name, options_ephemeral.key);
		return;
	}
	if (count == 1) {
		snprintf(err, errlen, "%s: the only option is '%s', besides %s",
		    what, t->opts[0].key, options_ephemeral.key);
		return;
	}
	keys[0] = '\0';
	for (i = 0; i < count && n < sizeof keys; i++)
		n += (size_t)snprintf(keys + n, sizeof keys - n, "%s%s",
		    i == 0 ? "" : ", ", t->opts[i].key);
	snprintf(err, errlen, "%s: the options are %s and %s", what, keys,
	    options_ephemeral.key);
}

/* The index of key k in t's table, or -1. */
static int
options_find(const struct obj_type *t, const struct mpv *k)
{
	int i;

	for (i = 0; t->opts != NULL && t->opts[i].key != NULL; i++) {
		if (mpv_str_eq(k, t->opts[i].key))
			return i;
	}
	return -1;
}

void
options_defaults(const struct obj_type *t, struct optval *v)
{
	const struct opt *op;
	size_t i;

	for (i = 0; t->opts != NULL && t->opts[i].key != NULL; i++) {
		op = &t->opts[i];
		if (i >= OPTS_MAX)
			fatalx("%s: %s has more than %d options", __func__,
			    t->name, OPTS_MAX);
		memset(&v[i], 0, sizeof v[i]);
		v[i].present = !(op->flags & (OPT_REQUIRED | OPT_NODEFAULT));
		v[i].u = op->def;
		v[i].v.type = MPV_NIL;
		v[i].v.raw = value_nil;
		v[i].v.rawlen = sizeof value_nil;
	}
}

/*
 * t's options from map (NULL: none) into v, and the registry's ephemeral
 * into *eph when it is not NULL (else that key is unknown too). 0, or -1
 * with err ("what: ...").
 */
static int
options_read(const struct obj_type *t, const struct mpv *map,
    struct optval *v, struct optval *eph, const char *what, char *err,
    size_t errlen)
{
	const struct opt *op;
	struct mpv_iter it;
	struct mpv k, x;
	char expect[128];
	int i;

	options_defaults(t, v);
	if (map != NULL && map->type != MPV_MAP) {
		snprintf(err, errlen, "%s: options must be a map", what);
		return -1;
	}
	if (map != NULL) {
		mpv_iter_init(&it, map);
		while (mpv_iter_next(&it, &k) && mpv_iter_next(&it, &x)) {
			struct optval *ov;

			if (eph != NULL &&
			    mpv_str_eq(&k, options_ephemeral.key)) {
				op = &options_ephemeral;
				ov = eph;
			} else if ((i = options_find(t, &k)) != -1 &&
			    (!v[i].given || t->opts_usage == NULL)) {
				op = &t->opts[i];
				ov = &v[i];
			} else {
				options_usage(t, what, err, errlen);
				return -1;
			}
			if (ov->given) {
				snprintf(err, errlen, "%s: '%s' is given twice",
				    what, op->key);
				return -1;
			}
			if (!options_take(op, &x, ov)) {
				options_expect(op, expect, sizeof expect);
				snprintf(err, errlen, "%s: %s must be %s", what,
				    op->key, expect);
				return -1;
			}
			ov->given = ov->present = true;
		}
	}
	for (i = 0; t->opts != NULL && t->opts[i].key != NULL; i++) {
		op = &t->opts[i];
		if (!(op->flags & OPT_REQUIRED) || v[i].given)
			continue;
		options_expect(op, expect, sizeof expect);
		if (map == NULL)
			snprintf(err, errlen, "%s: options are required (%s must "
			    "be %s)", what, op->key, expect);
		else
			snprintf(err, errlen, "%s: %s must be %s (it is "
			    "required)", what, op->key, expect);
		return -1;
	}
	return 0;
}

int
options_parse(struct req *req, struct optval *v, bool *ephemeral)
{
	return options_parse_map(req, req->method->type,
	    req->argc > 1 ? &req->argv[1] : NULL, v, ephemeral);
}

int
options_parse_map(struct req *req, const struct obj_type *t,
    const struct mpv *map, struct optval *v, bool *ephemeral)
{
	struct optval eph = { .u = false };
	char err[512];

	if (map != NULL && map->type == MPV_NIL)
		map = NULL;
	if (options_read(t, map, v, &eph, req->method->name, err,
	    sizeof err) == -1) {
		reply_error(req, PERR_BADARG, "%s", err);
		return -1;
	}
	*ephemeral = eph.u;
	return t->check != NULL ? t->check(v, req) : 0;
}

int
options_from_map(const struct obj_type *t, const struct mpv *map,
    struct optval *v, char *err, size_t errlen)
{
	return options_read(t, map, v, NULL, t->name, err, errlen);
}

void
options_encode(const struct obj_type *t, const struct optval *v,
    struct buf *b)
{
	msgpack_packer pk;
	const struct opt *op;
	size_t i, n = 0;

	msgpack_packer_init(&pk, b, buf_pack_write);
	for (i = 0; t->opts != NULL && t->opts[i].key != NULL; i++)
		n += v[i].present;
	msgpack_pack_map(&pk, n);
	for (i = 0; t->opts != NULL && t->opts[i].key != NULL; i++) {
		op = &t->opts[i];
		if (!v[i].present)
			continue;
		msg_pack_cstr(&pk, op->key);
		if (v[i].canon != NULL) {
			pack_raw(&pk, v[i].canon, v[i].canonlen);
			continue;
		}
		switch (op->kind) {
		case OPT_BOOL:
			if (v[i].u)
				msgpack_pack_true(&pk);
			else
				msgpack_pack_false(&pk);
			break;
		case OPT_UINT:
		case OPT_SIZE:
			msgpack_pack_uint64(&pk, v[i].u);
			break;
		case OPT_NAME:
		case OPT_CHAR:
			msgpack_pack_str(&pk, v[i].v.len);
			msgpack_pack_str_body(&pk, v[i].v.ptr, v[i].v.len);
			break;
		case OPT_VALUE:
		case OPT_ARRAY:
			if (canon_append(b, &v[i].v) != 0)
				fatalx("%s: out of memory", __func__);
			break;
		}
	}
}

void
options_of(const struct object *o, struct buf *scratch,
    const uint8_t **bytes, size_t *n)
{
	struct optval v[OPTS_MAX];

	if (o->optlen != 0) {
		*bytes = (const uint8_t *)o->name + o->namelen + 1;
		*n = o->optlen;
		return;
	}
	buf_reset(scratch);
	options_defaults(o->type, v);
	options_encode(o->type, v, scratch);
	*bytes = buf_head(scratch);
	*n = buf_used(scratch);
}

void
options_pack(const struct object *o, msgpack_packer *pk)
{
	static struct buf scratch = BUF_INIT;
	const uint8_t *bytes;
	size_t n;

	options_of(o, &scratch, &bytes, &n);
	pack_raw(pk, bytes, n);
}
