# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private: which process made something, told unambiguously, and which processes use a folder.

Folders and files a run leaves behind are named after the process that made them: its PID and its start time
(``/proc/PID/stat``, in clock ticks since boot). A PID alone is reused; a PID with its start time names one
process for as long as the host runs, so "is the run that made this still alive?" has one answer.
"""

from __future__ import annotations

import errno
import os
import re

_TAG = re.compile(r"^(\d+)\.(\d+)$")


def start_time(pid: int) -> int | None:
    """When process ``pid`` started (clock ticks since boot), or None when there is no such process or no /proc."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()  # the command name in (...) may hold spaces
    except (OSError, IndexError):
        return None
    return int(fields[19])  # field 22 of stat(5); fields[0] is field 3


def this_process() -> str:
    """The tag of this process, for names of what it makes: ``PID.START``."""
    pid = os.getpid()
    return f"{pid}.{start_time(pid) or 0}"


def tag_alive(tag: str) -> bool | None:
    """Whether the process a tag names still runs; None when ``tag`` is not a tag (then it is not ours to judge)."""
    match = _TAG.match(tag)
    if match is None:
        return None
    pid, started = int(match.group(1)), int(match.group(2))
    if not _pid_exists(pid):
        return False
    current = start_time(pid)
    return current is None or started == 0 or current == started  # without /proc, a live PID must be taken as in use


def describe(pid: int) -> str:
    """``process 1234 (git fetch ...)``, for messages that say who holds something."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            words = handle.read().decode("utf-8", errors="replace").split("\0")  # argv, each word NUL-terminated
        command = " ".join(" ".join(words).split())  # one line, whatever argv holds
    except OSError:
        command = ""
    return f"process {pid} ({command[:120]})" if command else f"process {pid}"


def processes_using(roots: tuple[str, ...]) -> list[int]:
    """PIDs (other than ours) whose working folder is under ``roots`` or that hold a file there open (Linux /proc)."""
    users = []
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            links = [os.readlink(f"/proc/{entry}/cwd")]
            links += [os.readlink(f"/proc/{entry}/fd/{fd}") for fd in os.listdir(f"/proc/{entry}/fd")]
        except OSError:
            continue
        if any(link == root or link.startswith(root + os.sep) for link in links for root in roots):
            users.append(int(entry))
    return users


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError as error:
        return error.errno == errno.EPERM
    return True
