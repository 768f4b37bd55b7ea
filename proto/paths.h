/*
 * paths.h: where the socket and the authkey live by default, resolved the
 * same way by mpmgrd, libmpmgr and mpctl.
 *
 * Socket: explicit argument, else $MPMGR_SOCKET, else
 *   /run/mpmgr/mpmgr.sock                     for root,
 *   $XDG_RUNTIME_DIR/mpmgr/mpmgr.sock         for a user with that set,
 *   /tmp/mpmgr-UID/mpmgr.sock                 otherwise.
 * Authkey: explicit argument, else $MPMGR_AUTHKEY_FILE, else
 *   $CREDENTIALS_DIRECTORY/authkey            when that is set (systemd),
 *   /etc/mpmgr/authkey                        for root on /run/mpmgr/mpmgr.sock,
 *   "authkey" beside the socket               otherwise.
 */
#ifndef MPMGR_PATHS_H
#define MPMGR_PATHS_H

#include <stdbool.h>
#include <stddef.h>

#define PATHS_MAX 108 /* sun_path */

/* Resolve the socket path into out[PATHS_MAX]. 0, or -1 with err (too long). */
int paths_socket(const char *explicit_path, char *out, size_t outlen,
    char *err, size_t errlen);
/* Resolve the authkey path for the given socket path. 0, or -1 with err. */
int paths_authkey(const char *explicit_path, const char *socket_path,
    char *out, size_t outlen, char *err, size_t errlen);
/* True when authkey_path is the default key of socket_path (not one named
 * by an option, the environment or systemd), which mpmgrd creates when
 * missing, as Python's Manager makes up an authkey of its own. */
bool paths_authkey_is_default(const char *authkey_path,
    const char *socket_path);

/*
 * Make sure the directory holding path exists as a private directory, with
 * tmux's care: created 0700 when missing; refused (-1 with err) when it is
 * not a directory, not owned by us, or accessible to group or others. The
 * system directory /run/mpmgr (root) may be 0755 or group mpmgr.
 */
int paths_prepare_dir(const char *path, char *err, size_t errlen);

#endif
