#include "nif/beam/scheduler_budget.hpp"

namespace epy::nif {

namespace {

std::atomic<std::uint64_t> g_hops[int(DirtySite::count_)];

constexpr const char* kSiteNames[] = {
    "call",         "cast",        "task",      "eval",         "state_store",     "state_fetch",
    "state_keys",   "state_clear", "state_cas", "channel_send", "channel_receive", "callback_reply",
    "context_stop",
};
static_assert(sizeof kSiteNames / sizeof kSiteNames[0] == std::size_t(DirtySite::count_));

}  // namespace

const char* to_string(DirtySite site) { return kSiteNames[int(site)]; }

std::uint64_t dirty_hops(DirtySite site) {
  return g_hops[int(site)].load(std::memory_order_relaxed);
}

ERL_NIF_TERM run_dirty(ErlNifEnv* env, DirtySite site, NifFunction fn, int argc,
                       const ERL_NIF_TERM argv[]) {
  g_hops[int(site)].fetch_add(1, std::memory_order_relaxed);
  return enif_schedule_nif(env, to_string(site), ERL_NIF_DIRTY_JOB_CPU_BOUND, fn, argc, argv);
}

void charge_units(ErlNifEnv* env, std::size_t units) {
  // Below 1% of a timeslice the call would cost more than it tells.
  if (units < kUnitsPerTimeslice / 100 || on_dirty_scheduler()) return;
  const std::size_t percent = units * 100 / kUnitsPerTimeslice;
  enif_consume_timeslice(env, int(percent > 100 ? 100 : percent));
}

void charge(ErlNifEnv* env, const WorkMeter& work) { charge_units(env, work.units()); }

}  // namespace epy::nif
