# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Documentation shared by the modules, next to the argument spec in module_utils/_argspec.py."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  repo:
    description:
      - URL of the repository - https, ssh (C(ssh://) or C(user@host:path)), git, C(file://) - or a local path.
    type: str
  revision:
    description:
      - The full commit SHA the branch or tag must be at, resolved once elsewhere - for example on the controller
        by O(resolve_on_controller). The remote is then not asked where the branch or tag points.
      - A host whose remote does not have this commit fails with a message that names it.
    type: str
  remote:
    description:
      - Name of the checkout's remote that points at O(repo).
      - A new clone names its remote this way; an existing checkout must already have it.
    type: str
    default: origin
  local_changes:
    description:
      - What to do with local changes (tracked files modified, staged or deleted, and untracked files
        that are not ignored) when the checkout must be reset.
      - V(backup) saves them first in a commit under C(refs/gitops/backups/), named in the result's C(backup_ref).
        Restore a file with C(git -C DEST checkout BACKUP_REF -- FILE), or all of them with
        C(git -C DEST restore --source BACKUP_REF --worktree -- .); list backups with
        C(git -C DEST for-each-ref refs/gitops/backups/).
      - V(discard) drops them, as C(git reset --hard) followed by C(git clean -d --force) would.
      - V(fail) stops, lists the files, and changes nothing.
      - Ignored files and nested git repositories are never touched.
    type: str
    choices: [backup, discard, fail]
    default: backup
  timeout:
    description:
      - Seconds the whole operation on one checkout may take, network included.
      - A git command still running at the deadline is stopped and the checkout fails; git never waits for a prompt.
    type: float
    default: 300
  owner:
    description:
      - The user the checkout belongs to. git runs as this user (with their C(HOME), so their SSH keys and git
        configuration apply), so every file it writes is theirs; folders the module creates are theirs too.
      - Needs the module to run as root (C(become)), unless it already runs as this user.
      - Without it, a checkout that belongs to another user fails, as git refuses to work in it.
    type: str
  group:
    description:
      - The group git runs with; defaults to O(owner)'s primary group.
    type: str
  checkouts:
    description:
      - Many checkouts in one call, handled in parallel (see O(parallel)). Each item takes the options of the single
        form; an option an item does not set comes from the top level of the call.
      - Each checkout's outcome is in RV(results); C(changed) is true if any checkout changed; the facts hold
        every checkout of the call.
      - A failing checkout does not stop the others; the task fails at the end unless O(allow_partial_failure=true).
    type: list
    elements: dict
  parallel:
    description:
      - How many checkouts of O(checkouts) are handled at the same time.
    type: int
    default: 8
  allow_partial_failure:
    description:
      - With O(checkouts), succeed (with a warning) even when some checkouts failed; their results say why.
    type: bool
    default: false
  resolve_on_controller:
    description:
      - Resolve each distinct O(repo) and branch or tag once per play on the controller (one C(git ls-remote)) and
        hand every host the same commit, so one run deploys one revision fleet-wide and the git server is asked
        once per repository rather than once per host.
      - The controller needs git and access to the repositories; hosts that cannot reach the resolved commit fail
        clearly.
    type: bool
    default: false
notes:
  - Git runs with a C locale, no terminal prompts, hooks and C(core.fsmonitor) switched off, and only the
    https, ssh, git and file transports allowed.
  - A token or password inside an https URL is passed to git through an askpass program, never stored in
    C(.git/config), and masked in every result, warning and error. The module arguments themselves may still
    reach the managed host's syslog; prefer credentials that are not part of the URL.
  - The time of the last sync is kept in C(.git/fleetops-gitops.json) of each checkout.
requirements:
  - git >= 2.29 on the managed host
"""

    ATTRIBUTES = r"""
attributes:
  check_mode:
    support: full
    description:
      - Read-only, the checkout's C(.git) included; C(changed) predicts the real run exactly.
  diff_mode:
    support: full
    description:
      - Shows the revision and branch before and after, the local changes that would be removed,
        and the files that change between the two revisions when both are known locally.
  action_group:
    support: full
    description:
      - Use C(group/fleetops.gitops.gitops) in C(module_defaults) to set defaults for both modules.
    membership:
      - fleetops.gitops.gitops
  platform:
    support: full
    description:
      - Runs on POSIX hosts with git installed.
    platforms: posix
"""
