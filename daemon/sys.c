/*
 * sys.c: the verbs about the registry (obj.*) and the server (sys.*).
 *
 * obj.list answers every object at once (O(n) by nature); obj.scan walks
 * the names in slices for registries too large for one reply. obj.delete
 * frees a large object in slices after answering (registry.c).
 * sys.cancel takes back a parked request of the asking connection.
 * obj.dump and obj.restore are dump.c's records.
 * sys.save parks until the compaction it asked for is over.
 *
 * The operator's view: obj.info lists an object's holders and waiters
 * (who, since when) and why an implicit object stays; sys.clients lists
 * the connections with what each holds and waits on; sys.kill closes one
 * as if its peer had hung up, so that what it holds is given back. Peers
 * are named by what the daemon learnt at accept (conn.c: SO_PEERCRED,
 * /proc/PID/comm). All three are O(connections + holds) by nature.
 * sys.monitor makes the asking connection a watcher (monitor.c).
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "dispatch.h"
#include "dump.h"
#include "journal.h"
#include "log.h"
#include "mem.h"
#include "monitor.h"
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

/* Seconds since a now_usec() instant, to the millisecond. */
static void
sys_pack_since(msgpack_packer *pk, const char *key, uint64_t since,
    uint64_t now)
{
	msg_pack_cstr(pk, key);
	msgpack_pack_double(pk, now > since ?
	    (double)((now - since) / 1000) / 1000.0 : 0.0);
}

/* The peer of c as its accept saw it: 4 entries of a map. */
static void
sys_pack_peer(msgpack_packer *pk, const struct conn *c)
{
	sys_pack_uint(pk, "client", c->id);
	msg_pack_cstr(pk, "pid");
	msgpack_pack_int64(pk, (int64_t)c->pid);
	msg_pack_cstr(pk, "uid");
	msgpack_pack_int64(pk, c->uid == (uid_t)-1 ? -1 : (int64_t)c->uid);
	msg_pack_cstr(pk, "command");
	msg_pack_cstr(pk, c->comm);
}

/* A lost hold (its lease ran out) holds nothing but its connection's
 * next release there, which is refused. */
static const char *
sys_hold_text(const struct hold *h, char *buf, size_t len)
{
	if (h->lost)
		return "lease ended";
	return h->o->type->hold_text != NULL ?
	    h->o->type->hold_text(h, buf, len) : "held";
}

/* [{client, pid, uid, command, holds, held_sec}...]: o's holders. */
static void
sys_pack_holders(msgpack_packer *pk, const struct object *o, uint64_t now)
{
	const struct hold *h;
	char buf[64];
	uint32_t n = 0;

	LIST_FOREACH(h, &o->holds, by_obj)
		n++;
	msgpack_pack_array(pk, n);
	LIST_FOREACH(h, &o->holds, by_obj) {
		msgpack_pack_map(pk, 6);
		sys_pack_peer(pk, h->c);
		msg_pack_cstr(pk, "holds");
		msg_pack_cstr(pk, sys_hold_text(h, buf, sizeof buf));
		sys_pack_since(pk, "held_sec", h->since, now);
	}
}

/* [{client, pid, uid, command, method, wait_sec}...]: o's waiters, in
 * the order they are served. */
static void
sys_pack_waiting(msgpack_packer *pk, const struct object *o, uint64_t now)
{
	const struct waiter *w;

	msgpack_pack_array(pk, o->nwaiters);
	for (w = waiter_first(o); w != NULL; w = waiter_next(w)) {
		msgpack_pack_map(pk, 6);
		sys_pack_peer(pk, w->req.c);
		msg_pack_cstr(pk, "method");
		msg_pack_cstr(pk, w->req.method->name);
		sys_pack_since(pk, "wait_sec", w->since, now);
	}
}

/*
 * Why o is still there, in words: an explicit object until obj.delete, an
 * ephemeral one until its connection closes, an implicit one while it has
 * holders, waiters or is not back in its initial state.
 */
static void
sys_pack_stays(msgpack_packer *pk, const struct object *o,
    const struct conn *owner)
{
	const struct hold *h;
	const char *why[3];
	char holders[64], waiters[64], busy[128];
	size_t nh = 0, n = 0, i;

	if (owner != NULL) {
		snprintf(busy, sizeof busy, "ephemeral: it goes when client "
		    "%" PRIu64 " disconnects, or with obj.delete", owner->id);
		why[n++] = busy;
	} else if (o->explicit)
		why[n++] = "created explicitly: it stays until obj.delete";
	else {
		LIST_FOREACH(h, &o->holds, by_obj)
			nh++;
		if (nh > 0) {
			snprintf(holders, sizeof holders, "%zu holder%s", nh,
			    nh == 1 ? "" : "s");
			why[n++] = holders;
		}
		if (o->nwaiters > 0) {
			snprintf(waiters, sizeof waiters, "%zu waiter%s",
			    o->nwaiters, o->nwaiters == 1 ? "" : "s");
			why[n++] = waiters;
		}
		/* A held lock or semaphore is not initial: its holders
		 * said why already. */
		if (o->type->is_initial != NULL && !o->type->is_initial(o)) {
			if (o->type->busy_text != NULL)
				why[n++] = o->type->busy_text(o, busy,
				    sizeof busy);
			else if (nh == 0) {
				snprintf(busy, sizeof busy, "not back in its "
				    "initial state (size %" PRIu64 ")",
				    registry_size(o));
				why[n++] = busy;
			}
		}
	}
	msgpack_pack_array(pk, n);
	for (i = 0; i < n; i++)
		msg_pack_cstr(pk, why[i]);
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
	uint64_t now;

	if (o == NULL) {
		sys_noobj(req);
		return;
	}
	owner = registry_owner(o);
	now = now_usec();
	pk = reply_begin(req);
	msgpack_pack_map(pk, owner != NULL ? 12 : 10);
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
	msg_pack_cstr(pk, "holders");
	sys_pack_holders(pk, o, now);
	msg_pack_cstr(pk, "waiting");
	sys_pack_waiting(pk, o, now);
	msg_pack_cstr(pk, "stays");
	sys_pack_stays(pk, o, owner);
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
	journal_delete(req->obj);
	registry_delete(req->obj);
	req->obj = NULL;
	reply_nil(req);
}

static void
sys_obj_dump(struct req *req)
{
	if (req->obj == NULL)
		sys_noobj(req);
	else
		dump_reply(req);
}

static void
sys_obj_restore(struct req *req)
{
	dump_restore(req);
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

/* With a journal, what sys.stats says of it: 11 pairs. */
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
	sys_pack_uint(pk, "journal_syncs", js.syncs);
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

	msgpack_pack_map(pk, 16 + (journal_on ? 11 : 0));
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
	sys_pack_uint(pk, "monitors", server.nmonitors);
	sys_pack_str(pk, "persistence", journal_on ? "journal" : "memory");
	if (journal_on)
		sys_stats_journal(pk);
}

/* [[name, type, holds]...]: what c holds. */
static void
sys_pack_holds(msgpack_packer *pk, const struct conn *c)
{
	const struct hold_list *l = c->holdings;
	const struct hold *h;
	char buf[64];
	uint32_t n = 0;

	if (l != NULL)
		LIST_FOREACH(h, l, by_conn)
			n++;
	msgpack_pack_array(pk, n);
	if (l == NULL)
		return;
	LIST_FOREACH(h, l, by_conn) {
		msgpack_pack_array(pk, 3);
		msgpack_pack_str(pk, h->o->namelen);
		msgpack_pack_str_body(pk, h->o->name, h->o->namelen);
		msg_pack_cstr(pk, h->o->type->name);
		msg_pack_cstr(pk, sys_hold_text(h, buf, sizeof buf));
	}
}

/* {method, name, wait_sec} of c's parked request, or nil. */
static void
sys_pack_parked(msgpack_packer *pk, const struct conn *c, uint64_t now)
{
	const struct waiter *w = c->parked;
	const struct object *o;

	if (w == NULL) {
		msgpack_pack_nil(pk);
		return;
	}
	o = w->req.obj;
	msgpack_pack_map(pk, 3);
	msg_pack_cstr(pk, "method");
	msg_pack_cstr(pk, w->req.method->name);
	msg_pack_cstr(pk, "name");
	msgpack_pack_str(pk, o != NULL ? o->namelen : 0);
	msgpack_pack_str_body(pk, o != NULL ? o->name : "",
	    o != NULL ? o->namelen : 0);
	sys_pack_since(pk, "wait_sec", w->since, now);
}

/* Every authenticated connection, oldest first, the asking one too. */
static void
sys_clients(struct req *req)
{
	msgpack_packer *pk = reply_begin(req);
	uint64_t now = now_usec();
	const struct conn *c;

	msgpack_pack_array(pk, server.nclients);
	TAILQ_FOREACH(c, &server.clients, link) {
		msgpack_pack_map(pk, 12);
		sys_pack_peer(pk, c);
		msg_pack_cstr(pk, "gid");
		msgpack_pack_int64(pk, c->gid == (gid_t)-1 ? -1 :
		    (int64_t)c->gid);
		sys_pack_since(pk, "age_sec", c->since_usec, now);
		sys_pack_since(pk, "idle_sec", c->last_usec, now);
		sys_pack_uint(pk, "ops", c->ops);
		sys_pack_uint(pk, "bytes_in", c->bytes_in);
		sys_pack_uint(pk, "bytes_out", c->bytes_out);
		msg_pack_cstr(pk, "waits");
		sys_pack_parked(pk, c, now);
		msg_pack_cstr(pk, "holds");
		sys_pack_holds(pk, c);
	}
}

/*
 * Close a connection as its peer's hanging up would (Redis's CLIENT KILL
 * ID): its waiters leave, what it holds is given back and the next
 * waiters are served before this answers. Not the asking connection,
 * which a close would pull from under its own request.
 */
static void
sys_kill(struct req *req)
{
	struct conn *c;
	uint64_t id;

	if (!req_uint_arg(req, 0, 1, UINT64_MAX, "client_id", &id))
		return;
	if (id == req->c->id) {
		reply_error(req, PERR_BADARG, "%s: client %" PRIu64 " is the "
		    "asking connection", req->method->name, id);
		return;
	}
	TAILQ_FOREACH(c, &server.clients, link) {
		if (c->id == id)
			break;
	}
	if (c == NULL || (c->flags & CONN_CLOSING)) {
		reply_error(req, PERR_NOTFOUND, "no client %" PRIu64, id);
		return;
	}
	log_info("%s: client %" PRIu64 " asked by uid %u pid %d", __func__,
	    id, (unsigned)req->c->uid, (int)req->c->pid);
	waiter_conn_kill(c);
	reply_nil(req);
}

/*
 * The asking connection watches from now on: every request another
 * connection runs comes to it as a line (monitor.c). ADMIN: dispatch has
 * checked who asks.
 */
static void
sys_monitor(struct req *req)
{
	if (!(req->c->flags & CONN_MONITOR))
		log_info("%s: client %" PRIu64 " (uid %u pid %d) watches",
		    __func__, req->c->id, (unsigned)req->c->uid,
		    (int)req->c->pid);
	monitor_add(req->c);
	reply_nil(req);
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
