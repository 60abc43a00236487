# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The checkouts role's health check in the report: passed, failed and left, failed and put back."""

from __future__ import annotations

import typing as t

from ansible_collections.fleetops.gitops.plugins.plugin_utils._report import FleetReport, render_html, table_lines
from ansible_collections.fleetops.gitops.plugins.plugin_utils._report.health import health_fact
from ansible_collections.fleetops.gitops.tests.unit.plugins.plugin_utils.report_samples import DEPLOYED, DESIRED, single, status

NEW = DESIRED
OLD = DEPLOYED


def health(passed: bool, reverted: bool = False, after: dict[str, t.Any] | None = None) -> dict[str, t.Any]:
    """checkouts_health as the role publishes it, for /srv/app (changed) on a host that also has /srv/tools (not)."""
    return {
        "passed": passed,
        "outcome": "HTTP 200" if passed else "HTTP 503 after 4 tries",
        "deployed": {"/srv/app": NEW},
        "reverted": {"/srv/app": OLD} if reverted else {},
        "not_reverted": [] if reverted or passed else ["/srv/app"],
        "after_revert": after,
    }


def fleet(last_app_status: dict[str, t.Any]) -> FleetReport:
    report = FleetReport()
    report.add_result("web01", single("/srv/app", status(), changed=True))
    report.add_result("web01", single("/srv/tools", status()))
    report.add_result("web01", single("/srv/app", last_app_status, changed=True))  # the revert, when there was one
    return report


def by_path(report: FleetReport) -> dict[str, t.Any]:
    return {record.path: record for record in report.records()}


def test_a_passed_health_check_marks_the_changed_checkouts_only():
    report = fleet(status())
    assert report.add_health("web01", health(True)) == 1
    records = by_path(report)
    assert (records["/srv/app"].health, records["/srv/app"].state, records["/srv/app"].drift_details) == ("passed", "IN_SYNC", [])
    assert records["/srv/tools"].health is None
    assert report.summary()["health"] == {"passed": 1, "failed": 0, "reverted": 0}
    assert records["/srv/app"].to_dict()["health"] == "passed"


def test_a_checkout_put_back_is_an_error_of_the_run_with_both_outcomes():
    report = fleet(status(desired=OLD, actual=OLD))  # the revert's own status: in sync with the old commit
    report.add_health("web01", health(False, reverted=True, after={"passed": True, "outcome": "HTTP 200"}))
    app = by_path(report)["/srv/app"]
    assert (app.state, app.health, app.desired_revision, app.actual_revision) == ("ERROR", "reverted", NEW, OLD)
    assert app.drift_details == [
        f"health check failed after the change to {NEW[:12]}: HTTP 503 after 4 tries",
        f"put back at {OLD[:12]}, its revision before the run",
        "health check after the revert passed: HTTP 200",
    ]
    assert report.summary()["health"] == {"passed": 0, "failed": 0, "reverted": 1}
    lines = [line for line, _state in table_lines(report.records(), width=None)]
    assert "Changed checkouts after the health check: 0 passed, 0 failed, 1 reverted" in lines


def test_a_checkout_left_at_the_new_revision_says_so():
    report = fleet(status())
    report.add_health("web01", health(False, after={"passed": False, "outcome": "the revert failed: no such release"}))
    app = by_path(report)["/srv/app"]
    assert (app.state, app.health, app.actual_revision) == ("ERROR", "failed", NEW)
    assert app.drift_details[1:] == ["left at the new revision", "health check after the revert failed: the revert failed: no such release"]


def test_only_the_host_checked_is_told_and_a_later_report_replaces_the_verdict():
    report = fleet(status())
    report.add_result("web02", single("/srv/app", status(), changed=True))
    report.add_health("web01", health(False))
    assert {record.host: record.health for record in report.records() if record.path == "/srv/app"} == {"web01": "failed", "web02": None}
    report.add_result("web01", single("/srv/app", status(), changed=True))  # a later play synced it again
    assert by_path(report)["/srv/app"].health is None
    assert "health" not in FleetReport().summary()


def test_only_a_fact_of_that_shape_is_a_health_check():
    assert health_fact({"ansible_facts": {"checkouts_health": health(True)}}) == health(True)
    assert health_fact({"ansible_facts": {"checkouts_health": {"passed": True}}}) is None
    assert health_fact({"ansible_facts": {"checkouts_health": "passed"}}) is None
    assert health_fact({"changed": False}) is None


def test_the_page_marks_healthy_and_put_back_checkouts():
    report = fleet(status(desired=OLD, actual=OLD))
    report.add_result("web02", single("/srv/app", status(), changed=True))
    report.add_health("web01", health(False, reverted=True, after={"passed": True, "outcome": "HTTP 200"}))
    report.add_health("web02", health(True))
    page = render_html(report.records())
    assert page.count('<span class="tag health-reverted"') == 1 and ">unhealthy, put back</span>" in page
    assert page.count('<span class="tag health-passed"') == 1 and ">healthy</span>" in page
    assert "put back at " + OLD[:12] in page
