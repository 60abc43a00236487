#!/usr/bin/env bash
# The docs site: antsibull-docs makes a Sphinx site of the installed collection (plugins, role, docs/docsite guides)
# and Sphinx renders it to .build/docsite/build/html. Every Sphinx warning fails the build but those an offline
# build cannot avoid: docs.ansible.com and docs.python.org inventories that cannot be fetched (intersphinx), and
# the references to those sites that only they resolve. A reference into this collection always counts.
set -euo pipefail
cd "$(dirname "$0")/../.."

site=$PWD/.build/docsite
export ANSIBLE_COLLECTIONS_PATH=$PWD/.build/collections
rm -rf "$site" && mkdir -p "${site%/*}" && mkdir -m 0755 "$site"  # antsibull-docs wants a folder only its owner can write
antsibull-docs sphinx-init --use-current --fail-on-error --lenient --dest-dir "$site" \
    --project fleetops.gitops --title 'fleetops.gitops: GitOps for plain servers' fleetops.gitops > /dev/null
cd "$site"
antsibull-docs --config-file antsibull-docs.cfg collection --use-current --fail-on-error --dest-dir rst fleetops.gitops
sphinx-build -M html rst build -c . -q -w warnings.log --keep-going 2> sphinx.log || { cat sphinx.log >&2; exit 1; }

unavoidable="failed to reach any of the inventories|^intersphinx inventory '.*' not (fetchable|readable)"
unavoidable+="|WARNING: undefined label: '(ansible_configuration_settings|action_plugins|callback_plugins|common_return_values|ansible_collections\.ansible\.builtin\.[a-z_]+)' \[ref\.ref\]"
if grep -Ev "$unavoidable" warnings.log | grep -q .; then
    echo "error: the docs site has warnings:" >&2
    grep -Ev "$unavoidable" warnings.log >&2
    exit 1
fi
echo "docs site: $site/build/html/index.html ($(grep -c 'WARNING' warnings.log || true) offline-only intersphinx warnings)"
