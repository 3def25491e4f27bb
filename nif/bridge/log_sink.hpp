// Where Python's logging records go: one Erlang process (py_logger), and the level below
// which records are not even sent. Process-wide, like the logger it feeds.
#pragma once

#include <erl_nif.h>

namespace epy::nif {

// `sink` nullptr: records are dropped.
void set_log_sink(const ErlNifPid* sink, int level);
int log_level();
// Sends {py_log, Level, LoggerName, Message, Meta} to the sink; false when there is none.
bool send_log(ErlNifEnv* msg_env, ERL_NIF_TERM message);

}  // namespace epy::nif
