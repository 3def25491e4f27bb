#include "engine/python/interrupt.hpp"

#include "engine/python/python.hpp"

#if PY_VERSION_HEX >= 0x030C0000
// Internal but exported (PyAPI_FUNC) since 3.12 for the subinterpreter test modules; the
// only way to reach a subinterpreter's eval loop from another thread without its GIL.
// 3.12: (interp, func, arg, mainthreadonly); 3.13: (interp, func, arg, flags) -> int.
extern "C" int _PyEval_AddPendingCall(PyInterpreterState* interp, int (*func)(void*), void* arg,
                                      int flags);
#endif

namespace epy {

namespace {
std::mutex g_free_targets_mutex;
InterruptTarget* g_free_targets = nullptr;
}  // namespace

InterruptTarget* InterruptTarget::acquire() {
  std::lock_guard<std::mutex> lock(g_free_targets_mutex);
  if (InterruptTarget* t = g_free_targets) {
    g_free_targets = t->next_free_;
    t->next_free_ = nullptr;
    return t;
  }
  return new InterruptTarget;  // never deleted (see the header)
}

void InterruptTarget::release(InterruptTarget* target) {
  {
    std::lock_guard<std::mutex> slot(target->mutex);
    target->latch = nullptr;
  }
  std::lock_guard<std::mutex> lock(g_free_targets_mutex);
  target->next_free_ = g_free_targets;
  g_free_targets = target;
}

void InterruptLatch::bind(PyInterpreterState* interp, InterruptTarget* target,
                          unsigned long thread_ident) {
  std::lock_guard<std::mutex> lock(interp_mutex_);
  thread_ident_ = thread_ident;
  interp_ = interp;
  target_slot_ = target;
  std::lock_guard<std::mutex> slot(target->mutex);
  target->latch = this;
}

void InterruptLatch::unbind() {
  std::lock_guard<std::mutex> lock(interp_mutex_);
  if (target_slot_) {
    std::lock_guard<std::mutex> slot(target_slot_->mutex);
    target_slot_->latch = nullptr;
  }
  interp_ = nullptr;
  target_slot_ = nullptr;
  running_.store(kNone);
  target_.store(kNone);
}

bool InterruptLatch::leave(Outer outer) {
  const std::uint64_t finished = running_.load(std::memory_order_relaxed);
  running_.store(outer.token, std::memory_order_seq_cst);
  // An interrupt aimed at the finished request is void; one aimed at the outer stays.
  std::uint64_t expected = finished;
  target_.compare_exchange_strong(expected, kNone);
  if (async_pending_) {
    // An interrupt aimed at the finished request may still wait on the thread state.
    PyThreadState_SetAsyncExc(thread_ident_, nullptr);
    async_pending_ = false;
  }
  const bool delivered = delivered_;
  delivered_ = outer.delivered;
  return delivered;
}

bool InterruptLatch::take_pending() {
  const std::uint64_t running = running_.load(std::memory_order_acquire);
  std::uint64_t expected = running;
  if (running == kNone || !target_.compare_exchange_strong(expected, kNone)) return false;
  delivered_ = true;
  return true;
}

bool InterruptLatch::request(std::uint64_t token) {
  if (token == kNone) return true;
  target_.store(token, std::memory_order_release);
#if PY_VERSION_HEX >= 0x030C0000
  std::lock_guard<std::mutex> lock(interp_mutex_);
  if (!interp_) return true;
  // A full pending-call queue only happens under a flood of interrupts; the ones already
  // queued deliver this one too, since they all read target_.
  (void)_PyEval_AddPendingCall(interp_, &InterruptLatch::pending_call, target_slot_, 0);
  return true;
#else
  return false;
#endif
}

bool InterruptLatch::deliver(bool may_raise_here) {
  const std::uint64_t target = target_.load(std::memory_order_acquire);
  if (target == kNone || target != running_.load(std::memory_order_acquire)) return false;
  const bool on_context_thread = PyThread_get_thread_ident() == thread_ident_;
  if (waiting_ && !on_context_thread) return false;  // take_pending() gets it after the wait
  target_.store(kNone, std::memory_order_release);
  delivered_ = true;
  if (may_raise_here && on_context_thread) {
    PyErr_SetNone(PyExc_KeyboardInterrupt);
    return true;
  }
  if (PyThreadState_SetAsyncExc(thread_ident_, PyExc_KeyboardInterrupt) > 0) async_pending_ = true;
  return false;
}

int InterruptLatch::pending_call(void* target) {
  auto* slot = static_cast<InterruptTarget*>(target);
  std::lock_guard<std::mutex> lock(slot->mutex);
  return slot->latch && slot->latch->deliver(true) ? -1 : 0;
}

void InterruptLatch::deliver_with_gil() { deliver(false); }

}  // namespace epy
