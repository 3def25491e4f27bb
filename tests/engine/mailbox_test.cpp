#include "engine/mailbox.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace epy {
namespace {

TEST(Mailbox, KeepsOneProducersOrder) {
  Mailbox box(0us);
  for (std::uint32_t i = 0; i < 1000; ++i) box.push({MessageKind::call, i});
  Envelope out[64];
  std::uint32_t expected = 0;
  while (expected < 1000) {
    std::size_t n = box.pop(out, 64, 1s);
    ASSERT_GT(n, 0u);
    for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(out[i].slot, expected++);
  }
  EXPECT_EQ(box.try_pop(out, 64), 0u);
}

TEST(Mailbox, PopTimesOutWhenEmpty) {
  Mailbox box(10us);
  Envelope out[4];
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(box.pop(out, 4, 20ms), 0u);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 19ms);
}

TEST(Mailbox, ParkedConsumerWakesForAPush) {
  Mailbox box(0us);
  std::thread producer([&] {
    std::this_thread::sleep_for(20ms);  // long enough for the consumer to park
    box.push({MessageKind::stop, 7});
  });
  Envelope out[4];
  ASSERT_EQ(box.pop(out, 4, -1us), 1u);
  EXPECT_EQ(out[0].kind, MessageKind::stop);
  EXPECT_EQ(out[0].slot, 7u);
  producer.join();
}

// A consumer waiting for envelopes and descriptors at once (a context with an event loop).
class Pipe {
 public:
  Pipe() { EXPECT_EQ(pipe(fds_), 0); }
  ~Pipe() {
    close(fds_[0]);
    close(fds_[1]);
  }
  int read_end() const { return fds_[0]; }
  void write_byte() { EXPECT_EQ(write(fds_[1], "x", 1), 1); }

 private:
  int fds_[2];
};

TEST(Mailbox, DescriptorWaitReturnsWhenADescriptorIsReadable) {
  Mailbox box(0us);
  Pipe quiet, loud;
  std::thread writer([&] {
    std::this_thread::sleep_for(20ms);
    loud.write_byte();
  });
  const int fds[2] = {quiet.read_end(), loud.read_end()};
  unsigned ready = 0;
  Envelope out[4];
  EXPECT_EQ(box.pop_or_ready(out, 4, -1us, fds, 2, &ready), 0u);
  EXPECT_EQ(ready, 2u);  // bit 1: the second descriptor
  writer.join();
}

TEST(Mailbox, DescriptorWaitWakesForAPush) {
  Mailbox box(0us);
  Pipe never;
  std::thread producer([&] {
    std::this_thread::sleep_for(20ms);  // the consumer sleeps in ppoll() by now
    box.push({MessageKind::wake, 3});
  });
  const int fd = never.read_end();
  unsigned ready = 0;
  Envelope out[4];
  ASSERT_EQ(box.pop_or_ready(out, 4, -1us, &fd, 1, &ready), 1u);
  EXPECT_EQ(out[0].slot, 3u);
  EXPECT_EQ(ready, 0u);
  producer.join();
  // The wake-up left nothing behind: the next wait times out.
  EXPECT_EQ(box.pop_or_ready(out, 4, 10ms, &fd, 1, &ready), 0u);
  EXPECT_EQ(ready, 0u);
}

TEST(Mailbox, DescriptorWaitTimesOut) {
  Mailbox box(10us);
  Pipe never;
  const int fd = never.read_end();
  unsigned ready = 7;
  Envelope out[4];
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(box.pop_or_ready(out, 4, 20ms, &fd, 1, &ready), 0u);
  EXPECT_EQ(ready, 0u);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 19ms);
}

TEST(Mailbox, DescriptorWaitNeverMissesAPush) {
  // Producers race the consumer into and out of its descriptor waits.
  Mailbox box(0us);
  Pipe never;
  constexpr int kEach = 20000;
  std::thread producer([&] {
    for (int i = 0; i < kEach; ++i) box.push({MessageKind::call, std::uint32_t(i)});
  });
  const int fd = never.read_end();
  Envelope out[64];
  int got = 0;
  while (got < kEach) {
    unsigned ready = 0;
    std::size_t n = box.pop_or_ready(out, 64, 10s, &fd, 1, &ready);
    ASSERT_GT(n, 0u) << "a push was missed after " << got;
    for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(out[i].slot, std::uint32_t(got++));
  }
  producer.join();
}

TEST(Mailbox, ManyProducersLoseNothing) {
  Mailbox box;
  constexpr int kProducers = 8, kEach = 20000;
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p)
    producers.emplace_back([&, p] {
      for (int i = 0; i < kEach; ++i) box.push({MessageKind::call, std::uint32_t(p * kEach + i)});
    });
  std::vector<int> seen(kProducers * kEach, 0);
  std::vector<int> last(kProducers, -1);
  Envelope out[64];
  int received = 0;
  while (received < kProducers * kEach) {
    std::size_t n = box.pop(out, 64, 5s);
    ASSERT_GT(n, 0u);
    for (std::size_t i = 0; i < n; ++i) {
      const int v = int(out[i].slot);
      ++seen[v];
      // Per producer, envelopes arrive in the order they were pushed.
      EXPECT_GT(v % kEach, last[v / kEach]);
      last[v / kEach] = v % kEach;
    }
    received += int(n);
  }
  for (auto& t : producers) t.join();
  for (int c : seen) ASSERT_EQ(c, 1);
}

// The adaptive wait: a consumer whose producer is slow (descheduled, or just not quick)
// stops spinning and parks, and still gets every envelope; one whose producer answers at
// once keeps spinning and finds its envelopes while spinning.
TEST(Mailbox, ParksWhenTheProducerIsDescheduledAndStillAnswers) {
  Mailbox box(20us);
  ASSERT_EQ(box.spin_policy().budget(), 20us);
  constexpr int kItems = 20;
  std::thread producer([&] {
    for (int i = 0; i < kItems; ++i) {
      std::this_thread::sleep_for(2ms);  // far longer than any spin
      box.push({MessageKind::call, std::uint32_t(i)});
    }
  });
  Envelope out[4];
  for (int i = 0; i < kItems; ++i) {
    ASSERT_EQ(box.pop(out, 4, 10s), 1u);
    EXPECT_EQ(out[0].slot, std::uint32_t(i));
  }
  producer.join();
  EXPECT_EQ(box.spin_policy().budget(), 0us);
  EXPECT_GE(box.parked_waits(), std::uint64_t(kItems - 2));
}

TEST(Mailbox, EnvelopesPushedWhileTheConsumerWaitsCarryTheirPushTime) {
  Mailbox box;
  box.push({MessageKind::call, 1});  // nobody waits: not stamped (the producer saves a clock read)
  Envelope out[1];
  ASSERT_EQ(box.try_pop(out, 1), 1u);
  EXPECT_EQ(out[0].pushed_ns, 0);

  std::thread consumer([&] { ASSERT_EQ(box.pop(out, 1, 10s), 1u); });
  while (!box.consumer_waits()) std::this_thread::yield();
  const auto before = std::chrono::steady_clock::now().time_since_epoch();
  box.push({MessageKind::call, 2});
  const auto after = std::chrono::steady_clock::now().time_since_epoch();
  consumer.join();
  EXPECT_EQ(out[0].slot, 2u);
  EXPECT_GE(out[0].pushed_ns, std::chrono::duration_cast<std::chrono::nanoseconds>(before).count());
  EXPECT_LE(out[0].pushed_ns, std::chrono::duration_cast<std::chrono::nanoseconds>(after).count());
}

TEST(Mailbox, DescriptorWaitsTeachThePolicyToo) {
  Mailbox box(20us);
  Pipe quiet;
  const int fd = quiet.read_end();
  std::thread producer([&] {
    for (int i = 0; i < 10; ++i) {
      std::this_thread::sleep_for(2ms);
      box.push({MessageKind::call, std::uint32_t(i)});
    }
  });
  Envelope out[4];
  unsigned ready = 0;
  for (int i = 0; i < 10; ++i) ASSERT_EQ(box.pop_or_ready(out, 4, 10s, &fd, 1, &ready), 1u);
  producer.join();
  EXPECT_EQ(box.spin_policy().budget(), 0us);
}

}  // namespace
}  // namespace epy
