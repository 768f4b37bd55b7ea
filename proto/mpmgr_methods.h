/*
 * mpmgr_methods.h: the method catalogue, every method of the protocol
 * once (as MPMGR_ERRORS holds the error codes).
 *
 * One row per method:
 *
 *	M(TYPE, VERB, MIN, MAX, FLAGS, "params", "summary")
 *
 * TYPE and VERB are bare tokens; the method's name on the wire is
 * "TYPE.VERB". MIN and MAX count the params, the object's name included
 * (MF_OBJ methods take it first). FLAGS are MF_*. "params" names the
 * params for BADARG texts and help ("name, key[, default]"); "summary"
 * says in one line what the method answers.
 *
 * Who expands it: the daemon builds its per-type method tables from the
 * MPMGR_METHODS_<TYPE> lists (handlers stay in daemon/obj_<type>.c);
 * libmpmgr and mpctl take method names through MPMGR_METHOD_NAME() and
 * arity, flags and summaries from catalogue_methods[] (catalogue.c); a test
 * holds the catalogue, the daemon, mpctl, docs/PROTOCOL.md and the man
 * pages against each other. Adding a verb is one row here plus its
 * handler, docs and tests (docs/HACKING.md).
 *
 * A row's name, arity or flags are protocol: changing one that clients
 * use means bumping MPMGR_PROTO_VERSION (mpmgr_proto.h).
 */
#ifndef MPMGR_METHODS_H
#define MPMGR_METHODS_H

#include <stddef.h>

/* Method flags. */
#define MF_WRITE   0x01 /* changes state (where a journal hooks in) */
#define MF_FREES   0x02 /* a write that can only give memory back (delete,
			   pop, clear) */
#define MF_BLOCKS  0x04 /* may park until the object changes */
#define MF_ADMIN   0x08 /* peer must be root or the daemon's own uid */
#define MF_OBJ     0x10 /* params[0] names an object of TYPE (of any type
			   for obj.*) */
#define MF_CREATES 0x20 /* MF_OBJ write: a missing object is created with
			   the type's defaults first */
#define MF_GROWS   0x40 /* a write that can make memory grow for good (it
			   stores a value, an item, a key): refused past
			   the memory ceiling, as is one that would create
			   a missing object; every other method runs */

#define MPMGR_METHODS_DICT(M) \
	M(dict, create, 1, 2, MF_WRITE | MF_OBJ, \
	    "name[, options]", \
	    "create it explicitly; no options are defined yet") \
	M(dict, get, 2, 3, MF_OBJ, \
	    "name, key[, default]", \
	    "the value under key; the default, or NOKEY") \
	M(dict, set, 3, 3, MF_WRITE | MF_GROWS | MF_OBJ | MF_CREATES, \
	    "name, key, value", \
	    "store value under key") \
	M(dict, setdefault, 2, 3, MF_WRITE | MF_GROWS | MF_OBJ | MF_CREATES, \
	    "name, key[, default]", \
	    "the value under key, storing default (nil) if missing") \
	M(dict, pop, 2, 3, MF_WRITE | MF_FREES | MF_OBJ, \
	    "name, key[, default]", \
	    "remove key and answer its value; the default, or NOKEY") \
	M(dict, popitem, 1, 1, MF_WRITE | MF_FREES | MF_OBJ, \
	    "name", \
	    "remove and answer the newest [key, value]; NOKEY") \
	M(dict, delete, 2, 2, MF_WRITE | MF_FREES | MF_OBJ, \
	    "name, key", \
	    "remove key; NOKEY when missing") \
	M(dict, contains, 2, 2, MF_OBJ, \
	    "name, key", \
	    "whether key is there") \
	M(dict, len, 1, 1, MF_OBJ, \
	    "name", \
	    "the number of keys") \
	M(dict, keys, 1, 1, MF_OBJ, \
	    "name", \
	    "the keys in insertion order") \
	M(dict, values, 1, 1, MF_OBJ, \
	    "name", \
	    "the values in insertion order") \
	M(dict, items, 1, 1, MF_OBJ, \
	    "name", \
	    "[key, value] pairs in insertion order") \
	M(dict, update, 2, 2, MF_WRITE | MF_GROWS | MF_OBJ | MF_CREATES, \
	    "name, map or [[key, value]...]", \
	    "store every pair, all or none") \
	M(dict, clear, 1, 1, MF_WRITE | MF_FREES | MF_OBJ, \
	    "name", \
	    "remove every key") \
	M(dict, copy, 1, 1, MF_OBJ, \
	    "name", \
	    "the whole dict as a map, in order") \
	M(dict, scan, 2, 3, MF_OBJ, \
	    "name, cursor[, count]", \
	    "[next_cursor, [[key, value]...]]; 0 starts and ends") \
	M(dict, incr, 2, 3, MF_WRITE | MF_GROWS | MF_OBJ | MF_CREATES, \
	    "name, key[, delta]", \
	    "add delta (1) to a number; a missing key is 0") \
	M(dict, cas, 4, 4, MF_WRITE | MF_GROWS | MF_OBJ | MF_CREATES, \
	    "name, key, expected, new", \
	    "[ok, current]: store new if the value equals expected")

#define MPMGR_METHODS_VALUE(M) \
	M(value, create, 1, 2, MF_WRITE | MF_OBJ, \
	    "name[, {value: initial}]", \
	    "create it explicitly with an initial value (nil)") \
	M(value, get, 1, 1, MF_OBJ, \
	    "name", \
	    "the value; nil if never set") \
	M(value, set, 2, 2, MF_WRITE | MF_GROWS | MF_OBJ | MF_CREATES, \
	    "name, value", \
	    "store value") \
	M(value, incr, 1, 2, MF_WRITE | MF_GROWS | MF_OBJ | MF_CREATES, \
	    "name[, delta]", \
	    "add delta (1) to the number held; nil counts as 0") \
	M(value, cas, 3, 3, MF_WRITE | MF_GROWS | MF_OBJ | MF_CREATES, \
	    "name, expected, new", \
	    "[ok, current]: store new if the value equals expected")

#define MPMGR_METHODS_LIST(M) \
	M(list, create, 1, 2, MF_WRITE | MF_OBJ, \
	    "name[, options]", \
	    "create it explicitly; no options are defined") \
	M(list, append, 2, 2, MF_WRITE | MF_GROWS | MF_OBJ | MF_CREATES, \
	    "name, value", \
	    "add value at the end") \
	M(list, extend, 2, 2, MF_WRITE | MF_GROWS | MF_OBJ | MF_CREATES, \
	    "name, items", \
	    "add an array's items at the end") \
	M(list, insert, 3, 3, MF_WRITE | MF_GROWS | MF_OBJ | MF_CREATES, \
	    "name, index, value", \
	    "insert before index (clamped; negative from the end)") \
	M(list, pop, 1, 2, MF_WRITE | MF_FREES | MF_OBJ, \
	    "name[, index]", \
	    "remove and answer the element at index (-1); NOINDEX") \
	M(list, remove, 2, 2, MF_WRITE | MF_FREES | MF_OBJ, \
	    "name, value", \
	    "remove the first element equal to value; NOTFOUND") \
	M(list, index, 2, 4, MF_OBJ, \
	    "name, value[, start[, stop]]", \
	    "the index of the first element equal to value; NOTFOUND") \
	M(list, count, 2, 2, MF_OBJ, \
	    "name, value", \
	    "how many elements equal value") \
	M(list, reverse, 1, 1, MF_WRITE | MF_OBJ, \
	    "name", \
	    "reverse the elements in place") \
	M(list, sort, 1, 2, MF_WRITE | MF_OBJ, \
	    "name[, reverse]", \
	    "stable sort of numbers, strs or bins; else BADTYPE") \
	M(list, get, 2, 2, MF_OBJ, \
	    "name, index", \
	    "the element at index; NOINDEX") \
	M(list, slice, 3, 4, MF_OBJ, \
	    "name, start, stop[, step]", \
	    "the elements of list[start:stop:step] as an array") \
	M(list, set, 3, 3, MF_WRITE | MF_GROWS | MF_OBJ, \
	    "name, index, value", \
	    "replace the element at index; NOINDEX") \
	M(list, delete, 2, 2, MF_WRITE | MF_FREES | MF_OBJ, \
	    "name, index", \
	    "remove the element at index; NOINDEX") \
	M(list, len, 1, 1, MF_OBJ, \
	    "name", \
	    "the number of elements") \
	M(list, contains, 2, 2, MF_OBJ, \
	    "name, value", \
	    "whether an element equals value") \
	M(list, clear, 1, 1, MF_WRITE | MF_FREES | MF_OBJ, \
	    "name", \
	    "remove every element") \
	M(list, copy, 1, 1, MF_OBJ, \
	    "name", \
	    "the whole list as an array")

#define MPMGR_METHODS_ARRAY(M) \
	M(array, create, 2, 2, MF_WRITE | MF_OBJ, \
	    "name, {typecode, length or items}", \
	    "create it: one C number type, zeros or the items") \
	M(array, get, 1, 2, MF_OBJ, \
	    "name[, index]", \
	    "the element at index, or every element; NOOBJ") \
	M(array, set, 3, 3, MF_WRITE | MF_OBJ, \
	    "name, index, value", \
	    "store value at index; RANGE if it does not fit") \
	M(array, len, 1, 1, MF_OBJ, \
	    "name", \
	    "the number of elements; NOOBJ")

#define MPMGR_METHODS_QUEUE(M) \
	M(queue, create, 1, 2, MF_WRITE | MF_OBJ, \
	    "name[, {maxsize: int, ack: bool}]", \
	    "create it explicitly: maxsize (0 unbounded), ack leases") \
	M(queue, put, 2, 3, \
	    MF_WRITE | MF_GROWS | MF_BLOCKS | MF_OBJ | MF_CREATES, \
	    "name, item[, timeout]", \
	    "append item, waiting for room; FULL on timeout") \
	M(queue, get, 1, 2, MF_WRITE | MF_FREES | MF_BLOCKS | MF_OBJ, \
	    "name[, timeout]", \
	    "the oldest item, waiting for one; EMPTY on timeout") \
	M(queue, put_many, 2, 3, \
	    MF_WRITE | MF_GROWS | MF_BLOCKS | MF_OBJ | MF_CREATES, \
	    "name, items[, timeout]", \
	    "append all items or none, waiting for room for all") \
	M(queue, get_many, 2, 3, MF_WRITE | MF_FREES | MF_BLOCKS | MF_OBJ, \
	    "name, n[, timeout]", \
	    "1 to n oldest items, waiting only while empty") \
	M(queue, qsize, 1, 1, MF_OBJ, \
	    "name", \
	    "items in the queue") \
	M(queue, empty, 1, 1, MF_OBJ, \
	    "name", \
	    "true if it holds no item") \
	M(queue, full, 1, 1, MF_OBJ, \
	    "name", \
	    "true if bounded and at maxsize") \
	M(queue, task_done, 1, 1, MF_WRITE | MF_FREES | MF_OBJ, \
	    "name", \
	    "mark one got item done (ack: this connection's oldest)") \
	M(queue, join, 1, 2, MF_BLOCKS | MF_OBJ, \
	    "name[, timeout]", \
	    "true once every item put is done; false on timeout") \
	M(queue, shutdown, 1, 2, MF_WRITE | MF_OBJ | MF_CREATES, \
	    "name[, immediate]", \
	    "refuse puts, and gets once empty (SHUTDOWN); immediate: empty " \
	    "it and release the waiters")

#define MPMGR_METHODS_EVENT(M) \
	M(event, create, 1, 2, MF_WRITE | MF_OBJ, \
	    "name[, options]", \
	    "create it explicitly; no options are defined") \
	M(event, set, 1, 1, MF_WRITE | MF_OBJ | MF_CREATES, \
	    "name", \
	    "set the flag and wake every waiter (true)") \
	M(event, clear, 1, 1, MF_WRITE | MF_FREES | MF_OBJ, \
	    "name", \
	    "unset the flag") \
	M(event, is_set, 1, 1, MF_OBJ, \
	    "name", \
	    "bool: the flag") \
	M(event, wait, 1, 2, MF_BLOCKS | MF_OBJ, \
	    "name[, timeout]", \
	    "true once the flag is set; false on timeout")

#define MPMGR_METHODS_BARRIER(M) \
	M(barrier, create, 2, 2, MF_WRITE | MF_OBJ, \
	    "name, {parties: N}", \
	    "create it with N >= 1 parties; EXISTS if N differs") \
	M(barrier, wait, 1, 2, MF_WRITE | MF_BLOCKS | MF_OBJ, \
	    "name[, timeout]", \
	    "arrival index 0..parties-1 once all parties arrive; TIMEOUT " \
	    "(and broken), BROKEN") \
	M(barrier, abort, 1, 1, MF_WRITE | MF_FREES | MF_OBJ, \
	    "name", \
	    "break it: waiters and later waits get BROKEN") \
	M(barrier, reset, 1, 1, MF_WRITE | MF_FREES | MF_OBJ, \
	    "name", \
	    "waiters get BROKEN; the barrier starts fresh") \
	M(barrier, parties, 1, 1, MF_OBJ, \
	    "name", \
	    "int: parties") \
	M(barrier, n_waiting, 1, 1, MF_OBJ, \
	    "name", \
	    "int: parties waiting now") \
	M(barrier, broken, 1, 1, MF_OBJ, \
	    "name", \
	    "bool: broken")

#define MPMGR_METHODS_LOCK(M) \
	M(lock, create, 1, 2, MF_WRITE | MF_OBJ, \
	    "name[, {release_on_disconnect}]", \
	    "create it explicitly; release_on_disconnect (true) frees it " \
	    "when its holder's connection closes") \
	M(lock, acquire, 1, 3, MF_WRITE | MF_BLOCKS | MF_OBJ | MF_CREATES, \
	    "name[, timeout[, {ttl, fence}]]", \
	    "true (fence: its fencing token) once held, a lease of ttl " \
	    "seconds if given; false on timeout") \
	M(lock, release, 1, 1, MF_WRITE | MF_FREES | MF_OBJ, \
	    "name", \
	    "release it (one level of an rlock); the oldest waiter gets it") \
	M(lock, extend, 2, 2, MF_WRITE | MF_FREES | MF_OBJ, \
	    "name, ttl", \
	    "the caller's lease on it ends ttl seconds from now; NOTHELD " \
	    "once it ended") \
	M(lock, locked, 1, 1, MF_OBJ, \
	    "name", \
	    "bool: held by anyone")

#define MPMGR_METHODS_RLOCK(M) \
	M(rlock, create, 1, 2, MF_WRITE | MF_OBJ, \
	    "name[, {release_on_disconnect}]", \
	    "create it explicitly; release_on_disconnect (true) frees it " \
	    "when its holder's connection closes") \
	M(rlock, acquire, 1, 3, MF_WRITE | MF_BLOCKS | MF_OBJ | MF_CREATES, \
	    "name[, timeout[, {ttl, fence}]]", \
	    "true (fence: its fencing token) once held, a lease of ttl " \
	    "seconds if given; false on timeout") \
	M(rlock, release, 1, 1, MF_WRITE | MF_FREES | MF_OBJ, \
	    "name", \
	    "release it (one level of an rlock); the oldest waiter gets it") \
	M(rlock, extend, 2, 2, MF_WRITE | MF_FREES | MF_OBJ, \
	    "name, ttl", \
	    "the caller's lease on it ends ttl seconds from now; NOTHELD " \
	    "once it ended") \
	M(rlock, locked, 1, 1, MF_OBJ, \
	    "name", \
	    "bool: held by anyone") \
	M(rlock, owned, 1, 1, MF_OBJ, \
	    "name", \
	    "bool: held by this connection")

#define MPMGR_METHODS_SEMAPHORE(M) \
	M(semaphore, create, 1, 2, MF_WRITE | MF_OBJ, \
	    "name[, {value, bounded, release_on_disconnect}]", \
	    "create it explicitly with value permits (1)") \
	M(semaphore, acquire, 1, 3, MF_WRITE | MF_BLOCKS | MF_OBJ | MF_CREATES, \
	    "name[, timeout[, {ttl, fence}]]", \
	    "true (fence: its fencing token) once a permit is taken, a lease " \
	    "of ttl seconds if given; false on timeout") \
	M(semaphore, release, 1, 2, MF_WRITE | MF_FREES | MF_OBJ | MF_CREATES, \
	    "name[, n]", \
	    "give n (1) permits back; bounded: RANGE past the initial value") \
	M(semaphore, extend, 2, 2, MF_WRITE | MF_FREES | MF_OBJ, \
	    "name, ttl", \
	    "the caller's lease on its permits ends ttl seconds from now; " \
	    "NOTHELD once it ended") \
	M(semaphore, value, 1, 1, MF_OBJ, \
	    "name", \
	    "int: permits left")

#define MPMGR_METHODS_CONDITION(M) \
	M(condition, create, 1, 2, MF_WRITE | MF_OBJ, \
	    "name[, {lock: NAME} or {release_on_disconnect}]", \
	    "create it explicitly on a named lock or rlock, or on its own" \
	    " rlock") \
	M(condition, acquire, 1, 2, MF_WRITE | MF_BLOCKS | MF_OBJ | MF_CREATES, \
	    "name[, timeout]", \
	    "acquire its lock: true once held; false on timeout") \
	M(condition, release, 1, 1, MF_WRITE | MF_FREES | MF_OBJ, \
	    "name", \
	    "release its lock") \
	M(condition, wait, 1, 2, MF_WRITE | MF_BLOCKS | MF_OBJ, \
	    "name[, timeout]", \
	    "release the lock, wait for a notify, hold it again: true; " \
	    "false on timeout") \
	M(condition, notify, 1, 2, MF_WRITE | MF_FREES | MF_OBJ, \
	    "name[, n]", \
	    "wake the n (1) oldest waiters") \
	M(condition, notify_all, 1, 1, MF_WRITE | MF_FREES | MF_OBJ, \
	    "name", \
	    "wake every waiter")

#define MPMGR_METHODS_PIPE(M) \
	M(pipe, create, 1, 2, MF_WRITE | MF_OBJ, \
	    "name[, {duplex: bool, maxsize: int}]", \
	    "create it explicitly: duplex (true), maxsize per direction (0 " \
	    "unbounded)") \
	M(pipe, open, 2, 3, MF_WRITE | MF_OBJ | MF_CREATES, \
	    "name, end[, token]", \
	    "hold end 0 or 1 until close or disconnect; token claims a " \
	    "hand-off; EOF if closed") \
	M(pipe, send, 3, 4, \
	    MF_WRITE | MF_GROWS | MF_BLOCKS | MF_OBJ | MF_CREATES, \
	    "name, end, item[, timeout]", \
	    "send item to the other end, waiting for room; FULL on timeout; " \
	    "EOF") \
	M(pipe, recv, 2, 3, MF_WRITE | MF_FREES | MF_BLOCKS | MF_OBJ, \
	    "name, end[, timeout]", \
	    "the oldest message for end, waiting for one; EOF once the other " \
	    "end is closed; TIMEOUT") \
	M(pipe, poll, 2, 3, MF_BLOCKS | MF_OBJ, \
	    "name, end[, timeout]", \
	    "true once a recv would not wait (a message, or EOF); false on " \
	    "timeout") \
	M(pipe, close, 2, 2, MF_WRITE | MF_OBJ | MF_CREATES, \
	    "name, end", \
	    "let go of this connection's hold of end, or close an end nobody " \
	    "holds") \
	M(pipe, handoff, 2, 3, MF_WRITE | MF_OBJ | MF_CREATES, \
	    "name, end[, timeout]", \
	    "a token keeping end open until an open claims it or timeout " \
	    "(60 s) passes")

#define MPMGR_METHODS_PROCESS(M) \
	M(process, register, 2, 2, MF_WRITE | MF_GROWS | MF_OBJ | MF_CREATES, \
	    "name, {pid, argv, daemon}", \
	    "record a running process this connection supervises; EXISTS") \
	M(process, exited, 2, 2, MF_WRITE | MF_OBJ, \
	    "name, exitcode", \
	    "its supervisor reports the exit: N, or -SIG when a signal " \
	    "killed it") \
	M(process, join, 1, 2, MF_BLOCKS | MF_OBJ, \
	    "name[, timeout]", \
	    "the exit code once there is one; LOST; TIMEOUT") \
	M(process, is_alive, 1, 1, MF_OBJ, \
	    "name", \
	    "bool: running") \
	M(process, info, 1, 1, MF_OBJ, \
	    "name", \
	    "{name, pid, argv, started, state, exitcode, ...}") \
	M(process, terminate, 1, 1, MF_OBJ, \
	    "name", \
	    "have its supervisor send it SIGTERM; LOST") \
	M(process, kill, 1, 1, MF_OBJ, \
	    "name", \
	    "have its supervisor send it SIGKILL; LOST")

#define MPMGR_METHODS_POOL(M) \
	M(pool, create, 1, 2, MF_WRITE | MF_OBJ, \
	    "name[, {max_attempts: int, maxsize: int}]", \
	    "create it explicitly: takes per job (3), jobs held (0 " \
	    "unbounded)") \
	M(pool, submit, 2, 3, MF_WRITE | MF_GROWS | MF_OBJ | MF_CREATES, \
	    "name, payload[, {attempts: int, key: str}]", \
	    "queue a job: its id (a job's already, for a key held); " \
	    "SHUTDOWN once closed; FULL at maxsize") \
	M(pool, take, 1, 2, MF_WRITE | MF_FREES | MF_BLOCKS | MF_OBJ, \
	    "name[, timeout]", \
	    "[id, payload, attempt]: the oldest queued job, leased to this " \
	    "connection; EMPTY; SHUTDOWN once closed and drained") \
	M(pool, done, 3, 3, MF_WRITE | MF_OBJ, \
	    "name, id, result", \
	    "finish a job this connection leased with its result; NOTOWNER") \
	M(pool, fail, 3, 3, MF_WRITE | MF_OBJ, \
	    "name, id, error", \
	    "finish a job this connection leased as failed; NOTOWNER") \
	M(pool, result, 2, 4, MF_WRITE | MF_FREES | MF_BLOCKS | MF_OBJ, \
	    "name, id[, consume[, timeout]]", \
	    "[state, value] once the job has finished (consume: then forget " \
	    "it); TIMEOUT; NOTFOUND") \
	M(pool, collect, 2, 3, MF_WRITE | MF_FREES | MF_BLOCKS | MF_OBJ, \
	    "name, max[, timeout]", \
	    "[[id, state, value]...]: 1 to max finished jobs, oldest first, " \
	    "consumed; EMPTY") \
	M(pool, status, 1, 1, MF_OBJ, \
	    "name", \
	    "{queued, running, done, failed, cancelled, workers, idle, ...}") \
	M(pool, cancel, 2, 2, MF_WRITE | MF_FREES | MF_OBJ, \
	    "name, id", \
	    "cancel a queued or running job (its worker is told): true; " \
	    "false once finished") \
	M(pool, close, 1, 1, MF_WRITE | MF_OBJ | MF_CREATES, \
	    "name", \
	    "refuse submits; takes get SHUTDOWN once no job is queued or " \
	    "running") \
	M(pool, join, 1, 2, MF_BLOCKS | MF_OBJ, \
	    "name[, timeout]", \
	    "true once closed with no job queued or running; false on " \
	    "timeout") \
	M(pool, terminate, 1, 1, MF_WRITE | MF_OBJ | MF_CREATES, \
	    "name", \
	    "close it, cancel every unfinished job, tell the workers to stop")

#define MPMGR_METHODS_OBJ(M) \
	M(obj, list, 0, 1, 0, \
	    "[type]", \
	    "[[name, type, size]...] of every object (of type)") \
	M(obj, scan, 1, 2, 0, \
	    "cursor[, count]", \
	    "[next_cursor, [[name, type, size]...]]; 0 starts and ends") \
	M(obj, info, 1, 1, MF_OBJ, \
	    "name", \
	    "{name, type, size, ..., holders, waiting, stays}") \
	M(obj, delete, 1, 1, MF_WRITE | MF_FREES | MF_OBJ, \
	    "name", \
	    "delete an object of any type; NOOBJ") \
	M(obj, dump, 1, 1, MF_OBJ, \
	    "name", \
	    "{name, type, explicit, options, contents}: the object as a " \
	    "restart keeps it; NOOBJ") \
	M(obj, restore, 2, 3, MF_WRITE | MF_OBJ, \
	    "name, {type, explicit, options, contents}[, replace]", \
	    "make the object from obj.dump's record; EXISTS unless replace")

#define MPMGR_METHODS_SYS(M) \
	M(sys, ping, 0, 0, 0, \
	    "", \
	    "\"pong\"") \
	M(sys, stats, 0, 0, 0, \
	    "", \
	    "{version, pid, uptime_sec, clients, ...}") \
	M(sys, cancel, 1, 1, 0, \
	    "msgid", \
	    "answer this connection's parked request msgid TIMEOUT; true " \
	    "if there was one") \
	M(sys, shutdown, 0, 0, MF_ADMIN, \
	    "", \
	    "stop the daemon (root or the daemon's user)") \
	M(sys, clients, 0, 0, 0, \
	    "", \
	    "[{client, pid, uid, command, age_sec, idle_sec, waits, " \
	    "holds, ...}...]") \
	M(sys, kill, 1, 1, MF_ADMIN, \
	    "client_id", \
	    "close that connection, releasing what it holds; NOTFOUND") \
	M(sys, monitor, 0, 0, MF_ADMIN, \
	    "", \
	    "nil; then every request others run, as a sys.monitor " \
	    "notification") \
	M(sys, save, 0, 0, MF_ADMIN | MF_BLOCKS, \
	    "", \
	    "compact the journal now: nil once the new snapshot is on disk")


/* Every method, type by type. */
#define MPMGR_METHODS(M) \
	MPMGR_METHODS_DICT(M) \
	MPMGR_METHODS_VALUE(M) \
	MPMGR_METHODS_LIST(M) \
	MPMGR_METHODS_ARRAY(M) \
	MPMGR_METHODS_QUEUE(M) \
	MPMGR_METHODS_EVENT(M) \
	MPMGR_METHODS_BARRIER(M) \
	MPMGR_METHODS_LOCK(M) \
	MPMGR_METHODS_RLOCK(M) \
	MPMGR_METHODS_SEMAPHORE(M) \
	MPMGR_METHODS_CONDITION(M) \
	MPMGR_METHODS_PIPE(M) \
	MPMGR_METHODS_PROCESS(M) \
	MPMGR_METHODS_POOL(M) \
	MPMGR_METHODS_OBJ(M) \
	MPMGR_METHODS_SYS(M)

/* MPMGR_MID_<type>_<verb>: a method's index in catalogue order. */
enum mpmgr_method_id {
#define MPMGR_MID_ENUM(t, v, mn, mx, fl, p, s) MPMGR_MID_##t##_##v,
	MPMGR_METHODS(MPMGR_MID_ENUM)
#undef MPMGR_MID_ENUM
	MPMGR_MID_COUNT
};

/*
 * "dict.get" for MPMGR_METHOD_NAME(dict, get): a string constant, and a
 * compile error for a method the catalogue does not have.
 */
#define MPMGR_METHOD_NAME(t, v) \
	((void)sizeof(char[MPMGR_MID_##t##_##v + 1]), #t "." #v)

/*
 * A row as data, for what walks the catalogue at run time (catalogue.c).
 * Internal to mpmgr: libmpmgr takes only the names, at compile time, and
 * neither links nor exports catalogue.o; mpctl, the daemon and the tests
 * link it themselves. Not API because MPMGR_MID_* numbers shift whenever
 * a row is added, and a program using them would break on a new verb.
 */
struct mpmgr_method_info {
	const char *name;     /* "dict.get" */
	const char *type;     /* "dict" */
	const char *verb;     /* "get" */
	unsigned min_params;
	unsigned max_params;
	unsigned flags;       /* MF_* */
	const char *params;
	const char *summary;
};

/* Every row in catalogue order, indexed by MPMGR_MID_*. */
extern const struct mpmgr_method_info catalogue_methods[MPMGR_MID_COUNT];
/* The row called name (len bytes), or NULL. */
const struct mpmgr_method_info *catalogue_find(const char *name, size_t len);

#endif
