#include "nif/bridge/request_job.hpp"

#include "engine/python/error.hpp"
#include "engine/python/python.hpp"
#include "nif/bridge/atoms.hpp"
#include "nif/bridge/caller_env.hpp"
#include "nif/bridge/convert.hpp"
#include "nif/bridge/interpreter_state.hpp"
#include "nif/bridge/owned_env.hpp"
#include "nif/bridge/term_cost.hpp"

namespace epy::nif {

namespace {

ModuleState* state_of(Interpreter& interp) { return interpreter_state(interp).st; }

}  // namespace

RequestJob::RequestJob() : env_(owned_env_.get()) {}

RequestJob::~RequestJob() = default;

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
  if (obj) owned_.emplace_back(obj);
  return obj;
}

void RequestJob::release_python() {
  owned_.clear();
  argv_.clear();
}

bool RequestJob::decode_call(Interpreter& interp, CallInput& in) {
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
  if (e.keyboard_interrupt && gate.interrupted())
    return enif_make_tuple2(env_, atoms.error, atoms.interrupted);
  if (gate.cancelled()) return enif_make_tuple2(env_, atoms.error, atoms.cancelled);
  return enif_make_tuple2(
      env_, atoms.error,
      enif_make_tuple2(env_, exception_atom(env_, e), make_binary(env_, e.message)));
}

void RequestJob::reply(Interpreter& interp, MessageKind kind, PyObject* result, ReplyGate& gate) {
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
    case Delivery::abort:
      send(failure_term(env_, gate.abort_failure()));
      break;
    case Delivery::drop:
      break;
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
  OwnedEnv owned;
  ErlNifEnv* env = owned.get();
  ERL_NIF_TERM ref = enif_make_copy(env, ref_);
  enif_send(current_caller_env(), &caller_, env,
            enif_make_tuple3(env, task_ ? atoms.async_result : atoms.py_result, ref,
                             failure_term(env, failure)));
}

void RequestJob::send(ERL_NIF_TERM result) {
  // A caller that died meanwhile simply gets nothing (like `!` to a dead process).
  enif_send(current_caller_env(), &caller_, env_,
            enif_make_tuple3(env_, task_ ? atoms.async_result : atoms.py_result, ref_, result));
}

void RequestJob::release_inputs() { release_python(); }

void RequestJob::recycle() noexcept {
  enif_clear_env(env_);
  sync_.store(0, std::memory_order_relaxed);
  answer_ = 0;
  task_ = false;
  ref_ = module_ = function_ = args_ = kwargs_ = code_ = locals_ = 0;
}

}  // namespace epy::nif
