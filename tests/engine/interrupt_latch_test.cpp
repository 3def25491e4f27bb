// The interrupt latch on its own, on a thread of the main interpreter: an interrupt that
// another thread delivers with the GIL (Python 3.11's way) while the request waits in C
// stays for the waiter to take; outside a wait it becomes an asynchronous exception.
#include <thread>

#include "engine/python/interrupt.hpp"
#include "engine/python/python.hpp"
#include "engine_fixture.hpp"

namespace epy::test {
namespace {

constexpr std::uint64_t kRequest = 7;

class InterruptLatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    engine();  // CPython is initialised
    gil_ = PyGILState_Ensure();
    target_ = InterruptTarget::acquire();
    // No interpreter bound: request() only records the target (no pending call).
    latch_.bind(nullptr, target_, PyThread_get_thread_ident());
    outer_ = latch_.enter(kRequest);
  }
  void TearDown() override {
    latch_.leave(outer_);
    latch_.unbind();
    InterruptTarget::release(target_);
    PyErr_Clear();
    PyGILState_Release(gil_);
  }
  // As the engine's Python main thread does on 3.11, while this thread lets the GIL go.
  void deliver_from_another_thread() {
    PyThreadState* saved = PyEval_SaveThread();
    std::thread other([this] {
      PyGILState_STATE g = PyGILState_Ensure();
      latch_.deliver_with_gil();
      PyGILState_Release(g);
    });
    other.join();
    PyEval_RestoreThread(saved);
  }

  PyGILState_STATE gil_;
  InterruptTarget* target_ = nullptr;
  InterruptLatch latch_;
  InterruptLatch::Outer outer_{};
};

TEST_F(InterruptLatchTest, OneDeliveredDuringAWaitIsLeftForTheWaiter) {
  latch_.begin_wait();
  latch_.request(kRequest);  // on 3.11 the caller must then deliver: as below
  deliver_from_another_thread();
  latch_.end_wait();
  EXPECT_TRUE(latch_.pending());
  EXPECT_TRUE(latch_.take_pending());
  EXPECT_FALSE(latch_.pending());
  // Nothing is left to land in the bytecode that runs next.
  py::Ref result(PyRun_String("1 + 1", Py_eval_input, PyEval_GetBuiltins(), nullptr));
  EXPECT_TRUE(result);
  EXPECT_FALSE(PyErr_Occurred());
}

TEST_F(InterruptLatchTest, OneDeliveredOutsideAWaitLandsInTheNextBytecode) {
  latch_.request(kRequest);  // on 3.11 the caller must then deliver: as below
  deliver_from_another_thread();
  EXPECT_FALSE(latch_.take_pending());  // taken already, as an asynchronous exception
  py::Ref result(PyRun_String("1 + 1", Py_eval_input, PyEval_GetBuiltins(), nullptr));
  EXPECT_FALSE(result);
  EXPECT_TRUE(PyErr_ExceptionMatches(PyExc_KeyboardInterrupt));
}

}  // namespace
}  // namespace epy::test
