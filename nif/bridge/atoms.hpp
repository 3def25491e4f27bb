// Atoms the NIF uses, created once at load (atoms are immortal and valid in every env).
#pragma once

#include <erl_nif.h>

namespace epy::nif {

struct Atoms {
  ERL_NIF_TERM ok, error, true_, false_, none, nil, undefined;
  ERL_NIF_TERM nan, infinity, neg_infinity, bytes;
  ERL_NIF_TERM py_result, async_result, py_context_ready, py_context_stopped;
  ERL_NIF_TERM badarg, overloaded, shutting_down, context_died, no_context, interrupted;
  ERL_NIF_TERM cancelled, not_pending, all;
  ERL_NIF_TERM py_channel_ready, py_channel_room, busy, empty, closed, waiting;
  ERL_NIF_TERM subinterp, multi_executor, free_threaded;
  ERL_NIF_TERM normal, shutdown, killed, unknown;
  ERL_NIF_TERM args, kwargs, module, function, code, locals, context, options;
};

extern Atoms atoms;

void make_atoms(ErlNifEnv* env);

// A local pid as a term (erl_nif's enif_make_pid is a macro whose cast draws warnings).
inline ERL_NIF_TERM pid_term(const ErlNifPid& pid) { return pid.pid; }

// {error, Reason}. (Bad arguments: see beam/arguments.hpp.)
inline ERL_NIF_TERM error_tuple(ErlNifEnv* env, ERL_NIF_TERM reason) {
  return enif_make_tuple2(env, atoms.error, reason);
}

}  // namespace epy::nif
