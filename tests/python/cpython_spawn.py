"""CPython's manager tests on mpmgr.Manager, start method spawn
(cpython_suite.py)."""
import cpython_suite

cpython_suite.install(globals(), 'spawn')
