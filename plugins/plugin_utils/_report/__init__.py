# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private, controller side: the fleet report of the ``gitops_report`` callback.

``records`` turns the results of ``gitops_sync`` and ``gitops_drift`` into one ``CheckoutRecord`` per host and
checkout; ``renderers`` turns records into the terminal table, JSON, JUnit XML and HTML (from the Jinja2 template
``report.html.j2``, autoescaped); ``writer`` writes the files, each atomically; ``drift_history`` keeps the drift
history, one line per checkout and run, and tells each record since when it has drifted; ``skew`` counts, per
repository, the hosts on each commit. Only the statuses the modules
return are read, never the task arguments (they may hold credentials).
"""

from __future__ import annotations

from ansible_collections.fleetops.gitops.plugins.plugin_utils._report.records import (
    STATES,
    CheckoutRecord,
    FleetReport,
    records_from_result,
    report_dir_fact,
)
from ansible_collections.fleetops.gitops.plugins.plugin_utils._report.renderers import (
    render_html,
    render_json,
    render_junit,
    render_table,
    summary_line,
    table_lines,
)
from ansible_collections.fleetops.gitops.plugins.plugin_utils._report.writer import REPORT_FILES, write_reports

__all__ = [
    "REPORT_FILES",
    "STATES",
    "CheckoutRecord",
    "FleetReport",
    "records_from_result",
    "render_html",
    "render_json",
    "render_junit",
    "render_table",
    "report_dir_fact",
    "summary_line",
    "table_lines",
    "write_reports",
]
