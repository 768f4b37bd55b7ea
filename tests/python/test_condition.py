"""ConditionProxy: acquire/release, wait, notify, notify_all, wait_for,
CPython's exceptions, a condition on a given lock."""

import threading

import pytest

from conftest import poll


def waiters(c):
    return c._call('obj.info')['size']


def test_wait_notify(manager):
    c = manager.Condition()
    woken = []

    def waiter():
        with c:
            woken.append(c.wait(30))

    ts = [threading.Thread(target=waiter) for _ in range(3)]
    for t in ts:
        t.start()
    poll(lambda: waiters(c) == 3, what='three waiters')
    with c:
        c.notify()
    poll(lambda: len(woken) == 1, what='one woken')
    with c:
        c.notify(n=5)
    for t in ts:
        t.join()
    assert woken == [True] * 3


def test_notify_all(manager):
    c = manager.Condition()
    woken = []
    ts = [threading.Thread(target=lambda: (c.acquire(),
                                           woken.append(c.wait()),
                                           c.release()))
          for _ in range(2)]
    for t in ts:
        t.start()
    poll(lambda: waiters(c) == 2, what='two waiters')
    with c:
        c.notify_all()
    for t in ts:
        t.join()
    assert woken == [True, True]


def test_timeout_and_rules(manager):
    c = manager.Condition()
    with pytest.raises(RuntimeError, match='cannot wait on un-acquired '
                       'lock'):
        c.wait(0.01)
    with pytest.raises(RuntimeError, match='cannot notify on un-acquired '
                       'lock'):
        c.notify()
    with pytest.raises(RuntimeError, match='cannot notify on un-acquired '
                       'lock'):
        c.notify_all()
    with pytest.raises(RuntimeError, match='cannot release un-acquired '
                       'lock'):
        c.release()
    with c:
        assert c.wait(0) is False
        assert c.wait(0.05) is False
        assert c.wait(-1) is False
        with c:                                 # its own lock is an RLock
            pass
    assert repr(c).startswith("<ConditionProxy object, typeid 'Condition'")


def test_wait_for(manager):
    c = manager.Condition()
    state = manager.Value('i', 0)

    def bump():
        for _ in range(3):
            with c:
                state.value += 1
                c.notify()

    with c:
        t = threading.Thread(target=bump)
        t.start()
        assert c.wait_for(lambda: state.value == 3, 30) is True
    t.join()
    with c:
        assert c.wait_for(lambda: state.value == 4, 0.05) is False


def test_on_a_given_lock(manager):
    lock = manager.Lock()
    c = manager.Condition(lock)
    with c:
        assert lock.acquire(False) is False
    assert lock.acquire(False) is True
    lock.release()
    with pytest.raises(TypeError):
        manager.Condition(manager.Semaphore())
