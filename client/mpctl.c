/*
 * mpctl.c: the command-line client of mpmgrd.
 *
 *   mpctl [global options] TYPE VERB [-n NAME] [options] [OPERANDS...]
 *   mpctl [global options] SERVER-VERB [options] [OPERANDS...]
 *
 * One static table of verbs drives parsing, --help and "did you mean": a
 * row names the wire method, the operand counts, the options the verb
 * takes, how its result prints and, when the generic "send the operands,
 * print the result" does not fit, a runner of its own. A new verb is a new
 * row (and a runner if it needs one).
 *
 * Promises: the key is never taken from argv; every message on stderr
 * starts with "mpctl:"; the exit status is 0 for success or true, 1 for a
 * predicate that answered false or the errors NOKEY, EMPTY, FULL, TIMEOUT,
 * 2 for a usage error, 3 when the daemon cannot be reached or the
 * handshake fails, 4 for any other error. Operand and output conversions
 * live in mpctl_json.c.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "mpctl_json.h"
#include "mpmgr.h"

enum exit_status {
	EXIT_TRUE = 0,
	EXIT_FALSE = 1,    /* a predicate said no; NOKEY EMPTY FULL TIMEOUT */
	EXIT_USAGE = 2,
	EXIT_CONNECT = 3,  /* cannot connect or authenticate */
	EXIT_ERROR = 4     /* any other error */
};

struct opt {
	char short_name;        /* 0: long form only */
	const char *long_name;
	const char *arg;        /* its argument's name; NULL for a flag */
	const char *help;
};

/* Options between VERB and the first operand, as allowed per verb. */
enum verb_opt { OPT_NAME, OPT_STRING, OPT_JSON, OPT_HELP, OPT_COUNT };

static const struct opt verb_opts[OPT_COUNT] = {
	[OPT_NAME] = { 'n', "name", "NAME",
	    "the object's name (default: the type's name)" },
	[OPT_STRING] = { 0, "string", NULL,
	    "keys and values are strings, never JSON" },
	[OPT_JSON] = { 0, "json", NULL,
	    "print results as JSON, a bare string too" },
	[OPT_HELP] = { 'h', "help", NULL, "this help" },
};

#define O(id) (1u << (id))
#define OPTS_OBJECT (O(OPT_NAME) | O(OPT_STRING) | O(OPT_JSON) | O(OPT_HELP))
#define OPTS_SERVER (O(OPT_JSON) | O(OPT_HELP))

/* Options before TYPE. */
enum global_opt { GOPT_SOCKET, GOPT_AUTHKEY, GOPT_HELP, GOPT_VERSION,
	GOPT_COUNT };

static const struct opt global_opts[GOPT_COUNT] = {
	[GOPT_SOCKET] = { 's', "socket", "PATH", "the daemon's socket" },
	[GOPT_AUTHKEY] = { 'k', "authkey-file", "FILE",
	    "the authkey file (never the key itself)" },
	[GOPT_HELP] = { 'h', "help", NULL,
	    "this help; mpctl TYPE [VERB] --help for more" },
	[GOPT_VERSION] = { 0, "version", NULL, "print mpctl's version" },
};

/* How a verb's result prints and what its exit status says. */
#define F_NIL 0x01       /* the result is always nil: print nothing */
#define F_PREDICATE 0x02 /* a bool: print it; false exits 1 */
#define F_CAS 0x04       /* [ok, current]: print it; not ok exits 1 */
#define F_NAMES 0x08     /* operands are object or type names: strings */

struct ctx;

struct verb {
	const char *type;       /* canonical type; NULL for a server verb */
	const char *name;
	const char *alias;      /* another spelling, or NULL */
	const char *method;     /* on the wire */
	int min, max;           /* operands; max < 0: no limit */
	unsigned numeric;       /* bit i: operand i is JSON even with --string */
	unsigned flags;         /* F_* */
	unsigned opts;          /* O(OPT_*) it accepts */
	const char *usage;      /* its operands, e.g. "KEY [DEFAULT]" */
	const char *summary;
	int (*run)(struct ctx *); /* NULL: run_call */
};

struct type {
	const char *name;
	const char *alias;
	const char *summary;
};

/* Everything one invocation knows, from parsing to the reply. */
struct ctx {
	const char *socket_path;        /* NULL: libmpmgr's default */
	const char *authkey_file;       /* NULL: libmpmgr's default */
	const struct verb *verb;
	const char *name;               /* the object, for typed verbs */
	const char *opt[OPT_COUNT];     /* argument, "" for a flag, NULL unset */
	char **operands;
	int noperands;
	msgpack_sbuffer args;           /* the params after the name, packed */
	uint32_t nargs;
	mpmgr *h;
};

static int run_update(struct ctx *);
static int run_scan(struct ctx *);
static int run_value_create(struct ctx *);
static int run_ls(struct ctx *);
static int run_rm(struct ctx *);
static int run_stats(struct ctx *);

static const struct type types[] = {
	{ "dict", NULL, "an insertion-ordered dictionary of JSON-like values" },
	{ "value", NULL, "one value: a counter, a flag, a setting" },
};

static const struct verb verbs[] = {
	/* dict */
	{ .type = "dict", .name = "get", .method = "dict.get", .min = 1,
	  .max = 2, .opts = OPTS_OBJECT, .usage = "KEY [DEFAULT]",
	  .summary = "its value, else DEFAULT, else NOKEY (exit 1)" },
	{ .type = "dict", .name = "set", .method = "dict.set", .min = 2,
	  .max = 2, .flags = F_NIL, .opts = OPTS_OBJECT, .usage = "KEY VALUE",
	  .summary = "store VALUE under KEY" },
	{ .type = "dict", .name = "setdefault", .method = "dict.setdefault",
	  .min = 1, .max = 2, .opts = OPTS_OBJECT, .usage = "KEY [DEFAULT]",
	  .summary = "store DEFAULT (null) if missing; print the value" },
	{ .type = "dict", .name = "pop", .method = "dict.pop", .min = 1,
	  .max = 2, .opts = OPTS_OBJECT, .usage = "KEY [DEFAULT]",
	  .summary = "remove KEY, print its value (else DEFAULT or NOKEY)" },
	{ .type = "dict", .name = "popitem", .method = "dict.popitem",
	  .opts = OPTS_OBJECT, .usage = "",
	  .summary = "remove the newest entry, print [key, value]" },
	{ .type = "dict", .name = "delete", .alias = "del",
	  .method = "dict.delete", .min = 1, .max = 1, .flags = F_NIL,
	  .opts = OPTS_OBJECT, .usage = "KEY",
	  .summary = "remove KEY; NOKEY (exit 1) if missing" },
	{ .type = "dict", .name = "contains", .alias = "has",
	  .method = "dict.contains", .min = 1, .max = 1, .flags = F_PREDICATE,
	  .opts = OPTS_OBJECT, .usage = "KEY",
	  .summary = "true (exit 0) if KEY is there, else false (exit 1)" },
	{ .type = "dict", .name = "len", .method = "dict.len",
	  .opts = OPTS_OBJECT, .usage = "", .summary = "the number of entries" },
	{ .type = "dict", .name = "keys", .method = "dict.keys",
	  .opts = OPTS_OBJECT, .usage = "",
	  .summary = "the keys, in insertion order" },
	{ .type = "dict", .name = "values", .method = "dict.values",
	  .opts = OPTS_OBJECT, .usage = "",
	  .summary = "the values, in insertion order" },
	{ .type = "dict", .name = "items", .method = "dict.items",
	  .opts = OPTS_OBJECT, .usage = "",
	  .summary = "the [key, value] pairs, in insertion order" },
	{ .type = "dict", .name = "update", .method = "dict.update", .min = 1,
	  .max = -1, .flags = F_NIL, .opts = OPTS_OBJECT,
	  .usage = "{MAPPING | KEY VALUE...}",
	  .summary = "store a JSON object, [[key, value]...] or pairs",
	  .run = run_update },
	{ .type = "dict", .name = "clear", .method = "dict.clear",
	  .flags = F_NIL, .opts = OPTS_OBJECT, .usage = "",
	  .summary = "remove every entry" },
	{ .type = "dict", .name = "copy", .method = "dict.copy",
	  .opts = OPTS_OBJECT, .usage = "", .summary = "the whole dict as JSON" },
	{ .type = "dict", .name = "scan", .method = "dict.scan", .max = 2,
	  .numeric = 3, .opts = OPTS_OBJECT, .usage = "[CURSOR [COUNT]]",
	  .summary = "[next, [[key, value]...]]; 0 starts, next 0 ends",
	  .run = run_scan },
	{ .type = "dict", .name = "incr", .method = "dict.incr", .min = 1,
	  .max = 2, .numeric = 2, .opts = OPTS_OBJECT, .usage = "KEY [DELTA]",
	  .summary = "add DELTA (1; missing is 0), print the new value" },
	{ .type = "dict", .name = "cas", .method = "dict.cas", .min = 3,
	  .max = 3, .flags = F_CAS, .opts = OPTS_OBJECT,
	  .usage = "KEY EXPECTED NEW",
	  .summary = "set NEW if KEY holds EXPECTED (null: missing); "
	  "print [ok, current]; exit 1 if not ok" },
	{ .type = "dict", .name = "create", .method = "dict.create",
	  .flags = F_NIL, .opts = OPTS_OBJECT, .usage = "",
	  .summary = "create explicitly: it stays, even empty, until rm" },

	/* value */
	{ .type = "value", .name = "get", .method = "value.get",
	  .opts = OPTS_OBJECT, .usage = "",
	  .summary = "the value (null if never set)" },
	{ .type = "value", .name = "set", .method = "value.set", .min = 1,
	  .max = 1, .flags = F_NIL, .opts = OPTS_OBJECT, .usage = "VALUE",
	  .summary = "store VALUE" },
	{ .type = "value", .name = "incr", .method = "value.incr", .max = 1,
	  .numeric = 1, .opts = OPTS_OBJECT, .usage = "[DELTA]",
	  .summary = "add DELTA (1; null counts as 0), print the new value" },
	{ .type = "value", .name = "cas", .method = "value.cas", .min = 2,
	  .max = 2, .flags = F_CAS, .opts = OPTS_OBJECT,
	  .usage = "EXPECTED NEW",
	  .summary = "set NEW if it holds EXPECTED; print [ok, current]; "
	  "exit 1 if not ok" },
	{ .type = "value", .name = "create", .method = "value.create",
	  .max = 1, .flags = F_NIL, .opts = OPTS_OBJECT, .usage = "[VALUE]",
	  .summary = "create explicitly, holding VALUE; it stays until rm",
	  .run = run_value_create },

	/* server-wide */
	{ .name = "ping", .method = "sys.ping", .opts = OPTS_SERVER,
	  .usage = "", .summary = "print pong if the daemon answers" },
	{ .name = "ls", .method = "obj.list", .max = 1, .flags = F_NAMES,
	  .opts = OPTS_SERVER, .usage = "[TYPE]",
	  .summary = "the objects (of TYPE): NAME TYPE SIZE", .run = run_ls },
	{ .name = "info", .method = "obj.info", .min = 1, .max = 1,
	  .flags = F_NAMES, .opts = OPTS_SERVER, .usage = "NAME",
	  .summary = "one object's name, type, size, memory, waiters (JSON)" },
	{ .name = "rm", .method = "obj.delete", .min = 1, .max = -1,
	  .flags = F_NAMES | F_NIL, .opts = OPTS_SERVER, .usage = "NAME...",
	  .summary = "delete objects; their waiters get DELETED",
	  .run = run_rm },
	{ .name = "stats", .method = "sys.stats", .opts = OPTS_SERVER,
	  .usage = "", .summary = "the daemon's counters, one \"key: value\" "
	  "a line", .run = run_stats },
	{ .name = "shutdown", .method = "sys.shutdown", .flags = F_NIL,
	  .opts = OPTS_SERVER, .usage = "",
	  .summary = "stop the daemon (its owner or root only)" },
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char paths[] =
"Socket: -s, else $MPMGR_SOCKET, else /run/mpmgr/mpmgr.sock for root,\n"
"$XDG_RUNTIME_DIR/mpmgr/mpmgr.sock for a user, /tmp/mpmgr-UID/mpmgr.sock\n"
"without XDG_RUNTIME_DIR. Authkey file: -k, else $MPMGR_AUTHKEY_FILE, else\n"
"$CREDENTIALS_DIRECTORY/authkey, /etc/mpmgr/authkey with root's default\n"
"socket, else \"authkey\" beside the socket.\n";

static const char notes[] =
"Operands: a key or value is JSON when it parses as JSON (5, -1.5, true,\n"
"null, \"5\", [1,2], {\"a\":1}), else the string as typed; --string makes\n"
"them strings. A number-like token (-10, -.5, -1e3) is always an operand,\n"
"never an option. Integers are int64, or uint64 up to 2^64-1.\n"
"\n"
"Output: results print as one line of compact JSON, except that a bare\n"
"string prints as itself (--json prints it quoted). Binary values print as\n"
"{\"$bin\":\"BASE64\"} and msgpack ext values as {\"$ext\":[TYPE,\"BASE64\"]};\n"
"both forms are read back as binary and ext. A map key that is not a\n"
"string prints as its JSON text in a string. Floats print in the shortest\n"
"form that reads back the same; NaN and Infinity as those words.\n"
"\n"
"Exit status: 0 success or true; 1 a predicate answered false (contains,\n"
"cas not done) or the error NOKEY, EMPTY, FULL or TIMEOUT; 2 usage error;\n"
"3 cannot connect or authenticate; 4 any other error. Errors go to stderr\n"
"as \"mpctl: CODE: message\".\n";

static int say(int status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Print "mpctl: ..." on stderr and return status. */
static int say(int status, const char *fmt, ...)
{
	va_list ap;

	fputs("mpctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	putc('\n', stderr);
	return status;
}

/* Verb names match with '_' and '-' alike. */
static bool same_word(const char *a, const char *b)
{
	for (; *a != '\0' && *b != '\0'; a++, b++) {
		char x = *a == '-' ? '_' : *a;
		char y = *b == '-' ? '_' : *b;
		if (x != y)
			return false;
	}
	return *a == *b;
}

static const struct type *find_type(const char *word)
{
	for (size_t i = 0; i < NELEM(types); i++) {
		if (strcmp(word, types[i].name) == 0 ||
		    (types[i].alias && strcmp(word, types[i].alias) == 0))
			return &types[i];
	}
	return NULL;
}

/* type NULL: the server verbs. */
static const struct verb *find_verb(const char *type, const char *word)
{
	for (size_t i = 0; i < NELEM(verbs); i++) {
		const struct verb *v = &verbs[i];
		if ((type == NULL) != (v->type == NULL) ||
		    (type && strcmp(type, v->type) != 0))
			continue;
		if (same_word(word, v->name) ||
		    (v->alias && same_word(word, v->alias)))
			return v;
	}
	return NULL;
}

/* Optimal string alignment distance, '-' and '_' alike; big if too long. */
static size_t distance(const char *a, const char *b)
{
	enum { MAXW = 32 };
	size_t d[MAXW + 1][MAXW + 1];
	size_t n = strlen(a), m = strlen(b);

	if (n > MAXW || m > MAXW)
		return SIZE_MAX;
	for (size_t i = 0; i <= n; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= m; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= n; i++) {
		for (size_t j = 1; j <= m; j++) {
			char x = a[i - 1] == '-' ? '_' : a[i - 1];
			char y = b[j - 1] == '-' ? '_' : b[j - 1];
			size_t best = d[i - 1][j - 1] + (x != y);
			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	}
	return d[n][m];
}

/* Collects the closest candidates to one mistyped word. */
struct guess {
	const char *word;
	size_t best;
	const char *found[4];
	size_t nfound;
};

static void guess_offer(struct guess *g, const char *cand)
{
	size_t len = strlen(g->word);
	size_t d = distance(g->word, cand);

	/* A prefix of two letters or more ("con" for contains) is close. */
	if (len >= 2 && strncmp(g->word, cand, len) == 0)
		d = 1;
	if (d > (strlen(cand) <= 3 ? 1u : 2u) || d > g->best)
		return;
	if (d < g->best) {
		g->best = d;
		g->nfound = 0;
	}
	if (g->nfound < NELEM(g->found))
		g->found[g->nfound++] = cand;
}

/* "; did you mean 'a' or 'b'?" into buf (each with prefix), or "". */
static const char *guess_text(const struct guess *g, const char *prefix,
    char *buf, size_t len)
{
	size_t off;

	buf[0] = '\0';
	if (g->nfound == 0)
		return buf;
	off = (size_t)snprintf(buf, len, "; did you mean");
	for (size_t i = 0; i < g->nfound && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s '%s%s'",
		    i == 0 ? "" : i + 1 == g->nfound ? " or" : ",", prefix,
		    g->found[i]);
	if (off < len)
		snprintf(buf + off, len - off, "?");
	return buf;
}

/* "-n NAME" or "--string", for help. */
static void format_opt(const struct opt *o, char *buf, size_t len)
{
	if (o->short_name)
		snprintf(buf, len, "-%c, --%s%s%s", o->short_name, o->long_name,
		    o->arg ? " " : "", o->arg ? o->arg : "");
	else
		snprintf(buf, len, "    --%s%s%s", o->long_name,
		    o->arg ? " " : "", o->arg ? o->arg : "");
}

static void help_opts(FILE *f, const struct opt *tab, size_t n,
    unsigned allowed)
{
	char buf[64];

	for (size_t i = 0; i < n; i++) {
		if (!(allowed & O(i)))
			continue;
		format_opt(&tab[i], buf, sizeof buf);
		fprintf(f, "  %-24s %s\n", buf, tab[i].help);
	}
}

/* "verb USAGE" left column of a verb list. */
static void verb_left(const struct verb *v, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s", v->name, v->usage[0] ? " " : "",
	    v->usage);
}

static void help_verb_list(FILE *f, const char *type)
{
	char left[80];
	int width = 0;

	for (size_t i = 0; i < NELEM(verbs); i++) {
		if ((type == NULL) != (verbs[i].type == NULL) ||
		    (type && strcmp(type, verbs[i].type) != 0))
			continue;
		verb_left(&verbs[i], left, sizeof left);
		if ((int)strlen(left) > width)
			width = (int)strlen(left);
	}
	if (width > 30)
		width = 30;
	for (size_t i = 0; i < NELEM(verbs); i++) {
		const struct verb *v = &verbs[i];
		if ((type == NULL) != (v->type == NULL) ||
		    (type && strcmp(type, v->type) != 0))
			continue;
		verb_left(v, left, sizeof left);
		if ((int)strlen(left) > width)
			fprintf(f, "  %s\n  %-*s  ", left, width, "");
		else
			fprintf(f, "  %-*s  ", width, left);
		fputs(v->summary, f);
		if (v->alias)
			fprintf(f, " (also: %s)", v->alias);
		putc('\n', f);
	}
}

static void help_top(FILE *f)
{
	int width = 0;

	fputs("usage: mpctl [-s PATH] [-k FILE] TYPE VERB [-n NAME] [OPTIONS] "
	    "[OPERANDS...]\n"
	    "       mpctl [-s PATH] [-k FILE] SERVER-VERB [OPTIONS] "
	    "[OPERANDS...]\n\n"
	    "The shared objects of mpmgrd, from the shell.\n\n"
	    "Global options:\n", f);
	help_opts(f, global_opts, GOPT_COUNT, ~0u);
	fputs("\nTypes (mpctl TYPE --help lists their verbs):\n", f);
	for (size_t i = 0; i < NELEM(types); i++) {
		if ((int)strlen(types[i].name) > width)
			width = (int)strlen(types[i].name);
	}
	for (size_t i = 0; i < NELEM(types); i++) {
		fprintf(f, "  %-*s  %s", width, types[i].name, types[i].summary);
		if (types[i].alias)
			fprintf(f, " (also: %s)", types[i].alias);
		putc('\n', f);
	}
	fputs("\nServer verbs:\n", f);
	help_verb_list(f, NULL);
	fputs("\nVerb options (between VERB and the first operand; -- ends "
	    "them):\n", f);
	help_opts(f, verb_opts, OPT_COUNT, ~0u);
	fprintf(f, "\n%s\n%s", paths, notes);
}

static void help_type(FILE *f, const struct type *t)
{
	fprintf(f, "usage: mpctl %s VERB [-n NAME] [OPTIONS] [OPERANDS...]\n\n"
	    "%s: %s.\nNAME defaults to \"%s\".\n\nVerbs:\n", t->name, t->name,
	    t->summary, t->name);
	help_verb_list(f, t->name);
	fputs("\nOptions (between VERB and the first operand; -- ends them):\n",
	    f);
	help_opts(f, verb_opts, OPT_COUNT, OPTS_OBJECT);
	fputs("\nmpctl --help tells how operands are read and results printed,"
	    "\nand what the exit status means.\n", f);
}

static void help_verb(FILE *f, const struct verb *v)
{
	fprintf(f, "usage: mpctl %s%s%s", v->type ? v->type : "",
	    v->type ? " " : "", v->name);
	for (size_t i = 0; i < OPT_COUNT; i++) {
		const struct opt *o = &verb_opts[i];
		if (!(v->opts & O(i)) || i == OPT_HELP)
			continue;
		if (o->short_name)
			fprintf(f, " [-%c%s%s]", o->short_name, o->arg ? " " : "",
			    o->arg ? o->arg : "");
		else
			fprintf(f, " [--%s%s%s]", o->long_name, o->arg ? " " : "",
			    o->arg ? o->arg : "");
	}
	fprintf(f, "%s%s\n\n%s.\n", v->usage[0] ? " " : "", v->usage,
	    v->summary);
	if (v->alias)
		fprintf(f, "Also spelled: %s.\n", v->alias);
	fprintf(f, "Method: %s.\n\nOptions:\n", v->method);
	help_opts(f, verb_opts, OPT_COUNT, v->opts);
	fputs("\nmpctl --help tells how operands are read and results printed,"
	    "\nand what the exit status means.\n", f);
}

static int find_opt(const struct opt *tab, size_t n, unsigned allowed,
    const char *name, size_t len, char short_name)
{
	for (size_t i = 0; i < n; i++) {
		if (!(allowed & O(i)))
			continue;
		if (short_name ? tab[i].short_name == short_name :
		    strlen(tab[i].long_name) == len &&
		    strncmp(tab[i].long_name, name, len) == 0)
			return (int)i;
	}
	return -1;
}

static int unknown_long(const char *pre, const char *see,
    const struct opt *tab, size_t n, unsigned allowed, const char *token)
{
	char name[40], hint[160];
	struct guess g = { .word = name, .best = SIZE_MAX };
	size_t len = strcspn(token + 2, "=");

	snprintf(name, sizeof name, "%.*s", (int)len, token + 2);
	for (size_t i = 0; i < n; i++) {
		if (allowed & O(i))
			guess_offer(&g, tab[i].long_name);
	}
	return say(EXIT_USAGE, "%sunknown option '%s'%s (see %s)", pre, token,
	    guess_text(&g, "--", hint, sizeof hint), see);
}

/*
 * Parse options from argv[*i] on into val[] (the argument, or "" for a
 * flag) up to the first operand, where *i is left; "--" is consumed. A
 * number-like token ("-10", "-.5") is an operand. Returns 0, or EXIT_USAGE
 * after saying why; who ("dict get", "" before TYPE) names the culprit.
 */
static int parse_opts(int argc, char **argv, int *i, const struct opt *tab,
    size_t n, unsigned allowed, const char **val, const char *who)
{
	char pre[96], see[96];

	snprintf(pre, sizeof pre, "%s%s", who, who[0] ? ": " : "");
	snprintf(see, sizeof see, "mpctl %s%s--help", who, who[0] ? " " : "");
	while (*i < argc) {
		const char *t = argv[*i];
		int id;

		if (t[0] != '-' || t[1] == '\0' ||
		    mpctl_json_is_negative_number(t))
			return 0;
		(*i)++;
		if (strcmp(t, "--") == 0)
			return 0;
		if (t[1] == '-') {
			const char *eq = strchr(t + 2, '=');
			size_t len = eq ? (size_t)(eq - (t + 2)) : strlen(t + 2);

			id = find_opt(tab, n, allowed, t + 2, len, 0);
			if (id < 0)
				return unknown_long(pre, see, tab, n, allowed, t);
			if (tab[id].arg == NULL && eq)
				return say(EXIT_USAGE, "%soption '--%s' takes no "
				    "argument", pre, tab[id].long_name);
			if (tab[id].arg == NULL)
				val[id] = "";
			else if (eq)
				val[id] = eq + 1;
			else if (*i < argc)
				val[id] = argv[(*i)++];
			else
				return say(EXIT_USAGE, "%soption '--%s' needs %s",
				    pre, tab[id].long_name, tab[id].arg);
			continue;
		}
		for (const char *p = t + 1; *p != '\0'; p++) {
			id = find_opt(tab, n, allowed, NULL, 0, *p);
			if (id < 0)
				return say(EXIT_USAGE, "%sunknown option '-%c' "
				    "(see %s)", pre, *p, see);
			if (tab[id].arg == NULL) {
				val[id] = "";
				continue;
			}
			if (p[1] != '\0')
				val[id] = p + 1;
			else if (*i < argc)
				val[id] = argv[(*i)++];
			else
				return say(EXIT_USAGE, "%soption '-%c' needs %s",
				    pre, *p, tab[id].arg);
			break;
		}
	}
	return 0;
}

/* Append one operand to c->args; numeric ones ignore --string. */
static int pack_operand(struct ctx *c, const char *text, bool numeric)
{
	msgpack_packer pk;
	char err[256];
	bool as_string = !numeric && (c->opt[OPT_STRING] != NULL ||
	    (c->verb->flags & F_NAMES));

	msgpack_packer_init(&pk, &c->args, msgpack_sbuffer_write);
	if (mpctl_json_pack_operand(&pk, text, as_string, err,
	    sizeof err) < 0)
		return say(EXIT_USAGE, "%s", err);
	c->nargs++;
	return 0;
}

static int pack_operands(struct ctx *c)
{
	for (int i = 0; i < c->noperands; i++) {
		bool numeric = i < 32 && (c->verb->numeric & (1u << i));
		if (pack_operand(c, c->operands[i], numeric) != 0)
			return EXIT_USAGE;
	}
	return 0;
}

static int status_of(int err)
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
	default:
		return EXIT_ERROR;
	}
}

/* Say what err was ("mpctl: NOKEY: message") and return its exit status. */
static int fail(const struct ctx *c, int err)
{
	const char *code = c->h ? mpmgr_errcode(c->h) : "";
	const char *msg = c->h ? mpmgr_errmsg(c->h) : "";

	if (code[0] == '\0')
		code = mpmgr_strerror(err);
	if (msg[0] == '\0')
		return say(status_of(err), "%s", code);
	return say(status_of(err), "%s: %s", code, msg);
}

static int connect_daemon(struct ctx *c)
{
	int err = mpmgr_connect(&c->h, c->socket_path, c->authkey_file);

	return err == MPMGR_OK ? 0 : fail(c, err);
}

/* Send the verb's method with [name] + c->args without reading the reply. */
static int send_request(struct ctx *c)
{
	const struct verb *v = c->verb;
	msgpack_packer *pk;

	pk = mpmgr_request_begin(c->h, v->method, (v->type ? 1 : 0) + c->nargs);
	if (pk == NULL)
		return MPMGR_EINVAL;
	if (v->type)
		msgpack_pack_str_with_body(pk, c->name, strlen(c->name));
	/* The operands are already msgpack: their bytes go in as they are. */
	if (c->args.size > 0)
		pk->callback(pk->data, c->args.data, c->args.size);
	return mpmgr_request_end(c->h);
}

static int call(struct ctx *c, msgpack_object *result)
{
	int err = send_request(c);

	return err == MPMGR_OK ? mpmgr_reply(c->h, result) : err;
}

/* A str prints as itself unless --json; anything else as JSON. */
static void print_value(const struct ctx *c, const msgpack_object *o)
{
	if (o->type == MSGPACK_OBJECT_STR && c->opt[OPT_JSON] == NULL)
		fwrite(o->via.str.ptr, 1, o->via.str.size, stdout);
	else
		mpctl_json_print(stdout, o);
	putc('\n', stdout);
}

static int unexpected(const msgpack_object *o)
{
	fputs("mpctl: EPROTO: unexpected reply: ", stderr);
	mpctl_json_print(stderr, o);
	putc('\n', stderr);
	return EXIT_ERROR;
}

static int print_result(const struct ctx *c, const msgpack_object *o)
{
	unsigned flags = c->verb->flags;

	if (flags & F_PREDICATE) {
		if (o->type != MSGPACK_OBJECT_BOOLEAN)
			return unexpected(o);
		print_value(c, o);
		return o->via.boolean ? EXIT_TRUE : EXIT_FALSE;
	}
	if (flags & F_CAS) {
		if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size != 2 ||
		    o->via.array.ptr[0].type != MSGPACK_OBJECT_BOOLEAN)
			return unexpected(o);
		print_value(c, o);
		return o->via.array.ptr[0].via.boolean ? EXIT_TRUE : EXIT_FALSE;
	}
	if ((flags & F_NIL) && o->type == MSGPACK_OBJECT_NIL)
		return EXIT_TRUE;
	print_value(c, o);
	return EXIT_TRUE;
}

/* Connect, send, print: the end of every single-request verb. */
static int finish(struct ctx *c)
{
	msgpack_object res;
	int err, rc;

	if ((rc = connect_daemon(c)) != 0)
		return rc;
	if ((err = call(c, &res)) != MPMGR_OK)
		return fail(c, err);
	return print_result(c, &res);
}

static int run_call(struct ctx *c)
{
	int rc = pack_operands(c);

	return rc != 0 ? rc : finish(c);
}

/* The wire wants a cursor; none given starts at 0. */
static int run_scan(struct ctx *c)
{
	int rc = pack_operands(c);

	if (rc == 0 && c->noperands == 0)
		rc = pack_operand(c, "0", true);
	return rc != 0 ? rc : finish(c);
}

/* One JSON MAPPING as it is, or KEY VALUE pairs as [[key, value]...]. */
static int run_update(struct ctx *c)
{
	msgpack_packer pk;
	int rc;

	if (c->noperands == 1) {
		if (c->opt[OPT_STRING])
			return say(EXIT_USAGE, "dict update: --string "
			    "applies to KEY VALUE pairs, not to one MAPPING");
		if ((rc = pack_operand(c, c->operands[0], true)) != 0)
			return rc;
		return finish(c);
	}
	if (c->noperands % 2 != 0)
		return say(EXIT_USAGE, "dict update: wants one MAPPING or "
		    "KEY VALUE pairs, got %d operands", c->noperands);
	msgpack_packer_init(&pk, &c->args, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, (size_t)c->noperands / 2);
	for (int i = 0; i < c->noperands; i += 2) {
		msgpack_pack_array(&pk, 2);
		if ((rc = pack_operand(c, c->operands[i], false)) != 0 ||
		    (rc = pack_operand(c, c->operands[i + 1], false)) != 0)
			return rc;
	}
	c->nargs = 1;
	return finish(c);
}

/* VALUE goes in the options map: value.create name {value: VALUE}. */
static int run_value_create(struct ctx *c)
{
	msgpack_packer pk;
	int rc;

	if (c->noperands == 1) {
		msgpack_packer_init(&pk, &c->args, msgpack_sbuffer_write);
		msgpack_pack_map(&pk, 1);
		msgpack_pack_str_with_body(&pk, "value", 5);
		if ((rc = pack_operand(c, c->operands[0], false)) != 0)
			return rc;
	}
	return finish(c);
}

/* Display width of UTF-8 text, counting code points. */
static int text_width(const msgpack_object *s)
{
	int w = 0;

	for (uint32_t i = 0; i < s->via.str.size; i++)
		w += ((unsigned char)s->via.str.ptr[i] & 0xc0) != 0x80;
	return w;
}

static void print_cell(const msgpack_object *s, int width)
{
	fwrite(s->via.str.ptr, 1, s->via.str.size, stdout);
	for (int w = text_width(s); w < width; w++)
		putc(' ', stdout);
}

static int run_ls(struct ctx *c)
{
	msgpack_object res;
	int err, rc, wname = 4, wtype = 4;

	if ((rc = pack_operands(c)) != 0 || (rc = connect_daemon(c)) != 0)
		return rc;
	if ((err = call(c, &res)) != MPMGR_OK)
		return fail(c, err);
	if (res.type != MSGPACK_OBJECT_ARRAY)
		return unexpected(&res);
	for (uint32_t i = 0; i < res.via.array.size; i++) {
		const msgpack_object *row = &res.via.array.ptr[i];
		if (row->type != MSGPACK_OBJECT_ARRAY ||
		    row->via.array.size != 3 ||
		    row->via.array.ptr[0].type != MSGPACK_OBJECT_STR ||
		    row->via.array.ptr[1].type != MSGPACK_OBJECT_STR)
			return unexpected(&res);
		if (text_width(&row->via.array.ptr[0]) > wname)
			wname = text_width(&row->via.array.ptr[0]);
		if (text_width(&row->via.array.ptr[1]) > wtype)
			wtype = text_width(&row->via.array.ptr[1]);
	}
	if (c->opt[OPT_JSON]) {
		print_value(c, &res);
		return EXIT_TRUE;
	}
	printf("%-*s  %-*s  SIZE\n", wname, "NAME", wtype, "TYPE");
	for (uint32_t i = 0; i < res.via.array.size; i++) {
		const msgpack_object *cell = res.via.array.ptr[i].via.array.ptr;
		print_cell(&cell[0], wname);
		fputs("  ", stdout);
		print_cell(&cell[1], wtype);
		fputs("  ", stdout);
		print_value(c, &cell[2]);
	}
	return EXIT_TRUE;
}

/* Pipelined: every name is tried; the worst status wins. */
static int run_rm(struct ctx *c)
{
	int err, rc, worst = EXIT_TRUE;

	if ((rc = connect_daemon(c)) != 0)
		return rc;
	for (int i = 0; i < c->noperands; i++) {
		c->args.size = 0;
		c->nargs = 0;
		if ((rc = pack_operand(c, c->operands[i], false)) != 0)
			return rc;
		if ((err = send_request(c)) != MPMGR_OK)
			return fail(c, err);
	}
	for (int i = 0; i < c->noperands; i++) {
		err = mpmgr_reply(c->h, NULL);
		if (err == MPMGR_OK)
			continue;
		rc = fail(c, err);
		if (rc > worst)
			worst = rc;
		/* A client-side error (EIO...) broke the handle: no more replies. */
		if (err <= MPMGR_ECONNECT)
			break;
	}
	return worst;
}

static int run_stats(struct ctx *c)
{
	msgpack_object res;
	int err, rc;

	if ((rc = connect_daemon(c)) != 0)
		return rc;
	if ((err = call(c, &res)) != MPMGR_OK)
		return fail(c, err);
	if (c->opt[OPT_JSON]) {
		print_value(c, &res);
		return EXIT_TRUE;
	}
	if (res.type != MSGPACK_OBJECT_MAP)
		return unexpected(&res);
	for (uint32_t i = 0; i < res.via.map.size; i++) {
		const msgpack_object_kv *kv = &res.via.map.ptr[i];
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

static int unknown_word(const char *word)
{
	char hint[160];
	struct guess g = { .word = word, .best = SIZE_MAX };

	for (size_t i = 0; i < NELEM(types); i++) {
		guess_offer(&g, types[i].name);
		if (types[i].alias)
			guess_offer(&g, types[i].alias);
	}
	for (size_t i = 0; i < NELEM(verbs); i++) {
		if (verbs[i].type == NULL)
			guess_offer(&g, verbs[i].name);
	}
	return say(EXIT_USAGE, "unknown type or command '%s'%s (see mpctl "
	    "--help)", word, guess_text(&g, "", hint, sizeof hint));
}

static int unknown_verb(const struct type *t, const char *word)
{
	char hint[160];
	struct guess g = { .word = word, .best = SIZE_MAX };

	for (size_t i = 0; i < NELEM(verbs); i++) {
		if (verbs[i].type == NULL || strcmp(verbs[i].type, t->name) != 0)
			continue;
		guess_offer(&g, verbs[i].name);
		if (verbs[i].alias)
			guess_offer(&g, verbs[i].alias);
	}
	return say(EXIT_USAGE, "%s: unknown verb '%s'%s (see mpctl %s --help)",
	    t->name, word, guess_text(&g, "", hint, sizeof hint), t->name);
}

static bool is_help(const char *word)
{
	return strcmp(word, "-h") == 0 || strcmp(word, "--help") == 0;
}

static int run(struct ctx *c, int argc, char **argv)
{
	const char *gval[GOPT_COUNT] = { NULL };
	const struct type *t = NULL;
	const struct verb *v;
	char who[80];
	int i = 1, rc;

	if ((rc = parse_opts(argc, argv, &i, global_opts, GOPT_COUNT, ~0u,
	    gval, "")) != 0)
		return rc;
	if (gval[GOPT_HELP]) {
		help_top(stdout);
		return EXIT_TRUE;
	}
	if (gval[GOPT_VERSION]) {
		printf("mpctl %d.%d\n", MPMGR_VERSION_MAJOR,
		    MPMGR_VERSION_MINOR);
		return EXIT_TRUE;
	}
	c->socket_path = gval[GOPT_SOCKET];
	c->authkey_file = gval[GOPT_AUTHKEY];
	if (i >= argc)
		return say(EXIT_USAGE, "missing TYPE or command (see mpctl "
		    "--help)");
	if ((v = find_verb(NULL, argv[i])) == NULL) {
		if ((t = find_type(argv[i])) == NULL)
			return unknown_word(argv[i]);
		if (++i >= argc)
			return say(EXIT_USAGE, "%s: missing VERB (see mpctl %s "
			    "--help)", t->name, t->name);
		if (is_help(argv[i])) {
			help_type(stdout, t);
			return EXIT_TRUE;
		}
		if ((v = find_verb(t->name, argv[i])) == NULL)
			return unknown_verb(t, argv[i]);
	}
	i++;
	c->verb = v;
	snprintf(who, sizeof who, "%s%s%s", t ? t->name : "", t ? " " : "",
	    v->name);
	if ((rc = parse_opts(argc, argv, &i, verb_opts, OPT_COUNT, v->opts,
	    c->opt, who)) != 0)
		return rc;
	if (c->opt[OPT_HELP]) {
		help_verb(stdout, v);
		return EXIT_TRUE;
	}
	c->operands = argv + i;
	c->noperands = argc - i;
	if (c->noperands < v->min || (v->max >= 0 && c->noperands > v->max))
		return say(EXIT_USAGE, "%s: wants %s, got %d operand%s (see "
		    "mpctl %s --help)", who, v->usage[0] ? v->usage : "no operands",
		    c->noperands, c->noperands == 1 ? "" : "s", who);
	c->name = c->opt[OPT_NAME] ? c->opt[OPT_NAME] : t ? t->name : NULL;
	return (v->run ? v->run : run_call)(c);
}

int main(int argc, char **argv)
{
	struct ctx c = { .h = NULL };
	int rc;

	msgpack_sbuffer_init(&c.args);
	rc = run(&c, argc, argv);
	mpmgr_free(c.h);
	msgpack_sbuffer_destroy(&c.args);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		say(EXIT_ERROR, "cannot write the output");
		if (rc == EXIT_TRUE || rc == EXIT_FALSE)
			rc = EXIT_ERROR;
	}
	return rc;
}
