/*
 * registry.c: the named objects and their lifetime (DESIGN.md, Objects).
 *
 * Owns the name -> object index (an ohash whose value bytes are the
 * object pointer), object creation (implicit with a type's defaults, or
 * explicit with the options TYPE.create parsed, create.c), the defaults of
 * the obj_type operations a type leaves out, and the incremental freeing
 * of deleted objects: a deleted object that cannot be freed in one
 * slice goes on a to-free list that a zero-delay timer on server.base
 * drains one slice per loop turn, so requests keep being served meanwhile.
 */
#include <string.h>

#include "log.h"
#include "mem.h"
#include "ohash.h"
#include "registry.h"
#include "server.h"

TAILQ_HEAD(object_list, object);

/* An ephemeral object's tie to the connection that created it. */
struct owner {
	struct conn *c;
	struct object *o;
	LIST_ENTRY(owner) link;   /* c->owned */
};

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

const struct obj_type *
registry_type_by_code(unsigned code)
{
	size_t i;

	for (i = 0; types[i] != NULL; i++) {
		if (types[i]->jcode == code)
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

/* A new object, not in the registry yet, with opts (optlen bytes) kept
 * after its name. */
static struct object *
registry_alloc(const struct obj_type *t, const char *name, size_t len,
    const uint8_t *opts, size_t optlen)
{
	struct object *o;

	if (len > MPMGR_MAX_NAME || optlen > UINT32_MAX)
		fatalx("%s: name of %zu bytes, options of %zu", __func__, len,
		    optlen);
	o = xcalloc(1, sizeof *o + len + 1 + optlen);
	o->type = t;
	TAILQ_INIT(&o->waiters);
	LIST_INIT(&o->holds);
	o->namelen = (uint8_t)len;
	memcpy(o->name, name, len);
	if (optlen != 0)
		memcpy(o->name + len + 1, opts, optlen);
	o->optlen = (uint32_t)optlen;
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
registry_detached(const struct obj_type *t, const char *name, size_t len,
    const struct optval *v, const uint8_t *opts, size_t optlen,
    bool explicit)
{
	struct object *o = registry_alloc(t, name, len, opts, optlen);

	o->explicit = explicit;
	t->init(o, v);
	return o;
}

void
registry_attach(struct object *o)
{
	registry_insert(o);
}

struct object *
registry_add(const struct obj_type *t, const char *name, size_t len)
{
	struct optval v[OPTS_MAX];
	struct object *o;
	size_t i;

	for (i = 0; t->opts != NULL && t->opts[i].key != NULL; i++) {
		if (t->opts[i].flags & OPT_REQUIRED)
			fatalx("%s: %s has no defaults", __func__, t->name);
	}
	options_defaults(t, v);
	o = registry_detached(t, name, len, v, NULL, 0, false);
	registry_insert(o);
	return o;
}

struct object *
registry_create(const struct obj_type *t, const char *name, size_t len,
    const struct optval *v, const uint8_t *opts, size_t optlen)
{
	struct object *o = registry_detached(t, name, len, v, opts, optlen,
	    true);

	registry_insert(o);
	return o;
}

/* Free at most about budget elements of o's data: true when all is. */
static bool
registry_free_data(struct object *o, size_t budget)
{
	if (o->type->free_step != NULL)
		return o->type->free_step(o, budget);
	xfree(o->data);
	return true;
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

	if (registry_free_data(o, REGISTRY_FREE_SLICE)) {
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

void
registry_discard_detached(struct object *o)
{
	registry_discard(o);
}

bool
registry_free_step(size_t budget)
{
	struct object *o = TAILQ_FIRST(&dying);

	if (o != NULL && registry_free_data(o, budget)) {
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
	if (o->owner != NULL) {
		LIST_REMOVE(o->owner, link);
		xfree(o->owner);
		o->owner = NULL;
	}
	if (!ohash_del(names, o->name, o->namelen, NULL))
		fatalx("%s: '%.*s' is not registered", __func__,
		    (int)o->namelen, o->name);
	TAILQ_REMOVE(&objects, o, link);
	registry_discard(o);
}

void
registry_own(struct object *o, struct conn *c)
{
	struct owner *ow;

	if (!o->explicit || o->owner != NULL)
		fatalx("%s: '%.*s' cannot become ephemeral", __func__,
		    (int)o->namelen, o->name);
	ow = xmalloc(sizeof *ow);
	ow->c = c;
	ow->o = o;
	LIST_INSERT_HEAD(&c->owned, ow, link);
	o->owner = ow;
}

struct conn *
registry_owner(const struct object *o)
{
	return o->owner != NULL ? o->owner->c : NULL;
}

struct object *
registry_owned(struct conn *c)
{
	struct owner *ow = LIST_FIRST(&c->owned);

	return ow != NULL ? ow->o : NULL;
}

bool
registry_settle(struct object *o)
{
	if (o->explicit || o->nwaiters != 0 || !LIST_EMPTY(&o->holds) ||
	    o->type->is_initial == NULL || !o->type->is_initial(o))
		return false;
	registry_delete(o);
	return true;
}

void
registry_defer_free(const struct obj_type *t, void *data)
{
	struct object *husk = registry_alloc(t, "", 0, NULL, 0);

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
	return sizeof *o + o->namelen + 1 + o->optlen + mem_usable(o->owner) +
	    (o->type->mem != NULL ? o->type->mem(o) : mem_usable(o->data));
}

uint64_t
registry_size(const struct object *o)
{
	return o->type->size != NULL ? o->type->size(o) : 1;
}
