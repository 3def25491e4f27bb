#include "channels/channel.hpp"

namespace epy::channels {

void WaiterList::push_back(ChannelWaiter* w) {
  w->prev_ = tail_;
  w->next_ = nullptr;
  if (tail_)
    tail_->next_ = w;
  else
    head_ = w;
  tail_ = w;
  w->linked_ = true;
  ++size_;
}

ChannelWaiter* WaiterList::pop_front() {
  ChannelWaiter* w = head_;
  if (w) remove(w);
  return w;
}

void WaiterList::remove(ChannelWaiter* w) {
  if (!w->linked_) return;
  if (w->prev_)
    w->prev_->next_ = w->next_;
  else
    head_ = w->next_;
  if (w->next_)
    w->next_->prev_ = w->prev_;
  else
    tail_ = w->prev_;
  w->prev_ = w->next_ = nullptr;
  w->linked_ = false;
  --size_;
}

Channel::SendResult Channel::send(Payload& message) { return send_or_wait(message, nullptr); }

Channel::SendResult Channel::send_or_wait(Payload& message, ChannelWaiter* room) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (closed_) return SendResult::closed;
  if (max_bytes_ && !queue_.empty() && bytes_ + message.bytes() > max_bytes_) {
    if (room && !room->linked_) {
      room->notified_ = false;
      senders_.push_back(room);
    }
    return SendResult::full;
  }
  bytes_ += message.bytes();
  queue_.push_back(std::move(message));
  if (!receivers_.empty()) wake_one_receiver();
  return SendResult::ok;
}

bool Channel::stop_waiting_for_room(ChannelWaiter* room) {
  std::lock_guard<std::mutex> lock(mutex_);
  senders_.remove(room);
  return room->notified_;
}

Payload Channel::pop() {
  Payload p = std::move(queue_.front());
  queue_.pop_front();
  bytes_ -= p.bytes();
  if (!senders_.empty()) wake_senders();
  return p;
}

Channel::ReceiveResult Channel::try_receive(Payload* out) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!queue_.empty()) {
    *out = pop();
    return ReceiveResult::received;
  }
  return closed_ ? ReceiveResult::closed : ReceiveResult::empty;
}

Channel::WaitResult Channel::receive_or_wait(Payload* out, ChannelWaiter* waiter) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!queue_.empty()) {
    receivers_.remove(waiter);
    waiter->notified_ = false;  // this wake-up is used up
    *out = pop();
    return WaitResult::received;
  }
  if (closed_) return WaitResult::closed;
  if (!waiter->linked_) {
    waiter->notified_ = false;
    receivers_.push_back(waiter);
  }
  return WaitResult::waiting;
}

bool Channel::stop_waiting(ChannelWaiter* waiter) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (waiter->linked_) {
    receivers_.remove(waiter);
    return false;
  }
  // Woken for a message it will not take: the next receiver gets the wake-up.
  if (waiter->notified_ && !queue_.empty() && !receivers_.empty()) wake_one_receiver();
  return waiter->notified_;
}

void Channel::wake_one_receiver() {
  while (ChannelWaiter* w = receivers_.pop_front()) {
    w->notified_ = true;
    if (w->notify()) return;
  }
}

void Channel::wake_senders() {
  while (ChannelWaiter* w = senders_.pop_front()) {
    w->notified_ = true;
    w->notify();
  }
}

void Channel::close() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (closed_) return;
  closed_ = true;
  while (ChannelWaiter* w = receivers_.pop_front()) {
    w->notified_ = true;
    w->notify();
  }
  wake_senders();
}

bool Channel::closed() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return closed_;
}

Channel::Info Channel::info() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return {bytes_, queue_.size(), max_bytes_, closed_, receivers_.size()};
}

}  // namespace epy::channels
