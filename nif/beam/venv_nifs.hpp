// The virtual environment setting.
// py_nif's functions of this domain (erlang_src/py_nif.erl documents each one) and their
// entries in the NIF's function table (beam/nif_main.cpp joins the domains' tables).
#pragma once

#include <erl_nif.h>

namespace epy::nif {

ERL_NIF_TERM nif_set_venv(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM nif_venv(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);

inline constexpr ErlNifFunc kVenvNifs[] = {
    {"set_venv", 2, nif_set_venv, 0},
    {"venv", 0, nif_venv, 0},
};

}  // namespace epy::nif
