// Raising KeyboardInterrupt inside the Python code a context is running for one request,
// from any thread, without waiting for that context's GIL.
//
// On 3.12+ the request is a per-interpreter pending call: the interpreter runs it at its
// next bytecode boundary. On 3.11 pending calls only run on the process's main thread,
// so the engine's Python main thread delivers it with the GIL held (deliver_with_gil()).
// Either way the exception lands only if the request that was meant is still the one
// running: a late interrupt never hits the next request.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>

typedef struct _is PyInterpreterState;

namespace epy {

class InterruptLatch;

// What a queued pending call points at: one per interpreter, naming the latch bound to
// it now. A pending call can outlive the context that queued it, and even the Interpreter
// object (executors share the main interpreter's queue), so targets are never freed: a
// released one goes back to a free list, and a stale call finds no latch, or a latch
// that ignores it (see deliver()).
struct InterruptTarget {
  std::mutex mutex;
  InterruptLatch* latch = nullptr;

  static InterruptTarget* acquire();
  static void release(InterruptTarget* target);

 private:
  InterruptTarget* next_free_ = nullptr;  // guarded by the free list's mutex
};

class InterruptLatch {
 public:
  static constexpr std::uint64_t kNone = ~std::uint64_t(0);

  // Context thread, when the context starts and stops using the interpreter.
  void bind(PyInterpreterState* interp, InterruptTarget* target, unsigned long thread_ident);
  void unbind();

  // What enter() replaced: a request that waits while a nested one runs (see
  // Context::serve_until), or nothing.
  struct Outer {
    std::uint64_t token;
    bool delivered;
  };

  // Context thread, GIL held: the request (a token) being executed from now on.
  Outer enter(std::uint64_t token) {
    Outer outer{running_.load(std::memory_order_relaxed), delivered_};
    delivered_ = false;
    running_.store(token, std::memory_order_seq_cst);
    return outer;
  }
  // Context thread, GIL held: the request finished; drops any interrupt still in flight
  // for it and makes `outer` the running request again. Returns whether an interrupt was
  // delivered into the finished request.
  bool leave(Outer outer);
  std::uint64_t running() const { return running_.load(std::memory_order_seq_cst); }

  // Context thread, GIL held, while the running request waits in C code (where no
  // bytecode runs to deliver it): takes an interrupt aimed at it, if any.
  bool take_pending();
  // Context thread, GIL held: around a wait in C code that lets the GIL go. An interrupt
  // that deliver_with_gil() finds meanwhile is left for take_pending(): as an
  // asynchronous exception it would land only when bytecode runs again, after the wait.
  void begin_wait() { waiting_ = true; }
  void end_wait() { waiting_ = false; }
  // Any thread: whether an interrupt aimed at the running request waits to be taken.
  bool pending() const {
    const std::uint64_t running = running_.load(std::memory_order_acquire);
    return running != kNone && target_.load(std::memory_order_acquire) == running;
  }

  // Any thread. Asks for `token` to be interrupted. Returns true when delivery is arranged;
  // false when the caller must call deliver_with_gil() on a thread holding the GIL.
  bool request(std::uint64_t token);

  // Any thread holding the interpreter's GIL.
  void deliver_with_gil();

 private:
  static int pending_call(void* target);
  // Returns true if the exception was raised in the calling thread directly.
  bool deliver(bool may_raise_here);

  std::atomic<std::uint64_t> running_{kNone};
  std::atomic<std::uint64_t> target_{kNone};
  std::mutex interp_mutex_;  // request() must not reach an interpreter unbind() let go of
  PyInterpreterState* interp_ = nullptr;
  InterruptTarget* target_slot_ = nullptr;
  unsigned long thread_ident_ = 0;
  bool async_pending_ = false;  // guarded by the GIL
  bool delivered_ = false;      // guarded by the GIL
  bool waiting_ = false;        // guarded by the GIL
};

}  // namespace epy
