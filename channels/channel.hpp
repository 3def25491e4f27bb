// A channel: an MPMC queue of owned messages with any number of waiting receivers and
// senders, an optional bound in bytes, and close.
//
// - Each message goes to exactly one receiver; messages from one sender keep their order.
// - A receiver that finds nothing registers itself (receive_or_wait) and is woken once a
//   message arrives: one receiver per message, never a herd. A receiver that stops
//   waiting after it was woken but before it received (a timeout, a cancel, a dead
//   process) hands the wake-up on (stop_waiting), so no message is left with idle
//   receivers around it.
// - Close wakes everyone: queued messages are still delivered, then receivers see closed.
// - Bound: a send that would take the queued bytes past max_bytes is refused (full)
//   unless the channel is empty (one message bigger than the bound still gets through).
//   Senders that want to wait for room register like receivers (send_or_wait) and are
//   all woken whenever a receive makes room.
//
// Thread-safe; one mutex, held only for queue and list operations (and notify()).
#pragma once

#include <cstddef>
#include <deque>
#include <mutex>

#include "channels/payload.hpp"
#include "channels/waiter.hpp"

namespace epy::channels {

class WaiterList {
 public:
  bool empty() const { return head_ == nullptr; }
  std::size_t size() const { return size_; }
  void push_back(ChannelWaiter* w);
  ChannelWaiter* pop_front();
  void remove(ChannelWaiter* w);

 private:
  ChannelWaiter* head_ = nullptr;
  ChannelWaiter* tail_ = nullptr;
  std::size_t size_ = 0;
};

class Channel {
 public:
  enum class SendResult { ok, full, closed };
  enum class ReceiveResult { received, empty, closed };
  enum class WaitResult { received, waiting, closed };

  struct Info {
    std::size_t bytes = 0;      // queued, as the payloads count them
    std::size_t count = 0;      // queued messages
    std::size_t max_bytes = 0;  // 0: no bound
    bool closed = false;
    std::size_t receivers = 0;  // waiting right now
  };

  explicit Channel(std::size_t max_bytes = 0) : max_bytes_(max_bytes) {}
  ~Channel() = default;  // frees whatever nobody received

  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  // Queues `message` (taken only on ok).
  SendResult send(Payload& message);
  // As send(); when full, also registers `room` to be woken once a receive makes room.
  SendResult send_or_wait(Payload& message, ChannelWaiter* room);
  bool stop_waiting_for_room(ChannelWaiter* room);

  ReceiveResult try_receive(Payload* out);
  // A message into *out, or (nothing queued, not closed) `waiter` registered: it will be
  // notified once a message may be there; then call again.
  WaitResult receive_or_wait(Payload* out, ChannelWaiter* waiter);
  // The waiter gives up. Returns whether it had been notified. Safe to call whether or
  // not it is still registered; afterwards the channel holds no pointer to it.
  bool stop_waiting(ChannelWaiter* waiter);

  void close();
  bool closed() const;
  Info info() const;

 private:
  void wake_one_receiver();  // locked
  void wake_senders();       // locked
  Payload pop();             // locked, queue not empty

  mutable std::mutex mutex_;
  std::deque<Payload> queue_;
  std::size_t bytes_ = 0;
  const std::size_t max_bytes_;
  bool closed_ = false;
  WaiterList receivers_;
  WaiterList senders_;
};

}  // namespace epy::channels
