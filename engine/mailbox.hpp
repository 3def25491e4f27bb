// A context's mailbox: a lock-free MPSC queue of envelopes with spin-then-park waiting.
//
// Producers are BEAM scheduler threads (and later other contexts); the single consumer is
// the context's own thread. A consumer that has just finished work spins for a short while
// before parking, because waking a parked thread costs ~20 us on our machines while a
// spinning one picks up the next envelope in well under a microsecond. Producers only pay
// for a wake-up (a futex call) when the consumer is actually parked.
//
// A consumer may also wait for envelopes and file descriptors at once (a context running
// an asyncio loop waits for both): it then parks in ppoll() on the descriptors and an
// eventfd that producers signal only while such a wait is armed.
#pragma once

#include <chrono>
#include <cstddef>

#include <concurrentqueue/blockingconcurrentqueue.h>

#include "engine/envelope.hpp"

namespace epy {

class Mailbox {
 public:
  // `spin` is how long pop() polls before it parks the thread.
  explicit Mailbox(std::chrono::microseconds spin = std::chrono::microseconds(20));
  ~Mailbox();

  Mailbox(const Mailbox&) = delete;
  Mailbox& operator=(const Mailbox&) = delete;

  // Any thread. Never blocks.
  void push(const Envelope& envelope);

  // Consumer only. Takes up to `max` envelopes without waiting.
  std::size_t try_pop(Envelope* out, std::size_t max);

  // Consumer only. Takes up to `max` envelopes, waiting up to `timeout` for the first one
  // (spinning first, then parking). A negative timeout waits forever. Returns 0 on timeout.
  std::size_t pop(Envelope* out, std::size_t max, std::chrono::microseconds timeout);

  // Consumer only. As pop(), but also returns (0 envelopes) when one of `fds` becomes
  // readable; bit i of *ready is set for each readable fds[i] (at most 8 descriptors).
  std::size_t pop_or_ready(Envelope* out, std::size_t max, std::chrono::microseconds timeout,
                           const int* fds, std::size_t nfds, unsigned* ready);

  // Approximate number of queued envelopes (for statistics and routing).
  std::size_t size_approx() const { return queue_.size_approx(); }

 private:
  // moodycamel's own semaphore spin is short and fixed at compile time; we spin by time
  // ourselves (see pop()) and keep its spin small.
  struct Traits : moodycamel::ConcurrentQueueDefaultTraits {
    static const int MAX_SEMA_SPINS = 64;
  };

  // Polls for up to spin_ (or timeout if shorter); returns what it got.
  std::size_t spin_pop(Envelope* out, std::size_t max, std::chrono::microseconds timeout);

  moodycamel::BlockingConcurrentQueue<Envelope, Traits> queue_;
  std::chrono::microseconds spin_;
  int event_fd_;                        // signalled while a descriptor wait is armed
  std::atomic<bool> fd_waiting_{false};
};

}  // namespace epy
