# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private, controller side: the drift history - one JSON line per checkout and run, appended to a file.

Each line carries ``drifted_since`` (when the checkout's current run of drift began), so a run needs only the
latest line of each of its checkouts: the file is read from its end, block by block, until every checkout of
the run has been seen (or the file's start: a checkout new to the history). Audits every ten minutes on a fleet
make a long file; a run still reads little of it.

The file is the controller user's: it is opened without following a link, and one that belongs to another user
is neither read nor written.
"""

from __future__ import annotations

import json
import os
import stat
import typing as t
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from ansible_collections.fleetops.gitops.plugins.plugin_utils._report.records import TRENDS, CheckoutRecord

HISTORY_VERSION = 1
NEW, CHRONIC, RESOLVED = TRENDS
_BLOCK = 64 * 1024

Key = tuple[str, str]


class HistoryError(Exception):
    """The history file cannot be used (another user's, a link, not a file); the report is made without it."""


@dataclass(frozen=True)
class Entry:
    """A checkout's line of one run."""

    run: str
    state: str
    drifted_since: str | None


def read_latest(path: str, keys: t.Collection[Key]) -> dict[Key, Entry]:
    """The latest entry of each checkout in ``keys`` that the history holds (none when the file is absent)."""
    fd = _open(path, os.O_RDONLY)
    if fd is None:
        return {}
    wanted, found = set(keys), {}
    try:
        for line in _lines_from_end(fd):
            item = _parse(line)
            if item is None:
                continue
            key, entry = item
            if key in wanted and key not in found:
                found[key] = entry
                if len(found) == len(wanted):
                    break
    finally:
        os.close(fd)
    return found


def apply_history(records: Sequence[CheckoutRecord], latest: t.Mapping[Key, Entry], run: str) -> None:
    """Set each record's ``drifted_since`` and ``trend`` from the checkout's previous entry: new drift (drifted now,
    in sync or unknown to the history before), chronic drift (drifted in both runs), resolved drift (in sync now,
    drifted before)."""
    for record in records:
        record.tracked = True
        previous = latest.get((record.host, record.path))
        was_drifted = previous is not None and previous.state != "IN_SYNC"
        if record.drifted:
            record.drifted_since = (previous.drifted_since or previous.run) if was_drifted and previous else run
            record.trend = CHRONIC if was_drifted else NEW
        elif was_drifted:
            record.trend = RESOLVED


def append_run(path: str, records: Sequence[CheckoutRecord], run: str) -> None:
    """Append the run's lines in one write (so that two runs appending at once do not mix their lines)."""
    lines = "".join(json.dumps(_line(record, run), ensure_ascii=False, sort_keys=True) + "\n" for record in records)
    fd = _open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT)
    if fd is None:  # pragma: no cover - O_CREAT makes it
        return
    try:
        size = os.fstat(fd).st_size
        cut = size > 0 and os.pread(fd, 1, size - 1) != b"\n"  # a run killed mid-write: its last line is not ours
        os.write(fd, (("\n" if cut else "") + lines).encode("utf-8"))
    finally:
        os.close(fd)


def _line(record: CheckoutRecord, run: str) -> dict[str, t.Any]:
    return {
        "v": HISTORY_VERSION,
        "run": run,
        "host": record.host,
        "path": record.path,
        "state": record.state,
        "drifted_since": record.drifted_since,
        "desired_revision": record.desired_revision,
        "actual_revision": record.actual_revision,
        "check_mode": record.check_mode,
    }


def _parse(line: bytes) -> tuple[Key, Entry] | None:
    """A line's checkout and entry; None for a line that is not one of ours (cut short, edited, another version)."""
    try:
        item = json.loads(line)
    except ValueError:
        return None
    if not isinstance(item, dict) or item.get("v") != HISTORY_VERSION:
        return None
    host, path, run, state, since = (item.get(name) for name in ("host", "path", "run", "state", "drifted_since"))
    if not all(isinstance(value, str) for value in (host, path, run, state)) or not isinstance(since, (str, type(None))):
        return None
    return (host, path), Entry(run, state, since)


def _lines_from_end(fd: int) -> Iterator[bytes]:
    """The file's lines, the last one first, read a block at a time from the end."""
    position = os.fstat(fd).st_size
    rest = b""
    while position > 0:
        size = min(_BLOCK, position)
        position -= size
        block = os.pread(fd, size, position) + rest
        lines = block.split(b"\n")
        rest = lines.pop(0)  # may continue in the block before
        yield from (line for line in reversed(lines) if line.strip())
    if rest.strip():
        yield rest


def _open(path: str, flags: int) -> int | None:
    """The file's descriptor, not through a link and only when it is a regular file of this user; None when a file
    to read is absent."""
    try:
        fd = os.open(path, flags | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK, 0o600)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise HistoryError(f"cannot open the history file {path}: {error.strerror} (a link is not followed)") from None
    info = os.fstat(fd)
    if not (stat.S_ISREG(info.st_mode) and info.st_uid == os.geteuid()):
        os.close(fd)
        raise HistoryError(f"the history file {path} is not a file of this user; it was neither read nor written")
    return fd
