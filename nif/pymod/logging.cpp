// Python's logging records on their way to Erlang's logger: the `_erlang` functions the
// erlang package's logging handler (erlang/_logging.py) calls.
#include "engine/python/python.hpp"
#include "nif/bridge/convert.hpp"
#include "nif/bridge/log_sink.hpp"
#include "nif/bridge/module_state.hpp"
#include "nif/bridge/owned_env.hpp"
#include "nif/pymod/method_table.hpp"

namespace epy::nif {

namespace {

ERL_NIF_TERM level_atom(ErlNifEnv* env, long levelno) {
  const char* name = levelno >= 50   ? "critical"
                     : levelno >= 40 ? "error"
                     : levelno >= 30 ? "warning"
                     : levelno >= 20 ? "info"
                                     : "debug";
  return enif_make_atom(env, name);
}

// log(levelno, logger_name, message, pathname, lineno, func_name): hands one formatted
// logging record to Erlang's logger (through the py_logger process). Returns whether it
// was sent.
PyObject* erlang_log(PyObject* module, PyObject* const* args, Py_ssize_t nargs) {
  long levelno = 0, lineno = 0;
  if (nargs != 6 || (levelno = PyLong_AsLong(args[0]), PyErr_Occurred()) ||
      (lineno = PyLong_AsLong(args[4]), PyErr_Occurred())) {
    if (!PyErr_Occurred())
      PyErr_SetString(PyExc_TypeError, "log(levelno, name, message, pathname, lineno, funcname)");
    return nullptr;
  }
  if (levelno < log_level()) Py_RETURN_FALSE;
  ModuleState* st = module_state_of(module);
  OwnedEnv owned;
  ErlNifEnv* env = owned.get();
  ERL_NIF_TERM name, message, file, function;
  bool sent = false;
  if (to_term(st, env, args[1], &name) && to_term(st, env, args[2], &message) &&
      to_term(st, env, args[3], &file) && to_term(st, env, args[5], &function)) {
    ERL_NIF_TERM meta = enif_make_new_map(env);
    enif_make_map_put(env, meta, enif_make_atom(env, "file"), file, &meta);
    enif_make_map_put(env, meta, enif_make_atom(env, "line"), enif_make_long(env, lineno), &meta);
    enif_make_map_put(env, meta, enif_make_atom(env, "python_function"), function, &meta);
    sent = send_log(env, enif_make_tuple5(env, enif_make_atom(env, "py_log"),
                                          level_atom(env, levelno), name, message, meta));
  }
  if (PyErr_Occurred()) return nullptr;
  return PyBool_FromLong(sent);
}

PyObject* erlang_log_level(PyObject*, PyObject*) { return PyLong_FromLong(log_level()); }

}  // namespace

const MethodList& logging_methods() {
  static const MethodList methods = {
      {"log", EPY_FASTCALL(erlang_log),
       "log(levelno, name, message, pathname, lineno, funcname): a record for Erlang's logger."},
      {"log_level", erlang_log_level, METH_NOARGS,
       "The level (a logging level number) below which records are not sent to Erlang."},
  };
  return methods;
}

}  // namespace epy::nif
