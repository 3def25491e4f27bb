// Where Python's logging records go (py_logger sets it; see bridge/log_sink.hpp).
#include "nif/beam/logging_nifs.hpp"

#include "nif/beam/arguments.hpp"
#include "nif/bridge/atoms.hpp"
#include "nif/bridge/log_sink.hpp"

namespace epy::nif {

// set_log_sink(Pid | undefined, Level) -> ok: where Python's logging records go.
ERL_NIF_TERM nif_set_log_sink(ErlNifEnv* env, int, const ERL_NIF_TERM argv[]) {
  ErlNifPid pid;
  int level;
  if (!enif_get_int(env, argv[1], &level)) return badarg(env, "level");
  if (enif_get_local_pid(env, argv[0], &pid))
    set_log_sink(&pid, level);
  else if (argv[0] == atoms.undefined)
    set_log_sink(nullptr, level);
  else
    return badarg(env, "sink");
  return atoms.ok;
}

}  // namespace epy::nif
