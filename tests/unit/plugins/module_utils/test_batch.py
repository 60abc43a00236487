# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One call for many checkouts: the same outcome as the single form, per-item failures, one set of facts."""

from __future__ import annotations

import typing as t

import pytest

from ansible_collections.fleetops.gitops.plugins.module_utils._argspec import drift_module_spec, drift_one, sync_module_spec, sync_one
from ansible_collections.fleetops.gitops.plugins.module_utils._batch import execute, secrets_in_params
from ansible_collections.fleetops.gitops.plugins.module_utils._errors import GitNotFound, InvalidOption
from ansible_collections.fleetops.gitops.tests.unit.helpers.module_params import params as _params


def _comparable(result: dict[str, t.Any]) -> dict[str, t.Any]:
    """A result without what differs between two copies of the same fixture: paths, times, backup names."""
    status = dict(result["status"], last_synced_at=None)
    kept = {k: v for k, v in result.items() if k not in ("dest", "path", "diff", "ansible_facts")}
    return dict(kept, status=status, backup_ref=bool(result.get("backup_ref")))


@pytest.fixture
def fleet(make_upstream, tmp_path):
    """Three upstreams and, for each, two identical checkouts (one per form), drifted in three ways."""
    ups = [make_upstream(f"up{n}") for n in range(3)]
    for form in ("single", "batch"):
        for number, up in enumerate(ups):
            execute(sync_one, _params(sync_module_spec(), repo=up.url, dest=str(tmp_path / form / f"c{number}")),
                    key="dest", check_mode=False, diff=False)
            (tmp_path / form / "c1" / "file0.txt").write_text("hand edit\n") if number == 1 else None
    ups[0].commit()
    ups[2].tag("v1")
    return ups


@pytest.mark.parametrize("check_mode", [True, False])
def test_the_batch_form_gives_the_single_form_results(fleet, tmp_path, check_mode):
    items = [{"repo": up.url, "dest": str(tmp_path / "{form}" / f"c{n}"), "version": "v1" if n == 2 else "main"}
             for n, up in enumerate(fleet)]

    def form(name: str) -> list[dict[str, str]]:
        return [{k: v.format(form=name) for k, v in item.items()} for item in items]

    single = [execute(sync_one, _params(sync_module_spec(), **item), key="dest", check_mode=check_mode, diff=True).result
              for item in form("single")]
    batch = execute(sync_one, _params(sync_module_spec(), checkouts=form("batch")), key="dest", check_mode=check_mode,
                    diff=True).result
    assert [_comparable(r) for r in batch["results"]] == [_comparable(r) for r in single]
    assert [r["dest"] for r in batch["results"]] == [str(tmp_path / "batch" / f"c{n}") for n in range(3)]
    # c2 goes from main to the tag v1 on the same commit: HEAD detaches, and that is not a change
    assert batch["changed"] is True and [r["changed"] for r in batch["results"]] == [True, True, False]
    assert len(batch["diff"]) == 3
    assert sorted(batch["ansible_facts"]["gitops_status"]) == [r["dest"] for r in batch["results"]]
    assert batch["changed_checkouts"] == [r["dest"] for r in batch["results"]][:2]
    assert batch["drifted_checkouts"] == ([r["dest"] for r in batch["results"]][:2] if check_mode else [])


def test_items_inherit_top_level_options_and_override_them(upstream, tmp_path):
    params = _params(sync_module_spec(), local_changes="fail", checkouts=[
        {"repo": upstream.url, "dest": str(tmp_path / "a")},
        {"repo": upstream.url, "dest": str(tmp_path / "b"), "local_changes": "discard"},
    ])
    execute(sync_one, params, key="dest", check_mode=False, diff=False)
    for name in ("a", "b"):
        (tmp_path / name / "file0.txt").write_text("edit\n")
    outcome = execute(sync_one, params, key="dest", check_mode=False, diff=False)
    first, second = outcome.result["results"]
    assert first["failed"] and "local_changes=fail" in first["msg"] and first["modified"] == ["file0.txt"]
    assert second["changed"] and not second.get("failed")
    assert outcome.failed and outcome.msg.startswith("1 of 2 checkouts failed: " + str(tmp_path / "a"))


def test_a_failing_checkout_does_not_stop_the_others(upstream, tmp_path):
    params = _params(sync_module_spec(), allow_partial_failure=True, checkouts=[
        {"repo": str(tmp_path / "missing-repo"), "dest": str(tmp_path / "bad")},
        {"repo": upstream.url, "dest": str(tmp_path / "good")},
        {"repo": "--upload-pack=x", "dest": str(tmp_path / "hostile")},
    ])
    outcome = execute(sync_one, params, key="dest", check_mode=False, diff=False)
    bad, good, hostile = outcome.result["results"]
    assert not outcome.failed and outcome.warnings[0].startswith("2 of 3 checkouts failed")
    assert good["changed"] and (tmp_path / "good" / "file0.txt").exists()
    assert bad["failed"] and bad["status"]["state"] == "ERROR" and bad["rc"] == 128
    assert hostile["failed"] and hostile["option"] == "repo"
    facts = outcome.result["ansible_facts"]["gitops_status"]
    assert facts[str(tmp_path / "bad")]["state"] == "ERROR" and facts[str(tmp_path / "good")]["state"] == "IN_SYNC"
    assert outcome.result["changed_checkouts"] == [str(tmp_path / "good")]
    assert outcome.result["drifted_checkouts"] == [str(tmp_path / "bad"), str(tmp_path / "hostile")]


def test_the_same_dest_twice_is_refused(upstream, tmp_path):
    params = _params(sync_module_spec(), checkouts=[{"repo": upstream.url, "dest": str(tmp_path / "a")},
                                                    {"repo": upstream.url, "dest": str(tmp_path / "x" / ".." / "a")}])
    with pytest.raises(InvalidOption, match="checkouts: item 2: dest .* appears more than once"):
        execute(sync_one, params, key="dest", check_mode=False, diff=False)


@pytest.mark.parametrize("spec, task, key", [(sync_module_spec, sync_one, "dest"), (drift_module_spec, drift_one, "path")])
def test_a_host_without_git_fails_the_call_once_with_git_missing(spec, task, key, upstream, tmp_path, monkeypatch):
    """The role installs git only when a module says ``git_missing``: one error for the call, not one per item."""
    params = _params(spec(), checkouts=[{"repo": upstream.url, key: str(tmp_path / name)} for name in ("a", "b")])
    monkeypatch.setenv("PATH", str(tmp_path / "no-git-here"))
    with pytest.raises(GitNotFound, match="git is not installed") as caught:
        execute(task, params, key=key, check_mode=True, diff=False)
    assert caught.value.details() == {"git_missing": True}
    assert not any((tmp_path / name).exists() for name in ("a", "b"))


def test_parallel_one_gives_the_same_results(fleet, tmp_path):
    items = [{"repo": up.url, "dest": str(tmp_path / "batch" / f"c{n}")} for n, up in enumerate(fleet)]
    serial = execute(sync_one, _params(sync_module_spec(), checkouts=items, parallel=1), key="dest", check_mode=True, diff=False)
    wide = execute(sync_one, _params(sync_module_spec(), checkouts=items, parallel=8), key="dest", check_mode=True, diff=False)
    assert serial.result == wide.result


def test_drift_batch_reports_each_checkout(fleet, tmp_path):
    params = _params(drift_module_spec(), checkouts=[{"path": str(tmp_path / "batch" / f"c{n}"), "repo": up.url}
                                                     for n, up in enumerate(fleet)])
    outcome = execute(drift_one, params, key="path", check_mode=True, diff=False)
    drifted = [r["drifted"] for r in outcome.result["results"]]
    assert drifted == [True, True, False] and outcome.result["changed"]
    paths = [str(tmp_path / "batch" / f"c{n}") for n in (0, 1)]
    assert outcome.result["changed_checkouts"] == paths and outcome.result["drifted_checkouts"] == paths
    assert outcome.result["results"][1]["drift_details"] == ["tracked files modified: file0.txt"]


def test_a_failing_single_checkout_still_reports_its_status(tmp_path):
    params = _params(sync_module_spec(), repo=str(tmp_path / "missing-repo"), dest=str(tmp_path / "app"))
    outcome = execute(sync_one, params, key="dest", check_mode=False, diff=False)
    assert outcome.failed and "cannot resolve version 'HEAD' (the default branch) on " in outcome.msg
    assert "failed" not in outcome.result and "dest" not in outcome.result  # fail_json adds its own
    assert outcome.result["ansible_facts"]["gitops_status"][str(tmp_path / "app")]["state"] == "ERROR"


def test_secrets_of_every_item_are_collected():
    params = {"repo": None, "checkouts": [{"repo": "https://a:pw1@h/x"}, {"repo": "https://tok2@h/y"}, {"repo": "/srv/z"}]}
    assert secrets_in_params(params) == {"pw1", "tok2"}


@pytest.mark.parametrize("outer_first", [True, False])
def test_checkouts_that_nest_are_refused_up_front(upstream, tmp_path, git_counter, outer_first):
    """One checkout inside another is that one's untracked files: each run would undo the other, forever."""
    outer, inner = str(tmp_path / "srv" / "app"), str(tmp_path / "srv" / "app" / "plugins" / "extra")
    items = [{"repo": upstream.url, "dest": outer}, {"repo": upstream.url, "dest": str(tmp_path / "other")},
             {"repo": upstream.url, "dest": inner}]
    if not outer_first:
        items.reverse()
    numbers = {item["dest"]: number for number, item in enumerate(items, start=1)}
    with pytest.raises(InvalidOption, match=f"item {numbers[inner]}: dest {inner} is inside item {numbers[outer]}'s dest {outer}"):
        execute(sync_one, _params(sync_module_spec(), checkouts=items), key="dest", check_mode=False, diff=False)
    assert git_counter.commands() == [] and not (tmp_path / "srv").exists()
