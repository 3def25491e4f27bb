// The shared state from Erlang.
// py_nif's functions of this domain (erlang_src/py_nif.erl documents each one) and their
// entries in the NIF's function table (beam/nif_main.cpp joins the domains' tables).
#pragma once

#include <erl_nif.h>

namespace epy::nif {

ERL_NIF_TERM nif_state_store(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM nif_state_fetch(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM nif_state_add(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM nif_state_keys(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM nif_state_remove(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM nif_state_clear(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM nif_state_cas(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM nif_state_subscribe(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM nif_state_unsubscribe(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM nif_state_limits(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);

inline constexpr ErlNifFunc kStateNifs[] = {
    {"state_store", 2, nif_state_store, 0},
    {"state_fetch", 1, nif_state_fetch, 0},
    {"state_add", 2, nif_state_add, 0},
    {"state_keys", 0, nif_state_keys, 0},
    {"state_remove", 1, nif_state_remove, 0},
    {"state_clear", 0, nif_state_clear, 0},
    {"state_cas", 3, nif_state_cas, 0},
    {"state_subscribe", 1, nif_state_subscribe, 0},
    {"state_unsubscribe", 1, nif_state_unsubscribe, 0},
    {"state_limits", 2, nif_state_limits, 0},
};

}  // namespace epy::nif
