# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private, controller side: the checkouts a run reported, one ``CheckoutRecord`` per host and path.

``FleetReport`` reads them from the results of ``gitops_sync`` and ``gitops_drift``: only the statuses the
modules return, never the task arguments (they may hold credentials).
"""

from __future__ import annotations

import posixpath
import re
import typing as t
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from ansible_collections.fleetops.gitops.plugins.module_utils._status import SyncState
from ansible_collections.fleetops.gitops.plugins.plugin_utils._report.health import HEALTHS, apply_health, deployed_paths

STATES = tuple(state.name for state in SyncState if state is not SyncState.SYNCING)
"""The states a module returns (SYNCING lasts only while a reconcile runs, inside one); anything else is UNKNOWN."""

TRENDS = ("new", "chronic", "resolved")
"""What the drift history says of a checkout's drift against its previous run (see ``drift_history.apply_history``)."""

_DIGITS = re.compile(r"(\d+)")


@dataclass
class CheckoutRecord:
    """The last reported status of one checkout on one host."""

    host: str
    path: str
    state: str = "UNKNOWN"
    desired_revision: str | None = None
    actual_revision: str | None = None
    last_synced_at: str | None = None
    drift_details: list[str] = field(default_factory=list)
    changed: bool = False  # in check mode: would change
    check_mode: bool = False  # reported by a task in check mode (--check, or check_mode: true): a prediction
    release: str | None = None  # the release layout's current release, and the one a rollback would go to
    previous_release: str | None = None
    last_switch: str | None = None  # "<time> by <user> (<action>)", from the layout's switch history
    tracked: bool = False  # the drift history (the callback's history option) gave the two below
    drifted_since: str | None = None  # when its current run of drift began
    trend: str | None = None  # new, chronic or resolved drift, against the checkout's previous run
    repo: str | None = None  # the repository and the version asked for, as the module's status names them
    version: str | None = None
    health: str | None = None  # the checkouts role's health check after the change: passed, failed or reverted

    @property
    def drifted(self) -> bool:
        """True for every state but IN_SYNC: the rows a person must look at."""
        return self.state != "IN_SYNC"

    def to_dict(self) -> dict[str, t.Any]:
        """The JSON form, keys in the documented order."""
        return {
            "host": self.host,
            "path": self.path,
            "state": self.state,
            "desired_revision": self.desired_revision,
            "actual_revision": self.actual_revision,
            "last_synced_at": self.last_synced_at,
            "drift_details": list(self.drift_details),
            "changed": self.changed,
            "check_mode": self.check_mode,
            "release": self.release,
            "previous_release": self.previous_release,
            "last_switch": self.last_switch,
            "drifted_since": self.drifted_since,
            "trend": self.trend,
            "repo": self.repo,
            "version": self.version,
            "health": self.health,
        }


def record_from_status(host: str, path: str, status: t.Any, *, changed: bool = False, error: str | None = None) -> CheckoutRecord:
    """A record from a SyncStatus dict; with ``error`` the state is ERROR and the error comes first in the details."""
    status = status if isinstance(status, Mapping) else {}
    state = str(status.get("state") or "UNKNOWN").upper()
    if state not in STATES:
        state = "UNKNOWN"
    details = status.get("drift_details")
    if isinstance(details, str):
        details = [details]
    elif not isinstance(details, Sequence):
        details = []
    lines = [str(detail) for detail in details]
    if error is not None:
        state = "ERROR"
        lines = [error] + [line for line in lines if line != error]
    return CheckoutRecord(
        host=host,
        path=path,
        state=state,
        desired_revision=_optional_text(status.get("desired_revision")),
        actual_revision=_optional_text(status.get("actual_revision")),
        last_synced_at=_optional_text(status.get("last_synced_at")),
        drift_details=lines,
        changed=changed,
        release=_optional_text(status.get("release")),
        previous_release=_optional_text(status.get("previous_release")),
        last_switch=_switch_text(status.get("last_switch")),
        repo=_optional_text(status.get("repo")),
        version=_optional_text(status.get("version")),
    )


def records_from_result(host: str, result: Mapping[str, t.Any], *, failed: bool = False) -> list[CheckoutRecord]:
    """The checkouts one gitops_sync / gitops_drift result reports, in report order (a later one wins).

    Reads ``ansible_facts.gitops_status`` (path -> SyncStatus) and ``results``: either the per-checkout entries
    of the batch form (``dest`` or ``path``, ``changed``, ``status``, ``failed``, ``msg``) or, for a task with a
    loop, whole module results, read the same way. A failed checkout is ERROR with its ``msg`` as first detail,
    unless ``failed_when`` made the task fail: then the statuses stand as the module reported them.
    """
    if not isinstance(result, Mapping):
        return []
    # A failure decided by failed_when is the playbook's verdict on a status the module reported in full.
    failed = (failed or bool(result.get("failed"))) and "failed_when_result" not in result
    facts = result.get("ansible_facts")
    statuses = facts.get("gitops_status") if isinstance(facts, Mapping) else None
    statuses = statuses if isinstance(statuses, Mapping) else {}
    items = result.get("results")
    items = [item for item in items if isinstance(item, Mapping)] if isinstance(items, list) else []

    found: dict[str, CheckoutRecord] = {}
    if not items:
        # Single form: the task's changed and failure belong to its checkout, when there is exactly one.
        only = len(statuses) == 1
        error = _message(result) if failed else None
        for path, status in statuses.items():
            key = _norm_path(path)
            if key:
                found[key] = record_from_status(host, key, status, changed=only and bool(result.get("changed")), error=error if only else None)
        target = _item_path(result)
        if failed and not statuses and target:
            found[target] = record_from_status(host, target, {}, error=error)
        return list(found.values())

    for path, status in statuses.items():
        key = _norm_path(path)
        if key:
            found[key] = record_from_status(host, key, status)
    for item in items:
        target = _item_path(item)
        if "ansible_facts" in item or "results" in item or not target:
            # A loop item: a whole module result of its own.
            for record in records_from_result(host, item):
                found.pop(record.path, None)
                found[record.path] = record
            continue
        status = item.get("status")
        if not isinstance(status, Mapping):
            known = found.get(target)
            status = known.to_dict() if known else {}
        error = _message(item) if item.get("failed") else None
        found.pop(target, None)
        found[target] = record_from_status(host, target, status, changed=bool(item.get("changed")), error=error)
    return list(found.values())


def _switch_text(entry: t.Any) -> str | None:
    """One line of the switch history as the reports show it."""
    if not isinstance(entry, Mapping) or not entry.get("time"):
        return None
    return f"{entry.get('time')} by {entry.get('user') or 'unknown'} ({entry.get('action') or 'switch'})"


REPORT_DIR_FACT = "gitops_report_dir"
"""The fact that chooses the report folder (a playbook's set_fact, or the checkouts role's from its variable)."""


def report_dir_fact(result: t.Any) -> str | None:
    """The report folder a result sets with set_fact, if it does."""
    facts = result.get("ansible_facts") if isinstance(result, Mapping) else None
    value = facts.get(REPORT_DIR_FACT) if isinstance(facts, Mapping) else None
    return value if isinstance(value, str) and value.strip() else None


class FleetReport:
    """All checkouts reported during a run, one record per host and path; the last report wins."""

    def __init__(self) -> None:
        self._records: dict[tuple[str, str], CheckoutRecord] = {}

    def __len__(self) -> int:
        return len(self._records)

    def add(self, record: CheckoutRecord) -> None:
        """Record a report; it replaces an earlier one of the same checkout, but once a task changed the checkout,
        ``changed`` stays true (and a later check-mode report is no prediction of that: ``check_mode`` false)."""
        key = (record.host, record.path)
        earlier = self._records.pop(key, None)
        if earlier is not None and earlier.changed and not earlier.check_mode:
            record.changed, record.check_mode = True, False
        self._records[key] = record

    def add_result(self, host: str, result: Mapping[str, t.Any], *, failed: bool = False, check_mode: bool = False) -> int:
        """Record the checkouts of one module result (see ``records_from_result``) of a task run in ``check_mode``
        or not; returns how many."""
        records = records_from_result(host, result, failed=failed)
        for record in records:
            record.check_mode = check_mode
            self.add(record)
        return len(records)

    def add_health(self, host: str, health: t.Mapping[str, t.Any]) -> int:
        """Tell the checkouts of ``host`` that its health check (the role's fact ``checkouts_health``, see
        ``health.apply_health``) was about what it found; returns how many it told."""
        told = 0
        for path, commit in deployed_paths(health).items():
            record = self._records.get((host, _norm_path(path)))
            if record is not None:
                apply_health(record, health, path, commit)
                told += 1
        return told

    def records(self) -> list[CheckoutRecord]:
        """The records, drifted ones first, then by host and path."""
        return sort_records(self._records.values())

    def summary(self) -> dict[str, t.Any]:
        """Counts: hosts, checkouts, changed ones and one per state."""
        return summarize(self._records.values())


def sort_records(records: Iterable[CheckoutRecord]) -> list[CheckoutRecord]:
    """Drifted (every state but IN_SYNC) first, then by host (web2 before web10) and path."""
    return sorted(records, key=lambda record: (not record.drifted, natural_key(record.host), record.path))


def summarize(records: Iterable[CheckoutRecord]) -> dict[str, t.Any]:
    """``{"hosts", "checkouts", "changed", "would_change", "states": {state: count for every state}}``: ``changed``
    counts the checkouts a task changed, ``would_change`` those a task in check mode said it would; with the drift
    history, ``"history": {"new", "chronic", "resolved"}`` too; with the checkouts role's health check,
    ``"health": {"passed", "failed", "reverted"}``."""
    records = list(records)
    states = dict.fromkeys(STATES, 0)
    for record in records:
        states[record.state] = states.get(record.state, 0) + 1
    return {
        "hosts": len({record.host for record in records}),
        "checkouts": len(records),
        "changed": sum(1 for record in records if record.changed and not record.check_mode),
        "would_change": sum(1 for record in records if record.changed and record.check_mode),
        "states": states,
        **({"history": {trend: sum(1 for record in records if record.trend == trend) for trend in TRENDS}} if any(r.tracked for r in records) else {}),
        **({"health": {health: sum(1 for record in records if record.health == health) for health in HEALTHS}} if any(r.health for r in records) else {}),
    }


def worst_state(records: Iterable[CheckoutRecord]) -> str:
    """ERROR if any, else DRIFTED if any is not in sync, else IN_SYNC (for colouring the summary)."""
    states = {record.state for record in records}
    if "ERROR" in states:
        return "ERROR"
    return "DRIFTED" if states - {"IN_SYNC"} else "IN_SYNC"


# -- small helpers ----------------------------------------------------------------------------------------------------


def _optional_text(value: t.Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _message(result: Mapping[str, t.Any]) -> str:
    message = result.get("msg")
    return str(message) if message not in (None, "") else "failed"


def _item_path(item: Mapping[str, t.Any]) -> str | None:
    for key in ("dest", "path"):
        value = item.get(key)
        if isinstance(value, str) and value:
            return _norm_path(value)
    return None


def _norm_path(path: t.Any) -> str:
    """The same checkout under the same key: ``/srv/app/`` and ``/srv//app`` are ``/srv/app``."""
    text = str(path) if path is not None else ""
    return posixpath.normpath(text) if text else ""


def natural_key(text: str) -> list[t.Any]:
    """Sort key putting web2 before web10."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part.lower()) for part in _DIGITS.split(text)]
