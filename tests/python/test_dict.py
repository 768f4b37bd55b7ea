"""DictProxy: every method, CPython's results and exceptions, the atomic
helpers, and Python's key equality."""

import collections.abc
import decimal
import fractions
import pickle

import pytest

import mpmgr


@pytest.fixture
def d(manager):
    return manager.dict()


def test_factory_forms(manager):
    assert manager.dict().copy() == {}
    assert manager.dict({'a': 1}).copy() == {'a': 1}
    assert manager.dict([('a', 1), ('b', 2)], c=3).copy() == \
        {'a': 1, 'b': 2, 'c': 3}
    assert manager.dict(x=1).copy() == {'x': 1}
    with pytest.raises(TypeError):
        manager.dict(1, 2)
    with pytest.raises(ValueError):
        manager.dict([(1, 2, 3)])


def test_item_access(d):
    d['a'] = 1
    assert d['a'] == 1
    assert 'a' in d and 'b' not in d
    assert len(d) == 1
    with pytest.raises(KeyError) as e:
        d['b']
    assert e.value.args == ('b',) and type(e.value) is KeyError
    del d['a']
    with pytest.raises(KeyError) as e:
        del d['a']
    assert e.value.args == ('a',)
    assert len(d) == 0 and not d


def test_get_setdefault_pop(d):
    assert d.get('x') is None
    assert d.get('x', 5) == 5
    d['n'] = None
    assert d.get('n', 5) is None            # a stored None is not missing
    assert d.setdefault('s', 7) == 7
    assert d.setdefault('s', 8) == 7
    assert d.setdefault('t') is None and 't' in d
    assert d.pop('s') == 7
    assert d.pop('s', 'dflt') == 'dflt'
    with pytest.raises(KeyError) as e:
        d.pop('s')
    assert e.value.args == ('s',)
    with pytest.raises(TypeError):
        d.pop('a', 1, 2)


def test_popitem_lifo(d):
    d.update([('a', 1), ('b', 2)])
    assert d.popitem() == ('b', 2)
    assert d.popitem() == ('a', 1)
    with pytest.raises(KeyError) as e:
        d.popitem()
    assert e.value.args == ('popitem(): dictionary is empty',)


def test_views_in_order(d):
    for k in 'zyx':
        d[k] = ord(k)
    assert d.keys() == ['z', 'y', 'x']
    assert d.values() == [122, 121, 120]
    assert d.items() == [('z', 122), ('y', 121), ('x', 120)]
    assert d.copy() == {'z': 122, 'y': 121, 'x': 120}
    assert list(d) == ['z', 'y', 'x']
    assert list(reversed(d)) == ['x', 'y', 'z']
    assert str(d) == "{'z': 122, 'y': 121, 'x': 120}"
    d.clear()
    assert d.copy() == {} and len(d) == 0


def test_iter_like_dict(d):
    for i in range(65, 70):
        d[i] = chr(i)
    it = iter(d)
    assert list(it) == list(range(65, 70))
    assert list(it) == []
    it = iter(d)
    d.clear()
    with pytest.raises(RuntimeError):
        next(it)


def test_update_forms(manager, d):
    d.update({'a': 1})
    d.update([('b', 2)], c=3)
    d.update(e=5)
    other = manager.dict({'f': 6})
    d.update(other)
    assert d.copy() == {'a': 1, 'b': 2, 'c': 3, 'e': 5, 'f': 6}
    with pytest.raises(TypeError):
        d.update({}, {})
    d.update()
    assert len(d) == 5


def test_or(d):
    d['a'] = 1
    assert d | {'b': 2} == {'a': 1, 'b': 2}
    assert {'b': 2} | d == {'b': 2, 'a': 1}
    d |= {'c': 3}
    assert d.copy() == {'a': 1, 'c': 3}


def test_repr_and_abc(d):
    assert repr(d).startswith("<DictProxy object, typeid 'dict' at 0x")
    assert isinstance(d, collections.abc.MutableMapping)
    assert isinstance(d, mpmgr.DictProxy)


def test_unhashable_key(d):
    with pytest.raises(TypeError, match='unhashable'):
        d[[1]] = 2
    with pytest.raises(TypeError):
        d[{}]
    with pytest.raises(TypeError):
        d[(1, [2])] = 3


def test_python_key_equality(d):
    d[1] = 'one'
    assert d[1.0] == 'one' and d[True] == 'one'
    d[True] = 'true'
    assert len(d) == 1 and d[1] == 'true'
    d[0] = 'zero'
    assert d[-0.0] == 'zero' and d[False] == 'zero' and d[0.0] == 'zero'
    d[(1, 2)] = 't'
    assert d[(1.0, True + 1)] == 't'
    d[frozenset({'a', 'b'})] = 'fs'
    assert d[frozenset(['b', 'a'])] == 'fs'
    d[2 ** 70] = 'big'
    assert d[float(2 ** 70)] == 'big'
    d[decimal.Decimal('3')] = 'dec'
    assert d[3] == 'dec'
    assert d[fractions.Fraction(3, 1)] == 'dec'
    d[1.5] = 'float'
    assert d[fractions.Fraction(3, 2)] == 'float'
    assert d[decimal.Decimal('1.5')] == 'float'
    d[complex(4, 0)] = 'c'
    assert d[4] == 'c'
    assert 1 in d and 1.0 in d and True in d
    assert d.get(2.0) is None


def test_key_subclasses(d):
    import enum

    class Color(enum.IntEnum):
        RED = 7

    class S(str):
        pass

    d[Color.RED] = 'red'
    assert d[7] == 'red'
    d[S('k')] = 'str'
    assert d['k'] == 'str'
    assert len(d) == 2


def test_keys_bytes_and_str_differ(d):
    d['a'] = 1
    d[b'a'] = 2
    assert d['a'] == 1 and d[b'a'] == 2


def test_values_round_trip(d):
    cases = [None, True, False, 0, -1, 2 ** 63 - 1, 2 ** 64 - 1, 2 ** 64,
             -2 ** 63, -2 ** 100, 1.0, float('inf'), 'str', '\ud800',
             b'bytes', bytearray(b'ba'), [1, [2, (3,)]], (1, 'a', None),
             (), {'k': (1, 2), 3: [4]}, {(1, 2): 'tuple key'},
             frozenset({1, 'a'}), {1, 2}, complex(1, 2),
             decimal.Decimal('1.10'), collections.OrderedDict(a=1)]
    for i, v in enumerate(cases):
        d[i] = v
        got = d[i]
        assert got == v and type(got) is type(v) or \
            (type(v) in (int, float) and type(got).__mro__[-2] is type(v)), \
            (v, got)


def test_incr(d):
    assert d.incr('n') == 1
    assert d.incr('n', 10) == 11
    assert d.incr('n', -12) == -1
    assert d.incr('f', 0.5) == 0.5
    assert d.incr('n', 1.5) == 0.5
    d['s'] = 'x'
    with pytest.raises(TypeError):
        d.incr('s')
    # exact: any sum that fits int64 or uint64 is the answer (issue 14)
    d['big'] = 2 ** 63 - 1
    assert d.incr('big') == 2 ** 63
    assert d.incr('big', -(2 ** 63)) == 0
    d['big'] = 2 ** 64 - 1
    with pytest.raises(OverflowError):
        d.incr('big')
    d['big'] = -(2 ** 63)
    with pytest.raises(OverflowError):
        d.incr('big', -1)


def test_cas(d):
    assert d.cas('k', None, 1) == (True, 1)      # missing matches None
    assert d.cas('k', 2, 3) == (False, 1)
    assert d.cas('k', 1, 'x') == (True, 'x')
    assert d['k'] == 'x'


def test_op_assign_is_incr(manager):
    # another proxy changes the value between the read and the write:
    # d[k] -= 10 must not lose that change
    d = manager.dict({'num': 100})
    other = pickle.loads(pickle.dumps(d))
    x = d['num']
    assert type(x) is not int and x == 100 and isinstance(x, int)
    other.incr('num', 1)                    # meanwhile
    x -= 10
    d['num'] = x
    assert d['num'] == 91
    d['num'] -= 1
    assert d['num'] == 90
    d['f'] = 1.5
    d['f'] += 1
    assert d['f'] == 2.5


def test_op_assign_does_not_apply(d):
    d['a'] = 10
    x = d['a']
    d['a'] = 50
    d['a'] = x - 1                  # not op=: a plain set of 9
    assert d['a'] == 9
    y = d['a']
    y -= 1                          # op= but to another key: plain
    d['b'] = y
    d['a'] = 100
    assert d['b'] == 8
    z = d['a']
    z += 1
    d['a'] = z                      # incr by 1 -> 101
    d['a'] = z                      # the same delta again: a plain set
    assert d['a'] == 101
    w = d['a']
    w += 'x' if False else 2
    d['a'] = 'str'
    d['a'] = w                      # no longer a number: plain set
    assert d['a'] == 103
    v = d['a']
    v *= 2                          # other operators: plain
    d['a'] = 1
    d['a'] = v
    assert d['a'] == 206
    assert type(pickle.loads(pickle.dumps(d['a']))) is int


def test_getvalue_and_callmethod(d):
    d['a'] = 1
    assert d._getvalue() == {'a': 1}
    assert d._callmethod('__getitem__', ('a',)) == 1
    assert d._callmethod('#GETVALUE') == {'a': 1}
    import copy
    assert copy.deepcopy(d) == {'a': 1}
