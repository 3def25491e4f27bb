// time.sleep() inside a context ends early when its request is interrupted or cancelled
// (a timeout) or the context stops: a pending call, the usual way an interrupt reaches
// Python, only lands between bytecodes, and a thread asleep in C runs none. Elsewhere
// (plain threads) time.sleep is CPython's own.
#pragma once

#include <string>

namespace epy {

// GIL held, once, before any context runs.
bool make_time_sleep_interruptible(std::string* error);

}  // namespace epy
