// Where Python's logging records go.
// py_nif's functions of this domain (erlang_src/py_nif.erl documents each one) and their
// entries in the NIF's function table (beam/nif_main.cpp joins the domains' tables).
#pragma once

#include <erl_nif.h>

namespace epy::nif {

ERL_NIF_TERM nif_set_log_sink(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);

inline constexpr ErlNifFunc kLoggingNifs[] = {
    {"set_log_sink", 2, nif_set_log_sink, 0},
};

}  // namespace epy::nif
