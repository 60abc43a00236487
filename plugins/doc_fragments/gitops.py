# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Documentation shared by the modules, next to the argument spec in module_utils/_argspec.py."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
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
      - V(backup) saves them first in a commit under C(refs/gitops/backups/), named in RV(backup_ref).
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
      - A git command still running at the deadline is stopped and the task fails; git never waits for a prompt.
    type: float
    default: 300
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
