"""The Erlang side of Python running inside the Erlang VM.

Values cross between Erlang and Python as terms: atoms arrive as erlang.Atom (a str),
pids and references as erlang.Pid and erlang.Ref, and all of them convert back to the
same Erlang terms.

Erlang functions registered with py:register_function/2,3 are attributes of this module:
``from erlang import my_func`` or ``erlang.my_func(1, 2)`` or ``erlang.call("my_func", 1, 2)``.
"""

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
    "state_decr", "state_cas", "state_wait",
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


def __getattr__(name):
    # PEP 562: registered Erlang functions appear as attributes (and importable names).
    if not name.startswith("__") and _erlang._is_registered(name):
        return Function(name)
    raise AttributeError(
        "module 'erlang' has no attribute %r (no Erlang function is registered under "
        "that name)" % name)
