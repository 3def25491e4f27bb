#include "engine/python/runtime.hpp"

#include <atomic>
#include <fstream>
#include <sstream>

#include "engine/python/python.hpp"
#include "engine/python/sandbox.hpp"

namespace epy {

namespace {

std::atomic<bool> g_initialized{false};
std::string g_reset_program;  // written once, before g_initialized

std::string read_file(const std::string& path) {
  if (path.empty()) return {};
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return in ? text.str() : std::string();
}

std::string status_message(const PyStatus& status) {
  std::string msg = status.err_msg ? status.err_msg : "unknown error";
  if (status.func) msg = std::string(status.func) + ": " + msg;
  return msg;
}

// Python 3.12 only: these single-phase C modules refuse OWN_GIL subinterpreters, and if a
// subinterpreter tries one of them before the main interpreter has imported it, the
// process later aborts ("double free or corruption"). Importing them here first avoids it;
// subinterpreters then fall back to the pure-Python decimal and datetime.
void preimport_single_phase_modules() {
#if PY_VERSION_HEX >= 0x030C0000 && PY_VERSION_HEX < 0x030D0000
  for (const char* name : {"_decimal", "_datetime", "_ctypes", "_sqlite3", "decimal", "datetime"}) {
    PyObject* m = PyImport_ImportModule(name);
    if (m) {
      Py_DECREF(m);
    } else {
      PyErr_Clear();
    }
  }
#endif
}

}  // namespace

bool PythonRuntime::initialized() { return g_initialized.load(); }

bool PythonRuntime::ensure_initialized(const RuntimeOptions& options, std::string* error) {
  if (g_initialized.load()) return true;
  g_reset_program = read_file(options.reset_program_path);
  if (Py_IsInitialized()) {  // someone else embedded Python in this process first
    if (options.sandbox) {
      PyGILState_STATE gil = PyGILState_Ensure();
      const bool ok =
          Sandbox::install_audit_hook(error) && Sandbox::block_unaudited_functions(error);
      PyGILState_Release(gil);
      if (!ok) return false;
    }
    g_initialized.store(true);
    return true;
  }
  // Before anything runs, even site's .pth files.
  if (options.sandbox && !Sandbox::install_audit_hook(error)) return false;

  for (const auto& [name, init] : options.builtin_modules) {
    if (PyImport_AppendInittab(name.c_str(), init) != 0) {
      *error = "cannot register built-in module " + name;
      return false;
    }
  }

  PyConfig config;
  PyConfig_InitIsolatedConfig(&config);
  config.install_signal_handlers = 0;  // the BEAM owns signals
  config.parse_argv = 0;
  config.site_import = 1;  // site-packages of the chosen Python stay usable
  config.user_site_directory = 0;
  config.write_bytecode = 0;
  PyStatus status = PyStatus_Ok();
  if (!options.home.empty())
    status = PyConfig_SetBytesString(&config, &config.home, options.home.c_str());
  if (!PyStatus_Exception(status))
    status = PyConfig_SetBytesString(&config, &config.program_name, "erlang_python");
  if (!PyStatus_Exception(status)) status = Py_InitializeFromConfig(&config);
  PyConfig_Clear(&config);
  if (PyStatus_Exception(status)) {
    *error = "Python initialisation failed: " + status_message(status);
    return false;
  }

  if (options.sandbox && !Sandbox::block_unaudited_functions(error)) {
    PyEval_SaveThread();
    return false;
  }
  preimport_single_phase_modules();
  PyEval_SaveThread();  // contexts attach their own thread states
  g_initialized.store(true);
  return true;
}

std::string PythonRuntime::version() {
  return std::to_string(PY_MAJOR_VERSION) + "." + std::to_string(PY_MINOR_VERSION) + "." +
         std::to_string(PY_MICRO_VERSION);
}

bool PythonRuntime::own_gil_available() { return EPY_HAVE_OWN_GIL != 0; }

bool PythonRuntime::free_threaded() { return EPY_FREE_THREADED != 0; }

const std::string& PythonRuntime::reset_program() { return g_reset_program; }

}  // namespace epy
