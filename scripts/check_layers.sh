#!/usr/bin/env bash
# Checks that each layer includes only what it may (see docs/architecture.md):
#   engine/, channels/  no BEAM (erl_nif.h, nif/); channels/ not even Python or engine/
#   nif/bridge/         neither nif/beam/ nor nif/pymod/ (it is the bottom of nif/)
#   nif/beam/           not nif/pymod/ (functions the BEAM calls)
#   nif/pymod/          not nif/beam/ (the _erlang module)
set -euo pipefail
cd "$(dirname "$0")/.."

status=0
forbid() {  # forbid DIR PATTERN WHY
  local hits
  hits=$(grep -rnE "^#include [<\"]($2)" "$1" --include='*.cpp' --include='*.hpp' || true)
  if [ -n "$hits" ]; then
    echo "layer violation: $1 must not include $2 ($3):"
    echo "$hits"
    status=1
  fi
}

forbid engine 'erl_nif\.h|nif/' "the engine knows no BEAM"
forbid channels 'erl_nif\.h|nif/|engine/|Python\.h' "the channel core knows no BEAM, no Python"
forbid nif/bridge 'nif/beam/|nif/pymod/' "bridge/ is what both sides share"
forbid nif/beam 'nif/pymod/' "beam/ runs on schedulers, pymod/ on context threads"
forbid nif/pymod 'nif/beam/' "pymod/ runs on context threads, beam/ on schedulers"

[ $status -eq 0 ] && echo "layers: ok"
exit $status
