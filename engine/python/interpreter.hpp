// One context's Python interpreter, owned by one OS thread for its whole life.
//
//   subinterp       an OWN_GIL subinterpreter (3.12+): its own GIL, modules and sys
//   multi_executor  a thread state in the main interpreter, sharing its GIL (3.11, or
//                   by choice), with a private __main__ namespace
//   free_threaded   the same on a free-threaded build, without any GIL
//
// Every operation of a context runs in its namespace (its __main__), so names defined by
// exec are visible to eval and to calls of module "__main__".
//
// A subinterpreter can be recycled for a later context: seal() records the state of a
// freshly started context, reset() brings the interpreter back to it (see reset()).
// CPython 3.12/3.13 leak about 1.7 MB for every subinterpreter they end (gh-110411), so
// contexts stopped on purpose hand their interpreter on instead of ending it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/job.hpp"
#include "engine/python/interrupt.hpp"
#include "engine/python/python.hpp"

namespace epy {

enum class InterpreterMode { subinterp, multi_executor, free_threaded };

const char* to_string(InterpreterMode mode);

struct InterpreterOptions {
  InterpreterMode mode = InterpreterMode::subinterp;
  std::vector<std::string> sys_path;  // prepended to sys.path, first entry first
};

class Interpreter {
 public:
  // Creates the interpreter on the calling thread, which must hold no Python thread state,
  // and applies `options`. On success the interpreter is attached (its GIL held).
  static std::unique_ptr<Interpreter> create(const InterpreterOptions& options, std::string* error);

  // Prepends options.sys_path (for a recycled interpreter taking on a new context).
  bool apply(const InterpreterOptions& options, std::string* error);

  // Subinterpreters only, attached. seal() records the state to come back to (modules,
  // sys, builtins); reset() returns to it: modules imported since are dropped (the next
  // import runs them afresh), sys and builtins attributes and sys.path are restored,
  // atexit functions run, __main__ is a new empty module. Returns false (the interpreter
  // must then be ended) if it cannot be reset, e.g. while threads it started still run.
  bool seal();
  bool reset();

  // Ends the interpreter. Same thread as create(), attached.
  ~Interpreter();

  Interpreter(const Interpreter&) = delete;
  Interpreter& operator=(const Interpreter&) = delete;

  void attach();  // take the GIL (no-op when attached)
  void detach();  // let it go (no-op when detached)
  bool attached() const { return attached_; }

  // Lets the GIL go for a scope (pybind11's gil_scoped_release).
  class ReleasedGil {
   public:
    explicit ReleasedGil(Interpreter& interp) : interp_(interp) { interp_.detach(); }
    ~ReleasedGil() { interp_.attach(); }
    ReleasedGil(const ReleasedGil&) = delete;
    ReleasedGil& operator=(const ReleasedGil&) = delete;

   private:
    Interpreter& interp_;
  };

  InterpreterMode mode() const { return mode_; }
  PyInterpreterState* state() const;
  unsigned long thread_ident() const { return thread_ident_; }

  // The context namespace (borrowed).
  PyObject* main_module() const { return main_module_.get(); }
  PyObject* main_dict() const;

  // Attached. Each returns a new reference, or nullptr with a Python exception set.
  PyObject* call(const CallInput& in);
  PyObject* eval(const CodeInput& in);
  PyObject* exec(const CodeInput& in);  // returns None

  // Looks up module.attr.path; "__main__" is the context namespace.
  PyObject* resolve(PyObject* module_name, PyObject* attribute_path);

  // Where interrupts queued in this interpreter find the latch bound to it now.
  InterruptTarget* interrupt_target() { return interrupt_target_; }

  // For the host's per-interpreter state (the NIF keeps its conversion state here).
  void* user_data() const { return user_data_; }
  void set_user_data(void* data) { user_data_ = data; }

 private:
  Interpreter() = default;
  bool init_namespace(std::string* error);
  PyObject* compiled(PyObject* source, int start, PyObject* cache);

  InterpreterMode mode_ = InterpreterMode::subinterp;
  PyThreadState* tstate_ = nullptr;
  unsigned long thread_ident_ = 0;
  bool attached_ = false;
  // Released before the interpreter ends (see the destructor).
  py::Ref main_module_;
  py::Ref main_name_;   // interned "__main__"
  py::Ref filename_;    // interned "<string>", the file name of compiled code
  py::Ref eval_cache_;  // source str -> code object
  py::Ref exec_cache_;
  py::Ref base_path_;  // sys.path as the interpreter started (list copy)
  py::Ref reset_;      // the callable seal() made
  void* user_data_ = nullptr;
  InterruptTarget* interrupt_target_ = InterruptTarget::acquire();  // released, never freed
};

}  // namespace epy
