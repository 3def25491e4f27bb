// The shared state from Erlang: py:state_store/2, state_fetch/1, state_incr/decr,
// state_keys/0, state_remove/1, state_clear/0, state_cas/3, state_subscribe/1.
// Each runs on the calling scheduler: a lock and a hash lookup, no message; big values,
// many keys or many subscribers move the operation to a dirty scheduler (see
// scheduler_budget.hpp).
#include "nif/beam/state_nifs.hpp"

#include "engine/python/python.hpp"
#include "nif/beam/arguments.hpp"
#include "nif/beam/scheduler_budget.hpp"
#include "nif/bridge/atoms.hpp"
#include "nif/bridge/caller_env.hpp"
#include "nif/bridge/convert.hpp"
#include "nif/bridge/nif_runtime.hpp"
#include "nif/bridge/state_codec.hpp"

namespace epy::nif {

namespace {

ERL_NIF_TERM error(ErlNifEnv* env, const char* reason) {
  return enif_make_tuple2(env, atoms.error, enif_make_atom(env, reason));
}

ERL_NIF_TERM status_error(ErlNifEnv* env, StateStatus s) {
  switch (s) {
    case StateStatus::not_found:
      return error(env, "not_found");
    case StateStatus::not_integer:
      return error(env, "not_integer");
    case StateStatus::overflow:
      return error(env, "overflow");
    case StateStatus::full:
      return error(env, "full");
    case StateStatus::ok:
      break;
  }
  return atoms.ok;
}

StateStore& store(ErlNifEnv* env) { return nif_runtime(env).engine->state(); }

// The absent key and a stored `none` both match an expected `none` (Python's None).
bool none_like(ErlNifEnv* env, ERL_NIF_TERM t) { return t == atoms.none; }

// Work beyond the value itself: a message (a decoded copy of the value) per subscriber.
constexpr std::size_t kUnitsPerMessage = 8;
// Creating one key's binary, or freeing one entry.
constexpr std::size_t kUnitsPerKey = 16;
// Decoding the external format: a list of small integers takes 2 bytes an element.
constexpr std::size_t kEncodedBytesPerUnit = 2;

std::size_t announce_units(ErlNifEnv* env, const std::string& key, std::size_t value_units) {
  return nif_runtime(env).subscriptions.subscribers(key) * (kUnitsPerMessage + value_units);
}

}  // namespace

// state_store(Key, Value) -> ok | {error, {badarg, key | value} | full}
ERL_NIF_TERM nif_state_store(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
  std::string key;
  if (!state_key(env, argv[0], &key)) return badarg(env, "key");
  WorkMeter work;
  if (!work.add(env, argv[1], Bytes::copied) ||
      !work.add_units(announce_units(env, key, work.units())))
    return run_dirty(env, DirtySite::state_store, nif_state_store, argc, argv);
  StateValue value;
  if (!encode_state(env, argv[1], &value)) return badarg(env, "value");
  CallerEnvScope scope(env);
  const ERL_NIF_TERM result = status_error(env, store(env).set(key, std::move(value)));
  charge(env, work);
  return result;
}

// state_fetch(Key) -> {ok, Value} | {error, not_found | {badarg, key}}
ERL_NIF_TERM nif_state_fetch(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
  std::string key;
  if (!state_key(env, argv[0], &key)) return badarg(env, "key");
  StateValue value;
  StateStatus s = store(env).get(key, &value);
  if (s != StateStatus::ok) return status_error(env, s);
  WorkMeter work;
  if (!work.add_units(value.size() / kEncodedBytesPerUnit))  // fetched again there
    return run_dirty(env, DirtySite::state_fetch, nif_state_fetch, argc, argv);
  const ERL_NIF_TERM result = enif_make_tuple2(env, atoms.ok, decode_state(env, value));
  charge(env, work);
  return result;
}

// state_add(Key, Delta) -> NewValue | {error, {badarg, key | delta} | not_integer | overflow |
// full}
ERL_NIF_TERM nif_state_add(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
  std::string key;
  ErlNifSInt64 delta;
  if (!state_key(env, argv[0], &key)) return badarg(env, "key");
  if (!enif_get_int64(env, argv[1], &delta)) return badarg(env, "delta");
  WorkMeter work;
  if (!work.add_units(announce_units(env, key, 1)))
    return run_dirty(env, DirtySite::state_store, nif_state_add, argc, argv);
  charge(env, work);
  CallerEnvScope scope(env);
  std::int64_t result;
  StateStatus s = store(env).add(key, delta, &result);
  return s == StateStatus::ok ? enif_make_int64(env, result) : status_error(env, s);
}

// state_keys() -> [binary()]
ERL_NIF_TERM nif_state_keys(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
  WorkMeter work;
  if (!work.add_units(store(env).size() * kUnitsPerKey))
    return run_dirty(env, DirtySite::state_keys, nif_state_keys, argc, argv);
  charge(env, work);
  ERL_NIF_TERM list = enif_make_list(env, 0);
  for (const std::string& key : store(env).keys())
    list = enif_make_list_cell(env, make_binary(env, key), list);
  return list;
}

// state_remove(Key) -> ok | {error, {badarg, key}}
ERL_NIF_TERM nif_state_remove(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
  std::string key;
  if (!state_key(env, argv[0], &key)) return badarg(env, "key");
  WorkMeter work;
  if (!work.add_units(announce_units(env, key, 0)))
    return run_dirty(env, DirtySite::state_clear, nif_state_remove, argc, argv);
  charge(env, work);
  CallerEnvScope scope(env);
  store(env).remove(key);
  return atoms.ok;
}

// state_clear() -> ok
ERL_NIF_TERM nif_state_clear(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
  WorkMeter work;
  if (!work.add_units(store(env).size() * kUnitsPerKey +
                      nif_runtime(env).subscriptions.subscriptions() * kUnitsPerMessage))
    return run_dirty(env, DirtySite::state_clear, nif_state_clear, argc, argv);
  charge(env, work);
  CallerEnvScope scope(env);
  store(env).clear();
  return atoms.ok;
}

// state_cas(Key, Expected, New) -> true | false | {error, {badarg, key | value} | full}
ERL_NIF_TERM nif_state_cas(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
  std::string key;
  if (!state_key(env, argv[0], &key)) return badarg(env, "key");
  WorkMeter work;
  if (!work.add(env, {argv[1], argv[2]}, Bytes::copied) ||
      !work.add_units(announce_units(env, key, work.units())))
    return run_dirty(env, DirtySite::state_cas, nif_state_cas, argc, argv);
  charge(env, work);
  StateValue expected, desired;
  if (!encode_state(env, argv[1], &expected) || !encode_state(env, argv[2], &desired))
    return badarg(env, "value");
  CallerEnvScope scope(env);
  bool swapped = false;
  StateStatus s = store(env).compare_and_set(key, &expected, desired, &swapped);
  if (s == StateStatus::ok && !swapped && none_like(env, argv[1]))
    s = store(env).compare_and_set(key, nullptr, desired, &swapped);
  if (s != StateStatus::ok) return status_error(env, s);
  return swapped ? atoms.true_ : atoms.false_;
}

// state_limits(MaxEntries, MaxBytes) -> ok (0: unbounded)
ERL_NIF_TERM nif_state_limits(ErlNifEnv* env, int, const ERL_NIF_TERM argv[]) {
  unsigned long entries, bytes;
  if (!enif_get_ulong(env, argv[0], &entries) || !enif_get_ulong(env, argv[1], &bytes))
    return badarg(env, "limits");
  store(env).set_limits({entries, bytes});
  return atoms.ok;
}

// state_subscribe(Key) / state_unsubscribe(Key) -> ok | {error, {badarg, key}}
ERL_NIF_TERM nif_state_subscribe(ErlNifEnv* env, int, const ERL_NIF_TERM argv[]) {
  std::string key;
  if (!state_key(env, argv[0], &key)) return badarg(env, "key");
  ErlNifPid self;
  enif_self(env, &self);
  nif_runtime(env).subscriptions.subscribe(env, key, self);
  return atoms.ok;
}

ERL_NIF_TERM nif_state_unsubscribe(ErlNifEnv* env, int, const ERL_NIF_TERM argv[]) {
  std::string key;
  if (!state_key(env, argv[0], &key)) return badarg(env, "key");
  ErlNifPid self;
  enif_self(env, &self);
  nif_runtime(env).subscriptions.unsubscribe(env, key, self);
  return atoms.ok;
}

}  // namespace epy::nif
