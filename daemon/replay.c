/*
 * replay.c: the journal's records applied to the registry, at start, and
 * the registry written as records, for compaction (journal.h says what a
 * record is).
 *
 * Start: replay_start() reads the files journal_open() lists, record by
 * record, before the daemon listens: a record's CRC, its MessagePack
 * (the wire's scanner), its type, op and arity are checked, then its op
 * applies it. The object it names is found, or made as a write would
 * make it (implicitly, with its type's defaults), and settled after each
 * record as dispatch settles after a write, so that an implicit object
 * back in its initial state goes. Then every ghost connection (journal.h)
 * is closed, newest first, as a disconnect would close it: that is the
 * restart rule, and its changes (leases back to their queues) are
 * journaled like any other.
 *
 * A bad record refuses the start, naming the file, the offset and the
 * way out (--repair), with one exception: a record cut short at the end
 * of the last file, or a last record whose CRC fails and which ends the
 * file (or is followed only by zeros), is what a crash in the middle of a
 * write leaves: it is dropped with a warning, and the file is cut there.
 * --repair cuts a file at its first bad record, after keeping a copy of
 * it and setting aside the files after it, whose records depended on the
 * ones lost.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crc32c.h"
#include "journal.h"
#include "log.h"
#include "mem.h"
#include "mpmgrd.h"
#include "options.h"
#include "registry.h"
#include "replay.h"
#include "reply.h"
#include "waiter.h"

/* Where a replay stopped, and why. */
struct replay_bad {
	size_t file;
	const char *path;
	uint64_t offset;
	char why[256];
};

static uint32_t
get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

/* --- one record ---------------------------------------------------------- */

static const char *
replay_registry(unsigned op, const struct mpv *name, struct mpv_iter *args,
    uint32_t nargs, char *err, size_t errlen)
{
	struct optval v[OPTS_MAX];
	const struct obj_type *t;
	struct object *o;
	struct mpv code, map;

	if (op == JR_COUNTER) {
		jop_arg(args, &code);
		if (nargs != 1 || code.type != MPV_UINT)
			return "a counter's ceiling must be an int";
		if (!journal_counter_replay((const char *)name->ptr, name->len,
		    code.v.u))
			return "a counter nobody registered";
		return NULL;
	}
	o = registry_lookup((const char *)name->ptr, name->len);
	if (op == JR_DELETE) {
		if (nargs != 0)
			return "delete takes no args";
		if (o != NULL) {
			waiter_object_deleted(o);
			registry_delete(o);
		}
		return NULL;
	}
	if (op != JR_CREATE)
		return "no such registry op";
	if (nargs != 2)
		return "create takes a type and options";
	jop_arg(args, &code);
	jop_arg(args, &map);
	if (code.type != MPV_UINT || code.v.u > JC_MAX ||
	    (t = registry_type_by_code((unsigned)code.v.u)) == NULL)
		return "create of an unknown type";
	if (t->dropped)
		return "create of a type a restart drops";
	if (o != NULL) {
		if (o->type != t)
			return "create of an object of another type";
		/* an implicit one made explicit */
		o->explicit = true;
		return NULL;
	}
	if (options_from_map(t, &map, v, err, errlen) == -1)
		return err;
	registry_create(t, (const char *)name->ptr, name->len, v, map.raw,
	    map.rawlen);
	return NULL;
}

const char *
replay_record(const uint8_t *body, size_t len, char *err, size_t errlen)
{
	const struct obj_type *t;
	const struct jop *jo;
	struct mpv rec, code, op, name;
	struct mpv_iter it;
	struct object *o;
	uint32_t nargs, i;
	const char *why;

	mpv_frame(body, &rec);
	if (rec.type != MPV_ARRAY || rec.len < 3)
		return "not a record";
	mpv_iter_init(&it, &rec);
	jop_arg(&it, &code);
	jop_arg(&it, &op);
	jop_arg(&it, &name);
	if (code.type != MPV_UINT || op.type != MPV_UINT ||
	    name.type != MPV_STR || name.len == 0 ||
	    name.len > MPMGR_MAX_NAME)
		return "not a record";
	nargs = rec.len - 3;
	if (code.v.u == JC_REGISTRY)
		return replay_registry((unsigned)op.v.u, &name, &it, nargs, err,
		    errlen);
	if (code.v.u > JC_MAX ||
	    (t = registry_type_by_code((unsigned)code.v.u)) == NULL ||
	    t->jops == NULL)
		return "a record of an unknown type";
	for (i = 0, jo = t->jops; jo->name != NULL && i < op.v.u; i++, jo++)
		;
	if (jo->name == NULL)
		return "an op the type does not have";
	if (nargs < jo->min_args || nargs > jo->max_args) {
		snprintf(err, errlen, "%s.%s with %u args", t->name, jo->name,
		    nargs);
		return err;
	}
	o = registry_lookup((const char *)name.ptr, name.len);
	if (o != NULL && o->type != t) {
		snprintf(err, errlen, "%s.%s on '%.*s', a %s", t->name,
		    jo->name, (int)name.len, (const char *)name.ptr,
		    o->type->name);
		return err;
	}
	if (o == NULL) {
		for (i = 0; t->opts != NULL && t->opts[i].key != NULL; i++) {
			if (t->opts[i].flags & OPT_REQUIRED) {
				snprintf(err, errlen, "%s.%s on '%.*s', which "
				    "was never created", t->name, jo->name,
				    (int)name.len, (const char *)name.ptr);
				return err;
			}
		}
		o = registry_add(t, (const char *)name.ptr, name.len);
	}
	if ((why = jo->replay(o, &it, nargs)) != NULL) {
		snprintf(err, errlen, "%s.%s on '%.*s': %s", t->name, jo->name,
		    (int)name.len, (const char *)name.ptr, why);
		return err;
	}
	registry_settle(o);
	return NULL;
}

/* --- files ----------------------------------------------------------------- */

static bool
replay_zeros(const uint8_t *p, size_t n)
{
	while (n-- > 0) {
		if (*p++ != 0)
			return false;
	}
	return true;
}

/*
 * Replay one file. 0 and *end (where appending goes on), or -1 with *bad.
 * Only the last file may end in a torn record.
 */
static int
replay_file(size_t idx, bool last, uint64_t *end, uint64_t *nrec,
    struct replay_bad *bad)
{
	const char *path = journal_file(idx);
	struct scan_state st;
	struct stat sb;
	const uint8_t *map = NULL, *body;
	const char *why;
	char err[256];
	size_t size, off, len, flen;
	uint32_t crc;
	int fd;

	bad->file = idx;
	bad->path = path;
	bad->offset = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &sb) == -1) {
		snprintf(bad->why, sizeof bad->why, "cannot read it: %s",
		    strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	size = (size_t)sb.st_size;
	if (size > 0) {
		map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (map == MAP_FAILED) {
			snprintf(bad->why, sizeof bad->why, "cannot map it: %s",
			    strerror(errno));
			close(fd);
			return -1;
		}
		(void)madvise((void *)map, size, MADV_SEQUENTIAL);
	}
	close(fd);
	*end = 0;
	if (size < JOURNAL_HEADER) {
		if (!last) {
			snprintf(bad->why, sizeof bad->why, "shorter than a "
			    "header");
			goto fail;
		}
		/* created and never written: a crash right then */
		if (size > 0)
			log_warnx("%s: dropped %zu bytes of a header cut short",
			    path, size);
		goto done;
	}
	if (memcmp(map, JOURNAL_MAGIC, 8) != 0)
		goto notours;
	if (get_le32(map + 8) != JOURNAL_VERSION) {
		snprintf(bad->why, sizeof bad->why, "journal format %u; this "
		    "mpmgrd reads format %d", get_le32(map + 8),
		    JOURNAL_VERSION);
		goto fail;
	}
	for (off = JOURNAL_HEADER; off < size; off += JOURNAL_RECORD_HEAD + len) {
		bad->offset = off;
		len = size - off >= JOURNAL_RECORD_HEAD ? get_le32(map + off) :
		    SIZE_MAX;
		if (len == SIZE_MAX || len > size - off - JOURNAL_RECORD_HEAD) {
			if (last)
				goto torn;
			snprintf(bad->why, sizeof bad->why, "a record runs past "
			    "the end of the file");
			goto fail;
		}
		body = map + off + JOURNAL_RECORD_HEAD;
		crc = crc32c(0, map + off, 4);
		crc = crc32c(crc, body, len);
		if (crc != get_le32(map + off + 4)) {
			if (last && replay_zeros(body + len,
			    size - off - JOURNAL_RECORD_HEAD - len))
				goto torn;
			snprintf(bad->why, sizeof bad->why, "CRC mismatch");
			goto fail;
		}
		scan_init(&st);
		if (len == 0 || scan_frame(&st, body, len, len, &flen, &why) !=
		    SCAN_FRAME || flen != len) {
			snprintf(bad->why, sizeof bad->why, "not a MessagePack "
			    "record");
			goto fail;
		}
		if ((why = replay_record(body, len, err, sizeof err)) != NULL) {
			snprintf(bad->why, sizeof bad->why, "%s", why);
			goto fail;
		}
		journal_ghost_sweep();
		(*nrec)++;
	}
	*end = size;
	goto done;
torn:
	log_warnx("%s: dropped the last %zu bytes at offset %zu: a record "
	    "cut short by a crash", path, size - off, off);
	*end = off;
done:
	if (map != NULL)
		munmap((void *)map, size);
	return 0;
notours:
	snprintf(bad->why, sizeof bad->why, "not a journal file");
fail:
	if (map != NULL)
		munmap((void *)map, size);
	return -1;
}

/* Every file in order: 0 and the end of the last, or -1 with *bad. */
static int
replay_files(uint64_t *end, uint64_t *nrec, struct replay_bad *bad)
{
	size_t i;

	*end = 0;
	*nrec = 0;
	for (i = 0; journal_file(i) != NULL; i++) {
		/* A snapshot is renamed into place whole: only an incr file
		 * may end torn. */
		if (replay_file(i, journal_file(i + 1) == NULL &&
		    !journal_file_is_base(i), end, nrec, bad) == -1)
			return -1;
	}
	return 0;
}

/* --- the dump ------------------------------------------------------------ */

void
replay_dump_object(const struct object *o)
{
	static struct buf scratch = BUF_INIT;
	const uint8_t *opts;
	msgpack_packer *pk;
	size_t n;

	if (o->owner != NULL || o->type->dropped)
		return;
	if (o->explicit) {
		options_of(o, &scratch, &opts, &n);
		pk = journal_begin_raw(JC_REGISTRY, JR_CREATE, o->name,
		    o->namelen, 2);
		msgpack_pack_uint64(pk, o->type->jcode);
		pack_raw(pk, opts, n);
		journal_end();
	}
	if (o->type->dump != NULL)
		o->type->dump(o);
}

/* Every counter's ceiling, then every object a restart keeps. */
static void
replay_dump(void)
{
	const struct object *o;

	journal_counter_dump();
	for (o = registry_next(NULL); o != NULL; o = registry_next(o))
		replay_dump_object(o);
}

void
replay_dump_all(void)
{
	replay_dump();
}

/* --- start ------------------------------------------------------------- */

int
replay_start(const struct journal_config *cfg, char *err, size_t errlen)
{
	struct replay_bad bad;
	struct conn *g;
	uint64_t end, nrec, t0 = now_usec();

	if (journal_open(cfg, err, errlen) == -1)
		return -1;
	if (replay_files(&end, &nrec, &bad) == -1) {
		snprintf(err, errlen, "%s: offset %" PRIu64 ": %s; mpmgrd "
		    "--data-dir %s --repair cuts the journal there (keeping a "
		    "copy) so that the daemon can start with the records "
		    "before it", bad.path, bad.offset, bad.why, cfg->dir);
		return -1;
	}
	if (journal_start(server.base, end, err, errlen) == -1)
		return -1;
	journal_set_dump(replay_dump);
	/* The restart rule: every connection of before is gone. */
	while ((g = journal_ghost_last()) != NULL) {
		waiter_conn_closed(g);
		journal_ghost_free(g);
	}
	journal_flush_now();
	log_info("replayed %" PRIu64 " records in %" PRIu64 " ms: %zu "
	    "objects", nrec, (now_usec() - t0) / 1000, registry_count());
	return 0;
}

int
replay_repair(const struct journal_config *cfg, char *msg, size_t msglen)
{
	struct replay_bad bad;
	uint64_t end, nrec;

	if (journal_open(cfg, msg, msglen) == -1)
		return -1;
	if (replay_files(&end, &nrec, &bad) == 0) {
		snprintf(msg, msglen, "%s: the journal replays whole (%" PRIu64
		    " records): nothing to repair", cfg->dir, nrec);
		return 0;
	}
	return journal_cut(bad.file, bad.offset, bad.why, msg, msglen);
}
