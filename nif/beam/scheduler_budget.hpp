// How much work a NIF may do on a normal scheduler, and what happens beyond.
//
// A normal scheduler must never be held for more than about a millisecond, whatever the
// size of the user's data. So every NIF that copies or walks user data measures it first
// (a walk that stops as soon as the budget is spent): within the budget the work runs
// right here, on the calling scheduler, and is charged to its timeslice
// (enif_consume_timeslice); beyond it, the NIF moves itself to a dirty CPU scheduler
// (enif_schedule_nif) and does the same work there. Small terms never pay a hop.
// (The measure, in units of about 10 ns: bridge/term_cost.hpp.)
#pragma once

#include <erl_nif.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <initializer_list>

#include "nif/bridge/term_cost.hpp"

namespace epy::nif {

// The NIFs that may move to a dirty scheduler, for the counters the tests read.
enum class DirtySite : int {
  call,
  cast,
  task,
  eval,
  state_store,
  state_fetch,
  state_keys,
  state_clear,
  state_cas,
  channel_send,
  channel_receive,
  callback_reply,
  context_stop,
  count_
};
const char* to_string(DirtySite site);
// How often each site moved to a dirty scheduler since the library was loaded.
std::uint64_t dirty_hops(DirtySite site);

using NifFunction = ERL_NIF_TERM (*)(ErlNifEnv*, int, const ERL_NIF_TERM[]);

// Runs `fn` with the same arguments on a dirty CPU scheduler (its result is the NIF's).
ERL_NIF_TERM run_dirty(ErlNifEnv* env, DirtySite site, NifFunction fn, int argc,
                       const ERL_NIF_TERM argv[]);

// Charges work done on a normal scheduler to the calling process's timeslice.
void charge(ErlNifEnv* env, const WorkMeter& work);
void charge_units(ErlNifEnv* env, std::size_t units);

// The usual shape of a NIF over user data: `body()` runs here when `data` fits the
// budget (and is charged for it), or `self` runs again on a dirty scheduler, where it
// fits. Measure before checking arguments: even checking a list walks it.
template <class Body>
ERL_NIF_TERM within_budget(ErlNifEnv* env, DirtySite site, NifFunction self, int argc,
                           const ERL_NIF_TERM argv[], std::initializer_list<ERL_NIF_TERM> data,
                           Bytes bytes, Body&& body) {
  WorkMeter work;
  if (!work.add(env, data, bytes)) return run_dirty(env, site, self, argc, argv);
  const ERL_NIF_TERM result = body();
  charge(env, work);
  return result;
}

}  // namespace epy::nif
