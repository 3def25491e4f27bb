// Waiting for a key of the shared state to change.
#pragma once

#include <string>

#include "engine/context.hpp"
#include "engine/state_store.hpp"

namespace epy {

// Blocks until `key` changes (set, counter step, compare-and-set or delete) or the
// deadline passes. Called with the GIL held. On a context's thread the context keeps
// serving its mailbox meanwhile (Context::serve_until); on any other thread the thread
// sleeps without the GIL.
Context::WaitResult wait_for_state_change(StateStore& store, const std::string& key,
                                          Context::Clock::time_point deadline);

}  // namespace epy
