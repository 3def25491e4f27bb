// A Python context: one interpreter, one OS thread, one mailbox.
//
// Requests from any thread go through submit(): a slot in the RequestTable (bounded by
// max_pending), an envelope in the Mailbox. The context's thread (a CAF actor, see
// detail/context_actor.hpp) takes envelopes in batches, runs each request in its
// interpreter and lets the request's Job deliver the reply. stop() may come from any
// thread: it refuses new work, interrupts the running request and answers everything
// still pending with the stop failure.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <type_traits>
#include <vector>

#include "engine/background.hpp"
#include "engine/envelope.hpp"
#include "engine/failure.hpp"
#include "engine/mailbox.hpp"
#include "engine/priority_governor.hpp"
#include "engine/python/interpreter.hpp"
#include "engine/python/interrupt.hpp"
#include "engine/request_table.hpp"

namespace epy {

namespace detail {
class ContextActor;
class DeferredTasks;
}  // namespace detail

struct ContextConfig {
  std::uint32_t id = 0;  // names the thread and the statistics; not required to be unique
  InterpreterOptions interpreter;
  std::size_t max_pending = 16384;
  std::chrono::microseconds spin{20};  // the longest a wait spins (see SpinPolicy)
  // How long a caller may wait for its answer on its own thread (sync_wait): negative
  // leaves it to the context's own judgement, zero never, positive always that long.
  std::chrono::microseconds answer_wait{-1};
  // Hand the (sub)interpreter on to a later context after a deliberate stop, instead of
  // ending it (see Interpreter::reset). Contexts that die never pass theirs on.
  bool recycle = true;
  RequestTable::JobFactory job_factory;
  // Context thread, interpreter attached, right after creation / right before the end.
  std::function<bool(Interpreter&, std::string* error)> on_start;
  std::function<void(Interpreter&)> on_stop;
  // Context thread, once: the interpreter is serving (ok) or could not be created.
  std::function<void(bool ok, const std::string& error)> on_ready;
  // Context thread, once, last: everything is answered and the interpreter is gone.
  std::function<void()> on_finished;
  // Context thread, attached, before every request: per-request settings the host keeps
  // up to date (the NIF's logging level and virtual environment).
  std::function<void(Interpreter&)> before_request;
  // Context thread, attached: starts `awaitable`, what a task request's function returned,
  // as a task of the context's event loop, with `on_done` added as its done callback
  // (nullptr: nobody waits for this task; report its failure yourself). Returns the task
  // (a new reference offering done(), cancelled(), result() and cancel(), as asyncio.Task
  // does) or nullptr with a Python exception set. The engine answers the request when
  // the task ends, and cancels the task when its caller gives up.
  std::function<PyObject*(Interpreter&, PyObject* awaitable, PyObject* on_done)> start_task;
};

struct ContextStats {
  std::uint32_t id = 0;
  InterpreterMode mode = InterpreterMode::subinterp;
  long os_thread_id = 0;
  std::size_t queue_depth = 0;  // accepted and not yet finished
  std::size_t high_water = 0;   // largest queue_depth seen
  std::size_t max_pending = 0;
  std::uint64_t served = 0;    // requests run
  std::uint64_t errors = 0;    // ... that raised
  std::uint64_t timeouts = 0;  // requests their callers gave up on (cancel)
  std::uint64_t busy_ns = 0;   // time spent running them
  // The mailbox's waits (SpinPolicy): spin before parking now, and what it learnt.
  std::uint32_t spin_us = 0;
  std::uint64_t wake_ns = 0;
  double spin_hit_rate = 0;
  std::uint64_t spun_waits = 0;         // waits that found work while spinning
  std::uint64_t parked_waits = 0;       // ... that found it after parking
  std::uint64_t shared_core_waits = 0;  // ... that did not spin: the producer shared the core
  std::uint64_t answered_at_once = 0;   // answers handed to a caller that waited for them
  bool running = false;                 // interpreter serving
  bool executing = false;               // a request is running right now
};

class Context : public std::enable_shared_from_this<Context> {
 public:
  enum class State { starting, running, stopping, stopped };
  enum class WaitResult { ready, timed_out, interrupted, stopping };
  using Clock = std::chrono::steady_clock;

  struct Submission {
    Admission admission = Admission::closed;
    Ticket ticket;
  };

  explicit Context(ContextConfig config);
  ~Context();

  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  std::uint32_t id() const { return config_.id; }
  InterpreterMode mode() const { return config_.interpreter.mode; }
  State state() const { return state_.load(std::memory_order_acquire); }

  // Any thread. `fill` prepares the slot's job (copy the request into it); it runs only
  // when the request is accepted, as fill(job) or fill(job, ticket). `owner`/`tag` let
  // cancel_matching() find it later.
  template <class Fill>
  Submission submit(MessageKind kind, std::uint64_t owner, std::uint64_t tag, Fill&& fill) {
    RequestTable::Reservation r = table_.reserve(owner, tag);
    if (r.admission != Admission::accepted) return {r.admission, {}};
    if constexpr (std::is_invocable_v<Fill, Job&, Ticket>) {
      fill(*r.job, r.ticket);
    } else {
      fill(*r.job);
    }
    table_.commit(r.ticket);
    mailbox_.push({kind, r.ticket.index});
    // A stop that began meanwhile may have missed this request: answer it here. Pairs
    // with the fence in stop(): one of the two always sees the other.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (stopping_.load(std::memory_order_relaxed)) answer_with_stop_failure(r.ticket);
    return {Admission::accepted, r.ticket};
  }

  // How long a caller that just submitted may wait for its answer on its own thread
  // (spinning) instead of being sent it: only when this context would answer at once (it
  // spins itself: a quiet machine, quick turnarounds), has nothing else queued, and its
  // requests are usually quicker than the spin. Zero: do not wait.
  std::chrono::microseconds sync_wait() const;
  // The caller that waited got a handed-over answer (ReplyGate::hand_over) and copied it:
  // finishes and releases the request. Any thread, once per handed-over request.
  void release_handed(Ticket ticket);

  // Any thread. The caller gives up on a request: nothing will be delivered for it unless
  // the result says not_pending (then it already was). A running request is interrupted.
  CancelResult cancel(Ticket ticket);
  CancelResult cancel_matching(std::uint64_t owner, std::uint64_t tag);

  // Any thread. Raises KeyboardInterrupt in the request running now, if any. Returns
  // whether one was running.
  bool interrupt();

  // Any thread, idempotent. New submissions are refused from now on; the running request
  // and everything queued are answered with `why` at once, by the calling thread (the
  // running one is also interrupted, but its caller does not wait for Python to notice).
  void stop(Failure why);

  // Blocks until the context thread has finished (or `timeout` passes).
  bool wait_stopped(std::chrono::milliseconds timeout);

  // The context whose thread calls this (nullptr on any other thread).
  static Context* current();

  // Context thread, GIL held, from inside a running request that has to wait (for a
  // state change, a callback, a timer): until ready() holds or the deadline passes, the
  // context keeps serving its mailbox, running other requests nested in this one, and its
  // background work, so a waiting request never makes the context deaf. Call wake() when
  // ready() may have become true. With fd >= 0 the wait also ends when fd is readable
  // (*fd_ready is set). Returns interrupted when the waiting request is interrupted
  // (raise KeyboardInterrupt), stopping when the context stops.
  WaitResult serve_until(const std::function<bool()>& ready, Clock::time_point deadline,
                         int fd = -1, bool* fd_ready = nullptr);

  // Context thread, GIL held, from inside a running request: sleeps (without the GIL)
  // until the deadline, and no longer than until the request is interrupted or cancelled
  // or the context stops. Serves nothing meanwhile (time.sleep keeps its meaning; see
  // serve_until for waits that do).
  WaitResult sleep_until(Clock::time_point deadline);

  // Context thread, GIL held: the context's background work (its asyncio loop), run
  // whenever no request runs. nullptr removes it. False (and nothing changes) when called
  // from inside the background work itself.
  bool set_background(std::unique_ptr<BackgroundWork> work);
  BackgroundWork* background() const { return background_.get(); }

  // Any thread: makes a waiting request look at its condition again.
  void wake() { mailbox_.push({MessageKind::wake, 0}); }

  // Context thread: the job of the innermost request running now (nullptr between
  // requests). Lets Python code ask who called it.
  Job* current_job() const { return current_job_; }

  ContextStats stats() const;
  // Requests accepted and not yet finished (cheap: for routing).
  std::size_t load() const { return table_.in_use(); }

  // Set by the engine: delivers an interrupt on a thread that may take the main GIL
  // (needed on Python 3.11, where pending calls only run on the main thread).
  void set_main_thread_runner(std::function<void(std::function<void()>)> runner) {
    main_thread_runner_ = std::move(runner);
  }
  // Set by the engine before the context starts: lowers requests that run long.
  void set_priority_governor(PriorityGovernor* governor) { governor_ = governor; }

 private:
  friend class detail::ContextActor;

  // The loop, on the context's own thread (the actor's). Starts with `reused` if given,
  // else a new interpreter; returns the interpreter if it may serve another context.
  std::unique_ptr<Interpreter> run(std::unique_ptr<Interpreter> reused);
  // After run(): wakes wait_stopped() and calls on_finished.
  void announce_finished();
  bool dispatch(const Envelope& envelope);
  void serve_nested(const Envelope& envelope);  // one envelope, inside serve_until
  bool has_pending() const { return pending_next_ < pending_end_; }
  void run_request(Envelope envelope);
  // Decodes and runs one request; a new reference, or nullptr with a Python exception set.
  PyObject* execute(MessageKind kind, Job& job);
  void cancel_deferred_work(std::uint32_t slot);
  // A task request's function returned an awaitable: runs it as a task (see
  // ContextConfig::start_task). True when the request is deferred to the task's end;
  // false when it is to be answered now with *result (the task's outcome, or nullptr with
  // the exception that kept it from starting).
  bool start_task(Ticket ticket, Job& job, ReplyGate& gate, PyObject** result);
  // A task started for request `token` ended (its done callback, on this thread).
  static void task_done(std::uint64_t token, PyObject* task);
  void finish_task(std::uint64_t token, PyObject* task);
  void run_background(bool descriptor_ready);
  // Whether the background's descriptor has gone unread for too long (busy background).
  bool descriptor_overdue(int fd) const;
  // How long the background may sleep (see BackgroundWork::due), and its descriptor.
  std::chrono::microseconds background_due(int* fd);
  // The one idle step of the main loop and of serve_until: the background's turn if it is
  // due now, else a wait (without the GIL) until an envelope (into pending_), the
  // background's descriptor or timer (then its turn), `fd`, or `limit` (negative: none).
  // Returns whether `fd` became readable.
  bool idle_step(std::chrono::microseconds limit, int fd);
  void answer_with_stop_failure(Ticket ticket);
  void drain();
  std::unique_ptr<Interpreter> finish(const std::string& error);
  void request_interrupt(std::uint64_t token);

  bool start_interpreter(std::unique_ptr<Interpreter> reused, std::string* error);

  ContextConfig config_;
  Mailbox mailbox_;
  RequestTable table_;
  InterruptLatch latch_;
  std::unique_ptr<Interpreter> interp_;
  std::function<void(std::function<void()>)> main_thread_runner_;
  PriorityGovernor* governor_ = nullptr;
  std::shared_ptr<CpuStretch> stretch_;  // context thread: this thread's running stretch

  std::atomic<State> state_{State::starting};
  std::once_flag stop_once_;
  Failure stop_failure_;  // written once, before stopping_ is set
  std::atomic<bool> stopping_{false};

  std::mutex done_mutex_;
  std::condition_variable done_cv_;
  bool done_ = false;

  Job* current_job_ = nullptr;  // context thread only
  std::mutex sleep_mutex_;      // sleep_until() waits on sleep_cv_, interrupts wake it
  std::condition_variable sleep_cv_;
  // Envelopes taken from the mailbox and not yet served, shared by the main loop and every
  // serve_until above it on the stack (context thread only).
  static constexpr std::size_t kBatch = 64;
  Envelope pending_[kBatch];
  std::size_t pending_next_ = 0;
  std::size_t pending_end_ = 0;
  std::unique_ptr<BackgroundWork> background_;
  bool in_background_ = false;
  Clock::time_point background_polled_at_{};         // when run() last looked at its descriptor
  std::unique_ptr<detail::DeferredTasks> deferred_;  // task requests waiting for their task
  std::atomic<long> os_thread_id_{0};
  std::atomic<std::uint64_t> served_{0};
  std::atomic<std::uint64_t> errors_{0};
  std::atomic<std::uint64_t> timeouts_{0};
  std::atomic<std::uint64_t> busy_ns_{0};
  std::atomic<std::int64_t> service_ns_{0};  // a moving average of requests' run time
  std::atomic<std::uint64_t> answered_at_once_{0};
};

}  // namespace epy
