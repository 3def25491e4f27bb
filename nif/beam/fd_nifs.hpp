// Descriptors handed from Erlang to Python.
// py_nif's functions of this domain (erlang_src/py_nif.erl documents each one) and their
// entries in the NIF's function table (beam/nif_main.cpp joins the domains' tables).
#pragma once

#include <erl_nif.h>

namespace epy::nif {

ERL_NIF_TERM nif_dup_fd(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM nif_handoff_fd(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM nif_close_fd(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);

inline constexpr ErlNifFunc kFdNifs[] = {
    {"dup_fd", 1, nif_dup_fd, 0},
    {"handoff_fd", 1, nif_handoff_fd, 0},
    {"close_fd", 1, nif_close_fd, 0},
};

}  // namespace epy::nif
