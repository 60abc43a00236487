# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private, controller side: the fleet report as a terminal table, JSON, JUnit XML and an HTML page.

Every renderer takes the records in any order and shows them drifted first. Text that came from a managed host
(paths, details) is data everywhere: control characters leave the table, XML gets only the characters it can
hold, and the HTML page is a Jinja2 template with autoescape on, so no value can become markup.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import posixpath
import re
import typing as t
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from ansible_collections.fleetops.gitops.plugins.module_utils._state_file import format_time, parse_time, utc_now
from ansible_collections.fleetops.gitops.plugins.plugin_utils._report.health import HEALTHS
from ansible_collections.fleetops.gitops.plugins.plugin_utils._report.records import (
    TRENDS,
    CheckoutRecord,
    natural_key,
    sort_records,
    summarize,
    worst_state,
)
from ansible_collections.fleetops.gitops.plugins.plugin_utils._report.skew import RepositorySkew, revision_skew

SHORT_SHA = 12
JSON_FORMAT_VERSION = 1
TABLE_WIDTH = 100
ELLIPSIS = "\u2026"
LISTED_HOSTS = 8  # hosts named per commit in the skew view; the others counted

_GAP = "  "
_STATE_WORDS = {"IN_SYNC": "in sync", "DRIFTED": "drifted", "ERROR": "error", "UNKNOWN": "unknown"}  # every one of STATES, in the page's order
# Characters XML 1.0 cannot hold at all, even escaped.
_XML_INVALID = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_TEMPLATES = Environment(  # nosec B701 - autoescape is on for the one template, which is HTML
    loader=FileSystemLoader(os.path.dirname(os.path.abspath(__file__))),
    autoescape=select_autoescape(["html.j2"], default_for_string=True, default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
# The page's Content-Security-Policy admits its one inline script by this digest, and no other script.
_TEMPLATES.filters["csp_digest"] = lambda text: "sha256-" + base64.b64encode(hashlib.sha256(str(text).encode("utf-8")).digest()).decode("ascii")


def summary_line(summary: t.Mapping[str, t.Any]) -> str:
    """``23 hosts, 57 checkouts: 52 in sync, 4 drifted, 1 error`` (unknown and error only when there are any)."""
    states = summary["states"]
    parts = [f"{states['IN_SYNC']} in sync", f"{states['DRIFTED']} drifted"]
    if states["UNKNOWN"]:
        parts.append(f"{states['UNKNOWN']} unknown")
    if states["ERROR"]:
        parts.append(_plural(states["ERROR"], "error"))
    return f"{_plural(summary['hosts'], 'host')}, {_plural(summary['checkouts'], 'checkout')}: {', '.join(parts)}"


def history_words(counts: t.Mapping[str, int]) -> str:
    """``1 new, 2 chronic, 0 resolved``: the drift history's counts of a run."""
    return _counted(counts, TRENDS)


def health_words(counts: t.Mapping[str, int]) -> str:
    """``20 passed, 0 failed, 1 reverted``: the checkouts role's health check, counted per changed checkout."""
    return _counted(counts, HEALTHS)


def _counted(counts: t.Mapping[str, int], names: Sequence[str]) -> str:
    return ", ".join(f"{counts[name]} {name}" for name in names)


# -- terminal table -------------------------------------------------------------------------------------------------

_COLUMNS = ("HOST", "CHECKOUT", "STATE", "DESIRED", "ACTUAL", "LAST SYNC", "DETAILS")
# Columns that give way when the line is too long: (share each keeps while others are cut, narrowest allowed).
_FLEXIBLE = {"HOST": (12, 4), "CHECKOUT": (16, 6), "DETAILS": (20, 8)}


def table_lines(records: Iterable[CheckoutRecord], *, width: int | None = TABLE_WIDTH, drifted_only: bool = False) -> list[tuple[str, str | None]]:
    """The table as ``(line, state)`` pairs, for colouring: header and rule (state None), one line per checkout,
    then the summary line of all records (state: the worst one). Lines fit in ``width`` columns; with ``width``
    None (a log, not a terminal) nothing is cut, and each detail after a checkout's first has a line of its own.
    """
    records = sort_records(records)
    shown = [record for record in records if record.drifted] if drifted_only else records
    lines: list[tuple[str, str | None]] = []
    if shown:
        rows = [_table_row(record, counted=width is not None) for record in shown]
        widths = _column_widths(rows, width)
        lines.append((_join(list(_COLUMNS), widths), None))
        lines.append((_join(["-" * size for size in widths], widths), None))
        for record, row in zip(shown, rows):
            lines += [(line, record.state) for line in _record_lines(record, row, widths, whole=width is None)]
    elif records:
        lines.append((f"All {_plural(len(records), 'checkout')} in sync.", "IN_SYNC"))
    summary = summarize(records)
    lines.append((summary_line(summary), worst_state(records)))
    if "history" in summary:
        lines.append((f"Drift against the previous run: {history_words(summary['history'])}", None))
    if "health" in summary:
        lines.append((f"Changed checkouts after the health check: {health_words(summary['health'])}", None))
    return lines


def render_table(records: Iterable[CheckoutRecord], *, width: int | None = TABLE_WIDTH, drifted_only: bool = False) -> str:
    """The terminal table and summary line as one string (see ``table_lines``)."""
    return "\n".join(line for line, _state in table_lines(records, width=width, drifted_only=drifted_only))


def _record_lines(record: CheckoutRecord, row: list[str], widths: list[int], *, whole: bool) -> list[str]:
    """A checkout's line, cut to the widths; ``whole``: as it is, then a line for each further detail."""
    if whole:
        more = [_join([""] * (len(_COLUMNS) - 1) + [_one_line(detail)], widths) for detail in record.drift_details[1:]]
        return [_join(row, widths), *more]
    cells = [_fit(row[0], widths[0]), _fit(row[1], widths[1], keep_end=True)]
    cells += [_fit(cell, size) for cell, size in zip(row[2:6], widths[2:6])]
    cells.append(_details_cell(record.drift_details, widths[6]))
    return [_join(cells, widths)]


def _table_row(record: CheckoutRecord, *, counted: bool) -> list[str]:
    """The cells of a checkout's line; the details cell is the first detail (``counted``: and how many more)."""
    details = [_one_line(detail) for detail in record.drift_details]
    first = details[0] if details else ""
    if counted and len(details) > 1:
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


def _column_widths(rows: list[list[str]], width: int | None) -> list[int]:
    widths = [max([len(name)] + [len(row[index]) for row in rows]) for index, name in enumerate(_COLUMNS)]
    if width is None:
        return widths
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
    kept = size - 1
    return ELLIPSIS + text[-kept:] if keep_end else text[:kept] + ELLIPSIS


def _one_line(text: t.Any) -> str:
    """One line of printable text: control characters (escape sequences, newlines) become spaces."""
    cleaned = "".join(char if char.isprintable() else " " for char in str(text))
    return " ".join(cleaned.split())


# -- JSON -----------------------------------------------------------------------------------------------------------


def render_json(records: Iterable[CheckoutRecord], *, now: datetime | None = None) -> str:
    """``{"format_version", "generated_at", "summary", "checkouts": [...]}``, checkouts drifted first, then by host and
    path. ``format_version`` changes when a key changes meaning or goes away (not when one is added)."""
    records = sort_records(records)
    checkouts = [record.to_dict() for record in records]
    document = {"format_version": JSON_FORMAT_VERSION, "generated_at": _generated(now), "summary": summarize(records), "checkouts": checkouts}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


# -- JUnit XML ------------------------------------------------------------------------------------------------------


def render_junit(records: Iterable[CheckoutRecord], *, now: datetime | None = None) -> str:
    """JUnit XML: a testsuite per host, a testcase per checkout (classname HOST, name PATH).

    DRIFTED is a ``<failure>``, ERROR and UNKNOWN an ``<error>``; the message is the first detail.
    """
    hosts: dict[str, list[CheckoutRecord]] = {}
    for record in sorted(sort_records(records), key=lambda record: natural_key(record.host)):
        hosts.setdefault(record.host, []).append(record)
    timestamp = _generated(now).rstrip("Z")
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
            elif record.state != "IN_SYNC":
                counts["errors"] += 1
                ET.SubElement(case, "error", message=message, type=record.state).text = text
            ET.SubElement(case, "system-out").text = _xml(
                f"state: {record.state}\ndesired revision: {record.desired_revision or '-'}\n"
                f"actual revision: {record.actual_revision or '-'}\nlast synced at: {record.last_synced_at or '-'}\n"
                f"changed: {str(record.changed).lower()}"
                + (
                    f"\nrelease: {record.release}\nprevious release: {record.previous_release or '-'}\nlast switch: {record.last_switch or '-'}"
                    if record.release
                    else ""
                )
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


# -- HTML -----------------------------------------------------------------------------------------------------------


def render_html(records: Iterable[CheckoutRecord], *, now: datetime | None = None) -> str:
    """A self-contained page: summary counts, a bar, the revision skew per repository and the checkouts, drifted
    first, with a filter box; inline CSS, one inline script (the filter: the page works without it), nothing else."""
    records = sort_records(records)
    summary = summarize(records)
    total = summary["checkouts"] or 1
    states = [
        {
            "name": state,
            "css": _css(state),
            "words": _STATE_WORDS[state],
            "count": summary["states"][state],
            "share": f"{100 * summary['states'][state] / total:.3f}",
        }
        for state in _STATE_WORDS
    ]
    rows = [
        {
            "record": record,
            "css": _css(record.state),
            "label": record.state.replace("_", " "),
            "path_parts": record.path.split("/"),
            "repo_parts": record.repo.split("/") if record.repo else [],
            "desired": _short_sha(record.desired_revision),
            "actual": _short_sha(record.actual_revision),
            "when": _short_time(record.last_synced_at),
            "since": _short_time(record.drifted_since),
            "release": posixpath.basename(record.release) if record.release else None,
            "previous": posixpath.basename(record.previous_release) if record.previous_release else None,
            "differs": bool(record.desired_revision and record.actual_revision and record.desired_revision != record.actual_revision),
        }
        for record in records
    ]
    generated = _generated(now)
    return _TEMPLATES.get_template("report.html.j2").render(
        summary=summary,
        summary_line=summary_line(summary),
        states=states,
        rows=rows,
        skew=[_skew_view(repository) for repository in revision_skew(records)],
        check_mode=bool(records) and all(record.check_mode for record in records),  # the whole run: --check
        history_words=history_words(summary["history"]) if "history" in summary else "",
        health_words=_HEALTH_WORDS,
        generated=generated,
        generated_words=generated.replace("T", " ").rstrip("Z"),
    )


def _skew_view(repository: RepositorySkew) -> dict[str, t.Any]:
    """One repository of the skew view: its commits with their share of its hosts, and the first hosts by name."""
    total = repository.hosts or 1
    commits = [
        {
            "share": share,
            "short": _short_sha(share.revision),
            "width": f"{100 * len(share.hosts) / total:.3f}",
            "listed": ", ".join(share.hosts[:LISTED_HOSTS]) + (f" +{len(share.hosts) - LISTED_HOSTS} more" if len(share.hosts) > LISTED_HOSTS else ""),
        }
        for share in repository.commits
    ]
    return {"repository": repository, "parts": repository.repo.split("/"), "versions": ", ".join(repository.versions), "commits": commits}


_HEALTH_WORDS = {"passed": "healthy", "failed": "unhealthy", "reverted": "unhealthy, put back"}


def _css(state: str) -> str:
    return "st-" + state.lower().replace("_", "-")


# -- small helpers --------------------------------------------------------------------------------------------------


def _short_sha(revision: str | None) -> str:
    return revision[:SHORT_SHA] if revision else ""


def _short_time(value: str | None) -> str:
    """``2026-12-01T07:15:00Z`` -> ``2026-12-01 07:15``; anything else as it is."""
    when = parse_time(value)
    if when is None:
        return _one_line(value) if value else ""
    return when.strftime("%Y-%m-%d %H:%M")


def _generated(now: datetime | None) -> str:
    """When the report was made, in the form of every other time of the report (naive times are UTC)."""
    when = now if now is not None else utc_now()
    return format_time(when if when.tzinfo else when.replace(tzinfo=timezone.utc)) or ""


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"
