"""mpmgr.Pipe() and m.Pipe(): CPython's Connection API over the daemon's
pipe type, between real processes (fork, spawn, forkserver, raw fork,
pickled through a queue), EOF when the other end's holders close it or
are killed, multiprocessing.connection.wait()."""

import array
import multiprocessing
import os
import signal
import threading
import time
from multiprocessing.connection import wait

import pytest

import mpmgr
from conftest import poll, run_python

METHODS = ('fork', 'spawn', 'forkserver')


@pytest.fixture
def pipe(manager):
    a, b = manager.Pipe()
    yield a, b
    a.close()
    b.close()


def test_values_round_trip(pipe):
    a, b = pipe
    sent = [None, True, 3, 2 ** 70, 1.5, 'str', b'bytes', [1, [2]],
            {'k': (1, 2)}, (), frozenset({1}), {1, 2}, bytearray(b'x')]
    for v in sent:
        a.send(v)
    got = [b.recv() for _ in sent]
    assert got == sent
    assert [type(v) for v in got] == [type(v) for v in sent]
    b.send('back')
    assert a.recv() == 'back'


def test_bytes(pipe):
    a, b = pipe
    a.send_bytes(b'hello world', 6)
    a.send_bytes(array.array('i', [1, 2, 3]), 4, 4)
    a.send_bytes(b'abc')
    assert b.recv_bytes() == b'world'
    assert b.recv_bytes() == array.array('i', [2]).tobytes()
    buf = bytearray(8)
    assert b.recv_bytes_into(buf, 2) == 3
    assert buf == b'\0\0abc\0\0\0'
    a.send_bytes(b'toolong')
    with pytest.raises(multiprocessing.BufferTooShort) as e:
        b.recv_bytes_into(bytearray(3))
    assert e.value.args[0] == b'toolong'
    # a message sent with send() reads as its MessagePack encoding
    a.send('x')
    assert b.recv_bytes() == b'\xa1x'
    with pytest.raises(ValueError):
        a.send_bytes(b'abc', 4)
    with pytest.raises(ValueError):
        a.send_bytes(b'abc', 1, 3)
    with pytest.raises(ValueError):
        b.recv_bytes(-1)


def test_recv_bytes_maxlength_closes(manager):
    a, b = manager.Pipe()
    a.send_bytes(b'12345')
    with pytest.raises(OSError, match='bad message length'):
        b.recv_bytes(4)
    assert b.closed
    a.close()


def test_eof_after_drain(pipe):
    a, b = pipe
    a.send(1)
    a.send(2)
    a.close()
    assert b.poll()
    assert b.recv() == 1 and b.recv() == 2
    assert b.poll()             # a recv would not wait: EOF
    with pytest.raises(EOFError):
        b.recv()
    with pytest.raises(EOFError):
        b.recv_bytes()


def test_send_into_closed_pipe_is_broken_pipe(pipe):
    a, b = pipe
    b.close()
    # the refusal comes with a later send (sends are pipelined)
    with pytest.raises(BrokenPipeError):
        end = time.monotonic() + 30
        while time.monotonic() < end:
            a.send('x')
    a.close()                   # close does not raise it


def test_closed_and_one_way(manager):
    r, w = manager.Pipe(duplex=False)
    assert (r.readable, r.writable, w.readable, w.writable) == \
        (True, False, False, True)
    with pytest.raises(OSError, match='connection is read-only'):
        r.send(1)
    with pytest.raises(OSError, match='connection is write-only'):
        w.recv()
    with pytest.raises(OSError, match='connection is write-only'):
        w.poll()
    w.send('one way')
    assert r.recv() == 'one way'
    with w:
        pass
    assert w.closed and not r.closed
    w.close()                   # idempotent
    for call in (w.send, w.send_bytes):
        with pytest.raises(OSError, match='handle is closed'):
            call(b'x')
    with pytest.raises(OSError, match='handle is closed'):
        w.fileno()
    with pytest.raises(EOFError):
        r.recv()
    r.close()


def test_poll_timeout(pipe):
    a, b = pipe
    assert not b.poll()
    t0 = time.monotonic()
    assert not b.poll(0.2)
    assert time.monotonic() - t0 >= 0.19
    threading.Timer(0.1, a.send, ('late',)).start()
    assert b.poll(None)
    assert b.recv() == 'late'


def test_wait_on_several(manager):
    pipes = [manager.Pipe() for _ in range(3)]
    readers = [b for a, b in pipes]
    assert wait(readers, 0.1) == []
    pipes[1][0].send('one')
    assert wait(readers, 30) == [readers[1]]
    assert readers[1].recv() == 'one'
    # still armed: a send on an armed duplex end does not wait behind it
    readers[0].send('reply')
    assert pipes[0][0].recv() == 'reply'
    assert not readers[0].poll(0.05)
    pipes[2][0].close()
    assert readers[2] in wait(readers, 30)      # EOF makes it ready
    with pytest.raises(EOFError):
        readers[2].recv()
    pipes[0][0].send('zero')
    assert wait(readers[:2], 30) == [readers[0]]
    assert readers[0].poll(0)
    assert readers[0].recv() == 'zero'
    for a, b in pipes:
        a.close()
        b.close()


def test_thread_sends_while_another_waits_in_recv(pipe):
    a, b = pipe
    got = []
    t = threading.Thread(target=lambda: got.append(a.recv()))
    t.start()
    poll(lambda: a._ref._call('obj.info')['waiters'] == 1,
         what='a parked recv')
    a.send('from the same end')         # does not wait behind the recv
    assert b.recv() == 'from the same end'
    b.send('answer')
    t.join(30)
    assert got == ['answer']


def test_maxsize(manager):
    a, b = manager.Pipe(maxsize=2)
    a.send(1)
    a.send(2)
    done = threading.Event()

    def third():
        a.send(3)
        done.set()
    threading.Thread(target=third).start()
    assert not done.wait(0.2)
    assert b.recv() == 1
    assert done.wait(30)
    assert [b.recv(), b.recv()] == [2, 3]
    a.close()
    b.close()


def test_many_messages_in_order(pipe):
    a, b = pipe
    n = 20000
    ctx = multiprocessing.get_context('fork')
    p = ctx.Process(target=_count_to, args=(a, n))
    p.start()
    a.close()
    assert [b.recv() for _ in range(n)] == list(range(n))
    with pytest.raises(EOFError):
        b.recv()
    p.join(60)
    assert p.exitcode == 0


def test_read_ahead_drops_nothing(manager):
    """recv reads ahead in batches of recvs that do not wait; one that
    found nothing may be followed in its batch by one that found a message
    sent meanwhile. None may be lost: a stream of 20,000 messages read as
    it is written, five times (one run in about ten lost messages in the
    middle before)."""
    ctx = multiprocessing.get_context('fork')
    n = 20000
    for _ in range(5):
        a, b = manager.Pipe()
        p = ctx.Process(target=_count_to, args=(a, n))
        p.start()
        a.close()
        got = []
        with pytest.raises(EOFError):
            while True:
                got.append(b.recv())
        missing = sorted(set(range(n)) - set(got))
        assert got == list(range(n)), 'missing %d: %s' % (len(missing),
                                                          missing[:10])
        b.close()
        p.join(60)
        assert p.exitcode == 0


def _count_to(conn, n):
    for i in range(n):
        conn.send(i)
    # exits without close: what it sent still arrives, then EOF


def _echo(conn):
    try:
        while True:
            conn.send(conn.recv())
    except EOFError:
        pass


@pytest.mark.parametrize('method', METHODS)
def test_child_echoes_until_eof(manager, method):
    a, b = manager.Pipe()
    ctx = multiprocessing.get_context(method)
    p = ctx.Process(target=_echo, args=(b,))
    p.start()
    b.close()                           # at once: the hand-off keeps it
    for v in ('x', (1, 2), {'k': [3]}):
        a.send(v)
        assert a.recv() == v
    a.close()
    p.join(60)
    assert p.exitcode == 0


def test_seed_under_fork_does_not_hold_the_parents_end(manager):
    # CPython's forked child holds the parent's end too, so it never sees
    # EOF; an mpmgr child holds only what it was given
    a, b = manager.Pipe()
    p = multiprocessing.get_context('fork').Process(target=_drain,
                                                    args=(b,))
    p.start()
    b.close()
    a.send(1)
    a.close()
    p.join(60)
    assert p.exitcode == 7


def _drain(conn):
    try:
        while True:
            conn.recv()
    except EOFError:
        os._exit(7)


def _hold_and_report(conn):
    conn.send('holding')
    time.sleep(600)


def test_kill_9_of_the_holder_is_eof(manager):
    a, b = manager.Pipe()
    p = multiprocessing.get_context('spawn').Process(
        target=_hold_and_report, args=(b,))
    p.start()
    b.close()
    assert a.recv() == 'holding'
    assert not a.poll(0.1)
    os.kill(p.pid, signal.SIGKILL)
    p.join()
    assert a.poll(30)
    with pytest.raises(EOFError):
        a.recv()
    with pytest.raises(BrokenPipeError):
        end = time.monotonic() + 30
        while time.monotonic() < end:
            a.send('to nobody')
    a.close()


def _take_from_queue(q):
    conn = q.get()
    conn.send(('got', conn.recv()))
    conn.close()


def test_pickled_through_a_queue(manager):
    a, b = manager.Pipe()
    q = manager.Queue()
    p = multiprocessing.get_context('spawn').Process(target=_take_from_queue,
                                                     args=(q,))
    p.start()
    q.put(b)
    b.close()
    a.send('hello')
    assert a.recv() == ('got', 'hello')
    with pytest.raises(EOFError):
        a.recv()
    p.join(60)
    a.close()


def test_raw_fork(pipe):
    a, b = pipe
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            b.send(b.recv() * 2)
            code = 0
        finally:
            os._exit(code)
    b.close()
    a.send(21)
    assert a.recv() == 42
    assert os.waitpid(pid, 0)[1] == 0
    with pytest.raises(EOFError):
        a.recv()


def test_interrupted_recv_keeps_the_message(pipe):
    a, b = pipe

    def handler(sig, frame):
        a.send('raced')             # the reply is on its way...
        raise KeyboardInterrupt     # ...when the recv is cancelled

    old = signal.signal(signal.SIGALRM, handler)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.2)
        with pytest.raises(KeyboardInterrupt):
            b.recv()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    assert b.recv() == 'raced'
    a.send('next')
    assert b.recv() == 'next'


def test_module_pipe_and_named(daemon):
    a, b = mpmgr.Pipe()
    a.send('private')
    assert b.recv() == 'private'
    a.close()
    b.close()
    m = mpmgr.Manager(address=daemon.socket)
    x, y = m.named.Pipe('shell')
    x.send('to the shell')
    r = daemon.mpctl('pipe', 'recv', '-n', 'shell', '--end', '1')
    assert r.stdout == 'to the shell\n'
    daemon.mpctl('pipe', 'send', '-n', 'shell', '--end', '1', 'from it')
    assert x.recv() == 'from it'
    x.close()
    y.close()
    assert 'shell' not in daemon.names()       # finished: gone
    m.shutdown()


def test_anonymous_pipe_goes_with_the_manager(daemon):
    m = mpmgr.Manager(address=daemon.socket)
    a, b = m.Pipe()
    name = a._name
    assert name in daemon.names()
    m.shutdown()
    poll(lambda: name not in daemon.names(), what='the pipe to go')


def test_close_from_another_thread_ends_a_waiting_recv(pipe):
    a, b = pipe
    out = []

    def reader():
        try:
            b.recv()
        except OSError as e:
            out.append(e)
    t = threading.Thread(target=reader)
    t.start()
    poll(lambda: a._ref._call('obj.info')['waiters'] == 1,
         what='a parked recv')
    b.close()
    t.join(30)
    assert not t.is_alive() and isinstance(out[0], OSError)
    with pytest.raises(EOFError):
        a.recv()                    # b's end is closed


EXIT_WITHOUT_JOIN = r'''
import multiprocessing as mp, sys
import mpmgr

def child(conn):
    conn.send('ready')
    # parked in the daemon while the parent exits: the daemon must stay
    # until multiprocessing has joined this child
    print(conn.poll(2), flush=True)

if __name__ == '__main__':
    a, b = mpmgr.Pipe()
    p = mp.get_context('fork').Process(target=child, args=(b,))
    p.start()
    assert a.recv() == 'ready'
    # no join: multiprocessing joins the child at exit, and only then
    # does mpmgr.Pipe's daemon stop
'''


def test_private_daemon_outlasts_unjoined_children():
    r = run_python(EXIT_WITHOUT_JOIN)
    assert r.returncode == 0, r.stderr
    assert r.stdout == 'False\n', r.stderr
