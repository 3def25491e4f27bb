// Choosing a context for a caller that has none yet.
//
// Never blind round-robin: every hop to an idle context pays a thread wake-up (~20 us
// here). A caller goes to its preferred context (the one paired with its scheduler) unless
// another context has less work queued; the caller then sticks to its choice.
#pragma once

#include <cstddef>

namespace epy {

// `loads[i]` is context i's queue depth. Returns an index in [0, n); n must be > 0.
std::size_t pick_least_loaded(const std::size_t* loads, std::size_t n, std::size_t preferred);

}  // namespace epy
