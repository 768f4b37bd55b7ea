/*
 * mpctl.h: what mpctl's files share (mpctl is one program: none of this is
 * a library's API).
 *
 *	mpctl.c		entry and running: main, connect, send, print,
 *			messages and exit statuses, the runners of most verbs
 *	mpctl_parse.c	the grammar: options, operands, --help, "did you mean"
 *	mpctl_verbs.c	the types and the verb table
 *	mpctl_hold.c	holding on one connection: exec, plain acquire and
 *			release, condition wait and notify
 *	mpctl_ls.c	ls: the registry a page at a time
 *	mpctl_clients.c	the daemon's connections: clients, kill --pid,
 *			monitor
 *	mpctl_batch.c	batch mode: one command a line, one connection
 *	mpctl_complete.c shell completion from the verb table
 *	mpctl_pipe.c	pipes: one-shot verbs, cat and write streams
 *	mpctl_process.c	process records: start (the supervisor), join
 *	mpctl_dump.c	dump and restore: objects as JSON lines
 *	mpctl_pool.c	pools: worker, submit, wait, map, result
 *	mpctl_json.c	operands from text, results to JSON text
 *
 * One invocation is one struct ctx: mpctl_parse.c fills it from argv,
 * the verb's packer and runner (struct verb's pack and run) use it, main
 * frees it. A batch makes one struct ctx a line.
 */
#ifndef MPCTL_H
#define MPCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "../proto/mpmgr_methods.h"
#include "mpmgr.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Exit statuses (mpctl(1)); exec exits with its command's. */
enum exit_status {
	EXIT_TRUE = 0,
	EXIT_FALSE = 1,    /* a predicate said no; NOKEY EMPTY FULL TIMEOUT */
	EXIT_USAGE = 2,
	EXIT_CONNECT = 3,  /* cannot connect or authenticate */
	EXIT_ERROR = 4,    /* any other error */
	EXIT_EOF = 5,      /* nothing more will come: EOF (a pipe's other
			      end closed), SHUTDOWN (a queue shut down and
			      empty, or the daemon stopping) */
	EXIT_LOST = 6      /* LOST: a process record without an exit code */
};

/* An option, as --help shows it and as parsing finds it. */
struct opt {
	char short_name;        /* 0: long form only */
	const char *long_name;
	const char *arg;        /* its argument's name; NULL for a flag */
	const char *help;
	const char *key;        /* the create option it sets, or NULL: to its
				   argument, or to true (false when off) */
	bool off;
	bool numeric;           /* its argument is a number (JSON) */
};

/*
 * Every option of mpctl: indexes of parse_opts[]. Options are recognised
 * anywhere before "--", before TYPE as well as after VERB; which ones a
 * verb takes is its row's opts (and OPTS_ALWAYS).
 */
enum opt_id {
	OPT_SOCKET,
	OPT_AUTHKEY,
	OPT_NAME,
	OPT_TIMEOUT,
	OPT_QUIET,
	OPT_STRING,
	OPT_JSON,
	OPT_STDIN,
	OPT_FILE,
	OPT_DEFAULT,
	OPT_LINES,
	OPT_NAMES,
	OPT_CONFLICT,
	OPT_REVERSE,
	OPT_ACK,
	OPT_BOUNDED,
	OPT_LOCK,
	OPT_KEEP,
	OPT_IMMEDIATE,
	OPT_END,
	OPT_TOKEN,
	OPT_ONEWAY,
	OPT_DAEMON,
	OPT_WAIT,
	OPT_TTL,
	OPT_REPLACE,
	OPT_RECONNECT,
	OPT_JOBS,
	OPT_TAIL,
	OPT_SHELL,
	OPT_KEY,
	OPT_ATTEMPTS,
	OPT_CONSUME,
	OPT_PID,
	OPT_HELP,
	OPT_VERSION,
	OPT_COUNT
};

/* A set of options, bit O(id) for each. */
typedef uint64_t opt_mask;
_Static_assert(OPT_COUNT <= 63, "opt_mask has no bit left");
#define O(id) ((opt_mask)1 << (id))
/* Every verb takes these: where the daemon is, how long, how quietly. */
#define OPTS_ALWAYS (O(OPT_SOCKET) | O(OPT_AUTHKEY) | O(OPT_RECONNECT) | \
	O(OPT_TIMEOUT) | O(OPT_QUIET) | O(OPT_HELP))
/* Options before TYPE that are not a verb's: they act at once. */
#define OPTS_GLOBAL (O(OPT_SOCKET) | O(OPT_AUTHKEY) | O(OPT_RECONNECT) | \
	O(OPT_HELP) | O(OPT_VERSION))
/* A verb on an object: -x and --file only where it takes operands. */
#define OPTS_OBJECT (O(OPT_NAME) | O(OPT_STRING) | O(OPT_JSON) | \
	O(OPT_STDIN) | O(OPT_FILE))
#define OPTS_EXEC (O(OPT_NAME) | O(OPT_CONFLICT) | O(OPT_TTL))
#define OPTS_SERVER O(OPT_JSON)

/* How a verb's result prints and what its exit status says. */
#define F_NIL 0x01       /* the result is always nil: print nothing */
#define F_PREDICATE 0x02 /* a bool: print it; false exits 1 */
#define F_CAS 0x04       /* [ok, current]: print it; not ok exits 1 */
#define F_NAMES 0x08     /* operands are object or type names: strings */
#define F_CMD 0x10       /* the first operand starts CMD: options end
			    there (exec, as flock(1) and env(1)) */
#define F_OPERANDS 0x20  /* min and max count the operands: the CLI's own,
			    not the method's params */
#define F_BATCH 0x40     /* has a runner of its own, but in batch mode it
			    is its one request, as it is (queue get, stats) */

struct ctx;

/*
 * One row of the verb table (mpctl_verbs.c): what the catalogue does not
 * say about a verb. Its name on the wire, its summary and (unless
 * F_OPERANDS) its operand counts come from its method's row.
 */
struct verb {
	const char *type;       /* canonical type; NULL for a server verb */
	const char *name;
	const char *alias;      /* another spelling, or NULL */
	enum mpmgr_method_id method; /* the one it sends */
	enum mpmgr_method_id release; /* exec: gives back what method took */
	enum mpmgr_method_id extend; /* exec --ttl: renews the lease */
	int min, max;           /* F_OPERANDS: operands; max < 0: no limit */
	unsigned numeric;       /* bit i: operand i is JSON even with
				   --string */
	unsigned flags;         /* F_* */
	opt_mask opts;          /* O(OPT_*) it takes besides OPTS_ALWAYS */
	const char *usage;      /* its operands, e.g. "KEY" */
	const char *summary;    /* NULL: the method's */
	/* The params after the name, from the operands, into c->args: 0 or
	 * EXIT_USAGE after saying why. NULL: mpctl_pack_operands. */
	int (*pack)(struct ctx *);
	/* The whole verb, when it is more than one request (exec, ls...):
	 * the exit status. NULL: pack, send, print the reply. */
	int (*run)(struct ctx *);
	const char *keys[2];    /* create: the option operand i sets */
	const char *help;       /* more for VERB --help, or NULL */
};

struct type {
	const char *name;
	const char *alias;
	const char *summary;
};

/* Everything one invocation (or one line of a batch) knows, from parsing
 * to the reply. */
struct ctx {
	const char *socket_path;        /* NULL: libmpmgr's default */
	const char *authkey_file;       /* NULL: libmpmgr's default */
	const struct verb *verb;
	const struct type *type;        /* NULL for a server verb */
	char who[80];                   /* "lock exec", for messages */
	const char *name;               /* the object, for typed verbs */
	const char *opt[OPT_COUNT];     /* argument, "" for a flag, NULL
					   unset */
	double start;                   /* mpctl_now() when it began */
	double timeout;                 /* -t; < 0: none given, wait forever */
	double ttl;                     /* --ttl; 0: none */
	double wait;                    /* -w; < 0: none given */
	int conflict;                   /* -E */
	char **operands;
	int noperands;
	char **opbuf;                   /* operands plus the input: owned */
	char *input;                    /* -x or --file: the last operand,
					   NUL-terminated; owned */
	size_t inputlen;
	bool input_bin;                 /* not UTF-8 text: it goes as bin */
	bool batch;                     /* a line of `mpctl batch` */
	msgpack_sbuffer args;           /* the params after the name, packed */
	uint32_t nargs;
	mpmgr *h;
	bool adopted;                   /* h is $MPMGR_HELD_FD's connection */
};

/* --- mpctl.c: entry and running ----------------------------------- */

/* Print "mpctl: ..." on stderr and return status. */
int mpctl_say(int status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Where mpctl_say writes and what it starts with: stderr and "mpctl: ",
 * unless batch mode turns a line's usage errors into its result line. */
extern FILE *mpctl_say_stream;
extern const char *mpctl_say_prefix;
/* The exit status an MPMGR_E* code means. */
int mpctl_status(int err);
/* What err was, "NOKEY: message", into buf (the daemon's message, or
 * mpctl's own where that says more: how to create a missing barrier). */
const char *mpctl_error_text(const struct ctx *c, int err, char *buf,
    size_t len);
/* Say what err was ("mpctl: NOKEY: message"): its exit status. Quiet
 * (-q) for what exits 1. */
int mpctl_fail(const struct ctx *c, int err);
/* Connect and authenticate: 0, or EXIT_CONNECT after saying why. With
 * adopt set and $MPMGR_HELD_FD naming a connection to the same daemon
 * that owns the rlock c->name, that connection is used instead (a nested
 * rlock exec). */
int mpctl_connect(struct ctx *c, bool adopt);
/* Seconds on a monotonic clock. */
double mpctl_now(void);
/* What is left of -t (>= 0), or -1 without -t. */
double mpctl_left(const struct ctx *c);
/* Bound the whole command by -t: a daemon that has not answered when it
 * has passed (and a grace for the last reply) ends mpctl, exit 3. */
void mpctl_deadline_arm(const struct ctx *c);
void mpctl_deadline_disarm(void);
/*
 * The verb's method with [name] + c->args (+ what is left of -t, for a
 * method that blocks), not waiting for the reply: MPMGR_OK or an MPMGR_E*
 * code.
 */
int mpctl_send(struct ctx *c);
/* method with [name], or [name, timeout] when timeout >= 0, likewise. */
int mpctl_send_named(struct ctx *c, enum mpmgr_method_id method,
    const char *name, double timeout);
/* mpctl_send and its reply. */
int mpctl_call(struct ctx *c, msgpack_object *result);
/* The result as the verb's flags say, and the exit status it means. */
int mpctl_print_result(const struct ctx *c, const msgpack_object *o);
/* A value as one line: a str as itself unless --json, else JSON. */
void mpctl_print_value(const struct ctx *c, const msgpack_object *o);
/* "mpctl: EPROTO: unexpected reply: ..." and EXIT_ERROR. */
int mpctl_unexpected(const msgpack_object *o);
/* Append one operand to c->args (numeric ones ignore --string; the input
 * of -x that is not text goes as bin): 0 or EXIT_USAGE after saying why. */
int mpctl_pack_operand(struct ctx *c, const char *text, bool numeric);
/* Every operand, then --default and --reverse as params: 0 or
 * EXIT_USAGE. */
int mpctl_pack_operands(struct ctx *c);
/* The params of c's verb into c->args: its pack, or the operands. */
int mpctl_pack(struct ctx *c);
/* The value under key in map m (NULL-safe), or NULL. */
const msgpack_object *mpctl_map_get(const msgpack_object *m,
    const char *key);
bool mpctl_is_bool(const msgpack_object *o, bool b);
bool mpctl_is_str(const msgpack_object *o, const char *s);
/* Read all of fd into *buf (NUL-terminated, malloc'd) and *len: 0, or -1
 * with errno. */
int mpctl_read_all(int fd, char **buf, size_t *len);

/* Packers (struct verb's pack). */
int mpctl_pack_update(struct ctx *);
int mpctl_pack_scan(struct ctx *);
int mpctl_pack_create(struct ctx *);
int mpctl_pack_array_create(struct ctx *);
int mpctl_pack_items(struct ctx *);

/* Runners (struct verb's run): the exit status. */
int mpctl_run_call(struct ctx *);
int mpctl_run_get(struct ctx *);
int mpctl_run_put(struct ctx *);
int mpctl_run_rm(struct ctx *);
int mpctl_run_stats(struct ctx *);
int mpctl_run_version(struct ctx *);

/* --- mpctl_parse.c: the grammar ------------------------------------- */

extern const struct opt parse_opts[OPT_COUNT];
/*
 * Fill c from argv. -1 when the verb is to run, else the exit status to
 * end with: help or version printed (0) or a usage error said
 * (EXIT_USAGE). c->batch set: run batch mode (mpctl_batch.c).
 */
int parse_args(struct ctx *c, int argc, char **argv);
/* One line of a batch, as words (argv[0] is TYPE or a server verb): -1
 * when it is to be sent, else EXIT_USAGE after saying why. */
int parse_line(struct ctx *c, int argc, char **argv);
/* The option named name (len bytes), or short_name when not 0: its
 * OPT_*, or -1. */
int parse_option(const char *name, size_t len, char short_name);
/* The options v takes: O(OPT_*) bits. */
opt_mask parse_allowed(const struct verb *v);
/* "WHO: unknown type 'dcit'; did you mean 'dict'?": EXIT_USAGE. */
int parse_unknown_type(const char *who, const char *word);
/* The type called word (its name or alias), or NULL. */
const struct type *parse_type(const char *word);
/* The verb called word of type (NULL: a server verb), or NULL. */
const struct verb *parse_verb(const char *type, const char *word);
/* Whether a command-line token is an operand: not an option, not "--". */
bool parse_is_operand(const char *token);
/* How the object NAME of type t is created, for messages: "mpctl barrier
 * create -n NAME PARTIES" into buf; NULL for a type without create (a
 * process record comes from `process start`). */
const char *parse_create_hint(const char *type, const char *name, char *buf,
    size_t len);

/* --- mpctl_verbs.c: types and verbs --------------------------------- */

extern const struct type verbs_types[];
extern const size_t verbs_ntypes;
extern const struct verb verbs_table[];
extern const size_t verbs_nverbs;
/* "dict.get": the name on the wire of v's method. */
const char *verbs_method(const struct verb *v);
/* How many operands v takes (*max < 0: no limit). */
void verbs_operands(const struct verb *v, int *min, int *max);
/* v's line of help: its own summary, or its method's with what the exit
 * status says (into buf when it needs one). */
const char *verbs_summary(const struct verb *v, char *buf, size_t len);

/* --- mpctl_ls.c: the registry, a page at a time ---------------------- */

int ls_run(struct ctx *);
/*
 * The page of obj.scan at *cursor, *count objects at most (halved while a
 * page is too big for the daemon's output limit): 0 with *rows its array
 * of [name, type, size] (a view into *res) and *cursor the next one (0:
 * that was the last), or the exit status after saying why.
 */
int ls_page(struct ctx *c, uint64_t *cursor, uint32_t *count,
    msgpack_object *res, const msgpack_object **rows);
/*
 * Each object's name (of type, unless NULL), to fn: 0, an exit status
 * after saying what went wrong, or -1 when out of memory.
 */
int ls_names(struct ctx *c, const char *type,
    void (*fn)(void *arg, const char *name, size_t len), void *arg);

/* --- mpctl_clients.c: the daemon's connections ---------------------- */

int clients_run(struct ctx *);
int clients_kill(struct ctx *);
int clients_monitor(struct ctx *);

/* --- mpctl_pipe.c: pipes ---------------------------------------------- */

/*
 * send, recv, poll, close, handoff: packs [end, operands..., handoff's
 * -t] after the name, so that they run as one call, in a batch too.
 */
int pipe_pack(struct ctx *);
int pipe_cat(struct ctx *);
int pipe_write(struct ctx *);

/* --- mpctl_process.c: process records ------------------------------- */

int process_start(struct ctx *);
int process_join(struct ctx *);

/* --- mpctl_dump.c: objects as JSON lines ----------------------------- */

int dump_run(struct ctx *);
int restore_run(struct ctx *);
/* --- mpctl_pool.c: pools ---------------------------------------------- */

int pool_worker(struct ctx *);
int pool_submit(struct ctx *);
int pool_wait(struct ctx *);
int pool_map(struct ctx *);
int pool_result(struct ctx *);

/* --- mpctl_hold.c: holding on one connection ------------------------- */

int hold_plain(struct ctx *);
int hold_exec(struct ctx *);
int hold_cond(struct ctx *);

/* --- mpctl_batch.c: many commands on one connection ------------------ */

/* mpctl batch (or mpctl -): the exit status. */
int batch_run(struct ctx *);

/* --- mpctl_complete.c: shell completion ------------------------------ */

/* mpctl --complete CWORD WORD...: the candidates, one a line. */
int complete_run(int argc, char **argv);

#endif
