# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The report's records: what it reads from module results, and how it counts them."""

from __future__ import annotations

import pytest

from ansible_collections.fleetops.gitops.plugins.plugin_utils._report import (
    FleetReport,
    records_from_result,
    report_dir_fact,
)
from ansible_collections.fleetops.gitops.tests.unit.plugins.plugin_utils.report_samples import (
    DEPLOYED,
    DESIRED,
    SAMPLE_ORDER,
    single,
    status,
)


def keys(report: FleetReport) -> list[tuple[str, str, str]]:
    return [(record.host, record.path, record.state) for record in report.records()]


# -- aggregation ------------------------------------------------------------------------------------------------------


def test_single_form_takes_the_checkout_its_changed_and_its_status():
    report = FleetReport()
    assert report.add_result("web01", single("/srv/app", status("DRIFTED", DESIRED, DEPLOYED, details=["a", "b"]), changed=True)) == 1
    (record,) = report.records()
    assert record.to_dict() == {
        "host": "web01",
        "path": "/srv/app",
        "state": "DRIFTED",
        "desired_revision": DESIRED,
        "actual_revision": DEPLOYED,
        "last_synced_at": "2026-12-01T07:15:00Z",
        "drift_details": ["a", "b"],
        "changed": True,
        "check_mode": False,
        "release": None,
        "previous_release": None,
        "last_switch": None,
        "drifted_since": None,
        "trend": None,
        "repo": None,
        "version": None,
        "health": None,
    }


def test_the_repository_and_the_version_asked_for_come_from_the_status():
    report = FleetReport()
    asked = dict(status("DRIFTED", DESIRED, DEPLOYED), repo="https://git.example.com/team/app.git", version="v2.4.1")
    report.add_result("web01", single("/srv/app", asked))
    batch = {"results": [{"dest": "/srv/tools", "changed": False, "status": dict(status(), repo="/srv/git/tools", version="")}]}
    report.add_result("web02", batch)
    app, tools = report.records()
    assert (app.to_dict()["repo"], app.to_dict()["version"]) == ("https://git.example.com/team/app.git", "v2.4.1")
    assert (tools.repo, tools.version) == ("/srv/git/tools", None)  # empty is unknown, as for every text


def test_a_check_mode_report_predicts_and_a_real_change_is_not_undone_by_one():
    report = FleetReport()
    report.add_result("web01", single("/srv/app", status("DRIFTED"), changed=True), check_mode=True)
    report.add_result("web01", single("/srv/tools", status(), changed=True))
    report.add_result("web01", single("/srv/tools", status(), changed=False), check_mode=True)  # an audit after the sync
    app, tools = sorted(report.records(), key=lambda record: record.path)
    assert (app.changed, app.check_mode) == (True, True)  # would change
    assert (tools.changed, tools.check_mode) == (True, False)  # changed in this run
    assert (report.summary()["changed"], report.summary()["would_change"]) == (1, 1)


def test_the_release_layout_carries_the_release_and_the_previous_one():
    report = FleetReport()
    switch = {"time": "2026-12-04T07:15:00Z", "user": "ops", "action": "switch", "from": "/srv/app/releases/r3", "to": "/srv/app/releases/r2"}
    released = dict(status("IN_SYNC", DESIRED, DESIRED), release="/srv/app/releases/r2", previous_release="/srv/app/releases/r1", last_switch=switch)
    report.add_result("web01", single("/srv/app/current", released))
    (record,) = report.records()
    assert (record.release, record.previous_release) == ("/srv/app/releases/r2", "/srv/app/releases/r1")
    assert record.last_switch == "2026-12-04T07:15:00Z by ops (switch)"


def test_batch_form_takes_every_checkout_with_its_own_changed_and_failures(sample_report):
    assert keys(sample_report) == SAMPLE_ORDER
    by_path = {record.path: record for record in sample_report.records() if record.host == "db01"}
    assert by_path["/srv/app"].changed is True
    assert by_path["/srv/tools"].changed is False
    broken = by_path["/srv/broken"]
    assert broken.state == "ERROR"
    assert broken.drift_details == ["dest: /srv/broken is a checkout of another repository"]
    assert broken.desired_revision is None and broken.changed is False


def test_a_failed_item_keeps_its_revisions_and_puts_its_message_first():
    result = {
        "ansible_facts": {"gitops_status": {"/srv/app": status("DRIFTED", details=["tracked files modified: x"])}},
        "results": [{"path": "/srv/app", "failed": True, "msg": "reconcile failed", "changed": False}],
    }
    (record,) = records_from_result("web01", result, failed=True)
    assert (record.state, record.desired_revision) == ("ERROR", DESIRED)
    assert record.drift_details == ["reconcile failed", "tracked files modified: x"]


def test_a_failed_single_task_with_a_status_is_an_error_with_its_message():
    result = single("/srv/app", status("DRIFTED", details=["local changes"]), msg="local_changes=fail: conf/app.ini modified")
    (record,) = records_from_result("web01", result, failed=True)
    assert record.state == "ERROR"
    assert record.drift_details == ["local_changes=fail: conf/app.ini modified", "local changes"]


def test_failed_when_keeps_the_status_the_module_reported():
    result = single("/srv/app", status("DRIFTED", details=["behind"]), changed=True, failed_when_result=True)
    (record,) = records_from_result("web01", result, failed=True)
    assert (record.state, record.drift_details) == ("DRIFTED", ["behind"])


def test_a_failed_task_without_status_or_path_reports_nothing():
    assert not records_from_result("web01", {"msg": "git not found"}, failed=True)


def test_the_last_report_wins_but_changed_stays():
    report = FleetReport()
    report.add_result("web01", single("/srv/app", status("DRIFTED", details=["behind"]), changed=True))
    report.add_result("web01", single("/srv/app/", status("IN_SYNC")))
    (record,) = report.records()
    assert (record.state, record.drift_details, record.changed) == ("IN_SYNC", [], True)
    report.add_result("web01", single("/srv/app", status("ERROR", details=["boom"])))
    assert [record.state for record in report.records()] == ["ERROR"]


def test_loop_items_and_the_final_loop_result_are_not_counted_twice():
    items = [
        {**single("/srv/a", status(), changed=True), "item": "a", "ansible_loop_var": "item"},
        {**single("/srv/b", status("DRIFTED", details=["behind"])), "item": "b", "ansible_loop_var": "item"},
        {
            "item": "c",
            "ansible_loop_var": "item",
            "failed": True,
            "msg": "ref 'nope' does not exist",
            "ansible_facts": {"gitops_status": {"/srv/c": status("UNKNOWN", None, None, None)}},
        },
        {"item": "d", "ansible_loop_var": "item", "skipped": True},
    ]
    report = FleetReport()
    report.add_result("web01", items[0])
    report.add_result("web01", items[1])
    report.add_result("web01", items[2], failed=True)
    report.add_result("web01", items[3])
    report.add_result("web01", {"changed": True, "msg": "One or more items failed", "results": items}, failed=True)
    assert len(report) == 3
    assert keys(report) == [("web01", "/srv/b", "DRIFTED"), ("web01", "/srv/c", "ERROR"), ("web01", "/srv/a", "IN_SYNC")]
    assert report.summary() == {"hosts": 1, "checkouts": 3, "changed": 1, "would_change": 0, "states": {"IN_SYNC": 1, "DRIFTED": 1, "UNKNOWN": 0, "ERROR": 1}}
    assert report.records()[1].drift_details == ["ref 'nope' does not exist"]


def test_the_same_path_on_two_hosts_is_two_checkouts():
    report = FleetReport()
    for host in ("web01", "web02"):
        report.add_result(host, single("/srv/app", status()))
    assert len(report) == 2


@pytest.mark.parametrize(
    "result",
    [
        {"changed": False, "msg": "All assertions passed"},
        {"ansible_facts": {"gitops_status": "not a dict"}},
        {"ansible_facts": None, "results": "not a list"},
        "not even a dict",
    ],
)
def test_results_without_statuses_are_ignored(result):
    assert not FleetReport().add_result("web01", result)


def test_unexpected_states_and_shapes_are_read_safely():
    (record,) = records_from_result("web01", single("/srv/app", {"state": "in_sync", "drift_details": "one line"}))
    assert (record.state, record.drift_details) == ("IN_SYNC", ["one line"])
    (record,) = records_from_result("web01", single("/srv/app", {"state": "EXPLODED"}))
    assert record.state == "UNKNOWN"


def test_report_dir_fact():
    assert report_dir_fact({"ansible_facts": {"gitops_report_dir": "/var/reports"}}) == "/var/reports"
    assert report_dir_fact({"ansible_facts": {"gitops_report_dir": ""}}) is None
    assert report_dir_fact({"ansible_facts": {"other": 1}}) is None
    assert report_dir_fact({}) is None
