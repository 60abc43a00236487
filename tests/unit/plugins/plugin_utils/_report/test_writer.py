# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The report files: each format written atomically into one folder."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.fleetops.gitops.plugins.plugin_utils._report import (
    REPORT_FILES,
    write_reports,
)
from ansible_collections.fleetops.gitops.tests.unit.plugins.plugin_utils.report_samples import (
    NOW,
)

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
