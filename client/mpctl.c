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
 * What a connection holds (a lock, an rlock, semaphore permits) is given
 * back when it closes, and mpctl's connection closes when mpctl exits. So
 * the shell verbs hold on one connection for as long as something runs:
 * `exec` acquires, runs CMD with the connection's socket inherited (what is
 * held lives while mpctl or CMD lives), waits for it and releases;
 * `condition wait/notify` run acquire + verb + release. Plain acquire and
 * release are refused unless the object was created with
 * release_on_disconnect false (they would be undone at once otherwise).
 *
 * Promises: the key is never taken from argv; every message on stderr
 * starts with "mpctl:"; the exit status is 0 for success or true, 1 for a
 * predicate that answered false (acquire or wait timing out included) or
 * the errors NOKEY, EMPTY, FULL, TIMEOUT, 2 for a usage error, 3 when the
 * daemon cannot be reached or the handshake fails, 4 for any other error;
 * `exec` exits with CMD's status (128 + N when signal N killed it), or -E's
 * code when the acquire timed out and nothing ran. Operand and output
 * conversions live in mpctl_json.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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
	const char *key;        /* the create option it sets, or NULL: to its
				   argument, or to true (false when off) */
	bool off;
};

/*
 * Options between VERB and the first operand, as allowed per verb (for
 * F_PERMUTE verbs, after operands too).
 */
enum verb_opt { OPT_NAME, OPT_STRING, OPT_JSON, OPT_TIMEOUT, OPT_CONFLICT,
	OPT_REVERSE, OPT_ACK, OPT_BOUNDED, OPT_LOCK, OPT_KEEP, OPT_HELP,
	OPT_COUNT };

static const struct opt verb_opts[OPT_COUNT] = {
	[OPT_NAME] = { .short_name = 'n', .long_name = "name", .arg = "NAME",
	    .help = "the object's name (default: the type's name)" },
	[OPT_STRING] = { .long_name = "string",
	    .help = "keys and values are strings, never JSON" },
	[OPT_JSON] = { .long_name = "json",
	    .help = "print results as JSON, a bare string too" },
	[OPT_TIMEOUT] = { .short_name = 't', .long_name = "timeout",
	    .arg = "SECS", .help = "wait at most SECS seconds (0: do not wait)" },
	[OPT_CONFLICT] = { .short_name = 'E', .long_name = "conflict-exit-code",
	    .arg = "CODE", .help = "exit CODE (1) when -t passes first" },
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
	[OPT_HELP] = { .short_name = 'h', .long_name = "help",
	    .help = "this help" },
};

#define O(id) (1u << (id))
#define OPTS_OBJECT (O(OPT_NAME) | O(OPT_STRING) | O(OPT_JSON) | O(OPT_HELP))
#define OPTS_WAIT (OPTS_OBJECT | O(OPT_TIMEOUT))
#define OPTS_EXEC (O(OPT_NAME) | O(OPT_TIMEOUT) | O(OPT_CONFLICT) | \
	O(OPT_HELP))
#define OPTS_SERVER (O(OPT_JSON) | O(OPT_HELP))

/* Options before TYPE. */
enum global_opt { GOPT_SOCKET, GOPT_AUTHKEY, GOPT_HELP, GOPT_VERSION,
	GOPT_COUNT };

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

/* How a verb's result prints and what its exit status says. */
#define F_NIL 0x01       /* the result is always nil: print nothing */
#define F_PREDICATE 0x02 /* a bool: print it; false exits 1 */
#define F_CAS 0x04       /* [ok, current]: print it; not ok exits 1 */
#define F_NAMES 0x08     /* operands are object or type names: strings */
#define F_PERMUTE 0x10   /* options may follow operands too (create verbs,
			    whose operands never start with '-' but numbers) */

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
	const char *keys[2];    /* create: the option operand i sets */
	const char *help;       /* more for VERB --help, or NULL */
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
	const char *who;                /* "lock exec", for messages */
	const char *name;               /* the object, for typed verbs */
	const char *opt[OPT_COUNT];     /* argument, "" for a flag, NULL unset */
	double timeout;                 /* -t; < 0: none given, wait forever */
	int conflict;                   /* -E */
	char **operands;
	int noperands;
	msgpack_sbuffer args;           /* the params after the name, packed */
	uint32_t nargs;
	mpmgr *h;
};

static int run_update(struct ctx *);
static int run_scan(struct ctx *);
static int run_create(struct ctx *);
static int run_array_create(struct ctx *);
static int run_items(struct ctx *);
static int run_get(struct ctx *);
static int run_hold(struct ctx *);
static int run_exec(struct ctx *);
static int run_cond(struct ctx *);
static int run_ls(struct ctx *);
static int run_rm(struct ctx *);
static int run_stats(struct ctx *);

static const struct type types[] = {
	{ "dict", NULL, "an insertion-ordered dictionary of JSON-like values" },
	{ "value", NULL, "one value: a counter, a flag, a setting" },
	{ "list", NULL, "a list with Python's indexes and slices" },
	{ "queue", NULL, "a FIFO queue, optionally bounded, joinable, acked" },
	{ "lock", NULL, "a mutual-exclusion lock, held by a connection" },
	{ "rlock", NULL, "a reentrant lock: its owner may acquire it again" },
	{ "semaphore", "sem", "a counter of permits" },
	{ "event", NULL, "a flag processes wait for" },
	{ "condition", NULL, "a condition variable on a lock" },
	{ "barrier", NULL, "a meeting point of N parties" },
	{ "array", NULL, "a fixed-length array of one C number type" },
};

/* The help of exec, for lock, rlock and semaphore. */
#define EXEC_HELP \
"Acquires NAME (one permit of a semaphore) on one connection, runs CMD\n" \
"with that connection's socket inherited, waits for CMD, releases NAME\n" \
"and exits with CMD's status (128 + N when signal N killed it). When -t\n" \
"passes first, CMD does not run and the status is CODE (default 1), as\n" \
"with flock(1).\n" \
"\n" \
"What is held lives as long as the connection, and the connection as long\n" \
"as mpctl or CMD (or a child of CMD that kept the socket) is alive:\n" \
"killing mpctl alone does not release NAME while CMD runs; when both are\n" \
"gone the daemon releases it (unless NAME was created with\n" \
"--no-release-on-disconnect). CMD finds the socket's number in\n" \
"$MPMGR_HELD_FD and may close it (sh: exec N>&-) in children that must\n" \
"not hold NAME. SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to mpctl by\n" \
"another process are passed on to CMD, and mpctl still waits for CMD before\n" \
"releasing; those a terminal sends already reach CMD and are not repeated.\n" \
"An error of the daemon while releasing is reported on stderr; the status\n" \
"stays CMD's."

/* The help of plain acquire and release. */
#define HOLD_HELP \
"What a connection holds is given back when it closes, and mpctl's closes\n" \
"when mpctl exits: so this verb is refused (status 2) unless the object\n" \
"was created with --no-release-on-disconnect. To hold it while something\n" \
"runs, use exec; for a condition, wait and notify acquire and release its\n" \
"lock themselves."

/* An rlock kept on disconnect stays its owner's, who is gone. */
#define RLOCK_HOLD_HELP HOLD_HELP "\n\n" \
"An rlock's owner is the connection that acquired it: once that mpctl has\n" \
"exited, a release by anyone else is NOTOWNER, and only `mpctl rm` frees\n" \
"it (the same holds for a condition's own rlock)."

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
	  .run = run_create, .keys = { "value" } },

	/* list */
	{ .type = "list", .name = "append", .method = "list.append", .min = 1,
	  .max = 1, .flags = F_NIL, .opts = OPTS_OBJECT, .usage = "VALUE",
	  .summary = "add VALUE at the end" },
	{ .type = "list", .name = "extend", .method = "list.extend", .min = 1,
	  .max = -1, .flags = F_NIL, .opts = OPTS_OBJECT,
	  .usage = "{ITEMS | ITEM...}",
	  .summary = "add a JSON array's items, or each operand, at the end",
	  .run = run_items },
	{ .type = "list", .name = "insert", .method = "list.insert", .min = 2,
	  .max = 2, .numeric = 1, .flags = F_NIL, .opts = OPTS_OBJECT,
	  .usage = "INDEX VALUE",
	  .summary = "insert VALUE before INDEX (negative: from the end)" },
	{ .type = "list", .name = "pop", .method = "list.pop", .max = 1,
	  .numeric = 1, .opts = OPTS_OBJECT, .usage = "[INDEX]",
	  .summary = "remove and print the element at INDEX (-1); NOINDEX" },
	{ .type = "list", .name = "remove", .method = "list.remove", .min = 1,
	  .max = 1, .flags = F_NIL, .opts = OPTS_OBJECT, .usage = "VALUE",
	  .summary = "remove the first element equal to VALUE; NOTFOUND" },
	{ .type = "list", .name = "index", .method = "list.index", .min = 1,
	  .max = 3, .numeric = 6, .opts = OPTS_OBJECT,
	  .usage = "VALUE [START [STOP]]",
	  .summary = "the index of the first element equal to VALUE; "
	  "NOTFOUND" },
	{ .type = "list", .name = "count", .method = "list.count", .min = 1,
	  .max = 1, .opts = OPTS_OBJECT, .usage = "VALUE",
	  .summary = "how many elements equal VALUE" },
	{ .type = "list", .name = "reverse", .method = "list.reverse",
	  .flags = F_NIL, .opts = OPTS_OBJECT, .usage = "",
	  .summary = "reverse the elements in place" },
	{ .type = "list", .name = "sort", .method = "list.sort",
	  .flags = F_NIL, .opts = OPTS_OBJECT | O(OPT_REVERSE), .usage = "",
	  .summary = "stable sort of numbers or strings; a mix is BADTYPE" },
	{ .type = "list", .name = "get", .method = "list.get", .min = 1,
	  .max = 1, .numeric = 1, .opts = OPTS_OBJECT, .usage = "INDEX",
	  .summary = "the element at INDEX; NOINDEX" },
	{ .type = "list", .name = "slice", .method = "list.slice", .min = 2,
	  .max = 3, .numeric = 7, .opts = OPTS_OBJECT,
	  .usage = "START STOP [STEP]",
	  .summary = "list[START:STOP:STEP] as a JSON array (null: omitted)" },
	{ .type = "list", .name = "set", .method = "list.set", .min = 2,
	  .max = 2, .numeric = 1, .flags = F_NIL, .opts = OPTS_OBJECT,
	  .usage = "INDEX VALUE", .summary = "replace the element at INDEX" },
	{ .type = "list", .name = "delete", .alias = "del",
	  .method = "list.delete", .min = 1, .max = 1, .numeric = 1,
	  .flags = F_NIL, .opts = OPTS_OBJECT, .usage = "INDEX",
	  .summary = "remove the element at INDEX; NOINDEX" },
	{ .type = "list", .name = "len", .method = "list.len",
	  .opts = OPTS_OBJECT, .usage = "",
	  .summary = "the number of elements" },
	{ .type = "list", .name = "contains", .alias = "has",
	  .method = "list.contains", .min = 1, .max = 1, .flags = F_PREDICATE,
	  .opts = OPTS_OBJECT, .usage = "VALUE",
	  .summary = "true (exit 0) if an element equals VALUE, else false "
	  "(exit 1)" },
	{ .type = "list", .name = "clear", .method = "list.clear",
	  .flags = F_NIL, .opts = OPTS_OBJECT, .usage = "",
	  .summary = "remove every element" },
	{ .type = "list", .name = "copy", .method = "list.copy",
	  .opts = OPTS_OBJECT, .usage = "",
	  .summary = "the whole list as a JSON array" },
	{ .type = "list", .name = "create", .method = "list.create",
	  .flags = F_NIL, .opts = OPTS_OBJECT, .usage = "",
	  .summary = "create explicitly: it stays, even empty, until rm" },

	/* queue */
	{ .type = "queue", .name = "put", .method = "queue.put", .min = 1,
	  .max = 1, .flags = F_NIL, .opts = OPTS_WAIT, .usage = "ITEM",
	  .summary = "add ITEM; waits while full; FULL (exit 1) after -t" },
	{ .type = "queue", .name = "get", .method = "queue.get",
	  .opts = OPTS_WAIT, .usage = "",
	  .summary = "remove and print the oldest item; waits while empty; "
	  "EMPTY (exit 1) after -t", .run = run_get,
	  .help = "On an ack queue, mpctl marks the item done (task_done) once "
	  "it is written\nto stdout: an mpctl killed before that gives it "
	  "back to the queue." },
	{ .type = "queue", .name = "put_many", .method = "queue.put_many",
	  .min = 1, .max = -1, .flags = F_NIL, .opts = OPTS_WAIT,
	  .usage = "{ITEMS | ITEM...}",
	  .summary = "add a JSON array's items, or each operand: all or none",
	  .run = run_items },
	{ .type = "queue", .name = "get_many", .method = "queue.get_many",
	  .min = 1, .max = 1, .numeric = 1, .opts = OPTS_WAIT, .usage = "N",
	  .summary = "remove and print 1 to N items as a JSON array; waits "
	  "while empty", .run = run_get,
	  .help = "On an ack queue, mpctl marks the items done (task_done) "
	  "once they are written\nto stdout: an mpctl killed before that gives "
	  "them back to the queue." },
	{ .type = "queue", .name = "qsize", .method = "queue.qsize",
	  .opts = OPTS_OBJECT, .usage = "", .summary = "the number of items" },
	{ .type = "queue", .name = "empty", .method = "queue.empty",
	  .flags = F_PREDICATE, .opts = OPTS_OBJECT, .usage = "",
	  .summary = "true (exit 0) if it holds no item, else false (exit 1)" },
	{ .type = "queue", .name = "full", .method = "queue.full",
	  .flags = F_PREDICATE, .opts = OPTS_OBJECT, .usage = "",
	  .summary = "true (exit 0) if bounded and at its maxsize, else false "
	  "(exit 1)" },
	{ .type = "queue", .name = "task_done", .method = "queue.task_done",
	  .flags = F_NIL, .opts = OPTS_OBJECT, .usage = "",
	  .summary = "mark one got item done (not for ack queues: see get)" },
	{ .type = "queue", .name = "join", .method = "queue.join",
	  .flags = F_PREDICATE, .opts = OPTS_WAIT, .usage = "",
	  .summary = "wait until every item put is done: true, or false (exit "
	  "1) after -t" },
	{ .type = "queue", .name = "create", .method = "queue.create",
	  .max = 1, .numeric = 1, .flags = F_NIL | F_PERMUTE,
	  .opts = OPTS_OBJECT | O(OPT_ACK), .usage = "[MAXSIZE]",
	  .summary = "create explicitly, bounded to MAXSIZE items (0: not); "
	  "it stays until rm", .run = run_create, .keys = { "maxsize" } },

	/* lock */
	{ .type = "lock", .name = "exec", .method = "lock.acquire", .min = 1,
	  .max = -1, .opts = OPTS_EXEC, .usage = "[--] CMD [ARG...]",
	  .summary = "hold it while CMD runs; exit with CMD's status",
	  .run = run_exec, .help = EXEC_HELP },
	{ .type = "lock", .name = "locked", .method = "lock.locked",
	  .flags = F_PREDICATE, .opts = OPTS_OBJECT, .usage = "",
	  .summary = "true (exit 0) if held, else false (exit 1)" },
	{ .type = "lock", .name = "acquire", .method = "lock.acquire",
	  .flags = F_PREDICATE, .opts = OPTS_WAIT, .usage = "",
	  .summary = "only with --no-release-on-disconnect: take it; false "
	  "(exit 1) after -t", .run = run_hold, .help = HOLD_HELP },
	{ .type = "lock", .name = "release", .method = "lock.release",
	  .flags = F_NIL, .opts = OPTS_OBJECT, .usage = "",
	  .summary = "only with --no-release-on-disconnect: let it go",
	  .run = run_hold, .help = HOLD_HELP },
	{ .type = "lock", .name = "create", .method = "lock.create",
	  .flags = F_NIL | F_PERMUTE, .opts = OPTS_OBJECT | O(OPT_KEEP),
	  .usage = "", .summary = "create explicitly: it stays until rm",
	  .run = run_create },

	/* rlock */
	{ .type = "rlock", .name = "exec", .method = "rlock.acquire", .min = 1,
	  .max = -1, .opts = OPTS_EXEC, .usage = "[--] CMD [ARG...]",
	  .summary = "hold it while CMD runs; exit with CMD's status",
	  .run = run_exec, .help = EXEC_HELP },
	{ .type = "rlock", .name = "locked", .method = "rlock.locked",
	  .flags = F_PREDICATE, .opts = OPTS_OBJECT, .usage = "",
	  .summary = "true (exit 0) if held, else false (exit 1)" },
	{ .type = "rlock", .name = "acquire", .method = "rlock.acquire",
	  .flags = F_PREDICATE, .opts = OPTS_WAIT, .usage = "",
	  .summary = "only with --no-release-on-disconnect: take it; false "
	  "(exit 1) after -t", .run = run_hold, .help = RLOCK_HOLD_HELP },
	{ .type = "rlock", .name = "release", .method = "rlock.release",
	  .flags = F_NIL, .opts = OPTS_OBJECT, .usage = "",
	  .summary = "only with --no-release-on-disconnect: let it go (its "
	  "owner only: NOTOWNER)", .run = run_hold, .help = RLOCK_HOLD_HELP },
	{ .type = "rlock", .name = "create", .method = "rlock.create",
	  .flags = F_NIL | F_PERMUTE, .opts = OPTS_OBJECT | O(OPT_KEEP),
	  .usage = "", .summary = "create explicitly: it stays until rm",
	  .run = run_create },

	/* semaphore */
	{ .type = "semaphore", .name = "exec", .method = "semaphore.acquire",
	  .min = 1, .max = -1, .opts = OPTS_EXEC, .usage = "[--] CMD [ARG...]",
	  .summary = "hold a permit while CMD runs; exit with CMD's status",
	  .run = run_exec, .help = EXEC_HELP },
	{ .type = "semaphore", .name = "value", .method = "semaphore.value",
	  .opts = OPTS_OBJECT, .usage = "",
	  .summary = "the permits left (1 for a missing one)" },
	{ .type = "semaphore", .name = "acquire",
	  .method = "semaphore.acquire", .flags = F_PREDICATE,
	  .opts = OPTS_WAIT, .usage = "",
	  .summary = "only with --no-release-on-disconnect: take a permit; "
	  "false (exit 1) after -t", .run = run_hold, .help = HOLD_HELP },
	{ .type = "semaphore", .name = "release",
	  .method = "semaphore.release", .max = 1, .numeric = 1,
	  .flags = F_NIL, .opts = OPTS_OBJECT, .usage = "[N]",
	  .summary = "only with --no-release-on-disconnect: give N (1) "
	  "permits back", .run = run_hold, .help = HOLD_HELP },
	{ .type = "semaphore", .name = "create", .method = "semaphore.create",
	  .max = 1, .numeric = 1, .flags = F_NIL | F_PERMUTE,
	  .opts = OPTS_OBJECT | O(OPT_BOUNDED) | O(OPT_KEEP),
	  .usage = "[VALUE]",
	  .summary = "create explicitly with VALUE (1) permits; it stays until "
	  "rm", .run = run_create, .keys = { "value" } },

	/* event */
	{ .type = "event", .name = "wait", .method = "event.wait",
	  .flags = F_PREDICATE, .opts = OPTS_WAIT, .usage = "",
	  .summary = "wait until set: true, or false (exit 1) after -t" },
	{ .type = "event", .name = "set", .method = "event.set",
	  .flags = F_NIL, .opts = OPTS_OBJECT, .usage = "",
	  .summary = "set it: every waiter wakes; it stays set until clear" },
	{ .type = "event", .name = "clear", .method = "event.clear",
	  .flags = F_NIL, .opts = OPTS_OBJECT, .usage = "",
	  .summary = "unset it" },
	{ .type = "event", .name = "is_set", .method = "event.is_set",
	  .flags = F_PREDICATE, .opts = OPTS_OBJECT, .usage = "",
	  .summary = "true (exit 0) if set, else false (exit 1)" },
	{ .type = "event", .name = "create", .method = "event.create",
	  .flags = F_NIL, .opts = OPTS_OBJECT, .usage = "",
	  .summary = "create explicitly: it stays, even unset, until rm" },

	/* condition */
	{ .type = "condition", .name = "wait", .method = "condition.wait",
	  .flags = F_PREDICATE, .opts = OPTS_WAIT, .usage = "",
	  .summary = "acquire its lock, wait for a notify, release: true, or "
	  "false (exit 1) after -t", .run = run_cond,
	  .help = "-t bounds the whole: acquiring the lock, then the wait.\n"
	  "A notify sent before this waiter parks is not seen (no condition is "
	  "kept)." },
	{ .type = "condition", .name = "notify", .method = "condition.notify",
	  .max = 1, .numeric = 1, .flags = F_NIL, .opts = OPTS_WAIT,
	  .usage = "[N]",
	  .summary = "acquire its lock, wake the N (1) oldest waiters, release",
	  .run = run_cond, .help = "-t bounds the wait for the lock: TIMEOUT "
	  "(exit 1) and nobody is notified." },
	{ .type = "condition", .name = "notify_all",
	  .method = "condition.notify_all", .flags = F_NIL, .opts = OPTS_WAIT,
	  .usage = "",
	  .summary = "acquire its lock, wake every waiter, release",
	  .run = run_cond, .help = "-t bounds the wait for the lock: TIMEOUT "
	  "(exit 1) and nobody is notified." },
	{ .type = "condition", .name = "acquire",
	  .method = "condition.acquire", .flags = F_PREDICATE,
	  .opts = OPTS_WAIT, .usage = "",
	  .summary = "only with --no-release-on-disconnect: take its lock; "
	  "false (exit 1) after -t", .run = run_hold, .help = HOLD_HELP },
	{ .type = "condition", .name = "release",
	  .method = "condition.release", .flags = F_NIL, .opts = OPTS_OBJECT,
	  .usage = "", .summary = "only with --no-release-on-disconnect: "
	  "release its lock", .run = run_hold, .help = HOLD_HELP },
	{ .type = "condition", .name = "create", .method = "condition.create",
	  .flags = F_NIL | F_PERMUTE,
	  .opts = OPTS_OBJECT | O(OPT_LOCK) | O(OPT_KEEP), .usage = "",
	  .summary = "create explicitly, on its own rlock or --lock NAME; it "
	  "stays until rm", .run = run_create,
	  .help = "--no-release-on-disconnect applies to its own rlock; a "
	  "named lock has its own\n(set when that lock is created). See "
	  "mpctl rlock acquire --help." },

	/* barrier */
	{ .type = "barrier", .name = "wait", .method = "barrier.wait",
	  .opts = OPTS_WAIT, .usage = "",
	  .summary = "wait for all parties; print the arrival index (0 first); "
	  "TIMEOUT (exit 1, and it breaks), BROKEN (exit 4)" },
	{ .type = "barrier", .name = "abort", .method = "barrier.abort",
	  .flags = F_NIL, .opts = OPTS_OBJECT, .usage = "",
	  .summary = "break it: waiters and later waits get BROKEN" },
	{ .type = "barrier", .name = "reset", .method = "barrier.reset",
	  .flags = F_NIL, .opts = OPTS_OBJECT, .usage = "",
	  .summary = "waiters get BROKEN; it starts over, unbroken" },
	{ .type = "barrier", .name = "parties", .method = "barrier.parties",
	  .opts = OPTS_OBJECT, .usage = "",
	  .summary = "the number of parties" },
	{ .type = "barrier", .name = "n_waiting", .method = "barrier.n_waiting",
	  .opts = OPTS_OBJECT, .usage = "",
	  .summary = "the number of parties waiting now" },
	{ .type = "barrier", .name = "broken", .method = "barrier.broken",
	  .flags = F_PREDICATE, .opts = OPTS_OBJECT, .usage = "",
	  .summary = "true (exit 0) if broken, else false (exit 1)" },
	{ .type = "barrier", .name = "create", .method = "barrier.create",
	  .min = 1, .max = 1, .numeric = 1, .flags = F_NIL | F_PERMUTE,
	  .opts = OPTS_OBJECT, .usage = "PARTIES",
	  .summary = "create it for PARTIES parties (required before any use)",
	  .run = run_create, .keys = { "parties" } },

	/* array */
	{ .type = "array", .name = "get", .method = "array.get", .max = 1,
	  .numeric = 1, .opts = OPTS_OBJECT, .usage = "[INDEX]",
	  .summary = "the element at INDEX, or all as a JSON array; NOINDEX" },
	{ .type = "array", .name = "set", .method = "array.set", .min = 2,
	  .max = 2, .numeric = 1, .flags = F_NIL, .opts = OPTS_OBJECT,
	  .usage = "INDEX VALUE",
	  .summary = "store VALUE at INDEX; RANGE if it does not fit" },
	{ .type = "array", .name = "len", .method = "array.len",
	  .opts = OPTS_OBJECT, .usage = "",
	  .summary = "the number of elements" },
	{ .type = "array", .name = "create", .method = "array.create",
	  .min = 2, .max = 2, .numeric = 2, .flags = F_NIL | F_PERMUTE,
	  .opts = OPTS_OBJECT, .usage = "TYPECODE {LENGTH | ITEMS}",
	  .summary = "create it (required before any use): LENGTH zeros or a "
	  "JSON array of ITEMS", .run = run_array_create,
	  .help = "TYPECODE: b B h H i I l L q Q (ints of 8 to 64 bits, upper "
	  "case unsigned),\nf (float32) or d (float64)." },

	/* server-wide */
	{ .name = "ping", .method = "sys.ping", .opts = OPTS_SERVER,
	  .usage = "", .summary = "print pong if the daemon answers" },
	{ .name = "ls", .method = "obj.list", .max = 1, .flags = F_NAMES,
	  .opts = OPTS_SERVER, .usage = "[TYPE]",
	  .summary = "the objects (of TYPE): NAME TYPE SIZE", .run = run_ls },
	{ .name = "info", .method = "obj.info", .min = 1, .max = 1,
	  .flags = F_NAMES, .opts = OPTS_SERVER, .usage = "NAME",
	  .summary = "one object's name, type, size, memory, waiters, options "
	  "(JSON)" },
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
"4 any other error (BROKEN, NOOBJ...). exec exits with CMD's status (128 +\n"
"N when signal N killed it), or -E's CODE (1) when -t passed first and\n"
"CMD did not run. Errors go to stderr as \"mpctl: CODE: message\".\n";

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
	int width = 24;

	for (size_t i = 0; i < n; i++) {
		if (!(allowed & O(i)))
			continue;
		format_opt(&tab[i], buf, sizeof buf);
		if ((int)strlen(buf) > width)
			width = (int)strlen(buf);
	}
	for (size_t i = 0; i < n; i++) {
		if (!(allowed & O(i)))
			continue;
		format_opt(&tab[i], buf, sizeof buf);
		fprintf(f, "  %-*s %s\n", width, buf, tab[i].help);
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
	    "[OPERANDS...]\n"
	    "       mpctl [-s PATH] [-k FILE] {lock|rlock|sem} exec -n NAME "
	    "[-t SECS] [-E CODE] -- CMD...\n\n"
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
	unsigned opts = 0;

	fprintf(f, "usage: mpctl %s VERB [-n NAME] [OPTIONS] [OPERANDS...]\n\n"
	    "%s: %s.\nNAME defaults to \"%s\".\n\nVerbs:\n", t->name, t->name,
	    t->summary, t->name);

	help_verb_list(f, t->name);
	for (size_t i = 0; i < NELEM(verbs); i++) {
		if (verbs[i].type && strcmp(verbs[i].type, t->name) == 0)
			opts |= verbs[i].opts;
	}
	fputs("\nOptions (between VERB and the first operand; -- ends them;\n"
	    "mpctl TYPE VERB --help says which a verb takes):\n", f);
	help_opts(f, verb_opts, OPT_COUNT, opts);
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
	if (v->help)
		fprintf(f, "\n%s\n\n", v->help);
	if (v->alias)
		fprintf(f, "Also spelled: %s.\n", v->alias);
	fprintf(f, "Method: %s.\n\nOptions%s:\n", v->method,
	    v->flags & F_PERMUTE ? " (before or after the operands)" : "");
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

/* Whether a token is an operand: not an option, not "--". */
static bool is_operand(const char *t)
{
	return t[0] != '-' || t[1] == '\0' || mpctl_json_is_negative_number(t);
}

/*
 * Parse the option token argv[*i] (and its argument, when it takes one)
 * into val[] (the argument, or "" for a flag), leaving *i after them.
 * Returns 0, or EXIT_USAGE after saying why; pre ("dict get: ") names the
 * culprit and see the help to read.
 */
static int parse_opt(int argc, char **argv, int *i, const struct opt *tab,
    size_t n, unsigned allowed, const char **val, const char *pre,
    const char *see)
{
	const char *t = argv[(*i)++];
	int id;

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
		return 0;
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
	return 0;
}

/* "dict get: " and "mpctl dict get --help" for messages about who. */
static void who_texts(const char *who, char *pre, size_t prelen, char *see,
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
static int parse_opts(int argc, char **argv, int *i, const struct opt *tab,
    size_t n, unsigned allowed, const char **val, const char *who)
{
	char pre[96], see[96];
	int rc;

	who_texts(who, pre, sizeof pre, see, sizeof see);
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
static int parse_permuted(int argc, char **argv, int first,
    unsigned allowed, const char **val, const char *who, int *n)
{
	char pre[96], see[96];
	int j = first, rc;

	who_texts(who, pre, sizeof pre, see, sizeof see);
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
		if ((rc = parse_opt(argc, argv, &j, verb_opts, OPT_COUNT,
		    allowed, val, pre, see)) != 0)
			return rc;
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

/* Seconds as the wire's timeout param. */
static void pack_timeout(struct ctx *c, double secs)
{
	msgpack_packer pk;

	msgpack_packer_init(&pk, &c->args, msgpack_sbuffer_write);
	msgpack_pack_double(&pk, secs);
	c->nargs++;
}

/*
 * The operands, then --reverse as true and -t as the timeout: the verbs
 * that take those have a fixed number of operands, so the params they
 * become are always last.
 */
static int pack_operands(struct ctx *c)
{
	msgpack_packer pk;

	for (int i = 0; i < c->noperands; i++) {
		bool numeric = i < 32 && (c->verb->numeric & (1u << i));
		if (pack_operand(c, c->operands[i], numeric) != 0)
			return EXIT_USAGE;
	}
	if (c->opt[OPT_REVERSE]) {
		msgpack_packer_init(&pk, &c->args, msgpack_sbuffer_write);
		msgpack_pack_true(&pk);
		c->nargs++;
	}
	if (c->timeout >= 0)
		pack_timeout(c, c->timeout);
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

/*
 * TYPE.create name {options}: operand i goes under keys[i], and each
 * option with a key (--ack, --lock NAME...) under its own; no options map
 * at all when there is nothing to say, so the type's defaults apply.
 */
static int pack_create(struct ctx *c, const char *const keys[2])
{
	msgpack_packer pk;
	uint32_t n = (uint32_t)c->noperands;
	int rc;

	for (size_t i = 0; i < OPT_COUNT; i++)
		n += verb_opts[i].key != NULL && c->opt[i] != NULL;
	if (n > 0) {
		msgpack_packer_init(&pk, &c->args, msgpack_sbuffer_write);
		msgpack_pack_map(&pk, n);
		for (int i = 0; i < c->noperands; i++) {
			msgpack_pack_str_with_body(&pk, keys[i],
			    strlen(keys[i]));
			if ((rc = pack_operand(c, c->operands[i],
			    c->verb->numeric & (1u << i))) != 0)
				return rc;
		}
		for (size_t i = 0; i < OPT_COUNT; i++) {
			const struct opt *o = &verb_opts[i];
			if (o->key == NULL || c->opt[i] == NULL)
				continue;
			msgpack_pack_str_with_body(&pk, o->key, strlen(o->key));
			if (o->arg)
				msgpack_pack_str_with_body(&pk, c->opt[i],
				    strlen(c->opt[i]));
			else if (o->off)
				msgpack_pack_false(&pk);
			else
				msgpack_pack_true(&pk);
		}
		c->nargs = 1;
	}
	return finish(c);
}

static int run_create(struct ctx *c)
{
	return pack_create(c, c->verb->keys);
}

/* TYPECODE then LENGTH, or ITEMS when that operand is a JSON array. */
static int run_array_create(struct ctx *c)
{
	const char *keys[2] = { "typecode", "length" };
	const char *second = c->operands[1];

	second += strspn(second, " \t\n\r");
	if (second[0] == '[')
		keys[1] = "items";
	return pack_create(c, keys);
}

/* A msgpack array header starts these bytes. */
static bool packed_array(const msgpack_sbuffer *sb)
{
	unsigned char b = sb->size > 0 ? (unsigned char)sb->data[0] : 0;

	return (b & 0xf0) == 0x90 || b == 0xdc || b == 0xdd;
}

/* Each operand as one item of an array param. */
static int pack_item_list(struct ctx *c)
{
	msgpack_packer pk;
	int rc;

	msgpack_packer_init(&pk, &c->args, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, (size_t)c->noperands);
	for (int i = 0; i < c->noperands; i++) {
		if ((rc = pack_operand(c, c->operands[i], false)) != 0)
			return rc;
	}
	c->nargs = 1;
	return 0;
}

/*
 * list extend, queue put_many: one operand that is a JSON array gives the
 * items (as Python's extend([...])); otherwise each operand is one item.
 */
static int run_items(struct ctx *c)
{
	int rc;

	if (c->noperands == 1 && c->opt[OPT_STRING] == NULL) {
		if ((rc = pack_operand(c, c->operands[0], false)) != 0)
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
		pack_timeout(c, c->timeout);
	return finish(c);
}

/* The value under key in map m (NULL-safe), or NULL. */
static const msgpack_object *map_get(const msgpack_object *m,
    const char *key)
{
	size_t len = strlen(key);

	if (m == NULL || m->type != MSGPACK_OBJECT_MAP)
		return NULL;
	for (uint32_t i = 0; i < m->via.map.size; i++) {
		const msgpack_object *k = &m->via.map.ptr[i].key;
		if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == len &&
		    memcmp(k->via.str.ptr, key, len) == 0)
			return &m->via.map.ptr[i].val;
	}
	return NULL;
}

static bool is_bool(const msgpack_object *o, bool b)
{
	return o != NULL && o->type == MSGPACK_OBJECT_BOOLEAN &&
	    o->via.boolean == b;
}

static bool is_str(const msgpack_object *o, const char *s)
{
	return o != NULL && o->type == MSGPACK_OBJECT_STR &&
	    o->via.str.size == strlen(s) &&
	    memcmp(o->via.str.ptr, s, o->via.str.size) == 0;
}

/*
 * Send method with params [name] or, when timeout >= 0, [name, timeout],
 * without reading the reply: the requests a runner adds around its verb.
 */
static int send_named(struct ctx *c, const char *method, const char *name,
    double timeout)
{
	msgpack_packer *pk;

	pk = mpmgr_request_begin(c->h, method, timeout >= 0 ? 2 : 1);
	if (pk == NULL)
		return MPMGR_EINVAL;
	msgpack_pack_str_with_body(pk, name, strlen(name));
	if (timeout >= 0)
		msgpack_pack_double(pk, timeout);
	return mpmgr_request_end(c->h);
}

/*
 * queue get and get_many. An ack queue leases what it hands out to the
 * getter's connection until that connection's task_done, and takes it
 * back when the connection closes: mpctl's closes as it exits, so on an
 * ack queue mpctl marks the items done once they are written to stdout.
 * obj.info, pipelined before the get, tells whether the queue is one (a
 * missing queue is made by the get with the defaults: not acked).
 */
static int run_get(struct ctx *c)
{
	msgpack_object res;
	uint32_t n = 1;
	bool ack = false;
	int err, rc;

	if ((rc = pack_operands(c)) != 0 || (rc = connect_daemon(c)) != 0)
		return rc;
	if ((err = send_named(c, "obj.info", c->name, -1)) != MPMGR_OK ||
	    (err = send_request(c)) != MPMGR_OK)
		return fail(c, err);
	err = mpmgr_reply(c->h, &res);
	if (err == MPMGR_OK)
		ack = is_bool(map_get(map_get(&res, "options"), "ack"), true);
	else if (err != MPMGR_ENOOBJ)
		return fail(c, err);
	if ((err = mpmgr_reply(c->h, &res)) != MPMGR_OK)
		return fail(c, err);
	if (c->noperands > 0 && res.type == MSGPACK_OBJECT_ARRAY)
		n = res.via.array.size;
	rc = print_result(c, &res);
	/* Output that did not get out is not done: it goes back. */
	if (!ack || fflush(stdout) != 0 || ferror(stdout))
		return rc;
	for (uint32_t i = 0; i < n; i++) {
		if ((err = send_named(c, "queue.task_done", c->name, -1)) !=
		    MPMGR_OK)
			return fail(c, err);
	}
	for (uint32_t i = 0; i < n; i++) {
		if ((err = mpmgr_reply(c->h, NULL)) != MPMGR_OK)
			return fail(c, err);
	}
	return rc;
}

/*
 * Whether what a connection holds in name stays held after it closes:
 * its release_on_disconnect is false (for a condition on a named lock,
 * that lock's: follow). A missing object would be made with the default,
 * true. An object of another type is not for mpctl to judge: the verb
 * goes through and the daemon answers WRONGTYPE. 0 or an MPMGR_E* code.
 */
static int hold_kept(struct ctx *c, const char *name, bool follow,
    bool *kept)
{
	const msgpack_object *type, *opts, *lock;
	msgpack_object res;
	char lockname[256];
	int err;

	*kept = false;
	if ((err = send_named(c, "obj.info", name, -1)) != MPMGR_OK)
		return err;
	if ((err = mpmgr_reply(c->h, &res)) != MPMGR_OK)
		return err == MPMGR_ENOOBJ ? MPMGR_OK : err;
	type = map_get(&res, "type");
	opts = map_get(&res, "options");
	lock = map_get(opts, "lock");
	if (follow && !is_str(type, c->verb->type)) {
		*kept = true;
		return MPMGR_OK;
	}
	if (follow && lock != NULL && lock->type == MSGPACK_OBJECT_STR &&
	    lock->via.str.size < sizeof lockname) {
		memcpy(lockname, lock->via.str.ptr, lock->via.str.size);
		lockname[lock->via.str.size] = '\0';
		return hold_kept(c, lockname, false, kept);
	}
	*kept = is_bool(map_get(opts, "release_on_disconnect"), false);
	return MPMGR_OK;
}

/* Plain acquire and release: only where a hold outlives mpctl. */
static int run_hold(struct ctx *c)
{
	const char *type = c->verb->type;
	msgpack_object res;
	bool kept;
	int err, rc;

	if ((rc = pack_operands(c)) != 0 || (rc = connect_daemon(c)) != 0)
		return rc;
	if ((err = hold_kept(c, c->name, true, &kept)) != MPMGR_OK)
		return fail(c, err);
	if (!kept && strcmp(type, "condition") == 0)
		return say(EXIT_USAGE, "%s: refused: the lock of '%s' is "
		    "released when its holder disconnects, and mpctl "
		    "disconnects as it exits: plain acquire and release are "
		    "for locks created with --no-release-on-disconnect; 'mpctl "
		    "condition wait' and 'notify' hold it themselves", c->who,
		    c->name);
	if (!kept)
		return say(EXIT_USAGE, "%s: refused: '%s' is given back when "
		    "its holder disconnects, and mpctl disconnects as it "
		    "exits: plain acquire and release are for objects created "
		    "with --no-release-on-disconnect; hold it while a command "
		    "runs with 'mpctl %s exec -n %s -- CMD...'", c->who,
		    c->name, type, c->name);
	if ((err = call(c, &res)) != MPMGR_OK)
		return fail(c, err);
	return print_result(c, &res);
}

static double now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * condition wait, notify, notify_all: acquire the condition's lock, run
 * the verb, release, on one connection. -t bounds the whole: the acquire,
 * then the wait with what is left.
 */
static int run_cond(struct ctx *c)
{
	bool wait = strcmp(c->verb->method, "condition.wait") == 0;
	double start = now_sec(), limit = c->timeout;
	msgpack_object res;
	int err, rc;

	if ((rc = connect_daemon(c)) != 0)
		return rc;
	if ((err = send_named(c, "condition.acquire", c->name, limit)) !=
	    MPMGR_OK || (err = mpmgr_reply(c->h, &res)) != MPMGR_OK)
		return fail(c, err);
	if (res.type != MSGPACK_OBJECT_BOOLEAN)
		return unexpected(&res);
	if (!res.via.boolean && wait)
		return print_result(c, &res);
	if (!res.via.boolean)
		return say(EXIT_FALSE, "TIMEOUT: %s: the lock of '%s' was not "
		    "acquired within %g s; nobody was notified", c->who,
		    c->name, limit);
	c->timeout = -1;
	if (wait && limit >= 0) {
		c->timeout = limit - (now_sec() - start);
		if (c->timeout < 0)
			c->timeout = 0;
	}
	if ((rc = pack_operands(c)) != 0)
		return rc;
	if ((err = send_request(c)) != MPMGR_OK ||
	    (err = send_named(c, "condition.release", c->name, -1)) !=
	    MPMGR_OK)
		return fail(c, err);
	/* Printed before the release's reply: res lives until that call. */
	err = mpmgr_reply(c->h, &res);
	rc = err == MPMGR_OK ? print_result(c, &res) : fail(c, err);
	/* A failed verb (DELETED...) has the release fail too: said once. */
	if ((err = mpmgr_reply(c->h, NULL)) != MPMGR_OK && rc <= EXIT_FALSE)
		rc = fail(c, err);
	return rc;
}

/* CMD's pid while exec waits for it, for forward_signal. */
static volatile sig_atomic_t cmd_pid;

/* The signals exec passes on to CMD. */
static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };

/*
 * Pass a signal on to CMD, unless CMD sent it or the kernel did: a
 * terminal's ^C, ^\ and hang-up go to the whole foreground process group,
 * CMD included, and must not arrive twice.
 */
static void forward_signal(int sig, siginfo_t *si, void *uctx)
{
	(void)uctx;
	if (cmd_pid > 0 && si->si_code <= 0 && si->si_pid != cmd_pid)
		kill(cmd_pid, sig);
}

/* In the child: CMD, keeping the connection's socket open. No return. */
static void exec_cmd(struct ctx *c, const sigset_t *mask)
{
	int fd = mpmgr_fd(c->h), flags = fcntl(fd, F_GETFD), e;
	char num[16];

	sigprocmask(SIG_SETMASK, mask, NULL);
	snprintf(num, sizeof num, "%d", fd);
	if (flags == -1 || fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC) == -1 ||
	    setenv("MPMGR_HELD_FD", num, 1) == -1) {
		say(0, "%s: cannot pass the connection on: %s", c->who,
		    strerror(errno));
		_exit(126);
	}
	execvp(c->operands[0], c->operands);
	e = errno;
	say(0, "%s: %s: %s", c->who, c->operands[0], strerror(e));
	_exit(e == ENOENT ? 127 : 126);
}

/* Run CMD in a child and wait for it: its status, shell-style. */
static int run_child(struct ctx *c)
{
	struct sigaction sa = { .sa_sigaction = forward_signal,
		.sa_flags = SA_SIGINFO | SA_RESTART };
	struct sigaction old[NELEM(forwarded)];
	sigset_t block, mask;
	int status;
	pid_t pid;

	sigemptyset(&block);
	for (size_t i = 0; i < NELEM(forwarded); i++)
		sigaddset(&block, forwarded[i]);
	/* Blocked until cmd_pid is known; the child restores the mask. */
	sigprocmask(SIG_BLOCK, &block, &mask);
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == 0)
		exec_cmd(c, &mask);
	if (pid == -1) {
		sigprocmask(SIG_SETMASK, &mask, NULL);
		return say(EXIT_ERROR, "%s: fork: %s", c->who, strerror(errno));
	}
	cmd_pid = pid;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < NELEM(forwarded); i++) {
		sigaction(forwarded[i], NULL, &old[i]);
		/* Ignored from the start (sh's `cmd &`): CMD's too, as is. */
		if (old[i].sa_handler != SIG_IGN)
			sigaction(forwarded[i], &sa, NULL);
	}
	sigprocmask(SIG_SETMASK, &mask, NULL);
	while (waitpid(pid, &status, 0) == -1) {
		if (errno != EINTR) {
			status = -1;
			say(0, "%s: waitpid: %s", c->who, strerror(errno));
			break;
		}
	}
	for (size_t i = 0; i < NELEM(forwarded); i++)
		sigaction(forwarded[i], &old[i], NULL);
	cmd_pid = 0;
	if (status == -1)
		return EXIT_ERROR;
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) :
	    WEXITSTATUS(status);
}

/*
 * lock, rlock, semaphore exec: acquire, run CMD with the connection
 * inherited (what is held lives while mpctl or CMD does), release, exit
 * with CMD's status. Nothing runs when -t passes first: -E's code.
 */
static int run_exec(struct ctx *c)
{
	char method[32];
	msgpack_object res;
	int err, rc;

	if ((rc = connect_daemon(c)) != 0)
		return rc;
	if (c->timeout >= 0)
		pack_timeout(c, c->timeout);
	if ((err = call(c, &res)) != MPMGR_OK)
		return fail(c, err);
	if (res.type != MSGPACK_OBJECT_BOOLEAN)
		return unexpected(&res);
	if (!res.via.boolean)
		return say(c->conflict, "TIMEOUT: %s: '%s' not acquired within "
		    "%g s; %s not run", c->who, c->name, c->timeout,
		    c->operands[0]);
	rc = run_child(c);
	snprintf(method, sizeof method, "%s.release", c->verb->type);
	if ((err = send_named(c, method, c->name, -1)) != MPMGR_OK ||
	    (err = mpmgr_reply(c->h, NULL)) != MPMGR_OK)
		say(0, "%s: release of '%s' after %s: %s: %s", c->who, c->name,
		    c->operands[0], mpmgr_errcode(c->h)[0] ?
		    mpmgr_errcode(c->h) : mpmgr_strerror(err),
		    mpmgr_errmsg(c->h));
	return rc;
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

/* -t SECS into c->timeout and -E CODE into c->conflict. */
static int parse_numbers(struct ctx *c)
{
	const char *t = c->opt[OPT_TIMEOUT], *e = c->opt[OPT_CONFLICT];
	char *end;
	long code;

	if (t) {
		errno = 0;
		c->timeout = strtod(t, &end);
		if (end == t || *end != '\0' || errno != 0 ||
		    !isfinite(c->timeout) || c->timeout < 0)
			return say(EXIT_USAGE, "%s: -t wants seconds, a number "
			    ">= 0 (0: do not wait), not '%s'", c->who, t);
	}
	if (e) {
		errno = 0;
		code = strtol(e, &end, 10);
		if (end == e || *end != '\0' || errno != 0 || code < 0 ||
		    code > 255)
			return say(EXIT_USAGE, "%s: -E wants an exit code "
			    "from 0 to 255, not '%s'", c->who, e);
		c->conflict = (int)code;
	}
	return 0;
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
	c->who = who;
	if ((rc = parse_opts(argc, argv, &i, verb_opts, OPT_COUNT, v->opts,
	    c->opt, who)) != 0)
		return rc;
	c->operands = argv + i;
	c->noperands = argc - i;
	if ((v->flags & F_PERMUTE) && (rc = parse_permuted(argc, argv, i,
	    v->opts, c->opt, who, &c->noperands)) != 0)
		return rc;
	if (c->opt[OPT_HELP]) {
		help_verb(stdout, v);
		return EXIT_TRUE;
	}
	if ((rc = parse_numbers(c)) != 0)
		return rc;
	if (c->noperands < v->min || (v->max >= 0 && c->noperands > v->max))
		return say(EXIT_USAGE, "%s: wants %s, got %d operand%s (see "
		    "mpctl %s --help)", who, v->usage[0] ? v->usage : "no operands",
		    c->noperands, c->noperands == 1 ? "" : "s", who);
	c->name = c->opt[OPT_NAME] ? c->opt[OPT_NAME] : t ? t->name : NULL;
	return (v->run ? v->run : run_call)(c);
}

int main(int argc, char **argv)
{
	struct ctx c = { .timeout = -1, .conflict = EXIT_FALSE };
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
