"""Managers: the private daemon, attaching, named objects, anonymous
objects that go with the manager's session."""

import os
import pickle
import stat
import subprocess
import threading

import pytest

import mpmgr
from multiprocessing.context import ProcessError, AuthenticationError

from conftest import alive, poll, run_python, spawn_python


def test_private_daemon_lifecycle():
    m = mpmgr.Manager()
    d = m._daemon
    pid = d.process.pid
    sockdir = os.path.dirname(m.address)
    assert alive(pid)
    assert stat.S_IMODE(os.stat(sockdir).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(d.keyfile).st_mode) == 0o600
    dd = m.dict(a=1)
    assert dd['a'] == 1
    m.shutdown()
    assert not alive(pid) and not os.path.exists(sockdir)
    m.shutdown()                                # twice is fine
    with pytest.raises(ConnectionError):
        dd['a']
    with pytest.raises(ProcessError):
        m.start()


def test_with_and_states():
    with mpmgr.SyncManager() as m:
        pid = m._daemon.process.pid
        assert m.list([1])[:] == [1]
        with pytest.raises(ProcessError):
            m.start()
    assert not alive(pid)
    m = mpmgr.SyncManager()
    with pytest.raises(ProcessError):
        m.dict()
    m.start()
    m.join(0.01)                                # still running
    assert m._daemon.alive()
    m.shutdown()
    m.join()


def test_start_at_an_address(tmp_path):
    sock = str(tmp_path / 'my.sock')
    m = mpmgr.SyncManager(address=sock, authkey=b'k' * 16)
    m.start()
    try:
        assert m.address == sock and os.path.exists(sock)
        m2 = mpmgr.SyncManager(address=sock, authkey=b'k' * 16)
        m2.connect()
        m.named.dict('x')['a'] = 1
        assert m2.named.dict('x')['a'] == 1
        m2.shutdown()
    finally:
        m.shutdown()


def test_unsupported():
    with mpmgr.Manager() as m:
        with pytest.raises(NotImplementedError):
            m.get_server()
        with pytest.raises(NotImplementedError):
            mpmgr.SyncManager.register('Foo', dict)
        with pytest.raises(TypeError):
            pickle.dumps(m)
    m = mpmgr.SyncManager()
    with pytest.raises(TypeError, match='initializer must be a callable'):
        m.start(1)
    with pytest.warns(RuntimeWarning, match='initializer is not called'):
        m.start(print)
    m.shutdown()


def test_no_daemon_to_start(monkeypatch):
    monkeypatch.setenv('MPMGRD', '/nonexistent/mpmgrd')
    with pytest.raises(OSError):
        mpmgr.Manager()


def test_attach(daemon):
    daemon.mpctl('dict', 'set', '-n', 'cfg', 'k', '"v"')
    m = mpmgr.Manager(address=daemon.socket)     # the key file beside it
    assert m.address == daemon.socket
    assert m.named.dict('cfg')['k'] == 'v'
    m.shutdown()
    m = mpmgr.Manager(address=daemon.socket, authkey=daemon.key)
    assert m.named.dict('cfg')['k'] == 'v'
    m.shutdown()
    m = mpmgr.SyncManager(address=daemon.socket, authkey=daemon.key)
    m.connect()
    m.shutdown()
    with pytest.raises(AuthenticationError):
        mpmgr.Manager(address=daemon.socket, authkey=b'wrong')


def test_attach_default_socket(daemon, monkeypatch):
    monkeypatch.setenv('MPMGR_SOCKET', daemon.socket)
    monkeypatch.setenv('MPMGR_AUTHKEY_FILE', daemon.keyfile)
    m = mpmgr.Manager(address=None)
    assert m.address == daemon.socket
    m.shutdown()


def test_named_objects(daemon):
    m = mpmgr.Manager(address=daemon.socket)
    try:
        m.named.dict('cfg')['a'] = 1
        assert daemon.mpctl('dict', 'get', '-n', 'cfg', 'a').stdout == '1\n'
        q = m.named.Queue('jobs', maxsize=2)
        q.put('x')
        assert daemon.mpctl('queue', 'get', '-n', 'jobs').stdout == 'x\n'
        info = daemon.mpctl('info', '--json', 'jobs').stdout
        assert '"maxsize":2' in info.replace(' ', '')
        daemon.mpctl('sem', 'create', '-n', 'ktv', '4')
        s = m.named.Semaphore('ktv', 4)
        assert s.get_value() == 4
        with pytest.raises(ValueError):
            m.named.Semaphore('ktv', 3)           # EXISTS: other options
        v = m.named.Value('hits', 'i', 10)
        v.value += 1
        assert m.named.Value('hits', 'i', 0).value == 11  # kept
        m.named.Lock('l').acquire()
        assert daemon.mpctl('lock', 'locked', '-n', 'l',
                            check=False).returncode == 0
        m.named.Lock('l').release()
        # a thread that ends closes its connection: what it held goes back
        t = threading.Thread(target=m.named.Lock('l2').acquire)
        t.start()
        t.join()
        poll(lambda: 'l2' not in daemon.names(), what='the lock to go')
        with pytest.raises(AttributeError):
            m.named.nosuchtype
        with pytest.raises(TypeError):
            m.named.dict('')
    finally:
        m.shutdown()
    # named objects outlive the manager
    assert {'cfg', 'jobs', 'hits', 'ktv'} <= daemon.names()


def test_anonymous_objects_go_with_the_session(daemon):
    m = mpmgr.Manager(address=daemon.socket)
    d = m.dict(a=1)
    q = m.Queue()
    q.put(1)
    b = m.Barrier(2, action=print)
    names = {d._name, q._name, b._name, b._name + '/gate'}
    prefix = 'py.%d.' % os.getpid()
    assert all(n.startswith(prefix) for n in names)
    assert names <= daemon.names()
    info = daemon.mpctl('info', '--json', d._name).stdout.replace(' ', '')
    assert '"ephemeral":true' in info
    assert m._number_of_objects() == 4
    assert d._name in m._debug_info()
    m.shutdown()
    poll(lambda: not names & daemon.names(),
         what='the anonymous objects to go')


def test_anonymous_objects_go_when_the_process_dies(daemon):
    p = spawn_python(
        'import mpmgr, sys\n'
        'm = mpmgr.Manager(address=sys.argv[1])\n'
        'd = m.dict(a=1)\n'
        'print(d._name, flush=True)\n'
        'sys.stdin.read()\n', daemon.socket, stdin=subprocess.PIPE)
    name = p.stdout.readline().strip()
    assert name in daemon.names()
    p.kill()
    p.wait()
    p.stdout.close()
    p.stderr.close()
    p.stdin.close()
    poll(lambda: name not in daemon.names(), what='the dict to go')


def test_forked_child_has_its_own_session(daemon):
    m = mpmgr.Manager(address=daemon.socket)
    d = m.dict()
    pid = os.fork()
    if pid == 0:
        try:
            child = m.list([1])
            d['child'] = child._name
            d['child_list'] = child
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    assert d['child'].startswith('py.%d.' % pid)
    poll(lambda: d['child'] not in daemon.names(),
         what="the child's list to go with the child")
    m.shutdown()


def test_shutdown_at_exit_and_kill_in_child():
    # a raw-forked child that exits runs atexit handlers: it must not stop
    # its parent's daemon
    r = run_python(
        'import mpmgr, os, sys\n'
        'm = mpmgr.Manager()\n'
        'd = m.dict()\n'
        'pid = os.fork()\n'
        'if pid == 0:\n'
        '    d["c"] = 1\n'
        '    sys.exit(0)\n'
        'os.waitpid(pid, 0)\n'
        'd["p"] = 2\n'
        'print(sorted(d.keys()), m._daemon.process.pid)\n')
    assert r.returncode == 0, r.stderr
    keys, pid = r.stdout.rsplit(' ', 1)
    assert keys == "['c', 'p']"
    poll(lambda: not alive(int(pid)), what='the daemon to stop at exit')
