"""ValueProxy: get, set, value, the atomic helpers and v.value += n."""

import multiprocessing

import pytest


def test_value(manager):
    v = manager.Value('i', 1)
    assert v.value == 1 and v.get() == 1
    v.set(5)
    assert v.value == 5
    v.value = 'anything'           # CPython's manager keeps any object
    assert v.get() == 'anything'
    v.value = (1, 2)
    assert v.value == (1, 2)
    assert str(v) == "Value('i', (1, 2))"
    assert repr(v).startswith("<ValueProxy object, typeid 'Value' at 0x")
    assert manager.Value('d', None).value is None


def test_incr_cas(manager):
    v = manager.Value('i', 0)
    assert v.incr() == 1 and v.incr(10) == 11 and v.incr(0.5) == 11.5
    v.value = 3
    assert v.cas(3, 4) == (True, 4)
    assert v.cas(3, 5) == (False, 4)
    v.value = 'x'
    with pytest.raises(TypeError):
        v.incr()


def _bump(v, n):
    for _ in range(n):
        v.value += 1


def test_value_plus_equal_is_atomic(manager):
    v = manager.Value('i', 0)
    ctx = multiprocessing.get_context('fork')
    ps = [ctx.Process(target=_bump, args=(v, 200)) for _ in range(4)]
    for p in ps:
        p.start()
    for p in ps:
        p.join()
    assert v.value == 800


def test_plain_set_after_read(manager):
    v = manager.Value('i', 10)
    x = v.value
    v.value = 20
    v.value = x + 1                # not op=: plain
    assert v.value == 11
