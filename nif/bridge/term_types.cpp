// erlang.Atom, erlang.Pid and erlang.Ref: the Python types terms convert to.
#include "nif/bridge/term_types.hpp"

#include "engine/python/python.hpp"
#include "nif/bridge/owned_env.hpp"

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
  OwnedEnv env;
  ERL_NIF_TERM term;
  if (enif_binary_to_term(env.get(), reinterpret_cast<const unsigned char*>(PyBytes_AS_STRING(etf)),
                          size_t(PyBytes_GET_SIZE(etf)), &term, 0))
    return format_term(term);
  return PyUnicode_FromString("?");
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

PyType_Spec pid_spec = {
    "erlang.Pid", sizeof(PidObject), 0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE | Py_TPFLAGS_DISALLOW_INSTANTIATION, pid_slots};

// ---- erlang.Ref ----------------------------------------------------------------------

void ref_dealloc(PyObject* self) {
  PyTypeObject* type = Py_TYPE(self);
  Py_XDECREF(reinterpret_cast<RefObject*>(self)->etf);
  type->tp_free(self);
  Py_DECREF(type);
}

Py_hash_t ref_hash(PyObject* self) {
  return PyObject_Hash(reinterpret_cast<RefObject*>(self)->etf);
}

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

PyType_Spec ref_spec = {
    "erlang.Ref", sizeof(RefObject), 0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE | Py_TPFLAGS_DISALLOW_INSTANTIATION, ref_slots};

}  // namespace

bool add_term_types(PyObject* module, ModuleState* st) {
  st->atom_type = reinterpret_cast<PyTypeObject*>(
      PyType_FromModuleAndSpec(module, &atom_spec, reinterpret_cast<PyObject*>(&PyUnicode_Type)));
  if (!st->atom_type) return false;
  st->pid_type =
      reinterpret_cast<PyTypeObject*>(PyType_FromModuleAndSpec(module, &pid_spec, nullptr));
  if (!st->pid_type) return false;
  st->ref_type =
      reinterpret_cast<PyTypeObject*>(PyType_FromModuleAndSpec(module, &ref_spec, nullptr));
  if (!st->ref_type) return false;
  return PyModule_AddType(module, st->atom_type) == 0 &&
         PyModule_AddType(module, st->pid_type) == 0 && PyModule_AddType(module, st->ref_type) == 0;
}

int traverse_term_types(ModuleState* st, visitproc visit, void* arg) {
  Py_VISIT(st->atom_type);
  Py_VISIT(st->pid_type);
  Py_VISIT(st->ref_type);
  return 0;
}

void clear_term_types(ModuleState* st) {
  if (st->atoms) st->atoms->clear();
  Py_CLEAR(st->atom_type);
  Py_CLEAR(st->pid_type);
  Py_CLEAR(st->ref_type);
}

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
