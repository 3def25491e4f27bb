#include "nif/beam/arguments.hpp"

#include "nif/bridge/atoms.hpp"

namespace epy::nif {

ERL_NIF_TERM badarg(ErlNifEnv* env, ERL_NIF_TERM what) {
  return enif_make_tuple2(env, atoms.error, enif_make_tuple2(env, atoms.badarg, what));
}

ERL_NIF_TERM badarg(ErlNifEnv* env, const char* what) {
  return badarg(env, enif_make_atom(env, what));
}

bool is_name(ErlNifEnv* env, ERL_NIF_TERM term) {
  return enif_is_atom(env, term) || enif_is_binary(env, term);
}

bool is_proper_list(ErlNifEnv* env, ERL_NIF_TERM term) {
  unsigned len;
  return enif_get_list_length(env, term, &len);
}

bool get_fd(ErlNifEnv* env, ERL_NIF_TERM term, int* out) {
  return enif_get_int(env, term, out) && *out >= 0;
}

bool get_path(ErlNifEnv* env, ERL_NIF_TERM term, std::string* out) {
  ErlNifBinary bin;
  if (!enif_inspect_iolist_as_binary(env, term, &bin) || bin.size == 0) return false;
  out->assign(reinterpret_cast<const char*>(bin.data), bin.size);
  return out->find('\0') == std::string::npos;
}

bool option_ulong(ErlNifEnv* env, ERL_NIF_TERM opts, const char* key, unsigned long* out) {
  ERL_NIF_TERM value;
  if (!enif_get_map_value(env, opts, enif_make_atom(env, key), &value)) return true;
  return enif_get_ulong(env, value, out);
}

bool option_paths(ErlNifEnv* env, ERL_NIF_TERM opts, const char* key,
                  std::vector<std::string>* out) {
  ERL_NIF_TERM list;
  if (!enif_get_map_value(env, opts, enif_make_atom(env, key), &list)) return true;
  ERL_NIF_TERM head;
  while (enif_get_list_cell(env, list, &head, &list)) {
    ErlNifBinary bin;  // an empty entry is Python's "current directory"
    if (!enif_inspect_iolist_as_binary(env, head, &bin)) return false;
    std::string path(reinterpret_cast<const char*>(bin.data), bin.size);
    if (path.find('\0') != std::string::npos) return false;
    out->push_back(std::move(path));
  }
  return enif_is_empty_list(env, list);
}

}  // namespace epy::nif
