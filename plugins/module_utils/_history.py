# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private: questions about commits a repository has - is this commit here, what is it, how far apart are two.

The repository asked is a ``Where``: a checkout, or a throwaway peek repository that borrows the checkout's objects
and holds the commits fetched for a read-only look (see ``_peek``).
"""

from __future__ import annotations

import os
import typing as t
from dataclasses import dataclass, field

from ansible_collections.fleetops.gitops.plugins.module_utils._git import GitRunner

Distance = t.Tuple[int, int]  # (ahead, behind): commits only the first has, and commits only the second has


@dataclass(frozen=True)
class Where:
    """How git reaches a repository's objects: ``-C <work tree>``, or ``--git-dir <peek>`` with borrowed objects."""

    args: tuple[str, ...]
    env: t.Mapping[str, str] = field(default_factory=dict)
    shallow: bool = False  # a shallow history proves no commit is *not* an ancestor

    @classmethod
    def checkout(cls, path: str, git_dir: str | None = None) -> Where:
        return cls(("-C", path), shallow=bool(git_dir) and os.path.lexists(os.path.join(git_dir or "", "shallow")))


# rev-list asked about a commit that is not here does not try git's lazy fetch first (in a partial clone it would,
# and fail: no git command but a fetch of ours may reach a transport); a missing object is still an error.
_NO_LAZY_FETCH = ("--missing=allow-promisor",)


def distance_between(git: GitRunner, where: Where, first: str, second: str) -> Distance | None:
    """(commits only in ``first``, commits only in ``second``) with one ``git rev-list``; None when either commit,
    or the history between them, is not in the repository."""
    counting = ["rev-list", *_NO_LAZY_FETCH, "--left-right", "--count", "--end-of-options", f"{first}...{second}", "--"]
    result = git.run([*where.args, *counting], ok=(0, 128), env=where.env)
    if result.rc != 0:
        return None
    ahead, behind = (int(n) for n in result.stdout.split())
    return ahead, behind


def how_far(git: GitRunner, where: Where, actual: str | None, desired: str | None) -> Distance | None:
    """``distance_between`` the commit deployed and the one desired; None when they are the same commit, when either
    is unknown, or when either (or the history between them) is not in the repository."""
    if not actual or not desired or actual == desired:
        return None
    return distance_between(git, where, actual, desired)


def has_commit(git: GitRunner, where: Where, sha: str) -> bool:
    return git.run([*where.args, "rev-list", *_NO_LAZY_FETCH, "--no-walk", "--end-of-options", f"{sha}^{{commit}}", "--"], ok=(0, 128), env=where.env).rc == 0


def object_type(git: GitRunner, where: Where, sha: str) -> str | None:
    """``commit``, ``tree`` or ``blob``: what the object is once peeled of its tags; None when it is not here."""
    result = git.run([*where.args, "cat-file", "-t", f"{sha}^{{}}"], ok=(0, 1, 128), env=where.env)
    return result.stdout.strip() if result.rc == 0 else None
