// The engine: CPython, the actor system and the contexts that live in it.
//
// One dedicated thread (the engine thread) initialises CPython (it becomes Python's main
// thread), owns the CAF actor system from construction to destruction (CAF 0.17 keeps
// per-thread state in the thread that built the system) and runs the rare operations that
// need the main interpreter. Contexts are CAF actors watched by a supervisor actor.
// Nothing here depends on the BEAM.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/context.hpp"
#include "engine/priority_governor.hpp"
#include "engine/python/runtime.hpp"
#include "engine/state_store.hpp"

namespace epy {

struct EngineConfig {
  RuntimeOptions python;
  // Subinterpreters kept (with their threads) for later contexts; 0 ends every one.
  std::size_t max_idle_interpreters = 16;
  StateStore::Limits state_limits;
  // How context threads share the cores with the BEAM's schedulers.
  PriorityOptions priority;
};

class Engine {
 public:
  using ExitHandler = std::function<void(std::uint32_t context_id, const std::string& reason)>;

  // Starts the engine thread and waits until Python and the actor system are up.
  static std::unique_ptr<Engine> start(const EngineConfig& config, std::string* error);

  // shutdown(), then joins the engine thread.
  ~Engine();

  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Starts a context and returns at once; config.on_ready reports when it serves.
  std::shared_ptr<Context> spawn(ContextConfig config);

  // Runs `task` on the engine thread (Python's main thread, no thread state attached).
  void run_on_main(std::function<void()> task);

  // True when OWN_GIL subinterpreters really work here (probed once at start).
  bool subinterp_supported() const;

  // Contexts whose threads are still alive.
  std::vector<std::shared_ptr<Context>> contexts() const;

  // Subinterpreters parked for reuse right now.
  std::size_t idle_interpreters() const;

  // The node's shared state (see state_store.hpp).
  StateStore& state();

  // Lowers the priority of context threads whose requests run long.
  const PriorityGovernor& priority() const;

  // Called (on an actor-system thread) whenever a context's actor terminates.
  void set_exit_handler(ExitHandler handler);

  // Stops every context (what they still hold fails with shutting_down), waits for their
  // threads and tears the actor system down. Idempotent. CPython stays initialised.
  void shutdown();

 private:
  struct Impl;
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace epy
