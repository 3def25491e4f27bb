#include "engine/python/running_loop.hpp"

namespace epy {

HiddenRunningLoop::HiddenRunningLoop() {
  // Without asyncio imported, no loop can be running.
  py::Ref name(PyUnicode_FromString("asyncio.events"));
  py::Ref events(name ? PyImport_GetModule(name.get()) : nullptr);
  if (!events) {
    PyErr_Clear();
    return;
  }
  py::Ref loop(PyObject_CallMethod(events.get(), "_get_running_loop", nullptr));
  if (!loop || loop.get() == Py_None) {
    PyErr_Clear();
    return;
  }
  py::Ref done(PyObject_CallMethod(events.get(), "_set_running_loop", "O", Py_None));
  if (!done) {
    PyErr_Clear();
    return;
  }
  events_ = events.release();
  loop_ = loop.release();
}

HiddenRunningLoop::~HiddenRunningLoop() {
  if (!events_) return;
  // Keep an exception the nested request left for its caller.
  PyObject *type, *value, *traceback;
  PyErr_Fetch(&type, &value, &traceback);
  py::Ref done(PyObject_CallMethod(events_, "_set_running_loop", "O", loop_));
  if (!done) PyErr_Clear();
  PyErr_Restore(type, value, traceback);
  Py_DECREF(loop_);
  Py_DECREF(events_);
}

}  // namespace epy
