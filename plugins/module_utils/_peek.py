# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private: look at commits the checkout does not have yet, without writing anything in it.

The commits are fetched into a throwaway repository that borrows the
checkout's objects (git alternates), so only what is missing travels, and the
checkout's ``.git`` is only read. The drift report uses it to count commits
behind and ahead and to tell rewritten history from local commits.
"""

from __future__ import annotations

import os
import shutil

from ansible_collections.fleetops.gitops.plugins.module_utils._git import GitRunner


def ahead_behind(git: GitRunner, git_dir: str, head: str, url: str, desired: str) -> tuple[int, int] | None:
    """(commits only in ``head``, commits only in ``desired``), or None when the remote will not say."""
    folder = git.private_dir()
    try:
        peek = os.path.join(folder, "peek.git")
        git.run(["init", "--quiet", "--bare", peek])
        with open(os.path.join(peek, "objects", "info", "alternates"), "w", encoding="utf-8") as handle:
            handle.write(os.path.join(os.path.abspath(git_dir), "objects") + "\n")
        fetched = git.run(["--git-dir", peek, "fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "--", url, desired],
                          ok=range(256), network=True)
        if fetched.rc != 0:
            return None
        counted = git.run(["--git-dir", peek, "rev-list", "--left-right", "--count", f"{head}...{desired}", "--"], ok=(0, 128))
        if counted.rc != 0:
            return None
        ahead, behind = (int(n) for n in counted.stdout.split())
        return ahead, behind
    finally:
        shutil.rmtree(folder, ignore_errors=True)
