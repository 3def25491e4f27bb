#include "nif/bridge/state_subscriptions.hpp"

#include <algorithm>

#include "nif/bridge/atoms.hpp"
#include "nif/bridge/caller_env.hpp"
#include "nif/bridge/convert.hpp"
#include "nif/bridge/owned_env.hpp"
#include "nif/bridge/state_codec.hpp"

namespace epy::nif {

namespace {

struct MonitorResource {
  StateSubscriptions* owner;
  ErlNifPid pid;
  ErlNifMonitor monitor;
};

void monitor_down(ErlNifEnv*, void* obj, ErlNifPid* pid, ErlNifMonitor*) {
  auto* res = static_cast<MonitorResource*>(obj);
  res->owner->drop(*pid);
}

}  // namespace

bool StateSubscriptions::open_resource_type(ErlNifEnv* env) {
  ErlNifResourceTypeInit init = {};
  init.down = monitor_down;
  resource_type_ = enif_open_resource_type_x(
      env, "py_state_subscriber", &init,
      ErlNifResourceFlags(ERL_NIF_RT_CREATE | ERL_NIF_RT_TAKEOVER), nullptr);
  return resource_type_ != nullptr;
}

void StateSubscriptions::subscribe(ErlNifEnv* env, const std::string& key, const ErlNifPid& pid) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = by_pid_.find(pid.pid);
  if (it == by_pid_.end()) {
    auto* res =
        static_cast<MonitorResource*>(enif_alloc_resource(resource_type_, sizeof(MonitorResource)));
    res->owner = this;
    res->pid = pid;
    if (enif_monitor_process(env, res, &pid, &res->monitor) != 0) {  // already dead
      enif_release_resource(res);
      return;
    }
    it = by_pid_.emplace(pid.pid, Subscriber{res, {}}).first;
  }
  if (it->second.keys.insert(key).second) {
    by_key_[key].push_back(pid.pid);
    subscriptions_.fetch_add(1);
  }
}

void StateSubscriptions::forget_locked(ErlNifEnv* env, ERL_NIF_TERM pid_term, Subscriber& s) {
  for (const std::string& key : s.keys) {
    auto k = by_key_.find(key);
    if (k == by_key_.end()) continue;
    k->second.erase(std::remove(k->second.begin(), k->second.end(), pid_term), k->second.end());
    if (k->second.empty()) by_key_.erase(k);
    subscriptions_.fetch_sub(1);
  }
  auto* res = static_cast<MonitorResource*>(s.monitor_resource);
  if (env) enif_demonitor_process(env, res, &res->monitor);
  enif_release_resource(res);
}

void StateSubscriptions::unsubscribe(ErlNifEnv* env, const std::string& key, const ErlNifPid& pid) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = by_pid_.find(pid.pid);
  if (it == by_pid_.end() || !it->second.keys.count(key)) return;
  auto k = by_key_.find(key);
  if (k != by_key_.end()) {
    k->second.erase(std::remove(k->second.begin(), k->second.end(), pid.pid), k->second.end());
    if (k->second.empty()) by_key_.erase(k);
  }
  subscriptions_.fetch_sub(1);
  it->second.keys.erase(key);
  if (it->second.keys.empty()) {
    forget_locked(env, pid.pid, it->second);  // no keys left: forget_locked only demonitors
    by_pid_.erase(it);
  }
}

void StateSubscriptions::drop(const ErlNifPid& pid) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = by_pid_.find(pid.pid);
  if (it == by_pid_.end()) return;
  forget_locked(nullptr, pid.pid, it->second);  // the monitor has fired already
  by_pid_.erase(it);
}

std::size_t StateSubscriptions::subscribers(const std::string& key) {
  if (subscriptions() == 0) return 0;
  std::lock_guard<std::mutex> lock(mutex_);
  auto k = by_key_.find(key);
  return k == by_key_.end() ? 0 : k->second.size();
}

void StateSubscriptions::state_changed(const std::string& key, const StateValue* value) {
  if (subscriptions_.load(std::memory_order_relaxed) == 0) return;
  std::lock_guard<std::mutex> lock(mutex_);
  auto k = by_key_.find(key);
  if (k == by_key_.end()) return;
  for (ERL_NIF_TERM pid_term : k->second) {
    OwnedEnv owned;
    ErlNifEnv* env = owned.get();
    ERL_NIF_TERM change =
        value ? enif_make_tuple2(env, enif_make_atom(env, "set"), decode_state(env, *value))
              : enif_make_atom(env, "deleted");
    ERL_NIF_TERM msg =
        enif_make_tuple3(env, enif_make_atom(env, "py_state"), make_binary(env, key), change);
    ErlNifPid pid;
    pid.pid = pid_term;
    enif_send(current_caller_env(), &pid, env, msg);
  }
}

}  // namespace epy::nif
