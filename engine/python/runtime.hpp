// Process-wide CPython: initialised once, on the engine's thread, and never finalised
// (CPython cannot be initialised twice in one process, and a VM halt must not wait for it).
#pragma once

#include <string>
#include <utility>
#include <vector>

struct _object;
typedef struct _object PyObject;

namespace epy {

struct RuntimeOptions {
  // PyConfig.home: the prefix of the Python build we were compiled against.
  std::string home;
  // C extension modules built into the host (the NIF's `_erlang`), registered with
  // PyImport_AppendInittab so that every interpreter can import them.
  std::vector<std::pair<std::string, PyObject* (*)()>> builtin_modules;
  // Refuse fork, exec and signals to the process from Python (see sandbox.hpp).
  bool sandbox = true;
  // The Python program that seals and resets interpreters for reuse (the erlang package's
  // _reset.py): read once, at start. Empty or unreadable: interpreters are never reused.
  std::string reset_program_path;
};

class PythonRuntime {
 public:
  // Initialise CPython on the calling thread and release the GIL. A second call in the same
  // process finds it initialised and returns true without changing anything.
  static bool ensure_initialized(const RuntimeOptions& options, std::string* error);
  static bool initialized();

  // "3.13.0"
  static std::string version();
  // Compiled against 3.12+ with a GIL: contexts may be OWN_GIL subinterpreters.
  static bool own_gil_available();
  // Compiled against a free-threaded (no GIL) build.
  static bool free_threaded();

  // The text of RuntimeOptions::reset_program_path, as read at start ("" if none).
  static const std::string& reset_program();
};

}  // namespace epy
