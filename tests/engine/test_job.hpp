// A Job for engine tests: plain C++ inputs, replies delivered to a C++ Inbox (the engine's
// "C++ receiver" reply address).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "engine/job.hpp"
#include "engine/python/error.hpp"
#include "engine/python/interpreter.hpp"
#include "engine/python/python.hpp"
#include "engine/request_table.hpp"

namespace epy::test {

struct Outcome {
  std::uint64_t request = 0;             // which request this answers
  MessageKind kind = MessageKind::call;  // what the engine said the request was
  bool ok = false;
  std::string value;       // repr() of the result
  std::string error_type;  // Python exception class, when !ok and !failed
  std::string error_message;
  bool failed = false;  // answered with a Failure (the request did not run)
  FailureKind failure = FailureKind::shutting_down;
};

class Inbox {
 public:
  void push(Outcome o) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      items_.push_back(std::move(o));
    }
    cv_.notify_all();
  }
  std::optional<Outcome> pop(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock<std::mutex> lock(mutex_);
    if (!cv_.wait_for(lock, timeout, [&] { return !items_.empty(); })) return std::nullopt;
    Outcome o = std::move(items_.front());
    items_.pop_front();
    return o;
  }
  std::size_t size() {
    std::lock_guard<std::mutex> lock(mutex_);
    return items_.size();
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Outcome> items_;
};

using Arg = std::variant<long, double, std::string>;

class TestJob : public Job {
 public:
  // Filled in by the submitter.
  std::uint64_t request = 0;
  Inbox* inbox = nullptr;  // nullptr: fire and forget
  std::string module, function, code;
  std::vector<Arg> args;
  // Runs on the context thread before the request (to set up the context under test).
  std::function<void()> in_context;
  // false: nobody waits for the answer (a task then runs on by itself).
  bool answer_awaited = true;

  bool awaited() const override { return answer_awaited; }

  bool decode_call(Interpreter&, CallInput& in) override {
    if (in_context) in_context();
    refs_.emplace_back(PyUnicode_FromStringAndSize(module.data(), Py_ssize_t(module.size())));
    refs_.emplace_back(PyUnicode_FromStringAndSize(function.data(), Py_ssize_t(function.size())));
    in.module = refs_[0].get();
    in.function = refs_[1].get();
    for (const Arg& a : args) {
      if (auto* l = std::get_if<long>(&a))
        refs_.emplace_back(PyLong_FromLong(*l));
      else if (auto* d = std::get_if<double>(&a))
        refs_.emplace_back(PyFloat_FromDouble(*d));
      else
        refs_.emplace_back(PyUnicode_FromString(std::get<std::string>(a).c_str()));
    }
    for (std::size_t i = 2; i < refs_.size(); ++i) argv_.push_back(refs_[i].get());
    in.args = argv_.data();
    in.nargs = argv_.size();
    return true;
  }

  bool decode_code(Interpreter&, CodeInput& in) override {
    if (in_context) in_context();
    refs_.emplace_back(PyUnicode_FromStringAndSize(code.data(), Py_ssize_t(code.size())));
    in.code = refs_[0].get();
    return true;
  }

  void reply(Interpreter&, MessageKind kind, PyObject* result, ReplyGate& gate) override {
    Outcome o;
    o.request = request;
    o.kind = kind;
    if (result) {
      o.ok = true;
      py::Ref r(PyObject_Repr(result));
      o.value = r ? PyUnicode_AsUTF8(r.get()) : "<repr failed>";
      PyErr_Clear();
    } else {
      PyErrorInfo e = fetch_error();
      o.error_type = e.type_name;
      o.error_message = e.message;
    }
    if (!result && gate.cancelled()) o.error_type = "cancelled";
    argv_.clear();
    refs_.clear();
    switch (gate.claim()) {
      case Delivery::deliver:
        if (inbox) inbox->push(std::move(o));
        break;
      case Delivery::abort:
        fail(gate.abort_failure(), gate);
        break;
      case Delivery::drop:
        break;
    }
  }

  void fail(const Failure& failure, ReplyGate& gate) override {
    if (gate.claim() == Delivery::drop || !inbox) return;
    Outcome o;
    o.request = request;
    o.failed = true;
    o.failure = failure.kind;
    inbox->push(std::move(o));
  }

  void recycle() noexcept override {
    request = 0;
    inbox = nullptr;
    module.clear();
    function.clear();
    code.clear();
    args.clear();
    in_context = nullptr;
    answer_awaited = true;
  }

  void release_inputs() override {
    argv_.clear();
    refs_.clear();
  }

 private:
  std::vector<py::Ref> refs_;
  std::vector<PyObject*> argv_;
};

}  // namespace epy::test
