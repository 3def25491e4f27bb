// Context threads that run Python for long give way to the BEAM's schedulers.
//
// A context thread competes for the cores with the BEAM's scheduler threads at the same
// OS priority. While it runs short requests that costs nothing, but a context stuck in
// CPU-bound Python for seconds takes a core away from the schedulers: with every context
// busy, 1 ms timers in the BEAM fired late by up to 140 ms (p99 75 ms) on our 2-core
// machines. Lowering a busy thread's priority (nice 19) brings that to about 1 ms.
// Lowering every context thread for good would cost latency instead: a low-priority
// thread woken for a request on a busy machine waits a whole time slice of whatever runs.
//
// Nor may a lowered thread lose against everything else: against other processes'
// CPU-bound work (nice 0) a nice-19 thread gets 1.5% of a core, and the Python behind it
// crawls although the BEAM needs nothing.
//
// So priorities follow what a thread does and what the BEAM needs (adaptive mode, the
// default): a context thread runs at its normal priority, and a request that has kept
// it running for a whole `lower_after` is lowered only if, meanwhile, the threads the
// governor protects (the BEAM's schedulers: see CpuPressure) were kept waiting for a
// core; it stays lowered until it ends or waits, when its thread raises itself back.
// The governor looks every `lower_after`; two looks in a row must find the schedulers
// kept waiting (so a request is lowered after 6-8 ms of pressure by default). A request costs its
// thread two plain stores and a load: each stretch bumps a sequence number that the governor
// samples. Raising a priority back needs CAP_SYS_NICE or an RLIMIT_NICE of at least 20 - normal
// nice; without it a lowered thread stays lowered (the BEAM's health wins over Python's share of
// the CPU), which can_raise() reports.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace epy {

enum class PriorityMode {
  adaptive,  // lower requests that run long (see above)
  normal,    // never touch priorities: Python competes with the schedulers as an equal
  low,       // every context thread always at the low priority
};

const char* to_string(PriorityMode mode);

// Whether the threads the governor protects are kept waiting for a core. Governor
// thread only.
class CpuPressure {
 public:
  virtual ~CpuPressure() = default;
  // Starts an observation.
  virtual void mark() = 0;
  // How many threads it watches (for statistics).
  virtual std::size_t watched() const = 0;
  // Whether, since mark(), a protected thread waited for a core for a significant share
  // of the time.
  virtual bool pressed() = 0;
};

struct PriorityOptions {
  PriorityMode mode = PriorityMode::normal;  // the NIF chooses adaptive, with its pressure gauge
  int low_nice = 19;
  std::chrono::milliseconds lower_after{2};
  // nullptr: always pressed (lower every long request).
  std::shared_ptr<CpuPressure> pressure;
};

// One context thread's stretches of running, shared with the governor.
class CpuStretch {
 public:
  // Context thread: a request begins (or goes on after a wait inside it).
  void begin() {
    seq_.store(seq_.load(std::memory_order_relaxed) | 1, std::memory_order_relaxed);
    if (governor_asleep_->load(std::memory_order_relaxed)) wake_governor();
  }
  // Context thread: the request ended or waits; raises the thread back if it was lowered.
  void end() {
    seq_.store((seq_.load(std::memory_order_relaxed) | 1) + 1, std::memory_order_relaxed);
    if (lowered_.load(std::memory_order_relaxed)) raise();
  }

  // Context thread, before it waits for work: an idle thread must not wait lowered (a
  // lowering that raced with the end of the stretch is seen here at the latest).
  void settle() {
    if (lowered_.load(std::memory_order_relaxed)) raise();
  }

  bool lowered() const { return lowered_.load(std::memory_order_relaxed); }
  long tid() const { return tid_; }

 private:
  friend class PriorityGovernor;
  void wake_governor();
  void raise();

  class PriorityGovernor* governor_ = nullptr;
  const std::atomic<bool>* governor_asleep_ = nullptr;
  long tid_ = 0;
  int normal_nice_ = 0;
  // Odd while a stretch runs; each stretch has its own value.
  std::atomic<std::uint64_t> seq_{0};
  std::uint64_t seen_ = 0;  // the governor's last sample (governor only)
  std::atomic<bool> lowered_{false};
  std::mutex mutex_;  // orders the governor's lowering against the thread's raising
};

class PriorityGovernor {
 public:
  explicit PriorityGovernor(PriorityOptions options);
  ~PriorityGovernor();  // stops the governor's thread

  PriorityGovernor(const PriorityGovernor&) = delete;
  PriorityGovernor& operator=(const PriorityGovernor&) = delete;

  // Context thread, when it starts serving: its stretch (nullptr in normal mode). In low
  // mode the thread is lowered here, for good.
  std::shared_ptr<CpuStretch> enter();
  // Context thread, when it stops serving (raises it back if lowered).
  void leave(const std::shared_ptr<CpuStretch>& stretch);

  const PriorityOptions& options() const { return options_; }
  // Whether a lowered thread can be raised back (probed once, on the governor's thread).
  bool can_raise() const { return can_raise_; }
  // Requests lowered so far.
  std::uint64_t lowered_count() const { return lowered_count_.load(std::memory_order_relaxed); }

 private:
  friend class CpuStretch;
  void run();
  void wake();                  // a request began while the governor slept
  bool lower_long_stretches();  // true while some request runs
  bool pressed();               // asks options_.pressure, one observation per look
  // Lowers s's thread if the stretch `seq` still runs.
  void lower(CpuStretch& s, std::uint64_t seq);
  void raise(CpuStretch& s);

  const PriorityOptions options_;
  bool can_raise_ = false;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool quit_ = false;
  bool probed_ = false;
  std::atomic<bool> asleep_{false};
  std::vector<std::shared_ptr<CpuStretch>> stretches_;  // guarded by mutex_
  bool observing_ = false;  // governor only: a pressure observation is open...
  int pressed_looks_ = 0;   // ...and how many looks in a row found the schedulers waiting
  std::atomic<std::uint64_t> lowered_count_{0};
  std::thread thread_;
};

}  // namespace epy
