"""pip install ./client/python: the mpmgr package outside the Makefile.

The extension mpmgr._mpmgr carries libmpmgr and proto/ compiled in (as
`make` builds it), from this source tree: client/*.c but the programs,
and proto/*.c. It needs Debian's libmsgpack-dev and libssl-dev (`make
deps`). The package finds mpmgrd for Manager() on PATH, in /usr/sbin or
/usr/local/sbin, or through $MPMGRD.

On Debian, pip installs into a virtual environment:
    python3 -m venv env && env/bin/pip install ./client/python
"""

import glob
import os
import subprocess

from setuptools import Extension, setup

HERE = os.path.dirname(os.path.abspath(__file__))
CLIENT = os.path.dirname(HERE)
TOP = os.path.dirname(CLIENT)
PROGRAMS = ('mpctl', 'mpbench')


def pkg_config(*args):
    for module in ('msgpack-c', 'msgpack'):
        try:
            out = subprocess.run(['pkg-config', *args, module, 'libcrypto'],
                                 capture_output=True, text=True, check=True)
            return out.stdout.split()
        except (OSError, subprocess.CalledProcessError):
            continue
    return {'--libs': ['-lmsgpackc', '-lcrypto']}.get(args[0], [])


lib_sources = sorted(
    f for f in glob.glob(os.path.join(CLIENT, '*.c'))
    if not os.path.basename(f).startswith(PROGRAMS))
sources = (sorted(glob.glob(os.path.join(HERE, 'src', '*.c'))) + lib_sources +
           sorted(glob.glob(os.path.join(TOP, 'proto', '*.c'))))

setup(
    name='mpmgr',
    version='0.1.0',
    description="multiprocessing's Manager on mpmgrd",
    packages=['mpmgr'],
    package_dir={'mpmgr': os.path.join(HERE, 'mpmgr')},
    python_requires='>=3.11',
    ext_modules=[Extension(
        'mpmgr._mpmgr',
        sources=sources,
        include_dirs=[CLIENT],
        define_macros=[('_GNU_SOURCE', None)],
        extra_compile_args=['-std=c11'] + pkg_config('--cflags'),
        extra_link_args=pkg_config('--libs') + [
            '-Wl,--version-script=' + os.path.join(HERE, 'mpmgr.map')],
    )],
)
