/*
 * msg.h: building and taking apart MessagePack-RPC messages.
 *
 * Building goes through msgpack-c's packer writing into a struct buf
 * (see buf_pack_write). Taking apart works on a frame that scan_frame()
 * accepted and checks its shape: the right kind, arity and element types.
 */
#ifndef MPMGR_MSG_H
#define MPMGR_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "mpmgr_proto.h"
#include "scan.h"

/* [0, msgid, method, [ then the caller packs nparams values. */
void msg_pack_request(msgpack_packer *pk, uint32_t msgid, const char *method,
    uint32_t nparams);
/*
 * The bytes msg_pack_request packs, for a method of mlen bytes, written to
 * out (room for MSG_REQUEST_HEAD_MAX + mlen), for a caller that packs
 * straight into its own buffer: their count, and in *params_at the offset
 * of the params array's header. What comes before it is well-formed
 * whenever the method is valid UTF-8 (scan_utf8).
 */
#define MSG_REQUEST_HEAD_MAX (1 + 1 + 5 + 5 + 5) /* but the method's bytes */
size_t msg_request_head(uint8_t *out, uint32_t msgid, const char *method,
    uint32_t mlen, uint32_t nparams, size_t *params_at);
/* [1, msgid, nil, then the caller packs exactly one result value. */
void msg_pack_result(msgpack_packer *pk, uint32_t msgid);
/* The bytes msg_pack_result packs, written to out (room for
 * MSG_RESULT_HEAD_MAX): their count. */
#define MSG_RESULT_HEAD_MAX 8
size_t msg_result_head(uint8_t *out, uint32_t msgid);
/* [1, msgid, [code, message], nil]: a complete error response. */
void msg_pack_error(msgpack_packer *pk, uint32_t msgid, int code,
    const char *message);
/* The same with a message of mlen bytes, not NUL-terminated. */
void msg_pack_error_n(msgpack_packer *pk, uint32_t msgid, int code,
    const char *message, size_t mlen);
/* [2, method, [ then the caller packs nparams values. */
void msg_pack_notification(msgpack_packer *pk, const char *method,
    uint32_t nparams);
/* [2, "mpmgr.error", [code, message]]: a complete notification. */
void msg_pack_error_notification(msgpack_packer *pk, int code,
    const char *message);
/* A str, packed from a NUL-terminated C string. */
void msg_pack_cstr(msgpack_packer *pk, const char *s);
/*
 * The bytes msgpack-c packs for a uint, an int (of either sign), a str's or
 * an array's header (a map's is the same size): for the size of a reply
 * before it is built.
 */
size_t msg_uint_size(uint64_t v);
size_t msg_int_size(int64_t v);
size_t msg_str_head_size(size_t len);
size_t msg_array_head_size(size_t n);

/* One message taken apart; the views point into the frame. */
struct msg {
	int kind;            /* MSG_REQUEST, MSG_RESPONSE, MSG_NOTIFICATION */
	bool has_msgid;      /* a msgid was readable, even if the rest was not */
	uint32_t msgid;      /* REQUEST, RESPONSE */
	struct mpv method;   /* REQUEST, NOTIFICATION: STR */
	struct mpv params;   /* REQUEST, NOTIFICATION: ARRAY */
	struct mpv error;    /* RESPONSE: NIL or [code:str, message:str] */
	struct mpv result;   /* RESPONSE */
};

/*
 * Check a frame's shape and fill m. 0 when it is a well-formed message;
 * -1 with *why set otherwise (m->has_msgid says whether an error reply
 * can still be addressed to m->msgid).
 */
int msg_parse(const uint8_t *frame, struct msg *m, const char **why);
/*
 * msg_parse for a frame of exactly len bytes (scan_frame's *frame_len):
 * the same answer, without walking the frame to find where it ends.
 */
int msg_parse_frame(const uint8_t *frame, size_t len, struct msg *m,
    const char **why);

/*
 * For a RESPONSE with an error: its PERR_* code (PERR_INTERNAL for a code
 * this build does not know) and the message view. PERR_NONE if no error.
 */
int msg_error_code(const struct msg *m, struct mpv *message);

#endif
