#!/usr/bin/python
# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: gitops_drift
short_description: Report how a git checkout drifted from its branch, and reconcile on request
version_added: 1.0.0
description:
  - >-
    Compares the desired revision, the tip of O(branch), with the actual one at O(path) - the revision the last sync
    (of M(fleetops.gitops.gitops_sync), or this module's reconcile) recorded in the checkout, or HEAD when none was
    ever recorded - and reports every difference as one readable line in RV(drift_details), each naming what it
    compares - C(revision differs: recorded X, desired Y) (or C(HEAD X) without a record), with how many commits
    behind or ahead when it can be known; C(HEAD moved outside fleetops.gitops: recorded X, HEAD Y) when HEAD is not
    the recorded revision; a wrong branch or detached HEAD; modified and untracked files; a different remote URL; a
    missing path or one that is not a checkout.
  - C(changed) is true when drift is found, so C(ansible-playbook --check) lists every drifted checkout
    as changed while touching nothing.
  - With O(reconcile=true) (outside check mode), brings the checkout to the desired revision through
    M(fleetops.gitops.gitops_sync)'s synchronizer, under the same O(local_changes) policy, and records
    the time of the sync.
  - Fails when drift cannot be judged, for example when the remote cannot be reached; an audit never
    reports a checkout it could not read as in sync.
author:
  - fleetops.gitops developers (@fleetops)
extends_documentation_fragment:
  - fleetops.gitops.gitops
  - fleetops.gitops.gitops.attributes
options:
  path:
    description:
      - Path of the checkout on the managed host.
      - Required unless O(checkouts) is given.
    type: path
    aliases: [dest]
  branch:
    description:
      - The branch whose tip is the desired revision, and which HEAD should be on.
      - V(HEAD), the default, is the remote's default branch (C(main), C(master), C(devel)...); with
        O(compare_to=local), the default branch the checkout last heard of (C(refs/remotes/origin/HEAD)).
    type: str
    default: HEAD
    aliases: [version]
  compare_to:
    description:
      - Where the desired revision comes from.
      - V(remote) asks the remote (O(repo), else the checkout's O(remote)) with one read-only C(git ls-remote).
      - V(local) reads the local branch ref C(refs/heads/BRANCH), with no network at all.
      - O(revision) (set by hand, or by O(resolve_on_controller)) overrides both.
    type: str
    choices: [remote, local]
    default: remote
  repo:
    description:
      - URL the checkout's O(remote) is expected to point at; a different URL is reported as drift.
      - Required to reconcile a missing checkout, which is then cloned from it.
  reconcile:
    description:
      - Bring a drifted checkout to the desired revision. Ignored in check mode.
    type: bool
    default: false
  submodules:
    description:
      - Also report each submodule of the commit at the checkout's HEAD that a sync with
        O(fleetops.gitops.gitops_sync#module:submodules) would change - one at another commit than the one recorded,
        with local changes, or not cloned - each line starting with C(submodule) and its path; O(reconcile) then syncs
        the submodules too.
      - The list and its checks are those of O(fleetops.gitops.gitops_sync#module:submodules); a submodule whose
        recorded commit is not in its checkout yet is looked at on its remote, without writing to it.
    type: bool
    default: false
    version_added: 1.1.0
  layout:
    description:
      - How the checkout is laid out, as in O(fleetops.gitops.gitops_sync#module:layout).
      - With V(releases), O(path) is the link to the current release; drift is read in the release it points at, a
        O(path) that is a folder or a link to anything but a release of the layout fails the report, and O(reconcile)
        makes a new release and switches O(path) to it atomically.
    type: str
    choices: [checkout, releases]
    default: checkout
    version_added: 1.1.0
  releases_dir:
    description: With O(layout=releases), as O(fleetops.gitops.gitops_sync#module:releases_dir).
    type: path
    version_added: 1.1.0
  validate:
    description: With O(layout=releases), the command a reconcile runs in a new release first, as O(fleetops.gitops.gitops_sync#module:validate).
    type: str
    version_added: 1.1.0
  validate_shell:
    description: Run O(validate) with C(/bin/sh -c).
    type: bool
    default: false
    version_added: 1.1.0
  shared_paths:
    description: With O(layout=releases), as O(fleetops.gitops.gitops_sync#module:shared_paths).
    type: list
    elements: str
    default: []
    version_added: 1.1.0
  keep_releases:
    description: With O(layout=releases), as O(fleetops.gitops.gitops_sync#module:keep_releases).
    type: int
    default: 5
    version_added: 1.1.0
  checkouts:
    suboptions:
      path:
        description: See O(path).
        type: path
        required: true
        aliases: [dest]
      branch:
        description: See O(branch).
        type: str
        aliases: [version]
      compare_to:
        description: See O(compare_to).
        type: str
        choices: [remote, local]
      repo:
        description: See O(repo).
        type: str
      revision:
        description: See O(revision).
        type: str
      reconcile:
        description: See O(reconcile).
        type: bool
      submodules:
        description: See O(submodules).
        type: bool
      remote:
        description: See O(remote).
        type: str
      local_changes:
        description: See O(local_changes).
        type: str
        choices: [backup, discard, fail]
      timeout:
        description: See O(timeout).
        type: float
      owner:
        description: See O(owner).
        type: str
      group:
        description: See O(group).
        type: str
      allowed_transports:
        description: See O(allowed_transports).
        type: list
        elements: str
        choices: [https, ssh, git, file]
      username:
        description: See O(username).
        type: str
      password:
        description: See O(password).
        type: str
      token:
        description: See O(token).
        type: str
      ssh_key:
        description: See O(ssh_key).
        type: str
      known_hosts:
        description: See O(known_hosts).
        type: str
      accept_newhostkey:
        description: See O(accept_newhostkey).
        type: bool
      retries:
        description: See O(retries).
        type: int
      follow_redirects:
        description: See O(follow_redirects).
        type: str
        choices: [same_origin, all, none]
      lock_timeout:
        description: See O(lock_timeout).
        type: float
      on_rewrite:
        description: See O(on_rewrite).
        type: str
        choices: [follow, fail]
      verify_commit:
        description: See O(verify_commit).
        type: str
        choices: [none, commit, tag, both]
      gpg_keys:
        description: See O(gpg_keys).
        type: list
        elements: str
      allowed_signers:
        description: See O(allowed_signers).
        type: str
      keep_backups:
        description: See O(keep_backups).
        type: int
      backup_max_age:
        description: See O(backup_max_age).
        type: int
      sparse:
        description: See O(sparse).
        type: list
        elements: str
      filter:
        description: See O(filter).
        type: str
      layout:
        description: See O(layout).
        type: str
        choices: [checkout, releases]
      releases_dir:
        description: See O(releases_dir).
        type: path
      validate:
        description: See O(validate).
        type: str
      validate_shell:
        description: See O(validate_shell).
        type: bool
      shared_paths:
        description: See O(shared_paths).
        type: list
        elements: str
      keep_releases:
        description: See O(keep_releases).
        type: int
seealso:
  - module: fleetops.gitops.gitops_sync
"""

EXAMPLES = r"""
- name: Audit a checkout against the tip of main on its remote
  fleetops.gitops.gitops_drift:
    path: /srv/app
    branch: main
  register: drift

- name: Show what drifted
  ansible.builtin.debug:
    var: drift.drift_details
  when: drift.drifted

- name: Reconcile, keeping hand edits in a backup ref
  fleetops.gitops.gitops_drift:
    path: /srv/app
    repo: https://git.example.com/team/app.git
    branch: main
    reconcile: true
    local_changes: backup

- name: Audit every checkout of a host in one call; fail the play on drift
  fleetops.gitops.gitops_drift:
    checkouts:
      - path: /srv/app
        repo: https://git.example.com/team/app.git
      - path: /etc/myapp/conf.d
        repo: https://git.example.com/ops/config.git
        branch: production
  register: drift
  failed_when: drift.changed

- name: Offline audit against the local branch ref
  fleetops.gitops.gitops_drift:
    path: /etc/myapp/conf.d
    branch: production
    compare_to: local
"""

RETURN = r"""
git_missing:
  description:
    - V(true) when the task failed because git is not installed, or not on E(PATH), on the managed host. The role
      R(fleetops.gitops.checkouts,ansible_collections.fleetops.gitops.checkouts_role) installs git when it sees it.
  returned: failure, when git is missing
  type: bool
  sample: true
results:
  description:
    - With O(checkouts), one result per checkout, in the order given, each with the keys the single form
      returns, plus C(path); a checkout that failed has C(failed=true) and C(msg).
  returned: when O(checkouts) is given
  type: list
  elements: dict
changed_checkouts:
  description:
    - With O(checkouts), the absolute O(path) of every checkout that drifted (drift found, whether or not it was reconciled), in the order given.
  returned: when O(checkouts) is given
  type: list
  elements: str
  sample: [/srv/app]
drifted_checkouts:
  description:
    - With O(checkouts), the absolute O(path) of every checkout whose status after the run is not V(IN_SYNC)
      (in check mode, as found), failed ones included, in the order given.
  returned: when O(checkouts) is given
  type: list
  elements: str
  sample: [/srv/app]
drifted:
  description: Whether any drift was found (before reconciling).
  returned: success, in the single form
  type: bool
  sample: true
drift_details:
  description: One line per difference found (before reconciling); empty when in sync.
  returned: success, in the single form
  type: list
  elements: str
  sample:
    - "revision differs: deployed 1f0c3b9e2d4a, desired 8f3c2a9d0b6e (2 commits behind)"
    - "tracked files modified: conf/app.ini"
reconciled:
  description: Whether the checkout was brought to the desired revision by this run.
  returned: success, in the single form
  type: bool
  sample: false
before:
  description: Commit at HEAD before reconciling.
  returned: when reconciled
  type: str
after:
  description: Commit at HEAD after reconciling.
  returned: when reconciled
  type: str
backup_ref:
  description: Ref holding the local changes saved before reconciling with O(local_changes=backup).
  returned: when reconciled
  type: str
status:
  description: The checkout's sync status after the run.
  returned: success, in the single form
  type: dict
  contains:
    state:
      description: V(IN_SYNC), V(DRIFTED), V(UNKNOWN) or V(ERROR).
      type: str
      returned: success
      sample: DRIFTED
    desired_revision:
      description: Commit at the tip of O(branch).
      type: str
      returned: success
    actual_revision:
      description:
        - The actual revision - the one the last sync recorded, or HEAD when none was ever recorded.
      type: str
      returned: success
    last_synced_at:
      description: When this collection last brought the checkout to its revision (ISO 8601, UTC), or V(null).
      type: str
      returned: success
    drift_details:
      description: One line per difference; empty when in sync.
      type: list
      elements: str
      returned: success
    repo:
      description:
        - O(repo) without its credentials - no password, and no user name in an https URL; V(null) when O(repo) is
          not given or not a URL the module takes. Also in the status of a failed checkout, for reports that read
          only statuses.
      type: str
      returned: success, and for a failed checkout
      sample: https://git.example.com/team/app.git
      version_added: 1.1.0
    version:
      description: O(branch) as given - a branch, or V(HEAD) for the default one.
      type: str
      returned: success, and for a failed checkout
      sample: main
      version_added: 1.1.0
ansible_facts:
  description: Facts set by the module.
  returned: success
  type: dict
  contains:
    gitops_status:
      description: The RV(status) of every checkout of the call, keyed by its path.
      type: dict
      returned: success
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.fleetops.gitops.plugins.module_utils._argspec import drift_module_spec
from ansible_collections.fleetops.gitops.plugins.module_utils._batch import execute, secrets_in_params
from ansible_collections.fleetops.gitops.plugins.module_utils._errors import GitOpsError
from ansible_collections.fleetops.gitops.plugins.module_utils._item_tasks import drift_one


def main() -> None:
    module = AnsibleModule(**drift_module_spec())
    module.no_log_values.update(secrets_in_params(module.params))
    try:
        outcome = execute(drift_one, module.params, key="path", check_mode=module.check_mode, diff=module._diff)
    except GitOpsError as error:
        module.fail_json(msg=str(error), **error.details())
    for warning in outcome.warnings:
        module.warn(warning)
    if outcome.failed:
        module.fail_json(msg=outcome.msg, **outcome.result)  # with the checkouts' facts, for reports
    module.exit_json(**outcome.result)


if __name__ == "__main__":
    main()
