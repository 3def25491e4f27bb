#include "nif/bridge/interpreter_state.hpp"

#include "engine/python/error.hpp"
#include "engine/python/python.hpp"
#include "nif/bridge/log_sink.hpp"
#include "nif/bridge/venv_setting.hpp"

namespace epy::nif {

namespace {

thread_local ErlNifPid t_context_owner{0};

bool venv_module_loaded() {
  py::Ref name(PyUnicode_FromString("erlang._venv"));
  py::Ref module(name ? PyImport_GetModule(name.get()) : nullptr);
  PyErr_Clear();
  return bool(module);
}

// py:configure_logging/1 and py:activate_venv/1 take effect for every request that
// starts after they return: a context that has not seen the current setting applies it
// first (two relaxed loads when nothing changed).
void sync_settings(InterpreterState* state) {
  const int level = log_level();
  if (level != state->log_level) {
    state->log_level = level;
    py::Ref logging(PyImport_ImportModule("erlang._logging"));
    py::Ref done(logging ? PyObject_CallMethod(logging.get(), "set_level", "i", level) : nullptr);
    if (!done) PyErr_Clear();
  }
  if (venv_generation() != state->venv_generation) {
    const VenvSetting venv = venv_setting();
    state->venv_generation = venv.generation;
    if (venv.path.empty() && !venv_module_loaded()) return;  // nothing to take back
    py::Ref path(venv.path.empty() ? Py_NewRef(Py_None)
                                   : PyUnicode_DecodeFSDefaultAndSize(
                                         venv.path.data(), Py_ssize_t(venv.path.size())));
    py::Ref dirs(PyList_New(0));
    for (const std::string& dir : venv.site_dirs) {
      py::Ref entry(PyUnicode_DecodeFSDefaultAndSize(dir.data(), Py_ssize_t(dir.size())));
      if (!entry || !dirs || PyList_Append(dirs.get(), entry.get()) < 0) dirs = py::Ref();
    }
    py::Ref module(path && dirs ? PyImport_ImportModule("erlang._venv") : nullptr);
    py::Ref done(module ? PyObject_CallMethod(module.get(), "apply", "OOK", path.get(), dirs.get(),
                                              static_cast<unsigned long long>(venv.generation))
                        : nullptr);
    if (!done) PyErr_Clear();  // erlang._venv logs what goes wrong inside
  }
}

}  // namespace

bool current_context_owner(ErlNifPid* out) {
  *out = t_context_owner;
  return out->pid != 0;
}

bool attach_interpreter_state(Interpreter& interp, const ErlNifPid& owner, std::string* error) {
  t_context_owner = owner;
  py::Ref module(PyImport_ImportModule("_erlang"));
  if (!module) {
    PyErrorInfo e = fetch_error();
    *error = "cannot import _erlang: " + e.type_name + ": " + e.message;
    return false;
  }
  auto* state = new InterpreterState();
  state->st = module_state_of(module.get());
  state->module = std::move(module);
  state->log_level = log_level();  // erlang._boot sets it (or a newer one)
  interp.set_user_data(state);
  // Python's logging records go to Erlang's logger from the start, asyncio defaults to
  // the Erlang event loop (erlang/_boot.py).
  py::Ref boot(PyImport_ImportModule("erlang._boot"));
  py::Ref done(boot ? PyObject_CallMethod(boot.get(), "start", nullptr) : nullptr);
  if (!done) {
    PyErrorInfo e = fetch_error();
    *error = "cannot set up the erlang package: " + e.type_name + ": " + e.message;
    return false;
  }
  sync_settings(state);  // the active virtual environment, if any
  return true;
}

void detach_interpreter_state(Interpreter& interp) {
  t_context_owner.pid = 0;
  delete static_cast<InterpreterState*>(interp.user_data());  // its references go with it
  interp.set_user_data(nullptr);
}

void apply_request_settings(Interpreter& interp) { sync_settings(&interpreter_state(interp)); }

PyObject* start_loop_task(Interpreter& interp, PyObject* awaitable, PyObject* on_done) {
  InterpreterState& state = interpreter_state(interp);
  if (!state.start_task) {
    py::Ref loop_module(PyImport_ImportModule("erlang._loop"));
    state.start_task.reset(loop_module ? PyObject_GetAttrString(loop_module.get(), "_start_task")
                                       : nullptr);
    if (!state.start_task) return nullptr;
  }
  return PyObject_CallFunctionObjArgs(state.start_task.get(), awaitable,
                                      on_done ? on_done : Py_None, nullptr);
}

}  // namespace epy::nif
