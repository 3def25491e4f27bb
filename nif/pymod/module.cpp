// The `_erlang` extension module: erlang.Atom, erlang.Pid, erlang.Ref and erlang.send.
// Multi-phase initialisation with per-interpreter state, so every OWN_GIL subinterpreter
// gets its own instance.
#include "engine/python/python.hpp"

#include "nif/bridge/atoms.hpp"
#include "nif/bridge/convert.hpp"
#include "nif/pymod/event_loop.hpp"
#include "nif/bridge/log_sink.hpp"
#include "nif/pymod/messaging.hpp"
#include "nif/pymod/state.hpp"
#include "nif/pymod/state_watch.hpp"
#include "nif/pymod/channels.hpp"
#include "nif/bridge/module_state.hpp"

namespace epy::nif {

void AtomCache::clear() {
  for (auto& [term, obj] : values) Py_DECREF(obj);
  for (auto& [term, obj] : names) Py_DECREF(obj);
  values.clear();
  names.clear();
}

namespace {

PyObject* bytes_of_term(ErlNifEnv* env, ERL_NIF_TERM term) {
  ErlNifBinary bin;
  if (!enif_term_to_binary(env, term, &bin)) return PyErr_NoMemory();
  PyObject* bytes =
      PyBytes_FromStringAndSize(reinterpret_cast<const char*>(bin.data), Py_ssize_t(bin.size));
  enif_release_binary(&bin);
  return bytes;
}

// "<0.85.0>" / "#Ref<0.1.2.3>" for repr().
PyObject* format_term(ERL_NIF_TERM term) {
  char buf[128];
  enif_snprintf(buf, sizeof buf, "%T", term);
  return PyUnicode_FromString(buf);
}

PyObject* format_etf(PyObject* etf) {
  ErlNifEnv* env = enif_alloc_env();
  ERL_NIF_TERM term;
  PyObject* text;
  if (enif_binary_to_term(env, reinterpret_cast<const unsigned char*>(PyBytes_AS_STRING(etf)),
                          size_t(PyBytes_GET_SIZE(etf)), &term, 0))
    text = format_term(term);
  else
    text = PyUnicode_FromString("?");
  enif_free_env(env);
  return text;
}

// ---- erlang.Atom ---------------------------------------------------------------------

void atom_dealloc(PyObject* self) {
  PyTypeObject* type = Py_TYPE(self);
  PyUnicode_Type.tp_dealloc(self);
  Py_DECREF(type);
}

PyObject* atom_repr(PyObject* self) {
  py::Ref inner(PyUnicode_Type.tp_repr(self));
  if (!inner) return nullptr;
  return PyUnicode_FromFormat("erlang.Atom(%U)", inner.get());
}

PyType_Slot atom_slots[] = {
    {Py_tp_dealloc, reinterpret_cast<void*>(atom_dealloc)},
    {Py_tp_repr, reinterpret_cast<void*>(atom_repr)},
    {Py_tp_doc, const_cast<char*>("An Erlang atom. A str that converts back to an atom "
                                  "(a plain str converts to a binary).")},
    {0, nullptr},
};

PyType_Spec atom_spec = {"erlang.Atom", sizeof(AtomObject), 0,
                         Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE, atom_slots};

// ---- erlang.Pid ----------------------------------------------------------------------

void pid_dealloc(PyObject* self) {
  PyTypeObject* type = Py_TYPE(self);
  Py_XDECREF(reinterpret_cast<PidObject*>(self)->etf);
  type->tp_free(self);
  Py_DECREF(type);
}

Py_hash_t pid_hash(PyObject* self) {
  auto* p = reinterpret_cast<PidObject*>(self);
  if (p->local) {
    Py_hash_t h = Py_hash_t(p->pid.pid ^ (p->pid.pid >> 17));
    return h == -1 ? -2 : h;
  }
  return PyObject_Hash(p->etf);
}

PyObject* pid_richcompare(PyObject* a, PyObject* b, int op) {
  if (Py_TYPE(a) != Py_TYPE(b) || (op != Py_EQ && op != Py_NE)) Py_RETURN_NOTIMPLEMENTED;
  auto* x = reinterpret_cast<PidObject*>(a);
  auto* y = reinterpret_cast<PidObject*>(b);
  bool equal;
  if (x->local != y->local) {
    equal = false;
  } else if (x->local) {
    equal = x->pid.pid == y->pid.pid;
  } else {
    int r = PyObject_RichCompareBool(x->etf, y->etf, Py_EQ);
    if (r < 0) return nullptr;
    equal = r == 1;
  }
  return PyBool_FromLong((op == Py_EQ) == equal);
}

PyObject* pid_repr(PyObject* self) {
  auto* p = reinterpret_cast<PidObject*>(self);
  py::Ref text(p->local ? format_term(p->pid.pid) : format_etf(p->etf));
  if (!text) return nullptr;
  return PyUnicode_FromFormat("erlang.Pid(%U)", text.get());
}

PyType_Slot pid_slots[] = {
    {Py_tp_dealloc, reinterpret_cast<void*>(pid_dealloc)},
    {Py_tp_hash, reinterpret_cast<void*>(pid_hash)},
    {Py_tp_richcompare, reinterpret_cast<void*>(pid_richcompare)},
    {Py_tp_repr, reinterpret_cast<void*>(pid_repr)},
    {Py_tp_doc, const_cast<char*>("An Erlang process identifier.")},
    {0, nullptr},
};

PyType_Spec pid_spec = {"erlang.Pid", sizeof(PidObject), 0,
                        Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE |
                            Py_TPFLAGS_DISALLOW_INSTANTIATION,
                        pid_slots};

// ---- erlang.Ref ----------------------------------------------------------------------

void ref_dealloc(PyObject* self) {
  PyTypeObject* type = Py_TYPE(self);
  Py_XDECREF(reinterpret_cast<RefObject*>(self)->etf);
  type->tp_free(self);
  Py_DECREF(type);
}

Py_hash_t ref_hash(PyObject* self) { return PyObject_Hash(reinterpret_cast<RefObject*>(self)->etf); }

PyObject* ref_richcompare(PyObject* a, PyObject* b, int op) {
  if (Py_TYPE(a) != Py_TYPE(b) || (op != Py_EQ && op != Py_NE)) Py_RETURN_NOTIMPLEMENTED;
  return PyObject_RichCompare(reinterpret_cast<RefObject*>(a)->etf,
                              reinterpret_cast<RefObject*>(b)->etf, op);
}

PyObject* ref_repr(PyObject* self) {
  py::Ref text(format_etf(reinterpret_cast<RefObject*>(self)->etf));
  if (!text) return nullptr;
  return PyUnicode_FromFormat("erlang.Ref(%U)", text.get());
}

PyType_Slot ref_slots[] = {
    {Py_tp_dealloc, reinterpret_cast<void*>(ref_dealloc)},
    {Py_tp_hash, reinterpret_cast<void*>(ref_hash)},
    {Py_tp_richcompare, reinterpret_cast<void*>(ref_richcompare)},
    {Py_tp_repr, reinterpret_cast<void*>(ref_repr)},
    {Py_tp_doc, const_cast<char*>("An Erlang reference.")},
    {0, nullptr},
};

PyType_Spec ref_spec = {"erlang.Ref", sizeof(RefObject), 0,
                        Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE |
                            Py_TPFLAGS_DISALLOW_INSTANTIATION,
                        ref_slots};

// ---- module functions ----------------------------------------------------------------

ERL_NIF_TERM level_atom(ErlNifEnv* env, long levelno) {
  const char* name = levelno >= 50 ? "critical"
                     : levelno >= 40 ? "error"
                     : levelno >= 30 ? "warning"
                     : levelno >= 20 ? "info"
                                     : "debug";
  return enif_make_atom(env, name);
}

// log(levelno, logger_name, message, pathname, lineno, func_name): hands one formatted
// logging record to Erlang's logger (through the py_logger process). Returns whether it
// was sent.
PyObject* erlang_log(PyObject* module, PyObject* const* args, Py_ssize_t nargs) {
  long levelno = 0, lineno = 0;
  if (nargs != 6 || (levelno = PyLong_AsLong(args[0]), PyErr_Occurred()) ||
      (lineno = PyLong_AsLong(args[4]), PyErr_Occurred())) {
    if (!PyErr_Occurred())
      PyErr_SetString(PyExc_TypeError, "log(levelno, name, message, pathname, lineno, funcname)");
    return nullptr;
  }
  if (levelno < log_level()) Py_RETURN_FALSE;
  ModuleState* st = module_state_of(module);
  ErlNifEnv* env = enif_alloc_env();
  ERL_NIF_TERM name, message, file, function;
  bool sent = false;
  if (to_term(st, env, args[1], &name) && to_term(st, env, args[2], &message) &&
      to_term(st, env, args[3], &file) && to_term(st, env, args[5], &function)) {
    ERL_NIF_TERM meta = enif_make_new_map(env);
    enif_make_map_put(env, meta, enif_make_atom(env, "file"), file, &meta);
    enif_make_map_put(env, meta, enif_make_atom(env, "line"), enif_make_long(env, lineno), &meta);
    enif_make_map_put(env, meta, enif_make_atom(env, "python_function"), function, &meta);
    sent = send_log(env, enif_make_tuple5(env, enif_make_atom(env, "py_log"), level_atom(env, levelno),
                                          name, message, meta));
  }
  enif_free_env(env);
  if (PyErr_Occurred()) return nullptr;
  return PyBool_FromLong(sent);
}

PyObject* erlang_log_level(PyObject*, PyObject*) { return PyLong_FromLong(log_level()); }

PyMethodDef module_methods[] = {
    {"send", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(py_send)), METH_FASTCALL,
     "send(dest, message): to a pid, a registered name or (name, node); never blocks."},
    {"call", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(py_call)), METH_FASTCALL,
     "call(name, *args): the result of the Erlang function registered as name."},
    {"_is_registered", py_is_registered, METH_O, "Whether an Erlang function has that name."},
    {"self", py_self, METH_NOARGS, "The erlang.Pid of the process whose request runs now, or None."},
    {"whereis", py_whereis, METH_O, "The erlang.Pid registered as name, or None."},
    {"atom", py_atom, METH_O, "atom(name) -> erlang.Atom; new atoms count against the atom budget."},
    {"log", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(erlang_log)), METH_FASTCALL,
     "log(levelno, name, message, pathname, lineno, funcname): a record for Erlang's logger."},
    {"log_level", erlang_log_level, METH_NOARGS,
     "The level (a logging level number) below which records are not sent to Erlang."},
#define EPY_FASTCALL(f) reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(f)), METH_FASTCALL
    {"state_set", EPY_FASTCALL(py_state_set),
     "state_set(key, value): store value under key, visible at once to every context and to Erlang."},
    {"state_get", EPY_FASTCALL(py_state_get), "state_get(key, default=None)"},
    {"state_delete", EPY_FASTCALL(py_state_delete), "state_delete(key) -> whether key was there"},
    {"state_keys", py_state_keys, METH_NOARGS, "state_keys() -> list of the keys"},
    {"state_incr", EPY_FASTCALL(py_state_incr),
     "state_incr(key, n=1) -> the new value; atomic across contexts and Erlang; a missing key is 0"},
    {"state_decr", EPY_FASTCALL(py_state_decr), "state_decr(key, n=1) -> the new value"},
    {"state_cas", EPY_FASTCALL(py_state_cas),
     "state_cas(key, expected, new) -> True if key held expected (None: or was absent) and now holds new"},
    {"state_wait", EPY_FASTCALL(py_state_wait),
     "state_wait(key, timeout=None) -> the value after key's next change; TimeoutError if none"},
    {"_drive", EPY_FASTCALL(py_drive), "_drive(loop, fd): the context's own event loop"},
    {"_context_loop", py_context_loop, METH_NOARGS, "The context's own event loop, or None."},
    {"_in_context", py_in_context, METH_NOARGS, "Whether this thread is a context's."},
    {"_wait", EPY_FASTCALL(py_wait),
     "_wait(fd, timeout) -> True (fd readable), False (timed out), None (not a context thread)"},
    {"_sleep", py_sleep, METH_O, "_sleep(seconds): wait while the context serves its mailbox"},
    {"_set_channel_class", py_set_channel_class, METH_O,
     "The class (a subclass of Channel) that channels arriving from Erlang get."},
#undef EPY_FASTCALL
    {nullptr, nullptr, 0, nullptr},
};

int module_exec(PyObject* module) {
  ModuleState* st = module_state_of(module);
  st->atom_type = reinterpret_cast<PyTypeObject*>(
      PyType_FromModuleAndSpec(module, &atom_spec, reinterpret_cast<PyObject*>(&PyUnicode_Type)));
  if (!st->atom_type) return -1;
  st->pid_type = reinterpret_cast<PyTypeObject*>(PyType_FromModuleAndSpec(module, &pid_spec, nullptr));
  if (!st->pid_type) return -1;
  st->ref_type = reinterpret_cast<PyTypeObject*>(PyType_FromModuleAndSpec(module, &ref_spec, nullptr));
  if (!st->ref_type) return -1;
  if (PyModule_AddType(module, st->atom_type) < 0 || PyModule_AddType(module, st->pid_type) < 0 ||
      PyModule_AddType(module, st->ref_type) < 0)
    return -1;
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
  st->atoms = new AtomCache();
  return 0;
}

int module_traverse(PyObject* module, visitproc visit, void* arg) {
  ModuleState* st = module_state_of(module);
  Py_VISIT(st->atom_type);
  Py_VISIT(st->pid_type);
  Py_VISIT(st->ref_type);
  Py_VISIT(st->state_full);
  Py_VISIT(st->erlang_error);
  return traverse_channel_types(st, visit, arg);
}

int module_clear(PyObject* module) {
  ModuleState* st = module_state_of(module);
  if (st->atoms) st->atoms->clear();
  Py_CLEAR(st->atom_type);
  Py_CLEAR(st->pid_type);
  Py_CLEAR(st->ref_type);
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

PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    "_erlang",
    "Native half of the erlang package: Erlang terms and messaging inside the VM.",
    sizeof(ModuleState),
    module_methods,
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

PyObject* init_erlang_module() { return PyModuleDef_Init(&module_def); }

PyObject* make_pid(ModuleState* st, ErlNifEnv* env, ERL_NIF_TERM term) {
  PidObject* p = PyObject_New(PidObject, st->pid_type);
  if (!p) return nullptr;
  p->etf = nullptr;
  p->local = enif_get_local_pid(env, term, &p->pid);
  if (!p->local) {
    p->etf = bytes_of_term(env, term);
    if (!p->etf) {
      Py_DECREF(p);
      return nullptr;
    }
  }
  return reinterpret_cast<PyObject*>(p);
}

PyObject* make_ref(ModuleState* st, ErlNifEnv* env, ERL_NIF_TERM term) {
  RefObject* r = PyObject_New(RefObject, st->ref_type);
  if (!r) return nullptr;
  r->etf = bytes_of_term(env, term);
  if (!r->etf) {
    Py_DECREF(r);
    return nullptr;
  }
  return reinterpret_cast<PyObject*>(r);
}

}  // namespace epy::nif
