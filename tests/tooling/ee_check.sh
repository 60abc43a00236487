#!/usr/bin/env bash
# The collection as an execution environment sees it (no container engine needed): ansible-builder's introspection
# of the installed collection names its system dependencies, and `ansible-builder create` makes a build context
# from an execution-environment.yml that installs the built tarball; then the role and the report callback run through
# ansible-runner, the engine an execution environment runs playbooks with (tests/tooling/runner_check.py).
set -euo pipefail
cd "$(dirname "$0")/../.."

out=.build
tarball=$(ls "$out"/fleetops-gitops-*.tar.gz)
deps=$(ansible-builder introspect --sanitize "$out/collections")
grep -q "^- 'git \[platform:dpkg platform:rpm\]  # from collection fleetops.gitops'$" <<<"$deps" || {
    echo "error: ansible-builder does not see git as a system dependency of fleetops.gitops:" >&2
    echo "$deps" >&2
    exit 1
}

context=$out/ee
rm -rf "$context" "$out/ee-definition"
mkdir -p "$out/ee-definition"
cp "$tarball" "$out/ee-definition/"
cat > "$out/ee-definition/execution-environment.yml" <<YAML
---
version: 3
images:
  base_image:
    name: quay.io/ansible/awx-ee:latest
dependencies:
  galaxy:
    collections:
      - name: collections/$(basename "$tarball")  # where additional_build_files puts it, beside requirements.yml
        type: file
additional_build_files:
  - src: $(basename "$tarball")
    dest: collections
YAML
ansible-builder create -f "$out/ee-definition/execution-environment.yml" -c "$context" --output-filename Containerfile >/dev/null
for file in Containerfile _build/requirements.yml "_build/collections/$(basename "$tarball")"; do
    [[ -f $context/$file ]] || { echo "error: ansible-builder create made no $context/$file" >&2; exit 1; }
done
echo "execution environment: git is a system dependency; build context in $context"

work=$(mktemp -d "${TMPDIR:-/tmp}/fleetops-runner-check.XXXXXX")
trap 'rm -rf "$work"' EXIT
python tests/tooling/runner_check.py "$out/collections" "$work"
