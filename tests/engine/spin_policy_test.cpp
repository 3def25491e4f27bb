// SpinPolicy learns from what a consumer sees; here it is fed those observations directly.
#include "engine/spin_policy.hpp"

#include <gtest/gtest.h>

using namespace std::chrono_literals;

namespace epy {
namespace {

TEST(SpinPolicy, StartsOutSpinning) {
  SpinPolicy policy(20us);
  EXPECT_EQ(policy.budget(), 20us);
}

TEST(SpinPolicy, KeepsSpinningWhileItemsComeQuicklyAndWakeUpsAreDear) {
  SpinPolicy policy(20us);
  for (int i = 0; i < 100; ++i) {
    policy.saw_gap(2us);
    policy.saw_wake(25us);
  }
  EXPECT_EQ(policy.budget(), 20us);
}

TEST(SpinPolicy, StopsSpinningWhenSpinsMissTheNextItem) {
  // The producer is descheduled (or simply slow): every item comes after the spin ended.
  SpinPolicy policy(20us);
  int waits = 0;
  while (policy.budget() != 0us && waits < 100) {
    policy.saw_gap(5ms);
    ++waits;
  }
  EXPECT_EQ(policy.budget(), 0us);
  EXPECT_LT(waits, 10);  // within a few waits
}

TEST(SpinPolicy, ParksWhenWakeUpsAreCheapEvenIfItemsComeQuickly) {
  // Every core busy: a wake-up is a quick preemption, and a spinner would hold the core
  // the producer needs.
  SpinPolicy policy(20us);
  for (int i = 0; i < 30; ++i) {
    policy.saw_gap(3us);
    policy.saw_wake(1500ns);
  }
  EXPECT_EQ(policy.budget(), 0us);
}

TEST(SpinPolicy, SpinsAgainOnceWakeUpsBecomeDear) {
  SpinPolicy policy(20us);
  for (int i = 0; i < 30; ++i) policy.saw_wake(1us);
  ASSERT_EQ(policy.budget(), 0us);
  for (int i = 0; i < 30; ++i) {
    policy.saw_gap(2us);  // parked, but the item came quickly: a spin would have caught it
    policy.saw_wake(22us);
  }
  EXPECT_EQ(policy.budget(), 20us);
}

TEST(SpinPolicy, SpinsAsLongAsAWakeUpCostsAtMostTheMaximum) {
  SpinPolicy policy(100us);
  for (int i = 0; i < 60; ++i) {
    policy.saw_gap(2us);
    policy.saw_wake(40us);
  }
  EXPECT_GE(policy.budget(), 38us);
  EXPECT_LE(policy.budget(), 40us);
  for (int i = 0; i < 60; ++i) policy.saw_wake(400us);
  EXPECT_EQ(policy.budget(), 100us);
}

TEST(SpinPolicy, AGapLongerThanTheSpinButShorterThanTheMaximumIsAMiss) {
  SpinPolicy policy(100us);
  for (int i = 0; i < 60; ++i) policy.saw_wake(30us);
  for (int i = 0; i < 30; ++i) policy.saw_gap(60us);  // a 30 us spin would not catch it
  EXPECT_EQ(policy.budget(), 0us);
}

TEST(SpinPolicy, OneLongDeschedulingDoesNotDecideAlone) {
  SpinPolicy policy(20us);
  for (int i = 0; i < 30; ++i) policy.saw_wake(1us);
  policy.saw_wake(10s);  // clamped
  EXPECT_LT(policy.wake_estimate(), 30ms);
}

TEST(SpinPolicy, ZeroMaximumNeverSpins) {
  SpinPolicy policy(0us);
  policy.saw_gap(0us);
  policy.saw_wake(50us);
  EXPECT_EQ(policy.budget(), 0us);
}

}  // namespace
}  // namespace epy
