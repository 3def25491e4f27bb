// One message in a channel: an owned, opaque payload. The channel never looks inside; it
// only counts `bytes` against its bound and frees what nobody received. The NIF's payload
// is a term in an environment of its own (copied at send time, converted on the
// receiving context's thread); tests use plain C++ values.
#pragma once

#include <cstddef>
#include <utility>

namespace epy::channels {

class Payload {
 public:
  using Deleter = void (*)(void*);

  Payload() = default;
  Payload(void* data, std::size_t bytes, Deleter deleter)
      : data_(data), bytes_(bytes), deleter_(deleter) {}
  Payload(Payload&& o) noexcept : data_(o.data_), bytes_(o.bytes_), deleter_(o.deleter_) {
    o.data_ = nullptr;
  }
  Payload& operator=(Payload&& o) noexcept {
    if (this != &o) {
      reset();
      data_ = o.data_;
      bytes_ = o.bytes_;
      deleter_ = o.deleter_;
      o.data_ = nullptr;
    }
    return *this;
  }
  Payload(const Payload&) = delete;
  Payload& operator=(const Payload&) = delete;
  ~Payload() { reset(); }

  void* data() const { return data_; }
  std::size_t bytes() const { return bytes_; }
  explicit operator bool() const { return data_ != nullptr; }

  // Gives up ownership (the caller frees the data).
  void* release() {
    void* d = data_;
    data_ = nullptr;
    return d;
  }
  void reset() {
    if (data_ && deleter_) deleter_(data_);
    data_ = nullptr;
  }

 private:
  void* data_ = nullptr;
  std::size_t bytes_ = 0;
  Deleter deleter_ = nullptr;
};

}  // namespace epy::channels
