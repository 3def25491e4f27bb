#include "engine/python/python.hpp"

#include "engine/state_wait.hpp"

#include <atomic>
#include <condition_variable>
#include <mutex>

namespace epy {

namespace {

class ChangeFlag : public StateWatcher {
 public:
  explicit ChangeFlag(Context* context) : context_(context) {}

  void state_changed(const std::string&, const StateValue*) override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      changed_ = true;
    }
    if (context_) context_->wake();
    else cv_.notify_all();
  }

  bool changed() {
    std::lock_guard<std::mutex> lock(mutex_);
    return changed_;
  }

  bool wait_until(Context::Clock::time_point deadline) {
    std::unique_lock<std::mutex> lock(mutex_);
    if (deadline == Context::Clock::time_point::max()) cv_.wait(lock, [&] { return changed_; });
    else cv_.wait_until(lock, deadline, [&] { return changed_; });
    return changed_;
  }

 private:
  Context* context_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool changed_ = false;
};

}  // namespace

Context::WaitResult wait_for_state_change(StateStore& store, const std::string& key,
                                          Context::Clock::time_point deadline) {
  Context* context = Context::current();
  ChangeFlag flag(context);
  store.watch(key, &flag);
  Context::WaitResult result;
  if (context) {
    result = context->serve_until([&] { return flag.changed(); }, deadline);
  } else {
    PyThreadState* saved = PyEval_SaveThread();
    result = flag.wait_until(deadline) ? Context::WaitResult::ready : Context::WaitResult::timed_out;
    PyEval_RestoreThread(saved);
  }
  store.unwatch(key, &flag);
  return result;
}

}  // namespace epy
