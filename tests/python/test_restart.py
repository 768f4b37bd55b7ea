"""Restarts of the daemon under live proxies, fencing tokens and leases.

A daemon with --data-dir (the ``journaled`` fixture) is stopped and
started again on the same socket while proxies exist: the next call of
each proxy connects again by itself. A call in flight when the daemon
died raises InFlightError, and a write is never sent again (a read is,
once). Holds do not survive a restart: a proxy knows it lost its lock.
Fencing tokens only grow, across acquires and restarts; a hold with a
ttl ends by itself unless extended.
"""

import json
import threading

import pytest

import mpmgr
from conftest import DEADLINE, poll, run_python, run_until


def attach(d):
    return mpmgr.Manager(address=d.socket, authkey=d.key)


def elsewhere(d, code):
    """code run by another process, m attached to d."""
    return run_python(
        'import mpmgr, sys\n'
        'm = mpmgr.Manager(address=sys.argv[1], '
        'authkey=sys.argv[2].encode())\n' + code, d.socket, d.key.decode())


def waiting(d, name):
    """How many callers wait on name in the daemon."""
    r = d.mpctl('info', name, check=False)
    return json.loads(r.stdout).get('waiters', 0) if r.returncode == 0 else 0


class Call(threading.Thread):
    """fn() in a thread of its own: its result or its exception."""

    def __init__(self, fn):
        super().__init__(daemon=True)
        self.fn = fn
        self.result = self.error = None
        self.start()

    def run(self):
        try:
            self.result = self.fn()
        except BaseException as e:
            self.error = e

    def outcome(self):
        self.join(DEADLINE)
        assert not self.is_alive(), 'the call did not end'
        return self.result, self.error


@pytest.mark.parametrize('kill', [False, True], ids=['term', 'kill'])
def test_proxies_work_after_restart(journaled, kill):
    m = attach(journaled)
    d = m.named.dict('d')
    lst = m.named.list('l')
    q = m.named.Queue('q')
    v = m.named.Value('v', 'i', 0)
    d['a'] = 1
    lst.extend([1, 2])
    q.put('x')
    v.value = 7
    journaled.restart(kill=kill)
    # no reconnect by the user: the next call of each proxy works
    assert d['a'] == 1
    assert lst[:] == [1, 2]
    assert q.get(timeout=DEADLINE) == 'x'
    assert v.value == 7
    d['b'] = 2
    lst.append(3)
    q.put('y')
    v.value += 1
    journaled.restart(kill=kill)
    assert dict(d) == {'a': 1, 'b': 2}
    assert lst[:] == [1, 2, 3]
    assert q.get(timeout=DEADLINE) == 'y'
    assert v.value == 8
    # a new anonymous object through the manager's session, too
    assert m.dict(k=1)['k'] == 1


def test_other_threads_reconnect(journaled):
    m = attach(journaled)
    d = m.named.dict('d')
    d['a'] = 1
    journaled.restart()
    assert Call(lambda: d['a']).outcome() == (1, None)


def test_in_flight_write_raises_and_is_not_retried(journaled):
    m = attach(journaled)
    q = m.named.Queue('q', maxsize=1)
    q.put('first')
    # a put that waits for room: a write in flight when the daemon dies
    put = Call(lambda: q.put('second', timeout=DEADLINE))
    poll(lambda: waiting(journaled, 'q') == 1, what='the put to wait')
    journaled.restart(kill=True)
    _, err = put.outcome()
    assert isinstance(err, mpmgr.InFlightError), repr(err)
    assert isinstance(err, ConnectionError)
    assert 'may or may not have run' in str(err)
    # not sent again: the queue holds the one item put before
    assert q.qsize() == 1
    assert q.get(timeout=DEADLINE) == 'first'
    assert q.empty()


def test_in_flight_get_raises(journaled):
    m = attach(journaled)
    q = m.named.Queue('q')
    get = Call(lambda: q.get(timeout=DEADLINE))
    poll(lambda: waiting(journaled, 'q') == 1, what='the get to wait')
    journaled.restart(kill=True)
    _, err = get.outcome()
    assert isinstance(err, mpmgr.InFlightError), repr(err)
    q.put(1)
    assert q.get(timeout=DEADLINE) == 1


def test_in_flight_read_is_sent_again(journaled):
    m = attach(journaled)
    e = m.named.Event('e')
    # event.wait only reads: lost with the daemon, it waits again on the
    # new connection
    wait = Call(lambda: e.wait(DEADLINE))
    poll(lambda: waiting(journaled, 'e') == 1, what='the wait')
    journaled.restart(kill=True)
    poll(lambda: waiting(journaled, 'e') == 1, what='the wait again')
    e.set()
    assert wait.outcome() == (True, None)


def test_pipeline_lost_calls_raise(journaled):
    m = attach(journaled)
    d = m.named.dict('d')
    d['a'] = 1
    journaled.restart()
    # a pipeline after the restart runs on the new connection
    assert d._many([('dict.get', ('a',)), ('dict.len', ())]) == [1, 1]


def tokens(lock, n):
    out = []
    for _ in range(n):
        assert lock.acquire() is True
        out.append(lock.fence)
        lock.release()
        assert lock.fence is None
    return out


def test_fence_grows_across_acquires_and_restarts(journaled):
    m = attach(journaled)
    lock = m.named.Lock('l')
    rlock = m.named.RLock('r')
    sem = m.named.Semaphore('s', 2)
    assert lock.fence is None
    seen = tokens(lock, 3) + tokens(rlock, 2) + tokens(sem, 2)
    journaled.restart(kill=True)
    seen += tokens(lock, 2) + tokens(sem, 1)
    journaled.restart()
    seen += tokens(rlock, 2)
    assert all(isinstance(t, int) for t in seen)
    assert seen == sorted(seen) and len(set(seen)) == len(seen)


def test_rlock_levels_keep_their_token(journaled):
    m = attach(journaled)
    r = m.named.RLock('r')
    assert r.acquire()
    first = r.fence
    assert r.acquire(timeout=1)
    assert r.fence == first
    r.release()
    assert r.fence == first             # one level still held
    r.release()
    assert r.fence is None


def test_each_threads_hold_its_own(journaled):
    # threads share the proxy, each its hold: two permits held at once
    m = attach(journaled)
    sem = m.named.Semaphore('s', 2)
    mine = threading.Event()
    done = threading.Event()

    def other():
        assert sem.acquire()
        token = sem.fence
        mine.set()
        done.wait(DEADLINE)
        assert sem.fence == token
        sem.release()
        return token
    t = Call(other)
    assert mine.wait(DEADLINE)
    assert sem.acquire()
    assert sem.fence is not None
    done.set()
    token, err = t.outcome()
    assert err is None and token < sem.fence
    sem.release()
    assert sem.fence is None


def test_hold_lost_in_a_restart(journaled):
    m = attach(journaled)
    lock = m.named.Lock('l')
    sem = m.named.BoundedSemaphore('s', 1)
    assert lock.acquire(False)
    assert sem.acquire(False)
    journaled.restart(kill=True)
    # holds do not survive: the proxy knows
    assert lock.fence is None and sem.fence is None
    r = elsewhere(
        journaled,
        'l = m.named.Lock("l")\n'
        'assert l.acquire(timeout=30)\n'
        'assert m.named.BoundedSemaphore("s", 1).acquire(timeout=30)\n'
        'print("ok")\n')
    assert r.stdout == 'ok\n', r.stderr
    with pytest.raises(mpmgr.NotHeldError, match='restarted'):
        lock.release()
    with pytest.raises(RuntimeError):  # NotHeldError is one
        sem.release()
    # once told, the proxy is as any: a free lock's release is CPython's
    with pytest.raises(RuntimeError, match='release unlocked lock'):
        lock.release()
    assert lock.acquire(timeout=DEADLINE)
    assert lock.fence is not None
    lock.release()


def test_ttl_ends_the_hold(journaled):
    m = attach(journaled)
    lock = m.named.Lock('l')
    assert lock.acquire(ttl=0.2)
    mine = lock.fence
    # another process gets it once the lease ended
    r = elsewhere(
        journaled,
        'l = m.named.Lock("l")\n'
        'print(l.acquire(timeout=30), l.fence)\n')
    ok, token = r.stdout.split()
    assert ok == 'True', r.stderr
    assert int(token) > mine
    # ours is gone: release says so instead of freeing nothing quietly
    with pytest.raises(mpmgr.NotHeldError, match='lease'):
        lock.release()
    with pytest.raises(mpmgr.NotHeldError):
        lock.extend(1)


def test_extend_keeps_the_hold(journaled):
    m = attach(journaled)
    lock = m.named.Lock('l')
    sem = m.named.Semaphore('s', 1)
    assert lock.acquire(True, None, ttl=5)
    assert sem.acquire(True, ttl=5)
    lock.extend(120)
    sem.extend(120)
    r = elsewhere(
        journaled,
        'print(m.named.Lock("l").acquire(timeout=6),\n'
        '      m.named.Semaphore("s", 1).acquire(timeout=0.5))\n')
    assert r.stdout == 'False False\n', r.stderr
    lock.release()
    sem.release()
    assert lock.fence is None


def test_ttl_checks(journaled):
    m = attach(journaled)
    lock = m.named.Lock('plain')
    with pytest.raises(RuntimeError):
        lock.extend(1)                  # nothing held
    kept = m.named.Semaphore('kept', 1, release_on_exit=False)
    with pytest.raises(ValueError):     # BADARG: a lease needs its holder
        kept.acquire(ttl=1)
    # CPython's signatures unchanged
    assert lock.acquire(False) is True
    assert lock.acquire(True, 0.01) is False
    lock.release()


def test_pipes_end_with_a_restart(journaled):
    m = attach(journaled)
    a, b = m.Pipe()
    a.send(1)
    assert b.recv() == 1
    journaled.restart()
    # every pipe end closed: as when the other end's process died
    with pytest.raises(EOFError):
        b.recv()
    with pytest.raises((EOFError, OSError)):
        for _ in range(3):          # a send reports a closed pipe late
            a.send(2)
    # the manager's proxies came back all the same
    assert m.named.dict('d').get('x') is None


def test_client_that_does_not_reconnect(journaled):
    # a pool worker's: the lost connection says so, then a new one is made
    from mpmgr import _mpmgr, proxies
    c = _mpmgr.Client(journaled.socket, key=journaled.key, reconnect=False)
    d = proxies.DictProxy(c, 'd')
    d['a'] = 1
    journaled.restart()
    with pytest.raises(mpmgr.ConnectionLostError):
        d['a']
    assert d['a'] == 1


# --- barrier, condition, ack queue, pool ---------------------------------------

@pytest.mark.parametrize('kill', [False, True], ids=['term', 'kill'])
def test_barrier_waiters_broken_by_restart(journaled, kill):
    import threading as th
    m = attach(journaled)
    b = m.named.Barrier('b', 3)
    waits = [Call(b.wait) for _ in range(2)]
    poll(lambda: waiting(journaled, 'b') == 2, what='two parties to wait')
    journaled.restart(kill=kill)
    # a restart resets the barrier, and a reset breaks the cycle its
    # waiters were in: never sent again to wait in a cycle of after
    for w in waits:
        _, err = w.outcome()
        assert isinstance(err, th.BrokenBarrierError), repr(err)
        # kill: the connection lost; term: the daemon answered SHUTDOWN
        assert isinstance(err.__cause__, mpmgr.InFlightError if kill else
                          mpmgr.ShutdownError), repr(err.__cause__)
        assert 'restarted' in str(err)
    assert b.n_waiting == 0 and not b.broken
    # a fresh round of 3 parties passes
    waits = [Call(b.wait) for _ in range(3)]
    assert sorted(w.outcome()[0] for w in waits) == [0, 1, 2]


@pytest.mark.parametrize('kill', [False, True], ids=['term', 'kill'])
def test_condition_waiter_and_lock_after_restart(journaled, kill):
    m = attach(journaled)
    c = m.named.Condition('c')
    restarted = threading.Event()
    seen = {}

    def waiter():
        assert c.acquire()
        try:
            c.wait(DEADLINE)
        except Exception as e:
            seen['wait'] = e
        restarted.wait(DEADLINE)
        try:
            c.release()
        except Exception as e:
            seen['release'] = e
    def with_waiter():
        with c:
            c.wait(DEADLINE)
    w = Call(waiter)
    poll(lambda: waiting(journaled, 'c') == 1, what='the wait')
    w2 = Call(with_waiter)
    poll(lambda: waiting(journaled, 'c') == 2, what='the second wait')
    journaled.restart(kill=kill)
    restarted.set()
    assert w.outcome() == (None, None)
    # with c: c.wait(): the release of the with says the hold was lost,
    # its context the wait's error (under SIGTERM the release may race
    # the stopping daemon: InFlightError or ConnectError then)
    _, err = w2.outcome()
    if kill:
        assert isinstance(err, mpmgr.NotHeldError), repr(err)
        assert isinstance(err.__context__, mpmgr.InFlightError)
    else:
        assert isinstance(err, (mpmgr.NotHeldError, ConnectionError)), \
            repr(err)
    # condition.wait is a write: not sent again, the error says so
    # (SIGTERM: the stopping daemon answered SHUTDOWN)
    assert isinstance(seen['wait'], mpmgr.InFlightError if kill else
                      mpmgr.ShutdownError), seen
    # its lock was released by the restart, and the proxy knows it
    assert isinstance(seen['release'], mpmgr.NotHeldError), seen
    assert 'restarted' in str(seen['release'])
    r = elsewhere(journaled, 'c = m.named.Condition("c")\n'
                             'print(c.acquire(timeout=30))\n')
    assert r.stdout == 'True\n', r.stderr
    # wait and notify work after
    ready = threading.Event()

    def waiter2():
        with c:
            ready.set()
            return c.wait(DEADLINE)
    w = Call(waiter2)
    assert ready.wait(DEADLINE)
    poll(lambda: waiting(journaled, 'c') == 1, what='the new wait')
    with c:
        c.notify()
    assert w.outcome() == (True, None)


@pytest.mark.parametrize('kill', [False, True], ids=['term', 'kill'])
def test_ack_queue_leases_back_at_the_head(journaled, kill):
    journaled.mpctl('queue', 'create', '-n', 'q', '--ack')
    m = attach(journaled)
    q = m.named.Queue('q')
    for i in range(6):
        q.put(i)
    assert [q.get(timeout=DEADLINE) for _ in range(3)] == [0, 1, 2]
    q.task_done()                       # 0 acked: gone for good
    journaled.restart(kill=kill)
    # 1 and 2, leased and not acked, back at the head in their order
    assert q.qsize() == 5
    # an ack of a lease lost in the restart: a clear error
    with pytest.raises(ValueError, match='restarted'):
        q.task_done()
    assert [q.get(timeout=DEADLINE) for _ in range(5)] == [1, 2, 3, 4, 5]
    for _ in range(5):
        q.task_done()
    with pytest.raises(ValueError, match='too many'):
        q.task_done()
    assert q.empty()


def _square(x):
    return x * x


@pytest.mark.parametrize('kill', [False, True], ids=['term', 'kill'])
def test_pool_goes_on_after_restart(journaled, kill, tmp_path):
    import os
    m = attach(journaled)
    with m.Pool(2) as p:
        assert p.map(_square, range(5)) == [0, 1, 4, 9, 16]
        done = p.apply_async(_square, (3,))
        assert done.get(DEADLINE) == 9
        flag = str(tmp_path / 'go')
        running = p.apply_async(run_until, (flag, 'late'))
        poll(lambda: os.path.exists(flag + '.started'), what='the task')
        journaled.restart(kill=kill)
        # the pool object is ephemeral: its jobs went with the restart,
        # and the task not answered says so instead of hanging
        with pytest.raises(mpmgr.JobLostError, match='restarted'):
            running.get(DEADLINE)
        assert done.get(0) == 9         # a result got before stays
        # the Pool goes on: new tasks run, on new workers
        assert p.map(_square, range(5)) == [0, 1, 4, 9, 16]
        assert p.apply_async(_square, (4,)).get(DEADLINE) == 16
        open(flag, 'w').close()
        p.close()
        p.join()


def test_named_pool_keeps_its_jobs(journaled):
    # the daemon's pool across a restart (PROTOCOL.md "Restarts"), from
    # Python: queued jobs and finished results stay, a running job goes
    # back at the head with its attempt counted, past max_attempts it
    # fails
    from mpmgr import _mpmgr
    from mpmgr.pool import _PoolObject
    pool = _PoolObject(_mpmgr.Client(journaled.socket, key=journaled.key),
                       'p')
    pool._call('pool.create', {'max_attempts': 2})
    ids = [pool._call('pool.submit', x) for x in ('a', 'b', 'c', 'd')]
    jid, payload, attempt = pool._call('pool.take', 0)
    assert (jid, payload, attempt) == (ids[0], 'a', 1)
    pool._call('pool.done', jid, 'A')
    assert pool._call('pool.take', 0) == [ids[1], 'b', 1]   # running
    journaled.restart(kill=True)
    st = pool._call('pool.status')
    assert (st['queued'], st['running'], st['done']) == (3, 0, 1)
    assert pool._call('pool.take', 0) == [ids[1], 'b', 2]
    journaled.restart(kill=True)
    # b ran max_attempts times: failed; c and d still queued, in order
    assert pool._call('pool.take', 0) == [ids[2], 'c', 1]
    pool._call('pool.done', ids[2], 'C')
    assert pool._call('pool.take', 0) == [ids[3], 'd', 1]
    pool._call('pool.done', ids[3], 'D')
    got = {i: (state, v) for i, state, v in
           pool._call('pool.collect', 10, 0)}
    assert got[ids[0]] == ('done', 'A')
    assert got[ids[1]][0] == 'failed' and 'attempt 2 of 2' in got[ids[1]][1]
    assert got[ids[2]] == ('done', 'C') and got[ids[3]] == ('done', 'D')
    # ids are never given twice, across restarts
    assert pool._call('pool.submit', 'e') > max(ids)


def test_pool_task_while_the_daemon_is_down(journaled):
    import signal
    m = attach(journaled)
    with m.Pool(1) as p:
        assert p.apply(_square, (2,)) == 4
        journaled.proc.send_signal(signal.SIGKILL)
        journaled.proc.wait(DEADLINE)
        # the task fails with the reason; the Pool does not hang
        r = p.apply_async(_square, (3,))
        with pytest.raises(mpmgr.ConnectError):
            r.get(DEADLINE)
        journaled.start()
        assert p.map(_square, [5, 6]) == [25, 36]
