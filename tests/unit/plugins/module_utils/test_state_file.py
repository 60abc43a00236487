# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The per-checkout record of the last sync."""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone

import pytest

from ansible_collections.fleetops.gitops.plugins.module_utils import _state_file
from ansible_collections.fleetops.gitops.plugins.module_utils._state_file import STATE_FILE, Record, last_synced_at, read_state, record_sync


def test_round_trip(tmp_path):
    when = datetime(2026, 12, 1, 7, 15, tzinfo=timezone.utc)
    record_sync(str(tmp_path), Record("a" * 40, "branch", "main", "main", "https://host/x"), when=when)
    assert read_state(str(tmp_path))["revision"] == "a" * 40
    assert Record.read(str(tmp_path)) == Record("a" * 40, "branch", "main", "main", "https://host/x")
    assert last_synced_at(str(tmp_path)) == when
    assert os.listdir(tmp_path) == [STATE_FILE]


@pytest.mark.parametrize("content", ["", "{", "[]", '{"last_synced_at": 5}'])
def test_unreadable_records_are_empty_not_fatal(tmp_path, content):
    (tmp_path / STATE_FILE).write_text(content)
    assert last_synced_at(str(tmp_path)) is None


def test_an_interrupted_write_leaves_the_old_record_whole(tmp_path, monkeypatch):
    record_sync(str(tmp_path), Record("a" * 40))
    old = (tmp_path / STATE_FILE).read_text()

    def crash(*_args, **_kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(_state_file.os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        record_sync(str(tmp_path), Record("b" * 40))
    assert (tmp_path / STATE_FILE).read_text() == old
    assert os.listdir(tmp_path) == [STATE_FILE]  # no temp file left behind
    assert json.loads(old)["revision"] == "a" * 40
