#!/usr/bin/python3
"""pipe.py: CPython's multiprocessing.Pipe measured as bench/pipe.c
measures an mpmgr pipe, for `make bench`: 32-byte str messages between
two processes (fork), one line "NAME RATE" each.

  oneway    the parent sends MESSAGES messages at one end and closes it,
            the child receives them until EOFError: messages per second,
            from the first send to the child's exit.
  pingpong  the parent sends one message and waits for the child's echo:
            round trips per second (MESSAGES / 10 of them).

usage: pipe.py [-n MESSAGES]; CPU placement is the caller's (taskset).
"""
import multiprocessing
import sys
import time

MSG = "x" * 32


def reader(r, w):
    w.close()
    try:
        while True:
            r.recv()
    except EOFError:
        pass


def echoer(conn, other):
    other.close()
    try:
        while True:
            conn.send(conn.recv())
    except EOFError:
        pass


def main():
    n = 200000
    if len(sys.argv) == 3 and sys.argv[1] == "-n":
        n = int(sys.argv[2])
    elif len(sys.argv) != 1:
        sys.exit("usage: pipe.py [-n MESSAGES]")
    ctx = multiprocessing.get_context("fork")

    r, w = ctx.Pipe(duplex=False)
    p = ctx.Process(target=reader, args=(r, w))
    p.start()
    r.close()
    t0 = time.monotonic()
    for _ in range(n):
        w.send(MSG)
    w.close()
    p.join()
    print("oneway %.0f" % (n / (time.monotonic() - t0)))

    a, b = ctx.Pipe()
    p = ctx.Process(target=echoer, args=(b, a))
    p.start()
    b.close()
    rounds = n // 10
    t0 = time.monotonic()
    for _ in range(rounds):
        a.send(MSG)
        a.recv()
    print("pingpong %.0f" % (rounds / (time.monotonic() - t0)))
    a.close()
    p.join()


if __name__ == "__main__":
    main()
