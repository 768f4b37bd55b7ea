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

void
msg_pack_request(msgpack_packer *pk, uint32_t msgid, const char *method,
    uint32_t nparams)
{
	msgpack_pack_array(pk, 4);
	msgpack_pack_uint8(pk, MSG_REQUEST);
	msgpack_pack_uint32(pk, msgid);
	msg_pack_cstr(pk, method);
	msgpack_pack_array(pk, nparams);
}

void
msg_pack_result(msgpack_packer *pk, uint32_t msgid)
{
	msgpack_pack_array(pk, 4);
	msgpack_pack_uint8(pk, MSG_RESPONSE);
	msgpack_pack_uint32(pk, msgid);
	msgpack_pack_nil(pk);
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
	msgpack_pack_array(pk, 4);
	msgpack_pack_uint8(pk, MSG_RESPONSE);
	msgpack_pack_uint32(pk, msgid);
	pack_error_pair(pk, code, message);
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

int
msg_parse(const uint8_t *frame, struct msg *m, const char **why)
{
	struct mpv top, kind, el[4];
	struct mpv_iter it;
	uint32_t i, n;

	memset(m, 0, sizeof *m);
	m->kind = -1;
	mpv_frame(frame, &top);
	if (top.type != MPV_ARRAY || top.len == 0) {
		*why = "a message must be a non-empty array";
		return -1;
	}
	mpv_iter_init(&it, &top);
	mpv_iter_next(&it, &kind);
	if (kind.type != MPV_UINT || kind.v.u > MSG_NOTIFICATION) {
		*why = "a message must start with 0, 1 or 2";
		return -1;
	}
	m->kind = (int)kind.v.u;
	/* Only the first four elements matter: more is an arity error. */
	n = top.len - 1 < 3 ? top.len - 1 : 3;
	for (i = 0; i < n; i++)
		mpv_iter_next(&it, &el[i]);
	if (m->kind != MSG_NOTIFICATION && n >= 1)
		m->has_msgid = read_msgid(&el[0], &m->msgid);

	switch (m->kind) {
	case MSG_REQUEST:
		if (top.len != 4) {
			*why = "a request must be [0, msgid, method, params]";
			return -1;
		}
		if (!m->has_msgid) {
			*why = "request msgid must be a uint32";
			return -1;
		}
		if (el[1].type != MPV_STR) {
			*why = "request method must be a str";
			return -1;
		}
		if (el[2].type != MPV_ARRAY) {
			*why = "request params must be an array";
			return -1;
		}
		m->method = el[1];
		m->params = el[2];
		return 0;
	case MSG_RESPONSE:
		if (top.len != 4) {
			*why = "a response must be [1, msgid, error, result]";
			return -1;
		}
		if (!m->has_msgid) {
			*why = "response msgid must be a uint32";
			return -1;
		}
		if (!error_shape_ok(&el[1])) {
			*why = "response error must be nil or [code, message]";
			return -1;
		}
		m->error = el[1];
		m->result = el[2];
		return 0;
	default:
		if (top.len != 3) {
			*why = "a notification must be [2, method, params]";
			return -1;
		}
		if (el[0].type != MPV_STR) {
			*why = "notification method must be a str";
			return -1;
		}
		if (el[1].type != MPV_ARRAY) {
			*why = "notification params must be an array";
			return -1;
		}
		m->method = el[0];
		m->params = el[1];
		return 0;
	}
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
