// Whether a consumer that finds its queue empty should spin before it parks.
//
// Spinning (polling for a few microseconds) beats parking (sleeping in the kernel until a
// producer wakes us) only when two things hold at once:
//   - the next item comes soon (within the spin), and
//   - waking a parked thread is expensive. It is when the core the thread wakes on is
//     idle: on a VM an idle vCPU must be kicked out of halt, about 20 us here. It is cheap
//     (1-3 us, a preemption) when every core is busy, and then spinning is harmful: the
//     spinner holds a core the producer needs, so the item comes only after the spin
//     gives up (measured: call p50 23 us with one CPU hog while spinning, 2.8 us parking).
// The policy learns both from what the consumer sees, with no clock of its own: how long
// after going idle each item was pushed (the gap), and, after a park, how long the
// wake-up took (from the push to the consumer running again). A busy machine shows up as
// cheap wake-ups and failed spins, a quiet one as dear wake-ups and quick items; the
// policy follows within a few waits either way.
//
// A spin lasts as long as a wake-up is expected to cost (capped by max_spin): spinning
// longer than that can only lose, spinning shorter lets a producer that was itself slow
// to wake (a BEAM scheduler that went to sleep) find us parked in turn, so that every
// round trip pays two wake-ups and both sides keep missing each other. The cap (20 us
// for contexts) matters under full load: there a wake-up looks dear only because the
// woken thread queues for a core, and spins longer than the typical gap between
// requests just take that core from the producers (measured: -8% calls/s with 50
// callers at a 100 us cap).
//
// Observations come from the consumer only (see Mailbox); other threads may read the
// estimates for statistics.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace epy {

class SpinPolicy {
 public:
  using Nanos = std::chrono::nanoseconds;

  // Wake-ups at most this dear are not worth a spin.
  static constexpr Nanos kCheapWake{8000};

  // `max_spin`: how long a spin lasts when spinning pays (zero: never spin).
  explicit SpinPolicy(std::chrono::microseconds max_spin) : max_spin_(max_spin) {}

  // How long the next wait should spin before it parks (zero: park at once).
  std::chrono::microseconds budget() const {
    return hits() >= kHalf && wake_ns() > kCheapWake.count() ? spin_length()
                                                             : std::chrono::microseconds(0);
  }

  // The next item was pushed `gap` after the consumer went idle (it came while spinning,
  // or after a park). A wait that ended with nothing passes the time it waited.
  void saw_gap(Nanos gap) {
    const bool hit = gap <= Nanos(spin_length());
    hits_.store(hits() + ((hit ? kOne : 0) - hits()) / kWeight, std::memory_order_relaxed);
  }

  // A parked consumer was running again `wake` after the item that woke it was pushed.
  void saw_wake(Nanos wake) {
    const std::int64_t x = wake.count() < kWakeClamp ? wake.count() : kWakeClamp;
    wake_ns_.store(wake_ns() + (x - wake_ns()) / kWeight, std::memory_order_relaxed);
  }

  std::chrono::microseconds max_spin() const { return max_spin_; }
  // The learnt estimates (for statistics and tests).
  Nanos wake_estimate() const { return Nanos(wake_ns()); }
  double hit_rate() const { return double(hits()) / kOne; }

 private:
  static constexpr std::int32_t kOne = 1 << 12;  // hit rate in fixed point
  static constexpr std::int32_t kHalf = kOne / 2;
  static constexpr std::int32_t kWeight = 8;          // each observation moves 1/8 of the way
  static constexpr std::int64_t kWakeClamp = 200000;  // one descheduled wake-up must not dominate

  std::int32_t hits() const { return hits_.load(std::memory_order_relaxed); }
  // A spin worth as much as the wake-up it saves, at most max_spin.
  std::chrono::microseconds spin_length() const {
    const std::chrono::microseconds wake(wake_ns() / 1000);
    return wake < max_spin_ ? wake : max_spin_;
  }
  std::int64_t wake_ns() const { return wake_ns_.load(std::memory_order_relaxed); }

  std::chrono::microseconds max_spin_;
  std::atomic<std::int32_t> hits_{kOne};      // start out spinning, as if quiet...
  std::atomic<std::int64_t> wake_ns_{20000};  // ...with dear wake-ups
};

}  // namespace epy
