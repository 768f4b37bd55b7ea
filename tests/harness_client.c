/*
 * harness_client.c: the integration tests' connections to the daemon
 * (harness.h): through libmpmgr with params written in the notation
 * (harness_notation.h), the daemon's state polled through them, and raw
 * connections that speak the wire by hand, for robustness tests.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "../proto/auth.h"
#include "harness.h"

/* --- connections through libmpmgr ------------------------------------ */

mpmgr *
harness_connect(struct harness *h)
{
	mpmgr *m = NULL;
	int rc;

	rc = mpmgr_connect(&m, h->sock, h->keyfile);
	ck_assert_msg(rc == 0, "connect %s: %s: %s", h->sock,
	    mpmgr_strerror(rc), mpmgr_errmsg(m));
	return m;
}

int
harness_call(mpmgr *m, const char *method, const char *params,
    msgpack_object *result)
{
	msgpack_object p = harness_obj(params);

	ck_assert_msg(p.type == MSGPACK_OBJECT_ARRAY, "params must be an "
	    "array: %s", params);
	return mpmgr_call(m, method, p.via.array.ptr, p.via.array.size,
	    result);
}

void
harness_request(mpmgr *m, const char *method, const char *params)
{
	msgpack_object p = harness_obj(params);
	msgpack_packer *pk;

	ck_assert_msg(p.type == MSGPACK_OBJECT_ARRAY, "params must be an "
	    "array: %s", params);
	pk = mpmgr_request_begin(m, method, p.via.array.size);
	ck_assert_msg(pk != NULL, "%s: %s", method, mpmgr_errmsg(m));
	for (uint32_t i = 0; i < p.via.array.size; i++)
		msgpack_pack_object(pk, p.via.array.ptr[i]);
	ck_assert_int_eq(mpmgr_request_end(m), 0);
}

void
harness_send(mpmgr *m, const char *method, const char *params)
{
	harness_request(m, method, params);
	ck_assert_int_eq(mpmgr_flush(m), 0);
}

/* --- the daemon's state, polled -------------------------------------- */

int64_t
harness_waiters(mpmgr *m, const char *name)
{
	msgpack_object args[1] = { mpmgr_obj_str(name) }, res;
	const msgpack_object *w;
	int rc = mpmgr_call(m, "obj.info", args, 1, &res);

	if (rc == MPMGR_ENOOBJ)
		return 0;
	ck_assert_msg(rc == 0, "obj.info %s: %s", name, mpmgr_errmsg(m));
	w = harness_map_get(&res, "waiters");
	ck_assert_msg(w != NULL && w->type == MSGPACK_OBJECT_POSITIVE_INTEGER,
	    "obj.info %s: no waiters field", name);
	return (int64_t)w->via.u64;
}

void
harness_await_waiters(mpmgr *m, const char *name, int64_t n)
{
	int64_t deadline = harness_now_ms() + HARNESS_DEADLINE_MS, got;

	while ((got = harness_waiters(m, name)) != n &&
	    harness_now_ms() < deadline)
		harness_nap(2);
	ck_assert_msg(got == n, "%s: %lld waiters, expected %lld", name,
	    (long long)got, (long long)n);
}

void
harness_await_gone(mpmgr *m, const char *name)
{
	int64_t deadline = harness_now_ms() + HARNESS_DEADLINE_MS;
	char params[256];

	snprintf(params, sizeof params, "['%s']", name);
	while (harness_call(m, "obj.info", params, NULL) == 0) {
		ck_assert_msg(harness_now_ms() < deadline, "%s outlived its "
		    "holders", name);
		harness_nap(5);
	}
	ck_assert_int_eq(harness_call(m, "obj.info", params, NULL),
	    MPMGR_ENOOBJ);
}

uint64_t
harness_stat(mpmgr *m, const char *field)
{
	const msgpack_object *f;
	msgpack_object res;
	int rc = mpmgr_call(m, "sys.stats", NULL, 0, &res);

	ck_assert_msg(rc == 0, "sys.stats: %s", mpmgr_errmsg(m));
	f = harness_map_get(&res, field);
	ck_assert_msg(f != NULL && f->type == MSGPACK_OBJECT_POSITIVE_INTEGER,
	    "sys.stats has no %s", field);
	return f->via.u64;
}

uint64_t
harness_stat_once(struct harness *h, const char *field)
{
	mpmgr *m = harness_connect(h);
	uint64_t v = harness_stat(m, field);

	mpmgr_free(m);
	return v;
}

/* --- raw connections ------------------------------------------------- */

void
harness_raw_open(struct harness *h, struct harness_raw *r)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	memset(r, 0, sizeof(*r));
	buf_init(&r->in);
	scan_init(&r->scan);
	ck_assert(strlen(h->sock) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, h->sock, strlen(h->sock) + 1);
	r->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_msg(r->fd != -1, "socket: %s", strerror(errno));
	ck_assert_msg(connect(r->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0,
	    "connect %s: %s", h->sock, strerror(errno));
}

void
harness_raw_authed(struct harness *h, struct harness_raw *r)
{
	harness_raw_open(h, r);
	ck_assert_int_eq(harness_raw_auth(h, r, MPMGR_PROTO_VERSION), 0);
}

void
harness_raw_close(struct harness_raw *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	buf_free(&r->in);
}

bool
harness_raw_send(struct harness_raw *r, const void *p, size_t n)
{
	const uint8_t *b = p;
	ssize_t w;

	while (n > 0) {
		w = send(r->fd, b, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		b += w;
		n -= (size_t)w;
	}
	return true;
}

void
harness_append_request(msgpack_sbuffer *all, uint32_t msgid,
    const char *method, const char *params)
{
	msgpack_sbuffer one;

	msgpack_sbuffer_init(&one);
	harness_pack_request(&one, msgid, method, params);
	msgpack_sbuffer_write(all, one.data, one.size);
	msgpack_sbuffer_destroy(&one);
}

void
harness_pack_request(msgpack_sbuffer *sb, uint32_t msgid, const char *method,
    const char *params)
{
	msgpack_packer pk;

	msgpack_sbuffer_clear(sb);
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, 4);
	msgpack_pack_uint8(&pk, MSG_REQUEST);
	msgpack_pack_uint32(&pk, msgid);
	msg_pack_cstr(&pk, method);
	harness_pack_text(&pk, params);
}

bool
harness_raw_request(struct harness_raw *r, uint32_t msgid,
    const char *method, const char *params)
{
	msgpack_sbuffer sb;
	bool ok;

	msgpack_sbuffer_init(&sb);
	harness_pack_request(&sb, msgid, method, params);
	ok = harness_raw_send(r, sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
	return ok;
}

static void
remember_challenge(struct harness_raw *r, const struct msg *m)
{
	struct mpv_iter it;
	struct mpv v, nonce;

	if (m->kind != MSG_NOTIFICATION ||
	    !mpv_str_eq(&m->method, MPMGR_NOTIFY_CHALLENGE))
		return;
	mpv_iter_init(&it, &m->params);
	if (mpv_iter_next(&it, &v) && mpv_iter_next(&it, &nonce) &&
	    nonce.type == MPV_BIN && nonce.len == MPMGR_NONCE_LEN) {
		memcpy(r->ns, nonce.ptr, MPMGR_NONCE_LEN);
		r->have_ns = true;
	}
}

int
harness_raw_recv(struct harness_raw *r, struct msg *m, int timeout_ms)
{
	int64_t deadline = harness_now_ms() + timeout_ms;
	struct pollfd pfd = { .fd = r->fd, .events = POLLIN };
	const char *why;
	size_t flen;
	ssize_t n;
	int s;

	if (r->held > 0) {
		buf_consume(&r->in, r->held);
		r->held = 0;
	}
	for (;;) {
		s = scan_frame(&r->scan, buf_head(&r->in), buf_used(&r->in),
		    (size_t)1 << 30, &flen, &why);
		if (s == SCAN_FRAME) {
			r->held = flen;
			if (msg_parse(buf_head(&r->in), m, &why) == -1)
				return -2;
			remember_challenge(r, m);
			return 1;
		}
		if (s != SCAN_MORE)
			return -2;
		int64_t left = deadline - harness_now_ms();
		if (left <= 0)
			return -1;
		if (poll(&pfd, 1, (int)left) <= 0)
			continue;
		if (buf_reserve(&r->in, 65536) == -1)
			return -2;
		n = recv(r->fd, buf_tail(&r->in), buf_room(&r->in),
		    MSG_DONTWAIT);
		if (n > 0)
			r->in.len += (size_t)n;
		else if (n == 0 || (errno != EINTR && errno != EAGAIN))
			return 0; /* EOF, or a reset after the last bytes */
	}
}

int
harness_raw_result(struct harness_raw *r, int timeout_ms, int64_t *msgid,
    msgpack_object *result)
{
	struct mpv message;
	struct msg m;
	size_t off = 0;
	int c;

	if (harness_raw_recv(r, &m, timeout_ms) != 1 || m.kind != MSG_RESPONSE)
		return -1;
	if (msgid != NULL)
		*msgid = m.msgid;
	if ((c = msg_error_code(&m, &message)) != PERR_NONE)
		return c;
	if (msgpack_unpack((const char *)m.result.raw, m.result.rawlen, &off,
	    harness_zone(), result) != MSGPACK_UNPACK_SUCCESS)
		return -1;
	return 0;
}

int
harness_raw_error(struct harness_raw *r, int timeout_ms, int64_t *msgid)
{
	struct mpv_iter it;
	struct mpv code, message;
	struct msg m;
	int c;

	if (harness_raw_recv(r, &m, timeout_ms) != 1)
		return -1;
	if (m.kind == MSG_RESPONSE) {
		if ((c = msg_error_code(&m, &message)) == PERR_NONE)
			return -1;
		if (msgid != NULL)
			*msgid = m.msgid;
		return c;
	}
	if (m.kind != MSG_NOTIFICATION ||
	    !mpv_str_eq(&m.method, MPMGR_NOTIFY_ERROR))
		return -1;
	mpv_iter_init(&it, &m.params);
	if (!mpv_iter_next(&it, &code) || code.type != MPV_STR)
		return -1;
	if (msgid != NULL)
		*msgid = -1;
	c = proto_err_lookup((const char *)code.ptr, code.len);
	return c == PERR_NONE ? -1 : c;
}

bool
harness_raw_closed(struct harness_raw *r, int timeout_ms)
{
	int64_t deadline = harness_now_ms() + timeout_ms;
	struct pollfd pfd = { .fd = r->fd, .events = POLLIN };
	char sink[65536];
	ssize_t n;

	buf_reset(&r->in);
	r->held = 0;
	scan_init(&r->scan);
	for (;;) {
		int64_t left = deadline - harness_now_ms();

		if (left <= 0)
			return false;
		if (poll(&pfd, 1, (int)left) <= 0)
			continue;
		n = recv(r->fd, sink, sizeof(sink), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
			return true;
	}
}

int
harness_raw_auth(struct harness *h, struct harness_raw *r, int64_t version)
{
	uint8_t nc[MPMGR_NONCE_LEN];
	uint8_t proof[MPMGR_MAC_LEN], expect_mac[MPMGR_MAC_LEN];
	struct mpv_iter it;
	struct mpv v;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	struct msg m;
	int c;
	bool sent;

	if (!r->have_ns && harness_raw_recv(r, &m, 10000) != 1)
		return -1;
	if (!r->have_ns)
		return -1;
	ck_assert(auth_random(nc, sizeof(nc)) == 0);
	auth_client_proof(h->key, h->keylen, r->ns, nc, proof);

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msg_pack_request(&pk, 0, MPMGR_METHOD_AUTH, 3);
	msgpack_pack_int64(&pk, version);
	msgpack_pack_bin_with_body(&pk, proof, sizeof(proof));
	msgpack_pack_bin_with_body(&pk, nc, sizeof(nc));
	sent = harness_raw_send(r, sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
	if (!sent)
		return -1;

	if (harness_raw_recv(r, &m, 10000) != 1)
		return -1;
	if (m.kind == MSG_NOTIFICATION &&
	    mpv_str_eq(&m.method, MPMGR_NOTIFY_ERROR)) {
		mpv_iter_init(&it, &m.params);
		if (!mpv_iter_next(&it, &v) || v.type != MPV_STR)
			return -1;
		c = proto_err_lookup((const char *)v.ptr, v.len);
		return c == PERR_NONE ? -1 : c;
	}
	if (m.kind != MSG_RESPONSE || m.msgid != 0)
		return -1;
	if ((c = msg_error_code(&m, &v)) != PERR_NONE)
		return c;
	auth_server_proof(h->key, h->keylen, nc, r->ns, expect_mac);
	if (m.result.type != MPV_BIN ||
	    !auth_equal(m.result.ptr, m.result.len, expect_mac,
	    sizeof(expect_mac)))
		return -1;
	return 0;
}
