# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private: questions about commits a repository has - is this commit here, how far apart are two commits."""

from __future__ import annotations

import typing as t

from ansible_collections.fleetops.gitops.plugins.module_utils._git import GitRunner

Distance = t.Tuple[int, int]  # (ahead, behind): commits only the first has, and commits only the second has


def distance_between(git: GitRunner, path: str, first: str, second: str, *, env: t.Mapping[str, str] | None = None,
                     git_dir: bool = False) -> Distance | None:
    """(commits only in ``first``, commits only in ``second``) with one ``git rev-list``; None when either commit,
    or the history between them, is not in the repository at ``path`` (a work tree, or with ``git_dir`` a git directory)."""
    where = ["--git-dir", path] if git_dir else ["-C", path]
    result = git.run([*where, "rev-list", "--left-right", "--count", f"{first}...{second}", "--"], ok=(0, 128), env=env)
    if result.rc != 0:
        return None
    ahead, behind = (int(n) for n in result.stdout.split())
    return ahead, behind


def has_commit(git: GitRunner, path: str, sha: str) -> bool:
    return git.run(["-C", path, "cat-file", "-e", f"{sha}^{{commit}}"], ok=(0, 1, 128)).rc == 0
