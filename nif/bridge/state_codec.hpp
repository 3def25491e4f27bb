// Values of the shared state as the store keeps them: 64-bit integers as such (counters
// work on those), everything else in Erlang's external term format, which any
// interpreter and Erlang itself decode to exactly what was stored.
#pragma once

#include <erl_nif.h>

#include <string>

#include "engine/python/python.hpp"
#include "engine/state_store.hpp"
#include "nif/bridge/module_state.hpp"

namespace epy::nif {

// Erlang side. encode: false if the term cannot be encoded (never for valid terms).
bool encode_state(ErlNifEnv* env, ERL_NIF_TERM term, StateValue* out);
ERL_NIF_TERM decode_state(ErlNifEnv* env, const StateValue& value);

// Python side (GIL held). encode: false with a Python exception set.
bool encode_state(ModuleState* st, PyObject* obj, StateValue* out);
PyObject* decode_state(ModuleState* st, const StateValue& value);

// Keys are text: Erlang binaries (UTF-8) or atoms; Python str.
bool state_key(ErlNifEnv* env, ERL_NIF_TERM term, std::string* out);
bool state_key(PyObject* obj, std::string* out);  // false with a TypeError set

}  // namespace epy::nif
