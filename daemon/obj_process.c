/*
 * obj_process.c: the process type, a named record of a process that some
 * connection supervises (docs/PROTOCOL.md, process), so that any process
 * may join it, which Python allows only to its parent and a shell only to
 * its children.
 *
 * A record is {pid, argv, started, state, exitcode, daemon, supervisor}.
 * process.register makes it, running, on the asking connection: that
 * connection is its supervisor (a hold) and is the only one that may
 * report the exit (process.exited). join parks until the record has an
 * exit code. terminate and kill reach the supervisor as a notification
 * [2, "process.signal", [name, signo]] on its connection: the daemon never
 * signals anything itself (it may run as another user, and a pid may have
 * been reused). When the supervisor's connection closes before reporting,
 * the record is lost: what is known stays (pid, argv, started) and joiners
 * get LOST at once.
 *
 * A record stays until obj.delete, running or finished: an exit code must
 * still be there for a joiner that comes late, which cannot tell NOOBJ from
 * a name never started. The record register finds missing is made by
 * dispatch with the type's defaults (empty, state "new"); it goes again at
 * once if the register fails (the only state that counts as initial).
 *
 * The journal gets each register (with the supervisor's connection id,
 * and the start time it answered), each exit reported and each record
 * lost (with the end time). A replay holds a running record by a ghost
 * of its supervisor (journal.h), and the restart rule closes the ghosts:
 * a record still running at a restart is lost, as when its supervisor's
 * connection closes, and stays until obj.delete with what is known.
 */
#include <signal.h>
#include <string.h>
#include <time.h>

#include "dispatch.h"
#include "journal.h"
#include "log.h"
#include "mem.h"
#include "registry.h"
#include "reply.h"
#include "value.h"
#include "waiter.h"

enum { PROC_NEW, PROC_RUNNING, PROC_EXITED, PROC_LOST };

static const char *const proc_states[] = {
	[PROC_NEW] = "new",
	[PROC_RUNNING] = "running",
	[PROC_EXITED] = "exited",
	[PROC_LOST] = "lost",
};

/* Exit codes as Python's: 0..255, or -SIG for a signal (SIGRTMAX <= 64). */
#define PROC_CODE_MIN (-64)
#define PROC_CODE_MAX 255

struct proc {
	int state;
	bool daemon;
	int64_t pid;
	int64_t exitcode;         /* PROC_EXITED */
	double started;           /* wall clock, seconds since the epoch */
	double ended;             /* exited or lost; 0 before */
	int64_t sup_pid;          /* the supervisor connection's peer */
	struct hold *sup;         /* its hold, while running */
	uint8_t *argv;            /* canonical array of str */
	size_t argvlen;
};

/* Journal ops (journal.h): numbers fixed forever. */
enum {
	PROC_J_REGISTER,       /* conn|nil, pid, argv, daemon, started,
				  supervisor pid: running */
	PROC_J_EXITED,         /* exitcode, ended */
	PROC_J_LOST            /* ended */
};

static void proc_join_timeout(struct waiter *);

static const struct waiter_ops proc_join_ops = {
	.timeout = proc_join_timeout,
};

static struct buf abuf = BUF_INIT;

static struct proc *
proc_of(const struct object *o)
{
	return o->data;
}

static double
proc_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool
proc_exists(struct req *req)
{
	if (req->obj != NULL)
		return true;
	reply_error(req, PERR_NOOBJ, "no process '%.*s'", req_namelen(req),
	    req_name(req));
	return false;
}

static void
proc_lost_error(struct req *req, const struct object *o)
{
	const struct proc *p = proc_of(o);

	reply_error(req, PERR_LOST, "process '%.*s' (pid %lld) is lost: its "
	    "supervisor went away without reporting its exit",
	    (int)o->namelen, o->name, (long long)p->pid);
}

/* The record finished (exited or lost) at ended: answer every joiner. */
static void
proc_finish(struct object *o, double ended)
{
	struct proc *p = proc_of(o);
	struct waiter *w;

	p->ended = ended;
	if (p->sup != NULL) {
		hold_drop(p->sup);
		p->sup = NULL;
	}
	while ((w = waiter_first(o)) != NULL) {
		if (p->state == PROC_EXITED)
			reply_int(&w->req, p->exitcode);
		else
			proc_lost_error(&w->req, o);
		waiter_done(w);
	}
}

static void
proc_join_timeout(struct waiter *w)
{
	const struct object *o = w->req.obj;

	reply_error(&w->req, PERR_TIMEOUT, "process '%.*s' still runs",
	    (int)o->namelen, o->name);
	waiter_done(w);
}

/* --- the journal's records ------------------------------------------------ */

/* The register of o, running under c (NULL: its dump once finished). */
static void
proc_journal_register(const struct object *o, const struct conn *c)
{
	const struct proc *p = proc_of(o);
	msgpack_packer *pk = journal_begin(o, PROC_J_REGISTER, 6);

	if (c != NULL)
		msgpack_pack_uint64(pk, c->id);
	else
		msgpack_pack_nil(pk);
	msgpack_pack_int64(pk, p->pid);
	pack_raw(pk, p->argv, p->argvlen);
	if (p->daemon)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
	msgpack_pack_double(pk, p->started);
	msgpack_pack_int64(pk, p->sup_pid);
	journal_end();
}

/* o finished (PROC_J_EXITED or PROC_J_LOST as its state says). */
static void
proc_journal_end(const struct object *o)
{
	const struct proc *p = proc_of(o);
	msgpack_packer *pk;

	if (p->state == PROC_EXITED) {
		pk = journal_begin(o, PROC_J_EXITED, 2);
		msgpack_pack_int64(pk, p->exitcode);
	} else
		pk = journal_begin(o, PROC_J_LOST, 1);
	msgpack_pack_double(pk, p->ended);
	journal_end();
}

/* --- verbs -------------------------------------------------------------- */

/* One field of register's map: true, or false after answering BADARG. */
static bool
proc_field(struct req *req, struct proc *p, const struct mpv *k,
    const struct mpv *v, bool *have_pid, struct mpv *argv)
{
	struct mpv_iter it;
	struct mpv a;

	if (mpv_str_eq(k, "pid") && !*have_pid) {
		if (v->type == MPV_UINT && v->v.u >= 1 && v->v.u <= INT32_MAX) {
			p->pid = (int64_t)v->v.u;
			*have_pid = true;
			return true;
		}
	} else if (mpv_str_eq(k, "argv") && argv->type == MPV_NIL) {
		if (v->type == MPV_ARRAY && v->len > 0) {
			mpv_iter_init(&it, v);
			while (mpv_iter_next(&it, &a) && a.type == MPV_STR)
				;
			if (a.type == MPV_STR) {
				*argv = *v;
				return true;
			}
		}
	} else if (mpv_str_eq(k, "daemon")) {
		if (v->type == MPV_BOOL) {
			p->daemon = v->v.b;
			return true;
		}
	} else {
		reply_error(req, PERR_BADARG, "%s: unknown or repeated field; "
		    "the fields are pid, argv and daemon", req->method->name);
		return false;
	}
	reply_error(req, PERR_BADARG, "%s: pid must be an int from 1 to %d, "
	    "argv an array of one or more strs, daemon a bool",
	    req->method->name, INT32_MAX);
	return false;
}

static void
process_register(struct req *req)
{
	struct object *o = req->obj;
	struct proc *p = proc_of(o);
	const struct mpv *fields = &req->argv[1];
	struct mpv argv = { .type = MPV_NIL };
	const uint8_t *bytes;
	struct mpv_iter it;
	struct mpv k, v;
	bool have_pid = false;
	size_t n;

	if (p->state != PROC_NEW) {
		reply_error(req, PERR_EXISTS, "process '%.*s' exists (%s)",
		    req_namelen(req), req_name(req), proc_states[p->state]);
		return;
	}
	if (fields->type != MPV_MAP) {
		reply_error(req, PERR_BADARG, "%s takes a map {pid, argv, "
		    "daemon}", req->method->name);
		return;
	}
	mpv_iter_init(&it, fields);
	while (mpv_iter_next(&it, &k) && mpv_iter_next(&it, &v)) {
		if (!proc_field(req, p, &k, &v, &have_pid, &argv))
			return;
	}
	if (!have_pid || argv.type == MPV_NIL) {
		reply_error(req, PERR_BADARG, "%s: pid and argv are required",
		    req->method->name);
		return;
	}
	value_canon(&argv, &abuf, &bytes, &n);
	p->argv = xmalloc(n);
	memcpy(p->argv, bytes, n);
	p->argvlen = n;
	p->state = PROC_RUNNING;
	p->started = proc_now();
	p->sup = hold_get(req->c, o);
	p->sup_pid = req->c->pid;
	o->explicit = true;
	if (journal_wants(o))
		proc_journal_register(o, req->c);
	reply_nil(req);
}

static void
process_exited(struct req *req)
{
	const struct mpv *code = &req->argv[1];
	struct proc *p;
	int64_t c;

	if (!proc_exists(req))
		return;
	p = proc_of(req->obj);
	if (p->sup == NULL || p->sup->c != req->c) {
		reply_error(req, PERR_NOTOWNER, "%s: only the supervisor of "
		    "'%.*s' reports its exit", req->method->name,
		    req_namelen(req), req_name(req));
		return;
	}
	if ((code->type == MPV_UINT && code->v.u <= PROC_CODE_MAX) ||
	    (code->type == MPV_INT && code->v.i >= PROC_CODE_MIN))
		c = code->type == MPV_UINT ? (int64_t)code->v.u : code->v.i;
	else {
		reply_error(req, PERR_BADARG, "%s: the exit code must be an "
		    "int from %d to %d (-SIG for a signal)", req->method->name,
		    PROC_CODE_MIN, PROC_CODE_MAX);
		return;
	}
	p->state = PROC_EXITED;
	p->exitcode = c;
	proc_finish(req->obj, proc_now());
	if (journal_wants(req->obj))
		proc_journal_end(req->obj);
	reply_nil(req);
}

static void
process_join(struct req *req)
{
	const struct proc *p;
	int64_t usec;

	if (!waiter_timeout_arg(req, 1, &usec) || !proc_exists(req))
		return;
	p = proc_of(req->obj);
	if (p->state == PROC_EXITED)
		reply_int(req, p->exitcode);
	else if (p->state == PROC_LOST)
		proc_lost_error(req, req->obj);
	else if (usec == 0)
		reply_error(req, PERR_TIMEOUT, "process '%.*s' still runs",
		    req_namelen(req), req_name(req));
	else
		waiter_park(req, &proc_join_ops, usec);
}

static void
process_is_alive(struct req *req)
{
	if (proc_exists(req))
		reply_bool(req, proc_of(req->obj)->state == PROC_RUNNING);
}

static void
proc_pack_time(msgpack_packer *pk, const char *key, double t)
{
	msg_pack_cstr(pk, key);
	if (t == 0)
		msgpack_pack_nil(pk);
	else
		msgpack_pack_double(pk, t);
}

/*
 * The record's fields, its name first if with_name, in state (a restart's
 * view may differ from the record's own) and ended at ended.
 */
static void
proc_pack(msgpack_packer *pk, const struct object *o, bool with_name,
    int state, double ended)
{
	const struct proc *p = proc_of(o);

	msgpack_pack_map(pk, with_name ? 9 : 8);
	if (with_name) {
		msg_pack_cstr(pk, "name");
		msgpack_pack_str(pk, o->namelen);
		msgpack_pack_str_body(pk, o->name, o->namelen);
	}
	msg_pack_cstr(pk, "pid");
	msgpack_pack_int64(pk, p->pid);
	msg_pack_cstr(pk, "argv");
	if (p->argv != NULL)
		pack_raw(pk, p->argv, p->argvlen);
	else
		msgpack_pack_nil(pk);
	msg_pack_cstr(pk, "state");
	msg_pack_cstr(pk, proc_states[state]);
	msg_pack_cstr(pk, "exitcode");
	if (state == PROC_EXITED)
		msgpack_pack_int64(pk, p->exitcode);
	else
		msgpack_pack_nil(pk);
	msg_pack_cstr(pk, "daemon");
	if (p->daemon)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
	msg_pack_cstr(pk, "supervisor");
	msgpack_pack_int64(pk, p->sup_pid);
	proc_pack_time(pk, "started", p->started);
	proc_pack_time(pk, "ended", ended);
}

static void
process_info(struct req *req)
{
	const struct proc *p;

	if (!proc_exists(req))
		return;
	p = proc_of(req->obj);
	proc_pack(reply_begin(req), req->obj, true, p->state, p->ended);
}

/*
 * terminate and kill: a running record's supervisor is asked to send
 * signo. Python's terminate of a finished process does nothing: nil. A
 * lost one (or one whose supervisor has hung up, soon lost) cannot be
 * reached: LOST.
 */
static void
proc_signal(struct req *req, int signo)
{
	struct object *o = req->obj;
	const struct proc *p;
	msgpack_packer *pk;

	if (!proc_exists(req))
		return;
	p = proc_of(o);
	if (p->state == PROC_EXITED) {
		reply_nil(req);
		return;
	}
	if (p->state == PROC_RUNNING && (pk = hold_notify(p->sup,
	    MPMGR_NOTIFY_PROCESS_SIGNAL, 2)) != NULL) {
		msgpack_pack_str(pk, o->namelen);
		msgpack_pack_str_body(pk, o->name, o->namelen);
		msgpack_pack_int(pk, signo);
		reply_nil(req);
		return;
	}
	proc_lost_error(req, o);
}

static void
process_terminate(struct req *req)
{
	proc_signal(req, SIGTERM);
}

static void
process_kill(struct req *req)
{
	proc_signal(req, SIGKILL);
}

/* --- the type ----------------------------------------------------------- */

static void
proc_init(struct object *o, const struct optval *v)
{
	o->data = xcalloc(1, sizeof(struct proc));
}

static bool
proc_free_step(struct object *o, size_t budget)
{
	struct proc *p = proc_of(o);

	xfree(p->argv);
	xfree(p);
	return true;
}

static bool
proc_is_initial(const struct object *o)
{
	return proc_of(o)->state == PROC_NEW;
}

/* 1 while running, else 0. */
static uint64_t
proc_size(const struct object *o)
{
	return proc_of(o)->state == PROC_RUNNING;
}

static size_t
proc_mem(const struct object *o)
{
	const struct proc *p = proc_of(o);

	return mem_usable(p) + mem_usable(p->argv);
}

/* The supervisor's connection closed without reporting: lost. */
static void
proc_conn_gone(struct hold *h)
{
	struct object *o = h->o;
	struct proc *p = proc_of(o);

	if (p->sup != h) {
		hold_drop(h);
		return;
	}
	p->state = PROC_LOST;
	proc_finish(o, proc_now());
	if (journal_wants(o))
		proc_journal_end(o);
}

/* --- replay ------------------------------------------------------------ */

static const char *
proc_replay_register(struct object *o, struct mpv_iter *args,
    uint32_t nargs)
{
	struct proc *p = proc_of(o);
	struct mpv conn, pid, argv, daemon, started, sup;

	jop_arg(args, &conn);
	jop_arg(args, &pid);
	jop_arg(args, &argv);
	jop_arg(args, &daemon);
	jop_arg(args, &started);
	jop_arg(args, &sup);
	if (p->state != PROC_NEW)
		return "a register of a process that exists";
	if ((conn.type != MPV_UINT && conn.type != MPV_NIL) ||
	    pid.type != MPV_UINT || argv.type != MPV_ARRAY ||
	    daemon.type != MPV_BOOL || started.type != MPV_FLOAT ||
	    (sup.type != MPV_UINT && sup.type != MPV_INT))
		return "a register needs conn, pid, argv, daemon, started and "
		    "the supervisor's pid";
	p->pid = (int64_t)pid.v.u;
	p->argv = xmalloc(argv.rawlen);
	memcpy(p->argv, argv.raw, argv.rawlen);
	p->argvlen = argv.rawlen;
	p->daemon = daemon.v.b;
	p->started = started.v.f;
	p->sup_pid = sup.type == MPV_UINT ? (int64_t)sup.v.u : sup.v.i;
	p->state = PROC_RUNNING;
	if (conn.type == MPV_UINT)
		p->sup = hold_get(journal_ghost(conn.v.u), o);
	o->explicit = true;
	return NULL;
}

static const char *
proc_replay_end(struct object *o, struct mpv_iter *args, uint32_t nargs,
    int state)
{
	struct proc *p = proc_of(o);
	struct mpv code, ended;

	if (state == PROC_EXITED)
		jop_arg(args, &code);
	jop_arg(args, &ended);
	if (p->state != PROC_RUNNING)
		return "the end of a process not running";
	if (ended.type != MPV_FLOAT)
		return "an end time must be a float";
	if (state == PROC_EXITED) {
		if (code.type == MPV_UINT && code.v.u <= PROC_CODE_MAX)
			p->exitcode = (int64_t)code.v.u;
		else if (code.type == MPV_INT && code.v.i >= PROC_CODE_MIN)
			p->exitcode = code.v.i;
		else
			return "an exit code out of range";
	}
	p->state = state;
	proc_finish(o, ended.v.f);
	return NULL;
}

static const char *
proc_replay_exited(struct object *o, struct mpv_iter *args, uint32_t nargs)
{
	return proc_replay_end(o, args, nargs, PROC_EXITED);
}

static const char *
proc_replay_lost(struct object *o, struct mpv_iter *args, uint32_t nargs)
{
	return proc_replay_end(o, args, nargs, PROC_LOST);
}

static const struct jop proc_jops[] = {
	[PROC_J_REGISTER] = { "register", 6, 6, proc_replay_register },
	[PROC_J_EXITED] = { "exited", 2, 2, proc_replay_exited },
	[PROC_J_LOST] = { "lost", 1, 1, proc_replay_lost },
	JOP_END
};

/* A register (under its supervisor while running), then its end. */
static void
proc_dump(const struct object *o)
{
	const struct proc *p = proc_of(o);

	if (p->state == PROC_NEW)
		return;
	proc_journal_register(o, p->sup != NULL ? p->sup->c : NULL);
	if (p->state != PROC_RUNNING)
		proc_journal_end(o);
}

/*
 * Contents: {pid, argv, state, exitcode, daemon, supervisor, started,
 * ended} as a restart leaves them: a running record is lost (its
 * supervisor's connection is gone), ended when dumped.
 */
static void
proc_contents(const struct object *o, msgpack_packer *pk)
{
	const struct proc *p = proc_of(o);

	if (p->state == PROC_RUNNING)
		proc_pack(pk, o, false, PROC_LOST, proc_now());
	else
		proc_pack(pk, o, false, p->state, p->ended);
}

/* A time of contents (nil: 0) into *t: true, or false. */
static bool
proc_time(const struct mpv *v, double *t)
{
	if (v->type == MPV_NIL)
		*t = 0;
	else if (v->type == MPV_FLOAT && v->v.f > 0)
		*t = v->v.f;
	else if (v->type == MPV_UINT)
		*t = (double)v->v.u;
	else
		return false;
	return true;
}

/* One field of restore's contents: true, or false when it is wrong. */
static bool
proc_restore_field(struct proc *p, const struct mpv *k, const struct mpv *v,
    struct mpv *argv)
{
	int64_t x;
	size_t i;

	if (mpv_str_eq(k, "pid"))
		return mpv_to_int64(v, &p->pid) && p->pid >= 0 &&
		    p->pid <= INT32_MAX;
	if (mpv_str_eq(k, "argv")) {
		*argv = *v;
		return v->type == MPV_NIL || v->type == MPV_ARRAY;
	}
	if (mpv_str_eq(k, "state")) {
		for (i = 0; i < sizeof proc_states / sizeof proc_states[0];
		    i++)
			if (i != PROC_RUNNING && mpv_str_eq(v, proc_states[i]))
				break;
		p->state = (int)i;
		return i < sizeof proc_states / sizeof proc_states[0];
	}
	if (mpv_str_eq(k, "exitcode")) {
		if (v->type == MPV_NIL)
			return true;
		if (!mpv_to_int64(v, &x) || x < PROC_CODE_MIN ||
		    x > PROC_CODE_MAX)
			return false;
		p->exitcode = x;
		return true;
	}
	if (mpv_str_eq(k, "daemon")) {
		p->daemon = v->type == MPV_BOOL && v->v.b;
		return v->type == MPV_BOOL;
	}
	if (mpv_str_eq(k, "supervisor"))
		return mpv_to_int64(v, &p->sup_pid);
	if (mpv_str_eq(k, "started"))
		return proc_time(v, &p->started);
	if (mpv_str_eq(k, "ended"))
		return proc_time(v, &p->ended);
	return false;
}

static int
proc_restore(struct object *o, const struct mpv *c, struct req *req)
{
	struct proc *p = proc_of(o);
	struct mpv argv = { .type = MPV_NIL }, k, v, a;
	struct mpv_iter it;
	const uint8_t *bytes;
	size_t n;

	if (c->type == MPV_NIL)
		return 0;
	if (c->type != MPV_MAP)
		goto bad;
	mpv_iter_init(&it, c);
	while (mpv_iter_next(&it, &k) && mpv_iter_next(&it, &v)) {
		if (!proc_restore_field(p, &k, &v, &argv))
			goto bad;
	}
	if (argv.type == MPV_ARRAY) {
		mpv_iter_init(&it, &argv);
		while (mpv_iter_next(&it, &a))
			if (a.type != MPV_STR)
				goto bad;
		value_canon(&argv, &abuf, &bytes, &n);
		p->argv = xmalloc(n);
		memcpy(p->argv, bytes, n);
		p->argvlen = n;
	}
	if ((p->state != PROC_NEW) != (argv.type == MPV_ARRAY && argv.len > 0))
		goto bad;
	return 0;
bad:
	reply_error(req, PERR_BADARG, "%s: a process's contents are {pid, "
	    "argv (strs), state (new, exited or lost), exitcode (%d to %d), "
	    "daemon, supervisor, started, ended}, as obj.dump answers them",
	    req->method->name, PROC_CODE_MIN, PROC_CODE_MAX);
	return -1;
}

static const struct method process_methods[] = {
	MPMGR_METHODS_PROCESS(DISPATCH_ROW)
	DISPATCH_END
};

static const char *
proc_hold_text(const struct hold *h, char *buf, size_t len)
{
	return "supervisor";
}

const struct obj_type process_type = {
	.name = "process",
	.methods = process_methods,
	.init = proc_init,
	.free_step = proc_free_step,
	.is_initial = proc_is_initial,
	.size = proc_size,
	.mem = proc_mem,
	.conn_gone = proc_conn_gone,
	.contents = proc_contents,
	.restore = proc_restore,
	.hold_text = proc_hold_text,
	.jcode = JC_PROCESS,
	.jops = proc_jops,
	.dump = proc_dump,
};
