// One engine for the whole test binary (CPython initialises once per process), plus
// helpers to start contexts and submit TestJobs to them.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "engine/engine.hpp"
#include "test_job.hpp"

namespace epy::test {

Engine& engine();

// The interpreter modes this Python build can run: subinterp (3.12+) and multi_executor.
std::vector<InterpreterMode> available_modes();

struct StartedContext {
  std::shared_ptr<Context> context;
  bool ok = false;
  std::string error;
};

// Spawns a context and waits until it serves (or failed to start). `adjust` may change
// its configuration first (hooks a test needs).
StartedContext start_context(InterpreterMode mode, std::size_t max_pending = 1024,
                             std::uint32_t id = 1,
                             const std::function<void(ContextConfig&)>& adjust = nullptr);

// Submits one request; returns whether it was accepted.
Context::Submission submit(Context& ctx, Inbox& inbox, MessageKind kind, std::uint64_t request,
                           const std::string& module_or_code, const std::string& function = {},
                           std::vector<Arg> args = {});

// A context of each available mode (a parameterised test), started before each test
// and stopped after it. Fixtures that need hooks in its configuration override adjust().
class ContextFixture : public ::testing::TestWithParam<InterpreterMode> {
 protected:
  void SetUp() override;
  void TearDown() override { stop(); }

  // Called with the context's configuration before it starts.
  virtual void adjust(ContextConfig& config) {}
  // Stops the context (idempotent) and waits for its thread.
  void stop();
  // Submits one request to the context and waits for its outcome.
  Outcome run(MessageKind kind, const std::string& what, const std::string& function = {},
              std::vector<Arg> args = {});
  // Waits until a request runs, and a little more (it then waits in Python).
  void wait_until_executing();

  StartedContext started_;
  std::shared_ptr<Context> ctx_;
  Inbox inbox_;
  std::uint64_t request_ = 0;
};

std::string mode_name(const ::testing::TestParamInfo<InterpreterMode>& info);

}  // namespace epy::test
