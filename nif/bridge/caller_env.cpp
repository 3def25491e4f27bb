#include "nif/bridge/caller_env.hpp"

namespace epy::nif {

namespace {
thread_local ErlNifEnv* t_caller_env = nullptr;
}

ErlNifEnv* current_caller_env() { return t_caller_env; }

CallerEnvScope::CallerEnvScope(ErlNifEnv* env) : previous_(t_caller_env) { t_caller_env = env; }

CallerEnvScope::~CallerEnvScope() { t_caller_env = previous_; }

}  // namespace epy::nif
