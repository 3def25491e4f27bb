#!/usr/bin/env bash
# Installs what building and testing erlang_python needs, from Debian 12 packages.
# Idempotent: does nothing when everything is there. Run as root (or with sudo).
set -euo pipefail

packages=(
  cmake g++ make pkg-config
  erlang-nox erlang-dev erlang-common-test erlang-eunit
  libcaf-dev libconcurrentqueue-dev
  googletest libgtest-dev
  python3-dev
  # py:ensure_venv/2 with Debian's Python (`python3 -m venv` needs ensurepip)
  python3-venv
  # CPython's own test_asyncio, run against ErlangEventLoop by the Python test layer
  # (pyenv builds ship it; Debian splits it out).
  libpython3.11-testsuite
  # the conversion fuzzer (scripts/fuzz.sh): clang with libFuzzer and its sanitizers
  clang libclang-rt-14-dev
  # the lint (scripts/lint.sh) and dialyzer
  clang-format clang-tidy erlang-dialyzer
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "==> installing: ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo_cmd apt-get update
  $sudo_cmd apt-get install -y --no-install-recommends "${missing[@]}"
fi
