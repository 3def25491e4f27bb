#!/usr/bin/env bash
# Runs every test layer (GoogleTest for the engine and channels, Common Test for the
# Erlang API, unittest inside the VM for the Python package) against every CPython build
# found (scripts/pythons.sh): subinterp mode on 3.12+, multi_executor on 3.11. Then the
# lint (scripts/lint.sh: layers, format, clang-tidy) and a bounded run of the conversion
# fuzzer (scripts/fuzz.sh, FUZZ_SECONDS, default 60).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh

mapfile -t prefixes < <(scripts/pythons.sh)
[ ${#prefixes[@]} -gt 0 ] || { echo "no Python found"; exit 1; }

status=0
summary=()
for prefix in "${prefixes[@]}"; do
  version=$("$prefix/bin/python3" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  dir="build/py$version"
  echo "==> Python $version ($prefix): $dir"
  if cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPython_ROOT_DIR="$prefix" &&
     cmake --build "$dir" -j "$(nproc)" &&
     ctest --test-dir "$dir" --output-on-failure; then
    summary+=("Python $version: passed")
  else
    summary+=("Python $version: FAILED")
    status=1
  fi
done

newest="build/py$("${prefixes[0]}/bin/python3" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
if scripts/lint.sh "$newest"; then
  summary+=("lint: passed")
else
  summary+=("lint: FAILED")
  status=1
fi

if scripts/fuzz.sh "${FUZZ_SECONDS:-60}"; then
  summary+=("fuzzer (${FUZZ_SECONDS:-60} s): passed")
else
  summary+=("fuzzer: FAILED (the input is in build/fuzz)")
  status=1
fi

printf '%s\n' "${summary[@]}"
exit $status
