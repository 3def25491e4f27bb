#include "nif/pymod/state.hpp"

#include <cmath>

#include "engine/python/deadline.hpp"
#include "engine/python/python.hpp"
#include "engine/python/wait_error.hpp"
#include "engine/state_wait.hpp"
#include "nif/bridge/nif_runtime.hpp"
#include "nif/bridge/state_codec.hpp"
#include "nif/pymod/method_table.hpp"

namespace epy::nif {

namespace {

StateStore& store() { return global_nif_runtime().engine->state(); }

bool arity(const char* name, Py_ssize_t nargs, Py_ssize_t min, Py_ssize_t max) {
  if (nargs >= min && nargs <= max) return true;
  PyErr_Format(PyExc_TypeError, "%s() takes %zd to %zd arguments (%zd given)", name, min, max,
               nargs);
  return false;
}

// Raises the Python error for a failed store operation; returns nullptr.
PyObject* raise(PyObject* module, StateStatus s, const std::string& key) {
  ModuleState* st = module_state_of(module);
  switch (s) {
    case StateStatus::full:
      PyErr_Format(st->state_full, "the shared state is full (storing %s)", key.c_str());
      break;
    case StateStatus::not_integer:
      PyErr_Format(PyExc_TypeError, "state value of %s is not an integer", key.c_str());
      break;
    case StateStatus::overflow:
      PyErr_Format(PyExc_OverflowError, "state counter %s would leave the 64-bit range",
                   key.c_str());
      break;
    case StateStatus::not_found:
      PyErr_Format(PyExc_KeyError, "%s", key.c_str());
      break;
    case StateStatus::ok:
      break;
  }
  return nullptr;
}

PyObject* step(PyObject* module, PyObject* const* args, Py_ssize_t nargs, const char* name,
               int sign) {
  if (!arity(name, nargs, 1, 2)) return nullptr;
  std::string key;
  if (!state_key(args[0], &key)) return nullptr;
  long long delta = 1;
  if (nargs == 2) {
    if (!PyLong_Check(args[1])) {
      PyErr_Format(PyExc_TypeError, "%s() step must be an int", name);
      return nullptr;
    }
    delta = PyLong_AsLongLong(args[1]);
    if (delta == -1 && PyErr_Occurred()) return nullptr;
  }
  std::int64_t result;
  StateStatus s = store().add(key, sign * delta, &result);
  return s == StateStatus::ok ? PyLong_FromLongLong(result) : raise(module, s, key);
}

}  // namespace

// state_set(key, value)
PyObject* py_state_set(PyObject* module, PyObject* const* args, Py_ssize_t nargs) {
  if (!arity("state_set", nargs, 2, 2)) return nullptr;
  std::string key;
  StateValue value;
  if (!state_key(args[0], &key) || !encode_state(module_state_of(module), args[1], &value))
    return nullptr;
  StateStatus s = store().set(key, std::move(value));
  if (s != StateStatus::ok) return raise(module, s, key);
  Py_RETURN_NONE;
}

// state_get(key, default=None)
PyObject* py_state_get(PyObject* module, PyObject* const* args, Py_ssize_t nargs) {
  if (!arity("state_get", nargs, 1, 2)) return nullptr;
  std::string key;
  if (!state_key(args[0], &key)) return nullptr;
  StateValue value;
  if (store().get(key, &value) != StateStatus::ok) return Py_NewRef(nargs == 2 ? args[1] : Py_None);
  return decode_state(module_state_of(module), value);
}

// state_delete(key) -> whether the key was there
PyObject* py_state_delete(PyObject* module, PyObject* const* args, Py_ssize_t nargs) {
  if (!arity("state_delete", nargs, 1, 1)) return nullptr;
  std::string key;
  if (!state_key(args[0], &key)) return nullptr;
  return PyBool_FromLong(store().remove(key));
}

// state_keys() -> [str]
PyObject* py_state_keys(PyObject*, PyObject*) {
  std::vector<std::string> keys = store().keys();
  py::Ref list(PyList_New(Py_ssize_t(keys.size())));
  if (!list) return nullptr;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    PyObject* k = PyUnicode_DecodeUTF8(keys[i].data(), Py_ssize_t(keys[i].size()), "strict");
    if (!k) return nullptr;
    PyList_SET_ITEM(list.get(), Py_ssize_t(i), k);
  }
  return list.release();
}

PyObject* py_state_incr(PyObject* module, PyObject* const* args, Py_ssize_t nargs) {
  return step(module, args, nargs, "state_incr", 1);
}

PyObject* py_state_decr(PyObject* module, PyObject* const* args, Py_ssize_t nargs) {
  return step(module, args, nargs, "state_decr", -1);
}

// state_cas(key, expected, new) -> bool. None as expected also matches an absent key.
PyObject* py_state_cas(PyObject* module, PyObject* const* args, Py_ssize_t nargs) {
  if (!arity("state_cas", nargs, 3, 3)) return nullptr;
  ModuleState* st = module_state_of(module);
  std::string key;
  StateValue expected, desired;
  if (!state_key(args[0], &key) || !encode_state(st, args[1], &expected) ||
      !encode_state(st, args[2], &desired))
    return nullptr;
  bool swapped = false;
  StateStatus s = store().compare_and_set(key, &expected, desired, &swapped);
  if (s == StateStatus::ok && !swapped && args[1] == Py_None)
    s = store().compare_and_set(key, nullptr, desired, &swapped);
  if (s != StateStatus::ok) return raise(module, s, key);
  return PyBool_FromLong(swapped);
}

// state_wait(key, timeout=None) -> the value after the next change (None once deleted).
// A context keeps serving its mailbox while one of its requests waits here.
PyObject* py_state_wait(PyObject* module, PyObject* const* args, Py_ssize_t nargs) {
  if (!arity("state_wait", nargs, 1, 2)) return nullptr;
  std::string key;
  if (!state_key(args[0], &key)) return nullptr;
  Deadline deadline;
  if (!deadline_of(nargs == 2 ? args[1] : nullptr, "timeout", &deadline)) return nullptr;
  const Context::WaitResult result = wait_for_state_change(store(), key, deadline);
  if (raise_if_cut_short(result)) return nullptr;
  if (result == Context::WaitResult::timed_out) {
    PyErr_Format(PyExc_TimeoutError, "state key %s did not change in time", key.c_str());
    return nullptr;
  }
  StateValue value;
  if (store().get(key, &value) != StateStatus::ok) Py_RETURN_NONE;
  return decode_state(module_state_of(module), value);
}

const MethodList& state_methods() {
  static const MethodList methods = {
      {"state_set", EPY_FASTCALL(py_state_set),
       "state_set(key, value): store value under key, visible at once to every context and to "
       "Erlang."},
      {"state_get", EPY_FASTCALL(py_state_get), "state_get(key, default=None)"},
      {"state_delete", EPY_FASTCALL(py_state_delete), "state_delete(key) -> whether key was there"},
      {"state_keys", py_state_keys, METH_NOARGS, "state_keys() -> list of the keys"},
      {"state_incr", EPY_FASTCALL(py_state_incr),
       "state_incr(key, n=1) -> the new value; atomic across contexts and Erlang; a missing key "
       "is 0"},
      {"state_decr", EPY_FASTCALL(py_state_decr), "state_decr(key, n=1) -> the new value"},
      {"state_cas", EPY_FASTCALL(py_state_cas),
       "state_cas(key, expected, new) -> True if key held expected (None: or was absent) and "
       "now holds new"},
      {"state_wait", EPY_FASTCALL(py_state_wait),
       "state_wait(key, timeout=None) -> the value after key's next change; TimeoutError if "
       "none"},
  };
  return methods;
}

}  // namespace epy::nif
