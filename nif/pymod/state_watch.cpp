#include "nif/pymod/state_watch.hpp"

#include <memory>
#include <string>

#include "engine/python/python.hpp"
#include "engine/state_store.hpp"
#include "nif/bridge/event_fd.hpp"
#include "nif/bridge/nif_runtime.hpp"
#include "nif/bridge/state_codec.hpp"

namespace epy::nif {

namespace {

StateStore& store() { return global_nif_runtime().engine->state(); }

// Called by the store, from the thread that changed the key, with its shard locked: only
// signals the descriptor.
class EventFdWatcher final : public StateWatcher {
 public:
  void state_changed(const std::string&, const StateValue*) override { event.signal(); }
  EventFd event;
};

struct StateWatchObject {
  PyObject_HEAD std::string* key;
  EventFdWatcher* watcher;  // nullptr once closed
};

void close_watch(StateWatchObject* self) {
  if (!self->watcher) return;
  // After unwatch() returns the store never calls the watcher again: then close.
  store().unwatch(*self->key, self->watcher);
  self->watcher->event.close();
  delete self->watcher;
  self->watcher = nullptr;
}

int watch_init(PyObject* obj, PyObject* args, PyObject* kwargs) {
  auto* self = reinterpret_cast<StateWatchObject*>(obj);
  PyObject* key_obj;
  static const char* names[] = {"key", nullptr};
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O", const_cast<char**>(names), &key_obj))
    return -1;
  std::string key;
  if (!state_key(key_obj, &key)) return -1;
  close_watch(self);
  auto watcher = std::make_unique<EventFdWatcher>();
  if (!watcher->event.open()) return -1;
  if (!self->key) self->key = new std::string;
  *self->key = std::move(key);
  self->watcher = watcher.release();
  store().watch(*self->key, self->watcher);
  return 0;
}

PyObject* watch_new(PyTypeObject* type, PyObject*, PyObject*) {
  auto* self = reinterpret_cast<StateWatchObject*>(type->tp_alloc(type, 0));
  if (!self) return nullptr;
  self->key = nullptr;
  self->watcher = nullptr;
  return reinterpret_cast<PyObject*>(self);
}

void watch_dealloc(PyObject* obj) {
  auto* self = reinterpret_cast<StateWatchObject*>(obj);
  close_watch(self);
  delete self->key;
  PyTypeObject* type = Py_TYPE(obj);
  type->tp_free(obj);
  Py_DECREF(type);
}

PyObject* watch_fileno(PyObject* obj, PyObject*) {
  auto* self = reinterpret_cast<StateWatchObject*>(obj);
  if (!self->watcher) {
    PyErr_SetString(PyExc_ValueError, "the state watch is closed");
    return nullptr;
  }
  return self->watcher->event.fileno("the state watch is closed");
}

PyObject* watch_consume(PyObject* obj, PyObject*) {
  auto* self = reinterpret_cast<StateWatchObject*>(obj);
  return PyBool_FromLong(self->watcher && self->watcher->event.consume());
}

PyObject* watch_close(PyObject* obj, PyObject*) {
  close_watch(reinterpret_cast<StateWatchObject*>(obj));
  Py_RETURN_NONE;
}

PyMethodDef watch_methods[] = {
    {"fileno", watch_fileno, METH_NOARGS, "The descriptor that becomes readable on a change."},
    {"consume", watch_consume, METH_NOARGS, "Whether the key changed since the last call."},
    {"close", watch_close, METH_NOARGS, "Stops watching."},
    {nullptr, nullptr, 0, nullptr},
};

PyType_Slot watch_slots[] = {
    {Py_tp_new, reinterpret_cast<void*>(watch_new)},
    {Py_tp_init, reinterpret_cast<void*>(watch_init)},
    {Py_tp_dealloc, reinterpret_cast<void*>(watch_dealloc)},
    {Py_tp_methods, watch_methods},
    {Py_tp_doc, const_cast<char*>("_StateWatch(key): a descriptor readable after key changes.")},
    {0, nullptr},
};

PyType_Spec watch_spec = {"erlang._StateWatch", sizeof(StateWatchObject), 0, Py_TPFLAGS_DEFAULT,
                          watch_slots};

}  // namespace

PyType_Spec* state_watch_spec() { return &watch_spec; }

}  // namespace epy::nif
