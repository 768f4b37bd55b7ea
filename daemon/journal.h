/*
 * journal.h: state that survives a restart (DESIGN.md, Journal).
 *
 * With --data-dir, every change to what a restart keeps is appended as a
 * record to the journal, a few files in that directory, and replayed at
 * start (replay.c) before the daemon listens. A record is the change's
 * canonical effect, never the request when the request is not
 * deterministic on its own: the value an incr stored, the index a
 * list.remove took out, the number of items a queue.get took from the
 * head (which items those were follows from the state the journal has
 * rebuilt so far).
 *
 * Records are made where the state changes, in the types' own code
 * (obj_*.c), not by dispatch around a handler: a put handed straight to a
 * parked getter, a lock handed to the next waiter by a release, leased
 * items going back to a queue when their connection closes are changes
 * no request names. The catalogue's MF_WRITE flag is what the journal is
 * held to: dispatch checks that a method without it made no record.
 *
 * What a restart keeps is what would be left if every client disconnected
 * at that moment (docs/PROTOCOL.md, Restarts): so what only lasts while a
 * connection lives is never journaled (a lock acquire, a permit taken,
 * parked waiters, ephemeral objects), and only what outlives connections
 * is (a semaphore's value with its outstanding permits given back).
 *
 * A record, in a file: u32 length, u32 CRC-32C over the length's four
 * bytes and the body, then the body of that length: one MessagePack array
 * [code, op, name, args...]. code is the type's (JC_*, fixed forever:
 * a file names types by these numbers), op indexes the type's table of
 * journal ops (struct jop), name is the object's name (a str), args are
 * the op's. Little-endian; a file starts with JOURNAL_MAGIC and the
 * format's version.
 */
#ifndef MPMGR_JOURNAL_H
#define MPMGR_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "../proto/buf.h"
#include "../proto/scan.h"
#include "registry.h"

struct conn;

/* Type codes of records: one per type, never reused or renumbered. */
enum jcode {
	JC_REGISTRY = 0,   /* create and delete (below) */
	JC_DICT = 1,
	JC_VALUE = 2,
	JC_LIST = 3,
	JC_ARRAY = 4,
	JC_QUEUE = 5,
	JC_EVENT = 6,
	JC_BARRIER = 7,
	JC_LOCK = 8,
	JC_RLOCK = 9,
	JC_SEMAPHORE = 10,
	JC_CONDITION = 11,
	JC_PIPE = 12,      /* never in a file: a restart drops pipes */
	JC_PROCESS = 13,
	JC_POOL = 14,
	JC_MAX = 31
};

/* The registry's ops (code JC_REGISTRY). */
enum {
	JR_CREATE,         /* name, type code, options map: TYPE.create of a
			      new object, or of an implicit one it makes
			      explicit */
	JR_DELETE,         /* name: obj.delete, or an object becoming
			      ephemeral (gone for the journal) */
	JR_COUNTER         /* a daemon-wide counter's name, its ceiling */
};

/*
 * One op of a type's journal: a row of the table obj_type.jops points at,
 * indexed by the op's number and ended by a NULL name, as methods are.
 * Replay checks the arity (args after the name) and finds the object
 * (created with its type's defaults when missing, as a write would),
 * then calls replay with the args: it applies the change to o and
 * returns NULL, or a static text saying why the record cannot be
 * applied (the journal is then refused as corrupt at that record).
 * replay never journals, never answers anyone and never settles: there
 * are no clients yet.
 */
struct jop {
	const char *name;         /* "set": for messages and dumps */
	uint32_t min_args;
	uint32_t max_args;        /* JOP_ANY: no limit */
	const char *(*replay)(struct object *o, struct mpv_iter *args,
	    uint32_t nargs);
};
#define JOP_ANY UINT32_MAX
#define JOP_END { .name = NULL }
/*
 * The next arg of a record into *v, for a replay function: the arity was
 * checked, so it is there; a nil past the end all the same.
 */
static inline void
jop_arg(struct mpv_iter *args, struct mpv *v)
{
	static const uint8_t nil = 0xc0;

	if (!mpv_iter_next(args, v))
		mpv_head(&nil, v);
}

/* A dump puts about this many bytes of elements in one record. */
#define JOURNAL_BATCH (64 * 1024)

/* --- making records ------------------------------------------------------ */

/* A journal is kept: --data-dir was given and replay is over. Set only by
 * journal.c; false in the unit tests unless one turns it on. */
extern bool journal_on;

/*
 * Whether a change to o must be journaled: a journal is kept and o is not
 * ephemeral (an ephemeral object goes at a restart: none of its changes
 * are kept). The one test the types make before building a record; it
 * costs one load when no journal is kept.
 */
static inline bool
journal_wants(const struct object *o)
{
	return journal_on && o->owner == NULL;
}

/*
 * Whether o's creation and deletion must be journaled: journal_wants,
 * and o's type is one a restart keeps (not a pipe: obj_type.dropped).
 */
static inline bool
journal_wants_registry(const struct object *o)
{
	return journal_wants(o) && !o->type->dropped;
}

/*
 * Start a record of op of o's type on o, with nargs args that the caller
 * packs with the packer returned (each arg one MessagePack value; stored
 * values as their canonical bytes, pack_raw), then journal_end(). Nothing
 * else may be journaled in between. Works whether journal_on or not (a
 * dump into a capture buffer); the types test journal_wants first.
 */
msgpack_packer *journal_begin(const struct object *o, unsigned op,
    uint32_t nargs);
/* The same with the code and name given: the registry's records, and a
 * type whose records name another object (a condition's own rlock). */
msgpack_packer *journal_begin_raw(unsigned code, unsigned op,
    const char *name, size_t namelen, uint32_t nargs);
/* Close the record: length and CRC. It goes to disk by the end of the
 * loop turn (journal_holds_output). */
void journal_end(void);
/* A record of o's deletion (JR_DELETE), when journal_wants_registry(o):
 * obj.delete, a restore's replace, an implicit object made ephemeral. */
void journal_delete(const struct object *o);

/*
 * Records made since start (journal.c counts them): dispatch compares it
 * around a method without MF_WRITE, which must make none.
 */
uint64_t journal_records(void);

/*
 * A daemon-wide counter that only grows and survives restarts without a
 * record per step (the fencing tokens: one counter for the daemon, so
 * that an implicit lock deleted and made again never starts over). Its
 * owner reserves ceilings ahead (a record per block of values, before
 * the first value past the last ceiling leaves: records of a loop turn
 * are written before its replies) with journal_counter_reserve, and
 * registers once, before replay, the function replay calls for each of
 * its records (floor: no value below the ceiling found may come again)
 * and the one compaction asks for the ceiling to write in a snapshot.
 * That must be the ceiling reserved, not the last value handed out:
 * values up to it may leave after the compaction's fork without a new
 * record. With --fsync always a reservation is on disk before any reply
 * of its turn; with everysec or no, an OS crash may lose the last one.
 */
void journal_counter_register(const char *name, void (*floor)(uint64_t),
    uint64_t (*ceiling)(void));
/* A record of name's new ceiling, when a journal is kept. */
void journal_counter_reserve(const char *name, uint64_t ceiling);
/* Replay of a record of name: its floor function, or false if no
 * counter of that name was registered. */
bool journal_counter_replay(const char *name, size_t len, uint64_t ceiling);
/* Compaction: a record of every registered counter's ceiling. */
void journal_counter_dump(void);

/*
 * Send records to b instead of the journal until journal_capture_end(),
 * which answers how many were made: a dump of objects (obj_type.dump) for
 * another use than compaction, or a test. framed: each with its length
 * and CRC, as in a file; else the bodies alone, back to back (MessagePack
 * arrays, ready to pack as elements of a reply). No loop turn may pass
 * in between.
 */
void journal_capture_begin(struct buf *b, bool framed);
uint64_t journal_capture_end(void);

/* --- the daemon's journal -------------------------------------------------- */

enum journal_fsync {
	JOURNAL_FSYNC_ALWAYS,     /* a reply leaves once its records are on
				     disk: one fdatasync per loop turn */
	JOURNAL_FSYNC_EVERYSEC,   /* written each turn, synced each second by
				     a thread of its own */
	JOURNAL_FSYNC_NO          /* written each turn, synced when the kernel
				     likes */
};

struct journal_config {
	const char *dir;
	enum journal_fsync fsync;
	double compact_ratio;     /* compact when the files reach this many
				     times the last snapshot... */
	uint64_t compact_min;     /* ...and at least this many bytes */
};

/* "always", "everysec", "no"; -1 for anything else. */
int journal_fsync_parse(const char *s);
const char *journal_fsync_name(enum journal_fsync f);

/*
 * True while records made this loop turn are not yet written (not yet
 * synced, with always): the connection layer holds every reply until
 * journal_set_flushed's function says they are, so that no client sees
 * what a crash could undo (a kill -9 under any policy, a power cut under
 * always). False without a journal.
 */
extern bool journal_unflushed;
static inline bool
journal_holds_output(void)
{
	return journal_unflushed;
}
/* The connection layer's function, called once held replies may go. */
void journal_set_flushed(void (*fn)(void));
/* A connection's replies wait for this flush: counted once per flush
 * (*mark, the connection's, remembers), for the gathering of a sync's
 * clients (--fsync always). */
void journal_count_waiting(uint64_t *mark);
/* Write (and with always, sync) what is buffered now, off the loop's
 * schedule: a connection that must write at once (its output at its
 * limit, the stop). */
void journal_flush_now(void);

/* --- files, for replay.c ---------------------------------------------------- */

/*
 * Take the directory (created 0700 with its parents when missing; refused
 * when it is not ours or others may write in it) and its lock (one daemon
 * per directory), and list the files a replay must read, in order: the
 * newest complete snapshot, then every incr file from its number on.
 * 0, or -1 with err.
 */
int journal_open(const struct journal_config *cfg, char *err, size_t errlen);
/* The files to replay (paths), in order; NULL after the last. */
const char *journal_file(size_t i);
bool journal_file_is_base(size_t i);
/*
 * --repair: file i is bad at offset (why): keep a copy of it, cut it
 * there, and set the files after it aside (renamed, kept). 0 and what
 * was done in msg, or -1 with msg.
 */
int journal_cut(size_t i, uint64_t offset, const char *why, char *msg,
    size_t msglen);
/*
 * After replay: appending goes on in the last incr file, cut at end (the
 * bytes after the last whole record; a new file when the last one read is
 * a snapshot), records are made from now on (journal_on), and the loop's
 * events are set up on base.
 */
int journal_start(struct event_base *base, uint64_t end, char *err,
    size_t errlen);
/* At exit: write and sync what is left, wait for a compaction child. */
void journal_stop(void);

/* The header every file starts with, and its size. */
#define JOURNAL_MAGIC "mpmgrjnl"
#define JOURNAL_VERSION 1
#define JOURNAL_HEADER 16
/* Bytes before a record's body: u32 length, u32 CRC. */
#define JOURNAL_RECORD_HEAD 8

/* --- compaction ---------------------------------------------------------- */

/*
 * Rewrite the journal from the live state: a forked child writes a new
 * snapshot (every object's dump) while the daemon goes on appending to a
 * new incr file; once the child has renamed its snapshot into place, the
 * older files go. The function the dump runs (replay.c's) is given once.
 * journal_compact answers 0, and done (if not NULL) is called later, once
 * a compaction that covers the state of now ends (the one started, or,
 * when one is running, the one after it), with true when its snapshot is
 * in place; or -1 (no journal, or the fork failed: logged), and done is
 * never called.
 */
void journal_set_dump(void (*dump)(void));
int journal_compact(void (*done)(bool ok, void *arg), void *arg);

/* --- ghosts: the connections of a replay --------------------------------- */

/*
 * During replay, a record that names a connection (a lease of an ack
 * queue's item) stands it in with a ghost: a struct conn with that id and
 * no socket, holding what the record says, so that the types' own code
 * (holds, conn_gone) runs on it. After replay every ghost is closed as a
 * connection would be (replay.c), newest first, and freed.
 */
struct conn *journal_ghost(uint64_t id);
/* The ghost with the highest id, or NULL when none is left. */
struct conn *journal_ghost_last(void);
void journal_ghost_free(struct conn *g);
/* Free the ghosts that hold nothing any more (after each record). */
void journal_ghost_sweep(void);

/* --- sys.stats ----------------------------------------------------------- */

struct journal_stats {
	const char *dir;
	enum journal_fsync fsync;
	uint64_t records;         /* made since start */
	uint64_t bytes;           /* in the files now (snapshot + incr) */
	uint64_t snapshot_bytes;  /* the last snapshot's */
	uint64_t written;         /* bytes written since start */
	uint64_t synced;          /* of those, known to be on disk */
	uint64_t syncs;           /* fdatasyncs of the journal since start */
	uint64_t compactions;     /* done since start */
	bool compacting;
	uint64_t last_fork_usec;  /* the last compaction's fork(), in us */
};
void journal_get_stats(struct journal_stats *s);

#endif
