"""Semaphore and BoundedSemaphore: CPython's argument rules, values,
permits given back by a process that exits, release_on_exit=False."""

import multiprocessing
import threading

import pytest

from conftest import poll


def test_semaphore(manager):
    s = manager.Semaphore(2)
    assert s.get_value() == 2
    assert s.acquire() and s.acquire()
    assert s.acquire(False) is False
    assert s.acquire(True, 0.05) is False
    assert s.acquire(timeout=0) is False
    assert s.acquire(True, -1) is False       # negative: no wait
    assert s.release() is None
    assert s.release() is None
    assert s.release() is None                # unbounded: past the start
    assert s.get_value() == 3
    with pytest.raises(ValueError, match="can't specify timeout for "
                       "non-blocking acquire"):
        s.acquire(False, 1)
    with s:
        assert s.get_value() == 2


def test_default_and_zero(manager):
    assert manager.Semaphore().get_value() == 1
    z = manager.Semaphore(0)
    assert z.acquire(False) is False
    with pytest.raises(ValueError):
        manager.Semaphore(-1)


def test_bounded(manager):
    b = manager.BoundedSemaphore(2)
    b.acquire()
    b.release()
    with pytest.raises(ValueError, match='Semaphore released too many '
                       'times'):
        b.release()
    assert b.get_value() == 2
    assert repr(b).startswith("<AcquirerProxy object, typeid "
                              "'BoundedSemaphore'")


def test_release_wakes_waiter(manager):
    s = manager.Semaphore(0)
    got = []
    t = threading.Thread(target=lambda: got.append(s.acquire()))
    t.start()
    poll(lambda: s._call('obj.info')['waiters'] == 1, what='the waiter')
    s.release()
    t.join()
    assert got == [True]


def _take(s):
    s.acquire()


def test_permit_of_exiting_process_comes_back(manager):
    s = manager.Semaphore(1)
    p = multiprocessing.get_context('fork').Process(target=_take, args=(s,))
    p.start()
    p.join()
    assert s.get_value() == 1                  # mpmgr's default


def test_release_on_exit_false(manager):
    s = manager.Semaphore(1, release_on_exit=False)
    p = multiprocessing.get_context('fork').Process(target=_take, args=(s,))
    p.start()
    p.join()
    assert s.get_value() == 0                  # CPython's meaning
    s.release()
    assert s.get_value() == 1
