# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private: one run per checkout at a time, and the repair of what a killed git run left behind."""

from __future__ import annotations

import errno
import fcntl
import glob
import hashlib
import os
import shutil
import tempfile
import time
import typing as t

from ansible_collections.fleetops.gitops.plugins.module_utils._errors import DestinationError

DEFAULT_LOCK_TIMEOUT = 60.0
# Lock files git leaves when it dies mid-operation, and the temporary packs of a fetch cut short.
_GIT_LOCKS = ("index.lock", "HEAD.lock", "ORIG_HEAD.lock", "FETCH_HEAD.lock", "config.lock", "packed-refs.lock",
              "shallow.lock", "refs/**/*.lock")
_TEMP_PACKS = ("objects/pack/tmp_*", "objects/pack/.tmp-*", "objects/tmp_objdir-*", "objects/incoming-*")
_CLONE_LEFTOVER = ".{name}.gitops-clone-"


class CheckoutLock:
    """An exclusive lock per checkout path, outside the checkout (so a no-op still writes nothing in it).

    A second run on the same checkout waits up to ``timeout`` seconds, then fails
    with a clear message; flock locks vanish with their process, so a killed run
    never leaves one behind.
    """

    def __init__(self, dest: str, timeout: float = DEFAULT_LOCK_TIMEOUT) -> None:
        self.dest = dest
        self.timeout = timeout
        digest = hashlib.sha256(os.path.realpath(dest).encode()).hexdigest()[:40]
        self.path = os.path.join(_lock_dir(), f"{digest}.lock")
        self._handle: t.IO[str] | None = None

    def __enter__(self) -> CheckoutLock:
        handle = open(self.path, "a", encoding="utf-8")  # pylint: disable=consider-using-with  # held until __exit__
        end = time.monotonic() + self.timeout
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as error:
                if error.errno not in (errno.EAGAIN, errno.EACCES) or time.monotonic() >= end:
                    handle.close()
                    if error.errno in (errno.EAGAIN, errno.EACCES):
                        raise DestinationError(
                            "dest", f"another run is working on {self.dest}; waited {self.timeout:g}s for it (lock_timeout)"
                        ) from None
                    raise
                time.sleep(0.05)
        self._handle = handle
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def _lock_dir() -> str:
    """/run/lock when we may write there (tmpfs, never swept while running), else the temp folder."""
    for base in ("/run/lock", tempfile.gettempdir()):
        path = os.path.join(base, f"fleetops-gitops-{os.geteuid()}")
        try:
            os.makedirs(path, mode=0o700, exist_ok=True)
        except OSError:
            continue
        if os.access(path, os.W_OK):
            return path
    raise DestinationError("dest", "no folder to keep checkout locks in (/run/lock and the temp folder are not writable)")


def leftovers(dest: str, git_dir: str | None) -> list[str]:
    """What a killed run left: git's lock files, temporary packs, and unfinished clones next to ``dest``."""
    found = []
    if git_dir is not None:
        for pattern in _GIT_LOCKS + _TEMP_PACKS:
            found += glob.glob(os.path.join(git_dir, pattern), recursive=True)
    parent, name = os.path.split(os.path.realpath(dest))
    prefix = _CLONE_LEFTOVER.format(name=name)
    try:
        found += [os.path.join(parent, entry) for entry in os.listdir(parent)
                  if entry.startswith(prefix) and not pid_alive(entry[len(prefix):].split("-", 1)[0])]
    except OSError:
        pass
    return sorted(found)


def remove_leftovers(dest: str, git_dir: str | None, paths: t.Sequence[str]) -> None:
    """Remove ``paths`` - only while we hold the checkout's lock, and only when no process is using the checkout."""
    users = _processes_using(os.path.realpath(dest), os.path.realpath(git_dir) if git_dir else None)
    if users:
        raise DestinationError(
            "dest", f"{dest} has lock files of an unfinished git run ({', '.join(os.path.basename(p) for p in paths)}), "
                    f"and processes {', '.join(map(str, users))} are still using it; nothing was removed. Try again when they are done."
        )
    for path in paths:
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass


def _processes_using(dest: str, git_dir: str | None) -> list[int]:
    """PIDs (other than ours) whose working folder is in the checkout or that hold a file of it open (Linux /proc)."""
    roots = tuple(p for p in (dest, git_dir) if p)
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


def pid_alive(pid: str) -> bool:
    """Whether a process of this host has this PID (a clone or temp folder named after it is still in use)."""
    if not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except OSError as error:
        return error.errno == errno.EPERM
    return True
