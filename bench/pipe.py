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


def rates(make, n):
    """One way (messages/s, the first send to the child's EOF) and ping-pong
    (round trips/s, n // 10 of them) through the pipes make(duplex)
    answers, to a forked child (bench/python.py races mpmgr.Pipe with
    this too)."""
    ctx = multiprocessing.get_context("fork")
    r, w = make(False)
    p = ctx.Process(target=reader, args=(r, w))
    p.start()
    r.close()
    t0 = time.monotonic()
    for _ in range(n):
        w.send(MSG)
    w.close()
    p.join()
    one = n / (time.monotonic() - t0)

    a, b = make(True)
    p = ctx.Process(target=echoer, args=(b, a))
    p.start()
    b.close()
    a.send(MSG)             # the child is running: not timed
    a.recv()
    rounds = n // 10
    t0 = time.monotonic()
    for _ in range(rounds):
        a.send(MSG)
        a.recv()
    pp = rounds / (time.monotonic() - t0)
    a.close()
    p.join()
    return one, pp


def main():
    n = 200000
    if len(sys.argv) == 3 and sys.argv[1] == "-n":
        n = int(sys.argv[2])
    elif len(sys.argv) != 1:
        sys.exit("usage: pipe.py [-n MESSAGES]")
    one, pp = rates(multiprocessing.Pipe, n)
    print("oneway %.0f" % one)
    print("pingpong %.0f" % pp)


if __name__ == "__main__":
    main()
