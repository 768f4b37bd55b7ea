"""Two producers and three daemonic consumers around a JoinableQueue."""
from multiprocessing import Process
from mpmgr import Manager


def producer(q, base):
    for i in range(10):
        q.put(base + i)


def consumer(q, done):
    while True:
        item = q.get()
        done.append(item * 2)
        q.task_done()


if __name__ == '__main__':
    with Manager() as m:
        q, done = m.JoinableQueue(), m.list()
        consumers = [Process(target=consumer, args=(q, done), daemon=True)
                     for _ in range(3)]
        producers = [Process(target=producer, args=(q, base))
                     for base in (0, 100)]
        for p in consumers + producers:
            p.start()
        for p in producers:
            p.join()
        q.join()            # every item put was task_done'd
        print(len(done), sum(done))
