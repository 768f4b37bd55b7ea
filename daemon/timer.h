/*
 * timer.h: deadlines that belong to objects, not to requests (those are
 * waiter.c's): a pipe's pending hand-offs.
 *
 * A type embeds a struct timer in its object's data and arms it for the
 * earliest deadline it has. Every armed timer lives in one min-heap with
 * one libevent timer on server.base set for the earliest: O(log n) to arm,
 * move or disarm, nothing per tick. When a deadline passes the timer is
 * disarmed, its fire function runs (it may answer waiters and arm the
 * timer again), and then its object is settled (registry_settle), as
 * waiter.c settles after a request's deadline.
 *
 * A type disarms its timer before its object's data is freed.
 */
#ifndef MPMGR_TIMER_H
#define MPMGR_TIMER_H

#include <stddef.h>
#include <stdint.h>

struct object;

struct timer {
	uint64_t deadline;        /* now_usec() clock; 0 while disarmed */
	size_t index;             /* in the heap while armed */
	struct object *o;         /* settled after fire */
	/* The deadline passed (t is disarmed): now is the clock that
	 * timer_expire was given. */
	void (*fire)(struct timer *t, uint64_t now);
};

/* t, disarmed, fires fire(t) for o. */
void timer_setup(struct timer *t, struct object *o,
    void (*fire)(struct timer *t, uint64_t now));
/* Arm t for deadline (> 0), or move it there if armed. */
void timer_arm(struct timer *t, uint64_t deadline);
/* Disarm t if armed. */
void timer_disarm(struct timer *t);
/*
 * Fire every timer whose deadline <= now, earliest first, then re-arm
 * the libevent timer. The libevent timer's work; tests call it directly.
 */
void timer_expire(uint64_t now);
/* Armed timers (tests). */
size_t timer_count(void);

#endif
