// Conversion between Erlang terms and Python objects, directly, on the context's thread.
//
//   Erlang                         Python
//   integer (any size)        <->  int
//   float                     <->  float (nan, inf, -inf -> nan, infinity, neg_infinity)
//   true / false              <->  bool
//   none, nil, undefined       ->  None  (None -> none)
//   other atom                <->  erlang.Atom (a str)
//   binary                     ->  str when valid UTF-8, else bytes
//   {bytes, Binary}            ->  bytes
//   str, bytes, bytearray      ->  binary
//   list / tuple / map        <->  list / tuple / dict
//   set, frozenset             ->  list
//   pid / reference           <->  erlang.Pid / erlang.Ref
//
// Anything else is a TypeError naming the type; nothing is ever turned into its str().
// Terms nested deeper than kMaxDepth are a ValueError, not a stack overflow.
#pragma once

#include <erl_nif.h>

#include <string>

#include "engine/python/error.hpp"
#include "engine/python/python.hpp"
#include "nif/bridge/module_state.hpp"

namespace epy::nif {

constexpr int kMaxDepth = 1000;

// Erlang -> Python: a new reference, or nullptr with a Python exception set.
PyObject* to_python(ModuleState* st, ErlNifEnv* env, ERL_NIF_TERM term);

// A name (module, function, keyword): atom or binary -> plain str (interned for atoms).
// `what` names the argument in the TypeError for anything else.
PyObject* to_python_name(ModuleState* st, ErlNifEnv* env, ERL_NIF_TERM term, const char* what);

// A map whose keys are names (keyword arguments, eval locals) -> dict of str keys.
PyObject* to_python_kwargs(ModuleState* st, ErlNifEnv* env, ERL_NIF_TERM map, const char* what);

// Python -> Erlang: false with a Python exception set.
bool to_term(ModuleState* st, ErlNifEnv* env, PyObject* obj, ERL_NIF_TERM* out);

// The atom naming an exception class. Class names become atoms only within the atom
// budget (built-in exception names always do); beyond it the nearest built-in base names
// the error, so Python code cannot exhaust the atom table.
ERL_NIF_TERM exception_atom(ErlNifEnv* env, const PyErrorInfo& info);

ERL_NIF_TERM make_binary(ErlNifEnv* env, const std::string& text);

// An atom's name as UTF-8 (OTP 25 reads atoms only as Latin-1 through the NIF API).
bool atom_to_utf8(ErlNifEnv* env, ERL_NIF_TERM atom, std::string* out);

// How many new atoms Python code may still create (erlang.Atom of an unknown name,
// exception class names). Set at load from the application environment.
void set_atom_budget(long count);
long atom_budget();

}  // namespace epy::nif
