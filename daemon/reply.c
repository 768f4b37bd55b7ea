/*
 * reply.c: the answers to requests (reply.h), packed straight into the
 * asking connection's output, and the param readers that answer BADARG.
 *
 * Small results go out with their response's head in one append; larger
 * ones through msgpack-c's packer on the connection's buffer.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "reply.h"

/* A result this small goes out with its response's start in one write. */
#define REPLY_SMALL 48

static void
reply_once(struct req *req)
{
	if (req->replied)
		fatalx("%s: %s answered twice", __func__,
		    req->method != NULL ? req->method->name : "?");
	req->replied = true;
}

static msgpack_packer *
reply_result(struct req *req)
{
	msgpack_packer *pk = conn_packer(req->c);

	reply_once(req);
	msg_pack_result(pk, req->msgid);
	return pk;
}

/* The whole response to req, its result n <= REPLY_SMALL bytes of res. */
static void
reply_small(struct req *req, const uint8_t *res, size_t n)
{
	uint8_t b[MSG_RESULT_HEAD_MAX + REPLY_SMALL];
	msgpack_packer *pk = conn_packer(req->c);
	size_t hn;

	reply_once(req);
	hn = msg_result_head(b, req->msgid);
	memcpy(b + hn, res, n);
	pk->callback(pk->data, (const char *)b, hn + n);
}

msgpack_packer *
reply_begin(struct req *req)
{
	return reply_result(req);
}

void
pack_raw(msgpack_packer *pk, const uint8_t *bytes, size_t n)
{
	pk->callback(pk->data, (const char *)bytes, n);
}

void
reply_nil(struct req *req)
{
	static const uint8_t nil = 0xc0;

	reply_small(req, &nil, 1);
}

void
reply_bool(struct req *req, bool v)
{
	uint8_t b = v ? 0xc3 : 0xc2;

	reply_small(req, &b, 1);
}

void
reply_int(struct req *req, int64_t v)
{
	msgpack_pack_int64(reply_result(req), v);
}

void
reply_uint(struct req *req, uint64_t v)
{
	msgpack_pack_uint64(reply_result(req), v);
}

void
reply_double(struct req *req, double v)
{
	msgpack_pack_double(reply_result(req), v);
}

void
reply_str(struct req *req, const char *s, size_t len)
{
	uint8_t b[REPLY_SMALL];
	msgpack_packer *pk;

	if (len < 32) {
		/* A fixstr: one byte of header, as msgpack-c packs it. */
		b[0] = (uint8_t)(0xa0 | len);
		memcpy(b + 1, s, len);
		reply_small(req, b, 1 + len);
		return;
	}
	pk = reply_result(req);
	msgpack_pack_str(pk, len);
	msgpack_pack_str_body(pk, s, len);
}

void
reply_raw(struct req *req, const uint8_t *bytes, size_t n)
{
	if (n <= REPLY_SMALL)
		reply_small(req, bytes, n);
	else
		pack_raw(reply_result(req), bytes, n);
}

bool
reply_fits(struct req *req, size_t n)
{
	if (server.output_limit == 0 ||
	    n <= server.output_limit - MSG_RESULT_HEAD_MAX)
		return true;
	reply_error(req, PERR_LIMIT, "%s: a reply of %zu bytes exceeds the "
	    "output limit (%zu)", req->method->name, n, server.output_limit);
	return false;
}

size_t
reply_room(const struct req *req)
{
	size_t used = buf_used(&req->c->out) + MSG_RESULT_HEAD_MAX;

	if (req->c->flags & CONN_DEAF)
		return 0;
	if (server.output_limit == 0)
		return SIZE_MAX;
	return used < server.output_limit ? server.output_limit - used : 0;
}

bool
reply_fits_now(struct req *req, size_t n)
{
	if (reply_room(req) >= n)
		return true;
	if (req->c->flags & CONN_DEAF)
		reply_error(req, PERR_LIMIT, "%s: the client is gone; nothing "
		    "was taken", req->method->name);
	else if (n > server.output_limit - MSG_RESULT_HEAD_MAX)
		reply_error(req, PERR_LIMIT, "%s: a reply of %zu bytes exceeds "
		    "the output limit (%zu); nothing was taken",
		    req->method->name, n, server.output_limit);
	else
		reply_error(req, PERR_LIMIT, "%s: its reply of %zu bytes does "
		    "not fit behind the %zu bytes of replies not read yet "
		    "(output limit %zu); nothing was taken", req->method->name,
		    n, buf_used(&req->c->out), server.output_limit);
	return false;
}

/* The longest error message: longer ones are cut, as vsnprintf cuts. */
#define REPLY_ERROR_MAX 511

void
reply_error(struct req *req, int code, const char *fmt, ...)
{
	char message[REPLY_ERROR_MAX + 1];
	va_list ap;
	int n;

	reply_once(req);
	va_start(ap, fmt);
	n = vsnprintf(message, sizeof message, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	msg_pack_error_n(conn_packer(req->c), req->msgid, code, message,
	    (size_t)n < sizeof message ? (size_t)n : REPLY_ERROR_MAX);
}

/* Append up to the room left in message[0..REPLY_ERROR_MAX). */
static size_t
reply_cat(char *message, size_t at, const char *s, size_t n)
{
	if (n > REPLY_ERROR_MAX - at)
		n = REPLY_ERROR_MAX - at;
	memcpy(message + at, s, n);
	return at + n;
}

void
reply_error_name(struct req *req, int code, const char *before,
    const char *after)
{
	char message[REPLY_ERROR_MAX];
	size_t n;

	reply_once(req);
	n = reply_cat(message, 0, before, strlen(before));
	/* %.*s stops at a NUL, and so does this */
	n = reply_cat(message, n, req_name(req),
	    strnlen(req_name(req), (size_t)req_namelen(req)));
	n = reply_cat(message, n, after, strlen(after));
	msg_pack_error_n(conn_packer(req->c), req->msgid, code, message, n);
}

bool
req_uint_arg(struct req *req, unsigned i, uint64_t min, uint64_t max,
    const char *what, uint64_t *out)
{
	const struct mpv *v = &req->argv[i];

	if (v->type != MPV_UINT || v->v.u < min || v->v.u > max) {
		reply_error(req, PERR_BADARG, "%s: %s must be an int from %llu "
		    "to %llu", req->method->name, what,
		    (unsigned long long)min, (unsigned long long)max);
		return false;
	}
	*out = v->v.u;
	return true;
}
