// Whether the BEAM's schedulers are kept waiting for a core: what the priority governor
// asks before it lowers a context thread (see engine/priority_governor.hpp).
//
// Linux counts, per thread, the time it spent runnable but waiting on a run queue
// (/proc/self/task/<tid>/schedstat, second field). The BEAM names its scheduler threads
// (N_scheduler, N_dirty_cpu_sch), so this finds them once and samples their counters:
// pressed when one of them waited for a core for at least half of the time observed.
// Where schedstat is missing, every observation counts as pressed (the governor then
// lowers every long request, as it would without a pressure gauge).
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

#include "engine/priority_governor.hpp"

namespace epy::nif {

class SchedulerPressure final : public CpuPressure {
 public:
  SchedulerPressure();
  ~SchedulerPressure() override;

  void mark() override;
  bool pressed() override;

  // The scheduler threads found (0: none; then always pressed).
  std::size_t watched() const override { return fds_.size(); }

 private:
  bool read_waits(std::vector<std::uint64_t>* out);

  std::vector<int> fds_;               // schedstat of each scheduler thread, kept open
  std::vector<std::uint64_t> waited_;  // their wait counters at mark()
  std::chrono::steady_clock::time_point marked_{};
};

}  // namespace epy::nif
