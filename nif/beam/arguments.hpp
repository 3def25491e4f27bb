// The NIF layer's one way to refuse an argument, and the checks many NIFs share.
//
// Every NIF answers a bad argument with {error, {badarg, What}}, What an atom naming the
// argument (module, args, timeout, channel, fd, ...); none raises. The Erlang API passes
// it on as documented (py.erl maps the shared state's to {error, badarg}).
#pragma once

#include <erl_nif.h>

#include <string>
#include <vector>

namespace epy::nif {

ERL_NIF_TERM badarg(ErlNifEnv* env, const char* what);
ERL_NIF_TERM badarg(ErlNifEnv* env, ERL_NIF_TERM what);

// An atom or a binary (module, function and keyword names).
bool is_name(ErlNifEnv* env, ERL_NIF_TERM term);
bool is_proper_list(ErlNifEnv* env, ERL_NIF_TERM term);
// A descriptor number: a non-negative int.
bool get_fd(ErlNifEnv* env, ERL_NIF_TERM term, int* out);
// A path: an iolist (binary or string) without NUL bytes.
bool get_path(ErlNifEnv* env, ERL_NIF_TERM term, std::string* out);

// Options in a map. Each leaves *out alone and returns true when the key is absent, and
// returns false when it is present with a value of the wrong kind.
bool option_ulong(ErlNifEnv* env, ERL_NIF_TERM opts, const char* key, unsigned long* out);
bool option_paths(ErlNifEnv* env, ERL_NIF_TERM opts, const char* key,
                  std::vector<std::string>* out);

}  // namespace epy::nif
