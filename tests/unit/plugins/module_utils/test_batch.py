# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One call for many checkouts: the same outcome as the single form, per-item failures, one set of facts."""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
import typing as t
from pathlib import Path

import pytest

from ansible_collections.fleetops.gitops.plugins.module_utils import _batch as batch_module
from ansible_collections.fleetops.gitops.plugins.module_utils._argspec import drift_module_spec, sync_module_spec
from ansible_collections.fleetops.gitops.plugins.module_utils._batch import execute, secrets_in_params
from ansible_collections.fleetops.gitops.plugins.module_utils._errors import GitNotFound, InvalidOption
from ansible_collections.fleetops.gitops.plugins.module_utils._item_tasks import drift_one, sync_one
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
            execute(sync_one, _params(sync_module_spec(), repo=up.url, dest=str(tmp_path / form / f"c{number}")), key="dest", check_mode=False, diff=False)
            (tmp_path / form / "c1" / "file0.txt").write_text("hand edit\n") if number == 1 else None
    ups[0].commit()
    ups[2].tag("v1")
    return ups


@pytest.mark.parametrize("check_mode", [True, False])
def test_the_batch_form_gives_the_single_form_results(fleet, tmp_path, check_mode):
    items = [{"repo": up.url, "dest": str(tmp_path / "{form}" / f"c{n}"), "version": "v1" if n == 2 else "main"} for n, up in enumerate(fleet)]

    def form(name: str) -> list[dict[str, str]]:
        return [{k: v.format(form=name) for k, v in item.items()} for item in items]

    single = [execute(sync_one, _params(sync_module_spec(), **item), key="dest", check_mode=check_mode, diff=True).result for item in form("single")]
    batch = execute(sync_one, _params(sync_module_spec(), checkouts=form("batch")), key="dest", check_mode=check_mode, diff=True).result
    assert [_comparable(r) for r in batch["results"]] == [_comparable(r) for r in single]
    assert [r["dest"] for r in batch["results"]] == [str(tmp_path / "batch" / f"c{n}") for n in range(3)]
    # c2 goes from main to the tag v1 on the same commit: HEAD detaches, and that is not a change
    assert batch["changed"] is True and [r["changed"] for r in batch["results"]] == [True, True, False]
    assert len(batch["diff"]) == 3
    assert sorted(batch["ansible_facts"]["gitops_status"]) == [r["dest"] for r in batch["results"]]
    assert batch["changed_checkouts"] == [r["dest"] for r in batch["results"]][:2]
    assert batch["drifted_checkouts"] == ([r["dest"] for r in batch["results"]][:2] if check_mode else [])


def test_items_inherit_top_level_options_and_override_them(upstream, tmp_path):
    params = _params(
        sync_module_spec(),
        local_changes="fail",
        checkouts=[
            {"repo": upstream.url, "dest": str(tmp_path / "a")},
            {"repo": upstream.url, "dest": str(tmp_path / "b"), "local_changes": "discard"},
        ],
    )
    execute(sync_one, params, key="dest", check_mode=False, diff=False)
    for name in ("a", "b"):
        (tmp_path / name / "file0.txt").write_text("edit\n")
    outcome = execute(sync_one, params, key="dest", check_mode=False, diff=False)
    first, second = outcome.result["results"]
    assert first["failed"] and "local_changes=fail" in first["msg"] and first["modified"] == ["file0.txt"]
    assert second["changed"] and not second.get("failed")
    assert outcome.failed and outcome.msg.startswith("1 of 2 checkouts failed: " + str(tmp_path / "a"))


def test_a_failing_checkout_does_not_stop_the_others(upstream, tmp_path):
    params = _params(
        sync_module_spec(),
        allow_partial_failure=True,
        checkouts=[
            {"repo": str(tmp_path / "missing-repo"), "dest": str(tmp_path / "bad")},
            {"repo": upstream.url, "dest": str(tmp_path / "good")},
            {"repo": "--upload-pack=x", "dest": str(tmp_path / "hostile")},
        ],
    )
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
    params = _params(
        sync_module_spec(), checkouts=[{"repo": upstream.url, "dest": str(tmp_path / "a")}, {"repo": upstream.url, "dest": str(tmp_path / "x" / ".." / "a")}]
    )
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
    params = _params(drift_module_spec(), checkouts=[{"path": str(tmp_path / "batch" / f"c{n}"), "repo": up.url} for n, up in enumerate(fleet)])
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
    items = [{"repo": upstream.url, "dest": outer}, {"repo": upstream.url, "dest": str(tmp_path / "other")}, {"repo": upstream.url, "dest": inner}]
    if not outer_first:
        items.reverse()
    numbers = {item["dest"]: number for number, item in enumerate(items, start=1)}
    with pytest.raises(InvalidOption, match=f"item {numbers[inner]}: dest {inner} is inside item {numbers[outer]}'s dest {outer}"):
        execute(sync_one, _params(sync_module_spec(), checkouts=items), key="dest", check_mode=False, diff=False)
    assert git_counter.commands() == [] and not (tmp_path / "srv").exists()


@pytest.mark.parametrize("spec, task, key", [(sync_module_spec, sync_one, "dest"), (drift_module_spec, drift_one, "path")])
def test_the_single_form_says_git_missing_too(spec, task, key, upstream, tmp_path, monkeypatch):
    """The drift path once turned the error into text and raised a bare one: the role's git_missing path never ran."""
    monkeypatch.setenv("PATH", str(tmp_path / "no-git-here"))
    outcome = execute(task, _params(spec(), repo=upstream.url, **{key: str(tmp_path / "app")}), key=key, check_mode=True, diff=False)
    assert outcome.failed and "git is not installed" in outcome.msg
    assert outcome.result["git_missing"] is True and outcome.result["status"]["state"] == "ERROR"


@pytest.mark.parametrize("form", ["single", "checkouts"])
def test_each_status_names_its_repository_without_credentials_and_the_version_asked(form, served, servers, upstream, tmp_path, monkeypatch):
    """The report reads statuses, never arguments: the repository must come back in them without its user:password@."""
    monkeypatch.setenv("GIT_SSL_CAINFO", servers.ca_file)
    upstream.tag("v1")
    public = served("https")
    secret = public.replace("https://", "https://alice:s3cret-pw@", 1)

    def statuses(spec: t.Any, task: t.Any, key: str, items: list[dict[str, str]]) -> list[dict[str, t.Any]]:
        given = {"checkouts": items} if form == "checkouts" else items[0]
        outcome = execute(task, _params(spec(), **given), key=key, check_mode=False, diff=False)
        assert "s3cret-pw" not in json.dumps(outcome.result)  # (an error names the URL masked: alice:********@)
        found = outcome.result["ansible_facts"]["gitops_status"]
        return [found[item[key]] for item in items]

    app, other = str(tmp_path / "app"), str(tmp_path / "other")
    synced = statuses(sync_module_spec, sync_one, "dest", [{"repo": secret, "dest": app, "version": "v1"}])
    assert (synced[0]["state"], synced[0]["repo"], synced[0]["version"]) == ("IN_SYNC", public, "v1")
    pinned = statuses(sync_module_spec, sync_one, "dest", [{"repo": secret, "dest": app, "version": "refs/tags/v1"}])
    assert pinned[0]["version"] == "v1"  # as resolve_on_controller and a lockfile pin it: the name asked for
    audited = statuses(drift_module_spec, drift_one, "path", [{"repo": secret, "path": app, "branch": "main"}])
    assert (audited[0]["repo"], audited[0]["version"]) == (public, "main")
    # A checkout that failed names them too; a drift audit without repo, the default branch only.
    (failed,) = statuses(sync_module_spec, sync_one, "dest", [{"repo": secret, "dest": other, "version": "no-such-branch"}])
    assert (failed["state"], failed["repo"], failed["version"]) == ("ERROR", public, "no-such-branch")
    (unnamed,) = statuses(drift_module_spec, drift_one, "path", [{"path": app}])
    assert (unnamed["repo"], unnamed["version"]) == (None, "HEAD")


# Runs execute() in the interpreter given: which thread each checkout ran in, with and without an owner.
_THREADS = """
import json, sys, threading
from ansible_collections.fleetops.gitops.plugins.module_utils._batch import ItemOutcome, execute

def task(spec, check_mode, diff):
    alone = threading.current_thread() is threading.main_thread()
    return ItemOutcome(spec["dest"], {"changed": False, "status": {"state": "IN_SYNC"}, "main_thread": alone})

found = {}
for owner in (None, "nobody"):
    items = [{"dest": "/srv/c%d" % n, "owner": owner} for n in range(4)]
    result = execute(task, {"checkouts": items, "parallel": 8}, key="dest", check_mode=True, diff=False).result
    found[str(owner)] = [item["main_thread"] for item in result["results"]]
print(json.dumps(found))
"""


def _python38() -> str | None:
    """A working python3.8: the pyenv builds make venv links, else one on PATH (a pyenv shim may not work)."""
    builds = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.8.*/bin/python3.8")), reverse=True)
    for candidate in builds + [shutil.which("python3.8") or ""]:
        if candidate and subprocess.run([candidate, "-c", ""], capture_output=True, check=False).returncode == 0:
            return candidate
    return None


@pytest.mark.parametrize("python, one_thread_with_owner", [("3.8", True), ("this", False)])
def test_python_3_8_runs_checkouts_with_an_owner_one_at_a_time(python, one_thread_with_owner):
    """On 3.8 git drops to the owner in a preexec_fn, which must not run beside other threads: such a batch runs in the
    module's one thread. Without an owner, and on 3.9+ (Popen's user/group), the checkouts run in parallel."""
    interpreter = sys.executable if python == "this" else _python38()
    if interpreter is None:
        pytest.skip("no Python 3.8 on this machine (make venv links the pyenv builds)")
    root = Path(batch_module.__file__).parents[5]  # the folder that holds ansible_collections/ (links not followed)
    run = subprocess.run([interpreter, "-c", _THREADS], capture_output=True, text=True, check=True, env=dict(os.environ, PYTHONPATH=str(root)))
    found = json.loads(run.stdout)
    assert found == {"None": [False] * 4, "nobody": [one_thread_with_owner] * 4}
