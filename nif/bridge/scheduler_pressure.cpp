#include "nif/bridge/scheduler_pressure.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace epy::nif {

namespace {

// The share of the observed time a scheduler may wait for a core before it counts as
// kept from running. Half, not less: an idle scheduler's busy-wait also queues for a core,
// and lowering a thread for that only hands the core to a spinning scheduler.
constexpr double kPressedShare = 0.5;

bool is_scheduler_thread(const std::string& name) {
  auto ends_with = [&](const char* suffix) {
    const std::size_t n = std::strlen(suffix);
    return name.size() >= n && name.compare(name.size() - n, n, suffix) == 0;
  };
  return ends_with("_scheduler") || ends_with("_dirty_cpu_sch");
}

std::string read_small_file(const std::string& path) {
  char buf[128];
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  const ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return {};
  buf[n] = 0;
  std::string s(buf);
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

SchedulerPressure::SchedulerPressure() {
  DIR* dir = opendir("/proc/self/task");
  if (!dir) return;
  while (dirent* entry = readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    const std::string task = std::string("/proc/self/task/") + entry->d_name;
    if (!is_scheduler_thread(read_small_file(task + "/comm"))) continue;
    const int fd = open((task + "/schedstat").c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) fds_.push_back(fd);
  }
  closedir(dir);
  waited_.assign(fds_.size(), 0);
}

SchedulerPressure::~SchedulerPressure() {
  for (int fd : fds_) close(fd);
}

bool SchedulerPressure::read_waits(std::vector<std::uint64_t>* out) {
  out->resize(fds_.size());
  for (std::size_t i = 0; i < fds_.size(); ++i) {
    char buf[96];
    const ssize_t n = pread(fds_[i], buf, sizeof buf - 1, 0);
    if (n <= 0) return false;
    buf[n] = 0;
    char* rest = nullptr;
    std::strtoull(buf, &rest, 10);                 // time on the CPU
    (*out)[i] = std::strtoull(rest, nullptr, 10);  // time waiting for one
  }
  return true;
}

void SchedulerPressure::mark() {
  marked_ = std::chrono::steady_clock::now();
  if (!read_waits(&waited_)) waited_.assign(fds_.size(), 0);
}

bool SchedulerPressure::pressed() {
  if (fds_.empty()) return true;
  std::vector<std::uint64_t> now;
  if (!read_waits(&now)) return true;
  const double observed = double(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                     std::chrono::steady_clock::now() - marked_)
                                     .count());
  for (std::size_t i = 0; i < now.size(); ++i)
    if (now[i] >= waited_[i] && double(now[i] - waited_[i]) >= kPressedShare * observed)
      return true;
  return false;
}

}  // namespace epy::nif
