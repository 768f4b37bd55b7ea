/*
 * msg.c: MessagePack-RPC messages built with msgpack-c's packer and taken
 * apart from frames the scanner accepted (msg.h).
 *
 * msg_parse is the one place that decides whether a frame is a message of
 * the right shape; it never reads past the frame (the scanner bounded it)
 * and it tells its caller whether a msgid was found, so that a malformed
 * request can still get an error reply addressed to it.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "msg.h"

void
msg_pack_cstr(msgpack_packer *pk, const char *s)
{
	size_t n = strlen(s);

	msgpack_pack_str(pk, n);
	msgpack_pack_str_body(pk, s, n);
}

size_t
msg_uint_size(uint64_t v)
{
	if (v <= 0x7f)
		return 1;
	if (v <= UINT8_MAX)
		return 2;
	if (v <= UINT16_MAX)
		return 3;
	return v <= UINT32_MAX ? 5 : 9;
}

size_t
msg_int_size(int64_t v)
{
	if (v >= 0)
		return msg_uint_size((uint64_t)v);
	if (v >= -32)
		return 1;
	if (v >= INT8_MIN)
		return 2;
	if (v >= INT16_MIN)
		return 3;
	return v >= INT32_MIN ? 5 : 9;
}

size_t
msg_str_head_size(size_t len)
{
	if (len < 32)
		return 1;
	if (len <= UINT8_MAX)
		return 2;
	return len <= UINT16_MAX ? 3 : 5;
}

size_t
msg_array_head_size(size_t n)
{
	if (n < 16)
		return 1;
	return n <= UINT16_MAX ? 3 : 5;
}

/* The shortest encoding of a uint, as msgpack-c packs it. */
static inline uint8_t *
put_uint(uint8_t *p, uint32_t v)
{
	if (v <= 0x7f) {
		*p++ = (uint8_t)v;
	} else if (v <= UINT8_MAX) {
		*p++ = 0xcc;
		*p++ = (uint8_t)v;
	} else if (v <= UINT16_MAX) {
		*p++ = 0xcd;
		*p++ = (uint8_t)(v >> 8);
		*p++ = (uint8_t)v;
	} else {
		*p++ = 0xce;
		*p++ = (uint8_t)(v >> 24);
		*p++ = (uint8_t)(v >> 16);
		*p++ = (uint8_t)(v >> 8);
		*p++ = (uint8_t)v;
	}
	return p;
}

/*
 * The header of a str or an array of n, as msgpack-c packs it: the fix
 * form (fix | n) below fixmax, else the 8-bit form op8 (0: the type has
 * none), the 16-bit form op16 or the 32-bit one, op16 + 1.
 */
static inline uint8_t *
put_len(uint8_t *p, uint8_t fix, uint32_t fixmax, uint8_t op8, uint8_t op16,
    uint32_t n)
{
	if (n < fixmax) {
		*p++ = fix | (uint8_t)n;
	} else if (op8 != 0 && n <= UINT8_MAX) {
		*p++ = op8;
		*p++ = (uint8_t)n;
	} else if (n <= UINT16_MAX) {
		*p++ = op16;
		*p++ = (uint8_t)(n >> 8);
		*p++ = (uint8_t)n;
	} else {
		*p++ = op16 + 1;
		*p++ = (uint8_t)(n >> 24);
		*p++ = (uint8_t)(n >> 16);
		*p++ = (uint8_t)(n >> 8);
		*p++ = (uint8_t)n;
	}
	return p;
}

static inline uint8_t *
put_array_head(uint8_t *p, uint32_t n)
{
	return put_len(p, 0x90, 16, 0, 0xdc, n);
}

/* [0, msgid, and the header of a method of mlen bytes. */
static inline uint8_t *
put_request_start(uint8_t *p, uint32_t msgid, uint32_t mlen)
{
	*p++ = 0x94;
	*p++ = MSG_REQUEST;
	p = put_uint(p, msgid);
	return put_len(p, 0xa0, 32, 0xd9, 0xda, mlen);
}

/*
 * The envelope goes out in three writes to the packer's sink rather than
 * six packer calls; msg_request_head writes the same bytes in one go.
 */
void
msg_pack_request(msgpack_packer *pk, uint32_t msgid, const char *method,
    uint32_t nparams)
{
	uint8_t h[MSG_REQUEST_HEAD_MAX];
	size_t mlen = strlen(method);

	pk->callback(pk->data, (const char *)h,
	    (size_t)(put_request_start(h, msgid, (uint32_t)mlen) - h));
	pk->callback(pk->data, method, mlen);
	pk->callback(pk->data, (const char *)h,
	    (size_t)(put_array_head(h, nparams) - h));
}

size_t
msg_request_head(uint8_t *out, uint32_t msgid, const char *method,
    uint32_t mlen, uint32_t nparams, size_t *params_at)
{
	uint8_t *p = put_request_start(out, msgid, mlen);

	memcpy(p, method, mlen);
	p += mlen;
	*params_at = (size_t)(p - out);
	return (size_t)(put_array_head(p, nparams) - out);
}

/* [1, msgid, as msgpack-c packs it: msgid in its shortest form. */
static size_t
put_response_start(uint8_t *h, uint32_t msgid)
{
	h[0] = 0x94;
	h[1] = MSG_RESPONSE;
	return (size_t)(put_uint(h + 2, msgid) - h);
}

size_t
msg_result_head(uint8_t *out, uint32_t msgid)
{
	size_t n = put_response_start(out, msgid);

	out[n++] = 0xc0;
	return n;
}

/* One write to the packer's sink instead of one per element. */
void
msg_pack_result(msgpack_packer *pk, uint32_t msgid)
{
	uint8_t h[MSG_RESULT_HEAD_MAX];

	pk->callback(pk->data, (const char *)h, msg_result_head(h, msgid));
}

/* [code, message]; a code this build has no name for goes out as INTERNAL. */
static void
pack_error_pair(msgpack_packer *pk, int code, const char *message)
{
	const char *name = proto_err_name(code);

	msgpack_pack_array(pk, 2);
	msg_pack_cstr(pk, name != NULL ? name : proto_err_name(PERR_INTERNAL));
	msg_pack_cstr(pk, message != NULL ? message : "");
}

void
msg_pack_error(msgpack_packer *pk, uint32_t msgid, int code,
    const char *message)
{
	if (message == NULL)
		message = "";
	msg_pack_error_n(pk, msgid, code, message, strlen(message));
}

/* The longest code name, and the longest message packed in one piece. */
#define MSG_CODE_MAX 31
#define MSG_ERROR_INLINE 512
#define MSG_CODE_CHECK(n) \
	_Static_assert(sizeof(#n) - 1 <= MSG_CODE_MAX, #n ": name too long");
MPMGR_ERRORS(MSG_CODE_CHECK)
#undef MSG_CODE_CHECK

/*
 * The bytes msgpack-c packs for the same response, in one write to the
 * packer's sink (three for a long message) instead of ten packer calls:
 * errors such as NOKEY and EMPTY are answers as common as results.
 */
void
msg_pack_error_n(msgpack_packer *pk, uint32_t msgid, int code,
    const char *message, size_t mlen)
{
	uint8_t b[MSG_RESULT_HEAD_MAX + 2 + MSG_CODE_MAX + 5 +
	    MSG_ERROR_INLINE + 1], *p;
	size_t nlen;

	if (proto_err_name(code) == NULL)
		code = PERR_INTERNAL;
	nlen = proto_err_name_len(code);
	p = b + put_response_start(b, msgid);
	*p++ = 0x92;
	*p++ = (uint8_t)(0xa0 | nlen);
	memcpy(p, proto_err_name(code), nlen);
	p += nlen;
	p = put_len(p, 0xa0, 32, 0xd9, 0xda, (uint32_t)mlen);
	if (mlen <= MSG_ERROR_INLINE) {
		memcpy(p, message, mlen);
		p += mlen;
		*p++ = 0xc0;
		pk->callback(pk->data, (const char *)b, (size_t)(p - b));
		return;
	}
	pk->callback(pk->data, (const char *)b, (size_t)(p - b));
	pk->callback(pk->data, message, mlen);
	msgpack_pack_nil(pk);
}

void
msg_pack_notification(msgpack_packer *pk, const char *method,
    uint32_t nparams)
{
	msgpack_pack_array(pk, 3);
	msgpack_pack_uint8(pk, MSG_NOTIFICATION);
	msg_pack_cstr(pk, method);
	msgpack_pack_array(pk, nparams);
}

void
msg_pack_error_notification(msgpack_packer *pk, int code,
    const char *message)
{
	msgpack_pack_array(pk, 3);
	msgpack_pack_uint8(pk, MSG_NOTIFICATION);
	msg_pack_cstr(pk, MPMGR_NOTIFY_ERROR);
	pack_error_pair(pk, code, message);
}

static bool
read_msgid(const struct mpv *v, uint32_t *out)
{
	if (v->type != MPV_UINT || v->v.u > UINT32_MAX)
		return false;
	*out = (uint32_t)v->v.u;
	return true;
}

static bool
error_shape_ok(const struct mpv *err)
{
	struct mpv_iter it;
	struct mpv code, message;

	if (err->type == MPV_NIL)
		return true;
	if (err->type != MPV_ARRAY || err->len != 2)
		return false;
	mpv_iter_init(&it, err);
	mpv_iter_next(&it, &code);
	mpv_iter_next(&it, &message);
	return code.type == MPV_STR && message.type == MPV_STR;
}

/*
 * Element i of n of the message's array, the next value at *p; the last
 * one ends where the frame ends (end), so only an element that is neither
 * last nor a scalar is walked to find its extent.
 */
static void
read_el(const uint8_t **p, const uint8_t *end, uint32_t i, uint32_t n,
    struct mpv *out)
{
	if (i + 1 < n) {
		mpv_read(p, out);
		return;
	}
	mpv_head(*p, out);
	out->rawlen = (size_t)(end - *p);
	*p = end;
}

/* mpv_head's answer for a nil at p, without its out-of-line call. */
static inline void
nil_view(const uint8_t *p, struct mpv *out)
{
	static const struct mpv nil = { .type = MPV_NIL, .rawlen = 1 };

	*out = nil;
	out->raw = p;
	out->ptr = p + 1;
}

/*
 * An error [code, message] of two strs at *p, as parse_any reads it: true,
 * *out and *p moved past it; false for anything else.
 */
static inline bool
parse_usual_error(const uint8_t **p, struct mpv *out)
{
	struct mpv code, message;

	if (**p != 0x92)
		return false;
	mpv_head(*p, out);
	mpv_head(out->ptr, &code);
	if (code.type != MPV_STR)
		return false;
	mpv_head(out->ptr + code.rawlen, &message);
	if (message.type != MPV_STR)
		return false;
	out->rawlen = 1 + code.rawlen + message.rawlen;
	*p += out->rawlen;
	return true;
}

/*
 * The usual messages, a request [0, msgid, method, params] and a response
 * [1, msgid, nil or [code, message], result], with msgid a uint of at most 32 bits
 * in its shortest form, read without the general walk: true and m filled
 * as msg_parse_frame fills it; false for anything else (m is then
 * garbage, to be filled by the general path).
 */
static inline bool __attribute__((always_inline))
parse_usual(const uint8_t *frame, const uint8_t *end, struct msg *m)
{
	static const struct mpv none;
	const uint8_t *p = frame + 2;
	struct mpv *first, *last;
	uint32_t id;

	if (frame[0] != 0x94 || frame[1] > MSG_RESPONSE)
		return false;
	switch (p[0]) {
	case 0xcc:
		id = p[1];
		p += 2;
		break;
	case 0xcd:
		id = (uint32_t)p[1] << 8 | p[2];
		p += 3;
		break;
	case 0xce:
		id = (uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 |
		    (uint32_t)p[3] << 8 | p[4];
		p += 5;
		break;
	default:
		if (p[0] > 0x7f)
			return false;
		id = p[0];
		p++;
		break;
	}
	if (frame[1] == MSG_REQUEST) {
		first = &m->method;
		last = &m->params;
		mpv_head(p, first);
		if (first->type != MPV_STR)
			return false;
		p += first->rawlen;
		mpv_head(p, last);
		if (last->type != MPV_ARRAY)
			return false;
		m->error = m->result = none;
	} else {
		first = &m->error;
		last = &m->result;
		if (*p == 0xc0)
			nil_view(p++, first);
		else if (!parse_usual_error(&p, first))
			return false;
		if (*p == 0xc0)
			nil_view(p, last);
		else
			mpv_head(p, last);
		m->method = m->params = none;
	}
	/* The last element ends where the frame does. */
	last->rawlen = (size_t)(end - p);
	m->kind = frame[1];
	m->has_msgid = true;
	m->msgid = id;
	return true;
}

/*
 * Any message, the usual ones included: msg_parse_frame's answer. The
 * views are read straight into m (no copies); what a malformed message
 * leaves there is cleared again, so that m holds only kind and msgid on
 * failure, as it always has. Out of line, so that the usual messages do
 * not pay for its frame.
 */
static int __attribute__((noinline))
parse_any(const uint8_t *frame, const uint8_t *end, struct msg *m,
    const char **why)
{
	static const struct mpv none;
	struct mpv top, kind, spare[2], *el[3];
	const uint8_t *p;
	uint32_t i, n;

	m->kind = -1;
	m->has_msgid = false;
	m->msgid = 0;
	mpv_head(frame, &top);
	if (top.type != MPV_ARRAY || top.len == 0) {
		*why = "a message must be a non-empty array";
		goto fail;
	}
	p = top.ptr;
	read_el(&p, end, 0, top.len, &kind);
	if (kind.type != MPV_UINT || kind.v.u > MSG_NOTIFICATION) {
		*why = "a message must start with 0, 1 or 2";
		goto fail;
	}
	m->kind = (int)kind.v.u;
	switch (m->kind) {
	case MSG_REQUEST:
		el[0] = &spare[0];
		el[1] = &m->method;
		el[2] = &m->params;
		m->error = m->result = none;
		break;
	case MSG_RESPONSE:
		el[0] = &spare[0];
		el[1] = &m->error;
		el[2] = &m->result;
		m->method = m->params = none;
		break;
	default:
		el[0] = &m->method;
		el[1] = &m->params;
		el[2] = &spare[1];
		m->error = m->result = none;
		break;
	}
	/* Only the first four elements matter: more is an arity error. */
	n = top.len - 1 < 3 ? top.len - 1 : 3;
	for (i = 0; i < n; i++)
		read_el(&p, end, i + 1, top.len, el[i]);
	if (m->kind != MSG_NOTIFICATION && n >= 1)
		m->has_msgid = read_msgid(el[0], &m->msgid);

	switch (m->kind) {
	case MSG_REQUEST:
		if (top.len != 4) {
			*why = "a request must be [0, msgid, method, params]";
			goto fail;
		}
		if (!m->has_msgid) {
			*why = "request msgid must be a uint32";
			goto fail;
		}
		if (m->method.type != MPV_STR) {
			*why = "request method must be a str";
			goto fail;
		}
		if (m->params.type != MPV_ARRAY) {
			*why = "request params must be an array";
			goto fail;
		}
		return 0;
	case MSG_RESPONSE:
		if (top.len != 4) {
			*why = "a response must be [1, msgid, error, result]";
			goto fail;
		}
		if (!m->has_msgid) {
			*why = "response msgid must be a uint32";
			goto fail;
		}
		if (!error_shape_ok(&m->error)) {
			*why = "response error must be nil or [code, message]";
			goto fail;
		}
		return 0;
	default:
		if (top.len != 3) {
			*why = "a notification must be [2, method, params]";
			goto fail;
		}
		if (m->method.type != MPV_STR) {
			*why = "notification method must be a str";
			goto fail;
		}
		if (m->params.type != MPV_ARRAY) {
			*why = "notification params must be an array";
			goto fail;
		}
		return 0;
	}
fail:
	m->method = m->params = m->error = m->result = none;
	return -1;
}

int
msg_parse_frame(const uint8_t *frame, size_t len, struct msg *m,
    const char **why)
{
	if (parse_usual(frame, frame + len, m))
		return 0;
	return parse_any(frame, frame + len, m, why);
}

int
msg_parse(const uint8_t *frame, struct msg *m, const char **why)
{
	struct mpv top;

	mpv_frame(frame, &top);
	return msg_parse_frame(frame, top.rawlen, m, why);
}

int
msg_error_code(const struct msg *m, struct mpv *message)
{
	struct mpv_iter it;
	struct mpv code;
	int perr;

	if (m->kind != MSG_RESPONSE || m->error.type != MPV_ARRAY)
		return PERR_NONE;
	mpv_iter_init(&it, &m->error);
	mpv_iter_next(&it, &code);
	mpv_iter_next(&it, message);
	perr = proto_err_lookup((const char *)code.ptr, code.len);
	return perr != PERR_NONE ? perr : PERR_INTERNAL;
}
