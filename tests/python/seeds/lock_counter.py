"""Ten processes take 10 from a shared number: under a Lock, and with
the bare `d['num'] -= 10` that loses updates on CPython's Manager."""
from multiprocessing import Process
from mpmgr import Manager


def locked(d, lock):
    with lock:
        d['locked'] -= 10


def bare(d):
    d['num'] -= 10


if __name__ == '__main__':
    with Manager() as m:
        d, lock = m.dict({'num': 100, 'locked': 100}), m.Lock()
        ps = [Process(target=locked, args=(d, lock)) for _ in range(10)]
        ps += [Process(target=bare, args=(d,)) for _ in range(10)]
        for p in ps:
            p.start()
        for p in ps:
            p.join()
        print(d['locked'], d['num'])
