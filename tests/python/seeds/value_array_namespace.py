"""A Value, an Array and a Namespace changed by a child."""
from multiprocessing import Process
from mpmgr import Manager


def child(v, a, ns):
    v.value = 3.25
    for i in range(len(a)):
        a[i] = -a[i]
    ns.greeting = 'hello'
    ns.count += 1


if __name__ == '__main__':
    with Manager() as m:
        v = m.Value('d', 0.0)
        a = m.Array('i', range(5))
        ns = m.Namespace(count=41)
        p = Process(target=child, args=(v, a, ns))
        p.start()
        p.join()
        print(v.value, a[:].tolist(), ns.greeting, ns.count)
