#include "nif/bridge/log_sink.hpp"

#include <atomic>

#include "nif/bridge/caller_env.hpp"

namespace epy::nif {

namespace {
// A local pid is an immediate term; 0 means no sink. Plain atomics: nothing to destroy.
std::atomic<ERL_NIF_TERM> g_sink{0};
std::atomic<int> g_level{30};  // logging.WARNING
}  // namespace

void set_log_sink(const ErlNifPid* sink, int level) {
  g_level.store(level, std::memory_order_relaxed);
  g_sink.store(sink ? sink->pid : 0, std::memory_order_release);
}

int log_level() { return g_level.load(std::memory_order_relaxed); }

bool send_log(ErlNifEnv* msg_env, ERL_NIF_TERM message) {
  ErlNifPid sink;
  sink.pid = g_sink.load(std::memory_order_acquire);
  if (!sink.pid) return false;
  return enif_send(current_caller_env(), &sink, msg_env, message);
}

}  // namespace epy::nif
