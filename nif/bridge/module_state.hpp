// The per-interpreter state of the `_erlang` extension module (pymod/).
//
// Every interpreter (each OWN_GIL subinterpreter, or the main interpreter shared by the
// executors) has its own module instance with its own heap types: no Python object ever
// crosses interpreters. Values cross as Erlang terms.
#pragma once

#include <erl_nif.h>

#include <unordered_map>

#include "engine/python/python.hpp"

namespace epy::nif {

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
  PyObject* state_full;         // erlang.StateFull, a MemoryError
  PyObject* erlang_error;       // erlang.ErlangError
  PyTypeObject* channel_type;   // _erlang.Channel, the base of erlang.channel.Channel
  PyTypeObject* channel_class;  // erlang.channel.Channel, once imported (what receivers get)
  PyTypeObject* async_receiver_type;
  PyObject* channel_closed;  // erlang.channel.ChannelClosed
  AtomCache* atoms;
};

// Defined with the module (pymod/module.cpp); declared here for everything that needs
// them on a context's thread. Attached.
// The state of an `_erlang` module object.
ModuleState* module_state_of(PyObject* module);
// The state of the `_erlang` module that defined `type` (or a base of it).
ModuleState* module_state_of_type(PyTypeObject* type);
// PyInit__erlang, registered with PyImport_AppendInittab before Python starts.
PyObject* init_erlang_module();

}  // namespace epy::nif
