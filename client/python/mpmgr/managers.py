"""Managers: CPython's BaseManager and SyncManager on mpmgrd.

``Manager()`` starts a private daemon (mpmgr.daemon) and answers a started
SyncManager, as multiprocessing.Manager() does; ``Manager(address=PATH)``
(or None: the user's or system's default socket) attaches to a running
daemon instead, as ``SyncManager(address, authkey).connect()`` does.

Objects that the factories make (``m.dict()``, ``m.Queue()``...) are
anonymous: named ``py.PID.TOKEN.N`` (the creating process, a random token
of its session, a counter) and created by the manager's session connection
with ``{"ephemeral": true}``, so that the daemon deletes them when the
session ends: at shutdown(), or when the manager's process dies. A forked
child that makes objects makes them in a session of its own, which ends
with the child. ``m.named.TYPEID(name, ...)`` attaches to the named object
that mpctl and C programs see, which outlives the manager.
"""

import array
import itertools
import os
import threading
import traceback
import warnings

from multiprocessing import process as _mp_process
from multiprocessing import util
from multiprocessing.context import ProcessError
from multiprocessing.managers import RemoteError, State

from . import _mpmgr
from . import connection
from . import proxies
from .daemon import PrivateDaemon
from .proxies import (
    DictProxy, ListProxy, QueueProxy, ConditionProxy, EventProxy,
    BarrierProxy, ValueProxy, ArrayProxy, NamespaceProxy, SetProxy,
    _LockProxy, _RLockProxy, _SemaphoreProxy)

__all__ = ['BaseManager', 'SyncManager', 'Manager']

_PRIVATE = object()
_managers = None        # weakref.WeakSet of managers, for fork


def _daemon_type(kind):
    return 'dict' if kind in ('namespace', 'set') else kind


class BaseManager:
    """CPython's BaseManager: start() a private daemon, or connect() to
    one at address. mpmgr serves its own types: register() of new
    callables needs a Python server and is not supported."""

    def __init__(self, address=None, authkey=None, serializer='pickle',
                 ctx=None, *, shutdown_timeout=1.0):
        if serializer not in ('pickle', 'xmlrpclib'):
            raise ValueError('unknown serializer %r' % (serializer,))
        self._address = address
        self._authkey = None if authkey is None else bytes(authkey)
        self._serializer = serializer
        self._ctx = ctx
        self._shutdown_timeout = shutdown_timeout
        self._state = State()
        self._state.value = State.INITIAL
        self._daemon = None
        self._process = None
        self._client = None
        self._session = None
        self._session_pid = None
        self._session_lock = threading.Lock()
        self._prefix = None
        self._counter = itertools.count()
        self._finalizer = None
        _managers.add(self)

    def get_server(self):
        raise NotImplementedError('mpmgr: the server is mpmgrd, not a '
                                  'Python object (see mpmgrd(8))')

    @classmethod
    def register(cls, typeid, callable=None, proxytype=None, exposed=None,
                 method_to_typeid=None, create_method=True):
        raise NotImplementedError(
            'mpmgr: register() serves Python callables from a Python '
            'server process; mpmgrd serves its own types only (%r)' %
            (typeid,))

    def _check_initial(self):
        if self._state.value == State.STARTED:
            raise ProcessError('Already started server')
        if self._state.value == State.SHUTDOWN:
            raise ProcessError('Manager has shut down')

    def start(self, initializer=None, initargs=()):
        """Start a private mpmgrd (at address if one was given)."""
        self._check_initial()
        if initializer is not None and not callable(initializer):
            raise TypeError('initializer must be a callable')
        if initializer is not None:
            warnings.warn('mpmgr: the initializer is not called: the '
                          'server is mpmgrd, not a Python process',
                          RuntimeWarning, stacklevel=2)
        key = self._authkey
        if key is None:
            key = bytes(_mp_process.current_process().authkey)
        self._daemon = PrivateDaemon(self._address, key)
        self._process = self._daemon.process
        self._address = self._daemon.address
        self._client = _mpmgr.Client(self._address, key=key)
        try:
            self._set_session(self._daemon.wait_ready(self._client))
        except BaseException:
            self._daemon.stop(self._shutdown_timeout)
            raise
        self._started()

    def connect(self):
        """Attach to the daemon at address (None: the default socket),
        with authkey, or the daemon's key file when authkey is None."""
        self._check_initial()
        self._client = _mpmgr.Client(self._address, key=self._authkey)
        self._set_session(self._client.session())
        self._address = self._client.address
        self._started()

    def _started(self):
        proxies.register_client(self._client)
        self._state.value = State.STARTED
        self._finalizer = util.Finalize(
            self, type(self)._finalize_manager,
            args=(self._daemon, self._session, self._state,
                  self._shutdown_timeout, os.getpid()),
            exitpriority=0)

    def _set_session(self, conn):
        self._session = conn
        self._session_pid = os.getpid()
        self._prefix = 'py.%d.%s.' % (os.getpid(), os.urandom(4).hex())

    def _session_conn(self):
        """The session of this process: a forked child opens its own."""
        if self._session is None or not self._session.usable:
            self._set_session(self._client.session())
        return self._session

    @staticmethod
    def _finalize_manager(daemon, session, state, timeout, pid):
        if os.getpid() != pid:
            return
        if session is not None and session.usable:
            try:
                session.close()
            except Exception:
                pass
        if daemon is not None:
            daemon.stop(timeout)
        state.value = State.SHUTDOWN

    def shutdown(self):
        """Stop the private daemon, or end the session with an attached
        one (its anonymous objects go)."""
        if self._finalizer is not None:
            self._finalizer()
        if self._session is not None and self._session.usable and \
                self._session_pid == os.getpid():
            self._session.close()

    def join(self, timeout=None):
        """Wait for the private daemon to exit."""
        if self._daemon is not None:
            self._daemon.join(timeout)

    @property
    def address(self):
        return self._address

    def __enter__(self):
        if self._state.value == State.INITIAL:
            self.start()
        if self._state.value != State.STARTED:
            raise ProcessError('Manager has shut down')
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        self.shutdown()

    def __reduce__(self):
        raise TypeError('mpmgr: a manager is not pickled; pass its proxies')

    # --- making objects ---

    def _check_started(self):
        if self._state.value != State.STARTED:
            raise ProcessError('mpmgr: the manager is not started')

    def _key(self):
        """The function that packs dict keys for this daemon."""
        self._check_started()
        return self._client.key

    def _create(self, cls, typeid, options=None, init=(), state=None,
                name=None, create=True, ephemeral=None):
        """A proxy of a new anonymous object, or of the object name. The
        create request goes only when create is true (an anonymous object
        is always created); init is the requests that fill it."""
        self._check_started()
        opts = dict(options or {})
        with self._session_lock:
            sess = self._session_conn()
            if ephemeral is None:
                ephemeral = name is None
            if name is None:
                name = '%s%d' % (self._prefix, next(self._counter))
            if ephemeral:
                opts['ephemeral'] = True
            if create or ephemeral:
                sess.call(_daemon_type(cls._kind) + '.create', name, opts)
            for method, args in init:
                sess.call(method, name, *args)
        p = cls(self._client, name, typeid, manager=self)
        p._setstate(state)
        return p

    def _debug_info(self):
        """The session's anonymous objects, one line each."""
        return '\n'.join('%s %s %s' % tuple(o) for o in self._own_objects())

    def _number_of_objects(self):
        """How many anonymous objects the session holds (they live until
        the session ends: mpmgr counts no references)."""
        return len(self._own_objects())

    def _own_objects(self):
        with self._session_lock:
            objs = self._session_conn().call('obj.list')
        return [o for o in objs if o[0].startswith(self._prefix)]


class _Named:
    """m.named.TYPEID(name, ...): the named object, shared with mpctl and
    C programs; created with the given parameters when they are not the
    defaults (then it stays until `mpctl rm`), else made implicitly by its
    first write as with mpctl."""

    def __init__(self, manager):
        self._m = manager

    def __getattr__(self, typeid):
        factory = getattr(type(self._m), typeid, None)
        if typeid.startswith('_') or factory is None or \
                not getattr(factory, '_mpmgr_factory', False):
            raise AttributeError(typeid)
        m = self._m

        def named(name, *args, **kwds):
            if not isinstance(name, str) or not name:
                raise TypeError('named.%s(name, ...): name must be a '
                                'non-empty str' % typeid)
            return factory(m, *args, _name=name, **kwds)
        named.__name__ = typeid
        return named


def _factory(f):
    f._mpmgr_factory = True
    return f


def _roe(release_on_exit):
    return {} if release_on_exit else {'release_on_disconnect': False}


class SyncManager(BaseManager):
    """CPython's SyncManager: every typeid of Python 3.11 (Pool: mpmgr.Pool on
    its daemon), plus set (Python 3.14)."""

    @property
    def named(self):
        """m.named.dict('cfg'), m.named.Queue('jobs', maxsize=10)...:
        proxies of named objects (see _Named)."""
        return _Named(self)

    @_factory
    def dict(self, *args, _name=None, **kwds):
        if _name is not None:
            return self._create(DictProxy, 'dict', name=_name, create=False)
        init = dict(*args, **kwds)
        key = self._key()
        return self._create(DictProxy, 'dict', init=(
            [('dict.update', ([[key(k), v] for k, v in init.items()],))]
            if init else ()))

    @_factory
    def list(self, sequence=(), *, _name=None):
        if _name is not None:
            return self._create(ListProxy, 'list', name=_name, create=False)
        items = list(sequence)
        return self._create(ListProxy, 'list', init=(
            [('list.extend', (items,))] if items else ()))

    @_factory
    def set(self, iterable=(), *, _name=None):
        if _name is not None:
            return self._create(SetProxy, 'set', name=_name, create=False)
        key = self._key()
        items = [[key(x), None] for x in set(iterable)]
        return self._create(SetProxy, 'set', init=(
            [('dict.update', (items,))] if items else ()))

    @_factory
    def Namespace(self, *, _name=None, **kwds):
        if _name is not None:
            return self._create(NamespaceProxy, 'Namespace', name=_name,
                                create=False)
        return self._create(NamespaceProxy, 'Namespace', init=(
            [('dict.update', (kwds,))] if kwds else ()))

    def _queue(self, typeid, maxsize, name):
        opts = {'maxsize': maxsize} if maxsize > 0 else {}
        return self._create(QueueProxy, typeid, opts, name=name,
                            create=name is None or bool(opts))

    @_factory
    def Queue(self, maxsize=0, *, _name=None):
        return self._queue('Queue', maxsize, _name)

    @_factory
    def JoinableQueue(self, maxsize=0, *, _name=None):
        return self._queue('JoinableQueue', maxsize, _name)

    @_factory
    def Event(self, *, _name=None):
        return self._create(EventProxy, 'Event', name=_name,
                            create=_name is None)

    @_factory
    def Lock(self, *, release_on_exit=True, _name=None):
        """release_on_exit=False: CPython's Lock, which stays held when its
        holder exits."""
        opts = _roe(release_on_exit)
        return self._create(_LockProxy, 'Lock', opts, name=_name,
                            create=_name is None or bool(opts))

    @_factory
    def RLock(self, *, release_on_exit=True, _name=None):
        opts = _roe(release_on_exit)
        return self._create(_RLockProxy, 'RLock', opts, name=_name,
                            create=_name is None or bool(opts))

    def _semaphore(self, typeid, value, bounded, release_on_exit, name):
        if value < 0:
            raise ValueError('semaphore initial value must be >= 0')
        opts = _roe(release_on_exit)
        if value != 1:
            opts['value'] = value
        if bounded:
            opts['bounded'] = True
        return self._create(_SemaphoreProxy, typeid, opts, name=name,
                            create=name is None or bool(opts))

    @_factory
    def Semaphore(self, value=1, *, release_on_exit=True, _name=None):
        """release_on_exit=False: CPython's meaning, where a permit taken
        by a process that exits without releasing it stays taken."""
        return self._semaphore('Semaphore', value, False, release_on_exit,
                               _name)

    @_factory
    def BoundedSemaphore(self, value=1, *, release_on_exit=True, _name=None):
        return self._semaphore('BoundedSemaphore', value, True,
                               release_on_exit, _name)

    @_factory
    def Condition(self, lock=None, *, release_on_exit=True, _name=None):
        if lock is not None:
            if not isinstance(lock, (_LockProxy, _RLockProxy)) or \
                    lock._client is not self._client:
                raise TypeError('mpmgr: Condition(lock) takes a Lock or '
                                'RLock of the same manager')
            opts = {'lock': lock._name}
        else:
            opts = _roe(release_on_exit)
        return self._create(ConditionProxy, 'Condition', opts, name=_name,
                            create=_name is None or bool(opts))

    @_factory
    def Barrier(self, parties, action=None, timeout=None, *, _name=None):
        if action is not None and not callable(action):
            raise TypeError('action must be callable')
        opts = {'parties': parties}
        b = self._create(BarrierProxy, 'Barrier', opts,
                         state=(action, timeout), name=_name)
        if action is not None:
            # the gate that holds the parties while the action runs
            self._create(BarrierProxy, 'Barrier', opts,
                         name=b._name + '/gate', ephemeral=_name is None)
        return b

    @_factory
    def Value(self, typecode, value, lock=True, *, _name=None):
        if _name is not None:
            p = self._create(ValueProxy, 'Value', name=_name, create=False,
                             state=typecode)
            p._call('value.cas', None, value)
            return p
        return self._create(ValueProxy, 'Value', {'value': value},
                            state=typecode)

    @_factory
    def Array(self, typecode, sequence, lock=True, *, _name=None):
        if typecode in ('u', 'w'):
            raise ValueError('mpmgr: Array typecode %r is not supported '
                             '(no unicode arrays)' % typecode)
        if isinstance(sequence, int):
            array.array(typecode)       # CPython's error for the typecode
            opts = {'typecode': typecode, 'length': sequence}
        else:
            opts = {'typecode': typecode,
                    'items': array.array(typecode, sequence).tolist()}
        return self._create(ArrayProxy, 'Array', opts, state=typecode,
                            name=_name)

    @_factory
    def Pipe(self, duplex=True, *, maxsize=0, _name=None):
        """multiprocessing.Pipe(duplex): two Connections, (end 0, end 1),
        or for a one-way pipe (reader, writer). Beyond CPython: maxsize
        bounds the messages waiting at each end (a send then waits for
        room); m.named.Pipe(name) opens both ends of the named pipe."""
        opts = {}
        if not duplex:
            opts['duplex'] = False
        if maxsize > 0:
            opts['maxsize'] = maxsize
        ref = self._create(connection._PipeRef, 'Pipe', opts, name=_name,
                           create=_name is None or bool(opts))
        return connection.pair(ref, duplex, maxsize)

    @_factory
    def ProcessRecord(self, *, _name=None):
        """m.named.ProcessRecord(name): the daemon's process record name
        (ProcessRecordProxy: info, is_alive, join, exitcode, pid,
        terminate, kill); records are made by their supervisors, never
        here."""
        if _name is None:
            raise TypeError('mpmgr: a process record is reached by name: '
                            'm.named.ProcessRecord(name)')
        return self._create(proxies.ProcessRecordProxy, 'ProcessRecord',
                            name=_name, create=False)

    def Pool(self, processes=None, initializer=None, initargs=(),
             maxtasksperchild=None, context=None, *, max_attempts=3):
        """An mpmgr.Pool whose tasks this manager's daemon keeps (its pool
        object goes with the manager's session). Bad arguments raise
        RemoteError, as CPython's manager reports its server's errors."""
        from .pool import Pool
        try:
            return Pool(processes, initializer, initargs, maxtasksperchild,
                        context, max_attempts=max_attempts, manager=self)
        except (ValueError, TypeError) as e:
            raise RemoteError(''.join(
                traceback.format_exception_only(type(e), e))) from e


def Manager(address=_PRIVATE, authkey=None, *, ctx=None):
    """A started SyncManager. Without address: a private mpmgrd that exits
    with this process (CPython's multiprocessing.Manager()). With address
    (a socket path, or None for the default socket): attached to that
    running daemon, with authkey or else the daemon's key file."""
    if address is _PRIVATE:
        m = SyncManager(authkey=authkey, ctx=ctx)
        m.start()
    else:
        m = SyncManager(address=address, authkey=authkey, ctx=ctx)
        m.connect()
    return m


def after_fork_in_child():
    for m in list(_managers):
        m._session_lock = threading.Lock()


def _init():
    global _managers
    import weakref
    _managers = weakref.WeakSet()


_init()
