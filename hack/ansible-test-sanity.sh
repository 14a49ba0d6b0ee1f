#!/usr/bin/env bash
# Run ansible-test sanity offline. ansible-test only runs from inside
# ansible_collections/<namespace>/<name> (a symlink is resolved and refused) and lists files
# through git, so copy the tracked tree into a temporary collection tree and git-init it.
# Its pip bootstrap downloads get-pip from the internet: put a stand-in in its cache that
# bootstraps pip with ensurepip and installs from the machine's configured index instead.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="${VENV:-$root/.cache/venv}"
python="${PYTHON_VERSION:-$("$venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')}"

pip_version="$("$venv/bin/python" - <<'PY'
import re, ansible_test, os
src = open(os.path.join(os.path.dirname(ansible_test.__file__), "_internal", "python_requirements.py")).read()
print(re.search(r"pip='([0-9.]+)'", src).group(1))
PY
)"
stand_in="$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
mkdir -p "$(dirname "$stand_in")"
cat >"$stand_in" <<'PY'
"""Offline stand-in for get-pip.py (written by aiplatform.obot's hack/ansible-test-sanity.sh)."""
import os
import subprocess
import sys

args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"])
env = dict(os.environ)
env.pop("PIP_CONFIG_FILE", None)  # ensurepip points it at /dev/null, hiding the machine's pip configuration
subprocess.check_call([sys.executable, "-m", "pip", "install"] + args, env=env)
PY

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
dest="$work/ansible_collections/aiplatform/obot"
mkdir -p "$dest"
(cd "$root" && git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$dest")
(cd "$dest" && git init -q && git add -A && git -c user.email=ci@localhost -c user.name=ci commit -qm sanity)
cd "$dest"
"$venv/bin/ansible-test" sanity --requirements --python "$python" --color no "$@"
