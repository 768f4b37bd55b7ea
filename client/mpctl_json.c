/*
 * mpctl_json.c: operands from text to MessagePack, results from MessagePack
 * to JSON text, for mpctl.
 *
 * Operands are parsed by jansson (any JSON value), except number-like
 * tokens, which are converted here so that integers up to 2^64-1 survive
 * (jansson's integers are int64) and shell shorthands like "-.5" count. A
 * value that is JSON but cannot be sent exactly (an integer beyond uint64,
 * a float beyond float64) is refused rather than silently stored as a
 * string.
 *
 * Printing walks the msgpack value directly instead of building a jansson
 * tree: the daemon's values include uint64 above INT64_MAX, map keys that
 * are not strings, bin and ext, none of which jansson can hold, and floats
 * must print in their shortest round-trip form (jansson prints %.17g).
 * NaN and infinities print as NaN, Infinity and -Infinity, as Python's json
 * module does; a non-string map key prints as a string holding its compact
 * JSON text (so the key 1 and the key "1" print alike).
 *
 * The exact printing (mpctl dump's) loses nothing instead: what plain JSON
 * cannot hold takes a one-key form that reads back as it was, {"$map":
 * [[KEY, VALUE]...]} for a map with keys that are not strings (or a key
 * twice, or one "$" key), {"$float": "NaN"} and the infinities, {"$uint":
 * "DIGITS"} past int64 (which JSON readers round), besides $bin and $ext.
 * Every mpctl operand takes those forms too.
 */
#include "mpctl_json.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

/* Bytes of bin base64-encoded per EVP_EncodeBlock call (a multiple of 3). */
#define B64_CHUNK (3 * 16384)

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

bool
mpctl_json_is_negative_number(const char *token)
{
	return token[0] == '-' && (is_digit(token[1]) ||
	    (token[1] == '.' && is_digit(token[2])));
}

/*
 * JSON's number grammar, widened to accept ".5", "-.5" and "5." as a shell
 * user means them. *integral: neither fraction nor exponent. Leading zeros
 * stay refused, so "007" remains the string it most likely is.
 */
static bool
number_syntax(const char *s, bool *integral)
{
	const char *p = s;
	bool digits = false;

	*integral = true;
	if (*p == '-')
		p++;
	if (*p == '0') {
		p++;
		digits = true;
	} else {
		for (; is_digit(*p); p++)
			digits = true;
	}
	if (*p == '.') {
		*integral = false;
		for (p++; is_digit(*p); p++)
			digits = true;
	}
	if (!digits)
		return false;
	if (*p == 'e' || *p == 'E') {
		*integral = false;
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!is_digit(*p))
			return false;
		while (is_digit(*p))
			p++;
	}
	return *p == '\0';
}

static int
pack_number(msgpack_packer *pk, const char *s, bool integral, char *err,
    size_t errlen)
{
	unsigned long long u;
	long long i;
	double d;

	if (integral) {
		errno = 0;
		i = strtoll(s, NULL, 10);
		if (errno == 0)
			return msgpack_pack_int64(pk, i);
		if (s[0] != '-') {
			errno = 0;
			u = strtoull(s, NULL, 10);
			if (errno == 0)
				return msgpack_pack_uint64(pk, u);
		}
		set_err(err, errlen, "integer out of range (int64 or uint64): "
		    "%s", s);
		return -1;
	}
	errno = 0;
	d = strtod(s, NULL);
	if (errno == ERANGE && isinf(d)) {
		set_err(err, errlen, "number out of range (float64): %s", s);
		return -1;
	}
	return msgpack_pack_double(pk, d);
}

/* Standard padded base64 into a new buffer; -1 if s is not that. */
static int
b64_decode(const char *s, size_t n, unsigned char **out, size_t *outlen)
{
	unsigned char *buf;
	size_t pad = 0, i;
	int m;
	char c;

	if (n % 4 != 0 || n > INT_MAX)
		return -1;
	while (pad < 2 && pad < n && s[n - 1 - pad] == '=')
		pad++;
	for (i = 0; i < n - pad; i++) {
		c = s[i];
		if (!(is_digit(c) || (c >= 'A' && c <= 'Z') ||
		    (c >= 'a' && c <= 'z') || c == '+' || c == '/'))
			return -1;
	}
	if ((buf = malloc(n / 4 * 3 + 1)) == NULL)
		return -1;
	m = n == 0 ? 0 : EVP_DecodeBlock(buf, (const unsigned char *)s,
	    (int)n);
	if (m < 0 || (size_t)m < pad) {
		free(buf);
		return -1;
	}
	*out = buf;
	*outlen = (size_t)m - pad;
	return 0;
}

static int
pack_b64(msgpack_packer *pk, const json_t *str, int ext_type, bool ext)
{
	unsigned char *bytes;
	size_t n;
	int rc;

	if (!json_is_string(str) || b64_decode(json_string_value(str),
	    json_string_length(str), &bytes, &n) < 0)
		return -1;
	if (ext)
		rc = msgpack_pack_ext(pk, n, (int8_t)ext_type) ||
		    msgpack_pack_ext_body(pk, bytes, n);
	else
		rc = msgpack_pack_bin(pk, n) ||
		    msgpack_pack_bin_body(pk, bytes, n);
	free(bytes);
	return rc ? -2 : 0;
}

static int pack_json(msgpack_packer *, const json_t *, char *, size_t);

/* {"$map": [[KEY, VALUE]...]}: a map whose keys JSON cannot hold. */
static int
pack_map_form(msgpack_packer *pk, const json_t *pairs, char *err,
    size_t errlen)
{
	json_t *pair;
	size_t i;

	json_array_foreach(pairs, i, pair) {
		if (!json_is_array(pair) || json_array_size(pair) != 2) {
			set_err(err, errlen, "{\"$map\": ...} wants an array "
			    "of [KEY, VALUE] pairs");
			return -1;
		}
	}
	if (!json_is_array(pairs)) {
		set_err(err, errlen, "{\"$map\": ...} wants an array of "
		    "[KEY, VALUE] pairs");
		return -1;
	}
	if (msgpack_pack_map(pk, json_array_size(pairs)))
		return -1;
	json_array_foreach(pairs, i, pair) {
		if (pack_json(pk, json_array_get(pair, 0), err, errlen) ||
		    pack_json(pk, json_array_get(pair, 1), err, errlen))
			return -1;
	}
	return 0;
}

/* {"$float": "NaN"}, "Infinity", "-Infinity": what JSON has no number
 * for. */
static int
pack_float_form(msgpack_packer *pk, const json_t *v, char *err,
    size_t errlen)
{
	const char *t = json_string_value(v);

	if (t != NULL && strcmp(t, "NaN") == 0)
		return msgpack_pack_double(pk, NAN) ? -2 : 0;
	if (t != NULL && strcmp(t, "Infinity") == 0)
		return msgpack_pack_double(pk, INFINITY) ? -2 : 0;
	if (t != NULL && strcmp(t, "-Infinity") == 0)
		return msgpack_pack_double(pk, -INFINITY) ? -2 : 0;
	set_err(err, errlen, "{\"$float\": ...} wants \"NaN\", "
	    "\"Infinity\" or \"-Infinity\"");
	return -1;
}

/* {"$uint": "DIGITS"}: an integer past int64, which JSON readers lose. */
static int
pack_uint_form(msgpack_packer *pk, const json_t *v, char *err,
    size_t errlen)
{
	const char *t = json_string_value(v);
	unsigned long long u;
	char *end;

	errno = 0;
	if (t != NULL && is_digit(t[0])) {
		u = strtoull(t, &end, 10);
		if (errno == 0 && *end == '\0')
			return msgpack_pack_uint64(pk, u) ? -2 : 0;
	}
	set_err(err, errlen, "{\"$uint\": ...} wants the decimal digits of "
	    "an integer up to 2^64-1");
	return -1;
}

/*
 * A one-key object {"$bin": B64}, {"$ext": [TYPE, B64]}, {"$map": PAIRS},
 * {"$float": WORD} or {"$uint": DIGITS} is the printed form of a value
 * JSON has no form for. Returns 1 when j is not one (pack it as a map), 0
 * when packed, -1 with err when it is one but malformed.
 */
static int
pack_special(msgpack_packer *pk, const json_t *j, char *err, size_t errlen)
{
	const char *key;
	json_t *val, *type;
	json_int_t t;
	int rc;

	if (json_object_size(j) != 1)
		return 1;
	json_object_foreach((json_t *)j, key, val) {
		if (strcmp(key, "$bin") == 0) {
			rc = pack_b64(pk, val, 0, false);
			if (rc == -1)
				set_err(err, errlen,
				    "{\"$bin\": ...} wants a base64 string");
			return rc < 0 ? -1 : 0;
		}
		if (strcmp(key, "$ext") == 0) {
			type = json_array_get(val, 0);
			t = json_integer_value(type);
			if (json_array_size(val) != 2 ||
			    !json_is_integer(type) ||
			    t < INT8_MIN || t > INT8_MAX ||
			    (rc = pack_b64(pk, json_array_get(val, 1), (int)t,
			    true)) == -1) {
				set_err(err, errlen, "{\"$ext\": ...} wants "
				    "[TYPE (-128..127), base64 string]");
				return -1;
			}
			return rc < 0 ? -1 : 0;
		}
		if (strcmp(key, "$map") == 0)
			return pack_map_form(pk, val, err, errlen) < 0 ? -1 : 0;
		if (strcmp(key, "$float") == 0)
			return pack_float_form(pk, val, err, errlen) < 0 ? -1 :
			    0;
		if (strcmp(key, "$uint") == 0)
			return pack_uint_form(pk, val, err, errlen) < 0 ? -1 :
			    0;
	}
	return 1;
}

static int
pack_json(msgpack_packer *pk, const json_t *j, char *err, size_t errlen)
{
	const char *key;
	size_t keylen, i;
	json_t *val;
	int rc;

	switch (json_typeof(j)) {
	case JSON_OBJECT:
		if ((rc = pack_special(pk, j, err, errlen)) <= 0)
			return rc;
		if (msgpack_pack_map(pk, json_object_size(j)))
			return -1;
		json_object_keylen_foreach((json_t *)j, key, keylen, val) {
			if (msgpack_pack_str_with_body(pk, key, keylen) ||
			    pack_json(pk, val, err, errlen))
				return -1;
		}
		return 0;
	case JSON_ARRAY:
		if (msgpack_pack_array(pk, json_array_size(j)))
			return -1;
		json_array_foreach(j, i, val) {
			if (pack_json(pk, val, err, errlen))
				return -1;
		}
		return 0;
	case JSON_STRING:
		return msgpack_pack_str_with_body(pk, json_string_value(j),
		    json_string_length(j));
	case JSON_INTEGER:
		return msgpack_pack_int64(pk, json_integer_value(j));
	case JSON_REAL:
		return msgpack_pack_double(pk, json_real_value(j));
	case JSON_TRUE:
		return msgpack_pack_true(pk);
	case JSON_FALSE:
		return msgpack_pack_false(pk);
	case JSON_NULL:
		return msgpack_pack_nil(pk);
	}
	return -1;
}

/* 0, or -1 with err (empty when the packer itself failed). */
static int
pack_text(msgpack_packer *pk, const char *text, bool as_string, char *err,
    size_t errlen)
{
	size_t len = strlen(text);
	json_error_t jerr;
	bool integral;
	json_t *j;
	int rc;

	if (as_string)
		return msgpack_pack_str_with_body(pk, text, len);
	if (number_syntax(text, &integral))
		return pack_number(pk, text, integral, err, errlen);
	j = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
	if (j == NULL) {
		if (json_error_code(&jerr) == json_error_numeric_overflow) {
			set_err(err, errlen, "number out of range in %s "
			    "(inside JSON, integers must fit int64)", text);
			return -1;
		}
		return msgpack_pack_str_with_body(pk, text, len);
	}
	err[0] = '\0';
	rc = pack_json(pk, j, err, errlen);
	json_decref(j);
	return rc;
}

int
mpctl_json_pack_operand(msgpack_packer *pk, const char *text,
    bool as_string, char *err, size_t errlen)
{
	msgpack_sbuffer sb;
	msgpack_packer tmp;
	int rc;

	/* Packed aside first, so that a refusal halfway leaves pk untouched. */
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&tmp, &sb, msgpack_sbuffer_write);
	err[0] = '\0';
	rc = pack_text(&tmp, text, as_string, err, errlen);
	if (rc == 0)
		rc = pk->callback(pk->data, sb.data, sb.size);
	else if (err[0] == '\0')
		set_err(err, errlen, "out of memory");
	msgpack_sbuffer_destroy(&sb);
	return rc == 0 ? 0 : -1;
}

int
mpctl_json_pack_json(msgpack_packer *pk, const char *text, size_t len,
    char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *j;
	int rc;

	err[0] = '\0';
	j = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
	if (j == NULL) {
		set_err(err, errlen, "not JSON (%s, at character %d)",
		    jerr.text, jerr.position);
		return -1;
	}
	rc = pack_json(pk, j, err, errlen);
	json_decref(j);
	if (rc != 0 && err[0] == '\0')
		set_err(err, errlen, "out of memory");
	return rc == 0 ? 0 : -1;
}

static void
print_string(FILE *f, const char *s, size_t n)
{
	unsigned char c;
	size_t i;

	putc('"', f);
	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		switch (c) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\b':
			fputs("\\b", f);
			break;
		case '\f':
			fputs("\\f", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		default:
			if (c < 0x20 || c == 0x7f)
				fprintf(f, "\\u%04x", c);
			else
				putc(c, f);
		}
	}
	putc('"', f);
}

/*
 * The fewest significant digits that read back as the same float (or
 * double), laid out as Python's repr does: positional for exponents
 * -4..15 (2.0, 1000.0, 0.0001), scientific beyond (1e+16, 1.5e-07).
 */
static void
print_real(FILE *f, double d, bool single)
{
	char buf[400];
	double back;
	int prec, exp;

	if (isnan(d)) {
		fputs("NaN", f);
		return;
	}
	if (isinf(d)) {
		fputs(d < 0 ? "-Infinity" : "Infinity", f);
		return;
	}
	for (prec = 1; prec < 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*e", prec - 1, d);
		back = strtod(buf, NULL);
		if (single ? (float)back == (float)d : back == d)
			break;
	}
	snprintf(buf, sizeof(buf), "%.*e", prec - 1, d);
	exp = atoi(strchr(buf, 'e') + 1);
	if (exp >= -4 && exp < 16) {
		snprintf(buf, sizeof(buf), "%.*f",
		    prec - 1 - exp > 0 ? prec - 1 - exp : 0, d);
		/* Keep it a float when read back: 2.0, not 2. */
		if (strchr(buf, '.') == NULL)
			strcat(buf, ".0");
	}
	fputs(buf, f);
}

static void
print_b64(FILE *f, const char *p, size_t n)
{
	unsigned char out[B64_CHUNK / 3 * 4 + 1];
	size_t k;
	int m;

	putc('"', f);
	while (n > 0) {
		k = n < B64_CHUNK ? n : B64_CHUNK;
		m = EVP_EncodeBlock(out, (const unsigned char *)p, (int)k);
		fwrite(out, 1, (size_t)m, f);
		p += k;
		n -= k;
	}
	putc('"', f);
}

static void print_any(FILE *, const msgpack_object *, bool);

static void
print_key(FILE *f, const msgpack_object *k)
{
	char *text = NULL;
	size_t len = 0;
	FILE *m;

	if (k->type == MSGPACK_OBJECT_STR) {
		print_string(f, k->via.str.ptr, k->via.str.size);
		return;
	}
	m = open_memstream(&text, &len);
	if (m == NULL) {
		/* Out of memory: the bare JSON still says what the key is. */
		mpctl_json_print(f, k);
		return;
	}
	mpctl_json_print(m, k);
	if (fclose(m) == 0)
		print_string(f, text, len);
	else
		mpctl_json_print(f, k);
	free(text);
}

static int
key_cmp(const void *a, const void *b)
{
	const msgpack_object *x = *(const msgpack_object *const *)a;
	const msgpack_object *y = *(const msgpack_object *const *)b;
	uint32_t n = x->via.str.size < y->via.str.size ? x->via.str.size :
	    y->via.str.size;
	int c = memcmp(x->via.str.ptr, y->via.str.ptr, n);

	if (c != 0)
		return c;
	return x->via.str.size < y->via.str.size ? -1 :
	    x->via.str.size > y->via.str.size;
}

/*
 * Whether a JSON object cannot hold map o exactly: a key that is not a
 * string, a key twice, or one key that reads as a special form ("$bin"...).
 */
static bool
map_needs_pairs(const msgpack_object *o)
{
	const msgpack_object **keys;
	uint32_t i, n = o->via.map.size;
	bool twice = false;

	for (i = 0; i < n; i++) {
		if (o->via.map.ptr[i].key.type != MSGPACK_OBJECT_STR)
			return true;
	}
	if (n == 1)
		return o->via.map.ptr[0].key.via.str.size > 0 &&
		    o->via.map.ptr[0].key.via.str.ptr[0] == '$';
	if (n < 2)
		return false;
	/* Out of memory: the pairs' form is exact for every map. */
	if ((keys = malloc(n * sizeof(*keys))) == NULL)
		return true;
	for (i = 0; i < n; i++)
		keys[i] = &o->via.map.ptr[i].key;
	qsort(keys, n, sizeof(*keys), key_cmp);
	for (i = 1; i < n && !twice; i++)
		twice = key_cmp(&keys[i - 1], &keys[i]) == 0;
	free(keys);
	return twice;
}

static void
print_any(FILE *f, const msgpack_object *o, bool exact)
{
	uint32_t i;

	switch (o->type) {
	case MSGPACK_OBJECT_NIL:
		fputs("null", f);
		break;
	case MSGPACK_OBJECT_BOOLEAN:
		fputs(o->via.boolean ? "true" : "false", f);
		break;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		if (exact && o->via.u64 > INT64_MAX)
			fprintf(f, "{\"$uint\":\"%" PRIu64 "\"}", o->via.u64);
		else
			fprintf(f, "%" PRIu64, o->via.u64);
		break;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		fprintf(f, "%" PRId64, o->via.i64);
		break;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		if (exact && !isfinite(o->via.f64)) {
			fputs("{\"$float\":\"", f);
			print_real(f, o->via.f64, false);
			fputs("\"}", f);
		} else
			print_real(f, o->via.f64,
			    o->type == MSGPACK_OBJECT_FLOAT32);
		break;
	case MSGPACK_OBJECT_STR:
		print_string(f, o->via.str.ptr, o->via.str.size);
		break;
	case MSGPACK_OBJECT_BIN:
		fputs("{\"$bin\":", f);
		print_b64(f, o->via.bin.ptr, o->via.bin.size);
		putc('}', f);
		break;
	case MSGPACK_OBJECT_EXT:
		fprintf(f, "{\"$ext\":[%d,", (int)o->via.ext.type);
		print_b64(f, o->via.ext.ptr, o->via.ext.size);
		fputs("]}", f);
		break;
	case MSGPACK_OBJECT_ARRAY:
		putc('[', f);
		for (i = 0; i < o->via.array.size; i++) {
			if (i > 0)
				putc(',', f);
			print_any(f, &o->via.array.ptr[i], exact);
		}
		putc(']', f);
		break;
	case MSGPACK_OBJECT_MAP:
		if (exact && map_needs_pairs(o)) {
			fputs("{\"$map\":[", f);
			for (i = 0; i < o->via.map.size; i++) {
				fputs(i > 0 ? ",[" : "[", f);
				print_any(f, &o->via.map.ptr[i].key, true);
				putc(',', f);
				print_any(f, &o->via.map.ptr[i].val, true);
				putc(']', f);
			}
			fputs("]}", f);
			break;
		}
		putc('{', f);
		for (i = 0; i < o->via.map.size; i++) {
			if (i > 0)
				putc(',', f);
			print_key(f, &o->via.map.ptr[i].key);
			putc(':', f);
			print_any(f, &o->via.map.ptr[i].val, exact);
		}
		putc('}', f);
		break;
	}
}

void
mpctl_json_print(FILE *f, const msgpack_object *o)
{
	print_any(f, o, false);
}

void
mpctl_json_print_exact(FILE *f, const msgpack_object *o)
{
	print_any(f, o, true);
}
