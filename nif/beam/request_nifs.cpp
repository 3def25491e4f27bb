// Submitting requests to contexts and cancelling them.
#include "nif/beam/request_nifs.hpp"

#include "engine/cpu_relax.hpp"
#include "engine/python/python.hpp"
#include "nif/beam/arguments.hpp"
#include "nif/beam/scheduler_budget.hpp"
#include "nif/bridge/atoms.hpp"
#include "nif/bridge/caller_env.hpp"
#include "nif/bridge/nif_runtime.hpp"
#include "nif/bridge/request_job.hpp"

namespace epy::nif {

namespace {

ERL_NIF_TERM no_context(ErlNifEnv* env, ERL_NIF_TERM ctx) {
  return error_tuple(env, enif_make_tuple2(env, atoms.no_context, ctx));
}

// 64 bits that identify a reply reference among its caller's requests (two differently
// salted 32-bit hashes), so that cancel() can find the request without a lookup table.
std::uint64_t ref_tag(ERL_NIF_TERM ref) {
  const std::uint64_t a = enif_hash(ERL_NIF_INTERNAL_HASH, ref, 0x9e3779b9u);
  const std::uint64_t b = enif_hash(ERL_NIF_INTERNAL_HASH, ref, 0x85ebca6bu);
  return (a << 32) ^ b;
}

// The caller of a synchronous request waits here for its answer, spinning, for at most
// `wait` (Context::sync_wait: only on a quiet machine, for a context that answers at
// once). The answer saves its caller a message and, above all, the wake-up of a
// scheduler that would otherwise go to sleep while it waits. Returns
// {py_result, Ref, Result}, or ok if the answer comes as a message after all.
ERL_NIF_TERM wait_for_answer(ErlNifEnv* env, Context& context, RequestJob& job, Ticket ticket,
                             ERL_NIF_TERM ref, std::chrono::microseconds wait) {
  using Clock = std::chrono::steady_clock;
  using State = RequestJob::SyncState;
  const auto start = Clock::now();
  const auto until = start + wait;
  State state;
  for (unsigned polls = 1;; ++polls) {
    state = job.sync_state(ticket.generation);
    if (state != State::waiting) break;
    if (polls % 32 == 0 && Clock::now() >= until) {
      if (job.give_up(ticket.generation)) break;
      state = job.sync_state(ticket.generation);  // handed over or declined just now
      break;
    }
    cpu_relax();
  }
  ERL_NIF_TERM result = atoms.ok;  // otherwise the answer is (or will be) a message
  if (state == State::handed) {
    result = enif_make_tuple3(env, atoms.py_result, ref, enif_make_copy(env, job.handed_answer()));
    context.release_handed(ticket);
  }
  const auto spent = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start);
  charge_units(env, std::size_t(spent.count()) / kNanosPerUnit);
  return result;
}

enum class Answer { as_message, maybe_at_once };

// Records `caller` as the latest process to submit a request from this scheduler thread;
// true if it was the previous one too. A caller that waits in the NIF holds its
// scheduler, so it may do so only while no other process there takes turns with it:
// when two interleave, neither waits, and each one's receive lets the other run.
bool alone_on_this_scheduler(ERL_NIF_TERM caller) {
  thread_local ERL_NIF_TERM last_caller = 0;
  const bool again = last_caller == caller;
  last_caller = caller;
  return again;
}

// Finds the context named by `ctx` (a pid), reserves a slot, lets `prepare` fill the job
// and queues it. ok | {error, overloaded | shutting_down | {context_died, R} | {no_context, Ctx}},
// or, for a request that may be answered at once, {py_result, Ref, Result}.
template <class Prepare>
ERL_NIF_TERM submit(ErlNifEnv* env, ERL_NIF_TERM ctx, MessageKind kind, ERL_NIF_TERM ref,
                    Answer answer, Prepare&& prepare) {
  ErlNifPid ctx_pid;
  if (!enif_get_local_pid(env, ctx, &ctx_pid)) return no_context(env, ctx);
  CallerEnvScope scope(env);  // a concurrent stop may make us answer the request here
  ErlNifPid self;
  enif_self(env, &self);
  const std::uint64_t tag = ref ? ref_tag(ref) : 0;
  ERL_NIF_TERM result = atoms.ok;
  const bool found = nif_runtime(env).registry.with(ctx_pid.pid, [&](ContextHandle& c) {
    Context& context = c.context();
    // Only a caller alone on its scheduler and on an idle context may wait (the same one
    // as last time on both: see ContextHandle).
    const bool alone_here = alone_on_this_scheduler(self.pid);  // recorded for every kind
    const bool alone = answer == Answer::maybe_at_once && alone_here && context.load() == 0 &&
                       c.same_caller_again(self.pid) && !on_dirty_scheduler();
    const auto wait = alone ? context.sync_wait() : std::chrono::microseconds(0);
    RequestJob* job = nullptr;
    auto s = context.submit(kind, self.pid, tag, [&](Job& j, Ticket ticket) {
      job = &static_cast<RequestJob&>(j);
      prepare(*job, self);
      if (wait.count() > 0) job->expect_sync_caller(ticket.generation);
    });
    switch (s.admission) {
      case Admission::accepted:
        if (wait.count() > 0) result = wait_for_answer(env, context, *job, s.ticket, ref, wait);
        break;
      case Admission::overloaded:
        result = error_tuple(env, atoms.overloaded);
        break;
      case Admission::closed:
        result = c.refusal(env);
        break;
    }
  });
  return found ? result : no_context(env, ctx);
}

}  // namespace

namespace {

ERL_NIF_TERM call(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[], Answer answer,
                  NifFunction self) {
  return within_budget(env, DirtySite::call, self, argc, argv, {argv[4], argv[5]}, Bytes::shared,
                       [&] {
                         if (!enif_is_ref(env, argv[1])) return badarg(env, "ref");
                         if (!is_name(env, argv[2])) return badarg(env, atoms.module);
                         if (!is_name(env, argv[3])) return badarg(env, atoms.function);
                         if (!is_proper_list(env, argv[4])) return badarg(env, atoms.args);
                         if (!enif_is_map(env, argv[5])) return badarg(env, atoms.kwargs);
                         return submit(env, argv[0], MessageKind::call, argv[1], answer,
                                       [&](RequestJob& job, const ErlNifPid& self) {
                                         job.prepare_call(env, self, argv[1], argv[2], argv[3],
                                                          argv[4], argv[5], true);
                                       });
                       });
}

}  // namespace

// call(Ctx, Ref, Module, Function, Args, Kwargs) -> ok | {py_result, Ref, Result} | {error, Reason}
// ok: the caller receives {py_result, Ref, {ok, Value} | {error, Reason}}; the answer may
// also come at once, as that same message, returned.
ERL_NIF_TERM nif_call(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
  return call(env, argc, argv, Answer::maybe_at_once, nif_call);
}

// call_async(Ctx, Ref, Module, Function, Args, Kwargs) -> ok | {error, Reason}: as call/6,
// always answered by message (py:spawn_call).
ERL_NIF_TERM nif_call_async(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
  return call(env, argc, argv, Answer::as_message, nif_call_async);
}

// cast(Ctx, Module, Function, Args, Kwargs) -> ok | {error, Reason}; no reply is sent.
ERL_NIF_TERM nif_cast(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
  return within_budget(
      env, DirtySite::cast, nif_cast, argc, argv, {argv[3], argv[4]}, Bytes::shared, [&] {
        if (!is_name(env, argv[1])) return badarg(env, atoms.module);
        if (!is_name(env, argv[2])) return badarg(env, atoms.function);
        if (!is_proper_list(env, argv[3])) return badarg(env, atoms.args);
        if (!enif_is_map(env, argv[4])) return badarg(env, atoms.kwargs);
        return submit(env, argv[0], MessageKind::call, 0, Answer::as_message,
                      [&](RequestJob& job, const ErlNifPid& self) {
                        job.prepare_call(env, self, 0, argv[1], argv[2], argv[3], argv[4], false);
                      });
      });
}

// task(Ctx, Ref, Module, Function, Args, Kwargs) -> ok | {error, Reason}
// Module.Function(*Args, **Kwargs); an awaitable result runs as a task of the context's
// event loop. The caller receives {async_result, Ref, {ok, Value} | {error, Reason}}.
ERL_NIF_TERM nif_task(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
  return within_budget(env, DirtySite::task, nif_task, argc, argv, {argv[4], argv[5]},
                       Bytes::shared, [&] {
                         if (!enif_is_ref(env, argv[1])) return badarg(env, "ref");
                         if (!is_name(env, argv[2])) return badarg(env, atoms.module);
                         if (!is_name(env, argv[3])) return badarg(env, atoms.function);
                         if (!is_proper_list(env, argv[4])) return badarg(env, atoms.args);
                         if (!enif_is_map(env, argv[5])) return badarg(env, atoms.kwargs);
                         return submit(env, argv[0], MessageKind::task, argv[1], Answer::as_message,
                                       [&](RequestJob& job, const ErlNifPid& self) {
                                         job.prepare_call(env, self, argv[1], argv[2], argv[3],
                                                          argv[4], argv[5], true, true);
                                       });
                       });
}

// spawn_task(Ctx, Module, Function, Args, Kwargs) -> ok | {error, Reason}: as task/6,
// answering nobody.
ERL_NIF_TERM nif_spawn_task(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
  return within_budget(env, DirtySite::task, nif_spawn_task, argc, argv, {argv[3], argv[4]},
                       Bytes::shared, [&] {
                         if (!is_name(env, argv[1])) return badarg(env, atoms.module);
                         if (!is_name(env, argv[2])) return badarg(env, atoms.function);
                         if (!is_proper_list(env, argv[3])) return badarg(env, atoms.args);
                         if (!enif_is_map(env, argv[4])) return badarg(env, atoms.kwargs);
                         return submit(env, argv[0], MessageKind::task, 0, Answer::as_message,
                                       [&](RequestJob& job, const ErlNifPid& self) {
                                         job.prepare_call(env, self, 0, argv[1], argv[2], argv[3],
                                                          argv[4], false, true);
                                       });
                       });
}

// eval(Ctx, Ref, Code, Locals) -> ok | {error, Reason}
ERL_NIF_TERM nif_eval(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
  return within_budget(env, DirtySite::eval, nif_eval, argc, argv, {argv[3]}, Bytes::shared, [&] {
    if (!enif_is_ref(env, argv[1])) return badarg(env, "ref");
    if (!enif_is_binary(env, argv[2])) return badarg(env, atoms.code);
    if (!enif_is_map(env, argv[3])) return badarg(env, atoms.locals);
    return submit(env, argv[0], MessageKind::eval, argv[1], Answer::maybe_at_once,
                  [&](RequestJob& job, const ErlNifPid& self) {
                    job.prepare_code(env, self, argv[1], argv[2], argv[3]);
                  });
  });
}

// exec(Ctx, Ref, Code) -> ok | {error, Reason}
ERL_NIF_TERM nif_exec(ErlNifEnv* env, int, const ERL_NIF_TERM argv[]) {
  if (!enif_is_ref(env, argv[1])) return badarg(env, "ref");
  if (!enif_is_binary(env, argv[2])) return badarg(env, atoms.code);
  return submit(env, argv[0], MessageKind::exec, argv[1], Answer::maybe_at_once,
                [&](RequestJob& job, const ErlNifPid& self) {
                  job.prepare_code(env, self, argv[1], argv[2], 0);
                });
}

// cancel(Ctx | all, Ref) -> cancelled | not_pending
// cancelled: no reply will come for Ref (a running request is interrupted).
// not_pending: the reply (if Ref was ever submitted by the caller) is already in its mailbox.
ERL_NIF_TERM nif_cancel(ErlNifEnv* env, int, const ERL_NIF_TERM argv[]) {
  if (!enif_is_ref(env, argv[1])) return badarg(env, "ref");
  ErlNifPid self;
  enif_self(env, &self);
  const std::uint64_t tag = ref_tag(argv[1]);
  CancelResult result = CancelResult::not_pending;
  auto cancel_in = [&](ContextHandle& c) {
    if (result == CancelResult::not_pending) result = c.context().cancel_matching(self.pid, tag);
  };
  NifRuntime& state = nif_runtime(env);
  ErlNifPid ctx;
  if (argv[0] == atoms.all) {
    for (auto& c : state.registry.all()) cancel_in(*c);
  } else if (enif_get_local_pid(env, argv[0], &ctx)) {
    state.registry.with(ctx.pid, cancel_in);
  }
  return result == CancelResult::not_pending ? atoms.not_pending : atoms.cancelled;
}

// interrupt(Ctx) -> true | false (whether a request was running)
ERL_NIF_TERM nif_interrupt(ErlNifEnv* env, int, const ERL_NIF_TERM argv[]) {
  ErlNifPid pid;
  bool interrupted = false;
  if (!enif_get_local_pid(env, argv[0], &pid) ||
      !nif_runtime(env).registry.with(
          pid.pid, [&](ContextHandle& c) { interrupted = c.context().interrupt(); }))
    return error_tuple(env, enif_make_tuple2(env, atoms.no_context, argv[0]));
  return interrupted ? atoms.true_ : atoms.false_;
}

}  // namespace epy::nif
