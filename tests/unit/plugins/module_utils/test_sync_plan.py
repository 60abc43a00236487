# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A sync plan says exactly what changes and what is lost, its result is the module's return value, and --diff shows both."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from ansible_collections.fleetops.gitops.plugins.module_utils._at_risk import AtRisk
from ansible_collections.fleetops.gitops.plugins.module_utils._checkout_state import CheckoutState, LocalChanges, read_checkout_state
from ansible_collections.fleetops.gitops.plugins.module_utils._git import GitRunner
from ansible_collections.fleetops.gitops.plugins.module_utils._history import Where
from ansible_collections.fleetops.gitops.plugins.module_utils._refs import BRANCH, COMMIT, TAG, Target
from ansible_collections.fleetops.gitops.plugins.module_utils._state_file import Record
from ansible_collections.fleetops.gitops.plugins.module_utils._status import SyncState, SyncStatus
from ansible_collections.fleetops.gitops.plugins.module_utils._sync_plan import (
    CLONE,
    LOCAL_COMMITS,
    NONE,
    REFRESH,
    REWRITTEN,
    UPDATE,
    SyncPlan,
    SyncResult,
    divergence_of,
    render_diff,
)
from ansible_collections.fleetops.gitops.tests.unit.helpers.git_fixtures import run_git

OLD, NEW, OTHER = "a" * 40, "b" * 40, "c" * 40
ON_MAIN = Target(BRANCH, "main", NEW)


def _state(path: Path) -> CheckoutState:
    with GitRunner() as git:
        return read_checkout_state(git, str(path), "origin")


def _git(path: Path, *args: str) -> str:
    return run_git("-C", str(path), *args)


# -- divergence_of ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "distance,tip,record,target,shallow,divergence",
    [
        ((1, 0), None, None, ON_MAIN, False, None),  # no tip: nothing to lose
        (None, OLD, None, ON_MAIN, False, None),  # not known
        ((0, 3), OLD, None, ON_MAIN, False, None),  # the target contains the tip: a plain update
        ((1, 0), OLD, None, ON_MAIN, False, LOCAL_COMMITS),  # nobody synced it: someone's work
        ((2, 1), OLD, Record(OTHER, BRANCH, "main"), ON_MAIN, False, LOCAL_COMMITS),  # committed after our sync
        ((2, 1), OLD, Record(OLD, BRANCH, "main"), ON_MAIN, False, REWRITTEN),  # our sync of the same branch, gone from it
        ((2, 1), OLD, Record(OLD, BRANCH, "main"), ON_MAIN, True, None),  # a shallow history proves nothing
        ((2, 1), OLD, Record(OLD, BRANCH, "main"), Target(TAG, "v1", NEW), False, None),  # a rollback to a tag, on purpose
        ((2, 1), OLD, Record(OLD, BRANCH, "main"), Target(BRANCH, "release", NEW), False, None),  # another branch, on purpose
        ((2, 1), OLD, Record(OLD, BRANCH, "main"), Target(COMMIT, None, NEW), False, None),
        ((2, 1), OLD, Record(OLD, TAG, "main"), ON_MAIN, False, None),  # a tag named like the branch is not the branch
        ((2, 1), OLD, Record(OLD, version="refs/heads/main"), ON_MAIN, False, REWRITTEN),  # an old record: by the version asked
        ((2, 1), OLD, Record(OLD, version="main"), ON_MAIN, False, REWRITTEN),
        ((2, 1), OLD, Record(OLD, version="v1"), ON_MAIN, False, None),
        ((2, 1), OLD, Record(OLD), ON_MAIN, False, None),
    ],
)
def test_divergence_says_why_the_target_does_not_contain_the_tip(distance, tip, record, target, shallow, divergence):
    assert divergence_of(distance, tip, record, target, shallow=shallow) == divergence


# -- SyncPlan --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("action,changed", [(CLONE, True), (UPDATE, True), (REFRESH, False), (NONE, False)])
def test_only_a_clone_or_an_update_is_a_change(action, changed):
    plan = SyncPlan(CheckoutState("/srv/app", exists=True, is_checkout=True, head=OLD), ON_MAIN, action)
    assert (plan.changed, plan.before, plan.after) == (changed, OLD, NEW)
    assert SyncResult(plan, SyncStatus()).changed is changed


def test_a_plan_before_a_clone_starts_from_no_commit():
    plan = SyncPlan(CheckoutState("/srv/app"), ON_MAIN, CLONE)
    assert (plan.before, plan.after, plan.divergence, plan.findings, plan.leftovers, plan.record, plan.shallow) == (None, NEW, None, (), (), None, False)
    assert plan.risk == AtRisk()


def test_local_changes_add_hidden_edits_once_and_the_files_written_over():
    state = CheckoutState("/srv/app", exists=True, is_checkout=True, head=OLD, changes=LocalChanges(("a.txt", "b.txt"), ("new.txt",)))
    plan = SyncPlan(state, ON_MAIN, UPDATE, risk=AtRisk(flagged=("b.txt", "hidden.txt"), overwritten=("secrets.env", "build/")))
    assert plan.local_changes == {"modified": ["a.txt", "b.txt", "hidden.txt"], "untracked": ["new.txt"], "overwritten": ["secrets.env", "build/"]}


def test_local_changes_before_the_overwritten_files_are_known_list_none():
    state = CheckoutState("/srv/app", exists=True, is_checkout=True, head=OLD)
    plan = SyncPlan(state, ON_MAIN, UPDATE, risk=AtRisk(overwritten=None))
    assert plan.local_changes == {"modified": [], "untracked": [], "overwritten": []}


@pytest.mark.parametrize(
    "risk,record,shallow,divergence",
    [
        (AtRisk(), None, False, None),  # HEAD is on the branch the sync moves: nothing else moves
        (AtRisk(branch="main", branch_tip=OLD, branch_distance=(1, 0)), None, False, LOCAL_COMMITS),
        (AtRisk(branch="main", branch_tip=OLD, branch_distance=(0, 2)), None, False, None),
        (AtRisk(branch="main", branch_tip=OLD, branch_distance=None), None, False, None),
        (AtRisk(branch="main", branch_tip=OLD, branch_distance=(1, 1)), Record(OLD, BRANCH, "main"), False, REWRITTEN),
        (AtRisk(branch="main", branch_tip=OLD, branch_distance=(1, 1)), Record(OLD, BRANCH, "main"), True, None),
    ],
)
def test_the_branch_divergence_is_that_of_the_local_branch_the_sync_moves(risk, record, shallow, divergence):
    state = CheckoutState("/srv/app", exists=True, is_checkout=True, head=OTHER, branch="elsewhere")
    plan = SyncPlan(state, ON_MAIN, UPDATE, divergence=LOCAL_COMMITS, risk=risk, record=record, shallow=shallow)
    assert plan.branch_divergence == divergence


# -- SyncResult.to_dict ----------------------------------------------------------------------------------------


def test_the_result_is_what_the_module_returns_and_is_json_safe():
    state = CheckoutState("/srv/app", exists=True, is_checkout=True, head=OLD, branch="main", changes=LocalChanges(("a.txt",), ("new.txt",)))
    plan = SyncPlan(state, Target(TAG, "v2", NEW), UPDATE, findings=("revision differs",), risk=AtRisk(flagged=("h.txt",), overwritten=("s.env",)))
    status = SyncStatus(SyncState.IN_SYNC, NEW, NEW, datetime(2026, 12, 1, 7, 15, tzinfo=timezone.utc))
    result = SyncResult(plan, status, backup_ref="refs/gitops/backups/20261201T071500Z-aaaaaaaaaaaa", warnings=["a warning"])
    expected = {
        "changed": True,
        "action": "update",
        "before": OLD,
        "after": NEW,
        "kind": "tag",
        "backup_ref": "refs/gitops/backups/20261201T071500Z-aaaaaaaaaaaa",
        "local_changes": {"modified": ["a.txt", "h.txt"], "untracked": ["new.txt"], "overwritten": ["s.env"]},
        "status": {"state": "IN_SYNC", "desired_revision": NEW, "actual_revision": NEW, "last_synced_at": "2026-12-01T07:15:00Z", "drift_details": []},
        "removed_backups": [],
    }
    assert result.to_dict() == expected  # no diff asked: no diff key; warnings go out on their own
    assert json.loads(json.dumps(result.to_dict())) == expected


def test_the_result_carries_the_diff_when_one_was_made():
    plan = SyncPlan(CheckoutState("/srv/app"), ON_MAIN, CLONE)
    diff = {"before": "(no checkout)\n", "after": f"revision: {NEW}\n"}
    data = SyncResult(plan, SyncStatus(SyncState.DRIFTED, NEW), diff=diff).to_dict()
    assert (data["changed"], data["action"], data["before"], data["backup_ref"], data["diff"]) == (True, "clone", None, None, diff)
    assert list(data) == ["changed", "action", "before", "after", "kind", "backup_ref", "local_changes", "status", "removed_backups", "diff"]


# -- render_diff -----------------------------------------------------------------------------------------------


def test_the_diff_shows_revisions_branches_local_changes_and_the_files_that_change(checkout, upstream):
    old = upstream.head()
    upstream.commit({"file1.txt": "next\n", "added.txt": "new\n"})
    upstream.git("rm", "--quiet", "file2.txt")
    upstream.git("commit", "--quiet", "-m", "remove file2")
    new = upstream.head()
    _git(checkout, "fetch", "--quiet", "origin")
    (checkout / "file0.txt").write_text("hand edit\n")
    (checkout / "stray.txt").write_text("x\n")
    plan = SyncPlan(_state(checkout), Target(BRANCH, "main", new), UPDATE, risk=AtRisk(flagged=("file1.txt",), overwritten=("secrets.env",)))
    with GitRunner() as git:
        diff = render_diff(git, Where.checkout(str(checkout)), str(checkout), plan)
    assert diff == {
        "before_header": f"{checkout} ({old[:12]})",
        "after_header": f"{checkout} ({new[:12]})",
        "before": f"revision: {old}\nbranch: main\nmodified: file0.txt\nmodified: file1.txt\nuntracked: stray.txt\noverwritten: secrets.env\n",
        "after": f"revision: {new}\nbranch: main\n",
        "prepared": f"files changed from {old[:12]} to {new[:12]}:\nA\tadded.txt\nM\tfile1.txt\nD\tfile2.txt\n",
    }


def test_the_diff_of_a_detached_checkout_at_the_target_lists_no_files_and_runs_no_git(checkout, upstream, git_counter):
    head = upstream.head()
    _git(checkout, "checkout", "--quiet", "--detach")
    plan = SyncPlan(_state(checkout), Target(TAG, "v1", head), REFRESH)
    git_counter.reset()
    with GitRunner() as git:
        diff = render_diff(git, Where.checkout(str(checkout)), str(checkout), plan)
    assert diff == {
        "before_header": f"{checkout} ({head[:12]})",
        "after_header": f"{checkout} ({head[:12]})",
        "before": f"revision: {head}\nbranch: (detached)\n",
        "after": f"revision: {head}\nbranch: (detached)\n",
    }
    assert git_counter.commands() == []


def test_the_diff_of_a_clone_starts_from_no_checkout_and_runs_no_git(tmp_path, upstream, git_counter):
    head = upstream.head()
    dest = tmp_path / "absent"
    plan = SyncPlan(_state(dest), Target(BRANCH, "main", head), CLONE)
    git_counter.reset()
    with GitRunner() as git:
        diff = render_diff(git, Where.checkout(str(dest)), str(dest), plan)
    assert diff == {
        "before_header": f"{dest} ((none))",
        "after_header": f"{dest} ({head[:12]})",
        "before": "(no checkout)\n",
        "after": f"revision: {head}\nbranch: main\n",
    }
    assert git_counter.commands() == []


def test_the_files_are_not_known_when_the_target_is_not_in_the_repository_asked(checkout, upstream):
    old = upstream.head()
    new = upstream.commit({"added.txt": "new\n"})  # not fetched into the checkout
    plan = SyncPlan(_state(checkout), Target(BRANCH, "main", new), UPDATE)
    with GitRunner() as git:
        diff = render_diff(git, Where.checkout(str(checkout)), str(checkout), plan)
    assert diff["prepared"] == f"files changed from {old[:12]} to {new[:12]}: not known\n"


def test_the_files_are_read_where_the_target_is(checkout, upstream):
    """A peek repository holds the target in check mode: the diff is asked there, not in the checkout."""
    old = upstream.head()
    new = upstream.commit({"added.txt": "new\n"})
    plan = SyncPlan(_state(checkout), Target(BRANCH, "main", new), UPDATE)
    with GitRunner() as git:
        diff = render_diff(git, Where(("--git-dir", str(upstream.path / ".git"))), str(checkout), plan)
    assert diff["prepared"] == f"files changed from {old[:12]} to {new[:12]}:\nA\tadded.txt\n"


def test_two_commits_of_the_same_tree_change_no_file(checkout, upstream):
    old = upstream.head()
    upstream.git("commit", "--quiet", "--allow-empty", "-m", "empty")
    new = upstream.head()
    _git(checkout, "fetch", "--quiet", "origin")
    plan = SyncPlan(_state(checkout), Target(BRANCH, "main", new), UPDATE)
    with GitRunner() as git:
        diff = render_diff(git, Where.checkout(str(checkout)), str(checkout), plan)
    assert diff["prepared"] == f"files changed from {old[:12]} to {new[:12]}:\n"
