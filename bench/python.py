"""bench/python.py: the mpmgr Python package against CPython's Manager,
redis-py with hiredis, and libmpmgr from C (mpbench), the way `make bench`
runs it; docs/PERFORMANCE.md ("Python") explains the method and keeps the
results. Never asserted: speed is measured here, not checked.

Servers: an mpmgrd ($MPMGRD) on a socket of its own with a fresh key, a
CPython SyncManager (its server process, AF_UNIX), a private redis-server
(--port 0 --unixsocket, no persistence). The same dict of KEYSPACE keys
"key:" + 12 digits -> "xxx" in each (mpmgr's is named bench:dict, as
mpbench's), and random keys from one seeded sequence for every contender.

1. One client, the client and every server on CPU 0 (the DESIGN.md
   pitfall: a wake-up across CPUs costs 35-45 us here, so single-client
   figures compare only at one placement): d[k] and d[k] = v through
   mpmgr, through CPython's Manager, redis-py HGET/HSET with hiredis, and
   mpbench -c 1 -P 1 dict.get/dict.set (libmpmgr from C). The same, with
   nothing pinned, as a second table.
2. Eight processes at once (fork), nothing pinned: the aggregate rate of
   a get/set mix on the shared dict.
3. Batch verbs, per item: d.update of N items, d.items() of N entries,
   q.put_many / q.get_many of N items (CPython's Manager has no batch
   queue verbs: its figure is put / get in a loop, what a program does),
   each after one untimed run (first-touch page faults), REPS runs.

Contenders run interleaved, ROUNDS times; each figure is the median.
4. Pipes: mpmgr.Pipe() (on the same mpmgrd) against multiprocessing.Pipe(),
   32-byte str messages to a forked child: one way (N_PIPE messages, then
   close; the rate from the first send to the child's EOF) and ping-pong
   (N_PIPE / 10 round trips, the child echoing), with the client, the
   child and every server on CPU 0, then with nothing pinned.

QUICK=1: a tenth of the operations, one round; ONLY=pipes: the pipes
alone. Progress goes to stderr, the tables (Markdown) to stdout.
"""

import multiprocessing
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import mpmgr
import pipe             # bench/pipe.py: the pipe race of `make bench`

QUICK = os.environ.get('QUICK') == '1'
ONLY_PIPES = os.environ.get('ONLY') == 'pipes'
ROUNDS = 1 if QUICK else 3
SCALE = 10 if QUICK else 1
KEYSPACE = 1000
N_ONE = 20000 // SCALE          # single-client operations per run
N_CPY = 10000 // SCALE          # CPython's Manager is slower: fewer
N_PROC = 4000 // SCALE          # per process, 8 processes
N_BATCH = 10000                 # items per batch verb
N_PIPE = 100000 // SCALE        # pipe messages one way (ping-pong: / 10)
REPS = 1 if QUICK else 5         # timed runs of each batch verb a round
MPMGRD = os.environ.get('MPMGRD', 'build/mpmgrd')
MPBENCH = os.environ.get('MPBENCH', 'build/mpbench')
ALL_CPUS = os.sched_getaffinity(0)


def say(*a):
    print('bench:', *a, file=sys.stderr, flush=True)


def keys(n, seed=1):
    r = random.Random(seed)
    return ['key:%012d' % r.randrange(KEYSPACE) for _ in range(n)]


FILL = {'key:%012d' % i: 'xxx' for i in range(KEYSPACE)}


# --- servers ---------------------------------------------------------------

class Servers:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix='mpbench-py.')
        self.sock = os.path.join(self.dir, 'mpmgr.sock')
        self.keyfile = os.path.join(self.dir, 'authkey')
        subprocess.run([MPMGRD, '--genkey', self.keyfile], check=True,
                       stdout=subprocess.DEVNULL)
        self.mpmgrd = subprocess.Popen(
            [MPMGRD, '-s', self.sock, '-k', self.keyfile, '--log-level',
             'warning'], stdin=subprocess.DEVNULL)
        self.redis_sock = os.path.join(self.dir, 'redis.sock')
        self.redis = subprocess.Popen(
            ['redis-server', '--port', '0', '--unixsocket', self.redis_sock,
             '--save', '', '--appendonly', 'no', '--dir', self.dir],
            stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        self.cpython = multiprocessing.managers.SyncManager()
        self.cpython.start()
        deadline = time.monotonic() + 30
        while True:
            try:
                self.mpmgr = mpmgr.Manager(address=self.sock)
                break
            except mpmgr.ConnectError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.01)
        import redis
        while True:
            try:
                self.r = redis.Redis(unix_socket_path=self.redis_sock)
                self.r.ping()
                break
            except redis.exceptions.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.01)
        self.d_mp = self.mpmgr.named.dict('bench:dict')
        self.d_mp.update(FILL)
        self.d_cp = self.cpython.dict(FILL)
        self.r.hset('bench:dict', mapping=FILL)

    def pids(self):
        return [self.mpmgrd.pid, self.redis.pid, self.cpython._process.pid]

    def pin(self, cpus):
        for pid in self.pids() + [0]:
            os.sched_setaffinity(pid, cpus)

    def stop(self):
        self.mpmgr.shutdown()
        self.cpython.shutdown()
        for p in (self.mpmgrd, self.redis):
            p.terminate()
            p.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


# --- one client ----------------------------------------------------------------

def rate(n, f):
    t = time.perf_counter()
    f()
    return n / (time.perf_counter() - t)


def get_set(n, get, put, set_first):
    """The rates of get and put over n keys; set_first alternates which
    runs first from round to round (the first of a pair runs colder)."""
    ks = keys(n)
    if set_first:
        p = rate(n, lambda: put(ks))
        return rate(n, lambda: get(ks)), p
    g = rate(n, lambda: get(ks))
    return g, rate(n, lambda: put(ks))


def py_get_set(d, n, set_first):
    def get(ks):
        for k in ks:
            d[k]

    def put(ks):
        for k in ks:
            d[k] = 'xxx'
    return get_set(n, get, put, set_first)


def redis_get_set(s, n, set_first):
    r = s.r

    def get(ks):
        for k in ks:
            r.hget('bench:dict', k)

    def put(ks):
        for k in ks:
            r.hset('bench:dict', k, 'xxx')
    return get_set(n, get, put, set_first)


def c_get_set(s, n, pinned, set_first):
    env = dict(os.environ, MPMGR_SOCKET=s.sock, MPMGR_AUTHKEY_FILE=s.keyfile)
    cmd = [MPBENCH, '-c', '1', '-P', '1', '-n', str(n), '-r', str(KEYSPACE),
           '-t', 'dict.set,dict.get' if set_first else 'dict.get,dict.set',
           '--csv']
    if pinned:
        cmd = ['taskset', '-c', '0'] + cmd
    out = subprocess.run(cmd, env=env, capture_output=True, text=True,
                         check=True).stdout
    rates = {}
    for line in out.splitlines()[1:]:
        f = line.split(',')
        rates[f[0].strip('"')] = float(f[1].strip('"'))
    return rates['dict.get'], rates['dict.set']


def single(s, pinned):
    s.pin({0} if pinned else ALL_CPUS)
    runs = {c: ([], []) for c in ('mpmgr', 'cpython', 'redis', 'c')}
    for rnd in range(ROUNDS):
        say('one client, %s, round %d' % ('CPU 0' if pinned else 'unpinned',
                                          rnd + 1))
        odd = rnd % 2 == 1
        for c, f in (('mpmgr', lambda: py_get_set(s.d_mp, N_ONE, odd)),
                     ('cpython', lambda: py_get_set(s.d_cp, N_CPY, odd)),
                     ('redis', lambda: redis_get_set(s, N_ONE, odd)),
                     ('c', lambda: c_get_set(s, N_ONE, pinned, odd))):
            g, p = f()
            runs[c][0].append(g)
            runs[c][1].append(p)
    s.pin(ALL_CPUS)
    return {c: (statistics.median(g), statistics.median(p))
            for c, (g, p) in runs.items()}


# --- eight processes ---------------------------------------------------------

def worker(kind, obj, n, seed, go, done):
    if kind == 'redis':
        import redis
        r = redis.Redis(unix_socket_path=obj)
        get = lambda k: r.hget('bench:dict', k)
        put = lambda k: r.hset('bench:dict', k, 'xxx')
    else:
        get = obj.__getitem__
        put = lambda k: obj.__setitem__(k, 'xxx')
        get('key:%012d' % 0)            # connect before the clock
    ks = keys(n, seed)
    go.wait()
    for i, k in enumerate(ks):
        if i & 1:
            put(k)
        else:
            get(k)
    done.put(n)


def eight(s):
    ctx = multiprocessing.get_context('fork')
    out = {c: [] for c in ('mpmgr', 'cpython', 'redis')}
    for rnd in range(ROUNDS):
        say('8 processes, round %d' % (rnd + 1))
        for c, obj, n in (('mpmgr', s.d_mp, N_PROC),
                          ('cpython', s.d_cp, N_PROC // 2),
                          ('redis', s.redis_sock, N_PROC)):
            go, done = ctx.Event(), ctx.Queue()
            ps = [ctx.Process(target=worker, args=(c, obj, n, i, go, done))
                  for i in range(8)]
            for p in ps:
                p.start()
            time.sleep(0.5)         # let them connect (not timed)
            t = time.perf_counter()
            go.set()
            total = sum(done.get() for _ in ps)
            out[c].append(total / (time.perf_counter() - t))
            for p in ps:
                p.join()
    return {c: statistics.median(v) for c, v in out.items()}


# --- batches -------------------------------------------------------------------

def batch(s):
    items = {'item:%012d' % i: 'xxx' for i in range(N_BATCH)}
    vals = list(items)
    res = {}

    def add(name, c, n, f, setup=None):
        # one warm-up (first-touch page faults), then REPS timed runs
        for i in range(1 + REPS):
            if setup is not None:
                setup()
            v = rate(n, f)
            if i:
                res.setdefault(name, {}).setdefault(c, []).append(v)

    for rnd in range(ROUNDS):
        say('batches, round %d' % (rnd + 1))
        d, q = s.mpmgr.dict(), s.mpmgr.Queue()
        add('d.update(N items)', 'mpmgr', N_BATCH, lambda: d.update(items))
        add('d.items() of N', 'mpmgr', N_BATCH, d.items)
        add('q.put_many(N)', 'mpmgr', N_BATCH, lambda: q.put_many(vals),
            setup=lambda: q.get_many(10 * N_BATCH, False) if q.qsize()
            else None)
        add('q.get_many(N)', 'mpmgr', N_BATCH,
            lambda: q.get_many(N_BATCH), setup=lambda: q.put_many(vals))
        d, q = s.cpython.dict(), s.cpython.Queue()
        n = N_BATCH // 10
        add('d.update(N items)', 'cpython', N_BATCH, lambda: d.update(items))
        add('d.items() of N', 'cpython', N_BATCH, d.items)
        add('q.put_many(N)', 'cpython', n, lambda: [q.put(v)
                                                    for v in vals[:n]])
        add('q.get_many(N)', 'cpython', n, lambda: [q.get()
                                                    for _ in range(n)])
        r = s.r
        r.delete('batch', 'bq')
        add('d.update(N items)', 'redis', N_BATCH,
            lambda: r.hset('batch', mapping=items))
        add('d.items() of N', 'redis', N_BATCH, lambda: r.hgetall('batch'))
        add('q.put_many(N)', 'redis', N_BATCH, lambda: r.rpush('bq', *vals),
            setup=lambda: r.delete('bq'))
        add('q.get_many(N)', 'redis', N_BATCH,
            lambda: r.lpop('bq', N_BATCH), setup=lambda: r.rpush('bq', *vals))
    return {name: {c: statistics.median(v) for c, v in cs.items()}
            for name, cs in res.items()}


# --- pipes ---------------------------------------------------------------------

def pipes(s, pinned):
    s.pin({0} if pinned else ALL_CPUS)
    out = {c: ([], []) for c in ('mpmgr', 'cpython')}
    for rnd in range(ROUNDS):
        say('pipes, %s, round %d' % ('CPU 0' if pinned else 'unpinned',
                                     rnd + 1))
        for c, make in (('mpmgr', lambda d: s.mpmgr.Pipe(d)),
                        ('cpython', lambda d: multiprocessing.Pipe(d))):
            one, pp = pipe.rates(make, N_PIPE)
            out[c][0].append(one)
            out[c][1].append(pp)
    s.pin(ALL_CPUS)
    return {c: (statistics.median(o), statistics.median(p))
            for c, (o, p) in out.items()}


# --- the tables ------------------------------------------------------------------

def k(x):
    return '%.0f' % x if x < 1000 else '%.1fk' % (x / 1000) if x < 1e6 \
        else '%.2fM' % (x / 1e6)


def main():
    import hiredis  # noqa: F401 (redis-py uses it when present)
    say('python %s, %d CPUs, QUICK=%d' % (sys.version.split()[0],
                                          len(ALL_CPUS), QUICK))
    s = Servers()
    try:
        if ONLY_PIPES:
            one = loose = many = bulk = None
        else:
            one = single(s, True)
            loose = single(s, False)
            many = eight(s)
            bulk = batch(s)
        piped = (pipes(s, True), pipes(s, False))
    finally:
        s.stop()
    if not ONLY_PIPES:
        tables(one, loose, many, bulk)
    print('\npipes, 32-byte str messages to a forked child (median of %d; '
          'one way: N = %d, ping-pong: N / 10 round trips):\n'
          % (ROUNDS, N_PIPE))
    print('| where | measure | mpmgr.Pipe | multiprocessing.Pipe | ratio |')
    print('|---|---|---|---|---|')
    for where, t in zip(('CPU 0', 'unpinned'), piped):
        for i, what in enumerate(('one way (msgs/s)',
                                  'ping-pong (round trips/s)')):
            m, c = t['mpmgr'][i], t['cpython'][i]
            print('| %s | %s | %s | %s | %.2fx |' % (where, what, k(m),
                                                     k(c), m / c))


def tables(one, loose, many, bulk):
    for title, t in (('one client, client and servers on CPU 0', one),
                     ('one client, nothing pinned', loose)):
        print('\n%s (ops/s, median of %d):\n' % (title, ROUNDS))
        print('| op | mpmgr (Python) | CPython Manager | redis-py+hiredis '
              '| libmpmgr (C) | vs Manager | vs redis-py | of C |')
        print('|---|---|---|---|---|---|---|---|')
        for i, op in enumerate(('get d[k]', 'set d[k] = v')):
            m, c, r, cc = (t[x][i] for x in ('mpmgr', 'cpython', 'redis',
                                              'c'))
            print('| %s | %s | %s | %s | %s | %.2fx | %.2fx | %.2f |' % (
                op, k(m), k(c), k(r), k(cc), m / c, m / r, m / cc))
    print('\n8 processes, get/set mix, aggregate ops/s (median of %d):\n'
          % ROUNDS)
    print('| mpmgr | CPython Manager | redis-py+hiredis | vs Manager | '
          'vs redis-py |')
    print('|---|---|---|---|---|')
    print('| %s | %s | %s | %.2fx | %.2fx |' % (
        k(many['mpmgr']), k(many['cpython']), k(many['redis']),
        many['mpmgr'] / many['cpython'], many['mpmgr'] / many['redis']))
    print('\nbatch verbs, items/s, N = %d (median of %d; CPython\'s queue: '
          'put/get in a loop):\n' % (N_BATCH, ROUNDS))
    print('| verb | mpmgr | CPython Manager | redis-py (HSET mapping, '
          'HGETALL, RPUSH, LPOP count) | vs Manager |')
    print('|---|---|---|---|---|')
    for name, cs in bulk.items():
        print('| %s | %s | %s | %s | %.1fx |' % (
            name, k(cs['mpmgr']), k(cs['cpython']), k(cs['redis']),
            cs['mpmgr'] / cs['cpython']))


if __name__ == '__main__':
    main()
