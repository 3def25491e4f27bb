// A context's mailbox: a lock-free MPSC queue of envelopes, and the one place where a
// context thread waits for work.
//
// Producers are BEAM scheduler threads (and other contexts, timers, callbacks); the
// single consumer is the context's own thread. A consumer that finds the queue empty
// spins for a short while before parking only when that pays (SpinPolicy: the next
// envelope tends to come within the spin, and waking a parked thread is dear because a
// core is idle) and when the producer runs on another core; on a busy machine, or next
// to its producer, it parks at once, leaving the core to the producer.
// Producers pay for a wake-up (a futex call) only when the consumer is actually parked.
//
// A consumer may also wait for envelopes and file descriptors at once (a context running
// an asyncio loop waits for both): it then parks in ppoll() on the descriptors and an
// eventfd that producers signal only while such a wait is armed.
#pragma once

#include <concurrentqueue/blockingconcurrentqueue.h>

#include <chrono>
#include <cstddef>

#include "engine/envelope.hpp"
#include "engine/spin_policy.hpp"

namespace epy {

class Mailbox {
 public:
  // `spin` is the longest a wait spins before it parks (when spinning pays at all).
  explicit Mailbox(std::chrono::microseconds spin = std::chrono::microseconds(20));
  ~Mailbox();

  Mailbox(const Mailbox&) = delete;
  Mailbox& operator=(const Mailbox&) = delete;

  // Any thread. Never blocks.
  void push(const Envelope& envelope);

  // Consumer only. Takes up to `max` envelopes without waiting.
  std::size_t try_pop(Envelope* out, std::size_t max);

  // Consumer only. Takes up to `max` envelopes, waiting up to `timeout` for the first one
  // (spinning first if that pays, then parking). A negative timeout waits forever.
  // Returns 0 on timeout.
  std::size_t pop(Envelope* out, std::size_t max, std::chrono::microseconds timeout);

  // Consumer only. As pop(), but also returns (0 envelopes) when one of `fds` becomes
  // readable; bit i of *ready is set for each readable fds[i] (at most 8 descriptors).
  std::size_t pop_or_ready(Envelope* out, std::size_t max, std::chrono::microseconds timeout,
                           const int* fds, std::size_t nfds, unsigned* ready);

  // Whether the consumer waits in pop() or pop_or_ready() now (then pushes are stamped).
  bool consumer_waits() const { return waiting_.load(std::memory_order_relaxed); }

  // Approximate number of queued envelopes (for statistics and routing).
  std::size_t size_approx() const { return queue_.size_approx(); }

  // What the waits have learnt (see SpinPolicy), and how they ended: with an envelope
  // found while spinning, or after parking. Any thread may read these.
  const SpinPolicy& spin_policy() const { return policy_; }
  std::uint64_t spun_waits() const { return spun_.load(std::memory_order_relaxed); }
  std::uint64_t parked_waits() const { return parked_.load(std::memory_order_relaxed); }
  // Waits that did not spin because the last producer ran on the consumer's own core.
  std::uint64_t shared_core_waits() const { return shared_core_.load(std::memory_order_relaxed); }

 private:
  using Clock = std::chrono::steady_clock;

  // moodycamel's own semaphore spin is short and fixed at compile time; we spin by time
  // ourselves (see spin_pop()) and keep its spin small.
  struct Traits : moodycamel::ConcurrentQueueDefaultTraits {
    static const int MAX_SEMA_SPINS = 64;
  };

  // Polls for up to the policy's budget (or timeout if shorter); returns what it got.
  std::size_t spin_pop(Envelope* out, std::size_t max, std::chrono::microseconds timeout);
  // Teaches the policy what a wait that began at `idle_since` saw: `n` envelopes in
  // `out` (0: it ended empty), after parking or not.
  void learn(Clock::time_point idle_since, const Envelope* out, std::size_t n, bool parked);

  moodycamel::BlockingConcurrentQueue<Envelope, Traits> queue_;
  SpinPolicy policy_;
  int event_fd_;  // signalled while a descriptor wait is armed
  std::atomic<bool> fd_waiting_{false};
  // Set while the consumer waits: producers then stamp their envelopes for the policy
  // (a clock read and sched_getcpu) and spare themselves that otherwise.
  std::atomic<bool> waiting_{false};
  class Waiting {
   public:
    explicit Waiting(std::atomic<bool>& flag) : flag_(flag) {
      flag_.store(true, std::memory_order_relaxed);
    }
    ~Waiting() { flag_.store(false, std::memory_order_relaxed); }

   private:
    std::atomic<bool>& flag_;
  };
  std::atomic<std::uint64_t> spun_{0};
  std::atomic<std::uint64_t> parked_{0};
  std::atomic<std::uint64_t> shared_core_{0};
  int producer_cpu_ = -1;  // consumer only: where the last envelope was pushed from
};

}  // namespace epy
