/*
 * it_systemd.c: mpmgrd as systemd runs it, without systemd as PID 1.
 *
 * - Socket activation through systemd-socket-activate: mpctl round trips
 *   through the passed socket, SIGTERM exits 0, and the daemon neither
 *   locks nor unlinks a path that belongs to the socket unit. Two sockets,
 *   or a datagram socket, are refused with exit 1 and a clear message.
 * - sd_notify: the test plays the service manager on a datagram socket
 *   ($NOTIFY_SOCKET, $WATCHDOG_USEC, $WATCHDOG_PID) and reads READY=1 with
 *   STATUS=, WATCHDOG=1 repeatedly, STATUS= following the clients and
 *   objects and resent only when it changed, RELOADING=1 then READY=1
 *   around SIGHUP, and STOPPING=1 after SIGTERM, every message from the
 *   daemon's own pid (NotifyAccess=main).
 * - Credentials: $CREDENTIALS_DIRECTORY/authkey, 0400 or 0440, is the key
 *   when no other is named.
 *
 * Each test starts a daemon of its own in a directory of its own under one
 * root per TCase. A failed test ends its process at once (Check's fork
 * mode), so the daemon dies with it (PR_SET_PDEATHSIG) and the root goes
 * in the TCase's unchecked teardown, in the runner process.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../proto/auth.h"
#include "harness.h"

#define START_MS 15000   /* a sanitized daemon on a busy 2-core VM */
#define STOP_MS 10000
#define NOTIFY_MS 15000  /* any one notification, generously */
#define WATCHDOG_USEC "200000"

/* Every test's directory is in here. */
static char root[32];

/* The credentials directory is read-only, as systemd makes it: open it up
 * first so that a non-root run can empty it. */
static int
open_entry(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	if (flag == FTW_D)
		chmod(path, 0700);
	return 0;
}

static int
remove_entry(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	remove(path);
	return 0;
}

static void
root_make(void)
{
	snprintf(root, sizeof root, "/tmp/mpmgr-sd-XXXXXX");
	if (mkdtemp(root) == NULL) {
		fprintf(stderr, "it_systemd: mkdtemp: %s\n", strerror(errno));
		exit(1);
	}
}

static void
root_remove(void)
{
	nftw(root, open_entry, 8, FTW_PHYS);
	nftw(root, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* True when the daemon's log holds text (its messages are the contract
 * for what an administrator reads). */
static bool
log_has(const struct harness *h, const char *text)
{
	char buf[16384];
	ssize_t n;
	int fd;

	if ((fd = open(h->log, O_RDONLY | O_CLOEXEC)) == -1)
		return false;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	return strstr(buf, text) != NULL;
}

/*
 * Run argv (argv[0] looked up in PATH) with stdout and stderr in the log,
 * in an environment without any of the variables that steer mpmgrd, plus
 * env ("NAME=value", NULL-terminated). With watchdog_pid, $WATCHDOG_PID is
 * the child's own pid, as systemd sets it for the main process.
 */
static void
spawn(struct harness *h, const char *const argv[], const char *const env[],
    bool watchdog_pid)
{
	static const char *const steer[] = { "MPMGR_SOCKET",
	    "MPMGR_AUTHKEY_FILE", "CREDENTIALS_DIRECTORY", "NOTIFY_SOCKET",
	    "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS", "LISTEN_PID",
	    "LISTEN_FDNAMES", NULL };
	pid_t parent = getpid();
	char pid[32];
	int i;

	h->pid = fork();
	ck_assert_msg(h->pid != -1, "fork: %s", strerror(errno));
	if (h->pid != 0)
		return;
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent)
		_exit(127);
	harness_exec_prepare(h);
	for (i = 0; steer[i] != NULL; i++)
		unsetenv(steer[i]);
	for (i = 0; env != NULL && env[i] != NULL; i++)
		putenv((char *)env[i]);
	if (watchdog_pid) {
		snprintf(pid, sizeof pid, "%ld", (long)getpid());
		setenv("WATCHDOG_PID", pid, 1);
	}
	execvp(argv[0], (char *const *)argv);
	fprintf(stderr, "it_systemd: exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* Wait until the daemon answers a ping with keyfile's key. */
static void
wait_up(struct harness *h, const char *keyfile)
{
	int rc = harness_await_ping(h, keyfile);

	if (rc != 0)
		harness_print_log(h);
	ck_assert_msg(rc == 0, "mpmgrd did not answer on %s: %s (log above)",
	    h->sock, mpmgr_strerror(rc));
}

/* SIGTERM, then the daemon must exit 0 within STOP_MS. */
static void
stop_ok(struct harness *h)
{
	int st;

	ck_assert(kill(h->pid, SIGTERM) == 0);
	st = harness_wait_exit(h, STOP_MS);
	if (!(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0))
		harness_print_log(h);
	ck_assert_msg(st != -1, "mpmgrd ignored SIGTERM");
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "mpmgrd did not exit 0 after SIGTERM (status %#x)", st);
}

/* The daemon must exit by itself with status want within STOP_MS. */
static void
exits_with(struct harness *h, int want)
{
	int st = harness_wait_exit(h, STOP_MS);

	if (!(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == want))
		harness_print_log(h);
	ck_assert_msg(st != -1, "mpmgrd is still running");
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == want,
	    "mpmgrd: wanted exit %d, got status %#x", want, st);
}

/* --- socket activation ------------------------------------------------ */

START_TEST(test_activation_round_trip)
{
	struct harness h;
	char keyenv[160], lock[160], *out;
	struct stat st;

	harness_prepare(&h, root);
	snprintf(keyenv, sizeof keyenv, "MPMGR_AUTHKEY_FILE=%s", h.keyfile);
	spawn(&h, (const char *const[]){ "systemd-socket-activate", "-l",
	    h.sock, "-E", keyenv, harness_mpmgrd(), NULL }, NULL, false);
	/* systemd-socket-activate execs mpmgrd on the first connection. */
	wait_up(&h, h.keyfile);

	ck_assert_int_eq(harness_mpctl(&h, &out, NULL, "ping", NULL), 0);
	ck_assert_str_eq(out, "pong\n");
	free(out);
	ck_assert_int_eq(harness_mpctl(&h, &out, NULL, "dict", "set", "k",
	    "42", NULL), 0);
	ck_assert_str_eq(out, "");
	free(out);
	ck_assert_int_eq(harness_mpctl(&h, &out, NULL, "dict", "get", "k",
	    NULL), 0);
	ck_assert_str_eq(out, "42\n");
	free(out);
	ck_assert_msg(log_has(&h, "listening on ") &&
	    log_has(&h, "socket from systemd"),
	    "the daemon does not say it serves the passed socket");

	/* The path is the socket unit's: no lock beside it, still there. */
	snprintf(lock, sizeof lock, "%s.lock", h.sock);
	ck_assert_msg(lstat(lock, &st) == -1 && errno == ENOENT,
	    "%s exists: the daemon locked a passed socket's path", lock);
	stop_ok(&h);
	ck_assert_msg(lstat(h.sock, &st) == 0 && S_ISSOCK(st.st_mode),
	    "the daemon removed the passed socket %s", h.sock);
}
END_TEST

static void
sun_set(struct sockaddr_un *sun, const char *path)
{
	ck_assert_msg(strlen(path) < sizeof sun->sun_path, "%s: too long",
	    path);
	memcpy(sun->sun_path, path, strlen(path) + 1);
}

/* Wake a systemd-socket-activate that waits on path (stream or dgram). */
static void
poke(const char *path, int type)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int64_t deadline = harness_now_ms() + START_MS;
	int fd, r = -1;

	sun_set(&sun, path);
	while (harness_now_ms() < deadline) {
		fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
		ck_assert(fd != -1);
		if (type == SOCK_DGRAM)
			r = (int)sendto(fd, "x", 1, 0,
			    (struct sockaddr *)&sun, sizeof sun);
		else
			r = connect(fd, (struct sockaddr *)&sun, sizeof sun);
		close(fd);
		if (r != -1)
			return;
		harness_nap(5);
	}
	ck_abort_msg("%s never appeared: %s", path, strerror(errno));
}

START_TEST(test_activation_two_sockets)
{
	struct harness h;
	char other[160];

	harness_prepare(&h, root);
	snprintf(other, sizeof other, "%s/t", h.dir);
	spawn(&h, (const char *const[]){ "systemd-socket-activate", "-l",
	    h.sock, "-l", other, harness_mpmgrd(), "--authkey-file", h.keyfile,
	    NULL }, NULL, false);
	poke(h.sock, SOCK_STREAM);
	exits_with(&h, 1);
	ck_assert_msg(log_has(&h, "systemd passed 2 sockets; mpmgrd serves "
	    "exactly one"), "no clear message for two sockets");
}
END_TEST

START_TEST(test_activation_datagram)
{
	struct harness h;

	harness_prepare(&h, root);
	spawn(&h, (const char *const[]){ "systemd-socket-activate",
	    "--datagram", "-l", h.sock, harness_mpmgrd(), "--authkey-file",
	    h.keyfile, NULL }, NULL, false);
	poke(h.sock, SOCK_DGRAM);
	exits_with(&h, 1);
	ck_assert_msg(log_has(&h, "is not a listening Unix stream socket"),
	    "no clear message for a datagram socket");
}
END_TEST

/* --- sd_notify ------------------------------------------------------- */

/* The service manager's end: a datagram socket that learns senders' pids. */
static int
notify_open(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd, one = 1;

	sun_set(&sun, path);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert(fd != -1);
	ck_assert_msg(bind(fd, (struct sockaddr *)&sun, sizeof sun) == 0,
	    "bind %s: %s", path, strerror(errno));
	ck_assert(setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one,
	    sizeof one) == 0);
	return fd;
}

/*
 * The next notification before deadline into msg[len], checked to come
 * from pid. False on timeout.
 */
static bool
notify_next(int fd, pid_t pid, char *msg, size_t len, int64_t deadline)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(struct ucred))];
	} ctl;
	struct iovec iov = { msg, len - 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
	    .msg_control = &ctl, .msg_controllen = sizeof ctl };
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	struct ucred cred = { .pid = -1 };
	struct cmsghdr *c;
	int64_t left;
	ssize_t n;

	for (;;) {
		left = deadline - harness_now_ms();
		if (left <= 0)
			return false;
		if (poll(&pfd, 1, (int)left) == 1)
			break;
	}
	n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	ck_assert_msg(n >= 0, "recvmsg: %s", strerror(errno));
	msg[n] = '\0';
	for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level == SOL_SOCKET &&
		    c->cmsg_type == SCM_CREDENTIALS)
			memcpy(&cred, CMSG_DATA(c), sizeof cred);
	}
	ck_assert_msg(cred.pid == pid, "'%s' came from pid %ld, not from the "
	    "daemon's %ld", msg, (long)cred.pid, (long)pid);
	return true;
}

/* The line of msg that starts with key ("STATUS="), its value; or NULL. */
static const char *
notify_get(const char *msg, const char *key, char *val, size_t len)
{
	size_t klen = strlen(key);
	const char *p = msg, *end;

	while (*p != '\0') {
		end = strchrnul(p, '\n');
		if ((size_t)(end - p) >= klen && strncmp(p, key, klen) == 0) {
			snprintf(val, len, "%.*s", (int)(end - p - klen),
			    p + klen);
			return val;
		}
		p = *end == '\n' ? end + 1 : end;
	}
	return NULL;
}

static bool
notify_has(const char *msg, const char *line)
{
	char key[64], val[256];

	snprintf(key, sizeof key, "%s", line);
	*strchr(key, '=') = '\0';
	strcat(key, "=");
	return notify_get(msg, key, val, sizeof val) != NULL &&
	    strcmp(val, strchr(line, '=') + 1) == 0;
}

/* Read until a message holding line comes (within NOTIFY_MS); count the
 * WATCHDOG=1 seen on the way. */
static void
notify_until(int fd, const struct harness *h, const char *line, char *msg,
    size_t len, int *watchdogs)
{
	int64_t deadline = harness_now_ms() + NOTIFY_MS;

	for (;;) {
		if (!notify_next(fd, h->pid, msg, len, deadline)) {
			harness_print_log(h);
			ck_abort_msg("no %s from mpmgrd", line);
		}
		if (watchdogs != NULL && notify_has(msg, "WATCHDOG=1"))
			(*watchdogs)++;
		if (notify_has(msg, line))
			return;
	}
}

START_TEST(test_notify)
{
	struct harness h;
	char path[160], env_sock[192], msg[512], val[256];
	int fd, watchdogs = 0, quiet = 0;
	int64_t deadline;
	mpmgr *m;

	harness_prepare(&h, root);
	snprintf(path, sizeof path, "%s/notify", h.dir);
	fd = notify_open(path);
	snprintf(env_sock, sizeof env_sock, "NOTIFY_SOCKET=%s", path);
	spawn(&h, (const char *const[]){ harness_mpmgrd(), "--socket", h.sock,
	    "--authkey-file", h.keyfile, NULL }, (const char *const[]){
	    env_sock, "WATCHDOG_USEC=" WATCHDOG_USEC, NULL }, true);

	/* READY=1 once it accepts, with the first status. */
	notify_until(fd, &h, "READY=1", msg, sizeof msg, &watchdogs);
	ck_assert_msg(notify_get(msg, "STATUS=", val, sizeof val) != NULL,
	    "READY=1 without STATUS=: '%s'", msg);
	ck_assert_str_eq(val, "0 clients, 0 objects, 0 ops");
	m = harness_connect(&h);
	ck_call_ok(m, "dict.set", "['d', 'k', 1]", "nil");

	/* The status follows; WATCHDOG=1 keeps coming. */
	deadline = harness_now_ms() + NOTIFY_MS;
	for (;;) {
		ck_assert_msg(notify_next(fd, h.pid, msg, sizeof msg, deadline),
		    "no STATUS= with the client and its object");
		watchdogs += notify_has(msg, "WATCHDOG=1");
		if (notify_has(msg, "STATUS=1 client, 1 object, 1 op"))
			break;
	}
	/* Nothing changes now: the next pings carry no STATUS=. */
	while (quiet < 2) {
		ck_assert(notify_next(fd, h.pid, msg, sizeof msg, deadline));
		ck_assert_msg(notify_has(msg, "WATCHDOG=1"), "'%s'", msg);
		ck_assert_msg(notify_get(msg, "STATUS=", val, sizeof val) ==
		    NULL, "STATUS= resent unchanged: '%s'", msg);
		watchdogs++;
		quiet++;
	}
	ck_assert_int_ge(watchdogs, 2);

	/* SIGHUP: RELOADING=1, then READY=1 again. */
	ck_assert(kill(h.pid, SIGHUP) == 0);
	notify_until(fd, &h, "RELOADING=1", msg, sizeof msg, NULL);
	ck_assert_msg(notify_get(msg, "MONOTONIC_USEC=", val, sizeof val) !=
	    NULL, "RELOADING=1 without MONOTONIC_USEC=: '%s'", msg);
	notify_until(fd, &h, "READY=1", msg, sizeof msg, NULL);
	ck_assert_int_eq(mpmgr_ping(m), 0);
	mpmgr_free(m);

	/* SIGTERM: STOPPING=1 and exit 0. */
	ck_assert(kill(h.pid, SIGTERM) == 0);
	notify_until(fd, &h, "STOPPING=1", msg, sizeof msg, NULL);
	ck_assert_msg(notify_get(msg, "STATUS=", val, sizeof val) != NULL &&
	    strstr(val, "SIGTERM") != NULL, "STOPPING=1 does not say why: "
	    "'%s'", msg);
	exits_with(&h, 0);
	close(fd);
}
END_TEST

/* Without $NOTIFY_SOCKET nothing is sent and nothing breaks. */
START_TEST(test_notify_unset)
{
	struct harness h;

	harness_prepare(&h, root);
	spawn(&h, (const char *const[]){ harness_mpmgrd(), "--socket", h.sock,
	    "--authkey-file", h.keyfile, NULL }, (const char *const[]){
	    "WATCHDOG_USEC=" WATCHDOG_USEC, NULL }, true);
	wait_up(&h, h.keyfile);
	ck_assert(kill(h.pid, SIGHUP) == 0);
	stop_ok(&h);
	ck_assert_msg(!log_has(&h, "sd_notify"), "complaints about sd_notify "
	    "without $NOTIFY_SOCKET");
}
END_TEST

/* --- credentials ----------------------------------------------------- */

static const mode_t cred_modes[] = { 0400, 0440 };

START_TEST(test_credentials)
{
	struct harness h;
	char creds[160], credkey[192], env_creds[200];
	uint8_t key[32];
	mpmgr *m = NULL;
	int64_t deadline;
	bool said = false;
	int fd, rc;

	harness_prepare(&h, root);
	snprintf(creds, sizeof creds, "%s/creds", h.dir);
	snprintf(credkey, sizeof credkey, "%s/authkey", creds);
	ck_assert(mkdir(creds, 0500 | S_IWUSR) == 0);
	/* A raw key without a newline: any bytes are a key. */
	ck_assert(auth_random(key, sizeof key) == 0);
	fd = open(credkey, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	ck_assert(fd != -1);
	ck_assert(write(fd, key, sizeof key) == (ssize_t)sizeof key);
	ck_assert(fchmod(fd, cred_modes[_i]) == 0);
	close(fd);
	ck_assert(chmod(creds, 0500) == 0);

	snprintf(env_creds, sizeof env_creds, "CREDENTIALS_DIRECTORY=%s",
	    creds);
	spawn(&h, (const char *const[]){ harness_mpmgrd(), "--socket", h.sock,
	    NULL }, (const char *const[]){ env_creds, NULL }, false);
	wait_up(&h, credkey);
	rc = mpmgr_connect(&m, h.sock, credkey);
	ck_assert_msg(rc == 0, "connect with the credential: %s: %s",
	    mpmgr_strerror(rc), mpmgr_errmsg(m));
	ck_assert_int_eq(mpmgr_ping(m), 0);
	mpmgr_free(m);
	m = NULL;

	/* The key in h.keyfile is another one: refused. */
	rc = mpmgr_connect(&m, h.sock, h.keyfile);
	ck_assert_msg(rc == MPMGR_EAUTH, "connect with another key: %s",
	    mpmgr_strerror(rc));
	mpmgr_free(m);

	/* SIGHUP re-reads the same copy, and says so. */
	ck_assert(kill(h.pid, SIGHUP) == 0);
	deadline = harness_now_ms() + NOTIFY_MS;
	while (!(said = log_has(&h, "is unchanged: a LoadCredential= copy "
	    "changes only when the service restarts")) &&
	    harness_now_ms() < deadline)
		harness_nap(10);
	ck_assert_msg(said, "SIGHUP: no log line about the credential");
	stop_ok(&h);
}
END_TEST

static Suite *
systemd_suite(void)
{
	Suite *s = suite_create("it_systemd");
	TCase *act, *ntf, *cred;

	act = harness_tcase(s, "socket activation", 60, root_make,
	    root_remove);
	tcase_add_test(act, test_activation_round_trip);
	tcase_add_test(act, test_activation_two_sockets);
	tcase_add_test(act, test_activation_datagram);

	ntf = harness_tcase(s, "sd_notify", 60, root_make, root_remove);
	tcase_add_test(ntf, test_notify);
	tcase_add_test(ntf, test_notify_unset);

	cred = harness_tcase(s, "credentials", 60, root_make, root_remove);
	tcase_add_loop_test(cred, test_credentials, 0,
	    (int)(sizeof cred_modes / sizeof cred_modes[0]));
	return s;
}

int
main(void)
{
	return harness_run(systemd_suite());
}
