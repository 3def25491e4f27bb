"""erlang.Atom, erlang.Pid and erlang.Ref: comparison, hashing, repr, limits."""

import unittest

import erlang
import epy_fixtures


class AtomTest(unittest.TestCase):
    def test_atoms_from_erlang_are_atoms_and_str(self):
        ok = epy_fixtures.ok_atom
        self.assertIsInstance(ok, erlang.Atom)
        self.assertIsInstance(ok, str)
        self.assertEqual(ok, "ok")
        self.assertEqual(hash(ok), hash("ok"))
        self.assertEqual(repr(ok), "erlang.Atom('ok')")

    def test_atom_is_usable_wherever_str_is(self):
        ok = epy_fixtures.ok_atom
        self.assertEqual(ok.upper(), "OK")
        self.assertEqual({"ok": 1}[ok], 1)
        self.assertEqual(f"{ok}!", "ok!")

    def test_special_atoms_convert_to_python_constants(self):
        self.assertIs(epy_fixtures.true_atom, True)
        self.assertIs(epy_fixtures.false_atom, False)
        self.assertIsNone(epy_fixtures.none_atom)
        self.assertIsNone(epy_fixtures.undefined_atom)

    def test_atom_constructor_makes_a_str_subclass(self):
        a = erlang.Atom("hello")
        self.assertEqual(a, "hello")
        self.assertIsInstance(a, erlang.Atom)


class PidTest(unittest.TestCase):
    def test_pid_equality_and_hash(self):
        a = epy_fixtures.collector
        b = epy_fixtures.collector_again
        other = epy_fixtures.dead_pid
        self.assertIsInstance(a, erlang.Pid)
        self.assertIsNot(a, b)
        self.assertEqual(a, b)
        self.assertEqual(hash(a), hash(b))
        self.assertNotEqual(a, other)
        self.assertEqual(len({a, b, other}), 2)

    def test_pid_repr_shows_the_erlang_pid(self):
        self.assertRegex(repr(epy_fixtures.collector), r"^erlang\.Pid\(<\d+\.\d+\.\d+>\)$")

    def test_pids_cannot_be_made_in_python(self):
        with self.assertRaises(TypeError):
            erlang.Pid()

    def test_pid_is_not_equal_to_other_types(self):
        self.assertNotEqual(epy_fixtures.collector, "<0.1.0>")
        self.assertNotEqual(epy_fixtures.collector, epy_fixtures.ref)


class RefTest(unittest.TestCase):
    def test_ref_equality_and_hash(self):
        r = epy_fixtures.ref
        self.assertIsInstance(r, erlang.Ref)
        self.assertEqual(r, epy_fixtures.ref_again)
        self.assertEqual(hash(r), hash(epy_fixtures.ref_again))
        self.assertNotEqual(r, epy_fixtures.other_ref)
        self.assertEqual({r: 1}[epy_fixtures.ref_again], 1)

    def test_ref_repr(self):
        self.assertRegex(repr(epy_fixtures.ref), r"^erlang\.Ref\(#Ref<[\d.]+>\)$")

    def test_refs_cannot_be_made_in_python(self):
        with self.assertRaises(TypeError):
            erlang.Ref()


class ConversionTest(unittest.TestCase):
    def test_values_arrive_with_python_types(self):
        v = epy_fixtures.values
        self.assertEqual(v["int"], 42)
        self.assertEqual(v["big"], 2 ** 100)
        self.assertEqual(v["float"], 2.5)
        self.assertEqual(v["text"], "héllo")
        self.assertEqual(v["bytes"], b"\xff\x00")
        self.assertEqual(v["tuple"], (1, "two"))
        self.assertEqual(v["list"], [1, [2, [3]]])
        self.assertEqual(v["map"], {"nested": {1: "one"}})
        self.assertIsInstance(v["map"]["nested"], dict)
        self.assertIsInstance(v["tuple"], tuple)
        self.assertIsInstance(v["text"], str)
        self.assertIsInstance(v["bytes"], bytes)


if __name__ == "__main__":
    unittest.main()
