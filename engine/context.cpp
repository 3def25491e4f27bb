#include "engine/context.hpp"

#include <pthread.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <optional>

#include "engine/detail/deferred_tasks.hpp"
#include "engine/python/python.hpp"
#include "engine/python/running_loop.hpp"
#include "engine/python/task_callback.hpp"

namespace epy {

namespace {

// A background kept busy (by requests or by its own work) still looks at its descriptor
// this often.
constexpr std::chrono::milliseconds kBackgroundPollEvery{1};

thread_local Context* t_current = nullptr;

void name_this_thread(std::uint32_t id) {
  char name[16];
  std::snprintf(name, sizeof name, "py-ctx-%u", id);
  pthread_setname_np(pthread_self(), name);
}

// The kernel may fire a sleeping thread's timer up to its "timer slack" late (50 us by
// default) to batch wake-ups. A context's timers are asyncio's: keep them close to exact.
void tighten_timer_slack() { prctl(PR_SET_TIMERSLACK, 1000UL, 0UL, 0UL, 0UL); }

// The context thread runs a request (or a turn of its background) on the CPU from here
// until the scope ends: the priority governor may lower it if that takes long.
class RunningStretch {
 public:
  explicit RunningStretch(CpuStretch* s) : s_(s) {
    if (s_) s_->begin();
  }
  ~RunningStretch() {
    if (s_) s_->end();
  }
  RunningStretch(const RunningStretch&) = delete;
  RunningStretch& operator=(const RunningStretch&) = delete;

 private:
  CpuStretch* s_;
};

// A wait inside a running request: the stretch pauses for it (a waiting thread uses no
// CPU, and nested requests served meanwhile have stretches of their own).
class PausedStretch {
 public:
  explicit PausedStretch(CpuStretch* s) : s_(s) {
    if (s_) s_->end();
  }
  ~PausedStretch() {
    if (s_) s_->begin();
  }
  PausedStretch(const PausedStretch&) = delete;
  PausedStretch& operator=(const PausedStretch&) = delete;

 private:
  CpuStretch* s_;
};

// The context thread waits in C code: its GIL goes (for the wait's length), and an
// interrupt that arrives meanwhile is kept for take_pending() instead of becoming an
// asynchronous exception that no bytecode would reach (see InterruptLatch).
class WaitingInC {
 public:
  WaitingInC(InterruptLatch& latch, Interpreter& interp) : latch_(latch), interp_(interp) {
    latch_.begin_wait();
    interp_.detach();
  }
  ~WaitingInC() {
    interp_.attach();
    latch_.end_wait();
  }
  WaitingInC(const WaitingInC&) = delete;
  WaitingInC& operator=(const WaitingInC&) = delete;

 private:
  InterruptLatch& latch_;
  Interpreter& interp_;
};

}  // namespace

Context::Context(ContextConfig config)
    : config_(std::move(config)),
      mailbox_(config_.spin),
      table_(config_.max_pending, config_.job_factory),
      deferred_(std::make_unique<detail::DeferredTasks>()) {}

Context::~Context() = default;

CancelResult Context::cancel(Ticket ticket) {
  CancelResult r = table_.cancel(ticket);
  if (r != CancelResult::not_pending) timeouts_.fetch_add(1, std::memory_order_relaxed);
  if (r == CancelResult::cancelled_running) request_interrupt(ticket.packed());
  if (r == CancelResult::cancelled_deferred) mailbox_.push({MessageKind::cancel, ticket.index});
  return r;
}

CancelResult Context::cancel_matching(std::uint64_t owner, std::uint64_t tag) {
  Ticket ticket;
  CancelResult r = table_.cancel_matching(owner, tag, &ticket);
  if (r != CancelResult::not_pending) timeouts_.fetch_add(1, std::memory_order_relaxed);
  if (r == CancelResult::cancelled_running) request_interrupt(latch_.running());
  if (r == CancelResult::cancelled_deferred) mailbox_.push({MessageKind::cancel, ticket.index});
  return r;
}

std::chrono::microseconds Context::sync_wait() const {
  if (table_.in_use() > 1) return std::chrono::microseconds(0);
  if (config_.answer_wait.count() >= 0) return config_.answer_wait;
  const auto spin = mailbox_.spin_policy().budget();
  if (spin.count() == 0) return std::chrono::microseconds(0);
  const std::int64_t service = service_ns_.load(std::memory_order_relaxed);
  return service * 2 < std::chrono::duration_cast<std::chrono::nanoseconds>(spin).count()
             ? spin
             : std::chrono::microseconds(0);
}

void Context::release_handed(Ticket ticket) {
  answered_at_once_.fetch_add(1, std::memory_order_relaxed);
  table_.finish(ticket);
  table_.release(ticket);
}

bool Context::interrupt() {
  const std::uint64_t token = latch_.running();
  if (token == InterruptLatch::kNone) return false;
  request_interrupt(token);
  return true;
}

void Context::request_interrupt(std::uint64_t token) {
  const bool arranged = latch_.request(token);  // sets the target first...
  wake();  // ...then lets a request waiting in serve_until (no bytecode runs there) look
  {
    std::lock_guard<std::mutex> lock(sleep_mutex_);  // ...or in sleep_until
  }
  sleep_cv_.notify_all();
  if (arranged) return;
  // Python 3.11: deliver from a thread that takes the (shared) GIL.
  if (main_thread_runner_) {
    std::weak_ptr<Context> weak = weak_from_this();
    main_thread_runner_([weak] {
      if (auto self = weak.lock()) {
        PyGILState_STATE g = PyGILState_Ensure();
        self->latch_.deliver_with_gil();
        PyGILState_Release(g);
      }
    });
  }
}

void Context::stop(Failure why) {
  std::call_once(stop_once_, [&] {
    stop_failure_ = std::move(why);
    stopping_.store(true, std::memory_order_seq_cst);
    table_.close();
    std::atomic_thread_fence(std::memory_order_seq_cst);  // pairs with submit()
    // Answer first: the interrupt below could otherwise end the running request, and
    // its KeyboardInterrupt reach the caller, before the stop failure does.
    table_.for_each_pending([this](Ticket t) { answer_with_stop_failure(t); });
    const std::uint64_t running = latch_.running();
    if (running != InterruptLatch::kNone) request_interrupt(running);
    mailbox_.push({MessageKind::stop, 0});
  });
}

void Context::answer_with_stop_failure(Ticket ticket) {
  table_.abort(ticket);  // queued/running -> aborted; nothing if answered already
  ReplyGate gate(table_, ticket, &stop_failure_);
  table_.job(ticket.index)->fail(stop_failure_, gate);  // claims first: at most one answer
  gate.finish();
}

bool Context::wait_stopped(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(done_mutex_);
  return done_cv_.wait_for(lock, timeout, [&] { return done_; });
}

ContextStats Context::stats() const {
  ContextStats s;
  s.id = config_.id;
  s.mode = config_.interpreter.mode;
  s.os_thread_id = os_thread_id_.load(std::memory_order_relaxed);
  s.queue_depth = table_.in_use();
  s.high_water = table_.high_water();
  s.max_pending = table_.capacity();
  s.served = served_.load(std::memory_order_relaxed);
  s.errors = errors_.load(std::memory_order_relaxed);
  s.timeouts = timeouts_.load(std::memory_order_relaxed);
  s.busy_ns = busy_ns_.load(std::memory_order_relaxed);
  const SpinPolicy& spin = mailbox_.spin_policy();
  s.spin_us = std::uint32_t(spin.budget().count());
  s.wake_ns = std::uint64_t(spin.wake_estimate().count());
  s.spin_hit_rate = spin.hit_rate();
  s.spun_waits = mailbox_.spun_waits();
  s.parked_waits = mailbox_.parked_waits();
  s.shared_core_waits = mailbox_.shared_core_waits();
  s.answered_at_once = answered_at_once_.load(std::memory_order_relaxed);
  s.running = state() == State::running;
  s.executing = latch_.running() != InterruptLatch::kNone;
  return s;
}

bool Context::start_interpreter(std::unique_ptr<Interpreter> reused, std::string* error) {
  const bool fresh = !reused;
  if (reused) {
    interp_ = std::move(reused);
    if (!interp_->apply(config_.interpreter, error)) interp_.reset();
  } else {
    interp_ = Interpreter::create(config_.interpreter, error);
  }
  if (!interp_) return false;
  if (config_.on_start && !config_.on_start(*interp_, error)) {
    if (config_.on_stop) config_.on_stop(*interp_);
    interp_.reset();
    return false;
  }
  // What a reset returns to: the interpreter as this first context started it.
  if (fresh && config_.recycle) interp_->seal();
  return true;
}

std::unique_ptr<Interpreter> Context::run(std::unique_ptr<Interpreter> reused) {
  name_this_thread(config_.id);
  tighten_timer_slack();
  os_thread_id_.store(long(syscall(SYS_gettid)), std::memory_order_relaxed);

  std::string error;
  if (!start_interpreter(std::move(reused), &error)) {
    if (error.empty()) error = "interpreter start failed";
    stop({FailureKind::shutting_down, {}});
    return finish(error);
  }
  latch_.bind(interp_->state(), interp_->interrupt_target(), interp_->thread_ident());
  if (governor_) stretch_ = governor_->enter();
  t_current = this;
  State expected = State::starting;
  state_.compare_exchange_strong(expected, State::running);
  if (config_.on_ready) config_.on_ready(true, {});

  bool running = true;
  while (running) {
    if (!has_pending()) {
      const std::size_t n = mailbox_.try_pop(pending_, kBatch);
      if (n == 0) {
        // Idle: the background's turn, or sleep until a message, its descriptor or its
        // next timer.
        if (stretch_) stretch_->settle();
        idle_step(std::chrono::microseconds(-1), -1);
        continue;
      }
      pending_next_ = 0;
      pending_end_ = n;
    }
    // One at a time from the shared batch: a request that waits serves the rest of it
    // (serve_until), so nothing taken from the mailbox waits behind it.
    while (running && has_pending()) {
      const Envelope e = pending_[pending_next_++];  // a copy: a wait below refills pending_
      running = dispatch(e);
    }
    if (!running) break;
    // Keep the background going under a steady stream of requests too: what is due, and
    // now and then its descriptor (which only a wait would otherwise look at).
    if (background_) {
      int fd = -1;
      const auto due = background_due(&fd);
      const bool overdue = descriptor_overdue(fd);
      if (due.count() == 0 || overdue) run_background(overdue);
    }
    // Executors share one GIL: let the others in between batches.
    if (interp_->mode() == InterpreterMode::multi_executor)
      Interpreter::ReleasedGil yield(*interp_);
  }
  while (has_pending()) {  // taken from the mailbox after the stop
    const Envelope e = pending_[pending_next_++];
    if (!is_request(e.kind)) continue;
    const Ticket t = table_.ticket_of(e.slot);
    answer_with_stop_failure(t);
    table_.release(t);
  }
  if (!stopping_.load()) stop({FailureKind::shutting_down, {}});
  return finish({});
}

bool Context::dispatch(const Envelope& envelope) {
  switch (envelope.kind) {
    case MessageKind::call:
    case MessageKind::eval:
    case MessageKind::exec:
    case MessageKind::task:
      run_request(envelope);
      return true;
    case MessageKind::cancel:
      cancel_deferred_work(envelope.slot);
      return true;
    case MessageKind::wake:  // nobody waits any more
      return true;
    case MessageKind::stop:
      return false;
  }
  return true;
}

Context* Context::current() { return t_current; }

std::chrono::microseconds Context::background_due(int* fd) {
  *fd = -1;
  if (!background_ || in_background_) return std::chrono::microseconds(-1);
  return background_->due(fd);
}

Context::WaitResult Context::sleep_until(Clock::time_point deadline) {
  auto woken = [&] { return stopping_.load(std::memory_order_acquire) || latch_.pending(); };
  PausedStretch paused(stretch_.get());
  {
    WaitingInC waiting(latch_, *interp_);
    std::unique_lock<std::mutex> lock(sleep_mutex_);
    if (deadline == Clock::time_point::max())
      sleep_cv_.wait(lock, woken);
    else
      sleep_cv_.wait_until(lock, deadline, woken);
  }
  if (stopping_.load(std::memory_order_acquire)) return WaitResult::stopping;
  if (latch_.take_pending()) return WaitResult::interrupted;
  return WaitResult::timed_out;
}

bool Context::descriptor_overdue(int fd) const {
  return fd >= 0 && Clock::now() - background_polled_at_ > kBackgroundPollEvery;
}

void Context::run_background(bool descriptor_ready) {
  if (!background_ || in_background_) return;
  in_background_ = true;  // the loop is not reentrant: nested waits leave it alone
  {
    RunningStretch running(stretch_.get());
    background_->run(descriptor_ready);
  }
  in_background_ = false;
  if (descriptor_ready) background_polled_at_ = Clock::now();
  PyErr_Clear();
}

bool Context::set_background(std::unique_ptr<BackgroundWork> work) {
  if (in_background_) return false;  // never replace it while it runs
  background_ = std::move(work);
  return true;
}

Context::WaitResult Context::serve_until(const std::function<bool()>& ready,
                                         Clock::time_point deadline, int fd, bool* fd_ready) {
  PausedStretch paused(stretch_.get());
  // Even a wait whose deadline has passed serves what is queued once (erlang.schedule()).
  for (bool served_once = false;; served_once = true) {
    if (ready()) return WaitResult::ready;
    if (stopping_.load(std::memory_order_acquire)) return WaitResult::stopping;
    if (latch_.take_pending()) return WaitResult::interrupted;
    const auto now = Clock::now();
    if (now >= deadline && served_once) return WaitResult::timed_out;
    // What the loops above this wait took from the mailbox comes first, one envelope at
    // a time (a request served here may wait in turn).
    if (has_pending()) {
      const Envelope e = pending_[pending_next_];
      if (e.kind == MessageKind::stop) return WaitResult::stopping;  // for the main loop
      ++pending_next_;
      serve_nested(e);
      continue;
    }
    const auto left = deadline == Clock::time_point::max() ? std::chrono::microseconds(-1)
                      : now >= deadline
                          ? std::chrono::microseconds(0)
                          : std::chrono::duration_cast<std::chrono::microseconds>(deadline - now) +
                                std::chrono::microseconds(1);
    if (idle_step(left, fd) && fd_ready) *fd_ready = true;
  }
}

bool Context::idle_step(std::chrono::microseconds limit, int fd) {
  int background_fd = -1;
  const auto due = background_due(&background_fd);
  if (due.count() == 0) {  // its turn now, then whatever is queued (no wait)
    run_background(descriptor_overdue(background_fd));
    pending_next_ = 0;
    pending_end_ = mailbox_.try_pop(pending_, kBatch);
    return false;
  }
  const bool timer = due.count() > 0 && (limit.count() < 0 || due <= limit);
  const auto wait = timer ? due : limit;
  int fds[2];
  std::size_t nfds = 0;
  if (fd >= 0) fds[nfds++] = fd;
  if (background_fd >= 0) fds[nfds++] = background_fd;
  unsigned readable = 0;
  std::size_t n;
  {
    WaitingInC waiting(latch_, *interp_);
    n = nfds ? mailbox_.pop_or_ready(pending_, kBatch, wait, fds, nfds, &readable)
             : mailbox_.pop(pending_, kBatch, wait);
  }
  pending_next_ = 0;
  pending_end_ = n;
  const bool fd_ready = fd >= 0 && (readable & 1u);
  const bool background_ready = background_fd >= 0 && ((readable >> (fd >= 0 ? 1 : 0)) & 1u);
  if (background_ready || (n == 0 && timer)) run_background(background_ready);
  return fd_ready;
}

void Context::serve_nested(const Envelope& e) {
  if (is_request(e.kind)) {
    run_request(e);  // the waiting request waits meanwhile (or, once the context is
                     // stopping, this one is answered with the failure)
  } else if (e.kind == MessageKind::cancel) {
    cancel_deferred_work(e.slot);
  }
}

void Context::cancel_deferred_work(std::uint32_t slot) {
  const Ticket ticket = table_.ticket_of(slot);
  PyObject* task = deferred_->find(ticket.packed());
  if (!task || table_.state(ticket) != SlotState::cancelled) return;
  // Its done callback then completes the request, delivering nothing (the caller gave up).
  py::Ref done(PyObject_CallMethod(task, "cancel", nullptr));
  PyErr_Clear();  // a closed loop refuses: the task ends with it anyway
}

namespace {

// What a finished task answers: its result (a new reference), or nullptr with its
// exception set; a cancelled task marks the gate and raises CancelledError.
PyObject* task_outcome(PyObject* task, ReplyGate& gate) {
  py::Ref cancelled(PyObject_CallMethod(task, "cancelled", nullptr));
  if (cancelled && cancelled.get() == Py_True) gate.mark_cancelled();
  if (!cancelled) return nullptr;
  return PyObject_CallMethod(task, "result", nullptr);
}

bool task_finished_now(PyObject* task) {
  py::Ref done(PyObject_CallMethod(task, "done", nullptr));
  if (!done) PyErr_Clear();
  return done && done.get() == Py_True;
}

}  // namespace

bool Context::start_task(Ticket ticket, Job& job, ReplyGate& gate, PyObject** result) {
  py::Ref awaitable(*result);
  *result = nullptr;
  const bool awaited = job.awaited();
  py::Ref on_done(awaited ? make_task_callback(ticket.packed(), &Context::task_done) : nullptr);
  py::Ref task;
  if (!config_.start_task) {
    PyErr_SetString(PyExc_RuntimeError, "this context cannot run asyncio tasks");
  } else if (on_done || !awaited) {
    task.reset(config_.start_task(*interp_, awaitable.get(), on_done.get()));
  }
  if (!task) {
    if (PyCoro_CheckExact(awaitable.get())) {  // never awaited: close it quietly
      PyObject *type, *value, *traceback;
      PyErr_Fetch(&type, &value, &traceback);
      py::Ref closed(PyObject_CallMethod(awaitable.get(), "close", nullptr));
      PyErr_Clear();
      PyErr_Restore(type, value, traceback);
    }
    return false;  // answered now, with why it could not start
  }
  if (!awaited) {  // nobody to answer: the task runs on by itself
    *result = Py_NewRef(Py_None);
    return false;
  }
  if (task_finished_now(task.get())) {  // it never waited (an eager start): answer now
    *result = task_outcome(task.get(), gate);
    return false;
  }
  job.release_inputs();
  const std::uint64_t token = ticket.packed();
  deferred_->add(token, std::move(task));
  // Cancelled or stopped meanwhile: end the task now (its end still completes the request).
  if (!table_.defer(ticket)) cancel_deferred_work(ticket.index);
  return true;
}

void Context::task_done(std::uint64_t token, PyObject* task) {
  if (Context* self = current()) self->finish_task(token, task);
}

void Context::finish_task(std::uint64_t token, PyObject* task) {
  if (!deferred_->remove(token)) return;  // answered already (a stop)
  const Ticket ticket = Ticket::unpack(token);
  ReplyGate gate(table_, ticket, &stop_failure_);
  PyObject* result = task_outcome(task, gate);
  table_.job(ticket.index)->reply(*interp_, MessageKind::task, result, gate);
  Py_XDECREF(result);
  PyErr_Clear();
  gate.finish();
  table_.release(ticket);
}

PyObject* Context::execute(MessageKind kind, Job& job) {
  if (config_.before_request) config_.before_request(*interp_);
  switch (kind) {
    case MessageKind::call:
    case MessageKind::task: {
      CallInput in;
      return job.decode_call(*interp_, in) ? interp_->call(in) : nullptr;
    }
    case MessageKind::eval: {
      CodeInput in;
      return job.decode_code(*interp_, in) ? interp_->eval(in) : nullptr;
    }
    case MessageKind::exec: {
      CodeInput in;
      return job.decode_code(*interp_, in) ? interp_->exec(in) : nullptr;
    }
    default:
      PyErr_SetString(PyExc_SystemError, "not a request");
      return nullptr;
  }
}

void Context::run_request(const Envelope envelope) {  // a copy: waits refill pending_
  const Ticket ticket = table_.ticket_of(envelope.slot);
  Job* job = table_.job(envelope.slot);
  if (stopping_.load(std::memory_order_acquire) || !table_.begin(ticket)) {
    // Stopping, or cancelled or answered while it waited.
    answer_with_stop_failure(ticket);
    table_.release(ticket);
    return;
  }
  // Nested in a waiting request or in the background's loop: the loop running there is
  // not this request's.
  std::optional<HiddenRunningLoop> hidden;
  if (current_job_ || in_background_) hidden.emplace();
  const InterruptLatch::Outer outer = latch_.enter(ticket.packed());
  Job* const outer_job = current_job_;
  current_job_ = job;
  const auto started = std::chrono::steady_clock::now();
  ReplyGate gate(table_, ticket, &stop_failure_);

  RunningStretch running(stretch_.get());  // decoding, running and replying
  PyObject* result = execute(envelope.kind, *job);
  current_job_ = outer_job;
  if (latch_.leave(outer)) gate.mark_interrupted();
  // Count before replying, so that a caller holding its answer sees it counted.
  if (!result) errors_.fetch_add(1, std::memory_order_relaxed);
  served_.fetch_add(1, std::memory_order_relaxed);
  const std::int64_t ran = std::chrono::duration_cast<std::chrono::nanoseconds>(
                               std::chrono::steady_clock::now() - started)
                               .count();
  busy_ns_.fetch_add(std::uint64_t(ran), std::memory_order_relaxed);
  const std::int64_t average = service_ns_.load(std::memory_order_relaxed);
  service_ns_.store(average + (ran - average) / 8, std::memory_order_relaxed);
  if (envelope.kind == MessageKind::task && result && is_awaitable(result) &&
      start_task(ticket, *job, gate, &result))
    return;  // answered when its task ends (finish_task)
  job->reply(*interp_, envelope.kind, result, gate);
  Py_XDECREF(result);
  PyErr_Clear();  // a job that did not consume the error must not leak it into the next one
  if (gate.handed_over()) return;  // the waiting caller finishes and releases it
  gate.finish();
  table_.release(ticket);
}

void Context::drain() {
  // Requests reserved before close() may still be on their way into the mailbox; wait for
  // every one of them so that nobody is left without an answer.
  Envelope batch[kBatch];
  while (table_.in_use() > 0) {
    std::size_t n = mailbox_.pop(batch, kBatch, std::chrono::milliseconds(1));
    for (std::size_t i = 0; i < n; ++i) {
      if (!is_request(batch[i].kind)) continue;
      const Ticket t = table_.ticket_of(batch[i].slot);
      answer_with_stop_failure(t);
      table_.release(t);
    }
  }
}

std::unique_ptr<Interpreter> Context::finish(const std::string& error) {
  state_.store(State::stopping, std::memory_order_release);
  if (background_) {
    in_background_ = true;
    background_->close();  // cancels its tasks: their deferred requests complete
    in_background_ = false;
    PyErr_Clear();
  }
  // Deferred requests whose task never finished: answered by stop() already.
  for (const std::uint64_t token : deferred_->tokens()) {
    const Ticket ticket = Ticket::unpack(token);
    py::Ref cancelled(PyObject_CallMethod(deferred_->find(token), "cancel", nullptr));
    PyErr_Clear();
    deferred_->remove(token);
    answer_with_stop_failure(ticket);
    table_.release(ticket);
  }
  background_.reset();
  drain();
  const bool had_interpreter = interp_ != nullptr;
  t_current = nullptr;
  if (governor_) governor_->leave(stretch_);
  stretch_.reset();
  if (interp_) {
    latch_.unbind();
    if (config_.on_stop) config_.on_stop(*interp_);
    // A context that died may have died of its interpreter's state: never pass it on.
    const bool pass_on = config_.recycle && stop_failure_.kind == FailureKind::shutting_down &&
                         interp_->mode() == InterpreterMode::subinterp && interp_->reset();
    if (!pass_on) interp_.reset();  // ends the interpreter on this, its own, thread
  }
  state_.store(State::stopped, std::memory_order_release);
  if (!had_interpreter && config_.on_ready) config_.on_ready(false, error);
  return std::move(interp_);
}

void Context::announce_finished() {
  {
    std::lock_guard<std::mutex> lock(done_mutex_);
    done_ = true;
  }
  done_cv_.notify_all();
  if (config_.on_finished) config_.on_finished();
}

}  // namespace epy
