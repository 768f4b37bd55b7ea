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
 * It persists as one of the journal's daemon-wide counters (journal.h;
 * docs/HACKING.md, "Fencing tokens"): tokens up to the last ceiling
 * reserved may be handed out, and the next token past it reserves a new
 * one FENCE_BLOCK further first (a record, written before any reply of
 * its loop turn). Replaying that record is fence_floor(ceiling). So the
 * journal writes one record per FENCE_BLOCK tokens, not one per acquire.
 */
#ifndef MPMGR_FENCE_H
#define MPMGR_FENCE_H

#include <stdint.h>

/* Tokens handed out between two reserve records. */
#define FENCE_BLOCK 65536
/* Its name among the journal's counters. */
#define FENCE_COUNTER "fence"

/* The next token: larger than every one handed out before. */
uint64_t fence_next(void);
/* The last token handed out, or what the next one will be above. */
uint64_t fence_last(void);
/* Tokens from now on are larger than floor (a journal's replay). */
void fence_floor(uint64_t floor);
/* The ceiling reserved: what a compaction's snapshot records. */
uint64_t fence_ceiling(void);
/* Make the counter the journal's (FENCE_COUNTER), before a replay reads
 * its records: dispatch_init calls it. */
void fence_register(void);

#endif
