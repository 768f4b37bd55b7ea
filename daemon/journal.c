/*
 * journal.c: the journal's files and records (journal.h): making records,
 * writing and syncing them by the --fsync policy, the files in
 * --data-dir, compaction by a forked child, and the ghosts of a replay.
 *
 * Files. The state is the newest complete snapshot journal.B.base (none:
 * the empty state) followed by every incr file journal.N.incr with N >= B,
 * in order of N. Records are appended to the incr file with the highest
 * N. Compaction opens journal.N+1.incr for what comes next, then forks: the
 * child writes the state as it was at the fork into journal.N+1.base.tmp,
 * syncs it and renames it journal.N+1.base, which is the commit; the
 * daemon then removes the files below N+1. A crash at any point leaves
 * a set of files that replays to the same state: before the rename the
 * old snapshot and all incr files, after it the new one and its incr.
 * Names are never reused, so no file is ever rewritten in place but the
 * cut of a torn tail.
 *
 * Writing. Records made in a loop turn gather in a buffer that one write()
 * sends at the turn's end (an event made active by the turn's first
 * record, which runs after the turn's other events); with --fsync always
 * one fdatasync() follows, covering every record of the turn (group
 * commit); before it, the loop may poll again for the requests that the
 * last sync's clients are about to send (journal_gather), so that one
 * sync answers them all. Replies wait for that (journal_holds_output), as
 * Redis's wait for its AOF write in beforeSleep: a client never sees a
 * change that a kill -9 could undo, under any policy, or a power cut
 * under always.
 * everysec hands an fdatasync to a thread of its own once a second (a dup
 * of the file's descriptor, which it closes, so that switching files
 * never races it), as Redis's bio thread does; the loop never waits for
 * the disk then. A write or sync that fails stops the daemon (fatal): what
 * it answered is on disk, what it did not answer may not be, and a restart
 * replays the first and drops a torn record at the end.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "crc32c.h"
#include "journal.h"
#include "log.h"
#include "mem.h"
#include "mpmgrd.h"

bool journal_on;
bool journal_unflushed;

/* Where records go: the journal's buffer, a capture, or a compaction
 * child's buffer on its way to the snapshot file. */
enum sink { SINK_JOURNAL, SINK_CAPTURE, SINK_CHILD };

/* A child's buffer is written out past this. */
#define JOURNAL_CHILD_CHUNK (1024 * 1024)
/* A failed compaction is not retried on its own before this. */
#define JOURNAL_RETRY_USEC (30 * 1000000ULL)
/* always: a sync waits at most this long for its clients (and at most
 * half a sync's time; journal_gather). */
#define JOURNAL_GATHER_MAX_USEC 1000
/* everysec: a sync still running after this is worth a warning. */
#define JOURNAL_SLOW_SYNC_USEC (2 * 1000000ULL)

struct journal_file {
	char *path;
	uint64_t gen;
	bool base;
};

struct journal_done {
	void (*fn)(bool, void *);
	void *arg;
};

static struct {
	/* records */
	enum sink sink;
	struct buf buf;           /* SINK_JOURNAL: not yet written */
	struct buf *cap;          /* SINK_CAPTURE: the caller's */
	struct buf child;         /* SINK_CHILD */
	bool framed;              /* with length and CRC */
	size_t start;             /* the record being made: its first byte */
	bool open;                /* between begin and end */
	msgpack_packer pk;
	uint64_t records;
	uint64_t captured;
	/* configuration */
	struct journal_config cfg;
	char dir[PATH_MAX];
	int dirfd;
	int lockfd;
	/* files */
	struct journal_file *files; /* to replay, then kept */
	size_t nfiles;
	uint64_t snap_gen;        /* journal.snap_gen.base, if has_snap */
	bool has_snap;
	uint64_t snap_bytes;
	uint64_t gen;             /* the incr file appended to */
	int fd;
	bool dir_dirty;           /* a new file's name is not synced yet */
	uint64_t total;           /* bytes in the kept files */
	uint64_t written;         /* since start */
	_Atomic uint64_t synced;
	_Atomic uint64_t syncs;   /* fdatasyncs done */
	/* the loop */
	struct event_base *base;
	struct event *ev_flush;
	bool flush_pending;
	/* always: the gathering of clients for the next sync */
	uint64_t flushes;         /* done since start */
	uint64_t waiting;         /* connections that wait for the next */
	uint64_t last_waiting;    /* ...that waited for the last sync */
	uint64_t gather_since;    /* the first pass, or 0 */
	uint64_t sync_usec;       /* a sync's time, smoothed */
	struct event *ev_tick;    /* every second: everysec's sync */
	void (*flushed)(void);
	/* the sync thread (everysec) */
	pthread_t bio;
	bool bio_running;
	pthread_mutex_t bio_mu;
	pthread_cond_t bio_cv;
	int bio_fd;               /* a dup to sync and close; -1 none */
	bool bio_dir;             /* and the directory first */
	uint64_t bio_upto;        /* written when it was handed over */
	bool bio_busy;
	bool bio_quit;
	uint64_t bio_since;       /* now_usec() when handed over */
	bool bio_warned;
	/* compaction */
	void (*dump)(void);
	pid_t child_pid;
	int child_fd;             /* its pipe's read end */
	struct event *ev_child;
	uint64_t child_gen;
	uint64_t child_start;     /* now_usec() at the fork */
	uint64_t last_fork_usec;
	uint64_t compactions;
	uint64_t retry_after;     /* now_usec(): no automatic retry before */
	bool again;               /* asked for while one ran */
	struct journal_done *done;  /* of the running one */
	size_t ndone;
	struct journal_done *next_done; /* of the one asked for meanwhile */
	size_t nnext;
} j = { .dirfd = -1, .lockfd = -1, .fd = -1, .bio_fd = -1, .child_fd = -1,
    .bio_mu = PTHREAD_MUTEX_INITIALIZER, .bio_cv = PTHREAD_COND_INITIALIZER };

/* --- records ------------------------------------------------------------- */

static struct buf *
journal_sink_buf(void)
{
	switch (j.sink) {
	case SINK_CAPTURE:
		return j.cap;
	case SINK_CHILD:
		return &j.child;
	default:
		return &j.buf;
	}
}

static void
put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

msgpack_packer *
journal_begin_raw(unsigned code, unsigned op, const char *name,
    size_t namelen, uint32_t nargs)
{
	struct buf *b = journal_sink_buf();
	uint8_t *p;
	uint32_t n = 3 + nargs;

	if (j.open)
		fatalx("%s: a record is open already", __func__);
	if (code > JC_MAX || op > 127 || namelen > MPMGR_MAX_NAME ||
	    nargs > UINT32_MAX - 3)
		fatalx("%s: code %u op %u", __func__, code, op);
	j.open = true;
	/* header, array head (5), code and op (1 each), name head (2) */
	if (buf_reserve(b, JOURNAL_RECORD_HEAD + 9 + namelen) == -1)
		fatalx("%s: out of memory", __func__);
	j.start = b->len;
	p = buf_tail(b);
	if (j.framed)
		p += JOURNAL_RECORD_HEAD;
	if (n <= 15)
		*p++ = (uint8_t)(0x90 | n);
	else if (n <= UINT16_MAX) {
		*p++ = 0xdc;
		*p++ = (uint8_t)(n >> 8);
		*p++ = (uint8_t)n;
	} else {
		*p++ = 0xdd;
		*p++ = (uint8_t)(n >> 24);
		*p++ = (uint8_t)(n >> 16);
		*p++ = (uint8_t)(n >> 8);
		*p++ = (uint8_t)n;
	}
	*p++ = (uint8_t)code;
	*p++ = (uint8_t)op;
	if (namelen <= 31)
		*p++ = (uint8_t)(0xa0 | namelen);
	else {
		*p++ = 0xd9;
		*p++ = (uint8_t)namelen;
	}
	memcpy(p, name, namelen);
	p += namelen;
	b->len = (size_t)(p - b->data);
	msgpack_packer_init(&j.pk, b, buf_pack_write);
	return &j.pk;
}

msgpack_packer *
journal_begin(const struct object *o, unsigned op, uint32_t nargs)
{
	return journal_begin_raw(o->type->jcode, op, o->name, o->namelen,
	    nargs);
}

static void journal_child_write(void);

void
journal_end(void)
{
	struct buf *b = journal_sink_buf();
	uint8_t *head;
	size_t len;
	uint32_t crc;

	if (!j.open)
		fatalx("%s: no record is open", __func__);
	j.open = false;
	if (j.framed) {
		head = b->data + j.start;
		len = b->len - j.start - JOURNAL_RECORD_HEAD;
		if (len > UINT32_MAX)
			fatalx("%s: a record of %zu bytes", __func__, len);
		put_le32(head, (uint32_t)len);
		crc = crc32c(0, head, 4);
		crc = crc32c(crc, head + JOURNAL_RECORD_HEAD, len);
		put_le32(head + 4, crc);
	}
	switch (j.sink) {
	case SINK_CAPTURE:
		j.captured++;
		return;
	case SINK_CHILD:
		if (buf_used(&j.child) >= JOURNAL_CHILD_CHUNK)
			journal_child_write();
		return;
	case SINK_JOURNAL:
		break;
	}
	j.records++;
	journal_unflushed = true;
	if (!j.flush_pending && j.ev_flush != NULL) {
		j.flush_pending = true;
		event_active(j.ev_flush, EV_TIMEOUT, 0);
	}
}

void
journal_delete(const struct object *o)
{
	if (journal_wants_registry(o)) {
		journal_begin_raw(JC_REGISTRY, JR_DELETE, o->name, o->namelen,
		    0);
		journal_end();
	}
}

uint64_t
journal_records(void)
{
	return j.records;
}

void
journal_capture_begin(struct buf *b, bool framed)
{
	if (j.sink != SINK_JOURNAL || j.open)
		fatalx("%s: capturing already", __func__);
	j.sink = SINK_CAPTURE;
	j.cap = b;
	j.framed = framed;
	j.captured = 0;
}

uint64_t
journal_capture_end(void)
{
	if (j.sink != SINK_CAPTURE || j.open)
		fatalx("%s: not capturing", __func__);
	j.sink = SINK_JOURNAL;
	j.cap = NULL;
	j.framed = true;
	return j.captured;
}

/* --- counters -------------------------------------------------------- */

#define JOURNAL_COUNTERS 4

static struct {
	const char *name;
	void (*floor)(uint64_t);
	uint64_t (*ceiling)(void);
} counters[JOURNAL_COUNTERS];

void
journal_counter_register(const char *name, void (*floor)(uint64_t),
    uint64_t (*ceiling)(void))
{
	size_t i;

	for (i = 0; i < JOURNAL_COUNTERS && counters[i].name != NULL; i++)
		if (strcmp(counters[i].name, name) == 0)
			break;
	if (i == JOURNAL_COUNTERS || strlen(name) == 0 ||
	    strlen(name) > MPMGR_MAX_NAME)
		fatalx("%s: cannot register '%s'", __func__, name);
	counters[i].name = name;
	counters[i].floor = floor;
	counters[i].ceiling = ceiling;
}

static void
journal_counter_record(const char *name, uint64_t ceiling)
{
	msgpack_pack_uint64(journal_begin_raw(JC_REGISTRY, JR_COUNTER, name,
	    strlen(name), 1), ceiling);
	journal_end();
}

void
journal_counter_reserve(const char *name, uint64_t ceiling)
{
	if (journal_on)
		journal_counter_record(name, ceiling);
}

bool
journal_counter_replay(const char *name, size_t len, uint64_t ceiling)
{
	size_t i;

	for (i = 0; i < JOURNAL_COUNTERS && counters[i].name != NULL; i++) {
		if (strlen(counters[i].name) == len &&
		    memcmp(counters[i].name, name, len) == 0) {
			counters[i].floor(ceiling);
			return true;
		}
	}
	return false;
}

void
journal_counter_dump(void)
{
	size_t i;

	for (i = 0; i < JOURNAL_COUNTERS && counters[i].name != NULL; i++)
		journal_counter_record(counters[i].name, counters[i].ceiling());
}

/* --- files --------------------------------------------------------------- */

int
journal_fsync_parse(const char *s)
{
	if (strcmp(s, "always") == 0)
		return JOURNAL_FSYNC_ALWAYS;
	if (strcmp(s, "everysec") == 0)
		return JOURNAL_FSYNC_EVERYSEC;
	if (strcmp(s, "no") == 0)
		return JOURNAL_FSYNC_NO;
	return -1;
}

const char *
journal_fsync_name(enum journal_fsync f)
{
	static const char *const names[] = {
		[JOURNAL_FSYNC_ALWAYS] = "always",
		[JOURNAL_FSYNC_EVERYSEC] = "everysec",
		[JOURNAL_FSYNC_NO] = "no",
	};

	return names[f];
}

static void
journal_path(char *out, size_t len, uint64_t gen, const char *kind)
{
	int n = snprintf(out, len, "%s/journal.%" PRIu64 ".%s", j.dir, gen,
	    kind);

	if (n < 0 || (size_t)n >= len)
		fatalx("%s: path too long", __func__);
}

/* Create dir and its missing parents, 0700 whatever the umask. */
static int
journal_mkdirs(const char *dir, char *err, size_t errlen)
{
	char path[PATH_MAX];
	char *p;

	if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path) {
		snprintf(err, errlen, "--data-dir: path too long");
		return -1;
	}
	for (p = path + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		bool last = *p == '\0';

		*p = '\0';
		if (mkdir(path, 0700) == 0)
			(void)chmod(path, 0700);
		else if (errno != EEXIST) {
			snprintf(err, errlen, "cannot create %s: %s", path,
			    strerror(errno));
			return -1;
		}
		if (last)
			return 0;
		*p = '/';
	}
}

static void
journal_fsync_dir(void)
{
	if (fsync(j.dirfd) == -1)
		fatal("%s: fsync %s", __func__, j.dir);
}

/* The header of a new file. */
static void
journal_header(uint8_t h[JOURNAL_HEADER])
{
	memset(h, 0, JOURNAL_HEADER);
	memcpy(h, JOURNAL_MAGIC, 8);
	put_le32(h + 8, JOURNAL_VERSION);
}

/* Write all of n bytes at p to fd; fatal on failure. */
static void
journal_write_fd(int fd, const void *p, size_t n, const char *what)
{
	const uint8_t *b = p;
	ssize_t w;

	while (n > 0) {
		w = write(fd, b, n);
		if (w > 0) {
			b += w;
			n -= (size_t)w;
		} else if (w == -1 && errno == EINTR)
			continue;
		else
			fatal("cannot write the journal %s (the daemon stops: "
			    "what it answered is on disk)", what);
	}
}

/*
 * A new incr file gen, empty but for its header: its descriptor. With
 * sync, it and its name are on disk on return; without, the next sync of
 * the journal sees to it (j.dir_dirty), so that a compaction's switch
 * to a new file costs the loop no wait for the disk.
 */
static int
journal_new_incr(uint64_t gen, bool sync)
{
	char path[PATH_MAX];
	uint8_t h[JOURNAL_HEADER];
	int fd;

	journal_path(path, sizeof path, gen, "incr");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC,
	    0600);
	if (fd == -1)
		fatal("%s: cannot create %s", __func__, path);
	journal_header(h);
	journal_write_fd(fd, h, sizeof h, path);
	if (!sync) {
		j.dir_dirty = true;
		return fd;
	}
	if (fdatasync(fd) == -1)
		fatal("%s: fdatasync %s", __func__, path);
	journal_fsync_dir();
	return fd;
}

static int
journal_file_cmp(const void *a, const void *b)
{
	const struct journal_file *x = a, *y = b;

	if (x->gen != y->gen)
		return x->gen < y->gen ? -1 : 1;
	/* A snapshot comes before the incr file of its number. */
	return x->base == y->base ? 0 : x->base ? -1 : 1;
}

/* "journal.N.base", "journal.N.incr" or "journal.N.base.tmp": 1, 2, 3;
 * 0 for any other name. */
static int
journal_name(const char *name, uint64_t *gen)
{
	const char *p;
	char *end;

	if (strncmp(name, "journal.", 8) != 0 || name[8] < '0' ||
	    name[8] > '9')
		return 0;
	errno = 0;
	*gen = strtoull(name + 8, &end, 10);
	if (errno != 0 || *end != '.')
		return 0;
	p = end + 1;
	if (strcmp(p, "base") == 0)
		return 1;
	if (strcmp(p, "incr") == 0)
		return 2;
	if (strcmp(p, "base.tmp") == 0)
		return 3;
	return 0;
}

static void
journal_add_file(uint64_t gen, bool base)
{
	char path[PATH_MAX];
	struct journal_file *f;

	journal_path(path, sizeof path, gen, base ? "base" : "incr");
	j.files = xrealloc(j.files, (j.nfiles + 1) * sizeof *j.files);
	f = &j.files[j.nfiles++];
	f->path = xstrndup(path, strlen(path));
	f->gen = gen;
	f->base = base;
}

static void
journal_clear_files(void)
{
	size_t i;

	for (i = 0; i < j.nfiles; i++)
		xfree(j.files[i].path);
	xfree(j.files);
	j.files = NULL;
	j.nfiles = 0;
}

/* The directory must be ours and closed to others' writes. */
static int
journal_check_dir(char *err, size_t errlen)
{
	struct stat st;

	if (fstat(j.dirfd, &st) == -1) {
		snprintf(err, errlen, "%s: %s", j.dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "--data-dir %s is not a directory",
		    j.dir);
		return -1;
	}
	if (st.st_uid != geteuid()) {
		snprintf(err, errlen, "--data-dir %s belongs to uid %u, not to "
		    "the daemon's user (uid %u)", j.dir, (unsigned)st.st_uid,
		    (unsigned)geteuid());
		return -1;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(err, errlen, "--data-dir %s is writable by others "
		    "(mode %03o): chmod go-w %s", j.dir,
		    (unsigned)(st.st_mode & 0777), j.dir);
		return -1;
	}
	return 0;
}

int
journal_open(const struct journal_config *cfg, char *err, size_t errlen)
{
	struct dirent *de;
	DIR *d;
	uint64_t gen, best = 0;
	bool have_base = false;
	int kind, fd;
	char path[PATH_MAX + 16];

	j.cfg = *cfg;
	if (snprintf(j.dir, sizeof j.dir, "%s", cfg->dir) >= (int)sizeof j.dir
	    || strlen(cfg->dir) > PATH_MAX - 64) {
		snprintf(err, errlen, "--data-dir: path too long");
		return -1;
	}
	if (journal_mkdirs(j.dir, err, errlen) == -1)
		return -1;
	j.dirfd = open(j.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (j.dirfd == -1) {
		snprintf(err, errlen, "cannot open %s: %s", j.dir,
		    strerror(errno));
		return -1;
	}
	if (journal_check_dir(err, errlen) == -1)
		return -1;
	snprintf(path, sizeof path, "%s/lock", j.dir);
	j.lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (j.lockfd == -1) {
		snprintf(err, errlen, "cannot open %s: %s", path,
		    strerror(errno));
		return -1;
	}
	if (flock(j.lockfd, LOCK_EX | LOCK_NB) == -1) {
		snprintf(err, errlen, "another mpmgrd keeps its journal in %s",
		    j.dir);
		return -1;
	}

	/* The newest complete snapshot, and what goes with it. */
	if ((fd = dup(j.dirfd)) == -1 || (d = fdopendir(fd)) == NULL) {
		snprintf(err, errlen, "cannot read %s: %s", j.dir,
		    strerror(errno));
		return -1;
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		if (journal_name(de->d_name, &gen) == 1 &&
		    (!have_base || gen > best)) {
			best = gen;
			have_base = true;
		}
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		kind = journal_name(de->d_name, &gen);
		if (kind == 3) {
			/* A compaction that did not finish. */
			(void)unlinkat(j.dirfd, de->d_name, 0);
			continue;
		}
		if (kind == 0 || gen < best || (kind == 1 && gen != best))
			continue;
		journal_add_file(gen, kind == 1);
	}
	closedir(d);
	if (j.nfiles > 1)
		qsort(j.files, j.nfiles, sizeof *j.files, journal_file_cmp);
	j.has_snap = have_base;
	j.snap_gen = best;
	return 0;
}

const char *
journal_file(size_t i)
{
	return i < j.nfiles ? j.files[i].path : NULL;
}

bool
journal_file_is_base(size_t i)
{
	return i < j.nfiles && j.files[i].base;
}

/* Copy from to to (created 0600, synced). 0, or -1 with errno. */
static int
journal_copy(const char *from, const char *to)
{
	char b[65536];
	ssize_t n;
	int in, out, e;

	if ((in = open(from, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	if ((out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) == -1) {
		e = errno;
		close(in);
		errno = e;
		return -1;
	}
	while ((n = read(in, b, sizeof b)) > 0) {
		if (write(out, b, (size_t)n) != n) {
			n = -1;
			break;
		}
	}
	e = errno;
	if (n == 0 && fsync(out) == 0 && close(out) == 0) {
		close(in);
		return 0;
	}
	close(out);
	close(in);
	errno = e;
	return -1;
}

int
journal_cut(size_t i, uint64_t offset, const char *why, char *msg,
    size_t msglen)
{
	char copy[PATH_MAX + 32], aside[PATH_MAX + 32];
	uint8_t h[JOURNAL_HEADER];
	const char *path = j.files[i].path;
	long stamp = (long)time(NULL);
	size_t k, n;
	int fd;

	snprintf(copy, sizeof copy, "%s.broken-%ld", path, stamp);
	if (journal_copy(path, copy) == -1) {
		snprintf(msg, msglen, "cannot copy %s to %s: %s", path, copy,
		    strerror(errno));
		return -1;
	}
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) == -1 ||
	    ftruncate(fd, offset < JOURNAL_HEADER ? 0 : (off_t)offset) == -1) {
		snprintf(msg, msglen, "cannot cut %s: %s", path,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	if (offset < JOURNAL_HEADER) {
		journal_header(h);
		journal_write_fd(fd, h, sizeof h, path);
	}
	if (fsync(fd) == -1 || close(fd) == -1) {
		snprintf(msg, msglen, "cannot sync %s: %s", path,
		    strerror(errno));
		return -1;
	}
	n = (size_t)snprintf(msg, msglen, "%s: offset %" PRIu64 ": %s: cut "
	    "there; the whole file is kept as %s", path, offset, why, copy);
	for (k = i + 1; k < j.nfiles; k++) {
		snprintf(aside, sizeof aside, "%s.broken-%ld",
		    j.files[k].path, stamp);
		if (rename(j.files[k].path, aside) == -1) {
			snprintf(msg, msglen, "cannot rename %s: %s",
			    j.files[k].path, strerror(errno));
			return -1;
		}
		if (n < msglen)
			n += (size_t)snprintf(msg + n, msglen - n, "; %s, which "
			    "came after, is set aside as %s", j.files[k].path,
			    aside);
	}
	journal_fsync_dir();
	return 0;
}

/* Files below the snapshot: superseded by it. */
static void
journal_remove_old(uint64_t below)
{
	struct dirent *de;
	DIR *d;
	uint64_t gen;
	int fd, kind;
	bool any = false;

	if ((fd = dup(j.dirfd)) == -1 || (d = fdopendir(fd)) == NULL) {
		log_warn("%s: cannot read %s", __func__, j.dir);
		if (fd != -1)
			close(fd);
		return;
	}
	/* the dup shares its offset with dirfd: from the start */
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		kind = journal_name(de->d_name, &gen);
		if ((kind == 1 || kind == 2) && gen < below) {
			if (unlinkat(j.dirfd, de->d_name, 0) == -1)
				log_warn("%s: cannot remove %s/%s", __func__,
				    j.dir, de->d_name);
			any = true;
		}
	}
	closedir(d);
	if (any)
		journal_fsync_dir();
}

static void journal_flush_cb(evutil_socket_t, short, void *);
static void journal_tick_cb(evutil_socket_t, short, void *);
static void *journal_bio_main(void *);

int
journal_start(struct event_base *base, uint64_t end, char *err,
    size_t errlen)
{
	static const struct timeval sec = { 1, 0 };
	struct journal_file *last = j.nfiles > 0 ? &j.files[j.nfiles - 1] :
	    NULL;
	struct stat st;
	size_t i;

	j.total = 0;
	for (i = 0; i < j.nfiles; i++) {
		if (stat(j.files[i].path, &st) == 0)
			j.total += (uint64_t)st.st_size;
		if (j.files[i].base)
			j.snap_bytes = (uint64_t)st.st_size;
	}
	if (last != NULL && !last->base) {
		j.fd = open(last->path, O_WRONLY | O_APPEND | O_CLOEXEC);
		if (j.fd == -1 || fstat(j.fd, &st) == -1) {
			snprintf(err, errlen, "cannot open %s: %s", last->path,
			    strerror(errno));
			return -1;
		}
		if ((uint64_t)st.st_size > end) {
			if (ftruncate(j.fd, (off_t)end) == -1 ||
			    fdatasync(j.fd) == -1) {
				snprintf(err, errlen, "cannot cut %s: %s",
				    last->path, strerror(errno));
				return -1;
			}
			j.total -= (uint64_t)st.st_size - end;
		}
		if (end < JOURNAL_HEADER) {
			/* created, never written: its header again */
			uint8_t h[JOURNAL_HEADER];

			if (ftruncate(j.fd, 0) == -1) {
				snprintf(err, errlen, "cannot cut %s: %s",
				    last->path, strerror(errno));
				return -1;
			}
			journal_header(h);
			journal_write_fd(j.fd, h, sizeof h, last->path);
			j.total += JOURNAL_HEADER - end;
		}
		j.gen = last->gen;
	} else {
		j.gen = j.has_snap ? j.snap_gen : 0;
		j.fd = journal_new_incr(j.gen, true);
		j.total += JOURNAL_HEADER;
	}
	if (j.has_snap)
		journal_remove_old(j.snap_gen);
	journal_clear_files();
	j.synced = 0;
	j.written = 0;
	j.base = base;
	j.ev_flush = event_new(base, -1, 0, journal_flush_cb, NULL);
	j.ev_tick = event_new(base, -1, EV_PERSIST, journal_tick_cb, NULL);
	if (j.ev_flush == NULL || j.ev_tick == NULL)
		fatalx("%s: event_new failed", __func__);
	evtimer_add(j.ev_tick, &sec);
	if (j.cfg.fsync == JOURNAL_FSYNC_EVERYSEC) {
		if (pthread_create(&j.bio, NULL, journal_bio_main, NULL) != 0)
			fatalx("%s: cannot start the sync thread", __func__);
		j.bio_running = true;
	}
	/* A failed write stops the daemon with a message, not a signal. */
	signal(SIGXFSZ, SIG_IGN);
	buf_init(&j.buf);
	j.framed = true;
	journal_on = true;
	log_info("journal in %s, fsync %s, %" PRIu64 " bytes", j.dir,
	    journal_fsync_name(j.cfg.fsync), j.total);
	return 0;
}

/* --- writing and syncing ------------------------------------------------ */

static void
journal_write_out(void)
{
	size_t n = buf_used(&j.buf);

	if (n == 0)
		return;
	journal_write_fd(j.fd, buf_head(&j.buf), n, "file");
	j.written += n;
	j.total += n;
	buf_reset(&j.buf);
	buf_shrink(&j.buf, 64 * 1024);
}

static void
journal_sync(void)
{
	uint64_t t0;

	if (j.dir_dirty) {
		journal_fsync_dir();
		j.dir_dirty = false;
	}
	t0 = now_usec();
	if (fdatasync(j.fd) == -1)
		fatal("cannot sync the journal (the daemon stops: what it "
		    "answered is on disk)");
	j.sync_usec = (3 * j.sync_usec + (now_usec() - t0)) / 4;
	atomic_fetch_add(&j.syncs, 1);
	j.synced = j.written;
}

static void journal_check_compact(void);

/* Everything made so far written (and synced under always); the held
 * replies may go. */
static void
journal_flush(void)
{
	journal_write_out();
	if (j.cfg.fsync == JOURNAL_FSYNC_ALWAYS && j.synced != j.written) {
		journal_sync();
		j.last_waiting = j.waiting;
	}
	journal_unflushed = false;
	j.flushes++;
	j.waiting = 0;
	if (j.flushed != NULL)
		j.flushed();
}

void
journal_count_waiting(uint64_t *mark)
{
	if (*mark != j.flushes + 1) {
		*mark = j.flushes + 1;
		j.waiting++;
	}
}

/*
 * With always, whether the sync should wait for one more loop pass: the
 * clients the last sync answered send their next requests at about the
 * same time, but not within one pass, and a sync for the first few makes
 * the others wait a whole sync more. So while fewer clients wait than
 * waited for the last sync, the loop polls again (a pass costs an
 * epoll_wait), for at most half a sync's time and 1 ms: the clients come
 * back within microseconds when they come at all, and one that does not
 * costs that bound once (the next sync waits for one client fewer).
 */
static bool
journal_gather(void)
{
	uint64_t now, limit;

	if (j.cfg.fsync != JOURNAL_FSYNC_ALWAYS || !journal_unflushed ||
	    j.waiting >= j.last_waiting)
		return false;
	now = now_usec();
	if (j.gather_since == 0)
		j.gather_since = now;
	limit = j.sync_usec / 2;
	if (limit > JOURNAL_GATHER_MAX_USEC)
		limit = JOURNAL_GATHER_MAX_USEC;
	return now - j.gather_since < limit;
}

static void
journal_flush_cb(evutil_socket_t fd, short what, void *arg)
{
	static const struct timeval next_pass = { 0, 0 };

	if (journal_gather()) {
		evtimer_add(j.ev_flush, &next_pass);
		return;
	}
	j.gather_since = 0;
	j.flush_pending = false;
	journal_flush();
	journal_check_compact();
}

void
journal_flush_now(void)
{
	if (journal_on && journal_unflushed)
		journal_flush();
}

void
journal_set_flushed(void (*fn)(void))
{
	j.flushed = fn;
}

static void *
journal_bio_main(void *arg)
{
	int fd;
	uint64_t upto;
	bool dir;

	pthread_mutex_lock(&j.bio_mu);
	for (;;) {
		while (j.bio_fd == -1 && !j.bio_quit)
			pthread_cond_wait(&j.bio_cv, &j.bio_mu);
		if (j.bio_fd == -1)
			break;
		fd = j.bio_fd;
		upto = j.bio_upto;
		dir = j.bio_dir;
		j.bio_fd = -1;
		pthread_mutex_unlock(&j.bio_mu);
		if ((dir && fsync(j.dirfd) == -1) || fdatasync(fd) == -1)
			fatal("cannot sync the journal (the daemon stops)");
		close(fd);
		atomic_store(&j.synced, upto);
		atomic_fetch_add(&j.syncs, 1);
		pthread_mutex_lock(&j.bio_mu);
		j.bio_busy = false;
	}
	pthread_mutex_unlock(&j.bio_mu);
	return NULL;
}

/* everysec: hand the thread a sync of what is written, unless it is busy. */
static void
journal_bio_sync(void)
{
	uint64_t now = now_usec();
	int fd;

	if (atomic_load(&j.synced) == j.written && !j.dir_dirty)
		return;
	pthread_mutex_lock(&j.bio_mu);
	if (j.bio_busy) {
		pthread_mutex_unlock(&j.bio_mu);
		if (!j.bio_warned && now - j.bio_since > JOURNAL_SLOW_SYNC_USEC) {
			log_warnx("the journal's sync has taken more than %llu s: "
			    "the disk is slow", (unsigned long long)
			    (JOURNAL_SLOW_SYNC_USEC / 1000000));
			j.bio_warned = true;
		}
		return;
	}
	if ((fd = fcntl(j.fd, F_DUPFD_CLOEXEC, 0)) == -1) {
		pthread_mutex_unlock(&j.bio_mu);
		log_warn("%s: dup", __func__);
		return;
	}
	j.bio_fd = fd;
	j.bio_upto = j.written;
	j.bio_dir = j.dir_dirty;
	j.dir_dirty = false;
	j.bio_busy = true;
	j.bio_since = now;
	j.bio_warned = false;
	pthread_cond_signal(&j.bio_cv);
	pthread_mutex_unlock(&j.bio_mu);
}

static void
journal_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	if (j.cfg.fsync == JOURNAL_FSYNC_EVERYSEC)
		journal_bio_sync();
	journal_check_compact();
}

void
journal_stop(void)
{
	int st;

	if (!journal_on)
		return;
	journal_write_out();
	journal_sync();
	journal_unflushed = false;
	if (j.bio_running) {
		pthread_mutex_lock(&j.bio_mu);
		j.bio_quit = true;
		pthread_cond_signal(&j.bio_cv);
		pthread_mutex_unlock(&j.bio_mu);
		pthread_join(j.bio, NULL);
		j.bio_running = false;
	}
	if (j.child_pid > 0) {
		/* Its snapshot may still land: either way the files replay. */
		log_info("waiting for the compaction (pid %d) to finish",
		    (int)j.child_pid);
		while (waitpid(j.child_pid, &st, 0) == -1 && errno == EINTR)
			;
		j.child_pid = 0;
	}
	if (j.ev_flush != NULL)
		event_free(j.ev_flush);
	if (j.ev_tick != NULL)
		event_free(j.ev_tick);
	if (j.ev_child != NULL)
		event_free(j.ev_child);
	j.ev_flush = j.ev_tick = j.ev_child = NULL;
	close(j.fd);
	j.fd = -1;
	buf_free(&j.buf);
	journal_on = false;
}

/* --- compaction ---------------------------------------------------------- */

void
journal_set_dump(void (*dump)(void))
{
	j.dump = dump;
}

static void
journal_child_write(void)
{
	journal_write_fd(j.fd, buf_head(&j.child), buf_used(&j.child),
	    "snapshot");
	buf_reset(&j.child);
}

/* In the child: close every descriptor above stderr but these two. */
static void
journal_child_close_fds(int pipefd)
{
	int keep[2] = { j.dirfd < pipefd ? j.dirfd : pipefd,
	    j.dirfd < pipefd ? pipefd : j.dirfd };
	unsigned lo = 3;
	int i;

	for (i = 0; i < 2; i++) {
		if (keep[i] > (int)lo)
			(void)close_range(lo, (unsigned)keep[i] - 1, 0);
		lo = (unsigned)keep[i] + 1;
	}
	(void)close_range(lo, ~0U, 0);
}

/* In the child: the state as it is now, into journal.gen.base. */
static void __attribute__((noreturn))
journal_child(uint64_t gen, int pipefd, pid_t parent)
{
	char tmp[PATH_MAX], path[PATH_MAX];
	uint8_t h[JOURNAL_HEADER];

	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	/* Sockets (the listener, clients: a peer must see its close when
	 * the daemon closes it) and the lock are the daemon's business. */
	journal_child_close_fds(pipefd);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	journal_path(tmp, sizeof tmp, gen, "base.tmp");
	journal_path(path, sizeof path, gen, "base");
	j.fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (j.fd == -1) {
		log_warn("compaction: cannot create %s", tmp);
		_exit(1);
	}
	journal_header(h);
	buf_init(&j.child);
	j.sink = SINK_CHILD;
	j.framed = true;
	j.open = false;
	if (buf_append(&j.child, h, sizeof h) == -1)
		_exit(1);
	j.dump();
	journal_child_write();
	if (fsync(j.fd) == -1 || close(j.fd) == -1 ||
	    rename(tmp, path) == -1 || fsync(j.dirfd) == -1) {
		log_warn("compaction: cannot complete %s", path);
		_exit(1);
	}
	(void)!write(pipefd, "1", 1);
	_exit(0);
}

static void journal_child_cb(evutil_socket_t, short, void *);

static void
journal_done_add(struct journal_done **v, size_t *n, void (*fn)(bool, void *),
    void *arg)
{
	if (fn == NULL)
		return;
	*v = xrealloc(*v, (*n + 1) * sizeof **v);
	(*v)[*n].fn = fn;
	(*v)[*n].arg = arg;
	(*n)++;
}

static int
journal_fork(void)
{
	pid_t parent = getpid(), pid;
	int p[2], old = j.fd;
	uint64_t t0;

	/*
	 * The old incr file is written out and, with always, synced as any
	 * flush would (replies of this turn wait for it); with everysec its
	 * sync goes to the thread, on a dup of its descriptor, before the
	 * new file's. The new file's name is synced with the journal's next
	 * sync, or the child's. Nothing here waits for the disk otherwise.
	 */
	journal_write_out();
	if (j.cfg.fsync == JOURNAL_FSYNC_ALWAYS && j.synced != j.written)
		journal_sync();
	if (pipe2(p, O_CLOEXEC) == -1) {
		log_warn("compaction: pipe");
		return -1;
	}
	if (j.cfg.fsync == JOURNAL_FSYNC_EVERYSEC)
		journal_bio_sync();
	j.gen++;
	j.fd = journal_new_incr(j.gen, false);
	j.total += JOURNAL_HEADER;
	close(old);
	j.child_gen = j.gen;
	t0 = now_usec();
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		journal_child(j.child_gen, p[1], parent);
	}
	j.last_fork_usec = now_usec() - t0;
	close(p[1]);
	if (pid == -1) {
		log_warn("compaction: fork");
		close(p[0]);
		return -1;
	}
	j.child_pid = pid;
	j.child_fd = p[0];
	j.child_start = t0;
	j.ev_child = event_new(j.base, p[0], EV_READ, journal_child_cb, NULL);
	if (j.ev_child == NULL)
		fatalx("%s: event_new failed", __func__);
	event_add(j.ev_child, NULL);
	log_info("compaction: started (pid %d, fork took %" PRIu64 " us)",
	    (int)pid, j.last_fork_usec);
	return 0;
}

int
journal_compact(void (*done)(bool ok, void *arg), void *arg)
{
	if (!journal_on || j.dump == NULL)
		return -1;
	if (j.child_pid > 0) {
		j.again = true;
		journal_done_add(&j.next_done, &j.nnext, done, arg);
		return 0;
	}
	if (journal_fork() == -1) {
		j.retry_after = now_usec() + JOURNAL_RETRY_USEC;
		return -1;
	}
	journal_done_add(&j.done, &j.ndone, done, arg);
	return 0;
}

static void
journal_child_cb(evutil_socket_t fd, short what, void *arg)
{
	char path[PATH_MAX], c = 0;
	struct journal_done *done = j.done;
	struct stat st;
	size_t i, n = j.ndone;
	bool ok;
	int status = 0;

	ok = read(j.child_fd, &c, 1) == 1 && c == '1';
	while (waitpid(j.child_pid, &status, 0) == -1 && errno == EINTR)
		;
	ok = ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
	event_free(j.ev_child);
	j.ev_child = NULL;
	close(j.child_fd);
	j.child_fd = -1;
	j.child_pid = 0;
	journal_path(path, sizeof path, j.child_gen, "base");
	if (ok && stat(path, &st) == 0) {
		j.has_snap = true;
		j.snap_gen = j.child_gen;
		j.snap_bytes = (uint64_t)st.st_size;
		journal_remove_old(j.snap_gen);
		/* what is left: the snapshot and the incr files from it on */
		j.total = j.snap_bytes;
		for (uint64_t g = j.snap_gen; g <= j.gen; g++) {
			journal_path(path, sizeof path, g, "incr");
			if (stat(path, &st) == 0)
				j.total += (uint64_t)st.st_size;
		}
		j.total += buf_used(&j.buf);
		j.compactions++;
		log_info("compaction: done in %" PRIu64 " ms, snapshot of %"
		    PRIu64 " bytes", (now_usec() - j.child_start) / 1000,
		    j.snap_bytes);
	} else {
		journal_path(path, sizeof path, j.child_gen, "base.tmp");
		(void)unlink(path);
		j.retry_after = now_usec() + JOURNAL_RETRY_USEC;
		log_warnx("compaction: failed (%s); the journal goes on as it "
		    "was", WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) :
		    "see the lines above");
		ok = false;
	}
	j.done = NULL;
	j.ndone = 0;
	for (i = 0; i < n; i++)
		done[i].fn(ok, done[i].arg);
	xfree(done);
	if (j.again) {
		j.again = false;
		j.done = j.next_done;
		j.ndone = j.nnext;
		j.next_done = NULL;
		j.nnext = 0;
		if (journal_fork() == -1) {
			for (i = 0; i < j.ndone; i++)
				j.done[i].fn(false, j.done[i].arg);
			xfree(j.done);
			j.done = NULL;
			j.ndone = 0;
		}
	}
}

/* Compact on its own when the files have grown past the ratio. */
static void
journal_check_compact(void)
{
	if (j.child_pid > 0 || j.dump == NULL || j.total < j.cfg.compact_min ||
	    (double)j.total < j.cfg.compact_ratio * (double)j.snap_bytes ||
	    now_usec() < j.retry_after)
		return;
	log_info("compaction: the journal holds %" PRIu64 " bytes, the last "
	    "snapshot %" PRIu64, j.total, j.snap_bytes);
	journal_compact(NULL, NULL);
}

/* --- ghosts ---------------------------------------------------------------- */

static struct conn **ghosts;
static size_t nghosts;

struct conn *
journal_ghost(uint64_t id)
{
	struct conn *g;
	size_t i;

	for (i = 0; i < nghosts; i++) {
		if (ghosts[i]->id == id)
			return ghosts[i];
	}
	g = xcalloc(1, sizeof *g);
	g->fd = -1;
	g->id = id;
	g->state = CONN_READY;
	g->flags = CONN_EOF;
	LIST_INIT(&g->owned);
	ghosts = xrealloc(ghosts, (nghosts + 1) * sizeof *ghosts);
	ghosts[nghosts++] = g;
	return g;
}

void
journal_ghost_sweep(void)
{
	size_t i = 0;

	while (i < nghosts) {
		struct hold_list *l = ghosts[i]->holdings;

		if (l == NULL || LIST_EMPTY(l))
			journal_ghost_free(ghosts[i]);
		else
			i++;
	}
}

struct conn *
journal_ghost_last(void)
{
	struct conn *best = NULL;
	size_t i;

	for (i = 0; i < nghosts; i++) {
		if (best == NULL || ghosts[i]->id > best->id)
			best = ghosts[i];
	}
	return best;
}

void
journal_ghost_free(struct conn *g)
{
	size_t i;

	for (i = 0; i < nghosts; i++) {
		if (ghosts[i] == g) {
			ghosts[i] = ghosts[--nghosts];
			break;
		}
	}
	xfree(g->holdings);
	xfree(g);
	if (nghosts == 0) {
		xfree(ghosts);
		ghosts = NULL;
	}
}

/* --- stats --------------------------------------------------------------- */

void
journal_get_stats(struct journal_stats *s)
{
	memset(s, 0, sizeof *s);
	s->dir = j.dir;
	s->fsync = j.cfg.fsync;
	s->records = j.records;
	s->bytes = j.total + buf_used(&j.buf);
	s->snapshot_bytes = j.snap_bytes;
	s->written = j.written;
	s->synced = atomic_load(&j.synced);
	s->syncs = atomic_load(&j.syncs);
	s->compactions = j.compactions;
	s->compacting = j.child_pid > 0;
	s->last_fork_usec = j.last_fork_usec;
}
