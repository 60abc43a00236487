# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fleet report: aggregation of module results, and the table, JSON, JUnit and HTML renderers."""

from __future__ import annotations

import html
import json
import os
import re
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.fleetops.gitops.plugins.plugin_utils._report import (
    REPORT_FILES,
    FleetReport,
    records_from_result,
    render_html,
    render_json,
    render_junit,
    render_table,
    report_dir_fact,
    summary_line,
    table_lines,
    write_reports,
)
from ansible_collections.fleetops.gitops.tests.unit.plugins.plugin_utils.report_samples import (
    DEPLOYED,
    DESIRED,
    NOW,
    SCRIPT_DETAIL,
    single,
    status,
)

SAMPLE_ORDER = [
    ("db01", "/srv/broken", "ERROR"),
    ("db01", "/srv/tools", "UNKNOWN"),
    ("web01", "/etc/app/conf.d", "DRIFTED"),
    ("web10", "/srv/app", "DRIFTED"),
    ("db01", "/srv/app", "IN_SYNC"),
    ("web01", "/srv/app", "IN_SYNC"),
    ("web02", "/srv/app", "IN_SYNC"),
]


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
    }


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
    assert report.summary() == {"hosts": 1, "checkouts": 3, "changed": 1, "states": {"IN_SYNC": 1, "DRIFTED": 1, "UNKNOWN": 0, "ERROR": 1}}
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


# -- table ------------------------------------------------------------------------------------------------------------


def test_table_rows_drifted_first_and_summary(sample_report):
    text = render_table(sample_report.records())
    lines = text.splitlines()
    assert lines[0].split() == ["HOST", "CHECKOUT", "STATE", "DESIRED", "ACTUAL", "LAST", "SYNC", "DETAILS"]
    assert set(lines[1].replace(" ", "")) == {"-"}
    states = [line.split()[2] for line in lines[2:-1]]
    assert states == [state for _host, _path, state in SAMPLE_ORDER]
    assert lines[-1] == "4 hosts, 7 checkouts: 3 in sync, 2 drifted, 1 unknown, 1 error"
    conf = next(line for line in lines if "/etc/app/conf.d" in line)
    assert "8f3c2a9d0b6e  1f0c3b9e2d4a  2026-12-01 07:15" in conf
    assert DESIRED not in text  # 12-character SHAs only
    assert conf.endswith("+2 more")
    assert all(len(line) <= 100 for line in lines)


def test_table_cuts_long_cells_with_an_ellipsis_to_fit_100_columns():
    report = FleetReport()
    report.add_result(
        "host-with-a-really-long-name.datacenter-one.example.com",
        single(
            "/opt/releases/reporting-service/current/checkout",
            status(
                "DRIFTED",
                DESIRED,
                DEPLOYED,
                details=["revision differs: recorded 1f0c3b9e2d4a, desired 8f3c2a9d0b6e (250 commits behind)", "untracked files: a, b, c"],
            ),
        ),
    )
    lines = render_table(report.records(), width=100).splitlines()
    assert all(len(line) <= 100 for line in lines)
    row = lines[2]
    assert re.match("host-with\\S*\u2026  ", row)  # host names keep their start
    assert "\u2026rent/checkout  DRIFTED" in row  # paths keep their end
    assert row.endswith("\u2026 +1 more")
    wide = render_table(report.records(), width=300).splitlines()[2]
    assert "host-with-a-really-long-name.datacenter-one.example.com" in wide
    assert "(250 commits behind) +1 more" in wide


def test_table_control_characters_cannot_reach_the_terminal():
    report = FleetReport()
    report.add_result("web01", single("/srv/app", status("DRIFTED", details=["untracked files: \x1b[31mred\x1b[0m\nnext"])))
    text = render_table(report.records(), width=200)
    assert "\x1b" not in text
    assert "untracked files: [31mred [0m next" in text


def test_table_drifted_only_and_all_in_sync(sample_report):
    lines = render_table(sample_report.records(), drifted_only=True).splitlines()
    assert len(lines) == 2 + 4 + 1
    assert "IN_SYNC" not in "\n".join(lines[:-1])
    assert lines[-1].startswith("4 hosts, 7 checkouts: 3 in sync")
    report = FleetReport()
    report.add_result("web01", single("/srv/app", status()))
    assert table_lines(report.records(), drifted_only=True) == [("All 1 checkout in sync.", "IN_SYNC"), ("1 host, 1 checkout: 1 in sync, 0 drifted", "IN_SYNC")]


def test_table_lines_carry_the_state_for_colour(sample_report):
    lines = table_lines(sample_report.records())
    assert [state for _line, state in lines] == [None, None] + [state for _h, _p, state in SAMPLE_ORDER] + ["ERROR"]


def test_summary_line_pluralises():
    summary = {"hosts": 23, "checkouts": 57, "states": {"IN_SYNC": 52, "DRIFTED": 4, "UNKNOWN": 0, "ERROR": 1}}
    assert summary_line(summary) == "23 hosts, 57 checkouts: 52 in sync, 4 drifted, 1 error"
    summary["states"]["ERROR"] = 2
    assert summary_line(summary).endswith("2 errors")


# -- JSON -------------------------------------------------------------------------------------------------------------


def test_json_parses_back_sorted_with_summary(sample_report):
    document = json.loads(render_json(sample_report.records(), now=NOW))
    assert document["generated_at"] == "2026-12-01T07:30:00Z"
    assert document["summary"] == {"hosts": 4, "checkouts": 7, "changed": 2, "states": {"IN_SYNC": 3, "DRIFTED": 2, "UNKNOWN": 1, "ERROR": 1}}
    assert [(c["host"], c["path"], c["state"]) for c in document["checkouts"]] == SAMPLE_ORDER
    assert list(document["checkouts"][2]) == ["host", "path", "state", "desired_revision", "actual_revision", "last_synced_at", "drift_details", "changed"]
    assert document["checkouts"][2]["drift_details"][2] == SCRIPT_DETAIL


# -- JUnit ------------------------------------------------------------------------------------------------------------


def test_junit_has_a_suite_per_host_and_a_case_per_checkout(sample_report):
    text = render_junit(sample_report.records(), now=NOW)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    root = ET.fromstring(text.encode("utf-8"))
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("7", "2", "2")
    suites = {suite.get("name"): suite for suite in root.findall("testsuite")}
    assert list(suites) == ["db01", "web01", "web02", "web10"]
    counts = {name: (suite.get("tests"), suite.get("failures"), suite.get("errors")) for name, suite in suites.items()}
    assert counts == {"db01": ("3", "0", "2"), "web01": ("2", "1", "0"), "web02": ("1", "0", "0"), "web10": ("1", "1", "0")}
    cases = {(case.get("classname"), case.get("name")): case for case in root.iter("testcase")}
    drifted = cases[("web01", "/etc/app/conf.d")]
    failure = drifted.find("failure")
    assert failure.get("message").startswith("revision differs: recorded 1f0c3b9e2d4a")
    assert failure.text.splitlines()[2] == SCRIPT_DETAIL  # escaped on the way in, intact on the way out
    assert cases[("db01", "/srv/broken")].find("error").get("message") == "dest: /srv/broken is a checkout of another repository"
    assert cases[("db01", "/srv/tools")].find("error").get("message") == "UNKNOWN"
    assert cases[("web02", "/srv/app")].find("failure") is None and cases[("web02", "/srv/app")].find("error") is None


def test_junit_survives_characters_xml_cannot_hold():
    report = FleetReport()
    report.add_result("web01", single("/srv/app", status("DRIFTED", details=["bad \x00 byte \x1b[0m"])))
    root = ET.fromstring(render_junit(report.records(), now=NOW))
    assert root.find("testsuite/testcase/failure").get("message") == "bad \ufffd byte \ufffd[0m"


def test_a_state_no_module_returns_is_unknown():
    """SYNCING lasts only inside a reconcile; a result that claims it (or anything else) is not to be believed."""
    report = FleetReport()
    for path, state in (("/srv/a", "SYNCING"), ("/srv/b", "ON_FIRE")):
        report.add_result("web01", single(path, status(state)))
    assert [record.state for record in report.records()] == ["UNKNOWN", "UNKNOWN"]
    suite = ET.fromstring(render_junit(report.records(), now=NOW)).find("testsuite")
    assert (suite.get("skipped"), suite.get("failures"), suite.get("errors")) == ("0", "0", "2")


# -- HTML -------------------------------------------------------------------------------------------------------------


def test_html_escapes_everything(sample_report):
    page = render_html(sample_report.records(), now=NOW)
    assert "<script" not in page and SCRIPT_DETAIL in html.unescape(page)
    report = FleetReport()
    report.add_result('web"01<x-host>', single("/srv/<x-path>app", status("DRIFTED", '"><img src=x>', None)))
    page = render_html(report.records(), now=NOW)
    assert "<x-" not in page and "<img" not in page
    assert '<td class="host">web&#34;01&lt;x-host&gt;</td>' in page
    assert '"><img src=x>' in [html.unescape(title) for title in re.findall(r'title="([^"]*)"', page)]


def test_html_is_self_contained_and_drifted_first(sample_report):
    page = render_html(sample_report.records(), now=NOW)
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"(src|href)\s*=|@import|url\(", page)  # no external assets
    rows = re.findall(r'<tr class="st-([a-z-]+)">\s*<td class="host">([^<]*)</td>\s*<td class="path">(.*?)</td>', page)
    assert [(host, path.replace("<wbr>", ""), state) for state, host, path in rows] == [
        (host, path, state.lower().replace("_", "-")) for host, path, state in SAMPLE_ORDER
    ]
    assert f'<code title="{DEPLOYED}" class="differs">1f0c3b9e2d4a</code>' in page
    assert f'<code title="{DESIRED}">8f3c2a9d0b6e</code>' in page
    assert "<li>tracked files modified: conf/app.ini</li>" in page
    assert "4 hosts, 7 checkouts: 3 in sync, 2 drifted, 1 unknown, 1 error" in page
    assert "position: sticky" in page and "nth-child(even)" in page


# -- files ------------------------------------------------------------------------------------------------------------


def test_write_reports_writes_each_format_atomically(sample_report, tmp_path):
    target = tmp_path / "new" / "reports"
    written = write_reports(str(target), ["json", "junit", "html"], sample_report.records(), now=NOW)
    assert written == [str(target / name) for name in REPORT_FILES.values()]
    assert sorted(os.listdir(target)) == sorted(REPORT_FILES.values())  # no temporary files left
    assert json.loads((target / "gitops-report.json").read_text())["generated_at"] == "2026-12-01T07:30:00Z"
    ET.parse(target / "gitops-report.junit.xml")
    assert (target / "gitops-report.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_write_reports_only_the_formats_asked_and_refuses_unknown_ones(sample_report, tmp_path):
    assert write_reports(str(tmp_path), ["JSON", "json"], sample_report.records()) == [str(tmp_path / "gitops-report.json")]
    with pytest.raises(ValueError, match="pdf"):
        write_reports(str(tmp_path), ["html", "pdf"], sample_report.records())
    assert os.listdir(tmp_path) == ["gitops-report.json"]


def test_an_interrupted_write_leaves_the_old_report_whole(sample_report, tmp_path, monkeypatch):
    write_reports(str(tmp_path), ["json"], sample_report.records(), now=NOW)
    old = (tmp_path / "gitops-report.json").read_text()

    def crash(*_args, **_kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        write_reports(str(tmp_path), ["json"], sample_report.records())
    assert (tmp_path / "gitops-report.json").read_text() == old
    assert os.listdir(tmp_path) == ["gitops-report.json"]
