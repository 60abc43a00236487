# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Nothing is lost: whatever the reset would destroy is kept in the backup ref, or local_changes=fail refuses.

Each case is something git status does not show, or git checkout --force destroys silently: a commit on the
branch the sync moves while HEAD is elsewhere, ignored files the new revision starts tracking, staged content
that differs from the working tree, and edits hidden by assume-unchanged or skip-worktree.
"""

from __future__ import annotations

import subprocess

import pytest

from ansible_collections.fleetops.gitops.plugins.module_utils._errors import LocalChangesError
from ansible_collections.fleetops.gitops.plugins.module_utils.checkout import GitOpsSynchronizer
from ansible_collections.fleetops.gitops.tests.unit.helpers.git_fixtures import run_git


def _git(dest, *args: str) -> str:
    return run_git("-C", str(dest), *args)


def _reachable(dest, ref: str | None, commit: str) -> bool:
    return bool(ref) and subprocess.run(["git", "-C", str(dest), "merge-base", "--is-ancestor", commit, ref], check=False).returncode == 0


@pytest.fixture
def checkout(upstream, tmp_path):
    dest = tmp_path / "app"
    GitOpsSynchronizer(upstream.url, str(dest)).run("main")
    return dest


def test_a_commit_on_the_target_branch_is_kept_when_head_is_on_another(upstream, checkout):
    (checkout / "local.txt").write_text("made here\n")
    _git(checkout, "add", "local.txt")
    _git(checkout, "commit", "--quiet", "-m", "made on main, here")
    local = _git(checkout, "rev-parse", "HEAD")
    _git(checkout, "checkout", "--quiet", "-b", "elsewhere", "origin/main")  # HEAD leaves main; main keeps the commit
    upstream.commit()
    with pytest.raises(LocalChangesError, match=f"local commits not on the remote, up to {local} \\(branch main\\)"):
        GitOpsSynchronizer(upstream.url, str(checkout), local_changes="fail").run("main")
    assert _git(checkout, "rev-parse", "main") == local and _git(checkout, "rev-parse", "--abbrev-ref", "HEAD") == "elsewhere"
    run_git("-C", str(checkout), "fetch", "--quiet", "origin")
    with pytest.raises(LocalChangesError, match="local commits not on the remote"):  # with the commit at hand, check mode knows
        GitOpsSynchronizer(upstream.url, str(checkout), local_changes="fail").run("main", check_mode=True)
    kept = GitOpsSynchronizer(upstream.url, str(checkout)).run("main")
    assert _git(checkout, "rev-parse", "main") == upstream.head() and _git(checkout, "rev-parse", "--abbrev-ref", "HEAD") == "main"
    assert kept.backup_ref and _reachable(checkout, kept.backup_ref, local)


@pytest.mark.parametrize("in_the_way", ["file", "folder", "file where a folder comes"])
def test_ignored_files_the_new_revision_tracks_are_kept_or_refused(upstream, checkout, in_the_way):
    (checkout / ".gitignore").write_text("*.log\nsecrets.env\nbuild/\nvendor\n")
    upstream.commit({".gitignore": "*.log\nsecrets.env\nbuild/\nvendor\n"})
    GitOpsSynchronizer(upstream.url, str(checkout)).run("main")
    mine = {
        "file": {"secrets.env": "API_KEY=mine\n"},
        "folder": {"build/out.bin": "built here\n", "build/keep.txt": "x\n"},
        "file where a folder comes": {"vendor": "a file of mine\n"},
    }[in_the_way]
    for name, content in mine.items():
        (checkout / name).parent.mkdir(parents=True, exist_ok=True)
        (checkout / name).write_text(content)
    assert _git(checkout, "status", "--porcelain") == ""  # all ignored: git status sees nothing
    tracked = {
        "file": {"secrets.env": "API_KEY=upstream\n"},
        "folder": {"build": "now a file\n"},
        "file where a folder comes": {"vendor/lib.txt": "upstream\n"},
    }[in_the_way]
    for name, content in tracked.items():  # added with --force: upstream ignores them too, and tracks them anyway
        (upstream.path / name).parent.mkdir(parents=True, exist_ok=True)
        (upstream.path / name).write_text(content)
        upstream.git("add", "--force", name)
    upstream.git("commit", "--quiet", "-m", "track what was ignored")
    listed = {"file": "secrets.env", "folder": "build/", "file where a folder comes": "vendor"}[in_the_way]
    with pytest.raises(LocalChangesError, match=f"ignored files the new revision would overwrite: {listed}") as refused:
        GitOpsSynchronizer(upstream.url, str(checkout), local_changes="fail").run("main")
    assert refused.value.overwritten == [listed]
    assert all((checkout / name).read_text() == content for name, content in mine.items())
    result = GitOpsSynchronizer(upstream.url, str(checkout)).run("main")
    assert result.backup_ref and result.to_dict()["local_changes"]["overwritten"] == [listed]
    for name, content in mine.items():
        assert _git(checkout, "show", f"{result.backup_ref}:{name}") + "\n" == content
    assert _git(checkout, "rev-parse", "HEAD") == upstream.head() and _git(checkout, "status", "--porcelain") == ""


def test_staged_content_is_kept_beside_the_working_tree(upstream, checkout):
    (checkout / "file0.txt").write_text("staged version\n")
    _git(checkout, "add", "file0.txt")
    (checkout / "file0.txt").write_text("working-tree version\n")
    upstream.commit()
    result = GitOpsSynchronizer(upstream.url, str(checkout)).run("main")
    assert _git(checkout, "show", f"{result.backup_ref}:file0.txt") == "working-tree version"
    assert _git(checkout, "show", f"{result.backup_ref}^2:file0.txt") == "staged version"


@pytest.mark.parametrize("flag", ["--assume-unchanged", "--skip-worktree"])
def test_edits_hidden_by_index_flags_count_as_local_changes(upstream, checkout, flag):
    _git(checkout, "update-index", flag, "file1.txt")
    (checkout / "file1.txt").write_text("hidden hand edit\n")
    assert _git(checkout, "status", "--porcelain") == ""
    upstream.commit({"file1.txt": "upstream change\n"})
    with pytest.raises(LocalChangesError, match=r"modified: file1.txt \(file1.txt marked assume-unchanged or skip-worktree\)"):
        GitOpsSynchronizer(upstream.url, str(checkout), local_changes="fail").run("main")
    assert (checkout / "file1.txt").read_text() == "hidden hand edit\n"
    result = GitOpsSynchronizer(upstream.url, str(checkout)).run("main")
    assert _git(checkout, "show", f"{result.backup_ref}:file1.txt") == "hidden hand edit"
    assert (checkout / "file1.txt").read_text() == "upstream change\n" and _git(checkout, "rev-parse", "HEAD") == upstream.head()
    assert _git(checkout, "ls-files", "-v", "file1.txt").startswith("H ")  # flags cleared, the sync proceeded
    upstream.commit({"file1.txt": "once more\n"})
    _git(checkout, "update-index", flag, "file1.txt")
    assert GitOpsSynchronizer(upstream.url, str(checkout), local_changes="discard").run("main").changed
    assert (checkout / "file1.txt").read_text() == "once more\n"
