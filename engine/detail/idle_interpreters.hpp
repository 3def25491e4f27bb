// Context threads that hold a reusable subinterpreter, parked until a new context needs
// one (see Interpreter::reset for why interpreters are reused at all).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>

namespace epy {
class Context;
}

namespace epy::detail {

class IdleInterpreters {
  struct Parked;

 public:
  using Place = Parked*;

  explicit IdleInterpreters(std::size_t max_idle) : max_idle_(max_idle) {}

  // A context thread whose interpreter is free takes a place (nullptr when the pool is
  // full or closed: the caller then ends its interpreter), announces that its old context
  // has finished, and waits for the next context: wait() returns it, or nullptr when the
  // pool closes. Taking the place first means a new context started right after the old
  // one finished finds this interpreter.
  Place enter();
  std::shared_ptr<Context> wait(Place place);

  // Gives `context` to a parked thread; false if none is parked.
  bool adopt(const std::shared_ptr<Context>& context);

  // Wakes every parked thread (with nullptr) and refuses further parking.
  void close();

  std::size_t idle() const;

 private:
  struct Parked {
    std::shared_ptr<Context> next;
    bool woken = false;
    std::condition_variable cv;
  };

  const std::size_t max_idle_;
  mutable std::mutex mutex_;
  std::deque<Parked*> parked_;
  bool closed_ = false;
};

}  // namespace epy::detail
