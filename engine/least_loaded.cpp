#include "engine/least_loaded.hpp"

namespace epy {

std::size_t pick_least_loaded(const std::size_t* loads, std::size_t n, std::size_t preferred) {
  if (preferred >= n) preferred %= n;
  std::size_t best = preferred;
  // Scan starting after the preferred context so that ties spread out instead of all
  // landing on context 0.
  for (std::size_t k = 1; k < n; ++k) {
    const std::size_t i = (preferred + k) % n;
    if (loads[i] < loads[best]) best = i;
  }
  return best;
}

}  // namespace epy
