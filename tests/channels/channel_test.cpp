// The channel core on its own: order, exactly-once delivery under threads, waiting
// receivers and senders, hand-on of wake-ups, close and the byte bound.
#include "channels/channel.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#include "channels/thread_waiter.hpp"

using namespace std::chrono_literals;

namespace epy::channels {
namespace {

using Clock = ThreadWaiter::Clock;

std::atomic<int> g_freed{0};

// A message: one integer, `bytes` as its size.
Payload message(long value, std::size_t bytes = 8) {
  return Payload(new long(value), bytes, [](void* p) {
    delete static_cast<long*>(p);
    g_freed.fetch_add(1);
  });
}

long value_of(const Payload& p) { return *static_cast<long*>(p.data()); }

Clock::time_point in(std::chrono::milliseconds d) { return Clock::now() + d; }

// Counts notifications; can play a receiver that is gone for good.
class CountingWaiter final : public ChannelWaiter {
 public:
  explicit CountingWaiter(bool alive = true) : alive_(alive) {}
  bool notify() override {
    ++count;
    return alive_;
  }
  int count = 0;

 private:
  bool alive_;
};

TEST(Channel, KeepsOrderAndReportsEmptyAndClosed) {
  Channel ch;
  for (long i = 0; i < 100; ++i) {
    Payload m = message(i);
    ASSERT_EQ(ch.send(m), Channel::SendResult::ok);
    EXPECT_FALSE(m);  // taken
  }
  Payload out;
  for (long i = 0; i < 100; ++i) {
    ASSERT_EQ(ch.try_receive(&out), Channel::ReceiveResult::received);
    EXPECT_EQ(value_of(out), i);
  }
  EXPECT_EQ(ch.try_receive(&out), Channel::ReceiveResult::empty);
}

TEST(Channel, CloseDeliversWhatIsQueuedThenReportsClosed) {
  Channel ch;
  Payload a = message(1), b = message(2);
  ch.send(a);
  ch.send(b);
  ch.close();
  Payload c = message(3);
  EXPECT_EQ(ch.send(c), Channel::SendResult::closed);
  EXPECT_TRUE(c);  // not taken
  Payload out;
  ASSERT_EQ(ch.try_receive(&out), Channel::ReceiveResult::received);
  EXPECT_EQ(value_of(out), 1);
  ASSERT_EQ(receive_blocking(ch, &out, in(1s)), BlockingResult::done);
  EXPECT_EQ(value_of(out), 2);
  EXPECT_EQ(ch.try_receive(&out), Channel::ReceiveResult::closed);
  EXPECT_EQ(receive_blocking(ch, &out, in(1s)), BlockingResult::closed);
}

TEST(Channel, AWaitingReceiverGetsTheNextMessage) {
  Channel ch;
  std::atomic<long> got{-1};
  std::thread receiver([&] {
    Payload out;
    if (receive_blocking(ch, &out, Clock::time_point::max()) == BlockingResult::done)
      got = value_of(out);
  });
  while (ch.info().receivers == 0) std::this_thread::sleep_for(1ms);
  Payload m = message(42);
  ch.send(m);
  receiver.join();
  EXPECT_EQ(got.load(), 42);
  EXPECT_EQ(ch.info().receivers, 0u);
}

TEST(Channel, CloseWakesEveryWaiter) {
  Channel ch;
  std::atomic<int> closed{0};
  std::vector<std::thread> receivers;
  for (int i = 0; i < 8; ++i)
    receivers.emplace_back([&] {
      Payload out;
      if (receive_blocking(ch, &out, Clock::time_point::max()) == BlockingResult::closed) ++closed;
    });
  while (ch.info().receivers < 8) std::this_thread::sleep_for(1ms);
  ch.close();
  for (auto& t : receivers) t.join();
  EXPECT_EQ(closed.load(), 8);
}

TEST(Channel, ReceiveTimesOutAndLeavesNoWaiterBehind) {
  Channel ch;
  Payload out;
  const auto start = Clock::now();
  EXPECT_EQ(receive_blocking(ch, &out, in(30ms)), BlockingResult::timed_out);
  EXPECT_GE(Clock::now() - start, 29ms);
  EXPECT_EQ(ch.info().receivers, 0u);
}

TEST(Channel, OneWakeUpPerMessage) {
  Channel ch;
  CountingWaiter a, b;
  Payload out;
  ASSERT_EQ(ch.receive_or_wait(&out, &a), Channel::WaitResult::waiting);
  ASSERT_EQ(ch.receive_or_wait(&out, &b), Channel::WaitResult::waiting);
  Payload m = message(1);
  ch.send(m);
  EXPECT_EQ(a.count, 1);  // first come, first woken
  EXPECT_EQ(b.count, 0);
  EXPECT_TRUE(a.notified());
  ASSERT_EQ(ch.receive_or_wait(&out, &a), Channel::WaitResult::received);
  EXPECT_FALSE(ch.stop_waiting(&b));
  EXPECT_EQ(ch.info().receivers, 0u);
}

TEST(Channel, AWokenReceiverThatGivesUpHandsTheWakeUpOn) {
  Channel ch;
  CountingWaiter quitter, patient;
  Payload out;
  ch.receive_or_wait(&out, &quitter);
  ch.receive_or_wait(&out, &patient);
  Payload m = message(7);
  ch.send(m);
  ASSERT_EQ(quitter.count, 1);
  EXPECT_TRUE(ch.stop_waiting(&quitter));  // it had been woken, and leaves
  EXPECT_EQ(patient.count, 1);             // so the next one is
  ASSERT_EQ(ch.receive_or_wait(&out, &patient), Channel::WaitResult::received);
  EXPECT_EQ(value_of(out), 7);
}

TEST(Channel, AGoneReceiverIsSkipped) {
  Channel ch;
  CountingWaiter gone(false), alive;
  Payload out;
  ch.receive_or_wait(&out, &gone);
  ch.receive_or_wait(&out, &alive);
  Payload m = message(1);
  ch.send(m);
  EXPECT_EQ(gone.count, 1);
  EXPECT_EQ(alive.count, 1);
  EXPECT_EQ(ch.info().receivers, 0u);
}

TEST(Channel, ExactlyOnceInSenderOrderUnderThreads) {
  Channel ch;
  constexpr int kSenders = 4, kReceivers = 4, kEach = 50000;
  std::vector<std::vector<long>> got(kReceivers);
  std::vector<std::thread> threads;
  for (int r = 0; r < kReceivers; ++r)
    threads.emplace_back([&, r] {
      Payload out;
      while (receive_blocking(ch, &out, Clock::time_point::max()) == BlockingResult::done)
        got[r].push_back(value_of(out));
    });
  std::vector<std::thread> senders;
  for (int s = 0; s < kSenders; ++s)
    senders.emplace_back([&, s] {
      for (long i = 0; i < kEach; ++i) {
        Payload m = message(long(s) * kEach + i);
        ASSERT_EQ(ch.send(m), Channel::SendResult::ok);
      }
    });
  for (auto& t : senders) t.join();
  ch.close();
  for (auto& t : threads) t.join();

  std::vector<long> all;
  for (int r = 0; r < kReceivers; ++r) {
    // Each receiver sees every sender's messages in the order they were sent.
    std::vector<long> last(kSenders, -1);
    for (long v : got[r]) {
      const int s = int(v / kEach);
      EXPECT_GT(v, last[s]);
      last[s] = v;
    }
    all.insert(all.end(), got[r].begin(), got[r].end());
  }
  std::sort(all.begin(), all.end());
  ASSERT_EQ(all.size(), std::size_t(kSenders) * kEach);
  for (std::size_t i = 0; i < all.size(); ++i) ASSERT_EQ(all[i], long(i));  // none twice
}

TEST(Channel, TheBoundRefusesThenWaitsForRoom) {
  Channel ch(100);
  Payload a = message(1, 60), b = message(2, 60), big = message(3, 1000);
  EXPECT_EQ(ch.send(a), Channel::SendResult::ok);
  EXPECT_EQ(ch.send(b), Channel::SendResult::full);  // 120 > 100
  EXPECT_TRUE(b);
  EXPECT_EQ(ch.info().bytes, 60u);
  std::atomic<bool> sent{false};
  std::thread sender([&] {
    if (send_blocking(ch, b, Clock::time_point::max()) == BlockingResult::done) sent = true;
  });
  std::this_thread::sleep_for(20ms);
  EXPECT_FALSE(sent.load());
  Payload out;
  ASSERT_EQ(ch.try_receive(&out), Channel::ReceiveResult::received);  // makes room
  sender.join();
  EXPECT_TRUE(sent.load());
  // A message bigger than the bound still goes into an empty channel.
  ASSERT_EQ(ch.try_receive(&out), Channel::ReceiveResult::received);
  EXPECT_EQ(ch.send(big), Channel::SendResult::ok);
  Payload c = message(4, 1);
  EXPECT_EQ(ch.send(c), Channel::SendResult::full);
  EXPECT_EQ(send_blocking(ch, c, in(20ms)), BlockingResult::timed_out);
  ch.close();
  EXPECT_EQ(send_blocking(ch, c, in(20ms)), BlockingResult::closed);
}

TEST(Channel, InfoCountsWhatIsQueued) {
  Channel ch(1000);
  Payload a = message(1, 10), b = message(2, 20);
  ch.send(a);
  ch.send(b);
  const Channel::Info i = ch.info();
  EXPECT_EQ(i.count, 2u);
  EXPECT_EQ(i.bytes, 30u);
  EXPECT_EQ(i.max_bytes, 1000u);
  EXPECT_FALSE(i.closed);
  EXPECT_EQ(i.receivers, 0u);
  ch.close();
  EXPECT_TRUE(ch.info().closed);
}

TEST(Channel, WhatNobodyReceivedIsFreedWithTheChannel) {
  const int before = g_freed.load();
  {
    Channel ch;
    for (long i = 0; i < 10; ++i) {
      Payload m = message(i);
      ch.send(m);
    }
    Payload out;
    ch.try_receive(&out);  // freed with `out`
  }
  EXPECT_EQ(g_freed.load() - before, 10);
}

}  // namespace
}  // namespace epy::channels
