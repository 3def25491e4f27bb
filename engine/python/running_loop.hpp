// A request nested in another (served while that one waits) or run from inside the
// context's event loop must not find the outer asyncio loop running on its thread:
// asyncio.run() and erlang.run() would refuse ("cannot be called from a running event
// loop") and get_running_loop() would hand it a loop it does not own. This hides the
// thread's running loop for a scope and puts it back after.
#pragma once

#include "engine/python/python.hpp"

namespace epy {

class HiddenRunningLoop {
 public:
  HiddenRunningLoop();  // GIL held
  ~HiddenRunningLoop();

  HiddenRunningLoop(const HiddenRunningLoop&) = delete;
  HiddenRunningLoop& operator=(const HiddenRunningLoop&) = delete;

 private:
  PyObject* events_ = nullptr;  // asyncio.events, when a loop was hidden
  PyObject* loop_ = nullptr;
};

}  // namespace epy
