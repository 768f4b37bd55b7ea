"""EventProxy: set, clear, is_set, wait with CPython's conventions."""

import multiprocessing
import threading
import time

from conftest import poll


def test_event(manager):
    e = manager.Event()
    assert e.is_set() is False
    assert e.wait(0) is False
    assert e.wait(0.05) is False
    assert e.wait(-1) is False
    e.set()
    assert e.is_set() is True
    assert e.wait() is True and e.wait(0) is True and e.wait(5) is True
    e.clear()
    assert e.is_set() is False
    assert repr(e).startswith("<EventProxy object, typeid 'Event' at 0x")


def test_wait_is_woken(manager):
    e = manager.Event()
    got = []
    ts = [threading.Thread(target=lambda: got.append(e.wait()))
          for _ in range(3)]
    for t in ts:
        t.start()
    poll(lambda: e._call('obj.info')['waiters'] == 3, what='three waiters')
    e.set()
    for t in ts:
        t.join()
    assert got == [True] * 3


def _setter(e):
    time.sleep(0.1)
    e.set()


def test_set_by_another_process(manager):
    e = manager.Event()
    p = multiprocessing.get_context('fork').Process(target=_setter,
                                                   args=(e,))
    p.start()
    assert e.wait(30) is True
    p.join()
