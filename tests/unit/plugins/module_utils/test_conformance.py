# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Conformance: the spec's two synchronizers method by method, and gitops_sync where users of ansible.builtin.git
and of real repositories expect it to behave.

The spec is ../shared/spec/gitops-synchronizer-spec.md; real histories come from the bundles of
../shared/realworld/ (skipped, saying so, where that folder is absent) besides repositories made here.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ansible_collections.fleetops.gitops.plugins.module_utils._argspec import sync_module_spec
from ansible_collections.fleetops.gitops.plugins.module_utils._batch import execute
from ansible_collections.fleetops.gitops.plugins.module_utils._errors import GitCommandError, GitTimeout, HistoryRewritten, InvalidOption, RefNotFound
from ansible_collections.fleetops.gitops.plugins.module_utils._item_tasks import sync_one
from ansible_collections.fleetops.gitops.plugins.module_utils.checkout import GitOpsSynchronizer as Checkout
from ansible_collections.fleetops.gitops.plugins.module_utils.drift import GitOpsSynchronizer as Drift
from ansible_collections.fleetops.gitops.plugins.module_utils.drift import SyncState, SyncStatus
from ansible_collections.fleetops.gitops.tests.unit.helpers.git_fixtures import realworld_folder, run_git, snapshot
from ansible_collections.fleetops.gitops.tests.unit.helpers.module_params import params as _params


def _git(path: Path, *args: str) -> str:
    return run_git("-C", str(path), *args)


def _backups(dest: Path) -> list[str]:
    return _git(dest, "for-each-ref", "--format=%(refname)", "refs/gitops/backups/").split()


REALWORLD = realworld_folder()
BUNDLES = ["node_exporter", "pciutils"]


@pytest.fixture(params=BUNDLES)
def real(request, tmp_path) -> Path:
    """A bare repository of a real project's history (its branches and tags), to serve over file://."""
    if REALWORLD is None or not (REALWORLD / f"{request.param}.bundle").exists():
        pytest.skip("needs ../shared/realworld/ (bundles of real repositories), which this machine has not")
    bare = tmp_path / f"{request.param}.git"
    subprocess.run(["git", "clone", "--quiet", "--bare", str(REALWORLD / f"{request.param}.bundle"), str(bare)], check=True)
    return bare


# -- the drift model, as the spec's table says ---------------------------------------------------------------------


def test_the_drift_synchronizer_method_by_method(upstream, tmp_path):
    """Constructor (repo_path, target_branch="main"); sync_state compares the branch head with the tracked actual
    revision; detect_drift says whether they differ; reconcile makes actual = desired (tracking only) and IN_SYNC;
    get_sync_status gives the last status without asking git."""
    dest = tmp_path / "app"
    Checkout(upstream.url, str(dest)).run("main")
    synced = upstream.head()
    drift = Drift(str(dest))  # target_branch defaults to main; its tip on the checkout's remote is the desired revision
    assert drift.target_branch == "main"
    status = drift.sync_state()
    assert isinstance(status, SyncStatus) and (status.state, status.desired_revision, status.actual_revision) == (SyncState.IN_SYNC, synced, synced)
    assert drift.detect_drift() is False

    new = upstream.commit()
    _git(dest, "pull", "--quiet", "--ff-only", "origin", "main")  # the branch, and HEAD with it, move by other means
    moved = drift.sync_state()
    assert (moved.state, moved.desired_revision, moved.actual_revision) == (SyncState.DRIFTED, new, synced)
    assert moved.drift_details == [
        f"revision differs: recorded {synced[:12]}, desired {new[:12]} (1 commit behind)",
        f"HEAD moved outside fleetops.gitops: recorded {synced[:12]}, HEAD {new[:12]} (HEAD is 1 commit ahead of it)",
    ]
    assert drift.detect_drift() is True

    reconciled = drift.reconcile()  # tracking only: nothing is deployed, the record now says the desired revision
    assert (reconciled.state, reconciled.desired_revision, reconciled.actual_revision) == (SyncState.IN_SYNC, new, new)
    assert reconciled.last_synced_at is not None and drift.get_sync_status() is reconciled
    assert drift.detect_drift() is False and drift.sync_state().state is SyncState.IN_SYNC

    last = drift.get_sync_status()
    third = upstream.commit()
    _git(dest, "pull", "--quiet", "--ff-only", "origin", "main")
    assert drift.get_sync_status() is last and last.desired_revision == new  # the last known status: git not asked
    assert drift.detect_drift() is True and drift.get_sync_status().desired_revision == third


def test_no_desired_revision_is_unknown_never_drifted_never_an_exception(tmp_path):
    for path in (tmp_path / "missing", tmp_path / "plain"):
        if path.name == "plain":
            path.mkdir()
            (path / "a.txt").write_text("x\n")
        status = Drift(str(path)).sync_state()
        assert status.state is SyncState.UNKNOWN and status.desired_revision is None
        assert Drift(str(path)).detect_drift() is False


def test_the_clone_pull_synchronizer_method_by_method(upstream, tmp_path):
    """Constructor (repo_url, local_path); sync(branch="main") clones if absent, hard-resets if present, True or False;
    get_version is the checkout's commit, None on failure."""
    dest = tmp_path / "app"
    sync = Checkout(upstream.url, str(dest))
    assert sync.get_version() is None
    assert sync.sync() is True and sync.get_version() == upstream.head()
    (dest / "file0.txt").write_text("hand edit\n")
    new = upstream.commit()
    assert sync.sync() is True and sync.get_version() == new and (dest / "file0.txt").read_text() == "content 0\n"
    assert sync.sync("no-such-branch") is False and sync.get_version() == new


# -- changed and check mode, as ansible.builtin.git's own suite expects -------------------------------------------


def test_a_tag_on_the_commit_checked_out_is_no_change(upstream, tmp_path):
    """A tag added upstream on the commit already deployed: check and real run both changed false, the tag is
    present afterwards, and the next run is a no-op (check -> run -> check -> run)."""
    dest = tmp_path / "app"
    Checkout(upstream.url, str(dest)).run("main")
    upstream.tag("v1.0")
    sync = Checkout(upstream.url, str(dest))
    checked = sync.run("v1.0", check_mode=True)
    assert not checked.changed and checked.plan.action == "refresh" and checked.status.state is SyncState.IN_SYNC
    done = sync.run("v1.0")
    assert not done.changed and done.plan.action == "refresh"
    assert _git(dest, "rev-parse", "refs/tags/v1.0^{commit}") == upstream.head() and _git(dest, "rev-parse", "--abbrev-ref", "HEAD") == "HEAD"
    again = sync.run("v1.0", check_mode=True)
    assert not again.changed and again.plan.action == "none"
    before = snapshot(dest)
    assert sync.run("v1.0").plan.action == "none" and snapshot(dest) == before


def test_a_commit_the_remote_does_not_have_fails_in_check_mode_as_for_real(upstream, tmp_path):
    dest = tmp_path / "app"
    Checkout(upstream.url, str(dest)).run("main")
    before = snapshot(dest)
    missing = "0123456789abcdef" * 2 + "01234567"
    errors = []
    for check_mode in (True, False):
        with pytest.raises(RefNotFound) as caught:
            Checkout(upstream.url, str(dest)).run(missing, check_mode=check_mode)
        errors.append(str(caught.value))
        assert snapshot(dest) == before  # .git included: the check looked in a throwaway repository
    assert errors[0] == errors[1] == f"version: '{missing}' does not exist on {upstream.url}"


def test_a_tag_of_a_blob_fails_in_check_mode_as_for_real(upstream, tmp_path):
    blob = subprocess.run(
        ["git", "-C", str(upstream.path), "hash-object", "-w", "--stdin"], input="a public key\n", text=True, check=True, stdout=subprocess.PIPE
    ).stdout.strip()
    upstream.git("tag", "-a", "-m", "the key", "signing-key", blob)
    for existing in (False, True):
        dest = tmp_path / f"app-{existing}"
        if existing:
            Checkout(upstream.url, str(dest)).run("main")
        for check_mode in (True, False):
            with pytest.raises(InvalidOption, match="version: tag 'signing-key' .* points at a blob, not at a commit"):
                Checkout(upstream.url, str(dest)).run("signing-key", check_mode=check_mode)
        assert dest.exists() is existing


# -- real histories ----------------------------------------------------------------------------------------------


def test_the_modules_default_version_is_the_remotes_default_branch(real, tmp_path):
    dest = tmp_path / "app"
    result = execute(sync_one, _params(sync_module_spec(), repo=real.as_uri(), dest=str(dest)), key="dest", check_mode=False, diff=False).result
    assert result["changed"] and result["kind"] == "branch" and _git(dest, "rev-parse", "--abbrev-ref", "HEAD") == "master"
    assert Checkout(real.as_uri(), str(dest)).plan("HEAD").action == "none"


def _tags(bare: Path, count: int) -> list[str]:
    """The newest ``count`` release tags of a real repository, newest first."""
    return run_git("--git-dir", str(bare), "for-each-ref", f"--count={count}", "--sort=-creatordate", "--format=%(refname:short)", "refs/tags/").split()


def test_a_rollback_to_an_older_tag_is_not_a_rewritten_history(real, tmp_path):
    newer, older = _tags(real, 2)
    dest = tmp_path / "app"
    sync = Checkout(real.as_uri(), str(dest), on_rewrite="fail")
    sync.run(newer)
    assert sync.run(older, check_mode=True).changed
    rolled = sync.run(older)
    assert rolled.changed and rolled.backup_ref is None and _backups(dest) == []
    back = sync.run("HEAD")  # from a tag (on a release branch, or the default branch) back to the default branch
    assert back.changed and back.backup_ref is None and _git(dest, "rev-parse", "--abbrev-ref", "HEAD") == "master"


def test_a_shallow_checkouts_ordinary_update_is_a_plain_update(real, tmp_path):
    """depth 1 and one fast-forward commit upstream: not 'rewritten' (a shallow boundary proves nothing), no backup ref,
    and check mode predicts exactly that."""
    work = tmp_path / "work"
    subprocess.run(["git", "clone", "--quiet", str(real), str(work)], check=True)
    dest = tmp_path / "app"
    sync = Checkout(work.as_uri(), str(dest), depth=1, on_rewrite="fail")
    assert sync.run("HEAD").changed and (dest / ".git" / "shallow").exists()
    (work / "next.txt").write_text("next\n")
    run_git("-C", str(work), "add", "next.txt")
    run_git("-C", str(work), "commit", "--quiet", "-m", "the next commit")
    checked = sync.run("HEAD", check_mode=True)
    assert checked.changed and checked.plan.divergence is None
    updated = sync.run("HEAD")
    assert updated.changed and updated.backup_ref is None and _backups(dest) == []
    assert _git(dest, "rev-parse", "HEAD") == run_git("-C", str(work), "rev-parse", "HEAD")


def test_a_refused_rewrite_writes_nothing(upstream, tmp_path):
    dest = tmp_path / "app"
    upstream.commit()
    sync = Checkout(upstream.url, str(dest), on_rewrite="fail")
    sync.run("main")
    upstream.rewrite()
    before = snapshot(dest)
    for check_mode in (True, False):
        with pytest.raises(HistoryRewritten):
            sync.run("main", check_mode=check_mode)
    assert snapshot(dest) == before  # decided in a throwaway repository before any fetch into .git


@pytest.mark.parametrize("mode,name,clones", [("0100644", "padded.txt", True), ("100644", ".git", False)], ids=["zero-padded mode", "an entry named .git"])
def test_old_trees_with_zero_padded_modes_clone_and_errors_are_still_refused(upstream, tmp_path, mode, name, clones):
    """git's own fsck only warns of zero-padded modes (old trees of pallets/flask, ohmyzsh); a tree entry named .git
    is still refused, as every check git itself makes an error (and the .gitmodules ones) are."""
    blob = upstream.git("hash-object", "-w", "file0.txt")

    def tree(mode: str, name: str) -> str:
        entries = f"{mode} {name}".encode() + b"\0" + bytes.fromhex(blob)
        return (
            subprocess.run(
                ["git", "-C", str(upstream.path), "hash-object", "-t", "tree", "-w", "--stdin", "--literally"],
                input=entries,
                check=True,
                stdout=subprocess.PIPE,
            )
            .stdout.decode()
            .strip()
        )

    def commit_tree(mode: str, name: str, branch: str) -> None:
        top = tree(mode, name)
        sha = upstream.git("commit-tree", "-m", f"{mode} {name}", "-p", upstream.head(), top)
        upstream.git("update-ref", f"refs/heads/{branch}", sha)

    commit_tree(mode, name, "crafted")
    dest = tmp_path / "app"
    if clones:
        assert Checkout(upstream.url, str(dest)).run("crafted").changed
        assert (dest / name).read_text() == "content 0\n"
    else:
        with pytest.raises(GitCommandError, match="hasDotgit"):
            Checkout(upstream.url, str(dest)).run("crafted")
        assert not dest.exists()


def test_a_submodule_initialised_by_hand_converges(make_upstream, tmp_path):
    sub = make_upstream("sub")
    superproject = make_upstream("super")
    superproject.git("-c", "protocol.file.allow=always", "submodule", "--quiet", "add", sub.url, "lib")
    superproject.git("commit", "--quiet", "-m", "a submodule")
    dest = tmp_path / "app"
    Checkout(superproject.url, str(dest)).run("main")
    _git(dest, "-c", "protocol.file.allow=always", "submodule", "--quiet", "update", "--init")  # by hand
    sub.commit()
    superproject.git("-C", "lib", "pull", "--quiet", "origin", "main")
    superproject.git("commit", "--quiet", "-am", "the submodule moves")
    first = Checkout(superproject.url, str(dest), local_changes="fail").run("main")
    assert first.changed and first.backup_ref is None
    for _again in range(2):
        repeat = Checkout(superproject.url, str(dest), local_changes="fail").run("main")
        assert not repeat.changed and repeat.plan.action == "none"
    assert _backups(dest) == [] and (dest / "lib" / "file0.txt").exists()


# -- what a failure reports ------------------------------------------------------------------------------------------


def test_a_refusal_reports_the_revisions_it_read(upstream, tmp_path):
    dest = tmp_path / "app"
    Checkout(upstream.url, str(dest)).run("main")
    head = upstream.head()
    (dest / "file0.txt").write_text("hand edit\n")
    new = upstream.commit()
    outcome = execute(
        sync_one,
        _params(sync_module_spec(), checkouts=[{"repo": upstream.url, "dest": str(dest), "version": "main", "local_changes": "fail"}]),
        key="dest",
        check_mode=False,
        diff=False,
    )
    status = outcome.result["results"][0]["status"]
    assert (status["state"], status["desired_revision"], status["actual_revision"]) == ("ERROR", new, head)


def test_a_remote_that_hangs_says_which_option_ran_out(servers, tmp_path):
    with pytest.raises(GitTimeout) as caught:
        Checkout(f"{servers.blackhole_url}/x.git", str(tmp_path / "app"), timeout=2).run("main")
    message = str(caught.value)
    assert message.startswith(f"cannot resolve version 'main' on {servers.blackhole_url}/x.git: no answer within the 2 seconds of the timeout option")
    assert "exit code None" not in message and "refs/tags" not in message
