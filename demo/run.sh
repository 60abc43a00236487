#!/usr/bin/env bash
# The fleetops.gitops demo: a local git remote made on the spot (no network), a checkout kept in step with it,
# a hand edit and an upstream commit caught as drift by `ansible-playbook --check`, then reconciled; then the
# checkouts role over a small simulated fleet, with drift planted on two hosts and the fleet drift report.
# Run it with `make demo`, which builds and installs the collection first.
set -euo pipefail
cd "$(dirname "$0")"

work=${DEMO_DIR:-$(mktemp -d -t fleetops-gitops-demo.XXXXXX)}
mkdir -p "$work"
export ANSIBLE_NOCOLOR=${ANSIBLE_NOCOLOR:-1} ANSIBLE_PYTHON_INTERPRETER=${ANSIBLE_PYTHON_INTERPRETER:-$(command -v python3)}
play() { ansible-playbook -i localhost, -c local -e "demo_dir=$work" "$@"; }
if [[ -t 1 && $ANSIBLE_NOCOLOR != 1 ]]; then  # bold on a terminal that takes colours, plain text in a log
    step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
else
    step() { printf '\n==> %s\n' "$*"; }
fi
upstream() { git -C "$work/upstream" -c user.name=Demo -c user.email=demo@example.invalid "$@"; }

step "A git remote of our own in $work/upstream (a commit with app.conf)"
rm -rf "$work/upstream" "$work/srv"
git init --quiet --initial-branch=main "$work/upstream"
printf 'listen = 8080\nworkers = 2\n' > "$work/upstream/app.conf"
upstream add app.conf
upstream commit --quiet -m "first configuration"

step "Sync: clone it to $work/srv/app"
play site.yml

step "Sync again: nothing to do (git status and git ls-remote for the checkout, nothing written)"
play site.yml

step "Drift: someone edits app.conf by hand, and a new commit lands upstream"
printf 'listen = 9090  # hand edit\nworkers = 2\n' > "$work/srv/app/app.conf"
printf 'listen = 8080\nworkers = 4\n' > "$work/upstream/app.conf"
upstream commit --quiet -am "more workers"

step "Audit with --check --diff: the drift is reported as changed, nothing is touched"
play --check --diff audit.yml

step "Reconcile: back to the upstream revision, the hand edit kept in a backup ref"
play -e reconcile=true audit.yml

step "Audit again with --check: in sync"
play --check audit.yml
git -C "$work/srv/app" for-each-ref --format='backup kept: %(refname)' refs/gitops/backups/

step "A simulated fleet: four hosts with two checkouts each, kept in step by the checkouts role"
rm -rf "$work/fleet" "$work/reports"
printf '[fleet]\nweb01\nweb02\nweb03\ndb01\n[fleet:vars]\nansible_connection=local\n' > "$work/fleet.ini"
export ANSIBLE_CALLBACKS_ENABLED=fleetops.gitops.gitops_report
fleet() { ansible-playbook -i "$work/fleet.ini" -e "demo_dir=$work" -e "ansible_python_interpreter=$ANSIBLE_PYTHON_INTERPRETER" "$@" fleet.yml; }
fleet

step "Drift on two hosts: a hand edit on web02, a missing checkout on db01"
printf 'listen = 7070\n' > "$work/fleet/web02/etc/app/app.conf"
rm -rf "$work/fleet/db01/srv/app"

step "Fleet audit with --check: the report lists every host and checkout, drifted first; nothing changes"
fleet --check

step "Reconcile the fleet"
fleet
echo "Fleet reports: $work/reports/gitops-report.html (open it in a browser), gitops-report.json, gitops-report.junit.xml"
echo "Demo files are in $work"
