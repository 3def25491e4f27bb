#include "nif/bridge/state_codec.hpp"

#include "engine/python/python.hpp"
#include "nif/bridge/convert.hpp"
#include "nif/bridge/owned_env.hpp"

namespace epy::nif {

namespace {

// A process-independent env per thread for Python-side conversions, cleared after use.
thread_local OwnedEnv t_scratch;

bool encode_term(ErlNifEnv* env, ERL_NIF_TERM term, StateValue* out) {
  ErlNifSInt64 i;
  if (enif_get_int64(env, term, &i)) {
    *out = StateValue::of_integer(i);
    return true;
  }
  ErlNifBinary bin;
  if (!enif_term_to_binary(env, term, &bin)) return false;
  *out = StateValue::of_bytes(std::string(reinterpret_cast<const char*>(bin.data), bin.size));
  enif_release_binary(&bin);
  return true;
}

bool valid_utf8(const unsigned char* s, std::size_t n) {
  std::size_t i = 0;
  while (i < n) {
    const unsigned char c = s[i];
    std::size_t len = c < 0x80           ? 1
                      : (c >> 5) == 0x6  ? 2
                      : (c >> 4) == 0xe  ? 3
                      : (c >> 3) == 0x1e ? 4
                                         : 0;
    if (len == 0 || i + len > n) return false;
    for (std::size_t k = 1; k < len; ++k)
      if ((s[i + k] & 0xc0) != 0x80) return false;
    i += len;
  }
  return true;
}

}  // namespace

bool encode_state(ErlNifEnv* env, ERL_NIF_TERM term, StateValue* out) {
  return encode_term(env, term, out);
}

ERL_NIF_TERM decode_state(ErlNifEnv* env, const StateValue& value) {
  if (value.is_integer) return enif_make_int64(env, value.integer);
  ERL_NIF_TERM term;
  if (!enif_binary_to_term(env, reinterpret_cast<const unsigned char*>(value.encoded->data()),
                           value.encoded->size(), &term, 0))
    return enif_make_atom(env, "undefined");  // cannot happen for what encode_state made
  return term;
}

bool encode_state(ModuleState* st, PyObject* obj, StateValue* out) {
  if (PyLong_CheckExact(obj)) {
    int overflow = 0;
    const long long i = PyLong_AsLongLongAndOverflow(obj, &overflow);
    if (!overflow && !(i == -1 && PyErr_Occurred())) {
      *out = StateValue::of_integer(i);
      return true;
    }
    PyErr_Clear();
  }
  ErlNifEnv* env = t_scratch.get();
  ERL_NIF_TERM term;
  bool ok = to_term(st, env, obj, &term);
  if (ok && !(ok = encode_term(env, term, out))) PyErr_NoMemory();
  t_scratch.clear();
  return ok;
}

PyObject* decode_state(ModuleState* st, const StateValue& value) {
  if (value.is_integer) return PyLong_FromLongLong(value.integer);
  ErlNifEnv* env = t_scratch.get();
  PyObject* obj = to_python(st, env, decode_state(env, value));
  t_scratch.clear();
  return obj;
}

bool state_key(ErlNifEnv* env, ERL_NIF_TERM term, std::string* out) {
  ErlNifBinary bin;
  if (enif_inspect_binary(env, term, &bin)) {
    if (!valid_utf8(bin.data, bin.size)) return false;
    out->assign(reinterpret_cast<const char*>(bin.data), bin.size);
    return true;
  }
  return enif_is_atom(env, term) && atom_to_utf8(env, term, out);
}

bool state_key(PyObject* obj, std::string* out) {
  if (!PyUnicode_Check(obj)) {
    PyErr_Format(PyExc_TypeError, "state keys are str, not %.100s", Py_TYPE(obj)->tp_name);
    return false;
  }
  Py_ssize_t size;
  const char* utf8 = PyUnicode_AsUTF8AndSize(obj, &size);
  if (!utf8) return false;
  out->assign(utf8, std::size_t(size));
  return true;
}

}  // namespace epy::nif
