// erlang.Atom, erlang.Pid and erlang.Ref: the Python types terms convert to and from.
// Each interpreter has its own heap types (in its `_erlang` module's state).
#pragma once

#include <erl_nif.h>

#include "engine/python/python.hpp"
#include "nif/bridge/module_state.hpp"

namespace epy::nif {

// erlang.Atom: a str that converts back to an atom (plain str converts to a binary).
struct AtomObject {
  PyUnicodeObject base;
  ERL_NIF_TERM term;  // the atom, once known (atoms are immortal, valid in every env); 0 if not
};

// erlang.Pid: a local pid is kept as its (immediate) term; a remote one as external format.
struct PidObject {
  PyObject_HEAD ErlNifPid pid;  // valid when local
  int local;
  PyObject* etf;  // bytes, for remote pids (nullptr for local ones)
};

// erlang.Ref: a reference, kept in external term format.
struct RefObject {
  PyObject_HEAD PyObject* etf;  // bytes
};

// Creates the three types in a new `_erlang` module (its exec), and its GC support.
bool add_term_types(PyObject* module, ModuleState* st);
int traverse_term_types(ModuleState* st, visitproc visit, void* arg);
void clear_term_types(ModuleState* st);

// New objects. Attached; nullptr with an exception set on failure.
PyObject* make_pid(ModuleState* st, ErlNifEnv* env, ERL_NIF_TERM pid);
PyObject* make_ref(ModuleState* st, ErlNifEnv* env, ERL_NIF_TERM ref);

}  // namespace epy::nif
