"""Python values on the wire: the hooks the C extension calls back, and the
numbers that make ``d['n'] -= 1`` atomic.

The encoding itself is in the extension (src/pack.c, src/unpack.c) and
documented in docs/PROTOCOL.md ("Python values"): plain MessagePack for
None, bool, int, float, str, bytes, list and dict, and extension types for
the rest (1 pickle, 2 tuple, 3 reference to a shared object, 4 frozenset,
5 int past 64 bits).
"""

import collections
import numbers
import pickle

from multiprocessing.reduction import ForkingPickler

__all__ = ['ExtType']

PICKLE_PROTOCOL = 5


class ExtType(collections.namedtuple('ExtType', 'code data')):
    """A MessagePack extension value of a type mpmgr does not use itself
    (written by a C program, say); it packs back to the same bytes."""


def pickle_dumps(obj):
    # multiprocessing's pickler, as CPython's Manager uses: it refuses
    # what only inheritance may share (a multiprocessing.Lock...)
    return bytes(ForkingPickler.dumps(obj, PICKLE_PROTOCOL))


pickle_loads = pickle.loads


def bigint_to_bytes(i):
    """An int past 64 bits: two's complement, big-endian, shortest."""
    i = int(i)
    n = ((i if i >= 0 else ~i).bit_length() + 8) // 8
    return i.to_bytes(n, 'big', signed=True)


def bigint_from_bytes(b):
    return int.from_bytes(b, 'big', signed=True)


def norm_key(o):
    """A key Python calls equal to a plain one, as that plain one: the
    subclass of a plain type as its base value, a number equal to an int
    or a float as that int or float. Anything else comes back as itself,
    to be pickled (two such keys are one key when their pickles are
    equal)."""
    if isinstance(o, int):
        return int(o)
    if isinstance(o, float):
        return float(o)
    if isinstance(o, str):
        return str(o)
    if isinstance(o, bytes):
        return bytes(o)
    if isinstance(o, tuple):
        return tuple(o)
    if isinstance(o, frozenset):
        return frozenset(o)
    if isinstance(o, complex):
        return o.real if o.imag == 0 else o
    if isinstance(o, numbers.Number):
        for conv in (int, float):
            try:
                c = conv(o)
            except (TypeError, ValueError, OverflowError):
                continue
            if c == o:
                return c
    return o


# --- op= on a number read from a shared object ----------------------------
#
# ``d['n'] -= 10`` is a read, a subtraction and a write: between the read
# and the write another process may change the value, and its change is
# lost (CPython's Manager loses updates this way). Here the read answers
# an int (or float) subclass; only its in-place operators (+= and -= with
# a plain int or float) answer a _Delta that remembers the number read and
# the change; the proxy that made the read, writing such a _Delta back to
# the same key, sends an atomic incr of the change instead of a set.
# Everything else (``d['n'] = x - 10``, other operators, another key,
# another proxy, a _Delta written twice) is a plain value.

class _Read:
    __slots__ = ()

    def _plain(self):
        return int(self) if isinstance(self, int) else float(self)

    def _op(self, other, sign):
        if type(other) not in (int, float):
            return NotImplemented
        delta = sign * other
        now = self._plain() + delta
        d = (_DeltaInt if type(now) is int else _DeltaFloat)(now)
        if isinstance(self, _Delta):
            d._base, d._delta = self._base, self._delta + delta
        else:
            d._base, d._delta = self, delta
        d._used = False
        return d

    def __iadd__(self, other):
        return self._op(other, 1)

    def __isub__(self, other):
        return self._op(other, -1)

    def __reduce__(self):
        p = self._plain()
        return type(p), (p,)


class _Delta(_Read):
    __slots__ = ()


class _ReadInt(_Read, int):
    __slots__ = ()


class _ReadFloat(_Read, float):
    __slots__ = ()


class _DeltaInt(_Delta, int):
    pass


class _DeltaFloat(_Delta, float):
    pass


# pack as the plain numbers they are (the extension's plain_numbers)
PLAIN_NUMBERS = (_ReadInt, _ReadFloat, _DeltaInt, _DeltaFloat)


def read(v):
    """v as read by d[k], ns.x or value.value: a number that remembers."""
    t = type(v)
    if t is int:
        return _ReadInt(v)
    if t is float:
        return _ReadFloat(v)
    return v


def delta_of(v, read_value):
    """The change v carries when it is read_value after op=, else None."""
    if isinstance(v, _Delta) and v._base is read_value and not v._used:
        return v._delta
    return None


def delta_used(v):
    v._used = True
