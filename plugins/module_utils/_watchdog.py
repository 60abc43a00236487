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

A group can only be announced once ``Popen`` has returned its PID, so a module killed in between would leave that
git unlisted. The module therefore says first that a git is starting, and every git carries this watcher's mark
in its environment (``MARK_VARIABLE``): when the pipe closes while a start was pending, the watcher also stops,
for two seconds, every process that carries the mark, from the moment its git is exec'd.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import threading

from ansible_collections.fleetops.gitops.plugins.module_utils._processes import start_time

MARK_VARIABLE = "FLEETOPS_GITOPS_WATCHED"  # its value, in every git's environment, is the watcher's mark

_WATCHER = r"""
import os, signal, sys, time

mark = b"\0" + sys.argv[1].encode() + b"\0"  # b"\0FLEETOPS_GITOPS_WATCHED=<token>\0"

def carriers():
    found = set()
    try:
        names = os.listdir("/proc")
    except OSError:
        return found
    for name in names:
        if name.isdigit():
            try:
                with open("/proc/%s/environ" % name, "rb") as handle:
                    if mark in b"\0" + handle.read():
                        found.add(int(name))
            except OSError:
                continue
    return found

def signal_each(pids, sig):
    for pid in pids:
        try:
            os.kill(pid, sig)
        except OSError:
            pass

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
pending = 0  # gits being started, whose group is not announced yet
stdin = sys.stdin.buffer
while True:
    line = stdin.readline()
    if not line:
        break
    op, pgid, start = line.split()
    if op == b"?":
        pending += 1
    elif op == b"!":
        pending -= 1
    elif op == b"+":
        pending -= 1
        groups[int(pgid)] = int(start)
    else:
        groups.pop(int(pgid), None)
alive = [pgid for pgid, start in groups.items() if signal_group(pgid, start, signal.SIGTERM)]
strays = set()
end = time.monotonic() + 2
while (alive or pending) and time.monotonic() < end:
    if pending:  # the unannounced git, once exec'd, and what it started
        found = carriers() - strays
        signal_each(found, signal.SIGTERM)
        strays |= found
    time.sleep(0.05)
    alive = [pgid for pgid in alive if signal_group(pgid, groups[pgid], 0)]
for pgid in alive:
    signal_group(pgid, groups[pgid], signal.SIGKILL)
if pending:
    signal_each(carriers(), signal.SIGKILL)
"""


class Watchdog:
    """The watcher of this process's git groups; started on first use, one per process."""

    _lock = threading.Lock()
    _instance: Watchdog | None = None
    _owner_pid = -1

    def __init__(self) -> None:
        self.mark = secrets.token_hex(16)
        read, write = os.pipe()
        try:
            # Not run_command: the watcher outlives this call and must not be waited for (see _git's runner).
            self._process = subprocess.Popen(  # noqa: S603 - our own interpreter and script  # pylint: disable=ansible-bad-function
                [sys.executable, "-I", "-S", "-c", _WATCHER, f"{MARK_VARIABLE}={self.mark}"],
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

    def starting(self) -> None:
        """A git is about to start, with ``MARK_VARIABLE`` set to ``mark``; ``watch`` or ``not_started`` follows."""
        self._send("? 0 0\n")

    def not_started(self) -> None:
        """The git announced by ``starting`` could not be started."""
        self._send("! 0 0\n")

    def watch(self, pid: int) -> None:
        """``pid`` (announced by ``starting``) leads a new process group: stop it if this process dies before
        ``release(pid)``."""
        self._send(f"+ {pid} {start_time(pid) or 0}\n")

    def release(self, pid: int) -> None:
        """Called once the group's leader has exited and been waited for."""
        self._send(f"- {pid} 0\n")

    def _send(self, line: str) -> None:
        with self._write_lock:
            os.write(self._write, line.encode())
