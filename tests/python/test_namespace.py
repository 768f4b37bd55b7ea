"""NamespaceProxy: attributes in the daemon, '_' ones local."""

import pytest


def test_namespace(manager):
    n = manager.Namespace(a=1)
    n.name = 'Bob'
    n.job = 'Builder'
    n._hidden = 'hidden'
    assert (n.a, n.name, n.job, n._hidden) == (1, 'Bob', 'Builder', 'hidden')
    del n.job
    assert str(n) == "Namespace(a=1, name='Bob')"
    assert hasattr(n, 'name') and not hasattr(n, 'job')
    with pytest.raises(AttributeError, match="'Namespace' object has no "
                       "attribute 'job'"):
        n.job
    with pytest.raises(AttributeError):
        del n.job
    del n._hidden
    with pytest.raises(AttributeError):
        n._hidden
    assert repr(n).startswith("<NamespaceProxy object, typeid 'Namespace'")


def test_counter_attribute(manager):
    n = manager.Namespace(count=0)
    n.count += 5
    n.count -= 1
    assert n.count == 4
