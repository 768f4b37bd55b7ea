"""A seed's Pool program: apply_async(func=Foo, args=(i,), callback=Bar)
for ten items; the callbacks run in the parent."""
import os
from mpmgr import Pool

seen = []


def Foo(i):
    return i * i, os.getpid()


def Bar(arg):
    seen.append((arg[0], os.getpid()))


if __name__ == '__main__':
    pool = Pool(3)
    for i in range(10):
        pool.apply_async(func=Foo, args=(i,), callback=Bar)
    pool.close()
    pool.join()
    print(sorted(v for v, _ in seen), {pid for _, pid in seen} ==
          {os.getpid()})
