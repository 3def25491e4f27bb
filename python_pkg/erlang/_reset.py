"""Bringing a recycled subinterpreter back to the state a new context starts in.

The engine runs this file's text in every subinterpreter it may hand on to a later context
(Interpreter::seal): seal() records the interpreter as its first context started it and
returns the reset function (Interpreter::reset) that returns to that state. CPython leaks
about 1.7 MB for every subinterpreter it ends (gh-110411), so a context stopped on purpose
passes its interpreter on instead. This module imports nothing of the erlang package.
"""


def seal(base_path):
    import atexit, builtins, gc, sys
    keep = ('modules', 'path', 'meta_path', 'path_hooks', 'path_importer_cache')
    modules = {name: m for name, m in sys.modules.items() if name != '__main__'}
    sys_attrs = {name: v for name, v in sys.__dict__.items() if name not in keep}
    meta_path, path_hooks = list(sys.meta_path), list(sys.path_hooks)
    builtin_attrs = dict(builtins.__dict__)
    recursion_limit, switch_interval = sys.getrecursionlimit(), sys.getswitchinterval()
    module_type = type(sys)

    def reset():
        # Threads still running here make a reset unsafe. (In a subinterpreter, threading
        # takes the process's main thread for its _MainThread and knows this thread as a
        # dummy; neither counts.)
        threading = sys.modules.get('threading')
        if threading is not None:
            me = threading.get_ident()
            if any(t.ident != me and not isinstance(t, threading._MainThread)
                   for t in threading.enumerate()):
                return False
        atexit._run_exitfuncs()
        atexit._clear()
        # No loop may stay marked running on this thread for the next context.
        events = sys.modules.get('asyncio.events')
        if events is not None:
            events._set_running_loop(None)
        old_main = sys.modules.get('__main__')
        dropped = {}
        for name in [n for n in sys.modules if n not in modules]:
            module = sys.modules.pop(name)
            if isinstance(module, module_type):
                dropped[id(module)] = module
        sys.modules.update(modules)
        for module in modules.values():  # kept under another name too (importlib's aliases)
            dropped.pop(id(module), None)
        # A kept package still names the submodules imported into it since (erlang._loop
        # as erlang's attribute): `from erlang import _loop` would hand out the old module,
        # and through it stale asyncio functions (on 3.12 _asyncio's running-loop cache
        # then points at freed loops). Forget them so the next import runs afresh.
        for module in modules.values():
            namespace = getattr(module, '__dict__', None)
            if type(namespace) is not dict:
                continue
            for key in [k for k, v in namespace.items()
                        if id(v) in dropped and dropped[id(v)] is v]:
                del namespace[key]
        dropped.clear()
        sys.path[:] = base_path
        sys.meta_path[:] = meta_path
        sys.path_hooks[:] = path_hooks
        sys.path_importer_cache.clear()
        for name in [n for n in sys.__dict__ if n not in sys_attrs and n not in keep]:
            delattr(sys, name)
        for name, value in sys_attrs.items():
            if sys.__dict__.get(name) is not value:
                setattr(sys, name, value)
        builtins.__dict__.clear()
        builtins.__dict__.update(builtin_attrs)
        sys.setrecursionlimit(recursion_limit)
        sys.setswitchinterval(switch_interval)
        main = module_type('__main__')
        main.__builtins__ = builtins
        sys.modules['__main__'] = main
        if old_main is not None:
            old_main.__dict__.clear()
        gc.collect()
        return True

    return reset
