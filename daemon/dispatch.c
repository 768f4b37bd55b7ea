/*
 * dispatch.c: from a parsed request to its handler and back.
 *
 * Owns the method index (built once from every type's table and
 * sys_methods, and checked to serve every row of the method catalogue
 * exactly once), the checks every method shares, and the reply helpers.
 * Promises the connection layer: every request gets exactly one reply
 * appended to c->out, or is parked (waiter.c) and answered later; nothing
 * a client sends makes dispatch close its connection. Replies of a known
 * size are checked against the output limit before they are built
 * (reply.h: reply_fits, reply_fits_now); conn.c replaces any other reply
 * larger than the limit by a LIMIT error.
 *
 * The journal's records are made by the types where state changes
 * (journal.h); what dispatch holds them to is the catalogue: a method
 * without MF_WRITE makes none (fatal otherwise, checked while a journal
 * is kept), but sys.cancel, whose removal of a parked request may let
 * the requests behind it proceed.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../proto/mpmgr_methods.h"
#include "create.h"
#include "dispatch.h"
#include "fence.h"
#include "journal.h"
#include "log.h"
#include "mem.h"
#include "registry.h"
#include "reply.h"

/*
 * The method index: every method in table order (dispatch_next), and an
 * open-addressing table over their names, at most a quarter full. Names
 * come from our own static tables, so a cheap unkeyed hash is safe here:
 * a client chooses only what it looks up, never what is stored, and cannot
 * lengthen a chain. A name of 8 to 16 bytes is entirely in its first and
 * last 8 (overlapping) bytes, which the slot keeps: comparing those two
 * words is comparing the names.
 */
struct method_slot {
	uint64_t head;         /* the name's first 8 bytes, if it has 8 */
	uint64_t tail;         /* its last 8 */
	uint32_t hash;
	uint16_t len;
	uint16_t pos;          /* 1 + index into methods; 0 empty */
};
static const struct method **methods;
static size_t nmethods;
static struct method_slot *slots;
static size_t slots_mask;
static size_t name_max;        /* longer names are no method */

/* Every object type: one line per obj_<type>.c. */
static const struct obj_type *const types[] = {
	&dict_type,
	&value_type,
	&list_type,
	&array_type,
	&queue_type,
	&event_type,
	&barrier_type,
	&lock_type,
	&rlock_type,
	&semaphore_type,
	&condition_type,
	&pipe_type,
	&process_type,
	&pool_type,
	NULL
};

/* Longest piece of an unknown method name quoted back in NOMETHOD. */
#define QUOTE_MAX 64

/* Hash name into *key's hash, head and tail. */
static void
dispatch_key(const char *name, size_t len, struct method_slot *key)
{
	uint64_t x;
	uint32_t h = 2166136261u;
	size_t i;

	key->len = (uint16_t)len;
	if (len >= 8) {
		memcpy(&key->head, name, sizeof key->head);
		memcpy(&key->tail, name + len - 8, sizeof key->tail);
		x = key->head * UINT64_C(0x9e3779b97f4a7c15) +
		    key->tail * UINT64_C(0xc2b2ae3d27d4eb4f) + len;
		x ^= x >> 31;
		x *= UINT64_C(0xff51afd7ed558ccd);
		x ^= x >> 29;
		key->hash = (uint32_t)x;
		return;
	}
	/* FNV-1a for the short ones (no method has such a name today). */
	key->head = key->tail = 0;
	for (i = 0; i < len; i++) {
		h ^= (uint8_t)name[i];
		h *= 16777619u;
	}
	key->hash = h;
}

/*
 * What dispatch relies on in every catalogue row, checked when this file
 * compiles: an arity it can hold, a name param for MF_OBJ, MF_CREATES only
 * on object writes, MF_FREES only on writes, and words for help and
 * BADARG texts.
 */
#define DISPATCH_ROW_CHECK(t, v, mn, mx, fl, p, s) \
	_Static_assert((mn) <= (mx) && (mx) <= DISPATCH_MAX_ARGS, \
	    #t "." #v ": bad arity"); \
	_Static_assert(!((fl) & MF_OBJ) || (mn) >= 1, \
	    #t "." #v ": MF_OBJ without a name param"); \
	_Static_assert(!((fl) & MF_CREATES) || \
	    ((fl) & (MF_OBJ | MF_WRITE)) == (MF_OBJ | MF_WRITE), \
	    #t "." #v ": MF_CREATES needs MF_OBJ and MF_WRITE"); \
	_Static_assert(!((fl) & MF_FREES) || ((fl) & MF_WRITE), \
	    #t "." #v ": MF_FREES without MF_WRITE"); \
	_Static_assert(sizeof(s) > 1, #t "." #v ": no summary");
MPMGR_METHODS(DISPATCH_ROW_CHECK)
#undef DISPATCH_ROW_CHECK

/* What only a table can get wrong: its row and its type. */
static void
dispatch_check_method(const struct method *m)
{
	const char *why = NULL;

	if (m->handler == NULL)
		why = "no handler";
	else if ((unsigned)m->id >= MPMGR_MID_COUNT ||
	    strcmp(catalogue_methods[m->id].name, m->name) != 0)
		why = "not its catalogue row";
	else if ((m->flags & MF_CREATES) && m->type == NULL)
		why = "MF_CREATES without a type";
	if (why != NULL)
		fatalx("%s: method %s: %s", __func__, m->name, why);
}

static size_t
dispatch_count(const struct method *table)
{
	size_t n = 0;

	while (table[n].name != NULL)
		n++;
	return n;
}

static void
dispatch_add_table(const struct method *table)
{
	const struct method *m;
	struct method_slot key;
	size_t len, i;

	for (m = table; m->name != NULL; m++) {
		dispatch_check_method(m);
		len = strlen(m->name);
		if (len > UINT16_MAX)
			fatalx("%s: method name of %zu bytes", __func__, len);
		if (dispatch_lookup(m->name, len) != NULL)
			fatalx("%s: method %s defined twice", __func__, m->name);
		dispatch_key(m->name, len, &key);
		for (i = key.hash & slots_mask; slots[i].pos != 0;
		    i = (i + 1) & slots_mask)
			;
		methods[nmethods++] = m;
		key.pos = (uint16_t)nmethods;
		slots[i] = key;
		if (len > name_max)
			name_max = len;
	}
}

/* Each type's journal code is its own, and it has ops and a dump or
 * neither (neither when a restart drops it). */
static void
dispatch_check_types(void)
{
	uint32_t seen = 1u << JC_REGISTRY;
	size_t i;

	for (i = 0; types[i] != NULL; i++) {
		const struct obj_type *t = types[i];

		if (t->jcode > JC_MAX || (seen & (1u << t->jcode)))
			fatalx("%s: %s: journal code %u taken or out of range",
			    __func__, t->name, t->jcode);
		seen |= 1u << t->jcode;
		if ((t->jops == NULL) != (t->dump == NULL))
			fatalx("%s: %s: journal ops without a dump, or the "
			    "other way round", __func__, t->name);
		if (t->dropped && t->jops != NULL)
			fatalx("%s: %s: journal ops of a type a restart drops",
			    __func__, t->name);
	}
}

void
dispatch_init(void)
{
	size_t i, n, size = 16;

	if (methods != NULL)
		fatalx("%s: called twice", __func__);
	dispatch_check_types();
	registry_init(types);
	waiter_init();
	/* The journal's counters, before a replay reads their records. */
	fence_register();
	n = dispatch_count(sys_methods);
	for (i = 0; types[i] != NULL; i++)
		n += dispatch_count(types[i]->methods);
	if (n >= UINT16_MAX)
		fatalx("%s: %zu methods", __func__, n);
	/* At most a quarter full: a miss ends at an empty slot at once. */
	while (size < 4 * n)
		size *= 2;
	methods = xcalloc(n, sizeof *methods);
	slots = xcalloc(size, sizeof *slots);
	slots_mask = size - 1;
	for (i = 0; types[i] != NULL; i++)
		dispatch_add_table(types[i]->methods);
	dispatch_add_table(sys_methods);
	/* Every catalogue row served, by exactly one method (the tables hold
	 * nothing else, and no name twice). */
	for (i = 0; i < MPMGR_MID_COUNT; i++) {
		const char *name = catalogue_methods[i].name;
		const struct method *m = dispatch_lookup(name, strlen(name));

		if (m == NULL || m->id != (enum mpmgr_method_id)i)
			fatalx("%s: %s has no handler", __func__, name);
	}
	if (nmethods != MPMGR_MID_COUNT)
		fatalx("%s: %zu methods for %d catalogue rows", __func__,
		    nmethods, MPMGR_MID_COUNT);
}

const struct method *
dispatch_lookup(const char *name, size_t len)
{
	const struct method_slot *sl;
	const struct method *m;
	struct method_slot key;
	size_t i;

	if (slots == NULL || len > name_max)
		return NULL;
	dispatch_key(name, len, &key);
	for (i = key.hash & slots_mask;; i = (i + 1) & slots_mask) {
		sl = &slots[i];
		if (sl->pos == 0)
			return NULL;
		if (sl->hash != key.hash || sl->len != len)
			continue;
		m = methods[sl->pos - 1];
		if (len >= 8 && len <= 16) {
			if (sl->head == key.head && sl->tail == key.tail)
				return m;
		} else if (memcmp(m->name, name, len) == 0)
			return m;
	}
}

const struct method *
dispatch_next(size_t *pos)
{
	return *pos < nmethods ? methods[(*pos)++] : NULL;
}

/* "dict.get takes 2 or 3 params (name, key[, default])" */
static void
dispatch_arity_error(struct req *req)
{
	const struct method *m = req->method;

	if (m->max_args == 0)
		reply_error(req, PERR_BADARG, "%s takes no params", m->name);
	else if (m->min_args == m->max_args)
		reply_error(req, PERR_BADARG, "%s takes %u param%s (%s)",
		    m->name, m->min_args, m->min_args == 1 ? "" : "s",
		    m->params);
	else
		reply_error(req, PERR_BADARG, "%s takes %u %s %u params (%s)",
		    m->name, m->min_args,
		    m->max_args == m->min_args + 1 ? "or" : "to", m->max_args,
		    m->params);
}

/*
 * Past --max-memory only what makes memory grow is refused: a write that
 * stores (the catalogue's MF_GROWS), or one that would create a missing
 * object (MF_CREATES, TYPE.create; a blocking read that parks on a missing
 * object still creates it: one per connection at most). Releases, wakes,
 * acquires of existing objects, sorts and deletes run, so that a full
 * daemon can still be used and emptied. Asked only past the ceiling.
 */
static bool
dispatch_grows(const struct method *m, const struct object *o)
{
	return (m->flags & MF_GROWS) || (o == NULL &&
	    ((m->flags & MF_CREATES) || m->handler == create_verb));
}

/* The checks every method shares, then its handler. */
static void
dispatch_run(struct req *req, const struct msg *msg)
{
	const struct method *m;
	const struct mpv *name = &req->argv[0];
	struct object *o = NULL;
	struct mpv_iter it;
	struct conn *c = req->c;

	m = dispatch_lookup((const char *)msg->method.ptr, msg->method.len);
	if (m == NULL) {
		reply_error(req, PERR_NOMETHOD, "no method '%.*s'",
		    (int)(msg->method.len > QUOTE_MAX ? QUOTE_MAX :
		    msg->method.len), (const char *)msg->method.ptr);
		return;
	}
	req->method = m;
	if (msg->params.len < m->min_args || msg->params.len > m->max_args) {
		dispatch_arity_error(req);
		return;
	}
	mpv_iter_init(&it, &msg->params);
	for (req->argc = 0; req->argc < msg->params.len; req->argc++) {
		const struct mpv *v = &req->argv[req->argc];

		mpv_iter_next(&it, &req->argv[req->argc]);
		/* The frame may nest deeper than a value (its envelope). */
		if ((v->type == MPV_ARRAY || v->type == MPV_MAP) &&
		    mpv_depth(v) > MPMGR_MAX_DEPTH) {
			reply_error(req, PERR_BADARG, "%s: param %u nests "
			    "deeper than %d", m->name, req->argc + 1,
			    MPMGR_MAX_DEPTH);
			return;
		}
	}

	if ((m->flags & MF_ADMIN) && c->uid != 0 && c->uid != server.uid) {
		reply_error(req, PERR_AUTH, "%s needs root or the daemon's user",
		    m->name);
		return;
	}
	if (m->flags & MF_OBJ) {
		if (name->type != MPV_STR || name->len == 0 ||
		    name->len > MPMGR_MAX_NAME) {
			reply_error(req, PERR_BADARG, "%s: the object name must "
			    "be a str of 1 to %d bytes", m->name,
			    MPMGR_MAX_NAME);
			return;
		}
		o = registry_lookup_cached((const char *)name->ptr, name->len,
		    &c->last_obj, &c->last_obj_gen);
		if (o != NULL && m->type != NULL && o->type != m->type) {
			reply_error(req, PERR_WRONGTYPE, "'%.*s' is a %s, not "
			    "a %s", (int)name->len, (const char *)name->ptr,
			    o->type->name, m->type->name);
			return;
		}
	}
	if (server.max_memory != 0 && mem_used() > server.max_memory &&
	    dispatch_grows(m, o)) {
		reply_error(req, PERR_LIMIT, "%s: the daemon holds %zu bytes, "
		    "past its ceiling of %zu: only what frees or keeps memory "
		    "runs", m->name, mem_used(), server.max_memory);
		return;
	}
	if (o == NULL && (m->flags & MF_CREATES))
		o = registry_add(m->type, (const char *)name->ptr, name->len);
	req->obj = o;
	if (journal_on && !(m->flags & MF_WRITE) &&
	    m->id != MPMGR_MID_sys_cancel) {
		uint64_t before = journal_records();

		m->handler(req);
		if (journal_records() != before)
			fatalx("%s: %s journaled a change without MF_WRITE",
			    __func__, m->name);
	} else
		m->handler(req);
	if (req->obj != NULL && (m->flags & MF_WRITE))
		registry_settle(req->obj);
}

int
dispatch_request(struct conn *c, const struct msg *msg)
{
	struct mpv argv[DISPATCH_MAX_ARGS];
	struct req req;

	req.c = c;
	req.msgid = msg->msgid;
	req.method = NULL;
	req.argc = 0;
	req.argv = argv;
	req.obj = NULL;
	req.replied = false;
	req.parked = false;
	server.ops++;
	c->ops++;

	dispatch_run(&req, msg);
	if (req.parked)
		return DISPATCH_PARKED;
	if (!req.replied)
		fatalx("%s: %s answered nothing", __func__, req.method->name);
	return DISPATCH_DONE;
}

void
dispatch_conn_closed(struct conn *c)
{
	waiter_conn_closed(c);
}

void
dispatch_shutdown(void)
{
	waiter_shutdown();
}
