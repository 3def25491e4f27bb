// Python calling Erlang: the handler process, the names, the answers.
// py_nif's functions of this domain (erlang_src/py_nif.erl documents each one) and their
// entries in the NIF's function table (beam/nif_main.cpp joins the domains' tables).
#pragma once

#include <erl_nif.h>

namespace epy::nif {

ERL_NIF_TERM nif_set_callback_handler(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM nif_callback_names(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM nif_callback_reply(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);

inline constexpr ErlNifFunc kErlangCallNifs[] = {
    {"set_callback_handler", 2, nif_set_callback_handler, 0},
    {"callback_names", 1, nif_callback_names, 0},
    {"callback_reply", 2, nif_callback_reply, 0},
};

}  // namespace epy::nif
