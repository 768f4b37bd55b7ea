"""Ctrl-C in a blocking call: KeyboardInterrupt at once, the parked
request cancelled with sys.cancel, the connection and what it holds kept;
a reply that won the race with the cancel is given back, never lost."""

import json
import os
import signal
import subprocess

import pytest

from conftest import MPCTL, poll, spawn_python

# Run in a child: attaches to the test's daemon, holds an rlock, blocks in
# BLOCK; a helper thread sends SIGINT to the process once the daemon shows
# the call parked (so the signal cannot come before the wait). Each child
# first takes Python's SIGINT handler: a shell without job control starts
# background commands with SIGINT ignored, and the ignoring is inherited
# (a test run started with `make check &` would otherwise never see Ctrl-C).
SIGINT_AS_AT_A_TERMINAL = (
    'import signal\n'
    'signal.signal(signal.SIGINT, signal.default_int_handler)\n')
CHILD = SIGINT_AS_AT_A_TERMINAL + r'''
import os, signal, sys, threading, time
import mpmgr
m = mpmgr.Manager(address=sys.argv[1])
held = m.named.RLock('held')
held.acquire()
q = m.named.Queue('q')
lock = m.named.Lock('lock')
ev = m.named.Event('ev')
cond = m.named.Condition('cond')
watched = {'get': q, 'acquire': lock, 'wait': ev, 'cwait': cond}[sys.argv[2]]
race = sys.argv[3] == 'race'

def interrupt_when_parked():
    while True:
        try:
            info = watched._call('obj.info')
        except mpmgr.NoObjectError:
            # an implicit object exists once the blocking call made it
            info = {'waiters': 0, 'size': 0}
        if info['waiters'] or (sys.argv[2] == 'cwait' and info['size']):
            break
        time.sleep(0.005)
    os.kill(os.getpid(), signal.SIGINT)

if race:
    def handler(sig, frame):
        # what the parked call waits for comes first: its reply is on the
        # way when the cancel goes out
        if sys.argv[2] == 'get':
            q.put('raced')
        elif sys.argv[2] == 'acquire':
            lock.release()
        raise KeyboardInterrupt
    signal.signal(signal.SIGINT, handler)

if sys.argv[2] == 'acquire':
    other = threading.Thread(target=lock.acquire)   # held by a thread...
    other.start(); other.join()
    keeper = lock   # ...whose connection is gone: acquire it ourselves
    lock.acquire()
    # our second acquire blocks (a Lock is not recursive)
threading.Thread(target=interrupt_when_parked, daemon=True).start()
t0 = time.monotonic()
try:
    if sys.argv[2] == 'get':
        print('got', q.get(), flush=True)
    elif sys.argv[2] == 'acquire':
        print('acquired', lock.acquire(), flush=True)
    elif sys.argv[2] == 'wait':
        print('waited', ev.wait(), flush=True)
    else:
        with cond:
            print('notified', cond.wait(), flush=True)
except KeyboardInterrupt as e:
    print('interrupted', flush=True)
    if sys.argv[2] == 'cwait':
        # threading.Condition.wait holds the lock again before raising:
        # else leaving the with block would have failed to release it
        print('relocked', e.__context__ is None, flush=True)
print('owned', held._call('rlock.owned'), flush=True)
print('qsize', q.qsize(), flush=True)
if sys.argv[2] == 'acquire':
    print('lock', lock.acquire(False), flush=True)
q.put('after')
print('roundtrip', q.get(timeout=5), flush=True)
'''


def run_child(daemon, what, mode='plain'):
    p = spawn_python(CHILD, daemon.socket, what, mode)
    try:
        out, err = p.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        pytest.fail('the child hung: %s %s' % (out, err))
    assert p.returncode == 0, err
    return out.split('\n')


@pytest.mark.parametrize('what', ['get', 'acquire', 'wait', 'cwait'])
def test_ctrl_c_cancels_and_keeps_the_connection(daemon, what):
    out = run_child(daemon, what)
    assert out[0] == 'interrupted'
    if what == 'cwait':
        assert out.pop(1) == 'relocked True'
    assert out[1] == 'owned True'               # the rlock is still held
    assert out[2] == 'qsize 0'
    if what == 'acquire':
        assert out.pop(3) == 'lock False'       # still held by us
    assert out[3] == 'roundtrip after'


def test_raced_item_is_not_lost(daemon):
    out = run_child(daemon, 'get', 'race')
    assert out[0] == 'interrupted'
    assert out[2] == 'qsize 1'                  # back in the queue
    assert out[3] == 'roundtrip raced'


def test_raced_acquire_is_given_back(daemon):
    out = run_child(daemon, 'acquire', 'race')
    assert out[0] == 'interrupted'
    assert out[3] == 'lock True'                # free again, so ours now


def test_terminal_ctrl_c_spares_the_private_daemon():
    # the terminal sends SIGINT to the whole foreground process group: the
    # private daemon is in a session of its own and keeps serving
    p = spawn_python(
        SIGINT_AS_AT_A_TERMINAL +
        'import mpmgr, sys\n'
        'm = mpmgr.Manager()\n'
        'q = m.Queue()\n'
        'print(m._daemon.process.pid, m.address, flush=True)\n'
        'try:\n'
        '    q.get()\n'
        'except KeyboardInterrupt:\n'
        '    q.put("alive")\n'
        '    print(q.get(), flush=True)\n', start_new_session=True)
    try:
        pid, address = p.stdout.readline().split()
        assert os.getpgid(int(pid)) != p.pid
        env = dict(os.environ, MPMGR_SOCKET=address, MPMGR_AUTHKEY_FILE=(
            os.path.join(os.path.dirname(address), 'authkey')))
        poll(lambda: json.loads(subprocess.run(
            [MPCTL, 'stats', '--json'], env=env, capture_output=True,
            text=True).stdout)['waiters'] == 1, what='the get to park')
        os.killpg(p.pid, signal.SIGINT)
        out, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
            p.communicate()
    assert out.strip() == 'alive', err
