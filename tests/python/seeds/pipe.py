from mpmgr import Pipe               # was: from multiprocessing import Pipe
from multiprocessing import Process


def f(conn):
    while True:
        try:
            print(conn.recv(), flush=True)
        except EOFError:
            print('EOF', flush=True)
            break


if __name__ == '__main__':
    parent_conn, child_conn = Pipe()
    p = Process(target=f, args=(child_conn,))
    p.start()
    child_conn.close()
    parent_conn.send(1)
    parent_conn.send('hi')
    parent_conn.close()
    p.join()
