"""bench/pool.py: pools, the way `make bench` runs it; docs/PERFORMANCE.md
("Pools") explains the method and keeps the results. Never asserted:
speed is measured here, not checked.

1. Python: the throughput of empty tasks (abs over N ints) through
   mpmgr.Pool.map and multiprocessing.Pool.map, PROCS workers each (fork),
   chunksize 1 (a job per task) and CPython's default (len / (4 * PROCS),
   rounded up; a job per chunk). The pools are started before the clock
   and one untimed map warms them.
2. Shell: SHELL_N runs of `true`, JOBS at a time, through `mpctl pool map
   -j JOBS -- true {}` (its own workers, on an mpmgrd of its own socket),
   `xargs -P JOBS -I{} true {}` and GNU parallel (`parallel -k -j JOBS
   true {}`), each reading the arguments from stdin. Wall time of the
   whole command, startup included, as a user sees it.

Contenders run interleaved, ROUNDS times; each figure is the median.
QUICK=1: fewer tasks, one round; ROUNDS=N: N rounds; PART=python or
PART=shell: that table only. Progress goes to stderr, the tables
(Markdown) to stdout.
"""

import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import mpmgr

QUICK = os.environ.get('QUICK') == '1'
MPMGRD = os.environ.get('MPMGRD', 'build/mpmgrd')
MPCTL = os.environ.get('MPCTL', 'build/mpctl')
PROCS = int(os.environ.get('PROCS', '4'))
JOBS = int(os.environ.get('JOBS', '4'))
ROUNDS = int(os.environ.get('ROUNDS', '1' if QUICK else '3'))
N = 2000 if QUICK else 20000
SHELL_N = 200 if QUICK else 2000


def say(*a):
    print(*a, file=sys.stderr, flush=True)


def timed_map(pool, chunksize):
    t = time.perf_counter()
    out = pool.map(abs, range(N), chunksize=chunksize)
    dt = time.perf_counter() - t
    assert len(out) == N
    return dt


def python_table():
    ctx = multiprocessing.get_context('fork')
    default = -(-N // (4 * PROCS))
    pools = {
        'mpmgr.Pool': mpmgr.Pool(PROCS, context=ctx),
        'multiprocessing.Pool': ctx.Pool(PROCS),
    }
    times = {(name, cs): [] for name in pools for cs in (1, default)}
    for p in pools.values():
        p.map(abs, range(1000), chunksize=1)
    for r in range(ROUNDS):
        for cs in (1, default):
            for name, p in pools.items():
                dt = timed_map(p, cs)
                times[(name, cs)].append(dt)
                say('pool: %s chunksize %d round %d: %.3f s' % (
                    name, cs, r + 1, dt))
    for p in pools.values():
        p.close()
        p.join()
    print('| %d empty tasks, %d workers | chunksize 1 | chunksize %d '
          '(default) |' % (N, PROCS, default))
    print('|---|---|---|')
    rate = {}
    for name in pools:
        cells = []
        for cs in (1, default):
            med = statistics.median(times[(name, cs)])
            rate[(name, cs)] = N / med
            cells.append('%.0f tasks/s (%.3f s)' % (N / med, med))
        print('| %s | %s |' % (name, ' | '.join(cells)))
    print('| mpmgr / CPython | %s |' % ' | '.join(
        '%.2f' % (rate[('mpmgr.Pool', cs)] /
                  rate[('multiprocessing.Pool', cs)])
        for cs in (1, default)))
    print()


def shell_table():
    tmp = tempfile.mkdtemp(prefix='poolbench.')
    sock, key = os.path.join(tmp, 's'), os.path.join(tmp, 'key')
    subprocess.run([MPMGRD, '--genkey', key], check=True,
                   capture_output=True)
    env = dict(os.environ, MPMGR_SOCKET=sock, MPMGR_AUTHKEY_FILE=key)
    d = subprocess.Popen([MPMGRD], env=env, stderr=subprocess.DEVNULL)
    try:
        end = time.monotonic() + 10
        while subprocess.run([MPCTL, 'ping'], env=env,
                             capture_output=True).returncode != 0:
            if time.monotonic() > end:
                raise RuntimeError('mpmgrd did not start')
            time.sleep(0.02)
        lines = ''.join('%d\n' % i for i in range(SHELL_N)).encode()
        cmds = {
            'mpctl pool map': [MPCTL, 'pool', 'map', '-n', 'bench', '-j',
                               str(JOBS), '--', 'true', '{}'],
            'xargs -P': ['xargs', '-P', str(JOBS), '-I{}', 'true', '{}'],
        }
        if shutil.which('parallel'):
            cmds['GNU parallel -k'] = ['parallel', '-k', '-j', str(JOBS),
                                       'true', '{}']
        else:
            say('pool: GNU parallel is not installed (make bench does)')
        times = {c: [] for c in cmds}
        for r in range(ROUNDS):
            for name, argv in cmds.items():
                t = time.perf_counter()
                subprocess.run(argv, input=lines, env=env, check=True,
                               stdout=subprocess.DEVNULL)
                dt = time.perf_counter() - t
                times[name].append(dt)
                say('pool: %s round %d: %.3f s' % (name, r + 1, dt))
        print('| %d x `true`, %d at a time | wall time | runs/s | vs '
              'mpctl pool map |' % (SHELL_N, JOBS))
        print('|---|---|---|---|')
        base = statistics.median(times['mpctl pool map'])
        for name in cmds:
            med = statistics.median(times[name])
            print('| %s | %.3f s | %.0f | %.2f |' % (
                name, med, SHELL_N / med, med / base))
        print()
    finally:
        d.terminate()
        d.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    say('pool: %d CPUs, %d workers, %d jobs at a time' % (
        os.cpu_count(), PROCS, JOBS))
    part = os.environ.get('PART', 'both')
    if part in ('both', 'python'):
        python_table()
    if part in ('both', 'shell'):
        shell_table()
