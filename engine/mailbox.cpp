#include "engine/mailbox.hpp"

#include <thread>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define EPY_CPU_RELAX() _mm_pause()
#else
#define EPY_CPU_RELAX() std::this_thread::yield()
#endif

namespace epy {

Mailbox::Mailbox(std::chrono::microseconds spin) : spin_(spin) {}

void Mailbox::push(const Envelope& envelope) { queue_.enqueue(envelope); }

std::size_t Mailbox::try_pop(Envelope* out, std::size_t max) {
  return queue_.try_dequeue_bulk(out, max);
}

std::size_t Mailbox::pop(Envelope* out, std::size_t max, std::chrono::microseconds timeout) {
  if (std::size_t n = queue_.try_dequeue_bulk(out, max)) return n;

  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  auto spin = spin_;
  if (timeout.count() >= 0 && timeout < spin) spin = timeout;
  if (spin.count() > 0) {
    const auto spin_until = start + spin;
    for (;;) {
      // Check the clock only every few polls: reading it costs more than a poll.
      for (int i = 0; i < 32; ++i) {
        if (std::size_t n = queue_.try_dequeue_bulk(out, max)) return n;
        EPY_CPU_RELAX();
      }
      if (clock::now() >= spin_until) break;
    }
  }

  if (timeout.count() < 0) return queue_.wait_dequeue_bulk(out, max);
  const auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(clock::now() - start);
  if (elapsed >= timeout) return queue_.try_dequeue_bulk(out, max);
  return queue_.wait_dequeue_bulk_timed(out, max, (timeout - elapsed).count());
}

}  // namespace epy
