/*
 * sys.c: the verbs about the registry (obj.*) and the server (sys.*).
 *
 * obj.list answers every object at once (O(n) by nature); obj.scan walks
 * the names in slices for registries too large for one reply. obj.delete
 * frees a large object in slices after answering (registry.c).
 * sys.cancel takes back a parked request of the asking connection.
 * sys.save parks until the compaction it asked for is over.
 */
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "dispatch.h"
#include "journal.h"
#include "log.h"
#include "mem.h"
#include "registry.h"
#include "reply.h"
#include "waiter.h"

/* Objects found by one obj.scan, reused from request to request. */
static struct {
	struct object **o;
	size_t n;
	size_t cap;
} found;

/* What sys_pack_object packs for o. */
static size_t
sys_object_size(const struct object *o)
{
	size_t tlen = strlen(o->type->name);

	return 1 + msg_str_head_size(o->namelen) + o->namelen +
	    msg_str_head_size(tlen) + tlen + msg_uint_size(registry_size(o));
}

/* [name, type, size] */
static void
sys_pack_object(msgpack_packer *pk, const struct object *o)
{
	msgpack_pack_array(pk, 3);
	msgpack_pack_str(pk, o->namelen);
	msgpack_pack_str_body(pk, o->name, o->namelen);
	msg_pack_cstr(pk, o->type->name);
	msgpack_pack_uint64(pk, registry_size(o));
}

static void
sys_obj_list(struct req *req)
{
	const struct obj_type *t = NULL;
	const struct mpv *arg = &req->argv[0];
	struct object *o;
	msgpack_packer *pk;
	size_t n = 0, size = 0;

	if (req->argc > 0 && arg->type != MPV_NIL) {
		if (arg->type == MPV_STR)
			t = registry_type((const char *)arg->ptr, arg->len);
		if (t == NULL) {
			reply_error(req, PERR_BADARG, "%s: no such type",
			    req->method->name);
			return;
		}
	}
	/* Measured before it is built: a large registry is refused (LIMIT)
	 * without building a reply to throw away; obj.scan pages it. */
	for (o = registry_next(NULL); o != NULL; o = registry_next(o)) {
		if (t == NULL || o->type == t) {
			n++;
			size += sys_object_size(o);
		}
	}
	if (!reply_fits(req, msg_array_head_size(n) + size))
		return;
	pk = reply_begin(req);
	msgpack_pack_array(pk, n);
	for (o = registry_next(NULL); o != NULL; o = registry_next(o)) {
		if (t == NULL || o->type == t)
			sys_pack_object(pk, o);
	}
}

static void
sys_collect(void *arg, struct object *o)
{
	if (found.n == found.cap) {
		found.cap = found.cap == 0 ? 64 : found.cap * 2;
		found.o = xrealloc(found.o, found.cap * sizeof *found.o);
	}
	found.o[found.n++] = o;
}

static void
sys_obj_scan(struct req *req)
{
	msgpack_packer *pk;
	uint64_t cursor, count = 10, next;
	size_t i, size;

	if (!req_uint_arg(req, 0, 0, UINT64_MAX, "cursor", &cursor))
		return;
	if (req->argc > 1 &&
	    !req_uint_arg(req, 1, 1, UINT32_MAX, "count", &count))
		return;
	found.n = 0;
	next = registry_scan(cursor, count, sys_collect, NULL);
	size = 1 + msg_uint_size(next) + msg_array_head_size(found.n);
	for (i = 0; i < found.n; i++)
		size += sys_object_size(found.o[i]);
	if (!reply_fits(req, size))
		return;
	pk = reply_begin(req);
	msgpack_pack_array(pk, 2);
	msgpack_pack_uint64(pk, next);
	msgpack_pack_array(pk, found.n);
	for (i = 0; i < found.n; i++)
		sys_pack_object(pk, found.o[i]);
}

static void
sys_pack_uint(msgpack_packer *pk, const char *key, uint64_t v)
{
	msg_pack_cstr(pk, key);
	msgpack_pack_uint64(pk, v);
}

static void
sys_noobj(struct req *req)
{
	reply_error(req, PERR_NOOBJ, "no object '%.*s'", req_namelen(req),
	    req_name(req));
}

static void
sys_obj_info(struct req *req)
{
	const struct object *o = req->obj;
	const struct conn *owner;
	msgpack_packer *pk;

	if (o == NULL) {
		sys_noobj(req);
		return;
	}
	owner = registry_owner(o);
	pk = reply_begin(req);
	msgpack_pack_map(pk, owner != NULL ? 9 : 7);
	msg_pack_cstr(pk, "name");
	msgpack_pack_str(pk, o->namelen);
	msgpack_pack_str_body(pk, o->name, o->namelen);
	msg_pack_cstr(pk, "type");
	msg_pack_cstr(pk, o->type->name);
	msg_pack_cstr(pk, "size");
	msgpack_pack_uint64(pk, registry_size(o));
	msg_pack_cstr(pk, "explicit");
	if (o->explicit)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
	msg_pack_cstr(pk, "memory");
	msgpack_pack_uint64(pk, registry_object_mem(o));
	msg_pack_cstr(pk, "waiters");
	msgpack_pack_uint64(pk, o->nwaiters);
	msg_pack_cstr(pk, "options");
	options_pack(o, pk);
	if (owner != NULL) {
		msg_pack_cstr(pk, "ephemeral");
		msgpack_pack_true(pk);
		sys_pack_uint(pk, "owner", owner->id);
	}
}

static void
sys_obj_delete(struct req *req)
{
	if (req->obj == NULL) {
		sys_noobj(req);
		return;
	}
	waiter_object_deleted(req->obj);
	/* After what the deletion gave back (an ack queue's leases), which
	 * the journal got as it happened. */
	if (journal_wants_registry(req->obj)) {
		journal_begin_raw(JC_REGISTRY, JR_DELETE, req->obj->name,
		    req->obj->namelen, 0);
		journal_end();
	}
	registry_delete(req->obj);
	req->obj = NULL;
	reply_nil(req);
}

static void
sys_ping(struct req *req)
{
	reply_str(req, "pong", 4);
}

static void
sys_pack_str(msgpack_packer *pk, const char *key, const char *v)
{
	msg_pack_cstr(pk, key);
	msg_pack_cstr(pk, v);
}

/* With a journal, what sys.stats says of it: 10 pairs. */
static void
sys_stats_journal(msgpack_packer *pk)
{
	struct journal_stats js;

	journal_get_stats(&js);
	sys_pack_str(pk, "data_dir", js.dir);
	sys_pack_str(pk, "fsync", journal_fsync_name(js.fsync));
	sys_pack_uint(pk, "journal_bytes", js.bytes);
	sys_pack_uint(pk, "journal_records", js.records);
	sys_pack_uint(pk, "journal_written", js.written);
	sys_pack_uint(pk, "journal_synced", js.synced);
	sys_pack_uint(pk, "snapshot_bytes", js.snapshot_bytes);
	sys_pack_uint(pk, "compactions", js.compactions);
	sys_pack_uint(pk, "last_fork_usec", js.last_fork_usec);
	msg_pack_cstr(pk, "compacting");
	if (js.compacting)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
}

static void
sys_stats(struct req *req)
{
	msgpack_packer *pk = reply_begin(req);

	msgpack_pack_map(pk, 15 + (journal_on ? 10 : 0));
	msg_pack_cstr(pk, "version");
	msg_pack_cstr(pk, MPMGRD_VERSION);
	sys_pack_uint(pk, "pid", (uint64_t)getpid());
	sys_pack_uint(pk, "uptime_sec",
	    (now_usec() - server.start_usec) / 1000000);
	sys_pack_uint(pk, "clients", server.nclients);
	sys_pack_uint(pk, "unauth_clients", server.nunauth);
	sys_pack_uint(pk, "paused_clients", server.npaused);
	sys_pack_uint(pk, "objects", registry_count());
	sys_pack_uint(pk, "ops", server.ops);
	sys_pack_uint(pk, "conns_total", server.conns_total);
	sys_pack_uint(pk, "memory_used", mem_used());
	sys_pack_uint(pk, "max_memory", server.max_memory);
	sys_pack_uint(pk, "client_memory", server.client_memory);
	sys_pack_uint(pk, "max_client_memory", server.max_client_memory);
	sys_pack_uint(pk, "waiters", waiter_count());
	sys_pack_str(pk, "persistence", journal_on ? "journal" : "memory");
	if (journal_on)
		sys_stats_journal(pk);
}

/*
 * Runs while the connection's own request is parked (conn.c lets it
 * through): that request's TIMEOUT goes out first, then this answer.
 */
static void
sys_cancel(struct req *req)
{
	uint64_t id;

	if (!req_uint_arg(req, 0, 0, UINT32_MAX, "msgid", &id))
		return;
	reply_bool(req, waiter_cancel(req->c, (uint32_t)id));
}

static void
sys_shutdown(struct req *req)
{
	log_info("%s: asked by uid %u pid %d", __func__,
	    (unsigned)req->c->uid, (int)req->c->pid);
	reply_nil(req);
	server_stop(req->method->name);
}

/*
 * sys.save's requests park on this object, outside the registry (no name,
 * so that settling finds nothing), each with the number of the compaction
 * it waits for in w->n: the one it started, or, when one was running
 * already, the one after (which covers everything before the request).
 */
static struct object *saving;
static uint64_t save_tickets;

static void
sys_save_done(bool ok, void *arg)
{
	uint64_t ticket = (uint64_t)(uintptr_t)arg;
	struct waiter *w, *next;

	for (w = waiter_first(saving); w != NULL; w = next) {
		next = waiter_next(w);
		if ((uint64_t)w->n != ticket)
			continue;
		if (ok)
			reply_nil(&w->req);
		else
			reply_error(&w->req, PERR_INTERNAL, "the compaction "
			    "failed: the daemon's log says why");
		waiter_done(w);
	}
}

static void
sys_save(struct req *req)
{
	static const struct waiter_ops ops = { .timeout = NULL };
	struct waiter *w;
	uint64_t ticket;

	if (!journal_on) {
		reply_error(req, PERR_BADARG, "%s: the daemon keeps no journal "
		    "(it runs without --data-dir)", req->method->name);
		return;
	}
	if (saving == NULL) {
		saving = xcalloc(1, sizeof *saving + 1);
		TAILQ_INIT(&saving->waiters);
		LIST_INIT(&saving->holds);
		saving->explicit = true;
	}
	ticket = ++save_tickets;
	if (journal_compact(sys_save_done, (void *)(uintptr_t)ticket) == -1) {
		reply_error(req, PERR_INTERNAL, "%s: cannot start a compaction: "
		    "the daemon's log says why", req->method->name);
		return;
	}
	/* done runs from the loop, later: parked by then */
	req->obj = saving;
	w = waiter_park(req, &ops, -1);
	w->n = (int64_t)ticket;
	req->obj = NULL;
}

/* obj.VERB is sys_obj_VERB, sys.VERB sys_VERB: neither has a type. */
#define SYS_OBJ_ROW(t, v, ...) DISPATCH_METHOD(sys_obj, NULL, t, v, __VA_ARGS__)
#define SYS_ROW(t, v, ...) DISPATCH_METHOD(sys, NULL, t, v, __VA_ARGS__)

const struct method sys_methods[] = {
	MPMGR_METHODS_OBJ(SYS_OBJ_ROW)
	MPMGR_METHODS_SYS(SYS_ROW)
	DISPATCH_END
};
