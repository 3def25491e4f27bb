"""The virtual environment chosen with py:activate_venv/1, applied in one interpreter.

The NIF calls apply() before the first request a context serves after an activation or
deactivation (and when a context starts while one is active). Every activation counts,
even of the venv already active: what was installed since is imported afresh. Its site-packages go on
sys.path where the interpreter's own site-packages start, after the standard library,
with their .pth files processed; sys.prefix and sys.exec_prefix name the environment, as
in a Python started from it. Deactivating takes all of that back and forgets the modules
imported from the environment, so that a later import finds them anew (or fails).
"""

import importlib
import logging
import os
import site
import sys

# (path, sys.path entries added, (sys.prefix, sys.exec_prefix) before).
_active = None
_generation = 0


def apply(path, site_dirs, generation):
    """Makes path (None: no environment) this interpreter's virtual environment, as
    py:activate_venv/1 or py:deactivate_venv/0 set it for the generation given."""
    global _generation
    if generation == _generation:
        return  # executors share one interpreter: the first of them applied it
    _generation = generation
    try:
        if _active is not None:
            _deactivate()
        if path is not None:
            _activate(path, site_dirs)
    except Exception:
        logging.getLogger("erlang").exception("cannot apply the virtual environment %s", path)
    finally:
        importlib.invalidate_caches()


def _activate(path, site_dirs):
    global _active
    before = list(sys.path)
    seen = set(before)
    for directory in site_dirs:
        site.addsitedir(directory)
    added = [entry for entry in sys.path if entry not in seen]
    rest = [entry for entry in sys.path if entry in seen]
    at = next((i for i, entry in enumerate(rest)
               if entry.endswith(("site-packages", "dist-packages"))), len(rest))
    sys.path[:] = rest[:at] + added + rest[at:]
    _active = (path, added, (sys.prefix, sys.exec_prefix))
    sys.prefix = sys.exec_prefix = path


def _deactivate():
    global _active
    path, added, (prefix, exec_prefix) = _active
    _active = None
    sys.path[:] = [entry for entry in sys.path if entry not in added]
    sys.prefix, sys.exec_prefix = prefix, exec_prefix
    inside = os.path.join(path, "")
    for name, module in list(sys.modules.items()):
        origin = getattr(module, "__file__", None)
        if isinstance(origin, str) and origin.startswith(inside):
            del sys.modules[name]
