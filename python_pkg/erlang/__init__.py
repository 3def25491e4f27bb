"""The Erlang side of Python running inside the Erlang VM.

Values cross between Erlang and Python as terms: atoms arrive as erlang.Atom (a str),
pids and references as erlang.Pid and erlang.Ref, and all of them convert back to the
same Erlang terms.
"""

from _erlang import Atom, Pid, Ref, send

__all__ = ["Atom", "Pid", "Ref", "send"]
