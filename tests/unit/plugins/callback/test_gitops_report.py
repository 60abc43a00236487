# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The gitops_report callback, loaded by Ansible's plugin loader and driven through its hooks.

Task results are small stand-ins with Ansible's callback interface (``_host.get_name()``, ``_result`` and, when
a test needs it, ``_task``); options come from the environment variables the plugin documents.
"""

from __future__ import annotations

import io
import json
import os
import sys
import typing as t
import xml.etree.ElementTree as ET
from pathlib import Path
from types import SimpleNamespace

import pytest
from ansible import constants as C
from ansible.plugins.loader import callback_loader, init_plugin_loader
from ansible.utils.collection_loader import AnsibleCollectionConfig

import ansible_collections.fleetops.gitops as collection
from ansible_collections.fleetops.gitops.tests.unit.plugins.plugin_utils.report_samples import DEPLOYED, DESIRED, single, status

NAME = "fleetops.gitops.gitops_report"
ENV = tuple(f"FLEETOPS_GITOPS_REPORT_{name}" for name in ("DIR", "FORMATS", "TABLE", "WIDTH", "HISTORY"))


class FakeDisplay:
    """Records what the callback prints."""

    verbosity = 0

    def __init__(self) -> None:
        self.lines: list[tuple[str, str | None]] = []
        self.banners: list[str] = []
        self.warnings: list[str] = []

    def display(self, msg: str, color: str | None = None, **_kwargs: t.Any) -> None:
        self.lines.append((msg, color))

    def banner(self, msg: str, **_kwargs: t.Any) -> None:
        self.banners.append(msg)

    def warning(self, msg: str, **_kwargs: t.Any) -> None:
        self.warnings.append(msg)

    @property
    def text(self) -> str:
        return "\n".join(line for line, _colour in self.lines)


class FakeHost:
    def __init__(self, name: str) -> None:
        self.name = name

    def get_name(self) -> str:
        return self.name


class FakeResult:
    """What a callback gets: the host, the result dict and, optionally, the task."""

    def __init__(self, host: str, result: dict[str, t.Any], task: t.Any = None) -> None:
        self._host = FakeHost(host)
        self._result = result
        if task is not None:
            self._task = task


def task(action: str, delegate_to: str | None = None) -> SimpleNamespace:
    return SimpleNamespace(action=action.rsplit(".", 1)[-1], resolved_action=action, delegate_to=delegate_to)


SYNC = task("fleetops.gitops.gitops_sync")
DRIFT = task("fleetops.gitops.gitops_drift")


@pytest.fixture(scope="module")
def plugin_loader() -> None:
    """Ansible's collection loader: set up by ansible-test already, by this fixture under a plain pytest run."""
    if AnsibleCollectionConfig.collection_finder is None:
        collections_root = Path(list(collection.__path__)[0]).parents[2]
        init_plugin_loader([str(collections_root)])
        # The collection's package was imported from PYTHONPATH before the loader existed, so without its
        # metadata; let the loader import it again (modules already imported stay as they are).
        for name in ("ansible_collections", "ansible_collections.fleetops", "ansible_collections.fleetops.gitops"):
            sys.modules.pop(name, None)


@pytest.fixture
def make_callback(plugin_loader, monkeypatch) -> t.Callable[..., t.Any]:
    """A loaded, configured callback; keyword arguments set its documented environment variables."""
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COLUMNS", "100")  # the table is as wide as the terminal, at least 100 columns

    def make(**env: str) -> t.Any:
        for key, value in env.items():
            monkeypatch.setenv(f"FLEETOPS_GITOPS_REPORT_{key.upper()}", value)
        display = FakeDisplay()
        callback = callback_loader.get(NAME, display=display)
        assert callback is not None, f"{NAME} not found"
        callback.set_options()
        callback.fake_display = display
        return callback

    return make


def run_sample_play(callback: t.Any) -> None:
    """Three hosts: web01 in sync, web02 drifted after a failed reconcile loop, db01 a batch with one failure."""
    callback.v2_runner_on_ok(FakeResult("web01", single("/srv/app", status(), changed=True), SYNC))
    callback.v2_runner_on_ok(FakeResult("web02", single("/srv/app", status()), SYNC))
    item = {
        **single(
            "/srv/app",
            status(
                "DRIFTED",
                DESIRED,
                DEPLOYED,
                details=["revision differs: deployed 1f0c3b9e2d4a, desired 8f3c2a9d0b6e (2 commits behind)", "untracked files: debug.txt"],
            ),
            changed=True,
        ),
        "item": "/srv/app",
        "ansible_loop_var": "item",
    }
    callback.v2_runner_item_on_ok(FakeResult("web02", item, DRIFT))
    callback.v2_runner_on_ok(FakeResult("web02", {"changed": True, "results": [item]}, DRIFT))
    batch = {
        "changed": False,
        "msg": "1 of 2 checkouts failed",
        "ansible_facts": {"gitops_status": {"/srv/app": status()}},
        "results": [
            {"dest": "/srv/app", "changed": False, "status": status()},
            {"dest": "/srv/tools", "changed": False, "failed": True, "msg": "version: 'v9' does not exist on origin"},
        ],
    }
    callback.v2_runner_on_failed(FakeResult("db01", batch, SYNC))


def test_the_table_is_printed_at_the_end_drifted_first(make_callback):
    callback = make_callback(width="100")
    run_sample_play(callback)
    display = callback.fake_display
    assert not display.lines  # nothing before the end of the run
    callback.v2_playbook_on_stats(None)
    assert display.banners == ["GITOPS REPORT"]
    lines = display.text.splitlines()
    assert lines[0].split()[:3] == ["HOST", "CHECKOUT", "STATE"]
    rows = [line.split()[:3] for line in lines[2:-1]]
    assert rows == [["db01", "/srv/tools", "ERROR"], ["web02", "/srv/app", "DRIFTED"], ["db01", "/srv/app", "IN_SYNC"], ["web01", "/srv/app", "IN_SYNC"]]
    assert "version: 'v9' does not ex\u2026" in lines[2]
    assert "8f3c2a9d0b6e  1f0c3b9e2d4a  2026-12-01 07:15" in lines[3] and lines[3].endswith("+1 more")
    assert lines[-1] == "3 hosts, 4 checkouts: 2 in sync, 1 drifted, 1 error"
    assert all(len(line) <= 100 for line in lines)
    colours = [colour for _line, colour in display.lines]
    assert colours == [None, None, C.COLOR_ERROR, C.COLOR_CHANGED, C.COLOR_OK, C.COLOR_OK, C.COLOR_ERROR]
    assert not display.warnings


def test_a_wider_terminal_gets_a_wider_table(make_callback, monkeypatch):
    monkeypatch.setenv("COLUMNS", "160")
    callback = make_callback()
    run_sample_play(callback)
    callback.v2_playbook_on_stats(None)
    lines = callback.fake_display.text.splitlines()
    assert max(len(line) for line in lines) > 100 and all(len(line) <= 160 for line in lines)
    assert "version: 'v9' does not exist on origin" in lines[2]


def test_a_log_that_is_no_terminal_gets_every_detail_whole(make_callback, monkeypatch):
    """In a CI log nothing is cut at 100 columns: each line is as long as it needs, each detail on a line."""
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.setattr(sys, "stdout", io.StringIO())  # what Ansible's output is in CI: not a terminal
    callback = make_callback()
    run_sample_play(callback)
    callback.v2_playbook_on_stats(None)
    lines = callback.fake_display.text.splitlines()
    assert "\u2026" not in callback.fake_display.text and "more" not in callback.fake_display.text
    drifted = next(index for index, line in enumerate(lines) if "DRIFTED" in line)
    assert lines[drifted].endswith("revision differs: deployed 1f0c3b9e2d4a, desired 8f3c2a9d0b6e (2 commits behind)")
    assert lines[drifted + 1].strip() == "untracked files: debug.txt"
    assert lines[drifted + 1].index("untracked") == lines[drifted].index("revision differs")  # under DETAILS
    colours = [colour for _line, colour in callback.fake_display.lines]
    assert colours[3:5] == [C.COLOR_CHANGED, C.COLOR_CHANGED]  # the detail's line has its checkout's colour
    narrow = make_callback(width="20")
    run_sample_play(narrow)
    narrow.v2_playbook_on_stats(None)
    assert "\u2026" in narrow.fake_display.text  # a width given is a width, even off a terminal (at least 60)


def test_files_are_written_to_the_report_dir(make_callback, tmp_path):
    target = tmp_path / "reports"
    callback = make_callback(dir=str(target))
    run_sample_play(callback)
    callback.v2_playbook_on_stats(None)
    assert sorted(os.listdir(target)) == ["gitops-report.html", "gitops-report.json", "gitops-report.junit.xml"]
    document = json.loads((target / "gitops-report.json").read_text())
    assert document["summary"]["checkouts"] == 4
    assert [(c["host"], c["path"], c["state"], c["changed"]) for c in document["checkouts"]] == [
        ("db01", "/srv/tools", "ERROR", False),
        ("web02", "/srv/app", "DRIFTED", True),
        ("db01", "/srv/app", "IN_SYNC", False),
        ("web01", "/srv/app", "IN_SYNC", True),
    ]
    suites = ET.parse(target / "gitops-report.junit.xml").getroot()
    assert (suites.get("tests"), suites.get("failures"), suites.get("errors")) == ("4", "1", "1")
    assert "<h1>GitOps fleet report</h1>" in (target / "gitops-report.html").read_text()
    assert callback.fake_display.lines[-1][0] == (f"GitOps reports written to {target}: gitops-report.json, gitops-report.junit.xml, gitops-report.html")


def test_options_formats_and_table(make_callback, tmp_path):
    callback = make_callback(dir=str(tmp_path), formats="junit", table="drifted")
    run_sample_play(callback)
    callback.v2_playbook_on_stats(None)
    assert os.listdir(tmp_path) == ["gitops-report.junit.xml"]
    text = callback.fake_display.text
    assert "IN_SYNC" not in text and "DRIFTED" in text and "ERROR" in text
    assert "3 hosts, 4 checkouts: 2 in sync, 1 drifted, 1 error" in text


def test_an_unknown_format_is_refused_by_the_configuration(make_callback):
    with pytest.raises(Exception, match="pdf"):
        make_callback(formats="json,pdf")


def test_the_gitops_report_dir_fact_overrides_the_setting(make_callback, tmp_path):
    configured, from_fact = tmp_path / "configured", tmp_path / "from-fact"
    callback = make_callback(dir=str(configured))
    callback.v2_runner_on_ok(FakeResult("web01", {"ansible_facts": {"gitops_report_dir": str(from_fact)}}, task("ansible.builtin.set_fact")))
    callback.v2_runner_on_ok(FakeResult("web01", single("/srv/app", status()), SYNC))
    callback.v2_playbook_on_stats(None)
    assert not configured.exists()
    assert sorted(os.listdir(from_fact)) == ["gitops-report.html", "gitops-report.json", "gitops-report.junit.xml"]


def test_no_checkout_no_output(make_callback, tmp_path):
    callback = make_callback(dir=str(tmp_path / "reports"))
    callback.v2_runner_on_ok(FakeResult("web01", {"changed": False, "msg": "hello"}, task("ansible.builtin.debug")))
    callback.v2_playbook_on_stats(None)
    assert not callback.fake_display.lines and not callback.fake_display.banners
    assert not (tmp_path / "reports").exists()


def test_results_of_other_modules_are_ignored(make_callback):
    callback = make_callback()
    fake = single("/srv/app", status("DRIFTED"))
    callback.v2_runner_on_ok(FakeResult("web01", fake, task("ansible.builtin.set_fact")))
    callback.v2_runner_on_ok(FakeResult("web01", fake, task("my.other.gitops_sync")))
    callback.v2_playbook_on_stats(None)
    assert not callback.fake_display.lines
    short_name_only = SimpleNamespace(action="gitops_drift", resolved_action=None, delegate_to=None)
    callback.v2_runner_on_ok(FakeResult("web01", fake, short_name_only))
    callback.v2_playbook_on_stats(None)
    assert "DRIFTED" in callback.fake_display.text


def test_loops_are_not_counted_twice_and_the_last_report_wins(make_callback):
    callback = make_callback()
    first = single("/srv/app", status("DRIFTED", details=["behind"]), changed=True)
    callback.v2_runner_item_on_ok(FakeResult("web01", first, DRIFT))
    callback.v2_runner_on_ok(FakeResult("web01", {"changed": True, "results": [first]}, DRIFT))
    callback.v2_runner_on_ok(FakeResult("web01", single("/srv/app", status()), SYNC))
    callback.v2_playbook_on_stats(None)
    assert callback.fake_display.text.splitlines()[-1] == "1 host, 1 checkout: 1 in sync, 0 drifted"


def test_a_failed_loop_item_is_an_error(make_callback):
    callback = make_callback()
    failed = {
        "msg": "local_changes=fail: conf/app.ini modified",
        "item": "/etc/app",
        "ansible_facts": {"gitops_status": {"/etc/app": status("DRIFTED", details=["tracked files modified: conf/app.ini"])}},
    }
    callback.v2_runner_item_on_failed(FakeResult("web01", failed, SYNC))
    callback.v2_runner_on_failed(FakeResult("web01", {"results": [{**failed, "failed": True}]}, SYNC))
    callback.v2_playbook_on_stats(None)
    lines = callback.fake_display.text.splitlines()
    assert lines[2].split()[:3] == ["web01", "/etc/app", "ERROR"]
    assert "local_changes=fail: c" in lines[2] and lines[2].endswith("+1 more")


def test_a_delegated_task_reports_the_delegate(make_callback):
    callback = make_callback()
    callback.v2_runner_on_ok(FakeResult("web01", single("/srv/mirror", status()), task("fleetops.gitops.gitops_drift", "localhost")))
    callback.v2_runner_on_ok(FakeResult("web02", single("/srv/app", status()), task("fleetops.gitops.gitops_drift", "{{ item }}")))
    callback.v2_playbook_on_stats(None)
    hosts = [line.split()[0] for line in callback.fake_display.text.splitlines()[2:-1]]
    assert hosts == ["localhost", "web02"]


def test_module_arguments_never_reach_the_output(make_callback, tmp_path):
    secret = "s3cret-pw"
    callback = make_callback(dir=str(tmp_path))
    result = single("/srv/app", status("DRIFTED", details=["remote URL differs: https://alice:********@git.example.com/app.git"]))
    result["invocation"] = {"module_args": {"repo": f"https://alice:{secret}@git.example.com/app.git", "dest": "/srv/app"}}
    callback.v2_runner_on_ok(FakeResult("web01", result, SYNC))
    callback.v2_playbook_on_stats(None)
    assert secret not in callback.fake_display.text
    for name in os.listdir(tmp_path):
        assert secret not in (tmp_path / name).read_text()


def test_a_report_dir_that_cannot_be_made_is_a_warning_not_a_crash(make_callback, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    callback = make_callback(dir=str(blocker / "reports"))
    callback.v2_runner_on_ok(FakeResult("web01", single("/srv/app", status()), SYNC))
    callback.v2_playbook_on_stats(None)
    assert "1 host, 1 checkout: 1 in sync, 0 drifted" in callback.fake_display.text
    (warning,) = callback.fake_display.warnings
    assert warning.startswith(f"gitops_report: could not write the reports into {blocker / 'reports'}")


def test_the_documentation_loads(plugin_loader):
    from ansible.utils.plugin_docs import get_docstring  # pylint: disable=import-outside-toplevel

    path = callback_loader.find_plugin(NAME)
    assert path is not None
    doc, examples, _return, _metadata = get_docstring(path, fragment_loader=None)
    assert doc["type"] == "aggregate"
    assert set(doc["options"]) == {"report_dir", "formats", "table", "width", "history"}
    assert doc["options"]["formats"]["default"] == ["json", "junit", "html"]
    assert doc["options"]["report_dir"]["env"] == [{"name": "FLEETOPS_GITOPS_REPORT_DIR"}]
    assert doc["options"]["report_dir"]["ini"] == [{"section": "callback_gitops_report", "key": "report_dir"}]
    assert "callbacks_enabled" in examples


def test_a_module_on_a_managed_host_cannot_choose_the_report_folder(make_callback, tmp_path):
    """Only set_fact, run on the controller, sets the folder: a module's facts come from a host, whatever they say."""
    fact = "gitops_report_dir"
    configured, planted = tmp_path / "configured", tmp_path / "chosen-by-a-host"
    callback = make_callback(dir=str(configured))
    for module in (SYNC, task("some.other.module"), task("ansible.builtin.command")):
        result = dict(single("/srv/app", status()), ansible_facts={fact: str(planted), "gitops_status": {"/srv/app": status()}})
        callback.v2_runner_on_ok(FakeResult("web01", result, module))
    callback.v2_runner_on_ok(FakeResult("web01", {"ansible_facts": {fact: str(planted)}}))  # no task to tell: not set_fact
    callback.v2_playbook_on_stats(None)
    assert not planted.exists()
    assert sorted(os.listdir(configured)) == ["gitops-report.html", "gitops-report.json", "gitops-report.junit.xml"]


def test_a_task_in_check_mode_is_reported_as_a_prediction(make_callback, tmp_path):
    callback = make_callback(dir=str(tmp_path), formats="json")
    audit = SimpleNamespace(**vars(SYNC), check_mode=True)
    callback.v2_runner_on_ok(FakeResult("web01", single("/srv/app", status("DRIFTED", DESIRED, DEPLOYED), changed=True), audit))
    callback.v2_runner_on_ok(FakeResult("web02", single("/srv/app", status(), changed=True), SimpleNamespace(**vars(SYNC), check_mode=False)))
    callback.v2_playbook_on_stats(None)
    document = json.loads((tmp_path / "gitops-report.json").read_text())
    assert {(c["host"], c["changed"], c["check_mode"]) for c in document["checkouts"]} == {("web01", True, True), ("web02", True, False)}
    assert (document["summary"]["changed"], document["summary"]["would_change"]) == (1, 1)


def test_three_runs_with_a_history_give_new_chronic_and_resolved_drift(make_callback, tmp_path):
    """Drift appears, persists, is fixed: what each run's report says, from the history file alone."""
    history = tmp_path / "history.jsonl"
    drifted = status("DRIFTED", DESIRED, DEPLOYED, details=["revision differs"])
    runs = [{"/srv/app": status(), "/srv/etc": status()}, {"/srv/app": drifted, "/srv/etc": status()}, {"/srv/app": drifted}, {"/srv/app": status()}]
    seen = []
    for number, checkouts in enumerate(runs):
        callback = make_callback(dir=str(tmp_path / f"run{number}"), formats="json", history=str(history))
        for path, state in checkouts.items():
            callback.v2_runner_on_ok(FakeResult("web01", single(path, state), SYNC))
        callback.v2_playbook_on_stats(None)
        document = json.loads((tmp_path / f"run{number}" / "gitops-report.json").read_text())
        app = next(c for c in document["checkouts"] if c["path"] == "/srv/app")
        seen.append((document["summary"]["history"], app["trend"], app["drifted_since"]))
        assert not callback.fake_display.warnings
    first, since, again, fixed = (drifted_since for _counts, _trend, drifted_since in seen)
    assert [counts for counts, _trend, _since in seen] == [
        {"new": 0, "chronic": 0, "resolved": 0},
        {"new": 1, "chronic": 0, "resolved": 0},
        {"new": 0, "chronic": 1, "resolved": 0},  # a run without /srv/etc (--limit) compares /srv/app with its own last line
        {"new": 0, "chronic": 0, "resolved": 1},
    ]
    assert first is None and since is not None and again == since and fixed is None  # drifted since the second run
    assert [trend for _counts, trend, _since in seen] == [None, "new", "chronic", "resolved"]
    assert "Drift against the previous run: 0 new, 0 chronic, 1 resolved" in callback.fake_display.text
    assert len(history.read_text().splitlines()) == 2 + 2 + 1 + 1 and oct(history.stat().st_mode)[-3:] == "600"


def test_a_history_file_that_is_a_link_is_left_alone(make_callback, tmp_path):
    target = tmp_path / "elsewhere.jsonl"
    target.write_text("")
    (tmp_path / "history.jsonl").symlink_to(target)
    callback = make_callback(history=str(tmp_path / "history.jsonl"))
    callback.v2_runner_on_ok(FakeResult("web01", single("/srv/app", status()), SYNC))
    callback.v2_playbook_on_stats(None)
    assert target.read_text() == "" and "history" in " ".join(callback.fake_display.warnings)
    assert "1 host, 1 checkout: 1 in sync, 0 drifted" in callback.fake_display.text  # the report itself is made


def test_the_health_check_reaches_the_report_through_set_fact_only(make_callback):
    """The role's checkouts_health, set on the controller, marks the checkouts it was about; the same fact returned by a
    module on a host does not."""
    fact = {"checkouts_health": {"passed": False, "outcome": "HTTP 503", "deployed": {"/srv/app": DESIRED}, "reverted": {}, "after_revert": None}}
    callback = make_callback()
    for host in ("web01", "web02"):
        callback.v2_runner_on_ok(FakeResult(host, single("/srv/app", status(), changed=True), SYNC))
    callback.v2_runner_on_ok(FakeResult("web01", {"ansible_facts": fact}, task("ansible.builtin.set_fact")))
    callback.v2_runner_on_ok(FakeResult("web02", {"ansible_facts": fact}, task("ansible.builtin.command")))
    states = {record.host: (record.state, record.health) for record in callback._report.records()}
    assert states == {"web01": ("ERROR", "failed"), "web02": ("IN_SYNC", None)}
