#!/usr/bin/env bash
# The lint: layering (scripts/check_layers.sh), formatting (.clang-format) and
# clang-tidy (.clang-tidy) over engine/, channels/, nif/ and the tests' C++. Fails on any
# finding.
#   scripts/lint.sh [BUILD_DIR]   (a build configured with compile commands; default
#                                  build/lint, configured here if needed)
set -euo pipefail
cd "$(dirname "$0")/.."

dir=${1:-build/lint}
if [ ! -f "$dir/compile_commands.json" ]; then
  cmake -S . -B "$dir" -DCMAKE_EXPORT_COMPILE_COMMANDS=ON -DEPY_BUILD_ERLANG=OFF \
        -DEPY_BUILD_TESTS=ON > /dev/null
fi

status=0
scripts/check_layers.sh || status=1

mapfile -t sources < <(git ls-files --cached --others --exclude-standard 'engine/*.cpp' 'engine/*.hpp' 'channels/*.cpp' \
  'channels/*.hpp' 'nif/*.cpp' 'nif/*.hpp' 'tests/engine/*.cpp' 'tests/engine/*.hpp' \
  'tests/channels/*.cpp' 'tests/fuzz/*.cpp')
if ! clang-format --dry-run -Werror "${sources[@]}" 2> "$dir/format.log"; then
  echo "format: files differ from .clang-format (clang-format -i fixes them):"
  grep -o '^[^:]*\.[ch]pp' "$dir/format.log" | sort -u
  status=1
else
  echo "format: ok"
fi

# clang-tidy on every translation unit the build compiles (headers through them).
mapfile -t units < <(git ls-files --cached --others --exclude-standard 'engine/*.cpp' 'channels/*.cpp' 'nif/*.cpp')
if printf '%s\n' "${units[@]}" |
     xargs -P "$(nproc)" -n 4 clang-tidy -p "$dir" --quiet > "$dir/tidy.log" 2>/dev/null; then
  echo "clang-tidy: ok (${#units[@]} files)"
else
  echo "clang-tidy: findings:"
  grep -E "(warning|error):" "$dir/tidy.log" || cat "$dir/tidy.log"
  status=1
fi
exit $status
