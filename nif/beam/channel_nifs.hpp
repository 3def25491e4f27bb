// Channels from Erlang.
// py_nif's functions of this domain (erlang_src/py_nif.erl documents each one) and their
// entries in the NIF's function table (beam/nif_main.cpp joins the domains' tables).
#pragma once

#include <erl_nif.h>

namespace epy::nif {

ERL_NIF_TERM nif_channel_new(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM nif_channel_send(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM nif_channel_send_wait(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM nif_channel_receive(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM nif_channel_try_receive(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM nif_channel_cancel(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM nif_channel_close(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM nif_channel_info(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM nif_is_channel(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);

inline constexpr ErlNifFunc kChannelNifs[] = {
    {"channel_new", 1, nif_channel_new, 0},
    {"channel_send", 2, nif_channel_send, 0},
    {"channel_send_wait", 3, nif_channel_send_wait, 0},
    {"channel_receive", 2, nif_channel_receive, 0},
    {"channel_try_receive", 1, nif_channel_try_receive, 0},
    {"channel_cancel", 2, nif_channel_cancel, 0},
    {"channel_close", 1, nif_channel_close, 0},
    {"channel_info", 1, nif_channel_info, 0},
    {"is_channel", 1, nif_is_channel, 0},
};

}  // namespace epy::nif
