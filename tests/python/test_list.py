"""ListProxy: every method, slices, CPython's exceptions."""

import collections.abc

import pytest


@pytest.fixture
def l(manager):
    return manager.list([3, 1, 2])


def test_factory(manager):
    assert manager.list()[:] == []
    assert manager.list('abc')[:] == ['a', 'b', 'c']
    assert manager.list(range(3))[:] == [0, 1, 2]
    with pytest.raises(TypeError):
        manager.list(5)


def test_index_access(l):
    assert l[0] == 3 and l[-1] == 2 and l[True] == 1
    with pytest.raises(IndexError) as e:
        l[3]
    assert str(e.value) == 'list index out of range'
    with pytest.raises(TypeError, match='list indices must be integers or '
                       'slices, not str'):
        l['a']
    l[0] = 30
    l[-1] = 20
    assert l[:] == [30, 1, 20]
    with pytest.raises(IndexError, match='list assignment index out of '
                       'range'):
        l[5] = 1
    del l[1]
    assert l[:] == [30, 20]
    with pytest.raises(IndexError, match='list assignment index out of '
                       'range'):
        del l[5]


def test_slices(manager):
    l = manager.list(range(10))
    assert l[2:5] == [2, 3, 4]
    assert l[::-3] == [9, 6, 3, 0]
    assert l[-3:] == [7, 8, 9]
    assert l[100:] == []
    with pytest.raises(ValueError):
        l[::0]
    l[2:5] = ['a']
    assert l[:] == [0, 1, 'a', 5, 6, 7, 8, 9]
    l[1:1] = ['x', 'y']
    assert l[:] == [0, 'x', 'y', 1, 'a', 5, 6, 7, 8, 9]
    l[::2] = range(5)
    assert l[:] == [0, 'x', 1, 1, 2, 5, 3, 7, 4, 9]
    with pytest.raises(ValueError, match='extended slice of size 5'):
        l[::2] = [1]
    with pytest.raises(TypeError, match='can only assign an iterable'):
        l[1:2] = 5
    del l[::2]
    assert l[:] == ['x', 1, 5, 7, 9]
    del l[1:3]
    assert l[:] == ['x', 7, 9]
    del l[:]
    assert l[:] == [] and len(l) == 0


def test_mutators(l):
    l.append(4)
    l.extend([5, 6])
    l.extend(x for x in (7,))
    l.insert(0, 0)
    l.insert(100, 100)
    l.insert(-1, 99)
    assert l[:] == [0, 3, 1, 2, 4, 5, 6, 7, 99, 100]
    assert l.pop() == 100
    assert l.pop(0) == 0
    assert l.pop(-2) == 7
    with pytest.raises(IndexError, match='pop index out of range'):
        l.pop(50)
    l.remove(99)
    with pytest.raises(ValueError, match=r'list.remove\(x\): x not in list'):
        l.remove(99)
    assert l[:] == [3, 1, 2, 4, 5, 6]


def test_pop_empty(manager):
    with pytest.raises(IndexError, match='pop from empty list'):
        manager.list().pop()


def test_search(manager):
    l = manager.list([1, 2, 3, 2, 1.0])
    assert l.index(2) == 1
    assert l.index(2, 2) == 3
    assert l.index(1, 1) == 4           # 1 == 1.0
    with pytest.raises(ValueError, match='9 is not in list'):
        l.index(9)
    with pytest.raises(ValueError):
        l.index(2, 4, 5)
    assert l.count(2) == 2 and l.count(1) == 2
    assert 3 in l and 9 not in l


def test_reverse_sort(manager):
    l = manager.list([3, 1, 2])
    l.reverse()
    assert l[:] == [2, 1, 3]
    l.sort()
    assert l[:] == [1, 2, 3]
    l.sort(reverse=True)
    assert l[:] == [3, 2, 1]
    l.sort(key=lambda x: -x)
    assert l[:] == [3, 2, 1]
    words = manager.list(['b', 'A', 'c'])
    words.sort(key=str.lower)
    assert words[:] == ['A', 'b', 'c']
    # what the daemon does not order, Python may
    nested = manager.list([[2], [1, 5], [1]])
    nested.sort()
    assert nested[:] == [[1], [1, 5], [2]]
    mixed = manager.list([1, 'a'])
    with pytest.raises(TypeError, match="'<' not supported"):
        mixed.sort()
    assert mixed[:] == [1, 'a']
    with pytest.raises(TypeError):
        l.sort(lambda x: x)


def test_operators(manager, l):
    assert l + [4] == [3, 1, 2, 4]
    with pytest.raises(TypeError):
        l + (4,)
    assert l * 2 == [3, 1, 2, 3, 1, 2]
    assert 2 * l == [3, 1, 2, 3, 1, 2]
    l2 = l
    l += [4]
    assert l is l2 and l[:] == [3, 1, 2, 4]
    l *= 2
    assert l is l2 and l[:] == [3, 1, 2, 4] * 2
    l *= 1
    assert len(l) == 8
    l *= 0
    assert l[:] == []
    assert list(reversed(manager.list([1, 2]))) == [2, 1]


def test_iteration_sees_changes_ahead(manager):
    a = manager.list(list(range(10)))
    it = iter(a)
    assert list(it) == list(range(10))
    assert list(it) == []
    it = iter(a)
    a[0] = 100
    assert next(it) == 100
    big = manager.list(range(5000))
    assert list(big) == list(range(5000))


def test_misc(l):
    assert repr(l).startswith("<ListProxy object, typeid 'list' at 0x")
    assert str(l) == '[3, 1, 2]'
    assert isinstance(l, collections.abc.MutableSequence)
    assert bool(l)
    l.clear()
    assert not l
    assert l._getvalue() == []


def test_values(manager):
    vals = [None, (1, 2), {'a': (3,)}, [[], [()]], b'x', 2 ** 80, 1.5]
    l = manager.list(vals)
    assert l[:] == vals
    assert type(l[1]) is tuple and type(l[2]['a']) is tuple
