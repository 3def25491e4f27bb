// erlang.state_changed(key) inside an event loop: a watch on one key of the shared state
// whose changes make an eventfd readable, so the loop learns of them through its own
// selector (loop.add_reader) from whatever thread made the change.
#pragma once

#include "engine/python/python.hpp"

namespace epy::nif {

// The spec of `_erlang._StateWatch(key)`: fileno(), consume() -> whether it fired,
// close(). The watch is registered from construction until close().
PyType_Spec* state_watch_spec();

}  // namespace epy::nif
