/*
 * harness_daemon.c: the integration tests' daemon (harness.h): a real
 * mpmgrd on a temporary socket (one per TCase, or a test's own), started,
 * polled until it answers, stopped and checked to exit 0; the child
 * processes of a test, which connect on their own; and mpctl run against
 * it as a user would; another user (uid 65534) reaching it, for root.
 *
 * Waiting is always polling a condition against a deadline, never a
 * fixed sleep standing in for one.
 */
#include <dirent.h>
#include <grp.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

void
harness_socket_for_nobody(struct harness *h)
{
	ck_assert(chmod(h->dir, 0755) == 0);
	ck_assert(chmod(h->sock, 0666) == 0);
}

void
harness_become_nobody(void)
{
	if (setgroups(0, NULL) != 0 || setgid(HARNESS_NOBODY) != 0 ||
	    setuid(HARNESS_NOBODY) != 0)
		_exit(99);
}
