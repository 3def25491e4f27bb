#include "nif/pymod/messaging.hpp"

#include "engine/context.hpp"
#include "engine/python/python.hpp"
#include "engine/python/wait_error.hpp"
#include "nif/bridge/atoms.hpp"
#include "nif/bridge/convert.hpp"
#include "nif/bridge/interpreter_state.hpp"
#include "nif/bridge/nif_runtime.hpp"
#include "nif/bridge/owned_env.hpp"
#include "nif/bridge/request_job.hpp"
#include "nif/bridge/term_types.hpp"
#include "nif/pymod/method_table.hpp"

namespace epy::nif {

namespace {

ErlangCalls& erlang_calls() { return global_nif_runtime().erlang_calls; }

// An env of its own for one outgoing message.
using MessageEnv = OwnedEnv;

bool text_of(PyObject* obj, const char* what, std::string* out) {
  if (!PyUnicode_Check(obj)) {
    PyErr_Format(PyExc_TypeError, "%s must be a str, not %.100s", what, Py_TYPE(obj)->tp_name);
    return false;
  }
  Py_ssize_t size;
  const char* utf8 = PyUnicode_AsUTF8AndSize(obj, &size);
  if (!utf8) return false;
  out->assign(utf8, std::size_t(size));
  return true;
}

// An atom for a name given as str or erlang.Atom: existing atoms freely, new ones only
// within the atom budget.
bool name_atom(ModuleState* st, ErlNifEnv* env, PyObject* name, ERL_NIF_TERM* out) {
  if (Py_TYPE(name) == st->atom_type) return to_term(st, env, name, out);
  if (!PyUnicode_Check(name)) {
    PyErr_Format(PyExc_TypeError, "a name must be a str, not %.100s", Py_TYPE(name)->tp_name);
    return false;
  }
  py::Ref atom(PyObject_CallOneArg(reinterpret_cast<PyObject*>(st->atom_type), name));
  return atom && to_term(st, env, atom.get(), out);
}

// Hands {py_send, Dest, Msg} to the py_callback process, which sends with Erlang's own
// erlang:send/2 (names on other nodes, remote pids).
PyObject* send_through_erlang(ErlNifEnv* env, ERL_NIF_TERM dest, ERL_NIF_TERM message) {
  ErlNifPid handler;
  if (!erlang_calls().handler(&handler)) {
    PyErr_SetString(PyExc_RuntimeError, "erlang_python is not running");
    return nullptr;
  }
  enif_send(nullptr, &handler, env,
            enif_make_tuple3(env, enif_make_atom(env, "py_send"), dest, message));
  Py_RETURN_NONE;
}

PyObject* raise_erlang_error(ModuleState* st, ErlNifEnv* env, const ERL_NIF_TERM* fields) {
  // fields: Class, Reason, Message
  py::Ref message(to_python(st, env, fields[2]));
  if (!message) return nullptr;
  py::Ref exc(PyObject_CallOneArg(st->erlang_error, message.get()));
  if (!exc) return nullptr;
  py::Ref klass(to_python(st, env, fields[0]));
  py::Ref reason(to_python(st, env, fields[1]));
  if (!reason) {  // a reason Python cannot hold (a fun, say): its text is in the message
    PyErr_Clear();
    reason = py::Ref::borrow(Py_None);
  }
  if (!klass || PyObject_SetAttrString(exc.get(), "erlang_class", klass.get()) < 0 ||
      PyObject_SetAttrString(exc.get(), "reason", reason.get()) < 0)
    return nullptr;
  PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(exc.get())), exc.get());
  return nullptr;
}

}  // namespace

// send(dest, message): dest an erlang.Pid, a registered name (str or erlang.Atom) or a
// (name, node) tuple. Never blocks; a dead pid is not an error (Erlang's `!`).
PyObject* py_send(PyObject* module, PyObject* const* args, Py_ssize_t nargs) {
  if (nargs != 2) {
    PyErr_SetString(PyExc_TypeError, "send(dest, message) takes exactly 2 arguments");
    return nullptr;
  }
  ModuleState* st = module_state_of(module);
  PyObject* dest = args[0];
  MessageEnv env;
  ERL_NIF_TERM message;
  if (!to_term(st, env.get(), args[1], &message)) return nullptr;

  if (Py_TYPE(dest) == st->pid_type) {
    auto* pid = reinterpret_cast<PidObject*>(dest);
    if (pid->local) {
      enif_send(nullptr, &pid->pid, env.get(), message);
      Py_RETURN_NONE;
    }
    ERL_NIF_TERM remote;
    if (!to_term(st, env.get(), dest, &remote)) return nullptr;
    return send_through_erlang(env.get(), remote, message);
  }
  if (PyUnicode_Check(dest)) {
    ERL_NIF_TERM name;
    ErlNifPid pid;
    if (!name_atom(st, env.get(), dest, &name)) return nullptr;
    if (!enif_whereis_pid(nullptr, name, &pid)) {
      PyErr_Format(PyExc_ValueError, "no process is registered as %R", dest);
      return nullptr;
    }
    enif_send(nullptr, &pid, env.get(), message);
    Py_RETURN_NONE;
  }
  if (PyTuple_Check(dest) && PyTuple_GET_SIZE(dest) == 2) {
    ERL_NIF_TERM name, node;
    if (!name_atom(st, env.get(), PyTuple_GET_ITEM(dest, 0), &name) ||
        !name_atom(st, env.get(), PyTuple_GET_ITEM(dest, 1), &node))
      return nullptr;
    return send_through_erlang(env.get(), enif_make_tuple2(env.get(), name, node), message);
  }
  PyErr_Format(PyExc_TypeError,
               "send() destination must be an erlang.Pid, a registered name or a (name, node) "
               "tuple, not %.100s",
               Py_TYPE(dest)->tp_name);
  return nullptr;
}

// call(name, *args): runs the Erlang function registered as `name` and returns its result.
PyObject* py_call(PyObject* module, PyObject* const* args, Py_ssize_t nargs) {
  if (nargs < 1) {
    PyErr_SetString(PyExc_TypeError, "call(name, *args) needs a function name");
    return nullptr;
  }
  ModuleState* st = module_state_of(module);
  std::string name;
  if (!text_of(args[0], "the function name", &name)) return nullptr;
  if (!erlang_calls().registered(name)) {
    PyErr_Format(PyExc_AttributeError, "no Erlang function is registered as %R", args[0]);
    return nullptr;
  }
  ErlNifPid handler;
  if (!erlang_calls().handler(&handler)) {
    PyErr_SetString(PyExc_RuntimeError, "erlang_python is not running");
    return nullptr;
  }

  Context* context = Context::current();
  auto waiter = std::make_shared<ErlangCallWaiter>();
  {
    MessageEnv env;
    ERL_NIF_TERM list = enif_make_list(env.get(), 0);
    for (Py_ssize_t i = nargs - 1; i >= 1; --i) {
      ERL_NIF_TERM arg;
      if (!to_term(st, env.get(), args[i], &arg)) return nullptr;
      list = enif_make_list_cell(env.get(), arg, list);
    }
    ErlNifPid owner;
    ERL_NIF_TERM ctx = context && current_context_owner(&owner) ? pid_term(owner) : atoms.undefined;
    const std::uint64_t token = erlang_calls().add_waiter(waiter);
    ERL_NIF_TERM msg = enif_make_tuple5(env.get(), enif_make_atom(env.get(), "py_callback"),
                                        enif_make_uint64(env.get(), token),
                                        make_binary(env.get(), name), list, ctx);
    if (!enif_send(nullptr, &handler, env.get(), msg)) {
      erlang_calls().remove_waiter(token);
      PyErr_SetString(PyExc_RuntimeError, "erlang_python is not running");
      return nullptr;
    }
    // Wait for the answer. A context keeps serving its mailbox meanwhile: the function
    // may call back into it. The calling request's own timeout bounds the wait there;
    // a plain thread waits at most default_timeout.
    const Context::WaitResult result = waiter->wait_until(
        context ? Context::Clock::time_point::max()
                : Context::Clock::now() + std::chrono::milliseconds(erlang_calls().timeout_ms()));
    erlang_calls().remove_waiter(token);
    if (raise_if_cut_short(result)) return nullptr;
    if (result == Context::WaitResult::timed_out) {
      PyErr_Format(PyExc_TimeoutError, "Erlang function %R did not answer in time", args[0]);
      return nullptr;
    }
  }

  // {ok, Value} | {error, Class, Reason, Message} | not_registered
  ErlNifEnv* env = waiter->env();
  const ERL_NIF_TERM answer = waiter->result();
  int arity;
  const ERL_NIF_TERM* fields;
  if (enif_get_tuple(env, answer, &arity, &fields)) {
    if (arity == 2 && fields[0] == atoms.ok) return to_python(st, env, fields[1]);
    if (arity == 4 && fields[0] == atoms.error) return raise_erlang_error(st, env, fields + 1);
  }
  PyErr_Format(PyExc_AttributeError, "no Erlang function is registered as %R", args[0]);
  return nullptr;
}

// _is_registered(name) -> bool
PyObject* py_is_registered(PyObject*, PyObject* name) {
  std::string text;
  if (!PyUnicode_Check(name)) Py_RETURN_FALSE;
  if (!text_of(name, "name", &text)) return nullptr;
  return PyBool_FromLong(erlang_calls().registered(text));
}

// self() -> the erlang.Pid of the process that made the request running now, or None.
PyObject* py_self(PyObject* module, PyObject*) {
  Context* context = Context::current();
  Job* job = context ? context->current_job() : nullptr;
  if (!job) Py_RETURN_NONE;
  ErlNifPid caller = static_cast<RequestJob*>(job)->caller();
  MessageEnv env;
  return make_pid(module_state_of(module), env.get(), pid_term(caller));
}

// whereis(name) -> the erlang.Pid registered as name, or None.
PyObject* py_whereis(PyObject* module, PyObject* name) {
  ModuleState* st = module_state_of(module);
  MessageEnv env;
  if (!PyUnicode_Check(name)) {
    PyErr_Format(PyExc_TypeError, "whereis() takes a str, not %.100s", Py_TYPE(name)->tp_name);
    return nullptr;
  }
  Py_ssize_t size;
  const char* utf8 = PyUnicode_AsUTF8AndSize(name, &size);
  if (!utf8) return nullptr;
  // Only an existing atom can name a registered process: never create one here.
  ERL_NIF_TERM atom;
  if (Py_TYPE(name) == st->atom_type) {
    if (!to_term(st, env.get(), name, &atom)) return nullptr;
  } else {
    std::vector<unsigned char> etf{131, 118, (unsigned char)(size >> 8),
                                   (unsigned char)(size & 0xff)};
    etf.insert(etf.end(), utf8, utf8 + size);
    if (size > 1020 ||
        !enif_binary_to_term(env.get(), etf.data(), etf.size(), &atom, ERL_NIF_BIN2TERM_SAFE))
      Py_RETURN_NONE;
  }
  ErlNifPid pid;
  if (!enif_whereis_pid(nullptr, atom, &pid)) Py_RETURN_NONE;
  return make_pid(st, env.get(), pid_term(pid));
}

// atom(name) -> erlang.Atom; an atom that does not exist yet counts against the budget.
PyObject* py_atom(PyObject* module, PyObject* name) {
  ModuleState* st = module_state_of(module);
  if (!PyUnicode_Check(name)) {
    PyErr_Format(PyExc_TypeError, "atom() takes a str, not %.100s", Py_TYPE(name)->tp_name);
    return nullptr;
  }
  py::Ref atom(Py_TYPE(name) == st->atom_type
                   ? Py_NewRef(name)
                   : PyObject_CallOneArg(reinterpret_cast<PyObject*>(st->atom_type), name));
  MessageEnv env;
  ERL_NIF_TERM term;
  if (!atom || !to_term(st, env.get(), atom.get(), &term)) return nullptr;  // budget checked here
  return atom.release();
}

const MethodList& messaging_methods() {
  static const MethodList methods = {
      {"send", EPY_FASTCALL(py_send),
       "send(dest, message): to a pid, a registered name or (name, node); never blocks."},
      {"call", EPY_FASTCALL(py_call),
       "call(name, *args): the result of the Erlang function registered as name."},
      {"_is_registered", py_is_registered, METH_O, "Whether an Erlang function has that name."},
      {"self", py_self, METH_NOARGS,
       "The erlang.Pid of the process whose request runs now, or None."},
      {"whereis", py_whereis, METH_O, "The erlang.Pid registered as name, or None."},
      {"atom", py_atom, METH_O,
       "atom(name) -> erlang.Atom; new atoms count against the atom budget."},
  };
  return methods;
}

}  // namespace epy::nif
