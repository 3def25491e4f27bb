#!/usr/bin/env bash
# Installs what is missing (Debian packages), builds everything into build/ (the OTP
# application lands in build/lib/erlang_python) and runs the demo.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j "$(nproc)"
ERL_LIBS=build/lib escript scripts/demo.escript
