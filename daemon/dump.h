/*
 * dump.h: one object as a record, and an object made from one: obj.dump
 * and obj.restore, and what a journal's snapshot of an object can share.
 *
 * A record is a map {name, type, explicit[, ephemeral: true], options,
 * contents}: the object as a restart would keep it (its type's dump op:
 * holds given back, waiters gone), its options as obj.info reports them.
 * Restoring one builds the object whole before it replaces anything: a
 * record in error changes nothing.
 */
#ifndef MPMGR_DUMP_H
#define MPMGR_DUMP_H

#include <msgpack.h>

struct object;
struct req;

/* Pack o's record into pk. */
void dump_pack(const struct object *o, msgpack_packer *pk);
/* obj.dump: answer req with req->obj's record (LIMIT when it does not
 * fit one reply; BADTYPE for a type without a record form). */
void dump_reply(struct req *req);

/*
 * obj.restore: make the object named by param 0 from the record param 1,
 * replacing an existing one (as obj.delete, its waiters answered DELETED)
 * only when param 2 is true, else EXISTS. Answers req: nil, or the error
 * (BADARG for a malformed record; whatever the type's options check or
 * restore op answers).
 */
void dump_restore(struct req *req);

#endif
