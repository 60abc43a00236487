# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private: the history of one release layout's switches - one JSON line per switch, appended, never rewritten.

It lives in the shared repository's folder, so it outlives the releases that retention removes. Appends go
through the folder's descriptor with ``O_APPEND|O_NOFOLLOW``, to a file that must belong to the user git runs as
(the folder is theirs): one ``write()`` of one line, fsynced, so a crash loses at most the line being written.
"""

from __future__ import annotations

import getpass
import json
import os
import stat
import typing as t

from ansible_collections.fleetops.gitops.plugins.module_utils._files import UnsafePath, open_folder
from ansible_collections.fleetops.gitops.plugins.module_utils._state_file import format_time, utc_now

HISTORY_FILE = "fleetops-gitops-history.jsonl"
_TAIL = 256 * 1024  # what is read back: the last few thousand switches


def record_switch(repo: str, entry: t.Mapping[str, t.Any], owner: tuple[int, int] | None) -> dict[str, t.Any]:
    """Append one switch (``from``, ``to``, ``revision``, ``action``) with its time and the run's user; the line written."""
    line = dict(entry, time=format_time(utc_now()), user=_run_user())
    folder = open_folder(repo, readable=True)
    try:
        fd = os.open(HISTORY_FILE, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o644, dir_fd=folder)
        try:
            info = os.fstat(fd)
            expected = owner[0] if owner is not None else os.geteuid()
            if owner is not None and stat.S_ISREG(info.st_mode) and info.st_uid == os.geteuid() != expected and info.st_size == 0:
                os.fchown(fd, *owner)  # just made, by us, for the owner
            elif not stat.S_ISREG(info.st_mode) or info.st_uid != expected:
                raise UnsafePath("dest", f"{repo}/{HISTORY_FILE} is not a file of the user git runs as; the switch was not recorded")
            os.write(fd, (json.dumps(line, sort_keys=True) + "\n").encode())
            os.fsync(fd)
        finally:
            os.close(fd)
    finally:
        os.close(folder)
    return line


def read_history(repo: str) -> list[dict[str, t.Any]]:
    """The recorded switches, oldest first (the last ``_TAIL`` bytes' worth); lines that do not parse are skipped."""
    try:
        folder = open_folder(repo)
    except (UnsafePath, OSError):
        return []
    try:
        fd = os.open(HISTORY_FILE, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK, dir_fd=folder)
    except OSError:
        return []
    finally:
        os.close(folder)
    try:
        size = os.fstat(fd).st_size
        data = os.pread(fd, _TAIL, max(0, size - _TAIL))
    finally:
        os.close(fd)
    lines = data.decode("utf-8", errors="replace").splitlines()
    if size > _TAIL:
        lines = lines[1:]  # the first is cut
    entries = []
    for text in lines:
        try:
            value = json.loads(text)
        except ValueError:
            continue
        if isinstance(value, dict):
            entries.append(value)
    return entries


def _run_user() -> str:
    """Who ran the switch: the user that became root through sudo, else the user the module runs as."""
    return os.environ.get("SUDO_USER") or getpass.getuser()
