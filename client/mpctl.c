/*
 * mpctl.c: the command-line client of mpmgrd: entry and running.
 *
 *   mpctl [global options] TYPE VERB [-n NAME] [options] [OPERANDS...]
 *   mpctl [global options] SERVER-VERB [options] [OPERANDS...]
 *
 * main() has mpctl_parse.c turn argv into one struct ctx, runs the verb's
 * runner (its row in mpctl_verbs.c names it; most are here, the ones that
 * hold a lock or a permit on one connection are in mpctl_hold.c) and
 * checks that the output got out. This file also owns what every runner
 * shares: connecting, sending the verb's request, printing its result,
 * the messages on stderr and the exit statuses.
 *
 * Promises: the key is never taken from argv; every message on stderr
 * starts with "mpctl:"; the exit status is 0 for success or true, 1 for a
 * predicate that answered false (acquire or wait timing out included) or
 * the errors NOKEY, EMPTY, FULL, TIMEOUT, 2 for a usage error, 3 when the
 * daemon cannot be reached, is full or the handshake fails, 4 for any
 * other error, 5 for EOF and SHUTDOWN (nothing more will come: a shell's
 * loop of gets or recvs ends on it), 6 for LOST; `exec` exits with CMD's
 * status (128 + N when signal N killed it), or -E's code when the acquire
 * timed out and nothing ran.
 * Operand and output conversions live in mpctl_json.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mpctl.h"
#include "mpctl_json.h"

int
mpctl_say(int status, const char *fmt, ...)
{
	va_list ap;

	fputs("mpctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	putc('\n', stderr);
	return status;
}

static int
status_of(int err)
{
	switch (err) {
	case MPMGR_OK:
		return EXIT_TRUE;
	case MPMGR_ENOKEY:
	case MPMGR_EEMPTY:
	case MPMGR_EFULL:
	case MPMGR_ETIMEOUT:
		return EXIT_FALSE;
	case MPMGR_ECONNECT:
	case MPMGR_EKEY:
	case MPMGR_EPEER:
	case MPMGR_EAUTH:
		return EXIT_CONNECT;
	case MPMGR_EEOF:
	case MPMGR_ESHUTDOWN:
		return EXIT_EOF;
	case MPMGR_ELOST:
		return EXIT_LOST;
	default:
		return EXIT_ERROR;
	}
}

int
mpctl_fail(const struct ctx *c, int err)
{
	const char *code = c->h ? mpmgr_errcode(c->h) : "";
	const char *msg = c->h ? mpmgr_errmsg(c->h) : "";

	if (code[0] == '\0')
		code = mpmgr_strerror(err);
	if (msg[0] == '\0')
		return mpctl_say(status_of(err), "%s", code);
	return mpctl_say(status_of(err), "%s: %s", code, msg);
}

/*
 * LIMIT while connecting is the daemon refusing a connection because it is
 * full (--max-clients, or too many unauthenticated ones): mpctl cannot
 * connect, status 3, as for any other refusal before the first request.
 */
int
mpctl_connect(struct ctx *c)
{
	int err, rc;

	err = mpmgr_connect(&c->h, c->socket_path, c->authkey_file);
	if (err == MPMGR_OK)
		return 0;
	rc = mpctl_fail(c, err);
	return err == MPMGR_ELIMIT ? EXIT_CONNECT : rc;
}

int
mpctl_send(struct ctx *c)
{
	const struct verb *v = c->verb;
	msgpack_packer *pk;

	pk = mpmgr_request_begin(c->h, verbs_method(v),
	    (v->type != NULL ? 1 : 0) + c->nargs);
	if (pk == NULL)
		return MPMGR_EINVAL;
	if (v->type != NULL)
		msgpack_pack_str_with_body(pk, c->name, strlen(c->name));
	/* The operands are already msgpack: their bytes go in as they are. */
	if (c->args.size > 0)
		pk->callback(pk->data, c->args.data, c->args.size);
	return mpmgr_request_end(c->h);
}

int
mpctl_send_named(struct ctx *c, enum mpmgr_method_id method,
    const char *name, double timeout)
{
	msgpack_packer *pk;

	pk = mpmgr_request_begin(c->h, catalogue_methods[method].name,
	    timeout >= 0 ? 2 : 1);
	if (pk == NULL)
		return MPMGR_EINVAL;
	msgpack_pack_str_with_body(pk, name, strlen(name));
	if (timeout >= 0)
		msgpack_pack_double(pk, timeout);
	return mpmgr_request_end(c->h);
}

int
mpctl_call(struct ctx *c, msgpack_object *result)
{
	int err;

	err = mpctl_send(c);
	return err == MPMGR_OK ? mpmgr_reply(c->h, result) : err;
}

/* A str prints as itself unless --json; anything else as JSON. */
static void
print_value(const struct ctx *c, const msgpack_object *o)
{
	if (o->type == MSGPACK_OBJECT_STR && c->opt[OPT_JSON] == NULL)
		fwrite(o->via.str.ptr, 1, o->via.str.size, stdout);
	else
		mpctl_json_print(stdout, o);
	putc('\n', stdout);
}

int
mpctl_unexpected(const msgpack_object *o)
{
	fputs("mpctl: EPROTO: unexpected reply: ", stderr);
	mpctl_json_print(stderr, o);
	putc('\n', stderr);
	return EXIT_ERROR;
}

int
mpctl_print_result(const struct ctx *c, const msgpack_object *o)
{
	unsigned flags = c->verb->flags;

	if (flags & F_PREDICATE) {
		if (o->type != MSGPACK_OBJECT_BOOLEAN)
			return mpctl_unexpected(o);
		print_value(c, o);
		return o->via.boolean ? EXIT_TRUE : EXIT_FALSE;
	}
	if (flags & F_CAS) {
		if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size != 2 ||
		    o->via.array.ptr[0].type != MSGPACK_OBJECT_BOOLEAN)
			return mpctl_unexpected(o);
		print_value(c, o);
		return o->via.array.ptr[0].via.boolean ? EXIT_TRUE :
		    EXIT_FALSE;
	}
	if ((flags & F_NIL) && o->type == MSGPACK_OBJECT_NIL)
		return EXIT_TRUE;
	print_value(c, o);
	return EXIT_TRUE;
}

/* --- operands as params ------------------------------------------------ */

int
mpctl_pack_operand(struct ctx *c, const char *text, bool numeric)
{
	msgpack_packer pk;
	char err[256];
	bool as_string;

	as_string = !numeric && (c->opt[OPT_STRING] != NULL ||
	    (c->verb->flags & F_NAMES));
	msgpack_packer_init(&pk, &c->args, msgpack_sbuffer_write);
	if (mpctl_json_pack_operand(&pk, text, as_string, err,
	    sizeof(err)) < 0)
		return mpctl_say(EXIT_USAGE, "%s", err);
	c->nargs++;
	return 0;
}

void
mpctl_pack_timeout(struct ctx *c, double secs)
{
	msgpack_packer pk;

	msgpack_packer_init(&pk, &c->args, msgpack_sbuffer_write);
	msgpack_pack_double(&pk, secs);
	c->nargs++;
}

/*
 * The operands, then --reverse or --immediate as true and -t as the
 * timeout: the verbs that take those have a fixed number of operands, so
 * the params they become are always last.
 */
int
mpctl_pack_operands(struct ctx *c)
{
	msgpack_packer pk;
	bool numeric;
	int i;

	for (i = 0; i < c->noperands; i++) {
		numeric = i < 32 && (c->verb->numeric & (1u << i));
		if (mpctl_pack_operand(c, c->operands[i], numeric) != 0)
			return EXIT_USAGE;
	}
	if (c->opt[OPT_REVERSE] != NULL || c->opt[OPT_IMMEDIATE] != NULL) {
		msgpack_packer_init(&pk, &c->args, msgpack_sbuffer_write);
		msgpack_pack_true(&pk);
		c->nargs++;
	}
	if (c->timeout >= 0)
		mpctl_pack_timeout(c, c->timeout);
	return 0;
}

/* --- reading replies ---------------------------------------------------- */

const msgpack_object *
mpctl_map_get(const msgpack_object *m, const char *key)
{
	const msgpack_object *k;
	size_t len = strlen(key);
	uint32_t i;

	if (m == NULL || m->type != MSGPACK_OBJECT_MAP)
		return NULL;
	for (i = 0; i < m->via.map.size; i++) {
		k = &m->via.map.ptr[i].key;
		if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == len &&
		    memcmp(k->via.str.ptr, key, len) == 0)
			return &m->via.map.ptr[i].val;
	}
	return NULL;
}

bool
mpctl_is_bool(const msgpack_object *o, bool b)
{
	return o != NULL && o->type == MSGPACK_OBJECT_BOOLEAN &&
	    o->via.boolean == b;
}

bool
mpctl_is_str(const msgpack_object *o, const char *s)
{
	return o != NULL && o->type == MSGPACK_OBJECT_STR &&
	    o->via.str.size == strlen(s) &&
	    memcmp(o->via.str.ptr, s, o->via.str.size) == 0;
}

/* --- runners ------------------------------------------------------------ */

/* Connect, send, print: the end of every single-request verb. */
static int
finish(struct ctx *c)
{
	msgpack_object res;
	int err, rc;

	if ((rc = mpctl_connect(c)) != 0)
		return rc;
	if ((err = mpctl_call(c, &res)) != MPMGR_OK)
		return mpctl_fail(c, err);
	return mpctl_print_result(c, &res);
}

/* Send the operands, print the result: most verbs. */
int
mpctl_run_call(struct ctx *c)
{
	int rc;

	rc = mpctl_pack_operands(c);
	return rc != 0 ? rc : finish(c);
}

/* The wire wants a cursor; none given starts at 0. */
int
mpctl_run_scan(struct ctx *c)
{
	int rc;

	rc = mpctl_pack_operands(c);
	if (rc == 0 && c->noperands == 0)
		rc = mpctl_pack_operand(c, "0", true);
	return rc != 0 ? rc : finish(c);
}

/* One JSON MAPPING as it is, or KEY VALUE pairs as [[key, value]...]. */
int
mpctl_run_update(struct ctx *c)
{
	msgpack_packer pk;
	int i, rc;

	if (c->noperands == 1) {
		if (c->opt[OPT_STRING] != NULL)
			return mpctl_say(EXIT_USAGE, "dict update: --string "
			    "applies to KEY VALUE pairs, not to one MAPPING");
		if ((rc = mpctl_pack_operand(c, c->operands[0], true)) != 0)
			return rc;
		return finish(c);
	}
	if (c->noperands % 2 != 0)
		return mpctl_say(EXIT_USAGE, "dict update: wants one MAPPING "
		    "or KEY VALUE pairs, got %d operands", c->noperands);
	msgpack_packer_init(&pk, &c->args, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, (size_t)c->noperands / 2);
	for (i = 0; i < c->noperands; i += 2) {
		msgpack_pack_array(&pk, 2);
		if ((rc = mpctl_pack_operand(c, c->operands[i], false)) != 0 ||
		    (rc = mpctl_pack_operand(c, c->operands[i + 1],
		    false)) != 0)
			return rc;
	}
	c->nargs = 1;
	return finish(c);
}

/*
 * TYPE.create name {options}: operand i goes under keys[i], and each
 * option with a key (--ack, --lock NAME...) under its own; no options map
 * at all when there is nothing to say, so the type's defaults apply.
 */
static int
pack_create(struct ctx *c, const char *const keys[2])
{
	const struct opt *o;
	msgpack_packer pk;
	uint32_t n = (uint32_t)c->noperands;
	size_t i;
	int k, rc;

	for (i = 0; i < OPT_COUNT; i++)
		n += parse_verb_opts[i].key != NULL && c->opt[i] != NULL;
	if (n == 0)
		return finish(c);
	msgpack_packer_init(&pk, &c->args, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, n);
	for (k = 0; k < c->noperands; k++) {
		msgpack_pack_str_with_body(&pk, keys[k], strlen(keys[k]));
		if ((rc = mpctl_pack_operand(c, c->operands[k],
		    c->verb->numeric & (1u << k))) != 0)
			return rc;
	}
	for (i = 0; i < OPT_COUNT; i++) {
		o = &parse_verb_opts[i];
		if (o->key == NULL || c->opt[i] == NULL)
			continue;
		msgpack_pack_str_with_body(&pk, o->key, strlen(o->key));
		if (o->arg != NULL && o->numeric) {
			if ((rc = mpctl_pack_operand(c, c->opt[i], true)) != 0)
				return rc;
		} else if (o->arg != NULL)
			msgpack_pack_str_with_body(&pk, c->opt[i],
			    strlen(c->opt[i]));
		else if (o->off)
			msgpack_pack_false(&pk);
		else
			msgpack_pack_true(&pk);
	}
	c->nargs = 1;
	return finish(c);
}

int
mpctl_run_create(struct ctx *c)
{
	return pack_create(c, c->verb->keys);
}

/* TYPECODE then LENGTH, or ITEMS when that operand is a JSON array. */
int
mpctl_run_array_create(struct ctx *c)
{
	const char *keys[2] = { "typecode", "length" };
	const char *second = c->operands[1];

	second += strspn(second, " \t\n\r");
	if (second[0] == '[')
		keys[1] = "items";
	return pack_create(c, keys);
}

/* A msgpack array header starts these bytes. */
static bool
packed_array(const msgpack_sbuffer *sb)
{
	unsigned char b;

	b = sb->size > 0 ? (unsigned char)sb->data[0] : 0;
	return (b & 0xf0) == 0x90 || b == 0xdc || b == 0xdd;
}

/* Each operand as one item of an array param. */
static int
pack_item_list(struct ctx *c)
{
	msgpack_packer pk;
	int i, rc;

	msgpack_packer_init(&pk, &c->args, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, (size_t)c->noperands);
	for (i = 0; i < c->noperands; i++) {
		if ((rc = mpctl_pack_operand(c, c->operands[i], false)) != 0)
			return rc;
	}
	c->nargs = 1;
	return 0;
}

/*
 * list extend, queue put_many: one operand that is a JSON array gives the
 * items (as Python's extend([...])); otherwise each operand is one item.
 */
int
mpctl_run_items(struct ctx *c)
{
	int rc;

	if (c->noperands == 1 && c->opt[OPT_STRING] == NULL) {
		if ((rc = mpctl_pack_operand(c, c->operands[0], false)) != 0)
			return rc;
		if (!packed_array(&c->args)) {
			c->args.size = 0;
			c->nargs = 0;
			rc = pack_item_list(c);
		}
	} else
		rc = pack_item_list(c);
	if (rc != 0)
		return rc;
	if (c->timeout >= 0)
		mpctl_pack_timeout(c, c->timeout);
	return finish(c);
}

/*
 * queue get and get_many. An ack queue leases what it hands out to the
 * getter's connection until that connection's task_done, and takes it
 * back when the connection closes: mpctl's closes as it exits, so on an
 * ack queue mpctl marks the items done once they are written to stdout.
 * obj.info, pipelined before the get, tells whether the queue is one (a
 * missing queue is made by the get with the defaults: not acked).
 */
int
mpctl_run_get(struct ctx *c)
{
	msgpack_object res;
	uint32_t i, n = 1;
	bool ack = false;
	int err, rc;

	if ((rc = mpctl_pack_operands(c)) != 0 ||
	    (rc = mpctl_connect(c)) != 0)
		return rc;
	if ((err = mpctl_send_named(c, MPMGR_MID_obj_info, c->name, -1)) !=
	    MPMGR_OK || (err = mpctl_send(c)) != MPMGR_OK)
		return mpctl_fail(c, err);
	err = mpmgr_reply(c->h, &res);
	if (err == MPMGR_OK)
		ack = mpctl_is_bool(mpctl_map_get(mpctl_map_get(&res,
		    "options"), "ack"), true);
	else if (err != MPMGR_ENOOBJ)
		return mpctl_fail(c, err);
	if ((err = mpmgr_reply(c->h, &res)) != MPMGR_OK)
		return mpctl_fail(c, err);
	if (c->noperands > 0 && res.type == MSGPACK_OBJECT_ARRAY)
		n = res.via.array.size;
	rc = mpctl_print_result(c, &res);
	/* Output that did not get out is not done: it goes back. */
	if (!ack || fflush(stdout) != 0 || ferror(stdout))
		return rc;
	for (i = 0; i < n; i++) {
		if ((err = mpctl_send_named(c, MPMGR_MID_queue_task_done,
		    c->name, -1)) != MPMGR_OK)
			return mpctl_fail(c, err);
	}
	for (i = 0; i < n; i++) {
		if ((err = mpmgr_reply(c->h, NULL)) != MPMGR_OK)
			return mpctl_fail(c, err);
	}
	return rc;
}

/* Pipelined: every name is tried; the worst status wins. */
int
mpctl_run_rm(struct ctx *c)
{
	int err, i, rc, worst = EXIT_TRUE;

	if ((rc = mpctl_connect(c)) != 0)
		return rc;
	for (i = 0; i < c->noperands; i++) {
		c->args.size = 0;
		c->nargs = 0;
		if ((rc = mpctl_pack_operand(c, c->operands[i], false)) != 0)
			return rc;
		if ((err = mpctl_send(c)) != MPMGR_OK)
			return mpctl_fail(c, err);
	}
	for (i = 0; i < c->noperands; i++) {
		err = mpmgr_reply(c->h, NULL);
		if (err == MPMGR_OK)
			continue;
		rc = mpctl_fail(c, err);
		if (rc > worst)
			worst = rc;
		/* A client-side error (EIO...) broke the handle: no more
		 * replies. */
		if (err <= MPMGR_ECONNECT)
			break;
	}
	return worst;
}

int
mpctl_run_stats(struct ctx *c)
{
	const msgpack_object_kv *kv;
	msgpack_object res;
	uint32_t i;
	int err, rc;

	if ((rc = mpctl_connect(c)) != 0)
		return rc;
	if ((err = mpctl_call(c, &res)) != MPMGR_OK)
		return mpctl_fail(c, err);
	if (c->opt[OPT_JSON] != NULL) {
		print_value(c, &res);
		return EXIT_TRUE;
	}
	if (res.type != MSGPACK_OBJECT_MAP)
		return mpctl_unexpected(&res);
	for (i = 0; i < res.via.map.size; i++) {
		kv = &res.via.map.ptr[i];
		if (kv->key.type == MSGPACK_OBJECT_STR)
			fwrite(kv->key.via.str.ptr, 1, kv->key.via.str.size,
			    stdout);
		else
			mpctl_json_print(stdout, &kv->key);
		fputs(": ", stdout);
		print_value(c, &kv->val);
	}
	return EXIT_TRUE;
}

/* --- entry ------------------------------------------------------------ */

int
main(int argc, char **argv)
{
	struct ctx c = { .timeout = -1, .conflict = EXIT_FALSE };
	int rc;

	msgpack_sbuffer_init(&c.args);
	if ((rc = parse_args(&c, argc, argv)) == -1)
		rc = (c.verb->run != NULL ? c.verb->run : mpctl_run_call)(&c);
	mpmgr_free(c.h);
	msgpack_sbuffer_destroy(&c.args);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		mpctl_say(EXIT_ERROR, "cannot write the output");
		if (rc == EXIT_TRUE || rc == EXIT_FALSE)
			rc = EXIT_ERROR;
	}
	return rc;
}
