/*
 * unit_catalogue.c: the method catalogue (proto/mpmgr_methods.h) held
 * against what serves it and what documents it, both ways:
 *
 * - the daemon: every catalogue row is a method of dispatch's index with
 *   the row's name, arity, flags, params and summary, and the type its
 *   TYPE names (none for obj.* and sys.*); the index has nothing else.
 *   (This was unit_dispatch's test_table, which held the daemon's own
 *   tables against PROTOCOL.md before the catalogue.)
 * - docs/PROTOCOL.md: every method is the first cell of one table row,
 *   and every method in such a cell is in the catalogue ("a.b / a.c" is
 *   two). The row's params cell names min..max params (the notation is
 *   the one PROTOCOL.md states: words or {maps}, "x or y" one param,
 *   [...] optional, nested when one needs another), beginning with
 *   "name" exactly for the methods whose first param is an object.
 * - man/mpctl.1: every object type has its ".Ss TYPE" subsection, whose
 *   ".It Cm VERB" items are verbs of that type in the catalogue (or one of
 *   the CLI's own: exec, cat, write, start); every other method is named
 *   in the page as TYPE.VERB
 *   (the server verbs, and the methods mpctl does not offer); and every
 *   TYPE.VERB the page names is in the catalogue.
 *
 * The files are read from the source tree's top ($SRCDIR, default ".").
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "../daemon/dispatch.h"
#include "../daemon/mpmgrd.h"
#include "../daemon/registry.h"
#include "unit_util.h"

#define LINE_MAX_ 1024

static FILE *
src_open(const char *rel)
{
	const char *dir = getenv("SRCDIR");
	char path[4096];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir != NULL ? dir : ".", rel);
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	return f;
}

/* The catalogue row called name (a NUL-terminated string), or NULL. */
static const struct mpmgr_method_info *
row(const char *name)
{
	return catalogue_find(name, strlen(name));
}

/* TYPE of TYPE.VERB is a catalogue type, obj or sys. */
static bool
catalogue_type(const char *type, size_t len)
{
	for (size_t i = 0; i < MPMGR_MID_COUNT; i++) {
		if (strlen(catalogue_methods[i].type) == len &&
		    memcmp(catalogue_methods[i].type, type, len) == 0)
			return true;
	}
	return false;
}

/* --- the daemon ------------------------------------------------------- */

START_TEST(test_daemon)
{
	const struct mpmgr_method_info *r;
	const struct method *m;
	const struct obj_type *t;
	size_t i, pos = 0, n = 0;

	for (i = 0; i < MPMGR_MID_COUNT; i++) {
		r = &catalogue_methods[i];
		m = dispatch_lookup(r->name, strlen(r->name));
		ck_assert_msg(m != NULL, "%s is not served", r->name);
		ck_assert_int_eq(m->id, (int)i);
		ck_assert_str_eq(m->name, r->name);
		ck_assert_uint_eq(m->min_args, r->min_params);
		ck_assert_uint_eq(m->max_args, r->max_params);
		ck_assert_uint_eq(m->flags, r->flags);
		ck_assert_str_eq(m->params, r->params);
		ck_assert_str_eq(m->summary, r->summary);
		ck_assert_ptr_nonnull(m->handler);
		ck_assert_uint_le(m->min_args, m->max_args);
		ck_assert_uint_le(m->max_args, DISPATCH_MAX_ARGS);
		t = registry_type(r->type, strlen(r->type));
		if (strcmp(r->type, "obj") == 0 || strcmp(r->type, "sys") == 0)
			ck_assert_msg(m->type == NULL && t == NULL, "%s",
			    r->name);
		else {
			ck_assert_msg(t != NULL && m->type == t &&
			    (m->flags & MF_OBJ), "%s: not an object method of "
			    "the type %s", r->name, r->type);
			ck_assert_uint_ge(m->min_args, 1);
		}
	}
	while ((m = dispatch_next(&pos)) != NULL) {
		n++;
		ck_assert_msg(row(m->name) != NULL, "%s is served but not in "
		    "the catalogue", m->name);
		/* Found by its name, and only one method has it. */
		ck_assert_ptr_eq(dispatch_lookup(m->name, strlen(m->name)), m);
	}
	ck_assert_uint_eq(n, MPMGR_MID_COUNT);
	ck_assert_ptr_null(dispatch_lookup("dict.nope", 9));
	ck_assert_ptr_null(dispatch_lookup("dict.get", 7));
	ck_assert_ptr_null(dispatch_lookup("", 0));
}
END_TEST

/* --- docs/PROTOCOL.md --------------------------------------------------- */

struct span {
	const char *p;
	size_t n;
};

/* The end of the group opening at p ('[' or '{'), or NULL. */
static const char *
group_end(const char *p, const char *end)
{
	int depth = 0;

	for (; p < end; p++) {
		if (*p == '[' || *p == '{')
			depth++;
		else if ((*p == ']' || *p == '}') && --depth == 0)
			return p + 1;
	}
	return NULL;
}

/*
 * Count the params of s: *req at this level, *opt inside [...] groups.
 * false when the brackets do not match.
 */
static bool
params_count(struct span s, unsigned *req, unsigned *opt)
{
	const char *p = s.p, *end = s.p + s.n, *e;
	unsigned r, o, units = 0, ors = 0;

	*req = *opt = 0;
	while (p < end) {
		if (isspace((unsigned char)*p)) {
			p++;
			continue;
		}
		if (*p == '[') {
			if ((e = group_end(p, end)) == NULL ||
			    !params_count((struct span){ p + 1,
			    (size_t)(e - p - 2) }, &r, &o))
				return false;
			*opt += r + o;
			p = e;
			continue;
		}
		if (*p == '{') {
			if ((e = group_end(p, end)) == NULL)
				return false;
			p = e;
			units++;
			continue;
		}
		for (e = p; e < end && !isspace((unsigned char)*e) &&
		    *e != '[' && *e != '{'; e++)
			;
		if (e - p == 2 && memcmp(p, "or", 2) == 0)
			ors++;
		else
			units++;
		p = e;
	}
	*req += units - ors;
	return true;
}

/* A table row's first two cells; false for any other line. */
static bool
doc_row(char *line, struct span *names, struct span *params)
{
	char *a, *b, *c;

	if (strncmp(line, "| ", 2) != 0 || (a = strchr(line + 1, '|')) == NULL ||
	    (b = strchr(a + 1, '|')) == NULL)
		return false;
	names->p = line + 2;
	names->n = (size_t)(a - names->p);
	params->p = a + 1;
	params->n = (size_t)(b - params->p);
	c = strchr(b + 1, '|');
	return c != NULL;
}

static unsigned doc_seen[MPMGR_MID_COUNT];

START_TEST(test_protocol_md)
{
	char line[LINE_MAX_], name[64];
	struct span names, params, first;
	const struct mpmgr_method_info *r;
	unsigned req, opt;
	size_t i, n;
	FILE *f = src_open("docs/PROTOCOL.md");

	memset(doc_seen, 0, sizeof doc_seen);
	while (fgets(line, sizeof line, f) != NULL) {
		const char *p, *end;

		if (!doc_row(line, &names, &params))
			continue;
		for (p = names.p, end = names.p + names.n; p < end; p += n) {
			while (p < end && (*p == ' ' || *p == '/'))
				p++;
			n = strspn(p, "abcdefghijklmnopqrstuvwxyz_.");
			if (n == 0 || p + n > end)
				break;
			if (memchr(p, '.', n) == NULL || p[0] == '.' ||
			    p[n - 1] == '.')
				continue;
			snprintf(name, sizeof name, "%.*s", (int)n, p);
			r = row(name);
			ck_assert_msg(r != NULL, "docs/PROTOCOL.md documents %s, "
			    "which the catalogue does not have", name);
			doc_seen[r - catalogue_methods]++;
			ck_assert_msg(params_count(params, &req, &opt), "%s: "
			    "brackets of '%.*s'", name, (int)params.n,
			    params.p);
			ck_assert_msg(req == r->min_params &&
			    req + opt == r->max_params, "%s: docs/PROTOCOL.md "
			    "shows %u to %u params, the catalogue %u to %u",
			    name, req, req + opt, r->min_params, r->max_params);
			for (first.p = params.p; *first.p == ' '; first.p++)
				;
			ck_assert_msg((strncmp(first.p, "name ", 5) == 0 ||
			    strncmp(first.p, "name|", 5) == 0) ==
			    ((r->flags & MF_OBJ) != 0), "%s: docs/PROTOCOL.md "
			    "should begin its params with 'name' exactly when "
			    "its first param is an object", name);
		}
	}
	fclose(f);
	for (i = 0; i < MPMGR_MID_COUNT; i++)
		ck_assert_msg(doc_seen[i] == 1, "%s is in %u rows of "
		    "docs/PROTOCOL.md's tables, not 1", catalogue_methods[i].name,
		    doc_seen[i]);
}
END_TEST

/* The notation itself, on the cells the docs use. */
START_TEST(test_params_notation)
{
	static const struct {
		const char *cell;
		unsigned req, opt;
	} cases[] = {
		{ "", 0, 0 },
		{ " name key [default] ", 2, 1 },
		{ "name value [start [stop]]", 2, 2 },
		{ "name {typecode, length: int} or {typecode, items: array}",
		  2, 0 },
		{ "name [{lock: NAME} or {release_on_disconnect: bool = true}]",
		  1, 1 },
		{ "[type]", 0, 1 },
		{ "name items:array [timeout]", 2, 1 },
	};
	unsigned req, opt;
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		ck_assert(params_count((struct span){ cases[i].cell,
		    strlen(cases[i].cell) }, &req, &opt));
		ck_assert_msg(req == cases[i].req && opt == cases[i].opt,
		    "'%s': %u and %u", cases[i].cell, req, opt);
	}
	ck_assert(!params_count((struct span){ "name [x", 7 }, &req, &opt));
}
END_TEST

/* --- man/mpctl.1 -------------------------------------------------------- */

/* Verbs of mpctl that are no method's of type (client/mpctl_verbs.c). */
static bool
cli_verb(const char *type, const char *verb)
{
	static const char *const own[][2] = {
		{ NULL, "exec" }, { NULL, "cat" }, { NULL, "write" },
		{ NULL, "start" }, { "pool", "worker" }, { "pool", "wait" },
		{ "pool", "map" },
	};
	size_t i;

	for (i = 0; i < sizeof own / sizeof own[0]; i++) {
		if ((own[i][0] == NULL || strcmp(type, own[i][0]) == 0) &&
		    strcmp(verb, own[i][1]) == 0)
			return true;
	}
	return false;
}

static bool man_seen[MPMGR_MID_COUNT];

/* Mark every TYPE.VERB named on line; each must be a catalogue method. */
static void
man_mentions(const char *line)
{
	const struct mpmgr_method_info *r;
	const char *p = line, *dot;
	char name[64];
	size_t n;

	while (*p != '\0') {
		n = strspn(p, "abcdefghijklmnopqrstuvwxyz_.");
		if (n == 0) {
			p++;
			continue;
		}
		dot = memchr(p, '.', n);
		if (dot != NULL && dot != p && p[n - 1] != '.' &&
		    (p == line || !isalnum((unsigned char)p[-1])) &&
		    catalogue_type(p, (size_t)(dot - p))) {
			snprintf(name, sizeof name, "%.*s", (int)n, p);
			r = row(name);
			ck_assert_msg(r != NULL, "man/mpctl.1 names %s, which "
			    "the catalogue does not have", name);
			man_seen[r - catalogue_methods] = true;
		}
		p += n;
	}
}

START_TEST(test_mpctl_1)
{
	char line[LINE_MAX_], section[64] = "", name[128];
	bool sections[MPMGR_MID_COUNT] = { false };
	const struct mpmgr_method_info *r;
	char *p, *tok, *save;
	bool is_type;
	size_t i;
	FILE *f = src_open("man/mpctl.1");

	memset(man_seen, 0, sizeof man_seen);
	while (fgets(line, sizeof line, f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, ".Ss ", 4) == 0 || strncmp(line, ".Sh ", 4) == 0) {
			snprintf(section, sizeof section, "%.63s", line + 4);
			for (i = 0; i < MPMGR_MID_COUNT; i++) {
				if (strcmp(catalogue_methods[i].type, section) == 0)
					sections[i] = true;
			}
			continue;
		}
		man_mentions(line);
		is_type = strcmp(section, "obj") != 0 &&
		    strcmp(section, "sys") != 0 &&
		    catalogue_type(section, strlen(section));
		if (!is_type || strncmp(line, ".It Cm ", 7) != 0)
			continue;
		/* ".It Cm get Ar key", ".It Cm keys , values , items" */
		p = line + 7;
		for (tok = strtok_r(p, " ", &save); tok != NULL;
		    tok = strtok_r(NULL, " ", &save)) {
			if (!cli_verb(section, tok)) {
				snprintf(name, sizeof name, "%s.%s", section,
				    tok);
				r = row(name);
				ck_assert_msg(r != NULL, "man/mpctl.1 gives %s "
				    "the verb %s, which the catalogue does not "
				    "have", section, tok);
				man_seen[r - catalogue_methods] = true;
			}
			if ((tok = strtok_r(NULL, " ", &save)) == NULL ||
			    strcmp(tok, ",") != 0)
				break;
		}
	}
	fclose(f);
	for (i = 0; i < MPMGR_MID_COUNT; i++) {
		r = &catalogue_methods[i];
		if (strcmp(r->type, "obj") != 0 && strcmp(r->type, "sys") != 0)
			ck_assert_msg(sections[i], "man/mpctl.1 has no "
			    "subsection .Ss %s", r->type);
		ck_assert_msg(man_seen[i], "man/mpctl.1 neither gives %s a "
		    "verb nor names it", r->name);
	}
}
END_TEST

static Suite *
catalogue_suite(void)
{
	Suite *s = suite_create("catalogue");
	TCase *tc = tcase_create("catalogue");

	tcase_add_unchecked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_daemon);
	tcase_add_test(tc, test_protocol_md);
	tcase_add_test(tc, test_params_notation);
	tcase_add_test(tc, test_mpctl_1);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(catalogue_suite());
}
