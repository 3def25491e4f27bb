"""erlang._venv: how an activated virtual environment is applied in one interpreter
(py:activate_venv/1 drives it from Erlang; py_venv_SUITE tests that path)."""

import os
import sys
import tempfile
import unittest

from erlang import _venv


class VenvApplyTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.venv = self.tmp.name
        self.site = os.path.join(self.venv, "lib", "site-packages")
        self.extra = os.path.join(self.venv, "extra")
        os.makedirs(self.site)
        os.makedirs(self.extra)
        with open(os.path.join(self.site, "epy_venv_probe.py"), "w") as f:
            f.write("WHERE = 'site'\n")
        with open(os.path.join(self.extra, "epy_venv_extra.py"), "w") as f:
            f.write("WHERE = 'extra'\n")
        with open(os.path.join(self.site, "epy_extra.pth"), "w") as f:
            f.write(self.extra + "\n")
        self.path_before = list(sys.path)
        self.prefix_before = (sys.prefix, sys.exec_prefix)
        self.generation = 10**12  # never one the NIF hands out in a test run

    def tearDown(self):
        self.apply(None, [])
        self.tmp.cleanup()

    def apply(self, path, dirs):
        self.generation += 1
        _venv.apply(path, dirs, self.generation)

    def test_site_packages_and_pth_entries_come_after_the_standard_library(self):
        self.apply(self.venv, [self.site])
        self.assertIn(self.site, sys.path)
        self.assertIn(self.extra, sys.path)  # from the .pth file
        stdlib = os.path.dirname(os.__file__)
        self.assertLess(sys.path.index(stdlib), sys.path.index(self.site))
        self.assertEqual((sys.prefix, sys.exec_prefix), (self.venv, self.venv))
        import epy_venv_probe
        import epy_venv_extra
        self.assertEqual((epy_venv_probe.WHERE, epy_venv_extra.WHERE), ("site", "extra"))

    def test_deactivation_restores_everything_and_forgets_the_modules(self):
        self.apply(self.venv, [self.site])
        import epy_venv_probe  # noqa: F401
        self.apply(None, [])
        self.assertEqual(sys.path, self.path_before)
        self.assertEqual((sys.prefix, sys.exec_prefix), self.prefix_before)
        self.assertNotIn("epy_venv_probe", sys.modules)
        with self.assertRaises(ModuleNotFoundError):
            import epy_venv_probe  # noqa: F401,F811

    def test_the_same_generation_is_applied_once(self):
        self.apply(self.venv, [self.site])
        import epy_venv_probe
        _venv.apply(self.venv, [self.site], self.generation)
        self.assertIs(sys.modules["epy_venv_probe"], epy_venv_probe)
        self.assertEqual(sys.path.count(self.site), 1)

    def test_a_new_activation_of_the_same_venv_imports_afresh(self):
        self.apply(self.venv, [self.site])
        import epy_venv_probe
        with open(os.path.join(self.site, "epy_venv_probe.py"), "w") as f:
            f.write("WHERE = 'reinstalled'\n")
        self.apply(self.venv, [self.site])
        self.assertNotIn("epy_venv_probe", sys.modules)
        import epy_venv_probe as again
        self.assertIsNot(again, epy_venv_probe)
        self.assertEqual(again.WHERE, "reinstalled")
        self.assertEqual(sys.path.count(self.site), 1)


if __name__ == "__main__":
    unittest.main()
