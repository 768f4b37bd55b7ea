"""The differential test: random operation sequences on CPython's Manager
and on mpmgr's give equal results and equal exceptions (type and
arguments).

The values avoid what README.md lists as mpmgr's differences: NaN (equal
to nothing, so a NaN key is a new key each time in CPython only by
identity); bools among ints in lists (the daemon's list search compares
True and 1 as different); ints and floats mixed inside nested containers
(compared by bytes there). Keys that Python calls equal but of other
types (1, 1.0, True) do appear: mpmgr reads such a key back as the first
type written, or its int, which compares equal. set is compared with a
plain Python set (CPython 3.11's Manager has none). task_done is left
out: the daemon counts it against items got, CPython against items put
(README.md). Sequences are seeded: a failure names its seed and step;
DIFF_SEEDS=N runs N seeds per type (12 by default, 150 pass).
"""

import array
import multiprocessing
import os
import random
import zlib

import pytest

SEEDS = range(int(os.environ.get('DIFF_SEEDS', 12)))
STEPS = 60

SCALARS = [0, 1, -1, 2, 7, 2 ** 40, -2 ** 63, 2 ** 70, 1.5, -0.0, 2.0, 'a',
           'b', '', 'é', b'x', b'', None]
KEYS = SCALARS + [True, 1.0, (1, 'a'), (2,), (), frozenset({1, 2})]


def value(r, depth=0):
    c = r.random()
    if depth > 2 or c < 0.6:
        return r.choice(SCALARS)
    if c < 0.7:
        return tuple(r.choice([1, 'x', None]) for _ in range(r.randrange(3)))
    if c < 0.85:
        return [value(r, depth + 1) for _ in range(r.randrange(3))]
    return {r.choice(['k', 'l', 3]): value(r, depth + 1)
            for _ in range(r.randrange(3))}


def list_value(r):
    return r.choice([0, 1, 2, 3, -1, 1.5, 2.0, 'a', 'b', None, (1, 'a'),
                     [1, 2], b'x'])


def index(r):
    return r.choice([0, 1, 2, -1, -2, 5, -7, 100])


def call(f):
    try:
        return f()
    except Exception as e:
        return e


def normal(x):
    """What is compared: exceptions by type and args, numbers by value."""
    if isinstance(x, BaseException):
        return ('raise', type(x), x.args)
    if isinstance(x, array.array):
        return ('array', x.typecode, x.tolist())
    return x


def check(seed, ops, objs):
    for step, (what, op) in enumerate(ops):
        got = [normal(call(lambda: op(o))) for o in objs]
        assert got[0] == got[1], 'seed %d step %d: %s: %r != %r' % (
            seed, step, what, got[0], got[1])
        if not isinstance(got[0], tuple) or got[0][:1] != ('raise',):
            assert type(got[0]) is type(got[1]) or \
                isinstance(got[0], (int, float)), \
                'seed %d step %d: %s: types %r %r' % (
                    seed, step, what, type(got[0]), type(got[1]))


@pytest.fixture(scope='module')
def cpython():
    m = multiprocessing.Manager()
    yield m
    m.shutdown()


def dict_ops(r):
    ops = []
    for _ in range(STEPS):
        k, v = r.choice(KEYS), value(r)
        ops.append(r.choice([
            ('set %r' % (k,), lambda d, k=k, v=v: d.__setitem__(k, v)),
            ('get %r' % (k,), lambda d, k=k: d[k]),
            ('get() %r' % (k,), lambda d, k=k: d.get(k)),
            ('get(dflt) %r' % (k,), lambda d, k=k: d.get(k, 'dflt')),
            ('del %r' % (k,), lambda d, k=k: d.__delitem__(k)),
            ('in %r' % (k,), lambda d, k=k: k in d),
            ('pop %r' % (k,), lambda d, k=k: d.pop(k)),
            ('pop dflt %r' % (k,), lambda d, k=k: d.pop(k, None)),
            ('setdefault %r' % (k,), lambda d, k=k, v=v: d.setdefault(k, v)),
            ('popitem', lambda d: d.popitem()),
            ('len', lambda d: len(d)),
            ('keys', lambda d: d.keys()),
            ('values', lambda d: d.values()),
            ('items', lambda d: d.items()),
            ('copy', lambda d: d.copy()),
            ('update', lambda d, k=k, v=v: d.update({k: v}, z=v)),
            ('iter', lambda d: list(d)),
            ('set [] key', lambda d, v=v: d.__setitem__([1], v)),
        ] + ([('clear', lambda d: d.clear())] if r.random() < 0.05 else [])))
    return ops


def list_ops(r):
    ops = []
    for _ in range(STEPS):
        v, i, j = list_value(r), index(r), index(r)
        step = r.choice([None, 1, 2, -1, -2])
        ops.append(r.choice([
            ('append', lambda l, v=v: l.append(v)),
            ('extend', lambda l, v=v: l.extend([v, v])),
            ('insert %d' % i, lambda l, i=i, v=v: l.insert(i, v)),
            ('get %d' % i, lambda l, i=i: l[i]),
            ('set %d' % i, lambda l, i=i, v=v: l.__setitem__(i, v)),
            ('del %d' % i, lambda l, i=i: l.__delitem__(i)),
            ('pop %d' % i, lambda l, i=i: l.pop(i)),
            ('pop', lambda l: l.pop()),
            ('slice %d:%d:%r' % (i, j, step),
             lambda l, i=i, j=j, s=step: l[i:j:s]),
            ('slice set %d:%d' % (i, j),
             lambda l, i=i, j=j, v=v: l.__setitem__(slice(i, j), [v])),
            ('slice del %d:%d:%r' % (i, j, step),
             lambda l, i=i, j=j, s=step: l.__delitem__(slice(i, j, s))),
            ('remove %r' % (v,), lambda l, v=v: l.remove(v)),
            ('index %r' % (v,), lambda l, v=v: l.index(v)),
            ('index %r %d' % (v, i), lambda l, v=v, i=i: l.index(v, i)),
            ('count %r' % (v,), lambda l, v=v: l.count(v)),
            ('in %r' % (v,), lambda l, v=v: v in l),
            ('len', lambda l: len(l)),
            ('reverse', lambda l: l.reverse()),
            ('sort', lambda l: l.sort()),
            ('sort rev', lambda l: l.sort(reverse=True)),
            ('all', lambda l: l[:]),
            ('add', lambda l: l + [1]),
            ('mul', lambda l: l * 2),
            ('get str', lambda l: l['x']),
        ]))
    return ops


def queue_ops(r):
    ops = []
    for _ in range(STEPS):
        v = value(r)
        ops.append(r.choice([
            ('put', lambda q, v=v: q.put(v, True, 0.001)),
            ('put_nowait', lambda q, v=v: q.put_nowait(v)),
            ('put noblock', lambda q, v=v: q.put(v, False)),
            ('get', lambda q: q.get(False)),
            ('get_nowait', lambda q: q.get_nowait()),
            ('get -1', lambda q: q.get(True, -1)),
            ('qsize', lambda q: q.qsize()),
            ('empty', lambda q: q.empty()),
            ('full', lambda q: q.full()),
        ]))
    return ops


def namespace_ops(r):
    ops = []
    for _ in range(STEPS):
        a, v = r.choice(['x', 'y', 'zz']), value(r)
        ops.append(r.choice([
            ('setattr %s' % a, lambda n, a=a, v=v: setattr(n, a, v)),
            ('getattr %s' % a, lambda n, a=a: getattr(n, a)),
            ('delattr %s' % a, lambda n, a=a: delattr(n, a)),
            ('hasattr %s' % a, lambda n, a=a: hasattr(n, a)),
            ('str', lambda n: str(n)),
        ]))
    return ops


def value_ops(r):
    ops = []
    for _ in range(STEPS):
        v = value(r)
        ops.append(r.choice([
            ('set', lambda x, v=v: x.set(v)),
            ('value=', lambda x, v=v: setattr(x, 'value', v)),
            ('get', lambda x: x.get()),
            ('value', lambda x: x.value),
        ]))
    return ops


def array_ops(r):
    ops = []
    for _ in range(STEPS):
        i = index(r)
        v = r.choice([0, 5, -9, 2 ** 31, 1.5, 'x', None])
        ops.append(r.choice([
            ('get %d' % i, lambda a, i=i: a[i]),
            ('set %d %r' % (i, v), lambda a, i=i, v=v: a.__setitem__(i, v)),
            ('len', lambda a: len(a)),
            ('all', lambda a: a[:]),
            ('slice', lambda a, i=i: a[i:]),
        ]))
    return ops


def sync_ops(r):
    ops = []
    for _ in range(STEPS):
        ops.append(r.choice([
            ('lock acquire', lambda o: o[0].acquire(False)),
            ('lock release', lambda o: o[0].release()),
            ('lock acquire timeout', lambda o: o[0].acquire(False, 1)),
            ('rlock acquire', lambda o: o[1].acquire(False)),
            ('rlock release', lambda o: o[1].release()),
            ('sem acquire', lambda o: o[2].acquire(False)),
            ('sem release', lambda o: o[2].release()),
            ('bsem acquire', lambda o: o[3].acquire(False)),
            ('bsem release', lambda o: o[3].release()),
            ('event set', lambda o: o[4].set()),
            ('event clear', lambda o: o[4].clear()),
            ('event is_set', lambda o: o[4].is_set()),
            ('event wait', lambda o: o[4].wait(0)),
            ('cond notify', lambda o: o[5].notify()),
            ('cond acquire', lambda o: o[5].acquire(False)),
            ('cond release', lambda o: o[5].release()),
            ('cond wait', lambda o: o[5].wait(0)),
            ('barrier parties', lambda o: o[6].parties),
            ('barrier broken', lambda o: o[6].broken),
            ('barrier n_waiting', lambda o: o[6].n_waiting),
        ]))
    return ops


def make_sync(m):
    return (m.Lock(), m.RLock(), m.Semaphore(2), m.BoundedSemaphore(2),
            m.Event(), m.Condition(), m.Barrier(3))


CASES = {
    'dict': (dict_ops, lambda m: m.dict({1: 'one', 'a': [1]})),
    'list': (list_ops, lambda m: m.list([3, 1, 2, 'a'])),
    'Queue': (queue_ops, lambda m: m.Queue(3)),
    'Namespace': (namespace_ops, lambda m: m.Namespace(x=1)),
    'Value': (value_ops, lambda m: m.Value('i', 7)),
    'Array': (array_ops, lambda m: m.Array('i', [1, 2, 3])),
    'sync': (sync_ops, make_sync),
}


@pytest.mark.parametrize('seed', SEEDS)
@pytest.mark.parametrize('case', sorted(CASES))
def test_differential(cpython, manager, case, seed):
    gen, make = CASES[case]
    ops = gen(random.Random(seed * 1000 + zlib.crc32(case.encode())))
    check(seed, ops, (make(cpython), make(manager)))


def test_set_against_python(manager):
    for seed in SEEDS:
        r = random.Random(seed)
        ops = []
        for _ in range(STEPS):
            x, others = r.choice(KEYS), {r.choice(KEYS) for _ in range(3)}
            ops.append(r.choice([
                ('add', lambda s, x=x: s.add(x)),
                ('discard', lambda s, x=x: s.discard(x)),
                ('remove', lambda s, x=x: s.remove(x)),
                ('in', lambda s, x=x: x in s),
                ('len', lambda s: len(s)),
                ('update', lambda s, o=others: s.update(o)),
                ('difference_update',
                 lambda s, o=others: s.difference_update(o)),
                ('intersection_update',
                 lambda s, o=others: s.intersection_update(o | {1, 'a'})),
                ('symmetric_difference_update',
                 lambda s, o=others: s.symmetric_difference_update(o)),
                ('union', lambda s, o=others: s.union(o)),
                ('and', lambda s, o=others: s & o),
                ('sub', lambda s, o=others: s - o),
                ('issubset', lambda s, o=others: s.issubset(o)),
                ('copy', lambda s: s.copy() if hasattr(s, '_call')
                 else set(s)),
            ]))
        check(seed, ops, (set([1, 'a']), manager.set([1, 'a'])))
