/*
 * handle.h: what libmpmgr's own files share beyond mpmgr.h (and the Python
 * extension, which compiles libmpmgr in). Not installed, not API: the
 * library's static archive keeps only mpmgr_* symbols global and its
 * shared object exports only those (libmpmgr.map), so these names never
 * reach a program linked with libmpmgr.
 */
#ifndef MPMGR_HANDLE_H
#define MPMGR_HANDLE_H

#include "mpmgr.h"

/*
 * Set a client-side error on h (its code name empty, fmt as its message)
 * that leaves the handle usable, and return err: the way a helper over
 * mpmgr_call refuses misuse or a result of the wrong type.
 */
int handle_fail(mpmgr *h, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Whether method only reads, so that it may be sent again after the
 * connection was lost under it: neither MF_WRITE nor MF_ADMIN in the
 * catalogue (an unknown method is not). mpmgr_call's rule, shared with
 * the Python extension (which compiles libmpmgr in).
 */
bool handle_rereadable(const char *method);
/* Why h takes no request now (a lost or refused connection: MPMGR_EIO,
 * MPMGR_ECONNECT...), or 0: what mpmgr_request_begin's NULL meant. */
int handle_broken(const mpmgr *h);

struct msg;
struct mpv;

/* --- mpmgr.c, for mpmgr_notify.c ----------------------------------------- */

/* What mpmgr_set_notify keeps in the handle. */
struct handle_notify {
	mpmgr_notify_fn *fn;
	void *arg;
};
struct handle_notify *handle_notify_of(mpmgr *h);
/* A view of the held frame as an object in h's zone (valid until the
 * next call on h): 0, or -1 when out of memory. */
int handle_object(mpmgr *h, const struct mpv *v, msgpack_object *o);
/*
 * Read what the socket has without waiting; then the next message at the
 * head of the input, if it is a whole notification (not mpmgr.error): 1
 * and *m, its frame held until the next call. HANDLE_REPLY_NEXT when a
 * whole reply to the caller comes first (left for mpmgr_reply; the
 * replies of our cancels before it are dropped); 0 when nothing whole is
 * there yet. < 0: the handle's error (MPMGR_EIO once the server hung up
 * and nothing whole is left; the error of an mpmgr.error).
 */
#define HANDLE_REPLY_NEXT 2
int handle_next_notification(mpmgr *h, struct msg *m);

/* --- mpmgr_notify.c, for mpmgr.c ------------------------------------------ */

/* The reading path met notification m (its frame held): hand it to the
 * callback, if any. 0, or MPMGR_ENOMEM when it could not be converted. */
int handle_notify(mpmgr *h, const struct msg *m);

#endif
