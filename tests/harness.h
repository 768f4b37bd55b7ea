/*
 * harness.h: what every integration test shares: a real mpmgrd on a
 * temporary socket (harness_daemon.c), connections to it, through
 * libmpmgr or raw for robustness tests (harness_client.c), msgpack values
 * written in the tests' notation (harness_notation.h), and assertions on
 * results.
 *
 * The daemon is $MPMGRD (default ./build/mpmgrd), started with
 * --socket DIR/s --authkey-file DIR/key in a fresh mkdtemp directory, its
 * stderr in DIR/log. Start it in an unchecked fixture (one daemon per
 * TCase, in the runner process: harness_fixture) or inside a test (a
 * daemon of its own); harness_stop() then checks that it exits 0 on
 * SIGTERM. Anything that goes wrong in the runner process is counted in
 * harness_failures, which harness_run() turns into a failing exit status.
 *
 * Tests wait for the daemon by polling a condition against a deadline
 * (HARNESS_DEADLINE_MS), never with a fixed sleep: parked requests through
 * obj.info "waiters", children through their exit status.
 */
#ifndef MPMGR_HARNESS_H
#define MPMGR_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <unistd.h>

#include <check.h>
#include <msgpack.h>

#include "../client/mpmgr.h"
#include "../proto/buf.h"
#include "../proto/mpmgr_proto.h"
#include "../proto/msg.h"
#include "../proto/scan.h"
#include "harness_notation.h"

struct harness {
	pid_t pid;               /* the daemon; -1 once reaped */
	int status;              /* its wait status once reaped */
	char dir[64];
	char sock[128];
	char keyfile[128];
	char log[128];
	uint8_t key[MPMGR_KEY_MAX];
	size_t keylen;
};

/* Problems found outside any test (fixtures in the runner process). */
extern int harness_failures;

/* The longest a test waits for anything: a sanitized daemon on a busy
 * 2-core VM. */
#define HARNESS_DEADLINE_MS 20000

/*
 * Start a daemon with extra_args (NULL-terminated, or NULL) after the
 * socket and key options, and return once it accepts an authenticated
 * connection. Aborts the test (in an unchecked fixture: the TCase) if it
 * cannot, with the daemon's log on stderr.
 */
void harness_start(struct harness *h, const char *const extra_args[]);
/*
 * SIGTERM, wait up to 10 s, remove the directory. True when the daemon
 * exited 0; otherwise its log goes to stderr and harness_failures counts.
 */
bool harness_stop(struct harness *h);
/* The same, keeping the directory: a restart follows. */
bool harness_stop_keep(struct harness *h);
/*
 * Start a daemon again in h's directory (the same socket, key and log,
 * and whatever data directory extra_args name) once the last one has
 * exited, and return once it answers; as harness_start otherwise.
 */
void harness_restart(struct harness *h, const char *const extra_args[]);
/* SIGKILL the daemon and reap it (a crash, for restart tests). */
void harness_kill(struct harness *h);
/* Wait up to timeout_ms for the daemon to exit by itself: its wait status,
 * or -1 if still running. Only in the process that started it. */
int harness_wait_exit(struct harness *h, int timeout_ms);
/* The daemon's log file. */
const char *harness_log(const struct harness *h);
/* True while the daemon runs (from any process of the test). */
bool harness_alive(struct harness *h);
/* SIGSTOP the daemon and wait until it is stopped (SIGCONT resumes it):
 * what clients send meanwhile is read in one go after. */
void harness_freeze(struct harness *h);
/* A connected handle; aborts the test on failure. */
mpmgr *harness_connect(struct harness *h);

/*
 * The parts of harness_start, for tests that run the daemon their own way
 * (under systemd-socket-activate, with another environment).
 * harness_prepare: a fresh directory under parent (NULL: /tmp) with h's
 * paths in it and a new key in h->keyfile; no daemon yet (h->pid -1).
 * harness_exec_prepare: in a forked child about to exec the daemon, stdout
 * and stderr to h's log, stdin from /dev/null, no signal blocked, SIGPIPE
 * default. harness_await_ping: poll until the daemon at h->sock answers a
 * ping with keyfile's key: 0, or the last MPMGR_E* code once the start
 * deadline passed or the daemon died.
 */
void harness_prepare(struct harness *h, const char *parent);
void harness_exec_prepare(const struct harness *h);
int harness_await_ping(struct harness *h, const char *keyfile);
/* $MPMGRD, default ./build/mpmgrd. */
const char *harness_mpmgrd(void);
/* The daemon's log on stderr, to explain a failure. */
void harness_print_log(const struct harness *h);

/* --- one daemon per TCase -------------------------------------------- */

/*
 * The daemon of an unchecked fixture: harness_fixture_up starts it without
 * extra options in the runner process, where every test of the TCase (a
 * forked process) finds it; harness_fixture_down stops it. A fixture with
 * options starts harness_fixture itself.
 */
extern struct harness harness_fixture;
void harness_fixture_up(void);
void harness_fixture_down(void);
/*
 * A TCase named name in s, with a timeout in seconds and the unchecked
 * fixture up and down (NULL, NULL: none).
 */
TCase *harness_tcase(Suite *s, const char *name, double timeout, SFun up,
    SFun down);

/* Run the suite (Check's usual output) and give main's exit status. */
int harness_run(Suite *s);

/* --- processes ------------------------------------------------------- */

/* A child's body: its exit status (0 when all went as it should). */
typedef int (*harness_child_fn)(mpmgr *m, int arg);

/*
 * Fork a child that connects to h on its own and exits with fn(m, arg)
 * (100 if it cannot connect). Its pid.
 */
pid_t harness_spawn(struct harness *h, harness_child_fn fn, int arg);
/*
 * Every one of the n children exits 0 within HARNESS_DEADLINE_MS; those
 * still running then are killed, and the test fails naming what they are.
 */
void harness_reap(const pid_t *pids, int n, const char *what);
/* SIGKILL pid, a child of this process, and reap it: its sockets are
 * closed once this returns. */
void harness_kill9(pid_t pid);

/*
 * Run $MPCTL (default ./build/mpctl) with the arguments (NULL-terminated)
 * against h's socket and key file, as a user with MPMGR_SOCKET and
 * MPMGR_AUTHKEY_FILE set: its exit status (128 + N when signal N killed
 * it). What it wrote to stdout and stderr, NUL-terminated, in *out and
 * *err (malloc'd; NULL not to keep it).
 */
int harness_mpctl(const struct harness *h, char **out, char **err, ...);

/* In a child: unless cond, say why on stderr and return status. */
#define CHILD_CHECK(m, cond, status) do {                               \
	if (!(cond)) {                                                  \
		fprintf(stderr, "child %d: %s:%d: %s (%s)\n",           \
		    (int)getpid(), __FILE__, __LINE__, #cond,           \
		    (m) != NULL ? mpmgr_errmsg(m) : "");                \
		return (status);                                        \
	}                                                               \
} while (0)

/* --- the daemon's state, polled -------------------------------------- */

/* obj.info's "waiters" of name; 0 while it does not exist. */
int64_t harness_waiters(mpmgr *m, const char *name);
/* Poll until name has n parked waiters. */
void harness_await_waiters(mpmgr *m, const char *name, int64_t n);
/* Poll until the object name is gone (obj.info answers NOOBJ): the daemon
 * reads a dead client's hang-up in its own time. */
void harness_await_gone(mpmgr *m, const char *name);
/* sys.stats' field, an unsigned int. */
uint64_t harness_stat(mpmgr *m, const char *field);
/* The same, asked on a connection of its own to h. */
uint64_t harness_stat_once(struct harness *h, const char *field);

/* --- calls with params in the notation ------------------------------ */

/* Params as text (an array) through mpmgr_call. */
int harness_call(mpmgr *m, const char *method, const char *params,
    msgpack_object *result);
/*
 * The pipelining API with params as text (an array): harness_request
 * buffers the request, harness_send also flushes it; neither reads the
 * reply (ck_reply_ok does). Abort the test on failure.
 */
void harness_request(mpmgr *m, const char *method, const char *params);
void harness_send(mpmgr *m, const char *method, const char *params);

/* The call succeeds and answers exactly expected (text). */
#define ck_call_ok(m, method, params, expected) do {                    \
	msgpack_object res_;                                            \
	char got_[2048];                                                \
	int rc_ = harness_call((m), (method), (params), &res_);         \
	ck_assert_msg(rc_ == 0, "%s %s: %s: %s", (method), (params),    \
	    mpmgr_strerror(rc_), mpmgr_errmsg(m));                      \
	ck_assert_msg(harness_obj_eq(res_, (expected)),                 \
	    "%s %s: got %s, expected %s", (method), (params),           \
	    harness_obj_str(res_, got_, sizeof(got_)), (expected));     \
} while (0)

/* The call fails with err, the server's code name and a message. */
#define ck_call_err(m, method, params, err) do {                        \
	int rc_ = harness_call((m), (method), (params), NULL);          \
	ck_assert_msg(rc_ == (err), "%s %s: got %s (%s), expected %s",  \
	    (method), (params), mpmgr_strerror(rc_), mpmgr_errmsg(m),   \
	    mpmgr_strerror(err));                                       \
	ck_assert_str_eq(mpmgr_errcode(m), mpmgr_strerror(err));        \
	ck_assert_msg(mpmgr_errmsg(m)[0] != '\0', "%s: no message",     \
	    (method));                                                  \
} while (0)

/* The reply to the oldest outstanding request is a result, exactly
 * expected (text). */
#define ck_reply_ok(m, expected) do {                                   \
	msgpack_object res_;                                            \
	char got_[2048];                                                \
	int rc_ = mpmgr_reply((m), &res_);                              \
	ck_assert_msg(rc_ == 0, "reply: %s: %s", mpmgr_strerror(rc_),   \
	    mpmgr_errmsg(m));                                           \
	ck_assert_msg(harness_obj_eq(res_, (expected)),                 \
	    "reply: got %s, expected %s",                               \
	    harness_obj_str(res_, got_, sizeof(got_)), (expected));     \
} while (0)

/* --- another user (tests run as root) -------------------------------- */

#define HARNESS_NOBODY 65534
/* Let uid HARNESS_NOBODY reach h's socket. */
void harness_socket_for_nobody(struct harness *h);
/* In a child: become uid HARNESS_NOBODY (and its group); exit 99 if it
 * cannot. */
void harness_become_nobody(void);

/* --- raw connections ------------------------------------------------- */

/* A connection without the library: bytes in, messages out. */
struct harness_raw {
	int fd;
	struct buf in;
	struct scan_state scan;
	size_t held;             /* the frame last returned */
	bool have_ns;            /* a challenge was received: its nonce */
	uint8_t ns[MPMGR_NONCE_LEN];
};

/* Connect without authenticating; aborts the test on failure. */
void harness_raw_open(struct harness *h, struct harness_raw *r);
/* Connect and authenticate (harness_raw_auth); aborts the test on
 * failure. */
void harness_raw_authed(struct harness *h, struct harness_raw *r);
void harness_raw_close(struct harness_raw *r);
/* Send all of p; false if the server closed meanwhile (no SIGPIPE). */
bool harness_raw_send(struct harness_raw *r, const void *p, size_t n);
/* [0, msgid, method, params (text)]; false as harness_raw_send. */
bool harness_raw_request(struct harness_raw *r, uint32_t msgid,
    const char *method, const char *params);
/* The same request's bytes into sb (cleared first), to send in pieces or
 * together with others. */
void harness_pack_request(msgpack_sbuffer *sb, uint32_t msgid,
    const char *method, const char *params);
/* The same request appended to all, so that several go out in one write. */
void harness_append_request(msgpack_sbuffer *all, uint32_t msgid,
    const char *method, const char *params);
/*
 * The next message within timeout_ms: 1 and *m (views valid until the
 * next call), 0 on EOF, -1 on timeout, -2 on malformed bytes.
 */
int harness_raw_recv(struct harness_raw *r, struct msg *m, int timeout_ms);
/*
 * The next message must be a response: 0 for a result, with *msgid and
 * *result (views valid until the next harness_raw_* call on r); the
 * PERR_* code of an error response, with *msgid; -1 for anything else
 * (EOF, timeout, a notification, malformed bytes).
 */
int harness_raw_result(struct harness_raw *r, int timeout_ms,
    int64_t *msgid, msgpack_object *result);
/*
 * The next message must be an error: a mpmgr.error notification or an
 * error response. Its PERR_* code; *msgid = the response's msgid or -1 for
 * a notification. -1 if the next thing is not an error (EOF, timeout,
 * anything else).
 */
int harness_raw_error(struct harness_raw *r, int timeout_ms, int64_t *msgid);
/* Read and drop until EOF: true if it came within timeout_ms. */
bool harness_raw_closed(struct harness_raw *r, int timeout_ms);
/*
 * The handshake by hand, announcing version (reading the challenge unless
 * harness_raw_recv() already did): 0 when authenticated (the server's
 * proof checked), else the PERR_* code of the refusal, or -1 if the server
 * answered something unexpected.
 */
int harness_raw_auth(struct harness *h, struct harness_raw *r,
    int64_t version);

/* The next message on r answers request id with a result, exactly
 * expected (text). */
#define ck_raw_ok(r, id, expected) do {                                 \
	msgpack_object res_;                                            \
	char got_[2048];                                                \
	int64_t id_ = -1;                                               \
	int rc_ = harness_raw_result((r), 10000, &id_, &res_);          \
	ck_assert_msg(rc_ == 0, "msgid %lld: expected a result, got %s "\
	    "(msgid %lld)", (long long)(id), rc_ > 0 ?                  \
	    proto_err_name(rc_) : "no response", (long long)id_);       \
	ck_assert_msg(id_ == (id), "msgid %lld answered, expected "     \
	    "%lld", (long long)id_, (long long)(id));                   \
	ck_assert_msg(harness_obj_eq(res_, (expected)), "msgid %lld: "  \
	    "got %s, expected %s", (long long)id_,                      \
	    harness_obj_str(res_, got_, sizeof(got_)), (expected));     \
} while (0)

/* Monotonic milliseconds, for deadlines. */
int64_t harness_now_ms(void);
/* Sleep ms between two polls of a condition (never to wait for one). */
void harness_nap(int ms);

#endif
