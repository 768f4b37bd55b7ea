"""Proxies: CPython's proxy API on mpmgrd's objects.

Each class follows multiprocessing.managers' proxy of the same name: the
same methods, signatures, results and exceptions (``KeyError(key)``,
``queue.Empty()``...). What is beyond CPython is an extra method (the
atomic helpers: DictProxy.incr and .cas, ValueProxy.incr and .cas,
QueueProxy.put_many and .get_many, AcquirerProxy.extend and .fence) or
an extra keyword (acquire's ttl), never a changed one. The C base class
(mpmgr._mpmgr.ProxyBase) holds the daemon and the object's name and makes
the calls: ``_call(method, *args)`` sends ``method(name, *args)``,
``_kcall`` packs the first argument as a dict key, ``_wait`` is for verbs
that may block (Ctrl-C cancels them with sys.cancel), ``_many`` pipelines.

A proxy pickles to (kind, typeid, name, socket path, key source, state):
it works in any process that can reach the socket. The key travels only
when a process is being spawned, as in CPython; otherwise the receiving
process uses a key it already knows for that socket, then its own
authkey (a private daemon's key), then the daemon's key file.

After the daemon restarts, each thread's connection connects again at its
next call (the extension does it); what was in flight then raises
InFlightError unless it only read. ``_epoch()`` tells a lock proxy whether
the connection its hold was taken on is still the one in use.
"""

import array
import collections.abc
import operator
import queue
import sys
import threading
import types

from multiprocessing import process as _mp_process
from multiprocessing.context import get_spawning_popen
from multiprocessing.managers import Namespace

from . import _mpmgr
from . import values
from .errors import (
    Error, AuthError, BadTypeError, BrokenError, NoIndexError, NoKeyError,
    NotFoundError, NotHeldError, NotOwnerError, PeerError, RangeError,
    WaitTimeoutError, EmptyError, FullError, BadArgError, ShutdownError,
    ShutDown, InFlightError)

__all__ = [
    'BaseProxy', 'DictProxy', 'ListProxy', 'QueueProxy', 'AcquirerProxy',
    'ConditionProxy', 'EventProxy', 'BarrierProxy', 'ValueProxy',
    'ArrayProxy', 'NamespaceProxy', 'SetProxy', 'ProcessRecordProxy',
    'name_of',
]


# --- the daemons this process knows ----------------------------------------

_clients_lock = threading.Lock()
_clients = {}           # socket path -> Client


def register_client(client):
    """Remember client as the way to its daemon in this process (pickled
    proxies of that daemon find their key here)."""
    with _clients_lock:
        _clients.setdefault(client.address, client)


def client_for(address, keyspec):
    """The Client for a pickled proxy's daemon."""
    with _clients_lock:
        c = _clients.get(address)
    if c is not None:
        return c
    if keyspec is not None and keyspec[0] == 'key':
        c = _mpmgr.Client(address, key=keyspec[1])
    elif keyspec is not None and keyspec[0] == 'file':
        c = _mpmgr.Client(address, keyfile=keyspec[1])
    else:
        # CPython's rule first: a private daemon's key is the authkey of
        # the process that started it, which its children inherit
        c = _mpmgr.Client(address,
                          key=bytes(_mp_process.current_process().authkey))
        try:
            c.conn()
        except (AuthError, PeerError):
            c = _mpmgr.Client(address)
    register_client(c)
    with _clients_lock:
        return _clients[address]


def _keyspec(client):
    if client.authkey is not None:
        return ('key', client.authkey) if get_spawning_popen() is not None \
            else None
    return ('file', client.keyfile)


def _after_fork_in_child():
    global _clients_lock
    _clients_lock = threading.Lock()


def _results(rs):
    """The results of _many, raising the first failure."""
    for r in rs:
        if isinstance(r, BaseException):
            raise r
    return rs


def _verb(method, doc=None):
    """A proxy method that is the daemon's method on its object, with no
    arguments and its answer as the result."""
    def call(self):
        return self._call(method)
    call.__name__ = method.split('.')[1]
    call.__doc__ = doc
    return call


def name_of(proxy):
    """The daemon-side name of a proxy's object (what mpctl -n takes)."""
    return proxy._name


# --- timeouts, as each of CPython's types reads them ------------------------

def _queue_timeout(block, timeout):
    if not block:
        return 0
    if timeout is None:
        return None
    if timeout < 0:
        raise ValueError("'timeout' must be a non-negative number")
    return timeout


def _lock_timeout(blocking, timeout):
    # threading.Lock/RLock.acquire(blocking, timeout=-1) behind
    # AcquirerProxy.acquire(blocking=True, timeout=None)
    if timeout is None:
        timeout = -1
    if not blocking:
        if timeout != -1:
            raise ValueError("can't specify a timeout for a non-blocking "
                             "call")
        return 0
    if timeout < 0 and timeout != -1:
        raise ValueError("timeout value must be positive")
    return None if timeout == -1 else timeout


def _sem_timeout(blocking, timeout):
    # threading.Semaphore.acquire(blocking=True, timeout=None)
    if not blocking and timeout is not None:
        raise ValueError("can't specify timeout for non-blocking acquire")
    if not blocking:
        return 0
    if timeout is None:
        return None
    return max(timeout, 0)


def _wait_timeout(timeout):
    # Event.wait, Condition.wait, Barrier.wait: a negative timeout does
    # not wait
    if timeout is None:
        return None
    return max(timeout, 0)


# --- the base ----------------------------------------------------------------

class BaseProxy(_mpmgr.ProxyBase):
    """A shared object of a daemon, by name."""

    _kind = None            # in references: "KIND:NAME"
    _typeid = None          # CPython's typeid, for repr
    _exposed_ = ()

    def __init__(self, client, name, typeid=None, manager=None):
        super().__init__(client, name)
        if typeid is not None:
            self._typeid = typeid
        # the manager's session owns an anonymous object: keep it alive
        self._manager = manager

    def _getstate(self):
        return None

    def _setstate(self, state):
        pass

    def __reduce__(self):
        return (_rebuild, (type(self), self._typeid, self._name,
                           self._client.address, _keyspec(self._client),
                           self._getstate()))

    def _repr_name(self):
        return type(self).__name__

    def __repr__(self):
        return '<%s object, typeid %r at %#x>' % (
            self._repr_name(), self._typeid, id(self))

    def __str__(self):
        try:
            return repr(self._getvalue())
        except Exception:
            return repr(self)[:-1] + "; '__str__()' failed>"

    def _getvalue(self):
        """A copy of the referent's value (CPython's name)."""
        raise NotImplementedError

    def __deepcopy__(self, memo):
        return self._getvalue()

    def _callmethod(self, methodname, args=(), kwds={}):
        """CPython's generic call, by method name."""
        if methodname == '#GETVALUE':
            return self._getvalue()
        return getattr(self, methodname)(*args, **kwds)


def _rebuild(cls, typeid, name, address, keyspec, state):
    p = cls(client_for(address, keyspec), name, typeid)
    p._setstate(state)
    return p


_KINDS = {}             # kind -> (class, default typeid)


def _kind(kind, typeid):
    def register(cls):
        cls._kind = kind
        cls._typeid = typeid
        _KINDS[kind] = cls
        return cls
    return register


def make_ref(client, kind, name):
    """The proxy an EXT_REF value stands for (the extension's hook)."""
    cls = _KINDS.get(kind)
    if cls is None:
        return values.ExtType(_mpmgr.EXT_REF,
                              ('%s:%s' % (kind, name)).encode())
    return cls(client, name)


def _track(proxy, key, v):
    """v read at key: a number that makes ``proxy[key] op= n`` atomic."""
    r = values.read(v)
    if r is not v:
        proxy._last = (key, r)
    return r


def _delta(proxy, key, v):
    """The change to send as incr when v is proxy's last read of key
    after op=, else None."""
    last = proxy.__dict__.get('_last')
    if last is None:
        return None
    k, read = last
    if k is not key and k != key:
        return None
    return values.delta_of(v, read)


# --- dict ----------------------------------------------------------------------

class _KeyIterator:
    """iter(d): the keys as of the first next(); like dict's, it fails
    with RuntimeError when the size changed since iter()."""

    def __init__(self, proxy, what):
        self._proxy = proxy
        self._what = what
        self._size = len(proxy)
        self._keys = None

    def __iter__(self):
        return self

    def __next__(self):
        if self._keys is None:
            n, keys = _results(self._proxy._many(
                [('dict.len', ()), ('dict.keys', ())]))
            if n != self._size:
                raise RuntimeError('%s changed size during iteration' %
                                   self._what)
            self._keys = iter(keys)
        return next(self._keys)


@_kind('dict', 'dict')
class DictProxy(BaseProxy):
    _exposed_ = ('__contains__', '__delitem__', '__getitem__', '__iter__',
                 '__len__', '__setitem__', 'clear', 'copy', 'get', 'items',
                 'keys', 'pop', 'popitem', 'setdefault', 'update', 'values')

    def __getitem__(self, key):
        try:
            v = self._kcall('dict.get', key)
        except NoKeyError:
            raise KeyError(key) from None
        return _track(self, key, v)

    def __setitem__(self, key, value):
        delta = _delta(self, key, value)
        if delta is not None:
            try:
                self._kcall('dict.incr', key, delta)
                values.delta_used(value)
                return
            except (BadTypeError, RangeError):
                pass    # no longer a number, or past int64: plain set
        self._kcall('dict.set', key, value)

    def __delitem__(self, key):
        try:
            self._kcall('dict.delete', key)
        except NoKeyError:
            raise KeyError(key) from None

    def __contains__(self, key):
        return self._kcall('dict.contains', key)

    __len__ = _verb('dict.len')

    def __iter__(self):
        return _KeyIterator(self, 'dictionary')

    def __reversed__(self):
        return reversed(self.keys())

    def get(self, key, default=None):
        return self._kcall('dict.get', key, default)

    def setdefault(self, key, default=None):
        return self._kcall('dict.setdefault', key, default)

    def pop(self, key, *default):
        if len(default) > 1:
            raise TypeError('pop expected at most 2 arguments, got %d' %
                            (1 + len(default)))
        try:
            return self._kcall('dict.pop', key, *default)
        except NoKeyError:
            raise KeyError(key) from None

    def popitem(self):
        try:
            return tuple(self._call('dict.popitem'))
        except NoKeyError:
            raise KeyError('popitem(): dictionary is empty') from None

    keys = _verb('dict.keys')
    values = _verb('dict.values')
    copy = _verb('dict.copy')
    clear = _verb('dict.clear')

    def items(self):
        return self._pairs('dict.items')

    def update(self, *args, **kwds):
        if len(args) > 1:
            raise TypeError('update expected at most 1 argument, got %d' %
                            len(args))
        if args and isinstance(args[0], BaseProxy):
            args = (args[0]._getvalue(),)
        if len(args) == 1 and not kwds and type(args[0]) is dict:
            new = args[0]
        else:
            new = dict(*args, **kwds)
        if new:
            self._update('dict.update', new)

    def __or__(self, other):
        if not isinstance(other, (dict, DictProxy)):
            return NotImplemented
        return self.copy() | (other.copy() if isinstance(other, DictProxy)
                              else other)

    def __ror__(self, other):
        if not isinstance(other, dict):
            return NotImplemented
        return other | self.copy()

    def __ior__(self, other):
        self.update(other)
        return self

    def _getvalue(self):
        return self.copy()

    # beyond CPython: atomic read-modify-write

    def incr(self, key, n=1):
        """d[key] += n in one step (a missing key counts as 0); the new
        value. int + int stays int (OverflowError past 64 bits), with a
        float it is a float; anything else is TypeError."""
        return self._kcall('dict.incr', key, n)

    def cas(self, key, expected, new):
        """Set d[key] = new if it holds expected (a missing key matches
        None): (done, the value now)."""
        return tuple(self._kcall('dict.cas', key, expected, new))


collections.abc.MutableMapping.register(DictProxy)


# --- list ----------------------------------------------------------------------

def _index(i, what='list indices'):
    try:
        return operator.index(i)
    except TypeError:
        raise TypeError('%s must be integers or slices, not %s' %
                        (what, type(i).__name__)) from None


def _slice_args(s):
    return tuple(None if x is None else operator.index(x)
                 for x in (s.start, s.stop, s.step))


class _ListIterator:
    """iter(l): reads the list in growing slices as it goes, so that it
    sees changes made ahead of it as CPython's does (which reads one
    element per step)."""

    def __init__(self, proxy):
        self._proxy = proxy
        self._pos = 0
        self._buf = ()
        self._i = 0
        self._chunk = 8
        self._done = False

    def __iter__(self):
        return self

    def __next__(self):
        if self._i >= len(self._buf):
            if self._done:
                raise StopIteration
            self._buf = self._proxy._call('list.slice', self._pos,
                                          self._pos + self._chunk)
            self._i = 0
            self._pos += len(self._buf)
            if len(self._buf) < self._chunk:
                self._done = True
            self._chunk = min(self._chunk * 2, 1024)
            if not self._buf:
                raise StopIteration
        v = self._buf[self._i]
        self._i += 1
        return v


@_kind('list', 'list')
class ListProxy(BaseProxy):
    _exposed_ = ('__add__', '__contains__', '__delitem__', '__getitem__',
                 '__len__', '__mul__', '__reversed__', '__rmul__',
                 '__setitem__', 'append', 'count', 'extend', 'index',
                 'insert', 'pop', 'remove', 'reverse', 'sort', '__imul__')

    def __getitem__(self, i):
        if isinstance(i, slice):
            return self._call('list.slice', *_slice_args(i))
        try:
            return self._call('list.get', _index(i))
        except NoIndexError:
            raise IndexError('list index out of range') from None

    def __setitem__(self, i, value):
        if isinstance(i, slice):
            return self._set_slice(i, value)
        try:
            self._call('list.set', _index(i), value)
        except NoIndexError:
            raise IndexError('list assignment index out of range') from None

    def _set_slice(self, s, value):
        try:
            new = list(value)
        except TypeError:
            raise TypeError('can only assign an iterable') from None
        idx = range(*slice(*_slice_args(s)).indices(len(self)))
        if s.step is None or s.step == 1:
            start, stop = idx.start, max(idx.start, idx.stop)
            calls = [('list.delete', (start,))] * (stop - start)
            calls += [('list.insert', (start + k, v))
                      for k, v in enumerate(new)]
        else:
            if len(new) != len(idx):
                raise ValueError('attempt to assign sequence of size %d to '
                                 'extended slice of size %d' %
                                 (len(new), len(idx)))
            calls = [('list.set', (j, v)) for j, v in zip(idx, new)]
        if calls:
            _results(self._many(calls))

    def __delitem__(self, i):
        if isinstance(i, slice):
            idx = range(*slice(*_slice_args(i)).indices(len(self)))
            calls = [('list.delete', (j,)) for j in sorted(idx,
                                                             reverse=True)]
            if calls:
                _results(self._many(calls))
            return
        try:
            self._call('list.delete', _index(i))
        except NoIndexError:
            raise IndexError('list assignment index out of range') from None

    __len__ = _verb('list.len')

    def __contains__(self, value):
        return self._call('list.contains', value)

    def __iter__(self):
        return _ListIterator(self)

    def __reversed__(self):
        return reversed(self._getvalue())

    def __add__(self, other):
        return self._getvalue() + other

    def __mul__(self, n):
        return self._getvalue() * n

    __rmul__ = __mul__

    def __iadd__(self, other):
        self.extend(other)
        return self

    def __imul__(self, n):
        n = operator.index(n)
        if n <= 0:
            self._call('list.clear')
        elif n > 1:
            self._call('list.extend', self._getvalue() * (n - 1))
        return self

    def append(self, value):
        self._call('list.append', value)

    def extend(self, iterable):
        if isinstance(iterable, BaseProxy):
            iterable = iterable._getvalue()
        self._call('list.extend', list(iterable))

    def insert(self, i, value):
        self._call('list.insert', operator.index(i), value)

    def pop(self, i=-1):
        try:
            return self._call('list.pop', operator.index(i))
        except NoIndexError as e:
            raise IndexError(str(e)) from None

    def remove(self, value):
        try:
            self._call('list.remove', value)
        except NotFoundError:
            raise ValueError('list.remove(x): x not in list') from None

    def index(self, value, start=0, stop=sys.maxsize):
        try:
            return self._call('list.index', value, operator.index(start),
                              operator.index(stop))
        except NotFoundError:
            raise ValueError('%r is not in list' % (value,)) from None

    def count(self, value):
        return self._call('list.count', value)

    reverse = _verb('list.reverse')

    def sort(self, *, key=None, reverse=False):
        if key is None:
            try:
                self._call('list.sort', bool(reverse))
                return
            except BadTypeError:
                pass    # Python may still order it (lists, bools...)
        items = self._getvalue()
        try:
            items.sort(key=key, reverse=reverse)
        finally:
            # like CPython's, a sort that fails leaves the list as far as
            # it got
            _results(self._many([('list.clear', ()),
                                 ('list.extend', (items,))]))

    clear = _verb('list.clear', "Beyond CPython's ListProxy (``del l[:]`` "
                  "there).")
    _getvalue = _verb('list.copy')


collections.abc.MutableSequence.register(ListProxy)


# --- queue ---------------------------------------------------------------------

def _shut_down(e):
    """SHUTDOWN from a queue verb: ShutDown when the queue was shut down
    (queue.shutdown), else the daemon is stopping: e as it is."""
    if 'is shut down' in str(e):
        raise ShutDown from None
    raise e


@_kind('queue', 'Queue')
class QueueProxy(BaseProxy):
    """Queue and JoinableQueue (both queue.Queue in CPython's Manager)."""

    _exposed_ = ('empty', 'full', 'get', 'get_nowait', 'join', 'put',
                 'put_nowait', 'qsize', 'shutdown', 'task_done')

    def _repr_name(self):
        return 'AutoProxy[%s]' % self._typeid

    def _requeue(self, items):
        # got just as Ctrl-C cancelled the get: back to the queue (at its
        # tail), the unfinished-task count as it was
        if isinstance(items, list):
            self._many([('queue.put_many', (items, 0))] +
                       [('queue.task_done', ())] * len(items))
        else:
            self._many([('queue.put', (items, 0)),
                        ('queue.task_done', ())])

    def put(self, item, block=True, timeout=None):
        t = _queue_timeout(block, timeout)
        try:
            if t == 0:
                self._call('queue.put', item, 0)
            else:
                self._wait('queue.put', None, item, t)
        except FullError:
            raise queue.Full from None
        except ShutdownError as e:
            _shut_down(e)

    def put_nowait(self, item):
        return self.put(item, False)

    def get(self, block=True, timeout=None):
        t = _queue_timeout(block, timeout)
        try:
            if t == 0:
                item = self._call('queue.get', 0)
            else:
                item = self._wait('queue.get', self._requeue, t)
            self._got = self._epoch()
            return item
        except EmptyError:
            raise queue.Empty from None
        except ShutdownError as e:
            _shut_down(e)

    def get_nowait(self):
        return self.get(False)

    qsize = _verb('queue.qsize')
    empty = _verb('queue.empty')
    full = _verb('queue.full')

    def task_done(self):
        try:
            self._call('queue.task_done')
        except BadArgError as e:
            if 'leased' in str(e) and self._leases_lost():
                raise ValueError(
                    "task_done(): the items this thread got from the ack "
                    "queue %r were given back to its head when the daemon "
                    "restarted: nothing of them is left to mark done"
                    % (self._name,)) from None
            raise ValueError('task_done() called too many times') from None

    def _leases_lost(self):
        """This thread's connection is not the one its last get used (the
        daemon restarted since): an ack queue's leases went with it."""
        got = self.__dict__.get('_got')
        return got is not None and got != self._epoch()

    def join(self):
        self._wait('queue.join', None)

    def shutdown(self, immediate=False):
        """Python 3.13's Queue.shutdown: later puts raise ShutDown
        (queue.ShutDown from 3.13, mpmgr.ShutDown before), gets drain
        what is left and then raise it; immediate=True also empties the
        queue (each item dropped counts as done) and releases every
        waiting get, put and join at once."""
        self._call('queue.shutdown', bool(immediate))

    # beyond CPython: batches

    def put_many(self, items, block=True, timeout=None):
        """Put every item of items, all or none, in one request (waiting
        for room for all of them); queue.Full on timeout."""
        t = _queue_timeout(block, timeout)
        items = list(items)
        try:
            if t == 0:
                self._call('queue.put_many', items, 0)
            else:
                self._wait('queue.put_many', None, items, t)
        except FullError:
            raise queue.Full from None
        except ShutdownError as e:
            _shut_down(e)

    def get_many(self, n, block=True, timeout=None):
        """Get 1 to n items in one request (waiting only while the queue
        is empty); queue.Empty on timeout."""
        t = _queue_timeout(block, timeout)
        try:
            if t == 0:
                items = self._call('queue.get_many', operator.index(n), 0)
            else:
                items = self._wait('queue.get_many', self._requeue,
                                   operator.index(n), t)
            self._got = self._epoch()
            return items
        except EmptyError:
            raise queue.Empty from None
        except ShutdownError as e:
            _shut_down(e)

    def _getvalue(self):
        return '<queue of %d items>' % self.qsize()


# --- locks and semaphores ----------------------------------------------------

class AcquirerProxy(BaseProxy):
    """Lock, RLock, Semaphore and BoundedSemaphore.

    Beyond CPython's proxy: ``acquire(..., ttl=SECS)`` makes the hold a
    lease that the daemon ends ttl seconds after the grant unless
    ``extend(ttl)`` renews it; ``fence`` is the fencing token of this
    thread's hold (None when it holds nothing through this proxy). A hold
    is this thread's connection's: a lease that ended, or a restart of the
    daemon (the proxy connects again, holding nothing), loses it, and then
    ``release()`` raises NotHeldError (a RuntimeError) instead of
    releasing what someone else may hold by now.
    """

    _exposed_ = ('acquire', 'release')
    _type = None            # the daemon's type: lock, rlock, semaphore
    # CPython's exception for a release of what is not held
    _release_error = (RuntimeError, 'cannot release un-acquired lock')
    # each thread's hold through this proxy, as acquire took it, by its
    # connection's serial: [connection epoch, fencing token, holds not
    # yet released] (threads hold at once: a semaphore's permits, a
    # condition's waiters)
    _holds = None

    def _repr_name(self):
        return 'AcquirerProxy'

    def _timeout(self, blocking, timeout):
        return _lock_timeout(blocking, timeout)

    def acquire(self, blocking=True, timeout=None, *, ttl=None):
        """CPython's acquire (True, or False on timeout); ttl (seconds)
        makes the hold a lease. The grant's fencing token is in fence."""
        t = self._timeout(blocking, timeout)
        opts = {'fence': True}
        if ttl is not None:
            opts['ttl'] = ttl
        if t == 0:
            token = self._call(self._type + '.acquire', 0, opts)
        else:
            token = self._wait(self._type + '.acquire', self._give_back, t,
                               opts)
        if token is False:
            return False
        self._granted(token)
        return True

    def _my_hold(self):
        """This thread's connection epoch, and its hold through this
        proxy (None)."""
        epoch = self._epoch()
        holds = self.__dict__.get('_holds')
        if epoch is None or not holds:
            return epoch, None
        return epoch, holds.get(epoch[0])

    def _forget_hold(self, epoch):
        """Forget the hold of the thread whose connection epoch is."""
        holds = self.__dict__.get('_holds')
        if epoch is not None and holds:
            holds.pop(epoch[0], None)

    def _granted(self, token):
        epoch, hold = self._my_hold()
        if epoch is None:           # a connection made for this one call
            return
        if hold is not None and hold[0] == epoch:
            hold[1] = token         # an rlock's level: its first token
            hold[2] += 1
        else:
            self.__dict__.setdefault('_holds', {})[epoch[0]] = \
                [epoch, token, 1]

    def _give_back(self, acquired):
        # acquired just as Ctrl-C cancelled the acquire: not ours to keep
        if acquired:
            self._call(self._type + '.release')

    @property
    def fence(self):
        """Beyond CPython: the fencing token of the hold this thread took
        through this proxy (an int that only grows, per daemon, across
        restarts), to hand to the resource the lock guards; None when it
        holds nothing (never acquired, released, or lost)."""
        now, hold = self._my_hold()
        if hold is None or hold[0] != now:
            return None
        return hold[1]

    def extend(self, ttl):
        """Beyond CPython: this thread's hold becomes (or stays) a lease
        that ends ttl seconds from now. NotHeldError (a RuntimeError)
        when it holds nothing here: its lease ended, or the daemon
        restarted."""
        self._call(self._type + '.extend', ttl)

    def release(self):
        # The hold this thread took through this proxy, if any: lost with
        # its connection (a restart) when the epoch moved. Another
        # thread's release (a Lock may be released by anyone) is left to
        # the daemon.
        epoch, hold = self._my_hold()
        if hold is not None and hold[0] != epoch:
            self._forget_hold(epoch)
            raise NotHeldError(
                "the %s %r was held on a connection to mpmgrd that was "
                "lost (the daemon restarted): nothing to release" %
                (self._type, self._name))
        try:
            self._call(self._type + '.release')
        except NotHeldError:
            if hold is not None:
                self._forget_hold(epoch)
                raise               # its lease ended: the daemon says so
            raise self._release_error[0](self._release_error[1]) from None
        except (NotOwnerError, RangeError):
            raise self._release_error[0](self._release_error[1]) from None
        if hold is not None:
            hold[2] -= 1
            if hold[2] <= 0:
                self._forget_hold(epoch)

    def __enter__(self):
        return self.acquire()

    def __exit__(self, exc_type, exc_val, exc_tb):
        return self.release()

    def _getvalue(self):
        return '<%s %s>' % (self._type, 'locked' if self._call(
            self._type + '.locked') else 'unlocked')


@_kind('lock', 'Lock')
class _LockProxy(AcquirerProxy):
    _type = 'lock'
    _release_error = (RuntimeError, 'release unlocked lock')


@_kind('rlock', 'RLock')
class _RLockProxy(AcquirerProxy):
    _type = 'rlock'


@_kind('semaphore', 'Semaphore')
class _SemaphoreProxy(AcquirerProxy):
    _type = 'semaphore'
    _release_error = (ValueError, 'Semaphore released too many times')

    def _timeout(self, blocking, timeout):
        return _sem_timeout(blocking, timeout)

    get_value = _verb('semaphore.value', "Beyond CPython's proxy: the "
                      "permits left (Semaphore's _value).")

    def _getvalue(self):
        return '<semaphore value=%d>' % self.get_value()


@_kind('condition', 'Condition')
class ConditionProxy(AcquirerProxy):
    _exposed_ = ('acquire', 'release', 'wait', 'notify', 'notify_all')
    _type = 'condition'

    def _repr_name(self):
        return 'ConditionProxy'

    def acquire(self, blocking=True, timeout=None):
        # CPython's only: a condition's lock takes no ttl nor token
        t = self._timeout(blocking, timeout)
        if t == 0:
            got = self._call('condition.acquire', 0)
        else:
            got = self._wait('condition.acquire', self._give_back, t)
        if got:
            self._granted(None)
        return got

    fence = None
    extend = None

    def wait(self, timeout=None):
        relocked = []
        try:
            return self._wait('condition.wait', relocked.append,
                              _wait_timeout(timeout))
        except (NotHeldError, NotOwnerError):
            raise RuntimeError('cannot wait on un-acquired lock') from None
        except BaseException as e:
            if not isinstance(e, Error) and not relocked:
                # cancelled (Ctrl-C): the daemon dropped the wait with
                # the lock released; hold it again, as
                # threading.Condition.wait does before raising
                self._call('condition.acquire')
            raise

    def notify(self, n=1):
        try:
            self._call('condition.notify', n)
        except (NotHeldError, NotOwnerError):
            raise RuntimeError('cannot notify on un-acquired lock') from None

    def notify_all(self):
        try:
            self._call('condition.notify_all')
        except (NotHeldError, NotOwnerError):
            raise RuntimeError('cannot notify on un-acquired lock') from None

    def wait_for(self, predicate, timeout=None):
        # CPython's ConditionProxy.wait_for, client side as there
        import time
        result = predicate()
        if result:
            return result
        if timeout is not None:
            endtime = time.monotonic() + timeout
        else:
            endtime = None
            waittime = None
        while not result:
            if endtime is not None:
                waittime = endtime - time.monotonic()
                if waittime <= 0:
                    break
            self.wait(waittime)
            result = predicate()
        return result

    def _getvalue(self):
        return '<condition>'


# --- event, barrier --------------------------------------------------------------

@_kind('event', 'Event')
class EventProxy(BaseProxy):
    _exposed_ = ('is_set', 'set', 'clear', 'wait')

    is_set = _verb('event.is_set')
    set = _verb('event.set')
    clear = _verb('event.clear')

    def wait(self, timeout=None):
        t = _wait_timeout(timeout)
        if t == 0:
            return self._call('event.wait', 0)
        return self._wait('event.wait', None, t)

    def _getvalue(self):
        return '<event %s>' % ('set' if self.is_set() else 'unset')


_RESET_BY_RESTART = ('the daemon stopped or restarted during the wait: '
                     'the barrier was reset')


@_kind('barrier', 'Barrier')
class BarrierProxy(BaseProxy):
    """Barrier(parties, action=None, timeout=None). The action runs in the
    process whose wait arrives last, before any wait returns (a second
    barrier, NAME/gate, holds the others meanwhile)."""

    _exposed_ = ('__getattribute__', 'wait', 'abort', 'reset')
    _action = None
    _default_timeout = None

    def _getstate(self):
        return (self._action, self._default_timeout)

    def _setstate(self, state):
        if state is not None:
            self._action, self._default_timeout = state

    def _gate(self):
        return BarrierProxy(self._client, self._name + '/gate')

    def wait(self, timeout=None):
        if timeout is None:
            timeout = self._default_timeout
        t = _wait_timeout(timeout)
        try:
            i = self._call('barrier.wait', 0) if t == 0 else \
                self._wait('barrier.wait', None, t)
        except (BrokenError, WaitTimeoutError):
            raise threading.BrokenBarrierError from None
        except (InFlightError, ShutdownError) as e:
            # the daemon stopped (restarted) under the wait: the barrier
            # is reset, and a reset breaks the cycle its waiters were in
            raise threading.BrokenBarrierError(_RESET_BY_RESTART) from e
        if self._action is None:
            return i
        gate = self._gate()
        if i == self.parties - 1:
            try:
                self._action()
            except BaseException:
                gate.abort()
                self.abort()
                raise
        try:
            gate._wait('barrier.wait', None, None)
        except (BrokenError, WaitTimeoutError):
            raise threading.BrokenBarrierError from None
        except (InFlightError, ShutdownError) as e:
            raise threading.BrokenBarrierError(_RESET_BY_RESTART) from e
        return i

    def abort(self):
        self._call('barrier.abort')
        if self._action is not None:
            self._gate()._call('barrier.abort')

    def reset(self):
        self._call('barrier.reset')
        if self._action is not None:
            self._gate()._call('barrier.reset')

    parties = property(_verb('barrier.parties'))
    n_waiting = property(_verb('barrier.n_waiting'))
    broken = property(_verb('barrier.broken'))

    def _getvalue(self):
        return '<barrier parties=%d waiting=%d%s>' % (
            self.parties, self.n_waiting, ' broken' if self.broken else '')


# --- value, array --------------------------------------------------------------

@_kind('value', 'Value')
class ValueProxy(BaseProxy):
    _exposed_ = ('get', 'set')
    _typecode = None

    def _getstate(self):
        return self._typecode

    def _setstate(self, state):
        self._typecode = state

    get = _verb('value.get')

    def set(self, value):
        self._call('value.set', value)

    def _get_tracked(self):
        return _track(self, None, self._call('value.get'))

    def _set_tracked(self, value):
        delta = _delta(self, None, value)
        if delta is not None:
            try:
                self._call('value.incr', delta)
                values.delta_used(value)
                return
            except (BadTypeError, RangeError):
                pass
        self._call('value.set', value)

    value = property(_get_tracked, _set_tracked)

    def incr(self, n=1):
        """value += n in one step (None counts as 0); the new value."""
        return self._call('value.incr', n)

    def cas(self, expected, new):
        """Set value = new if it is expected: (done, the value now)."""
        return tuple(self._call('value.cas', expected, new))

    def __str__(self):
        return 'Value(%r, %r)' % (self._typecode, self.get())

    def _getvalue(self):
        return self.get()

    __class_getitem__ = classmethod(types.GenericAlias)


@_kind('array', 'Array')
class ArrayProxy(BaseProxy):
    _exposed_ = ('__len__', '__getitem__', '__setitem__')
    _typecode = None

    def _getstate(self):
        return self._typecode

    def _setstate(self, state):
        self._typecode = state

    def _tc(self):
        if self._typecode is None:
            self._typecode = self._call('obj.info')['options']['typecode']
        return self._typecode

    def __len__(self):
        return self._call('array.len')

    def __getitem__(self, i):
        if isinstance(i, slice):
            return self._getvalue()[i]
        try:
            return self._call('array.get', _index(i, 'array indices'))
        except NoIndexError:
            raise IndexError('array index out of range') from None

    def __setitem__(self, i, value):
        if isinstance(i, slice):
            new = array.array(self._tc(), value)
            idx = range(*i.indices(len(self)))
            if len(new) != len(idx):
                raise ValueError('mpmgr: an Array has a fixed length: '
                                 'cannot assign %d items to a slice of %d'
                                 % (len(new), len(idx)))
            _results(self._many([('array.set', (j, v))
                                 for j, v in zip(idx, new.tolist())]))
            return
        i = _index(i, 'array indices')
        try:
            # array.array raises CPython's exceptions for a wrong value
            v = array.array(self._tc(), [value])[0]
        except (TypeError, OverflowError):
            if not -len(self) <= i < len(self):   # CPython checks it first
                raise IndexError('array assignment index out of range') \
                    from None
            raise
        try:
            self._call('array.set', i, v)
        except NoIndexError:
            raise IndexError('array assignment index out of range') from None

    def __iter__(self):
        return iter(self._call('array.get'))

    def _getvalue(self):
        return array.array(self._tc(), self._call('array.get'))


# --- Namespace -------------------------------------------------------------------

@_kind('namespace', 'Namespace')
class NamespaceProxy(BaseProxy):
    """Attributes not starting with '_' live in the daemon (a dict)."""

    _exposed_ = ('__getattribute__', '__setattr__', '__delattr__')

    def __getattr__(self, key):
        if key[0] == '_':
            return object.__getattribute__(self, key)
        try:
            v = self._kcall('dict.get', key)
        except NoKeyError:
            raise AttributeError("'Namespace' object has no attribute %r" %
                                 key) from None
        return _track(self, key, v)

    def __setattr__(self, key, value):
        if key[0] == '_':
            return object.__setattr__(self, key, value)
        delta = _delta(self, key, value)
        if delta is not None:
            try:
                self._kcall('dict.incr', key, delta)
                values.delta_used(value)
                return
            except (BadTypeError, RangeError):
                pass
        self._kcall('dict.set', key, value)

    def __delattr__(self, key):
        if key[0] == '_':
            return object.__delattr__(self, key)
        try:
            self._kcall('dict.delete', key)
        except NoKeyError:
            raise AttributeError("'Namespace' object has no attribute %r" %
                                 key) from None

    def _getvalue(self):
        return Namespace(**{k: v for k, v in self._call('dict.copy').items()
                            if isinstance(k, str)})

    def __str__(self):
        return repr(self._getvalue())


# --- set (Python 3.14's SyncManager.set) -----------------------------------------

@_kind('set', 'set')
class SetProxy(BaseProxy):
    """A set, kept as a dict of its elements (to None). add, discard,
    remove, pop, clear and update are one request each; the other in-place
    operations read the set and then send their changes, so are not
    atomic."""

    _exposed_ = (
        '__and__', '__contains__', '__iand__', '__ior__', '__isub__',
        '__iter__', '__ixor__', '__len__', '__or__', '__rand__', '__ror__',
        '__rsub__', '__rxor__', '__sub__', '__xor__', '__ge__', '__gt__',
        '__le__', '__lt__', 'add', 'clear', 'copy', 'difference',
        'difference_update', 'discard', 'intersection',
        'intersection_update', 'isdisjoint', 'issubset', 'issuperset', 'pop',
        'remove', 'symmetric_difference', 'symmetric_difference_update',
        'union', 'update')

    def _getvalue(self):
        return set(self._call('dict.keys'))

    copy = _getvalue

    def __contains__(self, x):
        return self._kcall('dict.contains', x)

    __len__ = _verb('dict.len')

    def __iter__(self):
        return _KeyIterator(self, 'Set')

    def add(self, x):
        self._kcall('dict.set', x, None)

    def discard(self, x):
        self._kcall('dict.pop', x, None)

    def remove(self, x):
        try:
            self._kcall('dict.delete', x)
        except NoKeyError:
            raise KeyError(x) from None

    def pop(self):
        try:
            return self._call('dict.popitem')[0]
        except NoKeyError:
            raise KeyError('pop from an empty set') from None

    clear = _verb('dict.clear')

    def _add_all(self, xs):
        key = self._client.key
        pairs = [[key(x), None] for x in xs]
        if pairs:
            self._call('dict.update', pairs)

    def _remove_all(self, xs):
        key = self._client.key
        calls = [('dict.pop', (key(x), None)) for x in xs]
        if calls:
            _results(self._many(calls))

    def update(self, *others):
        for o in others:
            self._add_all(set(_plain(o)))

    def difference_update(self, *others):
        for o in others:
            self._remove_all(set(_plain(o)))

    def intersection_update(self, *others):
        cur = self._getvalue()
        self._remove_all(cur - cur.intersection(*map(_plain, others)))

    def symmetric_difference_update(self, other):
        cur = self._getvalue()
        other = set(_plain(other))
        self._remove_all(cur & other)
        self._add_all(other - cur)

    def union(self, *others):
        return self._getvalue().union(*map(_plain, others))

    def intersection(self, *others):
        return self._getvalue().intersection(*map(_plain, others))

    def difference(self, *others):
        return self._getvalue().difference(*map(_plain, others))

    def symmetric_difference(self, other):
        return self._getvalue().symmetric_difference(_plain(other))

    def isdisjoint(self, other):
        return self._getvalue().isdisjoint(_plain(other))

    def issubset(self, other):
        return self._getvalue().issubset(_plain(other))

    def issuperset(self, other):
        return self._getvalue().issuperset(_plain(other))

    def _binop(name):
        def op(self, other):
            return getattr(self._getvalue(), name)(_plain(other))
        op.__name__ = name
        return op

    __and__ = _binop('__and__')
    __or__ = _binop('__or__')
    __sub__ = _binop('__sub__')
    __xor__ = _binop('__xor__')
    __rand__ = _binop('__rand__')
    __ror__ = _binop('__ror__')
    __rsub__ = _binop('__rsub__')
    __rxor__ = _binop('__rxor__')
    __le__ = _binop('__le__')
    __lt__ = _binop('__lt__')
    __ge__ = _binop('__ge__')
    __gt__ = _binop('__gt__')
    del _binop

    def __ior__(self, other):
        self.update(other)
        return self

    def __iand__(self, other):
        self.intersection_update(other)
        return self

    def __isub__(self, other):
        self.difference_update(other)
        return self

    def __ixor__(self, other):
        self.symmetric_difference_update(other)
        return self


def _plain(o):
    return o._getvalue() if isinstance(o, BaseProxy) else o


collections.abc.MutableSet.register(SetProxy)


# --- process records (mpctl process start, mpmgr_process_register) ----------

@_kind('process', 'ProcessRecord')
class ProcessRecordProxy(BaseProxy):
    """A process record of the daemon (docs/PROTOCOL.md, "process"), which
    any process may join: what `mpctl process start -n NAME` or a C
    supervisor registered. Read-only but for terminate() and kill(),
    which its supervisor carries out. A record whose supervisor went
    without reporting the exit is lost: join(), terminate() and kill()
    raise mpmgr.LostError (a RuntimeError)."""

    _exposed_ = ('info', 'is_alive', 'join', 'terminate', 'kill')

    def info(self):
        """{name, pid, argv, state, exitcode, daemon, supervisor, started,
        ended}; state is 'running', 'exited' or 'lost'."""
        return self._call('process.info')

    is_alive = _verb('process.is_alive')

    def join(self, timeout=None):
        """Wait until the process has exited, or timeout seconds (None:
        as long as it takes); None, as Process.join."""
        t = _wait_timeout(timeout)
        try:
            if t == 0:
                self._call('process.join', 0)
            else:
                self._wait('process.join', None, t)
        except WaitTimeoutError:
            pass

    @property
    def exitcode(self):
        """N, or -SIG when signal SIG killed it; None while it runs (and
        for a lost record)."""
        return self.info()['exitcode']

    @property
    def pid(self):
        return self.info()['pid']

    terminate = _verb('process.terminate', 'SIGTERM, sent by its '
                      'supervisor (nothing once it has exited).')
    kill = _verb('process.kill', 'SIGKILL, sent by its supervisor.')

    def _getvalue(self):
        return self.info()
