// The virtual environment setting, from Erlang (py_venv checks paths and versions; this
// only stores what it decided, see bridge/venv_setting.hpp).
#include "nif/beam/venv_nifs.hpp"

#include <string>
#include <vector>

#include "nif/beam/arguments.hpp"
#include "nif/bridge/atoms.hpp"
#include "nif/bridge/convert.hpp"
#include "nif/bridge/venv_setting.hpp"

namespace epy::nif {

// set_venv(Path :: binary() | undefined, SiteDirs :: [binary()]) -> ok
ERL_NIF_TERM nif_set_venv(ErlNifEnv* env, int, const ERL_NIF_TERM argv[]) {
  std::string path;
  std::vector<std::string> dirs;
  if (argv[0] != atoms.undefined && !get_path(env, argv[0], &path)) return badarg(env, "path");
  ERL_NIF_TERM head, tail = argv[1];
  while (enif_get_list_cell(env, tail, &head, &tail)) {
    std::string dir;
    if (!get_path(env, head, &dir)) return badarg(env, "site_dirs");
    dirs.push_back(std::move(dir));
  }
  if (!enif_is_empty_list(env, tail) || (path.empty() && !dirs.empty()))
    return badarg(env, "site_dirs");
  set_venv(std::move(path), std::move(dirs));
  return atoms.ok;
}

// venv() -> undefined | {Path, SiteDirs}
ERL_NIF_TERM nif_venv(ErlNifEnv* env, int, const ERL_NIF_TERM[]) {
  const VenvSetting venv = venv_setting();
  if (venv.path.empty()) return atoms.undefined;
  ERL_NIF_TERM dirs = enif_make_list(env, 0);
  for (auto it = venv.site_dirs.rbegin(); it != venv.site_dirs.rend(); ++it)
    dirs = enif_make_list_cell(env, make_binary(env, *it), dirs);
  return enif_make_tuple2(env, make_binary(env, venv.path), dirs);
}

}  // namespace epy::nif
