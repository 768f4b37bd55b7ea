"""mpmgr.Pool: multiprocessing.Pool whose tasks live in mpmgrd.

    from mpmgr import Pool          # was: from multiprocessing import Pool

Each task is a job of a daemon `pool` object (docs/PROTOCOL.md, pool): its
payload is the pickled call (func, args, kwds), and a chunk of map is one
job, as CPython's mapstar. The workers are Python processes the Pool
starts (and restarts) with its context; each takes jobs on a connection of
its own, so that a worker that dies (kill -9, the OOM killer) leaves its
job leased to a closed connection, and the daemon queues it again for
another worker; past max_attempts (3) the task fails with
WorkerLostError. CPython's Pool loses such a task and its map never
returns.

The results come back through one thread (pool.collect), which sets
CPython's own result objects (ApplyResult, MapResult, IMapIterator) and
runs the callbacks, in the parent as CPython's result handler does. A
second thread keeps the workers' number (maxtasksperchild, deaths) and a
third feeds imap's iterables. None of them holds the Pool, so that a
running Pool that is dropped warns (ResourceWarning) and is terminated,
as CPython's. Pool() without a manager starts a private daemon that ends
with the pool; m.Pool() uses m's daemon.

A restart of the daemon drops the pool object (ephemeral), as does its
deletion: the tasks not answered then fail with JobLostError, the pool is
made again and the Pool goes on (_Shared.recover, called by whichever
thread sees it first: submits and the result thread use connections that
do not reconnect, so that they see a restart).
"""

import itertools
import os
import pickle
import queue
import threading
import traceback
import warnings

import multiprocessing
from multiprocessing import util
from multiprocessing.connection import wait as _wait
from multiprocessing.pool import (
    RUN, CLOSE, TERMINATE, ApplyResult, AsyncResult, MapResult,
    IMapIterator, IMapUnorderedIterator, ExceptionWithTraceback,
    MaybeEncodingError, _PoolCache, _helper_reraises_exception, mapstar,
    starmapstar)

from . import _mpmgr
from . import errors
from .proxies import BaseProxy, _kind

__all__ = ['Pool', 'AsyncResult', 'WorkerLostError', 'JobCancelledError',
           'JobLostError']

# Jobs submitted in one pipelined request (and registered under one hold
# of the lock the result thread takes).
_BATCH = 512
# Finished jobs one collect takes.
_COLLECT = 1024
# How often the threads look at the pool's state, seconds.
_TICK = 0.1


class WorkerLostError(RuntimeError):
    """The task's worker died (its connection closed) on every attempt:
    the daemon's message says which job and how many attempts."""


class JobCancelledError(RuntimeError):
    """The task's job was cancelled in the daemon (mpctl pool cancel)."""


class JobLostError(RuntimeError):
    """The task's job went with the pool object before its result reached
    the Pool: the daemon restarted (the object is ephemeral, as the
    factories' objects), or the object was deleted."""


# What breaks a connection that does not reconnect: the daemon went.
_LOST = (errors.ConnectionLostError, errors.InFlightError,
         errors.ConnectError)


@_kind('pool', 'Pool')
class _PoolObject(BaseProxy):
    """The daemon's pool object."""


# --- the worker -------------------------------------------------------------

def _worker(address, key, keyfile, name, initializer, initargs, maxtasks):
    """A worker process: take, run, report, until the pool is closed and
    drained (SHUTDOWN) or maxtasks tasks are done. A task's report and
    the next take go in one round trip."""
    # a worker ends with its connection: it does not outlive a restart
    pool = _PoolObject(_mpmgr.Client(address, key=key, keyfile=keyfile,
                                     reconnect=False), name)
    if initializer is not None:
        initializer(*initargs)
    report = None
    completed = 0
    while True:
        last = maxtasks is not None and completed >= maxtasks
        calls = ([report] if report is not None else []) + \
            ([] if last else [('pool.take', ())])
        if not calls:
            break
        try:
            rs = pool._many(calls)
        except (errors.Error, OSError):
            break               # the daemon gone
        if report is not None and isinstance(rs[0], BaseException) and \
                not isinstance(rs[0], errors.NotOwnerError):
            break               # NotOwner: cancelled while it ran
        if last or isinstance(rs[-1], BaseException):
            # SHUTDOWN (closed and drained, or terminated), or the pool
            # gone
            break
        jid, payload, _ = rs[-1]
        ok, value = _run(payload)
        try:
            data = pickle.dumps(value)
        except Exception as e:
            ok, value = False, MaybeEncodingError(e, value)
            data = pickle.dumps(value)
        report = ('pool.done' if ok else 'pool.fail', (jid, data))
        value = data = payload = rs = None
        completed += 1


def _run(payload):
    try:
        func, args, kwds = pickle.loads(payload)
        return True, func(*args, **kwds)
    except Exception as e:
        # its traceback text goes with it (RemoteTraceback, as CPython's)
        return False, ExceptionWithTraceback(e, e.__traceback__)


# --- what the threads share -------------------------------------------------

class _Notifier:
    """_PoolCache's notifier: the cache emptied."""

    def __init__(self):
        self.event = threading.Event()

    def put(self, _):
        self.event.set()


class _Shared:
    """What the Pool and its threads share (never the Pool itself)."""

    def __init__(self, obj, client, ctx, processes, initializer, initargs,
                 maxtasks, manager, options):
        self.obj = obj
        self.client = client
        self.manager = manager
        self.options = options
        # the connection submits go on: it does not reconnect, so that a
        # restart of the daemon shows (the pool object went with it)
        self.conn = None
        self.name = obj._name
        self.ctx = ctx
        self.processes = processes
        self.initializer = initializer
        self.initargs = initargs
        self.maxtasks = maxtasks
        self.state = RUN
        self.notifier = _Notifier()
        self.cache = _PoolCache(notifier=self.notifier)
        self.workers = []
        self.jobs = {}          # daemon job id -> (result job, index)
        self.lock = threading.Lock()
        self.tasks = queue.SimpleQueue()
        self.feeding = True     # the feeder thread runs
        self.counter = itertools.count()

    # --- submitting ---

    def submit(self, tasks):
        """Queue tasks ((result job, index, func, args, kwds)...) as jobs.
        A task that does not pickle sets its result's error instead, as
        CPython's task handler does; so does _helper_reraises_exception's
        (the iterable raised), without a worker."""
        batch = []
        for task in tasks:
            job, i, func, args, kwds = task
            if func is _helper_reraises_exception:
                self._flush(batch)
                self._set(job, i, (False, args[0]))
                continue
            try:
                payload = pickle.dumps((func, args, kwds))
            except Exception as e:
                self._flush(batch)
                self._set(job, i, (False, e))
                continue
            batch.append((job, i, payload))
            if len(batch) >= _BATCH:
                self._flush(batch)
        self._flush(batch)

    def _flush(self, batch):
        if not batch:
            return
        calls = [('pool.submit', (self.name, p)) for _, _, p in batch]
        failed = []
        with self.lock:
            ids, lost = self._submit(calls)
            failed += lost
            for (job, i, _), jid in zip(batch, ids):
                if isinstance(jid, BaseException):
                    failed.append((job, i, jid))
                else:
                    self.jobs[jid] = (job, i)
        batch.clear()
        self.fail(failed)

    def _submit(self, calls):
        """The replies of the submits calls, and the tasks a restart of
        the daemon lost meanwhile (recover): [(result job, index, error)].
        While no daemon answers, each reply is the ConnectError: the
        tasks fail with it, as a task that does not pickle, not the whole
        map."""
        lost = []
        e = None
        for _ in range(2):
            try:
                if self.conn is None:
                    # a new connection: the pool may have gone since the
                    # last (its submits would make an implicit one)
                    self.conn = self.client.session(reconnect=False)
                    lost += self.recover()
                ids = self.conn.many(calls)
                if not any(isinstance(r, _LOST) for r in ids):
                    return ids, lost
            except _LOST as lost_conn:
                e = lost_conn
            except (errors.Error, OSError) as other:
                self._drop_conn()
                return [other] * len(calls), lost
            self._drop_conn()
        return [e or errors.ConnectionLostError(
            'mpmgr: the connection to the daemon was lost twice while '
            'submitting')] * len(calls), lost

    def _drop_conn(self):
        if self.conn is not None:
            try:
                self.conn.close()
            except Exception:
                pass
            self.conn = None

    def recover(self):
        """Called with self.lock held when a connection was lost: if the
        pool object went with a restart of the daemon (it is ephemeral:
        its owner, the manager's session, went too), or was deleted (and
        maybe made again implicitly), every task not yet answered fails with JobLostError and the pool is made again, so
        that the Pool goes on (a new job's id, which starts over at 1,
        never meets an old one's task). A connection lost alone (mpctl
        kill) changes nothing. The tasks lost: [(result job, index,
        error)], to set once the lock is let go (a callback may submit).
        ConnectError while no daemon answers."""
        if self.ours():
            return []
        lost = list(self.jobs.items())
        self.jobs.clear()
        try:
            self.obj._call('obj.delete')
        except errors.NoObjectError:
            pass
        self.manager._create(_PoolObject, 'Pool', self.options,
                             name=self.name, ephemeral=True)
        if self.state != RUN and not self.feeding:
            self.obj._call('pool.close')
        return [(job, i, JobLostError(
            'mpmgr: job %d of pool %r went with the pool object before it '
            'answered (the daemon restarted, or the object was deleted)'
            % (jid, self.name)))
            for jid, (job, i) in lost]

    def ours(self):
        """The pool object is the Pool's own (ephemeral): not gone, nor
        made again implicitly by a collect, take or submit after it was
        deleted (a fresh implicit pool, whose job ids start over)."""
        try:
            info = self.obj._call('obj.info')
        except errors.NoObjectError:
            return False
        return bool(info.get('ephemeral')) and info.get('type') == 'pool'

    def fail(self, lost):
        for job, i, e in lost:
            self._set(job, i, (False, e))

    def fail_all(self, e):
        """Every task not answered yet fails with e."""
        with self.lock:
            lost = [(job, i, e) for job, i in self.jobs.values()]
            self.jobs.clear()
        self.fail(lost)

    def recover_and_fail(self):
        """recover, from a thread that does not hold the lock."""
        with self.lock:
            lost = self.recover()
        self.fail(lost)

    # --- results ---

    def _set(self, job, i, result):
        r = self.cache.get(job)
        if r is None:
            return
        try:
            r._set(i, result)
        except Exception:
            # a callback raised: CPython's handler thread would die of it
            traceback.print_exc()

    def deliver(self, batch):
        with self.lock:
            found = [(self.jobs.pop(jid, None), state, value)
                     for jid, state, value in batch]
        for where, state, value in found:
            if where is not None:
                self._set(where[0], where[1], _outcome(state, value))


def _outcome(state, value):
    """A finished job as CPython's (success, value)."""
    try:
        if state == 'done':
            return True, pickle.loads(value)
        if state == 'failed':
            if isinstance(value, (bytes, bytearray)):
                return False, pickle.loads(value)
            return False, WorkerLostError(value)
        return False, JobCancelledError('mpmgr: the job was cancelled')
    except Exception as e:
        return False, e


# --- the threads -------------------------------------------------------------

def _handle_results(s):
    """Collect finished jobs until terminated, or closed and every task
    answered. Whenever the pool object may not be the Pool's own any more
    (the connection lost in a restart, DELETED, or an idle pool made
    again implicitly after a delete) the turn drops its connection, and
    the next one connects again and recovers (_Shared.recover): the tasks
    that went with the object fail with JobLostError, the pool goes on.
    Any other error fails the unanswered tasks with it: none waits for
    ever."""
    conn = None
    try:
        while s.state != TERMINATE:
            if s.state == CLOSE and not s.feeding and not s.cache:
                break
            pause = False
            try:
                if conn is None:
                    conn = s.client.session(reconnect=False)
                    s.recover_and_fail()
                batch = conn.call('pool.collect', s.name, _COLLECT, _TICK)
            except errors.EmptyError:
                # idle with tasks waiting: a pool deleted (mpctl rm) while
                # no collect was parked on it is made again implicitly by
                # the next collect, take or submit, and nothing says so
                try:
                    if not s.jobs or s.ours():
                        continue
                except (errors.Error, OSError):
                    continue        # not known now: the next call says
            except _LOST + (errors.ShutdownError,):
                # the daemon restarted (or is not back yet), or is
                # stopping (SIGTERM: SHUTDOWN)
                pause = True
            except (errors.DeletedError, errors.NoObjectError):
                pass                # deleted, or made again by a recover
            except (errors.Error, OSError) as e:
                s.fail_all(e)
                pause = True
            else:
                s.deliver(batch)
                continue
            if conn is not None:
                conn.close()
                conn = None
            if pause:
                s.notifier.event.wait(_TICK)
    finally:
        if conn is not None:
            conn.close()


def _start_worker(s):
    c = s.client
    w = s.ctx.Process(target=_worker, args=(
        c.address, c.authkey, c.keyfile, s.name, s.initializer, s.initargs,
        s.maxtasks))
    w.name = w.name.replace('Process', 'PoolWorker')
    w.daemon = True
    w.start()
    s.workers.append(w)


def _reap(s):
    """Forget the workers that exited; true if any did."""
    gone = [w for w in s.workers if w.exitcode is not None]
    for w in gone:
        w.join()
        s.workers.remove(w)
    return bool(gone)


def _repopulate(s):
    while len(s.workers) < s.processes:
        _start_worker(s)


def _handle_workers(s):
    """Keep processes workers while the pool runs, or is closed with
    tasks not answered yet and jobs still queued (CPython's
    _handle_workers)."""
    while s.state == RUN or (s.cache and s.state != TERMINATE):
        if _reap(s):
            # not at once: workers end at once while the daemon restarts
            s.notifier.event.wait(_TICK)
        if len(s.workers) < s.processes:
            if s.state == RUN or _queued(s):
                _repopulate(s)
        sentinels = [w.sentinel for w in s.workers]
        if sentinels:
            _wait(sentinels, timeout=_TICK)
        else:
            s.notifier.event.wait(_TICK)
        s.notifier.event.clear()


def _queued(s):
    try:
        st = s.obj._call('pool.status')
    except (errors.Error, OSError):
        return False
    return st['queued'] > 0 or st['running'] > 0


def _handle_tasks(s):
    """imap's iterables, each submitted as it is read; None ends."""
    try:
        while True:
            item = s.tasks.get()
            if item is None:
                break
            gen, set_length = item
            i = -1
            try:
                for task in gen:
                    i = task[1]
                    s.submit((task,))
                    if s.state == TERMINATE:
                        break
                else:
                    if set_length is not None:
                        set_length(i + 1)
            except Exception:
                traceback.print_exc()
    finally:
        s.feeding = False
        if s.state != TERMINATE:
            try:
                s.obj._call('pool.close')
            except (errors.Error, OSError):
                pass


def _terminate(s, threads):
    """Terminate: the daemon cancels the jobs and tells the workers, the
    workers are killed (SIGTERM, as CPython's), the threads end."""
    s.state = TERMINATE
    s.tasks.put(None)
    try:
        s.obj._call('pool.terminate')
    except (errors.Error, OSError):
        pass
    with s.lock:
        s._drop_conn()
    for w in list(s.workers):
        if w.exitcode is None:
            w.terminate()
    for t in threads:
        if t is not threading.current_thread() and t.is_alive():
            t.join()
    for w in list(s.workers):
        w.join()


def _finalize(s, threads, manager):
    if s.state != TERMINATE:
        _terminate(s, threads)
    if manager is not None:
        manager.shutdown()


# --- the Pool ---------------------------------------------------------------

class Pool:
    """CPython's multiprocessing.Pool, its tasks kept by mpmgrd.

    Pool(processes=None, initializer=None, initargs=(), maxtasksperchild=
    None, context=None, *, max_attempts=3, manager=None): max_attempts is
    how many times a task runs when its workers die; manager (an mpmgr
    manager) is the daemon to use, else a private one that ends with the
    pool."""

    _wrap_exception = True
    Process = None

    def __init__(self, processes=None, initializer=None, initargs=(),
                 maxtasksperchild=None, context=None, *, max_attempts=3,
                 manager=None):
        self._pool = []
        self._state = None
        self._ctx = context or multiprocessing.get_context()
        if processes is None:
            processes = os.cpu_count() or 1
        if processes < 1:
            raise ValueError("Number of processes must be at least 1")
        if maxtasksperchild is not None:
            if not isinstance(maxtasksperchild, int) or \
                    maxtasksperchild <= 0:
                raise ValueError("maxtasksperchild must be a positive int "
                                 "or None")
        if initializer is not None and not callable(initializer):
            raise TypeError('initializer must be a callable')
        self._processes = processes
        own = None
        if manager is None:
            from .managers import Manager
            manager = own = Manager()
        try:
            options = {'max_attempts': max_attempts}
            obj = manager._create(_PoolObject, 'Pool', options)
            self._s = s = _Shared(obj, manager._client, self._ctx, processes,
                                  initializer, initargs, maxtasksperchild,
                                  manager, options)
            self._pool = s.workers
            self._cache = s.cache
            _repopulate(s)
        except BaseException:
            if own is not None:
                own.shutdown()
            raise
        self._threads = [
            threading.Thread(target=f, args=(s,), daemon=True,
                             name='mpmgr.Pool ' + f.__name__)
            for f in (_handle_workers, _handle_results, _handle_tasks)]
        for t in self._threads:
            t.start()
        self._state = RUN
        self._terminate = util.Finalize(
            self, _finalize, args=(s, self._threads, own), exitpriority=15)

    def __del__(self, _warn=warnings.warn, RUN=RUN):
        if getattr(self, '_state', None) == RUN:
            _warn(f"unclosed running multiprocessing pool {self!r}",
                  ResourceWarning, source=self)

    def __repr__(self):
        return (f'<{type(self).__module__}.{type(self).__qualname__} '
                f'state={self._state} pool_size={len(self._pool)}>')

    def __reduce__(self):
        raise NotImplementedError(
            'pool objects cannot be passed between processes or pickled')

    def _check_running(self):
        if self._state != RUN:
            raise ValueError("Pool not running")

    def _repopulate_pool(self):
        _repopulate(self._s)

    # --- tasks ---

    def apply(self, func, args=(), kwds={}):
        """func(*args, **kwds) in a worker; its result."""
        return self.apply_async(func, args, kwds).get()

    def apply_async(self, func, args=(), kwds={}, callback=None,
                    error_callback=None):
        self._check_running()
        result = ApplyResult(self, callback, error_callback)
        self._s.submit([(result._job, 0, func, args, kwds)])
        return result

    def map(self, func, iterable, chunksize=None):
        return self._map_async(func, iterable, mapstar, chunksize).get()

    def starmap(self, func, iterable, chunksize=None):
        return self._map_async(func, iterable, starmapstar, chunksize).get()

    def map_async(self, func, iterable, chunksize=None, callback=None,
                  error_callback=None):
        return self._map_async(func, iterable, mapstar, chunksize, callback,
                               error_callback)

    def starmap_async(self, func, iterable, chunksize=None, callback=None,
                      error_callback=None):
        return self._map_async(func, iterable, starmapstar, chunksize,
                               callback, error_callback)

    def _map_async(self, func, iterable, mapper, chunksize=None,
                   callback=None, error_callback=None):
        self._check_running()
        if not hasattr(iterable, '__len__'):
            iterable = list(iterable)
        if chunksize is None:
            chunksize, extra = divmod(len(iterable), self._processes * 4)
            if extra:
                chunksize += 1
        if len(iterable) == 0:
            chunksize = 0
        result = MapResult(self, chunksize, len(iterable), callback,
                           error_callback=error_callback)
        self._s.submit(_guarded(result._job, mapper,
                                _get_tasks(func, iterable, chunksize)))
        return result

    def imap(self, func, iterable, chunksize=1):
        return self._imap(IMapIterator, func, iterable, chunksize)

    def imap_unordered(self, func, iterable, chunksize=1):
        return self._imap(IMapUnorderedIterator, func, iterable, chunksize)

    def _imap(self, cls, func, iterable, chunksize):
        """imap and imap_unordered: the iterable read by the feeder
        thread, a job per item, or per chunk of chunksize items."""
        self._check_running()
        if chunksize < 1:
            raise ValueError("Chunksize must be 1+, not {0:n}".format(
                chunksize))
        result = cls(self)
        if chunksize == 1:
            tasks = _guarded(result._job, func, iterable)
        else:
            tasks = _guarded(result._job, mapstar,
                             _get_tasks(func, iterable, chunksize))
        self._s.tasks.put((tasks, result._set_length))
        if chunksize == 1:
            return result
        return (item for chunk in result for item in chunk)

    # --- the end ---

    def close(self):
        """No more tasks; the workers exit once every task has run."""
        if self._state == RUN:
            self._state = CLOSE
            self._s.state = CLOSE
            self._s.tasks.put(None)

    def terminate(self):
        """Stop the workers now; unfinished tasks are dropped."""
        self._state = TERMINATE
        self._terminate()

    def join(self):
        """Wait for the workers after close() or terminate()."""
        if self._state == RUN:
            raise ValueError("Pool is still running")
        if self._state not in (CLOSE, TERMINATE):
            raise ValueError("In unknown state")
        for t in self._threads:
            t.join()
        for w in list(self._pool):
            w.join()
        if self._state == CLOSE:
            self._terminate()

    def __enter__(self):
        self._check_running()
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        self.terminate()


def _guarded(result_job, func, iterable):
    """CPython's _guarded_task_generation: tasks (job, i, func, args, {})
    and, if the iterable raises, one that gives its exception."""
    try:
        i = -1
        for i, x in enumerate(iterable):
            yield (result_job, i, func, (x,), {})
    except Exception as e:
        yield (result_job, i + 1, _helper_reraises_exception, (e,), {})


def _get_tasks(func, it, size):
    it = iter(it)
    while True:
        x = tuple(itertools.islice(it, size))
        if not x:
            return
        yield (func, x)
