/*
 * mpctl_clients.c: `mpctl clients`, the daemon's connections one a line,
 * as Redis's CLIENT LIST prints them.
 *
 * sys.clients answers a map a connection (docs/PROTOCOL.md); this prints
 * each as "key=value" fields in the map's order, numbers and strings as
 * they are, and the two that are not scalars in words: waits=METHOD(NAME,
 * SECSs) for a parked request (waits=- for none) and holds=TYPE(NAME:
 * WHAT),... for what the connection holds (holds=- for nothing). --json
 * prints the reply as one line of JSON instead, and so does a batch.
 */
#include <stdio.h>
#include <string.h>

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
