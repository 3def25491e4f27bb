#include "engine/python/wait_error.hpp"

#include "engine/python/python.hpp"

namespace epy {

bool raise_if_cut_short(Context::WaitResult result) {
  switch (result) {
    case Context::WaitResult::interrupted:
      PyErr_SetNone(PyExc_KeyboardInterrupt);
      return true;
    case Context::WaitResult::stopping:
      PyErr_SetString(PyExc_RuntimeError, "the context is stopping");
      return true;
    case Context::WaitResult::ready:
    case Context::WaitResult::timed_out:
      return false;
  }
  return false;
}

}  // namespace epy
