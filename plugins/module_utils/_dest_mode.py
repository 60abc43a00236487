# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private: the ``mode`` option - the permissions of the checkout's top folder, as found and as set."""

from __future__ import annotations

import os
import stat

from ansible_collections.fleetops.gitops.plugins.module_utils._files import open_folder


def mode_findings(dest: str, mode: int | None) -> list[str]:
    """The drift line of a top folder whose permissions are not ``mode`` (nothing when ``mode`` is unset)."""
    if mode is None:
        return []
    current = stat.S_IMODE(os.stat(dest).st_mode)
    return [] if current == mode else [f"mode of {dest} is {current:04o}, expected {mode:04o}"]


def apply_mode(path: str, mode: int | None) -> None:
    """chmod through the folder's descriptor, reached without following any link another user could change."""
    if mode is None:
        return
    fd = open_folder(path, readable=True)
    try:
        if stat.S_IMODE(os.fstat(fd).st_mode) != mode:
            os.fchmod(fd, mode)
    finally:
        os.close(fd)
