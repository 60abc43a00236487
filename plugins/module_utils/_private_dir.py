# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private: a run's own temporary folder, for the files git needs (askpass, keys, scratch repositories).

Made 0700 under the temp folder and named after the process that made it (PID and start time), so that the
folders of killed runs are told apart from those in use, and from anything else there. When git runs as
another user, the folder is handed to that user through its descriptor; from then on root writes into it only
files it creates with ``O_EXCL`` under the folder's descriptor (the user owns the folder and could otherwise
put a link where root writes), and only removes it, never following a link.
"""

from __future__ import annotations

import os
import re
import secrets
import stat
import tempfile
import threading

from ansible_collections.fleetops.gitops.plugins.module_utils._files import create_file, make_folder, open_folder, remove_tree, stat_entry
from ansible_collections.fleetops.gitops.plugins.module_utils._processes import tag_alive, this_process

PRIVATE_PREFIX = "fleetops-gitops-run-"
_NAME = re.compile(r"^" + re.escape(PRIVATE_PREFIX) + r"(\d+\.\d+)-[0-9a-f]+$")
_swept = threading.Event()


class PrivateDir:
    """A new private folder; ``owner`` (uid, gid) is who may use it besides root. Remove it with ``remove()``."""

    def __init__(self, owner: tuple[int, int] | None = None) -> None:
        base = os.path.realpath(tempfile.gettempdir())
        self._base = open_folder(base, option="dest")
        try:
            sweep_once(self._base)
            name = f"{PRIVATE_PREFIX}{this_process()}-{secrets.token_hex(4)}"
            self._fd = make_folder(self._base, name, mode=0o700, owner=owner)
        except BaseException:
            os.close(self._base)
            raise
        self.name = name
        self.path = os.path.join(base, name)
        self.owner = owner

    def __enter__(self) -> PrivateDir:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.remove()

    def write(self, name: str, content: str, mode: int = 0o600) -> str:
        """A new file in the folder, belonging to ``owner``; its path."""
        return self.write_bytes(name, content.encode(), mode)

    def write_bytes(self, name: str, content: bytes, mode: int = 0o600) -> str:
        """A new file in the folder, belonging to ``owner``, holding ``content`` as it is; its path."""
        create_file(self._fd, name, content, mode=mode, owner=self.owner)
        return os.path.join(self.path, name)

    def folder(self, name: str) -> str:
        """A new sub-folder (0700), belonging to ``owner``; its path."""
        os.close(make_folder(self._fd, name, mode=0o700, owner=self.owner))
        return os.path.join(self.path, name)

    def remove(self) -> None:
        if self._fd < 0:
            return
        os.close(self._fd)
        self._fd = -1
        try:
            remove_tree(self._base, self.name)
        finally:
            os.close(self._base)


def sweep_once(base: int) -> None:
    """Once per process: remove the private folders of runs that were killed before they could (their process is gone)."""
    if _swept.is_set():
        return
    _swept.set()
    sweep(base)


def sweep(base: int) -> list[str]:
    """Remove, from the temp folder ``base``, the private folders whose making process is gone; their names."""
    removed = []
    try:
        names = _list(base)
    except OSError:
        return removed
    for name in names:
        match = _NAME.match(name)
        if match is None or tag_alive(match.group(1)) is not False:
            continue  # not one of ours, or its run is still going
        info = stat_entry(base, name)
        if info is None or not stat.S_ISDIR(info.st_mode):
            continue
        try:
            remove_tree(base, name)
        except OSError:
            continue  # another user's, in a sticky folder: not ours to remove
        removed.append(name)
    return removed


def _list(base: int) -> list[str]:
    fd = os.open(".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=base)
    try:
        return os.listdir(fd)
    finally:
        os.close(fd)
