"""mpmgr: multiprocessing's Manager on mpmgrd.

    from mpmgr import Manager       # was: from multiprocessing import Manager

Manager() starts a private mpmgrd that ends with this process; proxies
follow multiprocessing.managers' names and signatures, pickle into any
process that can reach the socket (fork, spawn, forkserver, Pool workers,
through a Queue), and work from every thread. Manager(address=PATH) (None:
the default socket) attaches to a running daemon; m.named.dict('cfg')
reaches the object mpctl and C programs see as 'cfg'. mpmgr.Pipe() is
multiprocessing.Pipe() on a private daemon (mpmgr.connection). README.md's Python
section and docs/PYTHON.md tell the rest.
"""

import os

from . import _mpmgr
from . import connection as _connection
from . import daemon as _daemon
from . import errors as _errors
from . import managers as _managers
from . import proxies as _proxies
from . import values as _values
from .errors import *  # noqa: F401,F403
from .errors import Error, ShutDown
from .connection import Connection, Pipe
from .managers import BaseManager, SyncManager, Manager
from .pool import (Pool, AsyncResult, WorkerLostError, JobCancelledError,
                   JobLostError)
from .proxies import (
    BaseProxy, DictProxy, ListProxy, QueueProxy, AcquirerProxy,
    ConditionProxy, EventProxy, BarrierProxy, ValueProxy, ArrayProxy,
    NamespaceProxy, SetProxy, ProcessRecordProxy, name_of)
from .values import ExtType

__all__ = [
    'Manager', 'BaseManager', 'SyncManager', 'BaseProxy', 'DictProxy',
    'ListProxy', 'QueueProxy', 'AcquirerProxy', 'ConditionProxy',
    'EventProxy', 'BarrierProxy', 'ValueProxy', 'ArrayProxy',
    'NamespaceProxy', 'SetProxy', 'ExtType', 'Error', 'name_of', 'Pipe',
    'Connection', 'ShutDown', 'ProcessRecordProxy', 'Pool',
    'AsyncResult', 'WorkerLostError', 'JobCancelledError', 'JobLostError',
] + _errors.__all__

_mpmgr._setup(
    _errors.BY_CODE, Error,
    {
        'pickle_dumps': _values.pickle_dumps,
        'pickle_loads': _values.pickle_loads,
        'norm_key': _values.norm_key,
        'make_ref': _proxies.make_ref,
        'bigint_to_bytes': _values.bigint_to_bytes,
        'bigint_from_bytes': _values.bigint_from_bytes,
        'ext_type': _values.ExtType,
    },
    _values.PLAIN_NUMBERS)


def _after_fork_in_child():
    # the child never uses its parent's sockets, locks held by threads
    # that did not survive, nor the pipe that keeps a private daemon alive
    _mpmgr.after_fork()
    _proxies._after_fork_in_child()
    _managers.after_fork_in_child()
    _daemon.after_fork_in_child()
    _connection.after_fork_in_child()
    _connection.after_fork_in_child_default()


os.register_at_fork(before=_connection.before_fork,
                    after_in_parent=_connection.after_fork_in_parent,
                    after_in_child=_after_fork_in_child)
