// An eventfd that any thread signals and an event loop watches (loop.add_reader): how a
// state change or a channel message reaches asyncio from a thread that has no business
// touching Python objects.
#pragma once

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>

#include "engine/python/python.hpp"

namespace epy::nif {

class EventFd {
 public:
  // Attached: false with OSError set.
  bool open() {
    fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd_ < 0) PyErr_SetFromErrno(PyExc_OSError);
    return fd_ >= 0;
  }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  bool is_open() const { return fd_ >= 0; }

  // Any thread.
  void signal() const {
    const std::uint64_t one = 1;
    (void)!write(fd_, &one, sizeof one);
  }
  // Whether it was signalled since the last call (and resets it).
  bool consume() const {
    std::uint64_t count = 0;
    return fd_ >= 0 && read(fd_, &count, sizeof count) == sizeof count && count > 0;
  }

  // Attached: fileno() for Python, ValueError(`closed_message`) once closed.
  PyObject* fileno(const char* closed_message) const {
    if (fd_ < 0) {
      PyErr_SetString(PyExc_ValueError, closed_message);
      return nullptr;
    }
    return PyLong_FromLong(fd_);
  }

 private:
  int fd_ = -1;
};

}  // namespace epy::nif
