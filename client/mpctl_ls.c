/*
 * mpctl_ls.c: `mpctl ls [TYPE]`, the registry as a table (or JSON), read a
 * page at a time.
 *
 * One obj.list reply holds every object, and a registry of 270,000
 * objects with long names does not fit in one reply (LIMIT past the
 * daemon's output limit). So ls walks obj.scan's cursor, LS_PAGE objects
 * a request, halving the count when a page is refused for its size, and
 * filters by TYPE itself (a type's alias, sem, as its name). A TYPE this
 * mpctl does not know is asked of obj.list instead, in one reply: that
 * lists the objects of a type newer than this mpctl, or the daemon does
 * not know it either (BADARG), a usage error with "did you mean".
 *
 * The rows are kept until the last page is in, since the columns' widths
 * depend on all of them; what prints is what one obj.list reply printed:
 * a header and one "NAME  TYPE  SIZE" line an object, padded by code
 * points, or with --json one array of [name, type, size]. An object
 * created or deleted during the walk may or may not be listed; the others
 * are listed once, in the registry's order. --names prints the names
 * alone, one a line; shell completion takes them through ls_names.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpctl.h"
#include "mpctl_json.h"

/*
 * Objects asked for per obj.scan: a page of 255-byte names is about 70
 * KB, far below the default output limit (64 MiB) and small enough that
 * halving reaches any limit a row fits in.
 */
#define LS_PAGE 256

/* The rows read so far. A row's name and type are bytes of text. */
struct ls {
	struct ls_row {
		size_t off;             /* the name, then the type */
		uint32_t namelen;
		uint32_t typelen;
		uint64_t size;
	} *rows;
	size_t nrows;
	size_t maxrows;
	char *text;
	size_t len;
	size_t cap;
	int wname;                      /* the columns, in code points */
	int wtype;
};

/* Display width of UTF-8 text, counting code points. */
static int
text_width(const char *p, size_t n)
{
	size_t i;
	int w = 0;

	for (i = 0; i < n; i++)
		w += ((unsigned char)p[i] & 0xc0) != 0x80;
	return w;
}

/* Append text; false when out of memory. */
static bool
ls_text(struct ls *ls, const char *p, size_t n)
{
	size_t cap;
	char *t;

	if (ls->cap - ls->len < n) {
		cap = ls->cap > 0 ? ls->cap : 65536;
		while (cap - ls->len < n)
			cap *= 2;
		if ((t = realloc(ls->text, cap)) == NULL)
			return false;
		ls->text = t;
		ls->cap = cap;
	}
	memcpy(ls->text + ls->len, p, n);
	ls->len += n;
	return true;
}

/*
 * Add the [name, type, size] rows of one reply (of type only, unless
 * NULL): 0, EXIT_ERROR after saying what was wrong with reply (rows is
 * part of it), or -1 when out of memory.
 */
static int
ls_add(struct ls *ls, const msgpack_object *rows, const char *type,
    const msgpack_object *reply)
{
	const msgpack_object *row, *cell;
	struct ls_row *r;
	size_t max;
	uint32_t i;

	if (rows->type != MSGPACK_OBJECT_ARRAY)
		return mpctl_unexpected(reply);
	for (i = 0; i < rows->via.array.size; i++) {
		row = &rows->via.array.ptr[i];
		if (row->type != MSGPACK_OBJECT_ARRAY ||
		    row->via.array.size != 3)
			return mpctl_unexpected(reply);
		cell = row->via.array.ptr;
		if (cell[0].type != MSGPACK_OBJECT_STR ||
		    cell[1].type != MSGPACK_OBJECT_STR ||
		    cell[2].type != MSGPACK_OBJECT_POSITIVE_INTEGER)
			return mpctl_unexpected(reply);
		if (type != NULL && !mpctl_is_str(&cell[1], type))
			continue;
		if (ls->nrows == ls->maxrows) {
			max = ls->maxrows > 0 ? ls->maxrows * 2 : 1024;
			if ((r = reallocarray(ls->rows, max, sizeof(*r))) ==
			    NULL)
				return -1;
			ls->rows = r;
			ls->maxrows = max;
		}
		r = &ls->rows[ls->nrows];
		r->off = ls->len;
		r->namelen = cell[0].via.str.size;
		r->typelen = cell[1].via.str.size;
		r->size = cell[2].via.u64;
		if (!ls_text(ls, cell[0].via.str.ptr, r->namelen) ||
		    !ls_text(ls, cell[1].via.str.ptr, r->typelen))
			return -1;
		ls->nrows++;
		if (text_width(cell[0].via.str.ptr, r->namelen) > ls->wname)
			ls->wname = text_width(cell[0].via.str.ptr, r->namelen);
		if (text_width(cell[1].via.str.ptr, r->typelen) > ls->wtype)
			ls->wtype = text_width(cell[1].via.str.ptr, r->typelen);
	}
	return 0;
}

/* obj.scan [cursor, count], not waiting for the reply. */
static int
ls_send_scan(struct ctx *c, uint64_t cursor, uint32_t count)
{
	msgpack_packer *pk;

	pk = mpmgr_request_begin(c->h, MPMGR_METHOD_NAME(obj, scan), 2);
	if (pk == NULL)
		return MPMGR_EINVAL;
	msgpack_pack_uint64(pk, cursor);
	msgpack_pack_uint32(pk, count);
	return mpmgr_request_end(c->h);
}

int
ls_page(struct ctx *c, uint64_t *cursor, uint32_t *count,
    msgpack_object *res, const msgpack_object **rows)
{
	const msgpack_object *page;
	int err;

	for (;;) {
		if ((err = ls_send_scan(c, *cursor, *count)) == MPMGR_OK)
			err = mpmgr_reply(c->h, res);
		/* A page too big for the output limit: a smaller one. */
		if (err == MPMGR_ELIMIT && *count > 1) {
			*count /= 2;
			continue;
		}
		if (err != MPMGR_OK)
			return mpctl_fail(c, err);
		if (res->type != MSGPACK_OBJECT_ARRAY ||
		    res->via.array.size != 2)
			return mpctl_unexpected(res);
		page = res->via.array.ptr;
		if (page[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
		    page[1].type != MSGPACK_OBJECT_ARRAY)
			return mpctl_unexpected(res);
		*cursor = page[0].via.u64;
		*rows = &page[1];
		return 0;
	}
}

/* Every page of obj.scan into ls: 0, or the exit status after saying. */
static int
ls_scan(struct ctx *c, struct ls *ls, const char *type)
{
	const msgpack_object *rows;
	msgpack_object res;
	uint64_t cursor = 0;
	uint32_t count = LS_PAGE;
	int rc;

	do {
		if ((rc = ls_page(c, &cursor, &count, &res, &rows)) != 0 ||
		    (rc = ls_add(ls, rows, type, &res)) != 0)
			return rc;
	} while (cursor != 0);
	return 0;
}

/*
 * obj.list [type] into ls, in one reply: for a type this mpctl does not
 * know (a newer daemon's). BADARG is the daemon not knowing it either: a
 * usage error, with the known types near it.
 */
static int
ls_list(struct ctx *c, struct ls *ls, const char *type)
{
	msgpack_object res;
	int err, rc;

	if ((rc = mpctl_pack_operands(c)) != 0)
		return rc;
	if ((err = mpctl_call(c, &res)) == MPMGR_OK)
		return ls_add(ls, &res, NULL, &res);
	if (err == MPMGR_EBADARG)
		return parse_unknown_type("ls", type);
	return mpctl_fail(c, err);
}

static void
ls_print_cell(const char *p, size_t n, int width)
{
	int w;

	fwrite(p, 1, n, stdout);
	for (w = text_width(p, n); w < width; w++)
		putc(' ', stdout);
}

static void
ls_print(const struct ctx *c, const struct ls *ls)
{
	const struct ls_row *r;
	msgpack_object name, type;
	size_t i;

	if (c->opt[OPT_JSON] != NULL)
		putc('[', stdout);
	else
		printf("%-*s  %-*s  SIZE\n", ls->wname, "NAME", ls->wtype,
		    "TYPE");
	for (i = 0; i < ls->nrows; i++) {
		r = &ls->rows[i];
		if (c->opt[OPT_JSON] == NULL) {
			ls_print_cell(ls->text + r->off, r->namelen, ls->wname);
			fputs("  ", stdout);
			ls_print_cell(ls->text + r->off + r->namelen,
			    r->typelen, ls->wtype);
			printf("  %" PRIu64 "\n", r->size);
			continue;
		}
		name = mpmgr_obj_strn(ls->text + r->off, r->namelen);
		type = mpmgr_obj_strn(ls->text + r->off + r->namelen,
		    r->typelen);
		fputs(i > 0 ? ",[" : "[", stdout);
		mpctl_json_print(stdout, &name);
		putc(',', stdout);
		mpctl_json_print(stdout, &type);
		printf(",%" PRIu64 "]", r->size);
	}
	if (c->opt[OPT_JSON] != NULL)
		fputs("]\n", stdout);
}

/* Names one a line, or with --json one JSON array of them. */
static void
ls_print_names(const struct ctx *c, const struct ls *ls)
{
	const struct ls_row *r;
	msgpack_object name;
	size_t i;

	if (c->opt[OPT_JSON] != NULL)
		putc('[', stdout);
	for (i = 0; i < ls->nrows; i++) {
		r = &ls->rows[i];
		if (c->opt[OPT_JSON] == NULL) {
			fwrite(ls->text + r->off, 1, r->namelen, stdout);
			putc('\n', stdout);
			continue;
		}
		name = mpmgr_obj_strn(ls->text + r->off, r->namelen);
		if (i > 0)
			putc(',', stdout);
		mpctl_json_print(stdout, &name);
	}
	if (c->opt[OPT_JSON] != NULL)
		fputs("]\n", stdout);
}

/*
 * The rows of type (NULL: all) into ls: walked in obj.scan pages when
 * mpctl knows the type (sem and semaphore alike), asked of obj.list
 * otherwise. 0, an exit status after saying why, or -1 out of memory.
 */
static int
ls_fill(struct ctx *c, struct ls *ls, const char *type)
{
	const struct type *t;
	int rc;

	if ((rc = mpctl_connect(c, false)) != 0)
		return rc;
	if (type == NULL)
		return ls_scan(c, ls, NULL);
	if ((t = parse_type(type)) != NULL)
		return ls_scan(c, ls, t->name);
	return ls_list(c, ls, type);
}

int
ls_run(struct ctx *c)
{
	struct ls ls = { .wname = 4, .wtype = 4 };
	int rc;

	rc = ls_fill(c, &ls, c->noperands > 0 ? c->operands[0] : NULL);
	if (rc == -1)
		rc = mpctl_say(EXIT_ERROR, "ENOMEM: out of memory listing "
		    "%zu objects", ls.nrows);
	if (rc == 0 && c->opt[OPT_QUIET] == NULL) {
		if (c->opt[OPT_NAMES] != NULL)
			ls_print_names(c, &ls);
		else
			ls_print(c, &ls);
	}
	free(ls.rows);
	free(ls.text);
	return rc;
}

int
ls_names(struct ctx *c, const char *type,
    void (*fn)(void *arg, const char *name, size_t len), void *arg)
{
	struct ls ls = { .wname = 4, .wtype = 4 };
	size_t i;
	int rc;

	rc = ls_fill(c, &ls, type);
	for (i = 0; rc == 0 && i < ls.nrows; i++)
		fn(arg, ls.text + ls.rows[i].off, ls.rows[i].namelen);
	free(ls.rows);
	free(ls.text);
	return rc;
}
