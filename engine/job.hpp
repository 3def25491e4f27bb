// A request a context runs for someone, and the contract between the engine and whoever
// submitted it (the NIF for BEAM callers, plain C++ code in the engine tests).
//
// The engine owns the execution semantics (how a call, eval or exec runs in the context's
// interpreter, and a task request's task: started, awaited, cancelled); the job owns
// conversion (how its inputs become Python objects and how the result travels back to
// its caller). A request crosses between them once each way: decode, then reply. All of
// it runs on the context's own thread.
#pragma once

#include <cstddef>

#include "engine/envelope.hpp"
#include "engine/failure.hpp"

struct _object;
typedef struct _object PyObject;  // the same declaration as Python.h, so both may be included

namespace epy {

class Interpreter;
class ReplyGate;

// Inputs of a call. The job keeps the references and releases them when reply() returns.
struct CallInput {
  PyObject* module = nullptr;    // str: module name; "__main__" is the context namespace
  PyObject* function = nullptr;  // str: attribute path inside the module, "f" or "Cls.f"
  PyObject* const* args = nullptr;
  std::size_t nargs = 0;
  PyObject* kwargs = nullptr;  // dict, or nullptr for none
};

// Inputs of an eval or exec.
struct CodeInput {
  PyObject* code = nullptr;    // str: source text
  PyObject* locals = nullptr;  // dict, or nullptr (eval only)
};

class Job {
 public:
  virtual ~Job() = default;

  // Context thread, interpreter attached. On failure return false with a Python exception set.
  virtual bool decode_call(Interpreter& interp, CallInput& in) = 0;
  virtual bool decode_code(Interpreter& interp, CodeInput& in) = 0;

  // Context thread, interpreter attached. `result` is borrowed, or nullptr with a Python
  // exception set (gate.interrupted() / gate.cancelled() say when that exception is the
  // engine's, not the user's). For a task request, it is the task's outcome, later. Must
  // pass through gate.claim() before delivering anything, and release every Python
  // reference the job holds before returning.
  virtual void reply(Interpreter& interp, MessageKind kind, PyObject* result, ReplyGate& gate) = 0;

  // Context thread, interpreter attached: the request now waits for its task, so the
  // decoded inputs may go.
  virtual void release_inputs() {}

  // Whether anybody waits for the answer (false for a cast, or a task nobody awaits: the
  // engine then does not keep the request open for the task's end).
  virtual bool awaited() const { return true; }

  // Answer with a failure instead of a result (the context is stopping). Any thread: a
  // stop answers from the stopping thread while the context thread may still be inside
  // decode/reply of this very job. So: call gate.claim() first and stop unless it says
  // deliver or abort; then read only the request's identity (set before submission) and
  // build the answer in memory of its own; never touch Python.
  virtual void fail(const Failure& failure, ReplyGate& gate) = 0;

  // Forget the finished request so the object can serve the next one. No Python state.
  virtual void recycle() noexcept = 0;
};

}  // namespace epy
