#include "nif/pymod/channels.hpp"

#include <atomic>
#include <cmath>
#include <memory>

#include "engine/context.hpp"
#include "engine/python/deadline.hpp"
#include "engine/python/python.hpp"
#include "engine/python/wait_error.hpp"
#include "engine/wake_signal.hpp"
#include "nif/bridge/channel_object.hpp"
#include "nif/bridge/channel_payload.hpp"
#include "nif/bridge/convert.hpp"
#include "nif/bridge/event_fd.hpp"
#include "nif/pymod/method_table.hpp"

namespace epy::nif {

namespace {

using channels::Channel;
using channels::Payload;
using Clock = Context::Clock;

// A receiver (or a sender waiting for room) on a context's thread, which keeps serving
// its mailbox meanwhile, or on a plain Python thread: see WakeSignal.
class SignalWaiter final : public channels::ChannelWaiter {
 public:
  bool notify() override {
    signal.fire();
    return true;
  }
  WakeSignal signal;
};

// A receiver in an event loop: an eventfd the loop watches (loop.add_reader).
class EventFdWaiter final : public channels::ChannelWaiter {
 public:
  bool notify() override {
    event.signal();
    return true;
  }
  EventFd event;
};

Channel& channel_of_object(PyObject* self) {
  return reinterpret_cast<ChannelObject*>(self)->res->channel;
}

ModuleState* state_of(PyObject* self) { return module_state_of_type(Py_TYPE(self)); }

PyObject* raise_closed(ModuleState* st) {
  PyErr_SetString(st->channel_closed, "the channel is closed");
  return nullptr;
}

// The message's term as a Python object; the message is freed (its environment pooled).
PyObject* take(ModuleState* st, Payload& message) {
  PyObject* value = to_python(st, term_message(message).env, term_message(message).term);
  message.reset();
  return value;
}

// A message holding `obj` converted to a term, on this (the sender's) thread.
bool make_message(ModuleState* st, PyObject* obj, Payload* out) {
  TermMessage* m = new_term_message();
  if (!to_term(st, m->env, obj, &m->term)) {
    discard_term_message(m);
    return false;
  }
  *out = adopt_term_message(m);
  return true;
}

// Raises for a wait that ended other than by its own condition.
bool wait_ok(Context::WaitResult r, const char* timeout_message) {
  if (raise_if_cut_short(r)) return false;
  if (r == Context::WaitResult::timed_out) {
    PyErr_SetString(PyExc_TimeoutError, timeout_message);
    return false;
  }
  return true;
}

// Takes a context waiter off the channel however the wait ends.
class ReceiverGuard {
 public:
  ReceiverGuard(Channel& ch, channels::ChannelWaiter* w, bool room) : ch_(ch), w_(w), room_(room) {}
  ~ReceiverGuard() {
    if (room_)
      ch_.stop_waiting_for_room(w_);
    else
      ch_.stop_waiting(w_);
  }

 private:
  Channel& ch_;
  channels::ChannelWaiter* w_;
  bool room_;
};

PyObject* receive_until(PyObject* self, Clock::time_point deadline) {
  ModuleState* st = state_of(self);
  Channel& ch = channel_of_object(self);
  Payload message;
  switch (ch.try_receive(&message)) {  // the common case: no waiting at all
    case Channel::ReceiveResult::received:
      return take(st, message);
    case Channel::ReceiveResult::closed:
      return raise_closed(st);
    case Channel::ReceiveResult::empty:
      break;
  }
  SignalWaiter waiter;
  ReceiverGuard guard(ch, &waiter, false);
  for (;;) {
    switch (ch.receive_or_wait(&message, &waiter)) {
      case Channel::WaitResult::received:
        return take(st, message);
      case Channel::WaitResult::closed:
        return raise_closed(st);
      case Channel::WaitResult::waiting:
        break;
    }
    if (!wait_ok(waiter.signal.wait_until(deadline), "channel receive timed out")) return nullptr;
    waiter.signal.rearm();
  }
}

PyObject* send_until(PyObject* self, Payload& message, Clock::time_point deadline) {
  ModuleState* st = state_of(self);
  Channel& ch = channel_of_object(self);
  switch (ch.send(message)) {
    case Channel::SendResult::ok:
      Py_RETURN_NONE;
    case Channel::SendResult::closed:
      return raise_closed(st);
    case Channel::SendResult::full:
      break;
  }
  SignalWaiter waiter;
  ReceiverGuard guard(ch, &waiter, true);
  for (;;) {
    switch (ch.send_or_wait(message, &waiter)) {
      case Channel::SendResult::ok:
        Py_RETURN_NONE;
      case Channel::SendResult::closed:
        return raise_closed(st);
      case Channel::SendResult::full:
        break;
    }
    if (!wait_ok(waiter.signal.wait_until(deadline),
                 "channel send timed out (the channel stayed full)"))
      return nullptr;
    waiter.signal.rearm();
  }
}

// ---- _erlang.Channel -----------------------------------------------------------------

PyObject* channel_new(PyTypeObject* type, PyObject* args, PyObject* kwargs) {
  static const char* names[] = {"max_size", nullptr};
  PyObject* max_size = Py_None;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|O", const_cast<char**>(names), &max_size))
    return nullptr;
  unsigned long long bound = 0;
  if (max_size != Py_None) {
    if (!PyLong_Check(max_size)) {
      PyErr_Format(PyExc_TypeError, "max_size must be an int (bytes) or None, not %.100s",
                   Py_TYPE(max_size)->tp_name);
      return nullptr;
    }
    bound = PyLong_AsUnsignedLongLong(max_size);
    if (PyErr_Occurred()) {
      PyErr_SetString(PyExc_ValueError, "max_size must be a non-negative number of bytes");
      return nullptr;
    }
  }
  ChannelResource* res = new_channel(std::size_t(bound));
  if (!res) return PyErr_NoMemory();
  auto* self = reinterpret_cast<ChannelObject*>(type->tp_alloc(type, 0));
  if (!self) {
    release_channel(res);
    return nullptr;
  }
  self->res = res;
  return reinterpret_cast<PyObject*>(self);
}

void channel_dealloc(PyObject* obj) {
  auto* self = reinterpret_cast<ChannelObject*>(obj);
  PyTypeObject* type = Py_TYPE(obj);
  if (self->res) release_channel(self->res);
  type->tp_free(obj);
  Py_DECREF(type);
}

PyObject* channel_send(PyObject* self, PyObject* args, PyObject* kwargs) {
  static const char* names[] = {"message", "timeout", nullptr};
  PyObject *obj, *timeout = Py_None;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|O", const_cast<char**>(names), &obj, &timeout))
    return nullptr;
  Clock::time_point deadline;
  Payload message;
  if (!deadline_of(timeout, "timeout", &deadline) || !make_message(state_of(self), obj, &message))
    return nullptr;
  return send_until(self, message, deadline);
}

PyObject* channel_try_send(PyObject* self, PyObject* obj) {
  Payload message;
  if (!make_message(state_of(self), obj, &message)) return nullptr;
  switch (channel_of_object(self).send(message)) {
    case Channel::SendResult::ok:
      Py_RETURN_TRUE;
    case Channel::SendResult::full:
      Py_RETURN_FALSE;
    case Channel::SendResult::closed:
      break;
  }
  return raise_closed(state_of(self));
}

PyObject* channel_receive(PyObject* self, PyObject* args, PyObject* kwargs) {
  static const char* names[] = {"timeout", nullptr};
  PyObject* timeout = Py_None;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|O", const_cast<char**>(names), &timeout))
    return nullptr;
  Clock::time_point deadline;
  if (!deadline_of(timeout, "timeout", &deadline)) return nullptr;
  return receive_until(self, deadline);
}

PyObject* channel_try_receive(PyObject* self, PyObject* args, PyObject* kwargs) {
  static const char* names[] = {"default", nullptr};
  PyObject* fallback = Py_None;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|O", const_cast<char**>(names), &fallback))
    return nullptr;
  Payload message;
  switch (channel_of_object(self).try_receive(&message)) {
    case Channel::ReceiveResult::received:
      return take(state_of(self), message);
    case Channel::ReceiveResult::empty:
      return Py_NewRef(fallback);
    case Channel::ReceiveResult::closed:
      break;
  }
  return raise_closed(state_of(self));
}

PyObject* channel_close(PyObject* self, PyObject*) {
  channel_of_object(self).close();
  Py_RETURN_NONE;
}

PyObject* channel_info(PyObject* self, PyObject*) {
  const Channel::Info i = channel_of_object(self).info();
  return Py_BuildValue("{s:K,s:K,s:N,s:O,s:K}", "size", (unsigned long long)i.bytes, "count",
                       (unsigned long long)i.count, "max_size",
                       i.max_bytes ? PyLong_FromUnsignedLongLong(i.max_bytes) : Py_NewRef(Py_None),
                       "closed", i.closed ? Py_True : Py_False, "receivers",
                       (unsigned long long)i.receivers);
}

PyObject* channel_closed_get(PyObject* self, void*) {
  return PyBool_FromLong(channel_of_object(self).closed());
}

PyObject* channel_iter(PyObject* self) { return Py_NewRef(self); }

// for msg in channel: ends (StopIteration) once the channel is closed and drained.
PyObject* channel_iternext(PyObject* self) {
  PyObject* value = receive_until(self, Clock::time_point::max());
  if (!value && PyErr_ExceptionMatches(state_of(self)->channel_closed)) PyErr_Clear();
  return value;
}

PyObject* channel_richcompare(PyObject* a, PyObject* b, int op) {
  ModuleState* st = state_of(a);
  if ((op != Py_EQ && op != Py_NE) || !PyObject_TypeCheck(b, st->channel_type))
    Py_RETURN_NOTIMPLEMENTED;
  const bool same =
      reinterpret_cast<ChannelObject*>(a)->res == reinterpret_cast<ChannelObject*>(b)->res;
  return PyBool_FromLong(op == Py_EQ ? same : !same);
}

Py_hash_t channel_hash(PyObject* self) {
  const auto bits = reinterpret_cast<std::uintptr_t>(reinterpret_cast<ChannelObject*>(self)->res);
  const auto hash = Py_hash_t(bits >> 4);  // allocation alignment: the low bits say nothing
  return hash == -1 ? -2 : hash;
}

PyObject* channel_repr(PyObject* self) {
  const Channel::Info i = channel_of_object(self).info();
  return PyUnicode_FromFormat("<%s %p: %zu queued%s>", Py_TYPE(self)->tp_name,
                              reinterpret_cast<ChannelObject*>(self)->res, i.count,
                              i.closed ? ", closed" : "");
}

// ---- the async receiver --------------------------------------------------------------

struct AsyncReceiverObject {
  PyObject_HEAD ChannelResource* res;
  EventFdWaiter* waiter;  // nullptr once closed
};

void receiver_close_impl(AsyncReceiverObject* self) {
  if (!self->waiter) return;
  self->res->channel.stop_waiting(self->waiter);  // a wake-up it got is handed on
  self->waiter->event.close();
  delete self->waiter;
  self->waiter = nullptr;
  release_channel(self->res);
}

PyObject* channel_async_receiver(PyObject* self, PyObject*) {
  ModuleState* st = state_of(self);
  auto waiter = std::make_unique<EventFdWaiter>();
  if (!waiter->event.open()) return nullptr;
  auto* r = reinterpret_cast<AsyncReceiverObject*>(
      st->async_receiver_type->tp_alloc(st->async_receiver_type, 0));
  if (!r) return nullptr;
  r->res = reinterpret_cast<ChannelObject*>(self)->res;
  keep_channel(r->res);
  r->waiter = waiter.release();
  return reinterpret_cast<PyObject*>(r);
}

void receiver_dealloc(PyObject* obj) {
  auto* self = reinterpret_cast<AsyncReceiverObject*>(obj);
  receiver_close_impl(self);
  PyTypeObject* type = Py_TYPE(obj);
  type->tp_free(obj);
  Py_DECREF(type);
}

constexpr const char* kReceiverClosed = "the receiver is closed";

PyObject* raise_receiver_closed() {
  PyErr_SetString(PyExc_ValueError, kReceiverClosed);
  return nullptr;
}

PyObject* receiver_fileno(PyObject* obj, PyObject*) {
  auto* self = reinterpret_cast<AsyncReceiverObject*>(obj);
  return self->waiter ? self->waiter->event.fileno(kReceiverClosed) : raise_receiver_closed();
}

// poll() -> (message,) | None (registered: the descriptor becomes readable when a
// message may be there); ChannelClosed once closed and drained.
PyObject* receiver_poll(PyObject* obj, PyObject*) {
  auto* self = reinterpret_cast<AsyncReceiverObject*>(obj);
  ModuleState* st = state_of(obj);
  if (!self->waiter) return raise_receiver_closed();
  self->waiter->event.consume();  // this wake-up is being used
  Payload message;
  switch (self->res->channel.receive_or_wait(&message, self->waiter)) {
    case Channel::WaitResult::received: {
      py::Ref value(take(st, message));
      return value ? PyTuple_Pack(1, value.get()) : nullptr;
    }
    case Channel::WaitResult::closed:
      return raise_closed(st);
    case Channel::WaitResult::waiting:
      break;
  }
  Py_RETURN_NONE;
}

PyObject* receiver_close(PyObject* obj, PyObject*) {
  receiver_close_impl(reinterpret_cast<AsyncReceiverObject*>(obj));
  Py_RETURN_NONE;
}

#define EPY_KW(f) \
  reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(f)), METH_VARARGS | METH_KEYWORDS

PyMethodDef channel_type_methods[] = {
    {"send", EPY_KW(channel_send),
     "send(message, timeout=None): queue message (any convertible value); waits for room in "
     "a bounded channel (TimeoutError after timeout seconds); ChannelClosed once closed."},
    {"try_send", channel_try_send, METH_O, "try_send(message) -> False if the channel is full."},
    {"receive", EPY_KW(channel_receive),
     "receive(timeout=None): the next message, waiting for one (this context keeps serving "
     "meanwhile); TimeoutError after timeout seconds; ChannelClosed once closed and drained."},
    {"try_receive", EPY_KW(channel_try_receive),
     "try_receive(default=None): the next message, or default when none is queued."},
    {"close", channel_close, METH_NOARGS,
     "close(): no more sends; receivers get what is queued, then ChannelClosed."},
    {"info", channel_info, METH_NOARGS, "info() -> {size, count, max_size, closed, receivers}"},
    {"_async_receiver", channel_async_receiver, METH_NOARGS, "For async_receive()."},
    {nullptr, nullptr, 0, nullptr},
};
#undef EPY_KW

PyGetSetDef channel_getset[] = {
    {"closed", channel_closed_get, nullptr, "Whether the channel is closed.", nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr},
};

PyType_Slot channel_slots[] = {
    {Py_tp_new, reinterpret_cast<void*>(channel_new)},
    {Py_tp_dealloc, reinterpret_cast<void*>(channel_dealloc)},
    {Py_tp_methods, channel_type_methods},
    {Py_tp_getset, channel_getset},
    {Py_tp_iter, reinterpret_cast<void*>(channel_iter)},
    {Py_tp_iternext, reinterpret_cast<void*>(channel_iternext)},
    {Py_tp_richcompare, reinterpret_cast<void*>(channel_richcompare)},
    {Py_tp_hash, reinterpret_cast<void*>(channel_hash)},
    {Py_tp_repr, reinterpret_cast<void*>(channel_repr)},
    {Py_tp_doc, const_cast<char*>("A channel between Erlang processes and Python contexts.")},
    {0, nullptr},
};

PyType_Spec channel_spec = {"_erlang.Channel", sizeof(ChannelObject), 0,
                            Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE, channel_slots};

PyMethodDef receiver_methods[] = {
    {"fileno", receiver_fileno, METH_NOARGS, nullptr},
    {"poll", receiver_poll, METH_NOARGS, nullptr},
    {"close", receiver_close, METH_NOARGS, nullptr},
    {nullptr, nullptr, 0, nullptr},
};

PyType_Slot receiver_slots[] = {
    {Py_tp_dealloc, reinterpret_cast<void*>(receiver_dealloc)},
    {Py_tp_methods, receiver_methods},
    {0, nullptr},
};

PyType_Spec receiver_spec = {"_erlang._AsyncReceiver", sizeof(AsyncReceiverObject), 0,
                             Py_TPFLAGS_DEFAULT, receiver_slots};

}  // namespace

bool add_channel_types(PyObject* module, ModuleState* st) {
  st->channel_type =
      reinterpret_cast<PyTypeObject*>(PyType_FromModuleAndSpec(module, &channel_spec, nullptr));
  if (!st->channel_type || PyModule_AddType(module, st->channel_type) < 0) return false;
  st->async_receiver_type =
      reinterpret_cast<PyTypeObject*>(PyType_FromModuleAndSpec(module, &receiver_spec, nullptr));
  if (!st->async_receiver_type) return false;
  st->channel_closed = PyErr_NewExceptionWithDoc(
      "erlang.channel.ChannelClosed", "The channel is closed (and, for a receive, drained).",
      PyExc_Exception, nullptr);
  return st->channel_closed &&
         PyModule_AddObjectRef(module, "ChannelClosed", st->channel_closed) == 0;
}

int traverse_channel_types(ModuleState* st, visitproc visit, void* arg) {
  Py_VISIT(st->channel_type);
  Py_VISIT(st->channel_class);
  Py_VISIT(st->async_receiver_type);
  Py_VISIT(st->channel_closed);
  return 0;
}

void clear_channel_types(ModuleState* st) {
  Py_CLEAR(st->channel_type);
  Py_CLEAR(st->channel_class);
  Py_CLEAR(st->async_receiver_type);
  Py_CLEAR(st->channel_closed);
}

PyObject* py_set_channel_class(PyObject* module, PyObject* cls) {
  ModuleState* st = module_state_of(module);
  if (!PyType_Check(cls) ||
      !PyType_IsSubtype(reinterpret_cast<PyTypeObject*>(cls), st->channel_type)) {
    PyErr_SetString(PyExc_TypeError, "_set_channel_class() takes a subclass of _erlang.Channel");
    return nullptr;
  }
  Py_XSETREF(st->channel_class, reinterpret_cast<PyTypeObject*>(Py_NewRef(cls)));
  Py_RETURN_NONE;
}

const MethodList& channel_methods() {
  static const MethodList methods = {
      {"_set_channel_class", py_set_channel_class, METH_O,
       "The class (a subclass of Channel) that channels arriving from Erlang get."},
  };
  return methods;
}

}  // namespace epy::nif
