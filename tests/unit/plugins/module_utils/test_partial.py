# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Partial clone (``filter``) against real repositories served over file://, git daemon and smart HTTP with basic
auth: what is left on the server, the no-op, updates, check mode that writes nothing, sparse checkouts that fetch
only their cone, the release layout, and the lazy fetch git would make from the config that never happens."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ansible_collections.fleetops.gitops.plugins.module_utils._errors import GitCommandError, InvalidOption
from ansible_collections.fleetops.gitops.plugins.module_utils._git import GitRunner
from ansible_collections.fleetops.gitops.plugins.module_utils._history import Where, distance_between, has_commit
from ansible_collections.fleetops.gitops.plugins.module_utils._options import SyncOptions
from ansible_collections.fleetops.gitops.plugins.module_utils._partial import cone_of_switch, filter_spec
from ansible_collections.fleetops.gitops.plugins.module_utils._sparse import Sparse
from ansible_collections.fleetops.gitops.plugins.module_utils.checkout import GitOpsSynchronizer
from ansible_collections.fleetops.gitops.plugins.module_utils.drift import GitOpsSynchronizer as Drift
from ansible_collections.fleetops.gitops.plugins.module_utils.drift import SyncState
from ansible_collections.fleetops.gitops.plugins.module_utils.releases import ReleaseSynchronizer
from ansible_collections.fleetops.gitops.tests.unit.helpers.git_fixtures import realworld_folder, run_git, snapshot

_TREE = {"app/main.py": "main v1\n", "app/lib/util.py": "util v1\n", "docs/guide.md": "guide v1\n", "assets/big.bin": "B" * 5000 + "\n"}


@pytest.fixture
def tree(upstream):
    upstream.git("config", "uploadpack.allowFilter", "true")  # upload-pack reads the served repository's config
    upstream.commit(_TREE, "a tree with folders")
    return upstream


def _git(path: Path, *args: str) -> str:
    return run_git("-C", str(path), *args)


def _missing(path: Path) -> set[str]:
    """The objects the history refers to that are not here (a lazy fetch is not tried: --missing=print)."""
    out = _git(path, "rev-list", "--objects", "--all", "--missing=print")
    return {line[1:] for line in out.splitlines() if line.startswith("?")}


def _present(path: Path) -> set[str]:
    return {line.split(" ")[0] for line in _git(path, "rev-list", "--objects", "--all", "--missing=print").splitlines() if not line.startswith("?")}


def _blobs(git_dir: Path) -> int:
    """How many file contents the repository holds (its own objects: no lazy fetch)."""
    out = run_git("--git-dir", str(git_dir), "cat-file", "--batch-all-objects", "--batch-check=%(objecttype)")
    return out.split().count("blob")


def _blob(path: Path, rev: str, name: str) -> str:
    return _git(path, "rev-parse", f"{rev}:{name}")


def _sections(path: Path) -> str:
    return (path / ".git" / "config").read_text()


@pytest.mark.parametrize("value", ["blob:none", "tree:0", "blob:limit=1m", "blob:limit=4096", " BLOB:NONE "])
def test_the_filters_a_checkout_is_cloned_with(value):
    assert filter_spec("filter", value) == value.strip().lower()


@pytest.mark.parametrize("value", ["", "sparse:oid=HEAD:spec", "combine:blob:none+tree:0", "blob:limit=0", "blob:none --upload-pack=x", "tree:1"])
def test_other_filters_are_refused_before_git_runs(value):
    with pytest.raises(InvalidOption, match="filter: must be blob:none, tree:0 or blob:limit"):
        SyncOptions(filter=value)


def test_a_partial_clone_holds_its_files_and_leaves_the_history_s_on_the_server(tree, tmp_path):
    old = _blob(tree.path, "main", "file0.txt")
    tree.commit({"file0.txt": "content 0, second version\n"}, "a new version of file0")
    dest = tmp_path / "app"
    result = GitOpsSynchronizer(tree.url, str(dest), filter="blob:none").run("main")
    assert result.changed and _git(dest, "rev-parse", "HEAD") == tree.head()
    assert (dest / "file0.txt").read_text() == "content 0, second version\n" and _git(dest, "status", "--porcelain") == ""
    assert old in _missing(dest)  # the old version stayed on the server
    assert _git(dest, "config", "remote.origin.partialclonefilter") == "blob:none"
    assert "fleetops-gitops" not in _sections(dest)  # our fetches' random remotes left no section behind


def test_a_partial_noop_runs_two_git_processes_and_writes_nothing(tree, tmp_path, git_counter):
    dest = tmp_path / "app"
    sync = GitOpsSynchronizer(tree.url, str(dest), filter="blob:none")
    sync.run("main")
    before = snapshot(dest)
    git_counter.reset()
    assert sync.run("main").changed is False
    assert git_counter.subcommands() == ["status", "ls-remote"]  # the filter is read from the config file
    assert snapshot(dest) == before


@pytest.mark.parametrize("spec", ["blob:none", "tree:0", "blob:limit=1k"])
def test_an_update_fetches_with_the_filter_and_check_mode_predicts_it_writing_nothing(tree, tmp_path, spec):
    dest = tmp_path / "app"
    GitOpsSynchronizer(tree.url, str(dest), filter=spec).run("main")
    between = tree.commit({"assets/big.bin": "M" * 5000 + "\n"}, "a version no checkout ever holds")
    tree.commit({"app/main.py": "main v2\n", "assets/big.bin": "C" * 5000 + "\n", "new.txt": "new\n"}, "second")
    before = snapshot(dest)
    sync = GitOpsSynchronizer(tree.url, str(dest))  # the filter the checkout was cloned with is kept
    predicted = sync.run("main", check_mode=True, diff=True)
    assert snapshot(dest) == before  # no lazy fetch into .git either
    assert predicted.changed and "M\tapp/main.py" in predicted.diff["prepared"] and "A\tnew.txt" in predicted.diff["prepared"]
    result = sync.run("main", diff=True)
    assert result.changed and result.diff == predicted.diff
    assert (dest / "app" / "main.py").read_text() == "main v2\n" and (dest / "new.txt").read_text() == "new\n"
    assert _git(dest, "status", "--porcelain") == ""
    assert _blob(tree.path, between, "assets/big.bin") not in _present(dest)  # fetched with the filter: it stayed on the server
    assert "fleetops-gitops" not in _sections(dest)
    assert sync.run("main").changed is False


def test_a_sparse_partial_clone_fetches_only_the_files_of_its_cone(tree, tmp_path):
    dest = tmp_path / "app"
    GitOpsSynchronizer(tree.url, str(dest), filter="blob:none", sparse=["app/lib"]).run("main")
    assert (dest / "app" / "lib" / "util.py").read_text() == "util v1\n" and not (dest / "docs").exists()
    outside = {_blob(dest, "HEAD", "docs/guide.md"), _blob(dest, "HEAD", "assets/big.bin")}
    assert outside <= _missing(dest)  # never fetched: what partial clone with a sparse checkout is for
    assert _blob(dest, "HEAD", "app/lib/util.py") not in _missing(dest)
    wider = GitOpsSynchronizer(tree.url, str(dest), filter="blob:none", sparse=["app/lib", "docs"])
    before = snapshot(dest)
    assert wider.run("main", check_mode=True).changed and snapshot(dest) == before
    assert wider.run("main").changed  # the same commit: the new folder's files are fetched first, then set
    assert (dest / "docs" / "guide.md").read_text() == "guide v1\n" and _git(dest, "status", "--porcelain") == ""
    assert _blob(dest, "HEAD", "assets/big.bin") in _missing(dest)
    tree.commit({"docs/guide.md": "guide v2\n", "assets/big.bin": "D\n"}, "outside and inside")
    assert wider.run("main").changed
    assert (dest / "docs" / "guide.md").read_text() == "guide v2\n" and _blob(dest, "HEAD", "assets/big.bin") in _missing(dest)
    assert GitOpsSynchronizer(tree.url, str(dest)).run("main").changed  # the whole tree again: every file fetched
    assert (dest / "assets" / "big.bin").read_text() == "D\n" and _git(dest, "status", "--porcelain") == ""


def test_the_cone_a_switch_writes_is_the_old_one_and_the_new_one():
    assert cone_of_switch(Sparse(("a",)), ("b",)) == ("a", "b")
    assert cone_of_switch(Sparse(), ("b",)) is None  # a whole tree is switched whole, then narrowed
    assert cone_of_switch(Sparse(("a",)), None) is None
    assert cone_of_switch(Sparse(None, foreign=True), ("b",)) is None


def test_no_lazy_fetch_ever_runs_the_upload_pack_the_checkout_s_config_names(tree, tmp_path):
    """A partial clone's missing objects would be fetched by git itself from ``remote.origin`` as the config says -
    here an upload-pack that leaves a mark. Check mode, drift and the update fetch through our own fetch instead."""
    dest = tmp_path / "app"
    GitOpsSynchronizer(tree.url, str(dest), filter="blob:none", sparse=["app"]).run("main")
    mark = tmp_path / "lazy-fetch-ran"
    hook = tmp_path / "upload-pack"
    hook.write_text(f'#!/bin/sh\ntouch {mark}\nexec git-upload-pack "$@"\n')
    hook.chmod(0o755)
    _git(dest, "config", "remote.origin.uploadpack", str(hook))
    tree.commit({"docs/guide.md": "guide v2\n", "app/main.py": "main v2\n"}, "second")
    sync = GitOpsSynchronizer(tree.url, str(dest), filter="blob:none", sparse=["app", "docs"])
    assert sync.run("main", check_mode=True, diff=True).changed
    assert Drift(str(dest), "main", repo_url=tree.url, sparse=["app"]).sync_state().state == SyncState.DRIFTED
    assert sync.run("main").changed and (dest / "docs" / "guide.md").read_text() == "guide v2\n"
    assert not mark.exists()
    with GitRunner() as git:  # what a lazy fetch meets in any command of ours but a fetch: no transport
        blocked = git.run(["-C", str(dest), "cat-file", "-p", _blob(tree.path, "main~1", "docs/guide.md")], ok=(128,))
    assert ("not allowed" in blocked.stderr or "lazy fetching disabled" in blocked.stderr) and not mark.exists()
    run_git("-C", str(dest), "cat-file", "-p", _blob(tree.path, "main~1", "docs/guide.md"))  # git alone would run it:
    assert mark.exists()  # the test's own proof that the trap is armed


def test_a_full_clone_stays_full_when_a_filter_is_asked_later(tree, tmp_path):
    dest = tmp_path / "app"
    GitOpsSynchronizer(tree.url, str(dest)).run("main")
    tree.commit({"assets/big.bin": "E\n"}, "second")
    assert GitOpsSynchronizer(tree.url, str(dest), filter="blob:none").run("main").changed
    assert _missing(dest) == set() and "promisor" not in _sections(dest)


def test_the_release_layout_shares_one_partial_repository(tree, tmp_path):
    base = tmp_path / "srv" / "app"
    dest = base / "current"
    first = ReleaseSynchronizer(tree.url, str(dest), filter="tree:0").run("main")
    assert first.changed and (dest / "app" / "main.py").read_text() == "main v1\n"
    tree.commit({"app/main.py": "main v2\n"}, "second")
    before = snapshot(base)
    assert ReleaseSynchronizer(tree.url, str(dest)).run("main", check_mode=True, diff=True).changed
    assert snapshot(base) == before
    assert ReleaseSynchronizer(tree.url, str(dest)).run("main").changed and (dest / "app" / "main.py").read_text() == "main v2\n"
    repo = str(base / "repo")
    assert run_git("--git-dir", repo, "config", "remote.origin.partialclonefilter") == "tree:0"
    missing = {line[1:] for line in run_git("--git-dir", repo, "rev-list", "--objects", "--all", "--missing=print").splitlines() if line.startswith("?")}
    assert tree.git("rev-parse", "main~2^{tree}") in missing  # the first commit's tree: never needed, never fetched


@pytest.mark.parametrize("scheme", ["git", "https"])
def test_partial_clone_over_the_network_with_credentials(tree, served, servers, tmp_path, monkeypatch, scheme):
    monkeypatch.setenv("GIT_SSL_CAINFO", servers.ca_file)
    url = served(scheme)  # the servers allow filters
    if scheme == "https":
        url = url.replace("https://", "https://alice:s3cret-pw@")
    dest = tmp_path / "app"
    old = _blob(tree.path, "main", "assets/big.bin")
    assert GitOpsSynchronizer(url, str(dest), filter="blob:none", sparse=["app"]).run("main").changed
    tree.commit({"app/main.py": "main v2\n", "assets/big.bin": "F\n"}, "second")
    served(scheme)
    result = GitOpsSynchronizer(url, str(dest), sparse=["app", "assets"]).run("main")
    assert result.changed and (dest / "assets" / "big.bin").read_text() == "F\n" and (dest / "app" / "main.py").read_text() == "main v2\n"
    assert old in _missing(dest)
    assert "s3cret-pw" not in _sections(dest) + json.dumps(result.to_dict())


def test_a_server_that_will_not_give_objects_by_name_gets_a_clear_error(tree, tmp_path, monkeypatch):
    """Protocol version 0 (here chosen in the host's git config) refuses a fetch of objects by name, as git's lazy
    fetch would meet it; the error says what the server needs."""
    dest = tmp_path / "app"
    GitOpsSynchronizer(tree.url, str(dest), filter="blob:none", sparse=["app"]).run("main")
    home = tmp_path / "home"
    home.mkdir()
    (home / ".gitconfig").write_text("[protocol]\n\tversion = 0\n")
    monkeypatch.setenv("HOME", str(home))
    with pytest.raises(GitCommandError, match="fetch objects by name: it needs git's protocol version 2"):
        GitOpsSynchronizer(tree.url, str(dest), filter="blob:none").run("main")
    assert not (dest / "docs").exists() and _git(dest, "sparse-checkout", "list") == "app"  # nothing written but objects


def test_local_changes_in_a_sparse_partial_clone_are_backed_up(tree, tmp_path):
    """The backup's tree holds HEAD's files outside the cone by name only: their contents are still on the server."""
    dest = tmp_path / "app"
    GitOpsSynchronizer(tree.url, str(dest), filter="blob:none", sparse=["app"]).run("main")
    (dest / "app" / "main.py").write_text("hand edit\n")
    (dest / "app" / "notes.txt").write_text("mine\n")
    tree.commit({"app/main.py": "main v2\n"}, "second")
    result = GitOpsSynchronizer(tree.url, str(dest), filter="blob:none", sparse=["app"]).run("main")
    assert result.changed and result.backup_ref and (dest / "app" / "main.py").read_text() == "main v2\n"
    assert _git(dest, "show", f"{result.backup_ref}:app/main.py") == "hand edit"
    assert _git(dest, "show", f"{result.backup_ref}:app/notes.txt") == "mine"
    assert "docs/guide.md" in _git(dest, "ls-tree", "-r", "--name-only", result.backup_ref).split()


def test_asking_for_a_commit_that_is_not_here_tries_no_lazy_fetch(tree, tmp_path, git_counter):
    """In a partial clone git would try to fetch a missing commit first (and fail, at random with SIGPIPE, with no
    transport allowed): the plan's questions are asked so that it does not."""
    dest = tmp_path / "app"
    GitOpsSynchronizer(tree.url, str(dest), filter="blob:none").run("main")
    unknown, head = "0123456789abcdef0123456789abcdef01234567", tree.head()
    where = Where.checkout(str(dest))
    git_counter.reset()
    with GitRunner() as git:
        assert has_commit(git, where, unknown) is False
        assert distance_between(git, where, "HEAD", unknown) is None
        assert has_commit(git, where, head)
    assert git_counter.subcommands() == ["rev-list", "rev-list", "rev-list"]  # no "fetch" started by git itself


def test_a_shallow_partial_clone_is_both(tree, tmp_path):
    dest = tmp_path / "app"
    sync = GitOpsSynchronizer(tree.url, str(dest), filter="tree:0", depth=1, sparse=["docs"])
    assert sync.run("main").changed and (dest / "docs" / "guide.md").read_text() == "guide v1\n"
    assert (dest / ".git" / "shallow").exists() and _git(dest, "rev-list", "--count", "HEAD") == "1"
    tree.commit({"docs/guide.md": "guide v2\n", "app/main.py": "main v2\n"}, "second")
    assert sync.run("main", check_mode=True, diff=True).changed
    assert sync.run("main").changed and (dest / "docs" / "guide.md").read_text() == "guide v2\n"
    assert _blob(dest, "HEAD", "app/main.py") in _missing(dest) and not (dest / "app").exists()
    assert sync.run("main").changed is False


def test_a_real_history_cloned_partial_and_sparse_then_moved_to_a_newer_tag(tmp_path):
    """prometheus/node_exporter (2,625 commits): a sparse partial clone holds the files of its folder at the tag and
    none of the history's; a move to a newer tag fetches only what changed there; fsck finds nothing wrong."""
    realworld = realworld_folder()
    if realworld is None or not (realworld / "node_exporter.bundle").exists():
        pytest.skip("needs ../shared/realworld/ (bundles of real repositories), which this machine has not")
    bare = tmp_path / "node_exporter.git"
    run_git("clone", "--quiet", "--bare", str(realworld / "node_exporter.bundle"), str(bare))
    run_git("--git-dir", str(bare), "config", "uploadpack.allowFilter", "true")
    dest = tmp_path / "app"
    sync = GitOpsSynchronizer(bare.as_uri(), str(dest), filter="blob:none", sparse=["docs"])
    assert sync.run("v1.11.1").changed
    assert {path.name for path in dest.iterdir()} >= {"docs", "go.mod", ".git"} and not (dest / "collector").exists()
    assert _blobs(dest / ".git") < _blobs(bare) // 20  # the history's file contents stayed on the server
    before = snapshot(dest)
    predicted = sync.run("v1.12.1", check_mode=True, diff=True)
    assert snapshot(dest) == before and predicted.changed
    result = sync.run("v1.12.1", diff=True)
    assert result.diff == predicted.diff and _git(dest, "rev-parse", "HEAD") == run_git("--git-dir", str(bare), "rev-parse", "v1.12.1^{commit}")
    assert _git(dest, "status", "--porcelain") == "" and not (dest / "collector").exists()
    _git(dest, "fsck", "--no-progress")
