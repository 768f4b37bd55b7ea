/*
 * fuzz_live.c: a structured fuzzer of a live mpmgrd over its socket
 * (`make fuzz`; not part of make check).
 *
 *	fuzz_live [-d MPMGRD] [-t SECONDS] [-s SEED] [-c CONFIG] [-J] [-v]
 *
 * Starts the daemon (by default build-san/mpmgrd, ASan+UBSan) on a
 * temporary socket, and for SECONDS (default 60) runs episodes: a few
 * authenticated connections, each sending a pipelined batch of requests
 * generated from the method catalogue (right and wrong arities, object
 * names of every type, values of every kind, blocking verbs with short
 * timeouts, a blocking verb without one followed by sys.cancel), written
 * in pieces cut anywhere (one byte at a time, mid-frame), interleaved
 * across connections, and read while still being written. Some
 * connections are attackers: garbage before auth, a byte flipped in
 * their batch, a close in the middle of a frame, a half-close, or a
 * client that holds locks, permits and an ack lease, parks, pipelines a
 * megabyte behind and vanishes.
 *
 * What must hold, or the run fails (exit 1, with the seed to replay it):
 * every response answers the next request of its connection, in order
 * (a connection the daemon closes, for a malformed message or a limit,
 * stops early but never answers out of order); an episode ends within a
 * deadline (no stall); once every connection of an episode is closed,
 * everything they held is free again (locks, rlocks, a semaphore's
 * permits, an ack queue's leases); the daemon never dies, exits 0 on
 * SIGTERM, and its log has no sanitizer report. The daemon is restarted
 * every EPOCH_SECONDS with the next of a few configurations (defaults,
 * small limits, a memory ceiling, few clients), which also exercises the
 * graceful stop with work in flight.
 *
 * Every other epoch (from the first or the second by the seed, shifting
 * by one every round of the configurations; -J: every one) the daemon
 * keeps a journal (--data-dir in a fresh directory, --fsync always,
 * everysec or no, and a --compact-min of 16k to 256k, so that compactions
 * run during episodes). One episode in ten then kills it with kill -9 at a random
 * moment, and the epoch ends with a clean stop; after either the daemon
 * is started again on the same directory and must: replay without a
 * refusal or a CRC error (a torn last record is dropped with a warning,
 * fine after a kill -9 only), answer, pass the invariant checks on what
 * it replayed (the holders' queue is not refilled), and hold the last
 * value of fz.inv.ctr that was acknowledged (or one more, if an increment
 * was in flight): a connection of its own increments it through every
 * episode, and sends sys.save once in 200 requests. After a clean stop,
 * every dict, list, value, array, queue and event must dump the same as
 * before it. The counts go to stdout at the end:
 * connections and requests of each kind of attack, the answers by error
 * code, the journal's starts, restarts, kills, replayed records, torn
 * tails, compactions (sys.stats) and counter checks, and the methods
 * never sent or never once answered ok.
 *
 * The generator's memory is bounded: a batch is generated whole before it
 * is written, and takes requests only while under BATCH_BYTES; the long
 * strings of a batch share LONG_BYTES; values nest 4 levels (and one
 * chain of 75, past the daemon's limit); a request has at most one
 * parameter past its method's arity.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <msgpack.h>

#include "../proto/auth.h"
#include "../proto/buf.h"
#include "../proto/mpmgr_methods.h"
#include "../proto/msg.h"
#include "../proto/scan.h"

#define EPOCH_SECONDS 60
#define MAX_CONNS 8
#define MAX_BATCH 48
#define EPISODE_DEADLINE_MS 60000
#define INVARIANT_DEADLINE_MS 20000
#define HOLDER_QUEUE_ITEMS 16
/*
 * What a connection's batch may hold: requests are added while it is
 * under BATCH_BYTES (one request past it at most), and the long strings
 * of one batch (past small limits) share LONG_BYTES. With the nesting
 * bounded (4 levels, and one 75-level chain), a batch stays within a few
 * megabytes whatever the daemon reads of it; a holder's pings (80,000
 * of a few bytes) are the largest.
 */
#define BATCH_BYTES (1u << 20)
#define LONG_BYTES (256u << 10)

static struct {
	uint64_t episodes, conns, requests, responses, errors[PERR_COUNT];
	uint64_t pieces, mutated, abrupt, halfclosed, closed_by_daemon;
	uint64_t notifications, preauth, holders, cancels, refused, pings;
	uint64_t restarts, invariants, capped, longs;
	/* the journal: daemons started with one, restarts on the same data
	 * dir (of them after a kill -9), replays with records and the
	 * records, torn tails dropped, compactions (sys.stats), the
	 * counter's increments acknowledged and checks after a restart,
	 * sys.save sent by the counter and answered ok, objects compared
	 * across a clean restart */
	uint64_t jstarts, jpolicy[3], jrestarts, kills, replays, replayed;
	uint64_t torn;
	uint64_t compactions, compact_failed, ctr_acks, ctr_checks;
	uint64_t saves, saves_ok, compared, save_errors[PERR_COUNT];
	uint64_t sent[MPMGR_MID_COUNT], ok[MPMGR_MID_COUNT];
} st;

static uint64_t rng;
static bool verbose;
static bool always_journal;     /* -J: every daemon keeps a journal */

static uint64_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static uint64_t
below(uint64_t n)
{
	return n == 0 ? 0 : rnd() % n;
}

static bool
chance(unsigned percent)
{
	return below(100) < percent;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t seed;

/* --- the daemon ---------------------------------------------------------- */

static struct {
	const char *bin;
	pid_t pid;
	char dir[64], sock[sizeof ((struct sockaddr_un *)0)->sun_path];
	char keyfile[128], log[128];
	uint8_t key[MPMGR_KEY_MAX];
	size_t keylen;
	bool few_clients;
	bool quiet_drops;        /* small limits: a client may be dropped
				    without a word (output, client memory) */
	/* the journal of this daemon's life, if any */
	bool journal;
	char data[96];           /* its --data-dir */
	const char *fsync, *compact_min;
	unsigned config;
	long log_off;            /* where this start's lines begin */
	bool killed;             /* the last life ended by kill -9 */
	uint64_t compactions;    /* sys.stats' last answer */
	/* the counter (fz.inv.ctr): its last acknowledged value, and
	 * whether an increment was in flight when the daemon died */
	int64_t acked;
	bool pending;
} d;

/* The first line of the daemon's log with a sanitizer report or a fatal
 * message, into line: false if none. */
static bool
log_bad_line(char *line, size_t len)
{
	static const char *const bad[] = { "AddressSanitizer",
	    "LeakSanitizer", "runtime error", "<0>", "<1>", "<2>" };
	FILE *f;
	size_t i;

	if ((f = fopen(d.log, "r")) == NULL)
		return false;
	while (fgets(line, (int)len, f) != NULL) {
		for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
			if (strstr(line, bad[i]) != NULL) {
				fclose(f);
				return true;
			}
		}
	}
	fclose(f);
	return false;
}

static void __attribute__((noreturn, format(printf, 1, 2)))
fail(const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	fprintf(stderr, "fuzz_live: FAILED (seed %" PRIu64 "): ", seed);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	/* what the daemon saw first, when a failure here is its crash */
	if (d.pid > 0 && log_bad_line(line, sizeof line))
		fprintf(stderr, "fuzz_live: the daemon's log says: %s", line);
	/* its log stays, for the post-mortem; with FUZZ_LIVE_KEEP set the
	 * daemon does too, for a debugger */
	if (d.pid > 0 && getenv("FUZZ_LIVE_KEEP") != NULL) {
		fprintf(stderr, "fuzz_live: the daemon (pid %d) is kept\n",
		    (int)d.pid);
		exit(1);
	}
	if (d.pid > 0)
		kill(d.pid, SIGKILL);
	exit(1);
}

/* The configurations an epoch runs with, in turn. */
static const char *const configs[][12] = {
	{ NULL },
	{ "--max-message", "64k", "--output-limit", "256k",
	  "--max-client-memory", "2m", "--frame-timeout", "1", NULL },
	{ "--max-message", "1m", "--max-memory", "4m", NULL },
	{ "--max-clients", "3", "--max-unauth", "4", "--max-message", "256k",
	  NULL },
};
#define NCONFIGS (sizeof configs / sizeof configs[0])

static int fconnect(void);
static int fauth(int fd);

/* This start's lines of the log on stderr: why a start failed. */
static void
daemon_log_dump(void)
{
	char line[1024];
	FILE *f;

	if ((f = fopen(d.log, "r")) == NULL)
		return;
	fseek(f, d.log_off, SEEK_SET);
	while (fgets(line, sizeof line, f) != NULL)
		fprintf(stderr, "fuzz_live: log: %s", line);
	fclose(f);
}

/*
 * What this start of a journaled daemon said of its replay: no refusal
 * and no CRC error (it replays what it wrote itself), a torn last record
 * only after a kill -9, and the records it replayed, counted.
 */
static void
daemon_check_replay(void)
{
	char line[1024];
	unsigned long long nrec;
	const char *p;
	bool said = false;
	FILE *f;

	if ((f = fopen(d.log, "r")) == NULL)
		fail("no log %s", d.log);
	fseek(f, d.log_off, SEEK_SET);
	while (fgets(line, sizeof line, f) != NULL) {
		if (strstr(line, "refus") != NULL ||
		    strstr(line, "CRC") != NULL) {
			fclose(f);
			daemon_log_dump();
			fail("the daemon's replay of %s says: %s", d.data, line);
		}
		if (strstr(line, "cut short") != NULL) {
			if (!d.killed) {
				fclose(f);
				fail("a torn record in %s after a clean stop: "
				    "%s", d.data, line);
			}
			st.torn++;
		}
		if ((p = strstr(line, "replayed ")) != NULL &&
		    sscanf(p, "replayed %llu records", &nrec) == 1) {
			said = true;
			st.replayed += nrec;
			st.replays += nrec > 0;
		}
	}
	fclose(f);
	if (!said)
		fail("the daemon with %s never said what it replayed (%s)",
		    d.data, d.log);
}

/* The compactions that failed in this daemon's life (its log lines). */
static void
daemon_count_compactions(void)
{
	char line[1024];
	FILE *f;

	st.compactions += d.compactions;
	d.compactions = 0;
	if ((f = fopen(d.log, "r")) == NULL)
		return;
	fseek(f, d.log_off, SEEK_SET);
	while (fgets(line, sizeof line, f) != NULL)
		st.compact_failed += strstr(line, "compaction: failed") != NULL;
	fclose(f);
}

static void
daemon_start(unsigned config)
{
	const char *argv[32];
	char err[256] = "no answer";
	struct stat sb;
	int n = 0, fd, i;
	int64_t deadline;

	argv[n++] = d.bin;
	argv[n++] = "--socket";
	argv[n++] = d.sock;
	argv[n++] = "--authkey-file";
	argv[n++] = d.keyfile;
	argv[n++] = "--log-level";
	argv[n++] = "info";
	for (i = 0; configs[config][i] != NULL; i++)
		argv[n++] = configs[config][i];
	if (d.journal) {
		argv[n++] = "--data-dir";
		argv[n++] = d.data;
		argv[n++] = "--fsync";
		argv[n++] = d.fsync;
		argv[n++] = "--compact-min";
		argv[n++] = d.compact_min;
	}
	argv[n] = NULL;
	d.config = config;
	d.log_off = stat(d.log, &sb) == 0 ? (long)sb.st_size : 0;
	d.compactions = 0;
	d.few_clients = config == 3;
	d.quiet_drops = config == 1 || config == 2;
	if ((d.pid = fork()) == -1)
		fail("fork: %s", strerror(errno));
	if (d.pid == 0) {
		int lf = open(d.log, O_WRONLY | O_CREAT | O_APPEND, 0600);

		if (lf == -1 || dup2(lf, 2) == -1)
			_exit(126);
		signal(SIGPIPE, SIG_DFL);
		/* a gcc-ASan daemon wants its runtime first (stdbuf, say) */
		unsetenv("LD_PRELOAD");
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	deadline = now_ms() + 30000;
	for (;;) {
		if ((fd = fconnect()) != -1 && fauth(fd) == 0) {
			close(fd);
			break;
		}
		if (fd != -1)
			close(fd);
		if (waitpid(d.pid, &i, WNOHANG) == d.pid) {
			d.pid = -1;
			daemon_log_dump();
			fail("the daemon exited at start (config %u%s%s): see "
			    "%s", config, d.journal ? ", journal " : "",
			    d.journal ? d.data : "", d.log);
		}
		if (now_ms() > deadline)
			fail("the daemon did not start: %s", err);
		usleep(20000);
	}
	st.restarts++;
	if (d.journal)
		daemon_check_replay();
}

/* The log must hold no sanitizer report and no fatal message. */
static void
daemon_check_log(void)
{
	char line[1024];

	if (access(d.log, R_OK) == -1)
		fail("no log %s", d.log);
	if (log_bad_line(line, sizeof line))
		fail("the daemon's log says: %s(the whole log: %s)", line,
		    d.log);
}

static void
daemon_stop(void)
{
	int64_t deadline = now_ms() + 60000;
	int status;
	pid_t r;

	if (kill(d.pid, SIGTERM) == -1)
		fail("the daemon is gone: see %s", d.log);
	while ((r = waitpid(d.pid, &status, WNOHANG)) == 0) {
		if (now_ms() > deadline) {
			kill(d.pid, SIGKILL);
			fail("the daemon did not stop on SIGTERM within 60 s");
		}
		usleep(10000);
	}
	if (r != d.pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail("the daemon ended with status %#x on SIGTERM: see %s",
		    status, d.log);
	daemon_check_log();
	daemon_count_compactions();
	d.killed = false;
}

/* kill -9, as a crash: what it answered must be in its journal. */
static void
daemon_kill(void)
{
	int status;

	if (kill(d.pid, SIGKILL) == -1 || waitpid(d.pid, &status, 0) != d.pid)
		fail("the daemon is gone: see %s", d.log);
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
		fail("the daemon ended with status %#x before its kill -9: "
		    "see %s", status, d.log);
	daemon_check_log();
	daemon_count_compactions();
	d.killed = true;
	st.kills++;
}

static void
daemon_alive(void)
{
	int status;

	if (waitpid(d.pid, &status, WNOHANG) == d.pid)
		fail("the daemon died (status %#x): see %s", status, d.log);
}

/* --- connections ---------------------------------------------------------- */

static int
fconnect(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", d.sock);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		fail("socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* A connection in, for the fuzzer's own checks: what it is for, if not. */
static int
fconnect_in(const char *what)
{
	int fd;

	if ((fd = fconnect()) == -1 || fauth(fd) != 0)
		fail("cannot connect to %s", what);
	return fd;
}

/* What a blocking connection has read: the message returned last is the
 * first `held` bytes. */
struct rbuf {
	struct buf b;
	size_t held;
};

/*
 * The next whole message from fd into r (the one returned before is
 * dropped now): 0 and *m (views into r), or -1 on EOF, timeout or garbage.
 */
static int
read_msg(int fd, struct rbuf *r, struct msg *m, int timeout_ms)
{
	struct buf *b = &r->b;
	struct scan_state s;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	const char *why;
	size_t flen;
	ssize_t n;
	int64_t deadline = now_ms() + timeout_ms;

	if (r->held > 0)
		buf_consume(b, r->held);
	r->held = 0;
	if (buf_reserve(b, 4096) == -1)
		fail("out of memory");
	scan_init(&s);
	for (;;) {
		int sr = scan_frame(&s, buf_head(b), buf_used(b), 1u << 30,
		    &flen, &why);

		if (sr == SCAN_FRAME) {
			r->held = flen;
			return msg_parse(buf_head(b), m, &why) == 0 ? 0 : -1;
		}
		if (sr != SCAN_MORE || now_ms() > deadline)
			return -1;
		if (poll(&p, 1, 100) != 1)
			continue;
		if (buf_reserve(b, 4096) == -1)
			fail("out of memory");
		if ((n = read(fd, buf_tail(b), buf_room(b))) <= 0)
			return -1;
		b->len += (size_t)n;
	}
}

/* The handshake on fd: 0 when in, else the PERR_* code (or -1). */
static int
fauth(int fd)
{
	uint8_t nc[MPMGR_NONCE_LEN], mac[MPMGR_MAC_LEN], ns[MPMGR_NONCE_LEN];
	struct rbuf b = { BUF_INIT, 0 };
	struct buf out = BUF_INIT;
	msgpack_packer pk;
	struct mpv_iter it;
	struct mpv v, message;
	struct msg m;
	int rc = -1;

	if (read_msg(fd, &b, &m, 10000) != 0)
		goto out;
	if (m.kind == MSG_NOTIFICATION &&
	    mpv_str_eq(&m.method, MPMGR_NOTIFY_ERROR)) {
		mpv_iter_init(&it, &m.params);
		mpv_iter_next(&it, &v);
		rc = proto_err_lookup((const char *)v.ptr, v.len);
		goto out;
	}
	mpv_iter_init(&it, &m.params);
	if (!mpv_iter_next(&it, &v) || !mpv_iter_next(&it, &v) ||
	    v.type != MPV_BIN || v.len != MPMGR_NONCE_LEN)
		goto out;
	memcpy(ns, v.ptr, sizeof ns);
	if (auth_random(nc, sizeof nc) == -1)
		fail("getrandom");
	auth_client_proof(d.key, d.keylen, ns, nc, mac);
	msgpack_packer_init(&pk, &out, buf_pack_write);
	msg_pack_request(&pk, 0, MPMGR_METHOD_AUTH, 3);
	msgpack_pack_uint8(&pk, MPMGR_PROTO_VERSION);
	msgpack_pack_bin_with_body(&pk, mac, sizeof mac);
	msgpack_pack_bin_with_body(&pk, nc, sizeof nc);
	if (send(fd, buf_head(&out), buf_used(&out), MSG_NOSIGNAL) !=
	    (ssize_t)buf_used(&out) || read_msg(fd, &b, &m, 10000) != 0 ||
	    m.kind != MSG_RESPONSE)
		goto out;
	rc = msg_error_code(&m, &message);
out:
	buf_free(&b.b);
	buf_free(&out);
	return rc;
}

/* --- requests ------------------------------------------------------------- */

static const char *const types[] = { "dict", "value", "list", "array",
    "queue", "event", "barrier", "lock", "rlock", "semaphore", "condition" };
#define NTYPES (sizeof types / sizeof types[0])

static void gen_value(msgpack_packer *pk, int depth);

static size_t long_left;        /* LONG_BYTES left in this batch */

static void
pack_cstr(msgpack_packer *pk, const char *s)
{
	msg_pack_cstr(pk, s);
}

static void
pack_bool(msgpack_packer *pk, bool b)
{
	if (b)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
}

static void
gen_str(msgpack_packer *pk)
{
	static const char alphabet[] = "abk01 \xc3\xa9";
	char s[300];
	size_t n, i;

	if (chance(1) && (n = 1000 + below(70000)) <= long_left) {
		/* long: past small limits, into the output checks */
		long_left -= n;
		st.longs++;
		msgpack_pack_str(pk, n);
		for (i = 0; i < n; i += sizeof s)
			msgpack_pack_str_body(pk, memset(s, 'L', sizeof s),
			    n - i < sizeof s ? n - i : sizeof s);
		return;
	}
	n = chance(70) ? below(4) : below(sizeof s);
	for (i = 0; i < n; i++) {
		s[i] = alphabet[below(sizeof alphabet - 1)];
		/* keep UTF-8 valid: the two bytes of é together */
		if ((uint8_t)s[i] == 0xc3) {
			if (i + 1 < n)
				s[++i] = (char)0xa9;
			else
				s[i] = 'x';
		} else if ((uint8_t)s[i] == 0xa9)
			s[i] = 'y';
	}
	msgpack_pack_str_with_body(pk, s, n);
}

static void
gen_value(msgpack_packer *pk, int depth)
{
	static const double floats[] = { 0.0, -0.0, 1.5, -2.25, 1e300,
	    1.0 / 0.0, -1.0 / 0.0, 0.1 };
	uint8_t bytes[32];
	size_t n, i;

	switch (below(depth > 3 ? 11 : 14)) {
	case 0:
		msgpack_pack_nil(pk);
		break;
	case 1:
		pack_bool(pk, chance(50));
		break;
	case 2:
	case 3:
		msgpack_pack_uint64(pk, below(20));
		break;
	case 4:
		msgpack_pack_int64(pk, -(int64_t)below(20) - 1);
		break;
	case 5:
		switch (below(4)) {
		case 0: msgpack_pack_int64(pk, INT64_MIN); break;
		case 1: msgpack_pack_int64(pk, INT64_MAX); break;
		case 2: msgpack_pack_uint64(pk, UINT64_MAX); break;
		default: msgpack_pack_uint64(pk, rnd()); break;
		}
		break;
	case 6:
		if (chance(10))
			msgpack_pack_double(pk, nan(""));
		else
			msgpack_pack_double(pk, floats[below(8)]);
		break;
	case 7:
		msgpack_pack_float(pk, (float)(below(1000)) / 8.0f);
		break;
	case 8:
	case 9:
		gen_str(pk);
		break;
	case 10:
		n = below(sizeof bytes);
		for (i = 0; i < n; i++)
			bytes[i] = (uint8_t)rnd();
		if (chance(80))
			msgpack_pack_bin_with_body(pk, bytes, n);
		else
			msgpack_pack_ext_with_body(pk, bytes, n,
			    (int8_t)below(12) - 1);
		break;
	case 11:
		if (chance(2)) {
			/* deep: past the 64 levels a value may nest */
			n = 60 + below(16);
			for (i = 0; i < n; i++)
				msgpack_pack_array(pk, 1);
			msgpack_pack_nil(pk);
			break;
		}
		n = below(6);
		msgpack_pack_array(pk, n);
		for (i = 0; i < n; i++)
			gen_value(pk, depth + 1);
		break;
	case 12:
		n = below(4);
		msgpack_pack_map(pk, n);
		for (i = 0; i < n; i++) {
			gen_value(pk, depth + 1);
			gen_value(pk, depth + 1);
		}
		break;
	default:
		n = 1 + below(8);
		msgpack_pack_array(pk, n);
		for (i = 0; i < n; i++)
			msgpack_pack_uint64(pk, below(100));
		break;
	}
}

/* An object's name: mostly one of the method's type, else anything. */
static void
gen_name(msgpack_packer *pk, const char *type)
{
	char name[300];
	int n;

	if (chance(3)) {
		gen_value(pk, 0);
		return;
	}
	if (chance(2)) {
		n = chance(50) ? 0 : 256;
		memset(name, 'n', (size_t)n);
		msgpack_pack_str_with_body(pk, name, (size_t)n);
		return;
	}
	if (chance(10) || strcmp(type, "obj") == 0 || strcmp(type, "sys") == 0)
		type = types[below(NTYPES)];
	/* a pool once closed or terminated stays so, and the names live
	 * as long as the daemon: pools get fresh names every 4 episodes */
	n = snprintf(name, sizeof name, "fz.%s.%u", type,
	    (unsigned)below(3) + (strcmp(type, "pool") == 0 ?
	    3 * (unsigned)(st.episodes / 4) : 0));
	msgpack_pack_str_with_body(pk, name, (size_t)n);
}

/*
 * Options a create of type takes, right (without them an array or a
 * barrier is never made, and nothing of theirs is reached past NOOBJ).
 */
static void
gen_good_options(msgpack_packer *pk, const char *type)
{
	size_t n, i;

	if (strcmp(type, "array") == 0) {
		msgpack_pack_map(pk, 2);
		pack_cstr(pk, "typecode");
		pack_cstr(pk, (const char[]){ "bBhHiIlLqQfd"[below(12)], 0 });
		if (chance(50)) {
			pack_cstr(pk, "length");
			msgpack_pack_uint64(pk, below(100));
		} else {
			pack_cstr(pk, "items");
			n = below(10);
			msgpack_pack_array(pk, n);
			for (i = 0; i < n; i++)
				msgpack_pack_uint64(pk, below(100));
		}
	} else if (strcmp(type, "barrier") == 0) {
		msgpack_pack_map(pk, 1);
		pack_cstr(pk, "parties");
		msgpack_pack_uint64(pk, 1 + below(3));
	} else if (strcmp(type, "queue") == 0) {
		msgpack_pack_map(pk, 2);
		pack_cstr(pk, "maxsize");
		msgpack_pack_uint64(pk, below(5));
		pack_cstr(pk, "ack");
		pack_bool(pk, chance(50));
	} else if (strcmp(type, "semaphore") == 0) {
		msgpack_pack_map(pk, 2);
		pack_cstr(pk, "value");
		msgpack_pack_uint64(pk, below(3));
		pack_cstr(pk, "bounded");
		pack_bool(pk, chance(50));
	} else if (strcmp(type, "pool") == 0) {
		msgpack_pack_map(pk, 2);
		pack_cstr(pk, "max_attempts");
		msgpack_pack_uint64(pk, 1 + below(3));
		pack_cstr(pk, "maxsize");
		msgpack_pack_uint64(pk, below(10));
	} else if (strcmp(type, "lock") == 0 || strcmp(type, "rlock") == 0 ||
	    strcmp(type, "condition") == 0) {
		msgpack_pack_map(pk, 1);
		pack_cstr(pk, "release_on_disconnect");
		pack_bool(pk, chance(50));
	} else
		msgpack_pack_map(pk, 0);
}

/* A process record's fields, right (it signals no one: a holder is
 * told), or anything. */
static void
gen_process(msgpack_packer *pk)
{
	bool daemon;

	if (chance(20)) {
		gen_value(pk, 0);
		return;
	}
	daemon = chance(50);
	msgpack_pack_map(pk, 2 + daemon);
	pack_cstr(pk, "pid");
	msgpack_pack_uint64(pk, 1 + below(100000));
	pack_cstr(pk, "argv");
	msgpack_pack_array(pk, 1);
	pack_cstr(pk, "fz");
	if (daemon) {
		pack_cstr(pk, "daemon");
		pack_bool(pk, chance(50));
	}
}

/* A create's options: right for its type, or the keys the types take
 * with plausible values. */
static void
gen_options(msgpack_packer *pk, const char *type)
{
	static const char *const keys[] = { "maxsize", "ack", "value",
	    "bounded", "parties", "typecode", "length", "items", "lock",
	    "release_on_disconnect", "other" };
	static const char *const codes[] = { "b", "B", "h", "H", "i", "I",
	    "l", "L", "q", "Q", "f", "d", "x" };
	size_t n = below(4), i;
	const char *k;

	if (chance(50)) {
		gen_good_options(pk, type);
		return;
	}
	msgpack_pack_map(pk, n);
	for (i = 0; i < n; i++) {
		k = keys[below(sizeof keys / sizeof keys[0])];
		pack_cstr(pk, k);
		if (strcmp(k, "typecode") == 0 && chance(90))
			pack_cstr(pk, codes[below(13)]);
		else if (strcmp(k, "length") == 0 && chance(90))
			msgpack_pack_uint64(pk, chance(2) ? 1u << 27 :
			    below(5000));
		else if ((strcmp(k, "ack") == 0 || strcmp(k, "bounded") == 0 ||
		    strcmp(k, "release_on_disconnect") == 0) && chance(90))
			msgpack_pack_int(pk, chance(50));
		else if (strcmp(k, "lock") == 0 && chance(80))
			gen_name(pk, chance(50) ? "lock" : "rlock");
		else
			gen_value(pk, 1);
	}
}

static void
gen_timeout(msgpack_packer *pk)
{
	switch (below(10)) {
	case 0:
		msgpack_pack_int(pk, -1);
		break;
	case 1:
		pack_cstr(pk, "soon");
		break;
	case 2:
	case 3:
	case 4:
		msgpack_pack_uint8(pk, 0);
		break;
	default:
		msgpack_pack_double(pk, (double)below(60) / 1000.0);
		break;
	}
}

/* The connection a batch goes on. */
struct fconn {
	int fd;
	struct buf out;          /* the batch, written from off */
	struct buf in;
	struct scan_state scan;
	uint32_t *expect;        /* msgids awaited, in order */
	uint16_t *mid;           /* their methods (MPMGR_MID_*) */
	size_t nexpect, cap, got;
	uint32_t next_id;
	size_t cut_at;           /* abrupt: close once off reaches it */
	int64_t close_at;        /* we close it then (0: when answered) */
	bool mutated, halfclose, abrupt, holder, preauth, done, wrote_all;
	bool told;               /* got an mpmgr.error: a close follows */
};

static void
expect_id(struct fconn *c, uint32_t id, unsigned mid)
{
	if (c->nexpect == c->cap) {
		c->cap = c->cap == 0 ? 64 : 2 * c->cap;
		c->expect = realloc(c->expect, c->cap * sizeof *c->expect);
		c->mid = realloc(c->mid, c->cap * sizeof *c->mid);
		if (c->expect == NULL || c->mid == NULL)
			fail("out of memory");
	}
	c->mid[c->nexpect] = (uint16_t)mid;
	c->expect[c->nexpect++] = id;
	st.requests++;
	st.sent[mid]++;
}

/* The method c's j-th request called, for a report. */
static const char *
expect_what(const struct fconn *c, size_t j)
{
	return j < c->nexpect ? catalogue_methods[c->mid[j]].name : "-";
}

static const struct mpmgr_method_info *
pick_method(void)
{
	const struct mpmgr_method_info *row;

	/* not the daemon's end, nor sys.kill: it closes other fuzzing
	 * connections at random, which the fuzzer's kills already do */
	do
		row = &catalogue_methods[below(MPMGR_MID_COUNT)];
	while (strcmp(row->name, "sys.shutdown") == 0 ||
	    strcmp(row->name, "sys.kill") == 0);
	return row;
}

/* The index of a blocking verb's timeout among its parameters
 * ("name[, timeout[, {ttl, fence}]]": 1), or -1: sys.save blocks until
 * the journal is on disk and takes none. */
static int
timeout_index(const struct mpmgr_method_info *row)
{
	const char *t = strstr(row->params, "timeout"), *p;
	int n = 0;

	if ((row->flags & MF_BLOCKS) == 0 || t == NULL)
		return -1;
	for (p = row->params; p < t; p++)
		n += *p == ',';
	return n;
}

/* One generated request for c; one that may park without a timeout is
 * followed by a sys.cancel of it. */
static void
gen_request(struct fconn *c, msgpack_packer *pk)
{
	const struct mpmgr_method_info *row = pick_method();
	int ti = timeout_index(row);
	bool timed = ti >= 0, forever;
	unsigned np = row->min_params, i;
	uint32_t id = ++c->next_id;

	if (row->max_params > row->min_params)
		np += (unsigned)below(row->max_params - row->min_params + 1);
	if (chance(3))
		np = (unsigned)below(row->max_params + 2);
	/* a timed verb without its timeout waits forever: cancel it */
	forever = timed && np <= (unsigned)ti;
	if (timed && !forever && chance(10)) {
		np = (unsigned)ti;
		forever = true;
	}
	/* never more than one past the arity: a wrong count is one
	 * mistake, not a flood (max_params - 1 of a verb with none once
	 * asked for 4 billion parameters and ran the fuzzer out of memory) */
	if (np > row->max_params + 1)
		fail("generator: %u parameters for %s", np, row->name);
	msg_pack_request(pk, id, row->name, np);
	for (i = 0; i < np; i++) {
		if (i == 0 && (row->flags & MF_OBJ))
			gen_name(pk, row->type);
		else if (strcmp(row->name, "sys.cancel") == 0)
			msgpack_pack_uint32(pk, id - 1 - (uint32_t)below(3));
		else if (timed && i == (unsigned)ti)
			gen_timeout(pk);
		else if (strcmp(row->verb, "create") == 0 && i == 1)
			gen_options(pk, row->type);
		else if (strcmp(row->name, "process.register") == 0 && i == 1)
			gen_process(pk);
		else if (chance(30))
			msgpack_pack_int64(pk, (int64_t)below(12) - 3);
		else
			gen_value(pk, 0);
	}
	expect_id(c, id, (unsigned)(row - catalogue_methods));
	if (forever && np >= row->min_params && np <= row->max_params) {
		/* sometimes a miss first; both are answered in order */
		if (chance(20)) {
			msg_pack_request(pk, ++c->next_id, "sys.cancel", 1);
			msgpack_pack_uint32(pk, id + 1000);
			expect_id(c, c->next_id, MPMGR_MID_sys_cancel);
		}
		msg_pack_request(pk, ++c->next_id, "sys.cancel", 1);
		msgpack_pack_uint32(pk, id);
		expect_id(c, c->next_id, MPMGR_MID_sys_cancel);
		st.cancels++;
	}
}

/*
 * A holder: takes a lock, an rlock, a permit and an ack lease that no
 * generated request names, then (sometimes) parks forever with a
 * megabyte pipelined behind; it is closed without a word. After the
 * episode all of it must be free again.
 */
static void
gen_holder(struct fconn *c, msgpack_packer *pk, unsigned k)
{
	static const struct {
		unsigned mid;
		const char *name;
	} takes[] = {
		{ MPMGR_MID_lock_acquire, "fz.inv.lock" },
		{ MPMGR_MID_rlock_acquire, "fz.inv.rlock" },
		{ MPMGR_MID_semaphore_acquire, "fz.inv.sem" },
		{ MPMGR_MID_queue_get, "fz.inv.q" },
	};
	char name[64];
	size_t i, n;

	for (i = 0; i < 4; i++) {
		n = (size_t)snprintf(name, sizeof name, "%s.%u", takes[i].name,
		    i == 3 ? 0 : k);
		msg_pack_request(pk, ++c->next_id,
		    catalogue_methods[takes[i].mid].name, 2);
		msgpack_pack_str_with_body(pk, name, n);
		msgpack_pack_uint8(pk, 0);
		expect_id(c, c->next_id, takes[i].mid);
	}
	if (chance(50)) {
		msg_pack_request(pk, ++c->next_id, "event.wait", 1);
		pack_cstr(pk, "fz.inv.never");
		expect_id(c, c->next_id, MPMGR_MID_event_wait);
		for (i = 0; i < 80000; i++) {
			msg_pack_request(pk, ++c->next_id, "sys.ping", 0);
			expect_id(c, c->next_id, MPMGR_MID_sys_ping);
		}
		st.pings += 80000;
	}
	/* it vanishes while the daemon still works on it, or later */
	c->holder = true;
	c->abrupt = true;
	c->cut_at = SIZE_MAX;
	c->close_at = now_ms() + (int64_t)below(300);
}


/* --- the counter: acknowledged writes a restart must keep ------------------ */

static int call(int fd, struct rbuf *b, const char *method, const char *name,
    bool arg0, struct mpv *res);

/*
 * With a journal, each episode has one more connection, the counter's: it
 * increments fz.inv.ctr (value.incr) one request at a time, or once in
 * 200 asks for sys.save, and remembers the last value acknowledged.
 * Nobody else names the value, so each answer must be the one before
 * plus one, and a restarted daemon must hold the last acknowledged value,
 * or one more when an increment was in flight at the kill.
 */
struct counter {
	int fd;
	struct buf in;
	struct scan_state scan;
	uint32_t id;
	bool inflight, save;
};

static void
ctr_open(struct counter *k)
{
	int rc;

	memset(k, 0, sizeof *k);
	buf_init(&k->in);
	scan_init(&k->scan);
	k->fd = -1;
	if (!d.journal)
		return;
	if ((k->fd = fconnect()) == -1)
		fail("cannot connect the counter: the daemon is gone? (%s)",
		    d.log);
	if ((rc = fauth(k->fd)) != 0) {
		if (rc != PERR_LIMIT || !d.few_clients)
			fail("the counter's authentication failed: %d", rc);
		close(k->fd);
		k->fd = -1;
	}
}

static void
ctr_close(struct counter *k)
{
	if (k->fd != -1)
		close(k->fd);
	k->fd = -1;
	buf_free(&k->in);
}

static void
ctr_send(struct counter *k)
{
	struct buf out = BUF_INIT;
	msgpack_packer pk;
	ssize_t w;

	msgpack_packer_init(&pk, &out, buf_pack_write);
	k->save = below(200) == 0;
	if (k->save) {
		msg_pack_request(&pk, ++k->id, "sys.save", 0);
		st.saves++;
	} else {
		msg_pack_request(&pk, ++k->id, "value.incr", 1);
		pack_cstr(&pk, "fz.inv.ctr");
	}
	w = send(k->fd, buf_head(&out), buf_used(&out), MSG_NOSIGNAL |
	    MSG_DONTWAIT);
	if (w == (ssize_t)buf_used(&out)) {
		k->inflight = true;
		d.pending = !k->save;
	} else if (w == -1 && errno != EAGAIN && errno != EINTR) {
		/* the daemon closed it; nothing was sent */
		close(k->fd);
		k->fd = -1;
	} else if (w != -1)
		fail("the counter's request went out in part");
	buf_free(&out);
}

static void ctr_reconcile(bool restarted);

/* The counter's answers: each increment the last plus one. */
static void
ctr_read(struct counter *k)
{
	struct mpv message;
	struct msg m;
	const char *why;
	size_t flen;
	ssize_t n;
	int code;

	if (buf_reserve(&k->in, 4096) == -1)
		fail("out of memory");
	n = recv(k->fd, buf_tail(&k->in), buf_room(&k->in), MSG_DONTWAIT);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		/* closed for a limit: whether the increment in flight
		 * happened is asked on another connection */
		close(k->fd);
		k->fd = -1;
		k->inflight = false;
		ctr_reconcile(false);
		return;
	}
	k->in.len += (size_t)n;
	for (;;) {
		if (scan_frame(&k->scan, buf_head(&k->in), buf_used(&k->in),
		    1u << 30, &flen, &why) != SCAN_FRAME)
			break;
		if (msg_parse(buf_head(&k->in), &m, &why) != 0)
			fail("the daemon sent the counter a malformed "
			    "message: %s", why);
		if (m.kind != MSG_RESPONSE) {
			/* mpmgr.error: a close follows */
			buf_consume(&k->in, flen);
			continue;
		}
		if (!k->inflight || m.msgid != k->id)
			fail("the counter got response %u where %u was due",
			    m.msgid, k->id);
		code = msg_error_code(&m, &message);
		if (k->save && code == PERR_NONE)
			st.saves_ok++;
		else if (k->save)
			st.save_errors[code >= 0 && code < PERR_COUNT ?
			    code : 0]++;
		else if (code == PERR_NONE) {
			if (m.result.type != MPV_UINT ||
			    m.result.v.u != (uint64_t)d.acked + 1)
				fail("value.incr fz.inv.ctr answered %s%" PRIu64
				    " after %" PRId64, m.result.type ==
				    MPV_UINT ? "" : "a non-int ", m.result.v.u,
				    d.acked);
			d.acked++;
			st.ctr_acks++;
		}
		/* an error (a memory ceiling, say) changed nothing */
		d.pending = false;
		k->inflight = false;
		buf_consume(&k->in, flen);
	}
}

/* The counter's answer to what is in flight, at an episode's end. */
static void
ctr_finish(struct counter *k)
{
	struct pollfd p = { .fd = k->fd, .events = POLLIN };
	int64_t deadline = now_ms() + EPISODE_DEADLINE_MS;

	while (k->fd != -1 && k->inflight) {
		if (now_ms() > deadline)
			fail("the counter's %s was not answered within %d s",
			    k->save ? "sys.save" : "value.incr",
			    EPISODE_DEADLINE_MS / 1000);
		if (poll(&p, 1, 100) == 1)
			ctr_read(k);
		daemon_alive();
	}
	ctr_close(k);
}

/*
 * fz.inv.ctr as the daemon holds it: the last value acknowledged, or one
 * more if an increment was in flight (a kill -9, a close for a limit).
 */
static void
ctr_reconcile(bool restarted)
{
	struct rbuf b = { BUF_INIT, 0 };
	struct mpv res;
	int64_t v;
	int fd, rc;

	fd = fconnect_in("read the counter");
	if ((rc = call(fd, &b, "value.get", "fz.inv.ctr", false, &res)) != 0)
		fail("value.get fz.inv.ctr: error %d", rc);
	if (res.type == MPV_NIL)
		v = 0;
	else if (res.type == MPV_UINT)
		v = (int64_t)res.v.u;
	else
		fail("value.get fz.inv.ctr: not an int");
	if (v < d.acked || v > d.acked + d.pending)
		fail("fz.inv.ctr is %" PRId64 "%s, when %" PRId64 " was "
		    "acknowledged%s (fsync %s)", v, restarted ? " after a "
		    "restart" : "", d.acked, d.pending ? " and one more in "
		    "flight" : "", d.fsync);
	d.acked = v;
	d.pending = false;
	st.ctr_checks += restarted;
	close(fd);
	buf_free(&b.b);
}

/* Start the daemon again on its data dir, after a kill -9 or a stop. */
static void
daemon_restart(void)
{
	daemon_start(d.config);
	st.jrestarts++;
	ctr_reconcile(true);
}

/* --- an episode ----------------------------------------------------------- */

static void
conn_open(struct fconn *c, unsigned k)
{
	msgpack_packer pk;
	size_t n, i;
	int rc;

	memset(c, 0, sizeof *c);
	buf_init(&c->out);
	buf_init(&c->in);
	scan_init(&c->scan);
	if ((c->fd = fconnect()) == -1)
		fail("cannot connect: the daemon is gone? (%s)", d.log);
	st.conns++;
	msgpack_packer_init(&pk, &c->out, buf_pack_write);
	if (chance(8)) {
		/* before auth: garbage, or a cut or bad proof */
		c->preauth = true;
		st.preauth++;
		n = 1 + below(1500);
		if (buf_reserve(&c->out, n) == -1)
			fail("out of memory");
		for (i = 0; i < n; i++)
			c->out.data[c->out.len++] = (uint8_t)rnd();
		if (chance(50))
			c->out.data[0] = 0x94;
		/* the daemon answers garbage at once; a frame cut short
		 * would wait for the handshake deadline: leave before */
		c->close_at = now_ms() + 200;
		fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
		return;
	}
	if ((rc = fauth(c->fd)) != 0) {
		if (rc != PERR_LIMIT || !d.few_clients)
			fail("authentication failed: %d", rc);
		st.refused++;
		c->done = true;
		return;
	}
	fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
	if (k < 2 && chance(25)) {
		gen_holder(c, &pk, k);
		st.holders++;
		return;
	}
	n = 1 + below(MAX_BATCH);
	long_left = LONG_BYTES;
	for (i = 0; i < n; i++) {
		if (buf_used(&c->out) >= BATCH_BYTES) {
			st.capped++;
			break;
		}
		gen_request(c, &pk);
	}
	if (chance(3)) {
		c->out.data[c->out.off + below(buf_used(&c->out))] ^=
		    (uint8_t)(1 + below(255));
		c->mutated = true;
		/* a sys.cancel may be what was hit: its parked request
		 * would wait for ever */
		c->close_at = now_ms() + 5000;
		st.mutated++;
	}
	if (chance(5)) {
		c->abrupt = true;
		c->cut_at = below(buf_used(&c->out) + 1);
		st.abrupt++;
	} else if (chance(4)) {
		c->halfclose = true;
		st.halfclosed++;
	}
}

static void
conn_close(struct fconn *c)
{
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	c->done = true;
}

static void
conn_free(struct fconn *c)
{
	conn_close(c);
	buf_free(&c->out);
	buf_free(&c->in);
	free(c->expect);
	free(c->mid);
}

/* Write the next piece of c's batch. */
static void
conn_write(struct fconn *c)
{
	size_t left = buf_used(&c->out), n;
	ssize_t w;

	if (c->abrupt && !c->holder && c->out.off >= c->cut_at) {
		conn_close(c);
		return;
	}
	switch (below(4)) {
	case 0:
		n = 1 + below(16);
		break;
	case 1:
		n = 1 + below(2048);
		break;
	default:
		n = left;
		break;
	}
	if (n > left)
		n = left;
	if (c->abrupt && !c->holder && c->out.off + n > c->cut_at)
		n = c->cut_at - c->out.off;
	if (n == 0) {
		conn_close(c);
		return;
	}
	w = send(c->fd, buf_head(&c->out), n, MSG_NOSIGNAL);
	if (w > 0) {
		buf_consume(&c->out, (size_t)w);
		st.pieces++;
	} else if (w == -1 && errno != EAGAIN && errno != EINTR) {
		/* the daemon closed it (a limit, a bad frame) */
		st.closed_by_daemon++;
		conn_close(c);
		return;
	}
	if (buf_used(&c->out) == 0) {
		c->wrote_all = true;
		if (c->halfclose)
			shutdown(c->fd, SHUT_WR);
	}
}

/* Take what c's peer sent: each response must answer the next request. */
static void
conn_read(struct fconn *c)
{
	const char *why;
	struct mpv message;
	struct msg m;
	size_t flen;
	ssize_t n;
	int r, code;

	if (buf_reserve(&c->in, 65536) == -1)
		fail("out of memory");
	n = read(c->fd, buf_tail(&c->in), buf_room(&c->in));
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		/* a connection that did nothing wrong is closed only with
		 * a reason (or for a limit, which says so in the log) */
		if (!c->preauth && c->got < c->nexpect && !c->mutated &&
		    !c->abrupt && !c->halfclose && !c->told &&
		    !d.quiet_drops)
			fail("a connection was closed after %zu of %zu "
			    "answers, without a word", c->got, c->nexpect);
		if (c->got < c->nexpect)
			st.closed_by_daemon++;
		conn_close(c);
		return;
	}
	c->in.len += (size_t)n;
	for (;;) {
		r = scan_frame(&c->scan, buf_head(&c->in), buf_used(&c->in),
		    1u << 30, &flen, &why);
		if (r == SCAN_MORE)
			break;
		if (r != SCAN_FRAME || msg_parse(buf_head(&c->in), &m,
		    &why) != 0)
			fail("the daemon sent a malformed message: %s", why);
		if (m.kind == MSG_NOTIFICATION) {
			/* mpmgr.error, then a close: only for a reason */
			if (c->preauth && mpv_str_eq(&m.method,
			    MPMGR_NOTIFY_CHALLENGE)) {
				buf_consume(&c->in, flen);
				continue;
			}
			st.notifications++;
			/* what a holder is told: a record it supervises
			 * signalled, a pool it works for terminated or its
			 * job cancelled (by any client, so by the fuzzer);
			 * and a watcher (it sent sys.monitor) the lines of
			 * the others' requests, random ones rendered */
			if (!c->preauth && (mpv_str_eq(&m.method,
			    MPMGR_NOTIFY_PROCESS_SIGNAL) || mpv_str_eq(&m.method,
			    MPMGR_NOTIFY_POOL_TERMINATE) || mpv_str_eq(&m.method,
			    MPMGR_NOTIFY_POOL_CANCEL) || mpv_str_eq(&m.method,
			    MPMGR_NOTIFY_MONITOR))) {
				buf_consume(&c->in, flen);
				continue;
			}
			c->told = true;
			if (!mpv_str_eq(&m.method, MPMGR_NOTIFY_ERROR))
				fail("unexpected notification");
			if (verbose && !c->preauth && !c->mutated)
				fprintf(stderr, "fuzz_live: mpmgr.error %.*s\n",
				    (int)(m.params.rawlen > 200 ? 200 :
				    m.params.rawlen), m.params.raw);
		} else if (m.kind != MSG_RESPONSE) {
			fail("the daemon sent a request");
		} else if (c->preauth || c->mutated) {
			/* a garbage auth may get its error answered; a
			 * flipped byte may have been a msgid */
		} else {
			if (c->got >= c->nexpect ||
			    m.msgid != c->expect[c->got])
				fail("response %u where %u (%s) was due (%zu "
				    "of %zu answered)", m.msgid, c->got <
				    c->nexpect ? c->expect[c->got] : 0,
				    expect_what(c, c->got),
				    c->got, c->nexpect);
			c->got++;
			st.responses++;
			code = msg_error_code(&m, &message);
			st.errors[code >= 0 && code < PERR_COUNT ? code : 0]++;
			if (code == PERR_NONE)
				st.ok[c->mid[c->got - 1]]++;
		}
		buf_consume(&c->in, flen);
	}
	if (!c->preauth && c->got == c->nexpect && c->wrote_all &&
	    !c->halfclose)
		conn_close(c);
}

static void
episode(void)
{
	struct fconn conns[MAX_CONNS];
	struct pollfd p[MAX_CONNS + 1];
	struct counter k;
	unsigned n = 1 + (unsigned)below(MAX_CONNS), i, live;
	int64_t deadline = now_ms() + EPISODE_DEADLINE_MS, kill_at = 0;

	/* with a journal, a kill -9 at a random moment of one episode in
	 * ten: within its first 300 ms, or at its end if it ends before
	 * (with the daemon still at work on its closes) */
	if (d.journal && chance(10))
		kill_at = now_ms() + (int64_t)below(300);
	for (i = 0; i < n; i++)
		conn_open(&conns[i], i);
	ctr_open(&k);
	for (;;) {
		live = 0;
		for (i = 0; i < n; i++) {
			p[i].fd = conns[i].done ? -1 : conns[i].fd;
			p[i].events = POLLIN;
			if (!conns[i].done && buf_used(&conns[i].out) > 0)
				p[i].events |= POLLOUT;
			p[i].revents = 0;
			live += !conns[i].done;
		}
		if (kill_at != 0 && (live == 0 || now_ms() >= kill_at)) {
			daemon_kill();
			ctr_close(&k);
			daemon_restart();
			break;
		}
		if (live == 0)
			break;
		if (k.fd != -1 && !k.inflight)
			ctr_send(&k);
		p[n].fd = k.fd;
		p[n].events = POLLIN;
		p[n].revents = 0;
		if (now_ms() > deadline) {
			for (i = 0; i < n; i++) {
				struct fconn *c = &conns[i];
				size_t j;

				if (c->done)
					continue;
				fprintf(stderr, "fuzz_live: stuck: %zu of %zu "
				    "answered, %zu bytes unsent%s%s%s%s\n",
				    c->got, c->nexpect, buf_used(&c->out),
				    c->mutated ? ", mutated" : "",
				    c->halfclose ? ", half-closed" : "",
				    c->abrupt ? ", cut" : "",
				    c->told ? ", told" : "");
				for (j = 0; j < c->nexpect; j++)
					fprintf(stderr, "  %c %u %s\n",
					    j < c->got ? '+' : '-',
					    c->expect[j], expect_what(c, j));
			}
			fail("an episode did not end within %d s (a stall)",
			    EPISODE_DEADLINE_MS / 1000);
		}
		if (poll(p, n + 1, 100) < 0 && errno != EINTR)
			fail("poll: %s", strerror(errno));
		if (k.fd != -1 && (p[n].revents & (POLLIN | POLLHUP | POLLERR)))
			ctr_read(&k);
		for (i = 0; i < n; i++) {
			if (conns[i].done)
				continue;
			if (conns[i].close_at != 0 &&
			    now_ms() >= conns[i].close_at) {
				conn_close(&conns[i]);
				continue;
			}
			if (p[i].revents & POLLOUT)
				conn_write(&conns[i]);
			if (!conns[i].done &&
			    (p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				conn_read(&conns[i]);
		}
		daemon_alive();
	}
	ctr_finish(&k);
	for (i = 0; i < n; i++)
		conn_free(&conns[i]);
	st.episodes++;
}

/* --- what every episode must leave free ----------------------------------- */

/* One request on a blocking connection; the result's raw bytes in *res. */
static int
call(int fd, struct rbuf *b, const char *method, const char *name,
    bool arg0, struct mpv *res)
{
	struct buf out = BUF_INIT;
	msgpack_packer pk;
	struct mpv message;
	struct msg m;
	int rc = -1;

	msgpack_packer_init(&pk, &out, buf_pack_write);
	msg_pack_request(&pk, 1, method, name != NULL ? 1u + arg0 : 0);
	if (name != NULL)
		pack_cstr(&pk, name);
	if (arg0)
		msgpack_pack_uint8(&pk, 0);
	if (send(fd, buf_head(&out), buf_used(&out), MSG_NOSIGNAL) ==
	    (ssize_t)buf_used(&out) && read_msg(fd, b, &m, 10000) == 0 &&
	    m.kind == MSG_RESPONSE) {
		rc = msg_error_code(&m, &message);
		*res = m.result;
	}
	buf_free(&out);
	return rc;
}

/* The ack queue the holders lease from, refilled to its size. */
static void
holders_setup(void)
{
	struct rbuf b = { BUF_INIT, 0 };
	struct buf out = BUF_INIT;
	msgpack_packer pk;
	struct msg m;
	int fd = fconnect_in("set up"), i;

	msgpack_packer_init(&pk, &out, buf_pack_write);
	msg_pack_request(&pk, 1, "queue.create", 2);
	pack_cstr(&pk, "fz.inv.q");
	msgpack_pack_map(&pk, 1);
	pack_cstr(&pk, "ack");
	msgpack_pack_true(&pk);
	for (i = 0; i < HOLDER_QUEUE_ITEMS; i++) {
		msg_pack_request(&pk, 2, "queue.put", 2);
		pack_cstr(&pk, "fz.inv.q");
		msgpack_pack_int(&pk, i);
	}
	if (send(fd, buf_head(&out), buf_used(&out), MSG_NOSIGNAL) !=
	    (ssize_t)buf_used(&out))
		fail("set up: send");
	for (i = 0; i <= HOLDER_QUEUE_ITEMS; i++)
		if (read_msg(fd, &b, &m, 10000) != 0)
			fail("set up: no answer");
	buf_free(&b.b);
	buf_free(&out);
	close(fd);
}

/* sys.stats on stderr, to explain a failure. */
static void
print_stats(void)
{
	struct rbuf b = { BUF_INIT, 0 };
	struct mpv res, k, v;
	struct mpv_iter it;
	int fd = fconnect();

	if (fd == -1)
		return;
	if (fauth(fd) == 0 &&
	    call(fd, &b, "sys.stats", NULL, false, &res) == 0 &&
	    res.type == MPV_MAP) {
		mpv_iter_init(&it, &res);
		while (mpv_iter_next(&it, &k) && mpv_iter_next(&it, &v)) {
			if (v.type == MPV_UINT)
				fprintf(stderr, "  %.*s: %" PRIu64 "\n",
				    (int)k.len, (const char *)k.ptr, v.v.u);
		}
	}
	close(fd);
	buf_free(&b.b);
}

/* sys.stats' compactions, of this daemon's life, into d.compactions. */
static void
stats_compactions(int fd, struct rbuf *b)
{
	struct mpv res, k, v;
	struct mpv_iter it;

	if (call(fd, b, "sys.stats", NULL, false, &res) != 0 ||
	    res.type != MPV_MAP)
		fail("sys.stats failed");
	mpv_iter_init(&it, &res);
	while (mpv_iter_next(&it, &k) && mpv_iter_next(&it, &v)) {
		if (k.type == MPV_STR && k.len == 11 &&
		    memcmp(k.ptr, "compactions", 11) == 0 &&
		    v.type == MPV_UINT)
			d.compactions = v.v.u;
	}
}

/* Poll until every holder's lock, rlock, permit and lease is back. */
static void
invariants(void)
{
	static const struct {
		const char *method, *name;
		enum mpv_type type;
		uint64_t want;       /* the bool's or the int's */
	} checks[] = {
		{ "lock.locked", "fz.inv.lock.0", MPV_BOOL, 0 },
		{ "lock.locked", "fz.inv.lock.1", MPV_BOOL, 0 },
		{ "rlock.locked", "fz.inv.rlock.0", MPV_BOOL, 0 },
		{ "rlock.locked", "fz.inv.rlock.1", MPV_BOOL, 0 },
		{ "semaphore.value", "fz.inv.sem.0", MPV_UINT, 1 },
		{ "semaphore.value", "fz.inv.sem.1", MPV_UINT, 1 },
		{ "queue.qsize", "fz.inv.q", MPV_UINT, HOLDER_QUEUE_ITEMS },
	};
	int64_t deadline = now_ms() + INVARIANT_DEADLINE_MS;
	struct rbuf b = { BUF_INIT, 0 };
	struct mpv res;
	size_t i, bad;
	uint64_t got = 0;
	int fd, rc;

	for (;;) {
		if ((fd = fconnect()) == -1)
			fail("cannot connect to check");
		if ((rc = fauth(fd)) != 0) {
			/* full for a moment: the episode's closes are not
			 * all seen yet */
			close(fd);
			if (rc != PERR_LIMIT || now_ms() > deadline)
				fail("cannot authenticate to check: %d", rc);
			usleep(20000);
			continue;
		}
		buf_reset(&b.b);
		b.held = 0;
		for (bad = 0; bad < sizeof checks / sizeof checks[0]; bad++) {
			i = bad;
			rc = call(fd, &b, checks[i].method, checks[i].name,
			    false, &res);
			if (rc != 0 || res.type != checks[i].type)
				break;
			got = res.type == MPV_BOOL ? res.v.b : res.v.u;
			if (got != checks[i].want)
				break;
		}
		if (bad == sizeof checks / sizeof checks[0]) {
			if (d.journal)
				stats_compactions(fd, &b);
			close(fd);
			break;
		}
		close(fd);
		if (now_ms() > deadline) {
			print_stats();
			fail("%s %s answers %s%" PRIu64 ", not %" PRIu64 ", "
			    "%d s after the episode's connections closed",
			    checks[bad].method, checks[bad].name,
			    rc != 0 ? "an error, " : "", got,
			    checks[bad].want, INVARIANT_DEADLINE_MS / 1000);
		}
		usleep(20000);
	}
	buf_free(&b.b);
	st.invariants++;
}


/* --- the state a clean restart keeps --------------------------------------- */

/*
 * Before a journaled daemon is stopped cleanly, with every connection of
 * its episodes closed, the objects whose contents a restart keeps as they
 * are (docs/PROTOCOL.md, "Restarts") are dumped; the restarted daemon
 * must dump each the same, byte for byte. Locks, semaphores, conditions,
 * barriers and processes are left out: what a restart gives back changes
 * them (a permit kept by release_on_disconnect: false, a running record
 * lost), and their invariants are checked above.
 */
static struct saved {
	char *name;
	uint8_t *dump;
	size_t namelen, len;
} *saved;
static size_t nsaved;

static bool
state_kept_type(const struct mpv *t)
{
	static const char *const kept[] = { "dict", "list", "value", "array",
	    "queue", "event" };
	size_t i;

	for (i = 0; i < sizeof kept / sizeof kept[0]; i++)
		if (t->type == MPV_STR && t->len == strlen(kept[i]) &&
		    memcmp(t->ptr, kept[i], t->len) == 0)
			return true;
	return false;
}

static void
state_save(void)
{
	struct rbuf b = { BUF_INIT, 0 };
	struct mpv res, e, name, type;
	struct mpv_iter it, eit;
	const uint8_t *p;
	uint8_t *list;
	char nm[512];
	int fd;

	fd = fconnect_in("dump the state");
	if (call(fd, &b, "obj.list", NULL, false, &res) != 0 ||
	    res.type != MPV_ARRAY)
		fail("obj.list failed");
	if ((list = malloc(res.rawlen)) == NULL)
		fail("out of memory");
	memcpy(list, res.raw, res.rawlen);
	p = list;
	mpv_read(&p, &res);
	mpv_iter_init(&it, &res);
	while (mpv_iter_next(&it, &e)) {
		mpv_iter_init(&eit, &e);
		if (e.type != MPV_ARRAY || !mpv_iter_next(&eit, &name) ||
		    !mpv_iter_next(&eit, &type) || name.type != MPV_STR ||
		    name.len >= sizeof nm)
			fail("obj.list: a malformed entry");
		if (!state_kept_type(&type))
			continue;
		memcpy(nm, name.ptr, name.len);
		nm[name.len] = '\0';
		if (strlen(nm) != name.len || strncmp(nm, "fz.inv.", 7) == 0)
			continue;
		if (call(fd, &b, "obj.dump", nm, false, &res) != 0)
			fail("obj.dump %s failed before the stop", nm);
		if ((saved = realloc(saved, (nsaved + 1) * sizeof *saved)) ==
		    NULL || (saved[nsaved].name = strdup(nm)) == NULL ||
		    (saved[nsaved].dump = malloc(res.rawlen)) == NULL)
			fail("out of memory");
		memcpy(saved[nsaved].dump, res.raw, res.rawlen);
		saved[nsaved].namelen = name.len;
		saved[nsaved++].len = res.rawlen;
	}
	free(list);
	close(fd);
	buf_free(&b.b);
}

/* The first bytes of v, in hex, on stderr. */
static void
state_hex(const char *what, const uint8_t *v, size_t n)
{
	size_t i;

	fprintf(stderr, "fuzz_live: %s (%zu bytes):", what, n);
	for (i = 0; i < n && i < 256; i++)
		fprintf(stderr, " %02x", v[i]);
	fprintf(stderr, "%s\n", n > 256 ? " ..." : "");
}

static void
state_compare(void)
{
	struct rbuf b = { BUF_INIT, 0 };
	struct mpv res;
	size_t i;
	int fd, rc;

	fd = fconnect_in("compare the state");
	for (i = 0; i < nsaved; i++) {
		rc = call(fd, &b, "obj.dump", saved[i].name, false, &res);
		if (rc != 0 || res.rawlen != saved[i].len ||
		    memcmp(res.raw, saved[i].dump, res.rawlen) != 0) {
			state_hex("before the stop", saved[i].dump,
			    saved[i].len);
			if (rc == 0)
				state_hex("after the restart", res.raw,
				    res.rawlen);
			fail("%s is not the same after a clean restart on %s "
			    "(%s)", saved[i].name, d.data, rc != 0 ? "gone" :
			    "other contents");
		}
		st.compared++;
		free(saved[i].name);
		free(saved[i].dump);
	}
	free(saved);
	saved = NULL;
	nsaved = 0;
	close(fd);
	buf_free(&b.b);
}

/* --- main ----------------------------------------------------------------- */

static void
report(double secs)
{
	int i, sent = 0, ok = 0;

	printf("fuzz_live: %.0f s, seed %" PRIu64 ": %" PRIu64 " episodes, "
	    "%" PRIu64 " connections (%" PRIu64 " attacking before auth, "
	    "%" PRIu64 " holders killed, %" PRIu64 " refused as full), "
	    "%" PRIu64 " requests (%" PRIu64 " of them pings behind parked "
	    "holders), %" PRIu64 " responses checked, written in %" PRIu64
	    " pieces; %" PRIu64 " batches mutated, "
	    "%" PRIu64 " cut off, %" PRIu64 " half-closed, %" PRIu64
	    " closed early by the daemon, %" PRIu64 " mpmgr.error; %" PRIu64
	    " cancels; %" PRIu64 " daemon starts; %" PRIu64 " invariant "
	    "checks\n", secs, seed, st.episodes, st.conns, st.preauth,
	    st.holders, st.refused, st.requests, st.pings, st.responses,
	    st.pieces, st.mutated, st.abrupt, st.halfclosed,
	    st.closed_by_daemon, st.notifications, st.cancels, st.restarts,
	    st.invariants);
	printf("fuzz_live: answers:");
	for (i = 0; i < PERR_COUNT; i++) {
		if (st.errors[i] != 0)
			printf(" %s %" PRIu64, i == PERR_NONE ? "ok" :
			    proto_err_name(i), st.errors[i]);
	}
	printf("\nfuzz_live: %" PRIu64 " long strings, %" PRIu64 " batches "
	    "cut at %u bytes\n", st.longs, st.capped, BATCH_BYTES);
	printf("fuzz_live: journal: %" PRIu64 " daemons started with one "
	    "(fsync always %" PRIu64 ", everysec %" PRIu64 ", no %" PRIu64
	    "), %" PRIu64 " restarts on their data dirs (%" PRIu64 " after a "
	    "kill -9), %" PRIu64 " replays with records (%" PRIu64
	    " records), %" PRIu64 " torn tails dropped, %" PRIu64
	    " compactions (%" PRIu64 " failed), %" PRIu64 " of %" PRIu64
	    " sys.save ok from the counter (the others unanswered at a kill "
	    "but those below), %" PRIu64 " counter increments "
	    "acknowledged and %" PRIu64 " checked after a restart, %" PRIu64
	    " objects the same after a clean restart\n", st.jstarts,
	    st.jpolicy[0], st.jpolicy[1], st.jpolicy[2], st.jrestarts, st.kills, st.replays, st.replayed, st.torn,
	    st.compactions, st.compact_failed, st.saves_ok, st.saves,
	    st.ctr_acks, st.ctr_checks, st.compared);
	for (i = 1; i < PERR_COUNT; i++)
		if (st.save_errors[i] != 0)
			printf("fuzz_live: journal: sys.save answered %s %"
			    PRIu64 " times\n", proto_err_name(i),
			    st.save_errors[i]);
	/* what was exercised: the methods sent, and those that never once
	 * succeeded (their happy path went untested) */
	for (i = 0; i < MPMGR_MID_COUNT; i++) {
		sent += st.sent[i] != 0;
		ok += st.ok[i] != 0;
	}
	printf("fuzz_live: methods: %d of %d sent, %d answered ok at least "
	    "once; never sent:", sent, MPMGR_MID_COUNT, ok);
	for (i = 0; i < MPMGR_MID_COUNT; i++)
		if (st.sent[i] == 0)
			printf(" %s", catalogue_methods[i].name);
	printf("; sent, never ok:");
	for (i = 0; i < MPMGR_MID_COUNT; i++)
		if (st.sent[i] != 0 && st.ok[i] == 0)
			printf(" %s (%" PRIu64 ")", catalogue_methods[i].name,
			    st.sent[i]);
	printf("\n");
}

/*
 * Whether this epoch's daemon keeps a journal: every other one, from the
 * first or the second by the seed, the turn shifting by one every round
 * of the configurations so that each of them runs with one; in a fresh
 * data dir, with a policy, and compacting past a small size, so that
 * compactions run during episodes.
 */
static void
journal_choose(unsigned epoch)
{
	static const char *const fsyncs[] = { "always", "everysec", "no" };
	static const char *const mins[] = { "16k", "64k", "256k" };
	unsigned i;

	d.journal = ((seed + epoch + epoch / NCONFIGS) & 1) != 0 ||
	    always_journal;
	d.killed = false;
	d.acked = 0;
	d.pending = false;
	if (!d.journal)
		return;
	snprintf(d.data, sizeof d.data, "%s/data.%u", d.dir, epoch);
	i = (unsigned)below(3);
	d.fsync = fsyncs[i];
	d.compact_min = mins[below(3)];
	st.jstarts++;
	st.jpolicy[i]++;
}

/* The data dir of this epoch, once its daemon has stopped. */
static void
journal_remove(void)
{
	char path[sizeof d.data + 256];
	struct dirent *e;
	DIR *dir;

	if (!d.journal || (dir = opendir(d.data)) == NULL)
		return;
	while ((e = readdir(dir)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", d.data, e->d_name);
		unlink(path);
	}
	closedir(dir);
	rmdir(d.data);
}

int
main(int argc, char **argv)
{
	int64_t start, end, epoch_end;
	unsigned config = 0, epoch = 0;
	char err[256];
	int ch, seconds = 60;

	d.bin = "build-san/mpmgrd";
	seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	while ((ch = getopt(argc, argv, "d:t:s:c:Jv")) != -1) {
		switch (ch) {
		case 'd':
			d.bin = optarg;
			break;
		case 't':
			seconds = atoi(optarg);
			break;
		case 's':
			seed = strtoull(optarg, NULL, 10);
			break;
		case 'c':
			config = (unsigned)atoi(optarg) % NCONFIGS;
			break;
		case 'J':
			always_journal = true;
			break;
		case 'v':
			verbose = true;
			break;
		default:
			fprintf(stderr, "usage: fuzz_live [-d MPMGRD] "
			    "[-t SECONDS] [-s SEED] [-c CONFIG] [-J] [-v]\n");
			return 2;
		}
	}
	rng = seed != 0 ? seed : 1;
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(d.dir, sizeof d.dir, "/tmp/fuzz_live.XXXXXX");
	if (mkdtemp(d.dir) == NULL)
		fail("mkdtemp: %s", strerror(errno));
	snprintf(d.sock, sizeof d.sock, "%s/s", d.dir);
	snprintf(d.keyfile, sizeof d.keyfile, "%s/key", d.dir);
	snprintf(d.log, sizeof d.log, "%s/log", d.dir);
	if (auth_key_generate(d.keyfile, true, err, sizeof err) != 0 ||
	    auth_key_load(d.keyfile, d.key, &d.keylen, err, sizeof err) != 0)
		fail("key: %s", err);
	printf("fuzz_live: %s for %d s, seed %" PRIu64 ", log %s\n", d.bin,
	    seconds, seed, d.log);
	fflush(stdout);
	start = now_ms();
	end = start + (int64_t)seconds * 1000;
	while (now_ms() < end) {
		journal_choose(epoch++);
		daemon_start(config);
		holders_setup();
		epoch_end = now_ms() + EPOCH_SECONDS * 1000;
		while (now_ms() < epoch_end && now_ms() < end) {
			episode();
			invariants();
		}
		if (d.journal) {
			/* a clean stop and a restart keep it all */
			state_save();
			daemon_stop();
			daemon_restart();
			state_compare();
			invariants();
		}
		daemon_stop();
		journal_remove();
		config = (config + 1) % NCONFIGS;
	}
	report((double)(now_ms() - start) / 1000.0);
	unlink(d.sock);
	snprintf(err, sizeof err, "%s.lock", d.sock);
	unlink(err);
	unlink(d.keyfile);
	unlink(d.log);
	rmdir(d.dir);
	return 0;
}
