// Which environment enif_send must be given on the current thread.
//
// Replies usually leave from context threads (not ERTS threads: caller_env must be NULL).
// But a stop answers pending requests from whatever thread stops the context, which can
// be a scheduler inside a NIF call or a monitor callback; there enif_send needs that
// call's env. NIF entry points that may stop a context set it for their duration.
#pragma once

#include <erl_nif.h>

namespace epy::nif {

ErlNifEnv* current_caller_env();

class CallerEnvScope {
 public:
  explicit CallerEnvScope(ErlNifEnv* env);
  ~CallerEnvScope();
  CallerEnvScope(const CallerEnvScope&) = delete;
  CallerEnvScope& operator=(const CallerEnvScope&) = delete;

 private:
  ErlNifEnv* previous_;
};

}  // namespace epy::nif
