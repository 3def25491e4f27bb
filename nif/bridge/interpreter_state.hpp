// What the NIF keeps per interpreter (Interpreter::user_data), and the context hooks that
// use it: setting the interpreter up when a context starts (on_start/on_stop), applying
// the per-request settings (before_request), starting a task request's task (start_task).
#pragma once

#include <erl_nif.h>

#include <cstdint>
#include <string>

#include "engine/python/interpreter.hpp"
#include "engine/python/python.hpp"
#include "nif/bridge/module_state.hpp"

namespace epy::nif {

struct InterpreterState {
  py::Ref module;  // the interpreter's `_erlang` module
  ModuleState* st = nullptr;
  py::Ref start_task;  // erlang._loop._start_task, once a task has run
  int log_level = 0;   // the root logger's level as last set from py:configure_logging/1
  std::uint64_t venv_generation = 0;  // the py:activate_venv/1 setting applied last
};

// The state of an interpreter this NIF set up. Attached.
inline InterpreterState& interpreter_state(Interpreter& interp) {
  return *static_cast<InterpreterState*>(interp.user_data());
}

// ContextConfig::on_start: imports `_erlang` into a freshly created (or recycled)
// interpreter, boots the erlang package, and remembers, for this thread, the pid of the
// context's owning process. on_stop undoes it.
bool attach_interpreter_state(Interpreter& interp, const ErlNifPid& owner, std::string* error);
void detach_interpreter_state(Interpreter& interp);

// ContextConfig::before_request: py:configure_logging/1 and py:activate_venv/1 take effect
// for every request that starts after they return (two relaxed loads when nothing changed).
void apply_request_settings(Interpreter& interp);

// ContextConfig::start_task: erlang._loop._start_task(awaitable, on_done or None).
PyObject* start_loop_task(Interpreter& interp, PyObject* awaitable, PyObject* on_done);

// The owning process (the Ctx pid) of the context whose thread calls this.
bool current_context_owner(ErlNifPid* out);

}  // namespace epy::nif
