"""ProcessRecordProxy: the daemon's process records, made by `mpctl
process start`, joined, inspected and terminated from Python."""

import os
import subprocess

import pytest

import mpmgr
from conftest import MPCTL, poll


def _start(daemon, name, *cmd):
    """mpctl process start: its supervisor stays in the background with
    its stdout, so the pid is read from a file, not a pipe."""
    out = os.path.join(daemon.dir, name + '.pid')
    with open(out, 'w') as f:
        subprocess.run([MPCTL, 'process', 'start', '-n', name, '--', *cmd],
                       env=daemon.env(), stdout=f, check=True, timeout=30)
    with open(out) as f:
        return int(f.read())


def test_join_and_terminate(daemon):
    m = mpmgr.Manager(address=daemon.socket)
    pid = _start(daemon, 'sleeper', 'sleep', '600')
    rec = m.named.ProcessRecord('sleeper')
    assert rec.is_alive() and rec.pid == pid
    assert rec.info()['state'] == 'running' and rec.exitcode is None
    assert rec.join(0.1) is None and rec.is_alive()
    rec.terminate()
    rec.join(30)
    assert not rec.is_alive()
    assert rec.exitcode == -15 and rec.info()['state'] == 'exited'
    rec.terminate()                     # nothing once exited
    m.shutdown()


def test_exit_code_and_missing(daemon):
    m = mpmgr.Manager(address=daemon.socket)
    _start(daemon, 'three', 'sh', '-c', 'exit 3')
    rec = m.named.ProcessRecord('three')
    rec.join(30)
    assert rec.exitcode == 3
    with pytest.raises(mpmgr.NoObjectError):
        m.named.ProcessRecord('never').info()
    with pytest.raises(TypeError):
        m.ProcessRecord()
    m.shutdown()


def test_lost_supervisor(daemon):
    m = mpmgr.Manager(address=daemon.socket)
    sup = subprocess.Popen([MPCTL, 'process', 'start', '-n', 'orphan',
                            '--wait', '--', 'sleep', '600'],
                           env=daemon.env(), stdout=subprocess.DEVNULL)
    rec = m.named.ProcessRecord('orphan')
    poll(lambda: 'orphan' in daemon.names(), what='the record')
    child = rec.pid
    sup.kill()
    sup.wait()
    with pytest.raises(mpmgr.LostError):
        rec.join(30)
    assert rec.info()['state'] == 'lost'
    with pytest.raises(mpmgr.LostError):
        rec.kill()
    subprocess.run(['kill', '-9', str(child)])
    m.shutdown()
