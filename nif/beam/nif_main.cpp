// NIF entry points: loading the library (and CPython, and the engine), the function table.
#include <dlfcn.h>
#include <erl_nif.h>

#include <array>
#include <string>

#include "engine/python/python.hpp"
#include "nif/beam/channel_nifs.hpp"
#include "nif/beam/context_nifs.hpp"
#include "nif/beam/erlang_call_nifs.hpp"
#include "nif/beam/fd_nifs.hpp"
#include "nif/beam/logging_nifs.hpp"
#include "nif/beam/request_nifs.hpp"
#include "nif/beam/state_nifs.hpp"
#include "nif/beam/venv_nifs.hpp"
#include "nif/bridge/atoms.hpp"
#include "nif/bridge/channel_payload.hpp"
#include "nif/bridge/channel_resource.hpp"
#include "nif/bridge/convert.hpp"
#include "nif/bridge/module_state.hpp"
#include "nif/bridge/nif_runtime.hpp"
#include "nif/bridge/scheduler_pressure.hpp"

#ifndef EPY_PYTHON_HOME
#error "EPY_PYTHON_HOME must name the prefix of the Python we were built against"
#endif

namespace epy::nif {

namespace {

// Survives a purge and reload of the module (see NifRuntime).
NifRuntime* g_state = nullptr;

// The BEAM loads NIFs with RTLD_LOCAL, and CPython's lib-dynload extension modules are not
// linked against libpython: promote libpython to the global namespace before they load.
bool promote_libpython(std::string* error) {
  Dl_info info;
  if (!dladdr(reinterpret_cast<void*>(&Py_InitializeFromConfig), &info) || !info.dli_fname) {
    *error = "cannot locate libpython";
    return false;
  }
  if (!dlopen(info.dli_fname, RTLD_NOW | RTLD_GLOBAL | RTLD_NOLOAD)) {
    *error = std::string("cannot promote libpython: ") + dlerror();
    return false;
  }
  return true;
}

// CPython keeps pointers into this library (the _erlang module's code and types) for the
// life of the process, so the library must never be unmapped.
void pin_this_library() {
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(&pin_this_library), &info) && info.dli_fname)
    dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
}

std::string map_string(ErlNifEnv* env, ERL_NIF_TERM map, const char* key) {
  ERL_NIF_TERM value;
  ErlNifBinary bin;
  if (!enif_is_map(env, map) || !enif_get_map_value(env, map, enif_make_atom(env, key), &value) ||
      !enif_inspect_iolist_as_binary(env, value, &bin))
    return {};
  return std::string(reinterpret_cast<const char*>(bin.data), bin.size);
}

bool map_ulong(ErlNifEnv* env, ERL_NIF_TERM map, const char* key, unsigned long* out) {
  ERL_NIF_TERM value;
  return enif_is_map(env, map) && enif_get_map_value(env, map, enif_make_atom(env, key), &value) &&
         enif_get_ulong(env, value, out);
}

int load(ErlNifEnv* env, void** priv_data, ERL_NIF_TERM load_info) {
  make_atoms(env);
  long budget;
  ERL_NIF_TERM value;
  if (enif_is_map(env, load_info) &&
      enif_get_map_value(env, load_info, enif_make_atom(env, "atom_budget"), &value) &&
      enif_get_long(env, value, &budget))
    set_atom_budget(budget);

  if (!g_state) {
    std::string error;
    if (!promote_libpython(&error)) {
      enif_fprintf(stderr, "erlang_python: %s\n", error.c_str());
      return 1;
    }
    pin_this_library();
    auto* state = new NifRuntime();
    state->python_dir = map_string(env, load_info, "python_dir");
    EngineConfig config;
    config.python.home = map_string(env, load_info, "python_home");
    if (config.python.home.empty()) config.python.home = EPY_PYTHON_HOME;
    state->python_home = config.python.home;
    if (!state->python_dir.empty())
      config.python.reset_program_path = state->python_dir + "/erlang/_reset.py";
    config.python.builtin_modules.emplace_back("_erlang", &init_erlang_module);
    unsigned long n;
    if (map_ulong(env, load_info, "max_idle_interpreters", &n)) config.max_idle_interpreters = n;
    const std::string priority = map_string(env, load_info, "context_priority");
    config.priority.mode = priority == "normal" ? PriorityMode::normal
                           : priority == "low"  ? PriorityMode::low
                                                : PriorityMode::adaptive;
    // Lower a long request only while the BEAM's schedulers are kept waiting for a core.
    if (config.priority.mode == PriorityMode::adaptive)
      config.priority.pressure = std::make_shared<SchedulerPressure>();
    state->engine = Engine::start(config, &error);
    if (!state->engine) {
      enif_fprintf(stderr, "erlang_python: %s\n", error.c_str());
      delete state;
      return 2;
    }
    state->engine->state().set_global_watcher(&state->subscriptions);
    g_state = state;
  }
  if (!open_resource_types(env, *g_state) || !g_state->subscriptions.open_resource_type(env) ||
      !open_channel_resource_type(env) || !open_held_payload_type(env))
    return 3;
  *priv_data = g_state;
  return 0;
}

int upgrade(ErlNifEnv* env, void** priv_data, void** old_priv_data, ERL_NIF_TERM load_info) {
  *priv_data = *old_priv_data;
  auto& state = *static_cast<NifRuntime*>(*priv_data);
  return open_resource_types(env, state) && state.subscriptions.open_resource_type(env) &&
                 open_channel_resource_type(env) && open_held_payload_type(env)
             ? 0
             : 3;
}

void unload(ErlNifEnv*, void*) {
  // The state lives on (see NifRuntime); contexts end with their owning processes.
}

// The function table: every domain's entries, joined.
template <std::size_t... N>
constexpr std::array<ErlNifFunc, (N + ...)> join(const ErlNifFunc (&... tables)[N]) {
  std::array<ErlNifFunc, (N + ...)> all{};
  std::size_t i = 0;
  auto append = [&](const auto& table) {
    for (const ErlNifFunc& f : table) all[i++] = f;
  };
  (append(tables), ...);
  return all;
}

#ifdef EPY_FUZZ
}  // namespace
// tests/fuzz/fuzz_convert.cpp (fuzz builds only; defined in epy::nif)
ERL_NIF_TERM nif_fuzz_convert(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);
namespace {
constexpr ErlNifFunc kFuzzNifs[] = {
    {"fuzz_convert", 1, nif_fuzz_convert, ERL_NIF_DIRTY_JOB_CPU_BOUND},
};
#endif

constexpr auto kAllNifs = join(kContextNifs, kRequestNifs, kStateNifs, kChannelNifs,
                               kErlangCallNifs, kFdNifs, kVenvNifs, kLoggingNifs
#ifdef EPY_FUZZ
                               ,
                               kFuzzNifs
#endif
);

// ERL_NIF_INIT wants a plain array; filled from kAllNifs when the library is loaded.
ErlNifFunc functions[kAllNifs.size()];
const bool functions_filled = [] {
  for (std::size_t i = 0; i < kAllNifs.size(); ++i) functions[i] = kAllNifs[i];
  return true;
}();

}  // namespace

NifRuntime& global_nif_runtime() { return *g_state; }

}  // namespace epy::nif

ERL_NIF_INIT(py_nif, epy::nif::functions, epy::nif::load, nullptr, epy::nif::upgrade,
             epy::nif::unload)
