#include "engine/python/python.hpp"

#include "nif/bridge/request_job.hpp"

#include "engine/python/error.hpp"
#include "nif/bridge/atoms.hpp"
#include "nif/bridge/caller_env.hpp"
#include "nif/bridge/convert.hpp"
#include "nif/pymod/event_loop.hpp"
#include "nif/bridge/log_sink.hpp"
#include "nif/beam/scheduler_budget.hpp"
#include "nif/bridge/venv_setting.hpp"

namespace epy::nif {

namespace {

ModuleState* state_of(Interpreter& interp) {
  return static_cast<InterpreterState*>(interp.user_data())->st;
}

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
void sync_interpreter_settings(InterpreterState* state) {
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
                                   : PyUnicode_DecodeFSDefaultAndSize(venv.path.data(),
                                                                      Py_ssize_t(venv.path.size())));
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

// Coroutines, futures and anything else with __await__.
bool is_awaitable(PyObject* obj) {
  PyAsyncMethods* async = Py_TYPE(obj)->tp_as_async;
  return async && async->am_await;
}

}  // namespace

bool current_context_owner(ErlNifPid* out) {
  *out = t_context_owner;
  return out->pid != 0;
}

bool attach_interpreter_state(Interpreter& interp, const ErlNifPid& owner, std::string* error) {
  t_context_owner = owner;
  PyObject* module = PyImport_ImportModule("_erlang");
  if (!module) {
    PyErrorInfo e = fetch_error();
    *error = "cannot import _erlang: " + e.type_name + ": " + e.message;
    return false;
  }
  auto* state = new InterpreterState{module, module_state_of(module)};
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
  sync_interpreter_settings(state);  // the active virtual environment, if any
  return true;
}

void detach_interpreter_state(Interpreter& interp) {
  t_context_owner.pid = 0;
  auto* state = static_cast<InterpreterState*>(interp.user_data());
  if (!state) return;
  Py_XDECREF(state->module);
  Py_XDECREF(state->start_task);
  delete state;
  interp.set_user_data(nullptr);
}

RequestJob::RequestJob() : env_(enif_alloc_env()) {}

RequestJob::~RequestJob() { enif_free_env(env_); }

void RequestJob::prepare_call(ErlNifEnv* caller_env, const ErlNifPid& caller, ERL_NIF_TERM ref,
                          ERL_NIF_TERM module, ERL_NIF_TERM function, ERL_NIF_TERM args,
                          ERL_NIF_TERM kwargs, bool reply, bool task) {
  caller_ = caller;
  reply_ = reply;
  task_ = task;
  ref_ = reply ? enif_make_copy(env_, ref) : 0;
  module_ = enif_make_copy(env_, module);
  function_ = enif_make_copy(env_, function);
  args_ = enif_make_copy(env_, args);
  kwargs_ = enif_make_copy(env_, kwargs);
}

void RequestJob::prepare_code(ErlNifEnv* caller_env, const ErlNifPid& caller, ERL_NIF_TERM ref,
                          ERL_NIF_TERM code, ERL_NIF_TERM locals) {
  caller_ = caller;
  reply_ = true;
  ref_ = enif_make_copy(env_, ref);
  code_ = enif_make_copy(env_, code);
  locals_ = locals ? enif_make_copy(env_, locals) : 0;
}

PyObject* RequestJob::keep(PyObject* obj) {
  if (obj) owned_.push_back(obj);
  return obj;
}

void RequestJob::release_python() {
  for (PyObject* obj : owned_) Py_DECREF(obj);
  owned_.clear();
  argv_.clear();
}

bool RequestJob::decode_call(Interpreter& interp, CallInput& in) {
  sync_interpreter_settings(static_cast<InterpreterState*>(interp.user_data()));
  ModuleState* st = state_of(interp);
  in.module = keep(to_python_name(st, env_, module_, "module name"));
  if (!in.module) return false;
  in.function = keep(to_python_name(st, env_, function_, "function name"));
  if (!in.function) return false;
  ERL_NIF_TERM head, tail = args_;
  while (enif_get_list_cell(env_, tail, &head, &tail)) {
    PyObject* arg = keep(to_python(st, env_, head));
    if (!arg) return false;
    argv_.push_back(arg);
  }
  in.args = argv_.data();
  in.nargs = argv_.size();
  size_t size = 0;
  if (enif_get_map_size(env_, kwargs_, &size) && size > 0) {
    in.kwargs = keep(to_python_kwargs(st, env_, kwargs_, "keyword argument names"));
    if (!in.kwargs) return false;
  }
  return true;
}

bool RequestJob::decode_code(Interpreter& interp, CodeInput& in) {
  sync_interpreter_settings(static_cast<InterpreterState*>(interp.user_data()));
  ModuleState* st = state_of(interp);
  ErlNifBinary bin;
  enif_inspect_binary(env_, code_, &bin);
  in.code = keep(PyUnicode_DecodeUTF8(reinterpret_cast<const char*>(bin.data), Py_ssize_t(bin.size),
                                      "strict"));
  if (!in.code) return false;
  size_t size = 0;
  if (locals_ && enif_get_map_size(env_, locals_, &size) && size > 0) {
    in.locals = keep(to_python_kwargs(st, env_, locals_, "local variable names"));
    if (!in.locals) return false;
  }
  return true;
}

ERL_NIF_TERM RequestJob::error_from_python(ModuleState* st, const ReplyGate& gate) {
  PyErrorInfo e = fetch_error();
  if (e.keyboard_interrupt && gate.interrupted()) return enif_make_tuple2(env_, atoms.error, atoms.interrupted);
  return enif_make_tuple2(
      env_, atoms.error,
      enif_make_tuple2(env_, exception_atom(env_, e), make_binary(env_, e.message)));
}

void RequestJob::reply(Interpreter& interp, MessageKind kind, PyObject* result, ReplyGate& gate) {
  if (kind == MessageKind::task && result && is_awaitable(result)) {
    if (start_task(interp, result, gate)) return;
    result = nullptr;  // it could not start: answer with why (the exception set)
  }
  if (!reply_) {  // a cast: nobody waits for the answer
    release_python();
    PyErr_Clear();
    gate.claim();
    return;
  }
  ModuleState* st = state_of(interp);
  // Convert before claiming: a caller cancelling meanwhile must not wait for a big result.
  ERL_NIF_TERM answer;
  if (!result) {
    answer = error_from_python(st, gate);
  } else if (kind == MessageKind::exec) {
    answer = atoms.ok;
  } else {
    ERL_NIF_TERM value;
    answer = to_term(st, env_, result, &value) ? enif_make_tuple2(env_, atoms.ok, value)
                                               : error_from_python(st, gate);
  }
  release_python();
  deliver(answer, gate);
}

void RequestJob::deliver(ERL_NIF_TERM answer, ReplyGate& gate) {
  switch (gate.claim()) {
    case Delivery::deliver:
      if (!hand_over(answer, gate)) send(answer);
      break;
    case Delivery::abort: send(failure_term(env_, gate.abort_failure())); break;
    case Delivery::drop: break;
  }
}

bool RequestJob::hand_over(ERL_NIF_TERM answer, ReplyGate& gate) {
  const std::uint32_t generation = gate.ticket().generation;
  std::uint64_t expected = sync_word(generation, SyncState::waiting);
  if (sync_.load(std::memory_order_relaxed) != expected) return false;  // nobody waits
  // A big answer is not copied on the caller's scheduler: it goes as a message.
  const bool small = WorkMeter().add(env_, answer, Bytes::shared);
  answer_ = answer;
  if (!sync_.compare_exchange_strong(
          expected, sync_word(generation, small ? SyncState::handed : SyncState::declined),
          std::memory_order_acq_rel))
    return false;  // the caller gave up meanwhile
  if (!small) return false;
  gate.hand_over();  // the caller copies it, then finishes and releases the request
  return true;
}

bool RequestJob::start_task(Interpreter& interp, PyObject* awaitable, ReplyGate& gate) {
  auto* state = static_cast<InterpreterState*>(interp.user_data());
  if (!state->start_task) {
    py::Ref loop_module(PyImport_ImportModule("erlang._loop"));
    state->start_task = loop_module ? PyObject_GetAttrString(loop_module.get(), "_start_task") : nullptr;
    if (!state->start_task) return false;
  }
  py::Ref done(reply_ ? make_task_done(gate.ticket().packed()) : Py_NewRef(Py_None));
  py::Ref task(done ? PyObject_CallFunctionObjArgs(state->start_task, awaitable, done.get(), nullptr)
                    : nullptr);
  if (!task) {
    if (PyCoro_CheckExact(awaitable)) {  // never awaited: close it quietly
      PyObject *type, *value, *traceback;
      PyErr_Fetch(&type, &value, &traceback);
      py::Ref closed(PyObject_CallMethod(awaitable, "close", nullptr));
      PyErr_Clear();
      PyErr_Restore(type, value, traceback);
    }
    return false;
  }
  release_python();
  if (!reply_) {  // spawned: the loop reports a failure itself
    gate.claim();
    return true;
  }
  st_ = state->st;
  py::Ref done_now(PyObject_CallMethod(task.get(), "done", nullptr));
  if (done_now.get() == Py_True) {  // it never waited (an eager start): answer now
    complete_task(task.get(), gate);
    return true;
  }
  PyErr_Clear();
  running_task_ = task.release();
  gate.defer();
  return true;
}

void RequestJob::complete_task(PyObject* task, ReplyGate& gate) {
  Py_CLEAR(running_task_);
  ERL_NIF_TERM answer;
  py::Ref cancelled(PyObject_CallMethod(task, "cancelled", nullptr));
  if (cancelled && cancelled.get() == Py_True) {
    answer = enif_make_tuple2(env_, atoms.error, atoms.cancelled);
  } else {
    py::Ref value(cancelled ? PyObject_CallMethod(task, "result", nullptr) : nullptr);
    ERL_NIF_TERM term;
    answer = value && to_term(st_, env_, value.get(), &term) ? enif_make_tuple2(env_, atoms.ok, term)
                                                            : error_from_python(st_, gate);
  }
  deliver(answer, gate);
}

void RequestJob::cancel_deferred(Interpreter&) {
  if (!running_task_) return;
  py::Ref done(PyObject_CallMethod(running_task_, "cancel", nullptr));
  PyErr_Clear();  // a closed loop refuses: the task ends with it anyway
  Py_CLEAR(running_task_);
}

ERL_NIF_TERM failure_term(ErlNifEnv* env, const Failure& failure) {
  switch (failure.kind) {
    case FailureKind::overloaded:
      return enif_make_tuple2(env, atoms.error, atoms.overloaded);
    case FailureKind::context_died: {
      ERL_NIF_TERM reason = atoms.unknown;
      if (!failure.detail.empty() &&
          !enif_binary_to_term(env, reinterpret_cast<const unsigned char*>(failure.detail.data()),
                               failure.detail.size(), &reason, 0))
        reason = atoms.unknown;
      return enif_make_tuple2(env, atoms.error, enif_make_tuple2(env, atoms.context_died, reason));
    }
    case FailureKind::shutting_down:
      break;
  }
  return enif_make_tuple2(env, atoms.error, atoms.shutting_down);
}

void RequestJob::fail(const Failure& failure, ReplyGate& gate) {
  if (gate.claim() == Delivery::drop || !reply_) return;
  // The context thread may be using env_ right now (see Job::fail): answer from an env of
  // our own, reading only the request's identity.
  ErlNifEnv* env = enif_alloc_env();
  ERL_NIF_TERM ref = enif_make_copy(env, ref_);
  enif_send(current_caller_env(), &caller_, env,
            enif_make_tuple3(env, task_ ? atoms.async_result : atoms.py_result, ref,
                             failure_term(env, failure)));
  enif_free_env(env);
}

void RequestJob::send(ERL_NIF_TERM result) {
  // A caller that died meanwhile simply gets nothing (like `!` to a dead process).
  enif_send(current_caller_env(), &caller_, env_,
            enif_make_tuple3(env_, task_ ? atoms.async_result : atoms.py_result, ref_, result));
}

void RequestJob::recycle() noexcept {
  enif_clear_env(env_);
  sync_.store(0, std::memory_order_relaxed);
  answer_ = 0;
  task_ = false;
  st_ = nullptr;
  ref_ = module_ = function_ = args_ = kwargs_ = code_ = locals_ = 0;
}

}  // namespace epy::nif
