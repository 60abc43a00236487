# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private: look at commits the checkout does not have yet, without writing anything in it.

The commits are fetched into a throwaway repository that borrows the
checkout's objects (``GIT_ALTERNATE_OBJECT_DIRECTORIES``, so nothing is written
to tell it where they are), so only what is missing travels, and the checkout's
``.git`` is only read. The drift report uses it to count commits behind and
ahead and to tell rewritten history from local commits.
"""

from __future__ import annotations

import os

from ansible_collections.fleetops.gitops.plugins.module_utils._git import GitRunner, Remote
from ansible_collections.fleetops.gitops.plugins.module_utils._history import Distance, distance_between


def ahead_behind(git: GitRunner, git_dir: str, head: str, url: str, desired: str) -> Distance | None:
    """(commits only in ``head``, commits only in ``desired``), or None when the remote will not say."""
    with git.private_dir() as folder:
        peek = os.path.join(folder.path, "peek.git")
        git.run(["init", "--quiet", "--bare", "--", peek])
        env = {"GIT_ALTERNATE_OBJECT_DIRECTORIES": alternate(os.path.join(os.path.abspath(git_dir), "objects"))}
        fetched = git.run(["--git-dir", peek, "fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "--",
                           Remote(url), desired], env=env, ok=range(256), network=True)
        if fetched.rc != 0:
            return None
        return distance_between(git, peek, head, desired, env=env, git_dir=True)


def alternate(path: str) -> str:
    """One entry of GIT_ALTERNATE_OBJECT_DIRECTORIES: C-quoted when it holds the ':' that separates entries."""
    if not any(char in path for char in ':"\\'):
        return path
    return '"' + path.replace("\\", "\\\\").replace('"', '\\"') + '"'
