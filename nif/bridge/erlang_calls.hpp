// Python calling Erlang (erlang.call and the functions of py:register_function).
//
// Python sends {py_callback, Token, Name, Args, Ctx} to the py_callback process, which
// runs the function in a new Erlang process (bound to the calling context, so it may call
// back into it) and answers with py_nif:callback_reply(Token, Result). The caller waits
// for that answer: on a context's thread the context keeps serving its mailbox meanwhile
// (so callbacks may nest, to any depth); on other threads the thread sleeps without the GIL.
#pragma once

#include <erl_nif.h>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>

#include "engine/wake_signal.hpp"
#include "nif/bridge/owned_env.hpp"

namespace epy::nif {

// One call waiting for its answer (on a context's thread or a plain Python thread).
class ErlangCallWaiter {
 public:
  // callback_reply: keep the answer (copied into our env), once, and wake the waiter.
  void deliver(ERL_NIF_TERM result);
  // The caller, GIL held: until the answer came or the deadline (see WakeSignal).
  Context::WaitResult wait_until(Context::Clock::time_point deadline) {
    return signal_.wait_until(deadline);
  }
  void detach() { signal_.detach(); }  // the caller stopped waiting

  // The answer, once the wait said ready.
  ErlNifEnv* env() { return env_.get(); }
  ERL_NIF_TERM result() const { return result_; }

 private:
  WakeSignal signal_;
  std::mutex mutex_;  // one answer, even if the Erlang side answered twice
  OwnedEnv env_;
  ERL_NIF_TERM result_ = 0;
  bool answered_ = false;
};

class ErlangCalls {
 public:
  // The py_callback process, and how long calls from plain Python threads may wait.
  void set_handler(const ErlNifPid* pid, long timeout_ms);
  bool handler(ErlNifPid* out) const;
  long timeout_ms() const { return timeout_ms_.load(); }

  void set_names(std::set<std::string> names);
  bool registered(const std::string& name) const;

  std::uint64_t add_waiter(std::shared_ptr<ErlangCallWaiter> waiter);
  void remove_waiter(std::uint64_t token);
  // false when nobody waits for `token` any more (the call was interrupted).
  bool reply(std::uint64_t token, ERL_NIF_TERM result);

 private:
  std::atomic<ERL_NIF_TERM> handler_{0};
  std::atomic<long> timeout_ms_{30000};
  mutable std::mutex names_mutex_;
  std::set<std::string> names_;
  std::mutex waiters_mutex_;
  std::unordered_map<std::uint64_t, std::shared_ptr<ErlangCallWaiter>> waiters_;
  std::atomic<std::uint64_t> next_token_{1};
};

}  // namespace epy::nif
