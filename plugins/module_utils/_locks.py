# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private: exclusive locks (flock) in folders only we can write: one run per checkout, one resolver per play.

flock locks vanish with their process, so a killed run never leaves one held. A lock file is opened with
``O_NOFOLLOW`` under a folder descriptor, in a folder that is ours alone (mode 0700, our owner, checked each
time): nobody can make us open something else, or hold our lock. The holder writes its PID into the file, so
one who waits in vain can say who holds it.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import stat
import tempfile
import time

from ansible_collections.fleetops.gitops.plugins.module_utils._errors import DestinationError
from ansible_collections.fleetops.gitops.plugins.module_utils._files import UnsafePath, private_folder
from ansible_collections.fleetops.gitops.plugins.module_utils._processes import describe, this_process

DEFAULT_LOCK_TIMEOUT = 60.0
_POLL = 0.05


class LockTimeout(DestinationError):
    """Another process held the lock for longer than we were told to wait."""


class FileLock:
    """An exclusive flock on ``name`` in the folder ``folder`` (a descriptor the caller keeps open)."""

    def __init__(self, folder: int, name: str, *, timeout: float, what: str, option: str = "lock_timeout") -> None:
        self.folder = folder
        self.name = name
        self.timeout = timeout
        self.what = what
        self.option = option
        self._fd: int | None = None

    def __enter__(self) -> FileLock:
        fd = os.open(self.name, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=self.folder)
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid():
                raise UnsafePath(self.option, f"the lock file {self.name} for {self.what} is not a file of ours")
            self._wait(fd)
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{this_process()}\n".encode(), 0)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing releases the flock
            self._fd = None

    def _wait(self, fd: int) -> None:
        end = time.monotonic() + self.timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except OSError as error:
                if error.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
            if time.monotonic() >= end:
                raise LockTimeout(
                    self.option, f"another run is working on {self.what}: {_holder(fd)} holds its lock; waited {self.timeout:g}s for it ({self.option})"
                )
            time.sleep(_POLL)


class CheckoutLock(FileLock):
    """One run per checkout path at a time, the lock kept outside the checkout (so a no-op writes nothing in it)."""

    def __init__(self, dest: str, timeout: float = DEFAULT_LOCK_TIMEOUT) -> None:
        digest = hashlib.sha256(os.path.realpath(dest).encode()).hexdigest()[:40]
        super().__init__(-1, f"{digest}.lock", timeout=timeout, what=dest)

    def __enter__(self) -> CheckoutLock:
        self.folder = lock_folder()
        try:
            super().__enter__()
        finally:
            os.close(self.folder)
        return self


def lock_folder() -> int:
    """A descriptor of this user's lock folder: one only we can write, so nobody can plant or hold our locks.

    Root's is /run/fleetops-gitops (only root can make entries in /run); another user's is under
    XDG_RUNTIME_DIR, else /run/lock or the temp folder, where a name taken first by someone else is refused.
    """
    euid = os.geteuid()
    candidates = ["/run/fleetops-gitops"] if euid == 0 else []
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if euid != 0 and runtime and os.path.isabs(runtime):
        candidates.append(os.path.join(runtime, "fleetops-gitops"))
    candidates += [f"/run/lock/fleetops-gitops-{euid}", os.path.join(tempfile.gettempdir(), f"fleetops-gitops-{euid}")]
    for path in candidates:
        if not os.access(os.path.dirname(path), os.W_OK | os.X_OK):
            continue
        try:
            return private_folder(path, option="dest")  # UnsafePath when someone else took the name: refused
        except OSError:
            continue
    raise DestinationError("dest", "no folder to keep checkout locks in (/run, /run/lock and the temp folder are not writable)")


def _holder(fd: int) -> str:
    """Who holds the lock, from what the holder wrote into the file."""
    try:
        tag = os.pread(fd, 64, 0).decode("ascii", errors="replace").strip()
    except OSError:
        tag = ""
    pid = tag.split(".", 1)[0]
    return describe(int(pid)) if pid.isdigit() else "another process"
