#include "nif/pymod/event_loop.hpp"

#include <cmath>
#include <memory>

#include "engine/context.hpp"
#include "engine/python/deadline.hpp"
#include "engine/python/loop_driver.hpp"
#include "engine/python/python.hpp"
#include "engine/python/wait_error.hpp"
#include "nif/pymod/method_table.hpp"

namespace epy::nif {

namespace {

using std::chrono::microseconds;

LoopDriver* driver_of(Context* context) {
  return context ? dynamic_cast<LoopDriver*>(context->background()) : nullptr;
}

}  // namespace

PyObject* py_drive(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  if (nargs != 2) {
    PyErr_SetString(PyExc_TypeError, "_drive(loop, fd)");
    return nullptr;
  }
  const int fd = PyLong_AsLong(args[1]);
  if (fd == -1 && PyErr_Occurred()) return nullptr;
  Context* context = Context::current();
  if (!context) {
    PyErr_SetString(PyExc_RuntimeError, "only a context's own thread has a context event loop");
    return nullptr;
  }
  if (LoopDriver* current = driver_of(context); current && current->loop() == args[0])
    Py_RETURN_NONE;
  if (!context->set_background(std::make_unique<LoopDriver>(args[0], fd))) {
    PyErr_SetString(PyExc_RuntimeError,
                    "the context's event loop cannot be replaced from inside it");
    return nullptr;
  }
  Py_RETURN_NONE;
}

PyObject* py_context_loop(PyObject*, PyObject*) {
  LoopDriver* driver = driver_of(Context::current());
  return Py_NewRef(driver ? driver->loop() : Py_None);
}

PyObject* py_in_context(PyObject*, PyObject*) {
  return PyBool_FromLong(Context::current() != nullptr);
}

PyObject* py_wait(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  if (nargs != 2) {
    PyErr_SetString(PyExc_TypeError, "_wait(fd, timeout)");
    return nullptr;
  }
  const int fd = PyLong_AsLong(args[0]);
  if (fd == -1 && PyErr_Occurred()) return nullptr;
  double timeout;
  if (!seconds_of(args[1], "timeout", &timeout)) return nullptr;
  Context* context = Context::current();
  if (!context) Py_RETURN_NONE;
  if (timeout == 0) {  // serve what is queued; the caller polls fd itself
    if (raise_if_cut_short(context->serve_until([] { return false; }, Context::Clock::now())))
      return nullptr;
    Py_RETURN_TRUE;
  }
  bool readable = false;
  const auto result =
      context->serve_until([&] { return readable; }, deadline_after(timeout), fd, &readable);
  if (raise_if_cut_short(result)) return nullptr;
  return PyBool_FromLong(readable);
}

PyObject* py_sleep(PyObject*, PyObject* arg) {
  double seconds;
  if (!seconds_of(arg, "sleep length", &seconds)) return nullptr;
  if (seconds < 0) {
    PyErr_SetString(PyExc_ValueError, "sleep length must be non-negative");
    return nullptr;
  }
  Context* context = Context::current();
  if (!context) {
    py::Ref time(PyImport_ImportModule("time"));
    return time ? PyObject_CallMethod(time.get(), "sleep", "d", seconds) : nullptr;
  }
  if (raise_if_cut_short(context->serve_until([] { return false; }, deadline_after(seconds))))
    return nullptr;
  Py_RETURN_NONE;
}

const MethodList& event_loop_methods() {
  static const MethodList methods = {
      {"_drive", EPY_FASTCALL(py_drive), "_drive(loop, fd): the context's own event loop"},
      {"_context_loop", py_context_loop, METH_NOARGS, "The context's own event loop, or None."},
      {"_in_context", py_in_context, METH_NOARGS, "Whether this thread is a context's."},
      {"_wait", EPY_FASTCALL(py_wait),
       "_wait(fd, timeout) -> True (fd readable), False (timed out), None (not a context "
       "thread)"},
      {"_sleep", py_sleep, METH_O, "_sleep(seconds): wait while the context serves its mailbox"},
  };
  return methods;
}

}  // namespace epy::nif
