/*
 * reply.h: how a handler answers its request, and reads the params whose
 * checks answer BADARG.
 *
 * Each reply_* packs one whole response to req's msgid into its
 * connection's output (written at the end of the loop turn) and marks req
 * answered: a second answer is fatal. Waiters answer the same way through
 * their reply-to record (&w->req).
 */
#ifndef MPMGR_REPLY_H
#define MPMGR_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "dispatch.h"

void reply_nil(struct req *req);
void reply_bool(struct req *req, bool v);
void reply_int(struct req *req, int64_t v);
void reply_uint(struct req *req, uint64_t v);
void reply_double(struct req *req, double v);
void reply_str(struct req *req, const char *s, size_t len);
/* n bytes of one canonical MessagePack value, copied as they are. */
void reply_raw(struct req *req, const uint8_t *bytes, size_t n);
void reply_error(struct req *req, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/*
 * Sizes before replies (DESIGN.md, "Robustness rules"): a reply whose
 * size is known is checked before it is built, and a destructive read
 * checks before it takes anything.
 *
 * reply_fits: a result of n bytes is within the output limit (alone):
 * true, else false after replying LIMIT. For replies that only read.
 * reply_fits_now: a result of n bytes fits in what req's connection can
 * take now (its unread replies count); true, else false after replying
 * LIMIT. For a destructive read, before it removes anything.
 * reply_room: the largest result that fits now (for get_many, which takes
 * only what fits). The output is written at the end of each turn; what the
 * peer has not taken by then counts. Nothing fits a connection whose peer
 * is gone (CONN_DEAF): a destructive read of a dead client takes nothing.
 */
bool reply_fits(struct req *req, size_t n);
bool reply_fits_now(struct req *req, size_t n);
size_t reply_room(const struct req *req);
/*
 * The error whose message is before, req's object name and after: the
 * message reply_error would make of "<before>%.*s<after>", without
 * printf, for the errors that are everyday answers (NOKEY, EMPTY, FULL).
 */
void reply_error_name(struct req *req, int code, const char *before,
    const char *after);
/*
 * Start a result the caller packs itself (exactly one value) with the
 * packer returned; pack_raw() appends canonical bytes through it.
 */
msgpack_packer *reply_begin(struct req *req);
void pack_raw(msgpack_packer *pk, const uint8_t *bytes, size_t n);

/*
 * Param i as an integer from min to max, for counts and cursors. true and
 * *out; else false after replying BADARG naming what.
 */
bool req_uint_arg(struct req *req, unsigned i, uint64_t min, uint64_t max,
    const char *what, uint64_t *out);

#endif
