/*
 * auth.c: nonces, the two role-bound HMAC-SHA256 proofs, constant-time
 * comparison, and the authkey file (auth.h).
 *
 * Promises: key bytes never stay in a buffer this file owns after it
 * returns; a key file is only read through a descriptor that was not
 * reached through a symlink and that fstat says is a private regular file;
 * a generated key appears at its path complete (written, fsynced, then
 * renamed or linked into place) or not at all, and with exclusive an
 * existing key is never replaced.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "auth.h"

#define AUTH_LABEL_LEN (sizeof(MPMGR_AUTH_CLIENT_LABEL) - 1)

int
auth_random(uint8_t *out, size_t n)
{
	ssize_t got;

	while (n > 0) {
		got = getrandom(out, n, 0);
		if (got == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		out += got;
		n -= (size_t)got;
	}
	return 0;
}

/* HMAC(key, label || a || b). */
static void
proof(const uint8_t *key, size_t keylen, const char *label,
    const uint8_t a[MPMGR_NONCE_LEN], const uint8_t b[MPMGR_NONCE_LEN],
    uint8_t out[MPMGR_MAC_LEN])
{
	uint8_t msg[AUTH_LABEL_LEN + 2 * MPMGR_NONCE_LEN];
	static const uint8_t nokey[1];
	unsigned int outlen = 0;

	memcpy(msg, label, AUTH_LABEL_LEN);
	memcpy(msg + AUTH_LABEL_LEN, a, MPMGR_NONCE_LEN);
	memcpy(msg + AUTH_LABEL_LEN + MPMGR_NONCE_LEN, b, MPMGR_NONCE_LEN);
	if (keylen > INT_MAX ||
	    HMAC(EVP_sha256(), keylen > 0 ? key : nokey, (int)keylen, msg,
	    sizeof msg, out, &outlen) == NULL || outlen != MPMGR_MAC_LEN) {
		/*
		 * Only an allocation failure inside OpenSSL gets here. Random
		 * bytes make a proof that matches nothing, so the handshake
		 * fails closed instead of comparing against a guessable
		 * value (nothing safer is left if getrandom fails as well).
		 */
		if (auth_random(out, MPMGR_MAC_LEN) == -1)
			memset(out, 0, MPMGR_MAC_LEN);
	}
}

void
auth_client_proof(const uint8_t *key, size_t keylen,
    const uint8_t ns[MPMGR_NONCE_LEN], const uint8_t nc[MPMGR_NONCE_LEN],
    uint8_t out[MPMGR_MAC_LEN])
{
	proof(key, keylen, MPMGR_AUTH_CLIENT_LABEL, ns, nc, out);
}

void
auth_server_proof(const uint8_t *key, size_t keylen,
    const uint8_t nc[MPMGR_NONCE_LEN], const uint8_t ns[MPMGR_NONCE_LEN],
    uint8_t out[MPMGR_MAC_LEN])
{
	proof(key, keylen, MPMGR_AUTH_SERVER_LABEL, nc, ns, out);
}

bool
auth_equal(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	if (alen != blen)
		return false;
	return CRYPTO_memcmp(a, b, alen) == 0;
}

/* auth_key_load, and with owned the daemon's checks (auth_key_load_owned). */
static int
auth_key_read(const char *path, bool owned, uid_t owner, uint8_t *key,
    size_t *keylen, char *err, size_t errlen)
{
	struct stat st;
	size_t n = 0;
	ssize_t got;
	uint8_t extra;
	int fd;

	/* O_NONBLOCK: a FIFO planted at the path must not hang us before
	 * fstat refuses it. */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY |
	    O_NONBLOCK);
	if (fd == -1) {
		if (errno == ELOOP)
			snprintf(err, errlen, "authkey %s is a symbolic link: "
			    "give the real file's path", path);
		else
			snprintf(err, errlen, "cannot open authkey %s: %s",
			    path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "cannot stat authkey %s: %s", path,
		    strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "authkey %s is not a regular file", path);
		goto fail;
	}
	if (st.st_mode & (S_IROTH | S_IWOTH)) {
		snprintf(err, errlen, "authkey %s is readable or writable by "
		    "others: chmod 600 %s", path, path);
		goto fail;
	}
	if (st.st_mode & S_IWGRP) {
		snprintf(err, errlen, "authkey %s is writable by its group: "
		    "chmod 600 %s", path, path);
		goto fail;
	}
	if (owned && st.st_uid != owner && st.st_uid != 0) {
		snprintf(err, errlen, "authkey %s is owned by uid %u, who could "
		    "rewrite it: only root or uid %u may own it (chown %u %s)",
		    path, (unsigned)st.st_uid, (unsigned)owner,
		    (unsigned)owner, path);
		goto fail;
	}
	if (st.st_size > MPMGR_KEY_MAX)
		goto toolarge;
	/* Read to EOF: the size fstat saw is a hint, not a promise. */
	while (n < MPMGR_KEY_MAX) {
		got = read(fd, key + n, MPMGR_KEY_MAX - n);
		if (got == -1 && errno == EINTR)
			continue;
		if (got == -1) {
			snprintf(err, errlen, "cannot read authkey %s: %s",
			    path, strerror(errno));
			goto fail;
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	if (n == MPMGR_KEY_MAX) {
		do
			got = read(fd, &extra, 1);
		while (got == -1 && errno == EINTR);
		if (got != 0)
			goto toolarge;
	}
	close(fd);
	if (n > 0 && key[n - 1] == '\n')
		n--;
	if (n == 0) {
		snprintf(err, errlen, "authkey %s is empty", path);
		explicit_bzero(key, MPMGR_KEY_MAX);
		return -1;
	}
	if (owned && n < MPMGR_KEY_MIN) {
		snprintf(err, errlen, "authkey %s has %zu bytes: a key needs at "
		    "least %d (mpmgrd --genkey makes one of 64)", path, n,
		    MPMGR_KEY_MIN);
		explicit_bzero(key, MPMGR_KEY_MAX);
		return -1;
	}
	*keylen = n;
	return 0;

toolarge:
	snprintf(err, errlen, "authkey %s is larger than %d bytes", path,
	    MPMGR_KEY_MAX);
fail:
	close(fd);
	explicit_bzero(key, MPMGR_KEY_MAX);
	return -1;
}

int
auth_key_load(const char *path, uint8_t *key, size_t *keylen, char *err,
    size_t errlen)
{
	return auth_key_read(path, false, 0, key, keylen, err, errlen);
}

int
auth_key_load_owned(const char *path, uid_t owner, uint8_t *key,
    size_t *keylen, char *err, size_t errlen)
{
	return auth_key_read(path, true, owner, key, keylen, err, errlen);
}

static int
write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Make a rename or link in dir durable; failure only weakens durability. */
static void
sync_parent(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd;

	if (slash == NULL)
		snprintf(dir, sizeof dir, ".");
	else if (slash == path)
		snprintf(dir, sizeof dir, "/");
	else
		snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1)
		return;
	(void)fsync(fd);
	close(fd);
}

int
auth_key_generate(const char *path, bool exclusive, char *err,
    size_t errlen)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t raw[32];
	char text[2 * sizeof raw + 1];
	char tmp[PATH_MAX];
	struct stat st;
	size_t i;
	int fd, rc = -1;

	if (exclusive && lstat(path, &st) == 0)
		return 1;
	if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path) >=
	    sizeof tmp) {
		snprintf(err, errlen, "authkey path too long: %s", path);
		return -1;
	}
	if (auth_random(raw, sizeof raw) == -1) {
		snprintf(err, errlen, "getrandom: %s", strerror(errno));
		return -1;
	}
	for (i = 0; i < sizeof raw; i++) {
		text[2 * i] = hex[raw[i] >> 4];
		text[2 * i + 1] = hex[raw[i] & 0x0f];
	}
	text[2 * sizeof raw] = '\n';
	explicit_bzero(raw, sizeof raw);

	/* mkostemp opens O_CREAT|O_EXCL with mode 0600 less the umask. */
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd == -1) {
		snprintf(err, errlen, "cannot create a temporary file beside "
		    "%s: %s", path, strerror(errno));
		goto out;
	}
	if (fchmod(fd, S_IRUSR | S_IWUSR) == -1 ||
	    write_all(fd, text, sizeof text) == -1 || fsync(fd) == -1) {
		snprintf(err, errlen, "cannot write %s: %s", tmp,
		    strerror(errno));
		close(fd);
		unlink(tmp);
		goto out;
	}
	if (close(fd) == -1) {
		snprintf(err, errlen, "cannot write %s: %s", tmp,
		    strerror(errno));
		unlink(tmp);
		goto out;
	}
	if (exclusive) {
		/* link() fails on an existing target: no window to replace. */
		if (link(tmp, path) == -1) {
			if (errno == EEXIST)
				rc = 1;
			else
				snprintf(err, errlen, "cannot create authkey "
				    "%s: %s", path, strerror(errno));
			unlink(tmp);
			goto out;
		}
		unlink(tmp);
	} else if (rename(tmp, path) == -1) {
		snprintf(err, errlen, "cannot create authkey %s: %s", path,
		    strerror(errno));
		unlink(tmp);
		goto out;
	}
	sync_parent(path);
	rc = 0;
out:
	explicit_bzero(text, sizeof text);
	return rc;
}
