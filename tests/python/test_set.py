"""SetProxy (Python 3.14's SyncManager.set): every method."""

import collections.abc

import pytest


@pytest.fixture
def s(manager):
    return manager.set([1, 2, 3])


def test_basic(manager, s):
    assert manager.set().copy() == set()
    assert s.copy() == {1, 2, 3} and len(s) == 3
    assert 1 in s and 1.0 in s and 4 not in s
    s.add(4)
    s.add(4.0)
    assert len(s) == 4
    s.discard(4)
    s.discard(99)
    s.remove(3)
    with pytest.raises(KeyError):
        s.remove(3)
    assert sorted(s) == [1, 2]
    assert s.pop() in (1, 2) and len(s) == 1
    s.clear()
    with pytest.raises(KeyError, match='pop from an empty set'):
        s.pop()
    assert isinstance(s, collections.abc.MutableSet)
    assert repr(s).startswith("<SetProxy object, typeid 'set' at 0x")
    assert str(manager.set([1])) == '{1}'


def test_algebra(manager, s):
    o = manager.set([2, 3, 4])
    assert s | {9} == {1, 2, 3, 9} and s | o == {1, 2, 3, 4}
    assert s & o == {2, 3} and s - o == {1} and s ^ o == {1, 4}
    assert {9} | s == {1, 2, 3, 9} and {1, 9} - s == {9}
    assert s.union({5}, [6]) == {1, 2, 3, 5, 6}
    assert s.intersection(o, {3}) == {3}
    assert s.difference([1]) == {2, 3}
    assert s.symmetric_difference(o) == {1, 4}
    assert s.isdisjoint({7}) and s.issubset({1, 2, 3, 4})
    assert s.issuperset({1}) and s <= {1, 2, 3} and s < {1, 2, 3, 4}
    assert s >= {1} and s > {1}


def test_in_place(manager, s):
    s.update([4], {5})
    assert s.copy() == {1, 2, 3, 4, 5}
    s.difference_update([5], {4})
    assert s.copy() == {1, 2, 3}
    s.intersection_update({1, 2, 9})
    assert s.copy() == {1, 2}
    s.symmetric_difference_update({2, 7})
    assert s.copy() == {1, 7}
    s |= {8}
    s &= {1, 8}
    s -= {1}
    s ^= {8, 9}
    assert s.copy() == {9}


def test_elements(manager):
    s = manager.set([(1, 2), frozenset({3}), 'a', b'a', None])
    assert s.copy() == {(1, 2), frozenset({3}), 'a', b'a', None}
    assert (1.0, 2) in s
