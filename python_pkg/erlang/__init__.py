"""The Erlang side of Python running inside the Erlang VM.

Values cross between Erlang and Python as terms: atoms arrive as erlang.Atom (a str),
pids and references as erlang.Pid and erlang.Ref, and all of them convert back to the
same Erlang terms.
"""

from _erlang import (
    Atom,
    Pid,
    Ref,
    StateFull,
    send,
    state_cas,
    state_decr,
    state_delete,
    state_get,
    state_incr,
    state_keys,
    state_set,
    state_wait,
)

__all__ = [
    "Atom", "Pid", "Ref", "send",
    "StateFull", "state_set", "state_get", "state_delete", "state_keys", "state_incr",
    "state_decr", "state_cas", "state_wait",
]
