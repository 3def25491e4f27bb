"""Runs this directory's unittest suites inside an erlang_python context.

Called from run_in_vm.escript as epy_test_runner.run(directory, fixtures): `fixtures`
holds Erlang values the tests need (pids, references, atoms), published to the tests
as the module epy_fixtures.
"""

import io
import sys
import types
import unittest


def run(directory, fixtures):
    module = types.ModuleType("epy_fixtures")
    module.__dict__.update(fixtures)
    sys.modules["epy_fixtures"] = module

    stream = io.StringIO()
    suite = unittest.defaultTestLoader.discover(directory, pattern="test_*.py")
    result = unittest.TextTestRunner(stream=stream, verbosity=2).run(suite)
    problems = len(result.failures) + len(result.errors) + len(result.skipped) \
        + len(result.unexpectedSuccesses)
    return {
        "ok": result.wasSuccessful() and problems == 0 and result.testsRun > 0,
        "tests_run": result.testsRun,
        "report": stream.getvalue(),
    }
