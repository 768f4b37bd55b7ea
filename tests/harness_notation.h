/*
 * harness_notation.h: the one notation every test writes MessagePack
 * values in, unit tests (packed and compared byte for byte) and
 * integration tests (as msgpack_object, compared by value) alike:
 *
 *   nil true false           12 -3 (the smallest int encoding)
 *   1.5 1e300 (float64)      f32:1.5 (float32)
 *   'str'                    'x'*256 (the string repeated 256 times)
 *   b'bin'                   x7'ext' x-1'' (ext of type 7, -1)
 *   [a, b]                   {k: v} (keys may be any value)
 *   h'd005'                  raw bytes, written as they are (for
 *                            encodings that are not canonical)
 *
 * Inside quotes a backslash escapes: \' \\ and \xHH (any byte), so that
 * b'\x00\xff' is a bin of two bytes. Spaces, tabs and newlines between
 * values are ignored. Malformed text fails the test that wrote it.
 */
#ifndef MPMGR_HARNESS_NOTATION_H
#define MPMGR_HARNESS_NOTATION_H

#include <stdbool.h>
#include <stddef.h>

#include <msgpack.h>

/* Pack the one value text starts with; where it ends. */
const char *harness_pack(msgpack_packer *pk, const char *text);
/* Pack text, which must be exactly one value. */
void harness_pack_text(msgpack_packer *pk, const char *text);

/* The zone harness_obj's objects live in, for others of the test's. */
msgpack_zone *harness_zone(void);
/*
 * text as a msgpack_object (views into memory of the test process that
 * is never freed: tests are short-lived processes).
 */
msgpack_object harness_obj(const char *text);
/* The same text with "%s"-style formatting. */
msgpack_object harness_objf(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
/* got equals text's value (msgpack_object_equal: by type and value). */
bool harness_obj_eq(msgpack_object got, const char *text);
/* got printed into buf (truncated), for failure messages. */
const char *harness_obj_str(msgpack_object got, char *buf, size_t len);
/* The value of the str key in a map, or NULL. */
const msgpack_object *harness_map_get(const msgpack_object *map,
    const char *key);

#endif
