# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private: the small per-checkout record of the last sync, kept inside the git directory."""

from __future__ import annotations

import json
import os
import tempfile
import typing as t
from datetime import datetime, timezone

STATE_FILE = "fleetops-gitops.json"
_SCHEMA = 1


def utc_now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def format_time(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a 'Z', the form every consumer (JSON, JUnit, HTML) gets."""
    if value is None:
        return None
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: t.Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        return None


def read_state(git_dir: str | None) -> dict[str, t.Any]:
    """The last record, or {} when there is none or it cannot be read (never fatal)."""
    if git_dir is None:
        return {}
    try:
        with open(os.path.join(git_dir, STATE_FILE), encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def last_synced_at(git_dir: str | None) -> datetime | None:
    return parse_time(read_state(git_dir).get("last_synced_at"))


def record_sync(git_dir: str, revision: str, *, repo: str | None = None, version: str | None = None,
                when: datetime | None = None, chown: t.Callable[[str], None] | None = None) -> datetime:
    """Write the record atomically (temp file, fsync, rename, fsync of the folder).

    A crash at any point leaves either the old record or the new one, never half of one.
    """
    when = when or utc_now()
    data = {"schema": _SCHEMA, "revision": revision, "last_synced_at": format_time(when), "repo": repo, "version": version}
    fd, temp = tempfile.mkstemp(prefix=f".{STATE_FILE}.", dir=git_dir)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, sort_keys=True)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, 0o644)
        if chown is not None:
            chown(temp)  # the record belongs to the checkout's owner, like the rest of .git
        os.replace(temp, os.path.join(git_dir, STATE_FILE))
    except BaseException:
        _unlink_quietly(temp)
        raise
    _fsync_dir(git_dir)
    return when


def _unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
