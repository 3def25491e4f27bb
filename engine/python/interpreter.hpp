// One context's Python interpreter, owned by one OS thread for its whole life.
//
//   subinterp       an OWN_GIL subinterpreter (3.12+): its own GIL, modules and sys
//   multi_executor  a thread state in the main interpreter, sharing its GIL (3.11, or
//                   by choice), with a private __main__ namespace
//   free_threaded   the same on a free-threaded build, without any GIL
//
// Every operation of a context runs in its namespace (its __main__), so names defined by
// exec are visible to eval and to calls of module "__main__".
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/job.hpp"

typedef struct _ts PyThreadState;
typedef struct _is PyInterpreterState;

namespace epy {

enum class InterpreterMode { subinterp, multi_executor, free_threaded };

const char* to_string(InterpreterMode mode);

struct InterpreterOptions {
  InterpreterMode mode = InterpreterMode::subinterp;
  std::vector<std::string> sys_path;  // prepended to sys.path, first entry first
};

class Interpreter {
 public:
  // Creates the interpreter on the calling thread, which must hold no Python thread state.
  // On success the interpreter is attached (its GIL held by this thread).
  static std::unique_ptr<Interpreter> create(const InterpreterOptions& options, std::string* error);

  // Ends the interpreter. Same thread as create(), attached.
  ~Interpreter();

  Interpreter(const Interpreter&) = delete;
  Interpreter& operator=(const Interpreter&) = delete;

  void attach();  // take the GIL (no-op when attached)
  void detach();  // let it go (no-op when detached)
  bool attached() const { return attached_; }

  InterpreterMode mode() const { return mode_; }
  PyInterpreterState* state() const;
  unsigned long thread_ident() const { return thread_ident_; }

  // The context namespace (borrowed).
  PyObject* main_module() const { return main_module_; }
  PyObject* main_dict() const;

  // Attached. Each returns a new reference, or nullptr with a Python exception set.
  PyObject* call(const CallInput& in);
  PyObject* eval(const CodeInput& in);
  PyObject* exec(const CodeInput& in);  // returns None

  // Looks up module.attr.path; "__main__" is the context namespace.
  PyObject* resolve(PyObject* module_name, PyObject* attribute_path);

  // For the host's per-interpreter state (the NIF keeps its conversion state here).
  void* user_data() const { return user_data_; }
  void set_user_data(void* data) { user_data_ = data; }

 private:
  Interpreter() = default;
  bool init_namespace(const InterpreterOptions& options, std::string* error);
  PyObject* compiled(PyObject* source, int start, PyObject* cache);

  InterpreterMode mode_ = InterpreterMode::subinterp;
  PyThreadState* tstate_ = nullptr;
  unsigned long thread_ident_ = 0;
  bool attached_ = false;
  PyObject* main_module_ = nullptr;
  PyObject* main_name_ = nullptr;   // interned "__main__"
  PyObject* filename_ = nullptr;    // interned "<string>", the file name of compiled code
  PyObject* eval_cache_ = nullptr;  // source str -> code object
  PyObject* exec_cache_ = nullptr;
  void* user_data_ = nullptr;
};

}  // namespace epy
