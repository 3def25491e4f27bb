#include <thread>

#include "engine_fixture.hpp"

using namespace std::chrono_literals;

namespace epy::test {
namespace {

class ContextTest : public ContextFixture {};

TEST_P(ContextTest, CallsAModuleFunction) {
  Outcome o = run(MessageKind::call, "math", "sqrt", {16L});
  EXPECT_TRUE(o.ok) << o.error_type << ": " << o.error_message;
  EXPECT_EQ(o.value, "4.0");
}

TEST_P(ContextTest, CallsADottedAttributePath) {
  Outcome o = run(MessageKind::call, "os", "path.join", {std::string("a"), std::string("b")});
  EXPECT_EQ(o.value, "'a/b'");
}

TEST_P(ContextTest, EvalAndExecShareTheContextNamespace) {
  EXPECT_EQ(run(MessageKind::exec, "counter = 41\ndef bump(n):\n    return counter + n").value,
            "None");
  EXPECT_EQ(run(MessageKind::eval, "counter + 1").value, "42");
  EXPECT_EQ(run(MessageKind::call, "__main__", "bump", {2L}).value, "43");
}

TEST_P(ContextTest, PythonErrorsCarryTheExceptionClassAndMessage) {
  Outcome o = run(MessageKind::eval, "1/0");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.error_type, "ZeroDivisionError");
  EXPECT_EQ(o.error_message, "division by zero");

  o = run(MessageKind::call, "no_such_module_xyz", "f");
  EXPECT_EQ(o.error_type, "ModuleNotFoundError");
  o = run(MessageKind::call, "math", "no_such_function");
  EXPECT_EQ(o.error_type, "AttributeError");
  o = run(MessageKind::eval, "1 +");
  EXPECT_EQ(o.error_type, "SyntaxError");
}

TEST_P(ContextTest, NulBytesInNamesAndCodeAreRefused) {
  Outcome o = run(MessageKind::call, std::string("ma\0th", 5), "sqrt", {1L});
  EXPECT_EQ(o.error_type, "ValueError");
  o = run(MessageKind::eval, std::string("1\0+1", 4));
  EXPECT_EQ(o.error_type, "ValueError");
}

TEST_P(ContextTest, TheContextKeepsServingAfterErrors) {
  for (int i = 0; i < 10; ++i) {
    EXPECT_FALSE(run(MessageKind::eval, "undefined_name").ok);
    EXPECT_EQ(run(MessageKind::eval, "2 ** 10").value, "1024");
  }
}

TEST_P(ContextTest, RepliesCarryTheirOwnRequestIdentity) {
  constexpr int kRequests = 500;
  for (int i = 1; i <= kRequests; ++i)
    ASSERT_EQ(submit(*ctx_, inbox_, MessageKind::eval, std::uint64_t(i), std::to_string(i) + " * 2")
                  .admission,
              Admission::accepted);
  for (int i = 1; i <= kRequests; ++i) {
    auto o = inbox_.pop();
    ASSERT_TRUE(o);
    EXPECT_EQ(o->value, std::to_string(o->request * 2));
    EXPECT_EQ(o->request, std::uint64_t(i));  // one producer: served in order
  }
}

TEST_P(ContextTest, CancellingARunningRequestInterruptsPython) {
  auto s = submit(*ctx_, inbox_, MessageKind::exec, 1, "while True:\n    pass");
  ASSERT_EQ(s.admission, Admission::accepted);
  std::this_thread::sleep_for(50ms);  // let it start spinning
  EXPECT_EQ(ctx_->cancel(s.ticket), CancelResult::cancelled_running);
  // No reply for the cancelled request, and the context serves the next one.
  Outcome o = run(MessageKind::eval, "'still alive'");
  EXPECT_EQ(o.request, request_);
  EXPECT_EQ(o.value, "'still alive'");
  EXPECT_EQ(inbox_.size(), 0u);
}

TEST_P(ContextTest, InterruptRaisesKeyboardInterruptInTheRunningRequest) {
  auto s = submit(*ctx_, inbox_, MessageKind::exec, 1, "while True:\n    pass");
  ASSERT_EQ(s.admission, Admission::accepted);
  while (!ctx_->interrupt()) std::this_thread::sleep_for(1ms);
  auto o = inbox_.pop();
  ASSERT_TRUE(o);
  EXPECT_EQ(o->error_type, "KeyboardInterrupt");
  EXPECT_EQ(run(MessageKind::eval, "3 * 3").value, "9");
}

TEST_P(ContextTest, StopAnswersEverythingPendingWithTheFailure) {
  auto running = submit(*ctx_, inbox_, MessageKind::exec, 1, "while True:\n    pass");
  ASSERT_EQ(running.admission, Admission::accepted);
  for (int i = 2; i <= 20; ++i) submit(*ctx_, inbox_, MessageKind::eval, std::uint64_t(i), "1");
  std::this_thread::sleep_for(20ms);
  ctx_->stop({FailureKind::shutting_down, {}});
  ASSERT_TRUE(ctx_->wait_stopped(10s));
  std::set<std::uint64_t> answered;
  while (auto o = inbox_.pop(100ms)) {
    EXPECT_TRUE(o->failed) << "request " << o->request << " got " << o->value;
    EXPECT_EQ(o->failure, FailureKind::shutting_down);
    answered.insert(o->request);
  }
  EXPECT_EQ(answered.size(), 20u);
  // Nothing is accepted any more.
  EXPECT_EQ(submit(*ctx_, inbox_, MessageKind::eval, 99, "1").admission, Admission::closed);
  ctx_.reset();
}

TEST_P(ContextTest, AFullMailboxRefusesWithOverloaded) {
  ctx_->stop({FailureKind::shutting_down, {}});
  ctx_->wait_stopped(10s);
  auto small = start_context(GetParam(), 4);
  ASSERT_TRUE(small.ok);
  ctx_ = small.context;
  // One request blocks the context; four fill the table; the next is refused.
  ASSERT_EQ(submit(*ctx_, inbox_, MessageKind::exec, 1, "import time\ntime.sleep(0.3)").admission,
            Admission::accepted);
  int accepted = 1;
  while (submit(*ctx_, inbox_, MessageKind::eval, 2, "1").admission == Admission::accepted)
    ++accepted;
  EXPECT_EQ(accepted, 4);
  for (int i = 0; i < accepted; ++i) EXPECT_TRUE(inbox_.pop());
  EXPECT_EQ(ctx_->stats().high_water, 4u);
}

TEST_P(ContextTest, StatisticsCountServedRequestsAndErrors) {
  run(MessageKind::eval, "1");
  run(MessageKind::eval, "1/0");
  ContextStats s = ctx_->stats();
  EXPECT_EQ(s.served, 2u);
  EXPECT_EQ(s.errors, 1u);
  // The slot of the last request is released just after its reply went out.
  for (int i = 0; i < 1000 && ctx_->stats().queue_depth != 0; ++i) std::this_thread::sleep_for(1ms);
  EXPECT_EQ(ctx_->stats().queue_depth, 0u);
  EXPECT_GT(s.os_thread_id, 0);
  EXPECT_TRUE(s.running);
}

INSTANTIATE_TEST_SUITE_P(Modes, ContextTest, ::testing::ValuesIn(available_modes()), mode_name);

TEST(Contexts, NamespacesAreIsolatedBetweenContexts) {
  for (InterpreterMode mode : available_modes()) {
    auto a = start_context(mode, 16, 1);
    auto b = start_context(mode, 16, 2);
    ASSERT_TRUE(a.ok && b.ok);
    Inbox inbox;
    submit(*a.context, inbox, MessageKind::exec, 1, "secret = 1");
    ASSERT_TRUE(inbox.pop());
    submit(*b.context, inbox, MessageKind::eval, 2, "secret");
    auto o = inbox.pop();
    ASSERT_TRUE(o);
    EXPECT_EQ(o->error_type, "NameError") << to_string(mode);
    for (auto* c : {&a, &b}) {
      c->context->stop({FailureKind::shutting_down, {}});
      c->context->wait_stopped(10s);
    }
  }
}

#if EPY_HAVE_OWN_GIL
TEST(Contexts, SubinterpretersDoNotWaitForEachOthersGil) {
  ASSERT_TRUE(engine().subinterp_supported());
  auto a = start_context(InterpreterMode::subinterp, 16, 1);
  auto b = start_context(InterpreterMode::subinterp, 16, 2);
  ASSERT_TRUE(a.ok && b.ok);
  Inbox inbox;
  // Context a spins in pure Python and would not hand a shared GIL over for 60 s; b must
  // still answer, because each subinterpreter has a GIL of its own.
  auto spin = submit(*a.context, inbox, MessageKind::exec, 1,
                     "import sys\nsys.setswitchinterval(60)\nwhile True:\n    pass");
  ASSERT_EQ(spin.admission, Admission::accepted);
  while (!a.context->stats().executing) std::this_thread::sleep_for(1ms);
  std::this_thread::sleep_for(50ms);  // well inside the loop now
  submit(*b.context, inbox, MessageKind::eval, 2, "6 * 7");
  auto o = inbox.pop(20s);
  ASSERT_TRUE(o);
  EXPECT_EQ(o->request, 2u);
  EXPECT_EQ(o->value, "42");
  EXPECT_TRUE(a.context->interrupt());
  auto interrupted = inbox.pop(20s);  // the interrupt above ends the spinning request
  ASSERT_TRUE(interrupted);
  EXPECT_EQ(interrupted->error_type, "KeyboardInterrupt");
  for (auto* c : {&a, &b}) {
    c->context->stop({FailureKind::shutting_down, {}});
    c->context->wait_stopped(10s);
  }
}
#endif

TEST(Contexts, AnUnavailableModeReportsAClearError) {
#if !EPY_HAVE_OWN_GIL
  auto c = start_context(InterpreterMode::subinterp);
  EXPECT_FALSE(c.ok);
  EXPECT_NE(c.error.find("3.12"), std::string::npos) << c.error;
#else
  auto c = start_context(InterpreterMode::free_threaded);
  EXPECT_FALSE(c.ok);
  EXPECT_NE(c.error.find("free-threaded"), std::string::npos) << c.error;
#endif
  EXPECT_TRUE(c.context->wait_stopped(10s));
  Inbox inbox;
  EXPECT_EQ(submit(*c.context, inbox, MessageKind::eval, 1, "1").admission, Admission::closed);
}

}  // namespace
}  // namespace epy::test
