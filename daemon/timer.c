/*
 * timer.c: the deadlines of objects (the contract is in timer.h).
 *
 * Owns the heap of armed timers (the types own the struct timers) and
 * one evtimer on server.base, made when the first timer is armed and set
 * for the earliest deadline. Arming, moving and disarming cost O(log n).
 */
#include "log.h"
#include "mem.h"
#include "registry.h"
#include "server.h"
#include "timer.h"

static struct {
	struct timer **t;
	size_t len;
	size_t cap;
} heap;

static struct event *ev;          /* set for heap.t[0]'s deadline */
static uint64_t ev_for;           /* the deadline ev is set for; 0: none */

static void timer_cb(evutil_socket_t, short, void *);

static bool
timer_less(const struct timer *a, const struct timer *b)
{
	return a->deadline < b->deadline;
}

static void
timer_put(size_t i, struct timer *t)
{
	heap.t[i] = t;
	t->index = i;
}

static void
timer_up(size_t i)
{
	struct timer *t = heap.t[i];
	size_t parent;

	while (i > 0) {
		parent = (i - 1) / 2;
		if (!timer_less(t, heap.t[parent]))
			break;
		timer_put(i, heap.t[parent]);
		i = parent;
	}
	timer_put(i, t);
}

static void
timer_down(size_t i)
{
	struct timer *t = heap.t[i];
	size_t l, m;

	for (;;) {
		l = 2 * i + 1;
		if (l >= heap.len)
			break;
		m = l;
		if (l + 1 < heap.len && timer_less(heap.t[l + 1], heap.t[l]))
			m = l + 1;
		if (!timer_less(heap.t[m], t))
			break;
		timer_put(i, heap.t[m]);
		i = m;
	}
	timer_put(i, t);
}

/* Point ev at the earliest deadline, if that changed. */
static void
timer_reset(void)
{
	struct timeval tv;
	uint64_t first, now, left;

	if (heap.len == 0) {
		if (ev_for != 0)
			evtimer_del(ev);
		ev_for = 0;
		return;
	}
	first = heap.t[0]->deadline;
	if (first == ev_for)
		return;
	if (ev == NULL && (server.base == NULL ||
	    (ev = evtimer_new(server.base, timer_cb, NULL)) == NULL))
		fatalx("%s: no event loop for deadlines", __func__);
	now = now_usec();
	left = first > now ? first - now : 0;
	tv.tv_sec = (time_t)(left / 1000000);
	tv.tv_usec = (suseconds_t)(left % 1000000);
	evtimer_add(ev, &tv);
	ev_for = first;
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	ev_for = 0;
	timer_expire(now_usec());
}

void
timer_setup(struct timer *t, struct object *o,
    void (*fire)(struct timer *, uint64_t))
{
	t->deadline = 0;
	t->index = 0;
	t->o = o;
	t->fire = fire;
}

/* Out of the heap; the caller resets ev. */
static void
timer_remove(struct timer *t)
{
	struct timer *last;
	size_t i = t->index;

	if (i >= heap.len || heap.t[i] != t)
		fatalx("%s: timer not in the heap", __func__);
	last = heap.t[--heap.len];
	t->deadline = 0;
	if (last == t)
		return;
	timer_put(i, last);
	timer_up(i);
	timer_down(last->index);
}

void
timer_arm(struct timer *t, uint64_t deadline)
{
	if (deadline == 0)
		fatalx("%s: no deadline", __func__);
	if (t->deadline != 0)
		timer_remove(t);
	if (heap.len == heap.cap) {
		heap.cap = heap.cap == 0 ? 16 : heap.cap * 2;
		heap.t = xrealloc(heap.t, heap.cap * sizeof *heap.t);
	}
	t->deadline = deadline;
	timer_put(heap.len++, t);
	timer_up(t->index);
	timer_reset();
}

void
timer_disarm(struct timer *t)
{
	if (t->deadline == 0)
		return;
	timer_remove(t);
	timer_reset();
}

void
timer_expire(uint64_t now)
{
	struct timer *t;

	while (heap.len > 0 && heap.t[0]->deadline <= now) {
		t = heap.t[0];
		timer_remove(t);
		/* The type may arm t again; settling may free t. */
		t->fire(t, now);
		registry_settle(t->o);
	}
	timer_reset();
}

size_t
timer_count(void)
{
	return heap.len;
}
