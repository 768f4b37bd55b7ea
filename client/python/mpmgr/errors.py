"""The exceptions of mpmgr.

Every error of the daemon or of libmpmgr is an ``mpmgr.Error`` whose
``code`` names it ("NOKEY", "ECONNECT"...), and also an instance of the
CPython exception a program written for multiprocessing expects: a missing
key is a KeyError, a timed-out queue get a queue.Empty, a broken barrier a
threading.BrokenBarrierError, a daemon that went away a ConnectionError
(and EOFError, as CPython's proxies raise). The proxies raise CPython's
exact exceptions where CPython's Manager does (``KeyError(key)``,
``queue.Empty()``...); these classes are what escapes otherwise.
"""

import multiprocessing
import queue
import threading

try:
    ShutDown = queue.ShutDown           # Python 3.13
except AttributeError:
    class ShutDown(Exception):
        """Raised by put and get on a queue that was shut down
        (queue.ShutDown of Python 3.13, which this is from 3.13 on)."""

__all__ = [
    'Error', 'NoKeyError', 'NoIndexError', 'NotFoundError', 'NoObjectError',
    'EmptyError', 'FullError', 'WaitTimeoutError', 'WrongTypeError',
    'BadArgError', 'BadTypeError', 'NotHeldError', 'NotOwnerError',
    'RangeError', 'BrokenError', 'DeletedError', 'ExistsError',
    'NoMethodError', 'AuthError', 'TooBigError', 'LimitError',
    'ShutdownError', 'InternalError', 'EndOfFileError', 'LostError',
    'ConnectError', 'KeyFileError',
    'PeerError', 'ConnectionLostError', 'ProtocolError', 'ForkError',
    'OutOfMemoryError', 'InvalidError', 'StateError', 'InFlightError',
    'ShutDown',
]


class Error(Exception):
    """An error of mpmgrd or libmpmgr; ``code`` is its name."""

    code = None

    def __reduce__(self):
        return _rebuild, (type(self), self.args, self.code)


def _rebuild(cls, args, code):
    e = cls(*args)
    e.code = code
    return e


class NoKeyError(Error, KeyError):
    """NOKEY: the dict has no such key."""


class NoIndexError(Error, IndexError):
    """NOINDEX: index out of range."""


class NotFoundError(Error, ValueError):
    """NOTFOUND: the value is not in the list."""


class NoObjectError(Error, LookupError):
    """NOOBJ: the object must exist and does not (a barrier, an array)."""


class EmptyError(Error, queue.Empty):
    """EMPTY: nothing to get."""


class FullError(Error, queue.Full):
    """FULL: no room to put."""


class WaitTimeoutError(Error, TimeoutError):
    """TIMEOUT: a wait ended (or was cancelled) before it was served."""


class WrongTypeError(Error, TypeError):
    """WRONGTYPE: the name holds an object of another type."""


class BadArgError(Error, ValueError):
    """BADARG: an argument the daemon refuses."""


class BadTypeError(Error, TypeError):
    """BADTYPE: a value of the wrong kind for the operation."""


class NotHeldError(Error, RuntimeError):
    """NOTHELD: releasing what is free."""


class NotOwnerError(Error, RuntimeError):
    """NOTOWNER: releasing what another connection holds."""


class RangeError(Error, OverflowError):
    """RANGE: out of range (a sum past int64 and uint64, an element)."""


class BrokenError(Error, threading.BrokenBarrierError):
    """BROKEN: the barrier is broken."""


class DeletedError(Error, RuntimeError):
    """DELETED: the object was deleted while waiting on it."""


class ExistsError(Error, ValueError):
    """EXISTS: the name exists with other creation parameters."""


class NoMethodError(Error, NotImplementedError):
    """NOMETHOD: the daemon has no such method (an older daemon)."""


class AuthError(Error, multiprocessing.AuthenticationError):
    """AUTH: the daemon refused the key."""


class TooBigError(Error, ValueError):
    """TOOBIG: a message larger than the daemon accepts."""


class LimitError(Error, RuntimeError):
    """LIMIT: a limit of the daemon (clients, memory, reply size)."""


class ShutdownError(Error, ConnectionError, EOFError):
    """SHUTDOWN: the daemon is stopping, or a queue was shut down (the
    queue proxies raise ShutDown for that)."""


class InternalError(Error, RuntimeError):
    """INTERNAL: a bug in the daemon."""


class EndOfFileError(Error, EOFError):
    """EOF: a pipe's other end is closed."""


class LostError(Error, RuntimeError):
    """LOST: a process record's supervisor went away."""


class ConnectError(Error, ConnectionRefusedError):
    """ECONNECT: no daemon answers on the socket."""


class KeyFileError(Error, OSError):
    """EKEY: the key file is missing, unreadable or unsafe."""


class PeerError(Error, multiprocessing.AuthenticationError):
    """EPEER: the daemon is not trusted (uid, or its proof is wrong)."""


class ConnectionLostError(Error, ConnectionResetError, EOFError):
    """EIO: the connection closed or failed."""


class ProtocolError(Error, ConnectionError):
    """EPROTO: the daemon sent something malformed."""


class ForkError(Error, RuntimeError):
    """EFORK: a connection used in a forked child."""


class OutOfMemoryError(Error, MemoryError):
    """ENOMEM."""


class InvalidError(Error, ValueError):
    """EINVAL: a request libmpmgr refuses to send."""


class StateError(Error, RuntimeError):
    """ESTATE: a call out of order."""


class InFlightError(Error, ConnectionError):
    """EINFLIGHT: the connection was lost with the request in flight (a
    handle that reconnects): it may or may not have run."""


# libmpmgr's codes (mpmgr.h): the server's negated, then the client's.
BY_CODE = {
    -1: NoKeyError, -2: NoIndexError, -3: NotFoundError, -4: NoObjectError,
    -5: EmptyError, -6: FullError, -7: WaitTimeoutError, -8: WrongTypeError,
    -9: BadArgError, -10: BadTypeError, -11: NotHeldError,
    -12: NotOwnerError, -13: RangeError, -14: BrokenError, -15: DeletedError,
    -16: ExistsError, -17: NoMethodError, -18: AuthError, -19: TooBigError,
    -20: LimitError, -21: ShutdownError, -22: InternalError,
    -23: EndOfFileError, -24: LostError,
    -100: ConnectError, -101: KeyFileError, -102: PeerError,
    -103: ConnectionLostError, -104: ProtocolError, -105: ForkError,
    -106: OutOfMemoryError, -107: InvalidError, -108: StateError,
    -109: InFlightError,
}
