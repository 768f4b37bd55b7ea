"""A seed's Pool program: twenty apply_async, then close, join, get."""
import os
import time
from mpmgr import Pool


def work(i):
    time.sleep(0.01)
    return i, os.getpid()


if __name__ == '__main__':
    pool = Pool(4)
    results = [pool.apply_async(work, (i,)) for i in range(20)]
    pool.close()
    pool.join()
    got = [r.get() for r in results]
    print([i for i, _ in got], len({pid for _, pid in got}) >= 1)
