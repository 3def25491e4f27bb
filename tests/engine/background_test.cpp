// A context's background work (what its asyncio loop is to the NIF) and task requests:
// the background runs whenever no request runs, wakes for its timers and its descriptor,
// never starves requests, and completes the requests that wait for it; cancels and stops
// reach that work.
#include <fcntl.h>
#include <unistd.h>

#include <thread>

#include "engine_fixture.hpp"

using namespace std::chrono_literals;

namespace epy::test {
namespace {

using SteadyClock = std::chrono::steady_clock;

// What a task request's function returns in these tests: an awaitable that is its own
// task (done, cancelled, result, cancel, as the engine asks of a task), finished by the
// test's background once `delay` seconds have passed, or at once when cancelled.
constexpr const char* kLaterSource = R"PY(
class Later:
    def __init__(self, value, delay):
        self.value, self.delay = value, delay
        self.finished = self.was_cancelled = False
        self.on_done = None
    def __await__(self):
        yield self
        return self.value
    def done(self):
        return self.finished
    def cancelled(self):
        return self.was_cancelled
    def result(self):
        if self.was_cancelled:
            raise RuntimeError("cancelled")
        return self.value
    def cancel(self):
        self.was_cancelled = True
        return True
    def finish(self):
        self.finished = True
        if self.on_done is not None:
            self.on_done(self)

def later(a, b, delay_ms):
    return Later(a + b, delay_ms / 1000.0)
)PY";

// The tasks the context's start_task hook was given. Context thread only (GIL held).
struct TaskList {
  struct Item {
    py::Ref task;
    SteadyClock::time_point due;
  };
  std::vector<Item> items;
  std::atomic<int> cancelled{0};  // finished after a cancel (any thread may read)
};

// ContextConfig::start_task for these tests: the awaitable is its own task.
PyObject* start_later(TaskList& tasks, PyObject* awaitable, PyObject* on_done) {
  if (PyObject_SetAttrString(awaitable, "on_done", on_done ? on_done : Py_None) < 0) return nullptr;
  py::Ref delay_attr(PyObject_GetAttrString(awaitable, "delay"));
  const double delay = delay_attr ? PyFloat_AsDouble(delay_attr.get()) : -1.0;
  if (PyErr_Occurred()) return nullptr;
  const auto due = SteadyClock::now() + std::chrono::duration_cast<SteadyClock::duration>(
                                            std::chrono::duration<double>(delay));
  tasks.items.push_back({py::Ref::borrow(awaitable), due});
  return Py_NewRef(awaitable);
}

bool was_cancelled(PyObject* task) {
  py::Ref c(PyObject_GetAttrString(task, "was_cancelled"));
  PyErr_Clear();
  return c && c.get() == Py_True;
}

// Finishes the TaskList's tasks when they are due (or cancelled); optionally watches a
// pipe, and can be told to always have work (a loop whose tasks never wait).
class TestBackground : public BackgroundWork {
 public:
  struct Counters {
    std::atomic<int> runs{0};
    std::atomic<int> fd_reads{0};
    std::atomic<int> closed{0};
  };

  TestBackground(TaskList& tasks, Counters& counters, int fd = -1, bool busy = false)
      : tasks_(tasks), counters_(counters), fd_(fd), busy_(busy) {}

  std::chrono::microseconds due(int* fd) override {
    *fd = fd_;
    if (busy_) return 0us;
    if (tasks_.items.empty()) return -1us;
    auto first = SteadyClock::time_point::max();
    for (const auto& item : tasks_.items)
      first = std::min(first, was_cancelled(item.task.get()) ? SteadyClock::now() : item.due);
    const auto left =
        std::chrono::duration_cast<std::chrono::microseconds>(first - SteadyClock::now());
    return left.count() > 0 ? left : 0us;
  }

  void run(bool descriptor_ready) override {
    counters_.runs.fetch_add(1);
    if (fd_ >= 0 && descriptor_ready) {
      char buf[16];
      if (read(fd_, buf, sizeof buf) > 0) counters_.fd_reads.fetch_add(1);
    }
    finish(SteadyClock::now());
  }

  void close() override {
    counters_.closed.fetch_add(1);
    finish(SteadyClock::time_point::max());  // what is left ends now
  }

 private:
  void finish(SteadyClock::time_point now) {
    std::vector<TaskList::Item> ready;
    for (auto it = tasks_.items.begin(); it != tasks_.items.end();) {
      if (it->due <= now || was_cancelled(it->task.get())) {
        ready.push_back(std::move(*it));
        it = tasks_.items.erase(it);
      } else {
        ++it;
      }
    }
    for (auto& item : ready) {
      if (was_cancelled(item.task.get())) tasks_.cancelled.fetch_add(1);
      py::Ref done(PyObject_CallMethod(item.task.get(), "finish", nullptr));
      if (!done) PyErr_WriteUnraisable(item.task.get());
    }
  }

  TaskList& tasks_;
  Counters& counters_;
  int fd_;
  bool busy_;
};

class Background : public ContextFixture {
 protected:
  void adjust(ContextConfig& config) override {
    config.start_task = [this](Interpreter&, PyObject* awaitable, PyObject* on_done) {
      return start_later(tasks_, awaitable, on_done);
    };
  }
  void SetUp() override {
    ContextFixture::SetUp();
    ASSERT_EQ(pipe2(pipe_, O_NONBLOCK), 0);  // the background only ever reads what is there
  }
  void TearDown() override {
    stop();
    close(pipe_[0]);
    close(pipe_[1]);
  }

  // Installs a TestBackground on the context, from its own thread, and defines later().
  void install(int fd = -1, bool busy = false) {
    auto s = ctx_->submit(MessageKind::exec, 0, 0, [&](Job& job) {
      auto& j = static_cast<TestJob&>(job);
      j.inbox = &inbox_;
      j.code = std::string("import _epy_engine_test as t\n") + kLaterSource;
      j.in_context = [this, fd, busy] {
        Context::current()->set_background(
            std::make_unique<TestBackground>(tasks_, counters_, fd, busy));
      };
    });
    ASSERT_EQ(s.admission, Admission::accepted);
    ASSERT_TRUE(inbox_.pop());
  }

  // A task request whose answer waits `delay` for the background.
  Context::Submission submit_deferred(std::uint64_t request, std::chrono::milliseconds delay) {
    return ctx_->submit(MessageKind::task, 0, request, [&](Job& job) {
      auto& j = static_cast<TestJob&>(job);
      j.request = request;
      j.inbox = &inbox_;
      j.module = "__main__";
      j.function = "later";
      j.args = {long(request), 1000L, long(delay.count())};
    });
  }

  template <class Pred>
  static bool eventually(Pred pred) {
    for (int i = 0; i < 10000 && !pred(); ++i) std::this_thread::sleep_for(1ms);
    return pred();
  }

  TaskList tasks_;
  TestBackground::Counters counters_;
  int pipe_[2] = {-1, -1};
};

TEST_P(Background, ADeferredRequestIsAnsweredWhenItsWorkCompletes) {
  install();
  ASSERT_EQ(submit_deferred(1, 50ms).admission, Admission::accepted);
  // Meanwhile the context serves other requests at once.
  submit(*ctx_, inbox_, MessageKind::eval, 2, "6 * 7");
  auto first = inbox_.pop();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->request, 2u);
  EXPECT_EQ(first->value, "42");
  auto second = inbox_.pop();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->request, 1u);
  EXPECT_EQ(second->value, "1001");
  EXPECT_EQ(second->kind, MessageKind::task);
  EXPECT_TRUE(eventually([&] { return ctx_->load() == 0; }));  // the slot is free again
}

TEST_P(Background, ATaskDoneAtOnceIsAnsweredAtOnce) {
  install();
  ASSERT_EQ(submit_deferred(1, 0ms).admission, Admission::accepted);  // due now
  auto o = inbox_.pop();
  ASSERT_TRUE(o);
  EXPECT_EQ(o->value, "1001");
}

TEST_P(Background, ATaskNobodyAwaitsRunsOnWithoutHoldingTheRequest) {
  install();
  auto s = ctx_->submit(MessageKind::task, 0, 7, [&](Job& job) {
    auto& j = static_cast<TestJob&>(job);
    j.request = 7;
    j.inbox = &inbox_;
    j.answer_awaited = false;
    j.module = "__main__";
    j.function = "later";
    j.args = {7L, 1000L, 60000L};
  });
  ASSERT_EQ(s.admission, Admission::accepted);
  // The request is done (its slot free) while the task still runs.
  EXPECT_TRUE(eventually([&] { return ctx_->load() == 0; }));
  EXPECT_EQ(ctx_->cancel(s.ticket), CancelResult::not_pending);
}

TEST_P(Background, ATaskThatCannotStartIsAnsweredWithWhy) {
  install();
  submit(*ctx_, inbox_, MessageKind::exec, 1,
         "class Bad:\n    def __await__(self):\n        return iter(())\n    delay = 'x'\n"
         "def bad():\n    return Bad()\n");
  ASSERT_TRUE(inbox_.pop());
  auto s = ctx_->submit(MessageKind::task, 0, 2, [&](Job& job) {
    auto& j = static_cast<TestJob&>(job);
    j.request = 2;
    j.inbox = &inbox_;
    j.module = "__main__";
    j.function = "bad";
  });
  ASSERT_EQ(s.admission, Admission::accepted);
  auto o = inbox_.pop();
  ASSERT_TRUE(o);
  EXPECT_FALSE(o->ok);
  EXPECT_EQ(o->error_type, "TypeError");  // start_later could not read a float delay
  EXPECT_TRUE(eventually([&] { return ctx_->load() == 0; }));
}

TEST_P(Background, ManyDeferredRequestsEachReachTheirCaller) {
  install();
  constexpr std::uint64_t kRequests = 1000;  // of max_pending 1024
  for (std::uint64_t i = 1; i <= kRequests; ++i)
    ASSERT_EQ(submit_deferred(i, std::chrono::milliseconds(i % 20)).admission, Admission::accepted);
  std::vector<bool> seen(kRequests + 1, false);
  for (std::uint64_t i = 1; i <= kRequests; ++i) {
    auto o = inbox_.pop();
    ASSERT_TRUE(o);
    ASSERT_FALSE(seen[o->request]);
    seen[o->request] = true;
    EXPECT_EQ(o->value, std::to_string(o->request + 1000));
  }
}

TEST_P(Background, CancellingADeferredRequestStopsItsWorkAndAnswersNothing) {
  install();
  auto s = submit_deferred(1, 10000ms);
  ASSERT_TRUE(
      eventually([&] { return tasks_.cancelled.load() == 0 && ctx_->stats().served == 2; }));
  EXPECT_EQ(ctx_->cancel(s.ticket), CancelResult::cancelled_deferred);
  ASSERT_TRUE(eventually([&] { return tasks_.cancelled.load() == 1; }));
  // The work completed right after its cancel, and delivered nothing: the next answer in
  // the inbox is the next request's.
  submit(*ctx_, inbox_, MessageKind::eval, 2, "2");
  auto o = inbox_.pop();
  ASSERT_TRUE(o);
  EXPECT_EQ(o->request, 2u);
  EXPECT_TRUE(eventually([&] { return ctx_->load() == 0; }));
  EXPECT_EQ(ctx_->cancel(s.ticket), CancelResult::not_pending);
}

TEST_P(Background, AStopAnswersDeferredRequestsAndClosesTheBackground) {
  install();
  ASSERT_EQ(submit_deferred(1, 10000ms).admission, Admission::accepted);
  ASSERT_TRUE(eventually([&] { return ctx_->stats().served == 2; }));
  stop();
  auto o = inbox_.pop();
  ASSERT_TRUE(o);
  EXPECT_EQ(o->request, 1u);
  EXPECT_TRUE(o->failed);
  EXPECT_EQ(o->failure, FailureKind::shutting_down);
  EXPECT_EQ(counters_.closed.load(), 1);
  EXPECT_FALSE(inbox_.pop(50ms));  // exactly one answer
}

TEST_P(Background, ItsDescriptorWakesAnIdleContext) {
  install(pipe_[0]);
  const int before = counters_.runs.load();
  std::this_thread::sleep_for(30ms);
  EXPECT_LE(counters_.runs.load(), before + 1);  // idle: no busy polling of the background
  ASSERT_EQ(write(pipe_[1], "x", 1), 1);
  EXPECT_TRUE(eventually([&] { return counters_.fd_reads.load() == 1; }));
}

TEST_P(Background, ItsDescriptorIsWatchedWhileARequestWaits) {
  install(pipe_[0]);
  submit(*ctx_, inbox_, MessageKind::eval, 1, "t.state_wait('bg-never', 5.0)");
  ASSERT_TRUE(eventually([&] { return ctx_->stats().executing; }));
  ASSERT_EQ(write(pipe_[1], "x", 1), 1);
  EXPECT_TRUE(eventually([&] { return counters_.fd_reads.load() == 1; }));
  ctx_->interrupt();
  auto o = inbox_.pop();
  ASSERT_TRUE(o);
  EXPECT_EQ(o->error_type, "KeyboardInterrupt");
}

TEST_P(Background, DeferredWorkCompletesWhileAnotherRequestWaits) {
  install();
  submit(*ctx_, inbox_, MessageKind::eval, 1, "t.state_wait('bg-never-2', 5.0)");
  ASSERT_TRUE(eventually([&] { return ctx_->stats().executing; }));
  ASSERT_EQ(submit_deferred(2, 20ms).admission, Admission::accepted);
  auto o = inbox_.pop();
  ASSERT_TRUE(o);
  EXPECT_EQ(o->request, 2u);
  EXPECT_EQ(o->value, "1002");
  ctx_->interrupt();
  ASSERT_TRUE(inbox_.pop());
}

TEST_P(Background, ABusyBackgroundDoesNotStarveRequests) {
  install(-1, /*busy=*/true);
  for (std::uint64_t i = 1; i <= 200; ++i)
    submit(*ctx_, inbox_, MessageKind::eval, i, std::to_string(i));
  for (std::uint64_t i = 1; i <= 200; ++i) {
    auto o = inbox_.pop();
    ASSERT_TRUE(o);
    EXPECT_EQ(o->request, i);
  }
  // ...nor requests nested in a waiting one.
  submit(*ctx_, inbox_, MessageKind::eval, 300, "t.state_wait('bg-never-3', 5.0)");
  ASSERT_TRUE(eventually([&] { return ctx_->stats().executing; }));
  submit(*ctx_, inbox_, MessageKind::eval, 301, "301");
  auto nested = inbox_.pop();
  ASSERT_TRUE(nested);
  EXPECT_EQ(nested->request, 301u);
  EXPECT_GT(counters_.runs.load(), 10);
  ctx_->interrupt();
  ASSERT_TRUE(inbox_.pop());
}

TEST_P(Background, AWaitEndsWhenItsDescriptorIsReadable) {
  submit(*ctx_, inbox_, MessageKind::exec, 0, "import _epy_engine_test as t");
  ASSERT_TRUE(inbox_.pop());
  submit(*ctx_, inbox_, MessageKind::eval, 1, "t.wait_fd(" + std::to_string(pipe_[0]) + ", 10.0)");
  ASSERT_TRUE(eventually([&] { return ctx_->stats().executing; }));
  submit(*ctx_, inbox_, MessageKind::eval, 2, "2");  // served while it waits
  auto nested = inbox_.pop();
  ASSERT_TRUE(nested);
  EXPECT_EQ(nested->request, 2u);
  ASSERT_EQ(write(pipe_[1], "x", 1), 1);
  auto o = inbox_.pop();
  ASSERT_TRUE(o);
  EXPECT_EQ(o->request, 1u);
  EXPECT_EQ(o->value, "'fd_ready'");
  // A passed deadline still serves once, then times out.
  submit(*ctx_, inbox_, MessageKind::eval, 3, "t.wait_fd(" + std::to_string(pipe_[0]) + ", 0.0)");
  o = inbox_.pop();
  ASSERT_TRUE(o);
  EXPECT_EQ(o->value, "'fd_ready'");  // the byte is still unread
  char c;
  ASSERT_EQ(read(pipe_[0], &c, 1), 1);
  submit(*ctx_, inbox_, MessageKind::eval, 4, "t.wait_fd(" + std::to_string(pipe_[0]) + ", 0.0)");
  o = inbox_.pop();
  ASSERT_TRUE(o);
  EXPECT_EQ(o->value, "'timed_out'");
}

INSTANTIATE_TEST_SUITE_P(Modes, Background, ::testing::ValuesIn(available_modes()), mode_name);

}  // namespace
}  // namespace epy::test
