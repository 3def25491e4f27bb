// The engine's handle on a context's asyncio loop (an erlang._loop.ErlangEventLoop, or any
// loop with the same three methods): the context's BackgroundWork. It asks the loop when
// it next has work (_erlang_due), runs one non-blocking turn (_erlang_step(poll_io)) and
// winds it down when the context stops (_erlang_shutdown).
#pragma once

#include <chrono>

#include "engine/background.hpp"
#include "engine/python/python.hpp"

namespace epy {

class LoopDriver final : public BackgroundWork {
 public:
  // Context thread, attached. `fd`: the loop's selector descriptor.
  LoopDriver(PyObject* loop, int fd);

  PyObject* loop() const { return loop_.get(); }  // borrowed

  std::chrono::microseconds due(int* fd) override;
  void run(bool descriptor_ready) override;
  void close() override;

 private:
  void report(PyObject* result);

  py::Ref loop_;
  int fd_;
  py::Ref due_, step_, shutdown_;  // the method names, interned
};

}  // namespace epy
