# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The drift-detection synchronizer against real checkouts."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ansible_collections.fleetops.gitops.plugins.module_utils._errors import GitOpsError, InvalidOption
from ansible_collections.fleetops.gitops.plugins.module_utils._release_options import ReleasePolicy
from ansible_collections.fleetops.gitops.plugins.module_utils.checkout import GitOpsSynchronizer as Checkout
from ansible_collections.fleetops.gitops.plugins.module_utils.drift import GitOpsSynchronizer, SyncState
from ansible_collections.fleetops.gitops.plugins.module_utils.releases import ReleaseSynchronizer
from ansible_collections.fleetops.gitops.tests.unit.helpers.git_fixtures import run_git, snapshot


@pytest.fixture
def checkout(upstream, tmp_path) -> Path:
    dest = tmp_path / "app"
    Checkout(upstream.url, str(dest)).run("main")
    return dest


@pytest.mark.parametrize("compare_to", ["local", "remote"])
def test_a_fresh_checkout_is_in_sync(checkout, upstream, compare_to):
    drift = GitOpsSynchronizer(str(checkout), "main", compare_to=compare_to)
    status = drift.sync_state()
    assert status.state is SyncState.IN_SYNC and status.drift_details == []
    assert status.desired_revision == status.actual_revision == upstream.head()
    assert status.last_synced_at is not None
    assert drift.detect_drift() is False


def test_an_upstream_commit_is_drift_against_the_remote_only(checkout, upstream):
    new = upstream.commit()
    remote = GitOpsSynchronizer(str(checkout), "main", compare_to="remote").sync_state()
    assert remote.state is SyncState.DRIFTED and remote.desired_revision == new
    # the new commit is looked at in a throwaway repository, so the distance is known without fetching into the checkout
    assert remote.drift_details == [f"revision differs: recorded {upstream.head('main~1')[:12]}, desired {new[:12]} (1 commit behind)"]
    assert GitOpsSynchronizer(str(checkout), "main", compare_to="local").sync_state().state is SyncState.IN_SYNC  # local ref unchanged


def test_the_distance_is_counted_once_the_commit_is_fetched(checkout, upstream):
    upstream.commit()
    upstream.commit()
    run_git("-C", str(checkout), "fetch", "--quiet", "origin")
    details = GitOpsSynchronizer(str(checkout), "main", compare_to="remote").sync_state().drift_details
    assert details[0].endswith("(2 commits behind)")


def test_rewritten_upstream_history_is_named(checkout, upstream):
    upstream.commit()
    Checkout(upstream.url, str(checkout)).run("main")
    upstream.rewrite()
    run_git("-C", str(checkout), "fetch", "--quiet", "origin")
    details = GitOpsSynchronizer(str(checkout), "main", compare_to="remote").sync_state().drift_details
    assert "history rewritten upstream" in details[0]


def test_local_commits_are_reported_as_head_moving_ahead_of_the_recorded_revision(checkout):
    recorded = run_git("-C", str(checkout), "rev-parse", "HEAD")
    (checkout / "local.txt").write_text("x\n")
    run_git("-C", str(checkout), "add", "local.txt")
    run_git("-C", str(checkout), "commit", "--quiet", "-m", "local")
    head = run_git("-C", str(checkout), "rev-parse", "HEAD")
    status = GitOpsSynchronizer(str(checkout), "main", compare_to="remote").sync_state()
    assert status.drift_details == [f"HEAD moved outside fleetops.gitops: recorded {recorded[:12]}, HEAD {head[:12]} (HEAD is 1 commit ahead of it)"]
    assert (status.state, status.actual_revision) == (SyncState.DRIFTED, recorded)


def test_every_finding_is_one_line(checkout, upstream, make_upstream):
    (checkout / "file0.txt").write_text("hand edit\n")
    (checkout / "stray.txt").write_text("x\n")
    run_git("-C", str(checkout), "checkout", "--quiet", "--detach")
    other = make_upstream("other")
    other.git("fetch", "--quiet", upstream.url, "main")  # upstream's very history: made in another second, its
    other.git("reset", "--quiet", "--hard", "FETCH_HEAD")  # own initial commit would differ, and "1 behind" with it
    other.commit()
    details = GitOpsSynchronizer(str(checkout), "main", compare_to="remote", repo_url=other.url).sync_state().drift_details
    assert details == [
        f"remote URL differs: 'origin' is {upstream.url}, expected {other.url}",
        f"revision differs: recorded {upstream.head()[:12]}, desired {other.head()[:12]} (1 commit behind)",
        "detached HEAD, expected branch 'main'",
        "tracked files modified: file0.txt",
        "untracked files: stray.txt",
    ]


def test_wrong_branch(checkout):
    run_git("-C", str(checkout), "checkout", "--quiet", "-b", "hotfix")
    assert GitOpsSynchronizer(str(checkout), "main").sync_state().drift_details == ["on branch 'hotfix', expected 'main'"]


def test_long_lists_are_cut_with_a_count(checkout):
    for number in range(25):
        (checkout / f"stray{number:02}.txt").write_text("x\n")
    line = GitOpsSynchronizer(str(checkout), "main").sync_state().drift_details[0]
    assert line.startswith("untracked files: stray00.txt, ") and line.endswith(" and 5 more")


def test_reading_writes_nothing(checkout, upstream):
    upstream.commit()
    (checkout / "file0.txt").write_text("hand edit\n")
    before = snapshot(checkout)
    GitOpsSynchronizer(str(checkout), "main").sync_state()
    GitOpsSynchronizer(str(checkout), "main", compare_to="local").sync_state()
    assert snapshot(checkout) == before


def test_a_missing_path_and_a_foreign_folder_give_a_status_not_an_exception(tmp_path, upstream):
    missing = GitOpsSynchronizer(str(tmp_path / "nothing"), "main").sync_state()  # no branch to read: no desired revision
    assert missing.state is SyncState.UNKNOWN and missing.drift_details[0] == f"checkout is missing: {tmp_path / 'nothing'} does not exist"
    assert missing.drift_details[1].startswith("desired revision unknown:")
    folder = tmp_path / "plain"
    folder.mkdir()
    (folder / "a.txt").write_text("x")
    foreign = GitOpsSynchronizer(str(folder), "main", compare_to="remote", repo_url=upstream.url).sync_state()
    assert foreign.state is SyncState.DRIFTED and foreign.drift_details == [f"{folder} is not a git checkout"]
    assert foreign.desired_revision == upstream.head()


def test_head_revision_is_none_with_a_warning_when_git_is_missing(checkout, monkeypatch, caplog):
    monkeypatch.setenv("PATH", "/nonexistent")
    drift = GitOpsSynchronizer(str(checkout), "main")
    assert drift._get_head_revision() is None
    assert "git is not installed" in caplog.text
    status = drift.sync_state()
    assert status.state is SyncState.ERROR and "git is not installed" in status.drift_details[0]


def test_head_revision_is_none_when_the_remote_hangs(checkout, servers, caplog):
    drift = GitOpsSynchronizer(str(checkout), "main", compare_to="remote", repo_url=f"{servers.blackhole_url}/x.git", timeout=1)
    assert drift._get_head_revision() is None
    assert "no answer within the 1 seconds of the timeout option" in caplog.text
    status = drift.sync_state()
    assert status.state is SyncState.UNKNOWN  # the URL differs from the checkout's, but without a desired revision: unknown
    assert status.desired_revision is None and status.drift_details[-1].startswith("desired revision unknown:")


def test_unknown_when_the_desired_revision_cannot_be_read_and_nothing_else_differs(checkout, upstream):
    upstream.git("branch", "-m", "main", "trunk")
    drift = GitOpsSynchronizer(str(checkout), "main", compare_to="remote")
    status = drift.sync_state()
    assert status.state is SyncState.UNKNOWN and status.desired_revision is None
    assert status.drift_details == [f"desired revision unknown: branch: 'refs/heads/main' does not exist on {upstream.url}"]
    with pytest.raises(GitOpsError, match="cannot tell whether .* drifted"):
        drift.run()


def test_reconcile_records_tracking_state_only(checkout, upstream):
    new = upstream.commit()
    drift = GitOpsSynchronizer(str(checkout), "main", compare_to="remote")
    assert drift.detect_drift() is True
    before = run_git("-C", str(checkout), "rev-parse", "HEAD")
    status = drift.reconcile()
    assert (status.state, status.desired_revision, status.actual_revision, status.drift_details) == (SyncState.IN_SYNC, new, new, [])
    assert run_git("-C", str(checkout), "rev-parse", "HEAD") == before  # no deployment
    assert json.loads((checkout / ".git" / "fleetops-gitops.json").read_text())["revision"] == new
    assert drift.get_sync_status() is status


def test_get_sync_status_does_not_ask_git(checkout, git_counter):
    drift = GitOpsSynchronizer(str(checkout), "main")
    assert drift.get_sync_status().state is SyncState.UNKNOWN
    assert drift.get_sync_status().last_synced_at is not None  # read from the record, not from git
    assert git_counter.commands() == []


def test_run_reconciles_through_the_checkout_synchronizer(checkout, upstream):
    new = upstream.commit()
    (checkout / "file0.txt").write_text("hand edit\n")
    result = GitOpsSynchronizer(str(checkout), "main", compare_to="remote").run(reconcile=True)
    assert result.drifted and result.sync is not None and result.sync.backup_ref
    assert result.status.state is SyncState.IN_SYNC and result.status.actual_revision == new
    assert run_git("-C", str(checkout), "rev-parse", "HEAD") == new
    assert GitOpsSynchronizer(str(checkout), "main", compare_to="remote").run(reconcile=True).drifted is False


def test_run_in_check_mode_never_reconciles(checkout, upstream):
    upstream.commit()
    before = snapshot(checkout)
    result = GitOpsSynchronizer(str(checkout), "main", compare_to="remote").run(reconcile=True, check_mode=True, diff=True)
    assert result.drifted and result.sync is None and "revision:" in result.diff["before"]
    assert snapshot(checkout) == before


def test_reconciling_a_missing_checkout_needs_repo(tmp_path, upstream):
    with pytest.raises(GitOpsError, match="cannot tell whether .* drifted: .*give repo"):
        GitOpsSynchronizer(str(tmp_path / "app"), "main", compare_to="remote", repo_url=None).run(reconcile=True)
    result = GitOpsSynchronizer(str(tmp_path / "app"), "main", compare_to="remote", repo_url=upstream.url).run(reconcile=True)
    assert result.sync.plan.action == "clone" and (tmp_path / "app" / "file0.txt").exists()


def test_bad_options_are_refused():
    with pytest.raises(InvalidOption, match="branch"):
        GitOpsSynchronizer("/tmp", "--all")
    with pytest.raises(InvalidOption, match="compare_to"):
        GitOpsSynchronizer("/tmp", "main", compare_to="elsewhere")


def test_while_reconcile_deploys_the_status_is_syncing(checkout, upstream):
    """The one moment SYNCING is true, and so the one place it is returned: from inside the deployment."""
    new = upstream.commit()
    drift = GitOpsSynchronizer(str(checkout), "main")
    seen = []

    def deploy(desired: str) -> str:
        seen.append((drift.get_sync_status().state, desired))
        return desired

    status = drift.reconcile(deploy)
    assert seen == [(SyncState.SYNCING, new)]
    assert (status.state, status.actual_revision) == (SyncState.IN_SYNC, new) and drift.get_sync_status() is status


RELEASES = ReleasePolicy(layout="releases")


def _released(upstream, tmp_path: Path) -> Path:
    dest = tmp_path / "app" / "current"
    ReleaseSynchronizer(upstream.url, str(dest)).run("main")
    return dest


def test_the_release_layout_is_read_in_the_release_dest_points_at(upstream, tmp_path):
    dest = _released(upstream, tmp_path)
    drift = GitOpsSynchronizer(str(dest), "main", releases=RELEASES)
    assert drift.sync_state().state is SyncState.IN_SYNC  # a release is a detached HEAD: no drift in that
    (dest / "file0.txt").write_text("hand edit\n")
    upstream.commit({"file1.txt": "next\n"})
    status = drift.sync_state()
    assert status.state is SyncState.DRIFTED
    assert any("tracked files modified: file0.txt" in line for line in status.drift_details)
    assert any("behind" in line for line in status.drift_details)


def test_a_reconcile_in_the_release_layout_makes_a_new_release_and_switches_to_it(upstream, tmp_path):
    dest = _released(upstream, tmp_path)
    old = os.readlink(dest)
    upstream.commit({"file1.txt": "next\n"})
    result = GitOpsSynchronizer(str(dest), "main", releases=RELEASES, repo_url=upstream.url).run(reconcile=True)
    assert result.status.state is SyncState.IN_SYNC and result.status.actual_revision == upstream.head()
    assert os.readlink(dest) != old and (Path(old) / "file1.txt").read_text() == "content 1\n"  # switched, not reset in place
    assert (dest / "file1.txt").read_text() == "next\n"


def test_a_folder_or_a_foreign_link_at_a_release_dest_is_an_error_with_the_reason(upstream, tmp_path):
    dest = tmp_path / "app" / "current"
    dest.mkdir(parents=True)
    status = GitOpsSynchronizer(str(dest), "main", releases=RELEASES).sync_state()
    assert status.state is SyncState.ERROR and "not the link of a release layout" in status.drift_details[0]
    dest.rmdir()
    os.symlink(str(tmp_path), dest)
    status = GitOpsSynchronizer(str(dest), "main", releases=RELEASES).sync_state()
    assert status.state is SyncState.ERROR and "not a release" in status.drift_details[0]
