// Contexts: creating, stopping, inspecting them; the engine; routing.
// py_nif's functions of this domain (erlang_src/py_nif.erl documents each one) and their
// entries in the NIF's function table (beam/nif_main.cpp joins the domains' tables).
#pragma once

#include <erl_nif.h>

namespace epy::nif {

ERL_NIF_TERM nif_engine_info(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM nif_context_create(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM nif_context_stop(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM nif_context_info(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM nif_context_pids(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM nif_pick(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);

inline constexpr ErlNifFunc kContextNifs[] = {
    {"engine_info", 0, nif_engine_info, 0},   {"context_create", 4, nif_context_create, 0},
    {"context_stop", 3, nif_context_stop, 0}, {"context_info", 1, nif_context_info, 0},
    {"context_pids", 0, nif_context_pids, 0}, {"pick", 2, nif_pick, 0},
};

}  // namespace epy::nif
