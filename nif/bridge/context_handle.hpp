// The NIF's view of one context: the engine context plus what the BEAM side needs around
// it (its owner process, who waits for it to finish, why it was stopped).
#pragma once

#include <erl_nif.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>
#include <vector>

#include "engine/context.hpp"
#include "nif/bridge/owned_env.hpp"

namespace epy::nif {

class ContextHandle {
 public:
  explicit ContextHandle(ErlNifPid owner) : owner_(owner) {}

  // Set right after construction: the context's callbacks need this object first.
  void attach(std::shared_ptr<Context> context) { context_ = std::move(context); }

  Context& context() { return *context_; }
  const ErlNifPid& owner() const { return owner_; }

  // Stops the context (once). `reason` is the owner's exit reason: normal, shutdown and
  // {shutdown, _} mean a deliberate stop (callers get shutting_down); anything else
  // means the context died (callers get {context_died, Reason}).
  void stop(ErlNifEnv* env, ERL_NIF_TERM reason);
  // The first half of stop(): records why (false if stopped already); the caller then
  // calls context().stop(*failure), on whichever thread should answer the pending requests.
  bool begin_stop(ErlNifEnv* env, ERL_NIF_TERM reason, Failure* failure);

  // The answer for a request that arrives after the stop.
  ERL_NIF_TERM refusal(ErlNifEnv* env);

  // Records `caller` as the latest to submit to the idle context; true if it was the
  // previous one too. A caller may wait for its answer in the NIF only then: a single
  // caller calling in a loop. Others interleaving (on its scheduler, too) must not wait
  // behind it.
  bool same_caller_again(ERL_NIF_TERM caller) {
    return last_caller_.exchange(caller, std::memory_order_relaxed) == caller;
  }

  // Sends {py_context_stopped, Ref} to `pid` once the context's thread has finished.
  void notify_when_finished(const ErlNifPid& pid, ERL_NIF_TERM ref);
  void finished();  // context thread, at the very end

 private:
  struct Waiter {
    ErlNifPid pid;
    OwnedEnv env;
    ERL_NIF_TERM ref;
  };
  void send_stopped(Waiter& w);

  std::shared_ptr<Context> context_;
  ErlNifPid owner_;
  std::atomic<ERL_NIF_TERM> last_caller_{0};
  std::mutex mutex_;
  bool stopped_ = false;
  Failure failure_;
  bool finished_ = false;
  std::vector<Waiter> waiters_;
};

// Contexts by the pid of their owning Erlang process (the Ctx users pass around).
class ContextRegistry {
 public:
  void add(const ErlNifPid& pid, std::shared_ptr<ContextHandle> context);
  void remove(const ErlNifPid& pid, const ContextHandle* expected);

  // Runs f(ContextHandle&) under the registry's read lock; false if there is no such context.
  // Keeping the lock while submitting makes the hot path free of reference counting.
  template <class F>
  bool with(ERL_NIF_TERM pid_term, F&& f) {
    std::shared_lock<std::shared_mutex> lock(mutex_);
    auto it = map_.find(pid_term);
    if (it == map_.end()) return false;
    f(*it->second);
    return true;
  }

  std::vector<std::shared_ptr<ContextHandle>> all();

 private:
  std::shared_mutex mutex_;
  std::unordered_map<ERL_NIF_TERM, std::shared_ptr<ContextHandle>> map_;
};

}  // namespace epy::nif
