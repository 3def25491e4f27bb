// Changing what a built-in function does, for every interpreter at once: the method
// table entry behind module.function is static, shared by every interpreter's instance
// of the module, and read at each call by every function object made from it. Used by
// the sandbox (to refuse) and for time.sleep (to make it interruptible).
#pragma once

#include <string>

#include "engine/python/python.hpp"

namespace epy {

// GIL held. The table entry of the built-in module.function; nullptr without an error if
// there is no such function on this platform, nullptr with *error set if it is not a
// built-in.
PyMethodDef* builtin_method_def(const char* module, const char* function, std::string* error);

template <class F>
PyCFunction as_cfunction(F f) {
  return reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(f));
}

}  // namespace epy
