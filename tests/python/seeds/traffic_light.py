"""The traffic light: cars wait on an Event that the light sets."""
from multiprocessing import Process
from mpmgr import Manager


def car(green, passed, i):
    green.wait()
    passed.append(i)


if __name__ == '__main__':
    with Manager() as m:
        green, passed = m.Event(), m.list()
        cars = [Process(target=car, args=(green, passed, i))
                for i in range(5)]
        for c in cars:
            c.start()
        print('red', len(passed))
        green.set()
        for c in cars:
            c.join()
        print('green', sorted(passed))
