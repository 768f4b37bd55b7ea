/*
 * mpctl_dump.c: `mpctl dump [NAME...]` and `mpctl restore [--replace]
 * [FILE...]`: objects as JSON lines, for backups, inspection and moving
 * state between daemons or versions.
 *
 * dump prints one line per object, obj.dump's record {name, type,
 * explicit[, ephemeral], options, contents} in mpctl's exact JSON
 * (mpctl_json_print_exact: bin, ext, NaN, integers past int64 and maps
 * with keys that are not strings in one-key forms that read back as they
 * were). Without names it walks the registry a page of obj.scan at a
 * time, skipping what is deleted meanwhile; each object is dumped whole
 * at one moment, but not all of them at the same moment.
 *
 * restore reads such lines (from the files, or stdin; blank lines and
 * lines starting with '#' are skipped) and sends each as obj.restore,
 * pipelined DUMP_BATCH at a time. An object that exists is refused
 * (EXISTS) unless --replace; ephemeral objects are skipped (they would
 * belong to mpctl's own connection and go when it exits), and said so.
 * Every line is tried; the exit status is the worst (4 when any failed).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpctl.h"
#include "mpctl_json.h"

/* Requests in flight at once, and names asked per obj.scan. */
#define DUMP_BATCH 64
#define DUMP_PAGE 256

/* The connection is gone (a client-side error broke it): stop. */
static bool
dump_broken(const struct ctx *c)
{
	return mpmgr_fd(c->h) < 0;
}

/* The names of a batch, copied out of the reply they came in. */
struct names {
	char name[DUMP_PAGE][256];
	size_t n;
};

/* obj.dump of each name, pipelined, then each record printed. NOOBJ is
 * an error for a name given, nothing for one the scan found. */
static int
dump_batch(struct ctx *c, const struct names *nm, bool given)
{
	msgpack_packer *pk;
	msgpack_object res;
	size_t i, sent = 0;
	int err, rc = EXIT_TRUE, r;

	for (i = 0; i < nm->n; i++) {
		pk = mpmgr_request_begin(c->h, MPMGR_METHOD_NAME(obj, dump), 1);
		if (pk == NULL)
			return mpctl_fail(c, MPMGR_EINVAL);
		msgpack_pack_str_with_body(pk, nm->name[i],
		    strlen(nm->name[i]));
		if ((err = mpmgr_request_end(c->h)) != MPMGR_OK)
			return mpctl_fail(c, err);
		sent++;
	}
	for (i = 0; i < sent; i++) {
		err = mpmgr_reply(c->h, &res);
		if (err == MPMGR_ENOOBJ && !given)
			continue;
		if (err != MPMGR_OK) {
			r = mpctl_fail(c, err);
			rc = r > rc ? r : rc;
			/* A broken connection has no more replies. */
			if (err <= MPMGR_ECONNECT)
				return rc;
			continue;
		}
		if (res.type != MSGPACK_OBJECT_MAP)
			return mpctl_unexpected(&res);
		mpctl_json_print_exact(stdout, &res);
		putc('\n', stdout);
	}
	return rc;
}

/* Every object, a page of obj.scan at a time. */
static int
dump_all(struct ctx *c, struct names *nm)
{
	const msgpack_object *rows, *row, *name;
	msgpack_object res;
	uint64_t cursor = 0;
	uint32_t i, count = DUMP_PAGE;
	int rc, worst = EXIT_TRUE;

	do {
		if ((rc = ls_page(c, &cursor, &count, &res, &rows)) != 0)
			return rc;
		nm->n = 0;
		for (i = 0; i < rows->via.array.size; i++) {
			row = &rows->via.array.ptr[i];
			if (row->type != MSGPACK_OBJECT_ARRAY ||
			    row->via.array.size < 1)
				return mpctl_unexpected(&res);
			name = &row->via.array.ptr[0];
			if (name->type != MSGPACK_OBJECT_STR ||
			    name->via.str.size > 255)
				return mpctl_unexpected(&res);
			memcpy(nm->name[nm->n], name->via.str.ptr,
			    name->via.str.size);
			nm->name[nm->n++][name->via.str.size] = '\0';
		}
		if ((rc = dump_batch(c, nm, false)) > worst)
			worst = rc;
	} while (!dump_broken(c) && cursor != 0);
	return worst;
}

int
dump_run(struct ctx *c)
{
	struct names *nm;
	int i, rc, worst = EXIT_TRUE;

	for (i = 0; i < c->noperands; i++) {
		if (c->operands[i][0] == '\0' || strlen(c->operands[i]) > 255)
			return mpctl_say(EXIT_USAGE, "dump: '%s' is not an "
			    "object's name (1 to 255 bytes)", c->operands[i]);
	}
	if ((rc = mpctl_connect(c, false)) != 0)
		return rc;
	if ((nm = malloc(sizeof(*nm))) == NULL)
		return mpctl_say(EXIT_ERROR, "ENOMEM: out of memory");
	if (c->noperands == 0)
		worst = dump_all(c, nm);
	for (i = 0; i < c->noperands && !dump_broken(c); ) {
		for (nm->n = 0; nm->n < DUMP_BATCH && i < c->noperands; i++)
			snprintf(nm->name[nm->n++], sizeof(nm->name[0]), "%s",
			    c->operands[i]);
		if ((rc = dump_batch(c, nm, true)) > worst)
			worst = rc;
	}
	free(nm);
	return worst;
}

/* --- restore ----------------------------------------------------------- */

/* What restore remembers of a line in flight: where it came from. */
struct pending {
	char where[300];        /* "FILE:LINE 'name'" */
};

struct restore {
	struct ctx *c;
	struct pending p[DUMP_BATCH];
	size_t n;               /* in flight */
	size_t restored, skipped;
	int worst;
};

static void
restore_worse(struct restore *rs, int rc)
{
	if (rc > rs->worst)
		rs->worst = rc;
}

/* Read the replies of what is in flight. */
static void
restore_drain(struct restore *rs)
{
	struct ctx *c = rs->c;
	size_t i;
	int err;

	for (i = 0; i < rs->n; i++) {
		err = mpmgr_reply(c->h, NULL);
		if (err == MPMGR_OK) {
			rs->restored++;
			continue;
		}
		mpctl_say(0, "restore: %s: %s: %s", rs->p[i].where,
		    mpmgr_errcode(c->h)[0] ? mpmgr_errcode(c->h) :
		    mpmgr_strerror(err), mpmgr_errmsg(c->h));
		restore_worse(rs, mpctl_status(err));
		if (err <= MPMGR_ECONNECT)
			break;
	}
	rs->n = 0;
}

/* The str under key in map m, or NULL. */
static const msgpack_object *
restore_str(const msgpack_object *m, const char *key)
{
	const msgpack_object *v = mpctl_map_get(m, key);

	return v != NULL && v->type == MSGPACK_OBJECT_STR ? v : NULL;
}

/* One line: obj.restore [name, record, replace], not waiting. */
static void
restore_line(struct restore *rs, const char *file, size_t lineno,
    const char *line, size_t len)
{
	struct ctx *c = rs->c;
	msgpack_sbuffer sb;
	msgpack_packer tmp, *pk;
	msgpack_unpacked up;
	const msgpack_object *name;
	char err[300];
	int e;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&tmp, &sb, msgpack_sbuffer_write);
	msgpack_unpacked_init(&up);
	if (mpctl_json_pack_json(&tmp, line, len, err, sizeof(err)) != 0) {
		mpctl_say(0, "restore: %s:%zu: %s", file, lineno, err);
		restore_worse(rs, EXIT_USAGE);
		goto done;
	}
	if (msgpack_unpack_next(&up, sb.data, sb.size, NULL) !=
	    MSGPACK_UNPACK_SUCCESS || up.data.type != MSGPACK_OBJECT_MAP ||
	    (name = restore_str(&up.data, "name")) == NULL) {
		mpctl_say(0, "restore: %s:%zu: not a record of mpctl dump (a "
		    "JSON object with a \"name\")", file, lineno);
		restore_worse(rs, EXIT_USAGE);
		goto done;
	}
	if (mpctl_is_bool(mpctl_map_get(&up.data, "ephemeral"), true)) {
		rs->skipped++;
		goto done;
	}
	if (rs->n == DUMP_BATCH)
		restore_drain(rs);
	if (dump_broken(c))
		goto done;
	snprintf(rs->p[rs->n].where, sizeof(rs->p[0].where), "%s:%zu '%.*s'",
	    file, lineno, (int)name->via.str.size, name->via.str.ptr);
	pk = mpmgr_request_begin(c->h, MPMGR_METHOD_NAME(obj, restore), 3);
	if (pk == NULL) {
		restore_worse(rs, mpctl_fail(c, MPMGR_EINVAL));
		goto done;
	}
	msgpack_pack_str_with_body(pk, name->via.str.ptr, name->via.str.size);
	pk->callback(pk->data, sb.data, sb.size);
	if (c->opt[OPT_REPLACE] != NULL)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
	if ((e = mpmgr_request_end(c->h)) != MPMGR_OK) {
		mpctl_say(0, "restore: %s: %s: %s", rs->p[rs->n].where,
		    mpmgr_strerror(e), mpmgr_errmsg(c->h));
		restore_worse(rs, mpctl_status(e));
		goto done;
	}
	rs->n++;
done:
	msgpack_unpacked_destroy(&up);
	msgpack_sbuffer_destroy(&sb);
}

/* Every line of f. */
static void
restore_file(struct restore *rs, FILE *f, const char *file)
{
	char *line = NULL;
	size_t cap = 0, lineno = 0, len;
	ssize_t n;

	while ((n = getline(&line, &cap, f)) != -1 && !dump_broken(rs->c)) {
		lineno++;
		len = (size_t)n;
		while (len > 0 && (line[len - 1] == '\n' ||
		    line[len - 1] == '\r'))
			len--;
		if (len == 0 || line[0] == '#')
			continue;
		restore_line(rs, file, lineno, line, len);
	}
	if (ferror(f)) {
		mpctl_say(0, "restore: %s: %s", file, strerror(errno));
		restore_worse(rs, EXIT_ERROR);
	}
	free(line);
}

int
restore_run(struct ctx *c)
{
	struct restore rs = { .c = c };
	FILE *f;
	int i, rc;

	if ((rc = mpctl_connect(c, false)) != 0)
		return rc;
	if (c->noperands == 0)
		restore_file(&rs, stdin, "stdin");
	for (i = 0; i < c->noperands && !dump_broken(c); i++) {
		if (strcmp(c->operands[i], "-") == 0) {
			restore_file(&rs, stdin, "stdin");
			continue;
		}
		if ((f = fopen(c->operands[i], "r")) == NULL) {
			mpctl_say(0, "restore: %s: %s", c->operands[i],
			    strerror(errno));
			restore_worse(&rs, EXIT_ERROR);
			continue;
		}
		restore_file(&rs, f, c->operands[i]);
		fclose(f);
	}
	restore_drain(&rs);
	if (rs.skipped > 0)
		mpctl_say(0, "restore: skipped %zu ephemeral object%s (each "
		    "belongs to a connection of the daemon it was dumped "
		    "from)", rs.skipped, rs.skipped == 1 ? "" : "s");
	return rs.worst;
}
