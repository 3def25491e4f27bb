#!/usr/bin/env bash
# rebar3 pre-compile hook: builds the NIF and the Python package into ./priv (rebar3 then
# installs priv/ with the application). The Erlang modules are rebar3's job.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B _build/cmake -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DEPY_BUILD_ERLANG=OFF -DEPY_BUILD_TESTS=OFF -DEPY_PRIV_DIR="$PWD/priv"
cmake --build _build/cmake -j "$(nproc 2>/dev/null || echo 2)"
