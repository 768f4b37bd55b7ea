/*
 * mpctl.c: the command-line client of mpmgrd: entry and running.
 *
 *   mpctl [OPTIONS] TYPE VERB [-n NAME] [OPTIONS] [OPERANDS...]
 *   mpctl [OPTIONS] SERVER-VERB [OPTIONS] [OPERANDS...]
 *   mpctl [OPTIONS] batch < COMMANDS
 *
 * main() has mpctl_parse.c turn argv into one struct ctx, runs the verb
 * (its row in mpctl_verbs.c says how its operands become params and, for
 * a verb that is more than one request, its runner; most are here, the
 * ones that hold a lock or a permit on one connection in mpctl_hold.c)
 * and checks that the output got out. This file also owns what every
 * verb shares: connecting, the deadline of -t, sending the verb's request,
 * printing its result, the messages on stderr and the exit statuses.
 *
 * Promises: the key is never taken from argv; every message on stderr
 * starts with "mpctl:"; the exit status is 0 for success or true, 1 for a
 * predicate that answered false (acquire or wait timing out included) or
 * the errors NOKEY, EMPTY, FULL, TIMEOUT, 2 for a usage error, 3 when the
 * daemon cannot be reached, is full, does not answer within -t (and two
 * seconds for the reply), or the handshake fails, 4 for any other error,
 * 5 for EOF and SHUTDOWN (nothing more will come: a shell's loop of gets
 * or recvs ends on it), 6 for LOST; `exec` exits with CMD's status (128 +
 * N when signal N killed it), or -E's code when the acquire timed out and
 * nothing ran. Operand and output conversions live in mpctl_json.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "../proto/mpmgr_proto.h"
#include "../proto/paths.h"
#include "../proto/scan.h"
#include "mpctl.h"
#include "mpctl_json.h"

/*
 * How long past -t a reply may take to arrive: the daemon answers a wait
 * when -t passes, and the answer needs a moment to travel (and, for -t 0,
 * the connection and handshake theirs, on a loaded machine, sanitized). A
 * daemon that has not answered by then is stopped or swamped: exit 3.
 */
#define DEADLINE_GRACE 2.0

/* The most -x or --file reads: far above any --max-message in use. */
#define INPUT_MAX ((size_t)1 << 30)

FILE *mpctl_say_stream;
const char *mpctl_say_prefix = "mpctl: ";

int
mpctl_say(int status, const char *fmt, ...)
{
	FILE *f = mpctl_say_stream != NULL ? mpctl_say_stream : stderr;
	va_list ap;

	fputs(mpctl_say_prefix, f);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	putc('\n', f);
	return status;
}

int
mpctl_status(int err)
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
	case MPMGR_EIO:         /* the daemon went away, or never answered */
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

const char *
mpctl_error_text(const struct ctx *c, int err, char *buf, size_t len)
{
	const char *code = c->h ? mpmgr_errcode(c->h) : "";
	const char *msg = c->h ? mpmgr_errmsg(c->h) : "";
	const char *create = NULL;
	char hint[400];

	if (code[0] == '\0')
		code = mpmgr_strerror(err);
	/* The daemon speaks of methods; the user typed mpctl. */
	if (err == MPMGR_ENOOBJ && c->type != NULL && c->name != NULL)
		create = parse_create_hint(c->type->name, c->name, hint,
		    sizeof(hint));
	if (create != NULL)
		snprintf(buf, len, "%s: no %s '%s': create it first with `%s`",
		    code, c->type->name, c->name, create);
	else if (msg[0] == '\0')
		snprintf(buf, len, "%s", code);
	else
		snprintf(buf, len, "%s: %s", code, msg);
	return buf;
}

int
mpctl_fail(const struct ctx *c, int err)
{
	int status = mpctl_status(err);
	char buf[1600];

	if (status == EXIT_FALSE && c->opt[OPT_QUIET] != NULL)
		return status;
	return mpctl_say(status, "%s", mpctl_error_text(c, err, buf,
	    sizeof(buf)));
}

/* --- connecting ----------------------------------------------------------- */

/*
 * Why mpmgr_connect failed, said for a user: a socket nobody serves is
 * "no mpmgrd", with how to start one; refusals name the socket and the
 * key file. Always EXIT_CONNECT.
 */
static int
connect_fail(struct ctx *c, int err)
{
	const char *path = mpmgr_socket_path(c->h), *code, *msg;
	char key[4096], why[512];
	struct stat st;

	code = mpmgr_errcode(c->h)[0] ? mpmgr_errcode(c->h) :
	    mpmgr_strerror(err);
	msg = mpmgr_errmsg(c->h);
	if (err == MPMGR_ECONNECT && path[0] != '\0' && (stat(path, &st) == 0 ?
	    S_ISSOCK(st.st_mode) && access(path, W_OK) == 0 : errno == ENOENT))
		return mpctl_say(EXIT_CONNECT, "%s: no mpmgrd at %s (start one "
		    "with `mpmgrd` or `make run`; or set -s / MPMGR_SOCKET)",
		    code, path);
	if (err == MPMGR_EAUTH || err == MPMGR_EPEER || err == MPMGR_EKEY) {
		if (paths_authkey(c->authkey_file, path, key, sizeof(key), why,
		    sizeof(why)) == -1)
			snprintf(key, sizeof(key), "?");
		return mpctl_say(EXIT_CONNECT, "%s: %s (socket %s, key file "
		    "%s)", code, msg, path, key);
	}
	if (msg[0] == '\0')
		return mpctl_say(EXIT_CONNECT, "%s", code);
	return mpctl_say(EXIT_CONNECT, "%s: %s", code, msg);
}

/*
 * $MPMGR_HELD_FD, when it names an authenticated connection to the daemon
 * c would reach that owns the rlock c->name: adopted, through a copy of
 * the descriptor (the nested mpctl of an rlock exec acquires one level
 * deeper on it). Asking rlock.owned first never parks, so an rlock the
 * connection does not own is waited for on a connection of mpctl's own,
 * and nothing can stay parked on the shared one after mpctl is gone.
 * Anything else is not ours to use: false, and c connects as usual.
 */
static bool
adopt_held(struct ctx *c)
{
	const char *env = getenv("MPMGR_HELD_FD");
	char path[PATHS_MAX], err[256], *end;
	msgpack_object res;
	mpmgr *h = NULL;
	long fd;
	int dfd;

	if (env == NULL || *env == '\0')
		return false;
	errno = 0;
	fd = strtol(env, &end, 10);
	if (*end != '\0' || errno != 0 || fd < 0 || fd > INT32_MAX ||
	    paths_socket(c->socket_path, path, sizeof(path), err,
	    sizeof(err)) == -1 ||
	    (dfd = fcntl((int)fd, F_DUPFD_CLOEXEC, 0)) == -1)
		return false;
	if (mpmgr_attach(&h, dfd) != MPMGR_OK) {
		close(dfd);
		mpmgr_free(h);
		return false;
	}
	c->h = h;
	if (strcmp(mpmgr_socket_path(h), path) == 0 &&
	    mpctl_send_named(c, MPMGR_MID_rlock_owned, c->name, -1) ==
	    MPMGR_OK && mpmgr_reply(h, &res) == MPMGR_OK &&
	    mpctl_is_bool(&res, true)) {
		c->adopted = true;
		return true;
	}
	/* Not ours: our copy goes, the inherited descriptor stays. */
	c->h = NULL;
	mpmgr_free(h);
	return false;
}

/*
 * LIMIT while connecting is the daemon refusing a connection because it is
 * full (--max-clients, or too many unauthenticated ones): mpctl cannot
 * connect, status 3, as for any other refusal before the first request.
 * With -w SECS mpctl waits up to SECS for a daemon that is not there (yet,
 * or again), and reconnects the same way if the daemon restarts later.
 */
int
mpctl_connect(struct ctx *c, bool adopt)
{
	int err;

	if (adopt && adopt_held(c))
		return 0;
	err = mpmgr_connect(&c->h, c->socket_path, c->authkey_file);
	if (c->wait >= 0 && c->h != NULL) {
		mpmgr_set_reconnect(c->h, c->wait);
		if (err == MPMGR_ECONNECT || err == MPMGR_EIO)
			err = mpmgr_reconnect(c->h);
	}
	if (err == MPMGR_OK)
		return 0;
	if (err == MPMGR_ENOMEM)
		return mpctl_say(EXIT_ERROR, "ENOMEM: out of memory");
	return connect_fail(c, err);
}

/* --- time ----------------------------------------------------------------- */

double
mpctl_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double
mpctl_left(const struct ctx *c)
{
	double left;

	if (c->timeout < 0)
		return -1;
	left = c->timeout - (mpctl_now() - c->start);
	return left > 0 ? left : 0;
}

/* What the deadline says as it ends mpctl: made before it is armed. */
static char deadline_msg[PATHS_MAX + 160];
static size_t deadline_len;

static void
deadline_hit(int sig)
{
	ssize_t n;

	(void)sig;
	n = write(STDERR_FILENO, deadline_msg, deadline_len);
	(void)n;
	_exit(EXIT_CONNECT);
}

void
mpctl_deadline_arm(const struct ctx *c)
{
	struct sigaction sa = { .sa_handler = deadline_hit };
	struct itimerval it = { { 0, 0 }, { 0, 0 } };
	char path[PATHS_MAX], err[256];
	double at;
	int n;

	if (c->timeout < 0)
		return;
	if (paths_socket(c->socket_path, path, sizeof(path), err,
	    sizeof(err)) == -1)
		snprintf(path, sizeof(path), "its socket");
	n = snprintf(deadline_msg, sizeof(deadline_msg), "mpctl: no answer "
	    "from mpmgrd at %s within -t %g s and %g s more for the reply\n",
	    path, c->timeout, DEADLINE_GRACE);
	deadline_len = n > 0 && (size_t)n < sizeof(deadline_msg) ? (size_t)n :
	    strlen(deadline_msg);
	at = c->timeout + DEADLINE_GRACE - (mpctl_now() - c->start);
	if (at < 0.001)
		at = 0.001;
	it.it_value.tv_sec = (time_t)at;
	it.it_value.tv_usec = (suseconds_t)((at - (double)(time_t)at) * 1e6);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
}

void
mpctl_deadline_disarm(void)
{
	struct itimerval it = { { 0, 0 }, { 0, 0 } };

	setitimer(ITIMER_REAL, &it, NULL);
}

/* --- requests ------------------------------------------------------------- */

int
mpctl_send(struct ctx *c)
{
	const struct verb *v = c->verb;
	double left = mpctl_left(c);
	msgpack_packer *pk;
	bool timeout;

	timeout = left >= 0 && (catalogue_methods[v->method].flags &
	    MF_BLOCKS);
	pk = mpmgr_request_begin(c->h, verbs_method(v),
	    (v->type != NULL ? 1 : 0) + c->nargs + timeout);
	if (pk == NULL)
		return MPMGR_EINVAL;
	if (v->type != NULL)
		msgpack_pack_str_with_body(pk, c->name, strlen(c->name));
	/* The operands are already msgpack: their bytes go in as they are. */
	if (c->args.size > 0)
		pk->callback(pk->data, c->args.data, c->args.size);
	if (timeout)
		msgpack_pack_double(pk, left);
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

/* --- printing ------------------------------------------------------------- */

void
mpctl_print_value(const struct ctx *c, const msgpack_object *o)
{
	if (c->opt[OPT_QUIET] != NULL)
		return;
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
		mpctl_print_value(c, o);
		return o->via.boolean ? EXIT_TRUE : EXIT_FALSE;
	}
	if (flags & F_CAS) {
		if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size != 2 ||
		    o->via.array.ptr[0].type != MSGPACK_OBJECT_BOOLEAN)
			return mpctl_unexpected(o);
		mpctl_print_value(c, o);
		return o->via.array.ptr[0].via.boolean ? EXIT_TRUE :
		    EXIT_FALSE;
	}
	if ((flags & F_NIL) && o->type == MSGPACK_OBJECT_NIL)
		return EXIT_TRUE;
	mpctl_print_value(c, o);
	return EXIT_TRUE;
}

/* --- operands as params ------------------------------------------------ */

int
mpctl_pack_operand(struct ctx *c, const char *text, bool numeric)
{
	msgpack_packer pk;
	char err[256];
	bool as_string;

	msgpack_packer_init(&pk, &c->args, msgpack_sbuffer_write);
	if (text == c->input && c->input_bin) {
		msgpack_pack_bin_with_body(&pk, c->input, c->inputlen);
		c->nargs++;
		return 0;
	}
	as_string = !numeric && (c->opt[OPT_STRING] != NULL ||
	    (c->verb->flags & F_NAMES));
	if (mpctl_json_pack_operand(&pk, text, as_string, err,
	    sizeof(err)) < 0)
		return mpctl_say(EXIT_USAGE, "%s", err);
	c->nargs++;
	return 0;
}

/*
 * The operands, then --default, and --reverse or --immediate as true: the
 * verbs that take those have a fixed number of operands, so the params
 * they become are always last (the timeout, for a method that blocks,
 * follows: mpctl_send).
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
	if (c->opt[OPT_DEFAULT] != NULL &&
	    mpctl_pack_operand(c, c->opt[OPT_DEFAULT], false) != 0)
		return EXIT_USAGE;
	if (c->opt[OPT_REVERSE] != NULL || c->opt[OPT_IMMEDIATE] != NULL) {
		msgpack_packer_init(&pk, &c->args, msgpack_sbuffer_write);
		msgpack_pack_true(&pk);
		c->nargs++;
	}
	return 0;
}

int
mpctl_pack(struct ctx *c)
{
	return c->verb->pack != NULL ? c->verb->pack(c) :
	    mpctl_pack_operands(c);
}

/* The wire wants a cursor; none given starts at 0. */
int
mpctl_pack_scan(struct ctx *c)
{
	int rc;

	rc = mpctl_pack_operands(c);
	if (rc == 0 && c->noperands == 0)
		rc = mpctl_pack_operand(c, "0", true);
	return rc;
}

/* One JSON MAPPING as it is, or KEY VALUE pairs as [[key, value]...]. */
int
mpctl_pack_update(struct ctx *c)
{
	msgpack_packer pk;
	int i, rc;

	if (c->noperands == 1) {
		if (c->opt[OPT_STRING] != NULL)
			return mpctl_say(EXIT_USAGE, "dict update: --string "
			    "applies to KEY VALUE pairs, not to one MAPPING");
		return mpctl_pack_operand(c, c->operands[0], true);
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
	return 0;
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
		n += parse_opts[i].key != NULL && c->opt[i] != NULL;
	if (n == 0)
		return 0;
	msgpack_packer_init(&pk, &c->args, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, n);
	for (k = 0; k < c->noperands; k++) {
		msgpack_pack_str_with_body(&pk, keys[k], strlen(keys[k]));
		if ((rc = mpctl_pack_operand(c, c->operands[k],
		    c->verb->numeric & (1u << k))) != 0)
			return rc;
	}
	for (i = 0; i < OPT_COUNT; i++) {
		o = &parse_opts[i];
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
	return 0;
}

int
mpctl_pack_create(struct ctx *c)
{
	return pack_create(c, c->verb->keys);
}

/* TYPECODE then LENGTH, or ITEMS when that operand is a JSON array. */
int
mpctl_pack_array_create(struct ctx *c)
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
mpctl_pack_items(struct ctx *c)
{
	int rc;

	if (c->noperands != 1 || c->opt[OPT_STRING] != NULL)
		return pack_item_list(c);
	if ((rc = mpctl_pack_operand(c, c->operands[0], false)) != 0)
		return rc;
	if (packed_array(&c->args))
		return 0;
	c->args.size = 0;
	c->nargs = 0;
	return pack_item_list(c);
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

int
mpctl_read_all(int fd, char **buf, size_t *len)
{
	size_t cap = 65536, n = 0;
	char *p = NULL, *q;
	ssize_t r;

	for (;;) {
		if (p == NULL || cap - n < 2) {
			if (p != NULL)
				cap *= 2;
			if (cap > INPUT_MAX + 1 || (q = realloc(p, cap)) ==
			    NULL) {
				free(p);
				errno = cap > INPUT_MAX + 1 ? EFBIG : ENOMEM;
				return -1;
			}
			p = q;
		}
		r = read(fd, p + n, cap - n - 1);
		if (r == 0)
			break;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			free(p);
			return -1;
		}
		n += (size_t)r;
	}
	p[n] = '\0';
	*buf = p;
	*len = n;
	return 0;
}

/* --- runners ------------------------------------------------------------ */

/* Pack, connect, send, print: every single-request verb. */
int
mpctl_run_call(struct ctx *c)
{
	msgpack_object res;
	int err, rc;

	if ((rc = mpctl_pack(c)) != 0 || (rc = mpctl_connect(c, false)) != 0)
		return rc;
	if ((err = mpctl_call(c, &res)) != MPMGR_OK)
		return mpctl_fail(c, err);
	return mpctl_print_result(c, &res);
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
	    (rc = mpctl_connect(c, false)) != 0)
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

/* Puts of --lines outstanding at once: enough to keep the daemon busy. */
#define LINES_WINDOW 256

/* The reply of the oldest put of --lines: 0, or the status after saying. */
static int
put_reply(struct ctx *c)
{
	int err;

	err = mpmgr_reply(c->h, NULL);
	return err == MPMGR_OK ? 0 : mpctl_fail(c, err);
}

/*
 * queue put; with --lines, each line of stdin an item, pipelined on one
 * connection (LINES_WINDOW at a time): the first failure stops the
 * sending, the puts already sent are answered, and that status is the
 * exit's.
 */
int
mpctl_run_put(struct ctx *c)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int rc = 0, first = 0;

	if (c->opt[OPT_LINES] == NULL)
		return mpctl_run_call(c);
	if ((rc = mpctl_connect(c, false)) != 0)
		return rc;
	while (first == 0 && (len = getline(&line, &cap, stdin)) != -1) {
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		c->args.size = 0;
		c->nargs = 0;
		/* A line that is not text goes as bin, as -x does. */
		c->input = line;
		c->inputlen = (size_t)len;
		c->input_bin = memchr(line, '\0', (size_t)len) != NULL ||
		    !scan_utf8((const uint8_t *)line, (size_t)len);
		if ((rc = mpctl_pack_operand(c, line, false)) != 0) {
			first = rc;
			break;
		}
		if ((rc = mpctl_send(c)) != MPMGR_OK) {
			first = mpctl_fail(c, rc);
			break;
		}
		if (mpmgr_pending(c->h) >= LINES_WINDOW)
			first = put_reply(c);
	}
	c->input = NULL;
	free(line);
	if (first == 0 && ferror(stdin))
		first = mpctl_say(EXIT_ERROR, "%s: cannot read stdin: %s",
		    c->who, strerror(errno));
	while (mpmgr_pending(c->h) > 0) {
		if ((rc = put_reply(c)) != 0 && first == 0)
			first = rc;
		if (rc == EXIT_CONNECT)
			break;
	}
	return first;
}

/* Pipelined: every name is tried; the worst status wins. */
int
mpctl_run_rm(struct ctx *c)
{
	int err, i, rc, worst = EXIT_TRUE;

	if ((rc = mpctl_connect(c, false)) != 0)
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

/* A map as "key: value" lines (--json: one line of JSON). */
static void
print_map(const struct ctx *c, const msgpack_object *m)
{
	const msgpack_object_kv *kv;
	uint32_t i;

	if (c->opt[OPT_JSON] != NULL || c->opt[OPT_QUIET] != NULL) {
		mpctl_print_value(c, m);
		return;
	}
	for (i = 0; i < m->via.map.size; i++) {
		kv = &m->via.map.ptr[i];
		if (kv->key.type == MSGPACK_OBJECT_STR)
			fwrite(kv->key.via.str.ptr, 1, kv->key.via.str.size,
			    stdout);
		else
			mpctl_json_print(stdout, &kv->key);
		fputs(": ", stdout);
		mpctl_print_value(c, &kv->val);
	}
}

/* sys.stats's map into *res: 0, or the exit status after saying why. */
static int
stats_call(struct ctx *c, msgpack_object *res)
{
	int err, rc;

	if ((rc = mpctl_connect(c, false)) != 0)
		return rc;
	if ((err = mpctl_call(c, res)) != MPMGR_OK)
		return mpctl_fail(c, err);
	return res->type == MSGPACK_OBJECT_MAP ? 0 : mpctl_unexpected(res);
}

int
mpctl_run_stats(struct ctx *c)
{
	msgpack_object res;
	int rc;

	if ((rc = stats_call(c, &res)) != 0)
		return rc;
	print_map(c, &res);
	return EXIT_TRUE;
}

/*
 * mpctl's version, the daemon's (from sys.stats) and the protocol's: one
 * connection succeeded, so both ends speak MPMGR_PROTO_VERSION.
 */
int
mpctl_run_version(struct ctx *c)
{
	msgpack_object_kv kv[3];
	msgpack_object res, map;
	const msgpack_object *server;
	int rc;

	if ((rc = stats_call(c, &res)) != 0)
		return rc;
	server = mpctl_map_get(&res, "version");
	if (server == NULL)
		return mpctl_unexpected(&res);
	kv[0].key = mpmgr_obj_str("client");
	kv[0].val = mpmgr_obj_str(MPMGR_VERSION);
	kv[1].key = mpmgr_obj_str("server");
	kv[1].val = *server;
	kv[2].key = mpmgr_obj_str("protocol");
	kv[2].val = mpmgr_obj_int(MPMGR_PROTO_VERSION);
	map.type = MSGPACK_OBJECT_MAP;
	map.via.map.size = 3;
	map.via.map.ptr = kv;
	print_map(c, &map);
	return EXIT_TRUE;
}

/* --- entry ------------------------------------------------------------ */

int
main(int argc, char **argv)
{
	struct ctx c = { .timeout = -1, .wait = -1, .conflict = EXIT_FALSE };
	int rc;

	if (argc > 1 && strcmp(argv[1], "--complete") == 0)
		return complete_run(argc - 2, argv + 2);
	c.start = mpctl_now();
	msgpack_sbuffer_init(&c.args);
	if ((rc = parse_args(&c, argc, argv)) == -1 && c.verb == NULL)
		rc = batch_run(&c);
	else if (rc == -1) {
		mpctl_deadline_arm(&c);
		rc = (c.verb->run != NULL ? c.verb->run : mpctl_run_call)(&c);
		/* The answer is in: exiting (a sanitizer's leak check...)
		 * is not the daemon's to be late for. */
		mpctl_deadline_disarm();
	}
	mpmgr_free(c.h);
	msgpack_sbuffer_destroy(&c.args);
	free(c.opbuf);
	free(c.input);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		mpctl_say(EXIT_ERROR, "cannot write the output");
		if (rc == EXIT_TRUE || rc == EXIT_FALSE)
			rc = EXIT_ERROR;
	}
	return rc;
}
