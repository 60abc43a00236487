# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private: the small per-checkout record of the last sync, kept inside the git directory."""

from __future__ import annotations

import json
import os
import typing as t
from dataclasses import dataclass
from datetime import datetime, timezone

from ansible_collections.fleetops.gitops.plugins.module_utils._files import UnsafePath, open_folder, read_bytes, write_atomic

STATE_FILE = "fleetops-gitops.json"
_SCHEMA = 1
_MAX_SIZE = 64 * 1024


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


def read_state(git_dir: str | None, owner: int | None = None) -> dict[str, t.Any]:
    """The last record, or {} when there is none, it cannot be read, or the git directory is not ``owner``'s (never fatal)."""
    if git_dir is None:
        return {}
    try:
        folder = open_folder(git_dir)
    except (UnsafePath, OSError):
        return {}
    try:
        if owner is not None and os.fstat(folder).st_uid != owner:
            return {}
        raw = read_bytes(folder, STATE_FILE, limit=_MAX_SIZE)
    finally:
        os.close(folder)
    try:
        data = json.loads(raw.decode("utf-8")) if raw is not None else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def last_synced_at(git_dir: str | None) -> datetime | None:
    return parse_time(read_state(git_dir).get("last_synced_at"))


@dataclass(frozen=True)
class Record:
    """The last sync this collection made of a checkout: the drift model's actual revision, and what it followed."""

    revision: str
    kind: str | None = None  # branch, tag or commit
    name: str | None = None  # the branch or tag
    version: str | None = None  # as asked
    repo: str | None = None  # the URL, as shown (no credentials)

    @classmethod
    def read(cls, git_dir: str | None, owner: int | None = None) -> Record | None:
        data = read_state(git_dir, owner)
        revision = data.get("revision")
        if not isinstance(revision, str) or not revision:
            return None
        text = {key: data.get(key) if isinstance(data.get(key), str) else None for key in ("kind", "name", "version", "repo")}
        return cls(revision, **text)

    def followed_branch(self, name: str | None) -> bool:
        """Whether this sync followed the branch ``name`` (records without a kind: by the version asked)."""
        if name is None:
            return False
        if self.kind is not None:
            return self.kind == "branch" and self.name == name
        version = self.version or ""
        return version in (name, f"refs/heads/{name}")


def record_sync(git_dir: str, record: Record, *, when: datetime | None = None, owner: tuple[int, int] | None = None) -> datetime:
    """Write ``record`` atomically and durably; it belongs to ``owner`` (uid, gid), like the rest of the git directory.

    The git directory must belong to that user (or to us): it is where git running as them writes too. A crash
    at any point leaves either the old record or the new one, never half of one.
    """
    when = when or utc_now()
    data = {
        "schema": _SCHEMA,
        "revision": record.revision,
        "last_synced_at": format_time(when),
        "repo": record.repo,
        "version": record.version,
        "kind": record.kind,
        "name": record.name,
    }
    folder = open_folder(git_dir, readable=True)
    try:
        expected = owner[0] if owner is not None else os.geteuid()
        if os.fstat(folder).st_uid != expected:
            raise UnsafePath("dest", f"{git_dir} does not belong to the user git runs as; the sync record was not written")
        write_atomic(folder, STATE_FILE, (json.dumps(data, sort_keys=True) + "\n").encode(), mode=0o644, owner=owner)
    finally:
        os.close(folder)
    return when
