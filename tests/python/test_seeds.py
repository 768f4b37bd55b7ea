"""The seed programs (seeds/*.py), as a user runs them: one line changed
from CPython's Manager (or Pipe), each start method."""

import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))

EXPECTED = {
    'dict_list': "{1: '1', '2': 2, 0.25: None}\n[9, 8, 7, 6, 5, 4, 3, 2, 1, 0]\n",
    'joinable_queue': '20 2180\n',
    'ktv': '20 True 0\n',
    'traffic_light': 'red 0\ngreen [0, 1, 2, 3, 4]\n',
    'lock_counter': '0 0\n',
    'pool_queue': '[(0, 0), (1, 1), (2, 4), (3, 9), (4, 16), (5, 25), '
                  '(6, 36), (7, 49)]\n',
    'value_array_namespace': '3.25 [0, -1, -2, -3, -4] hello 42\n',
    # CPython's hangs under fork: its forked child holds the parent's end
    'pipe': '1\nhi\nEOF\n',
    'pool_map': '100 9900 [0, 2, 4, 6, 8]\n',
    'pool_apply_async': '[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, '
                        '15, 16, 17, 18, 19] True\n',
    'pool_callback': '[0, 1, 4, 9, 16, 25, 36, 49, 64, 81] True\n',
    'pool_with': '[0, 1, 4, 9, 16, 25, 36, 49, 64, 81]\n',
}

# spawn and forkserver start processes slowly: four programs each
METHODS = [('fork', p) for p in EXPECTED] + [
    (m, p) for m in ('spawn', 'forkserver')
    for p in ('dict_list', 'lock_counter', 'pipe', 'pool_with')]


@pytest.mark.parametrize('method,program', METHODS)
def test_seed(method, program):
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(p for p in sys.path if p)
    code = ('import multiprocessing, runpy, sys\n'
            'multiprocessing.set_start_method(sys.argv[1])\n'
            'sys.argv = sys.argv[2:]\n'
            'runpy.run_path(sys.argv[0], run_name="__main__")\n')
    r = subprocess.run(
        [sys.executable, '-c', code, method,
         os.path.join(HERE, 'seeds', program + '.py')],
        env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout == EXPECTED[program]
