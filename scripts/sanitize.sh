#!/usr/bin/env bash
# Builds with AddressSanitizer and UndefinedBehaviorSanitizer (gcc) into build/sanitize
# and runs the GoogleTest suites (with leak detection) and the Common Test suites under
# them. The VM itself is not instrumented: the sanitizer runtimes are preloaded into it.
#   scripts/sanitize.sh [Suite ...]     (default: every suite)
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
prefix=$(scripts/pythons.sh | awk 'NR == 1')  # (head would cut the pipe: SIGPIPE)
dir=build/sanitize
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPython_ROOT_DIR="$prefix" \
      -DSANITIZE=address,undefined
cmake --build "$dir" -j "$(nproc)"

export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# CPython and CAF keep some memory for the life of the process on purpose.
supp=$(mktemp)
printf 'leak:libpython\nleak:libcaf\n' > "$supp"
ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS="suppressions=$supp" "$dir/tests/channel_tests"
ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS="suppressions=$supp" "$dir/tests/engine_tests"
rm -f "$supp"

# In the VM: leaks of the BEAM's and CPython's own are noise; a test asks for a huge
# allocation on purpose (MemoryError must come back, not an abort).
export ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1:verify_asan_link_order=0
export EPY_SOAK_CALLS=${EPY_SOAK_CALLS:-100000}  # the soak, sanitized, at a tenth of its size
LD_PRELOAD="$(g++ -print-file-name=libasan.so):$(g++ -print-file-name=libubsan.so)" \
  escript tests/erlang/run_suites.escript "$dir/lib" "$dir/ct_logs" "$@"
echo "sanitized build: GoogleTest and Common Test suites passed"
