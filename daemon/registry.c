/*
 * registry.c: the named objects and their lifetime (DESIGN.md, Objects).
 *
 * Owns the name -> object index (an ohash whose value bytes are the
 * object pointer), the list of types, TYPE.create, and the incremental
 * freeing of deleted objects: a deleted object that cannot be freed in one
 * slice goes on a to-free list that a zero-delay timer on server.base
 * drains one slice per loop turn, so requests keep being served meanwhile.
 */
#include <string.h>

#include "dispatch.h"
#include "log.h"
#include "mem.h"
#include "ohash.h"
#include "registry.h"
#include "reply.h"

TAILQ_HEAD(object_list, object);

/*
 * names finds an object; objects holds them in creation order (and keeps
 * them reachable for leak checkers, which do not see the pointers stored
 * unaligned in names' entries).
 */
static struct ohash *names;
static const struct obj_type *const *types; /* dispatch.c's, NULL-ended */
static struct object_list objects = TAILQ_HEAD_INITIALIZER(objects);
static struct object_list dying = TAILQ_HEAD_INITIALIZER(dying);
static struct event *free_ev; /* created on the first deferred free */
/* Bumped by every delete: registry_lookup_cached's caches older than it
 * may name a freed object. Starts above the 0 of a zeroed cache. */
static uint64_t generation = 1;

void
registry_init(const struct obj_type *const *t)
{
	names = ohash_new();
	types = t;
}

const struct obj_type *
registry_type(const char *name, size_t len)
{
	size_t i;

	for (i = 0; types[i] != NULL; i++) {
		if (strlen(types[i]->name) == len &&
		    memcmp(types[i]->name, name, len) == 0)
			return types[i];
	}
	return NULL;
}

static struct object *
registry_entry_object(const struct oh_entry *e)
{
	struct object *o;

	memcpy(&o, e->data + e->klen, sizeof o);
	return o;
}

struct object *
registry_lookup(const char *name, size_t len)
{
	struct oh_entry *e;

	e = ohash_get(names, name, len);
	return e == NULL ? NULL : registry_entry_object(e);
}

struct object *
registry_lookup_cached(const char *name, size_t len, struct object **cache,
    uint64_t *gen)
{
	struct object *o = *cache;

	if (o != NULL && *gen == generation && o->namelen == len &&
	    memcmp(o->name, name, len) == 0)
		return o;
	o = registry_lookup(name, len);
	if (o != NULL) {
		*cache = o;
		*gen = generation;
	}
	return o;
}

static struct object *
registry_alloc(const struct obj_type *t, const char *name, size_t len)
{
	struct object *o;

	if (len > MPMGR_MAX_NAME)
		fatalx("%s: name of %zu bytes", __func__, len);
	o = xcalloc(1, sizeof *o + len + 1);
	o->type = t;
	TAILQ_INIT(&o->waiters);
	LIST_INIT(&o->holds);
	o->namelen = (uint8_t)len;
	memcpy(o->name, name, len);
	return o;
}

static void
registry_insert(struct object *o)
{
	bool added;

	ohash_set(names, o->name, o->namelen, &o, sizeof o, &added);
	if (!added)
		fatalx("%s: '%.*s' exists", __func__, (int)o->namelen, o->name);
	TAILQ_INSERT_TAIL(&objects, o, link);
}

struct object *
registry_add(const struct obj_type *t, const char *name, size_t len)
{
	struct object *o = registry_alloc(t, name, len);

	if (t->create(o, NULL, NULL) != 0)
		fatalx("%s: %s has no defaults", __func__, t->name);
	registry_insert(o);
	return o;
}

static void
registry_free_cb(evutil_socket_t fd, short events, void *arg)
{
	static const struct timeval now = { 0, 0 };

	if (!registry_free_step(REGISTRY_FREE_SLICE))
		evtimer_add(free_ev, &now);
}

/* Free o now if one slice does it, else queue the rest for the timer. */
static void
registry_discard(struct object *o)
{
	static const struct timeval now = { 0, 0 };

	if (o->type->free_step(o, REGISTRY_FREE_SLICE)) {
		xfree(o);
		return;
	}
	TAILQ_INSERT_TAIL(&dying, o, link);
	if (free_ev == NULL) {
		if (server.base == NULL ||
		    (free_ev = evtimer_new(server.base, registry_free_cb,
		    NULL)) == NULL)
			fatalx("%s: no event loop to free on", __func__);
	}
	if (!evtimer_pending(free_ev, NULL))
		evtimer_add(free_ev, &now);
}

bool
registry_free_step(size_t budget)
{
	struct object *o = TAILQ_FIRST(&dying);

	if (o != NULL && o->type->free_step(o, budget)) {
		TAILQ_REMOVE(&dying, o, link);
		xfree(o);
	}
	return TAILQ_EMPTY(&dying);
}

void
registry_delete(struct object *o)
{
	if (o->nwaiters != 0 || !LIST_EMPTY(&o->holds))
		fatalx("%s: '%.*s' still has waiters or holders", __func__,
		    (int)o->namelen, o->name);
	generation++;
	if (!ohash_del(names, o->name, o->namelen, NULL))
		fatalx("%s: '%.*s' is not registered", __func__,
		    (int)o->namelen, o->name);
	TAILQ_REMOVE(&objects, o, link);
	registry_discard(o);
}

bool
registry_settle(struct object *o)
{
	if (o->explicit || o->nwaiters != 0 || !LIST_EMPTY(&o->holds) ||
	    !o->type->is_initial(o))
		return false;
	registry_delete(o);
	return true;
}

void
registry_defer_free(const struct obj_type *t, void *data)
{
	struct object *husk = registry_alloc(t, "", 0);

	husk->data = data;
	registry_discard(husk);
}

size_t
registry_count(void)
{
	return ohash_len(names);
}

struct object *
registry_next(const struct object *prev)
{
	return prev == NULL ? TAILQ_FIRST(&objects) : TAILQ_NEXT(prev, link);
}

struct registry_scan_arg {
	void (*fn)(void *, struct object *);
	void *arg;
};

static void
registry_scan_one(void *arg, const struct oh_entry *e)
{
	struct registry_scan_arg *a = arg;

	a->fn(a->arg, registry_entry_object(e));
}

uint64_t
registry_scan(uint64_t cursor, size_t count,
    void (*fn)(void *arg, struct object *o), void *arg)
{
	struct registry_scan_arg a = { fn, arg };

	return ohash_scan(names, cursor, count, registry_scan_one, &a);
}

size_t
registry_object_mem(const struct object *o)
{
	return sizeof *o + o->namelen + 1 + o->type->mem(o);
}

/*
 * TYPE.create name [options]. Equal parameters make it idempotent, and it
 * makes an implicit object explicit (it stays until obj.delete); other
 * parameters are EXISTS. The options are parsed into a scratch object so
 * that each type compares parameters, not option spellings.
 */
void
registry_verb_create(struct req *req)
{
	const struct obj_type *t = req->method->type;
	const struct mpv *opts = NULL;
	struct object *o;

	if (req->argc > 1 && req->argv[1].type != MPV_NIL) {
		if (req->argv[1].type != MPV_MAP) {
			reply_error(req, PERR_BADARG, "%s: options must be a map",
			    req->method->name);
			return;
		}
		opts = &req->argv[1];
	}
	o = registry_alloc(t, req_name(req), (size_t)req_namelen(req));
	if (t->create(o, opts, req) != 0) {
		xfree(o);
		return;
	}
	if (req->obj == NULL) {
		o->explicit = true;
		registry_insert(o);
		req->obj = o;
		reply_nil(req);
		return;
	}
	if (t->same_options(req->obj, o)) {
		req->obj->explicit = true;
		reply_nil(req);
	} else
		reply_error(req, PERR_EXISTS, "'%.*s' exists with other options",
		    req_namelen(req), req_name(req));
	registry_discard(o);
}
