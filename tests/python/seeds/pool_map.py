"""A seed's Pool program: Pool(5).map over a hundred numbers."""
from mpmgr import Pool


def func(x):
    return x * 2


if __name__ == '__main__':
    pool = Pool(5)
    out = pool.map(func, range(100))
    pool.close()
    pool.join()
    print(len(out), sum(out), out[:5])
