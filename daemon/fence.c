/*
 * fence.c: the daemon's one counter of fencing tokens (fence.h).
 *
 * Owns the counter and its reserved ceiling, which the journal keeps as
 * one of its daemon-wide counters (journal.h, journal_counter_*): a
 * record per FENCE_BLOCK tokens, replayed as a floor.
 */
#include <stdbool.h>
#include <time.h>

#include "fence.h"
#include "journal.h"

static uint64_t last;            /* the last token handed out */
static uint64_t ceiling;         /* reserved in the journal; 0: none yet */
static bool started;

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
	if (last > ceiling) {
		ceiling = last + FENCE_BLOCK;
		journal_counter_reserve(FENCE_COUNTER, ceiling);
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

uint64_t
fence_ceiling(void)
{
	return ceiling > last ? ceiling : last;
}

void
fence_register(void)
{
	journal_counter_register(FENCE_COUNTER, fence_floor, fence_ceiling);
}
