#!/usr/bin/env bash
# The ansible-core matrix: for each line of tests/requirements/matrix.txt, a venv with that ansible-core on its
# controller Python, the built tarball installed by that ansible-core's own ansible-galaxy, and ansible-test units
# and integration run there (MATRIX_COMMANDS=units for one of them, MATRIX_FILE for another list, MATRIX_ONLY=2.20
# for the lines whose version starts so). Prints each line's wall time.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=tests/tooling/find_python.sh
source tests/tooling/find_python.sh

tarball=$PWD/$(ls .build/fleetops-gitops-*.tar.gz)
get_pip_cache=$HOME/.ansible/test/cache
summary=()
while read -r requirement python _; do
    [[ -z $requirement || $requirement == '#'* ]] && continue
    core=${requirement#ansible-core==}
    [[ $core == "${MATRIX_ONLY:-}"* ]] || continue
    started=$SECONDS
    root=$PWD/.build/matrix/$core
    venv=$root/venv
    if [[ $(cat "$venv/.installed" 2>/dev/null) != "$requirement $python" ]]; then
        interpreter=$(find_python "$python") || { echo "error: python$python not found" >&2; exit 1; }
        rm -rf "$venv"
        "$interpreter" -m venv "$venv"
        "$venv/bin/python" -m pip install --disable-pip-version-check --quiet "$requirement" 2>&1 |
            { grep -v 'is ignored: it is neither a file nor a directory' || true; }
        echo "$requirement $python" > "$venv/.installed"
    fi
    for pip_version in $("$venv/bin/python" tests/tooling/ansible_test_facts.py pips); do
        target=$get_pip_cache/get_pip_${pip_version//./_}.py
        cmp -s tests/tooling/get_pip_offline.py "$target" || install -D -m 0644 tests/tooling/get_pip_offline.py "$target"
    done
    installed=$root/collections/ansible_collections/fleetops/gitops
    keep=$root/ansible-test-venvs  # the venvs ansible-test made last time: rebuilding them is slow
    [[ -d $installed/tests/output/.tmp/delegation ]] && { rm -rf "$keep"; mv "$installed/tests/output/.tmp/delegation" "$keep"; }
    rm -rf "$root/collections"
    PATH=$venv/bin:$PATH ANSIBLE_COLLECTIONS_PATH=$root/collections \
        ansible-galaxy collection install "$tarball" -p "$root/collections" --force > /dev/null
    [[ -d $keep ]] && { mkdir -p "$installed/tests/output/.tmp"; mv "$keep" "$installed/tests/output/.tmp/delegation"; }
    for command in ${MATRIX_COMMANDS:-units integration}; do
        echo "== ansible-core $core, Python $python: ansible-test $command"
        (cd "$installed" && PATH=$venv/bin:$PATH ANSIBLE_TEST_CONTENT_ROOT=$installed \
            ansible-test "$command" --venv --requirements --python "$python" --color no)
    done
    summary+=("ansible-core $core (Python $python): ${MATRIX_COMMANDS:-units integration} passed in $((SECONDS - started)) s")
done < "${MATRIX_FILE:-tests/requirements/matrix.txt}"
printf '%s\n' "${summary[@]}"
