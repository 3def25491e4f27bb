// The `_erlang` extension module: its definition, its per-interpreter state and its
// functions (joined from the topics' lists, see method_table.hpp). Multi-phase
// initialisation, so every OWN_GIL subinterpreter gets an instance of its own.
#include "engine/python/python.hpp"
#include "nif/bridge/module_state.hpp"
#include "nif/bridge/term_types.hpp"
#include "nif/pymod/channels.hpp"
#include "nif/pymod/method_table.hpp"
#include "nif/pymod/state_watch.hpp"

namespace epy::nif {

namespace {

int module_exec(PyObject* module) {
  ModuleState* st = module_state_of(module);
  st->atoms = new AtomCache();
  if (!add_term_types(module, st)) return -1;
  py::Ref state_watch(PyType_FromModuleAndSpec(module, state_watch_spec(), nullptr));
  if (!state_watch ||
      PyModule_AddType(module, reinterpret_cast<PyTypeObject*>(state_watch.get())) < 0)
    return -1;
  st->state_full = PyErr_NewExceptionWithDoc(
      "erlang.StateFull", "The shared state reached max_state_entries or max_state_bytes.",
      PyExc_MemoryError, nullptr);
  if (!st->state_full || PyModule_AddObjectRef(module, "StateFull", st->state_full) < 0) return -1;
  st->erlang_error = PyErr_NewExceptionWithDoc(
      "erlang.ErlangError",
      "An Erlang function called from Python raised. Attributes: erlang_class (error, exit or "
      "throw) and reason (the Erlang reason, converted); str() is a readable message.",
      PyExc_Exception, nullptr);
  if (!st->erlang_error || PyModule_AddObjectRef(module, "ErlangError", st->erlang_error) < 0)
    return -1;
  if (!add_channel_types(module, st)) return -1;
  return 0;
}

int module_traverse(PyObject* module, visitproc visit, void* arg) {
  ModuleState* st = module_state_of(module);
  if (int r = traverse_term_types(st, visit, arg)) return r;
  Py_VISIT(st->state_full);
  Py_VISIT(st->erlang_error);
  return traverse_channel_types(st, visit, arg);
}

int module_clear(PyObject* module) {
  ModuleState* st = module_state_of(module);
  clear_term_types(st);
  Py_CLEAR(st->state_full);
  Py_CLEAR(st->erlang_error);
  clear_channel_types(st);
  return 0;
}

void module_free(void* module) {
  module_clear(static_cast<PyObject*>(module));
  ModuleState* st = module_state_of(static_cast<PyObject*>(module));
  delete st->atoms;
  st->atoms = nullptr;
}

PyModuleDef_Slot module_slots[] = {
    {Py_mod_exec, reinterpret_cast<void*>(module_exec)},
#if PY_VERSION_HEX >= 0x030C0000
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
#endif
    {0, nullptr},
};

// Every topic's functions, then the sentinel.
PyMethodDef* all_methods() {
  static MethodList methods = [] {
    MethodList all;
    for (const MethodList* topic : {&messaging_methods(), &state_methods(), &channel_methods(),
                                    &event_loop_methods(), &logging_methods()})
      all.insert(all.end(), topic->begin(), topic->end());
    all.push_back({nullptr, nullptr, 0, nullptr});
    return all;
  }();
  return methods.data();
}

PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    "_erlang",
    "Native half of the erlang package: Erlang terms and messaging inside the VM.",
    sizeof(ModuleState),
    nullptr,  // the functions: all_methods(), set before the first import
    module_slots,
    module_traverse,
    module_clear,
    module_free,
};

}  // namespace

ModuleState* module_state_of_type(PyTypeObject* type) {
  PyObject* module = PyType_GetModuleByDef(type, &module_def);  // borrowed
  return module ? module_state_of(module) : nullptr;
}

ModuleState* module_state_of(PyObject* module) {
  return static_cast<ModuleState*>(PyModule_GetState(module));
}

PyObject* init_erlang_module() {
  module_def.m_methods = all_methods();
  return PyModuleDef_Init(&module_def);
}

}  // namespace epy::nif
