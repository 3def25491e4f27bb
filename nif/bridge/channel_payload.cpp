#include "nif/bridge/channel_payload.hpp"

#include <concurrentqueue/concurrentqueue.h>

#include <atomic>
#include <new>
#include <vector>

namespace epy::nif {

namespace {

// Environments of freed messages, for the next ones (bounded: a burst does not pin memory).
constexpr std::size_t kPoolLimit = 4096;
moodycamel::ConcurrentQueue<TermMessage*> g_pool;
std::atomic<std::size_t> g_pooled{0};
std::atomic<long> g_live{0};

void free_term_message(void* data) {
  auto* m = static_cast<TermMessage*>(data);
  g_live.fetch_sub(1, std::memory_order_relaxed);
  if (g_pooled.load(std::memory_order_relaxed) < kPoolLimit) {
    enif_clear_env(m->env);
    g_pooled.fetch_add(1, std::memory_order_relaxed);
    g_pool.enqueue(m);
    return;
  }
  enif_free_env(m->env);
  delete m;
}

ErlNifResourceType* g_held_type = nullptr;

struct HeldPayload {
  channels::Payload payload;
};

void held_dtor(ErlNifEnv*, void* obj) { static_cast<HeldPayload*>(obj)->~HeldPayload(); }

}  // namespace

bool open_held_payload_type(ErlNifEnv* env) {
  ErlNifResourceTypeInit init = {};
  init.dtor = held_dtor;
  g_held_type = enif_open_resource_type_x(
      env, "py_held_payload", &init, ErlNifResourceFlags(ERL_NIF_RT_CREATE | ERL_NIF_RT_TAKEOVER),
      nullptr);
  return g_held_type != nullptr;
}

ERL_NIF_TERM hold_payload(ErlNifEnv* env, channels::Payload payload) {
  void* mem = enif_alloc_resource(g_held_type, sizeof(HeldPayload));
  auto* held = new (mem) HeldPayload{std::move(payload)};
  ERL_NIF_TERM term = enif_make_resource(env, held);
  enif_release_resource(held);  // the term holds it now
  return term;
}

bool take_held_payload(ErlNifEnv* env, ERL_NIF_TERM held, channels::Payload* out) {
  void* obj;
  if (!g_held_type || !enif_get_resource(env, held, g_held_type, &obj)) return false;
  *out = std::move(static_cast<HeldPayload*>(obj)->payload);
  return bool(*out);
}

long live_messages() { return g_live.load(std::memory_order_relaxed); }

TermMessage* new_term_message() {
  g_live.fetch_add(1, std::memory_order_relaxed);
  TermMessage* m = nullptr;
  if (g_pool.try_dequeue(m)) {
    g_pooled.fetch_sub(1, std::memory_order_relaxed);
    return m;
  }
  return new TermMessage{enif_alloc_env(), 0};
}

channels::Payload adopt_term_message(TermMessage* message) {
  return channels::Payload(message, term_bytes(message->env, message->term), free_term_message);
}

void discard_term_message(TermMessage* message) { free_term_message(message); }

channels::Payload make_term_payload(ErlNifEnv* env, ERL_NIF_TERM term) {
  TermMessage* m = new_term_message();
  m->term = enif_make_copy(m->env, term);
  return channels::Payload(m, term_bytes(env, term), free_term_message);
}

std::size_t term_bytes(ErlNifEnv* env, ERL_NIF_TERM term) {
  constexpr std::size_t kWord = 8;
  switch (enif_term_type(env, term)) {  // the common small messages: no walk at all
    case ERL_NIF_TERM_TYPE_ATOM:
    case ERL_NIF_TERM_TYPE_PID:
      return kWord;
    case ERL_NIF_TERM_TYPE_INTEGER: {
      ErlNifSInt64 i;
      return enif_get_int64(env, term, &i) ? kWord : 4 * kWord;
    }
    default:
      break;
  }
  std::size_t bytes = 0;
  std::vector<ERL_NIF_TERM> todo{term};
  while (!todo.empty()) {
    ERL_NIF_TERM t = todo.back();
    todo.pop_back();
    switch (enif_term_type(env, t)) {
      case ERL_NIF_TERM_TYPE_BITSTRING: {
        ErlNifBinary bin;
        bytes += 2 * kWord + (enif_inspect_binary(env, t, &bin) ? bin.size : 0);
        break;
      }
      case ERL_NIF_TERM_TYPE_LIST: {
        ERL_NIF_TERM head, tail = t;
        while (enif_get_list_cell(env, tail, &head, &tail)) {
          bytes += 2 * kWord;
          todo.push_back(head);
        }
        if (!enif_is_empty_list(env, tail)) todo.push_back(tail);  // improper list
        break;
      }
      case ERL_NIF_TERM_TYPE_TUPLE: {
        int arity;
        const ERL_NIF_TERM* elems;
        enif_get_tuple(env, t, &arity, &elems);
        bytes += kWord * (std::size_t(arity) + 1);
        todo.insert(todo.end(), elems, elems + arity);
        break;
      }
      case ERL_NIF_TERM_TYPE_MAP: {
        std::size_t size = 0;
        enif_get_map_size(env, t, &size);
        bytes += kWord * (2 * size + 3);
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
      case ERL_NIF_TERM_TYPE_FLOAT:
        bytes += 2 * kWord;
        break;
      case ERL_NIF_TERM_TYPE_INTEGER: {
        ErlNifSInt64 i;
        bytes += enif_get_int64(env, t, &i) ? kWord : 4 * kWord;  // bignums: roughly
        break;
      }
      default:  // atoms, pids, ports, references, funs
        bytes += kWord;
        break;
    }
  }
  return bytes;
}

}  // namespace epy::nif
