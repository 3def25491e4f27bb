"""CPython's own test_asyncio cases about the event loop's public API, run against
ErlangEventLoop inside a context.

The cases come from the interpreter's `test` package (pyenv builds have it; Debian's
Python has it in libpython3.X-testsuite, which scripts/deps.sh installs). Each class
below is one of CPython's test mixins with the loop factory pointed at ErlangEventLoop.

Every failure must be one of REFUSED_BY_DESIGN (matched by test name and by the text of
the error): anything else fails the Python test layer. CPython's own skips (no IPv6 on
this host, say) are listed in the report.
"""

import asyncio
import io
import sys
import unittest

import erlang

# Cases that cannot pass by design: test name -> (text their error contains, why).
_SIGNALS = ("Signal handlers not supported",
            "signal handlers belong to the Erlang VM (os:set_signal/2)")
_CHILD_WATCHER = ("Signal handlers not supported",
                  "needs a SIGCHLD child watcher: subprocesses go through Erlang ports")
_DAEMON = ("daemon threads are disabled",
           "the test's helper thread is a daemon thread; OWN_GIL subinterpreters forbid them")
_CURRENT_LOOP = ("RuntimeError not raised",
                 "expects no current loop, but a context thread always has its own loop")
REFUSED_BY_DESIGN = {
    "test_add_signal_handler": _SIGNALS,
    "test_signal_handling_args": _SIGNALS,
    "test_signal_handling_while_selecting": _SIGNALS,
    "test_read_all_from_pipe_reader": _CHILD_WATCHER,
    "test_connect_accepted_socket": _DAEMON,
    "test_ssl_connect_accepted_socket": _DAEMON,
    "test_start_server_1": _DAEMON,
    "test_drain_raises": _DAEMON,
    "test_streamreader_constructor_without_loop": _CURRENT_LOOP,
    "test_streamreaderprotocol_constructor_without_loop": _CURRENT_LOOP,
}

# The modules and mixins; names differ a little between Python versions.
_SOURCES = [
    ("test_events", "UnixEventLoopTestsMixin", "test_utils.TestCase"),
    ("test_sock_lowlevel", "BaseSockTestsMixin", "test_utils.TestCase"),
    ("test_sendfile", "SendfileTestsBase", "test_utils.TestCase"),
    ("test_server", "BaseStartServer", "unittest.TestCase"),
    ("test_streams", "StreamTests", None),
    ("test_waitfor", "AsyncioWaitForTest", None),
    ("test_timeouts", "TimeoutTests", None),
    ("test_taskgroups", "TestTaskGroup", None),
]


def _load(name):
    import importlib
    try:
        return importlib.import_module("test.test_asyncio." + name)
    except ImportError as e:
        if name in ("test_timeouts", "test_taskgroups") and sys.version_info < (3, 11):
            return None
        raise RuntimeError(
            "CPython's test_asyncio is not installed for this Python (Debian: apt-get install "
            "libpython3.%d-testsuite): %s" % (sys.version_info[1], e)) from e


def _collect_garbage():
    import gc
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gc.collect()


def _erlang_classes():
    from test.test_asyncio import utils as test_utils
    bases = {"test_utils.TestCase": test_utils.TestCase, "unittest.TestCase": unittest.TestCase}
    classes = []
    for module_name, mixin_name, base_name in _SOURCES:
        module = _load(module_name)
        mixin = getattr(module, mixin_name)
        namespace = {"__module__": __name__}
        if module_name == "test_events":
            # The Unix mixin attaches a SIGCHLD child watcher in setUp (subprocess
            # machinery, refused by design); its cases run without it.
            plain = module.EventLoopTestsMixin
            namespace["setUp"] = lambda self, plain=plain: plain.setUp(self)
            namespace["tearDown"] = lambda self, plain=plain: plain.tearDown(self)
        if module_name == "test_server":
            namespace["new_loop"] = lambda self: erlang.ErlangEventLoop()
        elif module_name == "test_streams":
            def setUp(self):
                test_utils.TestCase.setUp(self)
                _collect_garbage()  # so that the ResourceWarnings a case counts are its own
                self.loop = erlang.ErlangEventLoop()
                self.set_event_loop(self.loop)
            namespace["setUp"] = setUp
        elif base_name is None:  # IsolatedAsyncioTestCase (its runner's loop)
            namespace["loop_factory"] = erlang.ErlangEventLoop  # 3.13; older: the policy
        else:
            namespace["create_event_loop"] = lambda self: erlang.ErlangEventLoop()
        parents = (mixin,) if base_name is None else (mixin, bases[base_name])
        classes.append(type("Erlang_" + mixin_name, parents, namespace))
    return classes


def run():
    """Runs the cases; returns (ok, report)."""
    loader = unittest.TestLoader()
    suite = unittest.TestSuite(loader.loadTestsFromTestCase(c) for c in _erlang_classes())
    stream = io.StringIO()
    result = unittest.TextTestRunner(stream=stream, verbosity=0).run(suite)
    # CPython's modules reset the policy when they are done: ours again.
    from erlang import _loop
    asyncio.set_event_loop_policy(None)
    _loop.install_policy()

    unexpected, refused = [], []
    for test, trace in result.failures + result.errors:
        name = test.id().rsplit(".", 1)[-1]
        text, why = REFUSED_BY_DESIGN.get(name, (None, None))
        if text and text in trace:
            refused.append((test.id(), why))
        else:
            unexpected.append((test.id(), trace))
    lines = ["CPython test_asyncio against ErlangEventLoop (Python %s): %d run, %d passed, "
             "%d refused by design, %d skipped by CPython, %d unexpected failures"
             % (sys.version.split()[0], result.testsRun,
                result.testsRun - len(result.failures) - len(result.errors) - len(result.skipped),
                len(refused), len(result.skipped), len(unexpected))]
    lines += ["  refused by design: %s: %s" % (test_id, why) for test_id, why in refused]
    lines += ["  skipped by CPython: %s (%s)" % (t.id(), why) for t, why in result.skipped]
    for test_id, trace in unexpected:
        lines.append("  UNEXPECTED: %s\n%s" % (test_id, trace))
    return not unexpected, "\n".join(lines)
