"""The mini KTV: four rooms (Semaphore(4)) and twenty singers; never more
than four sing at once."""
import time
from multiprocessing import Process
from mpmgr import Manager


def singer(rooms, stats, lock, i):
    with rooms:
        with lock:
            stats['now'] += 1
            stats['max'] = max(stats['max'], stats['now'])
        time.sleep(0.01)            # the song
        with lock:
            stats['now'] -= 1
            stats['sung'] += 1


if __name__ == '__main__':
    with Manager() as m:
        rooms, lock = m.Semaphore(4), m.Lock()
        stats = m.dict(now=0, max=0, sung=0)
        ps = [Process(target=singer, args=(rooms, stats, lock, i))
              for i in range(20)]
        for p in ps:
            p.start()
        for p in ps:
            p.join()
        print(stats['sung'], stats['max'] <= 4, stats['now'])
