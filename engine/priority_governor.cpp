#include "engine/priority_governor.hpp"

#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace epy {

namespace {

using Clock = std::chrono::steady_clock;

long this_tid() { return long(syscall(SYS_gettid)); }

std::int64_t to_ns(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

bool set_nice(long tid, int nice) { return setpriority(PRIO_PROCESS, id_t(tid), nice) == 0; }

int nice_of(long tid) {
  errno = 0;
  const int nice = getpriority(PRIO_PROCESS, id_t(tid));
  return errno == 0 ? nice : 0;
}

// How long the governor keeps looking after the last running request before it sleeps.
constexpr int kIdleLooksBeforeSleep = 8;

}  // namespace

const char* to_string(PriorityMode mode) {
  switch (mode) {
    case PriorityMode::adaptive:
      return "adaptive";
    case PriorityMode::normal:
      return "normal";
    case PriorityMode::low:
      return "low";
  }
  return "unknown";
}

void CpuStretch::begin(Clock::time_point now) {
  since_ns_.store(to_ns(now), std::memory_order_seq_cst);
  // Pairs with the governor going to sleep: either it sees this stretch, or we see it asleep.
  if (governor_ && governor_->asleep_.load(std::memory_order_seq_cst)) governor_->wake();
}

void CpuStretch::end() {
  since_ns_.store(0, std::memory_order_seq_cst);
  if (lowered_.load(std::memory_order_seq_cst) && governor_) governor_->raise(*this);
}

PriorityGovernor::PriorityGovernor(PriorityOptions options) : options_(options) {
  if (options_.mode != PriorityMode::adaptive) return;
  thread_ = std::thread([this] { run(); });
  std::unique_lock<std::mutex> lock(mutex_);
  cv_.wait(lock, [&] { return probed_; });
}

PriorityGovernor::~PriorityGovernor() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    quit_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::shared_ptr<CpuStretch> PriorityGovernor::enter() {
  if (options_.mode == PriorityMode::normal) return nullptr;
  const long tid = this_tid();
  if (options_.mode == PriorityMode::low) {
    set_nice(tid, options_.low_nice);
    return nullptr;
  }
  auto s = std::make_shared<CpuStretch>();
  s->governor_ = this;
  s->tid_ = tid;
  s->normal_nice_ = nice_of(tid);
  std::lock_guard<std::mutex> lock(mutex_);
  stretches_.push_back(s);
  return s;
}

void PriorityGovernor::leave(const std::shared_ptr<CpuStretch>& stretch) {
  if (!stretch) return;
  stretch->end();
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto it = stretches_.begin(); it != stretches_.end(); ++it) {
    if (*it == stretch) {
      stretches_.erase(it);
      break;
    }
  }
}

void PriorityGovernor::wake() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    asleep_.store(false, std::memory_order_seq_cst);
  }
  cv_.notify_all();
}

bool PriorityGovernor::lower(CpuStretch& s, std::int64_t began_by) {
  std::lock_guard<std::mutex> lock(s.mutex_);
  if (s.lowered_.load(std::memory_order_relaxed)) return false;
  // Flag first, then look at the stretch again: pairs with CpuStretch::end(), so either
  // we see that it ended, or it sees the flag and raises the thread back (after us).
  s.lowered_.store(true, std::memory_order_seq_cst);
  const std::int64_t since = s.since_ns();
  if (since == 0 || since > began_by || !set_nice(s.tid_, options_.low_nice)) {
    s.lowered_.store(false, std::memory_order_relaxed);
    return false;
  }
  lowered_count_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void PriorityGovernor::raise(CpuStretch& s) {
  if (!can_raise_) return;  // stays lowered: see the header
  std::lock_guard<std::mutex> lock(s.mutex_);
  if (!s.lowered_.load(std::memory_order_relaxed)) return;
  set_nice(s.tid_, s.normal_nice_);
  s.lowered_.store(false, std::memory_order_relaxed);
}

bool PriorityGovernor::lower_long_stretches() {
  const std::int64_t limit =
      to_ns(Clock::now()) -
      std::chrono::duration_cast<std::chrono::nanoseconds>(options_.lower_after).count();
  bool running = false;
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& s : stretches_) {
    const std::int64_t since = s->since_ns();
    if (since == 0) continue;
    running = true;
    if (since <= limit && !s->lowered()) lower(*s, limit);
  }
  return running;
}

void PriorityGovernor::run() {
  pthread_setname_np(pthread_self(), "py-priority");
  {
    // Can this process raise a thread's priority back? Try it on this thread.
    const long tid = this_tid();
    const int normal = nice_of(tid);
    const bool probe = normal < 19 && set_nice(tid, normal + 1) && set_nice(tid, normal);
    std::lock_guard<std::mutex> lock(mutex_);
    can_raise_ = probe;
    probed_ = true;
  }
  cv_.notify_all();

  const auto look_every = options_.lower_after / 2 + std::chrono::microseconds(1);
  int idle_looks = 0;
  std::unique_lock<std::mutex> lock(mutex_);
  while (!quit_) {
    lock.unlock();
    const bool running = lower_long_stretches();
    lock.lock();
    idle_looks = running ? 0 : idle_looks + 1;
    if (idle_looks < kIdleLooksBeforeSleep) {
      cv_.wait_for(lock, look_every, [&] { return quit_; });
      continue;
    }
    // Sleep until a request begins. Announce it first, then look once more: a request
    // that began before the announcement was visible is seen here (see CpuStretch::begin).
    asleep_.store(true, std::memory_order_seq_cst);
    lock.unlock();
    const bool began = lower_long_stretches();
    lock.lock();
    if (began) {
      asleep_.store(false, std::memory_order_seq_cst);
      idle_looks = 0;
      continue;
    }
    cv_.wait(lock, [&] { return quit_ || !asleep_.load(std::memory_order_seq_cst); });
    idle_looks = 0;
  }
}

}  // namespace epy
