// The requests a context has accepted and not yet finished, in a fixed-capacity table.
//
// Each accepted request owns one slot until its reply has been delivered, dropped or
// failed. The slot's state word (generation << 8 | state) is the single point of truth
// that settles every race between the context thread (running, replying), the caller
// (cancelling after a timeout) and a stop (aborting): exactly one of them wins, so a
// request is answered at most once, and a caller whose cancel won gets no late reply.
//
// The capacity bounds the mailbox (max_pending): reserve() refuses with `overloaded`
// instead of queueing without limit. Slots are allocated in chunks on first use and
// recycled through a lock-free free list, so the hot path allocates nothing.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "engine/failure.hpp"
#include "engine/job.hpp"

namespace epy {

// Names one request: the slot index and the generation the slot had when reserved.
struct Ticket {
  std::uint32_t index = 0;
  std::uint32_t generation = 0;
  bool operator==(const Ticket& o) const { return index == o.index && generation == o.generation; }
  std::uint64_t packed() const { return (std::uint64_t(generation) << 32) | index; }
  static Ticket unpack(std::uint64_t v) { return {std::uint32_t(v), std::uint32_t(v >> 32)}; }
};

enum class SlotState : std::uint8_t {
  free,       // on the free list
  reserved,   // taken by a submitter that is filling in the job
  queued,     // in the mailbox
  running,    // the context thread is executing it
  aborted,    // the context is stopping: answer with the stop failure instead of a result
  replying,   // a reply is being delivered right now
  answered,   // the reply has been delivered; the context thread has yet to release it
  cancelled,  // the caller gave up: deliver nothing
  deferred,   // ran; its answer waits for work it started (an asyncio task)
};

enum class Admission { accepted, overloaded, closed };

enum class CancelResult {
  cancelled,           // nothing will be delivered for this request
  cancelled_running,   // the same, and Python is executing it now (interrupt it)
  cancelled_deferred,  // the same, and work it started goes on (cancel that work)
  not_pending,         // already answered (the reply is in the caller's mailbox) or unknown
};

enum class Delivery { deliver, drop, abort };

class RequestTable {
 public:
  using JobFactory = std::function<std::unique_ptr<Job>()>;

  struct Reservation {
    Admission admission = Admission::closed;
    Ticket ticket;
    Job* job = nullptr;  // valid when accepted: fill it in, then commit() or abandon()
  };

  RequestTable(std::size_t capacity, JobFactory factory);
  ~RequestTable();

  RequestTable(const RequestTable&) = delete;
  RequestTable& operator=(const RequestTable&) = delete;

  // --- submitter side (any thread) ---
  // `owner` and `tag` identify the request for cancel_matching() (the NIF uses the
  // caller's pid and a hash of the reply reference).
  Reservation reserve(std::uint64_t owner = 0, std::uint64_t tag = 0);
  void commit(Ticket ticket);   // reserved -> queued; then push the envelope
  void abandon(Ticket ticket);  // reserved -> free, for a request that was never queued

  // --- context thread ---
  Job* job(std::uint32_t index) const;
  bool begin(Ticket ticket);  // queued -> running; false if answered/cancelled
  Ticket ticket_of(std::uint32_t index) const;
  // -> free (generation advances). Waits while another thread is delivering its reply.
  void release(Ticket ticket);

  // --- any thread ---
  CancelResult cancel(Ticket ticket);
  CancelResult cancel_matching(std::uint64_t owner, std::uint64_t tag, Ticket* found = nullptr);
  bool abort(Ticket ticket);             // queued/running -> aborted
  Delivery claim(Ticket ticket);         // running -> replying / aborted -> replying
  void finish(Ticket ticket);            // replying -> answered, after delivering
  bool defer(Ticket ticket);             // running -> deferred (answer comes later)
  SlotState state(Ticket ticket) const;  // free once the ticket's generation has passed

  // Calls f(ticket) for every request that is queued or running (for a stop).
  template <class F>
  void for_each_pending(F&& f) const {
    const std::uint32_t chunks = num_chunks_.load(std::memory_order_acquire);
    for (std::uint32_t index = 0; index < chunks * kChunkSize && index < capacity_; ++index) {
      const Ticket t = ticket_of(index);
      const SlotState st = state(t);
      if (st == SlotState::queued || st == SlotState::running || st == SlotState::deferred) f(t);
    }
  }

  // Refuses all further reservations. Requests already reserved still reach the mailbox.
  void close();
  bool closed() const { return closed_.load(std::memory_order_seq_cst); }

  std::size_t capacity() const { return capacity_; }
  std::size_t in_use() const { return in_use_.load(std::memory_order_acquire); }
  std::size_t high_water() const { return high_water_.load(std::memory_order_relaxed); }

 private:
  struct Slot;
  static constexpr std::uint32_t kChunkBits = 8;
  static constexpr std::uint32_t kChunkSize = 1u << kChunkBits;
  static constexpr std::uint32_t kNone = 0xffffffffu;

  Slot& slot(std::uint32_t index) const;
  std::uint32_t pop_free();
  void push_free(std::uint32_t first, std::uint32_t last);
  bool grow();
  bool transition(Ticket ticket, SlotState from, SlotState to);
  void wait_until_released(Ticket ticket) const;

  const std::size_t capacity_;
  const JobFactory factory_;
  std::unique_ptr<std::atomic<Slot*>[]> chunks_;
  const std::uint32_t max_chunks_;
  std::atomic<std::uint32_t> num_chunks_{0};
  std::mutex grow_mutex_;
  std::atomic<std::uint64_t> free_head_;  // (aba tag << 32) | index
  std::atomic<std::size_t> in_use_{0};
  std::atomic<std::size_t> high_water_{0};
  std::atomic<bool> closed_{false};
};

// What a job uses to deliver its one answer. claim() decides, once, whether the answer
// goes out as the result (deliver), as the context's stop failure (abort), or not at all
// (drop: the caller cancelled). Later calls return the same decision.
class ReplyGate {
 public:
  ReplyGate(RequestTable& table, Ticket ticket, const Failure* abort_failure)
      : table_(table), ticket_(ticket), abort_failure_(abort_failure) {}

  Delivery claim() {
    if (!claimed_) {
      decision_ = table_.claim(ticket_);
      claimed_ = true;
    }
    return decision_;
  }
  // Called by the engine once the job has delivered what it claimed.
  void finish() {
    if (claimed_ && decision_ != Delivery::drop) table_.finish(ticket_);
  }

  // After claim() said deliver, the job handed its answer to a caller that waits for it
  // synchronously (see Context::sync_wait): that caller copies it and finishes and
  // releases the request (Context::release_handed); the engine leaves the slot alone.
  void hand_over() { handed_over_ = true; }
  bool handed_over() const { return handed_over_; }
  const Failure& abort_failure() const { return *abort_failure_; }
  Ticket ticket() const { return ticket_; }

  // Whether the context delivered an interrupt into this request (so a KeyboardInterrupt
  // it raised came from interrupt(), not from the user's code).
  bool interrupted() const { return interrupted_; }
  void mark_interrupted() { interrupted_ = true; }
  // Whether the request's task was cancelled (its CancelledError is not the user's).
  bool cancelled() const { return cancelled_; }
  void mark_cancelled() { cancelled_ = true; }

 private:
  RequestTable& table_;
  Ticket ticket_;
  const Failure* abort_failure_;
  bool claimed_ = false;
  bool interrupted_ = false;
  bool cancelled_ = false;
  bool handed_over_ = false;
  Delivery decision_ = Delivery::drop;
};

}  // namespace epy
