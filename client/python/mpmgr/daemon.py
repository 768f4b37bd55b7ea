"""The private mpmgrd of a Manager() that was given no address.

Like CPython's Manager, which starts a server process, Manager() starts an
mpmgrd of its own: on a socket in a new private directory (0700, under
$TMPDIR), with the key of the starting process (multiprocessing's
current_process().authkey, which its children inherit) written beside the
socket (0600). The daemon is found through $MPMGRD, then beside this
package in a build tree (build/python/mpmgr -> build/mpmgrd), then on
PATH and in /usr/local/sbin and /usr/sbin.

It must not outlive its parent: it runs with --parent-fd on the read end
of a pipe whose write end only this process holds (close-on-exec, and
closed in forked children by the package's os.register_at_fork hook), so
it stops when this process exits however it dies, SIGKILL included. It
runs in a session of its own, so that the terminal's Ctrl-C goes to the
program and not to it (CPython's manager ignores SIGINT for the same
reason).
"""

import errno
import os
import shutil
import signal
import subprocess
import tempfile
import time
import weakref

from .errors import ConnectError

__all__ = ['find_mpmgrd', 'PrivateDaemon']

_START_SECONDS = 20     # a sanitized daemon on a loaded 2-CPU machine

# what a process under systemd may carry and the daemon must not take
_ENV_DROP = ('NOTIFY_SOCKET', 'WATCHDOG_USEC', 'WATCHDOG_PID', 'LISTEN_FDS',
             'LISTEN_PID', 'LISTEN_FDNAMES', 'MPMGR_SOCKET',
             'MPMGR_AUTHKEY_FILE', 'CREDENTIALS_DIRECTORY')

_live = weakref.WeakSet()


def find_mpmgrd():
    """The mpmgrd to start: $MPMGRD, the build tree's, PATH's, sbin's."""
    env = os.environ.get('MPMGRD')
    if env:
        return env
    here = os.path.dirname(os.path.abspath(__file__))
    built = os.path.join(os.path.dirname(os.path.dirname(here)), 'mpmgrd')
    if os.access(built, os.X_OK):
        return built
    found = shutil.which('mpmgrd') or shutil.which(
        'mpmgrd', path='/usr/local/sbin:/usr/sbin:/sbin')
    if found:
        return found
    raise FileNotFoundError(
        errno.ENOENT, 'mpmgr: no mpmgrd to start (install mpmgr, put '
        'mpmgrd on PATH, or set $MPMGRD)', 'mpmgrd')


class PrivateDaemon:
    """A running private mpmgrd; .address is its socket."""

    def __init__(self, address, key):
        self.dir = tempfile.mkdtemp(prefix='mpmgr-')
        self.address = address or os.path.join(self.dir, 'mpmgr.sock')
        self.keyfile = os.path.join(self.dir, 'authkey')
        self._pipe = None
        self.process = None
        self._owner = os.getpid()
        try:
            self._start(key)
        except BaseException:
            self.stop(0)
            raise
        _live.add(self)

    def _start(self, key):
        # the daemon takes the file's bytes less one trailing newline
        fd = os.open(self.keyfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL |
                     os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, 'wb') as f:
            f.write(bytes(key) + b'\n')
        r, self._pipe = os.pipe()       # both close-on-exec
        env = {k: v for k, v in os.environ.items() if k not in _ENV_DROP}
        try:
            self.process = subprocess.Popen(
                [find_mpmgrd(), '--socket', self.address, '--authkey-file',
                 self.keyfile, '--parent-fd', str(r), '--log-level',
                 'warning'],
                pass_fds=(r,), stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, env=env, start_new_session=True)
        finally:
            os.close(r)

    def wait_ready(self, client):
        """Poll until client can open a connection (its session); the
        connection. Fails if the daemon exits or stays silent."""
        deadline = time.monotonic() + _START_SECONDS
        pause = 0.001
        while True:
            try:
                return client.session()
            except ConnectError:
                if self.process.poll() is not None:
                    raise RuntimeError(
                        'mpmgr: mpmgrd exited with status %d at start '
                        '(its message is above)' % self.process.returncode)
                if time.monotonic() > deadline:
                    raise RuntimeError('mpmgr: mpmgrd did not answer on %s '
                                       'within %d s' % (self.address,
                                                        _START_SECONDS))
            time.sleep(pause)
            pause = min(pause * 2, 0.05)

    def close_pipe(self):
        """Let go of the write end (a forked child must not keep the
        daemon alive)."""
        if self._pipe is not None:
            try:
                os.close(self._pipe)
            except OSError:
                pass
            self._pipe = None

    def stop(self, timeout):
        """SIGTERM, wait up to timeout, SIGKILL; remove the directory."""
        if os.getpid() != self._owner:
            self.close_pipe()
            return
        p = self.process
        if p is not None and p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.close_pipe()
        shutil.rmtree(self.dir, ignore_errors=True)

    def join(self, timeout=None):
        if self.process is not None:
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                pass

    def alive(self):
        return self.process is not None and self.process.poll() is None


def after_fork_in_child():
    for d in list(_live):
        d.close_pipe()
        # the child's copy of the Popen must not reap or signal it
        d.process = None

