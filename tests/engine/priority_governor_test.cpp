// The priority governor lowers threads whose stretch of running lasts, and the thread
// raises itself back when the stretch ends. Real threads, real nice values; no timing
// assertions beyond "eventually".
#include "engine/priority_governor.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <thread>

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace epy {
namespace {

int nice_of(long tid) {
  errno = 0;
  return getpriority(PRIO_PROCESS, id_t(tid));
}

long this_tid() { return long(syscall(SYS_gettid)); }

// Spins until `done` holds, at most 30 s.
template <class F>
bool eventually(F done) {
  const auto until = Clock::now() + 30s;
  while (!done()) {
    if (Clock::now() > until) return false;
    std::this_thread::sleep_for(200us);
  }
  return true;
}

TEST(PriorityGovernor, LowersALongStretchAndRaisesItBackWhenItEnds) {
  PriorityGovernor governor({PriorityMode::adaptive, 19, 2ms});
  std::atomic<bool> seen_low{false}, lowered_nice{false}, restored{false};
  int before = 0, after = 0;
  std::thread worker([&] {
    before = nice_of(this_tid());
    auto stretch = governor.enter();
    ASSERT_NE(stretch, nullptr);
    stretch->begin();
    // A CPU-bound request: runs until the governor has lowered it.
    seen_low = eventually([&] { return stretch->lowered(); });
    lowered_nice = nice_of(this_tid()) == 19;
    stretch->end();
    after = nice_of(this_tid());
    restored = !stretch->lowered();
    governor.leave(stretch);
  });
  worker.join();
  EXPECT_TRUE(seen_low);
  EXPECT_TRUE(lowered_nice);
  EXPECT_GE(governor.lowered_count(), 1u);
  if (governor.can_raise()) {
    EXPECT_TRUE(restored);
    EXPECT_EQ(after, before);
  } else {
    EXPECT_EQ(after, 19);  // documented: without the right to raise, it stays lowered
  }
}

TEST(PriorityGovernor, ShortStretchesAreNeverLowered) {
  PriorityGovernor governor({PriorityMode::adaptive, 19, 200ms});
  std::thread worker([&] {
    const int normal = nice_of(this_tid());
    auto stretch = governor.enter();
    for (int i = 0; i < 1000; ++i) {
      stretch->begin();
      stretch->end();
    }
    EXPECT_FALSE(stretch->lowered());
    EXPECT_EQ(nice_of(this_tid()), normal);
    governor.leave(stretch);
  });
  worker.join();
  EXPECT_EQ(governor.lowered_count(), 0u);
}

TEST(PriorityGovernor, AnEndedStretchIsNeverLeftLowered) {
  PriorityGovernor governor({PriorityMode::adaptive, 19, 1ms});
  std::thread worker([&] {
    const int normal = nice_of(this_tid());
    auto stretch = governor.enter();
    // Stretches of about the governor's interval: some get lowered as they end.
    for (int i = 0; i < 200; ++i) {
      stretch->begin();
      const auto until = Clock::now() + 1ms;
      while (Clock::now() < until) {
      }
      stretch->end();
    }
    stretch->settle();  // as a context thread does before it waits for work
    std::this_thread::sleep_for(10ms);
    // A lowering that raced with an end is undone by the governor, by the next end or by
    // settle(): nothing stays lowered (where priorities can be raised at all).
    if (governor.can_raise()) {
      EXPECT_FALSE(stretch->lowered());
      EXPECT_EQ(nice_of(this_tid()), normal);
    }
    governor.leave(stretch);
  });
  worker.join();
}

// A pressure gauge the test sets.
class FakePressure final : public CpuPressure {
 public:
  void mark() override { ++marks; }
  bool pressed() override { return on.load(); }
  std::size_t watched() const override { return 1; }
  std::atomic<bool> on{false};
  std::atomic<int> marks{0};
};

TEST(PriorityGovernor, ALongStretchIsLoweredOnlyWhileTheProtectedThreadsWait) {
  auto pressure = std::make_shared<FakePressure>();
  PriorityGovernor governor({PriorityMode::adaptive, 19, 1ms, pressure});
  std::thread worker([&] {
    auto stretch = governor.enter();
    stretch->begin();
    // Nobody waits for a core: however long it runs, it keeps its priority.
    ASSERT_TRUE(eventually([&] { return pressure->marks.load() >= 20; }));
    EXPECT_FALSE(stretch->lowered());
    // The schedulers are kept waiting now: it gives way.
    pressure->on = true;
    EXPECT_TRUE(eventually([&] { return stretch->lowered(); }));
    stretch->end();
    governor.leave(stretch);
  });
  worker.join();
  EXPECT_EQ(governor.lowered_count(), 1u);
}

TEST(PriorityGovernor, NormalModeNeverTouchesPriorities) {
  PriorityGovernor governor({PriorityMode::normal, 19, 1ms});
  std::thread worker([&] {
    const int normal = nice_of(this_tid());
    EXPECT_EQ(governor.enter(), nullptr);
    EXPECT_EQ(nice_of(this_tid()), normal);
  });
  worker.join();
}

TEST(PriorityGovernor, LowModeLowersEveryThreadAtOnce) {
  PriorityGovernor governor({PriorityMode::low, 15, 1ms});
  std::thread worker([&] {
    EXPECT_EQ(governor.enter(), nullptr);
    EXPECT_EQ(nice_of(this_tid()), 15);
  });
  worker.join();
}

}  // namespace
}  // namespace epy
