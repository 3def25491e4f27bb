// The sandbox: Python inside the Erlang VM must not fork, exec, signal or end the VM's
// own process. Two layers, both installed before any user code runs and neither
// reachable from Python:
//
// - An audit hook (PySys_AddAuditHook, runtime-wide: every interpreter) refuses the
//   audited operations: subprocess.Popen (so run, call, check_output, os.popen),
//   os.system, os.fork, os.forkpty, os.posix_spawn(p), os.exec*, and signals sent to
//   this very process (os.kill, os.killpg, signal.pthread_kill).
// - Functions that raise no audit event are replaced in their (static, process-wide)
//   method tables: _posixsubprocess.fork_exec, os._exit, os.abort, and the signal
//   functions that install handlers or make the kernel signal the process
//   (signal.signal, siginterrupt, set_wakeup_fd, alarm, setitimer, raise_signal).
//
// It is not a security boundary: native code (ctypes, C extensions) can still do all of
// it. It keeps ordinary Python code, and the libraries it uses, from breaking the VM.
#pragma once

#include <string>
#include <vector>

namespace epy {

class Sandbox {
 public:
  // Before Py_Initialize.
  static bool install_audit_hook(std::string* error);
  // After Py_Initialize, GIL held, before any interpreter runs user code.
  static bool block_unaudited_functions(std::string* error);

  static bool active();
  // What it refuses, for py:sandbox_info().
  static std::vector<std::string> blocked_operations();
};

}  // namespace epy
