/*
 * handle.h: what libmpmgr's own files share beyond mpmgr.h. Not installed,
 * not API: the library's static archive keeps only mpmgr_* symbols global
 * and its shared object exports only those (libmpmgr.map), so these names
 * never reach a program linked with libmpmgr.
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

#endif
