# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private: look at commits the checkout does not have yet, without writing anything in it.

The commits are fetched into a throwaway repository in the run's private folder that borrows the checkout's
objects (``GIT_ALTERNATE_OBJECT_DIRECTORIES``, so nothing is written to tell it where they are) and knows the
checkout's HEAD, so only what is missing travels, and the checkout's ``.git`` is only read. Check mode plans
in it exactly as a real run plans after its fetch; the drift report counts commits behind and ahead in it.
Without a checkout (a clone to come), only the target's last commit is fetched (``--depth 1``).
"""

from __future__ import annotations

import contextlib
import os
import typing as t
from dataclasses import replace

from ansible_collections.fleetops.gitops.plugins.module_utils._errors import GitOpsError
from ansible_collections.fleetops.gitops.plugins.module_utils._fetching import Fetch
from ansible_collections.fleetops.gitops.plugins.module_utils._git import GitRunner
from ansible_collections.fleetops.gitops.plugins.module_utils._history import Distance, Where, distance_between, has_commit
from ansible_collections.fleetops.gitops.plugins.module_utils._partial import complete
from ansible_collections.fleetops.gitops.plugins.module_utils._refs import COMMIT, Target
from ansible_collections.fleetops.gitops.plugins.module_utils._url import RepoUrl


@contextlib.contextmanager
def peek_at(fetch: Fetch, git_dir: str | None, target: Target, haves: t.Sequence[str] = ()) -> t.Iterator[Where]:
    """A throwaway repository holding ``target`` as the real run would ``fetch`` it (raising as it would): only its
    last commit without a repository to borrow from.

    With the filter of a partial clone, the target's trees are fetched too, when the filter left them out, for the
    plan's comparisons of trees (its files are not: nothing is checked out here)."""
    git, url = fetch.git, fetch.url
    with git.private_dir() as folder:
        peek = os.path.join(folder.path, "peek.git")
        git.run(["init", "--quiet", "--bare", "--", peek])
        env = {"GIT_ALTERNATE_OBJECT_DIRECTORIES": alternate(os.path.join(os.path.abspath(git_dir), "objects"))} if git_dir else {}
        where = Where(("--git-dir", peek), env)
        for number, have in enumerate(sha for sha in dict.fromkeys(haves) if sha):  # what negotiation may say is there
            git.run(["--git-dir", peek, "update-ref", f"refs/have/{number}", have], env=env, ok=(0, 128))
        replace(fetch, depth=None if git_dir else 1).target(where, target, lambda: has_commit(git, where, target.sha))
        if fetch.filter:
            complete(git, where, url, target.sha, (), trees_only=True)
        yield where


def ahead_behind(git: GitRunner, git_dir: str, head: str, url: RepoUrl, desired: str, partial: str | None = None) -> Distance | None:
    """(commits only in ``head``, commits only in ``desired``), or None when the remote will not say; ``partial``:
    the checkout's filter, which the peek's fetch uses too."""
    try:
        with peek_at(Fetch(git, url, filter=partial), git_dir, Target(COMMIT, None, desired), (head,)) as where:
            return distance_between(git, where, head, desired)
    except (GitOpsError, OSError):  # a line of the drift report, not a failure: "distance unknown"
        return None


def alternate(path: str) -> str:
    """One entry of GIT_ALTERNATE_OBJECT_DIRECTORIES: C-quoted when it holds the ':' that separates entries."""
    if not any(char in path for char in ':"\\'):
        return path
    return '"' + path.replace("\\", "\\\\").replace('"', '\\"') + '"'
