/*
 * replay.h: the journal's records applied to the registry, and the
 * registry written as records (replay.c; journal.h says what a record
 * is).
 */
#ifndef MPMGR_REPLAY_H
#define MPMGR_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "journal.h"

/*
 * Before listening, with the types registered (dispatch_init) and the
 * loop made: replay the journal in cfg->dir, go on appending to it, and
 * apply the restart rule (every connection of before is closed). 0, or
 * -1 with err: a bad record names its file and offset and --repair.
 */
int replay_start(const struct journal_config *cfg, char *err, size_t errlen);
/*
 * --repair: replay (into this process's registry) until the first bad
 * record, and cut the journal there (journal_cut). 0 with what was done
 * (or that nothing needed it) in msg, or -1 with msg.
 */
int replay_repair(const struct journal_config *cfg, char *msg,
    size_t msglen);
/*
 * Apply one record's body (len bytes, one MessagePack array that
 * scan_frame accepted) to the registry: NULL, or why it cannot be (in err
 * or a static text). Journals nothing, answers no one, wakes no waiter.
 */
const char *replay_record(const uint8_t *body, size_t len, char *err,
    size_t errlen);
/*
 * Every object a restart keeps (not ephemeral) as records, through
 * journal_begin (so into a capture, journal_capture_begin): an explicit
 * object's creation, then its type's dump. Compaction writes this.
 */
void replay_dump_all(void);
/* One object's records, as replay_dump_all makes them (nothing for an
 * object a restart does not keep): what an obj.restore journals. */
void replay_dump_object(const struct object *o);

#endif
