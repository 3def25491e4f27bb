// time.sleep() in a context ends as soon as its request is interrupted or cancelled.
#include <thread>

#include "engine_fixture.hpp"

using namespace std::chrono_literals;

namespace epy::test {
namespace {

class InterruptibleSleep : public ContextFixture {};

TEST_P(InterruptibleSleep, AnInterruptEndsIt) {
  const auto start = std::chrono::steady_clock::now();
  submit(*ctx_, inbox_, MessageKind::exec, 1, "import time\ntime.sleep(30)");
  wait_until_executing();
  EXPECT_TRUE(ctx_->interrupt());
  auto o = inbox_.pop();
  ASSERT_TRUE(o);
  EXPECT_EQ(o->error_type, "KeyboardInterrupt");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
}

TEST_P(InterruptibleSleep, ACancelFreesTheContext) {
  auto s = submit(*ctx_, inbox_, MessageKind::exec, 1, "import time\ntime.sleep(30)");
  wait_until_executing();
  EXPECT_EQ(ctx_->cancel(s.ticket), CancelResult::cancelled_running);
  submit(*ctx_, inbox_, MessageKind::eval, 2, "21 * 2");
  auto o = inbox_.pop();  // the cancelled one answers nothing
  ASSERT_TRUE(o);
  EXPECT_EQ(o->request, 2u);
  EXPECT_EQ(o->value, "42");
}

TEST_P(InterruptibleSleep, ItStillSleepsAndValidates) {
  submit(*ctx_, inbox_, MessageKind::eval, 1,
         "(lambda t, time: (time.sleep(0.05), time.monotonic() - t)[1])"
         "(__import__('time').monotonic(), __import__('time'))");
  auto o = inbox_.pop();
  ASSERT_TRUE(o);
  ASSERT_TRUE(o->ok) << o->error_message;
  EXPECT_GE(std::stod(o->value), 0.049);
  submit(*ctx_, inbox_, MessageKind::exec, 2, "import time\ntime.sleep(-1)");
  o = inbox_.pop();
  ASSERT_TRUE(o);
  EXPECT_EQ(o->error_type, "ValueError");
  // A thread of the context's interpreter sleeps as CPython does.
  submit(*ctx_, inbox_, MessageKind::exec, 3,
         "import threading, time\nt = threading.Thread(target=time.sleep, args=(0.01,))\n"
         "t.start()\nt.join()");
  o = inbox_.pop();
  ASSERT_TRUE(o);
  EXPECT_TRUE(o->ok) << o->error_message;
}

INSTANTIATE_TEST_SUITE_P(Modes, InterruptibleSleep, ::testing::ValuesIn(available_modes()),
                         mode_name);

}  // namespace
}  // namespace epy::test
