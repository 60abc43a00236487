# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private: keep local changes in a commit under ``refs/gitops/backups/`` before a reset removes them.

The user's index, HEAD and working tree are not touched: the snapshot is built
in a temporary index, and the staged content is read from a copy of the user's
index (git would rewrite the index itself, and lock it), so taking it changes
nothing but the new ref.
"""

from __future__ import annotations

import os
import typing as t
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from ansible_collections.fleetops.gitops.plugins.module_utils._checkout_state import git_dir
from ansible_collections.fleetops.gitops.plugins.module_utils._files import open_folder, read_bytes
from ansible_collections.fleetops.gitops.plugins.module_utils._git import GitRunner
from ansible_collections.fleetops.gitops.plugins.module_utils._private_dir import PrivateDir
from ansible_collections.fleetops.gitops.plugins.module_utils._sparse import Sparse, in_cone
from ansible_collections.fleetops.gitops.plugins.module_utils._state_file import utc_now
from ansible_collections.fleetops.gitops.plugins.module_utils._text import strip_prefix

BACKUP_NAMESPACE = "refs/gitops/backups/"
_INDEX_LIMIT = 1 << 30  # an index of a few million files
_IDENTITY = {
    "GIT_AUTHOR_NAME": "fleetops.gitops",
    "GIT_AUTHOR_EMAIL": "fleetops.gitops@localhost",
    "GIT_COMMITTER_NAME": "fleetops.gitops",
    "GIT_COMMITTER_EMAIL": "fleetops.gitops@localhost",
}


@dataclass(frozen=True)
class Keep:
    """What a reset of a checkout from ``head`` to ``replaced_by`` would destroy, and so must be kept first.

    ``changes``: the working tree and index as found (tracked edits, staged content, untracked files), with the
    ``ignored`` paths the new revision would overwrite; ``commits``: tips of history the reset leaves on no branch.
    ``leave``: nested repositories, which the reset leaves where they are and so are not copied. ``sparse``: the
    checkout's sparse checkout, when it has one: the files outside it are not on disk, and are not lost.
    """

    head: str | None
    replaced_by: str
    changes: bool = False
    ignored: tuple[str, ...] = ()
    commits: tuple[str, ...] = ()
    leave: tuple[str, ...] = ()
    sparse: Sparse | None = None


def _read_index(git: GitRunner, path: str) -> bytes | None:
    """The checkout's index file, read through its git directory's descriptor: no link followed, and only when it
    belongs to the user git runs as (root reads nothing there that the owner could point elsewhere)."""
    directory = git_dir(path)
    if directory is None:
        return None
    owner = git.run_as.uid if git.run_as else os.geteuid()
    folder = open_folder(directory)
    try:
        return read_bytes(folder, "index", limit=_INDEX_LIMIT, owner=owner)
    finally:
        os.close(folder)


def backup(git: GitRunner, path: str, keep: Keep) -> str | None:
    """One ref that keeps everything the reset would destroy; its name, or None when there is nothing to keep.

    With ``changes``, a commit whose tree is the working tree as found, with parents HEAD, then the index as it was
    (a commit of the staged content, as ``git stash`` keeps it), then the ``commits`` to keep. Without, the commits
    alone: their one commit, or one commit with them all as parents.
    """
    head = keep.head
    commits = [commit for commit in dict.fromkeys(keep.commits) if commit and (commit != head or not keep.changes)]
    if not keep.changes:
        if not commits:
            return None
        if len(commits) == 1:
            return keep_commit(git, path, commits[0], "local commits")
        tree = git.run(["-C", path, "rev-parse", "--verify", "--end-of-options", f"{commits[0]}^{{tree}}"]).stdout.strip()
        return keep_commit(git, path, _commit(git, path, tree, commits, "local commits", keep), "local commits")
    with git.private_dir() as workdir:
        # A fresh index filled from HEAD carries no stat cache and no assume-unchanged or skip-worktree flags, so
        # every file is hashed: a timestamp that did not move (an edit in the same clock tick as the checkout)
        # cannot hide a change, neither can a flag, and tracked files that match .gitignore stay in the snapshot.
        env = dict(_IDENTITY, GIT_INDEX_FILE=os.path.join(workdir.path, "index"))
        if head:
            git.run(["-C", path, "read-tree", head], env=env, summary="cannot snapshot local changes")
        left = [f":(exclude,literal){nested}" for nested in keep.leave]  # git add refuses one with no commit
        if keep.sparse is None:
            git.run(["-C", path, "add", "--all", "--", ".", *left], env=env, summary="cannot snapshot local changes")
        else:
            _snapshot_sparse(git, path, keep.sparse, left, env, workdir)
        if keep.ignored:
            git.run(["-C", path, "add", "--force", "--", *keep.ignored], env=env, summary="cannot snapshot ignored files")
        # A sparse snapshot names HEAD's files outside the cone as HEAD does: a partial clone may not have their
        # contents (they are on the server, nothing of the user's), which write-tree would otherwise refuse.
        tree = git.run(["-C", path, "write-tree", *(["--missing-ok"] if keep.sparse else [])], env=env).stdout.strip()
        parents = [head] if head else []
        index = _read_index(git, path) if head else None
        if index is not None:  # the staged content, from a copy: write-tree writes the index it reads
            staged = dict(_IDENTITY, GIT_INDEX_FILE=workdir.write_bytes("staged-index", index))
            summary = f"cannot keep the staged content of {path} (unmerged files of a merge or rebase in progress?)"
            index_tree = git.run(["-C", path, "write-tree"], env=staged, summary=summary).stdout.strip()
            parents.append(_commit(git, path, index_tree, [head], "index (staged content)", keep))
        commit = _commit(git, path, tree, parents + commits, "local changes", keep)
    return keep_commit(git, path, commit, "local changes")


def _snapshot_sparse(git: GitRunner, path: str, sparse: Sparse, left: list[str], env: dict[str, str], workdir: PrivateDir) -> None:
    """The work tree of a sparse checkout into the fresh index: every file that is there, wherever it is (git add
    would skip those outside the cone, untracked ones too), and the deletions inside the cone only - outside it,
    a file that is not there was never checked out. (For patterns not in cone mode no deletion is recorded.)"""
    plain = ["-c", "core.sparseCheckout=false", "-C", path]
    git.run([*plain, "add", "--ignore-removal", "--", ".", *left], env=env, summary="cannot snapshot local changes")
    if sparse.folders is None:
        return
    missing = git.run([*plain, "ls-files", "-z", "--deleted", "--"], env=env, summary="cannot snapshot local changes").stdout.split("\0")
    deleted = [name for name in missing if name and in_cone(name, sparse.folders)]
    if deleted:  # from a file: there may be more than a command line holds
        listed = workdir.write_bytes("deleted", "\0".join(deleted).encode())
        literal = dict(env, GIT_LITERAL_PATHSPECS="1")
        git.run([*plain, "add", "--all", f"--pathspec-from-file={listed}", "--pathspec-file-nul"], env=literal, summary="cannot snapshot local changes")


def _commit(git: GitRunner, path: str, tree: str, parents: t.Sequence[str], what: str, keep: Keep) -> str:
    message = (
        f"fleetops.gitops backup of {what} at {utc_now().strftime('%Y%m%dT%H%M%SZ')}\n\n"
        f"Taken before resetting {path} from {keep.head or '(no commit)'} to {keep.replaced_by}.\n"
    )
    args = [word for parent in parents for word in ("-p", parent)]
    return git.run(["-C", path, "commit-tree", *args, "-m", message, tree], env=_IDENTITY).stdout.strip()


def keep_commit(git: GitRunner, path: str, commit: str, reason: str) -> str:
    """A new ref under refs/gitops/backups/ that keeps ``commit`` reachable; never overwrites one."""
    ref = f"{BACKUP_NAMESPACE}{utc_now().strftime('%Y%m%dT%H%M%SZ')}-{commit[:12]}"
    git.run(["-C", path, "update-ref", "-m", f"fleetops.gitops backup: {reason}", ref, commit, ""], summary="cannot record the backup ref")
    return ref


def stale_backups(git: GitRunner, where: t.Sequence[str], keep: int | None, max_age_days: int | None) -> list[str]:
    """The backup refs retention removes (read-only): all but the ``keep`` newest, and those older than
    ``max_age_days``, as dated by their names; none when neither limit is set (the default: keep every backup)."""
    if keep is None and max_age_days is None:
        return []
    refs = git.run([*where, "for-each-ref", "--format=%(refname)", "--", BACKUP_NAMESPACE.rstrip("/")]).stdout.split()
    dated = sorted((when, ref) for ref in refs for when in [_taken_at(ref)] if when is not None)
    stale = {ref for _when, ref in dated[: max(0, len(dated) - keep)]} if keep is not None else set()
    if max_age_days is not None:
        oldest = utc_now() - timedelta(days=max_age_days)
        stale |= {ref for when, ref in dated if when < oldest}
    return sorted(stale)


def drop_backups(git: GitRunner, where: t.Sequence[str], refs: t.Sequence[str]) -> None:
    for ref in refs:
        git.run([*where, "update-ref", "-d", ref], summary=f"cannot remove the old backup {ref}")


def _taken_at(ref: str) -> datetime | None:
    """When a backup was taken, from its name (``<namespace><UTC time>-<commit>``); None for a name of another form."""
    stamp = strip_prefix(ref, BACKUP_NAMESPACE).split("-", 1)[0]
    try:
        return datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        return None
