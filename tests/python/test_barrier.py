"""BarrierProxy: wait indexes, abort, reset, timeouts, the action."""

import threading

import pytest

from conftest import poll


def run_parties(n, f):
    out = [None] * n
    errs = []

    def run(i):
        try:
            out[i] = f()
        except BaseException as e:
            errs.append(e)
    ts = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return out, errs


def test_wait_indexes(manager):
    b = manager.Barrier(3)
    assert (b.parties, b.n_waiting, b.broken) == (3, 0, False)
    out, errs = run_parties(3, b.wait)
    assert not errs and sorted(out) == [0, 1, 2]
    out, errs = run_parties(3, lambda: b.wait(30))
    assert sorted(out) == [0, 1, 2]
    assert repr(b).startswith("<BarrierProxy object, typeid 'Barrier'")


def test_timeout_breaks(manager):
    b = manager.Barrier(2)
    with pytest.raises(threading.BrokenBarrierError):
        b.wait(0.05)
    assert b.broken is True
    with pytest.raises(threading.BrokenBarrierError):
        b.wait()
    b.reset()
    assert b.broken is False
    with pytest.raises(threading.BrokenBarrierError):
        b.wait(-1)


def test_default_timeout(manager):
    b = manager.Barrier(2, timeout=0.05)
    with pytest.raises(threading.BrokenBarrierError):
        b.wait()


def test_abort_wakes_waiters(manager):
    b = manager.Barrier(3)
    errs = []

    def waiter():
        try:
            b.wait()
        except threading.BrokenBarrierError as e:
            errs.append(e)
    t = threading.Thread(target=waiter)
    t.start()
    poll(lambda: b.n_waiting == 1, what='a waiter')
    b.abort()
    t.join()
    assert len(errs) == 1 and b.broken


def test_single(manager):
    b = manager.Barrier(1)
    assert b.wait() == 0 and b.wait() == 0


def test_action_runs_before_anyone_leaves(manager):
    results = manager.list()
    seen = manager.list()
    b = manager.Barrier(3, action=lambda: results.append(True))

    def party():
        b.wait()
        seen.append(len(results))
    out, errs = run_parties(3, party)
    assert not errs
    assert results[:] == [True] and seen[:] == [1, 1, 1]


def test_action_raising_breaks(manager):
    def boom():
        raise RuntimeError('boom')
    b = manager.Barrier(2, action=boom)
    out, errs = run_parties(2, b.wait)
    assert sorted(type(e).__name__ for e in errs) == \
        ['BrokenBarrierError', 'RuntimeError']
    assert b.broken
