// Work a context does whenever no request runs: its asyncio event loop (the NIF provides
// it; the engine only knows when to give it time).
#pragma once

#include <chrono>

namespace epy {

class BackgroundWork {
 public:
  virtual ~BackgroundWork() = default;

  // Context thread, GIL held. When run() next has something to do: zero now, a positive
  // delay, or negative for "only once *fd becomes readable" (*fd = -1: nothing at all).
  virtual std::chrono::microseconds due(int* fd) = 0;

  // Context thread, GIL held: runs what is ready, without blocking. `descriptor_ready`:
  // its descriptor was seen readable (or has not been looked at for a while), so look at
  // what it reports; otherwise a timer or queued work is what is due.
  virtual void run(bool descriptor_ready) = 0;

  // Context thread, GIL held, once, when the context stops: wind down (cancel what is
  // left) before the interpreter is reset or ended.
  virtual void close() = 0;
};

}  // namespace epy
