"""Pipes: multiprocessing.Pipe() on mpmgrd's pipe type.

``mpmgr.Pipe(duplex=True)`` and ``m.Pipe()`` answer two Connection
objects with the API of multiprocessing.connection.Connection. Each end
of the daemon's pipe (docs/PROTOCOL.md, "pipe") is held by the
Connection's own connections to the daemon, not by a file descriptor:

- the hold handle opens the end (``pipe.open``), and carries ``recv`` and
  ``poll``; ``fileno()`` is its socket, made readable for
  multiprocessing.connection.wait() by a ``pipe.poll`` left outstanding
  on it ("armed": its answer comes when a recv would not wait);
- the send handle (made at the first send; the hold handle itself for a
  write-only end) holds the end too and carries the sends, so that a
  thread may send while another waits in recv on the same Connection,
  as with CPython's socketpair. Sends are pipelined: send() writes its
  request and returns, and the replies are read later (when they have
  come, when 64 are unread, at close()). A send into a closed pipe
  raises BrokenPipeError, as CPython's, but at the send after the one
  the daemon refused (or at poll() of that direction). A pipe with a
  maxsize waits for each send's answer instead.

Because the sends hold the end on the connection that carries them, a
process that sends and exits (or is killed) loses nothing it sent: the
daemon reads the sends before it sees that connection go.

Handing an end to another process takes a hand-off token
(``pipe.handoff``) that keeps the end open until the receiver claims it
with ``pipe.open``: pickling a Connection (spawn, forkserver, a queue)
does it, and os.fork() does it for every open Connection in the parent
(before the fork). A child started by multiprocessing under fork claims
the ends given in the Process's args and kwargs before its target runs,
and lets the others go, so that it holds what a spawned child would (the
seed program that waits for EOFError in the child ends under fork, where
CPython's hangs: its forked child holds the parent's end). After a raw
os.fork() the child claims an end at its first use of it; an end it
never uses is kept open for it until the hand-off expires (60 s).
"""

import collections
import errno
import io
import threading
import weakref

from multiprocessing import process as _mp_process
from multiprocessing import util
from multiprocessing.context import BufferTooShort
from multiprocessing.managers import State

from . import proxies
from .errors import Error, EndOfFileError, WaitTimeoutError

__all__ = ['Connection', 'Pipe']

SEND_WINDOW = 64        # unread send replies before a send waits for one
READ_AHEAD = 64         # the most messages one recv takes from the daemon

_live = weakref.WeakSet()       # open Connections of this process


class _PipeRef(proxies.BaseProxy):
    """The pipe by name, for the calls that go on the thread's shared
    connection (hand-offs, releasing them)."""

    _kind = 'pipe'
    _typeid = 'Pipe'


def _large(m):
    """Too large to read many ahead (64 of them would be held here)."""
    return isinstance(m, (bytes, str)) and len(m) > 65536


def _eof_to_broken_pipe(e):
    return BrokenPipeError(errno.EPIPE, 'Broken pipe: %s' % (e,))


class Connection:
    """One end of an mpmgr pipe, with CPython's Connection API: send/recv
    (any value: plain MessagePack where one exists, else a pickle),
    send_bytes/recv_bytes/recv_bytes_into, poll, fileno, close, closed,
    readable, writable, and ``with``. recv raises EOFError once the other
    end is closed and drained (its holders closed it, exited or were
    killed)."""

    def __init__(self, ref, end, readable=True, writable=True, *,
                 token=None, maxsize=0):
        self._ref = ref
        self._name = ref._name
        self._end = end
        self._readable = readable
        self._writable = writable
        self._maxsize = maxsize
        self._h = None          # hold handle: recv, poll, fileno
        self._s = None          # send handle (self._h when write-only)
        self._armed = False     # a pipe.poll outstanding on _h (fileno)
        self._buf = collections.deque()     # read ahead, or got as a
                                            # signal cancelled a recv
        self._ahead = 0         # recvs to send at once (0: one that waits)
        self._sent = True       # a send since the last recv
        self._fork_token = None  # hand-off taken for a child (os.fork)
        self._rlock = threading.Lock()
        self._slock = threading.Lock()
        self._closed = False
        _live.add(self)
        self._claim(token)

    # --- holding ---

    def _claim(self, token):
        """Open our end on a new hold handle (token: claim a hand-off)."""
        h = self._ref._client.session()
        args = (self._name, self._end) + (() if token is None else (token,))
        try:
            h.call('pipe.open', *args)
        except EndOfFileError:
            pass        # closed already: every verb will say so
        self._h = h
        if not self._readable:
            self._s = h

    def _hold(self):
        if self._closed:
            raise OSError('handle is closed')
        if self._h is None:     # a forked child's first use
            token, self._fork_token = self._fork_token, None
            self._claim(token)
        return self._h

    def _sender(self):
        self._hold()            # claims the end first in a forked child
        if self._s is None:
            s = self._ref._client.session()
            s.send('pipe.open', self._name, self._end)
            self._s = s
        return self._s

    # --- properties ---

    @property
    def closed(self):
        """True if the connection is closed."""
        return self._closed

    @property
    def readable(self):
        """True if the connection is readable."""
        return self._readable

    @property
    def writable(self):
        """True if the connection is writable."""
        return self._writable

    def _check_readable(self):
        if self._closed:
            raise OSError('handle is closed')
        if not self._readable:
            raise OSError('connection is write-only')

    def _check_writable(self):
        if self._closed:
            raise OSError('handle is closed')
        if not self._writable:
            raise OSError('connection is read-only')

    # --- sending ---

    def _replies(self, s, block):
        """Read the send replies that have come (block: all of them);
        BrokenPipeError for a send the daemon refused with EOF."""
        while s.pending and (block or s.readable(0)):
            try:
                s.reply()
            except EndOfFileError as e:
                raise _eof_to_broken_pipe(e) from None

    def _send(self, obj):
        self._check_writable()
        with self._slock:
            s = self._sender()
            if self._maxsize > 0:
                self._replies(s, True)
                try:
                    s.wait(None, 'pipe.send', self._name, self._end, obj)
                except EndOfFileError as e:
                    raise _eof_to_broken_pipe(e) from None
                return
            if s.pending:
                self._replies(s, s.pending >= SEND_WINDOW)
            s.send('pipe.send', self._name, self._end, obj)
            self._sent = True

    def send(self, obj):
        """Send obj to the other end (any value recv() gives back)."""
        self._send(obj)

    def send_bytes(self, buf, offset=0, size=None):
        """Send the bytes of buf[offset:offset+size] (a bytes-like
        object) as one message."""
        m = memoryview(buf)
        if m.itemsize > 1:
            m = m.cast('B')
        n = m.nbytes
        if offset < 0:
            raise ValueError('offset is negative')
        if n < offset:
            raise ValueError('buffer length < offset')
        if size is None:
            size = n - offset
        elif size < 0:
            raise ValueError('size is negative')
        elif offset + size > n:
            raise ValueError('buffer length < offset + size')
        self._send(bytes(m[offset:offset + size]))

    # --- receiving ---

    def _take_armed(self, h):
        """The armed poll's answer, now on the socket: True or False."""
        self._armed = False
        return bool(h.reply())

    def _read_ahead(self, h):
        """Take up to _ahead waiting messages in one round trip (recvs that
        do not wait) into _buf; whether any came."""
        calls = [('pipe.recv', (self._name, self._end, 0))] * self._ahead
        got = 0
        error = None
        # every reply is looked at: a recv that found nothing may be
        # followed by one that found a message sent meanwhile (the daemon
        # runs the batch while the sender's sends come in), and a message
        # taken is never dropped, not even behind an error
        for r in h.many(calls):
            if not isinstance(r, BaseException):
                self._buf.append(r)
                got += 1
            elif (error is None and
                  not isinstance(r, (WaitTimeoutError, EndOfFileError))):
                error = r
        if error is not None:
            raise error
        # a full batch: more are likely waiting; none: the reader is
        # ahead of the sender, wait for each message again
        if got == self._ahead:
            self._ahead = min(self._ahead * 2, READ_AHEAD)
        else:
            self._ahead = max(got, 2) if got else 0
        return got > 0

    def _recv(self):
        self._check_readable()
        with self._rlock:
            if self._buf:
                self._sent = False
                return self._buf.popleft()
            h = self._hold()
            if self._armed:
                h.readable(None)
                self._take_armed(h)
            # two recvs with no send between: a stream, read ahead
            if not self._sent and self._ahead and self._read_ahead(h):
                return self._buf.popleft()
            streaming, self._sent = not self._sent, False
            try:
                m = h.wait(self._buf.append, 'pipe.recv', self._name,
                           self._end)
            except EndOfFileError:
                raise EOFError from None
            if streaming and not self._ahead and not _large(m):
                self._ahead = 2
            return m

    def recv(self):
        """The oldest message for this end, waiting for one; EOFError once
        the other end is closed and nothing is left."""
        return self._recv()

    def _recv_as_bytes(self):
        m = self._recv()
        if isinstance(m, bytes):
            return m
        # sent with send(): its encoding, as CPython answers the pickle
        return self._ref._client.packb(m)

    def recv_bytes(self, maxlength=None):
        """A message as bytes: what send_bytes sent (a message sent with
        send() comes as its MessagePack encoding)."""
        if maxlength is not None and maxlength < 0:
            raise ValueError('negative maxlength')
        b = self._recv_as_bytes()
        if maxlength is not None and len(b) > maxlength:
            self.close()
            raise OSError('bad message length')
        return b

    def recv_bytes_into(self, buf, offset=0):
        """recv_bytes() into the writable buffer buf at offset: the number
        of bytes; BufferTooShort (holding the message) when it does not
        fit."""
        self._check_readable()
        with memoryview(buf) as m:
            itemsize = m.itemsize
            bytesize = itemsize * len(m)
            if offset < 0:
                raise ValueError('negative offset')
            elif offset > bytesize:
                raise ValueError('offset too large')
            b = self._recv_as_bytes()
            size = len(b)
            if bytesize < offset + size:
                raise BufferTooShort(b)
            io.BytesIO(b).readinto(
                m[offset // itemsize:(offset + size) // itemsize])
            return size

    def poll(self, timeout=0.0):
        """Whether a recv would not wait (a message, or EOF), waiting up to
        timeout seconds (None: as long as it takes)."""
        self._check_readable()
        if timeout is not None and timeout < 0:
            timeout = 0
        with self._rlock:
            if self._buf:
                return True
            h = self._hold()
            if self._armed:
                if h.readable(timeout):
                    return self._take_armed(h)
                # the daemon decides: cancel, unless the answer raced
                self._armed = False
                answered, r = h.cancel()
                return answered and bool(r)
            if timeout == 0:
                return h.call('pipe.poll', self._name, self._end, 0)
            return h.wait(None, 'pipe.poll', self._name, self._end, timeout)

    def fileno(self):
        """The hold handle's socket. It becomes readable when a recv would
        not wait: the first fileno() leaves a poll outstanding on it, for
        multiprocessing.connection.wait() and selectors; recv() and poll()
        take its answer."""
        if self._closed:
            raise OSError('handle is closed')
        with self._rlock:
            h = self._hold()
            if self._readable and not self._armed:
                if self._buf:
                    h.send('sys.ping')      # readable at once
                else:
                    h.send('pipe.poll', self._name, self._end)
                self._armed = True
            return h.fileno()

    # --- closing ---

    def _quiet(self, h):
        """No request of ours outstanding on h (replies read, an armed poll
        cancelled); errors of the daemon ignored."""
        if h is self._h and self._armed:
            self._armed = False
            try:
                h.cancel()
            except Error:
                pass
        while h.usable and h.pending:
            try:
                h.reply()
            except Error:
                if not h.usable:
                    break

    def _let_go(self, h):
        if h.usable:
            self._quiet(h)
            try:
                h.call('pipe.close', self._name, self._end)
            except Error:
                pass
        h.close()

    def close(self):
        """Let go of this end: once every holder has, the other end reads
        what is left and then EOFError. Idempotent."""
        if self._closed:
            return
        self._closed = True
        _live.discard(self)
        # another thread waiting in recv, poll or a send that waits for
        # room: end its wait (it raises ConnectionResetError), as closing
        # CPython's descriptor under it would
        for lock, h in ((self._rlock, self._h), (self._slock, self._s)):
            if h is None:
                continue
            if lock.acquire(False):
                lock.release()
            else:
                h.shutdown()
        with self._slock:
            s, self._s = self._s, None
            if s is not None and s is not self._h:
                self._let_go(s)
        with self._rlock:
            h, self._h = self._h, None
            if h is not None:
                self._let_go(h)
            elif self._fork_token is not None:
                _release(self, self._fork_token)
                self._fork_token = None
        self._buf.clear()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_value, exc_tb):
        self.close()

    def __repr__(self):
        return '<mpmgr.Connection pipe %r end %d%s>' % (
            self._name, self._end, ' closed' if self._closed else '')

    # --- handing it on ---

    def __reduce__(self):
        if self._closed:
            raise OSError('handle is closed')
        token = self._ref._call('pipe.handoff', self._end)
        client = self._ref._client
        return (_rebuild, (type(self._ref), self._name, client.address,
                           proxies._keyspec(client), self._end,
                           self._readable, self._writable, self._maxsize,
                           token))


def _rebuild(refcls, name, address, keyspec, end, readable, writable,
             maxsize, token):
    ref = refcls(proxies.client_for(address, keyspec), name)
    return Connection(ref, end, readable, writable, token=token,
                      maxsize=maxsize)


def _release(conn, token):
    """Let a hand-off go without keeping the end (claim it, close it)."""
    try:
        proxies._results(conn._ref._many([
            ('pipe.open', (conn._end, token)),
            ('pipe.close', (conn._end,))]))
    except Error:
        pass


def pair(ref, duplex=True, maxsize=0):
    """The two Connections of the pipe ref, as multiprocessing.Pipe
    answers them: (end 0, end 1), or for a one-way pipe (reader, writer)
    = (end 1, end 0)."""
    if duplex:
        return (Connection(ref, 0, maxsize=maxsize),
                Connection(ref, 1, maxsize=maxsize))
    return (Connection(ref, 1, True, False, maxsize=maxsize),
            Connection(ref, 0, False, True, maxsize=maxsize))


# --- fork -------------------------------------------------------------------

def before_fork():
    """In the parent, before os.fork(): a hand-off of every open end, so
    that the parent's close cannot close it under the child."""
    for c in list(_live):
        if c._closed or c._h is None:
            continue
        try:
            c._fork_token = c._ref._call('pipe.handoff', c._end)
        except Exception:
            c._fork_token = None


def after_fork_in_parent():
    for c in list(_live):
        c._fork_token = None


def after_fork_in_child():
    """The parent's handles are not ours: claim at first use, with the
    hand-off taken before the fork."""
    for c in list(_live):
        c._rlock = threading.Lock()
        c._slock = threading.Lock()
        c._h = c._s = None
        c._armed = False
        c._stash = []       # the parent's to deliver


def _given(obj, found, depth=0):
    if isinstance(obj, Connection):
        found.add(id(obj))
    elif depth < 4 and isinstance(obj, (tuple, list, set, frozenset)):
        for x in obj:
            _given(x, found, depth + 1)
    elif depth < 4 and isinstance(obj, dict):
        for x in obj.values():
            _given(x, found, depth + 1)


def _mp_child(_):
    """In a child that multiprocessing forked, before its target runs:
    claim the ends the Process was given, let the other inherited ones
    go (a spawned child would hold exactly those it was given)."""
    proc = _mp_process.current_process()
    found = set()
    _given((getattr(proc, '_args', ()), getattr(proc, '_kwargs', {})),
           found)
    for c in list(_live):
        if c._closed or c._h is not None or c._fork_token is None:
            continue
        token, c._fork_token = c._fork_token, None
        if id(c) in found:
            c._claim(token)
        else:
            _release(c, token)


class _Forkers:
    pass


_forkers = _Forkers()
util.register_after_fork(_forkers, _mp_child)


# --- mpmgr.Pipe() -------------------------------------------------------------

_default_lock = threading.Lock()
_default = None


def default_manager():
    """The manager of mpmgr.Pipe(): a private daemon, started at the first
    call and stopped at exit (a forked child uses its parent's)."""
    global _default
    from .managers import Manager
    with _default_lock:
        if _default is None or _default._state.value != State.STARTED:
            m = Manager()
            # stopped at exit after multiprocessing joined the children
            # that may still use its pipes (a manager's own finalizer runs
            # before, as CPython's)
            f = m._finalizer
            m._finalizer = util.Finalize(m, f._callback, args=f._args,
                                         exitpriority=-10)
            f.cancel()
            _default = m
        return _default


def Pipe(duplex=True, *, maxsize=0):
    """multiprocessing.Pipe() on a private mpmgrd of this process (started
    at the first call): two Connections; see SyncManager.Pipe."""
    return default_manager().Pipe(duplex, maxsize=maxsize)


def after_fork_in_child_default():
    global _default_lock
    _default_lock = threading.Lock()
