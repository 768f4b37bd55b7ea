"""Proxies in other processes and threads: the three start methods, Pool
workers, through a Queue, a raw os.fork(), many threads at once."""

import multiprocessing
import os
import threading

import pytest

import mpmgr


def child_work(objs):
    d, l, q, lock, rlock, sem, ev, cond, bar, val, arr, ns, s = objs
    d['pid'] = os.getpid()
    d['n'] -= 1
    l.append('child')
    q.put(('from', 'child'))
    with lock:
        d['lock'] = True
    with rlock:
        with rlock:
            pass
    with sem:
        pass
    ev.set()
    with cond:
        cond.notify_all()
    assert bar.parties == 2
    val.value += 5
    arr[0] = 42
    ns.x = 'set by child'
    s.add('child')
    d['nested'] = d['inner']['k']
    d['done'] = True


@pytest.mark.parametrize('method', ['fork', 'spawn', 'forkserver'])
def test_start_methods(manager, method):
    m = manager
    objs = (m.dict({'n': 10, 'inner': m.dict(k='v')}), m.list(), m.Queue(),
            m.Lock(), m.RLock(), m.Semaphore(1), m.Event(), m.Condition(),
            m.Barrier(2), m.Value('i', 1), m.Array('i', [0, 0]),
            m.Namespace(), m.set())
    ctx = multiprocessing.get_context(method)
    p = ctx.Process(target=child_work, args=(objs,))
    p.start()
    p.join(60)
    assert p.exitcode == 0
    d, l, q, lock, rlock, sem, ev, cond, bar, val, arr, ns, s = objs
    assert d['done'] and d['pid'] == p.pid and d['n'] == 9
    assert d['nested'] == 'v'
    assert l[:] == ['child'] and q.get(False) == ('from', 'child')
    assert ev.is_set() and val.value == 6 and arr[0] == 42
    assert ns.x == 'set by child' and 'child' in s
    assert lock.acquire(False) and rlock.acquire(False) and sem.acquire(False)


def pool_put(args):
    q, i = args
    q.put(i * i)
    return os.getpid()


def via_queue(q, out):
    d = q.get()                 # a proxy that came through the queue
    d['seen'] = os.getpid()
    out.put('ok')


@pytest.mark.parametrize('method', ['fork', 'spawn'])
def test_pool_workers_and_queue(manager, method):
    ctx = multiprocessing.get_context(method)
    q = manager.Queue()
    with ctx.Pool(2) as pool:
        pids = pool.map(pool_put, [(q, i) for i in range(6)])
    assert os.getpid() not in pids
    assert sorted(q.get_many(6)) == [0, 1, 4, 9, 16, 25]
    d = manager.dict()
    out = manager.Queue()
    q.put(d)
    p = ctx.Process(target=via_queue, args=(q, out))
    p.start()
    assert out.get(timeout=60) == 'ok'
    p.join()
    assert d['seen'] == p.pid


def test_raw_fork(manager):
    d = manager.dict()
    lock = manager.Lock()
    d['parent'] = os.getpid()              # the parent's connection is up
    lock.acquire()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.close(r)
            # the child's own connection: the parent's lock is not its own
            assert lock.acquire(False) is False
            d['child'] = os.getpid()
            os.write(w, b'x')
            code = 0
        finally:
            os._exit(code)
    os.close(w)
    assert os.read(r, 1) == b'x'
    os.close(r)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert d['child'] == pid and d['parent'] == os.getpid()
    lock.release()                  # still ours after the child
    d['after'] = 1                  # the parent's stream is intact
    assert d['after'] == 1


def test_threads(manager):
    d = manager.dict()
    q = manager.Queue()
    lock = manager.Lock()
    errors = []

    def worker(i):
        try:
            for _ in range(200):
                d.incr('n')
                d[i] = d.get(i, 0) + 1
            with lock:
                d['in_lock'] = d.get('in_lock', 0) + 1
            q.put(i)
        except BaseException as e:
            errors.append(e)

    ts = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors
    assert d['n'] == 1600 and d['in_lock'] == 8
    assert all(d[i] == 200 for i in range(8))
    assert sorted(q.get_many(8)) == list(range(8))


def test_thread_exit_releases(manager):
    lock = manager.Lock()
    t = threading.Thread(target=lock.acquire)
    t.start()
    t.join()
    assert lock.acquire(True, 30) is True


def test_proxy_of_another_manager_is_pickled(manager):
    with mpmgr.Manager() as other:
        theirs = other.dict(a=1)
        mine = manager.list()
        mine.append(theirs)         # another daemon: travels pickled
        got = mine[0]
        assert isinstance(got, mpmgr.DictProxy)
        assert got['a'] == 1 and got._client.address == other.address
