/*
 * registry.h: object types, the named objects, and their lifetime.
 *
 * The registry maps names (1..255 bytes) to typed objects. It owns every
 * object: it creates them (implicitly on a write, explicitly for
 * TYPE.create, create.c), removes implicit ones that are back in their
 * initial state, and frees deleted ones in slices from a zero-delay timer
 * so that a 1M-entry dict going away never stalls the loop.
 *
 * A type is one obj_<type>.c exporting a `struct obj_type` (its operations
 * and its method table) and one line in dispatch.c's types[].
 */
#ifndef MPMGR_REGISTRY_H
#define MPMGR_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include <msgpack.h>

#include "../proto/scan.h"
#include "options.h"
#include "waiter.h"

struct jop;
struct method;
struct oh_ahead;
struct opt;
struct optval;
struct req;

struct object {
	const struct obj_type *type;
	void *data;               /* the type's state */
	size_t nwaiters;          /* parked requests (waiter.c) */
	struct waiter_list waiters; /* FIFO: served oldest first */
	struct hold_list holds;   /* connections holding something in it */
	TAILQ_ENTRY(object) link; /* every live object in creation order,
				     then the to-free list once deleted */
	struct owner *owner;      /* ephemeral: the connection it goes with */
	uint32_t optlen;          /* its options map's bytes; 0: its type's
				     defaults (options.h) */
	bool explicit;            /* made by TYPE.create: stays until obj.delete */
	uint8_t namelen;          /* 0 for a husk holding data to free */
	char name[];              /* namelen bytes, a NUL, then the options
				     map's optlen bytes */
};

/*
 * A type's operations. The ones marked "NULL:" may be left out for the
 * default said.
 */
struct obj_type {
	const char *name;                 /* "dict" */
	const struct method *methods;     /* its catalogue rows (dispatch.h) */
	/* Its create options, ended by a NULL key (options.h). NULL: none. */
	const struct opt *opts;
	/* BADARG text for an unknown or repeated option. NULL: one naming
	 * the options. */
	const char *opts_usage;
	/*
	 * What the table cannot say, once each option passed its own check:
	 * the options against each other or the registry. 0, or -1 after
	 * replying to req. It may drop a default (v[i].present) or give the
	 * canonical bytes an option is kept as (v[i].canon). NULL: nothing.
	 */
	int (*check)(struct optval *v, struct req *req);
	/*
	 * Set o->data from parsed options, or the defaults of an implicit
	 * creation (never for a type with a required option). Cannot fail.
	 */
	void (*init)(struct object *o, const struct optval *v);
	/*
	 * Free at most about budget elements of o->data; true when all of it,
	 * o->data included, is gone. NULL: o->data is one block, freed at once.
	 */
	bool (*free_step)(struct object *o, size_t budget);
	/*
	 * Back to what an implicit creation made: an implicit object goes.
	 * NULL: never (a type that is only made explicitly).
	 */
	bool (*is_initial)(const struct object *o);
	/* Elements, for obj.list and obj.info. NULL: 1. */
	uint64_t (*size)(const struct object *o);
	/* Bytes held by o->data. NULL: o->data's one block. */
	size_t (*mem)(const struct object *o);
	/*
	 * h->c is closing: give back what it holds in h->o (a lock, permits,
	 * leased items), wake whoever can now proceed, then hold_drop(h).
	 * NULL for types nothing can be held in.
	 */
	void (*conn_gone)(struct hold *h);
	/*
	 * What h holds, for people (obj.info, sys.clients): "depth 2", "3
	 * permits", into buf. NULL: "held".
	 */
	const char *(*hold_text)(const struct hold *h, char *buf, size_t len);
	/*
	 * Why an implicit o is not back in its initial state ("3 unfinished
	 * tasks"), into buf; only asked when it is not. NULL: its size says.
	 */
	const char *(*busy_text)(const struct object *o, char *buf,
	    size_t len);
	/*
	 * h's lease ran out (hold_lease; h->lost is already set): give back
	 * what it holds as conn_gone does and wake whoever can now proceed,
	 * but keep h, so that its connection's next release there is
	 * refused. NULL for types nothing can be leased in.
	 */
	void (*lease_end)(struct hold *h);
	/*
	 * Pack o's contents as one value, as a restart would keep them: the
	 * disconnect rule applied to every connection (held locks released
	 * unless release_on_disconnect is false, permits and leased items
	 * given back), waiters gone. What obj.dump answers under "contents"
	 * and restore takes back (dump.c): the user's form, one readable
	 * value that other versions read, where .dump below writes the
	 * journal's (records of this build's ops; docs/HACKING.md says why
	 * both). NULL: nothing but its options (nil).
	 */
	void (*contents)(const struct object *o, msgpack_packer *pk);
	/*
	 * Set o, fresh from init with its options, to contents c as
	 * .contents packs them (a view into the request; nil: as init made
	 * it). 0, or -1 after replying to req (BADARG, BADTYPE, RANGE...);
	 * the caller then deletes o. NULL: c must be nil.
	 */
	int (*restore)(struct object *o, const struct mpv *c, struct req *req);
	/*
	 * Why obj.dump and obj.restore refuse objects of the type (its state
	 * has no record form: pipe, pool); NULL: they take them.
	 */
	const char *nodump;
	/*
	 * The journal (journal.h). jcode: the type's code in records (JC_*).
	 * jops: its ops, a table indexed by op number and ended by JOP_END;
	 * NULL when nothing of it outlives a connection but its existence,
	 * which the registry's own records keep (barrier). dump: append
	 * records of jops that rebuild what a restart keeps of o (the
	 * registry records its creation first when it is explicit);
	 * nothing for what an implicit creation makes. NULL with jops.
	 */
	unsigned jcode;
	const struct jop *jops;
	void (*dump)(const struct object *o);
	/*
	 * A restart drops every object of the type (pipe: docs/PROTOCOL.md,
	 * Restarts): not even its creation is journaled. No jops then.
	 */
	bool dropped;
	/*
	 * The table lookup a request of method m will make in o, for
	 * prefetching a pipelined batch (prefetch.c): true after setting a's
	 * table and key. params points at the request's param after the
	 * name (one is there, in a frame the scanner accepted). A hint only:
	 * the params are not checked yet, and a wrong answer costs time,
	 * never a wrong reply. NULL: no lookup worth prefetching.
	 */
	bool (*ahead)(struct object *o, const struct method *m,
	    const uint8_t *params, struct oh_ahead *a);
};

/* Every type, each defined in its obj_<type>.c and listed once in
 * dispatch.c's types[]. */
extern const struct obj_type dict_type;
extern const struct obj_type value_type;
extern const struct obj_type list_type;
extern const struct obj_type array_type;
extern const struct obj_type queue_type;
extern const struct obj_type event_type;
extern const struct obj_type barrier_type;
extern const struct obj_type lock_type;
extern const struct obj_type rlock_type;
extern const struct obj_type semaphore_type;
extern const struct obj_type condition_type;
extern const struct obj_type pipe_type;
extern const struct obj_type process_type;
extern const struct obj_type pool_type;

/* Elements freed per slice of an incremental free. */
#define REGISTRY_FREE_SLICE 1000

/* Start with the types t (NULL-ended), which obj.list may name. */
void registry_init(const struct obj_type *const *t);
/* The type of t called name, or NULL. */
const struct obj_type *registry_type(const char *name, size_t len);
/* The type whose journal code is code, or NULL. */
const struct obj_type *registry_type_by_code(unsigned code);

struct object *registry_lookup(const char *name, size_t len);
/*
 * registry_lookup through a one-entry cache of the caller's (*cache and
 * *gen, zeroed to start): a connection that names the same object request
 * after request skips the name index. A filled cache is trusted only while
 * no object has been deleted since, so it never points at a freed object.
 */
struct object *registry_lookup_cached(const char *name, size_t len,
    struct object **cache, uint64_t *gen);
/* Create a missing object with t's defaults, implicitly (it goes when back
 * in its initial state). len is 1..MPMGR_MAX_NAME. */
struct object *registry_add(const struct obj_type *t, const char *name,
    size_t len);
/*
 * Create a missing object explicitly (it stays until obj.delete) from the
 * options v, whose options map (options_encode) is opts.
 */
struct object *registry_create(const struct obj_type *t, const char *name,
    size_t len, const struct optval *v, const uint8_t *opts, size_t optlen);
/*
 * An object of t made as registry_create (explicit) or registry_add (not:
 * then opts is NULL and v the defaults) would make it, but outside the
 * registry: registry_attach() puts it there under its name, which must be
 * free by then; registry_discard_detached() frees it instead. For what
 * must be built whole before it replaces anything (obj.restore).
 */
struct object *registry_detached(const struct obj_type *t, const char *name,
    size_t len, const struct optval *v, const uint8_t *opts, size_t optlen,
    bool explicit);
void registry_attach(struct object *o);
void registry_discard_detached(struct object *o);
/*
 * Unlink o and free it, in slices when it is large: o is gone for the
 * caller either way. o has no waiter and no holder left: obj.delete
 * answers and releases them first (waiter_object_deleted).
 */
void registry_delete(struct object *o);
/*
 * o, explicit, becomes ephemeral: it belongs to c and goes when c closes
 * (registry_owned). At most once per object.
 */
void registry_own(struct object *o, struct conn *c);
/* The connection an ephemeral o belongs to, or NULL. */
struct conn *registry_owner(const struct object *o);
/* One of the ephemeral objects c owns, or NULL: c's close deletes them. */
struct object *registry_owned(struct conn *c);
/* After a write: delete o if implicit, initial, without waiters and
 * without holds. true when it was deleted. */
bool registry_settle(struct object *o);
/* Free a type's detached data (a cleared dict's old table) in slices. */
void registry_defer_free(const struct obj_type *t, void *data);

size_t registry_count(void);
/* Walk in creation order: the first after prev (NULL: the first); NULL
 * at the end. No changes to the registry during the walk. */
struct object *registry_next(const struct object *prev);
/* obj.scan: like ohash_scan over the names. */
uint64_t registry_scan(uint64_t cursor, size_t count,
    void (*fn)(void *arg, struct object *o), void *arg);
/* Bytes o holds, its own struct, name and options included. */
size_t registry_object_mem(const struct object *o);
/* o's size (obj_type.size, or its default). */
uint64_t registry_size(const struct object *o);

/*
 * Free one slice of the deleted objects; true when nothing is left to
 * free. The timer calls it; tests drive it directly.
 */
bool registry_free_step(size_t budget);

#endif
