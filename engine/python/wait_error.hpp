// A request's wait inside its context (Context::serve_until, sleep_until) that was cut
// short, seen from Python: KeyboardInterrupt when the request is interrupted (or
// cancelled), RuntimeError("the context is stopping") when its context stops. Every
// Python-facing wait (time.sleep, state_wait, erlang.call, channels, the event loop)
// reports these two the same way; a timeout each reports in its own words.
#pragma once

#include "engine/context.hpp"

namespace epy {

// GIL held. Raises and returns true for interrupted and stopping; returns false, raising
// nothing, for ready and timed_out.
bool raise_if_cut_short(Context::WaitResult result);

}  // namespace epy
