"""CPython's own manager and Pool tests, run on mpmgr.Manager and
mpmgr.Pool.

test._test_multiprocessing (Debian's libpython3.11-testsuite) tests the
Manager it finds in multiprocessing at run time: its manager mixin calls
multiprocessing.Manager() in setUpClass, so replacing that attribute with
mpmgr.Manager runs every manager test on mpmgr (m.Pool() among them). Its
Pool tests for processes (the WithProcessesTestPool* classes) call the
mixin's Pool, bound when the module was imported, or multiprocessing.Pool:
both become mpmgr.Pool. install() puts the manager and Pool test classes
for one start method into a module (one module per start method, so that
spawned children import them by name), with the exclusions below;
TestSyncManagerTypes runs with mpmgr.SyncManager.

Each exclusion names its reason; README.md lists them ("CPython's own
tests").
"""

import faulthandler
import multiprocessing
import sys
import unittest

import mpmgr

POOL_TO_CHILD = ('passes the Pool to a child process, which terminates it '
                 'there: an mpmgr.Pool, like a multiprocessing.Pool, is its '
                 'parent\'s (its workers, results and callbacks) and is not '
                 'pickled; CPython\'s manager hands out a proxy of a Pool '
                 'living in its server process')
REGISTER = ('builds its own BaseManager subclass with registered Python '
            'callables served by a Python server process; mpmgr.Manager '
            'serves its own types only (and this test runs CPython\'s '
            'BaseManager, not mpmgr\'s)')
RELEASE_ON_EXIT = ('a child acquires and exits, the parent releases: mpmgr '
                   'gives back what an exiting process held (documented; '
                   'CPython\'s meaning is Lock(release_on_exit=False))')

# class name (as installed) -> reason, or (class, test) -> reason
EXCLUDED = {
    'WithManagerTestMyManager': REGISTER,
    'WithManagerTestRemoteManager': REGISTER,
    'WithManagerTestManagerRestart': REGISTER,
    ('TestSyncManagerTypes', 'test_pool'): POOL_TO_CHILD,
    ('TestSyncManagerTypes', 'test_lock'): RELEASE_ON_EXIT,
    ('TestSyncManagerTypes', 'test_bounded_semaphore'): RELEASE_ON_EXIT,
}


# CPython's tests sleep DELTA (0.1 s) and then assert that a notified
# process has woken and counted itself: on a loaded machine, or under
# ASan, 0.1 s is not always enough (test_notify failed so), and a failed
# test_notify leaves its child waiting for the notify it never sent, which
# its cleanup joins for ever. A longer DELTA only waits longer.
DELTA = 0.5
# One test longer than this dumps every thread's stack and ends the run
# (as regrtest's --timeout): a hang fails, it does not stall make check.
TEST_TIMEOUT = 600

POOL_CLASSES = ('WithProcessesTestPool', 'WithProcessesTestPoolWorkerErrors',
                'WithProcessesTestPoolWorkerLifetime')


def install(module_globals, start_method):
    multiprocessing.Manager = mpmgr.Manager
    multiprocessing.Pool = mpmgr.Pool
    import test._test_multiprocessing as T

    T.DELTA = DELTA
    tmp = {'__name__': module_globals['__name__']}
    T.install_tests_in_module_dict(tmp, start_method)
    for name, cls in tmp.items():
        if not isinstance(cls, type):
            continue
        if name in POOL_CLASSES:
            cls.Pool = staticmethod(mpmgr.Pool)
            _skip_tests(cls, name)
        elif name.startswith('WithManager'):
            cls = _adapted(cls, EXCLUDED.get(name), T.BaseMixin)
        else:
            continue
        module_globals[name] = _watched(cls)
    module_globals['TestSyncManagerTypes'] = _watched(_sync_manager_types(
        T, module_globals['__name__']))
    module_globals['setUpModule'] = tmp['setUpModule']
    module_globals['tearDownModule'] = tmp['tearDownModule']


def _watched(cls):
    """cls whose every test runs under a TEST_TIMEOUT watchdog."""
    run = cls.run

    def watched_run(self, result=None):
        faulthandler.dump_traceback_later(TEST_TIMEOUT, exit=True)
        try:
            return run(self, result)
        finally:
            faulthandler.cancel_dump_traceback_later()

    cls.run = watched_run
    return cls


def _skip_tests(cls, clsname):
    for key, reason in EXCLUDED.items():
        if isinstance(key, tuple) and key[0] == clsname:
            setattr(cls, key[1], unittest.skip(reason)(getattr(cls, key[1])))


def _adapted(cls, reason, base_mixin):
    if reason is not None:
        return unittest.skip(reason)(cls)

    @classmethod
    def tearDownClass(klass):
        # CPython's also warns about objects still alive by its reference
        # counts (_number_of_objects): mpmgr keeps anonymous objects until
        # the manager's session ends, so that check does not apply. The
        # pool of _TestPool ends first, as its own tearDownClass would.
        if getattr(klass, 'pool', None) is not None:
            klass.pool.terminate()
            klass.pool.join()
            klass.pool = None
        klass.manager.shutdown()
        klass.manager.join()
        klass.manager = None
        base_mixin.tearDownClass.__func__(klass)

    cls.tearDownClass = tearDownClass
    _skip_tests(cls, cls.__name__)
    return cls


def _sync_manager_types(T, modname):
    class TestSyncManagerTypes(T.TestSyncManagerTypes):
        manager_class = mpmgr.SyncManager

    TestSyncManagerTypes.__module__ = modname
    TestSyncManagerTypes.__qualname__ = 'TestSyncManagerTypes'
    _skip_tests(TestSyncManagerTypes, 'TestSyncManagerTypes')
    return TestSyncManagerTypes


def exclusions():
    """(what, reason) for the README."""
    for k, reason in EXCLUDED.items():
        yield ('.'.join(k) if isinstance(k, tuple) else k), reason


if __name__ == '__main__':
    for what, reason in exclusions():
        print('%s: %s' % (what, reason))
    sys.exit(0)
