#!/usr/bin/env bash
# Builds the NIF with libFuzzer, ASan and UBSan (clang) into build/fuzz and fuzzes the
# term <-> Python conversion inside the VM for a bounded time.
#   scripts/fuzz.sh [seconds]     (default 60; the corpus is kept in build/fuzz/corpus)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}

scripts/deps.sh
prefix=$(scripts/pythons.sh | awk 'NR == 1')  # (head would cut the pipe: SIGPIPE)
dir=build/fuzz
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPython_ROOT_DIR="$prefix" \
      -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DEPY_FUZZ=ON -DEPY_BUILD_TESTS=OFF
cmake --build "$dir" -j "$(nproc)"

asan=$(clang++ -print-file-name=libclang_rt.asan-x86_64.so)
export ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1:verify_asan_link_order=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
LD_PRELOAD="$asan" escript tests/fuzz/run_fuzz.escript "$dir/lib" "$seconds" "$dir/corpus"
