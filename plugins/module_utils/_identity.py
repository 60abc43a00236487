# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private: the user git runs as, so a checkout and everything git writes in it belong to its owner."""

from __future__ import annotations

import grp
import os
import pwd
import sys
import typing as t
from dataclasses import dataclass

from ansible_collections.fleetops.gitops.plugins.module_utils._errors import InvalidOption


@dataclass(frozen=True)
class RunAs:
    """A user (and group) other than the current one; git runs as them with their HOME."""

    name: str
    uid: int
    gid: int
    home: str
    groups: tuple[int, ...]

    def popen_options(self) -> dict[str, t.Any]:
        """Options for subprocess.Popen that drop to this user in the child."""
        if threads_can_run_as():
            return {"user": self.uid, "group": self.gid, "extra_groups": list(self.groups)}
        return {"preexec_fn": self._drop}  # Python 3.8: the batch runs such checkouts one at a time, in one thread

    def _drop(self) -> None:
        os.setgroups(list(self.groups))
        os.setgid(self.gid)
        os.setuid(self.uid)

    def environment(self) -> dict[str, str]:
        return {"HOME": self.home, "USER": self.name, "LOGNAME": self.name}

    @property
    def ids(self) -> tuple[int, int]:
        """(uid, gid), for the ``fchown`` of what we create for this user."""
        return self.uid, self.gid


def threads_can_run_as() -> bool:
    """Whether git may be started as another user from a thread: Popen's ``user``/``group`` (Python 3.9+) can, a
    ``preexec_fn`` (3.8) must not run while other threads may hold locks the child then inherits."""
    return sys.version_info >= (3, 9)


def resolve_run_as(owner: str | None, group: str | None) -> RunAs | None:
    """The RunAs for ``owner``/``group``, or None when git can run as the current user."""
    if owner is None and group is None:
        return None
    try:
        user = pwd.getpwnam(owner) if owner is not None else pwd.getpwuid(os.geteuid())
    except KeyError:
        raise InvalidOption("owner", f"there is no user '{owner}' on this host") from None
    try:
        gid = grp.getgrnam(group).gr_gid if group is not None else user.pw_gid
    except KeyError:
        raise InvalidOption("group", f"there is no group '{group}' on this host") from None
    if user.pw_uid == os.geteuid() and gid == os.getegid():
        return None
    if os.geteuid() != 0:
        raise InvalidOption("owner", f"git can run as '{user.pw_name}' only when the module runs as root (use become)")
    groups = tuple(sorted({g.gr_gid for g in grp.getgrall() if user.pw_name in g.gr_mem} | {gid}))
    return RunAs(user.pw_name, user.pw_uid, gid, user.pw_dir, groups)
