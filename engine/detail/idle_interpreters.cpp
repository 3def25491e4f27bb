#include "engine/detail/idle_interpreters.hpp"

namespace epy::detail {

IdleInterpreters::Place IdleInterpreters::enter() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (closed_ || parked_.size() >= max_idle_) return nullptr;
  auto* place = new Parked();
  parked_.push_back(place);
  return place;
}

std::shared_ptr<Context> IdleInterpreters::wait(Place place) {
  std::unique_ptr<Parked> owned(place);
  std::unique_lock<std::mutex> lock(mutex_);
  place->cv.wait(lock, [&] { return place->woken; });
  return std::move(place->next);
}

bool IdleInterpreters::adopt(const std::shared_ptr<Context>& context) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (parked_.empty()) return false;
  // Most recently parked first: its memory is the warmest.
  Parked* p = parked_.back();
  parked_.pop_back();
  p->next = context;
  p->woken = true;
  p->cv.notify_one();
  return true;
}

void IdleInterpreters::close() {
  std::lock_guard<std::mutex> lock(mutex_);
  closed_ = true;
  for (Parked* p : parked_) {
    p->woken = true;
    p->cv.notify_one();
  }
  parked_.clear();
}

std::size_t IdleInterpreters::idle() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return parked_.size();
}

}  // namespace epy::detail
