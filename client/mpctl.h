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
 *	mpctl_pipe.c	pipes: one-shot verbs, cat and write streams
 *	mpctl_process.c	process records: start (the supervisor), join
 *	mpctl_pool.c	pools: worker, submit, wait, map, result
 *	mpctl_json.c	operands from text, results to JSON text
 *
 * One invocation is one struct ctx: mpctl_parse.c fills it from argv,
 * the verb's runner (struct verb's run) uses it, main frees it.
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
 * Options between VERB and the first operand, as allowed per verb (for
 * F_PERMUTE verbs, after operands too): indexes of parse_verb_opts[].
 */
enum verb_opt {
	OPT_NAME,
	OPT_STRING,
	OPT_JSON,
	OPT_TIMEOUT,
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
	OPT_JOBS,
	OPT_TAIL,
	OPT_SHELL,
	OPT_KEY,
	OPT_ATTEMPTS,
	OPT_CONSUME,
	OPT_HELP,
	OPT_COUNT
};

#define O(id) (1u << (id))
#define OPTS_OBJECT (O(OPT_NAME) | O(OPT_STRING) | O(OPT_JSON) | O(OPT_HELP))
#define OPTS_WAIT (OPTS_OBJECT | O(OPT_TIMEOUT))
#define OPTS_EXEC (O(OPT_NAME) | O(OPT_TIMEOUT) | O(OPT_CONFLICT) | \
	O(OPT_HELP))
#define OPTS_SERVER (O(OPT_JSON) | O(OPT_HELP))

/* How a verb's result prints and what its exit status says. */
#define F_NIL 0x01       /* the result is always nil: print nothing */
#define F_PREDICATE 0x02 /* a bool: print it; false exits 1 */
#define F_CAS 0x04       /* [ok, current]: print it; not ok exits 1 */
#define F_NAMES 0x08     /* operands are object or type names: strings */
#define F_PERMUTE 0x10   /* options may follow operands too (create verbs,
			    whose operands never start with '-' but numbers) */
#define F_OPERANDS 0x20  /* min and max count the operands: the CLI's own,
			    not the method's params */

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
	int min, max;           /* F_OPERANDS: operands; max < 0: no limit */
	unsigned numeric;       /* bit i: operand i is JSON even with
				   --string */
	unsigned flags;         /* F_* */
	unsigned opts;          /* O(OPT_*) it accepts */
	const char *usage;      /* its operands, e.g. "KEY [DEFAULT]" */
	const char *summary;    /* NULL: the method's */
	int (*run)(struct ctx *); /* NULL: mpctl_run_call */
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
	char who[80];                   /* "lock exec", for messages */
	const char *name;               /* the object, for typed verbs */
	const char *opt[OPT_COUNT];     /* argument, "" for a flag, NULL
					   unset */
	double timeout;                 /* -t; < 0: none given, wait forever */
	int conflict;                   /* -E */
	char **operands;
	int noperands;
	msgpack_sbuffer args;           /* the params after the name, packed */
	uint32_t nargs;
	mpmgr *h;
};

/* --- mpctl.c: entry and running ----------------------------------- */

/* Print "mpctl: ..." on stderr and return status. */
int mpctl_say(int status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Say what err was ("mpctl: NOKEY: message"): its exit status. */
int mpctl_fail(const struct ctx *c, int err);
/* Connect and authenticate: 0, or the exit status after saying why. */
int mpctl_connect(struct ctx *c);
/* The verb's method with [name] + c->args, not waiting for the reply:
 * MPMGR_OK or an MPMGR_E* code. */
int mpctl_send(struct ctx *c);
/* method with [name], or [name, timeout] when timeout >= 0, likewise. */
int mpctl_send_named(struct ctx *c, enum mpmgr_method_id method,
    const char *name, double timeout);
/* mpctl_send and its reply. */
int mpctl_call(struct ctx *c, msgpack_object *result);
/* The result as the verb's flags say, and the exit status it means. */
int mpctl_print_result(const struct ctx *c, const msgpack_object *o);
/* "mpctl: EPROTO: unexpected reply: ..." and EXIT_ERROR. */
int mpctl_unexpected(const msgpack_object *o);
/* Append one operand to c->args (numeric ones ignore --string): 0 or
 * EXIT_USAGE after saying why. */
int mpctl_pack_operand(struct ctx *c, const char *text, bool numeric);
/* Every operand, then --reverse and -t as params: 0 or EXIT_USAGE. */
int mpctl_pack_operands(struct ctx *c);
/* Seconds as the wire's timeout param. */
void mpctl_pack_timeout(struct ctx *c, double secs);
/* The value under key in map m (NULL-safe), or NULL. */
const msgpack_object *mpctl_map_get(const msgpack_object *m,
    const char *key);
bool mpctl_is_bool(const msgpack_object *o, bool b);
bool mpctl_is_str(const msgpack_object *o, const char *s);

/* Runners (struct verb's run): the exit status. */
int mpctl_run_call(struct ctx *);
int mpctl_run_update(struct ctx *);
int mpctl_run_scan(struct ctx *);
int mpctl_run_create(struct ctx *);
int mpctl_run_array_create(struct ctx *);
int mpctl_run_items(struct ctx *);
int mpctl_run_get(struct ctx *);
int mpctl_run_rm(struct ctx *);
int mpctl_run_stats(struct ctx *);

/* --- mpctl_parse.c: the grammar ------------------------------------- */

extern const struct opt parse_verb_opts[OPT_COUNT];
/*
 * Fill c from argv. -1 when the verb is to run, else the exit status to
 * end with: help printed (0) or a usage error said (EXIT_USAGE).
 */
int parse_args(struct ctx *c, int argc, char **argv);

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

/* --- mpctl_pipe.c: pipes ---------------------------------------------- */

/* send, recv, poll, close, handoff: [name, end, operands..., -t]. */
int pipe_run(struct ctx *);
int pipe_cat(struct ctx *);
int pipe_write(struct ctx *);

/* --- mpctl_process.c: process records ------------------------------- */

int process_start(struct ctx *);
int process_join(struct ctx *);

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

#endif
