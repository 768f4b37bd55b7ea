"""QueueProxy (Queue and JoinableQueue): every method, CPython's timeout
conventions and exceptions, the batch verbs."""

import queue
import threading
import time

import pytest

from conftest import poll


@pytest.fixture(params=['Queue', 'JoinableQueue'])
def q(request, manager):
    return getattr(manager, request.param)()


def test_put_get_fifo(q):
    for i in range(5):
        q.put(i)
    assert q.qsize() == 5 and not q.empty() and not q.full()
    assert [q.get() for _ in range(5)] == list(range(5))
    assert q.empty()


def test_forms(q):
    q.put(1)
    q.put(2, True)
    q.put(3, True, None)
    q.put(4, False)
    q.put(5, timeout=1)
    q.put_nowait(6)
    assert q.get(True, None) == 1
    assert q.get(True) == 2
    assert q.get(timeout=1) == 3
    assert q.get(False) == 4
    assert q.get(block=False, timeout=5) == 5
    assert q.get_nowait() == 6


def test_empty(q):
    for f in (lambda: q.get(False), lambda: q.get_nowait(),
              lambda: q.get(True, 0.05), lambda: q.get(timeout=0)):
        with pytest.raises(queue.Empty) as e:
            f()
        assert type(e.value) is queue.Empty
    with pytest.raises(ValueError, match="'timeout' must be a non-negative "
                       "number"):
        q.get(True, -1)


def test_bounded(manager):
    q = manager.Queue(2)
    q.put(1)
    q.put(2)
    assert q.full() and q.qsize() == 2
    for f in (lambda: q.put(3, False), lambda: q.put_nowait(3),
              lambda: q.put(3, True, 0.05)):
        with pytest.raises(queue.Full) as e:
            f()
        assert type(e.value) is queue.Full
    with pytest.raises(ValueError):
        q.put(3, True, -1)
    assert manager.Queue(-1).full() is False       # negative: unbounded


def test_blocking_get_is_woken(manager):
    q = manager.Queue()
    got = []
    t = threading.Thread(target=lambda: got.append(q.get()))
    t.start()
    poll(lambda: manager._client and q._call('obj.info')['waiters'] == 1,
         what='the getter to park')
    q.put('x')
    t.join()
    assert got == ['x']


def test_blocking_put_is_woken(manager):
    q = manager.Queue(1)
    q.put(0)
    t = threading.Thread(target=q.put, args=(1,))
    t.start()
    poll(lambda: q._call('obj.info')['waiters'] == 1,
         what='the putter to park')
    assert q.get() == 0
    t.join()
    assert q.get() == 1


def test_task_done_join(manager):
    q = manager.JoinableQueue()
    with pytest.raises(ValueError, match=r'task_done\(\) called too many '
                       'times'):
        q.task_done()
    for i in range(3):
        q.put(i)
    done = []

    def worker():
        while True:
            item = q.get()
            if item is None:
                q.task_done()
                return
            done.append(item)
            q.task_done()

    t = threading.Thread(target=worker)
    t.start()
    q.join()
    assert sorted(done) == [0, 1, 2]
    q.put(None)
    t.join()
    q.join()


def test_put_many_get_many(manager):
    q = manager.Queue(4)
    q.put_many([1, 2, 3])
    assert q.qsize() == 3
    with pytest.raises(queue.Full):
        q.put_many([4, 5], False)          # all or none
    assert q.qsize() == 3
    with pytest.raises(ValueError):
        q.put_many([1] * 5)                 # more than maxsize: never fits
    assert q.get_many(2) == [1, 2]
    assert q.get_many(10) == [3]
    with pytest.raises(queue.Empty):
        q.get_many(3, False)
    with pytest.raises(queue.Empty):
        q.get_many(3, timeout=0.05)
    q.put_many(x for x in 'ab')
    assert q.get_many(2, timeout=1) == ['a', 'b']
    q.put_many([])


def test_timeout_waits(manager):
    q = manager.Queue()
    t0 = time.monotonic()
    with pytest.raises(queue.Empty):
        q.get(timeout=0.2)
    assert time.monotonic() - t0 >= 0.15


def test_repr(manager):
    assert repr(manager.Queue()).startswith(
        "<AutoProxy[Queue] object, typeid 'Queue' at 0x")
    assert repr(manager.JoinableQueue()).startswith(
        "<AutoProxy[JoinableQueue] object, typeid 'JoinableQueue' at 0x")


def test_values(manager):
    q = manager.Queue()
    vals = [None, (1, (2,)), {'a': [1]}, b'\0', 2 ** 65, {1, 2}]
    q.put_many(vals)
    assert q.get_many(10) == vals


# --- shutdown (Python 3.13's Queue.shutdown) ---------------------------------

def test_shutdown_exception_class():
    import sys
    import mpmgr
    if sys.version_info >= (3, 13):
        assert mpmgr.ShutDown is queue.ShutDown
    else:
        assert issubclass(mpmgr.ShutDown, Exception)
        assert not issubclass(mpmgr.ShutDown, mpmgr.Error)


def test_shutdown_drains_then_refuses(q):
    import mpmgr
    q.put_many([1, 2])
    q.shutdown()
    for put in (lambda: q.put(3), lambda: q.put(3, False),
                lambda: q.put_many([3])):
        with pytest.raises(mpmgr.ShutDown):
            put()
    assert q.get() == 1 and q.get_many(5) == [2]
    with pytest.raises(mpmgr.ShutDown):
        q.get()
    with pytest.raises(mpmgr.ShutDown):
        q.get_nowait()
    q.task_done()
    q.task_done()
    q.join()
    q.shutdown(immediate=True)      # again: allowed


def _parked(q, n):
    poll(lambda: q._call('obj.info')['waiters'] == n,
         what='%d parked' % n)


def test_shutdown_releases_parked_getters(q):
    import mpmgr
    out = []

    def get():
        try:
            q.get()
        except mpmgr.ShutDown:
            out.append('shut')
    ts = [threading.Thread(target=get) for _ in range(2)]
    for t in ts:
        t.start()
    _parked(q, 2)
    q.shutdown()
    for t in ts:
        t.join(30)
    assert out == ['shut', 'shut']


def test_shutdown_immediate_releases_putters_and_joiners(manager):
    import mpmgr
    q = manager.JoinableQueue(1)
    q.put('a')
    out = []

    def put():
        try:
            q.put('b')
        except mpmgr.ShutDown:
            out.append('put shut')

    def join():
        q.join()
        out.append('joined')
    tp = threading.Thread(target=put)
    tp.start()
    _parked(q, 1)
    tj = threading.Thread(target=join)
    tj.start()
    _parked(q, 2)
    q.shutdown(immediate=True)
    tp.join(30)
    tj.join(30)
    assert sorted(out) == ['joined', 'put shut']
    assert q.qsize() == 0
    with pytest.raises(mpmgr.ShutDown):
        q.get()
