#include "engine/python/deadline.hpp"

#include <cmath>

#include "engine/python/python.hpp"

namespace epy {

Deadline deadline_after(double seconds) {
  if (seconds < 0 || seconds > 1e9) return Deadline::max();  // 1e9 s: about 30 years
  return std::chrono::steady_clock::now() +
         std::chrono::duration_cast<std::chrono::steady_clock::duration>(
             std::chrono::duration<double>(seconds));
}

bool seconds_of(PyObject* obj, const char* what, double* out) {
  *out = PyFloat_AsDouble(obj);
  if (*out == -1.0 && PyErr_Occurred()) {
    PyErr_Format(PyExc_TypeError, "%s must be a number, not %.100s", what, Py_TYPE(obj)->tp_name);
    return false;
  }
  if (std::isnan(*out)) {
    PyErr_Format(PyExc_ValueError, "%s must not be NaN", what);
    return false;
  }
  return true;
}

bool deadline_of(PyObject* timeout, const char* what, Deadline* out) {
  *out = Deadline::max();
  if (!timeout || timeout == Py_None) return true;
  double seconds;
  if (!seconds_of(timeout, what, &seconds)) return false;
  if (seconds < 0) {
    PyErr_Format(PyExc_ValueError, "%s must be None or a non-negative number of seconds", what);
    return false;
  }
  *out = deadline_after(seconds);
  return true;
}

}  // namespace epy
