/*
 * fence.h: fencing tokens (Kleppmann's): the number every successful
 * lock, rlock or semaphore acquire can answer (its `fence` option), for
 * the holder to hand to the resource it guards, which refuses a token
 * lower than one it has seen.
 *
 * One counter serves the whole daemon, so a token is never handed out
 * twice and only grows, per object and across objects: an implicit lock
 * deleted and made again does not start over. It starts above the wall
 * clock in microseconds (so a daemon restarted without a journal still
 * hands out larger tokens, unless the clock stepped back or it handed
 * out more than a million a second) and above the floor a journal
 * restores (fence_floor).
 *
 * Persisting it is the journal's (docs/HACKING.md, "Fencing tokens"): it
 * gives fence_set_reserve() a function that records a ceiling; tokens up
 * to the last recorded ceiling may be handed out, and the next token past
 * it records a new one FENCE_BLOCK further first. Replaying that record
 * is fence_floor(ceiling). So the journal writes one record per
 * FENCE_BLOCK tokens, not one per acquire.
 */
#ifndef MPMGR_FENCE_H
#define MPMGR_FENCE_H

#include <stdint.h>

/* Tokens handed out between two reserve records. */
#define FENCE_BLOCK 65536

/* The next token: larger than every one handed out before. */
uint64_t fence_next(void);
/* The last token handed out, or what the next one will be above. */
uint64_t fence_last(void);
/* Tokens from now on are larger than floor (a journal's replay). */
void fence_floor(uint64_t floor);
/*
 * reserve(ceiling) records that tokens up to ceiling may have been handed
 * out; it runs before the first token past the previous ceiling leaves.
 * NULL: nothing is recorded.
 */
void fence_set_reserve(void (*reserve)(uint64_t ceiling));

#endif
