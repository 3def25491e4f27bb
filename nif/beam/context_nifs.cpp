// Creating, stopping and inspecting contexts.
#include "nif/beam/context_nifs.hpp"

#include <new>

#include "engine/least_loaded.hpp"
#include "engine/python/python.hpp"
#include "engine/python/runtime.hpp"
#include "engine/python/sandbox.hpp"
#include "nif/beam/arguments.hpp"
#include "nif/beam/scheduler_budget.hpp"
#include "nif/bridge/atoms.hpp"
#include "nif/bridge/caller_env.hpp"
#include "nif/bridge/channel_payload.hpp"
#include "nif/bridge/channel_resource.hpp"
#include "nif/bridge/convert.hpp"
#include "nif/bridge/interpreter_state.hpp"
#include "nif/bridge/log_sink.hpp"
#include "nif/bridge/nif_runtime.hpp"
#include "nif/bridge/owned_env.hpp"
#include "nif/bridge/request_job.hpp"

namespace epy::nif {

namespace {

// Resource destructors get no priv_data; the engine lives as long as the process.
Engine* g_engine_for_dtor = nullptr;

void context_resource_dtor(ErlNifEnv* env, void* obj) {
  auto* res = static_cast<ContextResource*>(obj);
  // Normally the owner's terminate or death stopped the context long ago. If not, stop it
  // from the engine thread, where replies may be sent without a caller env.
  if (res->handle && g_engine_for_dtor)
    g_engine_for_dtor->run_on_main(
        [handle = res->handle] { handle->stop(nullptr, atoms.shutdown); });
  res->~ContextResource();
}

// A stop answers every pending request at once: an env, a copy of the reference and a
// send each.
constexpr std::size_t kUnitsPerAnswer = 64;

bool stop_fits(ContextHandle& handle) {
  WorkMeter work;
  return work.add_units(handle.context().load() * kUnitsPerAnswer);
}

// The owning py_context process is gone. If it stopped the context itself (terminate/2)
// this changes nothing; if it was killed, callers learn that the context died. A monitor
// callback cannot move to a dirty scheduler: a long queue is answered by the engine thread.
void context_resource_down(ErlNifEnv* env, void* obj, ErlNifPid* pid, ErlNifMonitor*) {
  auto* res = static_cast<ContextResource*>(obj);
  if (!res->handle) return;
  Failure failure;
  if (res->handle->begin_stop(env, atoms.killed, &failure)) {
    if (stop_fits(*res->handle)) {
      CallerEnvScope scope(env);
      res->handle->context().stop(std::move(failure));
    } else {
      nif_runtime(env).engine->run_on_main(
          [handle = res->handle, failure] { handle->context().stop(failure); });
    }
  }
  nif_runtime(env).registry.remove(*pid, res->handle.get());
}

bool mode_of(ERL_NIF_TERM atom, InterpreterMode* mode) {
  if (atom == atoms.subinterp)
    *mode = InterpreterMode::subinterp;
  else if (atom == atoms.multi_executor)
    *mode = InterpreterMode::multi_executor;
  else if (atom == atoms.free_threaded)
    *mode = InterpreterMode::free_threaded;
  else
    return false;
  return true;
}

ERL_NIF_TERM mode_atom(InterpreterMode mode) {
  switch (mode) {
    case InterpreterMode::subinterp:
      return atoms.subinterp;
    case InterpreterMode::multi_executor:
      return atoms.multi_executor;
    case InterpreterMode::free_threaded:
      return atoms.free_threaded;
  }
  return atoms.unknown;
}

// answer_wait: adaptive (-1), never (0), or microseconds up to a second.
bool option_answer_wait(ErlNifEnv* env, ERL_NIF_TERM opts, long* out) {
  ERL_NIF_TERM value;
  if (!enif_get_map_value(env, opts, enif_make_atom(env, "answer_wait"), &value)) return true;
  if (value == enif_make_atom(env, "adaptive")) return (*out = -1), true;
  if (value == enif_make_atom(env, "never")) return (*out = 0), true;
  long us;
  if (!enif_get_long(env, value, &us) || us < 0 || us > 1000000) return false;
  *out = us;
  return true;
}

// Sends {py_context_ready, Ref, ok | {error, Message}} to the creator, once.
struct ReadyNotice {
  ErlNifPid pid;
  OwnedEnv env;
  ERL_NIF_TERM ref;
  void send(bool ok, const std::string& error) {
    ErlNifEnv* e = env.get();
    ERL_NIF_TERM status = ok ? atoms.ok : error_tuple(e, make_binary(e, error));
    enif_send(nullptr, &pid, e, enif_make_tuple3(e, atoms.py_context_ready, ref, status));
  }
};

ERL_NIF_TERM put(ErlNifEnv* env, ERL_NIF_TERM map, const char* key, ERL_NIF_TERM value) {
  enif_make_map_put(env, map, enif_make_atom(env, key), value, &map);
  return map;
}

}  // namespace

bool open_resource_types(ErlNifEnv* env, NifRuntime& state) {
  g_engine_for_dtor = state.engine.get();
  ErlNifResourceTypeInit init = {};
  init.dtor = context_resource_dtor;
  init.down = context_resource_down;
  state.context_type = enif_open_resource_type_x(
      env, "py_context", &init, ErlNifResourceFlags(ERL_NIF_RT_CREATE | ERL_NIF_RT_TAKEOVER),
      nullptr);
  return state.context_type != nullptr;
}

// engine_info() -> #{python_version, python_home, subinterp_supported, free_threaded, atom_budget}
ERL_NIF_TERM nif_engine_info(ErlNifEnv* env, int, const ERL_NIF_TERM[]) {
  NifRuntime& state = nif_runtime(env);
  ERL_NIF_TERM map = enif_make_new_map(env);
  map = put(env, map, "python_version", make_binary(env, PythonRuntime::version()));
  map = put(env, map, "python_home", make_binary(env, nif_runtime(env).python_home));
  map = put(env, map, "subinterp_supported",
            state.engine->subinterp_supported() ? atoms.true_ : atoms.false_);
  map = put(env, map, "free_threaded", PythonRuntime::free_threaded() ? atoms.true_ : atoms.false_);
  map = put(env, map, "atom_budget", enif_make_long(env, atom_budget()));
  map = put(env, map, "live_channels", enif_make_long(env, live_channels()));
  map = put(env, map, "sandbox", Sandbox::active() ? atoms.true_ : atoms.false_);
  ERL_NIF_TERM blocked = enif_make_list(env, 0);
  const auto ops = Sandbox::blocked_operations();
  for (auto it = ops.rbegin(); it != ops.rend(); ++it)
    blocked = enif_make_list_cell(env, make_binary(env, *it), blocked);
  map = put(env, map, "sandbox_blocked", blocked);
  map = put(env, map, "live_channel_messages", enif_make_long(env, live_messages()));
  ERL_NIF_TERM hops = enif_make_new_map(env);
  for (int i = 0; i < int(DirtySite::count_); ++i)
    hops = put(env, hops, to_string(DirtySite(i)), enif_make_uint64(env, dirty_hops(DirtySite(i))));
  map = put(env, map, "dirty_hops", hops);
  const PriorityGovernor& priority = state.engine->priority();
  ERL_NIF_TERM prio = enif_make_new_map(env);
  prio = put(env, prio, "mode", enif_make_atom(env, to_string(priority.options().mode)));
  prio = put(env, prio, "low_nice", enif_make_int(env, priority.options().low_nice));
  prio = put(env, prio, "lower_after_ms",
             enif_make_int64(env, priority.options().lower_after.count()));
  prio = put(env, prio, "can_raise", priority.can_raise() ? atoms.true_ : atoms.false_);
  prio = put(env, prio, "lowered", enif_make_uint64(env, priority.lowered_count()));
  const auto& pressure = priority.options().pressure;
  prio = put(env, prio, "watched_schedulers",
             enif_make_uint64(env, pressure ? pressure->watched() : 0));
  map = put(env, map, "context_priority", prio);
  return map;
}

// context_create(Ref, Id, Mode, Opts) -> {ok, Resource} | {error, Reason}
// The calling process becomes the owner; it receives {py_context_ready, Ref, Status}.
ERL_NIF_TERM nif_context_create(ErlNifEnv* env, int, const ERL_NIF_TERM argv[]) {
  NifRuntime& state = nif_runtime(env);
  unsigned long id = 0, max_pending = 16384, spin_us = 20;
  InterpreterMode mode;
  std::vector<std::string> paths;
  if (!enif_is_ref(env, argv[0])) return badarg(env, "ref");
  if (!enif_get_ulong(env, argv[1], &id)) return badarg(env, "id");
  if (!mode_of(argv[2], &mode)) return badarg(env, "mode");
  long answer_wait_us = -1;
  if (!enif_is_map(env, argv[3]) || !option_ulong(env, argv[3], "max_pending", &max_pending) ||
      !option_ulong(env, argv[3], "spin_us", &spin_us) ||
      !option_paths(env, argv[3], "paths", &paths) ||
      !option_answer_wait(env, argv[3], &answer_wait_us) || max_pending == 0 ||
      max_pending > (1ul << 24) || spin_us > 1000000)
    return badarg(env, atoms.options);

  ErlNifPid self;
  enif_self(env, &self);
  auto ready = std::make_shared<ReadyNotice>();
  ready->pid = self;
  ready->ref = enif_make_copy(ready->env.get(), argv[0]);

  auto handle = std::make_shared<ContextHandle>(self);
  std::weak_ptr<ContextHandle> weak = handle;

  ContextConfig config;
  config.id = std::uint32_t(id);
  config.interpreter.mode = mode;
  if (!state.python_dir.empty()) config.interpreter.sys_path.push_back(state.python_dir);
  config.interpreter.sys_path.insert(config.interpreter.sys_path.end(), paths.begin(), paths.end());
  config.max_pending = max_pending;
  config.spin = std::chrono::microseconds(spin_us);
  config.answer_wait = std::chrono::microseconds(answer_wait_us);
  config.job_factory = [] { return std::make_unique<RequestJob>(); };
  config.on_start = [self](Interpreter& interp, std::string* error) {
    return attach_interpreter_state(interp, self, error);
  };
  config.on_stop = detach_interpreter_state;
  config.before_request = apply_request_settings;
  config.start_task = start_loop_task;
  config.on_ready = [ready](bool ok, const std::string& error) { ready->send(ok, error); };
  config.on_finished = [weak] {
    if (auto h = weak.lock()) h->finished();
  };
  handle->attach(state.engine->spawn(std::move(config)));

  void* mem = enif_alloc_resource(state.context_type, sizeof(ContextResource));
  auto* res = new (mem) ContextResource{handle, {}};
  if (enif_monitor_process(env, res, &self, &res->monitor) != 0) {
    // The caller is already exiting.
    CallerEnvScope scope(env);
    handle->stop(env, atoms.killed);
    enif_release_resource(res);
    return error_tuple(env, atoms.shutting_down);
  }
  state.registry.add(self, handle);
  ERL_NIF_TERM term = enif_make_resource(env, res);
  enif_release_resource(res);
  return enif_make_tuple2(env, atoms.ok, term);
}

// context_stop(Resource, Reason, Ref) -> ok
// Sends {py_context_stopped, Ref} to the caller once the context's thread has finished.
ERL_NIF_TERM nif_context_stop(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
  NifRuntime& state = nif_runtime(env);
  ContextResource* res;
  if (!enif_get_resource(env, argv[0], state.context_type, reinterpret_cast<void**>(&res)))
    return badarg(env, atoms.context);
  if (!on_dirty_scheduler() && !stop_fits(*res->handle))
    return run_dirty(env, DirtySite::context_stop, nif_context_stop, argc, argv);
  ErlNifPid self;
  enif_self(env, &self);
  CallerEnvScope scope(env);
  res->handle->stop(env, argv[1]);
  state.registry.remove(res->handle->owner(), res->handle.get());
  res->handle->notify_when_finished(self, argv[2]);
  return atoms.ok;
}

// context_info(Ctx) -> map() | {error, {no_context, Ctx}}
ERL_NIF_TERM nif_context_info(ErlNifEnv* env, int, const ERL_NIF_TERM argv[]) {
  ErlNifPid pid;
  ContextStats s;
  if (!enif_get_local_pid(env, argv[0], &pid) ||
      !nif_runtime(env).registry.with(pid.pid, [&](ContextHandle& c) { s = c.context().stats(); }))
    return error_tuple(env, enif_make_tuple2(env, atoms.no_context, argv[0]));
  ERL_NIF_TERM map = enif_make_new_map(env);
  map = put(env, map, "id", enif_make_uint(env, s.id));
  map = put(env, map, "mode", mode_atom(s.mode));
  map = put(env, map, "os_thread_id", enif_make_long(env, s.os_thread_id));
  map = put(env, map, "queue_depth", enif_make_uint64(env, s.queue_depth));
  map = put(env, map, "high_water", enif_make_uint64(env, s.high_water));
  map = put(env, map, "max_pending", enif_make_uint64(env, s.max_pending));
  map = put(env, map, "served", enif_make_uint64(env, s.served));
  map = put(env, map, "errors", enif_make_uint64(env, s.errors));
  map = put(env, map, "timeouts", enif_make_uint64(env, s.timeouts));
  map = put(env, map, "busy_us", enif_make_uint64(env, s.busy_ns / 1000));
  map = put(env, map, "spin_us", enif_make_uint(env, s.spin_us));
  map = put(env, map, "wake_us", enif_make_double(env, double(s.wake_ns) / 1000));
  map = put(env, map, "spin_hit_rate", enif_make_double(env, s.spin_hit_rate));
  map = put(env, map, "spun_waits", enif_make_uint64(env, s.spun_waits));
  map = put(env, map, "parked_waits", enif_make_uint64(env, s.parked_waits));
  map = put(env, map, "shared_core_waits", enif_make_uint64(env, s.shared_core_waits));
  map = put(env, map, "answered_at_once", enif_make_uint64(env, s.answered_at_once));
  map = put(env, map, "running", s.running ? atoms.true_ : atoms.false_);
  map = put(env, map, "executing", s.executing ? atoms.true_ : atoms.false_);
  return map;
}

// context_pids() -> [pid()]: every context that is registered (running or starting)
ERL_NIF_TERM nif_context_pids(ErlNifEnv* env, int, const ERL_NIF_TERM[]) {
  ERL_NIF_TERM list = enif_make_list(env, 0);
  for (auto& c : nif_runtime(env).registry.all()) {
    ErlNifPid owner = c->owner();
    list = enif_make_list_cell(env, pid_term(owner), list);
  }
  return list;
}

// pick(Contexts :: tuple(pid()), Preferred :: non_neg_integer()) -> pid()
// The preferred context unless another has less work queued (see engine/least_loaded.hpp).
ERL_NIF_TERM nif_pick(ErlNifEnv* env, int, const ERL_NIF_TERM argv[]) {
  int arity;
  const ERL_NIF_TERM* pids;
  unsigned long preferred;
  if (!enif_get_tuple(env, argv[0], &arity, &pids) || arity == 0 ||
      !enif_get_ulong(env, argv[1], &preferred))
    return badarg(env, "contexts");
  std::vector<std::size_t> loads(std::size_t(arity), std::size_t(-1));
  NifRuntime& state = nif_runtime(env);
  for (int i = 0; i < arity; ++i) {
    ErlNifPid pid;
    if (enif_get_local_pid(env, pids[i], &pid))
      state.registry.with(pid.pid,
                          [&](ContextHandle& c) { loads[std::size_t(i)] = c.context().load(); });
  }
  return pids[pick_least_loaded(loads.data(), loads.size(), preferred)];
}

}  // namespace epy::nif
