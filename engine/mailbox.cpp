#include "engine/mailbox.hpp"

#include <poll.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <stdexcept>
#include <thread>

#include "engine/cpu_relax.hpp"

namespace epy {

namespace {

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Mailbox::Mailbox(std::chrono::microseconds spin)
    : policy_(spin), event_fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  if (event_fd_ < 0) throw std::runtime_error("eventfd() failed");
}

Mailbox::~Mailbox() { close(event_fd_); }

void Mailbox::push(const Envelope& envelope) {
  Envelope stamped = envelope;
  if (waiting_.load(std::memory_order_relaxed)) {  // only a waiting consumer learns from it
    stamped.pushed_ns = now_ns();
    stamped.pushed_on_cpu = sched_getcpu();
  }
  queue_.enqueue(stamped);
  // Pairs with the fence in pop_or_ready(): either the consumer sees this envelope before
  // it sleeps, or we see that it sleeps in ppoll() and wake it.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (fd_waiting_.load(std::memory_order_relaxed)) {
    const std::uint64_t one = 1;
    (void)!write(event_fd_, &one, sizeof one);
  }
}

std::size_t Mailbox::try_pop(Envelope* out, std::size_t max) {
  return queue_.try_dequeue_bulk(out, max);
}

void Mailbox::learn(Clock::time_point idle_since, const Envelope* out, std::size_t n, bool parked) {
  const std::int64_t idle_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(idle_since.time_since_epoch()).count();
  if (n == 0) {  // ended empty: a miss if it waited longer than a spin, else nothing learnt
    const std::chrono::nanoseconds waited(now_ns() - idle_ns);
    if (waited > policy_.max_spin()) policy_.saw_gap(waited);
    return;
  }
  (parked ? parked_ : spun_).fetch_add(1, std::memory_order_relaxed);
  const std::int64_t pushed = out[0].pushed_ns;
  if (pushed == 0) return;  // pushed before the producer saw us waiting: nothing to learn
  producer_cpu_ = out[0].pushed_on_cpu;
  policy_.saw_gap(std::chrono::nanoseconds(pushed > idle_ns ? pushed - idle_ns : 0));
  if (parked && pushed > idle_ns) policy_.saw_wake(std::chrono::nanoseconds(now_ns() - pushed));
}

std::size_t Mailbox::spin_pop(Envelope* out, std::size_t max, std::chrono::microseconds timeout) {
  if (std::size_t n = queue_.try_dequeue_bulk(out, max)) return n;
  using clock = std::chrono::steady_clock;
  auto spin = policy_.budget();
  if (timeout.count() >= 0 && timeout < spin) spin = timeout;
  if (spin.count() <= 0) return 0;
  // Sharing a core with the producer (the kernel often wakes it next to us): a spin
  // would only keep it from running. Park, so that it can.
  if (producer_cpu_ >= 0 && producer_cpu_ == sched_getcpu()) {
    shared_core_.fetch_add(1, std::memory_order_relaxed);
    return 0;
  }
  const auto spin_until = clock::now() + spin;
  for (;;) {
    // Check the clock only every few polls: reading it costs more than a poll.
    for (int i = 0; i < 32; ++i) {
      if (std::size_t n = queue_.try_dequeue_bulk(out, max)) return n;
      cpu_relax();
    }
    if (clock::now() >= spin_until) return 0;
  }
}

std::size_t Mailbox::pop(Envelope* out, std::size_t max, std::chrono::microseconds timeout) {
  if (std::size_t n = queue_.try_dequeue_bulk(out, max)) return n;  // no wait: nothing to learn
  Waiting waiting(waiting_);
  const auto start = Clock::now();
  if (std::size_t n = spin_pop(out, max, timeout)) {
    learn(start, out, n, false);
    return n;
  }
  std::size_t n;
  if (timeout.count() < 0) {
    n = queue_.wait_dequeue_bulk(out, max);
  } else {
    const auto elapsed =
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
    n = elapsed >= timeout ? queue_.try_dequeue_bulk(out, max)
                           : queue_.wait_dequeue_bulk_timed(out, max, (timeout - elapsed).count());
  }
  learn(start, out, n, true);
  return n;
}

std::size_t Mailbox::pop_or_ready(Envelope* out, std::size_t max, std::chrono::microseconds timeout,
                                  const int* fds, std::size_t nfds, unsigned* ready) {
  *ready = 0;
  if (nfds == 0) return pop(out, max, timeout);
  if (nfds > 8) nfds = 8;
  pollfd pfds[9];
  pfds[0] = {event_fd_, POLLIN, 0};
  for (std::size_t i = 0; i < nfds; ++i) pfds[i + 1] = {fds[i], POLLIN, 0};

  // Descriptors first (cheap: a zero-timeout poll), then a short spin on the queue.
  using clock = std::chrono::steady_clock;
  Waiting waiting(waiting_);
  const auto start = clock::now();
  bool waited = false;  // parked in ppoll (what it saw teaches the spin policy)
  timespec zero{0, 0};
  if (ppoll(pfds + 1, nfds, &zero, nullptr) <= 0) {
    if (std::size_t n = spin_pop(out, max, timeout)) {
      learn(start, out, n, false);
      return n;
    }
    const bool forever = timeout.count() < 0;
    const auto deadline = start + timeout;
    for (;;) {
      fd_waiting_.store(true, std::memory_order_relaxed);
      std::atomic_thread_fence(std::memory_order_seq_cst);  // pairs with push()
      if (std::size_t n = queue_.try_dequeue_bulk(out, max)) {
        fd_waiting_.store(false, std::memory_order_relaxed);
        learn(start, out, n, false);
        return n;
      }
      timespec ts, *tsp = nullptr;
      if (!forever) {  // what the spin and earlier waits took counts against the timeout
        auto left = std::chrono::duration_cast<std::chrono::microseconds>(deadline - clock::now());
        if (left.count() < 0) left = std::chrono::microseconds(0);
        ts.tv_sec = time_t(left.count() / 1000000);
        ts.tv_nsec = long(left.count() % 1000000) * 1000;
        tsp = &ts;
      }
      while (ppoll(pfds, nfds + 1, tsp, nullptr) < 0 && errno == EINTR) {
      }
      waited = true;
      fd_waiting_.store(false, std::memory_order_relaxed);
      if (!pfds[0].revents) break;  // a descriptor, or the timeout
      std::uint64_t count;
      (void)!read(event_fd_, &count, sizeof count);
      if (std::size_t n = queue_.try_dequeue_bulk(out, max)) {
        learn(start, out, n, true);
        return n;
      }
      // A wake-up left over from a push whose envelope was taken before this wait: wait
      // again for what is left, unless a descriptor became readable meanwhile.
      bool readable = false;
      for (std::size_t i = 0; i < nfds; ++i) readable |= pfds[i + 1].revents != 0;
      if (readable || (!forever && clock::now() >= deadline)) break;
    }
  }
  for (std::size_t i = 0; i < nfds; ++i)
    if (pfds[i + 1].revents) *ready |= 1u << i;
  const std::size_t n = queue_.try_dequeue_bulk(out, max);
  if (waited) learn(start, out, n, true);
  return n;
}

}  // namespace epy
