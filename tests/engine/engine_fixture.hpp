// One engine for the whole test binary (CPython initialises once per process), plus
// helpers to start contexts and submit TestJobs to them.
#pragma once

#include <functional>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

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

}  // namespace epy::test
