#!/usr/bin/env bash
# What Galaxy says of the built tarball: galaxy-importer (flake8, ansible-doc and ansible-lint on, a version of 1.0.0
# or more required), from a venv of its own. Any warning or error fails the check.
set -euo pipefail
cd "$(dirname "$0")/../.."

reqs=tests/requirements
venv=.build/importer-venv
# shellcheck source=tests/tooling/find_python.sh
source tests/tooling/find_python.sh

wanted=$(cat "$reqs/release.txt" "$reqs/release-constraints.txt" | sha256sum)
if [[ $(cat "$venv/.installed" 2>/dev/null) != "$wanted" ]]; then
    python=$(find_python 3.11) || { echo "error: python3.11 not found" >&2; exit 1; }
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --disable-pip-version-check --quiet -r "$reqs/release.txt" -c "$reqs/release-constraints.txt" 2>&1 |
        { grep -v 'is ignored: it is neither a file nor a directory' || true; }
    echo "$wanted" > "$venv/.installed"
fi

tarball=$PWD/$(ls .build/fleetops-gitops-*.tar.gz)
work=.build/galaxy-importer  # it writes importer_result.json where it runs
log=$work/importer.log
rm -rf "$work" && mkdir -p "$work"
# flake8, ansible-doc and ansible-lint are found on PATH: the importer's own venv first.
(cd "$work" && PATH=$OLDPWD/$venv/bin:$PATH GALAXY_IMPORTER_CONFIG=$OLDPWD/tests/tooling/galaxy-importer.cfg \
    "$OLDPWD/$venv/bin/python" -m galaxy_importer.main "$tarball") > "$log" 2>&1 || { cat "$log" >&2; exit 1; }
if grep -E '^(WARNING|ERROR)' "$log" >&2 || ! grep -q 'Importer processing completed successfully' "$log"; then
    echo "error: galaxy-importer has something to say about $tarball (all of it in $log)" >&2
    exit 1
fi
echo "galaxy-importer: $(basename "$tarball") imports with no warning"
