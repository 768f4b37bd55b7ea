"""CPython's manager tests on mpmgr.Manager, start method forkserver
(cpython_suite.py)."""
import cpython_suite

cpython_suite.install(globals(), 'forkserver')
