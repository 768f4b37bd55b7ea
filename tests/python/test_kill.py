"""kill -9: a child holding a lock or parked in a get leaves nothing stuck
and loses nothing; a killed Manager parent leaves no daemon behind (what
CPython's Manager gets wrong)."""

import multiprocessing
import os
import signal
import time

import pytest

from conftest import alive, poll, spawn_python


def _hold(lock, sem, ev):
    lock.acquire()
    sem.acquire()
    ev.set()
    time.sleep(600)


def _get(q, ev):
    ev.set()
    q.get()


def test_killed_holder(manager):
    lock, sem, ev = manager.Lock(), manager.Semaphore(1), manager.Event()
    p = multiprocessing.get_context('fork').Process(target=_hold,
                                                   args=(lock, sem, ev))
    p.start()
    assert ev.wait(30)
    assert not lock.acquire(False) and not sem.acquire(False)
    os.kill(p.pid, signal.SIGKILL)
    p.join()
    assert lock.acquire(True, 30) and sem.acquire(True, 30)


def test_killed_getter_loses_no_item(manager):
    q, ev = manager.Queue(), manager.Event()
    p = multiprocessing.get_context('fork').Process(target=_get,
                                                   args=(q, ev))
    p.start()
    assert ev.wait(30)
    poll(lambda: q._call('obj.info')['waiters'] == 1, what='a parked get')
    os.kill(p.pid, signal.SIGKILL)
    p.join()
    q.put('precious')
    assert q.get(timeout=30) == 'precious'


PARENT = r'''
import multiprocessing as mp, sys, time
import mpmgr

def child(q):
    try:
        q.get()                 # until the daemon goes away
    except Exception:
        sys.exit(3)

if __name__ == '__main__':
    mp.set_start_method(sys.argv[1])
    m = mpmgr.Manager()
    q = m.Queue()
    p = mp.Process(target=child, args=(q,))
    p.start()
    while q._call('obj.info')['waiters'] == 0:
        time.sleep(0.005)
    print(m._daemon.process.pid, p.pid, m.address, flush=True)
    time.sleep(600)
'''


@pytest.mark.parametrize('method', ['fork', 'spawn'])
def test_killed_parent_leaves_no_daemon(tmp_path, method):
    script = tmp_path / 'parent.py'
    script.write_text(PARENT)
    p = spawn_python('import runpy, sys; sys.argv = sys.argv[1:]; '
                     'runpy.run_path(sys.argv[0], run_name="__main__")',
                     str(script), method)
    try:
        daemon, child, address = p.stdout.readline().split()
        daemon, child = int(daemon), int(child)
        assert alive(daemon) and alive(child)
        p.kill()
        p.wait()
        # the daemon sees its parent's pipe close, stops; the child, whose
        # get fails, exits
        poll(lambda: not alive(daemon), what='the daemon to exit')
        poll(lambda: not alive(child), what='the child to exit')
        assert not os.path.exists(address)
    finally:
        if p.poll() is None:
            p.kill()
        p.communicate()
