# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private: where a clone is made - a new folder beside ``dest``, renamed into place when complete.

An interrupted clone never looks like a checkout, and the rename is atomic because the folder is on the same
filesystem. The folder that holds ``dest`` may belong to the checkout's owner, so every step there goes through
its descriptor: missing parents are made with ``mkdirat`` and handed over with ``fchown``, the clone folder is
made the same way, and the final rename and any clean-up are ``renameat`` and a removal that never follows a
link. git itself runs as the owner and writes only what the owner could write anyway.
"""

from __future__ import annotations

import os
import re
import secrets
import stat
import typing as t

from ansible_collections.fleetops.gitops.plugins.module_utils._errors import DestinationError
from ansible_collections.fleetops.gitops.plugins.module_utils._files import make_folder, open_folder, remove_tree, stat_entry
from ansible_collections.fleetops.gitops.plugins.module_utils._git import GitRunner
from ansible_collections.fleetops.gitops.plugins.module_utils._processes import this_process
from ansible_collections.fleetops.gitops.plugins.module_utils._program_keys import LOCAL_UPLOAD_PACK
from ansible_collections.fleetops.gitops.plugins.module_utils._refs import BRANCH, Target
from ansible_collections.fleetops.gitops.plugins.module_utils._repair import clone_prefix
from ansible_collections.fleetops.gitops.plugins.module_utils._url import is_local


def clone_beside(dest: str, owner: tuple[int, int] | None, make: t.Callable[[str], None]) -> None:
    """Run ``make(folder)`` to build the checkout in a new folder beside ``dest``, then rename it to ``dest``.

    ``dest`` is a resolved path (no link in it but root's own). A mount point at ``dest`` is cloned into directly:
    it cannot be renamed over.
    """
    parent, name = os.path.split(dest)
    folder = open_folder(parent, create=True, owner=owner)
    try:
        info = stat_entry(folder, name)
        if info is not None and stat.S_ISDIR(info.st_mode) and os.path.ismount(dest):
            make(dest)
            return
        work = f"{clone_prefix(dest)}{this_process()}-{secrets.token_hex(4)}"
        os.close(make_folder(folder, work, mode=None, owner=owner))
        try:
            make(os.path.join(parent, work))
            os.rename(work, name, src_dir_fd=folder, dst_dir_fd=folder)
        except BaseException:
            remove_tree(folder, work)
            raise
    finally:
        os.close(folder)


def clone_command(url: str, remote: str, target: Target, *, depth: int | None, partial: str | None, bare: bool = False) -> list[str]:
    """``git clone`` of ``url`` as both layouts make it: without a checkout (the commit is fetched and verified first),
    on the target's branch, as deep and as filtered as asked, a local upload-pack started as we say."""
    args = ["clone", "--quiet", "--bare" if bare else "--no-checkout", "--origin", remote]
    if depth:
        args += ["--depth", str(depth)]
    if partial:
        args.append(f"--filter={partial}")
    if target.kind == BRANCH:  # a tag or commit is fetched after (git clone --branch takes a tag of a blob badly)
        args += ["--branch", target.name or ""]
    if is_local(url):
        args += ["--upload-pack", LOCAL_UPLOAD_PACK]  # a local upload-pack reads the config files, never our -c
    return [*args, "--", url]


def refuse_configured_remote(git: GitRunner, remote: str) -> None:
    """A clone reads ``remote.<remote>.*`` from the host's config files (system and global), and there the first
    ``uploadpack`` or ``url`` wins over any given on the command line: such a section is refused, not used."""
    found = git.run(["config", "--name-only", "--get-regexp", "--", f"^remote\\.{re.escape(remote)}\\."], ok=(0, 1)).stdout.split()
    if found:
        raise DestinationError(
            "remote",
            f"the git configuration of this host sets {', '.join(sorted(set(found)))}; a clone "
            f"would use it, so nothing was cloned. Remove it from the system or global git config "
            f"(git config --show-origin --get-regexp '^remote\\.{remote}\\.')",
        )
