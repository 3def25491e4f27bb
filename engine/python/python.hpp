// The one way engine and NIF code include CPython. Include it before standard headers
// (Python.h sets feature-test macros that must come first).
#pragma once

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#if PY_VERSION_HEX < 0x030B0000
#error "erlang_python needs CPython 3.11 or newer"
#endif

#if PY_VERSION_HEX >= 0x030C0000 && !defined(Py_GIL_DISABLED)
#define EPY_HAVE_OWN_GIL 1
#else
#define EPY_HAVE_OWN_GIL 0
#endif

#ifdef Py_GIL_DISABLED
#define EPY_FREE_THREADED 1
#else
#define EPY_FREE_THREADED 0
#endif

namespace epy::py {

// An owned reference, released when it goes out of scope (interpreter attached).
class Ref {
 public:
  Ref() = default;
  explicit Ref(PyObject* owned) : p_(owned) {}
  Ref(const Ref&) = delete;
  Ref& operator=(const Ref&) = delete;
  Ref(Ref&& o) noexcept : p_(o.p_) { o.p_ = nullptr; }
  Ref& operator=(Ref&& o) noexcept {
    if (this != &o) {
      Py_XDECREF(p_);
      p_ = o.p_;
      o.p_ = nullptr;
    }
    return *this;
  }
  ~Ref() { Py_XDECREF(p_); }

  static Ref borrow(PyObject* borrowed) {
    Py_XINCREF(borrowed);
    return Ref(borrowed);
  }

  PyObject* get() const { return p_; }
  PyObject* release() {
    PyObject* p = p_;
    p_ = nullptr;
    return p;
  }
  void reset(PyObject* owned = nullptr) {
    Py_XDECREF(p_);
    p_ = owned;
  }
  explicit operator bool() const { return p_ != nullptr; }

 private:
  PyObject* p_ = nullptr;
};

}  // namespace epy::py
