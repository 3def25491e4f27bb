// The engine's one "fire once, then wait" primitive: any thread fires it, one thread
// waits for it. On a context's thread the wait is Context::serve_until (the context keeps
// serving its mailbox, and the fire wakes it through the mailbox); on any other thread
// the thread sleeps on a condition variable, without the GIL. Python calling Erlang,
// state_wait and the channels' blocking receive and send all wait this way.
#pragma once

#include <condition_variable>
#include <mutex>

#include "engine/context.hpp"

namespace epy {

class WakeSignal {
 public:
  // The waiter is the constructing thread: its context, or a plain thread.
  WakeSignal() : WakeSignal(Context::current()) {}
  explicit WakeSignal(Context* context) : context_(context) {}

  WakeSignal(const WakeSignal&) = delete;
  WakeSignal& operator=(const WakeSignal&) = delete;

  // Any thread.
  void fire();
  bool fired();
  // The waiter stopped waiting for good: a late fire() no longer wakes its context
  // (which may be gone by then).
  void detach();

  // Waiter: expects the next fire().
  void rearm();
  // Waiter, GIL held: until fired or the deadline (time_point::max(): none). On a context:
  // ready, timed_out, interrupted or stopping (see Context::serve_until); elsewhere:
  // ready or timed_out.
  Context::WaitResult wait_until(Context::Clock::time_point deadline);

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  Context* context_;
  bool fired_ = false;
};

}  // namespace epy
