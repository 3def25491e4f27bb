// The Python types of the `_erlang` extension module, and its per-interpreter state.
//
// Every interpreter (each OWN_GIL subinterpreter, or the main interpreter shared by the
// executors) has its own module instance with its own heap types: no Python object ever
// crosses interpreters. Values cross as Erlang terms.
#pragma once

#include "engine/python/python.hpp"

#include <erl_nif.h>

#include <unordered_map>

namespace epy::nif {

// erlang.Atom: a str that converts back to an atom (plain str converts to a binary).
struct AtomObject {
  PyUnicodeObject base;
  ERL_NIF_TERM term;  // the atom, once known (atoms are immortal, valid in every env); 0 if not
};

// erlang.Pid: a local pid is kept as its (immediate) term; a remote one as external format.
struct PidObject {
  PyObject_HEAD
  ErlNifPid pid;   // valid when local
  int local;
  PyObject* etf;   // bytes, for remote pids (nullptr for local ones)
};

// erlang.Ref: a reference, kept in external term format.
struct RefObject {
  PyObject_HEAD
  PyObject* etf;  // bytes
};

// Caches of the atoms this interpreter has seen, keyed by the atom term.
struct AtomCache {
  static constexpr std::size_t kLimit = 1 << 16;
  std::unordered_map<ERL_NIF_TERM, PyObject*> values;  // -> erlang.Atom
  std::unordered_map<ERL_NIF_TERM, PyObject*> names;   // -> interned plain str
  void clear();
};

struct ModuleState {
  PyTypeObject* atom_type;
  PyTypeObject* pid_type;
  PyTypeObject* ref_type;
  PyObject* state_full;    // erlang.StateFull, a MemoryError
  PyObject* erlang_error;  // erlang.ErlangError
  PyTypeObject* channel_type;  // _erlang.Channel, the base of erlang.channel.Channel
  PyTypeObject* channel_class; // erlang.channel.Channel, once imported (what receivers get)
  PyTypeObject* async_receiver_type;
  PyObject* channel_closed;    // erlang.channel.ChannelClosed
  AtomCache* atoms;
};

// The interpreter's `_erlang` module state (imports the module on first use). Attached.
ModuleState* module_state_of(PyObject* module);
// The state of the `_erlang` module that defined `type` (or a base of it).
ModuleState* module_state_of_type(PyTypeObject* type);

// PyInit__erlang, registered with PyImport_AppendInittab before Python starts.
PyObject* init_erlang_module();

// New objects. Attached; nullptr with an exception set on failure.
PyObject* make_pid(ModuleState* st, ErlNifEnv* env, ERL_NIF_TERM pid);
PyObject* make_ref(ModuleState* st, ErlNifEnv* env, ERL_NIF_TERM ref);

}  // namespace epy::nif
