/*
 * mpctl_clients.c: the daemon's connections as an operator sees them:
 * `mpctl clients` one a line, as Redis's CLIENT LIST prints them; `mpctl
 * kill --pid PID`, every connection of a process; `mpctl monitor`, every
 * request as it runs (Redis's MONITOR).
 *
 * sys.clients answers a map a connection (docs/PROTOCOL.md); this prints
 * each as "key=value" fields in the map's order, numbers and strings as
 * they are, and the two that are not scalars in words: waits=METHOD(NAME,
 * SECSs) for a parked request (waits=- for none) and holds=TYPE(NAME:
 * WHAT),... for what the connection holds (holds=- for nothing). --json
 * prints the reply as one line of JSON instead, and so does a batch.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../proto/mpmgr_proto.h"

#include "mpctl.h"
#include "mpctl_json.h"

static bool
key_is(const msgpack_object *k, const char *s)
{
	return k->type == MSGPACK_OBJECT_STR && k->via.str.size == strlen(s) &&
	    memcmp(k->via.str.ptr, s, k->via.str.size) == 0;
}

/* A str as its bytes, anything else as JSON. */
static void
print_bare(const msgpack_object *o)
{
	if (o->type == MSGPACK_OBJECT_STR)
		fwrite(o->via.str.ptr, 1, o->via.str.size, stdout);
	else
		mpctl_json_print(stdout, o);
}

/* waits=METHOD(NAME, SECSs), or waits=- */
static void
print_waits(const msgpack_object *w)
{
	const msgpack_object *method, *name, *secs;

	if (w->type != MSGPACK_OBJECT_MAP ||
	    (method = mpctl_map_get(w, "method")) == NULL ||
	    (name = mpctl_map_get(w, "name")) == NULL ||
	    (secs = mpctl_map_get(w, "wait_sec")) == NULL) {
		fputs("-", stdout);
		return;
	}
	print_bare(method);
	putchar('(');
	print_bare(name);
	fputs(", ", stdout);
	print_bare(secs);
	fputs("s)", stdout);
}

/* holds=TYPE(NAME: WHAT),..., or holds=- */
static void
print_holds(const msgpack_object *h)
{
	const msgpack_object *row;
	uint32_t i;

	if (h->type != MSGPACK_OBJECT_ARRAY || h->via.array.size == 0) {
		fputs("-", stdout);
		return;
	}
	for (i = 0; i < h->via.array.size; i++) {
		row = &h->via.array.ptr[i];
		if (i > 0)
			putchar(',');
		if (row->type != MSGPACK_OBJECT_ARRAY ||
		    row->via.array.size != 3) {
			mpctl_json_print(stdout, row);
			continue;
		}
		print_bare(&row->via.array.ptr[1]);
		putchar('(');
		print_bare(&row->via.array.ptr[0]);
		fputs(": ", stdout);
		print_bare(&row->via.array.ptr[2]);
		putchar(')');
	}
}

static int
clients_print(const msgpack_object *res)
{
	const msgpack_object *cl;
	const msgpack_object_kv *kv;
	uint32_t i, j;

	if (res->type != MSGPACK_OBJECT_ARRAY)
		return mpctl_unexpected(res);
	for (i = 0; i < res->via.array.size; i++) {
		cl = &res->via.array.ptr[i];
		if (cl->type != MSGPACK_OBJECT_MAP)
			return mpctl_unexpected(res);
		for (j = 0; j < cl->via.map.size; j++) {
			kv = &cl->via.map.ptr[j];
			if (j > 0)
				putchar(' ');
			print_bare(&kv->key);
			putchar('=');
			if (key_is(&kv->key, "waits"))
				print_waits(&kv->val);
			else if (key_is(&kv->key, "holds"))
				print_holds(&kv->val);
			else
				print_bare(&kv->val);
		}
		putchar('\n');
	}
	return EXIT_TRUE;
}

int
clients_run(struct ctx *c)
{
	msgpack_object res;
	int err, rc;

	if ((rc = mpctl_connect(c, false)) != 0)
		return rc;
	if ((err = mpctl_call(c, &res)) != MPMGR_OK)
		return mpctl_fail(c, err);
	if (c->opt[OPT_JSON] != NULL || c->opt[OPT_QUIET] != NULL) {
		if (res.type != MSGPACK_OBJECT_ARRAY)
			return mpctl_unexpected(&res);
		mpctl_print_value(c, &res);
		return EXIT_TRUE;
	}
	return clients_print(&res);
}

/*
 * kill --pid PID: sys.clients, then sys.kill for each connection PID made
 * (the daemon learnt its pid at accept), mpctl's own left alone. Not
 * atomic: a connection PID opens after the listing stays, one that closes
 * meanwhile (NOTFOUND) is not an error. Fails only when PID had none.
 */
int
clients_kill(struct ctx *c)
{
	msgpack_object res, arg, *cl;
	const msgpack_object *id, *pid;
	char *end;
	long want;
	uint64_t *ids;
	uint32_t i, n = 0, killed = 0;
	int err = MPMGR_OK, rc;

	if (c->opt[OPT_PID] == NULL) {
		if (c->noperands != 1)
			return mpctl_say(EXIT_USAGE, "kill: give CLIENT (an id "
			    "from mpctl clients) or --pid PID");
		return mpctl_run_call(c);
	}
	if (c->noperands != 0)
		return mpctl_say(EXIT_USAGE, "kill: CLIENT or --pid PID, not "
		    "both");
	errno = 0;
	want = strtol(c->opt[OPT_PID], &end, 10);
	if (errno != 0 || *end != '\0' || end == c->opt[OPT_PID] ||
	    want <= 0 || want > INT32_MAX)
		return mpctl_say(EXIT_USAGE, "kill: --pid wants a process id, "
		    "not '%s'", c->opt[OPT_PID]);
	if ((rc = mpctl_connect(c, false)) != 0)
		return rc;
	if ((err = mpmgr_call(c->h, catalogue_methods[MPMGR_MID_sys_clients].
	    name, NULL, 0, &res)) != MPMGR_OK)
		return mpctl_fail(c, err);
	if (res.type != MSGPACK_OBJECT_ARRAY)
		return mpctl_unexpected(&res);
	/* The reply lives until the next call: keep the ids first. */
	if ((ids = calloc(res.via.array.size + 1, sizeof *ids)) == NULL)
		return mpctl_say(EXIT_ERROR, "kill: out of memory");
	for (i = 0; i < res.via.array.size; i++) {
		cl = &res.via.array.ptr[i];
		id = mpctl_map_get(cl, "client");
		pid = mpctl_map_get(cl, "pid");
		if (id == NULL || pid == NULL ||
		    id->type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
		    pid->type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
		    pid->via.u64 != (uint64_t)want ||
		    (pid_t)want == getpid())
			continue;
		ids[n++] = id->via.u64;
	}
	for (i = 0; i < n; i++) {
		arg.type = MSGPACK_OBJECT_POSITIVE_INTEGER;
		arg.via.u64 = ids[i];
		err = mpmgr_call(c->h, verbs_method(c->verb), &arg, 1, NULL);
		if (err == MPMGR_ENOTFOUND)
			continue;
		if (err != MPMGR_OK)
			break;
		killed++;
	}
	free(ids);
	if (err != MPMGR_OK && err != MPMGR_ENOTFOUND)
		return mpctl_fail(c, err);
	if (killed == 0)
		return mpctl_say(EXIT_ERROR, "kill: no connection of pid %ld",
		    want);
	return EXIT_TRUE;
}

/* One line per sys.monitor notification: text, or --json. */
static void
monitor_line(void *arg, const char *method, size_t len,
    const msgpack_object *params)
{
	static const char *const keys[] = {
		"time", "client", "pid", "method", "name", "args", "lost"
	};
	const struct ctx *c = arg;
	const msgpack_object *p;
	uint32_t i;

	if (len != strlen(MPMGR_NOTIFY_MONITOR) ||
	    memcmp(method, MPMGR_NOTIFY_MONITOR, len) != 0 ||
	    params->type != MSGPACK_OBJECT_ARRAY ||
	    params->via.array.size != NELEM(keys))
		return;
	p = params->via.array.ptr;
	if (c->opt[OPT_JSON] != NULL) {
		for (i = 0; i < NELEM(keys); i++) {
			printf("%s\"%s\":", i == 0 ? "{" : ",", keys[i]);
			if (i == 0 && p[i].type == MSGPACK_OBJECT_FLOAT64)
				printf("%.6f", p[i].via.f64);
			else
				mpctl_json_print(stdout, &p[i]);
		}
		fputs("}\n", stdout);
		return;
	}
	if (p[6].type == MSGPACK_OBJECT_POSITIVE_INTEGER && p[6].via.u64 > 0) {
		fflush(stdout);
		mpctl_say(0, "monitor: %" PRIu64 " line%s lost (read too "
		    "slowly)", p[6].via.u64, p[6].via.u64 == 1 ? "" : "s");
	}
	if (p[0].type == MSGPACK_OBJECT_FLOAT64)
		printf("%.6f", p[0].via.f64);
	else
		print_bare(&p[0]);
	for (i = 1; i < 6; i++) {
		/* no params: no trailing space */
		if (i == 5 && p[i].type == MSGPACK_OBJECT_STR &&
		    p[i].via.str.size == 0)
			break;
		putchar(' ');
		if (i == 4 && p[i].type == MSGPACK_OBJECT_NIL)
			putchar('-');
		else
			print_bare(&p[i]);
	}
	putchar('\n');
}

/*
 * monitor: sys.monitor, then its lines until -t has passed (exit 0) or
 * the daemon closes the connection (exit 5). -t bounds the watching, so
 * the deadline that bounds other commands ends once the daemon has said
 * yes.
 */
int
clients_monitor(struct ctx *c)
{
	struct pollfd p;
	msgpack_object res;
	double left;
	int err, rc, r;

	if ((rc = mpctl_connect(c, false)) != 0)
		return rc;
	mpmgr_set_notify(c->h, monitor_line, c);
	if ((err = mpctl_call(c, &res)) != MPMGR_OK)
		return mpctl_fail(c, err);
	mpctl_deadline_disarm();
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (;;) {
		if ((r = mpmgr_poll_notify(c->h)) < 0) {
			if (r != MPMGR_EIO)
				return mpctl_fail(c, r);
			fflush(stdout);
			return mpctl_say(EXIT_EOF, "monitor: the daemon closed "
			    "the connection");
		}
		if ((left = mpctl_left(c)) == 0)
			return EXIT_TRUE;
		p.fd = mpmgr_fd(c->h);
		p.events = POLLIN;
		if (poll(&p, 1, left < 0 ? -1 : (int)(left * 1000) + 1) == -1 &&
		    errno != EINTR)
			return mpctl_say(EXIT_ERROR, "monitor: poll: %s",
			    strerror(errno));
	}
}
