/*
 * mpctl_verbs.c: the types and verbs of mpctl, as data.
 *
 * A verb sends one method of the catalogue (proto/mpmgr_methods.h), which
 * gives its name on the wire, its summary and, unless the row says
 * otherwise (F_OPERANDS), its operand counts: the method's params less
 * the object's name (-n) and the trailing params an option gives (-t for
 * a method that blocks, --reverse, --default). A row keeps only what is
 * the CLI's own: its spelling when that is not the method's verb (exec,
 * ls, rm, info, version, aliases), its usage, which operands are numbers,
 * which options it takes (besides OPTS_ALWAYS), how its result prints
 * (F_*), the packer when the operands are not the params as they are,
 * the runner when one request does not do it (exec, ls...), the create
 * options its operands set, more help, and a summary of its own where the
 * CLI does more than the method. `mpctl TYPE --help` lists the verbs in
 * catalogue order; shell completion (mpctl_complete.c) offers them.
 *
 * Every method is some verb's, except those that mean nothing to a
 * command that connects, does one thing and exits (tests/it_mpctl_verbs.sh
 * holds the two lists together): rlock.owned (a fresh connection owns
 * nothing), sys.cancel (it takes back a request parked on the asking
 * connection, and mpctl's one request ends with its -t or its process),
 * obj.scan (ls pages through it), process.exited (only a record's
 * supervisor reports, on the connection that registered it: `process
 * start` does), pool.done and pool.fail (only the connection a job is
 * leased to reports it: `pool worker` does), and the extend of lock,
 * rlock and semaphore (only the connection holding a lease can extend
 * it, which exec --ttl does). pipe.open is sent by cat and write, which
 * hold an end while they stream; process.register by start; pool.take
 * by worker; pool.result by wait; pool.submit by map too.
 */
#include <stdio.h>

#include "mpctl.h"

const struct type verbs_types[] = {
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
	{ "pipe", NULL, "two ends that send each other messages, with EOF" },
	{ "process", NULL, "records of processes that anyone may join" },
	{ "pool", NULL, "jobs run by workers; a dead worker's job runs again" },
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
"not hold NAME. An rlock exec run under it, of an rlock that connection\n" \
"owns, acquires on it: nested rlock exec is re-entrant (such nested\n" \
"commands share the socket, so they run one at a time) and takes no\n" \
"--ttl (status 2: give it to the outer exec).\n" \
"\n" \
"SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to mpctl by another process are\n" \
"passed on to CMD, and mpctl still waits for CMD before releasing; those a\n" \
"terminal sends already reach CMD and are not repeated.\n" \
"An error of the daemon while releasing is reported on stderr; the status\n" \
"stays CMD's.\n" \
"\n" \
"CMD finds the grant's fencing token in $MPMGR_FENCE: a number larger than\n" \
"any the daemon handed out before, for the resource NAME guards to refuse\n" \
"a holder that lost NAME and still writes.\n" \
"\n" \
"--ttl SECS makes the hold a lease, which the daemon ends SECS after the\n" \
"last extend; mpctl extends it every third of SECS while CMD runs and\n" \
"keeps the connection to itself (no $MPMGR_HELD_FD). When the lease is lost\n" \
"(an extend refused, or none answered in time) CMD gets SIGTERM, SIGKILL\n" \
"5 s later if it still runs, and mpctl exits 4; if mpctl is killed, CMD\n" \
"gets SIGTERM at once."

#define DUMP_HELP \
"One line per object: a JSON object {\"name\", \"type\", \"explicit\",\n" \
"\"ephemeral\" (only when true), \"options\", \"contents\"}, the object\n" \
"as a restart would keep it: held locks released (unless kept on\n" \
"disconnect), permits and leased items given back, waiters gone. Values\n" \
"are JSON, and what JSON cannot hold exactly takes a one-key form that\n" \
"reads back as it was: {\"$bin\":B64}, {\"$ext\":[T,B64]},\n" \
"{\"$map\":[[K,V]...]} (keys that are not strings), {\"$float\":\"NaN\"},\n" \
"{\"$uint\":\"DIGITS\"} (past int64). Each object is dumped whole, but\n" \
"not all at the same moment; one deleted during the walk is left out. A\n" \
"NAME that does not exist is NOOBJ (status 4)."

#define RESTORE_HELP \
"Reads the lines of mpctl dump (blank lines and lines starting with #\n" \
"are skipped; FILE - is stdin) and makes each object as it was, with its\n" \
"options, contents and explicit or implicit status. An object that exists\n" \
"is refused (EXISTS) unless --replace, which replaces it whatever its\n" \
"type (its waiters get DELETED). Ephemeral objects are skipped: they\n" \
"belong to a connection of the daemon they come from. Every line is\n" \
"tried; the errors go to stderr with the line they come from, and the\n" \
"status is the worst (4 when an object failed, 2 for a line that is not\n" \
"a record)."

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

/* The help of the one-shot pipe verbs. */
#define PIPE_HELP \
"A one-shot verb does not hold the end: its connection closes as mpctl\n" \
"exits, and an end closes only when its last holder lets go. cat and\n" \
"write hold theirs while they stream; close closes an end nobody holds."

#define QUEUE_GET_HELP(WHAT) \
	"On an ack queue, mpctl marks " WHAT " done (task_done) once " \
	"it is written\nto stdout: an mpctl killed before that gives " \
	"it back to the queue."

/* The help of pool worker. */
#define POOL_WORKER_HELP \
"Each job is an argv array (run with execvp) or a str (run with sh -c),\n" \
"in a process group of its own, stdin /dev/null, with $MPMGR_POOL,\n" \
"$MPMGR_POOL_JOB and $MPMGR_POOL_ATTEMPT set. Its result is {exitcode,\n" \
"stdout, stderr}: N, or -SIG for signal SIG, and the last --tail bytes of\n" \
"each stream; the job is done when the exit code is 0, else failed.\n" \
"\n" \
"SIGINT, SIGTERM or SIGHUP: take no more jobs, let the running ones finish\n" \
"and report them, exit 0. A second one: kill them (SIGKILL to their groups)\n" \
"and exit 128 + N; the daemon puts their jobs back. So does kill -9 of the\n" \
"worker: a job whose worker dies runs again, up to the pool's max_attempts.\n" \
"pool terminate kills the running jobs (SIGTERM) and stops the workers; a\n" \
"cancel kills its job. The worker exits 0 once the pool is closed and no job\n" \
"is left to run."

/* How wait and map show a job. */
#define POOL_OUTPUT_HELP \
"A command's output (the tail a worker kept) goes to stdout and stderr,\n" \
"and its status is its exit status (128 + N for signal N); another result\n" \
"prints as JSON with status 0; a failure without an exit code (its worker\n" \
"died too often) or a cancelled job is said on stderr, status 1. With\n" \
"--consume each job is forgotten once shown; else it stays until rm."

/* The help of pool map. */
#define POOL_MAP_HELP \
"Each line of stdin, its newline removed, replaces every {} in CMD's\n" \
"operands (with --shell, shell-quoted in the line for sh -c), or is added\n" \
"as the last argument when there is no {}. With -j N, map runs a worker of\n" \
"its own for N jobs at a time (it stops taking when map exits or dies);\n" \
"without, the pool's workers run them. Outputs come in input order, as\n" \
"with parallel -k; the status is the first failed job's, or 0. Each result\n" \
"is consumed. SIGINT, SIGTERM or SIGHUP cancel the jobs not shown yet.\n" \
"\n" POOL_OUTPUT_HELP

/* A verb of type t spelled as its method's verb v. */
#define VERB(t, v) .type = #t, .name = #v, .method = MPMGR_MID_##t##_##v

/* exec: hold T while CMD runs. */
#define EXEC_VERB(T) \
	{ .type = #T, .name = "exec", .method = MPMGR_MID_##T##_acquire, \
	  .release = MPMGR_MID_##T##_release, \
	  .extend = MPMGR_MID_##T##_extend, .flags = F_OPERANDS | F_CMD, \
	  .min = 1, .max = -1, .opts = OPTS_EXEC, \
	  .usage = "[--] CMD [ARG...]", \
	  .summary = "hold it while CMD runs; exit with CMD's status", \
	  .run = hold_exec, .help = EXEC_HELP }

/* Plain acquire: taking WHAT, only where a hold outlives mpctl. */
#define ACQUIRE_VERB(T, WHAT, HELP) \
	{ VERB(T, acquire), .flags = F_PREDICATE, .opts = OPTS_OBJECT, \
	  .usage = "", \
	  .summary = "only with --no-release-on-disconnect: take " WHAT \
	  "; false (exit 1) after -t", .run = hold_plain, .help = HELP }

/* A create that takes no operand, options only. */
#define CREATE_VERB(T, OPTS, SUMMARY, HELP) \
	{ VERB(T, create), .min = 0, .max = 0, \
	  .flags = F_NIL | F_OPERANDS, \
	  .opts = OPTS_OBJECT | (OPTS), \
	  .usage = "", .summary = SUMMARY, .pack = mpctl_pack_create, \
	  .help = HELP }

/*
 * lock and rlock alike, as the daemon's LOCK_METHODS; NOTE ends release's
 * summary, HELP is the plain verbs' help.
 */
#define LOCK_VERBS(T, NOTE, HELP) \
	CREATE_VERB(T, O(OPT_KEEP), \
	    "create explicitly: it stays until rm", NULL), \
	EXEC_VERB(T), \
	ACQUIRE_VERB(T, "it", HELP), \
	{ VERB(T, release), .flags = F_NIL, .opts = OPTS_OBJECT, \
	  .usage = "", \
	  .summary = "only with --no-release-on-disconnect: let it go" NOTE, \
	  .run = hold_plain, .help = HELP }, \
	{ VERB(T, locked), .flags = F_PREDICATE, .opts = OPTS_OBJECT, \
	  .usage = "" }

const struct verb verbs_table[] = {
	/* dict */
	{ VERB(dict, create), .min = 0, .max = 0, .flags = F_NIL | F_OPERANDS,
	  .opts = OPTS_OBJECT, .usage = "" },
	{ VERB(dict, get), .opts = OPTS_OBJECT | O(OPT_DEFAULT),
	  .usage = "KEY",
	  .summary = "the value of KEY; NOKEY (exit 1) when missing, unless "
	  "--default" },
	{ VERB(dict, set), .flags = F_NIL, .opts = OPTS_OBJECT,
	  .usage = "KEY VALUE" },
	{ VERB(dict, setdefault), .opts = OPTS_OBJECT | O(OPT_DEFAULT),
	  .usage = "KEY",
	  .summary = "store --default (null) under KEY when missing; print the "
	  "value now stored" },
	{ VERB(dict, pop), .opts = OPTS_OBJECT | O(OPT_DEFAULT),
	  .usage = "KEY",
	  .summary = "remove KEY and print its value; NOKEY (exit 1) when "
	  "missing, unless --default" },
	{ VERB(dict, popitem), .opts = OPTS_OBJECT, .usage = "" },
	{ VERB(dict, delete), .alias = "del", .flags = F_NIL,
	  .opts = OPTS_OBJECT, .usage = "KEY" },
	{ VERB(dict, contains), .alias = "has", .flags = F_PREDICATE,
	  .opts = OPTS_OBJECT, .usage = "KEY" },
	{ VERB(dict, len), .opts = OPTS_OBJECT, .usage = "" },
	{ VERB(dict, keys), .opts = OPTS_OBJECT, .usage = "" },
	{ VERB(dict, values), .opts = OPTS_OBJECT, .usage = "" },
	{ VERB(dict, items), .opts = OPTS_OBJECT, .usage = "" },
	{ VERB(dict, update), .min = 1, .max = -1, .flags = F_NIL | F_OPERANDS,
	  .opts = OPTS_OBJECT, .usage = "{MAPPING | KEY VALUE...}",
	  .summary = "store a JSON object, [[key, value]...] or pairs: all or "
	  "none", .pack = mpctl_pack_update,
	  .help = "Every pair is checked before any is stored: one bad pair "
	  "(a key that cannot\nbe a key, a pair that is not two items) "
	  "changes nothing, where Python's\nupdate has stored the pairs before "
	  "it." },
	{ VERB(dict, clear), .flags = F_NIL, .opts = OPTS_OBJECT, .usage = "" },
	{ VERB(dict, copy), .opts = OPTS_OBJECT, .usage = "" },
	{ VERB(dict, scan), .min = 0, .max = 2, .numeric = 3,
	  .flags = F_OPERANDS, .opts = OPTS_OBJECT,
	  .usage = "[CURSOR [COUNT]]", .pack = mpctl_pack_scan },
	{ VERB(dict, incr), .numeric = 2, .opts = OPTS_OBJECT,
	  .usage = "KEY [DELTA]" },
	{ VERB(dict, cas), .flags = F_CAS, .opts = OPTS_OBJECT,
	  .usage = "KEY EXPECTED NEW" },

	/* value */
	{ VERB(value, create), .min = 0, .max = 1, .flags = F_NIL | F_OPERANDS,
	  .opts = OPTS_OBJECT, .usage = "[VALUE]",
	  .summary = "create explicitly, holding VALUE; it stays until rm",
	  .pack = mpctl_pack_create, .keys = { "value" } },
	{ VERB(value, get), .opts = OPTS_OBJECT, .usage = "" },
	{ VERB(value, set), .flags = F_NIL, .opts = OPTS_OBJECT,
	  .usage = "VALUE" },
	{ VERB(value, incr), .numeric = 1, .opts = OPTS_OBJECT,
	  .usage = "[DELTA]" },
	{ VERB(value, cas), .flags = F_CAS, .opts = OPTS_OBJECT,
	  .usage = "EXPECTED NEW" },

	/* list */
	{ VERB(list, create), .min = 0, .max = 0, .flags = F_NIL | F_OPERANDS,
	  .opts = OPTS_OBJECT, .usage = "" },
	{ VERB(list, append), .flags = F_NIL, .opts = OPTS_OBJECT,
	  .usage = "VALUE" },
	{ VERB(list, extend), .min = 1, .max = -1, .flags = F_NIL | F_OPERANDS,
	  .opts = OPTS_OBJECT, .usage = "{ITEMS | ITEM...}",
	  .summary = "add a JSON array's items, or each operand, at the end",
	  .pack = mpctl_pack_items },
	{ VERB(list, insert), .numeric = 1, .flags = F_NIL,
	  .opts = OPTS_OBJECT, .usage = "INDEX VALUE" },
	{ VERB(list, pop), .numeric = 1, .opts = OPTS_OBJECT,
	  .usage = "[INDEX]" },
	{ VERB(list, remove), .flags = F_NIL, .opts = OPTS_OBJECT,
	  .usage = "VALUE" },
	{ VERB(list, index), .numeric = 6, .opts = OPTS_OBJECT,
	  .usage = "VALUE [START [STOP]]" },
	{ VERB(list, count), .opts = OPTS_OBJECT, .usage = "VALUE" },
	{ VERB(list, reverse), .flags = F_NIL, .opts = OPTS_OBJECT,
	  .usage = "" },
	{ VERB(list, sort), .flags = F_NIL,
	  .opts = OPTS_OBJECT | O(OPT_REVERSE), .usage = "" },
	{ VERB(list, get), .numeric = 1, .opts = OPTS_OBJECT,
	  .usage = "INDEX" },
	{ VERB(list, slice), .numeric = 7, .opts = OPTS_OBJECT,
	  .usage = "START STOP [STEP]" },
	{ VERB(list, set), .numeric = 1, .flags = F_NIL, .opts = OPTS_OBJECT,
	  .usage = "INDEX VALUE" },
	{ VERB(list, delete), .alias = "del", .numeric = 1, .flags = F_NIL,
	  .opts = OPTS_OBJECT, .usage = "INDEX" },
	{ VERB(list, len), .opts = OPTS_OBJECT, .usage = "" },
	{ VERB(list, contains), .alias = "has", .flags = F_PREDICATE,
	  .opts = OPTS_OBJECT, .usage = "VALUE" },
	{ VERB(list, clear), .flags = F_NIL, .opts = OPTS_OBJECT, .usage = "" },
	{ VERB(list, copy), .opts = OPTS_OBJECT, .usage = "" },

	/* array */
	{ VERB(array, create), .min = 2, .max = 2, .numeric = 2,
	  .flags = F_NIL | F_OPERANDS, .opts = OPTS_OBJECT,
	  .usage = "TYPECODE {LENGTH | ITEMS}",
	  .summary = "create it (required before any use): LENGTH zeros or a "
	  "JSON array of ITEMS", .pack = mpctl_pack_array_create,
	  .help = "TYPECODE: b B h H i I l L q Q (ints of 8 to 64 bits, upper "
	  "case unsigned),\nf (float32) or d (float64)." },
	{ VERB(array, get), .numeric = 1, .opts = OPTS_OBJECT,
	  .usage = "[INDEX]" },
	{ VERB(array, set), .numeric = 1, .flags = F_NIL, .opts = OPTS_OBJECT,
	  .usage = "INDEX VALUE" },
	{ VERB(array, len), .opts = OPTS_OBJECT, .usage = "" },

	/* queue */
	{ VERB(queue, create), .min = 0, .max = 1, .numeric = 1,
	  .flags = F_NIL | F_OPERANDS,
	  .opts = OPTS_OBJECT | O(OPT_ACK), .usage = "[MAXSIZE]",
	  .summary = "create explicitly, bounded to MAXSIZE items (0: not); "
	  "it stays until rm", .pack = mpctl_pack_create,
	  .keys = { "maxsize" } },
	{ VERB(queue, put), .flags = F_NIL | F_BATCH,
	  .opts = OPTS_OBJECT | O(OPT_LINES), .usage = "ITEM",
	  .run = mpctl_run_put,
	  .help = "With --lines, each line of stdin is one ITEM (read as an "
	  "operand is), put\nin order on one connection, each waiting while "
	  "the queue is full; -t bounds\nthe whole. The first that fails ends "
	  "it: the lines before it are in the\nqueue." },
	{ VERB(queue, get), .flags = F_BATCH, .opts = OPTS_OBJECT,
	  .usage = "", .run = mpctl_run_get,
	  .help = QUEUE_GET_HELP("the item") },
	{ VERB(queue, put_many), .min = 1, .max = -1,
	  .flags = F_NIL | F_OPERANDS, .opts = OPTS_OBJECT,
	  .usage = "{ITEMS | ITEM...}",
	  .summary = "add a JSON array's items, or each operand: all or none",
	  .pack = mpctl_pack_items },
	{ VERB(queue, get_many), .numeric = 1, .flags = F_BATCH,
	  .opts = OPTS_OBJECT, .usage = "N",
	  .summary = "remove and print 1 to N items as a JSON array; waits "
	  "while empty", .run = mpctl_run_get,
	  .help = QUEUE_GET_HELP("the items") },
	{ VERB(queue, qsize), .opts = OPTS_OBJECT, .usage = "" },
	{ VERB(queue, empty), .flags = F_PREDICATE, .opts = OPTS_OBJECT,
	  .usage = "" },
	{ VERB(queue, full), .flags = F_PREDICATE, .opts = OPTS_OBJECT,
	  .usage = "" },
	{ VERB(queue, task_done), .flags = F_NIL, .opts = OPTS_OBJECT,
	  .usage = "",
	  .summary = "mark one got item done (not for ack queues: see get)" },
	{ VERB(queue, join), .flags = F_PREDICATE, .opts = OPTS_OBJECT,
	  .usage = "" },
	{ VERB(queue, shutdown), .flags = F_NIL,
	  .opts = OPTS_OBJECT | O(OPT_IMMEDIATE), .usage = "",
	  .summary = "refuse puts, and gets once it is empty (SHUTDOWN, exit "
	  "5); --immediate: empty it and release every waiter now" },

	/* event */
	{ VERB(event, create), .min = 0, .max = 0, .flags = F_NIL | F_OPERANDS,
	  .opts = OPTS_OBJECT, .usage = "" },
	{ VERB(event, set), .flags = F_NIL, .opts = OPTS_OBJECT, .usage = "" },
	{ VERB(event, clear), .flags = F_NIL, .opts = OPTS_OBJECT,
	  .usage = "" },
	{ VERB(event, is_set), .flags = F_PREDICATE, .opts = OPTS_OBJECT,
	  .usage = "" },
	{ VERB(event, wait), .flags = F_PREDICATE, .opts = OPTS_OBJECT,
	  .usage = "" },

	/* barrier */
	{ VERB(barrier, create), .min = 1, .max = 1, .numeric = 1,
	  .flags = F_NIL | F_OPERANDS, .opts = OPTS_OBJECT,
	  .usage = "PARTIES",
	  .summary = "create it for PARTIES parties (required before any use)",
	  .pack = mpctl_pack_create, .keys = { "parties" } },
	{ VERB(barrier, wait), .opts = OPTS_OBJECT, .usage = "" },
	{ VERB(barrier, abort), .flags = F_NIL, .opts = OPTS_OBJECT,
	  .usage = "" },
	{ VERB(barrier, reset), .flags = F_NIL, .opts = OPTS_OBJECT,
	  .usage = "" },
	{ VERB(barrier, parties), .opts = OPTS_OBJECT, .usage = "" },
	{ VERB(barrier, n_waiting), .opts = OPTS_OBJECT, .usage = "" },
	{ VERB(barrier, broken), .flags = F_PREDICATE, .opts = OPTS_OBJECT,
	  .usage = "" },

	/* lock, rlock */
	LOCK_VERBS(lock, "", HOLD_HELP),
	LOCK_VERBS(rlock, " (its owner only: NOTOWNER)", RLOCK_HOLD_HELP),

	/* semaphore */
	{ VERB(semaphore, create), .min = 0, .max = 1, .numeric = 1,
	  .flags = F_NIL | F_OPERANDS,
	  .opts = OPTS_OBJECT | O(OPT_BOUNDED) | O(OPT_KEEP),
	  .usage = "[VALUE]",
	  .summary = "create explicitly with VALUE (1) permits; it stays until "
	  "rm", .pack = mpctl_pack_create, .keys = { "value" } },
	EXEC_VERB(semaphore),
	ACQUIRE_VERB(semaphore, "a permit", HOLD_HELP),
	{ VERB(semaphore, release), .numeric = 1, .flags = F_NIL,
	  .opts = OPTS_OBJECT, .usage = "[N]",
	  .summary = "only with --no-release-on-disconnect: give N (1) "
	  "permits back", .run = hold_plain, .help = HOLD_HELP },
	{ VERB(semaphore, value), .opts = OPTS_OBJECT, .usage = "" },

	/* condition */
	CREATE_VERB(condition, O(OPT_LOCK) | O(OPT_KEEP),
	    "create explicitly, on its own rlock or --lock NAME; it stays "
	    "until rm",
	    "--no-release-on-disconnect applies to its own rlock; a named lock "
	    "has its own\n(set when that lock is created). See mpctl rlock "
	    "acquire --help."),
	ACQUIRE_VERB(condition, "its lock", HOLD_HELP),
	{ VERB(condition, release), .flags = F_NIL, .opts = OPTS_OBJECT,
	  .usage = "", .summary = "only with --no-release-on-disconnect: "
	  "release its lock", .run = hold_plain, .help = HOLD_HELP },
	{ VERB(condition, wait), .flags = F_PREDICATE, .opts = OPTS_OBJECT,
	  .usage = "",
	  .summary = "acquire its lock, wait for a notify, release: true, or "
	  "false (exit 1) after -t", .run = hold_cond,
	  .help = "-t bounds the whole: acquiring the lock, then the wait.\n"
	  "A notify sent before this waiter parks is not seen (no condition is "
	  "kept)." },
	{ VERB(condition, notify), .numeric = 1, .flags = F_NIL,
	  .opts = OPTS_OBJECT, .usage = "[N]",
	  .summary = "acquire its lock, wake the N (1) oldest waiters, release",
	  .run = hold_cond, .help = "-t bounds the wait for the lock: TIMEOUT "
	  "(exit 1) and nobody is notified." },
	{ VERB(condition, notify_all), .flags = F_NIL, .opts = OPTS_OBJECT,
	  .usage = "",
	  .summary = "acquire its lock, wake every waiter, release",
	  .run = hold_cond, .help = "-t bounds the wait for the lock: TIMEOUT "
	  "(exit 1) and nobody is notified." },

	/* pipe */
	{ VERB(pipe, create), .min = 0, .max = 1, .numeric = 1,
	  .flags = F_NIL | F_OPERANDS,
	  .opts = OPTS_OBJECT | O(OPT_ONEWAY), .usage = "[MAXSIZE]",
	  .summary = "create explicitly, MAXSIZE messages waiting per end (0: "
	  "no bound)", .pack = mpctl_pack_create, .keys = { "maxsize" } },
	{ .type = "pipe", .name = "cat", .method = MPMGR_MID_pipe_open,
	  .min = 0, .max = 0, .flags = F_OPERANDS,
	  .opts = OPTS_OBJECT | O(OPT_END) | O(OPT_TOKEN), .usage = "",
	  .summary = "hold end N (1) and print each message for it until EOF",
	  .run = pipe_cat,
	  .help = "Exits 0 when the other end closes and everything was read "
	  "(its writer is done,\nor died), 5 when this end is closed. "
	  "Messages already on their way to a cat\nthat is killed are lost. "
	  "-t bounds the whole stream." },
	{ .type = "pipe", .name = "write", .method = MPMGR_MID_pipe_open,
	  .min = 0, .max = 0, .flags = F_OPERANDS,
	  .opts = OPTS_OBJECT | O(OPT_END) | O(OPT_TOKEN), .usage = "",
	  .summary = "hold end N (0) and send each line of stdin; close it at "
	  "the end", .run = pipe_write,
	  .help = "Each line, its newline removed, is one message, read as an "
	  "operand is (JSON, else a\nstring; --string: a string). Exits 5 "
	  "(EOF) as soon as the other end is closed:\nits reader is gone. "
	  "-t bounds the whole stream." },
	{ VERB(pipe, send), .min = 1, .max = 1, .flags = F_NIL | F_OPERANDS,
	  .opts = OPTS_OBJECT | O(OPT_END), .usage = "VALUE",
	  .summary = "send VALUE at end N (0); waits for room; EOF (exit 5) "
	  "once an end is closed", .pack = pipe_pack, .help = PIPE_HELP },
	{ VERB(pipe, recv), .min = 0, .max = 0, .flags = F_OPERANDS,
	  .opts = OPTS_OBJECT | O(OPT_END), .usage = "",
	  .summary = "print the oldest message for end N (1); waits; EOF (exit "
	  "5) once the other end is closed and nothing is left",
	  .pack = pipe_pack, .help = PIPE_HELP },
	{ VERB(pipe, poll), .min = 0, .max = 0, .flags = F_PREDICATE |
	  F_OPERANDS, .opts = OPTS_OBJECT | O(OPT_END), .usage = "",
	  .pack = pipe_pack, .help = PIPE_HELP },
	{ VERB(pipe, close), .min = 0, .max = 0, .flags = F_NIL | F_OPERANDS,
	  .opts = OPTS_OBJECT | O(OPT_END), .usage = "",
	  .summary = "close end N, which nobody holds: the other end reads EOF "
	  "once drained", .pack = pipe_pack, .help = PIPE_HELP },
	{ VERB(pipe, handoff), .min = 0, .max = 0, .flags = F_OPERANDS,
	  .opts = OPTS_OBJECT | O(OPT_END), .usage = "",
	  .summary = "print a token keeping end N open until cat or write "
	  "--token claims it, or -t SECS (60) pass", .pack = pipe_pack },

	/* process */
	{ .type = "process", .name = "start",
	  .method = MPMGR_MID_process_register, .min = 1, .max = -1,
	  .flags = F_OPERANDS | F_CMD, .opts = O(OPT_NAME) | O(OPT_DAEMON) |
	  O(OPT_WAIT), .usage = "[--] CMD [ARG...]",
	  .summary = "run CMD as the record NAME, this mpctl its supervisor; "
	  "print its pid", .run = process_start,
	  .help = "mpctl stays CMD's parent in the background (with --wait, in "
	  "the foreground,\nexiting with CMD's status, 128 + N for signal N) "
	  "and reports its exit to the\nrecord; CMD runs in a process group of "
	  "its own, with mpctl's standard input,\noutput and error. "
	  "terminate and kill signal that group; so do SIGINT, SIGTERM,\n"
	  "SIGHUP and SIGQUIT sent to the supervisor. If the supervisor is "
	  "killed, the\nrecord is lost and CMD keeps running. With --daemon, "
	  "CMD is terminated\n(SIGTERM to its group) when the process that ran "
	  "mpctl exits. The record stays\nuntil rm; a name that holds one is "
	  "EXISTS. -t bounds the registration, not CMD." },
	{ VERB(process, join), .opts = OPTS_OBJECT, .usage = "",
	  .summary = "wait for its exit and exit with its status (128 + N for "
	  "signal N); LOST: exit 6", .run = process_join },
	{ VERB(process, is_alive), .flags = F_PREDICATE, .opts = OPTS_OBJECT,
	  .usage = "" },
	{ VERB(process, info), .opts = OPTS_OBJECT, .usage = "" },
	{ VERB(process, terminate), .flags = F_NIL, .opts = OPTS_OBJECT,
	  .usage = "" },
	{ VERB(process, kill), .flags = F_NIL, .opts = OPTS_OBJECT,
	  .usage = "" },

	/* pool */
	{ VERB(pool, create), .min = 0, .max = 1, .numeric = 1,
	  .flags = F_NIL | F_OPERANDS,
	  .opts = OPTS_OBJECT | O(OPT_ATTEMPTS), .usage = "[MAXSIZE]",
	  .summary = "create explicitly, holding at most MAXSIZE jobs (0: no "
	  "bound); it stays until rm", .pack = mpctl_pack_create,
	  .keys = { "maxsize" },
	  .help = "--attempts N: a job whose worker dies runs again, N times "
	  "at most (3)." },
	{ .type = "pool", .name = "worker", .method = MPMGR_MID_pool_take,
	  .min = 0, .max = 0, .flags = F_OPERANDS,
	  .opts = O(OPT_NAME) | O(OPT_JOBS) | O(OPT_TAIL) | O(OPT_HELP),
	  .usage = "", .summary = "run the pool's jobs, N at a time, until it "
	  "is closed and done, or terminated", .run = pool_worker,
	  .help = POOL_WORKER_HELP },
	{ VERB(pool, submit), .min = 1, .max = -1, .flags = F_OPERANDS | F_CMD,
	  .opts = O(OPT_NAME) | O(OPT_SHELL) | O(OPT_KEY) | O(OPT_ATTEMPTS) |
	  O(OPT_HELP), .usage = "[--] CMD [ARG...]",
	  .summary = "queue CMD as a job; print its id", .run = pool_submit,
	  .help = "The job is CMD's argv, or with --shell one line for sh -c "
	  "(the operands\njoined by spaces). Its result waits in the pool "
	  "until read: see wait. With\n--key, while a job submitted with "
	  "KEY is held its id is printed and nothing\nis queued." },
	{ .type = "pool", .name = "wait", .method = MPMGR_MID_pool_result,
	  .min = 1, .max = -1, .flags = F_OPERANDS,
	  .opts = O(OPT_NAME) | O(OPT_TIMEOUT) | O(OPT_CONSUME) | O(OPT_HELP),
	  .usage = "ID...", .summary = "wait for the jobs, write their output "
	  "in order; exit with the first failure's status", .run = pool_wait,
	  .help = POOL_OUTPUT_HELP },
	{ .type = "pool", .name = "map", .method = MPMGR_MID_pool_submit,
	  .min = 1, .max = -1, .flags = F_OPERANDS | F_CMD,
	  .opts = O(OPT_NAME) | O(OPT_JOBS) | O(OPT_TAIL) | O(OPT_SHELL) |
	  O(OPT_ATTEMPTS) | O(OPT_HELP), .usage = "[--] CMD [ARG...]",
	  .summary = "a job of CMD per line of stdin, {} replaced by the line; "
	  "outputs in input order", .run = pool_map, .help = POOL_MAP_HELP },
	{ VERB(pool, result), .min = 1, .max = 1, .numeric = 1,
	  .flags = F_OPERANDS, .opts = OPTS_OBJECT | O(OPT_CONSUME),
	  .usage = "ID", .run = pool_result },
	{ VERB(pool, collect), .numeric = 1, .opts = OPTS_OBJECT,
	  .usage = "MAX" },
	{ VERB(pool, status), .opts = OPTS_OBJECT, .usage = "",
	  .summary = "the jobs by state and the workers, one \"key: value\" "
	  "a line", .run = mpctl_run_stats },
	{ VERB(pool, cancel), .numeric = 1, .flags = F_PREDICATE,
	  .opts = OPTS_OBJECT, .usage = "ID" },
	{ VERB(pool, close), .flags = F_NIL, .opts = OPTS_OBJECT, .usage = "" },
	{ VERB(pool, join), .flags = F_PREDICATE, .opts = OPTS_OBJECT,
	  .usage = "" },
	{ VERB(pool, terminate), .flags = F_NIL, .opts = OPTS_OBJECT,
	  .usage = "" },

	/* server-wide */
	{ .name = "ls", .method = MPMGR_MID_obj_list, .flags = F_NAMES,
	  .opts = OPTS_SERVER | O(OPT_NAMES), .usage = "[TYPE]",
	  .summary = "the objects (of TYPE): NAME TYPE SIZE",
	  .run = ls_run, .help = "Read in obj.scan pages, so that a registry "
	  "too large for one obj.list reply\nlists too. --names prints the "
	  "names alone, one a line (shell completion\nuses it)." },
	{ .name = "info", .method = MPMGR_MID_obj_info, .flags = F_NAMES,
	  .opts = OPTS_SERVER, .usage = "NAME" },
	{ .name = "rm", .method = MPMGR_MID_obj_delete, .min = 1, .max = -1,
	  .flags = F_NAMES | F_NIL | F_OPERANDS, .opts = OPTS_SERVER,
	  .usage = "NAME...",
	  .summary = "delete objects; their waiters get DELETED",
	  .run = mpctl_run_rm },
	{ .name = "dump", .method = MPMGR_MID_obj_dump, .min = 0, .max = -1,
	  .flags = F_NAMES | F_OPERANDS,
	  .usage = "[NAME...]",
	  .summary = "print objects (every one without NAME) as JSON lines "
	  "for restore", .run = dump_run, .help = DUMP_HELP },
	{ .name = "restore", .method = MPMGR_MID_obj_restore, .min = 0,
	  .max = -1, .flags = F_NAMES | F_OPERANDS,
	  .opts = O(OPT_REPLACE), .usage = "[FILE...]",
	  .summary = "make the objects of mpctl dump's lines (from stdin "
	  "without FILE)", .run = restore_run, .help = RESTORE_HELP },
	{ .name = "ping", .method = MPMGR_MID_sys_ping, .opts = OPTS_SERVER,
	  .usage = "", .summary = "print pong if the daemon answers" },
	{ .name = "stats", .method = MPMGR_MID_sys_stats, .flags = F_BATCH,
	  .opts = OPTS_SERVER, .usage = "",
	  .summary = "the daemon's counters, one \"key: value\" a line",
	  .run = mpctl_run_stats },
	{ .name = "version", .method = MPMGR_MID_sys_stats, .opts = OPTS_SERVER,
	  .usage = "", .summary = "the versions of mpctl, the daemon and the "
	  "protocol",
	  .run = mpctl_run_version },
	{ .name = "shutdown", .method = MPMGR_MID_sys_shutdown, .flags = F_NIL,
	  .opts = OPTS_SERVER, .usage = "" },
	{ .name = "clients", .method = MPMGR_MID_sys_clients, .flags = F_BATCH,
	  .opts = OPTS_SERVER, .usage = "",
	  .summary = "the daemon's connections, one \"key=value ...\" line "
	  "each", .run = clients_run,
	  .help = "Each line: client (its id), pid, uid, command (as the "
	  "daemon saw them when it\nconnected), gid, age and idle seconds, "
	  "ops, bytes in and out, waits=METHOD(NAME,\nSECSs) or -, "
	  "holds=TYPE(NAME: WHAT),... or -. --json: the daemon's reply." },
	{ .name = "kill", .method = MPMGR_MID_sys_kill, .numeric = 1,
	  .min = 0, .max = 1, .flags = F_NIL | F_OPERANDS | F_BATCH,
	  .opts = OPTS_SERVER | O(OPT_PID), .usage = "CLIENT | --pid PID",
	  .summary = "close connection CLIENT (an id from clients), or every "
	  "one of process PID: what it holds is given back",
	  .run = clients_kill,
	  .help = "As if its process had died: its waiters leave, its locks, "
	  "permits, leases and\npipe ends are given back and the next waiters "
	  "served. Root or the daemon's\nuser only (ADMIN). --pid reads "
	  "clients, then kills each connection of PID\n(one that PID opens "
	  "meanwhile is not killed: run it again); it fails only\nwhen none "
	  "was there." },
	{ .name = "monitor", .method = MPMGR_MID_sys_monitor,
	  .opts = OPTS_SERVER, .usage = "",
	  .summary = "print every request the daemon runs, one line each, "
	  "until interrupted",
	  .run = clients_monitor,
	  .help = "Each line: TIME (seconds since the epoch) CLIENT PID METHOD "
	  "NAME (- for none)\nARGS, the params as the daemon shows them: "
	  "strings cut to 64 bytes, the\nwhole to 256. Lines a slow reader "
	  "missed are counted on stderr. --json: one\nJSON object a line "
	  "(time, client, pid, method, name, args, lost). -t SECS\nstops "
	  "after SECS (exit 0); the daemon stopping exits 5. Root or the "
	  "daemon's\nuser only (ADMIN)." },
	{ .name = "save", .method = MPMGR_MID_sys_save, .flags = F_NIL,
	  .opts = OPTS_SERVER, .usage = "",
	  .summary = "compact the journal now; returns once the new snapshot "
	  "is on disk",
	  .help = "Only for a daemon started with --data-dir (mpmgrd(8)); "
	  "root or the daemon's\nuser only. The daemon also compacts on its "
	  "own as its journal grows." },
};

const size_t verbs_ntypes = NELEM(verbs_types);
const size_t verbs_nverbs = NELEM(verbs_table);

const char *
verbs_method(const struct verb *v)
{
	return catalogue_methods[v->method].name;
}

void
verbs_operands(const struct verb *v, int *min, int *max)
{
	const struct mpmgr_method_info *m = &catalogue_methods[v->method];
	int name, tail;

	if (v->flags & F_OPERANDS) {
		*min = v->min;
		*max = v->max;
		return;
	}
	name = v->type != NULL;
	tail = ((m->flags & MF_BLOCKS) != 0) +
	    ((v->opts & (O(OPT_REVERSE) | O(OPT_IMMEDIATE))) != 0) +
	    ((v->opts & O(OPT_DEFAULT)) != 0);
	*min = (int)m->min_params - name;
	*max = (int)m->max_params - name - tail;
}

const char *
verbs_summary(const struct verb *v, char *buf, size_t len)
{
	const char *s = catalogue_methods[v->method].summary;

	if (v->summary != NULL)
		return v->summary;
	if (v->flags & F_PREDICATE)
		snprintf(buf, len, "%s (false: exit 1)", s);
	else if (v->flags & F_CAS)
		snprintf(buf, len, "%s (not ok: exit 1)", s);
	else
		return s;
	return buf;
}
