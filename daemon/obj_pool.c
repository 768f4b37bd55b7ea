/*
 * obj_pool.c: the pool type, jobs kept in the daemon and leased to the
 * workers that run them, so that a dead worker costs a retry, not the
 * pool (docs/PROTOCOL.md, pool): what Python's Pool, task-spooler and GNU
 * parallel keep in a process that may die.
 *
 * A job is {id, payload, attempts, state, lease, result}. submit queues
 * it (ids count up from 1 per pool); take gives the oldest queued job to
 * the asking connection and leases it there (a hold of that connection,
 * whose data lists its leased jobs); done or fail from that connection
 * finishes it with a result or an error. When a connection closes with
 * jobs leased, each goes back to the head of the queue, in the order they
 * were taken, unless it has been taken max_attempts times: then it fails
 * with a str error saying that its worker died and on which attempt.
 * Execution is at least once: a worker killed after the job's work but
 * before its done makes the job run again.
 *
 * A finished job (done, failed, cancelled) keeps its result until it is
 * read with consume (result's flag, or collect, which takes finished jobs
 * in the order they finished), or the pool is deleted; its payload is
 * freed as it finishes. maxsize bounds the jobs held in any state, so
 * that a pool's memory is at most about maxsize times the largest
 * payload or result (docs/PROTOCOL.md).
 *
 * Parked requests share the object's FIFO, each kind served oldest
 * first: a job goes to the oldest taker whose peer is still there (a take
 * never leases a job whose reply cannot go out at once: it answers LIMIT
 * and the job stays); a finished job answers the results parked for its
 * id, then, unless one of them consumed it, the oldest collector; joiners
 * are answered once the pool is closed and no job is queued or running,
 * and takers then get SHUTDOWN (the workers stop, as CPython's get their
 * sentinel). Finding a taker or a job's result waiters walks the FIFO,
 * skipped when no waiter of that kind is parked.
 *
 * terminate cancels every unfinished job, answers the takers SHUTDOWN and
 * sends each worker (every connection that took from the pool, or parked
 * a take, and is still there) the notification [2, "pool.terminate",
 * [name]]; cancel of
 * a running job sends its worker [2, "pool.cancel", [name, id]].
 *
 * The journal gets jobs submitted (with their ids), a take as the job
 * leased to a connection, done, fail and cancel, each consumption, close,
 * terminate (what it cancels follows from the state) and a closed
 * connection's leases going back (what fails follows from the attempts).
 * A replay runs the same code on ghosts of those connections (journal.h)
 * and closes the ghosts left at its end: a restart gives running jobs
 * back to the head of the queue, or fails them past max attempts, as a
 * disconnect does (docs/PROTOCOL.md, Restarts). Workers (a parked take
 * makes one) and parked requests live with their connections and are
 * never journaled.
 *
 * obj.dump and obj.restore refuse pools (BADTYPE, obj_type.nodump): a
 * running job is leased to a connection, which another daemon does not
 * have; the journal keeps pools across a restart, a dump has no form for
 * them.
 */
#include <stdio.h>
#include <string.h>
#include <sys/queue.h>

#include "dispatch.h"
#include "journal.h"
#include "log.h"
#include "mem.h"
#include "ohash.h"
#include "registry.h"
#include "reply.h"
#include "value.h"
#include "waiter.h"

enum { JOB_QUEUED, JOB_RUNNING, JOB_DONE, JOB_FAILED, JOB_CANCELLED,
	JOB_NSTATES };

static const char *const job_states[JOB_NSTATES] = {
	[JOB_QUEUED] = "queued",
	[JOB_RUNNING] = "running",
	[JOB_DONE] = "done",
	[JOB_FAILED] = "failed",
	[JOB_CANCELLED] = "cancelled",
};

/* Longest key submit takes, bytes. */
#define POOL_KEY_MAX 1024
/* Bytes of a take's or collect's reply besides the values it carries: the
 * array header, an id, a state or an attempt count. */
#define POOL_REPLY_HEAD 24

struct job {
	uint64_t id;
	TAILQ_ENTRY(job) link;    /* queued: the pool's queue; running: its
				     lease's list; finished: the finished
				     list */
	struct hold *lease;       /* running: its worker's hold */
	uint8_t *data;            /* queued, running: the payload; finished:
				     the result, the error, or NULL (nil) */
	size_t len;
	uint8_t *key;             /* submit's key, or NULL */
	uint32_t keylen;
	uint32_t attempts;        /* times taken */
	uint32_t max_attempts;
	uint32_t nwaiting;        /* results parked for it; a hint: 0 means
				     none (waiters answered behind our back by
				     a delete or the stop leave it high) */
	uint8_t state;
};
TAILQ_HEAD(job_list, job);

/* A worker: a connection that took from the pool or parked a take (its
 * hold's data). */
struct worker {
	struct job_list leased;   /* oldest first */
};

struct pool {
	struct job_list queue;    /* queued jobs, the next one first */
	struct job_list finished; /* finished and not consumed, oldest
				     finish first */
	struct ohash *ids;        /* id (8 bytes) -> struct job * */
	struct ohash *keys;       /* key -> struct job *; NULL until used */
	uint64_t next_id;
	uint64_t count[JOB_NSTATES]; /* jobs held, by state */
	uint64_t submitted;       /* jobs made since the pool was */
	uint32_t max_attempts;
	uint64_t maxsize;         /* jobs held; 0: no bound */
	size_t bytes;             /* jobs, their data, keys, workers */
	size_t nworkers;
	size_t ntakers;           /* parked, by kind: walks skip idle kinds */
	size_t nresults;
	size_t ncollectors;
	size_t njoiners;
	bool closed;              /* close or terminate: no more submits */
	bool terminated;
};

/* Journal ops. */
enum {
	POOL_J_SUBMIT,         /* id, payload, attempts, key|nil: queued */
	POOL_J_LEASE,          /* conn, id: taken by conn */
	POOL_J_FINISH,         /* id, state, value: done, fail, cancel */
	POOL_J_CONSUME,        /* id: a finished job read for the last time */
	POOL_J_CLOSE,          /* close */
	POOL_J_TERMINATE,      /* terminate */
	POOL_J_REQUEUE,        /* conn: its leases back (conn_gone) */
	POOL_J_JOB,            /* id, state, attempts, max_attempts, data,
				  key|nil[, conn]: a job as it is (dumps) */
	POOL_J_IDS             /* next id, submitted: the counters (dumps) */
};

/* A pool waiter's state. */
enum { PW_TAKE, PW_RESULT, PW_COLLECT, PW_JOIN };

static void pool_timeout(struct waiter *);
static void pool_left(struct waiter *);
static void job_stop(struct object *, struct job *, int, const uint8_t *,
    size_t, bool);

static const struct waiter_ops pool_waiter_ops = {
	.timeout = pool_timeout,
	.gone = pool_left,
};

/* Scratch: a value's canonical bytes. */
static struct buf vbuf = BUF_INIT;

static struct pool *
pool_of(const struct object *o)
{
	struct pool *p = o == NULL ? NULL : o->data;

	/* waiter_shutdown and waiter_object_deleted answer waiters behind
	 * our back: with none left, none is counted. */
	if (p != NULL && o->nwaiters == 0)
		p->ntakers = p->nresults = p->ncollectors = p->njoiners = 0;
	return p;
}

static uint64_t
pool_held(const struct pool *p)
{
	uint64_t n = 0;
	int s;

	for (s = 0; s < JOB_NSTATES; s++)
		n += p->count[s];
	return n;
}

static bool
job_finished(const struct job *j)
{
	return j->state >= JOB_DONE;
}

/* Closed, and no job will run again: workers may stop, joiners go. */
static bool
pool_drained(const struct pool *p)
{
	return p->closed && p->count[JOB_QUEUED] == 0 &&
	    p->count[JOB_RUNNING] == 0;
}

/* --- jobs ---------------------------------------------------------------- */

static struct job *
job_find(const struct pool *p, uint64_t id)
{
	struct oh_entry *e;
	struct job *j;

	if (p == NULL || (e = ohash_get(p->ids, &id, sizeof id)) == NULL)
		return NULL;
	memcpy(&j, oh_val(e), sizeof j);
	return j;
}

static void
job_set_data(struct pool *p, struct job *j, const uint8_t *bytes, size_t n)
{
	p->bytes -= mem_usable(j->data);
	xfree(j->data);
	j->data = NULL;
	j->len = 0;
	if (bytes == NULL)
		return;
	j->data = xmalloc(n);
	memcpy(j->data, bytes, n);
	j->len = n;
	p->bytes += mem_usable(j->data);
}

static struct job *
job_new(struct pool *p, uint64_t id, const uint8_t *payload, size_t n,
    uint32_t attempts, const struct mpv *key)
{
	struct job *j = xcalloc(1, sizeof *j);
	bool added;

	j->id = id;
	if (id > p->next_id)
		p->next_id = id;
	j->max_attempts = attempts;
	j->state = JOB_QUEUED;
	job_set_data(p, j, payload, n);
	ohash_set(p->ids, &j->id, sizeof j->id, &j, sizeof j, &added);
	if (key != NULL) {
		if (p->keys == NULL)
			p->keys = ohash_new();
		j->key = xmalloc(key->len);
		memcpy(j->key, key->ptr, key->len);
		j->keylen = key->len;
		ohash_set(p->keys, j->key, j->keylen, &j, sizeof j, &added);
		p->bytes += mem_usable(j->key);
	}
	p->bytes += mem_usable(j);
	p->count[JOB_QUEUED]++;
	p->submitted++;
	TAILQ_INSERT_TAIL(&p->queue, j, link);
	return j;
}

/* Free a job that is on no list, forgetting its id and key. */
static void
job_free(struct pool *p, struct job *j)
{
	p->count[j->state]--;
	ohash_del(p->ids, &j->id, sizeof j->id, NULL);
	if (j->key != NULL) {
		ohash_del(p->keys, j->key, j->keylen, NULL);
		p->bytes -= mem_usable(j->key);
		xfree(j->key);
	}
	job_set_data(p, j, NULL, 0);
	p->bytes -= mem_usable(j);
	xfree(j);
}

/* A record of op with the job id j alone. */
static void
pool_journal_id(const struct object *o, unsigned op, const struct job *j)
{
	msgpack_pack_uint64(journal_begin(o, op, 1), j->id);
	journal_end();
}

/* A finished job is read for the last time. */
static void
job_consume(struct object *o, struct job *j)
{
	struct pool *p = o->data;

	if (journal_wants(o))
		pool_journal_id(o, POOL_J_CONSUME, j);
	TAILQ_REMOVE(&p->finished, j, link);
	job_free(p, j);
}

static void
pool_pack_key(msgpack_packer *pk, const struct job *j)
{
	if (j->key == NULL)
		msgpack_pack_nil(pk);
	else {
		msgpack_pack_str(pk, j->keylen);
		msgpack_pack_str_body(pk, j->key, j->keylen);
	}
}

/* A record of j: SUBMIT of a queued one, or (dumps) JOB, with its
 * worker's connection c when it runs. */
static void
pool_journal_job(const struct object *o, unsigned op, const struct job *j,
    const struct conn *c)
{
	msgpack_packer *pk;

	if (op == POOL_J_SUBMIT) {
		pk = journal_begin(o, op, 4);
		msgpack_pack_uint64(pk, j->id);
		pack_raw(pk, j->data, j->len);
		msgpack_pack_uint32(pk, j->max_attempts);
	} else {
		pk = journal_begin(o, op, 6 + (c != NULL));
		msgpack_pack_uint64(pk, j->id);
		msgpack_pack_uint8(pk, j->state);
		msgpack_pack_uint32(pk, j->attempts);
		msgpack_pack_uint32(pk, j->max_attempts);
		if (j->data == NULL)
			msgpack_pack_nil(pk);
		else
			pack_raw(pk, j->data, j->len);
	}
	pool_pack_key(pk, j);
	if (c != NULL)
		msgpack_pack_uint64(pk, c->id);
	journal_end();
}

/* --- leases --------------------------------------------------------------- */

/* c's hold in o, with its worker made on its first take. */
static struct hold *
pool_worker(struct object *o, struct conn *c)
{
	struct pool *p = o->data;
	struct hold *h = hold_get(c, o);
	struct worker *w;

	if (h->data == NULL) {
		w = xmalloc(sizeof *w);
		TAILQ_INIT(&w->leased);
		h->data = w;
		p->bytes += mem_usable(w);
		p->nworkers++;
	}
	return h;
}

static void
job_lease(struct object *o, struct job *j, struct conn *c)
{
	struct pool *p = o->data;
	struct hold *h = pool_worker(o, c);
	struct worker *w = h->data;
	msgpack_packer *pk;

	if (journal_wants(o)) {
		pk = journal_begin(o, POOL_J_LEASE, 2);
		msgpack_pack_uint64(pk, c->id);
		msgpack_pack_uint64(pk, j->id);
		journal_end();
	}
	TAILQ_REMOVE(&p->queue, j, link);
	TAILQ_INSERT_TAIL(&w->leased, j, link);
	h->n++;
	j->lease = h;
	j->attempts++;
	p->count[JOB_QUEUED]--;
	p->count[JOB_RUNNING]++;
	j->state = JOB_RUNNING;
}

/* Take a running job off its lease; it is then on no list. */
static void
job_unlease(struct pool *p, struct job *j)
{
	struct hold *h = j->lease;
	struct worker *w = h->data;

	TAILQ_REMOVE(&w->leased, j, link);
	h->n--;
	j->lease = NULL;
}

/* --- finishing ------------------------------------------------------------ */

static void
pool_pack_outcome(msgpack_packer *pk, const struct job *j)
{
	msg_pack_cstr(pk, job_states[j->state]);
	if (j->data == NULL)
		msgpack_pack_nil(pk);
	else
		pack_raw(pk, j->data, j->len);
}

/* result's answer: [state, value]. */
static void
pool_reply_result(struct req *req, const struct job *j)
{
	msgpack_packer *pk = reply_begin(req);

	msgpack_pack_array(pk, 2);
	pool_pack_outcome(pk, j);
}

/*
 * j, on no list and not finished, finishes as state with the value
 * bytes (NULL: nil): its parked results are answered, and it is consumed
 * if one of them asked, else it joins the finished list. Takers, collectors
 * and joiners are the caller's to pump.
 */
static void
job_finish(struct object *o, struct job *j, int state, const uint8_t *bytes,
    size_t n)
{
	struct pool *p = o->data;
	struct waiter *w, *next;
	bool consumed = false;

	p->count[j->state]--;
	p->count[state]++;
	j->state = (uint8_t)state;
	job_set_data(p, j, bytes, n);
	TAILQ_INSERT_TAIL(&p->finished, j, link);
	if (j->nwaiting == 0 || pool_of(o)->nresults == 0)
		return;
	for (w = waiter_first(o); w != NULL; w = next) {
		next = waiter_next(w);
		if (w->state != PW_RESULT || (uint64_t)w->n != j->id)
			continue;
		/* one that consumes takes nothing it cannot deliver: LIMIT,
		 * and the result stays */
		if (w->nitems == 0)
			pool_reply_result(&w->req, j);
		else if (reply_fits_now(&w->req, j->len + POOL_REPLY_HEAD)) {
			pool_reply_result(&w->req, j);
			consumed = true;
		}
		p->nresults--;
		waiter_done(w);
	}
	j->nwaiting = 0;
	if (consumed)
		job_consume(o, j);
}

/* --- serving parked requests ---------------------------------------------- */

/* Lease the head of the queue to req's connection and answer [id,
 * payload, attempt]; or LIMIT, and it stays. */
static void
pool_deliver(struct object *o, struct req *req)
{
	struct pool *p = o->data;
	struct job *j = TAILQ_FIRST(&p->queue);
	msgpack_packer *pk;

	if (!reply_fits_now(req, j->len + POOL_REPLY_HEAD))
		return;
	job_lease(o, j, req->c);
	pk = reply_begin(req);
	msgpack_pack_array(pk, 3);
	msgpack_pack_uint64(pk, j->id);
	pack_raw(pk, j->data, j->len);
	msgpack_pack_uint32(pk, j->attempts);
}

/*
 * collect's answer: up to max finished jobs, oldest first, consumed, as
 * many as fit in the connection's output and in a message (at least one,
 * if it fits the output, else LIMIT).
 */
static void
pool_collect_reply(struct object *o, struct req *req, uint64_t max)
{
	struct pool *p = o->data;
	struct job *j;
	msgpack_packer *pk;
	size_t k = 0, total = POOL_REPLY_HEAD, room = reply_room(req);

	/* No more than a message may be, as get_many. */
	if (server.max_message != 0 && server.max_message < room)
		room = server.max_message;

	TAILQ_FOREACH(j, &p->finished, link) {
		if (k == max || (k > 0 && total + j->len + POOL_REPLY_HEAD >
		    room))
			break;
		total += j->len + POOL_REPLY_HEAD;
		k++;
	}
	if (!reply_fits_now(req, total))
		return;
	pk = reply_begin(req);
	msgpack_pack_array(pk, k);
	while (k-- > 0) {
		j = TAILQ_FIRST(&p->finished);
		msgpack_pack_array(pk, 3);
		msgpack_pack_uint64(pk, j->id);
		pool_pack_outcome(pk, j);
		job_consume(o, j);
	}
}

static void
pool_shutdown_error(struct req *req, const struct object *o)
{
	const struct pool *p = o->data;

	reply_error(req, PERR_SHUTDOWN, "pool '%.*s' is %s", (int)o->namelen,
	    o->name, p->terminated ? "terminated" : "closed and has no job "
	    "left to run");
}

/*
 * After p changed: queued jobs to the oldest live takers, finished ones
 * to the oldest collectors; once drained, joiners get true and takers
 * SHUTDOWN. Never settles o.
 */
static void
pool_pump(struct object *o)
{
	struct pool *p = pool_of(o);
	struct waiter *w, *next;
	bool drained;

	for (w = waiter_first(o); w != NULL && p->ntakers > 0 &&
	    !TAILQ_EMPTY(&p->queue); w = next) {
		next = waiter_next(w);
		if (w->state != PW_TAKE || waiter_peer_gone(w))
			continue;
		pool_deliver(o, &w->req);
		p->ntakers--;
		waiter_done(w);
	}
	for (w = waiter_first(o); w != NULL && p->ncollectors > 0 &&
	    !TAILQ_EMPTY(&p->finished); w = next) {
		next = waiter_next(w);
		if (w->state != PW_COLLECT || waiter_peer_gone(w))
			continue;
		pool_collect_reply(o, &w->req, (uint64_t)w->n);
		p->ncollectors--;
		waiter_done(w);
	}
	drained = pool_drained(p);
	if (!drained || p->ntakers + p->njoiners == 0)
		return;
	for (w = waiter_first(o); w != NULL; w = next) {
		next = waiter_next(w);
		if (w->state == PW_JOIN) {
			reply_bool(&w->req, true);
			p->njoiners--;
		} else if (w->state == PW_TAKE) {
			pool_shutdown_error(&w->req, o);
			p->ntakers--;
		} else
			continue;
		waiter_done(w);
	}
}

static void
pool_uncount(struct object *o, const struct waiter *w)
{
	struct pool *p = o->data;
	struct job *j;

	switch (w->state) {
	case PW_TAKE:
		p->ntakers--;
		break;
	case PW_RESULT:
		p->nresults--;
		if ((j = job_find(p, (uint64_t)w->n)) != NULL &&
		    j->nwaiting > 0)
			j->nwaiting--;
		break;
	case PW_COLLECT:
		p->ncollectors--;
		break;
	case PW_JOIN:
		p->njoiners--;
		break;
	}
}

static void
pool_timeout(struct waiter *w)
{
	struct object *o = w->req.obj;

	pool_uncount(o, w);
	switch (w->state) {
	case PW_TAKE:
		reply_error(&w->req, PERR_EMPTY, "pool '%.*s' has no queued "
		    "job", (int)o->namelen, o->name);
		break;
	case PW_RESULT:
		reply_error(&w->req, PERR_TIMEOUT, "job %llu of pool '%.*s' "
		    "has not finished", (unsigned long long)w->n,
		    (int)o->namelen, o->name);
		break;
	case PW_COLLECT:
		reply_error(&w->req, PERR_EMPTY, "pool '%.*s' has no finished "
		    "job", (int)o->namelen, o->name);
		break;
	case PW_JOIN:
		reply_bool(&w->req, false);
		break;
	}
	waiter_done(w);
}

static void
pool_left(struct waiter *w)
{
	pool_uncount(w->req.obj, w);
}

/* --- verbs ---------------------------------------------------------------- */

static void
pool_nojob(struct req *req, uint64_t id)
{
	reply_error(req, PERR_NOTFOUND, "no job %llu in pool '%.*s'",
	    (unsigned long long)id, req_namelen(req), req_name(req));
}

/* Param i as a job id: true and *id, else false after BADARG. */
static bool
pool_id_arg(struct req *req, unsigned i, uint64_t *id)
{
	return req_uint_arg(req, i, 1, UINT64_MAX, "a job id", id);
}

/* Param i, absent or nil for false, as a bool: true and *b, or false
 * after BADARG. */
static bool
pool_bool_arg(struct req *req, unsigned i, const char *what, bool *b)
{
	const struct mpv *v = &req->argv[i];

	*b = false;
	if (i >= req->argc || v->type == MPV_NIL)
		return true;
	if (v->type == MPV_BOOL) {
		*b = v->v.b;
		return true;
	}
	reply_error(req, PERR_BADARG, "%s: %s must be a bool", req->method->name,
	    what);
	return false;
}

/* submit's options {attempts, key}: true, or false after BADARG. */
static bool
pool_submit_opts(struct req *req, uint32_t *attempts, const struct mpv **key,
    struct mpv *keyv)
{
	const struct mpv *m = &req->argv[2];
	struct mpv_iter it;
	struct mpv k, v;
	bool have_attempts = false;

	if (req->argc < 3 || m->type == MPV_NIL)
		return true;
	if (m->type != MPV_MAP) {
		reply_error(req, PERR_BADARG, "%s: its options are a map "
		    "{attempts, key}", req->method->name);
		return false;
	}
	mpv_iter_init(&it, m);
	while (mpv_iter_next(&it, &k) && mpv_iter_next(&it, &v)) {
		if (mpv_str_eq(&k, "attempts") && !have_attempts) {
			if (v.type != MPV_UINT || v.v.u < 1 ||
			    v.v.u > UINT32_MAX) {
				reply_error(req, PERR_BADARG, "%s: attempts "
				    "must be an int from 1 to %u",
				    req->method->name, UINT32_MAX);
				return false;
			}
			*attempts = (uint32_t)v.v.u;
			have_attempts = true;
		} else if (mpv_str_eq(&k, "key") && *key == NULL) {
			if (v.type != MPV_STR || v.len == 0 ||
			    v.len > POOL_KEY_MAX) {
				reply_error(req, PERR_BADARG, "%s: key must be "
				    "a str of 1 to %d bytes", req->method->name,
				    POOL_KEY_MAX);
				return false;
			}
			*keyv = v;
			*key = keyv;
		} else {
			reply_error(req, PERR_BADARG, "%s: unknown or repeated "
			    "option; the options are attempts and key",
			    req->method->name);
			return false;
		}
	}
	return true;
}

static void
pool_submit(struct req *req)
{
	struct object *o = req->obj;
	struct pool *p = pool_of(o);
	const struct mpv *key = NULL;
	struct mpv keyv;
	struct oh_entry *e;
	struct job *j;
	const uint8_t *bytes;
	uint32_t attempts = p->max_attempts;
	size_t n;

	if (!pool_submit_opts(req, &attempts, &key, &keyv))
		return;
	if (key != NULL && p->keys != NULL &&
	    (e = ohash_get(p->keys, key->ptr, key->len)) != NULL) {
		memcpy(&j, oh_val(e), sizeof j);
		reply_uint(req, j->id);
		return;
	}
	if (p->closed) {
		reply_error(req, PERR_SHUTDOWN, "pool '%.*s' is %s: it takes no "
		    "more jobs", req_namelen(req), req_name(req),
		    p->terminated ? "terminated" : "closed");
		return;
	}
	if (p->maxsize != 0 && pool_held(p) >= p->maxsize) {
		reply_error(req, PERR_FULL, "pool '%.*s' holds %llu jobs "
		    "(maxsize): collect or consume some results first",
		    req_namelen(req), req_name(req),
		    (unsigned long long)p->maxsize);
		return;
	}
	value_canon(&req->argv[1], &vbuf, &bytes, &n);
	j = job_new(p, p->next_id + 1, bytes, n, attempts, key);
	if (journal_wants(o))
		pool_journal_job(o, POOL_J_SUBMIT, j, NULL);
	reply_uint(req, j->id);
	pool_pump(o);
}

static void
pool_take(struct req *req)
{
	struct object *o = req->obj;
	struct pool *p = pool_of(o);
	struct waiter *w;
	int64_t usec;

	if (!waiter_timeout_arg(req, 1, &usec))
		return;
	if (p != NULL && !TAILQ_EMPTY(&p->queue) && !p->terminated) {
		pool_deliver(o, req);
		return;
	}
	if (p != NULL && pool_drained(p)) {
		pool_shutdown_error(req, o);
		return;
	}
	if (usec == 0) {
		reply_error(req, PERR_EMPTY, "pool '%.*s' has no queued job",
		    req_namelen(req), req_name(req));
		return;
	}
	/* A worker from its first take: terminate reaches it idle too. */
	w = waiter_park(req, &pool_waiter_ops, usec);
	w->state = PW_TAKE;
	pool_of(w->req.obj)->ntakers++;
	pool_worker(w->req.obj, req->c);
}

/*
 * done and fail: the job must be running under this connection's lease.
 * NOTOWNER otherwise (another worker's, or finished: cancelled or
 * terminated while it ran); NOTFOUND for no such job.
 */
static void
pool_finish_verb(struct req *req, int state)
{
	struct object *o = req->obj;
	struct pool *p = pool_of(o);
	const uint8_t *bytes;
	struct job *j;
	uint64_t id;
	size_t n;

	if (!pool_id_arg(req, 1, &id))
		return;
	if ((j = job_find(p, id)) == NULL) {
		pool_nojob(req, id);
		return;
	}
	if (j->state != JOB_RUNNING || j->lease->c != req->c) {
		reply_error(req, PERR_NOTOWNER, "%s: job %llu of pool '%.*s' is "
		    "not leased to this connection (it is %s)",
		    req->method->name, (unsigned long long)id, req_namelen(req),
		    req_name(req), j->state == JOB_RUNNING ? "another "
		    "worker's" : job_states[j->state]);
		return;
	}
	value_canon(&req->argv[2], &vbuf, &bytes, &n);
	job_stop(o, j, state, bytes, n, false);
	reply_nil(req);
	pool_pump(o);
}

static void
pool_done(struct req *req)
{
	pool_finish_verb(req, JOB_DONE);
}

static void
pool_fail(struct req *req)
{
	pool_finish_verb(req, JOB_FAILED);
}

static void
pool_result(struct req *req)
{
	struct object *o = req->obj;
	struct pool *p = pool_of(o);
	struct waiter *w;
	struct job *j;
	uint64_t id;
	int64_t usec;
	bool consume;

	if (!pool_id_arg(req, 1, &id) ||
	    !pool_bool_arg(req, 2, "consume", &consume) ||
	    !waiter_timeout_arg(req, 3, &usec))
		return;
	if ((j = job_find(p, id)) == NULL) {
		pool_nojob(req, id);
		return;
	}
	if (job_finished(j)) {
		if (consume && !reply_fits_now(req, j->len + POOL_REPLY_HEAD))
			return;
		pool_reply_result(req, j);
		if (consume)
			job_consume(o, j);
		return;
	}
	if (usec == 0) {
		reply_error(req, PERR_TIMEOUT, "job %llu of pool '%.*s' has not "
		    "finished", (unsigned long long)id, req_namelen(req),
		    req_name(req));
		return;
	}
	w = waiter_park(req, &pool_waiter_ops, usec);
	w->state = PW_RESULT;
	w->n = (int64_t)id;
	w->nitems = consume;
	j->nwaiting++;
	p->nresults++;
}

static void
pool_collect(struct req *req)
{
	struct object *o = req->obj;
	struct pool *p = pool_of(o);
	struct waiter *w;
	uint64_t max;
	int64_t usec;

	if (!req_uint_arg(req, 1, 1, UINT32_MAX, "max", &max) ||
	    !waiter_timeout_arg(req, 2, &usec))
		return;
	if (p != NULL && !TAILQ_EMPTY(&p->finished)) {
		pool_collect_reply(o, req, max);
		return;
	}
	if (usec == 0) {
		reply_error(req, PERR_EMPTY, "pool '%.*s' has no finished job",
		    req_namelen(req), req_name(req));
		return;
	}
	w = waiter_park(req, &pool_waiter_ops, usec);
	w->state = PW_COLLECT;
	w->n = (int64_t)max;
	pool_of(w->req.obj)->ncollectors++;
}

static void
pool_pack_count(msgpack_packer *pk, const char *key, uint64_t n)
{
	msg_pack_cstr(pk, key);
	msgpack_pack_uint64(pk, n);
}

static void
pool_pack_bool(msgpack_packer *pk, const char *key, bool b)
{
	msg_pack_cstr(pk, key);
	if (b)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
}

static void
pool_status(struct req *req)
{
	static const struct pool empty;
	const struct pool *p = pool_of(req->obj);
	msgpack_packer *pk = reply_begin(req);
	int s;

	if (p == NULL)
		p = &empty;
	msgpack_pack_map(pk, JOB_NSTATES + 5);
	for (s = 0; s < JOB_NSTATES; s++)
		pool_pack_count(pk, job_states[s], p->count[s]);
	pool_pack_count(pk, "workers", p->nworkers);
	pool_pack_count(pk, "idle", p->ntakers);
	pool_pack_count(pk, "submitted", p->submitted);
	pool_pack_bool(pk, "closed", p->closed);
	pool_pack_bool(pk, "terminated", p->terminated);
}

/* A running job's worker is told that it is cancelled. */
static void
pool_tell_cancel(const struct object *o, struct hold *h, uint64_t id)
{
	msgpack_packer *pk;

	if ((pk = hold_notify(h, MPMGR_NOTIFY_POOL_CANCEL, 2)) == NULL)
		return;
	msgpack_pack_str(pk, o->namelen);
	msgpack_pack_str_body(pk, o->name, o->namelen);
	msgpack_pack_uint64(pk, id);
}

/*
 * Finish an unfinished job as state with the value bytes (NULL: nil): it
 * is queued (cancel), or running: then its lease goes, and with tell its
 * worker is told that it is cancelled. With a journal, a FINISH record
 * first: done, fail and cancel, but not terminate's cancels (tell false),
 * which follow from its own record.
 */
static void
job_stop(struct object *o, struct job *j, int state, const uint8_t *bytes,
    size_t n, bool tell)
{
	struct pool *p = o->data;
	struct hold *h = j->lease;
	msgpack_packer *pk;

	if (journal_wants(o) && (tell || state != JOB_CANCELLED)) {
		pk = journal_begin(o, POOL_J_FINISH, 3);
		msgpack_pack_uint64(pk, j->id);
		msgpack_pack_uint8(pk, (uint8_t)state);
		if (bytes == NULL)
			msgpack_pack_nil(pk);
		else
			pack_raw(pk, bytes, n);
		journal_end();
	}
	if (j->state == JOB_QUEUED)
		TAILQ_REMOVE(&p->queue, j, link);
	else {
		job_unlease(p, j);
		if (tell)
			pool_tell_cancel(o, h, j->id);
	}
	job_finish(o, j, state, bytes, n);
}

static void
pool_cancel(struct req *req)
{
	struct object *o = req->obj;
	struct job *j;
	uint64_t id;

	if (!pool_id_arg(req, 1, &id))
		return;
	if ((j = job_find(pool_of(o), id)) == NULL) {
		pool_nojob(req, id);
		return;
	}
	if (job_finished(j)) {
		reply_bool(req, false);
		return;
	}
	job_stop(o, j, JOB_CANCELLED, NULL, 0, true);
	reply_bool(req, true);
	pool_pump(o);
}

static void
pool_close(struct req *req)
{
	struct object *o = req->obj;
	struct pool *p = pool_of(o);

	if (!p->closed && journal_wants(o)) {
		journal_begin(o, POOL_J_CLOSE, 0);
		journal_end();
	}
	p->closed = true;
	reply_nil(req);
	pool_pump(o);
}

static void
pool_join(struct req *req)
{
	const struct pool *p = pool_of(req->obj);
	struct waiter *w;
	int64_t usec;

	if (!waiter_timeout_arg(req, 1, &usec))
		return;
	if (p == NULL || !p->closed) {
		reply_error(req, PERR_BADARG, "%s: pool '%.*s' is still open: "
		    "close or terminate it first", req->method->name,
		    req_namelen(req), req_name(req));
		return;
	}
	if (pool_drained(p)) {
		reply_bool(req, true);
		return;
	}
	if (usec == 0) {
		reply_bool(req, false);
		return;
	}
	w = waiter_park(req, &pool_waiter_ops, usec);
	w->state = PW_JOIN;
	pool_of(w->req.obj)->njoiners++;
}

/*
 * Every unfinished job is cancelled, queued ones first (in O(jobs): a
 * large pool's terminate is one long step); with tell, each worker is
 * told once. One record: what it cancels follows from the state.
 */
static void
pool_end(struct object *o, bool tell)
{
	struct pool *p = o->data;
	struct worker *w;
	struct job *j;
	struct hold *h;
	msgpack_packer *pk;

	if (journal_wants(o)) {
		journal_begin(o, POOL_J_TERMINATE, 0);
		journal_end();
	}
	p->closed = true;
	p->terminated = true;
	while ((j = TAILQ_FIRST(&p->queue)) != NULL)
		job_stop(o, j, JOB_CANCELLED, NULL, 0, false);
	LIST_FOREACH(h, &o->holds, by_obj) {
		if ((w = h->data) == NULL)
			continue;
		while ((j = TAILQ_FIRST(&w->leased)) != NULL)
			job_stop(o, j, JOB_CANCELLED, NULL, 0, false);
		if (tell && (pk = hold_notify(h, MPMGR_NOTIFY_POOL_TERMINATE,
		    1)) != NULL) {
			msgpack_pack_str(pk, o->namelen);
			msgpack_pack_str_body(pk, o->name, o->namelen);
		}
	}
}

static void
pool_terminate(struct req *req)
{
	struct object *o = req->obj;

	pool_of(o);
	pool_end(o, true);
	reply_nil(req);
	pool_pump(o);
}

/* --- the type -------------------------------------------------------------- */

/* Options: {max_attempts: 1..2^32-1 (3), maxsize: jobs held (0: none)}. */
enum { POOL_OPT_MAX_ATTEMPTS, POOL_OPT_MAXSIZE };

static const struct opt pool_opts[] = {
	[POOL_OPT_MAX_ATTEMPTS] = { .key = "max_attempts", .kind = OPT_UINT,
	    .min = 1, .max = UINT32_MAX, .def = 3 },
	[POOL_OPT_MAXSIZE] = { .key = "maxsize", .kind = OPT_SIZE, .def = 0 },
	{ .key = NULL }
};

static void
pool_init(struct object *o, const struct optval *v)
{
	struct pool *p = xcalloc(1, sizeof *p);

	TAILQ_INIT(&p->queue);
	TAILQ_INIT(&p->finished);
	p->ids = ohash_new();
	p->max_attempts = (uint32_t)v[POOL_OPT_MAX_ATTEMPTS].u;
	p->maxsize = v[POOL_OPT_MAXSIZE].u;
	o->data = p;
}

/* No lease is left by now: a deleted pool's holds went through
 * pool_conn_gone, a settled one had none. */
static bool
pool_free_step(struct object *o, size_t budget)
{
	struct pool *p = o->data;
	struct job_list *l;
	struct job *j;

	if (p->nworkers != 0)
		fatalx("%s: '%.*s' freed with workers", __func__,
		    (int)o->namelen, o->name);
	for (; budget > 0; budget--) {
		l = !TAILQ_EMPTY(&p->queue) ? &p->queue : &p->finished;
		if ((j = TAILQ_FIRST(l)) == NULL)
			break;
		TAILQ_REMOVE(l, j, link);
		xfree(j->data);
		xfree(j->key);
		xfree(j);
	}
	if (budget == 0)
		return false;
	if (p->ids != NULL && !ohash_free_step(p->ids, budget))
		return false;
	p->ids = NULL;
	if (p->keys != NULL && !ohash_free_step(p->keys, budget))
		return false;
	p->keys = NULL;
	xfree(p);
	return true;
}

static bool
pool_is_initial(const struct object *o)
{
	const struct pool *p = o->data;

	return pool_held(p) == 0 && !p->closed && p->nworkers == 0 &&
	    LIST_EMPTY(&o->holds);
}

static uint64_t
pool_size(const struct object *o)
{
	return pool_held(o->data);
}

static size_t
pool_mem(const struct object *o)
{
	const struct pool *p = o->data;

	return mem_usable(p) + p->bytes + ohash_mem(p->ids) +
	    (p->keys != NULL ? ohash_mem(p->keys) : 0);
}

/*
 * h->c closed: each job it leased goes back to the head of the queue, in
 * the order it was taken, or fails once taken max_attempts times; then
 * the others are served.
 */
static void
pool_conn_gone(struct hold *h)
{
	struct object *o = h->o;
	struct pool *p = o->data;
	struct worker *w = h->data;
	struct job *j;
	msgpack_packer pk;
	char why[160];
	int n;

	if (w == NULL) {
		hold_drop(h);
		return;
	}
	if (!TAILQ_EMPTY(&w->leased) && journal_wants(o)) {
		msgpack_pack_uint64(journal_begin(o, POOL_J_REQUEUE, 1),
		    h->c->id);
		journal_end();
	}
	while ((j = TAILQ_LAST(&w->leased, job_list)) != NULL) {
		job_unlease(p, j);
		if (j->attempts < j->max_attempts) {
			p->count[JOB_RUNNING]--;
			p->count[JOB_QUEUED]++;
			j->state = JOB_QUEUED;
			TAILQ_INSERT_HEAD(&p->queue, j, link);
			continue;
		}
		n = snprintf(why, sizeof why, "the worker running job %llu "
		    "died (its connection closed) on attempt %u of %u",
		    (unsigned long long)j->id, j->attempts, j->max_attempts);
		buf_reset(&vbuf);
		msgpack_packer_init(&pk, &vbuf, buf_pack_write);
		msgpack_pack_str(&pk, (size_t)n);
		msgpack_pack_str_body(&pk, why, (size_t)n);
		job_finish(o, j, JOB_FAILED, buf_head(&vbuf), buf_used(&vbuf));
	}
	p->bytes -= mem_usable(w);
	xfree(w);
	p->nworkers--;
	hold_drop(h);
	pool_pump(o);
}

/* --- replay ------------------------------------------------------------- */

/* The next arg as an int up to max: true and *u, else false. */
static bool
pool_replay_uint(struct mpv_iter *args, uint64_t max, uint64_t *u)
{
	struct mpv v;

	jop_arg(args, &v);
	*u = v.v.u;
	return v.type == MPV_UINT && v.v.u <= max;
}

/* The next arg as a job of o's, in one of the states from..to. */
static struct job *
pool_replay_job(struct object *o, struct mpv_iter *args, int from, int to)
{
	struct job *j;
	uint64_t id;

	if (!pool_replay_uint(args, UINT64_MAX, &id) ||
	    (j = job_find(o->data, id)) == NULL || j->state < from ||
	    j->state > to)
		return NULL;
	return j;
}

/* The next arg as a key (a str, or nil for none) into *key: true, or
 * false for anything else. */
static bool
pool_replay_key(struct mpv_iter *args, struct mpv *v, const struct mpv **key)
{
	jop_arg(args, v);
	*key = v->type == MPV_STR && v->len > 0 ? v : NULL;
	return *key != NULL || v->type == MPV_NIL;
}

/* The ghost a record names, as its next arg. */
static struct conn *
pool_replay_ghost(struct mpv_iter *args)
{
	uint64_t id;

	return pool_replay_uint(args, UINT64_MAX, &id) ? journal_ghost(id) :
	    NULL;
}

/* SUBMIT: id, payload, attempts, key; JOB: id, state, attempts,
 * max_attempts, data, key[, conn]. */
static const char *
pool_replay_job_new(struct object *o, struct mpv_iter *args, uint32_t nargs)
{
	struct pool *p = o->data;
	struct mpv data, keyv;
	const struct mpv *key;
	struct conn *g = NULL;
	struct job *j;
	uint64_t id, state = JOB_QUEUED, attempts = 0, max;
	bool dump = nargs >= 6;

	if (!pool_replay_uint(args, UINT64_MAX, &id) || id == 0 ||
	    job_find(p, id) != NULL)
		return "a job id must be an int not held yet";
	if (dump && (!pool_replay_uint(args, JOB_NSTATES - 1, &state) ||
	    !pool_replay_uint(args, UINT32_MAX, &attempts)))
		return "a job's state and attempts must be ints";
	if (!dump)
		jop_arg(args, &data);
	if (!pool_replay_uint(args, UINT32_MAX, &max) || max == 0)
		return "max attempts must be an int from 1";
	if (dump)
		jop_arg(args, &data);
	if (!pool_replay_key(args, &keyv, &key) || (key != NULL &&
	    p->keys != NULL && ohash_get(p->keys, key->ptr, key->len) != NULL))
		return "a key must be a str not held yet, or nil";
	if ((state == JOB_RUNNING) != (nargs == 7) ||
	    (nargs == 7 && (g = pool_replay_ghost(args)) == NULL))
		return "a running job, and it alone, names its connection";
	j = job_new(p, id, state <= JOB_RUNNING ? data.raw : NULL,
	    data.rawlen, (uint32_t)max, key);
	/* a dump's counters come in their own record, after its jobs */
	if (!dump)
		return NULL;
	if (state == JOB_RUNNING)
		job_lease(o, j, g);
	else if (state != JOB_QUEUED) {
		TAILQ_REMOVE(&p->queue, j, link);
		job_finish(o, j, (int)state, data.type == MPV_NIL ? NULL :
		    data.raw, data.rawlen);
	}
	j->attempts = (uint32_t)attempts;
	return NULL;
}

static const char *
pool_replay_lease(struct object *o, struct mpv_iter *args, uint32_t nargs)
{
	struct conn *g = pool_replay_ghost(args);
	struct job *j = pool_replay_job(o, args, JOB_QUEUED, JOB_QUEUED);

	if (g == NULL || j == NULL)
		return "a lease of a job not queued";
	job_lease(o, j, g);
	return NULL;
}

static const char *
pool_replay_finish(struct object *o, struct mpv_iter *args, uint32_t nargs)
{
	struct job *j = pool_replay_job(o, args, JOB_QUEUED, JOB_RUNNING);
	struct mpv v;
	uint64_t state;

	if (j == NULL)
		return "a finish of a job not queued or running";
	if (!pool_replay_uint(args, JOB_NSTATES - 1, &state) ||
	    state < JOB_DONE || (j->state == JOB_QUEUED &&
	    state != JOB_CANCELLED))
		return "a job can only finish as done, failed or cancelled";
	jop_arg(args, &v);
	job_stop(o, j, (int)state, v.type == MPV_NIL ? NULL : v.raw,
	    v.rawlen, false);
	return NULL;
}

static const char *
pool_replay_consume(struct object *o, struct mpv_iter *args, uint32_t nargs)
{
	struct job *j = pool_replay_job(o, args, JOB_DONE, JOB_CANCELLED);

	if (j == NULL)
		return "a job consumed that has not finished";
	job_consume(o, j);
	return NULL;
}

static const char *
pool_replay_close(struct object *o, struct mpv_iter *args, uint32_t nargs)
{
	((struct pool *)o->data)->closed = true;
	return NULL;
}

static const char *
pool_replay_terminate(struct object *o, struct mpv_iter *args,
    uint32_t nargs)
{
	pool_end(o, false);
	return NULL;
}

static const char *
pool_replay_requeue(struct object *o, struct mpv_iter *args, uint32_t nargs)
{
	struct conn *g = pool_replay_ghost(args);
	struct hold *h;

	if (g == NULL || (h = hold_find(g, o)) == NULL || h->data == NULL)
		return "leases of a connection without any";
	pool_conn_gone(h);
	return NULL;
}

static const char *
pool_replay_ids(struct object *o, struct mpv_iter *args, uint32_t nargs)
{
	struct pool *p = o->data;
	uint64_t next, submitted;

	if (!pool_replay_uint(args, UINT64_MAX, &next) || next < p->next_id ||
	    !pool_replay_uint(args, UINT64_MAX, &submitted))
		return "the counters must be ints, the last id no lower";
	p->next_id = next;
	p->submitted = submitted;
	return NULL;
}

static const struct jop pool_jops[] = {
	[POOL_J_SUBMIT] = { "submit", 4, 4, pool_replay_job_new },
	[POOL_J_LEASE] = { "lease", 2, 2, pool_replay_lease },
	[POOL_J_FINISH] = { "finish", 3, 3, pool_replay_finish },
	[POOL_J_CONSUME] = { "consume", 1, 1, pool_replay_consume },
	[POOL_J_CLOSE] = { "close", 0, 0, pool_replay_close },
	[POOL_J_TERMINATE] = { "terminate", 0, 0, pool_replay_terminate },
	[POOL_J_REQUEUE] = { "requeue", 1, 1, pool_replay_requeue },
	[POOL_J_JOB] = { "job", 6, 7, pool_replay_job_new },
	[POOL_J_IDS] = { "ids", 2, 2, pool_replay_ids },
	JOP_END
};

/* The queued jobs in order, each worker's running ones in the order
 * taken, the finished ones in the order they finished, the counters,
 * then close or terminate (which finds nothing left to cancel). */
static void
pool_dump(const struct object *o)
{
	const struct pool *p = o->data;
	const struct worker *w;
	const struct hold *h;
	const struct job *j;

	TAILQ_FOREACH(j, &p->queue, link)
		pool_journal_job(o, POOL_J_JOB, j, NULL);
	LIST_FOREACH(h, &o->holds, by_obj) {
		if ((w = h->data) == NULL)
			continue;
		TAILQ_FOREACH(j, &w->leased, link)
			pool_journal_job(o, POOL_J_JOB, j, h->c);
	}
	TAILQ_FOREACH(j, &p->finished, link)
		pool_journal_job(o, POOL_J_JOB, j, NULL);
	if (p->next_id != 0) {
		msgpack_packer *pk = journal_begin(o, POOL_J_IDS, 2);

		msgpack_pack_uint64(pk, p->next_id);
		msgpack_pack_uint64(pk, p->submitted);
		journal_end();
	}
	if (p->closed) {
		journal_begin(o, p->terminated ? POOL_J_TERMINATE :
		    POOL_J_CLOSE, 0);
		journal_end();
	}
}

static const struct method pool_methods[] = {
	MPMGR_METHODS_POOL(DISPATCH_ROW)
	DISPATCH_END
};

/* A worker holds the jobs it runs. */
static const char *
pool_hold_text(const struct hold *h, char *buf, size_t len)
{
	snprintf(buf, len, "worker running %llu job%s",
	    (unsigned long long)h->n, h->n == 1 ? "" : "s");
	return buf;
}

const struct obj_type pool_type = {
	.name = "pool",
	.methods = pool_methods,
	.opts = pool_opts,
	.init = pool_init,
	.free_step = pool_free_step,
	.is_initial = pool_is_initial,
	.size = pool_size,
	.mem = pool_mem,
	.conn_gone = pool_conn_gone,
	.hold_text = pool_hold_text,
	.jcode = JC_POOL,
	.jops = pool_jops,
	.dump = pool_dump,
	.nodump = "its jobs are leased to connections; a restart keeps "
	    "them (the journal), a dump does not",
};
