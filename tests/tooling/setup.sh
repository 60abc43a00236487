#!/usr/bin/env bash
# Set up everything the tests need; run by `make venv`. Idempotent, and quick when all is done.
#   1. Debian packages from tests/tooling/system-packages.txt (apt-get, when root)
#   2. .venv: Python 3.11 with tests/requirements/tooling.txt (+ tooling-constraints.txt)
#   3. the offline get-pip stand-in in ansible-test's cache, for each pip version ansible-test pins
#   4. .build/bin/pythonX.Y links to the interpreters ansible-test can test on (pyenv builds)
set -euo pipefail
cd "$(dirname "$0")/../.."

tooling=tests/tooling
reqs=tests/requirements
venv=.venv
bin=.build/bin
venv_python_version=${VENV_PYTHON_VERSION:-3.11}
get_pip_cache=$HOME/.ansible/test/cache

quiet_pip() {  # pip, without the warnings about the machine's file:// index entries lacking a package
    "$venv/bin/python" -m pip --disable-pip-version-check "$@" 2>&1 |
        { grep -v 'is ignored: it is neither a file nor a directory' || true; }
}

# shellcheck source=tests/tooling/find_python.sh
source "$tooling/find_python.sh"

# 1. Debian packages
missing=()
while read -r pkg _ || [[ -n ${pkg:-} ]]; do
    [[ -z $pkg || $pkg == '#'* ]] && continue
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' || missing+=("$pkg")
done < "$tooling/system-packages.txt"
if (( ${#missing[@]} )); then
    if (( EUID != 0 )); then
        echo "error: missing Debian packages: ${missing[*]} (run as root, or apt-get install them)" >&2
        exit 1
    fi
    echo "Installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}"
fi

# 2. the tooling venv, reinstalled only when the requirements (or its Python) change
want=$(cat "$reqs/tooling.txt" "$reqs/tooling-constraints.txt" | sha256sum | cut -d' ' -f1)
if ! "$venv/bin/python" -c '' 2>/dev/null; then
    python=$(find_python "$venv_python_version") || { echo "error: python$venv_python_version not found" >&2; exit 1; }
    echo "Creating $venv with $python"
    rm -rf "$venv"
    "$python" -m venv "$venv"
fi
want="$want $("$venv/bin/python" -V)"
if [[ $(cat "$venv/.tooling-installed" 2>/dev/null) != "$want" ]]; then
    echo "Installing $reqs/tooling.txt into $venv"
    quiet_pip install --quiet -r "$reqs/tooling.txt" -c "$reqs/tooling-constraints.txt"
    echo "$want" > "$venv/.tooling-installed"
fi

# 3. get-pip stand-in, under each name ansible-test may look for (get_pip_24_2.py for pip 24.2)
for pip_version in $("$venv/bin/python" "$tooling/ansible_test_facts.py" pips); do
    target=$get_pip_cache/get_pip_${pip_version//./_}.py
    if ! cmp -s "$tooling/get_pip_offline.py" "$target"; then
        install -D -m 0644 "$tooling/get_pip_offline.py" "$target"
        echo "Installed offline get-pip for pip $pip_version: $target"
    fi
done

# 4. pythonX.Y links for ansible-test (the Makefile puts .build/bin first on PATH)
mkdir -p "$bin"
found=() absent=()
for version in $("$venv/bin/python" "$tooling/ansible_test_facts.py" pythons); do
    if python=$(find_python "$version"); then
        [[ $(readlink "$bin/python$version" 2>/dev/null) == "$python" ]] || ln -sfn "$python" "$bin/python$version"
        found+=("$version")
    else
        rm -f "$bin/python$version"
        absent+=("$version")
    fi
done
echo "Tooling ready: ansible-core $("$venv/bin/python" -c 'import ansible.release as r; print(r.__version__)'); Pythons for ansible-test: ${found[*]}${absent:+ (absent: ${absent[*]})}"
