// A request from a BEAM process: its terms live in the job's own environment (copied at
// submit time, so the caller's heap is never touched from the context thread), and its
// reply goes back with enif_send as {py_result, Ref, Result}, Ref being the caller's own
// ({async_result, Ref, Result} for an asyncio task).
#pragma once

#include <erl_nif.h>

#include <atomic>
#include <vector>

#include "engine/job.hpp"
#include "engine/python/interpreter.hpp"
#include "engine/python/python.hpp"
#include "engine/request_table.hpp"
#include "nif/bridge/module_state.hpp"
#include "nif/bridge/owned_env.hpp"

namespace epy::nif {

// {error, Reason} for a request answered with a failure.
ERL_NIF_TERM failure_term(ErlNifEnv* env, const Failure& failure);

class RequestJob final : public Job {
 public:
  RequestJob();
  ~RequestJob() override;

  // Submitter side: copy the request out of the caller's env. `reply` false: a cast (or a
  // task nobody awaits). `task`: submitted as MessageKind::task, answered as async_result.
  void prepare_call(ErlNifEnv* caller_env, const ErlNifPid& caller, ERL_NIF_TERM ref,
                    ERL_NIF_TERM module, ERL_NIF_TERM function, ERL_NIF_TERM args,
                    ERL_NIF_TERM kwargs, bool reply, bool task = false);
  void prepare_code(ErlNifEnv* caller_env, const ErlNifPid& caller, ERL_NIF_TERM ref,
                    ERL_NIF_TERM code, ERL_NIF_TERM locals);

  // The process that made this request (erlang.self() in Python).
  const ErlNifPid& caller() const { return caller_; }

  // A caller that waits for its answer in the NIF call (see Context::sync_wait) instead of
  // receiving it. The job's word for it carries the request's generation, so that a
  // caller never mistakes a later request in the same slot for its own.
  enum class SyncState : std::uint8_t { none, waiting, handed, declined, gave_up };
  // Submitter side, before the request is queued.
  void expect_sync_caller(std::uint32_t generation) {
    sync_.store(sync_word(generation, SyncState::waiting), std::memory_order_relaxed);
  }
  // The waiting caller, any time: what became of its request `generation` (none: the slot
  // moved on, so the answer was sent as a message).
  SyncState sync_state(std::uint32_t generation) const {
    const std::uint64_t word = sync_.load(std::memory_order_acquire);
    return word >> 8 == generation ? SyncState(word & 0xff) : SyncState::none;
  }
  // The waiting caller stops waiting; false if the answer was handed over (or declined)
  // just now.
  bool give_up(std::uint32_t generation) {
    std::uint64_t expected = sync_word(generation, SyncState::waiting);
    return sync_.compare_exchange_strong(expected, sync_word(generation, SyncState::gave_up),
                                         std::memory_order_acq_rel);
  }
  // The handed-over answer ({ok, Value} | ok | {error, Reason}), in the job's env.
  ERL_NIF_TERM handed_answer() const { return answer_; }

  bool decode_call(Interpreter& interp, CallInput& in) override;
  bool decode_code(Interpreter& interp, CodeInput& in) override;
  void reply(Interpreter& interp, MessageKind kind, PyObject* result, ReplyGate& gate) override;
  void fail(const Failure& failure, ReplyGate& gate) override;
  void release_inputs() override;
  bool awaited() const override { return reply_; }
  void recycle() noexcept override;

 private:
  PyObject* keep(PyObject* obj);  // remembers a decoded object until reply()
  void release_python();
  ERL_NIF_TERM error_from_python(ModuleState* st, const ReplyGate& gate);
  void send(ERL_NIF_TERM result);
  void deliver(ERL_NIF_TERM answer, ReplyGate& gate);

  static std::uint64_t sync_word(std::uint32_t generation, SyncState state) {
    return (std::uint64_t(generation) << 8) | std::uint64_t(state);
  }
  // Context thread: a waiting caller takes the answer (true), or learns it comes as a
  // message (declined).
  bool hand_over(ERL_NIF_TERM answer, ReplyGate& gate);

  std::atomic<std::uint64_t> sync_{0};  // generation << 8 | SyncState
  ERL_NIF_TERM answer_ = 0;

  OwnedEnv owned_env_;
  ErlNifEnv* env_;  // owned_env_.get()
  ErlNifPid caller_{};
  bool reply_ = true;
  bool task_ = false;
  ERL_NIF_TERM ref_ = 0, module_ = 0, function_ = 0, args_ = 0, kwargs_ = 0, code_ = 0, locals_ = 0;
  std::vector<py::Ref> owned_;   // decoded objects, released in reply() (context thread)
  std::vector<PyObject*> argv_;  // borrowed from owned_: the call's positional arguments
};

}  // namespace epy::nif
