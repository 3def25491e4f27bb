#include "engine/wake_signal.hpp"

#include "engine/python/python.hpp"

namespace epy {

void WakeSignal::fire() {
  std::lock_guard<std::mutex> lock(mutex_);
  fired_ = true;
  if (context_)
    context_->wake();
  else
    cv_.notify_all();
}

bool WakeSignal::fired() {
  std::lock_guard<std::mutex> lock(mutex_);
  return fired_;
}

void WakeSignal::detach() {
  std::lock_guard<std::mutex> lock(mutex_);
  context_ = nullptr;
}

void WakeSignal::rearm() {
  std::lock_guard<std::mutex> lock(mutex_);
  fired_ = false;
}

Context::WaitResult WakeSignal::wait_until(Context::Clock::time_point deadline) {
  Context* context;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    context = context_;
  }
  if (context) return context->serve_until([this] { return fired(); }, deadline);
  bool fired;
  Py_BEGIN_ALLOW_THREADS std::unique_lock<std::mutex> lock(mutex_);
  if (deadline == Context::Clock::time_point::max())
    cv_.wait(lock, [this] { return fired_; });
  else
    cv_.wait_until(lock, deadline, [this] { return fired_; });
  fired = fired_;
  Py_END_ALLOW_THREADS return fired ? Context::WaitResult::ready : Context::WaitResult::timed_out;
}

}  // namespace epy
