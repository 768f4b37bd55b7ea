/*
 * mpctl_json.h: mpctl's two conversions between a shell's text and the
 * daemon's MessagePack values (client/mpctl_json.c).
 *
 * In: an operand is JSON when it parses as JSON, else a string. Out: any
 * msgpack value prints as one line of compact JSON, with bin as
 * {"$bin":"BASE64"} and ext as {"$ext":[TYPE,"BASE64"]}; those two forms are
 * read back as bin and ext, so what mpctl prints can be fed to it again.
 */
#ifndef MPCTL_JSON_H
#define MPCTL_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <msgpack.h>

/*
 * Pack one operand into pk. as_string: pack the text as a str, never JSON.
 * Otherwise: a number-like token ("5", "-10", "-.5", "1e3", "5.") is a
 * number (int64, else uint64 up to 2^64-1, float64 when it has a fraction or
 * an exponent); text that parses as JSON is that value; anything else is a
 * str of the text's bytes. Returns 0, or -1 with a message in err when the
 * text is JSON that cannot be sent (a number out of range, a bad "$bin" or
 * "$ext" form): a usage error, nothing packed.
 */
int mpctl_json_pack_operand(msgpack_packer *pk, const char *text,
    bool as_string, char *err, size_t errlen);

/*
 * True when a command-line token starting with '-' is a number ("-10",
 * "-.5", "-1e3") and so an operand, never an option.
 */
bool mpctl_json_is_negative_number(const char *token);

/*
 * len bytes of text that must be JSON (with the forms of mpctl_json.c:
 * $bin, $ext, $map, $float, $uint) into pk: 0, or -1 with a message in
 * err (not JSON, or a malformed form), nothing useful packed.
 */
int mpctl_json_pack_json(msgpack_packer *pk, const char *text, size_t len,
    char *err, size_t errlen);

/* Print o to f as compact JSON (no newline). */
void mpctl_json_print(FILE *f, const msgpack_object *o);
/* The same, losing nothing: what JSON cannot hold in its one-key forms,
 * which mpctl_json_pack_json reads back as it was. */
void mpctl_json_print_exact(FILE *f, const msgpack_object *o);

#endif
