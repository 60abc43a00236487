# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private: git dies with the module, even when the module is killed with SIGKILL.

Each git runs in a process group of its own (so that a deadline can stop it and its ssh or remote helper at
once), which also means nothing stops it when the module dies without the chance to. One small watcher process
per module process holds the read end of a pipe whose write end only the module holds: the module tells it each
git's process group as it starts and ends, and when the pipe closes (the module exited, or was killed) the
watcher stops every group still listed - SIGTERM, so git removes its lock files, then SIGKILL. A group is
stopped only while its leader is the process that was announced (same PID and start time), or while the
group still has members and so its number cannot have been reused. The next run repairs what is left.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading

from ansible_collections.fleetops.gitops.plugins.module_utils._processes import start_time

_WATCHER = r"""
import os, signal, sys, time

def started(pid):
    try:
        with open("/proc/%d/stat" % pid, "rb") as handle:
            return int(handle.read().rsplit(b")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None

def signal_group(pgid, start, sig):
    now = started(pgid)
    if now is not None and now != start:
        return False  # that number is another process's now: its group is not ours
    try:
        os.killpg(pgid, sig)
    except OSError:
        return False
    return True

groups = {}
stdin = sys.stdin.buffer
while True:
    line = stdin.readline()
    if not line:
        break
    op, pgid, start = line.split()
    if op == b"+":
        groups[int(pgid)] = int(start)
    else:
        groups.pop(int(pgid), None)
alive = [pgid for pgid, start in groups.items() if signal_group(pgid, start, signal.SIGTERM)]
end = time.monotonic() + 2
while alive and time.monotonic() < end:
    time.sleep(0.05)
    alive = [pgid for pgid in alive if signal_group(pgid, groups[pgid], 0)]
for pgid in alive:
    signal_group(pgid, groups[pgid], signal.SIGKILL)
"""


class Watchdog:
    """The watcher of this process's git groups; started on first use, one per process."""

    _lock = threading.Lock()
    _instance: Watchdog | None = None
    _owner_pid = -1

    def __init__(self) -> None:
        read, write = os.pipe()
        try:
            # Not run_command: the watcher outlives this call and must not be waited for (see _git's runner).
            self._process = subprocess.Popen(  # noqa: S603 - our own interpreter and script  # pylint: disable=ansible-bad-function
                [sys.executable, "-I", "-S", "-c", _WATCHER],
                stdin=read,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                cwd="/",
                start_new_session=True,  # not in the group a killer may signal
            )
        except BaseException:
            os.close(write)
            raise
        finally:
            os.close(read)
        os.set_inheritable(write, False)  # only this process holds it: git must not keep the pipe open
        self._write = write
        self._write_lock = threading.Lock()

    @classmethod
    def get(cls) -> Watchdog:
        with cls._lock:
            if cls._instance is None or cls._owner_pid != os.getpid():  # a forked child needs its own
                cls._instance = cls()
                cls._owner_pid = os.getpid()
            return cls._instance

    def watch(self, pid: int) -> None:
        """``pid`` leads a new process group: stop it if this process dies before ``release(pid)``."""
        self._send(f"+ {pid} {start_time(pid) or 0}\n")

    def release(self, pid: int) -> None:
        """Called once the group's leader has exited and been waited for."""
        self._send(f"- {pid} 0\n")

    def _send(self, line: str) -> None:
        with self._write_lock:
            os.write(self._write, line.encode())
