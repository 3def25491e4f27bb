#include "engine/python/interruptible_sleep.hpp"

#include <cmath>

#include "engine/context.hpp"
#include "engine/python/method_patch.hpp"
#include "engine/python/python.hpp"
#include "engine/python/wait_error.hpp"

namespace epy {

namespace {

PyCFunction g_cpython_sleep = nullptr;

PyObject* sleep(PyObject* module, PyObject* seconds) {
  Context* context = Context::current();
  if (!context) return g_cpython_sleep(module, seconds);
  const double s = PyFloat_AsDouble(seconds);
  if (s == -1.0 && PyErr_Occurred()) return nullptr;
  if (std::isnan(s)) {
    PyErr_SetString(PyExc_ValueError, "Invalid value NaN (not a number)");
    return nullptr;
  }
  if (s < 0) {
    PyErr_SetString(PyExc_ValueError, "sleep length must be non-negative");
    return nullptr;
  }
  const auto deadline =
      s >= 1e9 ? Context::Clock::time_point::max()
               : Context::Clock::now() + std::chrono::duration_cast<Context::Clock::duration>(
                                             std::chrono::duration<double>(s));
  if (raise_if_cut_short(context->sleep_until(deadline))) return nullptr;
  Py_RETURN_NONE;
}

}  // namespace

bool make_time_sleep_interruptible(std::string* error) {
  if (g_cpython_sleep) return true;
  PyMethodDef* def = builtin_method_def("time", "sleep", error);
  if (!def) {
    if (error->empty()) *error = "time.sleep not found";
    return false;
  }
  if ((def->ml_flags & (METH_O | METH_VARARGS | METH_FASTCALL | METH_NOARGS | METH_KEYWORDS)) !=
      METH_O) {
    *error = "time.sleep has an unexpected calling convention";
    return false;
  }
  g_cpython_sleep = def->ml_meth;
  def->ml_meth = &sleep;
  return true;
}

}  // namespace epy
