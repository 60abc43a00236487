#!/usr/bin/env bash
# What `make demo` needs, and nothing else: .build/demo-venv with ansible-core alone (the version the tests pin,
# with its pinned dependencies), and git. No test tooling, no system packages but git. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/../.."

tooling=tests/tooling
reqs=tests/requirements
venv=.build/demo-venv
# shellcheck source=tests/tooling/find_python.sh
source "$tooling/find_python.sh"

command -v git >/dev/null || { echo "error: the demo needs git (apt-get install git)" >&2; exit 1; }
core=$(grep -o '^ansible-core==[^ ]*' "$reqs/tooling.txt")
if [[ $(cat "$venv/.installed" 2>/dev/null) != "$core" ]]; then
    python=$(find_python "${VENV_PYTHON_VERSION:-3.11}") || { echo "error: python${VENV_PYTHON_VERSION:-3.11} not found" >&2; exit 1; }
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --disable-pip-version-check --quiet "$core" -c "$reqs/tooling-constraints.txt" 2>&1 |
        { grep -v 'is ignored: it is neither a file nor a directory' || true; }
    echo "$core" > "$venv/.installed"
fi
echo "Demo ready: $("$venv/bin/ansible" --version | head -n 1)"
