// The node's shared state: one key-value store for every context of every pool and for
// Erlang, living in the engine. Operations run on the caller's own thread (no message, no
// thread hop): the keys are spread over shards, each a reader-writer lock, so readers
// never block readers and writers of different keys almost never meet.
//
// Values are opaque to the store: a 64-bit integer (what counters work on) or encoded
// bytes (the NIF stores Erlang's external term format, so values cross interpreters and
// come back to Erlang exactly). Changes are reported to watchers of the key.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace epy {

struct StateValue {
  bool is_integer = false;
  std::int64_t integer = 0;
  std::shared_ptr<const std::string> encoded;  // when !is_integer; shared, never copied

  static StateValue of_integer(std::int64_t i) { return {true, i, nullptr}; }
  static StateValue of_bytes(std::string bytes) {
    return {false, 0, std::make_shared<const std::string>(std::move(bytes))};
  }
  std::size_t size() const { return is_integer ? sizeof integer : encoded->size(); }
  bool same_as(const StateValue& o) const {
    return is_integer == o.is_integer &&
           (is_integer ? integer == o.integer : *encoded == *o.encoded);
  }
};

enum class StateStatus { ok, not_found, not_integer, overflow, full };

// Told about every change of the keys it watches. Called with the key's shard locked, so
// it must be quick and must not touch the store (push a message, signal a flag).
class StateWatcher {
 public:
  virtual ~StateWatcher() = default;
  virtual void state_changed(const std::string& key, const StateValue* value) = 0;  // null: deleted
};

class StateStore {
 public:
  struct Limits {
    std::size_t max_entries = 0;  // 0: unbounded
    std::size_t max_bytes = 0;    // keys + values; 0: unbounded
  };

  StateStore() = default;
  StateStore(const StateStore&) = delete;
  StateStore& operator=(const StateStore&) = delete;

  void set_limits(Limits limits);

  StateStatus set(std::string_view key, StateValue value);  // full: nothing changed
  StateStatus get(std::string_view key, StateValue* out) const;
  bool remove(std::string_view key);
  std::vector<std::string> keys() const;
  void clear();

  // Adds delta to an integer value (a missing key counts as 0). not_integer / overflow /
  // full leave the value as it was.
  StateStatus add(std::string_view key, std::int64_t delta, std::int64_t* result);

  // Sets `desired` if the key holds `expected` (nullptr: if the key is absent).
  StateStatus compare_and_set(std::string_view key, const StateValue* expected, StateValue desired,
                              bool* swapped);

  std::size_t size() const { return entries_.load(std::memory_order_relaxed); }
  std::size_t bytes() const { return bytes_.load(std::memory_order_relaxed); }

  // Watchers of one key, and one that is told about every key (the NIF's subscriptions).
  void watch(const std::string& key, StateWatcher* watcher);
  void unwatch(const std::string& key, StateWatcher* watcher);
  void set_global_watcher(StateWatcher* watcher);

 private:
  static constexpr std::size_t kShards = 64;
  struct Shard {
    mutable std::shared_mutex mutex;
    std::unordered_map<std::string, StateValue> map;
    std::unordered_multimap<std::string, StateWatcher*> watchers;
  };

  Shard& shard_of(std::string_view key) const;
  // Reserves room for a change of `entries` entries and `bytes` bytes; false if over a limit.
  bool admit(std::ptrdiff_t entries, std::ptrdiff_t bytes);
  void unadmit(std::ptrdiff_t entries, std::ptrdiff_t bytes);
  // Stores `value` at `key` in a locked shard and tells the watchers.
  StateStatus put_locked(Shard& shard, std::string_view key, StateValue value);
  void notify_locked(Shard& shard, const std::string& key, const StateValue* value);

  std::unique_ptr<Shard[]> shards_{new Shard[kShards]};
  std::atomic<std::size_t> entries_{0};
  std::atomic<std::size_t> bytes_{0};
  std::atomic<std::size_t> max_entries_{0};
  std::atomic<std::size_t> max_bytes_{0};
  std::atomic<StateWatcher*> global_watcher_{nullptr};
};

}  // namespace epy
