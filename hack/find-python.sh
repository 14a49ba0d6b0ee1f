#!/usr/bin/env bash
# Print the path of a Python 3.12+ interpreter (ansible-core 2.21 needs one).
set -u
for candidate in python3.13 python3.12 "$HOME"/.pyenv/versions/3.13*/bin/python3.13 "$HOME"/.pyenv/versions/3.12*/bin/python3.12 python3; do
  path="$(command -v "$candidate" 2>/dev/null)" || continue
  if "$path" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
    echo "$path"; exit 0
  fi
done
echo "no Python 3.12 or newer found (install python3.13 or python3.12)" >&2
exit 1
