#include "engine/priority_governor.hpp"

#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

namespace epy {

namespace {

using Clock = std::chrono::steady_clock;

long this_tid() { return long(syscall(SYS_gettid)); }

bool set_nice(long tid, int nice) { return setpriority(PRIO_PROCESS, id_t(tid), nice) == 0; }

int nice_of(long tid) {
  errno = 0;
  const int nice = getpriority(PRIO_PROCESS, id_t(tid));
  return errno == 0 ? nice : 0;
}

// How long the governor keeps looking after the last running request before it sleeps,
// and how long it sleeps at most (a request that began just as it fell asleep may have
// missed waking it).
constexpr int kIdleLooksBeforeSleep = 8;
constexpr std::chrono::milliseconds kLongestSleep{20};
constexpr int kPressedLooks = 2;

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

void CpuStretch::wake_governor() { governor_->wake(); }

void CpuStretch::raise() { governor_->raise(*this); }

PriorityGovernor::PriorityGovernor(PriorityOptions options) : options_(std::move(options)) {
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
  s->governor_asleep_ = &asleep_;
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

void PriorityGovernor::lower(CpuStretch& s, std::uint64_t seq) {
  std::lock_guard<std::mutex> lock(s.mutex_);
  if (s.lowered_.load(std::memory_order_relaxed) || !set_nice(s.tid_, options_.low_nice)) return;
  s.lowered_.store(true, std::memory_order_seq_cst);
  lowered_count_.fetch_add(1, std::memory_order_relaxed);
  // The stretch may have ended meanwhile, before its thread could see the flag: then
  // raise it back here. (Should both miss each other, the thread raises itself at the end
  // of its next stretch.)
  if (s.seq_.load(std::memory_order_seq_cst) != seq && can_raise_) {
    set_nice(s.tid_, s.normal_nice_);
    s.lowered_.store(false, std::memory_order_relaxed);
  }
}

void PriorityGovernor::raise(CpuStretch& s) {
  if (!can_raise_) return;  // stays lowered: see the header
  std::lock_guard<std::mutex> lock(s.mutex_);
  if (!s.lowered_.load(std::memory_order_relaxed)) return;
  set_nice(s.tid_, s.normal_nice_);
  s.lowered_.store(false, std::memory_order_relaxed);
}

bool PriorityGovernor::pressed() {
  if (!options_.pressure) return true;
  if (!observing_) {  // the first look at a long request opens an observation
    options_.pressure->mark();
    observing_ = true;
    pressed_looks_ = 0;
    return false;
  }
  // One busy moment is no reason: the schedulers must have been kept waiting at two
  // looks in a row.
  pressed_looks_ = options_.pressure->pressed() ? pressed_looks_ + 1 : 0;
  options_.pressure->mark();
  return pressed_looks_ >= kPressedLooks;
}

bool PriorityGovernor::lower_long_stretches() {
  bool running = false;
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::pair<CpuStretch*, std::uint64_t>> long_ones;
  for (auto& s : stretches_) {
    const std::uint64_t seq = s->seq_.load(std::memory_order_seq_cst);
    const bool runs = seq & 1;
    // The same stretch as at the last look, a whole interval ago: it has run that long.
    if (runs && seq == s->seen_ && !s->lowered()) long_ones.emplace_back(s.get(), seq);
    s->seen_ = seq;
    running |= runs;
  }
  if (long_ones.empty()) {
    observing_ = false;
  } else if (pressed()) {
    for (auto& [s, seq] : long_ones) lower(*s, seq);
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

  const auto look_every = options_.lower_after;
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
    cv_.wait_for(lock, kLongestSleep,
                 [&] { return quit_ || !asleep_.load(std::memory_order_seq_cst); });
    asleep_.store(false, std::memory_order_seq_cst);
    idle_looks = 0;
  }
}

}  // namespace epy
