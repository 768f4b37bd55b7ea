"""What the Python tests share: real daemons, mpctl, deadlines.

- ``manager``: a private Manager() per test module (its own mpmgrd).
- ``daemon``: a daemon of the test's own on a temporary socket with a
  fresh key file, as a user's mpmgrd would be (attach, named objects,
  mpctl); ``daemon.mpctl(...)`` runs mpctl against it.
- ``journaled``: the same with ``--data-dir`` (``--fsync always``), whose
  ``restart()`` (SIGTERM) or ``restart(kill=True)`` (SIGKILL) brings it
  back on the same socket with its objects.
- ``poll(cond)``: wait for a condition against a deadline, never a sleep
  standing in for one.
- ``run_until(path, x)``: a pool task that runs until the test makes path.
- every test runs under a watchdog: past TEST_TIMEOUT it dumps every
  thread's stack and ends pytest, so that a hang fails make check instead
  of stalling it.

$MPMGRD and $MPCTL name the binaries (make check sets them; by default the
ones in build/). Every process a test starts is ended by the test.
"""

import faulthandler
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
BUILD = os.environ.get('B', 'build')
MPMGRD = os.environ.get('MPMGRD') or os.path.join(TOP, BUILD, 'mpmgrd')
MPCTL = os.environ.get('MPCTL') or os.path.join(TOP, BUILD, 'mpctl')
os.environ.setdefault('MPMGRD', MPMGRD)

# the longest a wait lasts: a sanitized daemon on a busy 2-CPU machine
DEADLINE = 30.0

# one test longer than this is a hang (the slowest take seconds)
TEST_TIMEOUT = 600

sys.path.insert(0, HERE)


@pytest.fixture(autouse=True)
def _watchdog():
    faulthandler.dump_traceback_later(TEST_TIMEOUT, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()


def poll(cond, timeout=DEADLINE, what='condition'):
    """cond() until true, every 5 ms; AssertionError past the deadline."""
    end = time.monotonic() + timeout
    while True:
        r = cond()
        if r:
            return r
        if time.monotonic() > end:
            raise AssertionError('timed out waiting for ' + what)
        time.sleep(0.005)


def run_until(path, x):
    """A pool task that runs until path exists (made by the test), then
    answers x; path + '.started' says it started."""
    open(path + '.started', 'w').close()
    while not os.path.exists(path):
        time.sleep(0.01)
    return x


def alive(pid):
    """The process exists and is not a zombie."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except (FileNotFoundError, ProcessLookupError):
        return False


class Daemon:
    """An mpmgrd on a socket in a temporary directory."""

    def __init__(self, journal=False):
        self.dir = tempfile.mkdtemp(prefix='mpmgr-pytest-')
        self.socket = os.path.join(self.dir, 'mpmgr.sock')
        self.keyfile = os.path.join(self.dir, 'authkey')
        subprocess.run([MPMGRD, '--genkey', self.keyfile], check=True,
                       stdout=subprocess.DEVNULL)
        with open(self.keyfile, 'rb') as f:
            self.key = f.read().rstrip(b'\n')
        self.log = open(os.path.join(self.dir, 'daemon.log'), 'wb')
        self.args = [MPMGRD, '--socket', self.socket, '--authkey-file',
                     self.keyfile]
        if journal:
            self.args += ['--data-dir', os.path.join(self.dir, 'data'),
                          '--fsync', 'always']
        self.start()

    def start(self):
        self.proc = subprocess.Popen(self.args, stderr=self.log,
                                     stdin=subprocess.DEVNULL)
        poll(lambda: self.mpctl('ping', check=False).returncode == 0 or
             self.proc.poll() is not None, what='mpmgrd to answer')
        assert self.proc.poll() is None, 'mpmgrd exited at start'

    def restart(self, kill=False):
        """Stop the daemon (SIGTERM, or SIGKILL) and start it again on
        the same socket, key and data dir."""
        self.proc.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        self.proc.wait(DEADLINE)
        self.start()

    def env(self):
        e = dict(os.environ)
        e['MPMGR_SOCKET'] = self.socket
        e['MPMGR_AUTHKEY_FILE'] = self.keyfile
        return e

    def mpctl(self, *args, check=True, input=None):
        r = subprocess.run([MPCTL, *args], env=self.env(),
                           capture_output=True, text=True, input=input,
                           timeout=DEADLINE)
        if check and r.returncode != 0:
            raise AssertionError('mpctl %s: exit %d: %s' % (
                ' '.join(args), r.returncode, r.stderr))
        return r

    def ls(self):
        """The objects: [[name, type, size]...]."""
        return json.loads(self.mpctl('ls', '--json').stdout)

    def names(self):
        return {o[0] for o in self.ls()}

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(DEADLINE)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        subprocess.run(['rm', '-rf', self.dir])


@pytest.fixture
def daemon():
    d = Daemon()
    yield d
    d.stop()


@pytest.fixture
def journaled():
    d = Daemon(journal=True)
    yield d
    d.stop()


@pytest.fixture(scope='module')
def shared_daemon():
    d = Daemon()
    yield d
    d.stop()


@pytest.fixture(scope='module')
def manager():
    import mpmgr
    m = mpmgr.Manager()
    yield m
    m.shutdown()


def run_python(code, *args, env=None, timeout=DEADLINE, **kw):
    """Run code in a fresh interpreter (this one's sys.path)."""
    e = dict(os.environ if env is None else env)
    e['PYTHONPATH'] = os.pathsep.join(p for p in sys.path if p)
    return subprocess.run([sys.executable, '-c', code, *args], env=e,
                          capture_output=True, text=True, timeout=timeout,
                          **kw)


def spawn_python(code, *args, env=None, **kw):
    """Start code in a fresh interpreter; the caller ends it."""
    e = dict(os.environ if env is None else env)
    e['PYTHONPATH'] = os.pathsep.join(p for p in sys.path if p)
    return subprocess.Popen([sys.executable, '-c', code, *args], env=e,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, **kw)
