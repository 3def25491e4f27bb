#include "nif/bridge/term_cost.hpp"

#include <vector>

namespace epy::nif {

namespace {

// Words of a bignum, roughly, from its magnitude (enif has no cheaper way to ask).
std::size_t integer_units(ErlNifEnv* env, ERL_NIF_TERM t) {
  ErlNifSInt64 i;
  ErlNifUInt64 u;
  return enif_get_int64(env, t, &i) || enif_get_uint64(env, t, &u) ? 0 : 4;
}

// The terms still to visit: on the stack for the usual small term (a heap allocation
// per NIF call cost state_store 40% of its speed), on the heap beyond.
class TermStack {
 public:
  void push(ERL_NIF_TERM t) {
    if (local_size_ < kLocal && overflow_.empty())
      local_[local_size_++] = t;
    else
      overflow_.push_back(t);
  }
  ERL_NIF_TERM pop() {
    if (!overflow_.empty()) {
      const ERL_NIF_TERM t = overflow_.back();
      overflow_.pop_back();
      return t;
    }
    return local_[--local_size_];
  }
  bool empty() const { return local_size_ == 0 && overflow_.empty(); }

 private:
  static constexpr std::size_t kLocal = 64;
  ERL_NIF_TERM local_[kLocal];
  std::size_t local_size_ = 0;
  std::vector<ERL_NIF_TERM> overflow_;
};

}  // namespace

bool on_dirty_scheduler() {
  const int type = enif_thread_type();
  return type == ERL_NIF_THR_DIRTY_CPU_SCHEDULER || type == ERL_NIF_THR_DIRTY_IO_SCHEDULER;
}

bool WorkMeter::add_units(std::size_t units) {
  if (unlimited_) return true;
  units_ += units;
  return units_ <= budget_;
}

bool WorkMeter::add(ErlNifEnv* env, std::initializer_list<ERL_NIF_TERM> terms, Bytes bytes) {
  for (ERL_NIF_TERM t : terms)
    if (!add(env, t, bytes)) return false;
  return fits();
}

bool WorkMeter::add(ErlNifEnv* env, ERL_NIF_TERM term, Bytes bytes) {
  if (unlimited_) return true;
  if (units_ > budget_) return false;
  // Without recursion: a term may be nested as deep as the caller could build it.
  TermStack todo;
  todo.push(term);
  while (!todo.empty()) {
    const ERL_NIF_TERM t = todo.pop();
    switch (enif_term_type(env, t)) {
      case ERL_NIF_TERM_TYPE_LIST: {
        ERL_NIF_TERM head, tail = t;
        while (enif_get_list_cell(env, tail, &head, &tail)) {
          if (++units_ > budget_) return false;
          if (!enif_is_atom(env, head)) todo.push(head);
        }
        if (!enif_is_empty_list(env, tail)) todo.push(tail);  // improper list
        break;
      }
      case ERL_NIF_TERM_TYPE_TUPLE: {
        int arity;
        const ERL_NIF_TERM* elems;
        enif_get_tuple(env, t, &arity, &elems);
        units_ += std::size_t(arity) + 1;
        if (units_ > budget_) return false;
        for (int i = 0; i < arity; ++i) todo.push(elems[i]);
        break;
      }
      case ERL_NIF_TERM_TYPE_MAP: {
        std::size_t size = 0;
        enif_get_map_size(env, t, &size);
        units_ += 2 * size + 1;
        if (units_ > budget_) return false;
        ErlNifMapIterator it;
        if (enif_map_iterator_create(env, t, &it, ERL_NIF_MAP_ITERATOR_FIRST)) {
          ERL_NIF_TERM k, v;
          while (enif_map_iterator_get_pair(env, &it, &k, &v)) {
            todo.push(k);
            todo.push(v);
            enif_map_iterator_next(env, &it);
          }
          enif_map_iterator_destroy(env, &it);
        }
        break;
      }
      case ERL_NIF_TERM_TYPE_BITSTRING:
        if (bytes == Bytes::copied) {
          ErlNifBinary bin;
          if (enif_inspect_binary(env, t, &bin)) units_ += bin.size / kBytesPerUnit;
        }
        ++units_;
        break;
      case ERL_NIF_TERM_TYPE_FLOAT:
        ++units_;
        break;
      case ERL_NIF_TERM_TYPE_INTEGER:
        units_ += integer_units(env, t);
        break;
      default:  // atoms, pids, ports, references, funs
        break;
    }
    if (units_ > budget_) return false;
  }
  return true;
}

}  // namespace epy::nif
