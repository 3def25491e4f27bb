// Waiting on a channel from a plain thread (a condition variable), and the blocking
// receive and send built on it. Contexts wait differently: they keep serving their
// mailbox meanwhile (the NIF's ContextWaiter).
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "channels/channel.hpp"

namespace epy::channels {

class ThreadWaiter final : public ChannelWaiter {
 public:
  using Clock = std::chrono::steady_clock;

  bool notify() override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      signaled_ = true;
    }
    cv_.notify_one();
    return true;
  }

  // Until notified or the deadline (time_point::max(): no deadline); resets the signal.
  bool wait_until(Clock::time_point deadline) {
    std::unique_lock<std::mutex> lock(mutex_);
    if (deadline == Clock::time_point::max())
      cv_.wait(lock, [&] { return signaled_; });
    else
      cv_.wait_until(lock, deadline, [&] { return signaled_; });
    const bool was = signaled_;
    signaled_ = false;
    return was;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool signaled_ = false;
};

enum class BlockingResult { done, closed, timed_out };

// Receives into *out, waiting until the deadline.
inline BlockingResult receive_blocking(Channel& channel, Payload* out,
                                       ThreadWaiter::Clock::time_point deadline) {
  ThreadWaiter waiter;
  for (;;) {
    switch (channel.receive_or_wait(out, &waiter)) {
      case Channel::WaitResult::received:
        return BlockingResult::done;
      case Channel::WaitResult::closed:
        return BlockingResult::closed;
      case Channel::WaitResult::waiting:
        break;
    }
    if (!waiter.wait_until(deadline) && ThreadWaiter::Clock::now() >= deadline) {
      channel.stop_waiting(&waiter);
      // A message may have come between the timeout and stop_waiting: take it.
      switch (channel.try_receive(out)) {
        case Channel::ReceiveResult::received:
          return BlockingResult::done;
        case Channel::ReceiveResult::closed:
          return BlockingResult::closed;
        case Channel::ReceiveResult::empty:
          return BlockingResult::timed_out;
      }
    }
  }
}

// Sends `message`, waiting for room until the deadline.
inline BlockingResult send_blocking(Channel& channel, Payload& message,
                                    ThreadWaiter::Clock::time_point deadline) {
  ThreadWaiter waiter;
  for (;;) {
    switch (channel.send_or_wait(message, &waiter)) {
      case Channel::SendResult::ok:
        return BlockingResult::done;
      case Channel::SendResult::closed:
        return BlockingResult::closed;
      case Channel::SendResult::full:
        break;
    }
    if (!waiter.wait_until(deadline) && ThreadWaiter::Clock::now() >= deadline) {
      channel.stop_waiting_for_room(&waiter);
      switch (channel.send(message)) {  // room may have come with the deadline
        case Channel::SendResult::ok:
          return BlockingResult::done;
        case Channel::SendResult::closed:
          return BlockingResult::closed;
        case Channel::SendResult::full:
          return BlockingResult::timed_out;
      }
    }
  }
}

}  // namespace epy::channels
