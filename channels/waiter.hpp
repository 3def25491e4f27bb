// Someone waiting on a channel: a receiver waiting for a message, or a sender waiting for
// room. The channel keeps waiters in intrusive lists and wakes them with notify(), always
// under its lock; notify() must therefore only signal (set a flag and wake a thread, push
// to a mailbox, write an eventfd, send an Erlang message), never call back into the
// channel.
#pragma once

namespace epy::channels {

class Channel;

class ChannelWaiter {
 public:
  virtual ~ChannelWaiter() = default;

  // Returns false when the waiter is gone for good (a dead Erlang process): the channel
  // then wakes the next one instead, so a message never waits for a receiver that will
  // not come.
  virtual bool notify() = 0;

  // Set by the channel when it woke this waiter (and took it off its list).
  bool notified() const { return notified_; }

 private:
  friend class Channel;
  friend class WaiterList;
  ChannelWaiter* prev_ = nullptr;
  ChannelWaiter* next_ = nullptr;
  bool linked_ = false;
  bool notified_ = false;
};

}  // namespace epy::channels
