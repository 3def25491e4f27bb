#include "nif/bridge/atoms.hpp"

namespace epy::nif {

Atoms atoms;

void make_atoms(ErlNifEnv* env) {
  auto a = [env](const char* name) { return enif_make_atom(env, name); };
  atoms.ok = a("ok");
  atoms.error = a("error");
  atoms.true_ = a("true");
  atoms.false_ = a("false");
  atoms.none = a("none");
  atoms.nil = a("nil");
  atoms.undefined = a("undefined");
  atoms.nan = a("nan");
  atoms.infinity = a("infinity");
  atoms.neg_infinity = a("neg_infinity");
  atoms.bytes = a("bytes");
  atoms.py_result = a("py_result");
  atoms.async_result = a("async_result");
  atoms.py_channel_ready = a("py_channel_ready");
  atoms.py_channel_room = a("py_channel_room");
  atoms.busy = a("busy");
  atoms.empty = a("empty");
  atoms.closed = a("closed");
  atoms.waiting = a("waiting");
  atoms.py_context_ready = a("py_context_ready");
  atoms.py_context_stopped = a("py_context_stopped");
  atoms.badarg = a("badarg");
  atoms.overloaded = a("overloaded");
  atoms.shutting_down = a("shutting_down");
  atoms.context_died = a("context_died");
  atoms.no_context = a("no_context");
  atoms.interrupted = a("interrupted");
  atoms.cancelled = a("cancelled");
  atoms.not_pending = a("not_pending");
  atoms.all = a("all");
  atoms.subinterp = a("subinterp");
  atoms.multi_executor = a("multi_executor");
  atoms.free_threaded = a("free_threaded");
  atoms.normal = a("normal");
  atoms.shutdown = a("shutdown");
  atoms.killed = a("killed");
  atoms.unknown = a("unknown");
  atoms.args = a("args");
  atoms.kwargs = a("kwargs");
  atoms.module = a("module");
  atoms.function = a("function");
  atoms.code = a("code");
  atoms.locals = a("locals");
  atoms.context = a("context");
  atoms.options = a("options");
}

}  // namespace epy::nif
