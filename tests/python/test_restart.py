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
from conftest import DEADLINE, poll, run_python


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
