#!/usr/bin/python
# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: gitops_sync
short_description: Keep a git checkout at a branch, tag or commit
version_added: 1.0.0
description:
  - Clones O(repo) into O(dest) when O(dest) is absent or an empty folder; otherwise brings the checkout
    to O(version) with a fetch and a hard reset, removing local changes according to O(local_changes).
  - A checkout already at O(version) with no local changes costs two git processes (C(git status) and a
    read-only C(git ls-remote); three when its C(.git/config) is not in the plain form C(git clone) writes), plus
    one C(git config) per module run for the filter drivers of the system and global config, and writes nothing,
    not even under C(.git).
  - Returns the checkout's sync status, and sets it as the fact C(gitops_status), keyed by O(dest).
  - O(dest) is never deleted or overwritten when it is not a checkout of O(repo).
  - With O(layout=releases), O(dest) is instead a link to the current release, each revision a complete tree of its
    own, switched atomically after O(validate); O(rollback) goes back with no network (see O(layout)).
author:
  - fleetops.gitops developers (@fleetops)
extends_documentation_fragment:
  - fleetops.gitops.gitops
  - fleetops.gitops.gitops.attributes
options:
  dest:
    description:
      - Path of the checkout on the managed host. Missing parent folders are created (for O(owner), if set).
      - Required unless O(checkouts) is given.
    type: path
    aliases: [path]
  version:
    description:
      - What the checkout should be at - a branch (HEAD stays on it), a tag or a full 40-character commit SHA
        (HEAD is detached), or V(HEAD) for the remote's default branch (C(main), C(master), C(devel)...), as
        M(ansible.builtin.git) does.
      - A name that is both a branch and a tag means the branch; C(refs/heads/NAME) and C(refs/tags/NAME) say which.
      - >-
        Moving HEAD between a branch and a tag on the same commit is not a change (RV(action=refresh)): C(changed)
        is true only when the revision changes, local changes are removed, the checkout is cloned, its mode set or
        its O(sparse) folders change.
    type: str
    default: HEAD
    aliases: [branch]
  depth:
    description:
      - Make a shallow clone with this many commits, and fetch with the same depth.
    type: int
  mode:
    description:
      - Permissions of the checkout folder, as an octal string such as V('0750'). A different mode is drift,
        and the sync sets it.
    type: raw
  layout:
    description:
      - V(checkout) keeps O(dest) a checkout updated in place.
      - V(releases) makes O(dest) a symbolic link to the current release, one complete tree per revision under
        O(releases_dir), each a git worktree of one bare repository kept in a C(repo) folder beside O(releases_dir)
        (objects are never copied per release). A new revision gets a new release, and O(dest) is switched to it
        with one atomic rename of a new link over the old one, so that a reader sees the old tree or the new
        one, never a mix. A revision that still has a kept release is switched to, with no new tree.
      - Every switch is appended, as one JSON line (time, from, to, revision, action, user), to
        C(fleetops-gitops-history.jsonl) in the C(repo) folder, which outlives the releases retention removes.
      - Local changes in the current release are drift, handled as O(local_changes) says before the switch; with
        V(backup), the backup ref is kept in the shared repository.
      - O(dest) must be absent or such a link; a folder or any other link there is refused and left untouched.
    type: str
    choices: [checkout, releases]
    default: checkout
    version_added: 1.1.0
  releases_dir:
    description:
      - With O(layout=releases), the folder that holds the releases, named C(<UTC time>-<commit>).
      - The shared repository is C(repo) and the shared folder C(shared), both beside it.
      - Defaults to a C(releases) folder beside O(dest).
    type: path
    version_added: 1.1.0
  validate:
    description:
      - With O(layout=releases), a command run in each new release (its working folder) before O(dest) is switched
        to it, as the checkout's O(owner) when set; C(%s) is replaced by the release's path, as in the C(validate) of
        M(ansible.builtin.template).
      - The command is split into words as a shell would, and run without a shell, unless O(validate_shell=true).
      - When it exits with another code than 0, O(dest) stays where it was, the new release is removed and the task
        fails with the command's output (RV(validate_output)).
      - It gets the host's environment without git's variables and without any credential of the task. It runs
        within O(timeout). Check mode does not run it (it needs the new release on disk).
      - It runs what the repository holds if it names a file of the release; without O(owner), that is as the user
        the module runs as (root, with C(become)); set O(owner) so that it runs with no more rights than the files.
    type: str
    version_added: 1.1.0
  validate_shell:
    description:
      - Run O(validate) with C(/bin/sh -c); C(%s) is then replaced by the release's path, quoted for the shell.
    type: bool
    default: false
    version_added: 1.1.0
  shared_paths:
    description:
      - With O(layout=releases), paths inside each release (relative, such as V(log) or V(public/uploads)) that are
        symbolic links to the same path in the C(shared) folder beside O(releases_dir), as Capistrano's linked
        folders and files. What the C(shared) folder does not have yet is created there as an empty folder (for
        O(owner)); the module never deletes anything there.
      - A path that the repository tracks is refused. The links are no local change.
    type: list
    elements: str
    default: []
    version_added: 1.1.0
  keep_releases:
    description:
      - With O(layout=releases), how many releases to keep; older ones are removed after a successful switch, never
        the current one nor the one before it. A release with local changes is backed up first
        (O(local_changes=backup)), kept (O(local_changes=fail)) or removed (O(local_changes=discard)).
    type: int
    default: 5
    version_added: 1.1.0
  rollback:
    description:
      - With O(layout=releases), point O(dest) at the release made before the current one, or, when O(revision) is
        set or O(version) is a full commit SHA, at the kept release of that commit, in one atomic switch.
      - No remote is asked and nothing is fetched. The task fails when there is no such release.
    type: bool
    default: false
    version_added: 1.1.0
  submodules:
    description:
      - Keep every submodule, recursively, at the commit the deployed revision records, each as a checkout of its own
        at its path, with its own C(.git) folder. V(false) (the default) never recurses - the submodules' folders stay
        empty, as a plain C(git clone) leaves them.
      - The list comes from the deployed commit only - its gitlinks and its C(.gitmodules) - never from the work tree or
        C(.git/config), which the checkout's owner can write; C(git submodule) is never run, so no
        C(submodule.<name>.update) or planted URL is used.
      - Each submodule's URL passes the checks O(repo) does (no C(ext::), no C(-) at the start, a transport in
        O(allowed_transports) - C(file) only when it is there); a relative URL (C(../lib.git)) resolves against O(repo).
        A path must be a plain relative path inside the work tree, not through C(.git) nor through a link on disk. An
        entry that fails a check fails the task, in check mode too, before that submodule is cloned.
      - The credentials and the SSH key of the task go to submodules of the same origin (scheme, host and port) as O(repo)
        only.
      - Local changes inside a submodule follow O(local_changes) (backed up in the submodule's own refs, refused, or
        discarded). The task is C(changed) only when the checkout's commit or a submodule's changed; each line of drift
        inside a submodule starts with C(submodule) and its path.
      - With O(layout=checkout) only. O(depth), O(sparse), O(filter), O(mode) and O(verify_commit) apply to the checkout
        itself, not to its submodules (a signed commit names its submodules' commits).
    type: bool
    default: false
    version_added: 1.1.0
  checkouts:
    suboptions:
      repo:
        description: See O(repo).
        type: str
        required: true
      dest:
        description: See O(dest).
        type: path
        required: true
        aliases: [path]
      version:
        description: See O(version).
        type: str
        aliases: [branch]
      revision:
        description: See O(revision).
        type: str
      remote:
        description: See O(remote).
        type: str
      depth:
        description: See O(depth).
        type: int
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
      mode:
        description: See O(mode).
        type: raw
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
      rollback:
        description: See O(rollback).
        type: bool
      submodules:
        description: See O(submodules).
        type: bool
seealso:
  - module: fleetops.gitops.gitops_drift
  - module: ansible.builtin.git
"""

EXAMPLES = r"""
- name: Keep /srv/app at the tip of main
  fleetops.gitops.gitops_sync:
    repo: https://git.example.com/team/app.git
    dest: /srv/app
    version: main

- name: Pin the configuration checkout to a release tag, refusing to touch hand edits
  fleetops.gitops.gitops_sync:
    repo: git@git.example.com:ops/config.git
    dest: /etc/myapp/conf.d
    version: v2.4.1
    local_changes: fail

- name: Deploy an exact commit, shallow, and restart when it changed
  fleetops.gitops.gitops_sync:
    repo: https://git.example.com/team/app.git
    dest: /srv/app
    version: 8f3c2a9d0b6e4f1a7c5d3e2b1a0f9e8d7c6b5a43
    depth: 1
  notify: Restart app

- name: Keep fifty checkouts in step in one call, as their owner, one revision fleet-wide
  fleetops.gitops.gitops_sync:
    checkouts:
      - repo: https://git.example.com/team/app.git
        dest: /srv/app
      - repo: https://git.example.com/team/site.git
        dest: /srv/site
        version: v3.1.0
    owner: deploy
    resolve_on_controller: true
    parallel: 8
  register: sync

- name: Publish each revision as a release behind /srv/app/current, checked before the switch
  fleetops.gitops.gitops_sync:
    repo: https://git.example.com/team/app.git
    dest: /srv/app/current
    version: main
    layout: releases
    shared_paths: [log, public/uploads]
    validate: test -f %s/public/index.html
    keep_releases: 5
    owner: deploy
  notify: Reload app

- name: Roll back to the release before the current one, with no network
  fleetops.gitops.gitops_sync:
    repo: https://git.example.com/team/app.git
    dest: /srv/app/current
    layout: releases
    rollback: true

- name: Audit without changing anything (run the play with --check --diff)
  fleetops.gitops.gitops_sync:
    repo: https://git.example.com/team/app.git
    dest: /srv/app
  check_mode: true
  register: audit
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
      returns, plus C(dest); a checkout that failed has C(failed=true) and C(msg).
  returned: when O(checkouts) is given
  type: list
  elements: dict
changed_checkouts:
  description:
    - With O(checkouts), the absolute O(dest) of every checkout that changed, or in check mode would change, in the order given.
  returned: when O(checkouts) is given
  type: list
  elements: str
  sample: [/srv/app]
drifted_checkouts:
  description:
    - With O(checkouts), the absolute O(dest) of every checkout whose status after the run is not V(IN_SYNC)
      (in check mode, as found), failed ones included, in the order given.
  returned: when O(checkouts) is given
  type: list
  elements: str
  sample: [/srv/app]
action:
  description:
    - What the sync did, or would do in check mode - V(clone), V(update), V(none), or V(refresh) when only HEAD's
      attachment (a branch, or detached at a tag), the local tag or the sync record follow, on the same commit
      (C(changed) is then false).
    - With O(layout=releases) - V(clone) (the shared repository and the first release), V(update) (a new release),
      V(switch) (to a kept release - a rollback, or a revision deployed before) or V(none).
  returned: success, in the single form
  type: str
  sample: update
before:
  description: Commit at HEAD before the sync; V(null) when there was no checkout.
  returned: success, in the single form
  type: str
  sample: 1f0c3b9e2d4a5f6e7d8c9b0a1f2e3d4c5b6a7f8e
after:
  description: Commit at HEAD after the sync (predicted in check mode).
  returned: success, in the single form
  type: str
  sample: 8f3c2a9d0b6e4f1a7c5d3e2b1a0f9e8d7c6b5a43
submodules:
  description:
    - With O(submodules), each submodule of the deployed commit, in path order - C(path), C(name), C(url) (without
      credentials), C(commit) (the one recorded), and its own C(changed), C(action), C(before), C(after), C(backup_ref),
      C(local_changes) and C(submodules).
  returned: success, in the single form, with O(submodules)
  type: list
  elements: dict
  version_added: 1.1.0
kind:
  description: What O(version) named - V(branch), V(tag) or V(commit).
  returned: success, in the single form
  type: str
  sample: branch
backup_ref:
  description:
    - Ref holding the local changes saved before the reset, when O(local_changes=backup) found any.
  returned: success, in the single form
  type: str
  sample: refs/gitops/backups/20261201T071500Z-5e43a3fbab50
local_changes:
  description: Local changes found in the checkout before the sync (removed unless check mode).
  returned: success, in the single form
  type: dict
  contains:
    modified:
      description: Tracked files modified, staged or deleted.
      type: list
      elements: str
      returned: success
      sample: [conf/app.ini]
    untracked:
      description: Untracked files that are not ignored.
      type: list
      elements: str
      returned: success
      sample: [debug.log]
status:
  description: The checkout's sync status after the run (in check mode, as found).
  returned: success, in the single form
  type: dict
  contains:
    state:
      description: V(IN_SYNC), V(DRIFTED), V(UNKNOWN) or V(ERROR).
      type: str
      returned: success
      sample: IN_SYNC
    desired_revision:
      description: Commit that O(version) resolves to.
      type: str
      returned: success
    actual_revision:
      description: Commit at HEAD.
      type: str
      returned: success
    last_synced_at:
      description: When this collection last brought the checkout to its revision (ISO 8601, UTC), or V(null).
      type: str
      returned: success
      sample: "2026-12-01T07:15:00Z"
    drift_details:
      description: One line per difference found; empty when in sync.
      type: list
      elements: str
      returned: success
      sample: ["tracked files modified: conf/app.ini"]
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
      description: O(version) as given - a branch, a tag, a commit or V(HEAD).
      type: str
      returned: success, and for a failed checkout
      sample: main
      version_added: 1.1.0
    release:
      description: With O(layout=releases), as RV(release).
      type: str
      returned: with O(layout=releases)
    previous_release:
      description: With O(layout=releases), as RV(previous_release).
      type: str
      returned: with O(layout=releases)
    last_switch:
      description:
        - With O(layout=releases), the newest line of the switch history (C(time), C(user), C(action), C(from), C(to),
          C(revision)); V(null) before the first switch.
      type: dict
      returned: with O(layout=releases)
release:
  description: With O(layout=releases), the path of the release O(dest) points at after the run (in check mode, would
    point at, where a new release has the name V[(new release)] in place of its time).
  returned: success, in the single form, with O(layout=releases)
  type: str
  sample: /srv/app/releases/20261204T071500.123456Z-8f3c2a9d0b6e
previous_release:
  description: With O(layout=releases), the release made before RV(release), where O(rollback) would go; V(null) when there is none.
  returned: success, in the single form, with O(layout=releases)
  type: str
  sample: /srv/app/releases/20261201T071500.654321Z-1f0c3b9e2d4a
releases:
  description: With O(layout=releases), the releases kept after the run (in check mode, would be kept), oldest first.
  returned: success, in the single form, with O(layout=releases)
  type: list
  elements: dict
  contains:
    path:
      description: The release's folder.
      type: str
      returned: success
    revision:
      description: The commit it holds.
      type: str
      returned: success
    created_at:
      description: When it was made (ISO 8601, UTC); V(null) for one check mode predicts.
      type: str
      returned: success
    current:
      description: Whether O(dest) points at it.
      type: bool
      returned: success
removed_releases:
  description: With O(layout=releases), the releases retention removed after the switch (in check mode, would remove).
  returned: success, in the single form, with O(layout=releases)
  type: list
  elements: str
removed_backups:
  description: The backup refs removed by O(keep_backups) and O(backup_max_age) (in check mode, that would be removed).
  returned: success, in the single form
  type: list
  elements: str
  sample: [refs/gitops/backups/20261101T071500Z-5e43a3fbab50]
validate_output:
  description: The output of O(validate) when it refused a new release.
  returned: failure, when O(validate) refused the release
  type: str
ansible_facts:
  description: Facts set by the module.
  returned: success
  type: dict
  contains:
    gitops_status:
      description: The RV(status) of every checkout of the call, keyed by the absolute path of O(dest).
      type: dict
      returned: success
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.fleetops.gitops.plugins.module_utils._argspec import sync_module_spec
from ansible_collections.fleetops.gitops.plugins.module_utils._batch import execute, secrets_in_params
from ansible_collections.fleetops.gitops.plugins.module_utils._errors import GitOpsError
from ansible_collections.fleetops.gitops.plugins.module_utils._item_tasks import sync_one


def main() -> None:
    module = AnsibleModule(**sync_module_spec())
    module.no_log_values.update(secrets_in_params(module.params))
    try:
        outcome = execute(sync_one, module.params, key="dest", check_mode=module.check_mode, diff=module._diff)
    except GitOpsError as error:
        module.fail_json(msg=str(error), **error.details())
    for warning in outcome.warnings:
        module.warn(warning)
    if outcome.failed:
        module.fail_json(msg=outcome.msg, **outcome.result)  # with the checkouts' facts, for reports
    module.exit_json(**outcome.result)


if __name__ == "__main__":
    main()
