/*
 * harness_notation.c: the tests' value notation (harness_notation.h),
 * packed by msgpack-c, and the msgpack_object side the integration tests
 * compare with: text unpacked into a zone that lives as long as the test
 * process.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "harness_notation.h"

static const char *
skip_ws(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	return s;
}

/* Past the ':' between a key and its value. */
static const char *
colon(const char *s)
{
	s = skip_ws(s);
	ck_assert_msg(*s == ':', "notation: ':' expected at '%s'", s);
	return s + 1;
}

/* Past the ',' after an element, if there is one. */
static const char *
comma(const char *s)
{
	s = skip_ws(s);
	return *s == ',' ? s + 1 : s;
}

/* Past the bracket that closes a map or an array. */
static const char *
closing(const char *s, bool map)
{
	s = skip_ws(s);
	ck_assert_msg(*s == (map ? '}' : ']'), "notation: '%c' expected at "
	    "'%s'", map ? '}' : ']', s);
	return s + 1;
}

/* Elements of the container whose opening bracket precedes s. */
static uint32_t
count(const char *s)
{
	uint32_t commas = 0;
	bool quoted = false, any = false;
	int depth = 0;

	for (; *s != '\0'; s++) {
		if (quoted) {
			if (*s == '\\' && s[1] != '\0')
				s++;
			else
				quoted = *s != '\'';
			continue;
		}
		switch (*s) {
		case '\'':
			quoted = any = true;
			break;
		case '[':
		case '{':
			depth++;
			any = true;
			break;
		case ']':
		case '}':
			if (depth-- == 0)
				return any ? commas + 1 : 0;
			break;
		case ',':
			commas += depth == 0;
			break;
		case ' ':
		case '\t':
		case '\n':
		case '\r':
			break;
		default:
			any = true;
		}
	}
	ck_abort_msg("notation: unclosed container");
	return 0;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * The bytes between the quotes at s ('...'), escapes undone, into a
 * buffer the caller frees; *len its length, *end past the closing quote.
 */
static char *
quoted(const char *s, size_t *len, const char **end)
{
	char *out;
	size_t n = 0;

	ck_assert_msg(*s == '\'', "notation: quote expected at '%s'", s);
	out = malloc(strlen(s) + 1);
	ck_assert(out != NULL);
	for (s++; *s != '\''; s++) {
		ck_assert_msg(*s != '\0', "notation: unclosed quote");
		if (*s != '\\') {
			out[n++] = *s;
			continue;
		}
		s++;
		if (*s == '\'' || *s == '\\') {
			out[n++] = *s;
		} else if (*s == 'x' && hexval(s[1]) >= 0 && hexval(s[2]) >= 0) {
			out[n++] = (char)(hexval(s[1]) << 4 | hexval(s[2]));
			s += 2;
		} else {
			ck_abort_msg("notation: bad escape '\\%c'", *s);
		}
	}
	*len = n;
	*end = s + 1;
	return out;
}

const char *
harness_pack(msgpack_packer *pk, const char *s)
{
	const char *end;
	char *p;
	size_t len, i;
	uint32_t n;

	s = skip_ws(s);
	if (*s == '[' || *s == '{') {
		bool map = *s == '{';

		n = count(s + 1);
		if (map)
			msgpack_pack_map(pk, n);
		else
			msgpack_pack_array(pk, n);
		s++;
		for (i = 0; i < n; i++) {
			s = harness_pack(pk, s);
			if (map)
				s = harness_pack(pk, colon(s));
			s = comma(s);
		}
		return closing(s, map);
	}
	if (*s == '\'') {
		unsigned long times = 1;

		p = quoted(s, &len, &end);
		if (*end == '*')
			times = strtoul(end + 1, (char **)&end, 10);
		msgpack_pack_str(pk, len * times);
		for (i = 0; i < times; i++)
			msgpack_pack_str_body(pk, p, len);
		free(p);
		return end;
	}
	if (strncmp(s, "b'", 2) == 0) {
		p = quoted(s + 1, &len, &end);
		msgpack_pack_bin(pk, len);
		msgpack_pack_bin_body(pk, p, len);
		free(p);
		return end;
	}
	if (*s == 'x' && (isdigit((unsigned char)s[1]) || s[1] == '-')) {
		long type = strtol(s + 1, (char **)&end, 10);

		p = quoted(end, &len, &end);
		msgpack_pack_ext(pk, len, (int8_t)type);
		msgpack_pack_ext_body(pk, p, len);
		free(p);
		return end;
	}
	if (strncmp(s, "h'", 2) == 0) {
		p = quoted(s + 1, &len, &end);
		ck_assert_msg(len % 2 == 0, "notation: odd h'%.*s'", (int)len,
		    p);
		for (i = 0; i + 1 < len; i += 2) {
			int hi = hexval(p[i]), lo = hexval(p[i + 1]);
			char byte = (char)(hi << 4 | lo);

			ck_assert_msg(hi >= 0 && lo >= 0, "notation: bad hex "
			    "in h'%.*s'", (int)len, p);
			pk->callback(pk->data, &byte, 1);
		}
		free(p);
		return end;
	}
	if (strncmp(s, "nil", 3) == 0) {
		msgpack_pack_nil(pk);
		return s + 3;
	}
	if (strncmp(s, "true", 4) == 0) {
		msgpack_pack_true(pk);
		return s + 4;
	}
	if (strncmp(s, "false", 5) == 0) {
		msgpack_pack_false(pk);
		return s + 5;
	}
	if (strncmp(s, "f32:", 4) == 0) {
		msgpack_pack_float(pk, strtof(s + 4, (char **)&end));
		return end;
	}
	len = strspn(s, "-+0123456789.eE");
	ck_assert_msg(len > 0, "notation: cannot read '%s'", s);
	if (memchr(s, '.', len) != NULL || memchr(s, 'e', len) != NULL ||
	    memchr(s, 'E', len) != NULL)
		msgpack_pack_double(pk, strtod(s, (char **)&end));
	else {
		errno = 0;
		if (*s == '-')
			msgpack_pack_int64(pk, strtoll(s, (char **)&end, 10));
		else
			msgpack_pack_uint64(pk, strtoull(s, (char **)&end, 10));
		ck_assert_msg(errno == 0, "notation: '%.*s' out of range",
		    (int)len, s);
	}
	ck_assert_msg(end == s + len, "notation: bad number '%s'", s);
	return end;
}

void
harness_pack_text(msgpack_packer *pk, const char *text)
{
	const char *end = harness_pack(pk, text);

	ck_assert_msg(*skip_ws(end) == '\0', "notation: trailing '%s'", end);
}

/* --- as msgpack_object --------------------------------------------------- */

static msgpack_zone *obj_zone;

msgpack_zone *
harness_zone(void)
{
	if (obj_zone == NULL)
		obj_zone = msgpack_zone_new(8192);
	ck_assert(obj_zone != NULL);
	return obj_zone;
}

/*
 * The value text starts with into *o; where it ends. Containers are built
 * here (msgpack_unpack stops at 32 levels, and tests nest deeper); each
 * scalar is packed by harness_pack and unpacked into the zone.
 */
static const char *
obj_value(const char *s, msgpack_object *o)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	size_t off = 0;
	uint32_t n, i;
	const char *end;
	char *copy;

	s = skip_ws(s);
	if (*s == '[' || *s == '{') {
		bool map = *s == '{';

		n = count(s + 1);
		memset(o, 0, sizeof(*o));
		if (map) {
			o->type = MSGPACK_OBJECT_MAP;
			o->via.map.size = n;
			o->via.map.ptr = msgpack_zone_malloc(harness_zone(),
			    (n > 0 ? n : 1) * sizeof(msgpack_object_kv));
			ck_assert(o->via.map.ptr != NULL);
		} else {
			o->type = MSGPACK_OBJECT_ARRAY;
			o->via.array.size = n;
			o->via.array.ptr = msgpack_zone_malloc(harness_zone(),
			    (n > 0 ? n : 1) * sizeof(msgpack_object));
			ck_assert(o->via.array.ptr != NULL);
		}
		s++;
		for (i = 0; i < n; i++) {
			if (map) {
				s = obj_value(s, &o->via.map.ptr[i].key);
				s = obj_value(colon(s), &o->via.map.ptr[i].val);
			} else {
				s = obj_value(s, &o->via.array.ptr[i]);
			}
			s = comma(s);
		}
		return closing(s, map);
	}
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	end = harness_pack(&pk, s);
	/* The object's strings point into the bytes: keep them. */
	copy = msgpack_zone_malloc(harness_zone(), sb.size);
	ck_assert(copy != NULL);
	memcpy(copy, sb.data, sb.size);
	ck_assert_msg(msgpack_unpack(copy, sb.size, &off, harness_zone(),
	    o) == MSGPACK_UNPACK_SUCCESS && off == sb.size,
	    "notation: '%.*s' does not unpack", (int)(end - s), s);
	msgpack_sbuffer_destroy(&sb);
	return end;
}

msgpack_object
harness_obj(const char *text)
{
	msgpack_object o;
	const char *end = obj_value(text, &o);

	ck_assert_msg(*skip_ws(end) == '\0', "notation: trailing '%s'", end);
	return o;
}

msgpack_object
harness_objf(const char *fmt, ...)
{
	msgpack_object o;
	char *text;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&text, fmt, ap);
	va_end(ap);
	ck_assert(n >= 0);
	o = harness_obj(text); /* copies what it keeps into the zone */
	free(text);
	return o;
}

bool
harness_obj_eq(msgpack_object got, const char *text)
{
	return msgpack_object_equal(got, harness_obj(text));
}

const char *
harness_obj_str(msgpack_object got, char *buf, size_t len)
{
	buf[0] = '\0';
	msgpack_object_print_buffer(buf, len, got);
	return buf;
}

const msgpack_object *
harness_map_get(const msgpack_object *map, const char *key)
{
	size_t len = strlen(key);
	uint32_t i;

	if (map->type != MSGPACK_OBJECT_MAP)
		return NULL;
	for (i = 0; i < map->via.map.size; i++) {
		const msgpack_object *k = &map->via.map.ptr[i].key;

		if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == len &&
		    memcmp(k->via.str.ptr, key, len) == 0)
			return &map->via.map.ptr[i].val;
	}
	return NULL;
}
