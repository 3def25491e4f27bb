// What a term costs to copy or walk, measured against a budget: a walk that stops as
// soon as the budget is spent, so measuring a huge term costs no more than a small one.
//
// Units: one per term cell (a list cell, a tuple element, a map key or value, a float or
// bignum) and, where an operation copies the bytes of binaries (encoding), one per
// kBytesPerUnit bytes. One unit is about 10 ns of copying on our machines, so the budget
// keeps the work near 0.2 ms even on a busy core. beam/scheduler_budget.hpp decides with
// it where a NIF works; a context thread uses it to keep big answers off schedulers.
#pragma once

#include <erl_nif.h>

#include <cstddef>
#include <initializer_list>

namespace epy::nif {

constexpr std::size_t kInlineBudget = 16384;
constexpr std::size_t kBytesPerUnit = 64;
// What one full timeslice (about 1 ms) is worth in units, and one unit in time.
constexpr std::size_t kUnitsPerTimeslice = 100000;
constexpr std::size_t kNanosPerUnit = 10;

// Where binaries go: shared by reference (enif_make_copy of a refc binary is a pointer),
// or copied byte by byte (term_to_binary, conversion).
enum class Bytes { shared, copied };

// True on a dirty scheduler (there, any amount of work is fine).
bool on_dirty_scheduler();

class WorkMeter {
 public:
  explicit WorkMeter(std::size_t budget = kInlineBudget)
      : budget_(budget), unlimited_(on_dirty_scheduler()) {}

  // Adds the cost of `term`; false once the total is beyond the budget (the walk stops
  // there). On a dirty scheduler nothing is walked: everything fits.
  bool add(ErlNifEnv* env, ERL_NIF_TERM term, Bytes bytes);
  bool add(ErlNifEnv* env, std::initializer_list<ERL_NIF_TERM> terms, Bytes bytes);
  // Adds a cost known without a walk (a count of keys, an encoded size).
  bool add_units(std::size_t units);

  bool fits() const { return unlimited_ || units_ <= budget_; }
  std::size_t units() const { return units_; }

 private:
  std::size_t budget_;
  bool unlimited_;
  std::size_t units_ = 0;
};

}  // namespace epy::nif
