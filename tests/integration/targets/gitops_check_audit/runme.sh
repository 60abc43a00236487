#!/usr/bin/env bash
# `ansible-playbook --check` on drifted checkouts: every drifted one reported as changed, the disk untouched
# byte for byte (.git included); then a real run fixes exactly those, and --check is quiet again.
set -euo pipefail

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export ANSIBLE_LIBRARY=../setup_gitops/library
play=(ansible-playbook -i ../../inventory -e "work=$work" "$@")

digest() {  # every entry: path, mode, size, mtime; and every file's content
  (cd "$work/checkouts" && find . -printf '%p %m %s %T@\n' | sort && find . -type f -print0 | sort -z | xargs -0 sha256sum) | sha256sum
}

"${play[@]}" prepare.yml
before=$(digest)

"${play[@]}" --check --diff audit.yml | tee "$work/check.out"
changed() { grep -c '^changed: \[testhost\] => (item=' "$1"; }

[[ "$(changed "$work/check.out")" == 3 ]]   # three drifted checkouts, one in sync
grep -F 'ok: [testhost] => (item=clean)' "$work/check.out"
grep -F 'tracked files modified: app.conf' "$work/check.out"
grep -F 'checkout is missing' "$work/check.out"
[[ "$(digest)" == "$before" ]] || { echo "--check changed the disk"; exit 1; }

"${play[@]}" audit.yml | tee "$work/run.out"
[[ "$(changed "$work/run.out")" == 3 ]]

"${play[@]}" --check audit.yml | tee "$work/again.out"
grep -E 'changed=0 ' "$work/again.out"
echo "gitops_check_audit: --check reported exactly the drifted checkouts and left the disk untouched"
