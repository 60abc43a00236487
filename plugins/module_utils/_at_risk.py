# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private: what switching a checkout to a new commit would destroy, found before anything changes.

``git status`` shows tracked edits, staged content and untracked files: that is the no-op's whole cost. When
the checkout is about to change, more can be lost and is looked for here, read-only:

- files whose edits git hides (``assume-unchanged``, ``skip-worktree``): a forced checkout overwrites them, or
  refuses with "not uptodate";
- ignored or untracked paths the new commit tracks: a forced checkout writes over them (an ignored
  ``secrets.env``, a ``build/`` folder);
- commits only on the local branch the sync moves, when HEAD is on another branch.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass

from ansible_collections.fleetops.gitops.plugins.module_utils._git import GitRunner
from ansible_collections.fleetops.gitops.plugins.module_utils._history import Distance, Where, distance_between


@dataclass(frozen=True)
class AtRisk:
    """What the switch would destroy besides ``git status``'s local changes; None fields are not known yet."""

    flagged: tuple[str, ...] = ()
    overwritten: tuple[str, ...] | None = ()
    branch: str | None = None  # the local branch the sync moves, when HEAD is not on it
    branch_tip: str | None = None  # its commit before the sync, when it has commits the target lacks
    branch_distance: Distance | None = None


def flagged_entries(git: GitRunner, path: str) -> tuple[str, ...]:
    """Index entries whose working-tree state git does not look at: ``assume-unchanged``, and ``skip-worktree``
    ones whose file is there (a skip-worktree entry without a file is a sparse checkout's, and holds nothing)."""
    out = git.run(["--no-optional-locks", "-C", path, "ls-files", "-v", "-z", "--"], summary=f"cannot read the index of {path}").stdout
    flagged = []
    for entry in out.split("\0"):
        tag, name = entry[:1], entry[2:]
        if not name:
            continue
        if tag.islower() or (tag == "S" and os.path.lexists(os.path.join(path, name))):
            flagged.append(name)
    return tuple(flagged)


def overwritten_paths(git: GitRunner, where: Where, path: str, head: str, target: str, known: set[str]) -> tuple[str, ...] | None:
    """Paths on disk (the work tree at ``path``) that git does not track at ``head`` but ``target`` would write over or remove.

    Untracked files ``git status`` listed (``known``) are left out: they count already. None when the
    target's tree is not in ``where``.
    """
    result = git.run(
        [*where.args, "diff", "--name-status", "-z", "--no-renames", "--no-ext-diff", "--no-textconv", "--diff-filter=AD", head, target, "--"],
        ok=(0, 128),
        env=where.env,
    )
    if result.rc != 0:
        return None
    fields = result.stdout.split("\0")
    added = {name for status, name in zip(fields[::2], fields[1::2]) if status == "A"}
    deleted = {name for status, name in zip(fields[::2], fields[1::2]) if status == "D"}
    found: dict[str, None] = {}
    for name in sorted(added):
        parts = name.split("/")
        for depth in range(1, len(parts)):
            prefix = "/".join(parts[:depth])
            info = _lstat(path, prefix)
            if info is not None and not stat.S_ISDIR(info.st_mode) and prefix not in deleted:
                found[prefix] = None  # a file (or link) where the target needs a folder
                break
        else:
            info = _lstat(path, name)
            if info is not None:
                found[name + "/" if stat.S_ISDIR(info.st_mode) else name] = None
    return tuple(name for name in found if name not in known)


def moved_branch(
    git: GitRunner, where: Where, path: str, head_branch: str | None, target_branch: str | None, target_sha: str
) -> tuple[str | None, Distance | None]:
    """The old tip of the local branch a switch to ``target_branch`` resets, when HEAD is not on it.

    (its commit, its distance to the target); (None, None) when there is no such branch, HEAD is on it (the
    HEAD's own check covers that), or it is already at the target.
    """
    if target_branch is None or head_branch == target_branch:
        return None, None
    found = git.run(["-C", path, "rev-parse", "--verify", "--quiet", "--end-of-options", f"refs/heads/{target_branch}^{{commit}}"], ok=(0, 1)).stdout.strip()
    if not found or found == target_sha:
        return None, None
    return found, distance_between(git, where, found, target_sha)


def _lstat(path: str, name: str) -> os.stat_result | None:
    try:
        return os.lstat(os.path.join(path, name))
    except (FileNotFoundError, NotADirectoryError):
        return None
