"""A seed's Pool program: with Pool(4) as pool: pool.map(f, range(10))."""
from mpmgr import Pool


def f(x):
    return x * x


if __name__ == '__main__':
    with Pool(4) as pool:
        print(pool.map(f, range(10)))
