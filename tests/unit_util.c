/*
 * unit_util.c: the fake connections every unit test of request handling
 * uses, requests and replies in the notation of harness_notation.h, the
 * checks of requests that park, and the runner every unit test's main
 * uses (see unit_util.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "../daemon/dispatch.h"
#include "../daemon/log.h"
#include "../daemon/mem.h"
#include "../daemon/mpmgrd.h"
#include "../daemon/registry.h"
#include "../daemon/reply.h"
#include "unit_util.h"

struct conn *conn;
static struct conn *conns[FC_CONNS];
struct buf reqbuf;            /* the request being sent */
struct buf expbuf;            /* an expected result, packed */
uint32_t msgid;
struct msg reply;             /* the last reply; views into its conn's out */
int reply_err;
struct mpv reply_msg;

/* --- the notation ------------------------------------------------------ */

void
pn_to_buf(struct buf *b, const char *s)
{
	msgpack_packer pk;

	buf_reset(b);
	msgpack_packer_init(&pk, b, buf_pack_write);
	harness_pack_text(&pk, s);
}

/* A reply in the notation, for failure messages (cut at 1 KiB). */
static char shown[1024];
static size_t shown_len;

static void
show(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
show(const char *fmt, ...)
{
	va_list ap;
	int n;

	if (shown_len >= sizeof shown - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(shown + shown_len, sizeof shown - shown_len, fmt, ap);
	va_end(ap);
	if (n > 0)
		shown_len += (size_t)n;
	if (shown_len > sizeof shown - 1)
		shown_len = sizeof shown - 1;
}

static void
show_value(const struct mpv *v)
{
	struct mpv_iter it;
	struct mpv e;
	uint32_t i;

	switch (v->type) {
	case MPV_NIL: show("nil"); break;
	case MPV_BOOL: show(v->v.b ? "true" : "false"); break;
	case MPV_UINT: show("%llu", (unsigned long long)v->v.u); break;
	case MPV_INT: show("%lld", (long long)v->v.i); break;
	case MPV_FLOAT: show("%g%s", v->v.f,
	    v->v.f == (double)(long long)v->v.f ? ".0" : ""); break;
	case MPV_STR: show("'%.*s'", (int)v->len, (const char *)v->ptr); break;
	case MPV_BIN: show("b'%.*s'", (int)v->len, (const char *)v->ptr); break;
	case MPV_EXT: show("x%d'%.*s'", v->ext_type, (int)v->len,
	    (const char *)v->ptr); break;
	case MPV_ARRAY:
	case MPV_MAP:
		show(v->type == MPV_MAP ? "{" : "[");
		mpv_iter_init(&it, v);
		for (i = 0; mpv_iter_next(&it, &e); i++) {
			if (i > 0)
				show(v->type == MPV_MAP && i % 2 ? ": " : ", ");
			show_value(&e);
		}
		show(v->type == MPV_MAP ? "}" : "]");
		break;
	}
}

const char *
show_reply(void)
{
	shown_len = 0;
	shown[0] = '\0';
	if (reply_err != PERR_NONE)
		show("%s \"%.*s\"", proto_err_name(reply_err),
		    (int)reply_msg.len, (const char *)reply_msg.ptr);
	else
		show_value(&reply.result);
	return shown;
}

/* --- requests ---------------------------------------------------------- */

/*
 * Send [0, msgid, method, params] with params already packed in reqbuf
 * after the header, and take the one reply apart into reply*.
 */
int
send_packed_any(void)
{
	struct scan_state st;
	struct msg m;
	const char *why = NULL;
	size_t flen;

	scan_init(&st);
	ck_assert_int_eq(scan_frame(&st, buf_head(&reqbuf), buf_used(&reqbuf),
	    SIZE_MAX, &flen, &why), SCAN_FRAME);
	ck_assert_uint_eq(flen, buf_used(&reqbuf));
	ck_assert_msg(msg_parse(buf_head(&reqbuf), &m, &why) == 0, "%s", why);
	return dispatch_request(conn, &m);
}

bool
take_reply(struct conn *c)
{
	struct scan_state st;
	const char *why = NULL;
	size_t flen;

	if (buf_used(&c->out) == 0)
		return false;
	scan_init(&st);
	ck_assert_int_eq(scan_frame(&st, buf_head(&c->out), buf_used(&c->out),
	    SIZE_MAX, &flen, &why), SCAN_FRAME);
	ck_assert_msg(msg_parse(buf_head(&c->out), &reply, &why) == 0,
	    "%s", why);
	ck_assert_int_eq(reply.kind, MSG_RESPONSE);
	reply_err = msg_error_code(&reply, &reply_msg);
	/* The views stay valid: consuming only moves off until the next
	 * buf_reset (fc_clear or the next send_packed). */
	buf_consume(&c->out, flen);
	return true;
}

void
send_packed(void)
{
	for (int i = 0; i < FC_CONNS; i++)
		buf_reset(&conns[i]->out);
	ck_assert_int_eq(send_packed_any(), DISPATCH_DONE);
	ck_assert_msg(take_reply(conn), "no reply");
	ck_assert_msg(buf_used(&conn->out) == 0, "more than one reply");
	ck_assert_uint_eq(reply.msgid, msgid);
}

/* Start a request in reqbuf; the caller packs nparams params. */
msgpack_packer *
begin_request(msgpack_packer *pk, const char *method)
{
	buf_reset(&reqbuf);
	msgpack_packer_init(pk, &reqbuf, buf_pack_write);
	msgpack_pack_array(pk, 4);
	msgpack_pack_uint8(pk, 0);
	msgpack_pack_uint32(pk, ++msgid);
	msg_pack_cstr(pk, method);
	return pk;
}

static void
pack_request(const char *method, const char *params)
{
	msgpack_packer pk;

	begin_request(&pk, method);
	harness_pack_text(&pk, params);
}

void
send_req(const char *method, const char *params)
{
	pack_request(method, params);
	send_packed();
}

int
send_req_any(const char *method, const char *params)
{
	pack_request(method, params);
	return send_packed_any();
}

struct conn *
fc_conn(int i)
{
	ck_assert_int_lt(i, FC_CONNS);
	return conns[i];
}

void
fc_use(int i)
{
	conn = fc_conn(i);
}

bool
reply_is(const char *result)
{
	if (reply_err != PERR_NONE)
		return false;
	pn_to_buf(&expbuf, result);
	return reply.result.rawlen == buf_used(&expbuf) &&
	    memcmp(reply.result.raw, buf_head(&expbuf), buf_used(&expbuf)) == 0;
}


void
reply_on(struct conn *c, uint32_t id, const char *result)
{
	ck_assert_msg(take_reply(c), "no reply on conn %llu",
	    (unsigned long long)c->id);
	ck_assert_uint_eq(reply.msgid, id);
	ck_assert_msg(reply_err == PERR_NONE, "expected %s, got %s",
	    result != NULL ? result : "a result", show_reply());
	if (result != NULL)
		ck_assert_msg(reply_is(result), "expected %s, got %s", result,
		    show_reply());
}

void
error_on(struct conn *c, uint32_t id, int err)
{
	ck_assert_msg(take_reply(c), "no reply on conn %llu",
	    (unsigned long long)c->id);
	ck_assert_uint_eq(reply.msgid, id);
	ck_assert_msg(reply_err == err, "expected %s, got %s",
	    proto_err_name(err), show_reply());
}

void
nothing_on(struct conn *c)
{
	ck_assert_msg(!take_reply(c), "unexpected reply %s", show_reply());
}

void
expect(int line, const struct row *r)
{
	char what[300];

	snprintf(what, sizeof what, "line %d: %s %.200s", line, r->method,
	    r->params);
	send_req(r->method, r->params);
	ck_assert_msg(reply_err == r->err, "%s: expected %s, got %s", what,
	    r->err == PERR_NONE ? "a result" : proto_err_name(r->err),
	    show_reply());
	if (r->err != PERR_NONE && r->message != NULL) {
		char got[512];

		snprintf(got, sizeof got, "%.*s", (int)reply_msg.len,
		    (const char *)reply_msg.ptr);
		ck_assert_msg(strstr(got, r->message) != NULL,
		    "%s: message \"%s\" lacks \"%s\"", what, got, r->message);
	}
	if (r->err == PERR_NONE && r->result != NULL) {
		pn_to_buf(&expbuf, r->result);
		ck_assert_msg(reply.result.rawlen == buf_used(&expbuf) &&
		    memcmp(reply.result.raw, buf_head(&expbuf),
		    buf_used(&expbuf)) == 0, "%s: expected %s, got %s", what,
		    r->result, show_reply());
	}
}

void
run_rows(const struct row *rows, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		expect((int)i, &rows[i]);
}


/* The value of key in the reply's result map. */
bool
result_field(const char *key, struct mpv *out)
{
	struct mpv_iter it;
	struct mpv k;

	ck_assert_int_eq(reply.result.type, MPV_MAP);
	mpv_iter_init(&it, &reply.result);
	while (mpv_iter_next(&it, &k) && mpv_iter_next(&it, out)) {
		if (mpv_str_eq(&k, key))
			return true;
	}
	return false;
}

void
fill_dict(const char *name, int n)
{
	msgpack_packer pk;
	int i;

	begin_request(&pk, "dict.update");
	msgpack_pack_array(&pk, 2);
	msg_pack_cstr(&pk, name);
	msgpack_pack_map(&pk, (size_t)n);
	for (i = 0; i < n; i++) {
		msgpack_pack_int(&pk, i);
		msgpack_pack_int(&pk, i);
	}
	send_packed();
	ck_assert_int_eq(reply_err, PERR_NONE);
}

void
info_field(const char *name, const char *key, struct mpv *out)
{
	char params[300];

	snprintf(params, sizeof params, "['%s']", name);
	send_req("obj.info", params);
	ck_assert_msg(reply_err == PERR_NONE, "obj.info %s: %s", name,
	    show_reply());
	ck_assert_msg(result_field(key, out), "obj.info %s: no %s", name, key);
}

uint64_t
info_uint(const char *name, const char *key)
{
	struct mpv v;

	info_field(name, key, &v);
	ck_assert_msg(v.type == MPV_UINT, "obj.info %s: %s is not an "
	    "unsigned int", name, key);
	return v.v.u;
}

/* --- requests that park ------------------------------------------------ */

uint32_t
fc_park(int line, int i, const char *method, const char *params)
{
	for (int j = 0; j < FC_CONNS; j++)
		ck_assert_msg(buf_used(&fc_conn(j)->out) == 0, "line %d: "
		    "connection %d has a reply nobody took", line, j);
	fc_use(i);
	ck_assert_msg(send_req_any(method, params) == DISPATCH_PARKED,
	    "line %d: %s %s answered at once: %s", line, method, params,
	    take_reply(conn) ? show_reply() : "nothing");
	ck_assert_msg(conn->parked != NULL, "line %d: not parked", line);
	ck_assert_msg(buf_used(&conn->out) == 0, "line %d: answered while "
	    "parked", line);
	fc_use(0);
	return msgid;
}

void
fc_got(int line, int i, int err, const char *result)
{
	struct conn *c = fc_conn(i);

	ck_assert_msg(take_reply(c), "line %d: connection %d has no answer",
	    line, i);
	ck_assert_msg(reply_err == err, "line %d: connection %d: expected "
	    "%s, got %s", line, i, err == PERR_NONE ? result :
	    proto_err_name(err), show_reply());
	if (err == PERR_NONE)
		ck_assert_msg(reply_is(result), "line %d: connection %d: "
		    "expected %s, got %s", line, i, result, show_reply());
	ck_assert_msg(buf_used(&c->out) == 0, "line %d: connection %d has "
	    "more answers", line, i);
	ck_assert_msg(c->parked == NULL, "line %d: connection %d still "
	    "parked", line, i);
}

void
fc_nothing(int line, int i)
{
	ck_assert_msg(buf_used(&fc_conn(i)->out) == 0, "line %d: connection "
	    "%d was answered: %s", line, i,
	    take_reply(fc_conn(i)) ? show_reply() : "?");
}

void
fc_hang_up(int i)
{
	fc_conn(i)->flags |= CONN_EOF;
}

void
fc_close(int i)
{
	struct conn *c = fc_conn(i);

	dispatch_conn_closed(c);
	ck_assert_ptr_null(c->parked);
	ck_assert_ptr_null(c->holdings);
	c->flags &= ~CONN_EOF;
}

void
fc_from(int line, int i)
{
	for (int j = 0; j < FC_CONNS; j++)
		ck_assert_msg(buf_used(&fc_conn(j)->out) == 0, "line %d: "
		    "connection %d has a reply nobody took", line, j);
	fc_use(i);
}

void
fc_close_all(void)
{
	for (int i = 0; i < FC_CONNS; i++)
		fc_close(i);
	ck_assert_uint_eq(waiter_count(), 0);
	ck_assert_uint_eq(waiter_heap_size(), 0);
}

void
fc_gone(int line, const char *name)
{
	char params[300];

	snprintf(params, sizeof params, "['%s']", name);
	expect(line, &(struct row){ "obj.info", params, PERR_NOOBJ, NULL,
	    NULL });
}

int
unit_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* Once per process: each tcase's unchecked fixture comes here. */
void
setup(void)
{
	if (conn != NULL)
		return;
	mem_init();
	log_init(LOG_ERR);
	server.base = event_base_new();
	ck_assert_ptr_nonnull(server.base);
	server.uid = getuid();
	server.start_usec = now_usec();
	/* conn_wake() queues woken connections here. */
	TAILQ_INIT(&server.ready);
	TAILQ_INIT(&server.clients);
	/* sys.monitor adds its watchers here. */
	TAILQ_INIT(&server.monitors);
	dispatch_init();
	for (int i = 0; i < FC_CONNS; i++) {
		conns[i] = xcalloc(1, sizeof *conns[i]);
		conns[i]->id = (uint64_t)i + 1;
		/* Authenticated connections, as waiter_shutdown() walks them. */
		TAILQ_INSERT_TAIL(&server.clients, conns[i], link);
		/* poll() skips it: conn_peer_gone() sees a live peer unless a
		 * test sets CONN_EOF. */
		conns[i]->fd = -1;
		conns[i]->state = CONN_READY;
		conns[i]->uid = getuid();
		buf_init(&conns[i]->out);
		msgpack_packer_init(&conns[i]->pk, &conns[i]->out,
		    buf_pack_write);
	}
	conn = conns[0];
	buf_init(&reqbuf);
	buf_init(&expbuf);
}

void
setup_conn0(void)
{
	setup();
	fc_use(0);
}

