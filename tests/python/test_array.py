"""ArrayProxy: len, items, slices, CPython's exceptions for values."""

import array

import pytest


def test_array(manager):
    a = manager.Array('i', [0, 1, 2, 3])
    assert len(a) == 4 and a[0] == 0 and a[-1] == 3
    assert list(a) == [0, 1, 2, 3]
    assert a[1:3] == array.array('i', [1, 2])
    assert a[:] == array.array('i', [0, 1, 2, 3])
    a[0] = 10
    a[-1] = -3
    assert a[:].tolist() == [10, 1, 2, -3]
    a[1:3] = [7, 8]
    assert a[:].tolist() == [10, 7, 8, -3]
    a[::2] = array.array('i', [5, 6])
    assert a[:].tolist() == [5, 7, 6, -3]
    with pytest.raises(IndexError, match='array index out of range'):
        a[4]
    with pytest.raises(IndexError, match='array assignment index out of '
                       'range'):
        a[4] = 1
    with pytest.raises(TypeError):
        a[0] = 'x'
    with pytest.raises(TypeError):
        a[0] = 1.5
    with pytest.raises(OverflowError):
        a[0] = 2 ** 40
    with pytest.raises(ValueError):
        a[0:2] = [1]                # the length is fixed
    assert str(a) == "array('i', [5, 7, 6, -3])"


def test_typecodes(manager):
    assert manager.Array('d', [0.5, 1])[:].tolist() == [0.5, 1.0]
    assert manager.Array('B', b'\x01\x02')[:].tolist() == [1, 2]
    assert manager.Array('q', 3)[:].tolist() == [0, 0, 0]
    with pytest.raises(ValueError):
        manager.Array('z', [1])
    with pytest.raises(TypeError):
        manager.Array('i', [1.5])
    with pytest.raises(OverflowError):
        manager.Array('b', [300])
    with pytest.raises(ValueError, match='not supported'):
        manager.Array('u', 'abc')


def test_typecode_from_a_reference(manager):
    a = manager.Array('h', [1, 2])
    d = manager.dict()
    d['a'] = a
    assert d['a'][:] == array.array('h', [1, 2])
