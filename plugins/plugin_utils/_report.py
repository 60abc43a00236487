# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private, controller side: the fleet report of the ``gitops_report`` callback.

``FleetReport`` collects one ``CheckoutRecord`` per host and checkout path from the results of
``gitops_sync`` and ``gitops_drift``; ``render_table``, ``render_json``, ``render_junit`` and
``render_html`` turn records into text, and ``write_reports`` writes the files, each atomically.
Only the statuses the modules return are read, never the task arguments (they may hold credentials).
"""

from __future__ import annotations

import html
import json
import os
import posixpath
import re
import typing as t
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone

from ansible_collections.fleetops.gitops.plugins.module_utils._files import open_folder, write_atomic

STATES = ("IN_SYNC", "DRIFTED", "UNKNOWN", "SYNCING", "ERROR")
"""Every state a SyncStatus can have; anything else a result claims is read as UNKNOWN."""

REPORT_FILES = {"json": "gitops-report.json", "junit": "gitops-report.junit.xml", "html": "gitops-report.html"}
"""File name written for each format."""

SHORT_SHA = 12
TABLE_WIDTH = 100
ELLIPSIS = "\u2026"

_GAP = "  "
_STATE_WORDS = {"IN_SYNC": "in sync", "DRIFTED": "drifted", "UNKNOWN": "unknown", "SYNCING": "syncing", "ERROR": "error"}
# Characters XML 1.0 cannot hold at all, even escaped.
_XML_INVALID = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
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
    changed: bool = False

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
        }


def record_from_status(host: str, path: str, status: t.Any, *, changed: bool = False,
                       error: str | None = None) -> CheckoutRecord:
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
                found[key] = record_from_status(host, key, status, changed=only and bool(result.get("changed")),
                                                error=error if only else None)
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


# Facts that choose the report folder: the playbook's own, or the checkouts role's variable of that name.
REPORT_DIR_FACTS = ("gitops_report_dir", "checkouts_report_dir")


def report_dir_fact(result: t.Any) -> str | None:
    """The report folder a result sets with set_fact (``gitops_report_dir``, or the role's ``checkouts_report_dir``)."""
    facts = result.get("ansible_facts") if isinstance(result, Mapping) else None
    if not isinstance(facts, Mapping):
        return None
    for name in REPORT_DIR_FACTS:
        value = facts.get(name)
        if isinstance(value, str) and value.strip():
            return value
    return None


class FleetReport:
    """All checkouts reported during a run, one record per host and path; the last report wins."""

    def __init__(self) -> None:
        self._records: dict[tuple[str, str], CheckoutRecord] = {}

    def __len__(self) -> int:
        return len(self._records)

    def add(self, record: CheckoutRecord) -> None:
        """Record a report; it replaces an earlier one of the same checkout, but ``changed`` stays true once set."""
        key = (record.host, record.path)
        earlier = self._records.pop(key, None)
        if earlier is not None and earlier.changed:
            record.changed = True
        self._records[key] = record

    def add_result(self, host: str, result: Mapping[str, t.Any], *, failed: bool = False) -> int:
        """Record the checkouts of one module result (see ``records_from_result``); returns how many."""
        records = records_from_result(host, result, failed=failed)
        for record in records:
            self.add(record)
        return len(records)

    def records(self) -> list[CheckoutRecord]:
        """The records, drifted ones first, then by host and path."""
        return sort_records(self._records.values())

    def summary(self) -> dict[str, t.Any]:
        """Counts: hosts, checkouts, changed ones and one per state."""
        return summarize(self._records.values())

    def write_reports(self, directory: str, formats: Iterable[str], *, now: datetime | None = None) -> list[str]:
        """Write the report files into ``directory``; see ``write_reports``."""
        return write_reports(directory, formats, self.records(), now=now)


def sort_records(records: Iterable[CheckoutRecord]) -> list[CheckoutRecord]:
    """Drifted (every state but IN_SYNC) first, then by host (web2 before web10) and path."""
    return sorted(records, key=lambda record: (not record.drifted, _natural(record.host), record.path))


def summarize(records: Iterable[CheckoutRecord]) -> dict[str, t.Any]:
    """``{"hosts", "checkouts", "changed", "states": {state: count for every state}}``."""
    records = list(records)
    states = dict.fromkeys(STATES, 0)
    for record in records:
        states[record.state] = states.get(record.state, 0) + 1
    return {
        "hosts": len({record.host for record in records}),
        "checkouts": len(records),
        "changed": sum(1 for record in records if record.changed),
        "states": states,
    }


def summary_line(summary: Mapping[str, t.Any]) -> str:
    """``23 hosts, 57 checkouts: 52 in sync, 4 drifted, 1 error`` (unknown, syncing and error only when there are any)."""
    states = summary["states"]
    parts = [f"{states['IN_SYNC']} in sync", f"{states['DRIFTED']} drifted"]
    for state in ("UNKNOWN", "SYNCING", "ERROR"):
        if states[state]:
            parts.append(_plural(states[state], "error") if state == "ERROR" else f"{states[state]} {_STATE_WORDS[state]}")
    return f"{_plural(summary['hosts'], 'host')}, {_plural(summary['checkouts'], 'checkout')}: {', '.join(parts)}"


def worst_state(records: Iterable[CheckoutRecord]) -> str:
    """ERROR if any, else DRIFTED if any is not in sync, else IN_SYNC (for colouring the summary)."""
    states = {record.state for record in records}
    if "ERROR" in states:
        return "ERROR"
    return "DRIFTED" if states - {"IN_SYNC"} else "IN_SYNC"


# -- terminal table -------------------------------------------------------------------------------------------------

_COLUMNS = ("HOST", "CHECKOUT", "STATE", "DESIRED", "ACTUAL", "LAST SYNC", "DETAILS")
# Columns that give way when the line is too long: (share each keeps while others are cut, narrowest allowed).
_FLEXIBLE = {"HOST": (12, 4), "CHECKOUT": (16, 6), "DETAILS": (20, 8)}


def table_lines(records: Iterable[CheckoutRecord], *, width: int = TABLE_WIDTH,
                drifted_only: bool = False) -> list[tuple[str, str | None]]:
    """The table as ``(line, state)`` pairs, for colouring: header and rule (state None), one line per checkout,
    then the summary line of all records (state: the worst one). Lines fit in ``width`` columns.
    """
    records = sort_records(records)
    shown = [record for record in records if record.drifted] if drifted_only else records
    lines: list[tuple[str, str | None]] = []
    if shown:
        rows = [_table_row(record) for record in shown]
        widths = _column_widths(rows, width)
        lines.append((_join(list(_COLUMNS), widths), None))
        lines.append((_join(["-" * size for size in widths], widths), None))
        for record, row in zip(shown, rows):
            cells = [_fit(row[0], widths[0]), _fit(row[1], widths[1], keep_end=True)]
            cells += [_fit(cell, size) for cell, size in zip(row[2:6], widths[2:6])]
            cells.append(_details_cell(record.drift_details, widths[6]))
            lines.append((_join(cells, widths), record.state))
    elif records:
        lines.append((f"All {_plural(len(records), 'checkout')} in sync.", "IN_SYNC"))
    lines.append((summary_line(summarize(records)), worst_state(records)))
    return lines


def render_table(records: Iterable[CheckoutRecord], *, width: int = TABLE_WIDTH, drifted_only: bool = False) -> str:
    """The terminal table and summary line as one string (see ``table_lines``)."""
    return "\n".join(line for line, _state in table_lines(records, width=width, drifted_only=drifted_only))


def _table_row(record: CheckoutRecord) -> list[str]:
    details = [_one_line(detail) for detail in record.drift_details]
    first = details[0] if details else ""
    if len(details) > 1:
        first += f" +{len(details) - 1} more"
    return [
        _one_line(record.host),
        _one_line(record.path),
        record.state,
        _short_sha(record.desired_revision) or "-",
        _short_sha(record.actual_revision) or "-",
        _short_time(record.last_synced_at) or "-",
        first,
    ]


def _column_widths(rows: list[list[str]], width: int) -> list[int]:
    widths = [max([len(name)] + [len(row[index]) for row in rows]) for index, name in enumerate(_COLUMNS)]
    fixed = sum(size for name, size in zip(_COLUMNS, widths) if name not in _FLEXIBLE)
    room = width - fixed - len(_GAP) * (len(_COLUMNS) - 1)
    flexible = [index for index, name in enumerate(_COLUMNS) if name in _FLEXIBLE]
    # Cut one character at a time from the column furthest above its share, until the line fits.
    while sum(widths[index] for index in flexible) > room:
        shrinkable = [index for index in flexible if widths[index] > _FLEXIBLE[_COLUMNS[index]][1]]
        if not shrinkable:
            break
        widest = max(shrinkable, key=lambda index: (widths[index] - _FLEXIBLE[_COLUMNS[index]][0], index))
        widths[widest] -= 1
    return widths


def _details_cell(details: Sequence[str], size: int) -> str:
    if not details:
        return ""
    first = _one_line(details[0])
    if len(details) == 1:
        return _fit(first, size)
    more = f" +{len(details) - 1} more"
    if len(more) >= size:
        return _fit(first + more, size)
    return _fit(first, size - len(more)) + more


def _join(cells: list[str], widths: list[int]) -> str:
    return _GAP.join(cell.ljust(size) for cell, size in zip(cells, widths)).rstrip()


def _fit(text: str, size: int, *, keep_end: bool = False) -> str:
    """``text`` cut to ``size`` characters with an ellipsis where it was cut (at the start for paths)."""
    if len(text) <= size:
        return text
    if size <= 1:
        return ELLIPSIS[:size]
    return ELLIPSIS + text[-(size - 1):] if keep_end else text[:size - 1] + ELLIPSIS


def _one_line(text: t.Any) -> str:
    """One line of printable text: control characters (escape sequences, newlines) become spaces."""
    cleaned = "".join(char if char.isprintable() else " " for char in str(text))
    return " ".join(cleaned.split())


# -- JSON -------------------------------------------------------------------------------------------------------------

def render_json(records: Iterable[CheckoutRecord], *, now: datetime | None = None) -> str:
    """``{"generated_at", "summary", "checkouts": [...]}``, checkouts drifted first, then by host and path."""
    records = sort_records(records)
    document = {
        "generated_at": _iso(now),
        "summary": summarize(records),
        "checkouts": [record.to_dict() for record in records],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


# -- JUnit XML --------------------------------------------------------------------------------------------------------

def render_junit(records: Iterable[CheckoutRecord], *, now: datetime | None = None) -> str:
    """JUnit XML: a testsuite per host, a testcase per checkout (classname HOST, name PATH).

    DRIFTED is a ``<failure>``, ERROR and UNKNOWN an ``<error>``, SYNCING ``<skipped>``; message: the first detail.
    """
    records = sort_records(records)
    hosts: dict[str, list[CheckoutRecord]] = {}
    for record in sorted(records, key=lambda record: _natural(record.host)):
        hosts.setdefault(record.host, []).append(record)
    timestamp = _iso(now).rstrip("Z")
    root = ET.Element("testsuites", name="fleetops.gitops")
    totals = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    for host, host_records in hosts.items():
        suite = ET.SubElement(root, "testsuite", name=_xml(host), timestamp=timestamp)
        counts = dict.fromkeys(totals, 0)
        for record in host_records:
            counts["tests"] += 1
            case = ET.SubElement(suite, "testcase", classname=_xml(host), name=_xml(record.path))
            message = _xml(record.drift_details[0] if record.drift_details else record.state)
            text = _xml("\n".join(record.drift_details)) or None
            if record.state == "DRIFTED":
                counts["failures"] += 1
                ET.SubElement(case, "failure", message=message, type=record.state).text = text
            elif record.state in ("ERROR", "UNKNOWN"):
                counts["errors"] += 1
                ET.SubElement(case, "error", message=message, type=record.state).text = text
            elif record.state == "SYNCING":
                counts["skipped"] += 1
                ET.SubElement(case, "skipped", message=message)
            ET.SubElement(case, "system-out").text = _xml(
                f"state: {record.state}\ndesired revision: {record.desired_revision or '-'}\n"
                f"actual revision: {record.actual_revision or '-'}\nlast synced at: {record.last_synced_at or '-'}\n"
                f"changed: {str(record.changed).lower()}"
            )
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _xml(text: str) -> str:
    return _XML_INVALID.sub("\ufffd", text)


# -- HTML -------------------------------------------------------------------------------------------------------------

_HTML_STYLE = """
:root {
  --in-sync: #1a7f37; --drifted: #b35900; --error: #cf222e; --unknown: #6e7781; --syncing: #0969da;
  --text: #1f2328; --muted: #59636e; --border: #d1d9e0; --zebra: #f6f8fa; --head: #eaeef2;
}
* { box-sizing: border-box; }
html { background: #fff; }
body { margin: 0; color: var(--text);
  font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", Arial, sans-serif; }
header { padding: 20px 24px 8px; }
h1 { margin: 0; font-size: 22px; font-weight: 600; }
.meta { margin: 2px 0 0; color: var(--muted); }
.summary { display: flex; flex-wrap: wrap; gap: 10px; margin: 12px 24px 10px; padding: 0; list-style: none; }
.summary li { min-width: 118px; padding: 6px 14px 8px; border: 1px solid var(--border);
  border-left: 6px solid var(--border); border-radius: 6px; background: #fff; }
.summary li b { display: block; font-size: 24px; line-height: 1.2; font-variant-numeric: tabular-nums; }
.summary li span { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .05em; }
.summary li.zero { opacity: .5; }
.summary li.st-in-sync { border-left-color: var(--in-sync); }
.summary li.st-drifted { border-left-color: var(--drifted); }
.summary li.st-error { border-left-color: var(--error); }
.summary li.st-unknown { border-left-color: var(--unknown); }
.summary li.st-syncing { border-left-color: var(--syncing); }
.bar { display: flex; height: 8px; margin: 0 24px 18px; overflow: hidden; border-radius: 4px; background: var(--zebra); }
.bar span { display: block; height: 100%; }
.bar .st-in-sync, .badge.st-in-sync { background: var(--in-sync); }
.bar .st-drifted, .badge.st-drifted { background: var(--drifted); }
.bar .st-error, .badge.st-error { background: var(--error); }
.bar .st-unknown, .badge.st-unknown { background: var(--unknown); }
.bar .st-syncing, .badge.st-syncing { background: var(--syncing); }
main { padding: 0 24px 24px; }
table { width: 100%; border-collapse: separate; border-spacing: 0; border: 1px solid var(--border); border-radius: 6px; }
th { position: sticky; top: 0; z-index: 1; padding: 8px 10px; background: var(--head); border-bottom: 1px solid var(--border);
  color: var(--muted); font-size: 12px; font-weight: 600; letter-spacing: .05em; text-align: left; text-transform: uppercase;
  white-space: nowrap; }
td { padding: 7px 10px; border-bottom: 1px solid var(--border); vertical-align: top; }
tbody tr:last-child td { border-bottom: 0; }
tbody tr:nth-child(even) td { background: var(--zebra); }
tbody tr.st-drifted td:first-child { box-shadow: inset 4px 0 var(--drifted); }
tbody tr.st-error td:first-child { box-shadow: inset 4px 0 var(--error); }
tbody tr.st-unknown td:first-child { box-shadow: inset 4px 0 var(--unknown); }
tbody tr.st-syncing td:first-child { box-shadow: inset 4px 0 var(--syncing); }
td.host { font-weight: 600; white-space: nowrap; }
code, .path { font: 13px/1.5 ui-monospace, "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono", "Liberation Mono", monospace; }
.path { overflow-wrap: break-word; }
td.path { min-width: 12em; }
.badge { display: inline-block; padding: 1px 9px; border-radius: 999px; color: #fff; font-size: 12px; font-weight: 600;
  letter-spacing: .03em; white-space: nowrap; }
.tag { display: inline-block; margin-left: 4px; padding: 0 6px; border: 1px solid var(--border); border-radius: 999px;
  color: var(--muted); font-size: 11px; }
.differs { color: var(--error); font-weight: 600; }
.none { color: var(--muted); }
td.when, td.state, td.sha { width: 1%; white-space: nowrap; }
th.details { width: 40%; }
ul.details { margin: 0; padding-left: 18px; }
ul.details li { white-space: pre-wrap; overflow-wrap: anywhere; }
tr.st-error ul.details li:first-child { color: var(--error); }
footer { padding: 0 24px 24px; color: var(--muted); font-size: 12px; }
@media print { th { position: static; } }
"""


def render_html(records: Iterable[CheckoutRecord], *, now: datetime | None = None) -> str:
    """A self-contained page (inline CSS, no scripts): summary counts, a bar, and the checkouts, drifted first."""
    records = sort_records(records)
    summary = summarize(records)
    states = summary["states"]
    esc = _html
    title = f"GitOps report: {summary_line(summary)}"
    cards = [
        f'<li class="{_css(state)}{"" if states[state] else " zero"}"><b>{states[state]}</b>'
        f"<span>{esc(_STATE_WORDS[state])}</span></li>"
        for state in ("IN_SYNC", "DRIFTED", "ERROR", "UNKNOWN", "SYNCING")
    ]
    total = summary["checkouts"] or 1
    segments = [
        f'<span class="{_css(state)}" style="width: {100 * states[state] / total:.3f}%" '
        f'title="{esc(_STATE_WORDS[state])}: {states[state]}"></span>'
        for state in ("IN_SYNC", "DRIFTED", "ERROR", "UNKNOWN", "SYNCING") if states[state]
    ]
    rows = [_html_row(record) for record in records]
    if not rows:
        rows = ['<tr><td colspan="7" class="none">No checkouts were reported.</td></tr>']
    generated = _iso(now)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="generator" content="fleetops.gitops.gitops_report">',
        f"<title>{esc(title)}</title>",
        f"<style>{_HTML_STYLE}</style>",
        "</head>",
        "<body>",
        "<header>",
        "<h1>GitOps fleet report</h1>",
        f'<p class="meta">{esc(summary_line(summary))} &middot; {summary["changed"]} changed in this run &middot; '
        f'generated <time datetime="{esc(generated)}">{esc(generated.replace("T", " ").rstrip("Z"))} UTC</time></p>',
        "</header>",
        f'<ul class="summary">{"".join(cards)}</ul>',
        f'<div class="bar">{"".join(segments)}</div>',
        "<main>",
        "<table>",
        "<thead><tr><th>Host</th><th>Checkout</th><th>State</th><th>Desired</th><th>Actual</th>"
        "<th>Last sync</th><th class=\"details\">Details</th></tr></thead>",
        "<tbody>",
        *rows,
        "</tbody>",
        "</table>",
        "</main>",
        "<footer>Drifted and failed checkouts first. Written by the fleetops.gitops.gitops_report callback.</footer>",
        "</body>",
        "</html>",
    ]
    return "\n".join(parts) + "\n"


def _html_row(record: CheckoutRecord) -> str:
    esc = _html
    changed = '<span class="tag">changed</span>' if record.changed else ""
    differs = bool(record.desired_revision and record.actual_revision and record.desired_revision != record.actual_revision)
    if record.drift_details:
        details = '<ul class="details">' + "".join(f"<li>{esc(line)}</li>" for line in record.drift_details) + "</ul>"
    else:
        details = '<span class="none">&mdash;</span>'
    if record.last_synced_at:
        when = f'<time datetime="{esc(record.last_synced_at)}">{esc(_short_time(record.last_synced_at))}</time>'
    else:
        when = '<span class="none">never</span>'
    return (
        f'<tr class="{_css(record.state)}">'
        f'<td class="host">{esc(record.host)}</td>'
        f'<td class="path">{esc(record.path).replace("/", "/<wbr>")}</td>'
        f'<td class="state"><span class="badge {_css(record.state)}" title="{esc(record.state)}">{esc(record.state.replace("_", " "))}</span>'
        f"{changed}</td>"
        f'<td class="sha">{_html_sha(record.desired_revision)}</td>'
        f'<td class="sha">{_html_sha(record.actual_revision, differs=differs)}</td>'
        f'<td class="when">{when}</td>'
        f"<td>{details}</td>"
        "</tr>"
    )


def _html_sha(revision: str | None, *, differs: bool = False) -> str:
    if not revision:
        return '<span class="none">&mdash;</span>'
    css = ' class="differs"' if differs else ""
    return f'<code title="{_html(revision)}"{css}>{_html(_short_sha(revision))}</code>'


def _html(text: t.Any) -> str:
    return html.escape(str(text), quote=True)


def _css(state: str) -> str:
    return "st-" + state.lower().replace("_", "-")


# -- files ------------------------------------------------------------------------------------------------------------

_RENDERERS: dict[str, t.Callable[..., str]] = {"json": render_json, "junit": render_junit, "html": render_html}


def write_reports(directory: str, formats: Iterable[str], records: Iterable[CheckoutRecord], *,
                  now: datetime | None = None) -> list[str]:
    """Write one file per format (json, junit, html) into ``directory``, made when missing; returns their paths.

    Each file is written to a temporary file in the same folder and renamed over the old one, so a reader sees
    either the old report or the new one. All files carry the same ``generated_at``.
    """
    wanted = list(dict.fromkeys(str(name).strip().lower() for name in formats))
    unknown = [name for name in wanted if name not in _RENDERERS]
    if unknown:
        raise ValueError(f"unknown report format(s): {', '.join(unknown)} (choose from {', '.join(_RENDERERS)})")
    records = sort_records(records)
    now = now or datetime.now(timezone.utc)
    folder = open_folder(os.path.abspath(directory), option="report_dir", create=True, readable=True)
    written = []
    try:
        for name in wanted:
            write_atomic(folder, REPORT_FILES[name], _RENDERERS[name](records, now=now).encode("utf-8"), mode=0o644)
            written.append(os.path.join(directory, REPORT_FILES[name]))
    finally:
        os.close(folder)
    return written


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


def _short_sha(revision: str | None) -> str:
    return revision[:SHORT_SHA] if revision else ""


def _short_time(value: str | None) -> str:
    """``2026-12-01T07:15:00Z`` -> ``2026-12-01 07:15``; anything else as it is."""
    if not value:
        return ""
    try:
        when = datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return _one_line(value)
    return when.strftime("%Y-%m-%d %H:%M")


def _iso(now: datetime | None) -> str:
    now = now or datetime.now(timezone.utc)
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    return now.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _natural(text: str) -> list[t.Any]:
    """Sort key putting web2 before web10."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part.lower()) for part in _DIGITS.split(text)]


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"
