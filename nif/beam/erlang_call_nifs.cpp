// The Erlang side of Python calling Erlang (see bridge/erlang_calls.hpp and py_callback.erl).
#include "nif/beam/erlang_call_nifs.hpp"

#include <set>

#include "engine/python/python.hpp"
#include "nif/beam/arguments.hpp"
#include "nif/beam/scheduler_budget.hpp"
#include "nif/bridge/atoms.hpp"
#include "nif/bridge/nif_runtime.hpp"

namespace epy::nif {

// set_callback_handler(Pid | undefined, TimeoutMs) -> ok
ERL_NIF_TERM nif_set_callback_handler(ErlNifEnv* env, int, const ERL_NIF_TERM argv[]) {
  ErlNifPid pid;
  long timeout;
  if (!enif_get_long(env, argv[1], &timeout) || timeout < 0) return badarg(env, "timeout");
  if (enif_get_local_pid(env, argv[0], &pid))
    nif_runtime(env).erlang_calls.set_handler(&pid, timeout);
  else if (argv[0] == atoms.undefined)
    nif_runtime(env).erlang_calls.set_handler(nullptr, timeout);
  else
    return badarg(env, "handler");
  return atoms.ok;
}

// callback_names([binary()]) -> ok: the names Python may call.
ERL_NIF_TERM nif_callback_names(ErlNifEnv* env, int, const ERL_NIF_TERM argv[]) {
  std::set<std::string> names;
  ERL_NIF_TERM head, list = argv[0];
  while (enif_get_list_cell(env, list, &head, &list)) {
    ErlNifBinary bin;
    if (!enif_inspect_binary(env, head, &bin)) return badarg(env, "names");
    names.emplace(reinterpret_cast<const char*>(bin.data), bin.size);
  }
  nif_runtime(env).erlang_calls.set_names(std::move(names));
  return atoms.ok;
}

// callback_reply(Token, Result) -> ok | not_waiting. A big result is copied on a dirty
// scheduler.
ERL_NIF_TERM nif_callback_reply(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
  return within_budget(env, DirtySite::callback_reply, nif_callback_reply, argc, argv, {argv[1]},
                       Bytes::shared, [&] {
                         ErlNifUInt64 token;
                         if (!enif_get_uint64(env, argv[0], &token)) return badarg(env, "token");
                         return nif_runtime(env).erlang_calls.reply(token, argv[1])
                                    ? atoms.ok
                                    : enif_make_atom(env, "not_waiting");
                       });
}

}  // namespace epy::nif
