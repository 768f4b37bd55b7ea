/*
 * fence.c: the daemon's one counter of fencing tokens (fence.h).
 *
 * Owns the counter and its reserved ceiling. A leaf: it calls nothing of
 * the daemon but what it was given (the journal's reserve function).
 */
#include <stdbool.h>
#include <time.h>

#include "fence.h"

static uint64_t last;            /* the last token handed out */
static uint64_t ceiling;         /* recorded by reserve; 0: none yet */
static bool started;
static void (*reserve_fn)(uint64_t);

/* Above the wall clock in microseconds, once. */
static void
fence_start(void)
{
	struct timespec ts;
	uint64_t now;

	if (started)
		return;
	started = true;
	clock_gettime(CLOCK_REALTIME, &ts);
	now = (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
	if (now > last)
		last = now;
}

uint64_t
fence_next(void)
{
	fence_start();
	last++;
	if (reserve_fn != NULL && last > ceiling) {
		ceiling = last + FENCE_BLOCK;
		reserve_fn(ceiling);
	}
	return last;
}

uint64_t
fence_last(void)
{
	fence_start();
	return last;
}

void
fence_floor(uint64_t floor)
{
	if (floor > last)
		last = floor;
	if (floor > ceiling)
		ceiling = floor;
}

void
fence_set_reserve(void (*reserve)(uint64_t))
{
	reserve_fn = reserve;
	/* What was handed out before is covered by the next record. */
	ceiling = 0;
}
