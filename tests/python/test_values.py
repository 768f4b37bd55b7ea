"""The encoding of Python values (docs/PROTOCOL.md, "Python values"):
what other clients see, what they may write, malformed payloads."""

import base64
import json

import msgpack
import pytest

import mpmgr


@pytest.fixture(scope='module')
def client(manager):
    return manager._client


def ext(code, data):
    return msgpack.ExtType(code, data)


def test_plain_values_are_msgpack(client):
    for v in [None, True, 0, -1, 2 ** 64 - 1, 1.5, 'é', b'\0', [1, [2]],
              {'a': {'b': None}}]:
        assert msgpack.unpackb(client.packb(v), raw=False,
                               strict_map_key=False) == v


def test_ext_types(manager, client):
    up = lambda b: msgpack.unpackb(b, raw=False)
    assert up(client.packb((1, 'a'))) == ext(2, msgpack.packb([1, 'a']))
    assert up(client.packb(())) == ext(2, b'\x90')
    d = manager.dict()
    assert up(client.packb(d)) == ext(3, ('dict:' + d._name).encode())
    assert up(client.packb(manager.Namespace())).data.startswith(
        b'namespace:')
    assert up(client.packb(2 ** 64)) == ext(5, b'\x01' + b'\0' * 8)
    assert up(client.packb(-2 ** 64)) == ext(5, b'\xff' + b'\0' * 8)
    assert up(client.packb(-2 ** 63 - 1)) == ext(5, b'\xff\x7f' + b'\xff' * 7)
    fs = up(client.packb(frozenset({'b', 'a', 1})))
    assert fs.code == 4
    assert msgpack.unpackb(fs.data) == [1, 'a', 'b']    # sorted by bytes
    assert up(client.packb({1, 2})).code == 1            # pickled
    assert up(client.packb(complex(1, 2))).code == 1
    assert up(client.packb('\ud800')).code == 1          # lone surrogate


def test_keys_are_normalised(client):
    k = lambda v: client.packb(v, key=True)
    assert k(1) == k(1.0) == k(True) == msgpack.packb(1)
    assert k(0) == k(-0.0) == k(False)
    assert k(1.5) == msgpack.packb(1.5)
    assert k((1, 2.0)) == k((True, 2))
    assert k(2.0 ** 80) == k(2 ** 80)
    assert k(float('inf')) == msgpack.packb(float('inf'))
    assert client.key('x').bytes == msgpack.packb('x')
    with pytest.raises(TypeError):
        k([1])


def test_unknown_ext_round_trips(manager, client):
    e = mpmgr.ExtType(42, b'opaque')
    assert client.unpackb(client.packb(e)) == e
    d = manager.dict()
    d['e'] = e
    assert d['e'] == e and type(d['e']) is mpmgr.ExtType


def test_map_with_array_keys(client):
    b = msgpack.packb({(1, 2): 'x'}, use_bin_type=True)
    assert client.unpackb(b) == {(1, 2): 'x'}


@pytest.mark.parametrize('payload', [
    ext(2, b''), ext(2, b'\x92\x01'), ext(2, b'\x01'), ext(2, b'\x91\x01\x01'),
    ext(2, b'\xdd\x7f\xff\xff\xff'), ext(4, b'\xc1'), ext(3, b'nocolon'),
    ext(2, b'\xd9\x05ab'), ext(2, b'\x91\xa2\xff\xfe')])
def test_malformed_payloads(client, payload):
    with pytest.raises(ValueError):
        client.unpackb(msgpack.packb(payload))


def test_deep_and_recursive_values(manager):
    deep = []
    cur = deep
    for _ in range(200):
        cur.append([])
        cur = cur[0]
    l = manager.list()
    l.append(deep)
    assert l[0] == deep
    rec = []
    rec.append(rec)
    l.append(rec)
    got = l[1]
    assert got[0] is got
    t = ()
    for _ in range(300):
        t = (t,)
    l.append(t)
    assert l[2] == t


def test_what_mpctl_sees(manager, daemon):
    m = mpmgr.Manager(address=daemon.socket)
    try:
        cfg = m.named.dict('cfg')
        inner = m.named.list('jobs')
        cfg['inner'] = inner
        cfg['t'] = (1, 2)
        cfg['n'] = 5
        cfg[2] = 'two'
        out = daemon.mpctl('dict', 'get', '-n', 'cfg', 'inner').stdout
        code, b64 = json.loads(out)['$ext']
        assert code == 3 and base64.b64decode(b64) == b'list:jobs'
        assert daemon.mpctl('dict', 'get', '-n', 'cfg', 'n').stdout == '5\n'
        assert daemon.mpctl('dict', 'get', '-n', 'cfg', '2').stdout == \
            'two\n'
        # a shell writes a reference, Python reads a proxy
        ref = json.dumps({'$ext': [3, base64.b64encode(
            b'queue:q1').decode()]})
        daemon.mpctl('dict', 'set', '-n', 'cfg', 'q', ref)
        q = cfg['q']
        assert isinstance(q, mpmgr.QueueProxy) and q._name == 'q1'
        q.put('from python')
        assert daemon.mpctl('queue', 'get', '-n', 'q1').stdout == \
            'from python\n'
        daemon.mpctl('dict', 'set', '-n', 'cfg', 'j', '[1, {"a": null}]')
        assert cfg['j'] == [1, {'a': None}]
        inner.append(1)
        assert cfg['inner'][:] == [1]
    finally:
        m.shutdown()


def test_reference_across_managers_of_one_daemon(daemon):
    a = mpmgr.Manager(address=daemon.socket)
    b = mpmgr.Manager(address=daemon.socket)
    try:
        d = a.named.dict('holder')
        d['x'] = b.named.list('shared')       # the same daemon: a reference
        out = daemon.mpctl('dict', 'get', '-n', 'holder', 'x').stdout
        assert json.loads(out)['$ext'][0] == 3
        d['x'].append(1)
        assert b.named.list('shared')[:] == [1]
    finally:
        a.shutdown()
        b.shutdown()
