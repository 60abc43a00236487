# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The drift history file on a real filesystem: read from its end, lines it does not know, whose file it is."""

from __future__ import annotations

import os
import subprocess

import pytest

from ansible_collections.fleetops.gitops.plugins.plugin_utils._report import FleetReport
from ansible_collections.fleetops.gitops.plugins.plugin_utils._report.drift_history import Entry, HistoryError, append_run, apply_history, read_latest
from ansible_collections.fleetops.gitops.tests.unit.plugins.plugin_utils.report_samples import single, status


def _records(states: dict[str, str]) -> list:
    report = FleetReport()
    for path, state in states.items():
        report.add_result("web01", single(path, status(state)))
    return report.records()


def _run(history: str, states: dict[str, str], run: str) -> list:
    """One run as the callback makes it: the latest lines read, the records completed, the run's lines appended."""
    records = _records(states)
    apply_history(records, read_latest(history, [(record.host, record.path) for record in records]), run)
    append_run(history, records, run)
    return records


def test_the_latest_line_of_each_checkout_is_found_from_the_end_of_a_long_file(tmp_path):
    history = str(tmp_path / "history.jsonl")
    for run in range(3000):  # several blocks of the reader
        states = {"/srv/app": "DRIFTED" if run % 2 else "IN_SYNC", **({"/srv/old": "DRIFTED"} if run == 5 else {})}
        _run(history, states, f"2026-12-01T00:00:{run:04d}Z")
    latest = read_latest(history, [("web01", "/srv/app"), ("web01", "/srv/old"), ("web01", "/srv/never")])
    assert latest[("web01", "/srv/app")] == Entry("2026-12-01T00:00:2999Z", "DRIFTED", "2026-12-01T00:00:2999Z")
    assert latest[("web01", "/srv/old")].run == "2026-12-01T00:00:0005Z"  # only in an early run: found at the start
    assert ("web01", "/srv/never") not in latest


def test_lines_that_are_not_the_history_s_are_skipped(tmp_path):
    history = tmp_path / "history.jsonl"
    _run(str(history), {"/srv/app": "DRIFTED"}, "2026-12-01T07:00:00Z")
    with open(history, "a", encoding="utf-8") as handle:
        handle.write('{"v": 99, "host": "web01", "path": "/srv/app", "run": "x", "state": "IN_SYNC"}\nnot json\n{"v": 1, "host": "web01"')
    entry = read_latest(str(history), [("web01", "/srv/app")])[("web01", "/srv/app")]
    assert entry == Entry("2026-12-01T07:00:00Z", "DRIFTED", "2026-12-01T07:00:00Z")
    _run(str(history), {"/srv/app": "IN_SYNC"}, "2026-12-01T07:10:00Z")  # after a line cut short: a line of its own
    assert read_latest(str(history), [("web01", "/srv/app")])[("web01", "/srv/app")] == Entry("2026-12-01T07:10:00Z", "IN_SYNC", None)


def test_drift_since_is_kept_across_runs_and_cleared_when_in_sync():
    records = _records({"/srv/app": "DRIFTED", "/srv/etc": "IN_SYNC", "/srv/new": "DRIFTED"})
    previous = {("web01", "/srv/app"): Entry("run1", "DRIFTED", "run0"), ("web01", "/srv/etc"): Entry("run1", "ERROR", "run1")}
    apply_history(records, previous, "run2")
    found = {record.path: (record.trend, record.drifted_since) for record in records}
    assert found == {"/srv/app": ("chronic", "run0"), "/srv/etc": ("resolved", None), "/srv/new": ("new", "run2")}


def test_a_file_of_another_user_is_neither_read_nor_written(tmp_path, other_user):
    history = tmp_path / "history.jsonl"
    history.write_text("")
    subprocess.run(["chown", other_user, str(history)], check=True)
    with pytest.raises(HistoryError, match="not a file of this user"):
        read_latest(str(history), [("web01", "/srv/app")])
    with pytest.raises(HistoryError, match="not a file of this user"):
        append_run(str(history), _records({"/srv/app": "IN_SYNC"}), "run")
    assert history.read_text() == ""


def test_a_folder_in_place_of_the_file_is_refused(tmp_path):
    os.mkdir(tmp_path / "history.jsonl")
    with pytest.raises(HistoryError):
        read_latest(str(tmp_path / "history.jsonl"), [("web01", "/srv/app")])
