#!/usr/bin/env bash
# Build the collection tarball into .build/ and install it into .build/collections,
# the way users install it; the tests run in the installed copy.
set -euo pipefail
cd "$(dirname "$0")/../.."

out=.build
namespace=$(sed -n 's/^namespace: *//p' galaxy.yml)
name=$(sed -n 's/^name: *//p' galaxy.yml)
installed=$out/collections/ansible_collections/$namespace/$name
keep=$out/ansible-test-venvs

rm -f "$out/$namespace-$name"-*.tar.gz
ansible-galaxy collection build --force --output-path "$out" .
tarball=$(ls "$out/$namespace-$name"-*.tar.gz)
contents=$(tar -tzf "$tarball")

# ansible-test runs from the installed copy, so the tests must be in the tarball (see build_ignore in galaxy.yml).
for dir in tests/unit tests/integration tests/sanity; do
    if [[ -d $dir ]] && ! grep -q "^$dir/\?$" <<<"$contents"; then
        echo "error: $dir is missing from $tarball; check build_ignore in galaxy.yml" >&2
        exit 1
    fi
done

# What users install is exactly the collection: every entry of the tarball matches this allow-list, so that no tool's
# leftovers (.pytest_cache, .ruff_cache, .ansible, changelogs/.plugin-cache.yaml, __pycache__) or stray files ship.
allowed='^(COPYING|CONTRIBUTING\.md|CHANGELOG\.md|CODE_OF_CONDUCT\.md|SECURITY\.md|bindep\.txt|FILES\.json|MANIFEST\.json|README\.md|changelogs/?|changelogs/(changelog\.yaml|config\.yaml|fragments/?|fragments/[A-Za-z0-9._-]+\.yml)|(docs|meta|playbooks|plugins|roles)(/.*)?|tests/?|tests/config\.yml|tests/(unit|integration)(/.*)?)$'
unexpected=$(grep -Ev "$allowed" <<<"$contents" || true)
unexpected+=$(grep -E '(^|/)(__pycache__|\.pytest_cache|\.ruff_cache|\.ansible)(/|$)|\.pyc$' <<<"$contents" || true)
if [[ -n $unexpected ]]; then
    echo "error: $tarball holds what is not part of the collection (see build_ignore in galaxy.yml):" >&2
    echo "$unexpected" >&2
    exit 1
fi

# Keep the venvs ansible-test made in the installed copy (tests/output/.tmp/delegation): rebuilding them is slow.
if [[ -d $installed/tests/output/.tmp/delegation ]]; then
    rm -rf "$keep"
    mv "$installed/tests/output/.tmp/delegation" "$keep"
fi
ANSIBLE_COLLECTIONS_PATH=$out/collections ansible-galaxy collection install "$tarball" -p "$out/collections" --force
if [[ -d $keep ]]; then
    mkdir -p "$installed/tests/output/.tmp"
    mv "$keep" "$installed/tests/output/.tmp/delegation"
fi
