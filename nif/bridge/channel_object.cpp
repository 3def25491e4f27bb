#include "nif/bridge/channel_object.hpp"

namespace epy::nif {

PyObject* make_channel_object(ModuleState* st, ChannelResource* res) {
  if (!st->channel_class) {  // erlang.channel registers its class when imported
    py::Ref module(PyImport_ImportModule("erlang.channel"));
    if (!module) PyErr_Clear();
  }
  PyTypeObject* type = st->channel_class ? st->channel_class : st->channel_type;
  if (!type) {
    PyErr_SetString(PyExc_RuntimeError, "the _erlang module has no channel type yet");
    return nullptr;
  }
  auto* self = reinterpret_cast<ChannelObject*>(type->tp_alloc(type, 0));
  if (!self) return nullptr;
  keep_channel(res);
  self->res = res;
  return reinterpret_cast<PyObject*>(self);
}

ChannelResource* channel_of(ModuleState* st, PyObject* obj) {
  if (!st->channel_type || !PyObject_TypeCheck(obj, st->channel_type)) return nullptr;
  return reinterpret_cast<ChannelObject*>(obj)->res;
}

}  // namespace epy::nif
