"""Python calling Erlang: registered functions, errors, threads, send, self, whereis, atom."""

import threading
import unittest
from concurrent.futures import ThreadPoolExecutor

import erlang
import epy_fixtures


class RegisteredFunctionsTest(unittest.TestCase):
    def test_three_ways_to_call(self):
        from erlang import py_test_add
        self.assertEqual(py_test_add(1, 2), 3)
        self.assertEqual(erlang.py_test_add(10, 20), 30)
        self.assertEqual(erlang.call("py_test_add", 100, 200), 300)

    def test_functions_are_objects(self):
        f = erlang.py_test_add
        self.assertIsInstance(f, erlang.Function)
        self.assertEqual(f.name, "py_test_add")
        self.assertIn("py_test_add", repr(f))

    def test_arguments_and_results_convert(self):
        args = erlang.py_test_echo(1, "two", [3.0], {"four": (5,)}, None, b"\xff")
        self.assertEqual(args, [1, "two", [3.0], {"four": (5,)}, None, b"\xff"])

    def test_unknown_names(self):
        with self.assertRaises(AttributeError):
            erlang.surely_not_registered
        with self.assertRaises(ImportError):
            from erlang import surely_not_registered  # noqa: F401
        with self.assertRaises(AttributeError):
            erlang.call("surely_not_registered")
        with self.assertRaises(TypeError):
            erlang.call(42)

    def test_erlang_exceptions(self):
        with self.assertRaises(erlang.ErlangError) as caught:
            erlang.py_test_fail("why")
        e = caught.exception
        self.assertIsInstance(e, Exception)
        self.assertEqual(e.erlang_class, "error")
        self.assertEqual(e.reason, (erlang.Atom("test_failure"), "why"))
        self.assertIn("test_failure", str(e))

    def test_threads_call_concurrently(self):
        def work(t):
            return [erlang.py_test_add(t, i) for i in range(200)]

        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(work, range(8)))
        for t, values in enumerate(results):
            self.assertEqual(values, [t + i for i in range(200)])


class SendTest(unittest.TestCase):
    def test_send_to_a_dead_pid_is_silent(self):
        self.assertIsNone(erlang.send(epy_fixtures.dead_pid, "hello"))

    def test_send_to_an_unregistered_name_is_an_error(self):
        with self.assertRaises(ValueError):
            erlang.send("surely_nobody_registered_here", 1)

    def test_bad_destinations(self):
        for bad in (42, 1.5, None, [1], ("a", "b", "c")):
            with self.assertRaises(TypeError):
                erlang.send(bad, 1)


class IdentityTest(unittest.TestCase):
    def test_self_is_the_calling_process(self):
        me = erlang.self()
        self.assertIsInstance(me, erlang.Pid)
        self.assertEqual(me, epy_fixtures.collector)

    def test_self_outside_a_request_is_none(self):
        seen = []
        t = threading.Thread(target=lambda: seen.append(erlang.self()))
        t.start()
        t.join()
        self.assertEqual(seen, [None])

    def test_whereis(self):
        self.assertIsInstance(erlang.whereis("py_context_router"), erlang.Pid)
        self.assertIsNone(erlang.whereis("surely_nobody_registered_here"))
        with self.assertRaises(TypeError):
            erlang.whereis(1)

    def test_atom(self):
        ok = erlang.atom("ok")
        self.assertIsInstance(ok, erlang.Atom)
        self.assertEqual(ok, "ok")
        with self.assertRaises(TypeError):
            erlang.atom(1)
        with self.assertRaises(ValueError):
            erlang.atom("x" * 300)


if __name__ == "__main__":
    unittest.main()
