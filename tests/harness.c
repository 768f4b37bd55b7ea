/*
 * harness.c: the integration tests' shared machinery (harness.h): a real
 * mpmgrd on a temporary socket (one per TCase, or a test's own), child
 * processes that connect on their own, the daemon's state polled, raw
 * connections that speak the wire by hand, and msgpack values written as
 * text.
 *
 * Waiting is always polling a condition against a deadline, never a
 * fixed sleep standing in for one.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../proto/auth.h"
#include "harness.h"

#define START_MS 15000   /* a sanitized daemon on a busy 2-core VM */
#define STOP_MS 10000
#define MAX_EXTRA 32

int harness_failures;

int64_t
harness_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
harness_nap(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* --- the daemon ------------------------------------------------------ */

void
harness_print_log(const struct harness *h)
{
	char line[1024];
	FILE *f;

	if ((f = fopen(h->log, "r")) == NULL)
		return;
	fprintf(stderr, "--- %s\n", h->log);
	while (fgets(line, sizeof(line), f) != NULL)
		fputs(line, stderr);
	fprintf(stderr, "---\n");
	fclose(f);
}

static void
remove_dir(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *e;
	DIR *d;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		/* a daemon's --data-dir, one level down */
		if (unlink(path) == -1 && errno == EISDIR)
			remove_dir(path);
	}
	closedir(d);
	rmdir(dir);
}

const char *
harness_mpmgrd(void)
{
	const char *bin = getenv("MPMGRD");

	return bin != NULL && *bin != '\0' ? bin : "./build/mpmgrd";
}

void
harness_prepare(struct harness *h, const char *parent)
{
	char err[512];
	int n;

	memset(h, 0, sizeof(*h));
	h->pid = -1;
	if (parent == NULL)
		n = snprintf(h->dir, sizeof(h->dir), "/tmp/mpmgr-it-XXXXXX");
	else
		n = snprintf(h->dir, sizeof(h->dir), "%s/XXXXXX", parent);
	ck_assert_msg(n > 0 && (size_t)n < sizeof(h->dir), "%s: too long",
	    parent);
	ck_assert_msg(mkdtemp(h->dir) != NULL, "mkdtemp: %s", strerror(errno));
	snprintf(h->sock, sizeof(h->sock), "%s/s", h->dir);
	snprintf(h->keyfile, sizeof(h->keyfile), "%s/key", h->dir);
	snprintf(h->log, sizeof(h->log), "%s/log", h->dir);
	ck_assert_msg(auth_key_generate(h->keyfile, true, err,
	    sizeof(err)) == 0, "%s", err);
	ck_assert_msg(auth_key_load(h->keyfile, h->key, &h->keylen, err,
	    sizeof(err)) == 0, "%s", err);
}

void
harness_exec_prepare(const struct harness *h)
{
	sigset_t none;
	int fd;

	if ((fd = open(h->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	    0600)) != -1) {
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
	}
	if ((fd = open("/dev/null", O_RDONLY)) != -1)
		dup2(fd, STDIN_FILENO);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
}

static void
exec_daemon(struct harness *h, const char *const extra[])
{
	const char *argv[8 + MAX_EXTRA];
	const char *bin = harness_mpmgrd();
	int n = 0;

	argv[n++] = bin;
	argv[n++] = "--socket";
	argv[n++] = h->sock;
	argv[n++] = "--authkey-file";
	argv[n++] = h->keyfile;
	for (int i = 0; extra != NULL && extra[i] != NULL && i < MAX_EXTRA; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;

	harness_exec_prepare(h);
	execv(bin, (char *const *)argv);
	fprintf(stderr, "harness: exec %s: %s\n", bin, strerror(errno));
	_exit(127);
}

int
harness_await_ping(struct harness *h, const char *keyfile)
{
	int64_t deadline = harness_now_ms() + START_MS;
	mpmgr *m = NULL;
	int rc = MPMGR_ECONNECT;

	while (harness_now_ms() < deadline && harness_alive(h)) {
		rc = mpmgr_connect(&m, h->sock, keyfile);
		if (rc == 0)
			rc = mpmgr_ping(m);
		/* Anything but "not there yet" ends the wait. */
		if (rc != 0 && rc != MPMGR_ECONNECT)
			fprintf(stderr, "harness: %s\n", mpmgr_errmsg(m));
		mpmgr_free(m);
		m = NULL;
		if (rc != MPMGR_ECONNECT)
			break;
		harness_nap(5);
	}
	return rc;
}

/* Start a daemon in h's directory and await it; on failure remove the
 * directory when fresh, and abort. */
static void
launch(struct harness *h, const char *const extra_args[], bool fresh)
{
	int rc;

	ck_assert_msg(h->pid == -1, "harness: the daemon still runs");
	h->pid = fork();
	ck_assert_msg(h->pid != -1, "fork: %s", strerror(errno));
	if (h->pid == 0)
		exec_daemon(h, extra_args);
	if ((rc = harness_await_ping(h, h->keyfile)) != 0) {
		harness_print_log(h);
		if (harness_alive(h))
			kill(h->pid, SIGKILL);
		harness_wait_exit(h, STOP_MS);
		if (fresh)
			remove_dir(h->dir);
		ck_abort_msg("mpmgrd did not start: %s (log above)",
		    mpmgr_strerror(rc));
	}
}

void
harness_start(struct harness *h, const char *const extra_args[])
{
	harness_prepare(h, NULL);
	launch(h, extra_args, true);
}

void
harness_restart(struct harness *h, const char *const extra_args[])
{
	launch(h, extra_args, false);
}

void
harness_kill(struct harness *h)
{
	ck_assert_msg(h->pid != -1, "harness_kill: no daemon");
	ck_assert(kill(h->pid, SIGKILL) == 0);
	ck_assert(harness_wait_exit(h, STOP_MS) != -1);
	ck_assert_msg(WIFSIGNALED(h->status) && WTERMSIG(h->status) == SIGKILL,
	    "mpmgrd was not killed: status %d", h->status);
}

int
harness_wait_exit(struct harness *h, int timeout_ms)
{
	int64_t deadline = harness_now_ms() + timeout_ms;
	pid_t r;

	if (h->pid == -1)
		return h->status;
	for (;;) {
		r = waitpid(h->pid, &h->status, WNOHANG);
		if (r == h->pid || (r == -1 && errno != EINTR)) {
			if (r == -1)
				h->status = -1;
			h->pid = -1;
			return h->status;
		}
		if (harness_now_ms() >= deadline)
			return -1;
		harness_nap(5);
	}
}

bool
harness_stop_keep(struct harness *h)
{
	bool ok = true;
	int st;

	if (h->pid != -1) {
		kill(h->pid, SIGTERM);
		if (harness_wait_exit(h, STOP_MS) == -1 && h->pid != -1) {
			fprintf(stderr, "harness: mpmgrd ignored SIGTERM for "
			    "%d s\n", STOP_MS / 1000);
			kill(h->pid, SIGKILL);
			harness_wait_exit(h, STOP_MS);
			ok = false;
		}
	}
	st = h->status;
	if (ok && !(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
		if (WIFSIGNALED(st))
			fprintf(stderr, "harness: mpmgrd killed by signal "
			    "%d\n", WTERMSIG(st));
		else
			fprintf(stderr, "harness: mpmgrd exited %d\n",
			    WIFEXITED(st) ? WEXITSTATUS(st) : st);
		ok = false;
	}
	if (!ok) {
		harness_print_log(h);
		harness_failures++;
	}
	return ok;
}

bool
harness_stop(struct harness *h)
{
	bool ok = harness_stop_keep(h);

	remove_dir(h->dir);
	return ok;
}

const char *
harness_log(const struct harness *h)
{
	return h->log;
}

bool
harness_alive(struct harness *h)
{
	char path[64], stat[256];
	const char *p;
	ssize_t n;
	int fd, st;
	pid_t r;

	if (h->pid == -1)
		return false;
	r = waitpid(h->pid, &st, WNOHANG);
	if (r == h->pid) {
		h->status = st;
		h->pid = -1;
		return false;
	}
	if (r == 0)
		return true;
	/* Not our child (a test process asking about the fixture's daemon):
	 * alive unless gone or a zombie. */
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)h->pid);
	if ((fd = open(path, O_RDONLY)) == -1)
		return false;
	n = read(fd, stat, sizeof(stat) - 1);
	close(fd);
	if (n <= 0)
		return false;
	stat[n] = '\0';
	if ((p = strrchr(stat, ')')) == NULL || p[1] == '\0')
		return false;
	return p[2] != 'Z' && p[2] != 'X';
}

mpmgr *
harness_connect(struct harness *h)
{
	mpmgr *m = NULL;
	int rc;

	rc = mpmgr_connect(&m, h->sock, h->keyfile);
	ck_assert_msg(rc == 0, "connect %s: %s: %s", h->sock,
	    mpmgr_strerror(rc), mpmgr_errmsg(m));
	return m;
}

/* --- one daemon per TCase -------------------------------------------- */

struct harness harness_fixture;

void
harness_fixture_up(void)
{
	harness_start(&harness_fixture, NULL);
}

void
harness_fixture_down(void)
{
	harness_stop(&harness_fixture);
}

TCase *
harness_tcase(Suite *s, const char *name, double timeout, SFun up,
    SFun down)
{
	TCase *tc = tcase_create(name);

	if (up != NULL || down != NULL)
		tcase_add_unchecked_fixture(tc, up, down);
	tcase_set_timeout(tc, timeout);
	suite_add_tcase(s, tc);
	return tc;
}

int
harness_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	if (harness_failures > 0)
		fprintf(stderr, "harness: %d failure(s) outside tests (daemon "
		    "exit status)\n", harness_failures);
	return failed == 0 && harness_failures == 0 ? EXIT_SUCCESS :
	    EXIT_FAILURE;
}

/* --- processes ------------------------------------------------------- */

#define MAX_CHILDREN 64

pid_t
harness_spawn(struct harness *h, harness_child_fn fn, int arg)
{
	pid_t pid = fork();

	ck_assert_msg(pid != -1, "fork: %s", strerror(errno));
	if (pid == 0) {
		mpmgr *m = NULL;
		int rc = mpmgr_connect(&m, h->sock, h->keyfile);

		if (rc != 0) {
			fprintf(stderr, "child %d: connect: %s\n",
			    (int)getpid(), mpmgr_errmsg(m));
			_exit(100);
		}
		rc = fn(m, arg);
		mpmgr_free(m);
		_exit(rc);
	}
	return pid;
}

void
harness_kill9(pid_t pid)
{
	int st;

	ck_assert(kill(pid, SIGKILL) == 0);
	ck_assert(waitpid(pid, &st, 0) == pid);
	ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
}

void
harness_reap(const pid_t *pids, int n, const char *what)
{
	int64_t deadline = harness_now_ms() + HARNESS_DEADLINE_MS;
	int done = 0, st, failed = 0, first_bad = -1, bad_status = 0;
	bool reaped[MAX_CHILDREN] = { false };

	ck_assert_int_le(n, MAX_CHILDREN);
	while (done < n && harness_now_ms() < deadline) {
		for (int i = 0; i < n; i++) {
			if (reaped[i] || waitpid(pids[i], &st, WNOHANG) !=
			    pids[i])
				continue;
			reaped[i] = true;
			done++;
			if ((!WIFEXITED(st) || WEXITSTATUS(st) != 0) &&
			    failed++ == 0) {
				first_bad = i;
				bad_status = st;
			}
		}
		if (done < n)
			harness_nap(2);
	}
	for (int i = 0; i < n; i++) {
		if (!reaped[i]) {
			kill(pids[i], SIGKILL);
			waitpid(pids[i], &st, 0);
		}
	}
	ck_assert_msg(done == n, "%s: %d of %d still blocked after %d ms",
	    what, n - done, n, HARNESS_DEADLINE_MS);
	ck_assert_msg(failed == 0, "%s: %d of %d failed; #%d: %s %d", what,
	    failed, n, first_bad, WIFEXITED(bad_status) ? "exit" : "signal",
	    WIFEXITED(bad_status) ? WEXITSTATUS(bad_status) :
	    WTERMSIG(bad_status));
}

/* The whole of the file at path, NUL-terminated, malloc'd. */
static char *
read_whole(const char *path)
{
	struct stat st;
	char *text;
	FILE *f;
	size_t n;

	f = fopen(path, "r");
	ck_assert_msg(f != NULL && fstat(fileno(f), &st) == 0, "%s: %s",
	    path, strerror(errno));
	text = malloc((size_t)st.st_size + 1);
	ck_assert(text != NULL);
	n = fread(text, 1, (size_t)st.st_size, f);
	ck_assert_msg(n == (size_t)st.st_size, "%s: short read", path);
	fclose(f);
	text[n] = '\0';
	return text;
}

int
harness_mpctl(const struct harness *h, char **out, char **err, ...)
{
	const char *bin = getenv("MPCTL"), *argv[32];
	char outpath[160], errpath[160];
	int argc = 0, fd, st;
	va_list ap;
	pid_t pid;

	argv[argc++] = bin != NULL && *bin != '\0' ? bin : "./build/mpctl";
	va_start(ap, err);
	while (argc < 31 && (argv[argc] = va_arg(ap, const char *)) != NULL)
		argc++;
	va_end(ap);
	argv[argc] = NULL;
	snprintf(outpath, sizeof(outpath), "%s/mpctl.out", h->dir);
	snprintf(errpath, sizeof(errpath), "%s/mpctl.err", h->dir);
	pid = fork();
	ck_assert_msg(pid != -1, "fork: %s", strerror(errno));
	if (pid == 0) {
		if ((fd = open(outpath, O_WRONLY | O_CREAT | O_TRUNC,
		    0600)) == -1 || dup2(fd, STDOUT_FILENO) == -1 ||
		    (fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC,
		    0600)) == -1 || dup2(fd, STDERR_FILENO) == -1)
			_exit(126);
		setenv("MPMGR_SOCKET", h->sock, 1);
		setenv("MPMGR_AUTHKEY_FILE", h->keyfile, 1);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) == -1)
		ck_assert_msg(errno == EINTR, "waitpid: %s", strerror(errno));
	if (out != NULL)
		*out = read_whole(outpath);
	if (err != NULL)
		*err = read_whole(errpath);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* --- the daemon's state, polled -------------------------------------- */

int64_t
harness_waiters(mpmgr *m, const char *name)
{
	msgpack_object args[1] = { mpmgr_obj_str(name) }, res;
	const msgpack_object *w;
	int rc = mpmgr_call(m, "obj.info", args, 1, &res);

	if (rc == MPMGR_ENOOBJ)
		return 0;
	ck_assert_msg(rc == 0, "obj.info %s: %s", name, mpmgr_errmsg(m));
	w = harness_map_get(&res, "waiters");
	ck_assert_msg(w != NULL && w->type == MSGPACK_OBJECT_POSITIVE_INTEGER,
	    "obj.info %s: no waiters field", name);
	return (int64_t)w->via.u64;
}

void
harness_await_waiters(mpmgr *m, const char *name, int64_t n)
{
	int64_t deadline = harness_now_ms() + HARNESS_DEADLINE_MS, got;

	while ((got = harness_waiters(m, name)) != n &&
	    harness_now_ms() < deadline)
		harness_nap(2);
	ck_assert_msg(got == n, "%s: %lld waiters, expected %lld", name,
	    (long long)got, (long long)n);
}

uint64_t
harness_stat(mpmgr *m, const char *field)
{
	const msgpack_object *f;
	msgpack_object res;
	int rc = mpmgr_call(m, "sys.stats", NULL, 0, &res);

	ck_assert_msg(rc == 0, "sys.stats: %s", mpmgr_errmsg(m));
	f = harness_map_get(&res, field);
	ck_assert_msg(f != NULL && f->type == MSGPACK_OBJECT_POSITIVE_INTEGER,
	    "sys.stats has no %s", field);
	return f->via.u64;
}

void
harness_freeze(struct harness *h)
{
	int64_t deadline = harness_now_ms() + HARNESS_DEADLINE_MS;
	char path[64], stat[256], *p;
	FILE *f;

	ck_assert(kill(h->pid, SIGSTOP) == 0);
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)h->pid);
	for (;;) {
		ck_assert((f = fopen(path, "r")) != NULL);
		p = fgets(stat, sizeof(stat), f);
		fclose(f);
		/* "pid (comm) S ...": the state follows the last ')' */
		if (p != NULL && (p = strrchr(stat, ')')) != NULL &&
		    p[1] == ' ' && p[2] == 'T')
			return;
		ck_assert_msg(harness_now_ms() < deadline, "the daemon did "
		    "not stop");
		harness_nap(1);
	}
}

uint64_t
harness_stat_once(struct harness *h, const char *field)
{
	mpmgr *m = harness_connect(h);
	uint64_t v = harness_stat(m, field);

	mpmgr_free(m);
	return v;
}

/* --- values as text -------------------------------------------------- */

static msgpack_zone *obj_zone;

static msgpack_zone *
zone(void)
{
	if (obj_zone == NULL)
		obj_zone = msgpack_zone_new(8192);
	ck_assert(obj_zone != NULL);
	return obj_zone;
}

static void *
obj_alloc(size_t n)
{
	void *p;

	p = msgpack_zone_malloc(zone(), n == 0 ? 1 : n);
	ck_assert(p != NULL);
	return p;
}

struct parser {
	const char *text;
	const char *p;
};

static void parse_value(struct parser *ps, msgpack_object *o);

static void
parse_fail(struct parser *ps, const char *what)
{
	ck_abort_msg("harness_obj: %s at offset %td of %s", what,
	    ps->p - ps->text, ps->text);
}

static void
skip_ws(struct parser *ps)
{
	while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' ||
	    *ps->p == '\r')
		ps->p++;
}

static bool
take(struct parser *ps, char c)
{
	skip_ws(ps);
	if (*ps->p != c)
		return false;
	ps->p++;
	return true;
}

static void
expect(struct parser *ps, char c)
{
	char what[32];

	if (!take(ps, c)) {
		snprintf(what, sizeof(what), "expected '%c'", c);
		parse_fail(ps, what);
	}
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* "hex digits" into a new block. */
static const char *
parse_hex(struct parser *ps, uint32_t *len)
{
	const char *start, *end;
	char *out;
	size_t n, i;

	expect(ps, '"');
	start = ps->p;
	if ((end = strchr(start, '"')) == NULL || (end - start) % 2 != 0)
		parse_fail(ps, "bad hex string");
	n = (size_t)(end - start) / 2;
	out = obj_alloc(n);
	for (i = 0; i < n; i++) {
		int hi = hexval(start[2 * i]), lo = hexval(start[2 * i + 1]);

		if (hi < 0 || lo < 0)
			parse_fail(ps, "bad hex digit");
		out[i] = (char)(hi << 4 | lo);
	}
	ps->p = end + 1;
	*len = (uint32_t)n;
	return out;
}

static void
parse_string(struct parser *ps, msgpack_object *o)
{
	char *out = obj_alloc(strlen(ps->p) * 3 + 1);
	char quote = *ps->p++;
	size_t n = 0;
	unsigned cp;

	for (;;) {
		char c = *ps->p++;

		if (c == '\0')
			parse_fail(ps, "unterminated string");
		if (c == quote)
			break;
		if (c != '\\') {
			out[n++] = c;
			continue;
		}
		switch (c = *ps->p++) {
		case 'n': out[n++] = '\n'; break;
		case 't': out[n++] = '\t'; break;
		case 'r': out[n++] = '\r'; break;
		case '0': out[n++] = '\0'; break;
		case 'u':
			if (sscanf(ps->p, "%4x", &cp) != 1)
				parse_fail(ps, "bad \\u escape");
			ps->p += 4;
			if (cp < 0x80) {
				out[n++] = (char)cp;
			} else if (cp < 0x800) {
				out[n++] = (char)(0xc0 | cp >> 6);
				out[n++] = (char)(0x80 | (cp & 0x3f));
			} else {
				out[n++] = (char)(0xe0 | cp >> 12);
				out[n++] = (char)(0x80 | ((cp >> 6) & 0x3f));
				out[n++] = (char)(0x80 | (cp & 0x3f));
			}
			break;
		default: out[n++] = c; break;
		}
	}
	o->type = MSGPACK_OBJECT_STR;
	o->via.str.ptr = out;
	o->via.str.size = (uint32_t)n;
}

static void
parse_number(struct parser *ps, msgpack_object *o)
{
	const char *s = ps->p;
	char *end;
	size_t n = strspn(s, "+-0123456789.eE");

	if (n == 0)
		parse_fail(ps, "unexpected character");
	if (memchr(s, '.', n) != NULL || memchr(s, 'e', n) != NULL ||
	    memchr(s, 'E', n) != NULL) {
		o->type = MSGPACK_OBJECT_FLOAT64;
		o->via.f64 = strtod(s, &end);
	} else if (*s == '-') {
		o->type = MSGPACK_OBJECT_NEGATIVE_INTEGER;
		errno = 0;
		o->via.i64 = strtoll(s, &end, 10);
		if (errno != 0)
			parse_fail(ps, "integer out of range");
		if (o->via.i64 >= 0) {
			o->type = MSGPACK_OBJECT_POSITIVE_INTEGER;
			o->via.u64 = (uint64_t)o->via.i64;
		}
	} else {
		o->type = MSGPACK_OBJECT_POSITIVE_INTEGER;
		errno = 0;
		o->via.u64 = strtoull(s, &end, 10);
		if (errno != 0)
			parse_fail(ps, "integer out of range");
	}
	if (end != s + n)
		parse_fail(ps, "bad number");
	ps->p = end;
}

/* Elements (or key, value pairs) into a growing list, then the zone. */
static void
parse_container(struct parser *ps, msgpack_object *o, bool map)
{
	msgpack_object *items = NULL;
	size_t n = 0, cap = 0, i;
	char close = map ? '}' : ']';

	ps->p++;
	if (!take(ps, close)) {
		do {
			if (n + 2 > cap) {
				cap = cap ? cap * 2 : 8;
				items = realloc(items, cap * sizeof(*items));
				ck_assert(items != NULL);
			}
			parse_value(ps, &items[n++]);
			if (map) {
				expect(ps, ':');
				parse_value(ps, &items[n++]);
			}
		} while (take(ps, ','));
		expect(ps, close);
	}
	if (map) {
		o->type = MSGPACK_OBJECT_MAP;
		o->via.map.size = (uint32_t)(n / 2);
		o->via.map.ptr = obj_alloc(n / 2 * sizeof(msgpack_object_kv));
		for (i = 0; i < n / 2; i++) {
			o->via.map.ptr[i].key = items[2 * i];
			o->via.map.ptr[i].val = items[2 * i + 1];
		}
	} else {
		o->type = MSGPACK_OBJECT_ARRAY;
		o->via.array.size = (uint32_t)n;
		o->via.array.ptr = obj_alloc(n * sizeof(msgpack_object));
		if (n > 0)
			memcpy(o->via.array.ptr, items, n * sizeof(*items));
	}
	free(items);
}

static void
parse_value(struct parser *ps, msgpack_object *o)
{
	memset(o, 0, sizeof(*o));
	skip_ws(ps);
	switch (*ps->p) {
	case '[':
		parse_container(ps, o, false);
		return;
	case '{':
		parse_container(ps, o, true);
		return;
	case '"':
	case '\'':
		parse_string(ps, o);
		return;
	default:
		break;
	}
	if (strncmp(ps->p, "null", 4) == 0) {
		o->type = MSGPACK_OBJECT_NIL;
		ps->p += 4;
	} else if (strncmp(ps->p, "true", 4) == 0) {
		o->type = MSGPACK_OBJECT_BOOLEAN;
		o->via.boolean = true;
		ps->p += 4;
	} else if (strncmp(ps->p, "false", 5) == 0) {
		o->type = MSGPACK_OBJECT_BOOLEAN;
		ps->p += 5;
	} else if (ps->p[0] == 'x' && ps->p[1] == '"') {
		ps->p++;
		o->type = MSGPACK_OBJECT_BIN;
		o->via.bin.ptr = parse_hex(ps, &o->via.bin.size);
	} else if (strncmp(ps->p, "ext(", 4) == 0) {
		char *end;

		ps->p += 4;
		o->type = MSGPACK_OBJECT_EXT;
		o->via.ext.type = (int8_t)strtol(ps->p, &end, 10);
		ps->p = end;
		expect(ps, ',');
		skip_ws(ps);
		o->via.ext.ptr = parse_hex(ps, &o->via.ext.size);
		expect(ps, ')');
	} else {
		parse_number(ps, o);
	}
}

msgpack_object
harness_obj(const char *text)
{
	struct parser ps = { text, text };
	msgpack_object o;

	parse_value(&ps, &o);
	skip_ws(&ps);
	if (*ps.p != '\0')
		parse_fail(&ps, "trailing characters");
	return o;
}

msgpack_object
harness_objf(const char *fmt, ...)
{
	msgpack_object o;
	char *text;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&text, fmt, ap);
	va_end(ap);
	ck_assert(n >= 0);
	o = harness_obj(text); /* copies what it keeps into the zone */
	free(text);
	return o;
}

bool
harness_obj_eq(msgpack_object got, const char *text)
{
	return msgpack_object_equal(got, harness_obj(text));
}

const char *
harness_obj_str(msgpack_object got, char *buf, size_t len)
{
	buf[0] = '\0';
	msgpack_object_print_buffer(buf, len, got);
	return buf;
}

const msgpack_object *
harness_map_get(const msgpack_object *map, const char *key)
{
	size_t len = strlen(key);
	uint32_t i;

	if (map->type != MSGPACK_OBJECT_MAP)
		return NULL;
	for (i = 0; i < map->via.map.size; i++) {
		const msgpack_object *k = &map->via.map.ptr[i].key;

		if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == len &&
		    memcmp(k->via.str.ptr, key, len) == 0)
			return &map->via.map.ptr[i].val;
	}
	return NULL;
}

int
harness_call(mpmgr *m, const char *method, const char *params,
    msgpack_object *result)
{
	msgpack_object p = harness_obj(params);

	ck_assert_msg(p.type == MSGPACK_OBJECT_ARRAY, "params must be an "
	    "array: %s", params);
	return mpmgr_call(m, method, p.via.array.ptr, p.via.array.size,
	    result);
}

void
harness_request(mpmgr *m, const char *method, const char *params)
{
	msgpack_object p = harness_obj(params);
	msgpack_packer *pk;

	ck_assert_msg(p.type == MSGPACK_OBJECT_ARRAY, "params must be an "
	    "array: %s", params);
	pk = mpmgr_request_begin(m, method, p.via.array.size);
	ck_assert_msg(pk != NULL, "%s: %s", method, mpmgr_errmsg(m));
	for (uint32_t i = 0; i < p.via.array.size; i++)
		msgpack_pack_object(pk, p.via.array.ptr[i]);
	ck_assert_int_eq(mpmgr_request_end(m), 0);
}

void
harness_send(mpmgr *m, const char *method, const char *params)
{
	harness_request(m, method, params);
	ck_assert_int_eq(mpmgr_flush(m), 0);
}

/* --- raw connections ------------------------------------------------- */

void
harness_raw_open(struct harness *h, struct harness_raw *r)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	memset(r, 0, sizeof(*r));
	buf_init(&r->in);
	scan_init(&r->scan);
	ck_assert(strlen(h->sock) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, h->sock, strlen(h->sock) + 1);
	r->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_msg(r->fd != -1, "socket: %s", strerror(errno));
	ck_assert_msg(connect(r->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0,
	    "connect %s: %s", h->sock, strerror(errno));
}

void
harness_raw_authed(struct harness *h, struct harness_raw *r)
{
	harness_raw_open(h, r);
	ck_assert_int_eq(harness_raw_auth(h, r, MPMGR_PROTO_VERSION), 0);
}

void
harness_raw_close(struct harness_raw *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	buf_free(&r->in);
}

bool
harness_raw_send(struct harness_raw *r, const void *p, size_t n)
{
	const uint8_t *b = p;
	ssize_t w;

	while (n > 0) {
		w = send(r->fd, b, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		b += w;
		n -= (size_t)w;
	}
	return true;
}

void
harness_append_request(msgpack_sbuffer *all, uint32_t msgid,
    const char *method, const char *params)
{
	msgpack_sbuffer one;

	msgpack_sbuffer_init(&one);
	harness_pack_request(&one, msgid, method, params);
	msgpack_sbuffer_write(all, one.data, one.size);
	msgpack_sbuffer_destroy(&one);
}

void
harness_pack_request(msgpack_sbuffer *sb, uint32_t msgid, const char *method,
    const char *params)
{
	msgpack_packer pk;

	msgpack_sbuffer_clear(sb);
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, 4);
	msgpack_pack_uint8(&pk, MSG_REQUEST);
	msgpack_pack_uint32(&pk, msgid);
	msg_pack_cstr(&pk, method);
	msgpack_pack_object(&pk, harness_obj(params));
}

bool
harness_raw_request(struct harness_raw *r, uint32_t msgid,
    const char *method, const char *params)
{
	msgpack_sbuffer sb;
	bool ok;

	msgpack_sbuffer_init(&sb);
	harness_pack_request(&sb, msgid, method, params);
	ok = harness_raw_send(r, sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
	return ok;
}

static void
remember_challenge(struct harness_raw *r, const struct msg *m)
{
	struct mpv_iter it;
	struct mpv v, nonce;

	if (m->kind != MSG_NOTIFICATION ||
	    !mpv_str_eq(&m->method, MPMGR_NOTIFY_CHALLENGE))
		return;
	mpv_iter_init(&it, &m->params);
	if (mpv_iter_next(&it, &v) && mpv_iter_next(&it, &nonce) &&
	    nonce.type == MPV_BIN && nonce.len == MPMGR_NONCE_LEN) {
		memcpy(r->ns, nonce.ptr, MPMGR_NONCE_LEN);
		r->have_ns = true;
	}
}

int
harness_raw_recv(struct harness_raw *r, struct msg *m, int timeout_ms)
{
	int64_t deadline = harness_now_ms() + timeout_ms;
	struct pollfd pfd = { .fd = r->fd, .events = POLLIN };
	const char *why;
	size_t flen;
	ssize_t n;
	int s;

	if (r->held > 0) {
		buf_consume(&r->in, r->held);
		r->held = 0;
	}
	for (;;) {
		s = scan_frame(&r->scan, buf_head(&r->in), buf_used(&r->in),
		    (size_t)1 << 30, &flen, &why);
		if (s == SCAN_FRAME) {
			r->held = flen;
			if (msg_parse(buf_head(&r->in), m, &why) == -1)
				return -2;
			remember_challenge(r, m);
			return 1;
		}
		if (s != SCAN_MORE)
			return -2;
		int64_t left = deadline - harness_now_ms();
		if (left <= 0)
			return -1;
		if (poll(&pfd, 1, (int)left) <= 0)
			continue;
		if (buf_reserve(&r->in, 65536) == -1)
			return -2;
		n = recv(r->fd, buf_tail(&r->in), buf_room(&r->in),
		    MSG_DONTWAIT);
		if (n > 0)
			r->in.len += (size_t)n;
		else if (n == 0 || (errno != EINTR && errno != EAGAIN))
			return 0; /* EOF, or a reset after the last bytes */
	}
}

int
harness_raw_result(struct harness_raw *r, int timeout_ms, int64_t *msgid,
    msgpack_object *result)
{
	struct mpv message;
	struct msg m;
	size_t off = 0;
	int c;

	if (harness_raw_recv(r, &m, timeout_ms) != 1 || m.kind != MSG_RESPONSE)
		return -1;
	if (msgid != NULL)
		*msgid = m.msgid;
	if ((c = msg_error_code(&m, &message)) != PERR_NONE)
		return c;
	if (msgpack_unpack((const char *)m.result.raw, m.result.rawlen, &off,
	    zone(), result) != MSGPACK_UNPACK_SUCCESS)
		return -1;
	return 0;
}

int
harness_raw_error(struct harness_raw *r, int timeout_ms, int64_t *msgid)
{
	struct mpv_iter it;
	struct mpv code, message;
	struct msg m;
	int c;

	if (harness_raw_recv(r, &m, timeout_ms) != 1)
		return -1;
	if (m.kind == MSG_RESPONSE) {
		if ((c = msg_error_code(&m, &message)) == PERR_NONE)
			return -1;
		if (msgid != NULL)
			*msgid = m.msgid;
		return c;
	}
	if (m.kind != MSG_NOTIFICATION ||
	    !mpv_str_eq(&m.method, MPMGR_NOTIFY_ERROR))
		return -1;
	mpv_iter_init(&it, &m.params);
	if (!mpv_iter_next(&it, &code) || code.type != MPV_STR)
		return -1;
	if (msgid != NULL)
		*msgid = -1;
	c = proto_err_lookup((const char *)code.ptr, code.len);
	return c == PERR_NONE ? -1 : c;
}

bool
harness_raw_closed(struct harness_raw *r, int timeout_ms)
{
	int64_t deadline = harness_now_ms() + timeout_ms;
	struct pollfd pfd = { .fd = r->fd, .events = POLLIN };
	char sink[65536];
	ssize_t n;

	buf_reset(&r->in);
	r->held = 0;
	scan_init(&r->scan);
	for (;;) {
		int64_t left = deadline - harness_now_ms();

		if (left <= 0)
			return false;
		if (poll(&pfd, 1, (int)left) <= 0)
			continue;
		n = recv(r->fd, sink, sizeof(sink), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
			return true;
	}
}

int
harness_raw_auth(struct harness *h, struct harness_raw *r, int64_t version)
{
	uint8_t nc[MPMGR_NONCE_LEN];
	uint8_t proof[MPMGR_MAC_LEN], expect_mac[MPMGR_MAC_LEN];
	struct mpv_iter it;
	struct mpv v;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	struct msg m;
	int c;
	bool sent;

	if (!r->have_ns && harness_raw_recv(r, &m, 10000) != 1)
		return -1;
	if (!r->have_ns)
		return -1;
	ck_assert(auth_random(nc, sizeof(nc)) == 0);
	auth_client_proof(h->key, h->keylen, r->ns, nc, proof);

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msg_pack_request(&pk, 0, MPMGR_METHOD_AUTH, 3);
	msgpack_pack_int64(&pk, version);
	msgpack_pack_bin_with_body(&pk, proof, sizeof(proof));
	msgpack_pack_bin_with_body(&pk, nc, sizeof(nc));
	sent = harness_raw_send(r, sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
	if (!sent)
		return -1;

	if (harness_raw_recv(r, &m, 10000) != 1)
		return -1;
	if (m.kind == MSG_NOTIFICATION &&
	    mpv_str_eq(&m.method, MPMGR_NOTIFY_ERROR)) {
		mpv_iter_init(&it, &m.params);
		if (!mpv_iter_next(&it, &v) || v.type != MPV_STR)
			return -1;
		c = proto_err_lookup((const char *)v.ptr, v.len);
		return c == PERR_NONE ? -1 : c;
	}
	if (m.kind != MSG_RESPONSE || m.msgid != 0)
		return -1;
	if ((c = msg_error_code(&m, &v)) != PERR_NONE)
		return c;
	auth_server_proof(h->key, h->keylen, nc, r->ns, expect_mac);
	if (m.result.type != MPV_BIN ||
	    !auth_equal(m.result.ptr, m.result.len, expect_mac,
	    sizeof(expect_mac)))
		return -1;
	return 0;
}
