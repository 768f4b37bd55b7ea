/*
 * waiter.c: parked requests, their deadlines, and what connections hold
 * (the contract is in waiter.h).
 *
 * Owns every struct waiter and struct hold, the deadline min-heap and the
 * one evtimer on server.base armed for its earliest deadline. Parking,
 * expiring and removing a waiter cost O(log n) in the heap plus O(1) in
 * the FIFO. The paths that change objects outside a request (the timer,
 * sys.cancel, a connection's close, the stop) settle those objects here,
 * by name once all their work is done, so that an object settled away by
 * one step is never touched by the next.
 *
 * The one call up in the daemon starts here: an answered waiter wakes its
 * connection (conn_wake), the types learn through waiter_peer_gone
 * whether a waiter's peer hung up (conn_peer_gone), a notification
 * to a holder gets its connection written (conn_push), and an operator's
 * sys.kill drops a holder's connection (conn_kill), as Redis's blocked.c
 * calls networking.c. tests/it_layering.sh keeps it the only one.
 *
 * Holds are indexed by (connection, object) in one open-addressing table
 * (linear probing, at most half full, backward-shift deletion), so that
 * finding a connection's hold in an object costs O(1) amortized however
 * many objects it holds something in (a scan of its list cost O(holds)).
 */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "dispatch.h"
#include "log.h"
#include "mem.h"
#include "registry.h"
#include "reply.h"
#include "waiter.h"

#define DEADLINE_NONE UINT32_MAX

/* A waiter keeps its request's reply-to record, never the request (whose
 * params once made a waiter 528 bytes). */
_Static_assert(sizeof(struct waiter) <= 128, "struct waiter grew");

/* Longest timeout taken as a deadline; longer is forever (~146 years). */
#define WAITER_MAX_USEC ((int64_t)1 << 62)

/* Every armed deadline: parked waiters' timeouts and leases' ends. */
static struct {
	struct deadline **d;
	size_t len;
	size_t cap;
	uint64_t ops;             /* comparisons and swaps: waiter_heap_ops */
} heap;

static struct event *timer;
static uint64_t armed_for;        /* the deadline the timer is set for; 0 */
static size_t nwaiters;
static uint32_t next_seq;

/* Names of objects to settle once the current path is done with them. */
static struct {
	struct {
		uint8_t len;
		char name[MPMGR_MAX_NAME];
	} *v;
	size_t n;
	size_t cap;
} pending;

/* Every hold by (c, o); slot[i] NULL is empty. */
static struct {
	struct hold **slot;
	size_t mask;              /* slots - 1 (a power of two), or 0: none */
	size_t n;
	uint64_t steps;           /* slots looked at: hold_steps */
} holds;

#define HOLDS_MIN_SLOTS 64

static void waiter_timer_cb(evutil_socket_t, short, void *);

void
waiter_init(void)
{
	if (timer == NULL && server.base != NULL &&
	    (timer = evtimer_new(server.base, waiter_timer_cb, NULL)) == NULL)
		fatalx("%s: evtimer_new failed", __func__);
}

/* --- the deadline heap --------------------------------------------------- */

static bool
heap_less(const struct deadline *a, const struct deadline *b)
{
	heap.ops++;
	return a->at < b->at ||
	    (a->at == b->at && (int32_t)(a->seq - b->seq) < 0);
}

static void
heap_put(size_t i, struct deadline *d)
{
	heap.d[i] = d;
	d->index = (uint32_t)i;
}

static void
heap_swap(size_t i, size_t j)
{
	struct deadline *t = heap.d[i];

	heap.ops++;
	heap_put(i, heap.d[j]);
	heap_put(j, t);
}

static void
heap_up(size_t i)
{
	size_t parent;

	while (i > 0) {
		parent = (i - 1) / 2;
		if (!heap_less(heap.d[i], heap.d[parent]))
			break;
		heap_swap(i, parent);
		i = parent;
	}
}

static void
heap_down(size_t i)
{
	size_t l, r, m;

	for (;;) {
		l = 2 * i + 1;
		r = l + 1;
		if (l >= heap.len)
			break;
		m = l;
		if (r < heap.len && heap_less(heap.d[r], heap.d[l]))
			m = r;
		if (!heap_less(heap.d[m], heap.d[i]))
			break;
		heap_swap(i, m);
		i = m;
	}
}

static void
heap_push(struct deadline *d)
{
	if (heap.len == DEADLINE_NONE)
		fatalx("%s: %zu deadlines", __func__, heap.len);
	if (heap.len == heap.cap) {
		heap.cap = heap.cap == 0 ? 64 : heap.cap * 2;
		heap.d = xrealloc(heap.d, heap.cap * sizeof *heap.d);
	}
	heap_put(heap.len++, d);
	heap_up(d->index);
}

static void
heap_remove(struct deadline *d)
{
	size_t i = d->index;
	struct deadline *last;

	if (i >= heap.len || heap.d[i] != d)
		fatalx("%s: deadline not in the heap", __func__);
	last = heap.d[--heap.len];
	d->index = DEADLINE_NONE;
	if (last == d)
		return;
	heap_put(i, last);
	heap_up(i);
	heap_down(last->index);
}

/* Point the timer at the earliest deadline, if that changed. */
static void
waiter_arm(void)
{
	struct timeval tv;
	uint64_t now, first, left;

	if (heap.len == 0) {
		if (armed_for != 0 && timer != NULL)
			evtimer_del(timer);
		armed_for = 0;
		return;
	}
	first = heap.d[0]->at;
	if (first == armed_for)
		return;
	waiter_init();
	if (timer == NULL)
		fatalx("%s: no event loop for deadlines", __func__);
	now = now_usec();
	left = first > now ? first - now : 0;
	tv.tv_sec = (time_t)(left / 1000000);
	tv.tv_usec = (suseconds_t)(left % 1000000);
	evtimer_add(timer, &tv);
	armed_for = first;
}

/* Arm d for at (its kind set by the caller), re-arming the timer if d is
 * now the earliest. */
static void
deadline_set(struct deadline *d, uint64_t at)
{
	d->at = at;
	d->seq = (++next_seq << 1) | DEADLINE_KIND(d);
	heap_push(d);
	if (d->index == 0)
		waiter_arm();
}

/* Disarm d if armed. */
static void
deadline_clear(struct deadline *d)
{
	bool first;

	if (d->index != DEADLINE_NONE) {
		first = d->index == 0;
		heap_remove(d);
		if (first)
			waiter_arm();
	}
	d->at = 0;
}

static void
waiter_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	/* libevent's clock may run a little ahead of ours: re-arm if so. */
	armed_for = 0;
	waiter_expire(now_usec());
}

/* --- settling after the fact -------------------------------------------- */

static void
settle_later(const struct object *o)
{
	if (pending.n == pending.cap) {
		pending.cap = pending.cap == 0 ? 16 : pending.cap * 2;
		pending.v = xrealloc(pending.v, pending.cap * sizeof *pending.v);
	}
	pending.v[pending.n].len = o->namelen;
	memcpy(pending.v[pending.n].name, o->name, o->namelen);
	pending.n++;
}

/*
 * Settle what settle_later() noted, looked up again by name: a step in
 * between may have freed it (then there is nothing to settle, or a new
 * object of that name, which settling cannot harm).
 */
static void
settle_pending(void)
{
	struct object *o;
	size_t i;

	for (i = 0; i < pending.n; i++) {
		o = registry_lookup(pending.v[i].name, pending.v[i].len);
		if (o != NULL)
			registry_settle(o);
	}
	pending.n = 0;
}

/* --- parking ------------------------------------------------------------ */

bool
waiter_timeout_arg(struct req *req, unsigned i, int64_t *usec)
{
	const struct mpv *v = &req->argv[i];
	double f;

	if (i >= req->argc || v->type == MPV_NIL) {
		*usec = -1;
		return true;
	}
	if (v->type == MPV_UINT) {
		*usec = v->v.u >= (uint64_t)WAITER_MAX_USEC / 1000000 ? -1 :
		    (int64_t)v->v.u * 1000000;
		return true;
	}
	if (v->type == MPV_FLOAT && !isnan(v->v.f) && v->v.f >= 0) {
		f = v->v.f * 1e6;
		if (f >= (double)WAITER_MAX_USEC) {
			*usec = -1;
			return true;
		}
		/* Rounded up: a tiny timeout still waits, 0 alone does not. */
		*usec = (int64_t)f;
		if ((double)*usec < f)
			(*usec)++;
		return true;
	}
	reply_error(req, PERR_BADARG, "%s: the timeout must be nil or a "
	    "number of seconds >= 0", req->method->name);
	return false;
}

bool
waiter_ttl_arg(struct req *req, const struct mpv *v, const char *what,
    int64_t *usec)
{
	double f;

	if (v->type == MPV_UINT && v->v.u > 0) {
		*usec = v->v.u >= (uint64_t)WAITER_MAX_USEC / 1000000 ?
		    WAITER_MAX_USEC : (int64_t)v->v.u * 1000000;
		return true;
	}
	if (v->type == MPV_FLOAT && v->v.f > 0) {
		f = v->v.f * 1e6;
		*usec = f >= (double)WAITER_MAX_USEC ? WAITER_MAX_USEC :
		    (int64_t)f;
		if ((double)*usec < f)
			(*usec)++;
		return true;
	}
	reply_error(req, PERR_BADARG, "%s: %s must be a number of seconds "
	    "> 0", req->method->name, what);
	return false;
}

bool
hold_opts_arg(struct req *req, unsigned i, bool rod, struct hold_opts *opts)
{
	const struct mpv *map = &req->argv[i];
	struct mpv_iter it;
	struct mpv k, v;
	bool seen_ttl = false, seen_fence = false;

	opts->ttl = 0;
	opts->fence = false;
	if (i >= req->argc || map->type == MPV_NIL)
		return true;
	if (map->type != MPV_MAP) {
		reply_error(req, PERR_BADARG, "%s: the options must be a map "
		    "{ttl, fence}", req->method->name);
		return false;
	}
	mpv_iter_init(&it, map);
	while (mpv_iter_next(&it, &k) && mpv_iter_next(&it, &v)) {
		if (mpv_str_eq(&k, "ttl") && !seen_ttl) {
			seen_ttl = true;
			if (v.type != MPV_NIL &&
			    !waiter_ttl_arg(req, &v, "ttl", &opts->ttl))
				return false;
		} else if (mpv_str_eq(&k, "fence") && !seen_fence) {
			seen_fence = true;
			if (v.type != MPV_BOOL) {
				reply_error(req, PERR_BADARG, "%s: fence must "
				    "be true or false", req->method->name);
				return false;
			}
			opts->fence = v.v.b;
		} else {
			reply_error(req, PERR_BADARG, "%s: the options are "
			    "ttl and fence, each once", req->method->name);
			return false;
		}
	}
	if (opts->ttl > 0 && !rod) {
		reply_error(req, PERR_BADARG, "%s: '%.*s' is kept when its "
		    "holder disconnects (release_on_disconnect false): a "
		    "lease (ttl) belongs to its holder's connection",
		    req->method->name, req_namelen(req), req_name(req));
		return false;
	}
	return true;
}

struct waiter *
waiter_park(struct req *req, const struct waiter_ops *ops, int64_t usec)
{
	struct waiter *w;
	struct object *o;

	if (req->replied || req->parked)
		fatalx("%s: %s already answered", __func__, req->method->name);
	if (req->c->parked != NULL)
		fatalx("%s: connection %llu parks twice", __func__,
		    (unsigned long long)req->c->id);
	if (usec == 0 || usec < -1 || (usec > 0 && ops->timeout == NULL))
		fatalx("%s: %s: bad timeout %lld", __func__, req->method->name,
		    (long long)usec);
	if (req->obj == NULL) {
		if (req->method->type == NULL)
			fatalx("%s: %s has no type", __func__,
			    req->method->name);
		req->obj = registry_add(req->method->type, req_name(req),
		    (size_t)req_namelen(req));
	}
	o = req->obj;
	w = xcalloc(1, sizeof *w);
	w->req = *req;
	w->req.argc = 0;
	w->req.argv = NULL;
	w->req.replied = false;
	w->req.parked = false;
	w->ops = ops;
	w->since = now_usec();
	w->dl.seq = DEADLINE_WAITER;
	w->dl.index = DEADLINE_NONE;
	TAILQ_INSERT_TAIL(&o->waiters, w, link);
	o->nwaiters++;
	nwaiters++;
	if (usec > 0)
		deadline_set(&w->dl, w->since + (uint64_t)usec);
	req->replied = true;
	req->parked = true;
	req->c->parked = w;
	return w;
}

/* Out of its object's FIFO, the heap and its connection; not freed. */
static void
waiter_unlink(struct waiter *w)
{
	struct object *o = w->req.obj;

	TAILQ_REMOVE(&o->waiters, w, link);
	o->nwaiters--;
	nwaiters--;
	deadline_clear(&w->dl);
	if (w->req.c->parked == w)
		w->req.c->parked = NULL;
}

static void
waiter_free(struct waiter *w)
{
	xfree(w->data);
	xfree(w);
}

void
waiter_done(struct waiter *w)
{
	struct conn *c = w->req.c;

	if (!w->req.replied)
		fatalx("%s: %s left unanswered", __func__,
		    w->req.method->name);
	waiter_unlink(w);
	waiter_free(w);
	conn_wake(c);
}

void
waiter_move(struct waiter *w, struct object *to,
    const struct waiter_ops *ops)
{
	struct object *from = w->req.obj;

	TAILQ_REMOVE(&from->waiters, w, link);
	from->nwaiters--;
	deadline_clear(&w->dl);
	w->ops = ops;
	w->req.obj = to;
	TAILQ_INSERT_TAIL(&to->waiters, w, link);
	to->nwaiters++;
}

bool
waiter_peer_gone(struct waiter *w)
{
	return conn_peer_gone(w->req.c);
}

struct waiter *
waiter_first(const struct object *o)
{
	return TAILQ_FIRST(&o->waiters);
}

struct waiter *
waiter_next(const struct waiter *w)
{
	return TAILQ_NEXT(w, link);
}

/* --- leaving without being served --------------------------------------- */

/* Unlink w, let its type undo the parking, free it. No answer, no wake. */
static void
waiter_leave(struct waiter *w)
{
	waiter_unlink(w);
	if (w->ops->gone != NULL)
		w->ops->gone(w);
	waiter_free(w);
}

bool
waiter_cancel(struct conn *c, uint32_t msgid)
{
	struct waiter *w = c->parked;

	if (w == NULL || w->req.msgid != msgid)
		return false;
	/* The cancelled request's answer goes out before the cancel's own. */
	reply_error(&w->req, PERR_TIMEOUT, "cancelled");
	settle_later(w->req.obj);
	waiter_leave(w);
	conn_wake(c);
	settle_pending();
	return true;
}

static struct hold_list *
hold_list_of(struct conn *c)
{
	struct hold_list *l = c->holdings;

	if (l == NULL) {
		l = xmalloc(sizeof *l);
		LIST_INIT(l);
		c->holdings = l;
	}
	return l;
}

void
waiter_conn_closed(struct conn *c)
{
	struct hold_list *l = c->holdings;
	struct waiter *w = c->parked;
	struct object *o;
	struct hold *h;

	if (w != NULL) {
		settle_later(w->req.obj);
		waiter_leave(w);
	}
	/* Its ephemeral objects go before its holds are given back, as
	 * obj.delete takes them: their waiters get DELETED, not a lock it
	 * held. */
	while ((o = registry_owned(c)) != NULL) {
		waiter_object_deleted(o);
		registry_delete(o);
	}
	if (l != NULL) {
		while ((h = LIST_FIRST(l)) != NULL) {
			settle_later(h->o);
			if (h->o->type->conn_gone == NULL)
				fatalx("%s: %s holds without conn_gone",
				    __func__, h->o->type->name);
			h->o->type->conn_gone(h);
			if (LIST_FIRST(l) == h)
				fatalx("%s: %s conn_gone kept its hold",
				    __func__, h->o->type->name);
		}
		xfree(l);
		c->holdings = NULL;
	}
	settle_pending();
}

void
waiter_object_deleted(struct object *o)
{
	struct waiter *w;
	struct hold *h;

	while ((w = TAILQ_FIRST(&o->waiters)) != NULL) {
		reply_error(&w->req, PERR_DELETED, "'%.*s' was deleted",
		    (int)o->namelen, o->name);
		waiter_done(w);
	}
	while ((h = LIST_FIRST(&o->holds)) != NULL) {
		if (o->type->conn_gone == NULL) {
			hold_drop(h);
			continue;
		}
		o->type->conn_gone(h);
		if (LIST_FIRST(&o->holds) == h)
			fatalx("%s: %s conn_gone kept its hold", __func__,
			    o->type->name);
	}
}

void
waiter_shutdown(void)
{
	struct conn *c;
	struct waiter *w;

	/*
	 * Every waiter is some connection's parked request; walking the
	 * connections also reaches waiters on objects outside the registry
	 * (a condition's own rlock).
	 */
	TAILQ_FOREACH(c, &server.clients, link) {
		if ((w = c->parked) == NULL)
			continue;
		settle_later(w->req.obj);
		reply_error(&w->req, PERR_SHUTDOWN, "the server is stopping");
		waiter_done(w);
	}
	settle_pending();
}

/* h's lease ran out: what it held goes back; h stays, lost. */
static void
lease_expire(struct hold *h)
{
	if (h->o->type->lease_end == NULL)
		fatalx("%s: %s leases without lease_end", __func__,
		    h->o->type->name);
	h->lost = true;
	settle_later(h->o);
	h->o->type->lease_end(h);
}

void
waiter_expire(uint64_t now)
{
	struct deadline *d;
	struct waiter *w;

	while (heap.len > 0 && heap.d[0]->at <= now) {
		d = heap.d[0];
		heap_remove(d);
		d->at = 0;
		if (DEADLINE_KIND(d) == DEADLINE_LEASE) {
			lease_expire((struct hold *)((char *)d -
			    offsetof(struct hold, lease)));
			continue;
		}
		w = (struct waiter *)((char *)d - offsetof(struct waiter, dl));
		settle_later(w->req.obj);
		/* The type answers and waiter_done()s it, or moves it. */
		w->ops->timeout(w);
	}
	waiter_arm();
	settle_pending();
}

size_t
waiter_count(void)
{
	return nwaiters;
}

size_t
waiter_heap_size(void)
{
	return heap.len;
}

uint64_t
waiter_heap_ops(void)
{
	return heap.ops;
}

/* --- holdings ----------------------------------------------------------- */

static size_t
hold_hash(const struct conn *c, const struct object *o)
{
	uint64_t x = (uint64_t)(uintptr_t)c * UINT64_C(0x9e3779b97f4a7c15) ^
	    (uint64_t)(uintptr_t)o;

	/* splitmix64's finaliser: every address bit reaches the low bits */
	x ^= x >> 30;
	x *= UINT64_C(0xbf58476d1ce4e5b9);
	x ^= x >> 27;
	x *= UINT64_C(0x94d049bb133111eb);
	x ^= x >> 31;
	return (size_t)x;
}

/* Where (c, o) is, or the empty slot that ends its probe. */
static size_t
hold_probe(const struct conn *c, const struct object *o)
{
	size_t i = hold_hash(c, o) & holds.mask;
	struct hold *h;

	for (;; i = (i + 1) & holds.mask) {
		holds.steps++;
		h = holds.slot[i];
		if (h == NULL || (h->c == c && h->o == o))
			return i;
	}
}

static void
hold_index_resize(size_t nslots)
{
	struct hold **old = holds.slot;
	size_t oldn = holds.mask + 1, i;

	holds.slot = xcalloc(nslots, sizeof *holds.slot);
	holds.mask = nslots - 1;
	if (old == NULL)
		return;
	for (i = 0; i < oldn; i++) {
		if (old[i] != NULL)
			holds.slot[hold_probe(old[i]->c, old[i]->o)] = old[i];
	}
	xfree(old);
}

/* Take slot i out, moving later entries of its cluster back so that no
 * probe meets a hole before its key (no tombstones). */
static void
hold_index_remove(size_t i)
{
	size_t j = i, home;

	holds.slot[i] = NULL;
	for (;;) {
		j = (j + 1) & holds.mask;
		if (holds.slot[j] == NULL)
			break;
		home = hold_hash(holds.slot[j]->c, holds.slot[j]->o) &
		    holds.mask;
		/* j stays unless its home is cyclically outside (i, j] */
		if ((j > i && (home <= i || home > j)) ||
		    (j < i && home <= i && home > j)) {
			holds.slot[i] = holds.slot[j];
			holds.slot[j] = NULL;
			i = j;
		}
	}
	holds.n--;
	if (holds.mask + 1 > HOLDS_MIN_SLOTS && holds.n < (holds.mask + 1) / 8)
		hold_index_resize((holds.mask + 1) / 2);
}

struct hold *
hold_find(struct conn *c, struct object *o)
{
	if (holds.n == 0)
		return NULL;
	return holds.slot[hold_probe(c, o)];
}

struct hold *
hold_get(struct conn *c, struct object *o)
{
	struct hold *h;
	size_t i;

	if (holds.slot == NULL)
		hold_index_resize(HOLDS_MIN_SLOTS);
	else if (2 * (holds.n + 1) > holds.mask + 1)
		hold_index_resize(2 * (holds.mask + 1));
	i = hold_probe(c, o);
	if ((h = holds.slot[i]) != NULL) {
		if (h->lost) {
			h->lost = false;
			h->since = now_usec();
		}
		return h;
	}
	h = xcalloc(1, sizeof *h);
	h->c = c;
	h->o = o;
	h->since = now_usec();
	h->lease.seq = DEADLINE_LEASE;
	h->lease.index = DEADLINE_NONE;
	holds.slot[i] = h;
	holds.n++;
	LIST_INSERT_HEAD(hold_list_of(c), h, by_conn);
	LIST_INSERT_HEAD(&o->holds, h, by_obj);
	return h;
}

void
hold_drop(struct hold *h)
{
	deadline_clear(&h->lease);
	hold_index_remove(hold_probe(h->c, h->o));
	LIST_REMOVE(h, by_conn);
	LIST_REMOVE(h, by_obj);
	xfree(h);
}

void
waiter_conn_kill(struct conn *c)
{
	conn_kill(c);
}

size_t
hold_count(void)
{
	return holds.n;
}

uint64_t
hold_steps(void)
{
	return holds.steps;
}

msgpack_packer *
hold_notify(struct hold *h, const char *method, uint32_t nparams)
{
	msgpack_packer *pk;

	if (conn_peer_gone(h->c))
		return NULL;
	pk = conn_packer(h->c);
	msg_pack_notification(pk, method, nparams);
	conn_push(h->c);
	return pk;
}

bool
hold_lost(struct req *req, struct object *o, bool release, const char *then)
{
	struct hold *h = o == NULL ? NULL : hold_find(req->c, o);

	if (h == NULL || !h->lost)
		return false;
	if (release)
		hold_drop(h);
	reply_error(req, PERR_NOTHELD, "%s: this connection's lease on "
	    "'%.*s' ended: %s", req->method->name, (int)o->namelen, o->name,
	    then);
	return true;
}

void
hold_lease(struct hold *h, int64_t usec)
{
	deadline_clear(&h->lease);
	if (usec > 0)
		deadline_set(&h->lease, now_usec() + (uint64_t)usec);
}
