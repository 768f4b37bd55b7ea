/*
 * mpmgr.h: libmpmgr, the C client of mpmgrd.
 *
 * One handle is one authenticated connection to one daemon. Calls are
 * synchronous; a pipelining API sends many requests before reading their
 * replies. A handle is not thread-safe (use one per thread, like hiredis)
 * and is not shared across fork(): used in a child it answers MPMGR_EFORK
 * (a child of fork() or of anything else that runs pthread_atfork
 * handlers; a raw clone(2) or glibc's _Fork() goes unnoticed).
 *
 * Every call returns MPMGR_OK (0), or a positive answer where documented,
 * or a negative MPMGR_E* code. Server errors keep the server's message,
 * client errors a message of their own: mpmgr_errmsg() gives it. The
 * library never prints, never exits and never raises SIGPIPE.
 *
 * Values travel as MessagePack. Results come back as msgpack_object views
 * that are owned by the handle and stay valid until the next call on it;
 * copy what you keep. Parameters are packed with msgpack-c's packer
 * (mpmgr_request_begin) or given as msgpack_objects (mpmgr_call).
 */
#ifndef MPMGR_H
#define MPMGR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The release's (proto/mpmgr_proto.h holds it; libmpmgr's build checks
 * that these agree). */
#define MPMGR_VERSION_MAJOR 0
#define MPMGR_VERSION_MINOR 1

/* Server error codes (same order as the wire's) then client-side ones. */
enum mpmgr_err {
	MPMGR_OK = 0,
	MPMGR_ENOKEY = -1,     /* dict key missing */
	MPMGR_ENOINDEX = -2,   /* list/array index out of range */
	MPMGR_ENOTFOUND = -3,  /* value not in list */
	MPMGR_ENOOBJ = -4,     /* object must exist and does not */
	MPMGR_EEMPTY = -5,
	MPMGR_EFULL = -6,
	MPMGR_ETIMEOUT = -7,
	MPMGR_EWRONGTYPE = -8, /* object has another type */
	MPMGR_EBADARG = -9,
	MPMGR_EBADTYPE = -10,  /* value of the wrong type for the operation */
	MPMGR_ENOTHELD = -11,
	MPMGR_ENOTOWNER = -12,
	MPMGR_ERANGE = -13,
	MPMGR_EBROKEN = -14,
	MPMGR_EDELETED = -15,
	MPMGR_EEXISTS = -16,
	MPMGR_ENOMETHOD = -17,
	MPMGR_EAUTH = -18,
	MPMGR_ETOOBIG = -19,
	MPMGR_ELIMIT = -20,
	MPMGR_ESHUTDOWN = -21,
	MPMGR_EINTERNAL = -22,
	MPMGR_EEOF = -23,      /* a pipe's other end is closed (EOFError) */
	MPMGR_ELOST = -24,     /* a process record's supervisor went away */
	/* client side */
	MPMGR_ECONNECT = -100, /* cannot reach the socket */
	MPMGR_EKEY = -101,     /* authkey file missing, unreadable or unsafe */
	MPMGR_EPEER = -102,    /* server's uid not trusted, or its proof wrong */
	MPMGR_EIO = -103,      /* read/write failed or connection closed */
	MPMGR_EPROTO = -104,   /* server sent something malformed */
	MPMGR_EFORK = -105,    /* handle used in a forked child */
	MPMGR_ENOMEM = -106,
	MPMGR_EINVAL = -107,   /* bad argument to the library */
	MPMGR_ESTATE = -108,   /* call out of order (e.g. recv with none
				  pending) */
	MPMGR_EINFLIGHT = -109 /* the connection was lost with the request in
				  flight: it may or may not have run
				  (mpmgr_set_reconnect) */
};

typedef struct mpmgr mpmgr;

/* Name of an error code ("NOKEY", "ECONNECT", ...); "?" if unknown. */
const char *mpmgr_strerror(int err);

/*
 * Connect and authenticate. socket_path NULL: $MPMGR_SOCKET or the default
 * of the user (see mpctl(1)). authkey_file NULL: $MPMGR_AUTHKEY_FILE or the
 * default beside the socket. The socket is connected before the key is
 * read: no daemon is MPMGR_ECONNECT whatever the key. On success *out is
 * a new handle. On failure
 * *out is still set (unless MPMGR_ENOMEM) so that mpmgr_errmsg() can say
 * why; free it with mpmgr_free(). Returns 0, MPMGR_ECONNECT, MPMGR_EKEY,
 * MPMGR_EPEER, MPMGR_EAUTH, MPMGR_EIO, MPMGR_EPROTO, MPMGR_ELIMIT,
 * MPMGR_ENOMEM.
 */
int mpmgr_connect(mpmgr **out, const char *socket_path,
    const char *authkey_file);
/* The same with the key's bytes given directly. */
int mpmgr_connect_key(mpmgr **out, const char *socket_path,
    const void *key, size_t keylen);
/*
 * A handle over fd, a connection to mpmgrd that is already authenticated
 * and has no request outstanding: one a parent process made and handed
 * down (mpctl's exec passes its own as $MPMGR_HELD_FD). What the
 * connection holds is shared with every process that has fd: the daemon
 * sees one client. Only one process may use it at a time, each request
 * and its reply; a process killed between the two leaves a reply that
 * the next user takes for its own (MPMGR_EPROTO). The peer's uid is
 * checked as mpmgr_connect does, and mpmgr_socket_path() says where fd
 * leads. On success the handle owns fd (mpmgr_free closes it: dup() it
 * first to keep it); on failure fd is left open and *out is set as by
 * mpmgr_connect. Returns 0, MPMGR_EINVAL (not a connected Unix stream
 * socket), MPMGR_EPEER, MPMGR_ENOMEM.
 */
int mpmgr_attach(mpmgr **out, int fd);
/* Close and free (NULL is fine). Pending replies are dropped. */
void mpmgr_free(mpmgr *h);
/* The last error's message (server's or library's); "" if none. */
const char *mpmgr_errmsg(const mpmgr *h);
/* The last server error's code name ("NOKEY"), or "" for client errors. */
const char *mpmgr_errcode(const mpmgr *h);
/* The socket, e.g. for poll(); do not read or write it. It changes when
 * the handle reconnects; -1 while it has no connection. */
int mpmgr_fd(const mpmgr *h);
/* The socket path this handle connected to. */
const char *mpmgr_socket_path(const mpmgr *h);

/*
 * Reconnecting after the daemon restarted. Off by default: a handle
 * whose connection broke (MPMGR_EIO) answers that from then on. With
 * mpmgr_set_reconnect(h, seconds), seconds >= 0, the next request on a
 * handle whose connection is gone (the daemon closed it, or died and came
 * back on the same socket) connects and authenticates again first, the
 * key file read anew, retrying for up to seconds (0: once) while the
 * socket refuses (MPMGR_ECONNECT) or the daemon hangs up (MPMGR_EIO);
 * failing, the call answers that error and the next one tries again.
 * Checking an idle connection costs one poll() per request started with
 * nothing outstanding. seconds < 0 turns it off. 0, or MPMGR_EINVAL.
 *
 * What was in flight when the connection was lost is not silently sent
 * again if it may have changed anything: each request outstanding then
 * answers MPMGR_EINFLIGHT from mpmgr_reply(), in order, whether it ran or
 * not.
 * mpmgr_call() sends a read (a method that is not a write in the
 * protocol: get, len, wait...) once more on the new connection instead.
 * A new connection holds nothing: the locks, permits, leased items and
 * ephemeral objects of the old one were given back by the daemon, which
 * mpmgr_reconnects() lets a caller notice.
 *
 * A handle made by mpmgr_attach() never reconnects (MPMGR_EINVAL): its
 * key is the parent's, and a new connection would not hold what the
 * inherited one shares with the processes that have it.
 */
int mpmgr_set_reconnect(mpmgr *h, double seconds);
/*
 * Close the connection if any and connect and authenticate again now,
 * retrying as mpmgr_set_reconnect allows (once when it is off): 0, or the
 * connect's error. Requests outstanding answer MPMGR_EINFLIGHT. Also for a
 * handle whose mpmgr_connect() failed to reach the daemon.
 */
int mpmgr_reconnect(mpmgr *h);
/* How many times h connected again. */
unsigned long mpmgr_reconnects(const mpmgr *h);

/*
 * Generic requests. mpmgr_request_begin() starts a request and returns a
 * packer; pack exactly nparams values into it, then mpmgr_request_end().
 * The request is buffered: mpmgr_flush() or the next mpmgr_reply() sends it.
 * Any number of requests may be outstanding (pipelining); replies come back
 * in order. Returns NULL only on misuse (see mpmgr_errmsg()).
 */
msgpack_packer *mpmgr_request_begin(mpmgr *h, const char *method,
    uint32_t nparams);
int mpmgr_request_end(mpmgr *h);
/* Send all buffered requests. 0 or MPMGR_EIO/MPMGR_EFORK. */
int mpmgr_flush(mpmgr *h);
/* Number of requests sent or buffered whose replies were not read. */
size_t mpmgr_pending(const mpmgr *h);
/*
 * Read the reply to the oldest outstanding request (flushing first).
 * 0 and *result (may be NULL to ignore it), or the server's error as a
 * MPMGR_E* code, or a client error. A server error does not break the
 * handle; MPMGR_EIO, MPMGR_EPROTO and MPMGR_EFORK do (every later call
 * answers the same).
 */
int mpmgr_reply(mpmgr *h, msgpack_object *result);

/* One request with parameters given as objects: send and read its reply. */
int mpmgr_call(mpmgr *h, const char *method, const msgpack_object *params,
    uint32_t nparams, msgpack_object *result);

/* Typed helpers over mpmgr_call. Strings are NUL-terminated UTF-8. */
int mpmgr_ping(mpmgr *h);
int mpmgr_dict_set(mpmgr *h, const char *name, const msgpack_object *key,
    const msgpack_object *value);
/* MPMGR_ENOKEY when missing. */
int mpmgr_dict_get(mpmgr *h, const char *name, const msgpack_object *key,
    msgpack_object *value);
/* Key and value strings. */
int mpmgr_dict_set_str(mpmgr *h, const char *name, const char *key,
    const char *value);
int mpmgr_dict_set_int(mpmgr *h, const char *name, const char *key,
    int64_t value);
/* MPMGR_ENOKEY when missing, MPMGR_EBADTYPE if not a str. *value is borrowed
 * (not NUL-terminated) until the next call. */
int mpmgr_dict_get_str(mpmgr *h, const char *name, const char *key,
    const char **value, size_t *len);
/* MPMGR_EBADTYPE if not an integer that fits int64. */
int mpmgr_dict_get_int(mpmgr *h, const char *name, const char *key,
    int64_t *value);
/* incr by an integer: the new value in *result (may be NULL). */
int mpmgr_dict_incr(mpmgr *h, const char *name, const char *key,
    int64_t delta, int64_t *result);
int mpmgr_dict_incr_double(mpmgr *h, const char *name, const char *key,
    double delta, double *result);
/* 0 if deleted, MPMGR_ENOKEY if it was missing. */
int mpmgr_dict_delete(mpmgr *h, const char *name, const char *key);
/* The number of entries (>= 0). */
int64_t mpmgr_dict_len(mpmgr *h, const char *name);

int mpmgr_value_set(mpmgr *h, const char *name, const msgpack_object *value);
int mpmgr_value_get(mpmgr *h, const char *name, msgpack_object *value);
int mpmgr_value_set_int(mpmgr *h, const char *name, int64_t value);
int mpmgr_value_get_int(mpmgr *h, const char *name, int64_t *value);
int mpmgr_value_incr(mpmgr *h, const char *name, int64_t delta,
    int64_t *result);

/*
 * Blocking verbs. A timeout is in seconds, counted by the server from when
 * the request runs: 0 does not wait, MPMGR_FOREVER (any negative value, or
 * +infinity) waits as long as it takes; NaN is MPMGR_EINVAL. A call that
 * waits blocks the calling thread: to be interruptible, send the request
 * with the pipelining API and see mpmgr_cancel_pending(). What a
 * connection holds (locks, rlocks, semaphore permits, leased items of an
 * ack queue) is given back by the server when the handle is freed or the
 * process dies, unless the object was created with
 * release_on_disconnect false.
 */
#define MPMGR_FOREVER (-1.0)

/* 1 acquired, 0 timed out, or a negative code. */
int mpmgr_lock_acquire(mpmgr *h, const char *name, double timeout);
/* 0, or MPMGR_ENOTHELD when the lock is free (anyone may release a held
 * lock, as in Python). */
int mpmgr_lock_release(mpmgr *h, const char *name);
/* 1 acquired (or one more level for its owner), 0 timed out, or < 0. */
int mpmgr_rlock_acquire(mpmgr *h, const char *name, double timeout);
/* One level: 0, MPMGR_ENOTHELD (free), MPMGR_ENOTOWNER (another
 * connection owns it). */
int mpmgr_rlock_release(mpmgr *h, const char *name);
/* Take one permit: 1 taken, 0 timed out, or < 0. */
int mpmgr_sem_acquire(mpmgr *h, const char *name, double timeout);
/* Give n permits back (anyone may): 0, MPMGR_ERANGE past a bounded
 * semaphore's initial value (nothing given), MPMGR_EBADARG for n < 1. */
int mpmgr_sem_release(mpmgr *h, const char *name, int64_t n);
/*
 * Fencing tokens and leases (lock, rlock, semaphore). The _fenced acquires
 * answer 1 and put the grant's fencing token in *fence (may be NULL): a
 * number larger than every token the daemon handed out before, for any
 * object, to give the resource the lock guards so that it can refuse an
 * older holder; 0 timed out; or < 0. An rlock's owner acquiring again
 * gets its first level's token. ttl > 0 makes the hold a lease that ends
 * ttl seconds after the grant unless extended: then the daemon releases
 * it (gives the permits back) as if this connection had closed, and this
 * connection's next release of it answers MPMGR_ENOTHELD. ttl <= 0: no
 * lease. A lease on an object created with release_on_disconnect false
 * is MPMGR_EBADARG; a NaN ttl or timeout MPMGR_EINVAL.
 */
int mpmgr_lock_acquire_fenced(mpmgr *h, const char *name, double timeout,
    double ttl, uint64_t *fence);
int mpmgr_rlock_acquire_fenced(mpmgr *h, const char *name, double timeout,
    double ttl, uint64_t *fence);
int mpmgr_sem_acquire_fenced(mpmgr *h, const char *name, double timeout,
    double ttl, uint64_t *fence);
/*
 * This connection's lease on name ends ttl (> 0) seconds from now (a
 * plain hold becomes a lease): 0, MPMGR_ENOTHELD (nothing held there, or
 * the lease ended already), MPMGR_ENOTOWNER (another connection holds the
 * lock), MPMGR_EINVAL for a ttl that is not > 0.
 */
int mpmgr_lock_extend(mpmgr *h, const char *name, double ttl);
int mpmgr_rlock_extend(mpmgr *h, const char *name, double ttl);
int mpmgr_sem_extend(mpmgr *h, const char *name, double ttl);
/* 0; every waiter wakes and the event stays set until cleared. */
int mpmgr_event_set(mpmgr *h, const char *name);
int mpmgr_event_clear(mpmgr *h, const char *name);
/* 1 once set (at once if it is), 0 timed out, or < 0. */
int mpmgr_event_wait(mpmgr *h, const char *name, double timeout);
/* Append item (borrowed), waiting for room in a bounded queue: 0, or
 * MPMGR_EFULL on timeout. */
int mpmgr_queue_put(mpmgr *h, const char *name, const msgpack_object *item,
    double timeout);
/* The oldest item into *item (may be NULL; borrowed until the next call on
 * h): 0, or MPMGR_EEMPTY on timeout. From an ack queue the item is leased
 * to this connection until mpmgr_queue_task_done(). */
int mpmgr_queue_get(mpmgr *h, const char *name, double timeout,
    msgpack_object *item);
/* One got item is done: 0, or MPMGR_EBADARG when more often than items
 * were got (Python's ValueError). */
int mpmgr_queue_task_done(mpmgr *h, const char *name);
/* 1 once every item put is done, 0 timed out, or < 0. */
int mpmgr_queue_join(mpmgr *h, const char *name, double timeout);
/* Wait for the barrier's other parties: 0 and the arrival index in *index
 * (0 for the first, parties-1 for the last; may be NULL), MPMGR_ETIMEOUT
 * (this wait timed out and broke the barrier), MPMGR_EBROKEN, MPMGR_ENOOBJ
 * (never created). */
int mpmgr_barrier_wait(mpmgr *h, const char *name, double timeout,
    int64_t *index);

/*
 * Ask the server to give up the oldest request still outstanding on h
 * (sent, or buffered and sent now along with this): if it is parked, it
 * is answered MPMGR_ETIMEOUT ("cancelled") and the connection keeps all it
 * holds. The cancel's own reply is read and dropped by the library (by
 * the next mpmgr_reply(), or by mpmgr_flush() before it sends anything
 * more): it never counts in mpmgr_pending() nor shows in a result.
 * Cancelling the same request again sends nothing. Returns 0, or
 * MPMGR_ESTATE when no request is outstanding (or inside a request, or 8
 * cancels are already unanswered), or MPMGR_EIO / MPMGR_EFORK.
 *
 * The server takes back only a request that is parked with nothing sent
 * after it, so keep the blocking request the only one outstanding. The
 * answer may have been on its way already: mpmgr_reply() then gives the
 * real result (an acquire answered 1 holds the lock). Not
 * async-signal-safe: call it from the loop, not from a handler. Ctrl-C
 * during a lock acquire, with a SIGINT handler that only sets
 * `interrupted` (ppoll, with SIGINT blocked around it, cannot miss a
 * signal that comes just before it waits):
 *
 *	sigprocmask(SIG_BLOCK, &sigint_only, &old);
 *	msgpack_packer *pk = mpmgr_request_begin(h, "lock.acquire", 1);
 *	msgpack_pack_str_with_body(pk, "job", 3);
 *	mpmgr_request_end(h);
 *	mpmgr_flush(h);
 *	struct pollfd p = { .fd = mpmgr_fd(h), .events = POLLIN };
 *	while (ppoll(&p, 1, NULL, &old) == -1 && errno == EINTR)
 *		if (interrupted)
 *			mpmgr_cancel_pending(h);
 *	sigprocmask(SIG_SETMASK, &old, NULL);
 *	rc = mpmgr_reply(h, &res);   (MPMGR_ETIMEOUT if it was cancelled)
 */
int mpmgr_cancel_pending(mpmgr *h);

/*
 * Queue shutdown, Python 3.13's Queue.shutdown(immediate): later puts
 * answer MPMGR_ESHUTDOWN, gets once the queue is empty; immediate also
 * empties it and releases every waiter. 0 or < 0.
 */
int mpmgr_queue_shutdown(mpmgr *h, const char *name, bool immediate);

/*
 * Pipes: two ends, 0 and 1; what is sent at one end is received at the
 * other. A connection holds an end from mpmgr_pipe_open until
 * mpmgr_pipe_close or until the handle is freed or its process dies;
 * once the last holder of an end is gone (and no hand-off is pending) the
 * end is closed: a recv at the other end answers MPMGR_EEOF once nothing
 * is left to read, a send into it MPMGR_EEOF at once. send, recv and poll
 * work on ends the handle does not hold, too. Items are borrowed, as in
 * the other helpers; a received item is owned by h until the next call.
 */
/* Hold end. token: one from mpmgr_pipe_handoff to claim, or 0. 0, or
 * MPMGR_EEOF when the end is closed. */
int mpmgr_pipe_open(mpmgr *h, const char *name, int end, uint64_t token);
/* Let go of one hold of end (or close an end nobody holds): 0, or
 * MPMGR_ENOTHELD when others hold it. */
int mpmgr_pipe_close(mpmgr *h, const char *name, int end);
/* Send item at end, waiting for room in a pipe with a maxsize: 0,
 * MPMGR_EFULL on timeout, MPMGR_EEOF once either end is closed. */
int mpmgr_pipe_send(mpmgr *h, const char *name, int end,
    const msgpack_object *item, double timeout);
/* The oldest message for end into *item (may be NULL): 0, MPMGR_ETIMEOUT,
 * or MPMGR_EEOF once the other end is closed and nothing is left. */
int mpmgr_pipe_recv(mpmgr *h, const char *name, int end, double timeout,
    msgpack_object *item);
/* 1 once a recv at end would not wait (a message, or EOF), 0 on timeout,
 * or < 0. */
int mpmgr_pipe_poll(mpmgr *h, const char *name, int end, double timeout);
/*
 * Before passing end to another process: a token that keeps the end open
 * until an open with it claims it, or timeout seconds pass (< 0 or
 * infinite: the daemon's default, 60 s), into *token. 0, or MPMGR_EEOF.
 */
int mpmgr_pipe_handoff(mpmgr *h, const char *name, int end, double timeout,
    uint64_t *token);

/*
 * Process records: a process that this connection supervises, which any
 * connection may join (mpctl's `process start` is such a supervisor).
 * register makes the record (argv NULL-terminated, at least one string);
 * the supervisor reports the exit with mpmgr_process_exited (exitcode N,
 * or -SIG when signal SIG killed it, as Python's). terminate and kill
 * requests reach the supervisor as the notification
 * "process.signal" [name, signo]: set a callback (mpmgr_set_notify) and
 * act on it. A supervisor that goes without reporting leaves the record
 * lost: joiners get MPMGR_ELOST.
 */
/* 0, or MPMGR_EEXISTS when name holds a record already. */
int mpmgr_process_register(mpmgr *h, const char *name, int64_t pid,
    const char *const *argv, bool daemon);
int mpmgr_process_exited(mpmgr *h, const char *name, int exitcode);
/* 0 and the exit code in *exitcode (may be NULL), MPMGR_ETIMEOUT,
 * MPMGR_ELOST, or MPMGR_ENOOBJ for no such record. */
int mpmgr_process_join(mpmgr *h, const char *name, double timeout,
    int *exitcode);
/* 1 running, 0 not, or < 0. */
int mpmgr_process_is_alive(mpmgr *h, const char *name);
/* Ask its supervisor to send SIGTERM (kill: SIGKILL). 0 (nothing is done
 * for a process that has exited), or MPMGR_ELOST. */
int mpmgr_process_terminate(mpmgr *h, const char *name);
int mpmgr_process_kill(mpmgr *h, const char *name);

/*
 * Pools: jobs kept in the daemon and leased to the workers that run them
 * (docs/PROTOCOL.md, pool). A worker takes a job, which is leased to its
 * connection until it reports done or fail; if the connection goes first
 * (the worker died), the job goes back to the head of the queue and runs
 * again, up to the pool's max_attempts takes (then it fails with a str
 * error saying so): execution is at least once. Finished jobs keep their
 * result until it is read with consume. Values are borrowed as in the
 * other helpers; a taken payload or a result read is owned by h until the
 * next call on it. A worker, in short:
 *
 *	for (;;) {
 *		r = mpmgr_pool_take(h, "squares", MPMGR_FOREVER, &id, &job,
 *		    NULL);
 *		if (r == MPMGR_ESHUTDOWN)   (closed and drained, or terminated)
 *			break;
 *		if (r != 0)
 *			...
 *		res = mpmgr_obj_int((int64_t)(job.via.u64 * job.via.u64));
 *		mpmgr_pool_done(h, "squares", id, &res);
 *	}
 *
 * A worker gets the notification "pool.terminate" [name] when the pool is
 * terminated and "pool.cancel" [name, id] when a job it runs is cancelled
 * (mpmgr_set_notify).
 */
/* Job states in a result. */
enum mpmgr_job_state {
	MPMGR_JOB_DONE = 1,      /* the value is its result */
	MPMGR_JOB_FAILED = 2,    /* the value is its error */
	MPMGR_JOB_CANCELLED = 3  /* cancelled or terminated; the value nil */
};
/* Queue a job: 0 and its id in *id (may be NULL), MPMGR_ESHUTDOWN once
 * the pool is closed, MPMGR_EFULL at its maxsize. */
int mpmgr_pool_submit(mpmgr *h, const char *name,
    const msgpack_object *payload, uint64_t *id);
/* The oldest queued job, leased to this connection: 0 with its id, its
 * payload and its attempt (from 1) in the pointers (each may be NULL),
 * MPMGR_EEMPTY on timeout, MPMGR_ESHUTDOWN when the pool is closed with
 * nothing left to run, or terminated (a worker's cue to stop). */
int mpmgr_pool_take(mpmgr *h, const char *name, double timeout,
    uint64_t *id, msgpack_object *payload, unsigned *attempt);
/* Finish job id, leased to this connection, with a result (done) or an
 * error (fail): 0, MPMGR_ENOTOWNER when it is not leased here (another
 * worker's, or cancelled while it ran), MPMGR_ENOTFOUND for no such job. */
int mpmgr_pool_done(mpmgr *h, const char *name, uint64_t id,
    const msgpack_object *result);
int mpmgr_pool_fail(mpmgr *h, const char *name, uint64_t id,
    const msgpack_object *error);
/* Wait for job id to finish: 0 with its MPMGR_JOB_* in *state and its
 * result or error in *value (each may be NULL), MPMGR_ETIMEOUT,
 * MPMGR_ENOTFOUND (no such job, or consumed). consume: forget the job
 * once answered. */
int mpmgr_pool_result(mpmgr *h, const char *name, uint64_t id, bool consume,
    double timeout, int *state, msgpack_object *value);
/* 1 when a queued or running job was cancelled, 0 when it had finished,
 * or < 0 (MPMGR_ENOTFOUND). */
int mpmgr_pool_cancel(mpmgr *h, const char *name, uint64_t id);
/* No more submits; takes answer MPMGR_ESHUTDOWN once nothing is queued or
 * running. 0 or < 0. */
int mpmgr_pool_close(mpmgr *h, const char *name);
/* Close, cancel every unfinished job, tell the workers to stop. */
int mpmgr_pool_terminate(mpmgr *h, const char *name);
/* 1 once the pool is closed with nothing queued or running, 0 timed out,
 * MPMGR_EBADARG while it is open, or < 0. */
int mpmgr_pool_join(mpmgr *h, const char *name, double timeout);

/*
 * Notifications: messages the server sends on its own, between replies,
 * [2, method, params] (docs/PROTOCOL.md): "process.signal" [name, signo]
 * to a process record's supervisor, "pool.terminate" [name] and
 * "pool.cancel" [name, id] to a pool's workers. The library meets them wherever it
 * reads (mpmgr_reply, mpmgr_call, every helper) and hands each to the
 * callback set here; without one they are dropped. ("mpmgr.error", after
 * which the server closes the connection, is an error, not a callback.)
 *
 * fn(arg, method, method_len, params) runs inside the call on h that read
 * it: it must not call into h (note what it needs and act after the call
 * returns). method (not NUL-terminated) and params, an array, are valid
 * only while it runs. fn NULL stops the callbacks.
 */
typedef void mpmgr_notify_fn(void *arg, const char *method,
    size_t method_len, const msgpack_object *params);
void mpmgr_set_notify(mpmgr *h, mpmgr_notify_fn *fn, void *arg);
/*
 * Read what the socket has, without waiting, and deliver the
 * notifications that come before the next reply due (those after it are
 * delivered when that reply is read). Call it when mpmgr_fd() is
 * readable, and once before waiting for that: notifications may have
 * come in with the last reply. Returns how many it delivered (>= 0), or
 * MPMGR_EIO once the server has hung up and nothing is left to deliver
 * (the handle is then broken), or another negative code.
 */
int mpmgr_poll_notify(mpmgr *h);
/*
 * For a program that waits on many handles (poll(2) on mpmgr_fd()):
 * send what is buffered, read what the socket has without waiting,
 * deliver the notifications before the next reply due, and answer 1 when
 * that whole reply is there (mpmgr_reply() then takes it without
 * waiting), 0 when it is not yet, MPMGR_ESTATE when no reply is due, or
 * another negative code (MPMGR_EIO once the server has hung up).
 */
int mpmgr_reply_ready(mpmgr *h);

/* msgpack_object constructors for calls (no allocation: s is borrowed). */
msgpack_object mpmgr_obj_str(const char *s);
msgpack_object mpmgr_obj_strn(const char *s, size_t n);
msgpack_object mpmgr_obj_int(int64_t i);
msgpack_object mpmgr_obj_double(double d);
msgpack_object mpmgr_obj_nil(void);
msgpack_object mpmgr_obj_bool(bool b);

#ifdef __cplusplus
}
#endif
#endif
