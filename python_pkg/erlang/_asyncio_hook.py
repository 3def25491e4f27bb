"""asyncio inside a context defaults to the Erlang event loop.

Importing asyncio costs an interpreter several milliseconds, so contexts do not import it
up front: a finder on sys.meta_path waits for the interpreter's first `import asyncio`
and installs ErlangEventLoopPolicy right after it (asyncio.run, asyncio.new_event_loop
and asyncio.get_event_loop then give ErlangEventLoops).
"""

import sys


class _Loader:
    """asyncio's own loader, plus the policy once asyncio is in place."""

    def __init__(self, loader):
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        module.__loader__ = module.__spec__.loader = self._loader
        self._loader.exec_module(module)
        # Importing erlang._loop installs the policy. If asyncio is being imported by
        # erlang._loop itself, it installs the policy when it is done.
        if "erlang._loop" not in sys.modules:
            import erlang._loop  # noqa: F401

    def __getattr__(self, name):
        return getattr(self._loader, name)


class AsyncioFinder:
    def find_spec(self, name, path=None, target=None):
        if name != "asyncio":
            return None
        try:
            sys.meta_path.remove(self)
        except ValueError:
            pass
        from importlib.util import find_spec
        spec = find_spec(name)
        if spec is not None and spec.loader is not None:
            spec.loader = _Loader(spec.loader)
        return spec


def install():
    if "asyncio" in sys.modules:
        from erlang import _loop
        _loop.install_policy()
    elif not any(isinstance(f, AsyncioFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, AsyncioFinder())
