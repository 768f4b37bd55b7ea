"""CPython's manager tests on mpmgr.Manager, start method fork
(cpython_suite.py)."""
import cpython_suite

cpython_suite.install(globals(), 'fork')
