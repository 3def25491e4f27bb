// Requests to contexts: calls, evals, execs, casts, tasks; cancelling and interrupting.
// py_nif's functions of this domain (erlang_src/py_nif.erl documents each one) and their
// entries in the NIF's function table (beam/nif_main.cpp joins the domains' tables).
#pragma once

#include <erl_nif.h>

namespace epy::nif {

ERL_NIF_TERM nif_call(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM nif_call_async(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM nif_cast(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM nif_task(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM nif_spawn_task(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM nif_eval(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM nif_exec(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM nif_cancel(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM nif_interrupt(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);

inline constexpr ErlNifFunc kRequestNifs[] = {
    {"call", 6, nif_call, 0},
    {"call_async", 6, nif_call_async, 0},
    {"cast", 5, nif_cast, 0},
    {"task", 6, nif_task, 0},
    {"spawn_task", 5, nif_spawn_task, 0},
    {"eval", 4, nif_eval, 0},
    {"exec", 3, nif_exec, 0},
    {"cancel", 2, nif_cancel, 0},
    {"interrupt", 1, nif_interrupt, 0},
};

}  // namespace epy::nif
