#include "engine/python/loop_driver.hpp"

#include <cmath>
#include <cstdint>

#include "engine/python/python.hpp"

namespace epy {

namespace {

using std::chrono::microseconds;

// What ErlangEventLoop._erlang_due() answers for a closed loop.
constexpr double kLoopClosed = -2.0;

}  // namespace

LoopDriver::LoopDriver(PyObject* loop, int fd)
    : loop_(Py_NewRef(loop)),
      fd_(fd),
      due_(PyUnicode_InternFromString("_erlang_due")),
      step_(PyUnicode_InternFromString("_erlang_step")),
      shutdown_(PyUnicode_InternFromString("_erlang_shutdown")) {}

microseconds LoopDriver::due(int* fd) {
  *fd = fd_;
  py::Ref answer(PyObject_CallMethodNoArgs(loop_.get(), due_.get()));
  const double seconds = answer ? PyFloat_AsDouble(answer.get()) : -1.0;
  if (PyErr_Occurred()) {
    PyErr_WriteUnraisable(loop_.get());
    return microseconds(-1);
  }
  if (seconds <= kLoopClosed) {  // nothing more will come: stop watching its descriptor
    fd_ = -1;
    *fd = -1;
  }
  if (seconds < 0) return microseconds(-1);
  return microseconds(std::int64_t(std::ceil(seconds * 1e6)));
}

void LoopDriver::run(bool descriptor_ready) {
  report(
      PyObject_CallMethodOneArg(loop_.get(), step_.get(), descriptor_ready ? Py_True : Py_False));
}

void LoopDriver::close() { report(PyObject_CallMethodNoArgs(loop_.get(), shutdown_.get())); }

void LoopDriver::report(PyObject* result) {
  if (!result) PyErr_WriteUnraisable(loop_.get());  // the loop reports its own errors: a bug
  Py_XDECREF(result);
}

}  // namespace epy
