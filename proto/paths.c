/*
 * paths.c: the default socket and authkey paths, resolved one way for
 * mpmgrd, libmpmgr and mpctl (paths.h), and the socket directory's checks.
 *
 * An environment variable that is set but empty counts as unset, and so
 * does a relative $XDG_RUNTIME_DIR (the XDG spec requires it absolute).
 * The uid that decides "root" and owns the directory is the effective one:
 * that is whose files the process creates and whose socket it can reach.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "paths.h"

#define PATHS_SYSTEM_SOCKET "/run/mpmgr/mpmgr.sock"
#define PATHS_SYSTEM_AUTHKEY "/etc/mpmgr/authkey"
#define PATHS_KEY_NAME "authkey"

static const char *
env_nonempty(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && v[0] != '\0' ? v : NULL;
}

/* Copy the composed path out, or say how long it was and where it ends. */
static int
path_out(const char *what, const char *path, char *out, size_t outlen,
    char *err, size_t errlen)
{
	size_t n = strlen(path);

	if (n >= outlen) {
		snprintf(err, errlen, "%s path too long (%zu bytes, at most "
		    "%zu): %s", what, n, outlen > 0 ? outlen - 1 : 0, path);
		return -1;
	}
	memcpy(out, path, n + 1);
	return 0;
}

int
paths_socket(const char *explicit_path, char *out, size_t outlen,
    char *err, size_t errlen)
{
	char path[PATH_MAX + 32];
	const char *v;

	if (explicit_path != NULL && explicit_path[0] != '\0')
		snprintf(path, sizeof path, "%s", explicit_path);
	else if ((v = env_nonempty("MPMGR_SOCKET")) != NULL)
		snprintf(path, sizeof path, "%s", v);
	else if (geteuid() == 0)
		snprintf(path, sizeof path, "%s", PATHS_SYSTEM_SOCKET);
	else if ((v = env_nonempty("XDG_RUNTIME_DIR")) != NULL && v[0] == '/')
		snprintf(path, sizeof path, "%s/mpmgr/mpmgr.sock", v);
	else
		snprintf(path, sizeof path, "/tmp/mpmgr-%lu/mpmgr.sock",
		    (unsigned long)geteuid());
	/* A Unix socket's path must fit sun_path with its NUL. */
	return path_out("socket", path, out, outlen < PATHS_MAX ? outlen :
	    PATHS_MAX, err, errlen);
}

/* "authkey" in the directory of socket_path. */
static void
key_beside(const char *socket_path, char *out, size_t outlen)
{
	const char *slash = strrchr(socket_path, '/');

	if (slash == NULL)
		snprintf(out, outlen, "%s", PATHS_KEY_NAME);
	else
		snprintf(out, outlen, "%.*s%s", (int)(slash - socket_path + 1),
		    socket_path, PATHS_KEY_NAME);
}

/*
 * The default key of a socket: the system key for root's system socket,
 * else "authkey" beside the socket (root included: a root daemon on a
 * socket of its own is not the system daemon).
 */
static void
default_key(const char *socket_path, char *out, size_t outlen)
{
	if (geteuid() == 0 && strcmp(socket_path, PATHS_SYSTEM_SOCKET) == 0)
		snprintf(out, outlen, "%s", PATHS_SYSTEM_AUTHKEY);
	else
		key_beside(socket_path, out, outlen);
}

int
paths_authkey(const char *explicit_path, const char *socket_path,
    char *out, size_t outlen, char *err, size_t errlen)
{
	char path[PATH_MAX + 32];
	char sock[PATHS_MAX];
	const char *v;

	if (explicit_path != NULL && explicit_path[0] != '\0')
		snprintf(path, sizeof path, "%s", explicit_path);
	else if ((v = env_nonempty("MPMGR_AUTHKEY_FILE")) != NULL)
		snprintf(path, sizeof path, "%s", v);
	else if ((v = env_nonempty("CREDENTIALS_DIRECTORY")) != NULL)
		snprintf(path, sizeof path, "%s/%s", v, PATHS_KEY_NAME);
	else {
		if (socket_path == NULL || socket_path[0] == '\0') {
			if (paths_socket(NULL, sock, sizeof sock, err,
			    errlen) == -1)
				return -1;
			socket_path = sock;
		}
		default_key(socket_path, path, sizeof path);
	}
	return path_out("authkey", path, out, outlen, err, errlen);
}

bool
paths_authkey_is_default(const char *authkey_path, const char *socket_path)
{
	char path[PATH_MAX + 32];

	if (socket_path == NULL)
		return false;
	default_key(socket_path, path, sizeof path);
	return strcmp(authkey_path, path) == 0;
}

int
paths_prepare_dir(const char *path, char *err, size_t errlen)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	uid_t uid = geteuid();
	struct stat st;

	if (slash == NULL)
		snprintf(dir, sizeof dir, ".");
	else if (slash == path)
		snprintf(dir, sizeof dir, "/");
	else if ((size_t)(slash - path) >= sizeof dir) {
		snprintf(err, errlen, "path too long: %s", path);
		return -1;
	} else
		snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);

	/* Only the last component: a missing parent is the user's to fix. */
	if (mkdir(dir, S_IRWXU) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create directory %s: %s", dir,
		    strerror(errno));
		return -1;
	}
	if (lstat(dir, &st) == -1) {
		snprintf(err, errlen, "cannot stat %s: %s", dir,
		    strerror(errno));
		return -1;
	}
	if (S_ISLNK(st.st_mode)) {
		snprintf(err, errlen, "%s is a symbolic link, not a directory",
		    dir);
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s is not a directory", dir);
		return -1;
	}
	if (st.st_uid != uid) {
		snprintf(err, errlen, "%s is owned by uid %lu, not by uid %lu",
		    dir, (unsigned long)st.st_uid, (unsigned long)uid);
		return -1;
	}
	/*
	 * Root's /run/mpmgr may let the mpmgr group (or everyone) in to reach
	 * a socket whose own mode decides who connects; nobody else may add
	 * or replace entries in it.
	 */
	if (uid == 0 && (st.st_mode & (S_IWGRP | S_IWOTH))) {
		snprintf(err, errlen, "%s is writable by group or others "
		    "(mode %03o): chmod go-w %s", dir,
		    (unsigned)(st.st_mode & 0777), dir);
		return -1;
	}
	if (uid != 0 && (st.st_mode & (S_IRWXG | S_IRWXO))) {
		snprintf(err, errlen, "%s is accessible to group or others "
		    "(mode %03o): chmod 700 %s", dir,
		    (unsigned)(st.st_mode & 0777), dir);
		return -1;
	}
	return 0;
}
