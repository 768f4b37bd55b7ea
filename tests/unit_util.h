/*
 * unit_util.h: what the unit tests share: request handling without
 * sockets, and the runner of every unit test's main (unit_run).
 *
 * FC_CONNS fake authenticated connections collect replies in their output
 * buffers; `conn` is the one requests are sent from (fc_use switches).
 * Requests and expected results are written in the tests' notation for
 * MessagePack values (harness_notation.h: nil, 12, 1.5, f32:1.5, 'str',
 * 'x'*256, b'bin', x7'ext', h'd005' raw bytes, [a, b], {k: v}).
 *
 * Results are compared byte for byte, which also checks that the daemon
 * answers canonical encodings. A request that parks answers later, into
 * its connection's output, where the test must take it (GOT, GOT_ERR) or
 * see that nothing came (NOTHING).
 */
#ifndef MPMGR_UNIT_UTIL_H
#define MPMGR_UNIT_UTIL_H

#include <stdbool.h>
#include <stdint.h>

#include <check.h>
#include <msgpack.h>

#include "../daemon/mpmgrd.h"
#include "harness_notation.h"

#define FC_CONNS 8

extern struct conn *conn;      /* requests go from here */
extern struct buf reqbuf;      /* the request being built */
extern struct buf expbuf;
extern uint32_t msgid;         /* the last request's */
extern struct msg reply;       /* the last reply taken */
extern int reply_err;          /* its PERR_*, PERR_NONE for a result */
extern struct mpv reply_msg;   /* its error message */

/* Once per process (every tcase's unchecked fixture may call it). */
void setup(void);
/* setup(), then requests go from fake connection 0: a tcase's fixture. */
void setup_conn0(void);
struct conn *fc_conn(int i);
void fc_use(int i);

/* Pack the notation s into b (reset first). */
void pn_to_buf(struct buf *b, const char *s);
/* The last reply in the notation, for failure messages. */
const char *show_reply(void);

/* Start [0, msgid, method, then the caller packs the params array. */
msgpack_packer *begin_request(msgpack_packer *pk, const char *method);
/* Dispatch the packed request; it must answer at once, exactly once
 * (all connections' output is cleared first); the reply is taken. */
void send_packed(void);
void send_req(const char *method, const char *params);
/* Dispatch without taking a reply: DISPATCH_DONE or DISPATCH_PARKED. The
 * request may park; replies pile up in the connections' out. */
int send_packed_any(void);
int send_req_any(const char *method, const char *params);
/* Take the next reply out of c's output: false if there is none. */
bool take_reply(struct conn *c);
/* The last reply is this result (notation). */
bool reply_is(const char *result);

/* The next reply on c answers id with result (notation; NULL: any). */
void reply_on(struct conn *c, uint32_t id, const char *result);
/* The next reply on c answers id with the error err. */
void error_on(struct conn *c, uint32_t id, int err);
/* c has no reply waiting. */
void nothing_on(struct conn *c);
/* Later than every deadline (for waiter_expire). */
#define FOREVER UINT64_MAX

/* One row of a scenario: a request and what it must answer. */
struct row {
	const char *method;
	const char *params;   /* an array, in the notation */
	int err;              /* PERR_NONE for a result */
	const char *result;   /* the result; NULL: any */
	const char *message;  /* with err: a substring of the message */
};

void expect(int line, const struct row *r);
void run_rows(const struct row *rows, size_t n);
/* The value of key in the reply's result map. */
bool result_field(const char *key, struct mpv *out);

#define OK(m, p, res) expect(__LINE__, &(struct row){ m, p, PERR_NONE, res, NULL })
#define ERR(m, p, e) expect(__LINE__, &(struct row){ m, p, PERR_##e, NULL, NULL })
#define ERRM(m, p, e, msg) \
	expect(__LINE__, &(struct row){ m, p, PERR_##e, NULL, msg })

#define RUN(rows) run_rows(rows, sizeof rows / sizeof rows[0])

/* Fill the dict name with keys 0..n-1 (values equal to the keys). */
void fill_dict(const char *name, int n);
/* The value of key in obj.info of name, which must answer. */
void info_field(const char *name, const char *key, struct mpv *out);
/* The same, for a field that is an unsigned int. */
uint64_t info_uint(const char *name, const char *key);

/* --- requests that park, and their later answers ------------------------ */

/*
 * From fake connection i, a request that must park; no connection may
 * have a reply nobody took before it. Requests go from connection 0
 * after. Its msgid.
 */
uint32_t fc_park(int line, int i, const char *method, const char *params);
/* Connection i has exactly one reply waiting: result (err PERR_NONE) or
 * the error err; and nothing parked any more. */
void fc_got(int line, int i, int err, const char *result);
/* Connection i has no reply waiting. */
void fc_nothing(int line, int i);
/* Connection i's peer hangs up: conn_peer_gone() sees it from now on. */
void fc_hang_up(int i);
/* Close connection i as conn.c would (dispatch_conn_closed): it holds
 * and waits for nothing after. Then it is a live connection again. */
void fc_close(int i);

/* Send the next request from fake connection i; no connection may have a
 * reply nobody took. */
void fc_from(int line, int i);
/* End of a test: every connection closes, so that nothing is held or
 * waited for any more, nor any deadline armed. */
void fc_close_all(void);
/* obj.info of name answers NOOBJ. */
void fc_gone(int line, const char *name);

#define GONE(name) fc_gone(__LINE__, name)
/* Far enough ahead to pass every deadline up to s seconds from now. */
#define LATER(s) (now_usec() + (uint64_t)(s) * 1000000u)
/* Far past every deadline a test sets, short of "forever" ones. */
#define LATER_USEC (3600ull * 1000000)

#define PARK(i, m, p) fc_park(__LINE__, i, m, p)
#define GOT(i, res) fc_got(__LINE__, i, PERR_NONE, res)
#define GOT_ERR(i, e) fc_got(__LINE__, i, PERR_##e, NULL)
#define NOTHING(i) fc_nothing(__LINE__, i)

/* Run the suite (Check's usual output) and give main's exit status. */
int unit_run(Suite *s);

#endif
