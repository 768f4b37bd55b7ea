/*
 * unit_authkey.c: the daemon's key file (auth_key_load_owned): owned by
 * the daemon's uid or root, as ssh asks of authorized_keys, and at least
 * MPMGR_KEY_MIN bytes, on top of what every key file must be
 * (auth_key_load, unit_proto). Run as root, a file given to another uid
 * is refused; run as anyone, a file of ours is refused to a daemon of
 * another uid.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>

#include "../proto/auth.h"
#include "unit_util.h"

static char dir[64];

static void
make_dir(void)
{
	snprintf(dir, sizeof dir, "/tmp/unit_authkey.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

/* path in dir holding text, mode 0600; its path. */
static const char *
key_file(char *path, size_t len, const char *name, const char *text)
{
	int fd;

	snprintf(path, len, "%s/%s", dir, name);
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

START_TEST(test_length)
{
	uint8_t key[MPMGR_KEY_MAX];
	char path[PATH_MAX], err[512];
	size_t len;

	make_dir();
	/* 15 bytes (the newline does not count): too short for the daemon,
	 * still fine for a client */
	key_file(path, sizeof path, "short", "0123456789abcde\n");
	ck_assert_int_eq(auth_key_load_owned(path, geteuid(), key, &len, err,
	    sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "at least 16"));
	ck_assert_ptr_nonnull(strstr(err, path));
	ck_assert_int_eq(auth_key_load(path, key, &len, err, sizeof err), 0);
	ck_assert_uint_eq(len, 15);
	key_file(path, sizeof path, "ok", "0123456789abcdef\n");
	ck_assert_int_eq(auth_key_load_owned(path, geteuid(), key, &len, err,
	    sizeof err), 0);
	ck_assert_uint_eq(len, 16);
	/* what --genkey makes */
	snprintf(path, sizeof path, "%s/gen", dir);
	ck_assert_int_eq(auth_key_generate(path, true, err, sizeof err), 0);
	ck_assert_int_eq(auth_key_load_owned(path, geteuid(), key, &len, err,
	    sizeof err), 0);
	ck_assert_uint_eq(len, 64);
}
END_TEST

START_TEST(test_owner)
{
	uint8_t key[MPMGR_KEY_MAX];
	char path[PATH_MAX], err[512];
	size_t len;
	uid_t me = geteuid();

	make_dir();
	key_file(path, sizeof path, "mine", "0123456789abcdef0123\n");
	/* the daemon's own uid */
	ck_assert_int_eq(auth_key_load_owned(path, me, key, &len, err,
	    sizeof err), 0);
	if (me == 0) {
		/* root's file serves a daemon of any uid */
		ck_assert_int_eq(auth_key_load_owned(path, 4242, key, &len,
		    err, sizeof err), 0);
		/* another user's file serves no daemon but that user's */
		ck_assert_int_eq(chown(path, 65534, 65534), 0);
		ck_assert_int_eq(auth_key_load_owned(path, 0, key, &len, err,
		    sizeof err), -1);
		ck_assert_ptr_nonnull(strstr(err, "owned by uid 65534"));
		ck_assert_ptr_nonnull(strstr(err, "chown 0"));
		ck_assert_int_eq(auth_key_load_owned(path, 65534, key, &len,
		    err, sizeof err), 0);
	} else {
		ck_assert_int_eq(auth_key_load_owned(path, me + 1, key, &len,
		    err, sizeof err), -1);
		ck_assert_ptr_nonnull(strstr(err, "owned by uid"));
	}
	/* a client takes any owner's (the daemon proves itself) */
	ck_assert_int_eq(auth_key_load(path, key, &len, err, sizeof err), 0);
}
END_TEST

static void
cleanup(void)
{
	char cmd[128];

	if (dir[0] != '\0') {
		snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
		(void)!system(cmd);
	}
}

static Suite *
authkey_suite(void)
{
	Suite *s = suite_create("authkey");
	TCase *tc = tcase_create("daemon key");

	tcase_add_checked_fixture(tc, NULL, cleanup);
	tcase_add_test(tc, test_length);
	tcase_add_test(tc, test_owner);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(authkey_suite());
}
