"""The Erlang side of Python running inside the Erlang VM.

Values cross between Erlang and Python as terms: atoms arrive as erlang.Atom (a str),
pids and references as erlang.Pid and erlang.Ref, and all of them convert back to the
same Erlang terms.

Erlang functions registered with py:register_function/2,3 are attributes of this module:
``from erlang import my_func`` or ``erlang.my_func(1, 2)`` or ``erlang.call("my_func", 1, 2)``.

asyncio: ``erlang.run(coro)`` runs a coroutine on an ErlangEventLoop, whose waits let the
context go on serving; ``erlang.spawn_task(coro)`` starts a task that outlives the call;
``erlang.sleep()`` and ``erlang.schedule()`` wait or yield without making the context deaf.
(Importing asyncio is left to the first use: it costs every interpreter milliseconds.)
"""

import sys

import _erlang
from _erlang import (
    Atom,
    ErlangError,
    Pid,
    Ref,
    StateFull,
    atom,
    call,
    self,
    send,
    state_cas,
    state_decr,
    state_delete,
    state_get,
    state_incr,
    state_keys,
    state_set,
    state_wait,
    whereis,
)

__all__ = [
    "Atom", "Pid", "Ref", "send", "call", "self", "whereis", "atom", "ErlangError", "Function",
    "StateFull", "state_set", "state_get", "state_delete", "state_keys", "state_incr",
    "state_decr", "state_cas", "state_wait", "state_changed",
    "run", "new_event_loop", "spawn_task", "sleep", "schedule", "gather", "wait_for",
    "create_task", "ErlangEventLoop", "ErlangEventLoopPolicy",
]


class Function:
    """An Erlang function registered with py:register_function/2,3."""

    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __call__(self, *args):
        return _erlang.call(self.name, *args)

    def __repr__(self):
        return "<erlang function %s>" % self.name


# --- asyncio ---------------------------------------------------------------------------

def _running_loop():
    events = sys.modules.get("asyncio.events")
    return None if events is None else events._get_running_loop()


def run(main, *, debug=None):
    """Runs the coroutine main on a new ErlangEventLoop and returns its result, like
    asyncio.run. While it waits, the context serves other requests."""
    from erlang import _loop
    return _loop.run(main, debug=debug)


def new_event_loop():
    """A new ErlangEventLoop."""
    from erlang import _loop
    return _loop.new_event_loop()


def spawn_task(aw, *, name=None):
    """Starts aw as a task and returns it: on the running loop, or from synchronous code
    on the context's own loop, where it runs on after the current call returns."""
    from erlang import _loop
    return _loop.spawn_task(aw, name=name)


def create_task(coro, *, name=None):
    """v1.8's erlang_asyncio.create_task: the same as spawn_task."""
    return spawn_task(coro, name=name)


def sleep(seconds):
    """Inside a running loop, an awaitable (``await erlang.sleep(0.1)``). In synchronous
    code, waits without holding the GIL while the context goes on serving its mailbox
    (other calls, tasks), unlike time.sleep."""
    if _running_loop() is not None:
        import asyncio
        return asyncio.sleep(seconds)
    _erlang._sleep(seconds)


def schedule():
    """Lets pending work run, then returns: in a running loop an awaitable like
    ``asyncio.sleep(0)``; in synchronous code the context serves what is queued."""
    return sleep(0)


def gather(*aws, return_exceptions=False):
    """v1.8's erlang_asyncio.gather: asyncio.gather."""
    import asyncio
    return asyncio.gather(*aws, return_exceptions=return_exceptions)


def wait_for(aw, timeout):
    """v1.8's erlang_asyncio.wait_for: asyncio.wait_for."""
    import asyncio
    return asyncio.wait_for(aw, timeout)


def state_changed(key):
    """Inside a running event loop: an awaitable for key's next change (set, counter step,
    compare-and-set or delete, made anywhere), giving the value after it (None once
    deleted). Watching starts with this call. Synchronous code uses state_wait()."""
    events = sys.modules.get("asyncio.events")
    loop = events and events._get_running_loop()
    if loop is None:
        raise RuntimeError("erlang.state_changed() needs a running event loop "
                           "(synchronous code: erlang.state_wait(key, timeout))")
    watch = _erlang._StateWatch(key)
    fd = watch.fileno()
    future = loop.create_future()

    def changed():
        if watch.consume() and not future.done():
            future.set_result(_erlang.state_get(key))

    def finished(_):
        loop.remove_reader(fd)
        watch.close()

    loop.add_reader(fd, changed)
    future.add_done_callback(finished)
    return future


_LAZY = {"ErlangEventLoop", "ErlangEventLoopPolicy"}


def __getattr__(name):
    # PEP 562: the event loop classes load with asyncio, on first use.
    if name in _LAZY:
        from erlang import _loop
        return getattr(_loop, name)
    # Registered Erlang functions appear as attributes (and importable names).
    if not name.startswith("__") and _erlang._is_registered(name):
        return Function(name)
    raise AttributeError(
        "module 'erlang' has no attribute %r (no Erlang function is registered under "
        "that name)" % name)
