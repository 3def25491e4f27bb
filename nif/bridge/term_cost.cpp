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
  std::vector<ERL_NIF_TERM> todo;
  todo.push_back(term);
  while (!todo.empty()) {
    const ERL_NIF_TERM t = todo.back();
    todo.pop_back();
    switch (enif_term_type(env, t)) {
      case ERL_NIF_TERM_TYPE_LIST: {
        ERL_NIF_TERM head, tail = t;
        while (enif_get_list_cell(env, tail, &head, &tail)) {
          if (++units_ > budget_) return false;
          if (!enif_is_atom(env, head)) todo.push_back(head);
        }
        if (!enif_is_empty_list(env, tail)) todo.push_back(tail);  // improper list
        break;
      }
      case ERL_NIF_TERM_TYPE_TUPLE: {
        int arity;
        const ERL_NIF_TERM* elems;
        enif_get_tuple(env, t, &arity, &elems);
        units_ += std::size_t(arity) + 1;
        if (units_ > budget_) return false;
        todo.insert(todo.end(), elems, elems + arity);
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
            todo.push_back(k);
            todo.push_back(v);
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
