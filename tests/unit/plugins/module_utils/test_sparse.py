# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Sparse checkout (``sparse``, cone mode) against real repositories: what the tree holds, the no-op, a change of
folders as a change, check mode that writes nothing, drift, local changes, and the folder names refused."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ansible_collections.fleetops.gitops.plugins.module_utils._errors import InvalidOption, LocalChangesError
from ansible_collections.fleetops.gitops.plugins.module_utils._options import SyncOptions
from ansible_collections.fleetops.gitops.plugins.module_utils._release_options import ReleasePolicy
from ansible_collections.fleetops.gitops.plugins.module_utils._sparse import cone_folders, cone_pathspecs, in_cone
from ansible_collections.fleetops.gitops.plugins.module_utils.checkout import GitOpsSynchronizer
from ansible_collections.fleetops.gitops.plugins.module_utils.drift import GitOpsSynchronizer as Drift
from ansible_collections.fleetops.gitops.plugins.module_utils.drift import SyncState
from ansible_collections.fleetops.gitops.tests.unit.helpers.git_fixtures import run_git, snapshot

_TREE = {"app/static/site.css": "css\n", "app/main.py": "main\n", "app/lib/util.py": "util\n", "docs/guide.md": "guide\n", "top.txt": "top\n"}
_ROOT = {".gitignore", "file0.txt", "file1.txt", "file2.txt", "top.txt"}


@pytest.fixture
def tree(upstream):
    upstream.commit(_TREE, "a tree with folders")
    return upstream


def _files(path: Path) -> set[str]:
    return {
        str(Path(root, name).relative_to(path)) for root, dirs, names in os.walk(path) if ".git" not in Path(root).relative_to(path).parts for name in names
    }


def _git(path: Path, *args: str) -> str:
    return run_git("-C", str(path), *args)


def test_a_sparse_clone_holds_the_folders_and_the_files_on_the_way(tree, tmp_path):
    dest = tmp_path / "app"
    result = GitOpsSynchronizer(tree.url, str(dest), sparse=["app/static/"]).run("main")
    assert result.changed and result.plan.action == "clone"
    assert _files(dest) == _ROOT | {"app/main.py", "app/static/site.css"}  # not app/lib, not docs
    assert _git(dest, "sparse-checkout", "list") == "app/static"
    assert _git(dest, "status", "--porcelain") == ""


def test_a_sparse_noop_runs_two_git_processes_and_writes_nothing(tree, tmp_path, git_counter):
    dest = tmp_path / "app"
    sync = GitOpsSynchronizer(tree.url, str(dest), sparse=["docs", "app/lib"])
    sync.run("main")
    before = snapshot(dest)
    git_counter.reset()
    result = sync.run("main")
    assert (result.changed, result.plan.action, result.plan.findings) == (False, "none", ())
    assert git_counter.subcommands() == ["status", "ls-remote"]  # the folders are read from .git's files
    assert snapshot(dest) == before


def test_a_config_git_must_read_gives_the_same_answer(tree, tmp_path, git_counter):
    """A config file the plain reader leaves to git (an include) is asked once: the flags come from git then."""
    dest = tmp_path / "app"
    sync = GitOpsSynchronizer(tree.url, str(dest), sparse=["docs"])
    sync.run("main")
    (tmp_path / "extra.config").write_text("[core]\n\tquotepath = false\n")
    _git(dest, "config", "include.path", str(tmp_path / "extra.config"))
    git_counter.reset()
    assert sync.run("main").changed is False
    assert git_counter.subcommands() == ["config", "status", "ls-remote"]
    assert GitOpsSynchronizer(tree.url, str(dest), sparse=["app"]).run("main", check_mode=True).changed


def test_other_folders_are_a_change_that_check_mode_predicts_and_writes_nothing_for(tree, tmp_path):
    dest = tmp_path / "app"
    GitOpsSynchronizer(tree.url, str(dest), sparse=["docs"]).run("main")
    wider = GitOpsSynchronizer(tree.url, str(dest), sparse=["docs", "app/lib"])
    before = snapshot(dest)
    checked = wider.run("main", check_mode=True, diff=True)
    assert snapshot(dest) == before  # .git included
    assert checked.changed and checked.plan.action == "update"
    assert checked.plan.findings == ("sparse checkout holds the folders docs, expected the folders app/lib, docs",)
    assert "sparse checkout: the folders app/lib, docs" in checked.diff["after"]
    assert checked.status.state is SyncState.DRIFTED
    result = wider.run("main")
    assert result.changed and result.backup_ref is None and result.plan.after == tree.head()
    assert _files(dest) == _ROOT | {"docs/guide.md", "app/main.py", "app/lib/util.py"}
    assert wider.run("main").changed is False


def test_leaving_sparse_unset_brings_the_whole_tree_back(tree, tmp_path):
    dest = tmp_path / "app"
    GitOpsSynchronizer(tree.url, str(dest), sparse=["docs"]).run("main")
    whole = GitOpsSynchronizer(tree.url, str(dest))
    assert whole.run("main", check_mode=True).plan.findings == ("sparse checkout holds the folders docs, expected the whole tree",)
    assert whole.run("main").changed
    assert _files(dest) == _ROOT | set(_TREE)
    assert _git(dest, "config", "core.sparseCheckout") == "false"
    assert whole.run("main").changed is False


def test_an_update_writes_and_diffs_only_inside_the_cone(tree, tmp_path):
    dest = tmp_path / "app"
    sync = GitOpsSynchronizer(tree.url, str(dest), sparse=["app/static"])
    sync.run("main")
    tree.commit({"app/static/site.css": "css 2\n", "docs/guide.md": "guide 2\n", "docs/new.md": "new\n", "app/main.py": "main 2\n"})
    checked = sync.run("main", check_mode=True, diff=True)
    listed = checked.diff["prepared"].splitlines()[1:]
    assert sorted(listed) == ["M\tapp/main.py", "M\tapp/static/site.css"]  # docs/ is not in this work tree
    assert sync.run("main").changed
    assert _files(dest) == _ROOT | {"app/main.py", "app/static/site.css"}
    assert (dest / "app" / "static" / "site.css").read_text() == "css 2\n"


def test_edits_in_a_folder_that_leaves_the_cone_are_kept_or_refused(tree, tmp_path):
    dest = tmp_path / "app"
    GitOpsSynchronizer(tree.url, str(dest), sparse=["app"]).run("main")
    (dest / "app" / "main.py").write_text("hand edit\n")
    (dest / "app" / "notes.txt").write_text("mine\n")
    (dest / "app" / "lib" / "util.py").unlink()
    (dest / "docs").mkdir()
    (dest / "docs" / "draft.md").write_text("outside the cone, untracked\n")  # git add alone would skip it
    narrower = {"sparse": ["docs"]}
    before = snapshot(dest)
    for check_mode in (True, False):
        with pytest.raises(LocalChangesError):
            GitOpsSynchronizer(tree.url, str(dest), local_changes="fail", **narrower).run("main", check_mode=check_mode)
    assert snapshot(dest) == before
    result = GitOpsSynchronizer(tree.url, str(dest), **narrower).run("main")
    assert result.changed and result.backup_ref
    kept = set(_git(dest, "ls-tree", "-r", "--name-only", result.backup_ref).split())
    assert kept == _ROOT | {"app/main.py", "app/notes.txt", "app/static/site.css", "docs/guide.md", "docs/draft.md"}  # deleted: util.py only
    assert _git(dest, "show", f"{result.backup_ref}:app/main.py") == "hand edit"
    assert _git(dest, "show", f"{result.backup_ref}:docs/draft.md") == "outside the cone, untracked"
    assert _files(dest) == _ROOT | {"docs/guide.md"}


def test_drift_reads_the_cone_and_ignores_what_is_outside_it(tree, tmp_path):
    dest = tmp_path / "app"
    GitOpsSynchronizer(tree.url, str(dest), sparse=["docs"]).run("main")
    status = Drift(str(dest), "main", sparse=["docs"]).sync_state()
    assert (status.state, status.drift_details) == (SyncState.IN_SYNC, [])  # app/ and its files are not "missing"
    other = Drift(str(dest), "main", sparse=["app"]).sync_state()
    assert other.state is SyncState.DRIFTED
    assert other.drift_details == ["sparse checkout holds the folders docs, expected the folders app"]
    result = Drift(str(dest), "main", sparse=["app"], repo_url=tree.url).run(reconcile=True)
    assert result.status.state is SyncState.IN_SYNC and _files(dest) == _ROOT | {"app/main.py", "app/lib/util.py", "app/static/site.css"}


def test_a_sparse_checkout_made_by_hand_is_drift_and_is_replaced(tree, tmp_path):
    dest = tmp_path / "app"
    sync = GitOpsSynchronizer(tree.url, str(dest), sparse=["docs"])
    sync.run("main")
    _git(dest, "sparse-checkout", "set", "--no-cone", "/*.txt")
    assert sync.run("main", check_mode=True).plan.findings == (
        "sparse checkout holds sparse patterns that are not cone mode's folders, expected the folders docs",
    )
    assert sync.run("main").changed
    assert _git(dest, "sparse-checkout", "list") == "docs" and _files(dest) == _ROOT | {"docs/guide.md"}
    assert sync.run("main").changed is False


def test_a_link_in_place_of_the_sparse_file_is_not_followed(tree, tmp_path):
    dest = tmp_path / "app"
    sync = GitOpsSynchronizer(tree.url, str(dest), sparse=["docs"])
    sync.run("main")
    planted = tmp_path / "elsewhere"
    planted.write_bytes((dest / ".git" / "info" / "sparse-checkout").read_bytes())
    (dest / ".git" / "info" / "sparse-checkout").unlink()
    (dest / ".git" / "info" / "sparse-checkout").symlink_to(planted)
    assert sync.run("main", check_mode=True).plan.findings == (
        "sparse checkout holds sparse patterns that are not cone mode's folders, expected the folders docs",
    )


@pytest.mark.parametrize(
    "folders",
    [["../etc"], ["app/../../etc"], [".git"], ["app/.GIT/hooks"], ["*"], ["app/[ab]"], ["!app"], ["#app"], ["a\nb"], [""], ["."], [], "app"],
)
def test_folders_that_are_not_plain_folders_inside_the_tree_are_refused(tree, tmp_path, folders):
    with pytest.raises(InvalidOption, match="sparse"):
        GitOpsSynchronizer(tree.url, str(tmp_path / "app"), sparse=folders)
    assert not (tmp_path / "app").exists()


def test_a_folder_named_like_an_option_is_a_folder(upstream, tmp_path):
    upstream.commit({"-n/x.txt": "x\n", "other/y.txt": "y\n"})
    dest = tmp_path / "app"
    GitOpsSynchronizer(upstream.url, str(dest), sparse=["-n"]).run("main")
    assert _files(dest) == {".gitignore", "file0.txt", "file1.txt", "file2.txt", "-n/x.txt"}


def test_the_folders_are_kept_as_git_keeps_them():
    assert cone_folders("sparse", ["docs/", "app", "app/lib", "/config"]) == ("app", "config", "docs")
    assert cone_pathspecs(("app/lib", "docs")) == [":(glob)*", ":(glob)app/*", ":(glob)app/lib/**", ":(glob)docs/**"]
    inside = ["top.txt", "app/main.py", "app/lib/util.py", "app/lib/deep/x.py", "docs/a/b.md"]
    outside = ["app/static/site.css", "config/app.ini", "applib/x.py", "app/libs/y.py"]
    assert [name for name in inside + outside if in_cone(name, ("app/lib", "docs"))] == inside


def test_the_release_layout_refuses_sparse():
    with pytest.raises(InvalidOption, match="layout: checkout only"):
        SyncOptions(sparse=("docs",), releases=ReleasePolicy(layout="releases"))
