# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A sample fleet for the report tests (and the callback tests): module results shaped as the modules return them."""

from __future__ import annotations

import typing as t
from datetime import datetime, timezone

from ansible_collections.fleetops.gitops.plugins.plugin_utils._report import FleetReport

DESIRED = "8f3c2a9d0b6e4f1a7c5d3e2b1a0f9e8d7c6b5a43"
DEPLOYED = "1f0c3b9e2d4a5f6e7d8c9b0a1f2e3d4c5b6a7f8e"
NOW = datetime(2026, 12, 1, 7, 30, tzinfo=timezone.utc)
# fill_sample's checkouts as every renderer lists them: drifted (every state but IN_SYNC) first, then by host and path.
SAMPLE_ORDER = [
    ("db01", "/srv/broken", "ERROR"),
    ("db01", "/srv/tools", "UNKNOWN"),
    ("web01", "/etc/app/conf.d", "DRIFTED"),
    ("web10", "/srv/app", "DRIFTED"),
    ("db01", "/srv/app", "IN_SYNC"),
    ("web01", "/srv/app", "IN_SYNC"),
    ("web02", "/srv/app", "IN_SYNC"),
]
SCRIPT_DETAIL = 'untracked files: <script>alert("x")</script>.txt & more'
APP_REPO = "https://git.example.com/team/app.git"
CONF_REPO = "git@git.example.com:ops/app-config.git"


def status(
    state: str = "IN_SYNC",
    desired: str | None = DESIRED,
    actual: str | None = DESIRED,
    when: str | None = "2026-12-01T07:15:00Z",
    details: t.Sequence[str] = (),
) -> dict[str, t.Any]:
    """A SyncStatus dict as SyncStatus.to_dict() makes it."""
    return {"state": state, "desired_revision": desired, "actual_revision": actual, "last_synced_at": when, "drift_details": list(details)}


def asked(sync_status: dict[str, t.Any], repo: str = APP_REPO, version: str = "main") -> dict[str, t.Any]:
    """The status with the repository and the version asked for, as the modules add them."""
    return dict(sync_status, repo=repo, version=version)


def single(path: str, sync_status: dict[str, t.Any], changed: bool = False, **extra: t.Any) -> dict[str, t.Any]:
    """The single form: one checkout in ansible_facts.gitops_status, changed at the top."""
    return {"changed": changed, "status": sync_status, "ansible_facts": {"gitops_status": {path: sync_status}}, **extra}


def fill_sample(report: FleetReport) -> FleetReport:
    """Four hosts, seven checkouts: 3 in sync, 2 drifted, 1 error, 1 unknown; the application's repository on four
    hosts, all on DESIRED, its configuration's on one, on DEPLOYED, and a tools repository whose revision is unknown."""
    report.add_result("web01", single("/srv/app", asked(status()), changed=True))
    report.add_result(
        "web01",
        single(
            "/etc/app/conf.d",
            asked(
                status(
                    "DRIFTED",
                    DESIRED,
                    DEPLOYED,
                    details=[
                        "revision differs: recorded 1f0c3b9e2d4a, desired 8f3c2a9d0b6e (2 commits behind)",
                        "tracked files modified: conf/app.ini",
                        SCRIPT_DETAIL,
                    ],
                ),
                CONF_REPO,
                "v2.4.1",
            ),
        ),
    )
    report.add_result("web02", single("/srv/app", asked(status())))
    report.add_result("web10", single("/srv/app", asked(status("DRIFTED", details=["detached HEAD, expected branch 'main'"]))))
    tools = asked(status("UNKNOWN", None, None, None), "/srv/git/tools", "HEAD")
    batch = {
        "changed": True,
        "msg": "1 of 3 checkouts failed",
        "ansible_facts": {"gitops_status": {"/srv/app": asked(status()), "/srv/tools": tools}},
        "results": [
            {"dest": "/srv/app", "changed": True, "status": asked(status())},
            {"dest": "/srv/tools", "changed": False, "status": tools},
            {"dest": "/srv/broken", "changed": False, "failed": True, "msg": "dest: /srv/broken is a checkout of another repository"},
        ],
    }
    report.add_result("db01", batch, failed=True)
    return report
