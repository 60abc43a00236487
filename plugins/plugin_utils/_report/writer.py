# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private, controller side: the report files, each written atomically in one folder."""

from __future__ import annotations

import os
import typing as t
from collections.abc import Iterable
from datetime import datetime

from ansible_collections.fleetops.gitops.plugins.module_utils._files import open_folder, write_atomic
from ansible_collections.fleetops.gitops.plugins.module_utils._state_file import utc_now
from ansible_collections.fleetops.gitops.plugins.plugin_utils._report.records import CheckoutRecord, sort_records
from ansible_collections.fleetops.gitops.plugins.plugin_utils._report.renderers import render_html, render_json, render_junit

REPORT_FILES = {"json": "gitops-report.json", "junit": "gitops-report.junit.xml", "html": "gitops-report.html"}
"""File name written for each format."""

_RENDERERS: dict[str, t.Callable[..., str]] = {"json": render_json, "junit": render_junit, "html": render_html}


def write_reports(directory: str, formats: Iterable[str], records: Iterable[CheckoutRecord], *, now: datetime | None = None) -> list[str]:
    """Write one file per format (json, junit, html) into ``directory``, made when missing; returns their paths.

    Each file is written to a temporary file in the same folder and renamed over the old one (the one writer
    every file of the collection goes through), so a reader sees either the old report or the new one. All
    files carry the same ``generated_at``.
    """
    wanted = list(dict.fromkeys(str(name).strip().lower() for name in formats))
    unknown = [name for name in wanted if name not in _RENDERERS]
    if unknown:
        raise ValueError(f"unknown report format(s): {', '.join(unknown)} (choose from {', '.join(_RENDERERS)})")
    records = sort_records(records)
    now = now or utc_now()
    folder = open_folder(os.path.abspath(directory), option="report_dir", create=True, readable=True)
    written = []
    try:
        for name in wanted:
            write_atomic(folder, REPORT_FILES[name], _RENDERERS[name](records, now=now).encode("utf-8"), mode=0o644)
            written.append(os.path.join(directory, REPORT_FILES[name]))
    finally:
        os.close(folder)
    return written
