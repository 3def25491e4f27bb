#include "engine/python/sandbox.hpp"

#include <unistd.h>

#include <atomic>
#include <cstring>
#include <utility>

#include "engine/python/method_patch.hpp"
#include "engine/python/python.hpp"

namespace epy {

namespace {

std::atomic<bool> g_hook_installed{false};
std::atomic<bool> g_functions_blocked{false};

#define EPY_FORK_ADVICE                                                                   \
  "; run external programs through an Erlang port (open_port/2) and call it from Python " \
  "with a function registered by py:register_function"
#define EPY_SIGNAL_ADVICE \
  "; handle signals in Erlang (os:set_signal/2), stop a call with py:interrupt/1 or a timeout"

// ---- the audit hook -------------------------------------------------------------------

struct AuditedRefusal {
  const char* event;
  const char* message;
};

constexpr AuditedRefusal kAudited[] = {
    {"subprocess.Popen",
     "fork() blocked by sandbox: subprocess.Popen (also subprocess.run, call, check_output "
     "and os.popen) would fork the Erlang VM" EPY_FORK_ADVICE},
    {"os.system", "fork() blocked by sandbox: os.system would fork the Erlang VM" EPY_FORK_ADVICE},
    {"os.fork", "fork() blocked by sandbox: os.fork would fork the Erlang VM" EPY_FORK_ADVICE},
    {"os.forkpty",
     "fork() blocked by sandbox: os.forkpty would fork the Erlang VM" EPY_FORK_ADVICE},
    {"os.posix_spawn",
     "fork() blocked by sandbox: os.posix_spawn (and posix_spawnp) would fork the Erlang "
     "VM" EPY_FORK_ADVICE},
    {"os.exec",
     "fork() blocked by sandbox: os.exec* would replace the Erlang VM's process" EPY_FORK_ADVICE},
    {"os.spawn", "fork() blocked by sandbox: os.spawn* would fork the Erlang VM" EPY_FORK_ADVICE},
};

// The (pid, signal) of os.kill / (pgid, signal) of os.killpg aim at this process?
bool signals_this_process(const char* event, PyObject* args) {
  long target = 0, signal = 0;
  if (!PyArg_ParseTuple(args, "ll", &target, &signal)) {
    PyErr_Clear();
    return false;
  }
  if (signal == 0) return false;  // only asks whether the process exists
  if (std::strcmp(event, "os.killpg") == 0) return target == long(getpgrp()) || target == 0;
  return target == long(getpid()) || target == 0 || target == -1;
}

int audit_hook(const char* event, PyObject* args, void*) {
  // Called for every audited event of every interpreter: stay cheap for the rest.
  if (event[0] != 'o' && event[0] != 's') return 0;
  for (const AuditedRefusal& r : kAudited) {
    if (std::strcmp(event, r.event) == 0) {
      PyErr_SetString(PyExc_RuntimeError, r.message);
      return -1;
    }
  }
  if ((std::strcmp(event, "os.kill") == 0 || std::strcmp(event, "os.killpg") == 0) &&
      signals_this_process(event, args)) {
    PyErr_Format(
        PyExc_RuntimeError,
        "signal blocked by sandbox: %s would signal the Erlang VM's own process" EPY_SIGNAL_ADVICE,
        event);
    return -1;
  }
  if (std::strcmp(event, "signal.pthread_kill") == 0) {
    PyErr_SetString(PyExc_RuntimeError,
                    "signal blocked by sandbox: signal.pthread_kill would signal a thread of the "
                    "Erlang VM" EPY_SIGNAL_ADVICE);
    return -1;
  }
  return 0;
}

// ---- functions without an audit event ---------------------------------------------------

enum class Raises { runtime_error, value_error };

struct UnauditedRefusal {
  const char* module;
  const char* function;
  const char* shown_as;
  Raises raises;
  const char* message;
};

constexpr UnauditedRefusal kUnaudited[] = {
    {"_posixsubprocess", "fork_exec", "_posixsubprocess.fork_exec", Raises::runtime_error,
     "fork() blocked by sandbox: _posixsubprocess.fork_exec would fork the Erlang "
     "VM" EPY_FORK_ADVICE},
    // Audited too, but a subinterpreter refuses these with a message of its own before
    // the audit event: answer first, and the same way in every mode.
    {"posix", "fork", "os.fork", Raises::runtime_error,
     "fork() blocked by sandbox: os.fork would fork the Erlang VM" EPY_FORK_ADVICE},
    {"posix", "forkpty", "os.forkpty", Raises::runtime_error,
     "fork() blocked by sandbox: os.forkpty would fork the Erlang VM" EPY_FORK_ADVICE},
    {"posix", "execv", "os.execv", Raises::runtime_error,
     "fork() blocked by sandbox: os.execv would replace the Erlang VM's process" EPY_FORK_ADVICE},
    {"posix", "execve", "os.execve", Raises::runtime_error,
     "fork() blocked by sandbox: os.execve would replace the Erlang VM's process" EPY_FORK_ADVICE},
    {"posix", "_exit", "os._exit", Raises::runtime_error,
     "os._exit() blocked by sandbox: it would end the Erlang VM; return or raise instead"},
    {"posix", "abort", "os.abort", Raises::runtime_error,
     "os.abort() blocked by sandbox: it would end the Erlang VM; return or raise instead"},
    // ValueError, as CPython raises it off the main thread: code that tolerates that
    // (asyncio.Runner, for one) keeps working.
    {"_signal", "signal", "signal.signal", Raises::value_error,
     "Signal handlers not supported: handle signals in Erlang (os:set_signal/2)"},
    {"_signal", "siginterrupt", "signal.siginterrupt", Raises::value_error,
     "Signal handlers not supported: handle signals in Erlang (os:set_signal/2)"},
    {"_signal", "set_wakeup_fd", "signal.set_wakeup_fd", Raises::value_error,
     "Signal handlers not supported: handle signals in Erlang (os:set_signal/2)"},
    {"_signal", "alarm", "signal.alarm", Raises::runtime_error,
     "signal blocked by sandbox: signal.alarm would send SIGALRM to the Erlang VM; use "
     "asyncio timers, erlang.sleep or Erlang timers"},
    {"_signal", "setitimer", "signal.setitimer", Raises::runtime_error,
     "signal blocked by sandbox: signal.setitimer would signal the Erlang VM; use asyncio "
     "timers, erlang.sleep or Erlang timers"},
    {"_signal", "raise_signal", "signal.raise_signal", Raises::runtime_error,
     "signal blocked by sandbox: signal.raise_signal would signal the Erlang VM" EPY_SIGNAL_ADVICE},
};

template <std::size_t I>
PyObject* refuse() {
  const UnauditedRefusal& r = kUnaudited[I];
  PyErr_SetString(r.raises == Raises::value_error ? PyExc_ValueError : PyExc_RuntimeError,
                  r.message);
  return nullptr;
}
template <std::size_t I>
PyObject* refuse_o(PyObject*, PyObject*) {  // METH_NOARGS, METH_O, METH_VARARGS
  return refuse<I>();
}
template <std::size_t I>
PyObject* refuse_kw(PyObject*, PyObject*, PyObject*) {  // METH_VARARGS | METH_KEYWORDS
  return refuse<I>();
}
template <std::size_t I>
PyObject* refuse_fast(PyObject*, PyObject* const*, Py_ssize_t) {  // METH_FASTCALL
  return refuse<I>();
}
template <std::size_t I>
PyObject* refuse_fast_kw(PyObject*, PyObject* const*, Py_ssize_t, PyObject*) {
  return refuse<I>();
}

// A replacement with the calling convention the original declares.
template <std::size_t I>
PyCFunction replacement_for(int flags) {
  switch (flags & (METH_VARARGS | METH_FASTCALL | METH_NOARGS | METH_O | METH_KEYWORDS)) {
    case METH_NOARGS:
    case METH_O:
    case METH_VARARGS:
      return as_cfunction(&refuse_o<I>);
    case METH_VARARGS | METH_KEYWORDS:
      return as_cfunction(&refuse_kw<I>);
    case METH_FASTCALL:
      return as_cfunction(&refuse_fast<I>);
    case METH_FASTCALL | METH_KEYWORDS:
      return as_cfunction(&refuse_fast_kw<I>);
  }
  return nullptr;
}

// Through the method table (see method_patch.hpp): every interpreter, now and later.
template <std::size_t I>
bool block(std::string* error) {
  const UnauditedRefusal& r = kUnaudited[I];
  PyMethodDef* def = builtin_method_def(r.module, r.function, error);
  if (!def) return error->empty();  // not on this platform or version: nothing to block
  PyCFunction replacement = replacement_for<I>(def->ml_flags);
  if (!replacement) {
    *error = std::string("sandbox: unexpected calling convention of ") + r.shown_as;
    return false;
  }
  def->ml_meth = replacement;
  return true;
}

template <std::size_t... I>
bool block_all(std::string* error, std::index_sequence<I...>) {
  return (block<I>(error) && ...);
}

}  // namespace

bool Sandbox::install_audit_hook(std::string* error) {
  if (g_hook_installed.load()) return true;
  if (PySys_AddAuditHook(&audit_hook, nullptr) != 0) {
    *error = "sandbox: cannot add the audit hook";
    return false;
  }
  g_hook_installed.store(true);
  return true;
}

bool Sandbox::block_unaudited_functions(std::string* error) {
  if (g_functions_blocked.load()) return true;
  if (!block_all(error, std::make_index_sequence<std::size(kUnaudited)>())) return false;
  g_functions_blocked.store(true);
  return true;
}

bool Sandbox::active() { return g_hook_installed.load() && g_functions_blocked.load(); }

std::vector<std::string> Sandbox::blocked_operations() {
  std::vector<std::string> ops = {"subprocess.Popen",
                                  "subprocess.run",
                                  "subprocess.call",
                                  "subprocess.check_call",
                                  "subprocess.check_output",
                                  "os.popen",
                                  "os.system",
                                  "os.posix_spawn",
                                  "os.posix_spawnp",
                                  "os.exec*",
                                  "os.spawn*",
                                  "os.kill (this process)",
                                  "os.killpg (this process group)",
                                  "signal.pthread_kill"};
  for (const UnauditedRefusal& r : kUnaudited) ops.emplace_back(r.shown_as);
  return ops;
}

}  // namespace epy
