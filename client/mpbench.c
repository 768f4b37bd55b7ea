/*
 * mpbench.c: mpbench, a load generator for mpmgrd in the manner of
 * redis-benchmark, on libmpmgr's pipelining API.
 *
 * One process, one thread: every test connects CLIENTS handles, then an
 * epoll loop keeps each of them PIPELINE operations in flight (a batch is
 * sent in one write, its replies are read, the next batch goes out) until
 * REQUESTS operations have been answered, as redis-benchmark does. An
 * operation is one request, except `lock`, which is acquire + release.
 * Latency is from the moment a batch is sent to the moment its connection
 * is found readable, for each of its operations, as redis-benchmark counts
 * it (the replies are there by then; parsing them is not latency), kept in
 * a log-linear histogram (histogram.h).
 *
 * libmpmgr's reads block, so a connection is read only when epoll says it
 * is readable and then its whole batch is read: the daemon answers a batch
 * that arrived in one write with one write, so in practice this never
 * waits; if the answers did come in pieces, mpbench would wait on that one
 * connection for the rest of its batch (the others' replies queue in the
 * kernel meanwhile), never deadlock.
 *
 * Exit status: 0 every test ran; 1 a test failed or the server has no
 * method for it (NOMETHOD, reported, the other tests still run); 2 usage;
 * 3 cannot connect or authenticate.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "histogram.h"
#include "mpmgr.h"

#define EXIT_FAILED 1
#define EXIT_USAGE 2
#define EXIT_CONNECT 3

#define KEY_PREFIX "key:"
#define KEY_DIGITS 12           /* redis-benchmark's __rand_int__ */
#define KEY_LEN (sizeof(KEY_PREFIX) - 1 + KEY_DIGITS)
_Static_assert(KEY_DIGITS == 12, "keys are written as two halves of six");
_Static_assert(KEY_LEN < 32, "a key is a fixstr");
#define KEYSPACE_MAX UINT64_C(1000000000000)
#define VALUE_MAX ((size_t)1 << 30)

#define NAME_DICT "bench:dict"
#define NAME_COUNTERS "bench:counters"
#define NAME_QUEUE "bench:queue"
#define NAME_LIST "bench:list"
#define NAME_LOCK "bench:lock"
#define NAME_VALUE "bench:value"

struct opts {
	const char *socket;     /* NULL: libmpmgr's default */
	unsigned clients;
	uint64_t requests;
	unsigned pipeline;
	size_t value_len;
	uint64_t keyspace;      /* keys are key:0 .. key:keyspace-1 */
	bool seq;               /* keys in order instead of at random */
	bool quiet;
	bool csv;
	bool idle;
	uint8_t *venc;          /* value_len bytes of 'x' as a str, packed */
	size_t venclen;
	uint64_t next_key;
	uint64_t rng;
};

/* Packs one operation's requests; false if the library refused them. */
typedef bool op_fn(struct opts *, mpmgr *);

struct test {
	const char *name;
	unsigned nreq;          /* requests per operation */
	op_fn *op;
	op_fn *prep;            /* run once before, or NULL */
	int answer;             /* a server error that is an answer here */
	const char *about;
};

struct client {
	mpmgr *h;
	unsigned ops;           /* operations of the batch in flight */
	uint64_t sent_ns;
};

struct result {
	double rps;
	struct histogram *hist;
};

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* xorshift64*: cheap, and the same key sequence on every run. */
static uint64_t
rng_next(struct opts *o)
{
	o->rng ^= o->rng >> 12;
	o->rng ^= o->rng << 25;
	o->rng ^= o->rng >> 27;
	return o->rng * UINT64_C(2685821657736338717);
}

/* "00" to "99": two digits per division when writing keys. */
static char digit_pairs[200];

static void
digit_pairs_init(void)
{
	int i;

	for (i = 0; i < 100; i++) {
		digit_pairs[2 * i] = (char)('0' + i / 10);
		digit_pairs[2 * i + 1] = (char)('0' + i % 10);
	}
}

/* Six digits of x < 1000000 at p, with 32-bit arithmetic. */
static void
put_six(char *p, uint32_t x)
{
	memcpy(p, &digit_pairs[2 * (x / 10000)], 2);
	memcpy(p + 2, &digit_pairs[2 * (x / 100 % 100)], 2);
	memcpy(p + 4, &digit_pairs[2 * (x % 100)], 2);
}

/* key:NNNNNNNNNNNN, the next key of the keyspace, into key[KEY_LEN]. */
static void
next_key(struct opts *o, char *key)
{
	uint64_t n;

	if (o->seq)
		n = o->next_key++ % o->keyspace;
	else
		n = o->keyspace > 1 ? rng_next(o) % o->keyspace : 0;
	memcpy(key, KEY_PREFIX, sizeof(KEY_PREFIX) - 1);
	put_six(key + sizeof(KEY_PREFIX) - 1, (uint32_t)(n / 1000000));
	put_six(key + sizeof(KEY_PREFIX) - 1 + 6, (uint32_t)(n % 1000000));
}

/* --- operations ------------------------------------------------------ */

/* The value every test writes, value_len bytes of 'x', packed once. */
static bool
value_init(struct opts *o)
{
	uint8_t *p;
	size_t n = o->value_len;

	if ((o->venc = malloc(5 + n)) == NULL)
		return false;
	p = o->venc;
	if (n < 32)
		*p++ = (uint8_t)(0xa0 | n);
	else if (n <= UINT8_MAX) {
		*p++ = 0xd9;
		*p++ = (uint8_t)n;
	} else if (n <= UINT16_MAX) {
		*p++ = 0xda;
		*p++ = (uint8_t)(n >> 8);
		*p++ = (uint8_t)n;
	} else {
		*p++ = 0xdb;
		*p++ = (uint8_t)(n >> 24);
		*p++ = (uint8_t)(n >> 16);
		*p++ = (uint8_t)(n >> 8);
		*p++ = (uint8_t)n;
	}
	memset(p, 'x', n);
	o->venclen = (size_t)(p - o->venc) + n;
	return true;
}

static void
pack_str(msgpack_packer *pk, const char *s, size_t len)
{
	msgpack_pack_str(pk, len);
	msgpack_pack_str_body(pk, s, len);
}

/* Starts method(name, ...) with nparams params in all. */
static msgpack_packer *
begin(mpmgr *h, const char *method, uint32_t nparams, const char *name,
    size_t namelen)
{
	msgpack_packer *pk;

	if ((pk = mpmgr_request_begin(h, method, nparams)) != NULL &&
	    name != NULL)
		pack_str(pk, name, namelen);
	return pk;
}

/* An object name and its length, for begin(). */
#define NAME(s) s, sizeof(s) - 1

static bool
end(mpmgr *h)
{
	return mpmgr_request_end(h) == 0;
}

/* Bytes that are whole MessagePack values already, appended as they are. */
static void
pack_raw(msgpack_packer *pk, const void *p, size_t n)
{
	pk->callback(pk->data, p, n);
}

/*
 * Starts method(name, key:N, ...) with nparams params in all, the name's
 * and the next key's strs packed in one write: the usual request of a
 * dict test costs the load generator less, and is the same bytes.
 */
static msgpack_packer *
begin_keyed(struct opts *o, mpmgr *h, const char *method, uint32_t nparams,
    const char *name, size_t namelen)
{
	msgpack_packer *pk;
	char b[1 + 31 + 1 + KEY_LEN];

	if (namelen > 31 || (pk = mpmgr_request_begin(h, method, nparams)) ==
	    NULL)
		return NULL;
	b[0] = (char)(0xa0 | namelen);
	memcpy(b + 1, name, namelen);
	b[1 + namelen] = (char)(0xa0 | KEY_LEN);
	next_key(o, b + 2 + namelen);
	pack_raw(pk, b, 2 + namelen + KEY_LEN);
	return pk;
}

/* The value of -d, a str, packed whole in one write. */
static void
pack_value(struct opts *o, msgpack_packer *pk)
{
	pack_raw(pk, o->venc, o->venclen);
}

static bool
op_ping(struct opts *o, mpmgr *h)
{
	return begin(h, "sys.ping", 0, NULL, 0) != NULL && end(h);
}

static bool
op_dict_set(struct opts *o, mpmgr *h)
{
	msgpack_packer *pk;

	if ((pk = begin_keyed(o, h, "dict.set", 3, NAME(NAME_DICT))) == NULL)
		return false;
	pack_value(o, pk);
	return end(h);
}

static bool
op_dict_get(struct opts *o, mpmgr *h)
{
	return begin_keyed(o, h, "dict.get", 2, NAME(NAME_DICT)) != NULL &&
	    end(h);
}

/* Without -r the one key read must exist, as the one written would. */
static bool
prep_dict_get(struct opts *o, mpmgr *h)
{
	msgpack_packer *pk;
	struct opts first = *o;

	first.seq = true;
	first.next_key = 0;
	if ((pk = begin_keyed(&first, h, "dict.set", 3, NAME(NAME_DICT))) ==
	    NULL)
		return false;
	pack_value(o, pk);
	return end(h);
}

static bool
op_dict_incr(struct opts *o, mpmgr *h)
{
	static const uint8_t one = 0x01;
	msgpack_packer *pk;

	if ((pk = begin_keyed(o, h, "dict.incr", 3, NAME(NAME_COUNTERS))) ==
	    NULL)
		return false;
	pack_raw(pk, &one, 1);
	return end(h);
}

static bool
op_queue_put(struct opts *o, mpmgr *h)
{
	msgpack_packer *pk;

	if ((pk = begin(h, "queue.put", 2, NAME(NAME_QUEUE))) == NULL)
		return false;
	pack_value(o, pk);
	return end(h);
}

/* Timeout 0: an empty queue answers EMPTY, as RPOP answers nil. */
static bool
op_queue_get(struct opts *o, mpmgr *h)
{
	msgpack_packer *pk;

	if ((pk = begin(h, "queue.get", 2, NAME(NAME_QUEUE))) == NULL)
		return false;
	msgpack_pack_int(pk, 0);
	return end(h);
}

static bool
op_list_append(struct opts *o, mpmgr *h)
{
	msgpack_packer *pk;

	if ((pk = begin(h, "list.append", 2, NAME(NAME_LIST))) == NULL)
		return false;
	pack_value(o, pk);
	return end(h);
}

/* Both in one batch: the daemon runs the release right after the
 * acquire, so 50 clients on one lock measure the verbs, not a queue. */
static bool
op_lock(struct opts *o, mpmgr *h)
{
	return begin(h, "lock.acquire", 1, NAME(NAME_LOCK)) != NULL && end(h) &&
	    begin(h, "lock.release", 1, NAME(NAME_LOCK)) != NULL && end(h);
}

static bool
op_value_get(struct opts *o, mpmgr *h)
{
	return begin(h, "value.get", 1, NAME(NAME_VALUE)) != NULL && end(h);
}

static bool
prep_value_get(struct opts *o, mpmgr *h)
{
	msgpack_packer *pk;

	if ((pk = begin(h, "value.set", 2, NAME(NAME_VALUE))) == NULL)
		return false;
	pack_value(o, pk);
	return end(h);
}

static const struct test tests[] = {
	{ .name = "ping", .nreq = 1, .op = op_ping,
	  .about = "sys.ping" },
	{ .name = "dict.set", .nreq = 1, .op = op_dict_set,
	  .about = "dict.set " NAME_DICT " KEY VALUE" },
	{ .name = "dict.get", .nreq = 1, .op = op_dict_get,
	  .prep = prep_dict_get, .answer = MPMGR_ENOKEY,
	  .about = "dict.get " NAME_DICT " KEY (NOKEY counts as an answer)" },
	{ .name = "dict.incr", .nreq = 1, .op = op_dict_incr,
	  .about = "dict.incr " NAME_COUNTERS " KEY 1" },
	{ .name = "queue.put", .nreq = 1, .op = op_queue_put,
	  .about = "queue.put " NAME_QUEUE " VALUE" },
	{ .name = "queue.get", .nreq = 1, .op = op_queue_get,
	  .answer = MPMGR_EEMPTY,
	  .about = "queue.get " NAME_QUEUE " 0 (EMPTY counts as an answer)" },
	{ .name = "list.append", .nreq = 1, .op = op_list_append,
	  .about = "list.append " NAME_LIST " VALUE" },
	{ .name = "lock", .nreq = 2, .op = op_lock,
	  .about = "lock.acquire + lock.release " NAME_LOCK },
	{ .name = "value.get", .nreq = 1, .op = op_value_get,
	  .prep = prep_value_get, .about = "value.get " NAME_VALUE },
};
#define NTESTS (sizeof(tests) / sizeof(tests[0]))

/* --- running a test -------------------------------------------------- */

static void
clients_free(struct client *cl, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		mpmgr_free(cl[i].h);
	free(cl);
}

/* n authenticated handles, or NULL after saying why. */
static struct client *
clients_connect(const struct opts *o, unsigned n)
{
	struct client *cl;
	unsigned i;
	int r;

	if ((cl = calloc(n, sizeof(*cl))) == NULL) {
		fprintf(stderr, "mpbench: out of memory\n");
		return NULL;
	}
	for (i = 0; i < n; i++) {
		if ((r = mpmgr_connect(&cl[i].h, o->socket, NULL)) != 0) {
			fprintf(stderr, "mpbench: connection %u of %u: %s: "
			    "%s\n", i + 1, n, mpmgr_strerror(r),
			    cl[i].h != NULL ? mpmgr_errmsg(cl[i].h) :
			    "out of memory");
			clients_free(cl, i + 1);
			return NULL;
		}
	}
	return cl;
}

/* Says what went wrong with reply r of test t; always false. */
static bool
report(const struct test *t, mpmgr *h, int r)
{
	if (r == MPMGR_ENOMETHOD)
		fprintf(stderr, "mpbench: %s: skipped: the server has no "
		    "such method (NOMETHOD: %s)\n", t->name, mpmgr_errmsg(h));
	else
		fprintf(stderr, "mpbench: %s: %s: %s\n", t->name,
		    mpmgr_strerror(r), mpmgr_errmsg(h));
	return false;
}

/* Reads the replies to n requests of t; false after saying why. The
 * operations' latency, now - c->sent_ns, goes to hist (if not NULL). */
static bool
replies(const struct test *t, struct client *c, unsigned n,
    struct histogram *hist, uint64_t now)
{
	unsigned i;
	int r;

	for (i = 0; i < n; i++) {
		r = mpmgr_reply(c->h, NULL);
		if (r != 0 && r != t->answer)
			return report(t, c->h, r);
	}
	if (hist != NULL)
		for (i = 0; i < n / t->nreq; i++)
			hist_record(hist, now - c->sent_ns);
	return true;
}

/* One operation, and its preparation, answered before the clock starts:
 * the server's NOMETHOD shows here rather than 50 times over. */
static bool
probe(struct opts *o, const struct test *t, struct client *c)
{
	int r;

	if (t->prep != NULL) {
		if (!t->prep(o, c->h))
			return report(t, c->h, MPMGR_EINVAL);
		if ((r = mpmgr_reply(c->h, NULL)) != 0)
			return report(t, c->h, r);
	}
	if (!t->op(o, c->h))
		return report(t, c->h, MPMGR_EINVAL);
	return replies(t, c, t->nreq, NULL, 0);
}

/* Sends c its next batch, up to the operations still to issue. */
static bool
send_batch(struct opts *o, const struct test *t, struct client *c,
    uint64_t *issued)
{
	uint64_t left = o->requests - *issued;
	unsigned i;
	int r;

	c->ops = left < o->pipeline ? (unsigned)left : o->pipeline;
	if (c->ops == 0)
		return true;
	for (i = 0; i < c->ops; i++)
		if (!t->op(o, c->h))
			return report(t, c->h, MPMGR_EINVAL);
	*issued += c->ops;
	c->sent_ns = now_ns();
	if ((r = mpmgr_flush(c->h)) != 0)
		return report(t, c->h, r);
	return true;
}

/* Runs t; 0 and *res, or an exit status after saying why. */
static int
run_test(struct opts *o, const struct test *t, struct result *res)
{
	struct epoll_event ev, *evs;
	struct client *cl, *c;
	uint64_t issued = 0, done = 0, start;
	unsigned i;
	int ep, n, status = EXIT_FAILED;

	if ((cl = clients_connect(o, o->clients)) == NULL)
		return EXIT_CONNECT;
	ep = epoll_create1(EPOLL_CLOEXEC);
	evs = calloc(o->clients, sizeof(*evs));
	if (ep == -1 || evs == NULL) {
		fprintf(stderr, "mpbench: %s\n", evs == NULL ?
		    "out of memory" : strerror(errno));
		goto out;
	}
	for (i = 0; i < o->clients; i++) {
		ev.events = EPOLLIN;
		ev.data.ptr = &cl[i];
		if (epoll_ctl(ep, EPOLL_CTL_ADD, mpmgr_fd(cl[i].h), &ev) ==
		    -1) {
			fprintf(stderr, "mpbench: epoll_ctl: %s\n",
			    strerror(errno));
			goto out;
		}
	}
	if (!probe(o, t, &cl[0]))
		goto out;
	hist_init(res->hist);
	start = now_ns();
	for (i = 0; i < o->clients; i++)
		if (!send_batch(o, t, &cl[i], &issued))
			goto out;
	while (done < o->requests) {
		if ((n = epoll_wait(ep, evs, (int)o->clients, -1)) == -1) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "mpbench: epoll_wait: %s\n",
			    strerror(errno));
			goto out;
		}
		for (i = 0; i < (unsigned)n; i++) {
			c = evs[i].data.ptr;
			if (c->ops == 0)
				continue;
			if (!replies(t, c, c->ops * t->nreq, res->hist,
			    now_ns()))
				goto out;
			done += c->ops;
			if (!send_batch(o, t, c, &issued))
				goto out;
		}
	}
	res->rps = (double)done * 1e9 / (double)(now_ns() - start);
	status = 0;
out:
	if (ep != -1)
		close(ep);
	free(evs);
	clients_free(cl, o->clients);
	return status;
}

/* --- output ---------------------------------------------------------- */

static double
ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

static void
print_result(const struct opts *o, const struct test *t,
    const struct result *res)
{
	const struct histogram *h = res->hist;

	if (o->csv)
		printf("\"%s\",\"%.2f\",\"%.3f\",\"%.3f\",\"%.3f\",\"%.3f\","
		    "\"%.3f\",\"%.3f\"\n", t->name, res->rps,
		    hist_mean(h) / 1e6, ms(h->min), ms(hist_percentile(h, 50)),
		    ms(hist_percentile(h, 95)), ms(hist_percentile(h, 99)),
		    ms(h->max));
	else if (o->quiet)
		printf("%s: %.2f requests per second, p50=%.3f msec\n",
		    t->name, res->rps, ms(hist_percentile(h, 50)));
	else
		printf("%-12s %12.2f %8.3f %8.3f %8.3f %8.3f %8.3f %8.3f\n",
		    t->name, res->rps, hist_mean(h) / 1e6, ms(h->min),
		    ms(hist_percentile(h, 50)), ms(hist_percentile(h, 95)),
		    ms(hist_percentile(h, 99)), ms(h->max));
	fflush(stdout);
}

static void
print_header(const struct opts *o)
{
	if (o->csv) {
		printf("\"test\",\"rps\",\"avg_latency_ms\",\"min_latency_ms\","
		    "\"p50_latency_ms\",\"p95_latency_ms\",\"p99_latency_ms\","
		    "\"max_latency_ms\"\n");
		return;
	}
	if (o->quiet)
		return;
	printf("mpbench: %u clients, %" PRIu64 " requests per test, "
	    "pipeline %u, %zu-byte values, keyspace %" PRIu64 "%s\n",
	    o->clients, o->requests, o->pipeline, o->value_len, o->keyspace,
	    o->seq ? " in order" : "");
	printf("%-12s %12s %8s %8s %8s %8s %8s %8s\n", "test", "requests/s",
	    "avg ms", "min ms", "p50 ms", "p95 ms", "p99 ms", "max ms");
}

/* --- idle mode ------------------------------------------------------- */

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	stop = 1;
}

/* Holds CLIENTS authenticated connections until SIGINT or SIGTERM. */
static int
run_idle(const struct opts *o)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t block, old;
	struct client *cl;

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &old);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if ((cl = clients_connect(o, o->clients)) == NULL)
		return EXIT_CONNECT;
	if (!o->quiet) {
		printf("mpbench: %u idle connections open\n", o->clients);
		fflush(stdout);
	}
	while (!stop)
		sigsuspend(&old);
	clients_free(cl, o->clients);
	return 0;
}

/* --- options --------------------------------------------------------- */

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f,
"usage: mpbench [-s SOCKET] [-c CLIENTS] [-n REQUESTS] [-P PIPELINE]\n"
"               [-d VALUE_BYTES] [-r KEYSPACE] [-t TESTS] [-q] [--csv]\n"
"               [--seq] [-I]\n"
"\n"
"Load generator for mpmgrd, in the manner of redis-benchmark.\n"
"\n"
"  -s SOCKET       socket (default $MPMGR_SOCKET, else the user's default);\n"
"                  the key is $MPMGR_AUTHKEY_FILE or the default one\n"
"  -c CLIENTS      parallel connections (default 50)\n"
"  -n REQUESTS     operations per test (default 100000)\n"
"  -P PIPELINE     operations in flight per connection (default 1)\n"
"  -d VALUE_BYTES  size of the str values written (default 3)\n"
"  -r KEYSPACE     dict keys key:000000000000 .. KEYSPACE-1, at random\n"
"                  (default: the one key key:000000000000)\n"
"      --seq       take the keys in order instead (to fill a dict)\n"
"  -t TESTS        comma-separated tests (default: all of them)\n"
"  -q              quiet: one line per test\n"
"      --csv       CSV, the columns of redis-benchmark --csv\n"
"  -I              idle mode: open CLIENTS authenticated connections and\n"
"                  hold them until SIGINT or SIGTERM\n"
"  -h, --help      this help\n"
"\n"
"Tests:\n");
	for (i = 0; i < NTESTS; i++)
		fprintf(f, "  %-12s %s\n", tests[i].name, tests[i].about);
	fprintf(f,
"\n"
"Exit status: 0 all ran, 1 a test failed or the server lacks its method,\n"
"2 usage, 3 cannot connect.\n");
}

static bool
parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* Marks the tests named in the comma-separated list; false if unknown. */
static bool
select_tests(const char *list, bool *on)
{
	const char *p = list, *comma;
	size_t len, i;

	memset(on, 0, NTESTS * sizeof(*on));
	while (*p != '\0') {
		comma = strchr(p, ',');
		len = comma != NULL ? (size_t)(comma - p) : strlen(p);
		for (i = 0; i < NTESTS; i++)
			if (strlen(tests[i].name) == len &&
			    strncasecmp(tests[i].name, p, len) == 0)
				break;
		if (len > 0 && i == NTESTS) {
			fprintf(stderr, "mpbench: no test %.*s (see "
			    "mpbench --help)\n", (int)len, p);
			return false;
		}
		if (len > 0)
			on[i] = true;
		p += len + (comma != NULL);
	}
	return true;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "csv", no_argument, NULL, 'C' },
		{ "seq", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct opts o = {
		.clients = 50, .requests = 100000, .pipeline = 1,
		.value_len = 3, .keyspace = 1, .rng = UINT64_C(88172645463325252)
	};
	bool on[NTESTS];
	struct result res;
	uint64_t v;
	size_t i;
	int ch, r, status = 0;

	for (i = 0; i < NTESTS; i++)
		on[i] = true;
	while ((ch = getopt_long(argc, argv, "s:c:n:P:d:r:t:qIh", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 's':
			o.socket = optarg;
			break;
		case 'c':
			if (!parse_u64(optarg, 1, 1000000, &v))
				goto bad;
			o.clients = (unsigned)v;
			break;
		case 'n':
			if (!parse_u64(optarg, 1, UINT64_MAX / 2, &o.requests))
				goto bad;
			break;
		case 'P':
			if (!parse_u64(optarg, 1, 1000000, &v))
				goto bad;
			o.pipeline = (unsigned)v;
			break;
		case 'd':
			if (!parse_u64(optarg, 0, VALUE_MAX, &v))
				goto bad;
			o.value_len = (size_t)v;
			break;
		case 'r':
			if (!parse_u64(optarg, 1, KEYSPACE_MAX, &o.keyspace))
				goto bad;
			break;
		case 't':
			if (!select_tests(optarg, on))
				return EXIT_USAGE;
			break;
		case 'q':
			o.quiet = true;
			break;
		case 'C':
			o.csv = true;
			break;
		case 'S':
			o.seq = true;
			break;
		case 'I':
			o.idle = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "mpbench: unexpected argument %s\n",
		    argv[optind]);
		return EXIT_USAGE;
	}
	if (o.idle)
		return run_idle(&o);
	if (!value_init(&o) ||
	    (res.hist = malloc(sizeof(*res.hist))) == NULL) {
		fprintf(stderr, "mpbench: out of memory\n");
		return EXIT_FAILED;
	}
	digit_pairs_init();
	print_header(&o);
	for (i = 0; i < NTESTS; i++) {
		if (!on[i])
			continue;
		r = run_test(&o, &tests[i], &res);
		if (r == EXIT_CONNECT) {
			status = r;
			break;
		}
		if (r != 0)
			status = r;
		else
			print_result(&o, &tests[i], &res);
	}
	free(o.venc);
	free(res.hist);
	return status;
bad:
	fprintf(stderr, "mpbench: bad value for -%c: %s\n", ch, optarg);
	return EXIT_USAGE;
}
