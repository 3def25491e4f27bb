#include "nif/bridge/context_handle.hpp"

#include "nif/bridge/atoms.hpp"
#include "nif/bridge/convert.hpp"
#include "nif/bridge/term_cost.hpp"

namespace epy::nif {

namespace {

bool deliberate(ErlNifEnv* env, ERL_NIF_TERM reason) {
  if (reason == atoms.normal || reason == atoms.shutdown) return true;
  int arity;
  const ERL_NIF_TERM* elems;
  return enif_get_tuple(env, reason, &arity, &elems) && arity == 2 && elems[0] == atoms.shutdown;
}

// The exit reason callers get in {context_died, Reason}. A reason too big to encode on a
// scheduler (this runs in NIF calls and monitor callbacks) is summarised instead.
std::string external_format(ErlNifEnv* env, ERL_NIF_TERM term) {
  WorkMeter work;
  if (!work.add(env, term, Bytes::copied))
    term = enif_make_tuple2(env, enif_make_atom(env, "exit_reason_too_large"),
                            enif_make_uint64(env, work.units()));
  ErlNifBinary bin;
  if (!enif_term_to_binary(env, term, &bin)) return {};
  std::string out(reinterpret_cast<const char*>(bin.data), bin.size);
  enif_release_binary(&bin);
  return out;
}

}  // namespace

bool ContextHandle::begin_stop(ErlNifEnv* env, ERL_NIF_TERM reason, Failure* failure) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (stopped_) return false;
  stopped_ = true;
  if (deliberate(env, reason)) {
    failure->kind = FailureKind::shutting_down;
  } else {
    failure->kind = FailureKind::context_died;
    failure->detail = external_format(env, reason);
  }
  failure_ = *failure;
  return true;
}

void ContextHandle::stop(ErlNifEnv* env, ERL_NIF_TERM reason) {
  Failure failure;
  if (begin_stop(env, reason, &failure)) context_->stop(std::move(failure));
}

ERL_NIF_TERM ContextHandle::refusal(ErlNifEnv* env) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (stopped_ && failure_.kind == FailureKind::context_died) {
    ERL_NIF_TERM reason = atoms.unknown;
    if (!enif_binary_to_term(env, reinterpret_cast<const unsigned char*>(failure_.detail.data()),
                             failure_.detail.size(), &reason, 0))
      reason = atoms.unknown;
    return enif_make_tuple2(env, atoms.error, enif_make_tuple2(env, atoms.context_died, reason));
  }
  return enif_make_tuple2(env, atoms.error, atoms.shutting_down);
}

void ContextHandle::send_stopped(Waiter& w) {
  ErlNifEnv* env = w.env.get();
  enif_send(nullptr, &w.pid, env, enif_make_tuple2(env, atoms.py_context_stopped, w.ref));
}

void ContextHandle::notify_when_finished(const ErlNifPid& pid, ERL_NIF_TERM ref) {
  Waiter w{pid, OwnedEnv(), 0};
  w.ref = enif_make_copy(w.env.get(), ref);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!finished_) {
      waiters_.push_back(std::move(w));
      return;
    }
  }
  send_stopped(w);
}

void ContextHandle::finished() {
  std::vector<Waiter> waiters;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    finished_ = true;
    waiters.swap(waiters_);
  }
  for (Waiter& w : waiters) send_stopped(w);
}

void ContextRegistry::add(const ErlNifPid& pid, std::shared_ptr<ContextHandle> context) {
  std::unique_lock<std::shared_mutex> lock(mutex_);
  map_[pid.pid] = std::move(context);
}

void ContextRegistry::remove(const ErlNifPid& pid, const ContextHandle* expected) {
  std::shared_ptr<ContextHandle> doomed;  // destroyed outside the lock
  std::unique_lock<std::shared_mutex> lock(mutex_);
  auto it = map_.find(pid.pid);
  if (it != map_.end() && it->second.get() == expected) {
    doomed = std::move(it->second);
    map_.erase(it);
  }
}

std::vector<std::shared_ptr<ContextHandle>> ContextRegistry::all() {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  std::vector<std::shared_ptr<ContextHandle>> out;
  out.reserve(map_.size());
  for (auto& [pid, ctx] : map_) out.push_back(ctx);
  return out;
}

}  // namespace epy::nif
