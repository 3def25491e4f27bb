#include "engine/state_store.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

namespace epy {
namespace {

StateValue bytes(const std::string& s) { return StateValue::of_bytes(s); }

struct Recorder : StateWatcher {
  std::mutex m;
  std::vector<std::pair<std::string, std::string>> events;  // key, value ("" = deleted)
  void state_changed(const std::string& key, const StateValue* v) override {
    std::lock_guard<std::mutex> lock(m);
    events.emplace_back(key, !v ? "" : v->is_integer ? std::to_string(v->integer) : *v->encoded);
  }
};

TEST(StateStore, SetGetRemove) {
  StateStore store;
  StateValue out;
  EXPECT_EQ(store.get("k", &out), StateStatus::not_found);
  EXPECT_EQ(store.set("k", bytes("v1")), StateStatus::ok);
  ASSERT_EQ(store.get("k", &out), StateStatus::ok);
  EXPECT_EQ(*out.encoded, "v1");
  EXPECT_EQ(store.set("k", StateValue::of_integer(7)), StateStatus::ok);
  ASSERT_EQ(store.get("k", &out), StateStatus::ok);
  EXPECT_TRUE(out.is_integer);
  EXPECT_EQ(out.integer, 7);
  EXPECT_EQ(store.size(), 1u);
  EXPECT_TRUE(store.remove("k"));
  EXPECT_FALSE(store.remove("k"));
  EXPECT_EQ(store.size(), 0u);
  EXPECT_EQ(store.bytes(), 0u);
}

TEST(StateStore, KeysAndClear) {
  StateStore store;
  for (int i = 0; i < 100; ++i) store.set("key" + std::to_string(i), StateValue::of_integer(i));
  auto keys = store.keys();
  EXPECT_EQ(keys.size(), 100u);
  EXPECT_NE(std::find(keys.begin(), keys.end(), "key42"), keys.end());
  store.clear();
  EXPECT_TRUE(store.keys().empty());
  EXPECT_EQ(store.size(), 0u);
  EXPECT_EQ(store.bytes(), 0u);
}

TEST(StateStore, CountersStartAtZeroAndRefuseNonIntegers) {
  StateStore store;
  std::int64_t r = 0;
  EXPECT_EQ(store.add("hits", 1, &r), StateStatus::ok);
  EXPECT_EQ(r, 1);
  EXPECT_EQ(store.add("hits", 10, &r), StateStatus::ok);
  EXPECT_EQ(r, 11);
  EXPECT_EQ(store.add("hits", -1, &r), StateStatus::ok);
  EXPECT_EQ(r, 10);
  store.set("text", bytes("abc"));
  EXPECT_EQ(store.add("text", 1, &r), StateStatus::not_integer);
  StateValue out;
  store.get("text", &out);
  EXPECT_EQ(*out.encoded, "abc");  // unchanged
  store.set("max", StateValue::of_integer(INT64_MAX));
  EXPECT_EQ(store.add("max", 1, &r), StateStatus::overflow);
}

TEST(StateStore, CompareAndSet) {
  StateStore store;
  bool swapped = false;
  EXPECT_EQ(store.compare_and_set("k", nullptr, bytes("first"), &swapped), StateStatus::ok);
  EXPECT_TRUE(swapped);
  EXPECT_EQ(store.compare_and_set("k", nullptr, bytes("again"), &swapped), StateStatus::ok);
  EXPECT_FALSE(swapped);  // not absent any more
  StateValue expected = bytes("first");
  EXPECT_EQ(store.compare_and_set("k", &expected, bytes("second"), &swapped), StateStatus::ok);
  EXPECT_TRUE(swapped);
  EXPECT_EQ(store.compare_and_set("k", &expected, bytes("third"), &swapped), StateStatus::ok);
  EXPECT_FALSE(swapped);
  StateValue out;
  store.get("k", &out);
  EXPECT_EQ(*out.encoded, "second");
}

// 8 threads x 10,000 increments of one key end at exactly 80,000.
TEST(StateStore, ConcurrentIncrementsLoseNothing) {
  StateStore store;
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      std::int64_t r;
      for (int i = 0; i < 10000; ++i) store.add("counter", 1, &r);
    });
  for (auto& t : threads) t.join();
  StateValue out;
  store.get("counter", &out);
  EXPECT_EQ(out.integer, 80000);
}

// Read-modify-write through CAS retries is exact too.
TEST(StateStore, CasLoopsLoseNoUpdate) {
  StateStore store;
  store.set("n", StateValue::of_integer(0));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 5000; ++i) {
        for (;;) {
          StateValue cur;
          store.get("n", &cur);
          bool swapped;
          store.compare_and_set("n", &cur, StateValue::of_integer(cur.integer + 1), &swapped);
          if (swapped) break;
        }
      }
    });
  for (auto& t : threads) t.join();
  StateValue out;
  store.get("n", &out);
  EXPECT_EQ(out.integer, 20000);
}

TEST(StateStore, ConcurrentWritersOfDifferentKeys) {
  StateStore store;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i)
        store.set("t" + std::to_string(t) + "-" + std::to_string(i), StateValue::of_integer(i));
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(store.size(), 8000u);
}

TEST(StateStore, LimitsRefuseAndKeepWhatIsStored) {
  StateStore store;
  store.set_limits({2, 0});
  EXPECT_EQ(store.set("a", bytes("1")), StateStatus::ok);
  EXPECT_EQ(store.set("b", bytes("2")), StateStatus::ok);
  EXPECT_EQ(store.set("c", bytes("3")), StateStatus::full);
  std::int64_t r;
  EXPECT_EQ(store.add("d", 1, &r), StateStatus::full);
  EXPECT_EQ(store.set("a", bytes("replaced")), StateStatus::ok);  // not a new entry
  EXPECT_EQ(store.size(), 2u);

  StateStore by_bytes;
  by_bytes.set_limits({0, 20});
  EXPECT_EQ(by_bytes.set("k1", bytes("0123456789")), StateStatus::ok);  // 12 bytes
  EXPECT_EQ(by_bytes.set("k2", bytes("0123456789")), StateStatus::full);
  EXPECT_EQ(by_bytes.set("k1", bytes("01234567890123456")), StateStatus::ok);  // 19 bytes
  EXPECT_EQ(by_bytes.set("k1", bytes("012345678901234567890")), StateStatus::full);
  StateValue out;
  by_bytes.get("k1", &out);
  EXPECT_EQ(*out.encoded, "01234567890123456");
}

TEST(StateStore, WatchersHearEveryChangeOfTheirKey) {
  StateStore store;
  Recorder key_watcher, everything;
  store.watch("k", &key_watcher);
  store.set_global_watcher(&everything);
  store.set("k", bytes("v"));
  store.set("other", bytes("x"));
  std::int64_t r;
  store.remove("k");
  store.add("k", 5, &r);
  store.unwatch("k", &key_watcher);
  store.set("k", bytes("unheard"));
  store.set_global_watcher(nullptr);
  std::vector<std::pair<std::string, std::string>> expected_key = {
      {"k", "v"}, {"k", ""}, {"k", "5"}};
  EXPECT_EQ(key_watcher.events, expected_key);
  EXPECT_EQ(everything.events.size(), 5u);
}

}  // namespace
}  // namespace epy
