#include "engine/least_loaded.hpp"

#include <gtest/gtest.h>

namespace epy {
namespace {

TEST(Router, IdleContextsKeepTheCallerOnItsPreferredOne) {
  std::size_t loads[4] = {0, 0, 0, 0};
  for (std::size_t p = 0; p < 4; ++p) EXPECT_EQ(pick_least_loaded(loads, 4, p), p);
}

TEST(Router, BusyPreferredContextSendsTheCallerToTheLeastLoaded) {
  std::size_t loads[4] = {5, 3, 1, 2};
  EXPECT_EQ(pick_least_loaded(loads, 4, 0), 2u);
  EXPECT_EQ(pick_least_loaded(loads, 4, 2), 2u);
}

TEST(Router, TiesGoToTheFirstContextAfterThePreferredOne) {
  std::size_t loads[4] = {3, 0, 0, 3};
  EXPECT_EQ(pick_least_loaded(loads, 4, 3), 1u);
  EXPECT_EQ(pick_least_loaded(loads, 4, 0), 1u);
}

TEST(Router, PreferredIndexWrapsAround) {
  std::size_t loads[3] = {0, 0, 0};
  EXPECT_EQ(pick_least_loaded(loads, 3, 7), 1u);
}

}  // namespace
}  // namespace epy
