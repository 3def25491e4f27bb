// The `_erlang` module's functions come from several topics (messaging, state, channels,
// the event loop, logging): each topic lists its own, pymod/module.cpp joins the lists.
#pragma once

#include <vector>

#include "engine/python/python.hpp"

// A PyMethodDef entry for a METH_FASTCALL function (the cast CPython's API wants).
#define EPY_FASTCALL(f) \
  reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(f)), METH_FASTCALL

namespace epy::nif {

using MethodList = std::vector<PyMethodDef>;

const MethodList& messaging_methods();
const MethodList& state_methods();
const MethodList& channel_methods();
const MethodList& event_loop_methods();
const MethodList& logging_methods();

}  // namespace epy::nif
