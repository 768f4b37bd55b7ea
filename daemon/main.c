/*
 * main.c: mpmgrd's entry point: options, start-up, signals and the loop.
 *
 * Start-up takes, in order: the socket's private directory, the lock beside
 * the socket (held for life), the authkey (a default one is created when
 * missing), then the socket. Started by systemd with a socket (socket
 * activation), it takes that one instead and skips the directory and the
 * lock: the socket unit owns both. Any failure there is one log line and
 * exit 1; a usage error is exit 2. With --data-dir the journal is
 * replayed (replay.c) before the first connection is accepted. Once it
 * accepts it says READY=1 to systemd (notify.c). SIGTERM and SIGINT stop
 * gracefully (conn.c), SIGHUP re-reads the authkey (the old one stays on
 * failure). --repair cuts a bad journal and exits, as --genkey makes a
 * key and exits.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../proto/auth.h"
#include "../proto/paths.h"
#include "conn.h"
#include "log.h"
#include "mem.h"
#include "mpmgrd.h"
#include "notify.h"
#include "replay.h"

#define KiB 1024ULL
#define GiB (1024ULL * 1024 * 1024)

enum {
	OPT_MAX_CLIENTS = 256,
	OPT_MAX_MESSAGE,
	OPT_OUTPUT_LIMIT,
	OPT_MAX_MEMORY,
	OPT_MAX_UNAUTH,
	OPT_MAX_CLIENT_MEMORY,
	OPT_FRAME_TIMEOUT,
	OPT_GENKEY,
	OPT_DATA_DIR,
	OPT_FSYNC,
	OPT_COMPACT_RATIO,
	OPT_COMPACT_MIN,
	OPT_REPAIR,
	OPT_PARENT_FD
};

static const struct option main_options[] = {
	{ "socket", required_argument, NULL, 's' },
	{ "authkey-file", required_argument, NULL, 'k' },
	{ "max-clients", required_argument, NULL, OPT_MAX_CLIENTS },
	{ "max-message", required_argument, NULL, OPT_MAX_MESSAGE },
	{ "output-limit", required_argument, NULL, OPT_OUTPUT_LIMIT },
	{ "max-memory", required_argument, NULL, OPT_MAX_MEMORY },
	{ "max-unauth", required_argument, NULL, OPT_MAX_UNAUTH },
	{ "max-client-memory", required_argument, NULL,
	    OPT_MAX_CLIENT_MEMORY },
	{ "frame-timeout", required_argument, NULL, OPT_FRAME_TIMEOUT },
	{ "log-level", required_argument, NULL, 'l' },
	{ "genkey", required_argument, NULL, OPT_GENKEY },
	{ "data-dir", required_argument, NULL, OPT_DATA_DIR },
	{ "fsync", required_argument, NULL, OPT_FSYNC },
	{ "compact-ratio", required_argument, NULL, OPT_COMPACT_RATIO },
	{ "compact-min", required_argument, NULL, OPT_COMPACT_MIN },
	{ "repair", no_argument, NULL, OPT_REPAIR },
	{ "parent-fd", required_argument, NULL, OPT_PARENT_FD },
	{ "version", no_argument, NULL, 'V' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static void
main_usage(FILE *f)
{
	fprintf(f,
"usage: mpmgrd [options]\n"
"       mpmgrd --genkey FILE\n"
"       mpmgrd --data-dir DIR --repair\n"
"\n"
"The mpmgr daemon: named shared objects over a Unix socket.\n"
"\n"
"  -s, --socket PATH        socket (default $MPMGR_SOCKET, else\n"
"                           /run/mpmgr/mpmgr.sock for root,\n"
"                           $XDG_RUNTIME_DIR/mpmgr/mpmgr.sock or\n"
"                           /tmp/mpmgr-UID/mpmgr.sock for a user)\n"
"  -k, --authkey-file PATH  authkey (default $MPMGR_AUTHKEY_FILE, else\n"
"                           $CREDENTIALS_DIRECTORY/authkey, /etc/mpmgr/authkey\n"
"                           with root's default socket, else \"authkey\"\n"
"                           beside the socket; a default key is created\n"
"                           when missing)\n"
"      --max-clients N      authenticated clients at once (default %d)\n"
"      --max-message BYTES  largest message after auth (default 16m)\n"
"      --output-limit BYTES unread replies a client may hold (default 64m,\n"
"                           at least 9/5 of --max-message)\n"
"      --max-memory BYTES   past this much memory, refuse what makes it\n"
"                           grow (default 0: no ceiling)\n"
"      --max-unauth N       connections still in the handshake (default %d)\n"
"      --data-dir DIR       keep a journal in DIR and replay it at start:\n"
"                           objects survive restarts (default: none, memory\n"
"                           only)\n"
"      --fsync POLICY       always (a reply waits for the disk), everysec\n"
"                           (default) or no\n"
"      --compact-ratio R    compact when the journal is R times its last\n"
"                           snapshot (default 2)...\n"
"      --compact-min BYTES  ...and at least this large (default 64m)\n"
"      --repair             with --data-dir: cut the journal at its first bad\n"
"                           record, keeping a copy, and exit\n"
"      --max-client-memory BYTES\n"
"                           all clients' buffers together; past it the\n"
"                           largest are dropped (default --max-memory, else\n"
"                           1g; 0: no ceiling)\n"
"      --frame-timeout SECS a message must be complete this long after its\n"
"                           first bytes (default %d)\n"
"  -l, --log-level LEVEL    err, warning, notice, info (default) or debug\n"
"      --parent-fd N        stop when the other end of the pipe N closes\n"
"                           (a private daemon that dies with its parent)\n"
"      --genkey FILE        write a new random authkey to FILE and exit\n"
"  -V, --version            print the version and exit\n"
"  -h, --help               print this help and exit\n"
"\n"
"BYTES take a k, m or g suffix (KiB, MiB, GiB). SIGTERM or SIGINT stops\n"
"after answering what clients have sent; SIGHUP re-reads the authkey.\n"
"Started by systemd with a socket (socket activation), mpmgrd serves\n"
"that socket and reports to systemd (READY=1, STATUS=, WATCHDOG=1).\n"
"See mpmgrd(8).\n",
	    MPMGR_DEFAULT_MAX_CLIENTS, MPMGR_DEFAULT_MAX_UNAUTH,
	    MPMGRD_DEFAULT_FRAME_TIMEOUT_SEC);
}

static void __attribute__((noreturn, format(printf, 1, 2)))
main_usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("mpmgrd: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'mpmgrd --help'.\n", stderr);
	exit(2);
}

/* A start-up failure: one log line, exit 1. */
static void __attribute__((noreturn, format(printf, 1, 2)))
main_die(const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	log_warnx("%s", line);
	exit(1);
}

/*
 * A decimal number from min to max for option opt; with suffixes, k, m or g
 * multiplies by 1024, 1024^2 or 1024^3.
 */
static size_t
main_number(const char *opt, const char *s, bool suffixes,
    unsigned long long min, unsigned long long max)
{
	unsigned long long v, mul = 1;
	char *end;

	if (!isdigit((unsigned char)s[0]))
		goto bad;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		goto bad;
	if (suffixes && *end != '\0') {
		switch (*end++) {
		case 'k': case 'K':
			mul = KiB;
			break;
		case 'm': case 'M':
			mul = KiB * KiB;
			break;
		case 'g': case 'G':
			mul = GiB;
			break;
		default:
			goto bad;
		}
	}
	if (*end != '\0' || v > max / mul || v * mul < min)
		goto bad;
	return (size_t)(v * mul);
bad:
	main_usage_error("--%s: expected %s from %llu to %llu, got '%s'", opt,
	    suffixes ? "a size in bytes (k, m, g suffixes)" : "a number", min,
	    max, s);
}

/*
 * The smallest output limit that delivers every value a max_message
 * limit lets a client store: a value is at most a message's bytes as
 * sent, and at most 9/5 of that once canonical (float32 widened to
 * float64), plus a reply's envelope (a get_many array, a popitem pair).
 * With it, a destructive read's reply always fits an empty output
 * buffer, so an item can never be stuck undeliverable.
 */
static size_t
main_output_floor(size_t max_message)
{
	return max_message / 5 * 9 + (max_message % 5 * 9 + 4) / 5 + 64;
}

/* --output-limit when given, else the default raised to the floor. */
static void
main_check_limits(bool output_given)
{
	size_t floor = main_output_floor(server.max_message);

	if (server.output_limit >= floor)
		return;
	if (!output_given) {
		server.output_limit = floor;
		return;
	}
	main_usage_error("--output-limit %zu is too small for --max-message "
	    "%zu: a value that large (9/5 of it once float32s are widened) "
	    "could be stored and never delivered; give at least %zu",
	    server.output_limit, server.max_message, floor);
}

static int
main_genkey(const char *path)
{
	char err[512];

	switch (auth_key_generate(path, true, err, sizeof err)) {
	case 0:
		return 0;
	case 1:
		fprintf(stderr, "mpmgrd: %s already exists; not overwriting it "
		    "(remove it first to make a new key)\n", path);
		return 1;
	default:
		fprintf(stderr, "mpmgrd: %s\n", err);
		return 1;
	}
}

static void
main_load_key(void)
{
	char err[512];
	struct stat st;
	int r;

	if (lstat(server.authkey_path, &st) == -1 && errno == ENOENT &&
	    paths_authkey_is_default(server.authkey_path,
	    server.socket_path)) {
		/* The system key's directory (/etc/mpmgr) may not exist yet on
		 * a machine where nothing was installed: `make run` as root. */
		char dir[sizeof server.authkey_path];
		char *slash;

		snprintf(dir, sizeof dir, "%s", server.authkey_path);
		if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
			*slash = '\0';
			if (mkdir(dir, 0750) == -1 && errno != EEXIST)
				main_die("cannot create %s: %s", dir,
				    strerror(errno));
		}
		r = auth_key_generate(server.authkey_path, true, err,
		    sizeof err);
		if (r == -1)
			main_die("%s", err);
		if (r == 0)
			log_info("created a new authkey in %s",
			    server.authkey_path);
	}
	if (auth_key_load_owned(server.authkey_path, server.uid, server.key,
	    &server.keylen, err, sizeof err) == -1) {
		/* A key named by -k, the environment or systemd is not made
		 * up here: say how to make it. */
		if (lstat(server.authkey_path, &st) == -1 && errno == ENOENT)
			main_die("%s (make one with: mpmgrd --genkey %s)", err,
			    server.authkey_path);
		main_die("%s", err);
	}
}

/* True when the key is systemd's copy (LoadCredential=), which a SIGHUP
 * re-reads unchanged: systemd 252 takes the copy only at start. */
static bool
main_key_is_credential(void)
{
	const char *dir = getenv("CREDENTIALS_DIRECTORY");
	size_t n;

	if (dir == NULL || *dir == '\0')
		return false;
	n = strlen(dir);
	return strncmp(server.authkey_path, dir, n) == 0 &&
	    server.authkey_path[n] == '/';
}

/*
 * SIGHUP. Authenticated connections keep working whatever happens: the key
 * only guards new ones. The log says which of the three outcomes it was.
 */
static void
main_reload_key(void)
{
	uint8_t key[MPMGR_KEY_MAX];
	char err[512];
	size_t len;
	bool same;

	notify_reloading();
	if (auth_key_load_owned(server.authkey_path, server.uid, key, &len,
	    err, sizeof err) == -1) {
		log_warnx("SIGHUP: kept the old authkey: %s", err);
		notify_reloaded();
		return;
	}
	same = auth_equal(key, len, server.key, server.keylen);
	memcpy(server.key, key, len);
	server.keylen = len;
	explicit_bzero(key, sizeof key);
	if (!same)
		log_info("SIGHUP: new authkey from %s: new connections need "
		    "it, the %zu authenticated ones stay", server.authkey_path,
		    server.nclients);
	else if (main_key_is_credential())
		log_info("SIGHUP: the authkey in %s is unchanged: a "
		    "LoadCredential= copy changes only when the service "
		    "restarts (systemctl restart mpmgrd)", server.authkey_path);
	else
		log_info("SIGHUP: the authkey in %s is unchanged",
		    server.authkey_path);
	notify_reloaded();
}

/*
 * Socket activation: the socket systemd passed wins. A --socket or
 * $MPMGR_SOCKET naming another path is worth a warning: clients that go by
 * it will not find this daemon.
 */
static void
main_check_passed_socket(const char *socket_arg)
{
	const char *want = socket_arg, *what = "--socket";

	if (want == NULL || *want == '\0') {
		want = getenv("MPMGR_SOCKET");
		what = "$MPMGR_SOCKET";
	}
	if (want != NULL && *want != '\0' &&
	    strcmp(want, server.socket_path) != 0)
		log_warnx("serving %s, the socket systemd passed, not %s %s",
		    server.socket_path, what, want);
}

/*
 * Room for the connections' descriptors, as far as the hard limit allows:
 * two each at most (conn_max_fds). Only one each is a must: the second is
 * taken while a request is parked behind a full input, and without it
 * that client's hang-up is seen late (conn.c says so when it happens).
 */
static void
main_raise_nofile(void)
{
	rlim_t want = conn_max_fds() + 64;
	rlim_t need = server.max_clients + server.max_unauth + 64;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want ?
	    rl.rlim_max : want;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		log_warn("setrlimit RLIMIT_NOFILE");
	else if (rl.rlim_cur < need)
		log_warnx("open files are limited to %llu: fewer than "
		    "--max-clients %zu connections fit",
		    (unsigned long long)rl.rlim_cur, server.max_clients);
}

/* --compact-ratio: a number from 1.1 to 1000. */
static double
main_ratio(const char *s)
{
	char *end;
	double r;

	errno = 0;
	r = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(r >= 1.1 && r <= 1000))
		main_usage_error("--compact-ratio: expected a number from 1.1 to "
		    "1000, got '%s'", s);
	return r;
}

/* --repair: cut the journal and exit (no socket, no key). */
static int
main_repair(const struct journal_config *jc)
{
	struct event_base *base;
	char msg[4096];
	int r;

	if ((base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	conn_setup(base);
	dispatch_init();
	r = replay_repair(jc, msg, sizeof msg);
	if (r == 0)
		log_info("%s", msg);
	else
		log_warnx("%s", msg);
	return r == 0 ? 0 : 1;
}

/*
 * The loop, on a backend that reports a peer's hang-up behind unread data
 * (EV_CLOSED: epoll's EPOLLRDHUP) and edge-triggered events: a parked
 * client with a full input is watched for nothing else, once per change
 * (conn.c, conn_hup_start).
 */
static struct event_base *
main_event_base(void)
{
	struct event_config *cfg;
	struct event_base *base;

	if ((cfg = event_config_new()) == NULL)
		fatalx("event_config_new failed");
	event_config_require_features(cfg, EV_FEATURE_EARLY_CLOSE |
	    EV_FEATURE_ET);
	base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	if (base == NULL)
		main_die("libevent offers no backend that reports a client's "
		    "hang-up (EV_CLOSED): epoll does (is EVENT_NOEPOLL set?)");
	return base;
}

/*
 * --parent-fd: the read end of a pipe whose write end only the parent
 * holds. When every copy of the write end is closed (the parent exited,
 * even by SIGKILL) read() answers 0 and the daemon stops as on SIGTERM.
 * Unlike PR_SET_PDEATHSIG this follows the process, not the thread that
 * started the daemon. Bytes written to the pipe are read and ignored.
 */
static void
main_parent_cb(evutil_socket_t fd, short what, void *arg)
{
	struct event *ev = arg;
	char buf[256];
	ssize_t n;

	while ((n = read(fd, buf, sizeof buf)) > 0)
		;
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	event_del(ev);
	server_stop(n == 0 ? "the parent's pipe closed" :
	    "the parent's pipe failed");
}

static struct event *
main_watch_parent(struct event_base *base, int fd)
{
	struct event *ev;

	if (fcntl(fd, F_SETFD, FD_CLOEXEC) == -1 ||
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == -1)
		main_die("--parent-fd %d: %s", fd, strerror(errno));
	if ((ev = event_new(base, fd, EV_READ | EV_PERSIST, main_parent_cb,
	    event_self_cbarg())) == NULL || event_add(ev, NULL) == -1)
		fatalx("cannot watch --parent-fd %d", fd);
	return ev;
}

static void
main_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	if (sig == SIGHUP)
		main_reload_key();
	else
		server_stop(sig == SIGTERM ? "SIGTERM" : "SIGINT");
}

int
main(int argc, char **argv)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP };
	struct event *ev_sig[sizeof sigs / sizeof sigs[0]];
	struct event *ev_parent = NULL;
	const char *socket_arg = NULL, *key_arg = NULL, *genkey = NULL;
	struct journal_config jc = { .fsync = JOURNAL_FSYNC_EVERYSEC,
	    .compact_ratio = 2, .compact_min = 64 * KiB * KiB };
	struct event_base *base;
	int level = LOG_INFO, ch, inherited, f, parent_fd = -1;
	bool repair = false;
	bool output_given = false, client_memory_given = false;
	size_t i;
	char err[4096];

	signal(SIGPIPE, SIG_IGN);
	server_init();
	while ((ch = getopt_long(argc, argv, "s:k:l:Vh", main_options,
	    NULL)) != -1) {
		switch (ch) {
		case 's':
			socket_arg = optarg;
			break;
		case 'k':
			key_arg = optarg;
			break;
		case OPT_MAX_CLIENTS:
			server.max_clients = main_number("max-clients", optarg,
			    false, 1, 1000000);
			break;
		case OPT_MAX_MESSAGE:
			server.max_message = main_number("max-message", optarg,
			    true, MPMGR_PREAUTH_MAX_MESSAGE, 4 * GiB);
			break;
		case OPT_OUTPUT_LIMIT:
			server.output_limit = main_number("output-limit",
			    optarg, true, KiB, 1024 * GiB);
			output_given = true;
			break;
		case OPT_MAX_MEMORY:
			server.max_memory = main_number("max-memory", optarg,
			    true, 0, 1024 * 1024 * GiB);
			break;
		case OPT_MAX_UNAUTH:
			server.max_unauth = main_number("max-unauth", optarg,
			    false, 1, 100000);
			break;
		case OPT_MAX_CLIENT_MEMORY:
			server.max_client_memory = main_number(
			    "max-client-memory", optarg, true, 0,
			    1024 * 1024 * GiB);
			client_memory_given = true;
			break;
		case OPT_FRAME_TIMEOUT:
			server.frame_timeout_usec = main_number(
			    "frame-timeout", optarg, false, 1, 3600) *
			    (uint64_t)1000000;
			break;
		case 'l':
			if ((level = log_parse_level(optarg)) == -1)
				main_usage_error("--log-level: unknown level "
				    "'%s'", optarg);
			break;
		case OPT_GENKEY:
			genkey = optarg;
			break;
		case OPT_DATA_DIR:
			if (*optarg == '\0')
				main_usage_error("--data-dir: an empty path");
			jc.dir = optarg;
			break;
		case OPT_FSYNC:
			if ((f = journal_fsync_parse(optarg)) == -1)
				main_usage_error("--fsync: expected always, "
				    "everysec or no, got '%s'", optarg);
			jc.fsync = (enum journal_fsync)f;
			break;
		case OPT_COMPACT_RATIO:
			jc.compact_ratio = main_ratio(optarg);
			break;
		case OPT_COMPACT_MIN:
			jc.compact_min = main_number("compact-min", optarg, true,
			    0, 1024 * 1024 * GiB);
			break;
		case OPT_REPAIR:
			repair = true;
			break;
		case OPT_PARENT_FD:
			parent_fd = (int)main_number("parent-fd", optarg, false,
			    0, INT_MAX);
			if (fcntl(parent_fd, F_GETFD) == -1)
				main_usage_error("--parent-fd %d: not an open "
				    "file descriptor", parent_fd);
			break;
		case 'V':
			printf("mpmgrd %s (protocol %d)\n", MPMGRD_VERSION,
			    MPMGR_PROTO_VERSION);
			return 0;
		case 'h':
			main_usage(stdout);
			return 0;
		default:
			fputs("Try 'mpmgrd --help'.\n", stderr);
			return 2;
		}
	}
	if (optind < argc)
		main_usage_error("unexpected argument '%s'", argv[optind]);
	main_check_limits(output_given);
	if (!client_memory_given)
		server.max_client_memory = server.max_memory != 0 ?
		    server.max_memory : MPMGRD_DEFAULT_MAX_CLIENT_MEMORY;
	if (genkey != NULL)
		return main_genkey(genkey);
	if (repair && jc.dir == NULL)
		main_usage_error("--repair needs --data-dir");
	/* A record holds a message, and its length is 32 bits. */
	if (jc.dir != NULL && server.max_message > 4 * GiB - 64 * KiB)
		main_usage_error("--max-message: at most 4194240k with "
		    "--data-dir");

	log_init(level);
	mem_init();
	event_set_mem_functions(xmalloc, xrealloc, xfree);
	if (repair)
		return main_repair(&jc);
	inherited = listen_inherit(server.socket_path,
	    sizeof server.socket_path, err, sizeof err);
	if (inherited == -1)
		main_die("%s", err);
	if (inherited)
		main_check_passed_socket(socket_arg);
	else if (paths_socket(socket_arg, server.socket_path,
	    sizeof server.socket_path, err, sizeof err) == -1 ||
	    paths_prepare_dir(server.socket_path, err, sizeof err) == -1 ||
	    listen_lock(server.socket_path, err, sizeof err) == -1)
		main_die("%s", err);
	if (paths_authkey(key_arg, server.socket_path, server.authkey_path,
	    sizeof server.authkey_path, err, sizeof err) == -1)
		main_die("%s", err);
	main_load_key();
	if (!inherited && listen_bind(server.socket_path, err,
	    sizeof err) == -1)
		main_die("%s", err);
	main_raise_nofile();

	base = main_event_base();
	conn_setup(base);
	dispatch_init();
	if (jc.dir != NULL && replay_start(&jc, err, sizeof err) == -1)
		main_die("%s", err);
	for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
		ev_sig[i] = evsignal_new(base, sigs[i], main_signal_cb, NULL);
		if (ev_sig[i] == NULL || event_add(ev_sig[i], NULL) == -1)
			fatalx("cannot handle signal %d", sigs[i]);
	}
	if (parent_fd != -1)
		ev_parent = main_watch_parent(base, parent_fd);
	listen_start(base, conn_accept);
	log_info("listening on %s (pid %d%s%s)", server.socket_path,
	    (int)getpid(), inherited ? ", socket from systemd" : "",
	    jc.dir != NULL ? "" : ", memory only: no --data-dir");
	notify_ready(base);

	if (event_base_dispatch(base) == -1)
		fatalx("event_base_dispatch failed");

	conn_teardown();
	journal_stop();
	notify_teardown();
	listen_unlink();
	for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		event_free(ev_sig[i]);
	if (ev_parent != NULL)
		event_free(ev_parent);
	event_base_free(base);
	explicit_bzero(server.key, sizeof server.key);
	return 0;
}
