# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private: SyncState and SyncStatus, defined here so both synchronizers can use them; import them from drift."""

from __future__ import annotations

import enum
import typing as t
from dataclasses import dataclass, field
from datetime import datetime

from ansible_collections.fleetops.gitops.plugins.module_utils._state_file import format_time


class SyncState(enum.Enum):
    """Where a checkout stands against its desired revision.

    SYNCING is what ``get_sync_status()`` of the drift API says while its ``reconcile`` deploys; the modules return
    once a run is over, so never this state.
    """

    IN_SYNC = "in_sync"
    DRIFTED = "drifted"
    UNKNOWN = "unknown"
    SYNCING = "syncing"
    ERROR = "error"


@dataclass
class SyncStatus:
    """One checkout's status; ``to_dict()`` is what modules return and facts hold."""

    state: SyncState = SyncState.UNKNOWN
    desired_revision: str | None = None
    actual_revision: str | None = None
    last_synced_at: datetime | None = None
    drift_details: list[str] = field(default_factory=list)
    release: str | None = None  # the release layout's: where dest points, and where a rollback would go
    previous_release: str | None = None
    last_switch: dict[str, t.Any] | None = None  # the newest line of the layout's switch history

    def to_dict(self) -> dict[str, t.Any]:
        """JSON-safe values: the state by name, the time as ISO 8601 UTC; the releases only in the release layout."""
        result = {
            "state": self.state.name,
            "desired_revision": self.desired_revision,
            "actual_revision": self.actual_revision,
            "last_synced_at": format_time(self.last_synced_at),
            "drift_details": list(self.drift_details),
        }
        if self.release is not None:
            result.update(release=self.release, previous_release=self.previous_release, last_switch=self.last_switch)
        return result
