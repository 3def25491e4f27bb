// The deferred requests of a context: task requests whose answer waits for the task their
// function's awaitable became, keyed by the request's Ticket::packed(). Context thread
// only, GIL held.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "engine/python/python.hpp"

namespace epy::detail {

class DeferredTasks {
 public:
  void add(std::uint64_t token, py::Ref task) { tasks_.emplace(token, std::move(task)); }
  // The task of `token` (borrowed), or nullptr.
  PyObject* find(std::uint64_t token) const {
    auto it = tasks_.find(token);
    return it == tasks_.end() ? nullptr : it->second.get();
  }
  // Forgets `token`; false if it was not deferred (answered already).
  bool remove(std::uint64_t token) { return tasks_.erase(token) > 0; }
  std::vector<std::uint64_t> tokens() const {
    std::vector<std::uint64_t> out;
    out.reserve(tasks_.size());
    for (const auto& entry : tasks_) out.push_back(entry.first);
    return out;
  }

 private:
  std::unordered_map<std::uint64_t, py::Ref> tasks_;
};

}  // namespace epy::detail
