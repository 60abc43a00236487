# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: gitops_report
type: aggregate
short_description: Report the sync state of every git checkout at the end of a run
version_added: 1.0.0
description:
  - Collects the C(gitops_status) that M(fleetops.gitops.gitops_sync) and M(fleetops.gitops.gitops_drift) return,
    one record per host and checkout path. When several tasks report the same checkout, the last report wins.
  - "At the end of the run prints a table of the checkouts, drifted ones first, and a one-line summary such as
    C(23 hosts, 57 checkouts: 52 in sync, 4 drifted, 1 error)."
  - When a report directory is set, also writes there C(gitops-report.json), C(gitops-report.junit.xml) (a test
    suite per host, a test case per checkout) and C(gitops-report.html) (a self-contained page), each atomically.
  - A checkout whose task or loop item failed is reported as C(ERROR), with the error message as its first detail.
  - A checkout in the release layout (C(layout=releases)) also shows its current release, the one before it (where a
    rollback goes) and its last switch (when, by whom, what) from the layout's history, in the JSON (C(release),
    C(previous_release), C(last_switch)), the JUnit output and the HTML page.
  - Each checkout's repository and the version it was asked for (a branch, a tag, a commit or V(HEAD)) come from
    its status, where the modules name the repository without credentials (no password, no user name of an https
    URL); they are in the JSON (C(repo), C(version)) and in the page's Repository and Version columns.
  - The HTML page shows, above the table, the revision skew per repository - how many hosts run which commit, the
    most common first, the desired commit marked, and a C(skew) tag when the hosts run more than one - and a filter
    box that hides, as you type, the rows lacking any of the words (host, path, repository, version, state,
    details...). A link ending in C(#filter=WORDS) opens the page filtered. The box is the page's one script, an
    inline one its Content-Security-Policy admits by digest; without JavaScript every row shows.
  - Only the statuses the modules return are read, never the task arguments, which may hold credentials.
  - Prints and writes nothing when no checkout was reported.
author:
  - fleetops.gitops developers (@fleetops)
requirements:
  - Enabled with C(callbacks_enabled = fleetops.gitops.gitops_report) in the C([defaults]) section of
    C(ansible.cfg), or with the environment variable C(ANSIBLE_CALLBACKS_ENABLED=fleetops.gitops.gitops_report).
options:
  report_dir:
    description:
      - Folder to write the report files into; it is created when missing.
      - The fact C(gitops_report_dir), set with M(ansible.builtin.set_fact) (the role C(fleetops.gitops.checkouts)
        sets it from its variable C(checkouts_report_dir)), overrides this setting; the last value set during the
        run is used. Only M(ansible.builtin.set_fact), which runs on the controller, can set it; the same fact
        returned by a module on a managed host is ignored.
      - When neither is set, only the table is printed.
    type: path
    env:
      - name: FLEETOPS_GITOPS_REPORT_DIR
    ini:
      - section: callback_gitops_report
        key: report_dir
  formats:
    description:
      - Files to write into the report directory - V(json) (C(gitops-report.json)), V(junit)
        (C(gitops-report.junit.xml)) and V(html) (C(gitops-report.html)).
    type: list
    elements: str
    choices: [json, junit, html]
    default: [json, junit, html]
    env:
      - name: FLEETOPS_GITOPS_REPORT_FORMATS
    ini:
      - section: callback_gitops_report
        key: formats
  table:
    description:
      - Rows of the table printed at the end of the run - V(all) checkouts, or V(drifted) ones only, that is every
        state but C(IN_SYNC). The summary line under it always counts every checkout.
    type: str
    choices: [all, drifted]
    default: all
    env:
      - name: FLEETOPS_GITOPS_REPORT_TABLE
    ini:
      - section: callback_gitops_report
        key: table
  history:
    description:
      - A file on the controller the run appends to, one JSON line per checkout (its host, path, state, revisions,
        and since when it has drifted); made when missing, mode 0600. It must be the controller user's own file - a
        link or another user's file is neither read nor written (the run's report is made without it, with a
        warning).
      - With it, the table, the JSON (C(drifted_since), C(trend), C(summary.history)) and the page show, per checkout,
        since when it has drifted, and the run's new drift (drifted now, not in its previous run), chronic drift
        (drifted in both) and resolved drift (in sync now, drifted before). Check-mode runs count too.
    type: path
    version_added: 1.1.0
    env:
      - name: FLEETOPS_GITOPS_REPORT_HISTORY
    ini:
      - section: callback_gitops_report
        key: history
  width:
    description:
      - Columns the table's lines fit in (at least 60); a host name, a path or a detail too long for it is cut, with
        an ellipsis.
      - Unset, the terminal's width (100 to 200 columns) when Ansible's output is a terminal or C(COLUMNS) is set;
        otherwise (a CI log, output sent to a file) nothing is cut, and each of a checkout's details after the first
        has a line of its own.
    type: int
    version_added: 1.1.0
    env:
      - name: FLEETOPS_GITOPS_REPORT_WIDTH
    ini:
      - section: callback_gitops_report
        key: width
notes:
  - Callbacks are set up before any play runs, so play and host variables cannot configure this one; the fact
    C(gitops_report_dir) is the way to choose the report directory from a playbook.
  - In the files, checkouts are sorted drifted first (every state but C(IN_SYNC)), then by host and path. In the
    JUnit file C(DRIFTED) is a failure, C(ERROR) and C(UNKNOWN) are errors.
  - C(changed) of a checkout is true when any task of the run reported it changed. A task in check mode (C(--check), or
    its own C(check_mode=true)) predicts - its checkouts have C(check_mode=true) in the JSON, and C(changed) means
    they would change; the summary counts them as C(would_change), and the page marks them.
  - After the health check of the role C(fleetops.gitops.checkouts) (its variable C(checkouts_health_check)), each
    checkout the run changed on that host carries C(health) in the JSON - V(passed), V(failed) (left at the new
    revision) or V(reverted) (put back at its revision before the run) - and the summary counts them. A checkout of a
    host whose check failed is C(ERROR), its desired revision the one the run deployed, and its details say what the
    check found, where the checkout was left, and what the check found after the revert.
  - The JSON file starts with C(format_version) (1), which changes when a key changes meaning or goes away.
seealso:
  - module: fleetops.gitops.gitops_sync
  - module: fleetops.gitops.gitops_drift
"""

EXAMPLES = r"""
# ansible.cfg
#   [defaults]
#   callbacks_enabled = fleetops.gitops.gitops_report
#
#   [callback_gitops_report]
#   report_dir = ./reports
#   formats = json, html
#   table = drifted
#
# or, for one run:
#   ANSIBLE_CALLBACKS_ENABLED=fleetops.gitops.gitops_report FLEETOPS_GITOPS_REPORT_DIR=./reports \
#     ansible-playbook -i inventory drift.yml --check

- name: Audit every checkout and choose the report folder from the playbook
  hosts: web
  tasks:
    - name: Write this run's reports next to the playbook
      ansible.builtin.set_fact:
        gitops_report_dir: "{{ playbook_dir }}/reports"

    - name: Compare /srv/app with the tip of main
      fleetops.gitops.gitops_drift:
        path: /srv/app
        branch: main
"""

import os
import shutil
import sys
import typing as t
from collections.abc import Mapping

from ansible import constants as C
from ansible.plugins.callback import CallbackBase

from ansible_collections.fleetops.gitops.plugins.module_utils._errors import GitOpsError
from ansible_collections.fleetops.gitops.plugins.module_utils._state_file import format_time, utc_now
from ansible_collections.fleetops.gitops.plugins.plugin_utils._report import FleetReport, report_dir_fact, table_lines, write_reports
from ansible_collections.fleetops.gitops.plugins.plugin_utils._report.drift_history import HistoryError, append_run, apply_history, read_latest
from ansible_collections.fleetops.gitops.plugins.plugin_utils._report.health import health_fact

_MODULES = frozenset(("fleetops.gitops.gitops_sync", "fleetops.gitops.gitops_drift"))
_SET_FACT = frozenset(("ansible.builtin.set_fact", "ansible.legacy.set_fact"))
MIN_WIDTH = 60
_COLORS = {"IN_SYNC": C.COLOR_OK, "DRIFTED": C.COLOR_CHANGED, "UNKNOWN": C.COLOR_WARN, "ERROR": C.COLOR_ERROR}


class CallbackModule(CallbackBase):
    """Collect the checkouts' SyncStatus from gitops_sync / gitops_drift results; report them at the end."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "fleetops.gitops.gitops_report"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self._report = FleetReport()
        self._report_dir_fact: str | None = None

    # -- hooks --

    def v2_runner_on_ok(self, result: t.Any) -> None:
        self._collect(result)

    def v2_runner_on_failed(self, result: t.Any, ignore_errors: bool = False) -> None:
        self._collect(result, failed=True)

    def v2_runner_item_on_ok(self, result: t.Any) -> None:
        self._collect(result)

    def v2_runner_item_on_failed(self, result: t.Any) -> None:
        self._collect(result, failed=True)

    def v2_playbook_on_stats(self, stats: t.Any) -> None:
        records = self._report.records()
        if not records:
            return
        now = utc_now()
        history = self.get_option("history")
        if history:
            history = self._read_history(os.path.abspath(os.path.expanduser(history)), records, format_time(now) or "")
        self._display.banner("GITOPS REPORT")
        drifted_only = self.get_option("table") == "drifted"
        for line, state in table_lines(records, width=_table_width(self.get_option("width")), drifted_only=drifted_only):
            self._display.display(line, color=_COLORS.get(state) if state else None)
        directory = self._report_dir_fact or self.get_option("report_dir")
        if directory:
            self._write(os.path.abspath(os.path.expanduser(directory)), records, now)
        if history:
            try:
                append_run(history, records, format_time(now) or "")
            except (OSError, HistoryError) as error:
                self._display.warning(f"gitops_report: could not append to the history file {history}: {error}")

    def _read_history(self, path: str, records: list[t.Any], run: str) -> str | None:
        """The history file's path once the records carry what it says of them; None when it cannot be used."""
        try:
            apply_history(records, read_latest(path, [(record.host, record.path) for record in records]), run)
        except (OSError, HistoryError) as error:
            self._display.warning(f"gitops_report: the drift history is left out of this report: {error}")
            return None
        return path

    def _write(self, directory: str, records: list[t.Any], now: t.Any) -> None:
        try:
            written = write_reports(directory, self.get_option("formats") or [], records, now=now)
        except (OSError, ValueError, GitOpsError) as error:
            self._display.warning(f"gitops_report: could not write the reports into {directory}: {error}")
            return
        if written:
            names = ", ".join(os.path.basename(path) for path in written)
            self._display.display(f"GitOps reports written to {directory}: {names}")

    # -- helpers --

    def _collect(self, result: t.Any, failed: bool = False) -> None:
        data = getattr(result, "_result", None)
        if not isinstance(data, Mapping):
            return
        report_dir = report_dir_fact(data) if _is_set_fact(result) else None  # a module's facts never move the report
        if report_dir:
            self._report_dir_fact = report_dir
        health = health_fact(data) if _is_set_fact(result) else None
        if health is not None:
            self._report.add_health(_host_name(result), health)
        if _is_gitops_task(result):
            self._report.add_result(_host_name(result), data, failed=failed, check_mode=_in_check_mode(result))


def _is_gitops_task(result: t.Any) -> bool:
    """True for gitops_sync and gitops_drift tasks; without a task to tell (tests), the result's shape decides."""
    task = getattr(result, "_task", None)
    if task is None:
        return True
    name = getattr(task, "resolved_action", None) or getattr(task, "action", None)
    if not isinstance(name, str):
        return False
    return name in _MODULES or name in ("gitops_sync", "gitops_drift")


def _in_check_mode(result: t.Any) -> bool:
    """True for a task run in check mode (``--check``, or its own ``check_mode: true``): its ``changed`` predicts."""
    return getattr(getattr(result, "_task", None), "check_mode", False) is True


def _is_set_fact(result: t.Any) -> bool:
    """True for ``set_fact``, which the controller runs: a module on a managed host could return any fact."""
    task = getattr(result, "_task", None)
    return getattr(task, "resolved_action", None) in _SET_FACT


def _host_name(result: t.Any) -> str:
    """The host the checkout is on: the delegate when the task was delegated to a named host."""
    host = str(result._host.get_name())
    task = getattr(result, "_task", None)
    delegate = getattr(task, "delegate_to", None) if task is not None else None
    if isinstance(delegate, str) and delegate and "{" not in delegate and delegate != host:
        return delegate
    return host


def _table_width(option: int | None) -> int | None:
    """The width the table fits in: the option's; else the terminal's, at least 100 columns and at most 200; else,
    when the output is no terminal (a CI log), None: nothing is cut."""
    if option is not None:
        return max(MIN_WIDTH, option)
    if "COLUMNS" in os.environ or sys.stdout.isatty():
        return max(100, min(200, shutil.get_terminal_size((100, 24)).columns))
    return None
