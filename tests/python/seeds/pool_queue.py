"""A manager Queue handed to Pool workers (a multiprocessing.Queue
cannot be)."""
import os
from multiprocessing import Pool
from mpmgr import Manager


def work(args):
    q, n = args
    q.put((n, n * n))
    return os.getpid()


if __name__ == '__main__':
    with Manager() as m:
        q = m.Queue()
        with Pool(3) as pool:
            pool.map(work, [(q, n) for n in range(8)])
        print(sorted(q.get() for _ in range(8)))
