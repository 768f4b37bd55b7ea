/*
 * mpctl_parse.c: mpctl's grammar: how argv (or one line of a batch)
 * becomes one struct ctx, and the --help texts and "did you mean" hints
 * that describe it.
 *
 *   mpctl [OPTIONS] TYPE VERB [OPTIONS | OPERANDS]... [-- OPERANDS...]
 *   mpctl [OPTIONS] SERVER-VERB [OPTIONS | OPERANDS]... [-- OPERANDS...]
 *   mpctl [OPTIONS] {batch | -}
 *
 * Options are recognised anywhere before "--": before TYPE, between the
 * operands, after them (an option that used to follow an operand was
 * stored as data). A number-like token ("-10", "-.5", "-1e3") and "-"
 * are operands, never options; "--" ends the options, so a value that
 * starts with '-' goes after it (or through --string's "--name=VALUE"
 * forms, -x or --file). The one exception is exec: its first operand
 * starts CMD, and every word after it is CMD's (flock(1), env(1)).
 *
 * An option's argument given as the next word may not look like an
 * option ("-n --" is flock's habit, not a lock named "--"); "--name=-x"
 * says that it is one. Which verb takes which option, its operand counts
 * and its usage come from the verb table (mpctl_verbs.c); an option
 * given to a verb that does not take it is a usage error, wherever it
 * stood. Every usage error is said here and is exit status 2.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../proto/mpmgr_proto.h"
#include "../proto/scan.h"
#include "mpctl.h"
#include "mpctl_json.h"

const struct opt parse_opts[OPT_COUNT] = {
	[OPT_SOCKET] = { .short_name = 's', .long_name = "socket",
	    .arg = "PATH", .help = "the daemon's socket" },
	[OPT_AUTHKEY] = { .short_name = 'k', .long_name = "authkey-file",
	    .arg = "FILE", .help = "the authkey file (never the key itself)" },
	[OPT_NAME] = { .short_name = 'n', .long_name = "name", .arg = "NAME",
	    .help = "the object's name (default: the type's name)" },
	[OPT_TIMEOUT] = { .short_name = 't', .long_name = "timeout",
	    .arg = "SECS",
	    .help = "wait at most SECS (0: do not wait); bounds the command" },
	[OPT_QUIET] = { .short_name = 'q', .long_name = "quiet",
	    .help = "print no result; the exit status says it" },
	[OPT_STRING] = { .long_name = "string",
	    .help = "keys and values are strings, never JSON" },
	[OPT_JSON] = { .long_name = "json",
	    .help = "print results as JSON, a bare string too" },
	[OPT_STDIN] = { .short_name = 'x', .long_name = "stdin",
	    .help = "the last operand is stdin's bytes" },
	[OPT_FILE] = { .long_name = "file", .arg = "FILE",
	    .help = "the last operand is FILE's bytes" },
	[OPT_DEFAULT] = { .long_name = "default", .arg = "VALUE",
	    .help = "what to answer when KEY is missing" },
	[OPT_LINES] = { .long_name = "lines",
	    .help = "put one item per line of stdin" },
	[OPT_NAMES] = { .long_name = "names",
	    .help = "print the names only, one a line" },
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
	[OPT_TTL] = { .long_name = "ttl", .arg = "SECS",
	    .help = "hold a lease of SECS, extended while CMD runs" },
	[OPT_REPLACE] = { .long_name = "replace",
	    .help = "replace objects that exist (default: refuse them)" },
	[OPT_RECONNECT] = { .short_name = 'w', .long_name = "wait-daemon",
	    .arg = "SECS",
	    .help = "wait up to SECS for the daemon (to come back)" },
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
	[OPT_PID] = { .long_name = "pid", .arg = "PID",
	    .help = "every connection process PID made" },
	[OPT_HELP] = { .short_name = 'h', .long_name = "help",
	    .help = "this help; mpctl TYPE [VERB] --help for more" },
	[OPT_VERSION] = { .short_name = 'V', .long_name = "version",
	    .help = "print mpctl's version (mpctl version: the daemon's too)" },
};

#define OPTS_ALL (O(OPT_COUNT) - 1)

static const char paths[] =
"Socket: -s, else $MPMGR_SOCKET, else /run/mpmgr/mpmgr.sock for root,\n"
"$XDG_RUNTIME_DIR/mpmgr/mpmgr.sock for a user, /tmp/mpmgr-UID/mpmgr.sock\n"
"without XDG_RUNTIME_DIR. Authkey file: -k, else $MPMGR_AUTHKEY_FILE, else\n"
"$CREDENTIALS_DIRECTORY/authkey, /etc/mpmgr/authkey with root's default\n"
"socket, else \"authkey\" beside the socket.\n";

static const char notes[] =
"Options go anywhere before --, before TYPE too. A number-like token\n"
"(-10, -.5, -1e3) and - are always operands; -- ends the options, so a\n"
"value starting with - goes after it. exec's CMD starts at its first\n"
"operand. An option's argument may not look like an option (-n --):\n"
"write --name=-x for a name that starts with -.\n"
"\n"
"Operands: a key or value is JSON when it parses as JSON (5, -1.5, true,\n"
"null, \"5\", [1,2], {\"a\":1}), else the string as typed; --string makes\n"
"them strings. Integers are int64, or uint64 up to 2^64-1. -x (--stdin)\n"
"and --file FILE give the last operand as those bytes, read as the others\n"
"are (bytes that are not UTF-8 text go as binary).\n"
"\n"
"Output: results print as one line of compact JSON, except that a bare\n"
"string prints as itself (--json prints it quoted). Binary values print as\n"
"{\"$bin\":\"BASE64\"} and msgpack ext values as {\"$ext\":[TYPE,\"BASE64\"]};\n"
"both forms are read back as binary and ext. A map key that is not a\n"
"string prints as its JSON text in a string. Floats print in the shortest\n"
"form that reads back the same; NaN and Infinity as those words. -q\n"
"prints nothing, nor the errors that exit 1: the status says it.\n"
"\n"
"Waiting: -t SECS (a number, fractions allowed) bounds a blocking verb;\n"
"0 does not wait; without -t it waits forever. An acquire or wait that\n"
"times out answers false, a queue get EMPTY, a put FULL, a barrier wait\n"
"TIMEOUT. -t bounds the whole command, connecting included: a daemon that\n"
"has not answered 2 s after SECS is unresponsive (exit 3). -w SECS waits\n"
"up to SECS for a daemon that is not there yet (starting, restarting) and\n"
"connects again if it restarts during the command; a request in flight\n"
"then fails with EINFLIGHT (exit 4): it may or may not have run.\n"
"\n"
"Holding: a lock, rlock or semaphore permit is held by a connection and\n"
"given back when it closes, so `TYPE exec -n NAME -- CMD...` holds it\n"
"while CMD runs (CMD inherits the connection); condition wait and notify\n"
"acquire and release the condition's lock themselves. Plain acquire and\n"
"release are refused (status 2) unless the object was created with\n"
"--no-release-on-disconnect (release_on_disconnect false).\n"
"\n"
"Batch: `mpctl batch` (or `mpctl -`) reads one command a line from stdin\n"
"(words split as a shell does: quotes, backslashes; # comments) and sends\n"
"them on one connection, pipelined; each prints one line, an error as\n"
"\"(error) CODE: message\". The status is the worst of theirs.\n"
"\n"
"Exit status: 0 success or true; 1 a predicate answered false (contains,\n"
"cas not done, an acquire or wait that timed out) or the error NOKEY,\n"
"EMPTY, FULL or TIMEOUT; 2 usage error; 3 cannot connect or authenticate,\n"
"or no answer in time; 4 any other error (BROKEN, NOOBJ...); 5 nothing\n"
"more will come: EOF (a pipe's other end is closed) or SHUTDOWN (a queue\n"
"shut down and empty, or the daemon stopping); 6 LOST (a process record\n"
"without an exit code). exec and process start --wait exit with CMD's\n"
"status, process join with the process's (128 + N when signal N killed\n"
"it); exec with -E's CODE (1) when -t passed first and CMD did not\n"
"run. Errors go to stderr as \"mpctl: CODE: message\".\n";

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

const struct type *
parse_type(const char *word)
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

const struct verb *
parse_verb(const char *type, const char *word)
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

/* Every type's name and alias, to g. */
static void
guess_types(struct guess *g)
{
	size_t i;

	for (i = 0; i < verbs_ntypes; i++) {
		guess_offer(g, verbs_types[i].name);
		if (verbs_types[i].alias != NULL)
			guess_offer(g, verbs_types[i].alias);
	}
}

int
parse_unknown_type(const char *who, const char *word)
{
	struct guess g = { .word = word, .best = SIZE_MAX };
	char hint[160];

	guess_types(&g);
	return mpctl_say(EXIT_USAGE, "%s: unknown type '%s'%s (see mpctl "
	    "--help)", who, word, guess_text(&g, "", hint, sizeof(hint)));
}

/* "unknown type or command 'dcit'; did you mean 'dict'?" */
static int
unknown_word(const char *word)
{
	struct guess g = { .word = word, .best = SIZE_MAX };
	char hint[160];
	size_t i;

	guess_types(&g);
	for (i = 0; i < verbs_nverbs; i++) {
		if (verbs_table[i].type == NULL)
			guess_offer(&g, verbs_table[i].name);
	}
	guess_offer(&g, "batch");
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

/*
 * TYPE without VERB. A type named as a server verb's method ("list", and
 * obj.list is ls) is likely that verb: say so.
 */
static int
missing_verb(const struct type *t)
{
	const char *m, *dot;
	size_t i;

	for (i = 0; i < verbs_nverbs; i++) {
		if (verbs_table[i].type != NULL)
			continue;
		m = verbs_method(&verbs_table[i]);
		dot = strchr(m, '.');
		if (dot != NULL && strcmp(dot + 1, t->name) == 0)
			return mpctl_say(EXIT_USAGE, "%s: missing VERB (see "
			    "mpctl %s --help); to %s the objects: mpctl %s",
			    t->name, t->name, t->name, verbs_table[i].name);
	}
	return mpctl_say(EXIT_USAGE, "%s: missing VERB (see mpctl %s --help)",
	    t->name, t->name);
}

/* --- help --------------------------------------------------------------- */

opt_mask
parse_allowed(const struct verb *v)
{
	opt_mask opts = v->opts | OPTS_ALWAYS;
	int min, max;

	verbs_operands(v, &min, &max);
	if (max == 0)
		opts &= ~(O(OPT_STDIN) | O(OPT_FILE));
	return opts;
}

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
help_opts(FILE *f, opt_mask allowed)
{
	char buf[64];
	int width = 24;
	size_t i;

	for (i = 0; i < OPT_COUNT; i++) {
		if (!(allowed & O(i)))
			continue;
		format_opt(&parse_opts[i], buf, sizeof(buf));
		if ((int)strlen(buf) > width)
			width = (int)strlen(buf);
	}
	for (i = 0; i < OPT_COUNT; i++) {
		if (!(allowed & O(i)))
			continue;
		format_opt(&parse_opts[i], buf, sizeof(buf));
		fprintf(f, "  %-*s %s\n", width, buf, parse_opts[i].help);
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
	    "[-t SECS] [--ttl SECS] [-E CODE] -- CMD...\n"
	    "       mpctl [-s PATH] [-k FILE] {batch|-} [--json] < "
	    "COMMANDS\n\n"
	    "The shared objects of mpmgrd, from the shell.\n\n"
	    "Global options:\n", f);
	help_opts(f, OPTS_GLOBAL);
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
	fputs("\nVerb options (anywhere before --; mpctl TYPE VERB --help says "
	    "which a verb\ntakes):\n", f);
	help_opts(f, OPTS_ALL & ~OPTS_GLOBAL);
	fprintf(f, "\n%s\n%s", paths, notes);
}

static void
help_type(FILE *f, const struct type *t)
{
	opt_mask opts = 0;
	size_t i;

	fprintf(f, "usage: mpctl %s VERB [-n NAME] [OPTIONS] [OPERANDS...]\n\n"
	    "%s: %s.\nNAME defaults to \"%s\".\n\nVerbs:\n", t->name, t->name,
	    t->summary, t->name);
	help_verb_list(f, t->name);
	for (i = 0; i < verbs_nverbs; i++) {
		if (verb_of(&verbs_table[i], t->name))
			opts |= parse_allowed(&verbs_table[i]);
	}
	fputs("\nOptions (anywhere before --; mpctl TYPE VERB --help says "
	    "which a verb\ntakes):\n", f);
	help_opts(f, opts & ~OPTS_GLOBAL);
	fputs("\nmpctl --help tells how operands are read and results printed,"
	    "\nand what the exit status means.\n", f);
}

static void
help_verb(FILE *f, const struct verb *v)
{
	opt_mask allowed = parse_allowed(v);
	const struct opt *o;
	char buf[256];
	size_t i;

	fprintf(f, "usage: mpctl %s%s%s", v->type ? v->type : "",
	    v->type ? " " : "", v->name);
	for (i = 0; i < OPT_COUNT; i++) {
		o = &parse_opts[i];
		if (!(allowed & O(i)) || (OPTS_GLOBAL & O(i)))
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
	fprintf(f, "Method: %s.\n\nOptions (%s):\n", verbs_method(v),
	    v->flags & F_CMD ? "before CMD" : "anywhere before --");
	help_opts(f, allowed);
	fputs("\nmpctl --help tells how operands are read and results printed,"
	    "\nand what the exit status means.\n", f);
}

/* --- options ----------------------------------------------------------- */

int
parse_option(const char *name, size_t len, char short_name)
{
	size_t i;

	for (i = 0; i < OPT_COUNT; i++) {
		if (short_name ? parse_opts[i].short_name == short_name :
		    strlen(parse_opts[i].long_name) == len &&
		    strncmp(parse_opts[i].long_name, name, len) == 0)
			return (int)i;
	}
	return -1;
}

static int
unknown_long(const char *pre, const char *see, opt_mask allowed,
    const char *token)
{
	char name[40], hint[160];
	struct guess g = { .word = name, .best = SIZE_MAX };
	size_t len = strcspn(token + 2, "="), i;

	snprintf(name, sizeof(name), "%.*s", (int)len, token + 2);
	for (i = 0; i < OPT_COUNT; i++) {
		if (allowed & O(i))
			guess_offer(&g, parse_opts[i].long_name);
	}
	return mpctl_say(EXIT_USAGE, "%sunknown option '%s'%s (see %s)", pre,
	    token, guess_text(&g, "--", hint, sizeof(hint)), see);
}

bool
parse_is_operand(const char *t)
{
	return t[0] != '-' || t[1] == '\0' ||
	    mpctl_json_is_negative_number(t);
}

/*
 * The argument of option id as the next word, t: refused when it looks
 * like an option ("-n --" meaning flock's "do not wait", "-n -t 5"
 * missing its NAME).
 */
static int
opt_word(int id, const char *t, const char *pre)
{
	const struct opt *o = &parse_opts[id];

	if (parse_is_operand(t))
		return 0;
	if (id == OPT_NAME && strcmp(t, "--") == 0)
		return mpctl_say(EXIT_USAGE, "%soption -n needs NAME, not '--' "
		    "(flock's -n, do not wait, is -t 0 here)", pre);
	return mpctl_say(EXIT_USAGE, "%soption --%s needs %s, not the option "
	    "'%s' (a %s that starts with '-' is written --%s=%s)", pre,
	    o->long_name, o->arg, t, o->arg, o->long_name, t);
}

/*
 * Parse the option token argv[*i] (and its argument, when it takes one)
 * into val[] (the argument, or "" for a flag), leaving *i after them.
 * An option that is not in allowed is a usage error. Returns 0, or
 * EXIT_USAGE after saying why; pre ("dict get: ") names the culprit and
 * see the help to read.
 */
static int
parse_opt(int argc, char **argv, int *i, opt_mask allowed, const char **val,
    const char *pre, const char *see)
{
	const char *t = argv[(*i)++], *eq, *p;
	size_t len;
	int id;

	if (t[1] == '-') {
		eq = strchr(t + 2, '=');
		len = eq != NULL ? (size_t)(eq - (t + 2)) : strlen(t + 2);
		id = parse_option(t + 2, len, 0);
		if (id < 0)
			return unknown_long(pre, see, allowed, t);
		if (!(allowed & O(id)))
			return mpctl_say(EXIT_USAGE, "%soption '--%s' does not "
			    "apply here (see %s)", pre, parse_opts[id].long_name,
			    see);
		if (parse_opts[id].arg == NULL && eq != NULL)
			return mpctl_say(EXIT_USAGE, "%soption '--%s' takes no "
			    "argument", pre, parse_opts[id].long_name);
		if (parse_opts[id].arg == NULL)
			val[id] = "";
		else if (eq != NULL)
			val[id] = eq + 1;
		else if (*i < argc)
			val[id] = argv[(*i)++];
		else
			return mpctl_say(EXIT_USAGE, "%soption '--%s' needs %s",
			    pre, parse_opts[id].long_name, parse_opts[id].arg);
		if (parse_opts[id].arg != NULL && eq == NULL)
			return opt_word(id, val[id], pre);
		return 0;
	}
	for (p = t + 1; *p != '\0'; p++) {
		id = parse_option(NULL, 0, *p);
		if (id < 0)
			return mpctl_say(EXIT_USAGE, "%sunknown option '-%c' "
			    "(see %s)", pre, *p, see);
		if (!(allowed & O(id)))
			return mpctl_say(EXIT_USAGE, "%soption '-%c' does not "
			    "apply here (see %s)", pre, *p, see);
		if (parse_opts[id].arg == NULL) {
			val[id] = "";
			continue;
		}
		if (p[1] != '\0') {
			val[id] = p + 1;
			return 0;
		}
		if (*i >= argc)
			return mpctl_say(EXIT_USAGE, "%soption '-%c' needs %s",
			    pre, *p, parse_opts[id].arg);
		val[id] = argv[(*i)++];
		return opt_word(id, val[id], pre);
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
 * Options from argv[*i] up to the first operand (TYPE), where *i is left:
 * any option of the table; the verb, once known, judges them.
 */
static int
parse_leading(int argc, char **argv, int *i, const char **val)
{
	int rc;

	while (*i < argc && !parse_is_operand(argv[*i])) {
		if (strcmp(argv[*i], "--") == 0)
			return mpctl_say(EXIT_USAGE, "'--' before the verb (see "
			    "mpctl --help)");
		if ((rc = parse_opt(argc, argv, i, OPTS_ALL, val, "",
		    "mpctl --help")) != 0)
			return rc;
	}
	return 0;
}

/*
 * The words after VERB, from argv[first]: options anywhere before "--"
 * (for F_CMD verbs, before the first operand), the operands moved, in
 * their order, to argv[first...], counted in *n and ended by a NULL
 * (argv[argc] is one, so there is room).
 */
static int
parse_rest(struct ctx *c, int argc, char **argv, int first, int *n)
{
	opt_mask allowed = parse_allowed(c->verb);
	char pre[96], see[96];
	int j = first, rc;

	who_texts(c->who, pre, sizeof(pre), see, sizeof(see));
	*n = 0;
	while (j < argc) {
		if (strcmp(argv[j], "--") == 0) {
			for (j++; j < argc; j++)
				argv[first + (*n)++] = argv[j];
			break;
		}
		if (parse_is_operand(argv[j])) {
			do
				argv[first + (*n)++] = argv[j++];
			while ((c->verb->flags & F_CMD) && j < argc);
			continue;
		}
		if ((rc = parse_opt(argc, argv, &j, allowed, c->opt, pre,
		    see)) != 0)
			return rc;
	}
	/* NULL-terminated like argv (exec's CMD is execvp's argv). */
	argv[first + *n] = NULL;
	return 0;
}

/* Seconds from text into *secs: a number >= 0 (> 0 if positive). */
static bool
parse_secs(const char *t, bool positive, double *secs)
{
	char *end;

	errno = 0;
	*secs = strtod(t, &end);
	return end != t && *end == '\0' && errno == 0 && isfinite(*secs) &&
	    (positive ? *secs > 0 : *secs >= 0);
}

/* -w SECS into c->wait. */
static int
parse_reconnect(struct ctx *c)
{
	const char *w = c->opt[OPT_RECONNECT];

	if (w != NULL && !parse_secs(w, false, &c->wait))
		return mpctl_say(EXIT_USAGE, "%s: -w wants seconds, a number "
		    ">= 0, not '%s'", c->who, w);
	return 0;
}

/* -w SECS into c->wait, -t SECS into c->timeout, --ttl SECS into c->ttl
 * and -E CODE into c->conflict. */
static int
parse_numbers(struct ctx *c)
{
	const char *t = c->opt[OPT_TIMEOUT], *e = c->opt[OPT_CONFLICT];
	char *end;
	long code;
	int rc;

	if ((rc = parse_reconnect(c)) != 0)
		return rc;
	if (t != NULL && !parse_secs(t, false, &c->timeout))
		return mpctl_say(EXIT_USAGE, "%s: -t wants seconds, a number "
		    ">= 0 (0: do not wait), not '%s'", c->who, t);
	if (c->opt[OPT_TTL] != NULL && !parse_secs(c->opt[OPT_TTL], true,
	    &c->ttl))
		return mpctl_say(EXIT_USAGE, "%s: --ttl wants seconds, a "
		    "number > 0, not '%s'", c->who, c->opt[OPT_TTL]);
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

const char *
parse_create_hint(const char *type, const char *name, char *buf, size_t len)
{
	const struct verb *v = parse_verb(type, "create");

	if (v == NULL)
		return NULL;
	snprintf(buf, len, "mpctl %s create -n %s%s%s", type, name,
	    v->usage[0] ? " " : "", v->usage);
	return buf;
}

/*
 * One operand too many is most often a Redis habit: `dict get users
 * alice` for the key alice of the dict users, or a default where the
 * default is an option.
 */
static int
too_many(const struct ctx *c, int max)
{
	const struct verb *v = c->verb;
	char also[96] = "";

	if (v->type == NULL || c->noperands != max + 1 ||
	    c->opt[OPT_NAME] != NULL)
		return mpctl_say(EXIT_USAGE, "%s: wants %s, got %d operands "
		    "(see mpctl %s --help)", c->who,
		    v->usage[0] ? v->usage : "no operands", c->noperands,
		    c->who);
	if (v->opts & O(OPT_DEFAULT))
		snprintf(also, sizeof(also), "; a default goes in --default "
		    "VALUE");
	return mpctl_say(EXIT_USAGE, "%s: wants %s, got %d operands: the "
	    "object's name goes in -n NAME (mpctl %s -n %s%s%s)%s (see mpctl "
	    "%s --help)", c->who, v->usage[0] ? v->usage : "no operands",
	    c->noperands, c->who, c->operands[0], max > 0 ? " " : "",
	    max > 0 ? c->operands[1] : "", also, c->who);
}

/* Whether the bytes are UTF-8 text without NUL: one operand as typed. */
static bool
is_text(const char *p, size_t n)
{
	return memchr(p, '\0', n) == NULL && scan_utf8((const uint8_t *)p, n);
}

/* -x or --file FILE: the bytes, as the last operand. */
static int
parse_input(struct ctx *c)
{
	const char *file = c->opt[OPT_FILE];
	int fd = 0, rc, i;

	if (c->opt[OPT_STDIN] != NULL && file != NULL)
		return mpctl_say(EXIT_USAGE, "%s: -x and --file both give the "
		    "last operand: one of them", c->who);
	if (file != NULL && strcmp(file, "-") != 0 &&
	    (fd = open(file, O_RDONLY | O_CLOEXEC)) == -1)
		return mpctl_say(EXIT_USAGE, "%s: --file %s: %s", c->who,
		    file, strerror(errno));
	rc = mpctl_read_all(fd, &c->input, &c->inputlen);
	if (fd != 0)
		close(fd);
	if (rc == -1)
		return mpctl_say(EXIT_USAGE, "%s: cannot read %s: %s", c->who,
		    file != NULL ? file : "stdin", strerror(errno));
	c->input_bin = !is_text(c->input, c->inputlen);
	if ((c->opbuf = calloc((size_t)c->noperands + 1,
	    sizeof(*c->opbuf))) == NULL)
		return mpctl_say(EXIT_ERROR, "%s: out of memory", c->who);
	for (i = 0; i < c->noperands; i++)
		c->opbuf[i] = c->operands[i];
	c->opbuf[c->noperands++] = c->input;
	c->operands = c->opbuf;
	return 0;
}

/* The counts of operands, with what -x, --file and --lines add. */
static int
parse_count(struct ctx *c)
{
	const struct verb *v = c->verb;
	bool input = c->opt[OPT_STDIN] != NULL || c->opt[OPT_FILE] != NULL;
	int min, max, n = c->noperands + input;

	if (c->opt[OPT_LINES] != NULL) {
		if (input || c->noperands > 0)
			return mpctl_say(EXIT_USAGE, "%s: --lines takes the "
			    "items from stdin, one a line: no ITEM", c->who);
		return 0;
	}
	verbs_operands(v, &min, &max);
	if (max >= 0 && n > max)
		return input ? mpctl_say(EXIT_USAGE, "%s: wants %s, got %d "
		    "operands and %s (see mpctl %s --help)", c->who,
		    v->usage[0] ? v->usage : "no operands", c->noperands,
		    c->opt[OPT_STDIN] != NULL ? "-x" : "--file", c->who) :
		    too_many(c, max);
	if (n < min)
		return mpctl_say(EXIT_USAGE, "%s: wants %s, got %d operand%s "
		    "(see mpctl %s --help)", c->who,
		    v->usage[0] ? v->usage : "no operands", n,
		    n == 1 ? "" : "s", c->who);
	return 0;
}

/*
 * From the TYPE or server verb at argv[i]: the verb, its options and
 * operands into c. In a batch line, options that choose the daemon or
 * print help are refused.
 */
static int
parse_command(struct ctx *c, int argc, char **argv, int i)
{
	const struct type *t = NULL;
	const struct verb *v;
	opt_mask allowed;
	size_t k;
	int rc;

	if ((v = parse_verb(NULL, argv[i])) == NULL) {
		if ((t = parse_type(argv[i])) == NULL)
			return unknown_word(argv[i]);
		/* Options between TYPE and VERB too; --help alone is the
		 * type's. */
		i++;
		if (!c->batch && i + 1 == argc && (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0)) {
			help_type(stdout, t);
			return EXIT_TRUE;
		}
		if ((rc = parse_leading(argc, argv, &i, c->opt)) != 0)
			return rc;
		if (i >= argc && c->opt[OPT_HELP] != NULL && !c->batch) {
			help_type(stdout, t);
			return EXIT_TRUE;
		}
		if (i >= argc)
			return missing_verb(t);
		if ((v = parse_verb(t->name, argv[i])) == NULL)
			return unknown_verb(t, argv[i]);
	}
	i++;
	c->verb = v;
	c->type = t;
	snprintf(c->who, sizeof(c->who), "%s%s%s", t != NULL ? t->name : "",
	    t != NULL ? " " : "", v->name);
	if ((rc = parse_rest(c, argc, argv, i, &c->noperands)) != 0)
		return rc;
	c->operands = argv + i;
	/* What stood before TYPE is judged now that the verb is known. */
	allowed = parse_allowed(v);
	/* The batch chose the daemon; stdin holds the batch itself. */
	if (c->batch)
		allowed &= ~(OPTS_GLOBAL | O(OPT_QUIET) | O(OPT_STDIN) |
		    O(OPT_LINES));
	for (k = 0; k < OPT_COUNT; k++) {
		if (c->opt[k] != NULL && !(allowed & O(k)))
			return mpctl_say(EXIT_USAGE, "%s: option '--%s' does not "
			    "apply%s (see mpctl %s --help)", c->who,
			    parse_opts[k].long_name, c->batch ? " in batch mode" :
			    "", c->who);
	}
	if (c->opt[OPT_HELP] != NULL) {
		help_verb(stdout, v);
		return EXIT_TRUE;
	}
	if ((rc = parse_numbers(c)) != 0 || (rc = parse_count(c)) != 0)
		return rc;
	c->name = c->opt[OPT_NAME] != NULL ? c->opt[OPT_NAME] :
	    t != NULL ? t->name : NULL;
	if (c->opt[OPT_SOCKET] != NULL)
		c->socket_path = c->opt[OPT_SOCKET];
	if (c->opt[OPT_AUTHKEY] != NULL)
		c->authkey_file = c->opt[OPT_AUTHKEY];
	if ((c->opt[OPT_STDIN] != NULL || c->opt[OPT_FILE] != NULL) &&
	    (rc = parse_input(c)) != 0)
		return rc;
	return -1;
}

static void
help_batch(FILE *f)
{
	fputs("usage: mpctl [-s PATH] [-k FILE] batch [--json] [--string] < "
	    "COMMANDS\n"
	    "       mpctl [-s PATH] [-k FILE] - [--json] [--string] < "
	    "COMMANDS\n\n"
	    "Reads commands from stdin, one a line, as mpctl's arguments would "
	    "be written\n"
	    "(TYPE VERB [-n NAME] [OPTIONS] [OPERANDS...]; words split as a "
	    "shell does:\n"
	    "'single', \"double\" with \\ escapes, \\ outside quotes; "
	    "blank lines and #\n"
	    "comments skipped), and sends them on one connection, pipelined: "
	    "one\n"
	    "handshake for all. Each command prints one line: its result as "
	    "mpctl prints\n"
	    "it, an empty line when there is none, \"(error) CODE: message\" "
	    "when it\n"
	    "fails. Replies come in order; a command that waits holds back the "
	    "ones after\n"
	    "it. --json and --string apply to every line.\n\n"
	    "Not in batch mode: exec, plain acquire and release, condition "
	    "wait and\n"
	    "notify, ls, rm, version, -s, -k, -x, -q, --lines. queue get is the "
	    "plain\n"
	    "method: on an ack queue its items stay leased to the batch's "
	    "connection\n"
	    "until a `queue task_done` line, and go back when mpctl exits.\n\n"
	    "Exit status: the worst of the commands' (0, 1, 2 for a line that "
	    "does not\n"
	    "parse, 4), or 3 when the daemon cannot be reached.\n", f);
}

/* mpctl [OPTIONS] batch [OPTIONS]: c->verb stays NULL. */
static int
parse_batch(struct ctx *c, int argc, char **argv, int i)
{
	opt_mask allowed = OPTS_GLOBAL | O(OPT_JSON) | O(OPT_STRING);
	size_t k;
	int rc;

	snprintf(c->who, sizeof(c->who), "batch");
	while (i < argc) {
		if (parse_is_operand(argv[i]) || strcmp(argv[i], "--") == 0)
			return mpctl_say(EXIT_USAGE, "batch: takes no operands: "
			    "the commands come from stdin");
		if ((rc = parse_opt(argc, argv, &i, allowed, c->opt,
		    "batch: ", "mpctl batch --help")) != 0)
			return rc;
	}
	for (k = 0; k < OPT_COUNT; k++) {
		if (c->opt[k] != NULL && !(allowed & O(k)))
			return mpctl_say(EXIT_USAGE, "batch: option '--%s' does "
			    "not apply (see mpctl batch --help)",
			    parse_opts[k].long_name);
	}
	if (c->opt[OPT_HELP] != NULL) {
		help_batch(stdout);
		return EXIT_TRUE;
	}
	if ((rc = parse_reconnect(c)) != 0)
		return rc;
	c->socket_path = c->opt[OPT_SOCKET];
	c->authkey_file = c->opt[OPT_AUTHKEY];
	c->verb = NULL;
	return -1;
}

int
parse_args(struct ctx *c, int argc, char **argv)
{
	int i = 1, rc;

	if ((rc = parse_leading(argc, argv, &i, c->opt)) != 0)
		return rc;
	if (c->opt[OPT_HELP] != NULL) {
		help_top(stdout);
		return EXIT_TRUE;
	}
	if (c->opt[OPT_VERSION] != NULL) {
		printf("mpctl %s (protocol %d)\n", MPMGR_VERSION,
		    MPMGR_PROTO_VERSION);
		return EXIT_TRUE;
	}
	if (i >= argc)
		return mpctl_say(EXIT_USAGE, "missing TYPE or command (see "
		    "mpctl --help)");
	if (strcmp(argv[i], "-") == 0 || strcmp(argv[i], "batch") == 0)
		return parse_batch(c, argc, argv, i + 1);
	return parse_command(c, argc, argv, i);
}

int
parse_line(struct ctx *c, int argc, char **argv)
{
	int i = 0, rc;

	if ((rc = parse_leading(argc, argv, &i, c->opt)) != 0)
		return rc;
	if (i >= argc)
		return mpctl_say(EXIT_USAGE, "missing TYPE or command");
	rc = parse_command(c, argc, argv, i);
	return rc == EXIT_TRUE ? EXIT_USAGE : rc;
}
