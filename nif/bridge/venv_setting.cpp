#include "nif/bridge/venv_setting.hpp"

#include <atomic>
#include <mutex>

namespace epy::nif {

namespace {
// Never destroyed: contexts may read it while the VM exits.
std::mutex& setting_mutex() {
  static auto* m = new std::mutex;
  return *m;
}
VenvSetting& setting() {
  static auto* s = new VenvSetting;
  return *s;
}
std::atomic<std::uint64_t> g_generation{0};
}  // namespace

void set_venv(std::string path, std::vector<std::string> site_dirs) {
  std::lock_guard<std::mutex> lock(setting_mutex());
  VenvSetting& s = setting();
  s.path = std::move(path);
  s.site_dirs = std::move(site_dirs);
  s.generation = g_generation.load(std::memory_order_relaxed) + 1;
  g_generation.store(s.generation, std::memory_order_release);
}

std::uint64_t venv_generation() { return g_generation.load(std::memory_order_acquire); }

VenvSetting venv_setting() {
  std::lock_guard<std::mutex> lock(setting_mutex());
  return setting();
}

}  // namespace epy::nif
