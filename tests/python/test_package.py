"""The `erlang` package as Python code sees it inside a context."""

import importlib
import sys
import unittest

import erlang
import epy_fixtures


class PackageTest(unittest.TestCase):
    def test_exports(self):
        for name in ("Atom", "Pid", "Ref", "send"):
            self.assertTrue(hasattr(erlang, name), name)

    def test_package_comes_from_priv(self):
        self.assertTrue(erlang.__file__.endswith("python/erlang/__init__.py"))

    def test_native_module_is_per_interpreter(self):
        import _erlang
        self.assertIs(erlang.Atom, _erlang.Atom)
        self.assertEqual(_erlang.__name__, "_erlang")

    def test_importable_again_after_removal(self):
        del sys.modules["erlang"]
        again = importlib.import_module("erlang")
        self.assertTrue(hasattr(again, "send"))


class SendTest(unittest.TestCase):
    def test_send_to_a_pid(self):
        collector = epy_fixtures.collector
        message = (erlang.Atom("python_send"), [1, 2.5, "text", b"\xff", None, True,
                                                 {"k": [1]}, 2 ** 70])
        self.assertIsNone(erlang.send(collector, message))

    def test_send_to_a_dead_pid_is_not_an_error(self):
        self.assertIsNone(erlang.send(epy_fixtures.dead_pid, "anyone there?"))

    def test_destination_must_be_a_pid_or_a_name(self):
        with self.assertRaises(TypeError):
            erlang.send(1.5, 1)
        with self.assertRaises(TypeError):
            erlang.send(epy_fixtures.collector)

    def test_unconvertible_message_raises(self):
        with self.assertRaisesRegex(TypeError, "cannot convert object to an Erlang term"):
            erlang.send(epy_fixtures.collector, object())


if __name__ == "__main__":
    unittest.main()
