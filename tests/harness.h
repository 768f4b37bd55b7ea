/*
 * harness.h: what every integration test shares: a real mpmgrd on a
 * temporary socket, connections to it (through libmpmgr, or raw for
 * robustness tests), msgpack values written as text, and assertions on
 * results.
 *
 * The daemon is $MPMGRD (default ./build/mpmgrd), started with
 * --socket DIR/s --authkey-file DIR/key in a fresh mkdtemp directory, its
 * stderr in DIR/log. Start it in an unchecked fixture (one daemon per
 * TCase, in the runner process) or inside a test (a daemon of its own);
 * harness_stop() then checks that it exits 0 on SIGTERM. Anything that goes
 * wrong in the runner process is counted in harness_failures, which
 * harness_run() turns into a failing exit status.
 *
 * Values as text (harness_obj): JSON, where strings may also be quoted
 * 'like this', a number with '.' or an exponent is a float64 and any other
 * number an integer, map keys may be any value, x"0aff" is a bin and
 * ext(5, "0aff") an ext. Objects live in one
 * zone per process, never freed (tests are short-lived processes).
 */
#ifndef MPMGR_HARNESS_H
#define MPMGR_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <check.h>
#include <msgpack.h>

#include "../client/mpmgr.h"
#include "../proto/buf.h"
#include "../proto/mpmgr_proto.h"
#include "../proto/msg.h"
#include "../proto/scan.h"

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
/* Wait up to timeout_ms for the daemon to exit by itself: its wait status,
 * or -1 if still running. Only in the process that started it. */
int harness_wait_exit(struct harness *h, int timeout_ms);
/* The daemon's log file. */
const char *harness_log(const struct harness *h);
/* True while the daemon runs (from any process of the test). */
bool harness_alive(struct harness *h);
/* A connected handle; aborts the test on failure. */
mpmgr *harness_connect(struct harness *h);

/* Run the suite (Check's usual output) and give main's exit status. */
int harness_run(Suite *s);

/* --- values as text ------------------------------------------------- */

msgpack_object harness_obj(const char *text);
/* The same text with "%s"-style formatting. */
msgpack_object harness_objf(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
bool harness_obj_eq(msgpack_object got, const char *text);
/* got printed into buf (truncated), for failure messages. */
const char *harness_obj_str(msgpack_object got, char *buf, size_t len);
/* The value of the str key in a map, or NULL. */
const msgpack_object *harness_map_get(const msgpack_object *map,
    const char *key);
/* Params as text (an array) through mpmgr_call. */
int harness_call(mpmgr *m, const char *method, const char *params,
    msgpack_object *result);

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
void harness_raw_close(struct harness_raw *r);
/* Send all of p; false if the server closed meanwhile (no SIGPIPE). */
bool harness_raw_send(struct harness_raw *r, const void *p, size_t n);
/* [0, msgid, method, params (text)]; false as harness_raw_send. */
bool harness_raw_request(struct harness_raw *r, uint32_t msgid,
    const char *method, const char *params);
/*
 * The next message within timeout_ms: 1 and *m (views valid until the
 * next call), 0 on EOF, -1 on timeout, -2 on malformed bytes.
 */
int harness_raw_recv(struct harness_raw *r, struct msg *m, int timeout_ms);
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

/* Monotonic milliseconds, for deadlines. */
int64_t harness_now_ms(void);
/* Sleep ms between two polls of a condition (never to wait for one). */
void harness_nap(int ms);

#endif
