"""Lock and RLock (AcquirerProxy): CPython's argument rules and
exceptions, ownership per thread, and what happens when a holder exits."""

import multiprocessing
import threading
import time

import pytest

from conftest import poll


def other_thread(f, *args):
    """f(*args) in another thread (another connection): its result."""
    out = []

    def run():
        try:
            out.append((True, f(*args)))
        except BaseException as e:
            out.append((False, e))
    t = threading.Thread(target=run)
    t.start()
    t.join()
    ok, v = out[0]
    if not ok:
        raise v
    return v


def test_lock(manager):
    lock = manager.Lock()
    assert lock.acquire() is True
    assert lock.acquire(False) is False
    assert lock.acquire(True, 0.05) is False
    assert lock.acquire(timeout=0.05) is False
    assert other_thread(lock.acquire, False) is False
    assert lock.release() is None
    with pytest.raises(RuntimeError, match='release unlocked lock'):
        lock.release()


def test_lock_argument_rules(manager):
    lock = manager.Lock()
    with pytest.raises(ValueError, match="can't specify a timeout for a "
                       "non-blocking call"):
        lock.acquire(False, 1)
    with pytest.raises(ValueError, match='timeout value must be positive'):
        lock.acquire(True, -5)
    assert lock.acquire(True, -1) is True       # -1: forever
    lock.release()
    assert lock.acquire(False, -1) is True
    lock.release()


def test_lock_released_by_anyone(manager):
    lock = manager.Lock()
    lock.acquire()
    other_thread(lock.release)                  # Python's Lock allows it
    assert lock.acquire(False) is True
    lock.release()


def test_lock_context(manager):
    lock = manager.Lock()
    with lock as got:
        assert got is True
        assert other_thread(lock.acquire, False) is False
    assert other_thread(lock.acquire, False) is True


def test_blocking_acquire_is_woken(manager):
    lock = manager.Lock()
    lock.acquire()
    got = []
    t = threading.Thread(target=lambda: got.append(lock.acquire()))
    t.start()
    poll(lambda: lock._call('obj.info')['waiters'] == 1,
         what='the acquire to park')
    lock.release()
    t.join()
    assert got == [True]


def test_rlock(manager):
    r = manager.RLock()
    assert r.acquire() and r.acquire() and r.acquire()
    assert other_thread(r.acquire, False) is False
    with pytest.raises(RuntimeError, match='cannot release un-acquired '
                       'lock'):
        other_thread(r.release)
    for _ in range(3):
        assert r.release() is None
    with pytest.raises(RuntimeError, match='cannot release un-acquired '
                       'lock'):
        r.release()
    with pytest.raises(ValueError):
        r.acquire(False, 1)
    with r:
        with r:
            pass


def test_repr(manager):
    assert repr(manager.Lock()).startswith(
        "<AcquirerProxy object, typeid 'Lock' at 0x")
    assert repr(manager.RLock()).startswith(
        "<AcquirerProxy object, typeid 'RLock' at 0x")


def _hold(lock, ev):
    lock.acquire()
    ev.set()
    time.sleep(600)


@pytest.mark.parametrize('typeid', ['Lock', 'RLock'])
def test_holder_killed_releases(manager, typeid):
    lock = getattr(manager, typeid)()
    ev = manager.Event()
    p = multiprocessing.get_context('fork').Process(target=_hold,
                                                   args=(lock, ev))
    p.start()
    assert ev.wait(30)
    assert lock.acquire(False) is False
    p.kill()
    p.join()
    assert lock.acquire(True, 30) is True       # given back at once
    lock.release()


def _take(lock):
    lock.acquire()


def test_release_on_exit_false(manager):
    # CPython's meaning: a lock taken by a process that exits stays taken
    lock = manager.Lock(release_on_exit=False)
    p = multiprocessing.get_context('fork').Process(target=_take,
                                                   args=(lock,))
    p.start()
    p.join()
    assert p.exitcode == 0
    assert lock.acquire(False) is False
    lock.release()
    with pytest.raises(RuntimeError):
        lock.release()
