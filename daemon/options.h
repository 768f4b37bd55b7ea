/*
 * options.h: the create options each type declares as a table, parsed,
 * compared and reported here once for every type.
 *
 * A type lists its options in obj_type.opts, one struct opt each: {key,
 * kind, range, default, required}. TYPE.create's map is parsed against
 * that table (BADARG naming the option and what it must be), then the
 * type's own check runs for what one option cannot say alone (array's
 * "exactly one of length or items", condition's lock that must be a lock).
 * The parsed options become the object's options map: every option given
 * or defaulted, in table order, canonical. Two creates are the same when
 * their maps are the same bytes (EXISTS otherwise), and obj.info reports
 * that map. An object created implicitly has its type's defaults.
 */
#ifndef MPMGR_OPTIONS_H
#define MPMGR_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "../proto/buf.h"
#include "../proto/scan.h"

struct object;
struct obj_type;
struct req;

enum opt_kind {
	OPT_BOOL,                 /* true or false */
	OPT_UINT,                 /* an int from min to max */
	OPT_SIZE,                 /* an int, a negative one counting as 0
				     (Python's maxsize <= 0: unbounded) */
	OPT_VALUE,                /* any value, kept canonical; default nil */
	OPT_NAME,                 /* an object's name: a str of 1 to 255 bytes */
	OPT_CHAR,                 /* a str of one of the characters in
				     .choices */
	OPT_ARRAY                 /* an array; its elements are the type's
				     check's to judge */
};

#define OPT_REQUIRED  0x01        /* create must give it */
#define OPT_NODEFAULT 0x02        /* optional, and absent unless given */

struct opt {
	const char *key;          /* NULL ends a table */
	enum opt_kind kind;
	unsigned flags;           /* OPT_* */
	uint64_t min, max;        /* OPT_UINT */
	uint64_t def;             /* the default of OPT_BOOL, OPT_UINT,
				     OPT_SIZE */
	const char *choices;      /* OPT_CHAR */
};

/* Most options a type may declare. */
#define OPTS_MAX 8

/* One option as parsed, at the index of its struct opt. */
struct optval {
	bool given;               /* in the request's map */
	bool present;             /* in the options map: given or defaulted
				     (a type's check may drop a default) */
	uint64_t u;               /* OPT_BOOL (0 or 1), OPT_UINT, OPT_SIZE */
	struct mpv v;             /* as given: a view into the request */
	const uint8_t *canon;     /* set by a type's check: these canonical
				     bytes stand for v in the options map */
	size_t canonlen;
};

/*
 * TYPE.create's options, param 1 of req (absent or nil: none), for req's
 * type: v[i] for the type's opts[i], then the type's check; and the
 * registry's own option every type takes, *ephemeral (false unless
 * given). 0, or -1 after replying (BADARG; whatever the type's check
 * answers).
 */
int options_parse(struct req *req, struct optval *v, bool *ephemeral);
/* The same for the options map (NULL or nil: none) of an object of type
 * t, with its check (obj.restore). */
int options_parse_map(struct req *req, const struct obj_type *t,
    const struct mpv *map, struct optval *v, bool *ephemeral);
/*
 * t's options map as stored (options_encode) back into v: what a replay
 * of TYPE.create hands the type's init. The type's check does not run
 * (the map passed it once). 0, or -1 with err.
 */
int options_from_map(const struct obj_type *t, const struct mpv *map,
    struct optval *v, char *err, size_t errlen);
/* v as t's defaults: what an implicit creation uses. */
void options_defaults(const struct obj_type *t, struct optval *v);
/* Append t's options map of v to b: present options, in table order. */
void options_encode(const struct obj_type *t, const struct optval *v,
    struct buf *b);
/*
 * o's options map: the bytes it was created with, or its type's defaults
 * encoded into scratch (reset first). Valid until scratch's next use.
 */
void options_of(const struct object *o, struct buf *scratch,
    const uint8_t **bytes, size_t *n);
/* Pack o's options map (obj.info "options"). */
void options_pack(const struct object *o, msgpack_packer *pk);

#endif
