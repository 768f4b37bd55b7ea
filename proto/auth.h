/*
 * auth.h: the authkey and the mutual, role-bound HMAC-SHA256 handshake.
 *
 *   server -> [2, "mpmgr.challenge", [version, Ns]]
 *   client -> [0, id, "auth", [version, HMAC(k, "mpmgr1 C" || Ns || Nc), Nc]]
 *   server -> [1, id, nil, HMAC(k, "mpmgr1 S" || Nc || Ns)]
 *
 * The labels bind each proof to its role, so a proof cannot be reflected
 * back. Nonces come from getrandom(2). Comparisons use CRYPTO_memcmp after
 * a length check.
 *
 * Key files (shared by mpmgrd and libmpmgr): the key is the file's bytes
 * less one trailing newline. The file is opened O_NOFOLLOW and checked with
 * fstat: a regular file, and not readable or writable by others (group
 * read is allowed: the system key is root:mpmgr 0640). The daemon also
 * wants it owned by itself or root, and at least MPMGR_KEY_MIN bytes long.
 */
#ifndef MPMGR_AUTH_H
#define MPMGR_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "mpmgr_proto.h"

/* Fill out with n random bytes. 0, or -1 with errno. */
int auth_random(uint8_t *out, size_t n);

void auth_client_proof(const uint8_t *key, size_t keylen,
    const uint8_t ns[MPMGR_NONCE_LEN], const uint8_t nc[MPMGR_NONCE_LEN],
    uint8_t out[MPMGR_MAC_LEN]);
void auth_server_proof(const uint8_t *key, size_t keylen,
    const uint8_t nc[MPMGR_NONCE_LEN], const uint8_t ns[MPMGR_NONCE_LEN],
    uint8_t out[MPMGR_MAC_LEN]);
/* Lengths equal and bytes equal, in constant time for equal lengths. */
bool auth_equal(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);

/*
 * Read the key in path into key[MPMGR_KEY_MAX]. 0 and *keylen, or -1 with
 * a one-line reason in err (naming the file and, for bad permissions, the
 * fix: "chmod 600 FILE"). An empty key is an error.
 */
int auth_key_load(const char *path, uint8_t *key, size_t *keylen,
    char *err, size_t errlen);
/*
 * The daemon's key: as auth_key_load, and the file must also be owned by
 * owner (the daemon's uid) or root, as ssh asks of authorized_keys (no
 * one else may be able to rewrite it), and the key must have at least
 * MPMGR_KEY_MIN bytes.
 */
int auth_key_load_owned(const char *path, uid_t owner, uint8_t *key,
    size_t *keylen, char *err, size_t errlen);
/*
 * Create a key file: 32 random bytes as 64 hex characters and a newline,
 * written to a temporary file beside path opened O_EXCL 0600, then renamed
 * into place (atomic). With exclusive, an existing path is left alone and
 * the call answers 1. 0 created, 1 existed, -1 with err.
 */
int auth_key_generate(const char *path, bool exclusive, char *err,
    size_t errlen);

#endif
