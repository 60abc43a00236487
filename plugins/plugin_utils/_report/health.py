# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private, controller side: the checkouts role's health check, as the report shows it.

The role publishes the outcome with ``set_fact`` in ``checkouts_health`` (see the role's
``meta/argument_specs.yml``): whether the check passed, what it found, the commit each changed checkout got
(``deployed``), the commit each put back got (``reverted``), and the check after the revert. A checkout whose host
failed its health check is an ERROR of the run even when it was put back: the play did not get the revision it asked
for, and the details say what happened, in order.
"""

from __future__ import annotations

import typing as t
from collections.abc import Mapping

HEALTH_FACT = "checkouts_health"
"""The fact the checkouts role sets on a host after its health check."""

HEALTHS = ("passed", "failed", "reverted")
"""A checkout's health in the report: its host's check passed; failed, and it was left at the new revision; failed,
and it was put back at its revision before the run."""

_SHORT = 12


def health_fact(result: t.Any) -> Mapping[str, t.Any] | None:
    """The health check outcome a set_fact result publishes, if it does (only set_fact, which the controller runs:
    a module on a host could return any fact)."""
    facts = result.get("ansible_facts") if isinstance(result, Mapping) else None
    health = facts.get(HEALTH_FACT) if isinstance(facts, Mapping) else None
    return health if isinstance(health, Mapping) and isinstance(health.get("deployed"), Mapping) else None


def deployed_paths(health: Mapping[str, t.Any]) -> dict[str, str]:
    """Path -> the commit the run deployed there, for every checkout the health check was about."""
    return {str(path): str(commit) for path, commit in health["deployed"].items() if path}


def apply_health(record: t.Any, health: Mapping[str, t.Any], path: str, deployed: str) -> None:
    """Tell ``record`` (the checkout at ``path``, which the run changed to ``deployed``) its host's health check
    outcome."""
    if health.get("passed") is True:
        record.health = "passed"
        return
    reverted = health.get("reverted") if isinstance(health.get("reverted"), Mapping) else {}
    record.health = "reverted" if path in reverted else "failed"
    record.state = "ERROR"
    record.desired_revision = deployed  # what the play asked for: the checkout is not at it, or is and is unhealthy
    lines = [f"health check failed after the change to {deployed[:_SHORT]}: {_text(health.get('outcome'))}"]
    lines.append(f"put back at {str(reverted[path])[:_SHORT]}, its revision before the run" if path in reverted else "left at the new revision")
    after = health.get("after_revert")
    if isinstance(after, Mapping):
        lines.append(f"health check after the revert {'passed' if after.get('passed') is True else 'failed'}: {_text(after.get('outcome'))}")
    record.drift_details = lines + [line for line in record.drift_details if line not in lines]


def _text(value: t.Any) -> str:
    return " ".join(str(value).split()) if value not in (None, "") else "no outcome"
