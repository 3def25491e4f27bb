#include "engine/python/task_callback.hpp"

#include "engine/python/python.hpp"

namespace epy {

namespace {

struct Binding {
  std::uint64_t token;
  TaskDone done;
};

constexpr const char* kCapsuleName = "epy.task_callback";

void free_binding(PyObject* capsule) {
  delete static_cast<Binding*>(PyCapsule_GetPointer(capsule, kCapsuleName));
}

PyObject* call(PyObject* capsule, PyObject* task) {
  auto* binding = static_cast<Binding*>(PyCapsule_GetPointer(capsule, kCapsuleName));
  if (!binding) return nullptr;
  binding->done(binding->token, task);
  Py_RETURN_NONE;
}

PyMethodDef callback_def = {"task_done", call, METH_O,
                            "Answers the Erlang caller waiting for this task."};

}  // namespace

PyObject* make_task_callback(std::uint64_t token, TaskDone done) {
  auto* binding = new Binding{token, done};
  py::Ref capsule(PyCapsule_New(binding, kCapsuleName, free_binding));  // owns it from here
  if (!capsule) {
    delete binding;
    return nullptr;
  }
  return PyCFunction_New(&callback_def, capsule.get());
}

bool is_awaitable(PyObject* obj) {
  PyAsyncMethods* async = Py_TYPE(obj)->tp_as_async;
  return async && async->am_await;
}

}  // namespace epy
