# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The repair of a killed run removes what git left in the checkout, and nothing a link in the checkout points at."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from ansible_collections.fleetops.gitops.plugins.module_utils.checkout import GitOpsSynchronizer
from ansible_collections.fleetops.gitops.tests.unit.helpers.git_fixtures import run_git


def _tree(path: Path) -> dict[str, str]:
    return {str(p.relative_to(path)): p.read_text() if p.is_file() else "/" for p in sorted(path.rglob("*"))}


def test_the_repair_never_follows_a_link_out_of_the_git_directory(upstream, tmp_path):
    """Links in .git/refs and .git/objects that point outside: no *.lock file nor folder there is removed.

    A stale index.lock makes the next run repair the checkout; before, its search for refs/**/*.lock followed the
    link to refs/evil and deleted outside.lock and the whole outside folder named like git's temporary object folder.
    """
    dest = tmp_path / "app"
    GitOpsSynchronizer(upstream.url, str(dest)).run("main")
    outside = tmp_path / "outside"
    (outside / "sub").mkdir(parents=True)
    (outside / "outside.lock").write_text("precious\n")
    (outside / "sub" / "deep.lock").write_text("precious\n")
    (outside / "kept.lock").mkdir()
    (outside / "kept.lock" / "data").write_text("precious\n")
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "tmp_objdir-x").mkdir(parents=True)
    (elsewhere / "tmp_objdir-x" / "data").write_text("precious\n")
    before = _tree(outside), _tree(elsewhere)
    os.symlink(outside, dest / ".git" / "refs" / "evil")
    os.symlink(elsewhere / "tmp_objdir-x", dest / ".git" / "objects" / "tmp_objdir-link")
    (dest / ".git" / "index.lock").write_text("")  # what a killed git leaves: the repair runs
    upstream.commit()

    result = GitOpsSynchronizer(upstream.url, str(dest)).run("main")

    assert result.changed and not (dest / ".git" / "index.lock").exists()
    assert any("interrupted git run" in warning for warning in result.warnings)
    assert (_tree(outside), _tree(elsewhere)) == before
    assert run_git("-C", str(dest), "rev-parse", "HEAD") == upstream.head()


def test_the_repair_leaves_lock_files_of_another_user(upstream, tmp_path, other_user):
    """Only what the user git runs as left is removed: a *.lock of someone else in refs/ stays (and is not followed)."""
    dest = tmp_path / "app"
    GitOpsSynchronizer(upstream.url, str(dest)).run("main")
    foreign = dest / ".git" / "refs" / "heads" / "other.lock"
    foreign.write_text("")
    subprocess.run(["chown", other_user, str(foreign)], check=True)
    (dest / ".git" / "index.lock").write_text("")
    upstream.commit()
    result = GitOpsSynchronizer(upstream.url, str(dest)).run("main")
    assert result.changed and foreign.exists() and not (dest / ".git" / "index.lock").exists()
