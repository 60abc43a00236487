# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""SyncState and SyncStatus: the spec's names, and the JSON-safe form every module returns."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from ansible_collections.fleetops.gitops.plugins.module_utils._status import SyncState, SyncStatus


def test_the_states_are_the_specs():
    assert [state.name for state in SyncState] == ["IN_SYNC", "DRIFTED", "UNKNOWN", "SYNCING", "ERROR"]


def test_a_new_status_knows_nothing():
    assert SyncStatus() == SyncStatus(SyncState.UNKNOWN, None, None, None, [])


def test_the_dict_is_json_safe_with_the_state_by_name_and_the_time_in_utc():
    when = datetime(2026, 12, 1, 8, 15, tzinfo=timezone(timedelta(hours=1)))  # shown in UTC
    status = SyncStatus(SyncState.DRIFTED, "a" * 40, "b" * 40, when, ["x"])
    assert json.loads(json.dumps(status.to_dict())) == {
        "state": "DRIFTED",
        "desired_revision": "a" * 40,
        "actual_revision": "b" * 40,
        "last_synced_at": "2026-12-01T07:15:00Z",
        "drift_details": ["x"],
    }


def test_the_details_are_copied_not_shared():
    status = SyncStatus(drift_details=["x"])
    status.to_dict()["drift_details"].append("y")
    assert status.drift_details == ["x"]
