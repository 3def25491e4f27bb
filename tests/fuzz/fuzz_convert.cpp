// The conversion fuzzer (built only with -DEPY_FUZZ=ON, by clang): libFuzzer feeds
// random external term format through Erlang term -> Python -> Erlang term, inside the
// VM (the conversion needs the enif API). Properties checked on every input:
//   - a term that does not convert raises a Python exception (a clean error), never
//     crashes or returns nothing without one;
//   - whatever converted to Python converts back, and a second round trip changes
//     nothing more (the first one normalises: binaries that are UTF-8 become str, ...).
// fuzz_convert(Args) runs libFuzzer with Args (its flags and corpus directories) on the
// calling dirty scheduler thread; libFuzzer ends the process when it is done.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "engine/python/python.hpp"
#include "nif/bridge/convert.hpp"

extern "C" int LLVMFuzzerRunDriver(int* argc, char*** argv,
                                   int (*callback)(const std::uint8_t* data, std::size_t size));

namespace epy::nif {

namespace {

ModuleState* g_state = nullptr;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_convert: %s\n", what);
  PyErr_Print();
  std::abort();
}

// Python -> term, or nullptr-equivalent (false) with a Python exception set.
bool back_to_term(ErlNifEnv* env, PyObject* obj, ERL_NIF_TERM* out) {
  if (to_term(g_state, env, obj, out)) return true;
  if (!PyErr_Occurred()) fail("to_term failed without a Python exception");
  return false;
}

int one_input(const std::uint8_t* data, std::size_t size) {
  ErlNifEnv* env = enif_alloc_env();
  ERL_NIF_TERM term;
  // SAFE: the fuzzer must not fill the atom table (that is the VM's limit, not ours).
  if (enif_binary_to_term(env, data, size, &term, ERL_NIF_BIN2TERM_SAFE)) {
    PyGILState_STATE gil = PyGILState_Ensure();
    PyObject* first = to_python(g_state, env, term);
    if (!first) {
      if (!PyErr_Occurred()) fail("to_python failed without a Python exception");
      PyErr_Clear();
    } else {
      ERL_NIF_TERM back1, back2;
      if (!back_to_term(env, first, &back1))
        fail("a term Python made from a term does not convert back");
      PyObject* second = to_python(g_state, env, back1);
      if (!second) fail("a normalised term does not convert to Python");
      if (!back_to_term(env, second, &back2)) fail("a normalised term does not convert back");
      if (!enif_is_identical(back1, back2)) fail("a second round trip changed the term");
      Py_DECREF(second);
      Py_DECREF(first);
    }
    PyGILState_Release(gil);
  }
  enif_free_env(env);
  return 0;
}

}  // namespace

// fuzz_convert(Args :: [binary()]) -> does not return (libFuzzer exits the process).
ERL_NIF_TERM nif_fuzz_convert(ErlNifEnv* env, int, const ERL_NIF_TERM argv[]) {
  std::vector<std::string> args{"erlang_python_fuzz"};
  ERL_NIF_TERM head, tail = argv[0];
  while (enif_get_list_cell(env, tail, &head, &tail)) {
    ErlNifBinary bin;
    if (!enif_inspect_binary(env, head, &bin)) return enif_make_badarg(env);
    args.emplace_back(reinterpret_cast<const char*>(bin.data), bin.size);
  }
  PyGILState_STATE gil = PyGILState_Ensure();
  PyObject* module = PyImport_ImportModule("_erlang");  // kept for the life of the process
  if (!module) fail("cannot import _erlang");
  g_state = module_state_of(module);
  PyGILState_Release(gil);

  std::vector<char*> pointers;
  for (auto& a : args) pointers.push_back(a.data());
  pointers.push_back(nullptr);
  int argc = int(args.size());
  char** argvp = pointers.data();
  // On this dirty scheduler thread: enif_binary_to_term must run on a scheduler thread
  // (OTP 25 crashes decoding big maps elsewhere). run_fuzz.escript gives dirty schedulers
  // a stack as large as a context thread's, where conversion runs in production.
  return enif_make_int(env, LLVMFuzzerRunDriver(&argc, &argvp, one_input));
}

}  // namespace epy::nif
