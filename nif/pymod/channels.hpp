// Channels from Python: the `_erlang.Channel` type (erlang.channel.Channel derives from
// it) and its async receiver. A message is converted on the receiving thread, from the
// term the sender copied into it; a receiver waiting on a context's thread keeps the
// context serving its mailbox, and is woken through that mailbox.
#pragma once

#include <erl_nif.h>

#include "engine/python/python.hpp"
#include "nif/bridge/module_state.hpp"

namespace epy::nif {

// Creates the types and the ChannelClosed exception in the `_erlang` module (its exec).
bool add_channel_types(PyObject* module, ModuleState* st);
int traverse_channel_types(ModuleState* st, visitproc visit, void* arg);
void clear_channel_types(ModuleState* st);

// _set_channel_class(cls): the class receivers get (erlang.channel registers itself).
PyObject* py_set_channel_class(PyObject* module, PyObject* cls);

}  // namespace epy::nif
