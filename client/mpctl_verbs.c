/*
 * mpctl_verbs.c: the types and verbs of mpctl, as data.
 *
 * A row of verbs_table names the wire method, the operand counts, the
 * options the verb takes, how its result prints and, when the generic
 * "send the operands, print the result" (mpctl_run_call) does not fit, a
 * runner of its own. A new verb is a new row (and a runner if it needs
 * one). The order of the rows is the order of --help.
 */
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

const struct verb verbs_table[] = {
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
	  .opts = OPTS_OBJECT, .usage = "",
	  .summary = "the number of entries" },
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
	  .run = mpctl_run_update },
	{ .type = "dict", .name = "clear", .method = "dict.clear",
	  .flags = F_NIL, .opts = OPTS_OBJECT, .usage = "",
	  .summary = "remove every entry" },
	{ .type = "dict", .name = "copy", .method = "dict.copy",
	  .opts = OPTS_OBJECT, .usage = "",
	  .summary = "the whole dict as JSON" },
	{ .type = "dict", .name = "scan", .method = "dict.scan", .max = 2,
	  .numeric = 3, .opts = OPTS_OBJECT, .usage = "[CURSOR [COUNT]]",
	  .summary = "[next, [[key, value]...]]; 0 starts, next 0 ends",
	  .run = mpctl_run_scan },
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
	  .run = mpctl_run_create, .keys = { "value" } },

	/* list */
	{ .type = "list", .name = "append", .method = "list.append", .min = 1,
	  .max = 1, .flags = F_NIL, .opts = OPTS_OBJECT, .usage = "VALUE",
	  .summary = "add VALUE at the end" },
	{ .type = "list", .name = "extend", .method = "list.extend", .min = 1,
	  .max = -1, .flags = F_NIL, .opts = OPTS_OBJECT,
	  .usage = "{ITEMS | ITEM...}",
	  .summary = "add a JSON array's items, or each operand, at the end",
	  .run = mpctl_run_items },
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
	  "EMPTY (exit 1) after -t", .run = mpctl_run_get,
	  .help = "On an ack queue, mpctl marks the item done (task_done) once "
	  "it is written\nto stdout: an mpctl killed before that gives it "
	  "back to the queue." },
	{ .type = "queue", .name = "put_many", .method = "queue.put_many",
	  .min = 1, .max = -1, .flags = F_NIL, .opts = OPTS_WAIT,
	  .usage = "{ITEMS | ITEM...}",
	  .summary = "add a JSON array's items, or each operand: all or none",
	  .run = mpctl_run_items },
	{ .type = "queue", .name = "get_many", .method = "queue.get_many",
	  .min = 1, .max = 1, .numeric = 1, .opts = OPTS_WAIT, .usage = "N",
	  .summary = "remove and print 1 to N items as a JSON array; waits "
	  "while empty", .run = mpctl_run_get,
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
	  "it stays until rm", .run = mpctl_run_create, .keys = { "maxsize" } },

	/* lock */
	{ .type = "lock", .name = "exec", .method = "lock.acquire", .min = 1,
	  .max = -1, .opts = OPTS_EXEC, .usage = "[--] CMD [ARG...]",
	  .summary = "hold it while CMD runs; exit with CMD's status",
	  .run = hold_exec, .help = EXEC_HELP },
	{ .type = "lock", .name = "locked", .method = "lock.locked",
	  .flags = F_PREDICATE, .opts = OPTS_OBJECT, .usage = "",
	  .summary = "true (exit 0) if held, else false (exit 1)" },
	{ .type = "lock", .name = "acquire", .method = "lock.acquire",
	  .flags = F_PREDICATE, .opts = OPTS_WAIT, .usage = "",
	  .summary = "only with --no-release-on-disconnect: take it; false "
	  "(exit 1) after -t", .run = hold_plain, .help = HOLD_HELP },
	{ .type = "lock", .name = "release", .method = "lock.release",
	  .flags = F_NIL, .opts = OPTS_OBJECT, .usage = "",
	  .summary = "only with --no-release-on-disconnect: let it go",
	  .run = hold_plain, .help = HOLD_HELP },
	{ .type = "lock", .name = "create", .method = "lock.create",
	  .flags = F_NIL | F_PERMUTE, .opts = OPTS_OBJECT | O(OPT_KEEP),
	  .usage = "", .summary = "create explicitly: it stays until rm",
	  .run = mpctl_run_create },

	/* rlock */
	{ .type = "rlock", .name = "exec", .method = "rlock.acquire", .min = 1,
	  .max = -1, .opts = OPTS_EXEC, .usage = "[--] CMD [ARG...]",
	  .summary = "hold it while CMD runs; exit with CMD's status",
	  .run = hold_exec, .help = EXEC_HELP },
	{ .type = "rlock", .name = "locked", .method = "rlock.locked",
	  .flags = F_PREDICATE, .opts = OPTS_OBJECT, .usage = "",
	  .summary = "true (exit 0) if held, else false (exit 1)" },
	{ .type = "rlock", .name = "acquire", .method = "rlock.acquire",
	  .flags = F_PREDICATE, .opts = OPTS_WAIT, .usage = "",
	  .summary = "only with --no-release-on-disconnect: take it; false "
	  "(exit 1) after -t", .run = hold_plain, .help = RLOCK_HOLD_HELP },
	{ .type = "rlock", .name = "release", .method = "rlock.release",
	  .flags = F_NIL, .opts = OPTS_OBJECT, .usage = "",
	  .summary = "only with --no-release-on-disconnect: let it go (its "
	  "owner only: NOTOWNER)", .run = hold_plain, .help = RLOCK_HOLD_HELP },
	{ .type = "rlock", .name = "create", .method = "rlock.create",
	  .flags = F_NIL | F_PERMUTE, .opts = OPTS_OBJECT | O(OPT_KEEP),
	  .usage = "", .summary = "create explicitly: it stays until rm",
	  .run = mpctl_run_create },

	/* semaphore */
	{ .type = "semaphore", .name = "exec", .method = "semaphore.acquire",
	  .min = 1, .max = -1, .opts = OPTS_EXEC, .usage = "[--] CMD [ARG...]",
	  .summary = "hold a permit while CMD runs; exit with CMD's status",
	  .run = hold_exec, .help = EXEC_HELP },
	{ .type = "semaphore", .name = "value", .method = "semaphore.value",
	  .opts = OPTS_OBJECT, .usage = "",
	  .summary = "the permits left (1 for a missing one)" },
	{ .type = "semaphore", .name = "acquire",
	  .method = "semaphore.acquire", .flags = F_PREDICATE,
	  .opts = OPTS_WAIT, .usage = "",
	  .summary = "only with --no-release-on-disconnect: take a permit; "
	  "false (exit 1) after -t", .run = hold_plain, .help = HOLD_HELP },
	{ .type = "semaphore", .name = "release",
	  .method = "semaphore.release", .max = 1, .numeric = 1,
	  .flags = F_NIL, .opts = OPTS_OBJECT, .usage = "[N]",
	  .summary = "only with --no-release-on-disconnect: give N (1) "
	  "permits back", .run = hold_plain, .help = HOLD_HELP },
	{ .type = "semaphore", .name = "create", .method = "semaphore.create",
	  .max = 1, .numeric = 1, .flags = F_NIL | F_PERMUTE,
	  .opts = OPTS_OBJECT | O(OPT_BOUNDED) | O(OPT_KEEP),
	  .usage = "[VALUE]",
	  .summary = "create explicitly with VALUE (1) permits; it stays until "
	  "rm", .run = mpctl_run_create, .keys = { "value" } },

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
	  "false (exit 1) after -t", .run = hold_cond,
	  .help = "-t bounds the whole: acquiring the lock, then the wait.\n"
	  "A notify sent before this waiter parks is not seen (no condition is "
	  "kept)." },
	{ .type = "condition", .name = "notify", .method = "condition.notify",
	  .max = 1, .numeric = 1, .flags = F_NIL, .opts = OPTS_WAIT,
	  .usage = "[N]",
	  .summary = "acquire its lock, wake the N (1) oldest waiters, release",
	  .run = hold_cond, .help = "-t bounds the wait for the lock: TIMEOUT "
	  "(exit 1) and nobody is notified." },
	{ .type = "condition", .name = "notify_all",
	  .method = "condition.notify_all", .flags = F_NIL, .opts = OPTS_WAIT,
	  .usage = "",
	  .summary = "acquire its lock, wake every waiter, release",
	  .run = hold_cond, .help = "-t bounds the wait for the lock: TIMEOUT "
	  "(exit 1) and nobody is notified." },
	{ .type = "condition", .name = "acquire",
	  .method = "condition.acquire", .flags = F_PREDICATE,
	  .opts = OPTS_WAIT, .usage = "",
	  .summary = "only with --no-release-on-disconnect: take its lock; "
	  "false (exit 1) after -t", .run = hold_plain, .help = HOLD_HELP },
	{ .type = "condition", .name = "release",
	  .method = "condition.release", .flags = F_NIL, .opts = OPTS_OBJECT,
	  .usage = "", .summary = "only with --no-release-on-disconnect: "
	  "release its lock", .run = hold_plain, .help = HOLD_HELP },
	{ .type = "condition", .name = "create", .method = "condition.create",
	  .flags = F_NIL | F_PERMUTE,
	  .opts = OPTS_OBJECT | O(OPT_LOCK) | O(OPT_KEEP), .usage = "",
	  .summary = "create explicitly, on its own rlock or --lock NAME; it "
	  "stays until rm", .run = mpctl_run_create,
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
	  .run = mpctl_run_create, .keys = { "parties" } },

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
	  "JSON array of ITEMS", .run = mpctl_run_array_create,
	  .help = "TYPECODE: b B h H i I l L q Q (ints of 8 to 64 bits, upper "
	  "case unsigned),\nf (float32) or d (float64)." },

	/* server-wide */
	{ .name = "ping", .method = "sys.ping", .opts = OPTS_SERVER,
	  .usage = "", .summary = "print pong if the daemon answers" },
	{ .name = "ls", .method = "obj.list", .max = 1, .flags = F_NAMES,
	  .opts = OPTS_SERVER, .usage = "[TYPE]",
	  .summary = "the objects (of TYPE): NAME TYPE SIZE",
	  .run = mpctl_run_ls },
	{ .name = "info", .method = "obj.info", .min = 1, .max = 1,
	  .flags = F_NAMES, .opts = OPTS_SERVER, .usage = "NAME",
	  .summary = "one object's name, type, size, memory, waiters, options "
	  "(JSON)" },
	{ .name = "rm", .method = "obj.delete", .min = 1, .max = -1,
	  .flags = F_NAMES | F_NIL, .opts = OPTS_SERVER, .usage = "NAME...",
	  .summary = "delete objects; their waiters get DELETED",
	  .run = mpctl_run_rm },
	{ .name = "stats", .method = "sys.stats", .opts = OPTS_SERVER,
	  .usage = "", .summary = "the daemon's counters, one \"key: value\" "
	  "a line", .run = mpctl_run_stats },
	{ .name = "shutdown", .method = "sys.shutdown", .flags = F_NIL,
	  .opts = OPTS_SERVER, .usage = "",
	  .summary = "stop the daemon (its owner or root only)" },
};

const size_t verbs_ntypes = NELEM(verbs_types);
const size_t verbs_nverbs = NELEM(verbs_table);
