#include "engine/state_store.hpp"

namespace epy {

namespace {

std::size_t entry_bytes(std::string_view key, const StateValue& v) { return key.size() + v.size(); }

}  // namespace

void StateStore::set_limits(Limits limits) {
  max_entries_.store(limits.max_entries);
  max_bytes_.store(limits.max_bytes);
}

StateStore::Shard& StateStore::shard_of(std::string_view key) const {
  return shards_[std::hash<std::string_view>{}(key) % kShards];
}

bool StateStore::admit(std::ptrdiff_t entries, std::ptrdiff_t bytes) {
  const std::size_t e = entries_.fetch_add(std::size_t(entries)) + std::size_t(entries);
  const std::size_t b = bytes_.fetch_add(std::size_t(bytes)) + std::size_t(bytes);
  const std::size_t max_e = max_entries_.load(), max_b = max_bytes_.load();
  if ((entries > 0 && max_e && e > max_e) || (bytes > 0 && max_b && b > max_b)) {
    unadmit(entries, bytes);
    return false;
  }
  return true;
}

void StateStore::unadmit(std::ptrdiff_t entries, std::ptrdiff_t bytes) {
  entries_.fetch_sub(std::size_t(entries));
  bytes_.fetch_sub(std::size_t(bytes));
}

void StateStore::notify_locked(Shard& shard, const std::string& key, const StateValue* value) {
  auto [first, last] = shard.watchers.equal_range(key);
  for (auto it = first; it != last; ++it) it->second->state_changed(key, value);
  if (StateWatcher* global = global_watcher_.load(std::memory_order_acquire))
    global->state_changed(key, value);
}

StateStatus StateStore::put_locked(Shard& shard, std::string_view key, StateValue value) {
  std::string k(key);
  auto it = shard.map.find(k);
  const std::ptrdiff_t old_bytes =
      it == shard.map.end() ? 0 : std::ptrdiff_t(entry_bytes(key, it->second));
  const std::ptrdiff_t new_entries = it == shard.map.end() ? 1 : 0;
  if (!admit(new_entries, std::ptrdiff_t(entry_bytes(key, value)) - old_bytes))
    return StateStatus::full;
  if (it == shard.map.end())
    it = shard.map.emplace(std::move(k), std::move(value)).first;
  else
    it->second = std::move(value);
  notify_locked(shard, it->first, &it->second);
  return StateStatus::ok;
}

StateStatus StateStore::set(std::string_view key, StateValue value) {
  Shard& shard = shard_of(key);
  std::unique_lock<std::shared_mutex> lock(shard.mutex);
  return put_locked(shard, key, std::move(value));
}

StateStatus StateStore::get(std::string_view key, StateValue* out) const {
  Shard& shard = shard_of(key);
  std::shared_lock<std::shared_mutex> lock(shard.mutex);
  auto it = shard.map.find(std::string(key));
  if (it == shard.map.end()) return StateStatus::not_found;
  *out = it->second;
  return StateStatus::ok;
}

bool StateStore::remove(std::string_view key) {
  Shard& shard = shard_of(key);
  std::unique_lock<std::shared_mutex> lock(shard.mutex);
  auto it = shard.map.find(std::string(key));
  if (it == shard.map.end()) return false;
  const std::string k = it->first;
  unadmit(1, std::ptrdiff_t(entry_bytes(k, it->second)));
  shard.map.erase(it);
  notify_locked(shard, k, nullptr);
  return true;
}

std::vector<std::string> StateStore::keys() const {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < kShards; ++i) {
    std::shared_lock<std::shared_mutex> lock(shards_[i].mutex);
    for (const auto& [k, v] : shards_[i].map) out.push_back(k);
  }
  return out;
}

void StateStore::clear() {
  for (std::size_t i = 0; i < kShards; ++i) {
    Shard& shard = shards_[i];
    std::unique_lock<std::shared_mutex> lock(shard.mutex);
    for (auto it = shard.map.begin(); it != shard.map.end();) {
      const std::string k = it->first;
      unadmit(1, std::ptrdiff_t(entry_bytes(k, it->second)));
      it = shard.map.erase(it);
      notify_locked(shard, k, nullptr);
    }
  }
}

StateStatus StateStore::add(std::string_view key, std::int64_t delta, std::int64_t* result) {
  Shard& shard = shard_of(key);
  std::unique_lock<std::shared_mutex> lock(shard.mutex);
  auto it = shard.map.find(std::string(key));
  std::int64_t current = 0;
  if (it != shard.map.end()) {
    if (!it->second.is_integer) return StateStatus::not_integer;
    current = it->second.integer;
  }
  std::int64_t sum;
  if (__builtin_add_overflow(current, delta, &sum)) return StateStatus::overflow;
  if (it != shard.map.end()) {
    it->second.integer = sum;
    notify_locked(shard, it->first, &it->second);
  } else {
    StateStatus s = put_locked(shard, key, StateValue::of_integer(sum));
    if (s != StateStatus::ok) return s;
  }
  *result = sum;
  return StateStatus::ok;
}

StateStatus StateStore::compare_and_set(std::string_view key, const StateValue* expected,
                                        StateValue desired, bool* swapped) {
  Shard& shard = shard_of(key);
  std::unique_lock<std::shared_mutex> lock(shard.mutex);
  auto it = shard.map.find(std::string(key));
  const bool matches =
      expected ? (it != shard.map.end() && it->second.same_as(*expected)) : it == shard.map.end();
  *swapped = false;
  if (!matches) return StateStatus::ok;
  StateStatus s = put_locked(shard, key, std::move(desired));
  *swapped = s == StateStatus::ok;
  return s;
}

void StateStore::watch(const std::string& key, StateWatcher* watcher) {
  Shard& shard = shard_of(key);
  std::unique_lock<std::shared_mutex> lock(shard.mutex);
  shard.watchers.emplace(key, watcher);
}

void StateStore::unwatch(const std::string& key, StateWatcher* watcher) {
  Shard& shard = shard_of(key);
  std::unique_lock<std::shared_mutex> lock(shard.mutex);
  auto [first, last] = shard.watchers.equal_range(key);
  for (auto it = first; it != last; ++it) {
    if (it->second == watcher) {
      shard.watchers.erase(it);
      return;
    }
  }
}

void StateStore::set_global_watcher(StateWatcher* watcher) {
  global_watcher_.store(watcher, std::memory_order_release);
}

}  // namespace epy
