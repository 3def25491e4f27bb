#include "engine/request_table.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>
#include <vector>

namespace epy {
namespace {

// Counts what the table does with a job; never touches Python.
struct CountingJob : Job {
  int recycled = 0;
  bool decode_call(Interpreter&, CallInput&) override { return false; }
  bool decode_code(Interpreter&, CodeInput&) override { return false; }
  void reply(Interpreter&, MessageKind, PyObject*, ReplyGate&) override {}
  void fail(const Failure&, ReplyGate&) override {}
  void recycle() noexcept override { ++recycled; }
};

Ticket accept(RequestTable& table, std::uint64_t owner = 0, std::uint64_t tag = 0) {
  auto r = table.reserve(owner, tag);
  EXPECT_EQ(r.admission, Admission::accepted);
  table.commit(r.ticket);
  return r.ticket;
}

TEST(RequestTable, ARequestGoesQueuedRunningReplyingFree) {
  RequestTable table(4, [] { return std::make_unique<CountingJob>(); });
  Ticket t = accept(table);
  EXPECT_EQ(table.state(t), SlotState::queued);
  ASSERT_TRUE(table.begin(t));
  EXPECT_EQ(table.state(t), SlotState::running);
  EXPECT_EQ(table.claim(t), Delivery::deliver);
  EXPECT_EQ(table.state(t), SlotState::replying);
  table.finish(t);
  EXPECT_EQ(table.state(t), SlotState::answered);
  table.release(t);
  EXPECT_EQ(table.state(t), SlotState::free);
  EXPECT_EQ(table.in_use(), 0u);
  EXPECT_EQ(static_cast<CountingJob*>(table.job(t.index))->recycled, 1);
}

TEST(RequestTable, ReusedSlotGetsANewGeneration) {
  RequestTable table(1, [] { return std::make_unique<CountingJob>(); });
  Ticket a = accept(table);
  table.begin(a);
  table.release(a);
  Ticket b = accept(table);
  EXPECT_EQ(a.index, b.index);
  EXPECT_NE(a.generation, b.generation);
  // The old ticket no longer names anything.
  EXPECT_EQ(table.cancel(a), CancelResult::not_pending);
  EXPECT_EQ(table.state(b), SlotState::queued);
}

TEST(RequestTable, FullTableRefusesWithOverloaded) {
  RequestTable table(3, [] { return std::make_unique<CountingJob>(); });
  for (int i = 0; i < 3; ++i) accept(table);
  EXPECT_EQ(table.reserve().admission, Admission::overloaded);
  EXPECT_EQ(table.in_use(), 3u);
  EXPECT_EQ(table.high_water(), 3u);
}

TEST(RequestTable, GrowsInChunksUpToCapacity) {
  RequestTable table(1000, [] { return std::make_unique<CountingJob>(); });
  std::set<std::uint32_t> indices;
  for (int i = 0; i < 1000; ++i) indices.insert(accept(table).index);
  EXPECT_EQ(indices.size(), 1000u);
  EXPECT_EQ(*indices.rbegin(), 999u);
  EXPECT_EQ(table.reserve().admission, Admission::overloaded);
}

TEST(RequestTable, ClosedTableRefuses) {
  RequestTable table(3, [] { return std::make_unique<CountingJob>(); });
  table.close();
  EXPECT_EQ(table.reserve().admission, Admission::closed);
  EXPECT_EQ(table.in_use(), 0u);
}

TEST(RequestTable, CancelledWhileQueuedNeverRuns) {
  RequestTable table(2, [] { return std::make_unique<CountingJob>(); });
  Ticket t = accept(table);
  EXPECT_EQ(table.cancel(t), CancelResult::cancelled);
  EXPECT_FALSE(table.begin(t));
  EXPECT_EQ(table.claim(t), Delivery::drop);
  table.release(t);
  EXPECT_EQ(table.in_use(), 0u);
}

TEST(RequestTable, CancelledWhileRunningDropsTheReply) {
  RequestTable table(2, [] { return std::make_unique<CountingJob>(); });
  Ticket t = accept(table);
  ASSERT_TRUE(table.begin(t));
  EXPECT_EQ(table.cancel(t), CancelResult::cancelled_running);
  EXPECT_EQ(table.claim(t), Delivery::drop);
}

TEST(RequestTable, CancelAfterTheReplyReportsNotPending) {
  RequestTable table(2, [] { return std::make_unique<CountingJob>(); });
  Ticket t = accept(table);
  table.begin(t);
  EXPECT_EQ(table.claim(t), Delivery::deliver);
  std::thread releaser([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    table.finish(t);
    table.release(t);
  });
  // While the reply is being delivered, cancel waits for it: afterwards the reply is
  // known to be in the caller's mailbox.
  EXPECT_EQ(table.cancel(t), CancelResult::not_pending);
  const SlotState after = table.state(t);
  EXPECT_TRUE(after == SlotState::answered || after == SlotState::free);
  releaser.join();
}

// A stop answers a request from its own thread while the context thread still owns the
// slot: the context thread's release waits until that answer is out.
TEST(RequestTable, ReleaseWaitsForAnotherThreadsDelivery) {
  RequestTable table(2, [] { return std::make_unique<CountingJob>(); });
  Ticket t = accept(table);
  table.begin(t);
  ASSERT_TRUE(table.abort(t));
  ASSERT_EQ(table.claim(t), Delivery::abort);  // the stopping thread answers
  std::atomic<bool> released{false};
  std::thread context([&] {
    EXPECT_EQ(table.claim(t), Delivery::drop);  // its own answer is not needed
    table.release(t);
    released = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(released.load());
  table.finish(t);
  context.join();
  EXPECT_TRUE(released.load());
  EXPECT_EQ(table.in_use(), 0u);
}

TEST(RequestTable, AbortedRequestIsAnsweredWithTheFailure) {
  RequestTable table(2, [] { return std::make_unique<CountingJob>(); });
  Ticket queued = accept(table);
  Ticket running = accept(table);
  table.begin(running);
  EXPECT_TRUE(table.abort(queued));
  EXPECT_TRUE(table.abort(running));
  EXPECT_EQ(table.claim(queued), Delivery::abort);
  EXPECT_EQ(table.claim(running), Delivery::abort);
}

TEST(RequestTable, CancelBeatsAbort) {
  RequestTable table(2, [] { return std::make_unique<CountingJob>(); });
  Ticket t = accept(table);
  table.begin(t);
  table.abort(t);
  EXPECT_EQ(table.cancel(t), CancelResult::cancelled);
  EXPECT_EQ(table.claim(t), Delivery::drop);
}

TEST(RequestTable, CancelMatchingFindsTheRequestByOwnerAndTag) {
  RequestTable table(8, [] { return std::make_unique<CountingJob>(); });
  Ticket a = accept(table, 1, 100);
  Ticket b = accept(table, 1, 200);
  Ticket c = accept(table, 2, 200);
  EXPECT_EQ(table.cancel_matching(1, 200), CancelResult::cancelled);
  EXPECT_EQ(table.state(b), SlotState::cancelled);
  EXPECT_EQ(table.state(a), SlotState::queued);
  EXPECT_EQ(table.state(c), SlotState::queued);
  EXPECT_EQ(table.cancel_matching(3, 100), CancelResult::not_pending);
}

// The heart of "a late reply never lingers": a cancel racing a reply has exactly one
// winner, and the caller learns which.
TEST(RequestTable, CancelRacingClaimHasExactlyOneWinner) {
  RequestTable table(1, [] { return std::make_unique<CountingJob>(); });
  int delivered = 0, cancelled = 0;
  for (int round = 0; round < 20000; ++round) {
    Ticket t = accept(table);
    table.begin(t);
    std::atomic<bool> go{false};
    Delivery d = Delivery::drop;
    std::thread context([&] {
      while (!go.load()) {
      }
      d = table.claim(t);
      if (d == Delivery::deliver) table.finish(t);
      table.release(t);
    });
    go.store(true);
    CancelResult c = table.cancel(t);
    context.join();
    const bool caller_expects_reply = c == CancelResult::not_pending;
    const bool reply_sent = d == Delivery::deliver;
    ASSERT_EQ(caller_expects_reply, reply_sent) << "round " << round;
    (reply_sent ? delivered : cancelled)++;
  }
  EXPECT_EQ(delivered + cancelled, 20000);
}

TEST(RequestTable, ConcurrentSubmittersNeverShareASlot) {
  constexpr int kThreads = 4, kEach = 20000;
  RequestTable table(64, [] { return std::make_unique<CountingJob>(); });
  std::atomic<int> overloaded{0};
  std::vector<std::thread> threads;
  std::vector<std::atomic<int>> owners(64);
  for (auto& o : owners) o.store(-1);
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        auto r = table.reserve();
        if (r.admission != Admission::accepted) {
          overloaded++;
          continue;
        }
        int expected = -1;
        ASSERT_TRUE(owners[r.ticket.index].compare_exchange_strong(expected, t));
        table.commit(r.ticket);
        table.begin(r.ticket);
        owners[r.ticket.index].store(-1);
        table.release(r.ticket);
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(table.in_use(), 0u);
  EXPECT_EQ(overloaded.load(), 0);  // 4 threads never need more than 64 slots
}

}  // namespace
}  // namespace epy
