#include "engine/python/interpreter.hpp"

#include <cstring>

#include "engine/python/python.hpp"
#include "engine/python/runtime.hpp"

namespace epy {

namespace {

// Compiled sources kept per context; a workload that evals ever-new strings just
// restarts the cache instead of growing it.
constexpr Py_ssize_t kCodeCacheLimit = 1024;

std::string current_error_text() {
  PyObject* exc = nullptr;
#if PY_VERSION_HEX >= 0x030C0000
  exc = PyErr_GetRaisedException();
#else
  PyObject *type, *tb;
  PyErr_Fetch(&type, &exc, &tb);
  Py_XDECREF(type);
  Py_XDECREF(tb);
#endif
  std::string text = "unknown Python error";
  if (exc) {
    py::Ref s(PyObject_Str(exc));
    const char* utf8 = s ? PyUnicode_AsUTF8(s.get()) : nullptr;
    if (utf8) text = std::string(Py_TYPE(exc)->tp_name) + ": " + utf8;
    PyErr_Clear();
    Py_DECREF(exc);
  }
  return text;
}

bool contains_nul(PyObject* text) {
  return PyUnicode_FindChar(text, 0, 0, PyUnicode_GET_LENGTH(text), 1) >= 0;
}

}  // namespace

const char* to_string(InterpreterMode mode) {
  switch (mode) {
    case InterpreterMode::subinterp:
      return "subinterp";
    case InterpreterMode::multi_executor:
      return "multi_executor";
    case InterpreterMode::free_threaded:
      return "free_threaded";
  }
  return "unknown";
}

std::unique_ptr<Interpreter> Interpreter::create(const InterpreterOptions& options,
                                                 std::string* error) {
  std::unique_ptr<Interpreter> self(new Interpreter());
  self->mode_ = options.mode;
  if (options.mode == InterpreterMode::subinterp) {
#if EPY_HAVE_OWN_GIL
    PyInterpreterConfig config = {};
    config.use_main_obmalloc = 0;
    config.allow_fork = 0;
    config.allow_exec = 0;
    config.allow_threads = 1;
    config.allow_daemon_threads = 0;
    config.check_multi_interp_extensions = 1;
    config.gil = PyInterpreterConfig_OWN_GIL;
    PyThreadState* tstate = nullptr;
    PyStatus status = Py_NewInterpreterFromConfig(&tstate, &config);
    if (PyStatus_Exception(status) || !tstate) {
      *error = std::string("cannot create an OWN_GIL subinterpreter: ") +
               (status.err_msg ? status.err_msg : "unknown error");
      return nullptr;
    }
    self->tstate_ = tstate;
#else
    *error = "subinterp mode needs CPython 3.12 or newer with a GIL (this is " PY_VERSION ")";
    return nullptr;
#endif
  } else {
#if EPY_FREE_THREADED
    if (options.mode == InterpreterMode::multi_executor) {
      *error = "this is a free-threaded Python build: use mode free_threaded";
      return nullptr;
    }
#else
    if (options.mode == InterpreterMode::free_threaded) {
      *error = "free_threaded mode needs a free-threaded CPython build (this is " PY_VERSION ")";
      return nullptr;
    }
#endif
    PyThreadState* tstate = PyThreadState_New(PyInterpreterState_Main());
    if (!tstate) {
      *error = "cannot create a Python thread state";
      return nullptr;
    }
    PyEval_RestoreThread(tstate);
    self->tstate_ = tstate;
  }
  self->attached_ = true;
  self->thread_ident_ = PyThread_get_thread_ident();
  // On failure the destructor ends the interpreter.
  if (!self->init_namespace(error) || !self->apply(options, error)) return nullptr;
  return self;
}

bool Interpreter::init_namespace(std::string* error) {
  main_name_.reset(PyUnicode_InternFromString("__main__"));
  filename_.reset(PyUnicode_InternFromString("<string>"));
  eval_cache_.reset(PyDict_New());
  exec_cache_.reset(PyDict_New());
  if (!main_name_ || !filename_ || !eval_cache_ || !exec_cache_) {
    *error = current_error_text();
    return false;
  }

  if (mode_ == InterpreterMode::subinterp) {
    main_module_ = py::Ref::borrow(PyImport_AddModule("__main__"));
  } else {
    // Executors share the main interpreter's sys.modules: each gets a private __main__.
    main_module_.reset(PyModule_New("__main__"));
    if (main_module_ && PyDict_SetItemString(PyModule_GetDict(main_module_.get()), "__builtins__",
                                             PyEval_GetBuiltins()) < 0) {
      main_module_.reset();
    }
  }
  if (!main_module_) {
    *error = current_error_text();
    return false;
  }
  PyObject* path = PySys_GetObject("path");  // borrowed
  if (path && PyList_Check(path)) base_path_.reset(PySequence_List(path));
  if (!base_path_) {
    *error = "sys.path is missing";
    return false;
  }
  return true;
}

bool Interpreter::apply(const InterpreterOptions& options, std::string* error) {
  PyObject* path = PySys_GetObject("path");  // borrowed
  if (!path || !PyList_Check(path)) {
    *error = "sys.path is missing";
    return false;
  }
  // Insert in reverse so that the first entry ends up first; skip entries already there
  // (executors share one sys.path).
  for (auto it = options.sys_path.rbegin(); it != options.sys_path.rend(); ++it) {
    py::Ref entry(PyUnicode_DecodeFSDefault(it->c_str()));
    if (!entry) {
      *error = current_error_text();
      return false;
    }
    int present = PySequence_Contains(path, entry.get());
    if (present < 0 || (present == 0 && PyList_Insert(path, 0, entry.get()) < 0)) {
      *error = current_error_text();
      return false;
    }
  }
  return true;
}

Interpreter::~Interpreter() {
  InterruptTarget::release(interrupt_target_);
  if (!tstate_) return;
  attach();
  eval_cache_.reset();
  exec_cache_.reset();
  reset_.reset();
  base_path_.reset();
  main_module_.reset();
  main_name_.reset();
  filename_.reset();
  if (mode_ == InterpreterMode::subinterp) {
    Py_EndInterpreter(tstate_);  // leaves no thread state current
  } else {
    PyThreadState_Clear(tstate_);
    PyThreadState_DeleteCurrent();  // releases the GIL
  }
  tstate_ = nullptr;
  attached_ = false;
}

void Interpreter::attach() {
  if (attached_) return;
  PyEval_RestoreThread(tstate_);
  attached_ = true;
}

void Interpreter::detach() {
  if (!attached_) return;
  PyEval_SaveThread();
  attached_ = false;
}

PyInterpreterState* Interpreter::state() const {
  return tstate_ ? PyThreadState_GetInterpreter(tstate_) : nullptr;
}

PyObject* Interpreter::main_dict() const { return PyModule_GetDict(main_module_.get()); }

PyObject* Interpreter::resolve(PyObject* module_name, PyObject* attribute_path) {
  if (!PyUnicode_Check(module_name) || !PyUnicode_Check(attribute_path)) {
    PyErr_SetString(PyExc_TypeError, "module and function names must be text");
    return nullptr;
  }
  if (contains_nul(module_name)) {
    PyErr_SetString(PyExc_ValueError, "module name contains a NUL byte");
    return nullptr;
  }
  if (contains_nul(attribute_path)) {
    PyErr_SetString(PyExc_ValueError, "function name contains a NUL byte");
    return nullptr;
  }
  if (PyUnicode_GET_LENGTH(attribute_path) == 0) {
    PyErr_SetString(PyExc_ValueError, "function name is empty");
    return nullptr;
  }

  py::Ref object;
  if (module_name == main_name_.get() || PyUnicode_Compare(module_name, main_name_.get()) == 0) {
    object = py::Ref::borrow(main_module_.get());
  } else {
    object.reset(PyImport_GetModule(module_name));  // sys.modules first: no import machinery
    if (!object) {
      if (PyErr_Occurred()) return nullptr;
      object.reset(PyImport_Import(module_name));
      if (!object) return nullptr;
    }
  }

  if (PyUnicode_FindChar(attribute_path, '.', 0, PyUnicode_GET_LENGTH(attribute_path), 1) < 0)
    return PyObject_GetAttr(object.get(), attribute_path);

  py::Ref dot(PyUnicode_FromString("."));
  if (!dot) return nullptr;
  py::Ref parts(PyUnicode_Split(attribute_path, dot.get(), -1));
  if (!parts) return nullptr;
  for (Py_ssize_t i = 0; i < PyList_GET_SIZE(parts.get()); ++i) {
    object.reset(PyObject_GetAttr(object.get(), PyList_GET_ITEM(parts.get(), i)));
    if (!object) return nullptr;
  }
  return object.release();
}

PyObject* Interpreter::call(const CallInput& in) {
  py::Ref fn(resolve(in.module, in.function));
  if (!fn) return nullptr;
  if (in.kwargs && PyDict_GET_SIZE(in.kwargs) > 0)
    return PyObject_VectorcallDict(fn.get(), in.args, in.nargs, in.kwargs);
  return PyObject_Vectorcall(fn.get(), in.args, in.nargs, nullptr);
}

PyObject* Interpreter::compiled(PyObject* source, int start, PyObject* cache) {
  if (!PyUnicode_Check(source)) {
    PyErr_SetString(PyExc_TypeError, "code must be text");
    return nullptr;
  }
  PyObject* code = PyDict_GetItemWithError(cache, source);  // borrowed
  if (code) {
    Py_INCREF(code);
    return code;
  }
  if (PyErr_Occurred()) return nullptr;
  Py_ssize_t size = 0;
  const char* text = PyUnicode_AsUTF8AndSize(source, &size);
  if (!text) return nullptr;
  if (std::strlen(text) != size_t(size)) {
    PyErr_SetString(PyExc_ValueError, "source code cannot contain null bytes");
    return nullptr;
  }
  code = Py_CompileStringObject(text, filename_.get(), start, nullptr, -1);
  if (!code) return nullptr;
  if (PyDict_GET_SIZE(cache) >= kCodeCacheLimit) PyDict_Clear(cache);
  if (PyDict_SetItem(cache, source, code) < 0) PyErr_Clear();
  return code;
}

bool Interpreter::seal() {
  if (mode_ != InterpreterMode::subinterp || reset_) return bool(reset_);
  py::Ref globals(PyDict_New());
  if (!globals || PyDict_SetItemString(globals.get(), "__builtins__", PyEval_GetBuiltins()) < 0) {
    PyErr_Clear();
    return false;
  }
  const std::string& program = PythonRuntime::reset_program();
  if (program.empty()) return false;  // no program: interpreters are ended, not reused
  py::Ref done(PyRun_String(program.c_str(), Py_file_input, globals.get(), globals.get()));
  PyObject* seal_fn = done ? PyDict_GetItemString(globals.get(), "seal") : nullptr;  // borrowed
  reset_.reset(seal_fn ? PyObject_CallOneArg(seal_fn, base_path_.get()) : nullptr);
  if (!reset_) PyErr_Clear();
  return bool(reset_);
}

bool Interpreter::reset() {
  if (!reset_) return false;
  py::Ref ok(PyObject_CallNoArgs(reset_.get()));
  if (!ok || ok.get() != Py_True) {
    PyErr_Clear();
    return false;
  }
  PyObject* main = PyImport_AddModule("__main__");  // borrowed: the new one
  if (!main) {
    PyErr_Clear();
    return false;
  }
  main_module_ = py::Ref::borrow(main);
  PyDict_Clear(eval_cache_.get());
  PyDict_Clear(exec_cache_.get());
  user_data_ = nullptr;
  return true;
}

PyObject* Interpreter::eval(const CodeInput& in) {
  py::Ref code(compiled(in.code, Py_eval_input, eval_cache_.get()));
  if (!code) return nullptr;
  PyObject* globals = main_dict();
  PyObject* locals = in.locals ? in.locals : globals;
  return PyEval_EvalCode(code.get(), globals, locals);
}

PyObject* Interpreter::exec(const CodeInput& in) {
  py::Ref code(compiled(in.code, Py_file_input, exec_cache_.get()));
  if (!code) return nullptr;
  PyObject* globals = main_dict();
  return PyEval_EvalCode(code.get(), globals, globals);
}

}  // namespace epy
