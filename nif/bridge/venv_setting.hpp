// The virtual environment every context uses (py:activate_venv/1): its directory and
// site-packages directories, and a generation that changes with every activation or
// deactivation. Contexts compare generations before each request and apply a change
// then (see sync_interpreter_settings), so a switch reaches every context without
// waiting for busy ones. Process-wide, like sys.path is for a Python program.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace epy::nif {

struct VenvSetting {
  std::uint64_t generation = 0;  // 0: never set
  std::string path;              // empty: no virtual environment
  std::vector<std::string> site_dirs;
};

// Empty `path`: deactivate.
void set_venv(std::string path, std::vector<std::string> site_dirs);
std::uint64_t venv_generation();
VenvSetting venv_setting();

}  // namespace epy::nif
