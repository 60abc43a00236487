# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private: keep local changes in a commit under ``refs/gitops/backups/`` before a reset removes them.

The user's index, HEAD and working tree are not touched: the snapshot is built
in a temporary index, so taking it changes nothing but the new ref.
"""

from __future__ import annotations

import os
import shutil

from ansible_collections.fleetops.gitops.plugins.module_utils._git import GitRunner
from ansible_collections.fleetops.gitops.plugins.module_utils._state_file import utc_now

BACKUP_NAMESPACE = "refs/gitops/backups/"
_IDENTITY = {
    "GIT_AUTHOR_NAME": "fleetops.gitops", "GIT_AUTHOR_EMAIL": "fleetops.gitops@localhost",
    "GIT_COMMITTER_NAME": "fleetops.gitops", "GIT_COMMITTER_EMAIL": "fleetops.gitops@localhost",
}


def backup_local_changes(git: GitRunner, path: str, head: str | None, replaced_by: str) -> str:
    """Snapshot tracked changes and untracked (not ignored) files; return the new ref's name."""
    workdir = git.private_dir()
    try:
        # A fresh index filled from HEAD carries no stat cache, so every file is hashed: a timestamp that did not
        # move (an edit in the same clock tick as the checkout) cannot hide a change, and tracked files that match
        # .gitignore stay in the snapshot.
        env = dict(_IDENTITY, GIT_INDEX_FILE=os.path.join(workdir, "index"))
        if head:
            git.run(["-C", path, "read-tree", head], env=env, summary="cannot snapshot local changes")
        git.run(["-C", path, "add", "--all", "--", "."], env=env, summary="cannot snapshot local changes")
        tree = git.run(["-C", path, "write-tree"], env=env).stdout.strip()
        message = (f"fleetops.gitops backup of local changes at {utc_now().strftime('%Y%m%dT%H%M%SZ')}\n\n"
                   f"Taken before resetting {path} from {head or '(no commit)'} to {replaced_by}.\n")
        parents = ["-p", head] if head else []
        commit = git.run(["-C", path, "commit-tree", *parents, "-m", message, tree], env=env).stdout.strip()
        return keep_commit(git, path, commit, "local changes")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def keep_commit(git: GitRunner, path: str, commit: str, reason: str) -> str:
    """A new ref under refs/gitops/backups/ that keeps ``commit`` reachable; never overwrites one."""
    ref = f"{BACKUP_NAMESPACE}{utc_now().strftime('%Y%m%dT%H%M%SZ')}-{commit[:12]}"
    git.run(["-C", path, "update-ref", "-m", f"fleetops.gitops backup: {reason}", ref, commit, ""],
            summary="cannot record the backup ref")
    return ref
