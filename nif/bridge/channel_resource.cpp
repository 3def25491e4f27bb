#include "nif/bridge/channel_resource.hpp"

#include <atomic>
#include <new>

#include "nif/bridge/atoms.hpp"
#include "nif/bridge/caller_env.hpp"
#include "nif/bridge/owned_env.hpp"

namespace epy::nif {

namespace {

ErlNifResourceType* g_channel_type = nullptr;
std::atomic<long> g_live_channels{0};

void channel_dtor(ErlNifEnv*, void* obj) {
  static_cast<ChannelResource*>(obj)->~ChannelResource();
  g_live_channels.fetch_sub(1, std::memory_order_relaxed);
}

// A waiting process died: drop its waiters (a wake-up it got goes to the next waiter).
void channel_down(ErlNifEnv* env, void* obj, ErlNifPid* pid, ErlNifMonitor* monitor) {
  auto* res = static_cast<ChannelResource*>(obj);
  std::lock_guard<std::mutex> lock(res->waiters_mutex);
  for (auto it = res->waiters.begin(); it != res->waiters.end();) {
    ErlangWaiter& w = *it->second;
    if (enif_compare_monitors(&w.monitor, monitor) == 0) {
      if (w.kind == WaitKind::receive)
        res->channel.stop_waiting(&w);
      else
        res->channel.stop_waiting_for_room(&w);
      it = res->waiters.erase(it);
    } else {
      ++it;
    }
  }
}

std::uint64_t wait_key(const ErlNifPid& pid, ERL_NIF_TERM tag) {
  const std::uint64_t a = enif_hash(ERL_NIF_INTERNAL_HASH, tag, 0x9e3779b9u);
  const std::uint64_t b = enif_hash(ERL_NIF_INTERNAL_HASH, pid_term(pid), 0x85ebca6bu);
  return (a << 32) ^ b;
}

}  // namespace

ErlangWaiter::ErlangWaiter(const ErlNifPid& p, ERL_NIF_TERM tag, WaitKind k)
    : pid(p), kind(k), tag_(enif_make_copy(env_.get(), tag)) {}

ErlangWaiter::~ErlangWaiter() = default;

bool ErlangWaiter::notify() {
  OwnedEnv msg_env;
  ERL_NIF_TERM msg = enif_make_tuple2(
      msg_env.get(), kind == WaitKind::receive ? atoms.py_channel_ready : atoms.py_channel_room,
      enif_make_copy(msg_env.get(), tag_));
  return enif_send(current_caller_env(), &pid, msg_env.get(), msg) !=
         0;  // false: it is gone  // false: the process is gone
}

bool open_channel_resource_type(ErlNifEnv* env) {
  ErlNifResourceTypeInit init = {};
  init.dtor = channel_dtor;
  init.down = channel_down;
  g_channel_type = enif_open_resource_type_x(
      env, "py_channel", &init, ErlNifResourceFlags(ERL_NIF_RT_CREATE | ERL_NIF_RT_TAKEOVER),
      nullptr);
  return g_channel_type != nullptr;
}

ChannelResource* new_channel(std::size_t max_bytes) {
  void* mem = enif_alloc_resource(g_channel_type, sizeof(ChannelResource));
  if (!mem) return nullptr;
  g_live_channels.fetch_add(1, std::memory_order_relaxed);
  return new (mem) ChannelResource(max_bytes);
}

long live_channels() { return g_live_channels.load(std::memory_order_relaxed); }

bool get_channel(ErlNifEnv* env, ERL_NIF_TERM term, ChannelResource** out) {
  void* obj;
  if (!g_channel_type || !enif_get_resource(env, term, g_channel_type, &obj)) return false;
  *out = static_cast<ChannelResource*>(obj);
  return true;
}

ERL_NIF_TERM channel_term(ErlNifEnv* env, ChannelResource* res) {
  return enif_make_resource(env, res);
}
void keep_channel(ChannelResource* res) { enif_keep_resource(res); }
void release_channel(ChannelResource* res) { enif_release_resource(res); }

ErlangWaiter* erlang_waiter(ErlNifEnv* env, ChannelResource* res, ERL_NIF_TERM tag, WaitKind kind,
                            std::uint64_t* key) {
  ErlNifPid self;
  enif_self(env, &self);
  *key = wait_key(self, tag);
  auto it = res->waiters.find(*key);
  if (it != res->waiters.end()) return it->second.get();
  auto w = std::make_unique<ErlangWaiter>(self, tag, kind);
  if (enif_monitor_process(env, res, &self, &w->monitor) != 0) return nullptr;
  return res->waiters.emplace(*key, std::move(w)).first->second.get();
}

void drop_erlang_waiter(ErlNifEnv* env, ChannelResource* res, std::uint64_t key) {
  auto it = res->waiters.find(key);
  if (it == res->waiters.end()) return;
  ErlangWaiter& w = *it->second;
  if (w.kind == WaitKind::receive)
    res->channel.stop_waiting(&w);
  else
    res->channel.stop_waiting_for_room(&w);
  enif_demonitor_process(env, res, &w.monitor);
  res->waiters.erase(it);
}

}  // namespace epy::nif

namespace epy::nif {

void drop_erlang_waiter_by_tag(ErlNifEnv* env, ChannelResource* res, ERL_NIF_TERM tag) {
  ErlNifPid self;
  enif_self(env, &self);
  drop_erlang_waiter(env, res, wait_key(self, tag));
}

}  // namespace epy::nif
