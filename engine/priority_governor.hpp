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
// So priorities follow what a thread does (adaptive mode, the default): a context thread
// runs at its normal priority, and only a request that has kept it running for longer
// than `lower_after` is lowered, by the governor's thread, which looks every
// `lower_after / 2` and only while some request runs; the context thread raises itself
// back when the request ends or waits. Raising a priority back needs CAP_SYS_NICE or an
// RLIMIT_NICE of at least 20 - normal nice; without it a lowered thread stays lowered
// (the BEAM's health wins over Python's share of the CPU), which can_raise() reports.
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

struct PriorityOptions {
  PriorityMode mode = PriorityMode::adaptive;
  int low_nice = 19;
  std::chrono::milliseconds lower_after{2};
};

// One context thread's current stretch of running, shared with the governor.
class CpuStretch {
 public:
  // Context thread, from the start of its request (or the end of a wait inside one).
  void begin(std::chrono::steady_clock::time_point now);
  // Context thread: the request ended or waits; raises the thread back if it was lowered.
  void end();

  bool lowered() const { return lowered_.load(std::memory_order_relaxed); }
  long tid() const { return tid_; }

 private:
  friend class PriorityGovernor;
  std::int64_t since_ns() const { return since_ns_.load(std::memory_order_seq_cst); }

  class PriorityGovernor* governor_ = nullptr;
  long tid_ = 0;
  int normal_nice_ = 0;
  std::atomic<std::int64_t> since_ns_{0};  // 0: not running a request
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
  // Lowers s's thread if its stretch began by `began_by` (steady clock ns) and still runs.
  bool lower(CpuStretch& s, std::int64_t began_by);
  void raise(CpuStretch& s);

  const PriorityOptions options_;
  bool can_raise_ = false;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool quit_ = false;
  bool probed_ = false;
  std::atomic<bool> asleep_{false};
  std::vector<std::shared_ptr<CpuStretch>> stretches_;  // guarded by mutex_
  std::atomic<std::uint64_t> lowered_count_{0};
  std::thread thread_;
};

}  // namespace epy
