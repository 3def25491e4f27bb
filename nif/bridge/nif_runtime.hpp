// Everything the NIF keeps between calls. One heap object, reached from priv_data and
// never destroyed: CPython cannot be initialised twice in a process, so a reload of the
// module finds and reuses it, and a VM halt never waits for its threads.
#pragma once

#include <erl_nif.h>

#include <memory>
#include <string>

#include "engine/engine.hpp"
#include "nif/bridge/context_handle.hpp"
#include "nif/bridge/erlang_calls.hpp"
#include "nif/bridge/state_subscriptions.hpp"

namespace epy::nif {

struct NifRuntime {
  std::unique_ptr<Engine> engine;
  std::string python_dir;   // priv/python: the `erlang` package, first on every sys.path
  std::string python_home;  // the prefix of the embedded Python (its bin/ makes venvs)
  ContextRegistry registry;
  StateSubscriptions subscriptions;
  ErlangCalls erlang_calls;  // Python calling Erlang
  ErlNifResourceType* context_type = nullptr;
};

inline NifRuntime& nif_runtime(ErlNifEnv* env) {
  return *static_cast<NifRuntime*>(enif_priv_data(env));
}

// The same state, for code that runs without a NIF env (the _erlang module in Python).
NifRuntime& global_nif_runtime();

// A context handle as the owning py_context process holds it.
struct ContextResource {
  std::shared_ptr<ContextHandle> handle;
  ErlNifMonitor monitor;
};

bool open_resource_types(ErlNifEnv* env, NifRuntime& state);

}  // namespace epy::nif
