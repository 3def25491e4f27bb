#include "engine/state_wait.hpp"

#include "engine/python/python.hpp"
#include "engine/wake_signal.hpp"

namespace epy {

namespace {

// A watch on one key that fires a WakeSignal.
class ChangeWatch : public StateWatcher {
 public:
  void state_changed(const std::string&, const StateValue*) override { signal.fire(); }
  WakeSignal signal;
};

}  // namespace

Context::WaitResult wait_for_state_change(StateStore& store, const std::string& key,
                                          Context::Clock::time_point deadline) {
  ChangeWatch watch;
  store.watch(key, &watch);
  const Context::WaitResult result = watch.signal.wait_until(deadline);
  store.unwatch(key, &watch);
  return result;
}

}  // namespace epy
