/*
 * mpctl_parse.c: mpctl's grammar: how argv becomes one struct ctx, and
 * the --help texts and "did you mean" hints that describe it.
 *
 *   mpctl [GLOBAL OPTIONS] TYPE VERB [VERB OPTIONS] [--] [OPERANDS...]
 *   mpctl [GLOBAL OPTIONS] SERVER-VERB [VERB OPTIONS] [--] [OPERANDS...]
 *
 * The options are the two tables below; which verb takes which, its
 * operand counts and its usage come from the verb table (mpctl_verbs.c).
 * Verb names match with '_' and '-' alike; a number-like token ("-10",
 * "-.5") is an operand, never an option; "--" ends the options. Every
 * usage error is said here ("mpctl: dict get: wants KEY...") and is exit
 * status 2.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpctl.h"
#include "mpctl_json.h"

const struct opt parse_verb_opts[OPT_COUNT] = {
	[OPT_NAME] = { .short_name = 'n', .long_name = "name", .arg = "NAME",
	    .help = "the object's name (default: the type's name)" },
	[OPT_STRING] = { .long_name = "string",
	    .help = "keys and values are strings, never JSON" },
	[OPT_JSON] = { .long_name = "json",
	    .help = "print results as JSON, a bare string too" },
	[OPT_TIMEOUT] = { .short_name = 't', .long_name = "timeout",
	    .arg = "SECS",
	    .help = "wait at most SECS seconds (0: do not wait)" },
	[OPT_CONFLICT] = { .short_name = 'E',
	    .long_name = "conflict-exit-code", .arg = "CODE",
	    .help = "exit CODE (1) when -t passes first" },
	[OPT_REVERSE] = { .long_name = "reverse",
	    .help = "sort in descending order" },
	[OPT_ACK] = { .long_name = "ack",
	    .help = "at-least-once: got items leased until task_done",
	    .key = "ack" },
	[OPT_BOUNDED] = { .long_name = "bounded",
	    .help = "release past the initial value is RANGE",
	    .key = "bounded" },
	[OPT_LOCK] = { .long_name = "lock", .arg = "NAME",
	    .help = "stand on the lock or rlock NAME, not its own",
	    .key = "lock" },
	[OPT_KEEP] = { .long_name = "no-release-on-disconnect",
	    .help = "holders keep it when they disconnect",
	    .key = "release_on_disconnect", .off = true },
	[OPT_IMMEDIATE] = { .long_name = "immediate",
	    .help = "empty it and release every waiter now" },
	[OPT_END] = { .long_name = "end", .arg = "N",
	    .help = "the pipe's end, 0 or 1" },
	[OPT_TOKEN] = { .long_name = "token", .arg = "TOKEN",
	    .help = "claim the hand-off TOKEN as the end is opened" },
	[OPT_ONEWAY] = { .long_name = "no-duplex",
	    .help = "one-way: end 0 only sends, end 1 only receives",
	    .key = "duplex", .off = true },
	[OPT_DAEMON] = { .long_name = "daemon",
	    .help = "terminate CMD when the process that ran mpctl exits" },
	[OPT_WAIT] = { .long_name = "wait",
	    .help = "stay in the foreground and exit with CMD's status" },
	[OPT_JOBS] = { .short_name = 'j', .long_name = "jobs", .arg = "N",
	    .help = "run N jobs at a time (worker: the CPUs)" },
	[OPT_TAIL] = { .long_name = "tail", .arg = "BYTES",
	    .help = "keep the last BYTES (65536) of each job's output" },
	[OPT_SHELL] = { .long_name = "shell",
	    .help = "CMD is a line for sh -c, not an argv" },
	[OPT_KEY] = { .long_name = "key", .arg = "KEY",
	    .help = "no new job while one submitted with KEY is held" },
	[OPT_ATTEMPTS] = { .long_name = "attempts", .arg = "N",
	    .help = "run a job at most N times if its workers die",
	    .key = "max_attempts", .numeric = true },
	[OPT_CONSUME] = { .long_name = "consume",
	    .help = "forget each job once its result is read" },
	[OPT_HELP] = { .short_name = 'h', .long_name = "help",
	    .help = "this help" },
};

/* Options before TYPE. */
enum global_opt {
	GOPT_SOCKET,
	GOPT_AUTHKEY,
	GOPT_HELP,
	GOPT_VERSION,
	GOPT_COUNT
};

static const struct opt global_opts[GOPT_COUNT] = {
	[GOPT_SOCKET] = { .short_name = 's', .long_name = "socket",
	    .arg = "PATH", .help = "the daemon's socket" },
	[GOPT_AUTHKEY] = { .short_name = 'k', .long_name = "authkey-file",
	    .arg = "FILE", .help = "the authkey file (never the key itself)" },
	[GOPT_HELP] = { .short_name = 'h', .long_name = "help",
	    .help = "this help; mpctl TYPE [VERB] --help for more" },
	[GOPT_VERSION] = { .long_name = "version",
	    .help = "print mpctl's version" },
};

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
"Waiting: -t SECS (a number, fractions allowed) bounds a blocking verb;\n"
"0 does not wait; without -t it waits forever. An acquire or wait that\n"
"times out answers false, a queue get EMPTY, a put FULL, a barrier wait\n"
"TIMEOUT.\n"
"\n"
"Holding: a lock, rlock or semaphore permit is held by a connection and\n"
"given back when it closes, so `TYPE exec -n NAME -- CMD...` holds it\n"
"while CMD runs (CMD inherits the connection); condition wait and notify\n"
"acquire and release the condition's lock themselves. Plain acquire and\n"
"release are refused (status 2) unless the object was created with\n"
"--no-release-on-disconnect (release_on_disconnect false).\n"
"\n"
"Exit status: 0 success or true; 1 a predicate answered false (contains,\n"
"cas not done, an acquire or wait that timed out) or the error NOKEY,\n"
"EMPTY, FULL or TIMEOUT; 2 usage error; 3 cannot connect or authenticate;\n"
"4 any other error (BROKEN, NOOBJ...); 5 nothing more will come: EOF (a\n"
"pipe's other end is closed) or SHUTDOWN (a queue shut down and empty, or\n"
"the daemon stopping); 6 LOST (a process record without an exit code).\n"
"exec and process start --wait exit with CMD's status, process join with\n"
"the process's (128 + N when signal N killed it); exec with -E's CODE (1)\n"
"when -t passed first and CMD did not run. Errors go to stderr as\n"
"\"mpctl: CODE: message\".\n";

/* --- words ------------------------------------------------------------ */

/* Verb names match with '_' and '-' alike. */
static bool
same_word(const char *a, const char *b)
{
	char x, y;

	for (; *a != '\0' && *b != '\0'; a++, b++) {
		x = *a == '-' ? '_' : *a;
		y = *b == '-' ? '_' : *b;
		if (x != y)
			return false;
	}
	return *a == *b;
}

static const struct type *
find_type(const char *word)
{
	const struct type *t;
	size_t i;

	for (i = 0; i < verbs_ntypes; i++) {
		t = &verbs_types[i];
		if (strcmp(word, t->name) == 0 ||
		    (t->alias != NULL && strcmp(word, t->alias) == 0))
			return t;
	}
	return NULL;
}

/* Whether v is a verb of type (NULL: a server verb). */
static bool
verb_of(const struct verb *v, const char *type)
{
	if (type == NULL || v->type == NULL)
		return type == v->type;
	return strcmp(type, v->type) == 0;
}

static const struct verb *
find_verb(const char *type, const char *word)
{
	const struct verb *v;
	size_t i;

	for (i = 0; i < verbs_nverbs; i++) {
		v = &verbs_table[i];
		if (verb_of(v, type) && (same_word(word, v->name) ||
		    (v->alias != NULL && same_word(word, v->alias))))
			return v;
	}
	return NULL;
}

/* --- did you mean ------------------------------------------------------ */

/* Optimal string alignment distance, '-' and '_' alike; big if too long. */
static size_t
distance(const char *a, const char *b)
{
	enum { MAXW = 32 };
	size_t d[MAXW + 1][MAXW + 1];
	size_t n = strlen(a), m = strlen(b), i, j, best;
	char x, y;

	if (n > MAXW || m > MAXW)
		return SIZE_MAX;
	for (i = 0; i <= n; i++)
		d[i][0] = i;
	for (j = 0; j <= m; j++)
		d[0][j] = j;
	for (i = 1; i <= n; i++) {
		for (j = 1; j <= m; j++) {
			x = a[i - 1] == '-' ? '_' : a[i - 1];
			y = b[j - 1] == '-' ? '_' : b[j - 1];
			best = d[i - 1][j - 1] + (x != y);
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

static void
guess_offer(struct guess *g, const char *cand)
{
	size_t len = strlen(g->word), d;

	d = distance(g->word, cand);
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
static const char *
guess_text(const struct guess *g, const char *prefix, char *buf, size_t len)
{
	size_t off, i;

	buf[0] = '\0';
	if (g->nfound == 0)
		return buf;
	off = (size_t)snprintf(buf, len, "; did you mean");
	for (i = 0; i < g->nfound && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s '%s%s'",
		    i == 0 ? "" : i + 1 == g->nfound ? " or" : ",", prefix,
		    g->found[i]);
	if (off < len)
		snprintf(buf + off, len - off, "?");
	return buf;
}

static int
unknown_word(const char *word)
{
	struct guess g = { .word = word, .best = SIZE_MAX };
	char hint[160];
	size_t i;

	for (i = 0; i < verbs_ntypes; i++) {
		guess_offer(&g, verbs_types[i].name);
		if (verbs_types[i].alias != NULL)
			guess_offer(&g, verbs_types[i].alias);
	}
	for (i = 0; i < verbs_nverbs; i++) {
		if (verbs_table[i].type == NULL)
			guess_offer(&g, verbs_table[i].name);
	}
	return mpctl_say(EXIT_USAGE, "unknown type or command '%s'%s (see "
	    "mpctl --help)", word, guess_text(&g, "", hint, sizeof(hint)));
}

static int
unknown_verb(const struct type *t, const char *word)
{
	struct guess g = { .word = word, .best = SIZE_MAX };
	const struct verb *v;
	char hint[160];
	size_t i;

	for (i = 0; i < verbs_nverbs; i++) {
		v = &verbs_table[i];
		if (v->type == NULL || strcmp(v->type, t->name) != 0)
			continue;
		guess_offer(&g, v->name);
		if (v->alias != NULL)
			guess_offer(&g, v->alias);
	}
	return mpctl_say(EXIT_USAGE, "%s: unknown verb '%s'%s (see mpctl %s "
	    "--help)", t->name, word, guess_text(&g, "", hint, sizeof(hint)),
	    t->name);
}

/* --- help --------------------------------------------------------------- */

/* "-n NAME" or "--string", for help. */
static void
format_opt(const struct opt *o, char *buf, size_t len)
{
	if (o->short_name)
		snprintf(buf, len, "-%c, --%s%s%s", o->short_name,
		    o->long_name, o->arg ? " " : "", o->arg ? o->arg : "");
	else
		snprintf(buf, len, "    --%s%s%s", o->long_name,
		    o->arg ? " " : "", o->arg ? o->arg : "");
}

static void
help_opts(FILE *f, const struct opt *tab, size_t n, unsigned allowed)
{
	char buf[64];
	int width = 24;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!(allowed & O(i)))
			continue;
		format_opt(&tab[i], buf, sizeof(buf));
		if ((int)strlen(buf) > width)
			width = (int)strlen(buf);
	}
	for (i = 0; i < n; i++) {
		if (!(allowed & O(i)))
			continue;
		format_opt(&tab[i], buf, sizeof(buf));
		fprintf(f, "  %-*s %s\n", width, buf, tab[i].help);
	}
}

/* "verb USAGE" left column of a verb list. */
static void
verb_left(const struct verb *v, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s", v->name, v->usage[0] ? " " : "",
	    v->usage);
}

/* One line of a verb list: "verb USAGE" in width, then the summary. */
static void
help_verb_line(FILE *f, const struct verb *v, int width)
{
	char left[80], buf[256];

	verb_left(v, left, sizeof(left));
	if ((int)strlen(left) > width)
		fprintf(f, "  %s\n  %-*s  ", left, width, "");
	else
		fprintf(f, "  %-*s  ", width, left);
	fputs(verbs_summary(v, buf, sizeof(buf)), f);
	if (v->alias != NULL)
		fprintf(f, " (also: %s)", v->alias);
	putc('\n', f);
}

/*
 * The verbs of type (NULL: the server verbs) in the order of their
 * methods in the catalogue: a first pass for the width of the left
 * column, a second to print.
 */
static void
help_verb_list(FILE *f, const char *type)
{
	const struct verb *v;
	char left[80];
	int width = 0, pass;
	size_t i, m;

	for (pass = 0; pass < 2; pass++) {
		for (m = 0; m < MPMGR_MID_COUNT; m++) {
			for (i = 0; i < verbs_nverbs; i++) {
				v = &verbs_table[i];
				if (v->method != m || !verb_of(v, type))
					continue;
				if (pass == 1) {
					help_verb_line(f, v, width);
					continue;
				}
				verb_left(v, left, sizeof(left));
				if ((int)strlen(left) > width)
					width = (int)strlen(left);
			}
		}
		if (width > 30)
			width = 30;
	}
}

static void
help_top(FILE *f)
{
	int width = 0;
	size_t i;

	fputs("usage: mpctl [-s PATH] [-k FILE] TYPE VERB [-n NAME] [OPTIONS] "
	    "[OPERANDS...]\n"
	    "       mpctl [-s PATH] [-k FILE] SERVER-VERB [OPTIONS] "
	    "[OPERANDS...]\n"
	    "       mpctl [-s PATH] [-k FILE] {lock|rlock|sem} exec -n NAME "
	    "[-t SECS] [-E CODE] -- CMD...\n\n"
	    "The shared objects of mpmgrd, from the shell.\n\n"
	    "Global options:\n", f);
	help_opts(f, global_opts, GOPT_COUNT, ~0u);
	fputs("\nTypes (mpctl TYPE --help lists their verbs):\n", f);
	for (i = 0; i < verbs_ntypes; i++) {
		if ((int)strlen(verbs_types[i].name) > width)
			width = (int)strlen(verbs_types[i].name);
	}
	for (i = 0; i < verbs_ntypes; i++) {
		fprintf(f, "  %-*s  %s", width, verbs_types[i].name,
		    verbs_types[i].summary);
		if (verbs_types[i].alias != NULL)
			fprintf(f, " (also: %s)", verbs_types[i].alias);
		putc('\n', f);
	}
	fputs("\nServer verbs:\n", f);
	help_verb_list(f, NULL);
	fputs("\nVerb options (between VERB and the first operand; -- ends "
	    "them):\n", f);
	help_opts(f, parse_verb_opts, OPT_COUNT, ~0u);
	fprintf(f, "\n%s\n%s", paths, notes);
}

static void
help_type(FILE *f, const struct type *t)
{
	unsigned opts = 0;
	size_t i;

	fprintf(f, "usage: mpctl %s VERB [-n NAME] [OPTIONS] [OPERANDS...]\n\n"
	    "%s: %s.\nNAME defaults to \"%s\".\n\nVerbs:\n", t->name, t->name,
	    t->summary, t->name);
	help_verb_list(f, t->name);
	for (i = 0; i < verbs_nverbs; i++) {
		if (verb_of(&verbs_table[i], t->name))
			opts |= verbs_table[i].opts;
	}
	fputs("\nOptions (between VERB and the first operand; -- ends them;\n"
	    "mpctl TYPE VERB --help says which a verb takes):\n", f);
	help_opts(f, parse_verb_opts, OPT_COUNT, opts);
	fputs("\nmpctl --help tells how operands are read and results printed,"
	    "\nand what the exit status means.\n", f);
}

static void
help_verb(FILE *f, const struct verb *v)
{
	const struct opt *o;
	char buf[256];
	size_t i;

	fprintf(f, "usage: mpctl %s%s%s", v->type ? v->type : "",
	    v->type ? " " : "", v->name);
	for (i = 0; i < OPT_COUNT; i++) {
		o = &parse_verb_opts[i];
		if (!(v->opts & O(i)) || i == OPT_HELP)
			continue;
		if (o->short_name)
			fprintf(f, " [-%c%s%s]", o->short_name,
			    o->arg ? " " : "", o->arg ? o->arg : "");
		else
			fprintf(f, " [--%s%s%s]", o->long_name,
			    o->arg ? " " : "", o->arg ? o->arg : "");
	}
	fprintf(f, "%s%s\n\n%s.\n", v->usage[0] ? " " : "", v->usage,
	    verbs_summary(v, buf, sizeof(buf)));
	if (v->help != NULL)
		fprintf(f, "\n%s\n\n", v->help);
	if (v->alias != NULL)
		fprintf(f, "Also spelled: %s.\n", v->alias);
	fprintf(f, "Method: %s.\n\nOptions%s:\n", verbs_method(v),
	    v->flags & F_PERMUTE ? " (before or after the operands)" : "");
	help_opts(f, parse_verb_opts, OPT_COUNT, v->opts);
	fputs("\nmpctl --help tells how operands are read and results printed,"
	    "\nand what the exit status means.\n", f);
}

/* --- options ----------------------------------------------------------- */

static int
find_opt(const struct opt *tab, size_t n, unsigned allowed, const char *name,
    size_t len, char short_name)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!(allowed & O(i)))
			continue;
		if (short_name ? tab[i].short_name == short_name :
		    strlen(tab[i].long_name) == len &&
		    strncmp(tab[i].long_name, name, len) == 0)
			return (int)i;
	}
	return -1;
}

static int
unknown_long(const char *pre, const char *see, const struct opt *tab,
    size_t n, unsigned allowed, const char *token)
{
	char name[40], hint[160];
	struct guess g = { .word = name, .best = SIZE_MAX };
	size_t len = strcspn(token + 2, "="), i;

	snprintf(name, sizeof(name), "%.*s", (int)len, token + 2);
	for (i = 0; i < n; i++) {
		if (allowed & O(i))
			guess_offer(&g, tab[i].long_name);
	}
	return mpctl_say(EXIT_USAGE, "%sunknown option '%s'%s (see %s)", pre,
	    token, guess_text(&g, "--", hint, sizeof(hint)), see);
}

/* Whether a token is an operand: not an option, not "--". */
static bool
is_operand(const char *t)
{
	return t[0] != '-' || t[1] == '\0' ||
	    mpctl_json_is_negative_number(t);
}

/*
 * Parse the option token argv[*i] (and its argument, when it takes one)
 * into val[] (the argument, or "" for a flag), leaving *i after them.
 * Returns 0, or EXIT_USAGE after saying why; pre ("dict get: ") names the
 * culprit and see the help to read.
 */
static int
parse_opt(int argc, char **argv, int *i, const struct opt *tab, size_t n,
    unsigned allowed, const char **val, const char *pre, const char *see)
{
	const char *t = argv[(*i)++], *eq, *p;
	size_t len;
	int id;

	if (t[1] == '-') {
		eq = strchr(t + 2, '=');
		len = eq != NULL ? (size_t)(eq - (t + 2)) : strlen(t + 2);
		id = find_opt(tab, n, allowed, t + 2, len, 0);
		if (id < 0)
			return unknown_long(pre, see, tab, n, allowed, t);
		if (tab[id].arg == NULL && eq != NULL)
			return mpctl_say(EXIT_USAGE, "%soption '--%s' takes no "
			    "argument", pre, tab[id].long_name);
		if (tab[id].arg == NULL)
			val[id] = "";
		else if (eq != NULL)
			val[id] = eq + 1;
		else if (*i < argc)
			val[id] = argv[(*i)++];
		else
			return mpctl_say(EXIT_USAGE, "%soption '--%s' needs %s",
			    pre, tab[id].long_name, tab[id].arg);
		return 0;
	}
	for (p = t + 1; *p != '\0'; p++) {
		id = find_opt(tab, n, allowed, NULL, 0, *p);
		if (id < 0)
			return mpctl_say(EXIT_USAGE, "%sunknown option '-%c' "
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
			return mpctl_say(EXIT_USAGE, "%soption '-%c' needs %s",
			    pre, *p, tab[id].arg);
		break;
	}
	return 0;
}

/* "dict get: " and "mpctl dict get --help" for messages about who. */
static void
who_texts(const char *who, char *pre, size_t prelen, char *see,
    size_t seelen)
{
	snprintf(pre, prelen, "%s%s", who, who[0] ? ": " : "");
	snprintf(see, seelen, "mpctl %s%s--help", who, who[0] ? " " : "");
}

/*
 * Parse options from argv[*i] on into val[] (the argument, or "" for a
 * flag) up to the first operand, where *i is left; "--" is consumed. A
 * number-like token ("-10", "-.5") is an operand. Returns 0, or EXIT_USAGE
 * after saying why; who ("dict get", "" before TYPE) names the culprit.
 */
static int
parse_opts(int argc, char **argv, int *i, const struct opt *tab, size_t n,
    unsigned allowed, const char **val, const char *who)
{
	char pre[96], see[96];
	int rc;

	who_texts(who, pre, sizeof(pre), see, sizeof(see));
	while (*i < argc && !is_operand(argv[*i])) {
		if (strcmp(argv[*i], "--") == 0) {
			(*i)++;
			return 0;
		}
		if ((rc = parse_opt(argc, argv, i, tab, n, allowed, val, pre,
		    see)) != 0)
			return rc;
	}
	return 0;
}

/*
 * For F_PERMUTE verbs: options before, between and after the operands
 * (`queue create 100 --ack`), up to "--". The operands are moved, in
 * their order, to argv[first...]; *n counts them.
 */
static int
parse_permuted(int argc, char **argv, int first, unsigned allowed,
    const char **val, const char *who, int *n)
{
	char pre[96], see[96];
	int j = first, rc;

	who_texts(who, pre, sizeof(pre), see, sizeof(see));
	*n = 0;
	while (j < argc) {
		if (strcmp(argv[j], "--") == 0) {
			for (j++; j < argc; j++)
				argv[first + (*n)++] = argv[j];
			break;
		}
		if (is_operand(argv[j])) {
			argv[first + (*n)++] = argv[j++];
			continue;
		}
		if ((rc = parse_opt(argc, argv, &j, parse_verb_opts,
		    OPT_COUNT, allowed, val, pre, see)) != 0)
			return rc;
	}
	return 0;
}

/* -t SECS into c->timeout and -E CODE into c->conflict. */
static int
parse_numbers(struct ctx *c)
{
	const char *t = c->opt[OPT_TIMEOUT], *e = c->opt[OPT_CONFLICT];
	char *end;
	long code;

	if (t != NULL) {
		errno = 0;
		c->timeout = strtod(t, &end);
		if (end == t || *end != '\0' || errno != 0 ||
		    !isfinite(c->timeout) || c->timeout < 0)
			return mpctl_say(EXIT_USAGE, "%s: -t wants seconds, a "
			    "number >= 0 (0: do not wait), not '%s'", c->who,
			    t);
	}
	if (e != NULL) {
		errno = 0;
		code = strtol(e, &end, 10);
		if (end == e || *end != '\0' || errno != 0 || code < 0 ||
		    code > 255)
			return mpctl_say(EXIT_USAGE, "%s: -E wants an exit "
			    "code from 0 to 255, not '%s'", c->who, e);
		c->conflict = (int)code;
	}
	return 0;
}

static bool
is_help(const char *word)
{
	return strcmp(word, "-h") == 0 || strcmp(word, "--help") == 0;
}

int
parse_args(struct ctx *c, int argc, char **argv)
{
	const char *gval[GOPT_COUNT] = { NULL };
	const struct type *t = NULL;
	const struct verb *v;
	int i = 1, min, max, rc;

	if ((rc = parse_opts(argc, argv, &i, global_opts, GOPT_COUNT, ~0u,
	    gval, "")) != 0)
		return rc;
	if (gval[GOPT_HELP] != NULL) {
		help_top(stdout);
		return EXIT_TRUE;
	}
	if (gval[GOPT_VERSION] != NULL) {
		printf("mpctl %d.%d\n", MPMGR_VERSION_MAJOR,
		    MPMGR_VERSION_MINOR);
		return EXIT_TRUE;
	}
	c->socket_path = gval[GOPT_SOCKET];
	c->authkey_file = gval[GOPT_AUTHKEY];
	if (i >= argc)
		return mpctl_say(EXIT_USAGE, "missing TYPE or command (see "
		    "mpctl --help)");
	if ((v = find_verb(NULL, argv[i])) == NULL) {
		if ((t = find_type(argv[i])) == NULL)
			return unknown_word(argv[i]);
		if (++i >= argc)
			return mpctl_say(EXIT_USAGE, "%s: missing VERB (see "
			    "mpctl %s --help)", t->name, t->name);
		if (is_help(argv[i])) {
			help_type(stdout, t);
			return EXIT_TRUE;
		}
		if ((v = find_verb(t->name, argv[i])) == NULL)
			return unknown_verb(t, argv[i]);
	}
	i++;
	c->verb = v;
	snprintf(c->who, sizeof(c->who), "%s%s%s", t != NULL ? t->name : "",
	    t != NULL ? " " : "", v->name);
	if ((rc = parse_opts(argc, argv, &i, parse_verb_opts, OPT_COUNT,
	    v->opts, c->opt, c->who)) != 0)
		return rc;
	c->operands = argv + i;
	c->noperands = argc - i;
	if ((v->flags & F_PERMUTE) && (rc = parse_permuted(argc, argv, i,
	    v->opts, c->opt, c->who, &c->noperands)) != 0)
		return rc;
	if (c->opt[OPT_HELP] != NULL) {
		help_verb(stdout, v);
		return EXIT_TRUE;
	}
	if ((rc = parse_numbers(c)) != 0)
		return rc;
	verbs_operands(v, &min, &max);
	if (c->noperands < min || (max >= 0 && c->noperands > max))
		return mpctl_say(EXIT_USAGE, "%s: wants %s, got %d operand%s "
		    "(see mpctl %s --help)", c->who,
		    v->usage[0] ? v->usage : "no operands", c->noperands,
		    c->noperands == 1 ? "" : "s", c->who);
	c->name = c->opt[OPT_NAME] != NULL ? c->opt[OPT_NAME] :
	    t != NULL ? t->name : NULL;
	return -1;
}
