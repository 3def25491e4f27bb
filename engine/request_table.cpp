#include "engine/request_table.hpp"

#include <thread>

namespace epy {

namespace {

constexpr std::uint64_t pack_word(std::uint32_t generation, SlotState state) {
  return (std::uint64_t(generation) << 8) | std::uint64_t(state);
}
constexpr std::uint32_t word_generation(std::uint64_t w) { return std::uint32_t(w >> 8); }
constexpr SlotState word_state(std::uint64_t w) { return SlotState(w & 0xff); }

constexpr std::uint64_t pack_head(std::uint32_t aba, std::uint32_t index) {
  return (std::uint64_t(aba) << 32) | index;
}

}  // namespace

struct RequestTable::Slot {
  std::atomic<std::uint64_t> word{pack_word(0, SlotState::free)};
  std::atomic<std::uint32_t> next_free{kNone};
  // Identity for cancel_matching(); written before the slot becomes queued.
  std::atomic<std::uint64_t> owner{0};
  std::atomic<std::uint64_t> tag{0};
  std::unique_ptr<Job> job;
};

RequestTable::RequestTable(std::size_t capacity, JobFactory factory)
    : capacity_(capacity == 0 ? 1 : capacity),
      factory_(std::move(factory)),
      max_chunks_(std::uint32_t((capacity_ + kChunkSize - 1) / kChunkSize)),
      free_head_(pack_head(0, kNone)) {
  chunks_ = std::make_unique<std::atomic<Slot*>[]>(max_chunks_);
  for (std::uint32_t i = 0; i < max_chunks_; ++i) chunks_[i].store(nullptr);
}

RequestTable::~RequestTable() {
  for (std::uint32_t i = 0; i < max_chunks_; ++i) delete[] chunks_[i].load();
}

RequestTable::Slot& RequestTable::slot(std::uint32_t index) const {
  return chunks_[index >> kChunkBits].load(std::memory_order_acquire)[index & (kChunkSize - 1)];
}

Job* RequestTable::job(std::uint32_t index) const { return slot(index).job.get(); }

Ticket RequestTable::ticket_of(std::uint32_t index) const {
  return {index, word_generation(slot(index).word.load(std::memory_order_acquire))};
}

std::uint32_t RequestTable::pop_free() {
  std::uint64_t head = free_head_.load(std::memory_order_acquire);
  for (;;) {
    const std::uint32_t index = std::uint32_t(head);
    if (index == kNone) return kNone;
    const std::uint32_t next = slot(index).next_free.load(std::memory_order_relaxed);
    const std::uint64_t replacement = pack_head(std::uint32_t(head >> 32) + 1, next);
    if (free_head_.compare_exchange_weak(head, replacement, std::memory_order_acq_rel,
                                         std::memory_order_acquire))
      return index;
  }
}

void RequestTable::push_free(std::uint32_t first, std::uint32_t last) {
  std::uint64_t head = free_head_.load(std::memory_order_relaxed);
  for (;;) {
    slot(last).next_free.store(std::uint32_t(head), std::memory_order_relaxed);
    const std::uint64_t replacement = pack_head(std::uint32_t(head >> 32) + 1, first);
    if (free_head_.compare_exchange_weak(head, replacement, std::memory_order_acq_rel,
                                         std::memory_order_relaxed))
      return;
  }
}

bool RequestTable::grow() {
  std::lock_guard<std::mutex> lock(grow_mutex_);
  // Another submitter may have grown the table (or freed a slot) while we waited.
  if (std::uint32_t(free_head_.load(std::memory_order_acquire)) != kNone) return true;
  const std::uint32_t n = num_chunks_.load(std::memory_order_relaxed);
  if (n == max_chunks_) return false;
  Slot* chunk = new Slot[kChunkSize];
  chunks_[n].store(chunk, std::memory_order_release);
  num_chunks_.store(n + 1, std::memory_order_release);
  const std::uint32_t base = n << kChunkBits;
  std::uint32_t count = kChunkSize;
  if (std::size_t(base) + count > capacity_) count = std::uint32_t(capacity_ - base);
  for (std::uint32_t i = 0; i + 1 < count; ++i)
    chunk[i].next_free.store(base + i + 1, std::memory_order_relaxed);
  push_free(base, base + count - 1);
  return true;
}

RequestTable::Reservation RequestTable::reserve(std::uint64_t owner, std::uint64_t tag) {
  Reservation r;
  // Count first, then look at `closed_`: with close() storing the flag before it reads
  // the count, either we see the flag or close() sees our request (both seq_cst).
  const std::size_t before = in_use_.fetch_add(1, std::memory_order_seq_cst);
  if (closed_.load(std::memory_order_seq_cst)) {
    in_use_.fetch_sub(1, std::memory_order_acq_rel);
    r.admission = Admission::closed;
    return r;
  }
  if (before >= capacity_) {
    in_use_.fetch_sub(1, std::memory_order_acq_rel);
    r.admission = Admission::overloaded;
    return r;
  }
  std::size_t hw = high_water_.load(std::memory_order_relaxed);
  while (before + 1 > hw && !high_water_.compare_exchange_weak(hw, before + 1)) {
  }

  std::uint32_t index;
  while ((index = pop_free()) == kNone) {
    // in_use_ <= capacity_ guarantees a slot exists or can be allocated; one that is
    // being released right now may need a moment to reach the free list.
    if (!grow()) std::this_thread::yield();
  }
  Slot& s = slot(index);
  if (!s.job) s.job = factory_();
  s.owner.store(owner, std::memory_order_relaxed);
  s.tag.store(tag, std::memory_order_relaxed);
  const std::uint32_t generation = word_generation(s.word.load(std::memory_order_relaxed));
  s.word.store(pack_word(generation, SlotState::reserved), std::memory_order_release);
  r.admission = Admission::accepted;
  r.ticket = {index, generation};
  r.job = s.job.get();
  return r;
}

bool RequestTable::transition(Ticket ticket, SlotState from, SlotState to) {
  std::uint64_t expected = pack_word(ticket.generation, from);
  return slot(ticket.index)
      .word.compare_exchange_strong(expected, pack_word(ticket.generation, to),
                                    std::memory_order_acq_rel);
}

void RequestTable::commit(Ticket ticket) {
  slot(ticket.index)
      .word.store(pack_word(ticket.generation, SlotState::queued), std::memory_order_release);
}

void RequestTable::abandon(Ticket ticket) { release(ticket); }

bool RequestTable::begin(Ticket ticket) {
  return transition(ticket, SlotState::queued, SlotState::running);
}

void RequestTable::release(Ticket ticket) {
  wait_until_released(ticket);  // a stop may be answering this request right now
  Slot& s = slot(ticket.index);
  if (s.job) s.job->recycle();
  s.word.store(pack_word(ticket.generation + 1, SlotState::free), std::memory_order_release);
  push_free(ticket.index, ticket.index);
  in_use_.fetch_sub(1, std::memory_order_acq_rel);
}

SlotState RequestTable::state(Ticket ticket) const {
  const std::uint64_t w = slot(ticket.index).word.load(std::memory_order_acquire);
  if (word_generation(w) != ticket.generation) return SlotState::free;
  return word_state(w);
}

void RequestTable::wait_until_released(Ticket ticket) const {
  // A reply is being handed to its caller right now; that takes microseconds.
  while (state(ticket) == SlotState::replying) std::this_thread::yield();
}

void RequestTable::finish(Ticket ticket) {
  transition(ticket, SlotState::replying, SlotState::answered);
}

bool RequestTable::defer(Ticket ticket) {
  return transition(ticket, SlotState::running, SlotState::deferred);
}

CancelResult RequestTable::cancel(Ticket ticket) {
  Slot& s = slot(ticket.index);
  std::uint64_t w = s.word.load(std::memory_order_acquire);
  for (;;) {
    if (word_generation(w) != ticket.generation) return CancelResult::not_pending;
    const SlotState st = word_state(w);
    switch (st) {
      case SlotState::free:
      case SlotState::answered:
        return CancelResult::not_pending;
      case SlotState::cancelled:
        return CancelResult::cancelled;
      case SlotState::replying:
        wait_until_released(ticket);
        return CancelResult::not_pending;
      case SlotState::reserved:
      case SlotState::queued:
      case SlotState::running:
      case SlotState::aborted:
      case SlotState::deferred:
        if (s.word.compare_exchange_weak(w, pack_word(ticket.generation, SlotState::cancelled),
                                         std::memory_order_acq_rel, std::memory_order_acquire))
          return st == SlotState::running    ? CancelResult::cancelled_running
                 : st == SlotState::deferred ? CancelResult::cancelled_deferred
                                             : CancelResult::cancelled;
        break;
    }
  }
}

CancelResult RequestTable::cancel_matching(std::uint64_t owner, std::uint64_t tag, Ticket* found) {
  const std::uint32_t chunks = num_chunks_.load(std::memory_order_acquire);
  for (std::uint32_t c = 0; c < chunks; ++c) {
    Slot* chunk = chunks_[c].load(std::memory_order_acquire);
    for (std::uint32_t i = 0; i < kChunkSize; ++i) {
      const std::uint32_t index = (c << kChunkBits) + i;
      if (index >= capacity_) break;
      Slot& s = chunk[i];
      const std::uint64_t w = s.word.load(std::memory_order_acquire);
      const SlotState st = word_state(w);
      if (st == SlotState::free || st == SlotState::reserved || st == SlotState::cancelled ||
          st == SlotState::answered)
        continue;
      if (s.owner.load(std::memory_order_relaxed) != owner ||
          s.tag.load(std::memory_order_relaxed) != tag)
        continue;
      // If the slot moved on to another request meanwhile, the generation check in
      // cancel() reports not_pending: the matching request has been answered.
      if (found) *found = {index, word_generation(w)};
      return cancel({index, word_generation(w)});
    }
  }
  return CancelResult::not_pending;
}

bool RequestTable::abort(Ticket ticket) {
  return transition(ticket, SlotState::queued, SlotState::aborted) ||
         transition(ticket, SlotState::running, SlotState::aborted) ||
         transition(ticket, SlotState::deferred, SlotState::aborted);
}

Delivery RequestTable::claim(Ticket ticket) {
  if (transition(ticket, SlotState::running, SlotState::replying) ||
      transition(ticket, SlotState::deferred, SlotState::replying))
    return Delivery::deliver;
  if (transition(ticket, SlotState::aborted, SlotState::replying)) return Delivery::abort;
  return Delivery::drop;
}

void RequestTable::close() { closed_.store(true, std::memory_order_seq_cst); }

}  // namespace epy
