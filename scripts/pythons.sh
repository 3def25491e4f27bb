#!/usr/bin/env bash
# Prints the CPython builds to build and test against, one prefix per line, newest first:
# the newest 3.13, 3.12 and 3.11 with a shared libpython under `pyenv root`, then Debian's
# python3 (/usr) for any of those minors pyenv does not have.
set -euo pipefail

root=""
if command -v pyenv >/dev/null 2>&1; then root=$(pyenv root 2>/dev/null || true); fi
[ -z "$root" ] && [ -d "$HOME/.pyenv/versions" ] && root="$HOME/.pyenv"

for minor in 13 12 11; do
  found=""
  if [ -n "$root" ] && [ -d "$root/versions" ]; then
    found=$(ls -d "$root"/versions/3."$minor".* 2>/dev/null |
              grep -E "/3\.$minor\.[0-9]+$" | sort -V |
              while read -r d; do [ -e "$d/lib/libpython3.$minor.so" ] && echo "$d"; done |
              tail -n 1)
  fi
  if [ -z "$found" ] && [ -e "/usr/lib/$(uname -m)-linux-gnu/libpython3.$minor.so" ]; then
    found=/usr
  fi
  [ -n "$found" ] && echo "$found"
done
