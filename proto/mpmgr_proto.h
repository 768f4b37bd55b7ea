/*
 * mpmgr_proto.h: the one protocol header shared by mpmgrd and libmpmgr.
 *
 * It owns what both ends must agree on: the protocol version, the message
 * kinds of MessagePack-RPC, the error codes (a stable API: their names go on
 * the wire, their numbers are libmpmgr's negative return codes), the limits,
 * and the handshake's constants. Nothing here allocates or does I/O.
 *
 * Bump MPMGR_PROTO_VERSION if anything on the wire changes.
 */
#ifndef MPMGR_PROTO_H
#define MPMGR_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define MPMGR_PROTO_VERSION 1

/*
 * The release, the one place it is written: mpmgrd -V, mpctl -V and
 * `mpctl version`, sys.stats, libmpmgr.so's file name and libmpmgr.pc
 * (the Makefile reads the three numbers here). mpmgr.h repeats MAJOR and
 * MINOR for its users, who do not see this header; mpmgr.c includes
 * both, so the two cannot differ without a redefinition error.
 */
#define MPMGR_VERSION_MAJOR 0
#define MPMGR_VERSION_MINOR 1
#define MPMGR_VERSION_PATCH 0
#define MPMGR_VERSION_STR_(x) #x
#define MPMGR_VERSION_STR(x) MPMGR_VERSION_STR_(x)
#define MPMGR_VERSION MPMGR_VERSION_STR(MPMGR_VERSION_MAJOR) "." \
	MPMGR_VERSION_STR(MPMGR_VERSION_MINOR) "." \
	MPMGR_VERSION_STR(MPMGR_VERSION_PATCH)

/* MessagePack-RPC message kinds: the first element of every message. */
#define MSG_REQUEST 0
#define MSG_RESPONSE 1
#define MSG_NOTIFICATION 2

/* Server -> client notifications. */
#define MPMGR_NOTIFY_CHALLENGE "mpmgr.challenge"
#define MPMGR_NOTIFY_ERROR "mpmgr.error"
/* [2, "process.signal", [name, signo]]: to the supervisor of a process
 * record, asking it to signal the process (process.terminate, kill). */
#define MPMGR_NOTIFY_PROCESS_SIGNAL "process.signal"
/* [2, "pool.terminate", [name]]: to every worker of a pool that was
 * terminated: stop now, killing the jobs that run. */
#define MPMGR_NOTIFY_POOL_TERMINATE "pool.terminate"
/* [2, "pool.cancel", [name, id]]: to the worker running job id, which
 * was cancelled: stop running it. */
#define MPMGR_NOTIFY_POOL_CANCEL "pool.cancel"
/* [2, "sys.monitor", [time, client, pid, method, name, args, lost]]: to a
 * watcher (sys.monitor), for each request another connection runs. */
#define MPMGR_NOTIFY_MONITOR "sys.monitor"
#define MPMGR_METHOD_AUTH "auth"

/* Handshake. */
#define MPMGR_NONCE_LEN 32
#define MPMGR_MAC_LEN 32
#define MPMGR_AUTH_CLIENT_LABEL "mpmgr1 C"
#define MPMGR_AUTH_SERVER_LABEL "mpmgr1 S"
#define MPMGR_KEY_MAX 4096 /* longest authkey file accepted, bytes */
#define MPMGR_KEY_MIN 16   /* shortest key the daemon accepts, bytes */

/* Limits. */
#define MPMGR_MAX_DEPTH 64                 /* nesting of one value */
/* Nesting of one frame: a value plus the containers around it (message,
 * params; pairs and lists in results such as dict.scan's). */
#define MPMGR_FRAME_DEPTH (MPMGR_MAX_DEPTH + 8)
#define MPMGR_MAX_NAME 255                 /* object name, bytes */
#define MPMGR_PREAUTH_MAX_MESSAGE 1024     /* any message before auth */
#define MPMGR_HANDSHAKE_TIMEOUT_SEC 5
#define MPMGR_DEFAULT_MAX_UNAUTH 64
#define MPMGR_DEFAULT_MAX_MESSAGE (16u << 20)
#define MPMGR_DEFAULT_MAX_CLIENTS 10000
#define MPMGR_DEFAULT_OUTPUT_LIMIT (64u << 20)
/*
 * sys.cancel requests one connection may have outstanding for its parked
 * request: libmpmgr sends at most this many, and the daemon keeps this
 * many that missed (answered false after the parked request's reply).
 */
#define MPMGR_MAX_CANCELS 8

/*
 * Error codes. X(name) in wire order; PERR_<name> is the index (1-based,
 * 0 is "no error") and libmpmgr returns -PERR_<name> as MPMGR_E<name>.
 * Append only: the numbers are part of libmpmgr's ABI.
 */
#define MPMGR_ERRORS(X) \
	X(NOKEY) X(NOINDEX) X(NOTFOUND) X(NOOBJ) X(EMPTY) X(FULL) \
	X(TIMEOUT) X(WRONGTYPE) X(BADARG) X(BADTYPE) X(NOTHELD) \
	X(NOTOWNER) X(RANGE) X(BROKEN) X(DELETED) X(EXISTS) \
	X(NOMETHOD) X(AUTH) X(TOOBIG) X(LIMIT) X(SHUTDOWN) X(INTERNAL) \
	X(EOF) X(LOST)

enum proto_err {
	PERR_NONE = 0,
#define PERR_ENUM(n) PERR_##n,
	MPMGR_ERRORS(PERR_ENUM)
#undef PERR_ENUM
	PERR_COUNT
};

/* "NOKEY" for PERR_NOKEY; NULL for anything out of range. */
const char *proto_err_name(int code);
/* strlen(proto_err_name(code)), or 0 for anything out of range. */
size_t proto_err_name_len(int code);
/* PERR_* for a code name as it came off the wire, or PERR_NONE if unknown. */
int proto_err_lookup(const char *name, size_t len);

#endif
