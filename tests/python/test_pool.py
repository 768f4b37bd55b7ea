"""mpmgr.Pool beyond CPython's own tests (cpython_suite.py runs those): a
worker killed by kill -9 mid-task (the task runs again and map returns;
CPython's Pool, given the same task, hangs), a task whose workers always
die (WorkerLostError after max_attempts), a task's exception with its
type and traceback text in get() and error_callback, initializer, worker
restarts for maxtasksperchild, m.Pool() on a manager's daemon, and the
pool object in the daemon as mpctl sees it."""

import multiprocessing
import os
import signal
import time

import pytest

import mpmgr
from conftest import poll, run_until


def _once_killed(x, mark):
    """x, except that the first call for x == 3 waits to be killed (its
    pid in mark): the task of a worker killed mid-task."""
    if x == 3:
        try:
            fd = os.open(mark, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return x * 10
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
        time.sleep(600)
    return x * 10


def _self_killed(x, mark):
    """The first call for x == 3 kills its own worker at once."""
    if x == 3:
        try:
            os.close(os.open(mark, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            os.kill(os.getpid(), signal.SIGKILL)
        except FileExistsError:
            pass
    return x * 10


def _die():
    os.kill(os.getpid(), signal.SIGKILL)


def _raise(msg):
    raise KeyError(msg)  # the line the traceback shows


def _read_pid(path):
    try:
        with open(path) as f:
            return int(f.read() or 0)
    except FileNotFoundError:
        return 0


def test_worker_killed_mid_task(tmp_path):
    mark = str(tmp_path / 'killed')
    with mpmgr.Pool(2) as p:
        r = p.starmap_async(_once_killed, [(i, mark) for i in range(8)],
                            chunksize=1)
        pid = poll(lambda: _read_pid(mark), what='the task to start')
        assert pid in [w.pid for w in p._pool]
        os.kill(pid, signal.SIGKILL)
        assert r.get(timeout=60) == [i * 10 for i in range(8)]
        # a new worker took the dead one's place
        poll(lambda: len(p._pool) == 2 and pid not in
             [w.pid for w in p._pool], what='a new worker')


def test_cpython_hangs_where_mpmgr_does_not(tmp_path):
    """The same map: a worker of multiprocessing.Pool dies mid-task and the
    map never returns (its get times out); mpmgr.Pool's returns."""
    args = [(i, str(tmp_path / 'cpython')) for i in range(8)]
    cp = multiprocessing.get_context('fork').Pool(2)
    try:
        r = cp.starmap_async(_self_killed, args, chunksize=1)
        with pytest.raises(multiprocessing.TimeoutError):
            r.get(timeout=3)
    finally:
        cp.terminate()
        cp.join()
    args = [(i, str(tmp_path / 'mpmgr')) for i in range(8)]
    with mpmgr.Pool(2) as p:
        assert p.starmap(_self_killed, args, chunksize=1) == \
            [i * 10 for i in range(8)]


def test_workers_always_die():
    with mpmgr.Pool(1, max_attempts=2) as p:
        r = p.apply_async(_die)
        with pytest.raises(mpmgr.WorkerLostError,
                           match='died .* on attempt 2 of 2'):
            r.get(timeout=60)
        assert p.apply(abs, (-3,)) == 3


def test_exception_type_and_traceback():
    seen = []
    with mpmgr.Pool(1) as p:
        r = p.apply_async(_raise, ('k',), error_callback=seen.append)
        with pytest.raises(KeyError) as ei:
            r.get(timeout=60)
        assert "_raise\n    raise KeyError(msg)  # the line the traceback " \
            "shows" in ei.value.__cause__.tb
        assert not r.successful()
        assert len(seen) == 1 and type(seen[0]) is KeyError
        assert seen[0].args == ('k',)


_INIT = None


def _init(v):
    global _INIT
    _INIT = v


def _get_init(_):
    return _INIT, os.getpid()


def test_initializer_and_maxtasksperchild():
    with mpmgr.Pool(2, initializer=_init, initargs=('ready',),
                    maxtasksperchild=2) as p:
        out = [p.apply(_get_init, (i,)) for i in range(8)]
        assert {v for v, _ in out} == {'ready'}
        # one worker runs two tasks at most
        pids = [pid for _, pid in out]
        assert all(pids.count(pid) <= 2 for pid in pids)


def test_manager_pool(manager):
    before = len(manager._own_objects())
    with manager.Pool(3) as p:
        assert p.map(abs, range(-5, 5), chunksize=3) == \
            [abs(i) for i in range(-5, 5)]
        assert len(manager._own_objects()) == before + 1
        assert list(p.imap(abs, [-1, -2], 1)) == [1, 2]
    with pytest.raises(multiprocessing.managers.RemoteError):
        manager.Pool(0)


def test_callbacks_run_in_the_parent():
    pids = []
    with mpmgr.Pool(2) as p:
        p.map_async(_get_init, range(4), callback=lambda v: pids.append(
            os.getpid())).wait(60)
    assert pids == [os.getpid()]


def test_close_join_and_state():
    p = mpmgr.Pool(2)
    r = p.map_async(abs, range(-50, 0))
    with pytest.raises(ValueError):
        p.join()
    p.close()
    with pytest.raises(ValueError):
        p.apply_async(abs, (1,))
    p.join()
    assert r.ready() and r.get() == list(range(50, 0, -1))
    assert all(w.exitcode == 0 for w in p._pool)


def test_terminate_stops_busy_workers():
    p = mpmgr.Pool(2)
    p.map_async(time.sleep, [60] * 4, chunksize=1)
    poll(lambda: p._s.obj._call('pool.status')['running'] == 2,
         what='two running tasks')
    t = time.monotonic()
    p.terminate()
    p.join()
    assert time.monotonic() - t < 30
    assert all(w.exitcode is not None for w in p._pool)


def test_pool_object_deleted_under_the_pool(tmp_path):
    # `mpctl rm` of the Pool's object in the daemon (or anything that
    # ends it but a restart): the task it held fails instead of hanging,
    # and the Pool goes on with a new object
    flag = str(tmp_path / 'go')
    with mpmgr.Pool(2) as p:
        running = p.apply_async(run_until, (flag, 'late'))
        poll(lambda: os.path.exists(flag + '.started'), what='the task')
        p._s.obj._call('obj.delete')
        with pytest.raises(mpmgr.JobLostError):
            running.get(60)
        assert p.map(abs, range(-20, 0)) == list(range(20, 0, -1))
        open(flag, 'w').close()
