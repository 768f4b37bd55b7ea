/*
 * dispatch.h: how a request reaches its handler, and how handlers answer.
 *
 * Every method is a `struct method` in a static const table of the file that
 * implements it (one table per object type, one for obj.* and sys.*).
 * dispatch_request() checks what every method shares once, before any
 * handler runs: the method exists (NOMETHOD), the param count (BADARG), the
 * ADMIN right (AUTH), the object name (BADARG), the object's type
 * (WRONGTYPE) and the memory ceiling (LIMIT, for what makes memory grow:
 * the catalogue's MF_GROWS, and creating a missing object). MF_CREATES
 * methods get a missing object created first; after a write the registry
 * removes an implicit object that is back in its initial state.
 *
 * A handler answers exactly once, through the reply_* helpers (reply.h),
 * before it returns, or parks (waiter.h). Errors never close the
 * connection.
 */
#ifndef MPMGR_DISPATCH_H
#define MPMGR_DISPATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "../proto/mpmgr_methods.h"
#include "create.h"
#include "mpmgrd.h"

struct object;
struct obj_type;
struct req;

/* Most params a method may take, the object name included. */
#define DISPATCH_MAX_ARGS 8

/*
 * A method as dispatch serves it: its catalogue row (proto/mpmgr_methods.h:
 * name, arity, MF_* flags, params text, summary) with the handler and the
 * type of the file that implements it.
 */
struct method {
	const char *name;           /* "dict.get"; NULL ends a table */
	void (*handler)(struct req *req);
	const struct obj_type *type; /* NULL for obj.* and sys.* */
	enum mpmgr_method_id id;    /* its row: catalogue_methods[id] */
	unsigned min_args;          /* params, the object name included */
	unsigned max_args;
	unsigned flags;             /* MF_* */
	const char *params;         /* "name, key[, default]" for BADARG text */
	const char *summary;        /* one line: what it answers */
};

/*
 * A table is its type's catalogue list expanded with a row macro, so that
 * nothing about a method but its handler is written in daemon/:
 *
 *	static const struct method dict_methods[] = {
 *		MPMGR_METHODS_DICT(DISPATCH_ROW)
 *		DISPATCH_END
 *	};
 *
 * DISPATCH_ROW serves TYPE.VERB with the function TYPE_VERB of TYPE's
 * type (TYPE_type), and every TYPE.create with create_verb (create.c): a
 * row without its handler does not compile, and a handler without its
 * row is an unused static function (-Werror). DISPATCH_METHOD names the
 * handlers' prefix and the type itself, for tables that share handlers
 * (lock and rlock) or serve no type (obj.*, sys.*). dispatch_init checks
 * that every catalogue row is served exactly once.
 */
#define DISPATCH_METHOD(pfx, tp, t, v, mn, mx, fl, p, s) \
	{ .name = #t "." #v, .handler = DISPATCH_HANDLER(pfx, v), \
	  .type = (tp), .id = MPMGR_MID_##t##_##v, .min_args = (mn), \
	  .max_args = (mx), .flags = (fl), .params = (p), .summary = (s) },
#define DISPATCH_ROW(t, v, ...) \
	DISPATCH_METHOD(t, &t##_type, t, v, __VA_ARGS__)
#define DISPATCH_END { .name = NULL }

/*
 * PFX_VERB, except for the verbs that have a DISPATCH_IS_<verb>: that
 * expands to two arguments and pushes its handler into second place.
 */
#define DISPATCH_HANDLER(pfx, v) \
	DISPATCH_SECOND(DISPATCH_IS_##v, pfx##_##v, ~)
#define DISPATCH_IS_create ~, create_verb
#define DISPATCH_SECOND(...) DISPATCH_SECOND_(__VA_ARGS__)
#define DISPATCH_SECOND_(a, b, ...) b

/*
 * One request. Its first part is its reply-to record: where and to what
 * the answer goes, all that a parked request keeps of itself (struct
 * waiter). Its params are views into the request frame, in an array of
 * dispatch_request's: they live only while the handler runs, and a
 * waiter's copy has none (argc 0, argv NULL).
 */
struct req {
	struct conn *c;
	const struct method *method;
	struct object *obj;         /* MF_OBJ: the object, NULL if missing (a
				       handler that deletes it sets NULL) */
	uint32_t msgid;
	bool replied;
	bool parked;                /* waiter_park took it: answered later */
	uint16_t argc;
	struct mpv *argv;           /* argc params */
};

/* The name of req's object (MF_OBJ methods): params[0]'s bytes. */
static inline const char *req_name(const struct req *req)
{
	return (const char *)req->argv[0].ptr;
}
static inline int req_namelen(const struct req *req)
{
	return (int)req->argv[0].len;
}

/* The method called name (len bytes, not NUL-terminated), or NULL. */
const struct method *dispatch_lookup(const char *name, size_t len);
/* Walk every method in table order: pos starts at 0; NULL at the end. */
const struct method *dispatch_next(size_t *pos);

/* obj.* and sys.* (sys.c); each type's table hangs off its obj_type. */
extern const struct method sys_methods[];

#endif
