#include "nif/bridge/convert.hpp"

#include <atomic>
#include <cmath>
#include <cstring>
#include <vector>

#include "engine/python/python.hpp"
#include "nif/bridge/atoms.hpp"
#include "nif/bridge/channel_object.hpp"
#include "nif/bridge/channel_resource.hpp"
#include "nif/bridge/term_types.hpp"

namespace epy::nif {

namespace {

std::atomic<long> g_atom_budget{10000};

// External term format tags.
constexpr unsigned char kEtfVersion = 131;
constexpr unsigned char kSmallBigExt = 110;
constexpr unsigned char kLargeBigExt = 111;
constexpr unsigned char kAtomUtf8Ext = 118;
constexpr unsigned char kSmallAtomUtf8Ext = 119;

bool take_atom_budget() {
  long left = g_atom_budget.load();
  while (left > 0)
    if (g_atom_budget.compare_exchange_weak(left, left - 1)) return true;
  return false;
}

// A small array on the stack for the common short list/tuple, on the heap beyond.
template <class T, std::size_t N = 16>
class SmallVec {
 public:
  explicit SmallVec(std::size_t n) : n_(n) {
    if (n > N) heap_.resize(n);
  }
  T* data() { return n_ > N ? heap_.data() : local_; }
  T& operator[](std::size_t i) { return data()[i]; }

 private:
  std::size_t n_;
  T local_[N];
  std::vector<T> heap_;
};

// Builds the external format of an atom from UTF-8 (at most 255 characters).
std::vector<unsigned char> atom_etf(const char* utf8, std::size_t len) {
  std::vector<unsigned char> etf;
  etf.reserve(len + 4);
  etf.push_back(kEtfVersion);
  etf.push_back(kAtomUtf8Ext);
  etf.push_back((unsigned char)(len >> 8));
  etf.push_back((unsigned char)(len & 0xff));
  etf.insert(etf.end(), utf8, utf8 + len);
  return etf;
}

bool is_ascii(const char* s, std::size_t len) {
  for (std::size_t i = 0; i < len; ++i)
    if ((unsigned char)s[i] >= 0x80) return false;
  return true;
}

// The atom named `utf8`, if it exists already.
bool existing_atom(ErlNifEnv* env, const char* utf8, std::size_t len, ERL_NIF_TERM* out) {
  if (is_ascii(utf8, len)) return enif_make_existing_atom_len(env, utf8, len, out, ERL_NIF_LATIN1);
  auto etf = atom_etf(utf8, len);
  return enif_binary_to_term(env, etf.data(), etf.size(), out, ERL_NIF_BIN2TERM_SAFE) != 0;
}

// The atom named `utf8`, created if needed (callers check the budget first).
bool new_atom(ErlNifEnv* env, const char* utf8, std::size_t len, ERL_NIF_TERM* out) {
  if (is_ascii(utf8, len)) {
    *out = enif_make_atom_len(env, utf8, len);
    return true;
  }
  auto etf = atom_etf(utf8, len);
  return enif_binary_to_term(env, etf.data(), etf.size(), out, 0) != 0;
}

// The atom's name as a str.
PyObject* atom_name(ErlNifEnv* env, ERL_NIF_TERM atom) {
  std::string utf8;
  if (!atom_to_utf8(env, atom, &utf8)) {
    PyErr_SetString(PyExc_ValueError, "unreadable atom");
    return nullptr;
  }
  return PyUnicode_DecodeUTF8(utf8.data(), Py_ssize_t(utf8.size()), "strict");
}

PyObject* atom_value(ModuleState* st, ErlNifEnv* env, ERL_NIF_TERM atom) {
  if (atom == atoms.true_) Py_RETURN_TRUE;
  if (atom == atoms.false_) Py_RETURN_FALSE;
  if (atom == atoms.none || atom == atoms.nil || atom == atoms.undefined) Py_RETURN_NONE;
  auto& cache = st->atoms->values;
  auto it = cache.find(atom);
  if (it != cache.end()) return Py_NewRef(it->second);
  py::Ref name(atom_name(env, atom));
  if (!name) return nullptr;
  PyObject* obj = PyObject_CallOneArg(reinterpret_cast<PyObject*>(st->atom_type), name.get());
  if (!obj) return nullptr;
  reinterpret_cast<AtomObject*>(obj)->term = atom;
  if (cache.size() < AtomCache::kLimit) cache.emplace(atom, Py_NewRef(obj));
  return obj;
}

PyObject* atom_plain_name(ModuleState* st, ErlNifEnv* env, ERL_NIF_TERM atom) {
  auto& cache = st->atoms->names;
  auto it = cache.find(atom);
  if (it != cache.end()) return Py_NewRef(it->second);
  PyObject* name = atom_name(env, atom);
  if (!name) return nullptr;
  PyUnicode_InternInPlace(&name);
  if (cache.size() < AtomCache::kLimit) cache.emplace(atom, Py_NewRef(name));
  return name;
}

PyObject* binary_to_python(ErlNifEnv* env, ERL_NIF_TERM term) {
  ErlNifBinary bin;
  if (!enif_inspect_binary(env, term, &bin)) {
    PyErr_SetString(PyExc_TypeError,
                    "cannot convert an Erlang bitstring (not a whole number of bytes)");
    return nullptr;
  }
  const char* data = reinterpret_cast<const char*>(bin.data);
  PyObject* text = PyUnicode_DecodeUTF8(data, Py_ssize_t(bin.size), "strict");
  if (text) return text;
  if (!PyErr_ExceptionMatches(PyExc_UnicodeDecodeError)) return nullptr;
  PyErr_Clear();
  return PyBytes_FromStringAndSize(data, Py_ssize_t(bin.size));
}

// Integers beyond 64 bits, through their external format (sign byte + little-endian digits).
PyObject* bignum_to_python(ErlNifEnv* env, ERL_NIF_TERM term) {
  ErlNifBinary bin;
  if (!enif_term_to_binary(env, term, &bin)) return PyErr_NoMemory();
  const unsigned char* p = bin.data;
  std::size_t n = 0;
  int negative = 0;
  const unsigned char* digits = nullptr;
  if (bin.size >= 4 && p[1] == kSmallBigExt) {
    n = p[2];
    negative = p[3];
    digits = p + 4;
  } else if (bin.size >= 7 && p[1] == kLargeBigExt) {
    n = (std::size_t(p[2]) << 24) | (std::size_t(p[3]) << 16) | (std::size_t(p[4]) << 8) | p[5];
    negative = p[6];
    digits = p + 7;
  }
  PyObject* value = nullptr;
  if (digits) {
    py::Ref magnitude(_PyLong_FromByteArray(digits, n, 1, 0));
    if (magnitude) value = negative ? PyNumber_Negative(magnitude.get()) : magnitude.release();
  } else {
    PyErr_SetString(PyExc_SystemError, "unexpected integer encoding");
  }
  enif_release_binary(&bin);
  return value;
}

PyObject* integer_to_python(ErlNifEnv* env, ERL_NIF_TERM term) {
  ErlNifSInt64 i;
  if (enif_get_int64(env, term, &i)) return PyLong_FromLongLong(i);
  ErlNifUInt64 u;
  if (enif_get_uint64(env, term, &u)) return PyLong_FromUnsignedLongLong(u);
  return bignum_to_python(env, term);
}

PyObject* convert(ModuleState* st, ErlNifEnv* env, ERL_NIF_TERM term, int depth);

PyObject* list_to_python(ModuleState* st, ErlNifEnv* env, ERL_NIF_TERM list, int depth) {
  unsigned len;
  if (!enif_get_list_length(env, list, &len)) {
    PyErr_SetString(PyExc_TypeError, "cannot convert an improper Erlang list");
    return nullptr;
  }
  py::Ref out(PyList_New(Py_ssize_t(len)));
  if (!out) return nullptr;
  ERL_NIF_TERM head, tail = list;
  for (unsigned i = 0; i < len; ++i) {
    enif_get_list_cell(env, tail, &head, &tail);
    PyObject* item = convert(st, env, head, depth + 1);
    if (!item) return nullptr;
    PyList_SET_ITEM(out.get(), Py_ssize_t(i), item);
  }
  return out.release();
}

PyObject* tuple_to_python(ModuleState* st, ErlNifEnv* env, ERL_NIF_TERM tuple, int depth) {
  int arity;
  const ERL_NIF_TERM* elems;
  enif_get_tuple(env, tuple, &arity, &elems);
  if (arity == 2 && elems[0] == atoms.bytes && enif_is_binary(env, elems[1])) {
    ErlNifBinary bin;
    enif_inspect_binary(env, elems[1], &bin);
    return PyBytes_FromStringAndSize(reinterpret_cast<const char*>(bin.data), Py_ssize_t(bin.size));
  }
  py::Ref out(PyTuple_New(arity));
  if (!out) return nullptr;
  for (int i = 0; i < arity; ++i) {
    PyObject* item = convert(st, env, elems[i], depth + 1);
    if (!item) return nullptr;
    PyTuple_SET_ITEM(out.get(), i, item);
  }
  return out.release();
}

PyObject* map_to_python(ModuleState* st, ErlNifEnv* env, ERL_NIF_TERM map, int depth) {
  py::Ref out(PyDict_New());
  if (!out) return nullptr;
  ErlNifMapIterator it;
  if (!enif_map_iterator_create(env, map, &it, ERL_NIF_MAP_ITERATOR_FIRST)) return PyErr_NoMemory();
  ERL_NIF_TERM k, v;
  bool ok = true;
  while (ok && enif_map_iterator_get_pair(env, &it, &k, &v)) {
    py::Ref key(convert(st, env, k, depth + 1));
    py::Ref value(key ? convert(st, env, v, depth + 1) : nullptr);
    ok = value && PyDict_SetItem(out.get(), key.get(), value.get()) == 0;
    enif_map_iterator_next(env, &it);
  }
  enif_map_iterator_destroy(env, &it);
  return ok ? out.release() : nullptr;
}

PyObject* convert(ModuleState* st, ErlNifEnv* env, ERL_NIF_TERM term, int depth) {
  if (depth > kMaxDepth) {
    PyErr_Format(PyExc_ValueError, "term nested deeper than %d levels", kMaxDepth);
    return nullptr;
  }
  switch (enif_term_type(env, term)) {
    case ERL_NIF_TERM_TYPE_ATOM:
      return atom_value(st, env, term);
    case ERL_NIF_TERM_TYPE_BITSTRING:
      return binary_to_python(env, term);
    case ERL_NIF_TERM_TYPE_FLOAT: {
      double d;
      enif_get_double(env, term, &d);
      return PyFloat_FromDouble(d);
    }
    case ERL_NIF_TERM_TYPE_INTEGER:
      return integer_to_python(env, term);
    case ERL_NIF_TERM_TYPE_LIST:
      return list_to_python(st, env, term, depth);
    case ERL_NIF_TERM_TYPE_TUPLE:
      return tuple_to_python(st, env, term, depth);
    case ERL_NIF_TERM_TYPE_MAP:
      return map_to_python(st, env, term, depth);
    case ERL_NIF_TERM_TYPE_PID:
      return make_pid(st, env, term);
    case ERL_NIF_TERM_TYPE_REFERENCE: {
      ChannelResource* channel;
      if (get_channel(env, term, &channel)) return make_channel_object(st, channel);
      return make_ref(st, env, term);
    }
    case ERL_NIF_TERM_TYPE_FUN:
      PyErr_SetString(PyExc_TypeError, "cannot convert an Erlang fun to Python");
      return nullptr;
    case ERL_NIF_TERM_TYPE_PORT:
      PyErr_SetString(PyExc_TypeError, "cannot convert an Erlang port to Python");
      return nullptr;
    default:
      PyErr_SetString(PyExc_TypeError, "cannot convert this Erlang term to Python");
      return nullptr;
  }
}

// ---- Python -> Erlang --------------------------------------------------------------

// "int", "decimal.Decimal", "mymodule.Thing": the same for C and Python classes.
py::Ref qualified_type_name(PyTypeObject* type) {
  py::Ref qualname(PyType_GetQualName(type));
  py::Ref module(PyObject_GetAttrString(reinterpret_cast<PyObject*>(type), "__module__"));
  if (!qualname || !module || !PyUnicode_Check(module.get())) {
    PyErr_Clear();
    return py::Ref(PyUnicode_FromString(type->tp_name));
  }
  if (PyUnicode_CompareWithASCIIString(module.get(), "builtins") == 0) return qualname;
  return py::Ref(PyUnicode_FromFormat("%U.%U", module.get(), qualname.get()));
}

bool fail_type(PyObject* obj) {
  py::Ref name = qualified_type_name(Py_TYPE(obj));
  if (name) PyErr_Format(PyExc_TypeError, "cannot convert %U to an Erlang term", name.get());
  return false;
}

bool bignum_to_term(ErlNifEnv* env, PyObject* value, ERL_NIF_TERM* out) {
  const int negative = _PyLong_Sign(value) < 0;
  py::Ref magnitude(negative ? PyNumber_Absolute(value) : Py_NewRef(value));
  if (!magnitude) return false;
  const std::size_t bits = _PyLong_NumBits(magnitude.get());
  if (bits == std::size_t(-1) && PyErr_Occurred()) return false;
  const std::size_t n = (bits + 7) / 8;
  const bool small = n <= 255;
  const std::size_t header = small ? 4 : 7;
  std::vector<unsigned char> etf(header + n);
  etf[0] = kEtfVersion;
  if (small) {
    etf[1] = kSmallBigExt;
    etf[2] = (unsigned char)n;
    etf[3] = (unsigned char)negative;
  } else {
    etf[1] = kLargeBigExt;
    etf[2] = (unsigned char)(n >> 24);
    etf[3] = (unsigned char)(n >> 16);
    etf[4] = (unsigned char)(n >> 8);
    etf[5] = (unsigned char)n;
    etf[6] = (unsigned char)negative;
  }
  auto* digits = reinterpret_cast<PyLongObject*>(magnitude.get());
#if PY_VERSION_HEX >= 0x030D0000
  if (_PyLong_AsByteArray(digits, etf.data() + header, n, 1, 0, 1) < 0) return false;
#else
  if (_PyLong_AsByteArray(digits, etf.data() + header, n, 1, 0) < 0) return false;
#endif
  if (!enif_binary_to_term(env, etf.data(), etf.size(), out, 0)) {
    PyErr_SetString(PyExc_OverflowError, "integer too large for Erlang");
    return false;
  }
  return true;
}

bool long_to_term(ErlNifEnv* env, PyObject* obj, ERL_NIF_TERM* out) {
  int overflow = 0;
  long long v = PyLong_AsLongLongAndOverflow(obj, &overflow);
  if (overflow == 0) {
    if (v == -1 && PyErr_Occurred()) return false;
    *out = enif_make_int64(env, v);
    return true;
  }
  return bignum_to_term(env, obj, out);
}

bool float_to_term(ErlNifEnv* env, double d, ERL_NIF_TERM* out) {
  if (std::isnan(d))
    *out = atoms.nan;
  else if (std::isinf(d))
    *out = d > 0 ? atoms.infinity : atoms.neg_infinity;
  else
    *out = enif_make_double(env, d);
  return true;
}

bool bytes_to_term(ErlNifEnv* env, const char* data, std::size_t size, ERL_NIF_TERM* out) {
  unsigned char* dst = enif_make_new_binary(env, size, out);
  if (!dst) {
    PyErr_NoMemory();
    return false;
  }
  if (size) std::memcpy(dst, data, size);
  return true;
}

bool str_to_term(ErlNifEnv* env, PyObject* obj, ERL_NIF_TERM* out) {
  Py_ssize_t size;
  const char* utf8 = PyUnicode_AsUTF8AndSize(obj, &size);
  return utf8 && bytes_to_term(env, utf8, std::size_t(size), out);
}

bool atom_to_term(ErlNifEnv* env, PyObject* obj, ERL_NIF_TERM* out) {
  auto* atom = reinterpret_cast<AtomObject*>(obj);
  if (atom->term) {
    *out = atom->term;
    return true;
  }
  Py_ssize_t size;
  const char* utf8 = PyUnicode_AsUTF8AndSize(obj, &size);
  if (!utf8) return false;
  if (PyUnicode_GET_LENGTH(obj) > 255) {
    PyErr_SetString(PyExc_ValueError, "atom names are at most 255 characters");
    return false;
  }
  if (!existing_atom(env, utf8, std::size_t(size), out)) {
    if (!take_atom_budget()) {
      PyErr_Format(PyExc_ValueError, "atom %R does not exist and Python may not create more atoms",
                   obj);
      return false;
    }
    if (!new_atom(env, utf8, std::size_t(size), out)) {
      PyErr_SetString(PyExc_ValueError, "invalid atom name");
      return false;
    }
  }
  atom->term = *out;  // atoms are immortal: remember it
  return true;
}

bool pid_to_term(ErlNifEnv* env, PyObject* obj, ERL_NIF_TERM* out) {
  auto* pid = reinterpret_cast<PidObject*>(obj);
  if (pid->local) {
    *out = pid->pid.pid;  // a local pid is an immediate term, valid in any env
    return true;
  }
  return enif_binary_to_term(env,
                             reinterpret_cast<const unsigned char*>(PyBytes_AS_STRING(pid->etf)),
                             size_t(PyBytes_GET_SIZE(pid->etf)), out, 0) != 0 ||
         (PyErr_SetString(PyExc_ValueError, "corrupt erlang.Pid"), false);
}

bool ref_to_term(ErlNifEnv* env, PyObject* obj, ERL_NIF_TERM* out) {
  PyObject* etf = reinterpret_cast<RefObject*>(obj)->etf;
  return enif_binary_to_term(env, reinterpret_cast<const unsigned char*>(PyBytes_AS_STRING(etf)),
                             size_t(PyBytes_GET_SIZE(etf)), out, 0) != 0 ||
         (PyErr_SetString(PyExc_ValueError, "corrupt erlang.Ref"), false);
}

bool to_term_at(ModuleState* st, ErlNifEnv* env, PyObject* obj, ERL_NIF_TERM* out, int depth);

PyObject* const* list_items(PyObject* list) {
  return reinterpret_cast<PyListObject*>(list)->ob_item;
}
PyObject* const* tuple_items(PyObject* tuple) {
  return reinterpret_cast<PyTupleObject*>(tuple)->ob_item;
}

bool items_to_list(ModuleState* st, ErlNifEnv* env, PyObject* const* items, Py_ssize_t n,
                   ERL_NIF_TERM* out, int depth) {
  SmallVec<ERL_NIF_TERM> terms{static_cast<std::size_t>(n)};
  for (Py_ssize_t i = 0; i < n; ++i)
    if (!to_term_at(st, env, items[i], &terms[std::size_t(i)], depth + 1)) return false;
  *out = enif_make_list_from_array(env, terms.data(), unsigned(n));
  return true;
}

bool items_to_tuple(ModuleState* st, ErlNifEnv* env, PyObject* const* items, Py_ssize_t n,
                    ERL_NIF_TERM* out, int depth) {
  SmallVec<ERL_NIF_TERM> terms{static_cast<std::size_t>(n)};
  for (Py_ssize_t i = 0; i < n; ++i)
    if (!to_term_at(st, env, items[i], &terms[std::size_t(i)], depth + 1)) return false;
  *out = enif_make_tuple_from_array(env, terms.data(), unsigned(n));
  return true;
}

// Maps of up to this many keys are flat (sorted arrays); beyond, hash array mapped tries.
constexpr std::size_t kFlatMapLimit = 32;

bool colliding_keys() {
  PyErr_SetString(PyExc_ValueError,
                  "two keys of this dict convert to the same Erlang term (e.g. 'a' and b'a')");
  return false;
}

bool dict_to_term(ModuleState* st, ErlNifEnv* env, PyObject* dict, ERL_NIF_TERM* out, int depth) {
  const Py_ssize_t n = PyDict_Size(dict);
  SmallVec<ERL_NIF_TERM> keys{static_cast<std::size_t>(n)}, values{static_cast<std::size_t>(n)};
  Py_ssize_t pos = 0, i = 0;
  PyObject *k, *v;
  while (PyDict_Next(dict, &pos, &k, &v)) {
    if (i == n) {
      PyErr_SetString(PyExc_RuntimeError, "dict changed size during conversion");
      return false;
    }
    if (!to_term_at(st, env, k, &keys[std::size_t(i)], depth + 1) ||
        !to_term_at(st, env, v, &values[std::size_t(i)], depth + 1))
      return false;
    ++i;
  }
  if (std::size_t(i) <= kFlatMapLimit)
    return enif_make_map_from_arrays(env, keys.data(), values.data(), std::size_t(i), out) ||
           colliding_keys();
  // Bigger maps one key at a time: OTP 25's bulk constructor for hash maps crashes when
  // called off a scheduler thread (in erts_qsort) once maps reach about a thousand keys.
  ERL_NIF_TERM map = enif_make_new_map(env);
  for (Py_ssize_t k = 0; k < i; ++k) {
    ERL_NIF_TERM existing;
    if (enif_get_map_value(env, map, keys[std::size_t(k)], &existing)) return colliding_keys();
    enif_make_map_put(env, map, keys[std::size_t(k)], values[std::size_t(k)], &map);
  }
  *out = map;
  return true;
}

bool iterable_to_list(ModuleState* st, ErlNifEnv* env, PyObject* iterable, ERL_NIF_TERM* out,
                      int depth) {
  py::Ref seq(PySequence_Fast(iterable, "expected an iterable"));
  if (!seq) return false;
  return items_to_list(st, env, PySequence_Fast_ITEMS(seq.get()),
                       PySequence_Fast_GET_SIZE(seq.get()), out, depth);
}

bool to_term_at(ModuleState* st, ErlNifEnv* env, PyObject* obj, ERL_NIF_TERM* out, int depth) {
  if (depth > kMaxDepth) {
    PyErr_Format(PyExc_ValueError, "object nested deeper than %d levels", kMaxDepth);
    return false;
  }
  PyTypeObject* type = Py_TYPE(obj);
  // Exact types first, most common first.
  if (obj == Py_None) return (*out = atoms.none), true;
  if (obj == Py_True) return (*out = atoms.true_), true;
  if (obj == Py_False) return (*out = atoms.false_), true;
  if (type == &PyLong_Type) return long_to_term(env, obj, out);
  if (type == &PyUnicode_Type) return str_to_term(env, obj, out);
  if (type == &PyFloat_Type) return float_to_term(env, PyFloat_AS_DOUBLE(obj), out);
  if (type == st->atom_type) return atom_to_term(env, obj, out);
  if (type == &PyList_Type)
    return items_to_list(st, env, list_items(obj), PyList_GET_SIZE(obj), out, depth);
  if (type == &PyTuple_Type)
    return items_to_tuple(st, env, tuple_items(obj), PyTuple_GET_SIZE(obj), out, depth);
  if (type == &PyDict_Type) return dict_to_term(st, env, obj, out, depth);
  if (type == &PyBytes_Type)
    return bytes_to_term(env, PyBytes_AS_STRING(obj), std::size_t(PyBytes_GET_SIZE(obj)), out);
  if (type == st->pid_type) return pid_to_term(env, obj, out);
  if (type == st->ref_type) return ref_to_term(env, obj, out);
  if (ChannelResource* channel = channel_of(st, obj))
    return (*out = channel_term(env, channel)), true;
  // Subclasses (IntEnum, namedtuple, OrderedDict, ...) and the remaining types.
  if (PyLong_Check(obj)) return long_to_term(env, obj, out);
  if (PyFloat_Check(obj)) return float_to_term(env, PyFloat_AS_DOUBLE(obj), out);
  if (PyUnicode_Check(obj)) return str_to_term(env, obj, out);
  if (PyBytes_Check(obj))
    return bytes_to_term(env, PyBytes_AS_STRING(obj), std::size_t(PyBytes_GET_SIZE(obj)), out);
  if (PyByteArray_Check(obj))
    return bytes_to_term(env, PyByteArray_AS_STRING(obj), std::size_t(PyByteArray_GET_SIZE(obj)),
                         out);
  if (PyTuple_Check(obj))
    return items_to_tuple(st, env, tuple_items(obj), PyTuple_GET_SIZE(obj), out, depth);
  if (PyList_Check(obj))
    return items_to_list(st, env, list_items(obj), PyList_GET_SIZE(obj), out, depth);
  if (PyDict_Check(obj)) return dict_to_term(st, env, obj, out, depth);
  if (PyAnySet_Check(obj)) return iterable_to_list(st, env, obj, out, depth);
  return fail_type(obj);
}

}  // namespace

PyObject* to_python(ModuleState* st, ErlNifEnv* env, ERL_NIF_TERM term) {
  return convert(st, env, term, 0);
}

PyObject* to_python_name(ModuleState* st, ErlNifEnv* env, ERL_NIF_TERM term, const char* what) {
  if (enif_is_atom(env, term)) return atom_plain_name(st, env, term);
  ErlNifBinary bin;
  if (enif_inspect_binary(env, term, &bin))
    return PyUnicode_DecodeUTF8(reinterpret_cast<const char*>(bin.data), Py_ssize_t(bin.size),
                                "strict");
  PyErr_Format(PyExc_TypeError, "%s must be an atom or a binary", what);
  return nullptr;
}

PyObject* to_python_kwargs(ModuleState* st, ErlNifEnv* env, ERL_NIF_TERM map, const char* what) {
  py::Ref out(PyDict_New());
  if (!out) return nullptr;
  ErlNifMapIterator it;
  if (!enif_map_iterator_create(env, map, &it, ERL_NIF_MAP_ITERATOR_FIRST)) {
    PyErr_Format(PyExc_TypeError, "%s must be a map", what);
    return nullptr;
  }
  ERL_NIF_TERM k, v;
  bool ok = true;
  while (ok && enif_map_iterator_get_pair(env, &it, &k, &v)) {
    py::Ref key(to_python_name(st, env, k, what));
    py::Ref value(key ? convert(st, env, v, 1) : nullptr);
    ok = value && PyDict_SetItem(out.get(), key.get(), value.get()) == 0;
    enif_map_iterator_next(env, &it);
  }
  enif_map_iterator_destroy(env, &it);
  return ok ? out.release() : nullptr;
}

bool to_term(ModuleState* st, ErlNifEnv* env, PyObject* obj, ERL_NIF_TERM* out) {
  return to_term_at(st, env, obj, out, 0);
}

ERL_NIF_TERM exception_atom(ErlNifEnv* env, const PyErrorInfo& info) {
  ERL_NIF_TERM atom;
  const std::string& name = info.type_name;
  if (name.size() <= 255 && existing_atom(env, name.data(), name.size(), &atom)) return atom;
  const bool builtin = name == info.builtin_base;
  if (name.size() <= 255 && (builtin || take_atom_budget()) &&
      new_atom(env, name.data(), name.size(), &atom))
    return atom;
  return enif_make_atom(env, info.builtin_base.c_str());
}

bool atom_to_utf8(ErlNifEnv* env, ERL_NIF_TERM atom, std::string* out) {
  char buf[256];
  const int len = enif_get_atom(env, atom, buf, sizeof buf, ERL_NIF_LATIN1);
  if (len > 0) {
    out->clear();
    for (int i = 0; i < len - 1; ++i) {  // Latin-1 to UTF-8
      const unsigned char c = static_cast<unsigned char>(buf[i]);
      if (c < 0x80) {
        out->push_back(char(c));
      } else {
        out->push_back(char(0xc0 | (c >> 6)));
        out->push_back(char(0x80 | (c & 0x3f)));
      }
    }
    return true;
  }
  // Characters beyond Latin-1: only the external format (ATOM_UTF8_EXT) has them.
  ErlNifBinary bin;
  if (!enif_term_to_binary(env, atom, &bin)) return false;
  bool ok = true;
  if (bin.size >= 3 && bin.data[1] == kSmallAtomUtf8Ext)
    out->assign(reinterpret_cast<const char*>(bin.data + 3), bin.data[2]);
  else if (bin.size >= 4 && bin.data[1] == kAtomUtf8Ext)
    out->assign(reinterpret_cast<const char*>(bin.data + 4), (bin.data[2] << 8) | bin.data[3]);
  else
    ok = false;
  enif_release_binary(&bin);
  return ok;
}

ERL_NIF_TERM make_binary(ErlNifEnv* env, const std::string& text) {
  ERL_NIF_TERM term;
  unsigned char* dst = enif_make_new_binary(env, text.size(), &term);
  // A binary's bytes, no terminator. NOLINTNEXTLINE(bugprone-not-null-terminated-result)
  if (!text.empty()) std::memcpy(dst, text.data(), text.size());
  return term;
}

void set_atom_budget(long count) { g_atom_budget.store(count); }

long atom_budget() { return g_atom_budget.load(); }

}  // namespace epy::nif
