// A request that waits (here: for a state change) keeps its context serving: other
// requests run nested meanwhile, and interrupts and stops still reach the waiter.
#include <thread>

#include "engine_fixture.hpp"

using namespace std::chrono_literals;

namespace epy::test {
namespace {

class ServeWhileWaiting : public ContextFixture {
 protected:
  void SetUp() override {
    ContextFixture::SetUp();
    submit(*ctx_, inbox_, MessageKind::exec, 0, "import _epy_engine_test as t");
    ASSERT_TRUE(inbox_.pop());
  }
  std::string key(const char* name) { return std::string(name) + "-" + to_string(GetParam()); }
};

TEST_P(ServeWhileWaiting, OtherRequestsRunWhileOneWaits) {
  const std::string k = key("wake");
  submit(*ctx_, inbox_, MessageKind::eval, 1, "t.state_wait('" + k + "', 30.0)");
  wait_until_executing();
  // The context is not deaf: these run (nested) and answer while request 1 waits.
  for (std::uint64_t i = 2; i <= 5; ++i) {
    submit(*ctx_, inbox_, MessageKind::eval, i, std::to_string(i) + " * 10");
    auto o = inbox_.pop();
    ASSERT_TRUE(o);
    EXPECT_EQ(o->request, i);
    EXPECT_EQ(o->value, std::to_string(i * 10));
  }
  // A nested request may itself wake the waiter.
  submit(*ctx_, inbox_, MessageKind::eval, 6, "t.state_set('" + k + "', 1)");
  auto nested = inbox_.pop();
  ASSERT_TRUE(nested);
  EXPECT_EQ(nested->request, 6u);
  auto woken = inbox_.pop();
  ASSERT_TRUE(woken);
  EXPECT_EQ(woken->request, 1u);
  EXPECT_EQ(woken->value, "'ready'");
}

TEST_P(ServeWhileWaiting, RequestsTakenWithTheWaiterInOneBatchAreServed) {
  // While request 0 keeps the context busy, 1 (which will wait) and 2 queue up, so the
  // context takes them from its mailbox together: 2 must not wait behind 1.
  const std::string k = key("batch");
  submit(*ctx_, inbox_, MessageKind::exec, 0, "import time\ntime.sleep(0.1)");
  wait_until_executing();
  submit(*ctx_, inbox_, MessageKind::eval, 1, "t.state_wait('" + k + "', 30.0)");
  submit(*ctx_, inbox_, MessageKind::eval, 2, "2 + 2");
  auto first = inbox_.pop();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->request, 0u);
  auto second = inbox_.pop();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->request, 2u);
  EXPECT_EQ(second->value, "4");
  engine().state().set(k, StateValue::of_integer(1));
  auto third = inbox_.pop();
  ASSERT_TRUE(third);
  EXPECT_EQ(third->request, 1u);
  EXPECT_EQ(third->value, "'ready'");
}

TEST_P(ServeWhileWaiting, AWaitingRequestKeepsItsOwnIdentity) {
  // While an exec waits, enough requests pass through the context to refill its batch:
  // the exec is still answered as an exec.
  const std::string k = key("identity");
  submit(*ctx_, inbox_, MessageKind::exec, 1, "t.state_wait('" + k + "', 30.0)");
  wait_until_executing();
  for (std::uint64_t i = 2; i < 200; ++i) submit(*ctx_, inbox_, MessageKind::eval, i, "1");
  for (std::uint64_t i = 2; i < 200; ++i) {
    auto o = inbox_.pop();
    ASSERT_TRUE(o);
    EXPECT_EQ(o->kind, MessageKind::eval);
  }
  engine().state().set(k, StateValue::of_integer(1));
  auto o = inbox_.pop();
  ASSERT_TRUE(o);
  EXPECT_EQ(o->request, 1u);
  EXPECT_EQ(o->kind, MessageKind::exec);
}

TEST_P(ServeWhileWaiting, AChangeFromAnotherThreadWakesTheWaiter) {
  const std::string k = key("other-thread");
  submit(*ctx_, inbox_, MessageKind::eval, 1, "t.state_wait('" + k + "', 30.0)");
  wait_until_executing();
  engine().state().set(k, StateValue::of_integer(5));
  auto o = inbox_.pop();
  ASSERT_TRUE(o);
  EXPECT_EQ(o->value, "'ready'");
}

TEST_P(ServeWhileWaiting, WaitingEndsAtTheDeadline) {
  submit(*ctx_, inbox_, MessageKind::eval, 1, "t.state_wait('" + key("never") + "', 0.05)");
  auto o = inbox_.pop();
  ASSERT_TRUE(o);
  EXPECT_EQ(o->value, "'timed_out'");
}

TEST_P(ServeWhileWaiting, AnInterruptReachesTheWaiter) {
  submit(*ctx_, inbox_, MessageKind::eval, 1, "t.state_wait('" + key("interrupt") + "', 30.0)");
  wait_until_executing();
  EXPECT_TRUE(ctx_->interrupt());
  auto o = inbox_.pop();
  ASSERT_TRUE(o);
  EXPECT_EQ(o->error_type, "KeyboardInterrupt");
  submit(*ctx_, inbox_, MessageKind::eval, 2, "'serving'");
  EXPECT_EQ(inbox_.pop()->value, "'serving'");
}

TEST_P(ServeWhileWaiting, ACancelledWaiterStopsWaiting) {
  auto s =
      submit(*ctx_, inbox_, MessageKind::eval, 1, "t.state_wait('" + key("cancel") + "', 30.0)");
  wait_until_executing();
  EXPECT_EQ(ctx_->cancel(s.ticket), CancelResult::cancelled_running);
  submit(*ctx_, inbox_, MessageKind::eval, 2, "'after'");
  auto o = inbox_.pop();
  ASSERT_TRUE(o);
  EXPECT_EQ(o->request, 2u);  // nothing for the cancelled request
  EXPECT_EQ(o->value, "'after'");
}

TEST_P(ServeWhileWaiting, AStopAnswersTheWaiterAndEndsTheContext) {
  submit(*ctx_, inbox_, MessageKind::eval, 1, "t.state_wait('" + key("stop") + "', 30.0)");
  wait_until_executing();
  ctx_->stop({FailureKind::shutting_down, {}});
  auto o = inbox_.pop();
  ASSERT_TRUE(o);
  EXPECT_TRUE(o->failed);
  EXPECT_TRUE(ctx_->wait_stopped(10s));
  ctx_.reset();
}

INSTANTIATE_TEST_SUITE_P(Modes, ServeWhileWaiting, ::testing::ValuesIn(available_modes()),
                         mode_name);

}  // namespace
}  // namespace epy::test
