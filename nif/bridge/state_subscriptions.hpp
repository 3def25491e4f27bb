// Erlang processes subscribed to keys of the shared state (py:state_subscribe/1). Every
// change, from Erlang or any context, sends them {py_state, Key, {set, Value} | deleted}.
// Subscribers are monitored: one that dies is dropped.
#pragma once

#include <erl_nif.h>

#include <atomic>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/state_store.hpp"

namespace epy::nif {

class StateSubscriptions : public StateWatcher {
 public:
  bool open_resource_type(ErlNifEnv* env);

  void subscribe(ErlNifEnv* env, const std::string& key, const ErlNifPid& pid);
  void unsubscribe(ErlNifEnv* env, const std::string& key, const ErlNifPid& pid);
  void drop(const ErlNifPid& pid);  // the subscriber died

  void state_changed(const std::string& key, const StateValue* value) override;

  // Subscribers of `key`, and subscriptions in all (what a change will cost to announce).
  std::size_t subscribers(const std::string& key);
  std::size_t subscriptions() const { return subscriptions_.load(std::memory_order_relaxed); }

 private:
  struct Subscriber {
    void* monitor_resource;  // keeps the monitor alive while the pid has subscriptions
    std::set<std::string> keys;
  };
  void forget_locked(ErlNifEnv* env, ERL_NIF_TERM pid_term, Subscriber& s);

  ErlNifResourceType* resource_type_ = nullptr;
  std::mutex mutex_;
  std::unordered_map<std::string, std::vector<ERL_NIF_TERM>> by_key_;  // key -> local pids
  std::unordered_map<ERL_NIF_TERM, Subscriber> by_pid_;
  std::atomic<std::size_t> subscriptions_{0};
};

}  // namespace epy::nif
