/*
 * obj_queue.c: the queue type, Python's Queue and JoinableQueue in one,
 * with batch verbs and at-least-once delivery (docs/PROTOCOL.md, queue).
 *
 * Items are canonical bytes, one allocation each, in a ring of pointers:
 * put and get are O(1) and allocate nothing beyond the item (the ring grows
 * and shrinks by halves, amortised). Parked requests share the object's
 * FIFO and each kind is served oldest first: an item goes to the oldest
 * getter whose peer is still there (a gone one is skipped and the item
 * stays for a live one), room goes to the oldest putter, and a put_many
 * waiting for room for all of its items is never overtaken by smaller puts
 * behind it.
 *
 * unfinished counts items put and not yet task_done; join waiters are
 * answered true when it reaches 0. With `ack`, a got item stays leased to
 * its getter's connection (a hold whose data is the lease chain, oldest
 * first) until that connection calls task_done; if the connection closes
 * first, its leased items go back to the head of the queue in their
 * original order and on to waiting getters, so join never hangs on a dead
 * consumer. An implicit queue goes away once it holds no item, no
 * unfinished task, no lease and no waiter.
 *
 * shutdown is Python 3.13's Queue.shutdown: puts are refused (SHUTDOWN),
 * parked ones at once; gets drain what is queued and are then refused,
 * parked ones at once (a parked get means the queue is empty). immediate
 * also empties the queue, counting each item dropped as done, so joiners
 * are released unless got items are still not done; leases given back
 * after it are dropped and counted done the same way. A shut down queue
 * is never back in its initial state: it stays until obj.delete.
 *
 * The journal gets items put, the number of items a get took from the
 * head (which ones follows from the state), with ack the connection they
 * are leased to, task_done, and a closed connection's leases going back:
 * a replay runs the same code on ghosts of those connections (journal.h),
 * and closes the ghosts left at its end, so that a restart gives leased
 * items back as disconnects do. A shutdown is journaled as asked: what it
 * does follows from the state.
 */
#include <stdio.h>
#include <string.h>
#include <sys/queue.h>

#include "dispatch.h"
#include "journal.h"
#include "log.h"
#include "mem.h"
#include "registry.h"
#include "reply.h"
#include "value.h"
#include "waiter.h"

/* The smallest ring allocated; it shrinks no further. */
#define QUEUE_MIN_CAP 8

struct qitem {
	struct qitem *next;    /* in a lease chain only */
	size_t len;
	uint8_t data[];        /* canonical bytes */
};

/* One connection's leased items: a circular chain, last->next oldest. */
struct lease {
	struct qitem *last;
	size_t n;
	LIST_ENTRY(lease) link;
};
LIST_HEAD(lease_list, lease);

struct queue {
	struct qitem **ring;
	size_t cap;            /* 0, or a power of two */
	size_t head;
	size_t count;          /* items in the queue (qsize) */
	uint64_t maxsize;      /* 0: unbounded */
	bool ack;
	uint8_t shutdown;      /* QUEUE_OPEN, QUEUE_DRAIN, QUEUE_IMMEDIATE */
	uint64_t unfinished;   /* put and not yet task_done */
	size_t bytes;          /* items (queued or leased) and leases */
	struct lease_list leases; /* every connection's: none at free time */
	size_t ngetters;       /* parked, by kind: pumps skip idle kinds */
	size_t nputters;
	size_t njoiners;
};

/* Journal ops. */
enum {
	QUEUE_J_PUT,           /* items...: appended */
	QUEUE_J_POP,           /* n: taken from the head (no ack) */
	QUEUE_J_LEASE,         /* conn, n: taken from the head, leased */
	QUEUE_J_DONE,          /* [conn]: task_done (with ack: conn's oldest) */
	QUEUE_J_REQUEUE,       /* conn: its leases back to the head */
	QUEUE_J_UNFINISHED,    /* n: the count of unfinished tasks (dumps) */
	QUEUE_J_LEASED,        /* conn, items...: leased to it (dumps) */
	QUEUE_J_SHUTDOWN       /* immediate: queue.shutdown */
};

/* A queue waiter's state. */
enum { QW_GET, QW_GET_MANY, QW_PUT, QW_JOIN };

/* queue.shutdown: not, draining, immediate (which only adds to draining). */
enum { QUEUE_OPEN, QUEUE_DRAIN, QUEUE_IMMEDIATE };

static void queue_timeout(struct waiter *);
static void queue_left(struct waiter *);

static const struct waiter_ops queue_waiter_ops = {
	.timeout = queue_timeout,
	.gone = queue_left,
};

/* Scratch: one item's canonical bytes, put_many's items. */
static struct buf ibuf = BUF_INIT;
static struct buf mbuf = BUF_INIT;

static struct queue *
queue_of(const struct object *o)
{
	struct queue *q = o == NULL ? NULL : o->data;

	/* waiter_shutdown and waiter_object_deleted answer waiters behind
	 * our back: with none left, none is counted. */
	if (q != NULL && o->nwaiters == 0)
		q->ngetters = q->nputters = q->njoiners = 0;
	return q;
}

/* --- items and the ring ---------------------------------------------- */

static struct qitem *
queue_item_new(struct queue *q, const uint8_t *bytes, size_t n)
{
	struct qitem *it = xmalloc(sizeof *it + n);

	it->next = NULL;
	it->len = n;
	memcpy(it->data, bytes, n);
	q->bytes += sizeof *it + n;
	return it;
}

static void
queue_item_free(struct queue *q, struct qitem *it)
{
	q->bytes -= sizeof *it + it->len;
	xfree(it);
}

static void
queue_resize(struct queue *q, size_t cap)
{
	struct qitem **ring = xmalloc(cap * sizeof *ring);
	size_t i;

	for (i = 0; i < q->count; i++)
		ring[i] = q->ring[(q->head + i) & (q->cap - 1)];
	xfree(q->ring);
	q->ring = ring;
	q->cap = cap;
	q->head = 0;
}

/* Room in the ring for n more items. */
static void
queue_reserve(struct queue *q, size_t n)
{
	size_t cap = q->cap == 0 ? QUEUE_MIN_CAP : q->cap;

	while (cap - q->count < n)
		cap *= 2;
	if (cap != q->cap)
		queue_resize(q, cap);
}

static inline void
queue_push(struct queue *q, struct qitem *it)
{
	queue_reserve(q, 1);
	q->ring[(q->head + q->count) & (q->cap - 1)] = it;
	q->count++;
}

static struct qitem *
queue_pop(struct queue *q)
{
	struct qitem *it = q->ring[q->head];

	q->head = (q->head + 1) & (q->cap - 1);
	q->count--;
	/* Halve at a quarter full: a drained burst gives its ring back. */
	if (q->cap > QUEUE_MIN_CAP && q->count < q->cap / 4)
		queue_resize(q, q->cap / 2);
	return it;
}

static const struct qitem *
queue_peek(const struct queue *q, size_t i)
{
	return q->ring[(q->head + i) & (q->cap - 1)];
}

static bool
queue_has_room(const struct queue *q, uint64_t n)
{
	return q->maxsize == 0 ||
	    (q->count < q->maxsize && q->maxsize - q->count >= n);
}

/* Journal records out of line: without a journal a change pays the
 * inline journal_wants test alone. */
static void __attribute__((noinline))
queue_journal_put(const struct object *o, const uint8_t *bytes, size_t len,
    uint64_t nitems)
{
	pack_raw(journal_begin(o, QUEUE_J_PUT, (uint32_t)nitems), bytes, len);
	journal_end();
}

/* A get of n: POP n, or with ack LEASE conn n. */
static void __attribute__((noinline))
queue_journal_take(const struct object *o, const struct conn *c, bool ack,
    uint64_t n)
{
	msgpack_packer *pk = journal_begin(o, ack ? QUEUE_J_LEASE :
	    QUEUE_J_POP, 1 + ack);

	if (ack)
		msgpack_pack_uint64(pk, c->id);
	msgpack_pack_uint64(pk, n);
	journal_end();
}

/* Append nitems canonical values laid end to end in bytes. */
static void
queue_push_items(struct object *o, const uint8_t *bytes, size_t len,
    uint64_t nitems)
{
	struct queue *q = o->data;
	const uint8_t *p = bytes, *start;
	struct mpv v;
	uint64_t i;

	if (journal_wants(o))
		queue_journal_put(o, bytes, len, nitems);
	queue_reserve(q, nitems);
	if (nitems == 1)
		queue_push(q, queue_item_new(q, bytes, len));
	else {
		for (i = 0; i < nitems; i++) {
			start = p;
			mpv_read(&p, &v);
			queue_push(q, queue_item_new(q, start,
			    (size_t)(p - start)));
		}
	}
	q->unfinished += nitems;
}

/* --- leases (ack) ------------------------------------------------------ */

static void
queue_lease(struct object *o, struct conn *c, struct qitem *it)
{
	struct queue *q = o->data;
	struct hold *h = hold_get(c, o);
	struct lease *l = h->data;

	if (l == NULL) {
		l = xmalloc(sizeof *l);
		l->last = NULL;
		l->n = 0;
		LIST_INSERT_HEAD(&q->leases, l, link);
		q->bytes += sizeof *l;
		h->data = l;
	}
	if (l->last == NULL)
		it->next = it;
	else {
		it->next = l->last->next;
		l->last->next = it;
	}
	l->last = it;
	l->n++;
	h->n = l->n;
}

/* The oldest item of a non-empty lease chain, unlinked. */
static struct qitem *
queue_lease_pop(struct lease *l)
{
	struct qitem *it = l->last->next;

	if (it == l->last)
		l->last = NULL;
	else
		l->last->next = it->next;
	l->n--;
	return it;
}

static void
queue_lease_free(struct queue *q, struct lease *l)
{
	LIST_REMOVE(l, link);
	q->bytes -= sizeof *l;
	xfree(l);
}

/* h's oldest leased item is done: freed, and h goes with its last. */
static void
queue_lease_done(struct queue *q, struct hold *h)
{
	struct lease *l = h->data;

	queue_item_free(q, queue_lease_pop(l));
	h->n = l->n;
	if (l->n == 0) {
		queue_lease_free(q, l);
		hold_drop(h);
	}
}

/* --- serving parked requests ------------------------------------------ */

/* A get_many reply's array header: at most 5 bytes (array32). */
#define QUEUE_ARRAY_HEAD 5

/*
 * How many of the n oldest items of a non-empty q go to req's connection:
 * get one, get_many as many as fit in what the connection can take now,
 * at least one. 0 after answering LIMIT when not even the oldest fits:
 * nothing is ever taken that its reply cannot carry.
 */
static size_t
queue_fit(const struct queue *q, struct req *req, uint64_t n, bool many)
{
	size_t k, total = QUEUE_ARRAY_HEAD, room, len;

	len = queue_peek(q, 0)->len;
	if (!many)
		return reply_fits_now(req, len) ? 1 : 0;
	room = reply_room(req);
	for (k = 0; k < q->count && k < n; k++) {
		len = queue_peek(q, k)->len;
		if (total > room || len > room - total)
			break;
		total += len;
	}
	if (k == 0 && reply_fits_now(req, QUEUE_ARRAY_HEAD +
	    queue_peek(q, 0)->len))
		k = 1;
	return k;
}

/* Answer req, a get (one item) or get_many (an array), from the head of
 * a non-empty q; with ack the items are leased to req's connection. Or
 * LIMIT, with nothing taken (queue_fit). */
static void
queue_deliver(struct object *o, struct req *req, uint64_t n, bool many)
{
	struct queue *q = o->data;
	msgpack_packer *pk;
	struct qitem *it;
	size_t k = queue_fit(q, req, n, many), i;

	if (k == 0)
		return;
	if (journal_wants(o))
		queue_journal_take(o, req->c, q->ack, k);
	pk = reply_begin(req);
	if (many)
		msgpack_pack_array(pk, k);
	for (i = 0; i < k; i++) {
		it = queue_pop(q);
		pack_raw(pk, it->data, it->len);
		if (q->ack)
			queue_lease(o, req->c, it);
		else
			queue_item_free(q, it);
	}
}

static bool
queue_is_getter(const struct waiter *w)
{
	return w->state == QW_GET || w->state == QW_GET_MANY;
}

static void
queue_shutdown_error(struct req *req, const struct object *o)
{
	reply_error(req, PERR_SHUTDOWN, "queue '%.*s' is shut down",
	    (int)o->namelen, o->name);
}

/* Items to the oldest live getters (one whose replies do not fit gets
 * LIMIT and the item stays for the next); once a shut down queue is
 * empty, SHUTDOWN to the rest. true if any was answered. */
static bool
queue_serve_getters(struct object *o)
{
	struct queue *q = o->data;
	struct waiter *w, *next;
	bool served = false;

	if (q->ngetters == 0)
		return false;
	for (w = waiter_first(o); w != NULL && (q->count > 0 ||
	    q->shutdown != QUEUE_OPEN); w = next) {
		next = waiter_next(w);
		if (!queue_is_getter(w))
			continue;
		if (q->count == 0)
			queue_shutdown_error(&w->req, o);
		else if (waiter_peer_gone(w))
			continue;
		else
			queue_deliver(o, &w->req, (uint64_t)w->n,
			    w->state == QW_GET_MANY);
		q->ngetters--;
		waiter_done(w);
		served = true;
	}
	return served;
}

/* Room to the oldest live putters, stopping at the first that does not
 * fit: no smaller put barges past a waiting put_many. */
static bool
queue_admit_putters(struct object *o)
{
	struct queue *q = o->data;
	struct waiter *w, *next;
	bool admitted = false;

	if (q->nputters == 0)
		return false;
	for (w = waiter_first(o); w != NULL; w = next) {
		next = waiter_next(w);
		if (w->state != QW_PUT)
			continue;
		if (q->shutdown != QUEUE_OPEN)
			queue_shutdown_error(&w->req, o);
		else if (waiter_peer_gone(w))
			continue;
		else if (!queue_has_room(q, w->nitems))
			break;
		else {
			queue_push_items(o, w->data, w->datalen, w->nitems);
			reply_nil(&w->req);
		}
		q->nputters--;
		waiter_done(w);
		admitted = true;
	}
	return admitted;
}

/*
 * After q changed: serve getters and putters until neither can move (an
 * item taken makes room, a put admitted brings items), then answer the
 * join waiters if every task is done. Never settles o.
 */
static void
queue_pump(struct object *o)
{
	struct queue *q = queue_of(o);
	struct waiter *w, *next;
	bool moved;

	do {
		moved = queue_serve_getters(o);
		if (queue_admit_putters(o))
			moved = true;
	} while (moved);
	if (q->unfinished != 0 || q->njoiners == 0)
		return;
	for (w = waiter_first(o); w != NULL; w = next) {
		next = waiter_next(w);
		if (w->state != QW_JOIN)
			continue;
		q->njoiners--;
		reply_bool(&w->req, true);
		waiter_done(w);
	}
}

static void
queue_uncount(struct queue *q, int state)
{
	switch (state) {
	case QW_GET:
	case QW_GET_MANY:
		q->ngetters--;
		break;
	case QW_PUT:
		q->nputters--;
		break;
	case QW_JOIN:
		q->njoiners--;
		break;
	}
}

static void
queue_timeout(struct waiter *w)
{
	struct object *o = w->req.obj;
	int state = w->state;

	queue_uncount(o->data, state);
	switch (state) {
	case QW_GET:
	case QW_GET_MANY:
		reply_error(&w->req, PERR_EMPTY, "queue '%.*s' is empty",
		    (int)o->namelen, o->name);
		break;
	case QW_PUT:
		reply_error(&w->req, PERR_FULL, "queue '%.*s' is full",
		    (int)o->namelen, o->name);
		break;
	case QW_JOIN:
		reply_bool(&w->req, false);
		break;
	}
	waiter_done(w);
	/* A put_many that gave up may have held back smaller puts. */
	if (state == QW_PUT)
		queue_pump(o);
}

/* w left unserved (its peer is gone, or sys.cancel), already off the
 * FIFO. A put_many that held back smaller puts lets them in. */
static void
queue_left(struct waiter *w)
{
	queue_uncount(w->req.obj->data, w->state);
	if (w->state == QW_PUT)
		queue_pump(w->req.obj);
}

/* --- verbs ------------------------------------------------------------- */

static void
queue_full_error(struct req *req)
{
	reply_error_name(req, PERR_FULL, "queue '", "' is full");
}

/*
 * put and put_many: nitems (>= 1) canonical values end to end in bytes.
 * They go in at once when no putter waits and there is room for all of
 * them; else they wait (usec) or the answer is FULL.
 */
static void
queue_put_items(struct req *req, const uint8_t *bytes, size_t len,
    uint64_t nitems, int64_t usec)
{
	struct object *o = req->obj;
	struct queue *q = queue_of(o);
	struct waiter *w;

	if (q->shutdown != QUEUE_OPEN) {
		queue_shutdown_error(req, o);
		return;
	}
	if (q->nputters == 0 && queue_has_room(q, nitems)) {
		queue_push_items(o, bytes, len, nitems);
		reply_nil(req);
		queue_pump(o);
		return;
	}
	if (usec == 0) {
		queue_full_error(req);
		return;
	}
	w = waiter_park(req, &queue_waiter_ops, usec);
	w->state = QW_PUT;
	w->data = xmalloc(len);
	memcpy(w->data, bytes, len);
	w->datalen = len;
	w->nitems = nitems;
	q->nputters++;
}

static void
queue_put(struct req *req)
{
	const uint8_t *bytes;
	size_t n;
	int64_t usec;

	if (!waiter_timeout_arg(req, 2, &usec))
		return;
	value_canon(&req->argv[1], &ibuf, &bytes, &n);
	queue_put_items(req, bytes, n, 1, usec);
}

static void
queue_put_many(struct req *req)
{
	const struct mpv *items = &req->argv[1];
	struct queue *q = req->obj->data;
	struct mpv_iter it;
	struct mpv v;
	int64_t usec;

	if (items->type != MPV_ARRAY) {
		reply_error(req, PERR_BADTYPE, "%s takes an array of items, "
		    "not %s", req->method->name, value_kind(items));
		return;
	}
	if (!waiter_timeout_arg(req, 2, &usec))
		return;
	if (q->maxsize != 0 && items->len > q->maxsize) {
		reply_error(req, PERR_BADARG, "%s: %u items can never fit in "
		    "'%.*s' (maxsize %llu)", req->method->name, items->len,
		    req_namelen(req), req_name(req),
		    (unsigned long long)q->maxsize);
		return;
	}
	if (items->len == 0) {
		reply_nil(req);
		return;
	}
	/* The elements lie end to end in the frame: take them as they are
	 * when already canonical. */
	if (canon_is(items)) {
		queue_put_items(req, items->ptr,
		    (size_t)(items->raw + items->rawlen - items->ptr),
		    items->len, usec);
		return;
	}
	buf_reset(&mbuf);
	mpv_iter_init(&it, items);
	while (mpv_iter_next(&it, &v)) {
		if (canon_append(&mbuf, &v) != 0)
			fatalx("%s: out of memory", __func__);
	}
	queue_put_items(req, buf_head(&mbuf), buf_used(&mbuf), items->len,
	    usec);
	buf_reset(&mbuf);
	buf_shrink(&mbuf, 0);
}

/* get and get_many: the timeout is param ti. */
static void
queue_get_items(struct req *req, uint64_t n, bool many, unsigned ti)
{
	struct queue *q = queue_of(req->obj);
	struct waiter *w;
	int64_t usec;

	if (!waiter_timeout_arg(req, ti, &usec))
		return;
	if (q != NULL && q->count > 0) {
		queue_deliver(req->obj, req, n, many);
		queue_pump(req->obj);
		return;
	}
	if (q != NULL && q->shutdown != QUEUE_OPEN) {
		queue_shutdown_error(req, req->obj);
		return;
	}
	if (usec == 0) {
		reply_error_name(req, PERR_EMPTY, "queue '", "' is empty");
		return;
	}
	w = waiter_park(req, &queue_waiter_ops, usec);
	w->state = many ? QW_GET_MANY : QW_GET;
	w->n = (int64_t)n;
	queue_of(w->req.obj)->ngetters++;
}

static void
queue_get(struct req *req)
{
	queue_get_items(req, 1, false, 1);
}

static void
queue_get_many(struct req *req)
{
	uint64_t n;

	if (!req_uint_arg(req, 1, 1, UINT32_MAX, "n", &n))
		return;
	queue_get_items(req, n, true, 2);
}

static void
queue_qsize(struct req *req)
{
	const struct queue *q = queue_of(req->obj);

	reply_uint(req, q == NULL ? 0 : q->count);
}

static void
queue_empty(struct req *req)
{
	const struct queue *q = queue_of(req->obj);

	reply_bool(req, q == NULL || q->count == 0);
}

static void
queue_full(struct req *req)
{
	const struct queue *q = queue_of(req->obj);

	reply_bool(req, q != NULL && q->maxsize != 0 &&
	    q->count >= q->maxsize);
}

/*
 * Without ack, any connection may mark any got item done (Python's
 * counting), but not more items than were got: unfinished less the items
 * still queued. With ack, a connection marks its own oldest lease.
 */
static void
queue_task_done(struct req *req)
{
	struct queue *q = queue_of(req->obj);
	struct hold *h;

	if (q != NULL && q->ack) {
		if ((h = hold_find(req->c, req->obj)) == NULL) {
			reply_error(req, PERR_BADARG, "%s: no leased item on "
			    "this connection", req->method->name);
			return;
		}
		queue_lease_done(q, h);
	} else if (q == NULL || q->unfinished <= q->count) {
		reply_error(req, PERR_BADARG, "%s called more times than items "
		    "were got from '%.*s'", req->method->name, req_namelen(req),
		    req_name(req));
		return;
	}
	q->unfinished--;
	if (journal_wants(req->obj)) {
		msgpack_packer *pk = journal_begin(req->obj, QUEUE_J_DONE,
		    q->ack);

		if (q->ack)
			msgpack_pack_uint64(pk, req->c->id);
		journal_end();
	}
	reply_nil(req);
	if (q->unfinished == 0)
		queue_pump(req->obj);
}

static void
queue_join(struct req *req)
{
	struct queue *q = queue_of(req->obj);
	struct waiter *w;
	int64_t usec;

	if (!waiter_timeout_arg(req, 1, &usec))
		return;
	if (q == NULL || q->unfinished == 0) {
		reply_bool(req, true);
		return;
	}
	if (usec == 0) {
		reply_bool(req, false);
		return;
	}
	w = waiter_park(req, &queue_waiter_ops, usec);
	w->state = QW_JOIN;
	q->njoiners++;
}

static void
queue_journal_shutdown(const struct object *o, bool immediate)
{
	msgpack_packer *pk = journal_begin(o, QUEUE_J_SHUTDOWN, 1);

	if (immediate)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
	journal_end();
}

/* shutdown's change, journaled; replay makes it again. */
static void
queue_shut(struct object *o, bool immediate)
{
	struct queue *q = queue_of(o);

	if (journal_wants(o))
		queue_journal_shutdown(o, immediate);
	if (immediate) {
		q->shutdown = QUEUE_IMMEDIATE;
		/* Every item dropped counts as done (unfinished >= count). */
		q->unfinished -= q->count;
		while (q->count > 0)
			queue_item_free(q, queue_pop(q));
	} else if (q->shutdown == QUEUE_OPEN)
		q->shutdown = QUEUE_DRAIN;
}

/*
 * Python 3.13's Queue.shutdown(immediate). Shutting down again may make it
 * immediate, never undo it.
 */
static void
queue_shutdown(struct req *req)
{
	struct object *o = req->obj;
	const struct mpv *imm = &req->argv[1];
	bool immediate = false;

	if (req->argc > 1 && imm->type != MPV_NIL) {
		if (imm->type != MPV_BOOL) {
			reply_error(req, PERR_BADARG, "%s: immediate must be a "
			    "bool", req->method->name);
			return;
		}
		immediate = imm->v.b;
	}
	queue_shut(o, immediate);
	reply_nil(req);
	queue_pump(o);
}

/* --- the type ---------------------------------------------------------- */

/* Options: {maxsize: int (<= 0 unbounded, as in Python), ack: bool}. */
enum { QUEUE_OPT_MAXSIZE, QUEUE_OPT_ACK };

static const struct opt queue_opts[] = {
	[QUEUE_OPT_MAXSIZE] = { .key = "maxsize", .kind = OPT_SIZE, .def = 0 },
	[QUEUE_OPT_ACK] = { .key = "ack", .kind = OPT_BOOL, .def = false },
	{ .key = NULL }
};

static void
queue_init(struct object *o, const struct optval *v)
{
	struct queue *q = xcalloc(1, sizeof *q);

	q->maxsize = v[QUEUE_OPT_MAXSIZE].u;
	q->ack = v[QUEUE_OPT_ACK].u;
	LIST_INIT(&q->leases);
	o->data = q;
}

/* Leases are all back in the ring by now: a deleted queue's holds went
 * through queue_conn_gone, and a settled one had none. */
static bool
queue_free_step(struct object *o, size_t budget)
{
	struct queue *q = o->data;

	if (!LIST_EMPTY(&q->leases))
		fatalx("%s: '%.*s' freed with leases out", __func__,
		    (int)o->namelen, o->name);
	for (; budget > 0 && q->count > 0; budget--) {
		queue_item_free(q, q->ring[q->head]);
		q->head = (q->head + 1) & (q->cap - 1);
		q->count--;
	}
	if (q->count > 0)
		return false;
	xfree(q->ring);
	xfree(q);
	return true;
}

static bool
queue_is_initial(const struct object *o)
{
	const struct queue *q = o->data;

	return q->count == 0 && q->unfinished == 0 &&
	    q->shutdown == QUEUE_OPEN && LIST_EMPTY(&q->leases) &&
	    LIST_EMPTY(&o->holds);
}

static uint64_t
queue_size(const struct object *o)
{
	const struct queue *q = o->data;

	return q->count;
}

static size_t
queue_mem(const struct object *o)
{
	const struct queue *q = o->data;

	return sizeof *q + q->cap * sizeof *q->ring + q->bytes;
}

/* h->c closed before task_done: its leased items go back to the head, in
 * the order they were got, and on to waiting getters; after an immediate
 * shutdown they are dropped, and count as done. */
static void
queue_conn_gone(struct hold *h)
{
	struct object *o = h->o;
	struct queue *q = o->data;
	struct lease *l = h->data;
	struct qitem *it, *next;
	size_t i;

	if (l != NULL && journal_wants(o)) {
		msgpack_pack_uint64(journal_begin(o, QUEUE_J_REQUEUE, 1),
		    h->c->id);
		journal_end();
	}
	if (l != NULL && q->shutdown == QUEUE_IMMEDIATE) {
		q->unfinished -= l->n;
		while (l->n > 0)
			queue_item_free(q, queue_lease_pop(l));
		queue_lease_free(q, l);
	} else if (l != NULL) {
		queue_reserve(q, l->n);
		q->head = (q->head - l->n) & (q->cap - 1);
		it = l->last->next;
		for (i = 0; i < l->n; i++, it = next) {
			next = it->next;
			it->next = NULL;
			q->ring[(q->head + i) & (q->cap - 1)] = it;
		}
		q->count += l->n;
		queue_lease_free(q, l);
	}
	hold_drop(h);
	queue_pump(o);
}

/*
 * Contents: the items as a restart keeps them: the leased ones first, as
 * their connections' closes would give them back (each connection's in
 * the order they were got), then the queue's. Unfinished tasks are not
 * kept: a restored item counts one, as if put.
 */
static void
queue_contents(const struct object *o, msgpack_packer *pk)
{
	const struct queue *q = o->data;
	const struct lease *l;
	const struct qitem *it;
	size_t n = q->count, i;

	LIST_FOREACH(l, &q->leases, link)
		n += l->n;
	msgpack_pack_array(pk, n);
	LIST_FOREACH(l, &q->leases, link) {
		it = l->last != NULL ? l->last->next : NULL;
		for (i = 0; i < l->n; i++, it = it->next)
			pack_raw(pk, it->data, it->len);
	}
	for (i = 0; i < q->count; i++) {
		it = queue_peek(q, i);
		pack_raw(pk, it->data, it->len);
	}
}

/* Every item, whatever maxsize says (as leases given back may). */
static int
queue_restore(struct object *o, const struct mpv *c, struct req *req)
{
	struct queue *q = o->data;
	struct mpv_iter it;
	struct mpv e;
	const uint8_t *b;
	size_t n;

	if (c->type == MPV_NIL)
		return 0;
	if (c->type != MPV_ARRAY) {
		reply_error(req, PERR_BADTYPE, "%s: a queue's contents are an "
		    "array of items, not %s", req->method->name,
		    value_kind(c));
		return -1;
	}
	queue_reserve(q, c->len);
	mpv_iter_init(&it, c);
	while (mpv_iter_next(&it, &e)) {
		value_canon(&e, &ibuf, &b, &n);
		queue_push(q, queue_item_new(q, b, n));
	}
	q->unfinished = q->count;
	return 0;
}

/* --- replay ------------------------------------------------------------ */

static const char *
queue_replay_put(struct object *o, struct mpv_iter *args, uint32_t nargs)
{
	struct queue *q = o->data;
	struct mpv v;

	queue_reserve(q, nargs);
	while (mpv_iter_next(args, &v))
		queue_push(q, queue_item_new(q, v.raw, v.rawlen));
	q->unfinished += nargs;
	return NULL;
}

/* An int arg. */
static bool
queue_replay_uint(struct mpv_iter *args, uint64_t *u)
{
	struct mpv v;

	jop_arg(args, &v);
	*u = v.v.u;
	return v.type == MPV_UINT;
}

/* The ghost a record names, as its first arg. */
static struct conn *
queue_replay_ghost(struct mpv_iter *args)
{
	uint64_t id;

	return queue_replay_uint(args, &id) ? journal_ghost(id) : NULL;
}

static const char *
queue_replay_pop(struct object *o, struct mpv_iter *args, uint32_t nargs)
{
	struct queue *q = o->data;
	struct conn *g = NULL;
	uint64_t n;

	if (q->ack != (nargs == 2))
		return "a get that does not match the queue's ack";
	if (nargs == 2 && (g = queue_replay_ghost(args)) == NULL)
		return "a connection id must be an int";
	if (!queue_replay_uint(args, &n) || n > q->count)
		return "more items than the queue holds";
	while (n-- > 0) {
		if (g != NULL)
			queue_lease(o, g, queue_pop(q));
		else
			queue_item_free(q, queue_pop(q));
	}
	return NULL;
}

static const char *
queue_replay_done(struct object *o, struct mpv_iter *args, uint32_t nargs)
{
	struct queue *q = o->data;
	struct hold *h = NULL;
	struct conn *g;

	if (q->ack != (nargs == 1))
		return "a task_done that does not match the queue's ack";
	if (nargs == 1) {
		if ((g = queue_replay_ghost(args)) == NULL ||
		    (h = hold_find(g, o)) == NULL)
			return "task_done of a connection without a lease";
		queue_lease_done(q, h);
	} else if (q->unfinished <= q->count)
		return "task_done of an item never got";
	q->unfinished--;
	return NULL;
}

static const char *
queue_replay_requeue(struct object *o, struct mpv_iter *args,
    uint32_t nargs)
{
	struct conn *g = queue_replay_ghost(args);
	struct hold *h;

	if (g == NULL || (h = hold_find(g, o)) == NULL)
		return "leases of a connection without any";
	o->type->conn_gone(h);
	return NULL;
}

static const char *
queue_replay_unfinished(struct object *o, struct mpv_iter *args,
    uint32_t nargs)
{
	struct queue *q = o->data;
	uint64_t n;

	if (!queue_replay_uint(args, &n))
		return "a count must be an int";
	q->unfinished = n;
	return NULL;
}

static const char *
queue_replay_leased(struct object *o, struct mpv_iter *args, uint32_t nargs)
{
	struct queue *q = o->data;
	struct conn *g = queue_replay_ghost(args);
	struct mpv v;

	if (g == NULL || !q->ack)
		return "leases in a queue without ack";
	while (mpv_iter_next(args, &v))
		queue_lease(o, g, queue_item_new(q, v.raw, v.rawlen));
	return NULL;
}

static const char *
queue_replay_shutdown(struct object *o, struct mpv_iter *args,
    uint32_t nargs)
{
	struct mpv v;

	jop_arg(args, &v);
	if (v.type != MPV_BOOL)
		return "immediate must be a bool";
	queue_shut(o, v.v.b);
	return NULL;
}

static const struct jop queue_jops[] = {
	[QUEUE_J_PUT] = { "put", 0, JOP_ANY, queue_replay_put },
	[QUEUE_J_POP] = { "pop", 1, 1, queue_replay_pop },
	[QUEUE_J_LEASE] = { "lease", 2, 2, queue_replay_pop },
	[QUEUE_J_DONE] = { "done", 0, 1, queue_replay_done },
	[QUEUE_J_REQUEUE] = { "requeue", 1, 1, queue_replay_requeue },
	[QUEUE_J_UNFINISHED] = { "unfinished", 1, 1,
	    queue_replay_unfinished },
	[QUEUE_J_LEASED] = { "leased", 1, JOP_ANY, queue_replay_leased },
	[QUEUE_J_SHUTDOWN] = { "shutdown", 1, 1, queue_replay_shutdown },
	JOP_END
};

/* The items in order, each connection's leases, the unfinished count,
 * the shutdown. */
static void
queue_dump(const struct object *o)
{
	const struct queue *q = o->data;
	const struct hold *h;
	const struct lease *l;
	const struct qitem *it;
	msgpack_packer *pk;
	size_t i = 0, end, bytes, k;

	while (i < q->count) {
		for (end = i, bytes = 0; end < q->count &&
		    bytes < JOURNAL_BATCH; end++)
			bytes += queue_peek(q, end)->len;
		pk = journal_begin(o, QUEUE_J_PUT, (uint32_t)(end - i));
		for (; i < end; i++)
			pack_raw(pk, queue_peek(q, i)->data,
			    queue_peek(q, i)->len);
		journal_end();
	}
	LIST_FOREACH(h, &o->holds, by_obj) {
		if ((l = h->data) == NULL || l->n == 0)
			continue;
		pk = journal_begin(o, QUEUE_J_LEASED, 1 + (uint32_t)l->n);
		msgpack_pack_uint64(pk, h->c->id);
		for (k = 0, it = l->last->next; k < l->n; k++, it = it->next)
			pack_raw(pk, it->data, it->len);
		journal_end();
	}
	if (q->unfinished != q->count) {
		msgpack_pack_uint64(journal_begin(o, QUEUE_J_UNFINISHED, 1),
		    q->unfinished);
		journal_end();
	}
	/* last: immediate drops the items queued, and there are none then */
	if (q->shutdown != QUEUE_OPEN)
		queue_journal_shutdown(o, q->shutdown == QUEUE_IMMEDIATE);
}

static const struct method queue_methods[] = {
	MPMGR_METHODS_QUEUE(DISPATCH_ROW)
	DISPATCH_END
};

/* An ack queue's getter holds its leases. */
static const char *
queue_hold_text(const struct hold *h, char *buf, size_t len)
{
	snprintf(buf, len, "%llu leased item%s", (unsigned long long)h->n,
	    h->n == 1 ? "" : "s");
	return buf;
}

static const char *
queue_busy_text(const struct object *o, char *buf, size_t len)
{
	const struct queue *q = o->data;

	snprintf(buf, len, "%zu item%s, %llu unfinished task%s (task_done)%s",
	    q->count, q->count == 1 ? "" : "s",
	    (unsigned long long)q->unfinished, q->unfinished == 1 ? "" : "s",
	    q->shutdown != QUEUE_OPEN ? ", shut down" : "");
	return buf;
}

const struct obj_type queue_type = {
	.name = "queue",
	.methods = queue_methods,
	.opts = queue_opts,
	.init = queue_init,
	.free_step = queue_free_step,
	.is_initial = queue_is_initial,
	.size = queue_size,
	.mem = queue_mem,
	.conn_gone = queue_conn_gone,
	.contents = queue_contents,
	.restore = queue_restore,
	.hold_text = queue_hold_text,
	.busy_text = queue_busy_text,
	.jcode = JC_QUEUE,
	.jops = queue_jops,
	.dump = queue_dump,
};
