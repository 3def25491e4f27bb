// `_epy_engine_test`: a built-in module that lets Python code in engine tests reach the
// engine's shared state without the BEAM (the NIF's `_erlang` plays this part for real).
#include "test_module.hpp"

#include "engine/python/python.hpp"
#include "engine/python/wait_error.hpp"
#include "engine/state_wait.hpp"
#include "engine_fixture.hpp"

namespace epy::test {

namespace {

Context::Clock::time_point deadline_in(double seconds) {
  return Context::Clock::now() + std::chrono::microseconds(std::int64_t(seconds * 1e6));
}

PyObject* wait_result(Context::WaitResult result) {
  if (raise_if_cut_short(result)) return nullptr;
  return PyUnicode_FromString(result == Context::WaitResult::ready ? "ready" : "timed_out");
}

PyObject* state_wait(PyObject*, PyObject* args) {
  const char* key;
  double timeout;
  if (!PyArg_ParseTuple(args, "sd", &key, &timeout)) return nullptr;
  return wait_result(wait_for_state_change(engine().state(), key, deadline_in(timeout)));
}

// wait_fd(fd, timeout): serves the context until fd is readable ('fd_ready') or timeout.
PyObject* wait_fd(PyObject*, PyObject* args) {
  int fd;
  double timeout;
  if (!PyArg_ParseTuple(args, "id", &fd, &timeout)) return nullptr;
  Context* context = Context::current();
  if (!context) {
    PyErr_SetString(PyExc_RuntimeError, "not on a context thread");
    return nullptr;
  }
  bool readable = false;
  const auto result =
      context->serve_until([&] { return readable; }, deadline_in(timeout), fd, &readable);
  if (result == Context::WaitResult::ready) return PyUnicode_FromString("fd_ready");
  return wait_result(result);
}

PyObject* state_set(PyObject*, PyObject* args) {
  const char* key;
  long long value;
  if (!PyArg_ParseTuple(args, "sL", &key, &value)) return nullptr;
  engine().state().set(key, StateValue::of_integer(value));
  Py_RETURN_NONE;
}

PyMethodDef methods[] = {
    {"state_wait", state_wait, METH_VARARGS, nullptr},
    {"state_set", state_set, METH_VARARGS, nullptr},
    {"wait_fd", wait_fd, METH_VARARGS, nullptr},
    {nullptr, nullptr, 0, nullptr},
};

PyModuleDef_Slot slots[] = {
#if PY_VERSION_HEX >= 0x030C0000
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
#endif
    {0, nullptr},
};

PyModuleDef module_def = {PyModuleDef_HEAD_INIT,
                          "_epy_engine_test",
                          nullptr,
                          0,
                          methods,
                          slots,
                          nullptr,
                          nullptr,
                          nullptr};

}  // namespace

PyObject* init_test_module() { return PyModuleDef_Init(&module_def); }

}  // namespace epy::test
