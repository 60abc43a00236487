#!/usr/bin/env bash
# The ansible-core matrix: for each line of tests/requirements/matrix.txt, a venv with that ansible-core on its
# controller Python, the built tarball installed by that ansible-core's own ansible-galaxy, and the line's
# ansible-test commands (units, integration, sanity) run there. Lines run MATRIX_JOBS at a time (default 2: one
# line's units keep the CPUs busy while another's integration waits on git and the servers), each into its own log,
# printed whole when the line ends. MATRIX_COMMANDS=units runs only those commands, MATRIX_FILE another list,
# MATRIX_ONLY=2.20 the lines whose version starts so. Prints each line's wall time.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=tests/tooling/find_python.sh
source tests/tooling/find_python.sh

tarball=$PWD/$(ls .build/fleetops-gitops-*.tar.gz)
get_pip_cache=$HOME/.ansible/test/cache

# Sets up one line (in sequence: pip and ansible-test's caches are shared): its venv, the tarball installed.
prepare() {
    local requirement=$1 python=$2 root=$3
    local venv=$root/venv interpreter installed keep pip_version target
    if [[ $(cat "$venv/.installed" 2>/dev/null) != "$requirement $python" ]]; then
        interpreter=$(find_python "$python") || { echo "error: python$python not found" >&2; return 1; }
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
    if [[ -d $keep ]]; then mkdir -p "$installed/tests/output/.tmp" && mv "$keep" "$installed/tests/output/.tmp/delegation"; fi
}

# Runs one line's commands in its installed copy. Sanity runs on every Python of .build/bin the core supports.
run_line() {
    local core=$1 python=$2 root=$3 commands=$4
    local installed=$root/collections/ansible_collections/fleetops/gitops command options
    for command in $commands; do
        echo "== ansible-core $core, Python $python: ansible-test $command"
        options=(--python "$python")
        [[ $command == sanity ]] && options=()
        (cd "$installed" && PATH=$root/venv/bin:$PATH ANSIBLE_TEST_CONTENT_ROOT=$installed \
            ansible-test "$command" --venv --requirements "${options[@]}" --color no)
    done
}

lines=()
while read -r requirement python commands; do
    [[ -z $requirement || $requirement == '#'* ]] && continue
    core=${requirement#ansible-core==}
    [[ $core == "${MATRIX_ONLY:-}"* ]] || continue
    root=$PWD/.build/matrix/$core
    prepare "$requirement" "$python" "$root"
    lines+=("$core|$python|$root|${MATRIX_COMMANDS:-${commands:-units integration}}")
done < "${MATRIX_FILE:-tests/requirements/matrix.txt}"

# Each line in the background, at most MATRIX_JOBS at once; a line's log is printed when it ends.
declare -A pids=() started=()
summary=() failed=0
finish() {
    local pid=$1 rc=$2 core python root commands
    IFS='|' read -r core python root commands <<<"${pids[$pid]}"
    cat "$root/log"
    if ((rc == 0)); then
        summary+=("ansible-core $core (Python $python): $commands passed in $((SECONDS - started[$pid])) s")
    else
        summary+=("ansible-core $core (Python $python): $commands FAILED (exit code $rc) after $((SECONDS - started[$pid])) s")
        failed=1
    fi
    unset "pids[$pid]"
}
for line in "${lines[@]}"; do
    while ((${#pids[@]} >= ${MATRIX_JOBS:-2})); do
        rc=0 && wait -n -p done_pid "${!pids[@]}" || rc=$?
        finish "$done_pid" "$rc"
    done
    IFS='|' read -r core python root commands <<<"$line"
    run_line "$core" "$python" "$root" "$commands" > "$root/log" 2>&1 &
    pids[$!]=$line
    started[$!]=$SECONDS
done
while ((${#pids[@]} > 0)); do
    rc=0 && wait -n -p done_pid "${!pids[@]}" || rc=$?
    finish "$done_pid" "$rc"
done
printf '%s\n' "${summary[@]}"
exit "$failed"
