#include "nif/bridge/erlang_calls.hpp"

#include "engine/context.hpp"
#include "engine/python/python.hpp"

namespace epy::nif {

void ErlangCallWaiter::deliver(ERL_NIF_TERM result) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (answered_) return;
    answered_ = true;
    result_ = enif_make_copy(env_.get(), result);
  }
  signal_.fire();
}

void ErlangCalls::set_handler(const ErlNifPid* pid, long timeout_ms) {
  timeout_ms_.store(timeout_ms);
  handler_.store(pid ? pid->pid : 0);
}

bool ErlangCalls::handler(ErlNifPid* out) const {
  out->pid = handler_.load();
  return out->pid != 0;
}

void ErlangCalls::set_names(std::set<std::string> names) {
  std::lock_guard<std::mutex> lock(names_mutex_);
  names_ = std::move(names);
}

bool ErlangCalls::registered(const std::string& name) const {
  std::lock_guard<std::mutex> lock(names_mutex_);
  return names_.count(name) > 0;
}

std::uint64_t ErlangCalls::add_waiter(std::shared_ptr<ErlangCallWaiter> waiter) {
  const std::uint64_t token = next_token_.fetch_add(1);
  std::lock_guard<std::mutex> lock(waiters_mutex_);
  waiters_.emplace(token, std::move(waiter));
  return token;
}

void ErlangCalls::remove_waiter(std::uint64_t token) {
  std::shared_ptr<ErlangCallWaiter> waiter;
  {
    std::lock_guard<std::mutex> lock(waiters_mutex_);
    auto it = waiters_.find(token);
    if (it == waiters_.end()) return;
    waiter = std::move(it->second);
    waiters_.erase(it);
  }
  waiter->detach();
}

bool ErlangCalls::reply(std::uint64_t token, ERL_NIF_TERM result) {
  std::shared_ptr<ErlangCallWaiter> waiter;
  {
    std::lock_guard<std::mutex> lock(waiters_mutex_);
    auto it = waiters_.find(token);
    if (it == waiters_.end()) return false;
    waiter = it->second;
  }
  waiter->deliver(result);
  return true;
}

}  // namespace epy::nif
