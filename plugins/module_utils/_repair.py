# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private: what a killed run left behind (git's lock files, temporary packs, unfinished clones), found and removed.

The checkout may belong to another user, who can put links anywhere in it. So the search walks folder
descriptors and never follows a link, and only removes entries that are really inside the git directory,
are of the kind git leaves (files, or its temporary object folders), and belong to the user git runs as.
Unfinished clones beside ``dest`` are told by the tag of the process that made them (PID and start time).
"""

from __future__ import annotations

import os
import stat
import typing as t
from dataclasses import dataclass

from ansible_collections.fleetops.gitops.plugins.module_utils._errors import DestinationError
from ansible_collections.fleetops.gitops.plugins.module_utils._files import UnsafePath, open_child, open_folder, remove_tree, stat_entry
from ansible_collections.fleetops.gitops.plugins.module_utils._processes import processes_using, tag_alive
from ansible_collections.fleetops.gitops.plugins.module_utils._text import strip_prefix

# Lock files git leaves at the top of its directory when it dies mid-operation; refs/ is searched for *.lock too.
_TOP_LOCKS = ("index.lock", "HEAD.lock", "ORIG_HEAD.lock", "FETCH_HEAD.lock", "config.lock", "packed-refs.lock", "shallow.lock")
# (folder, name prefix, folder entries or files): the temporary packs and object folders of a fetch cut short.
_TEMP_OBJECTS = (("objects/pack", "tmp_", False), ("objects/pack", ".tmp-", False), ("objects", "tmp_objdir-", True), ("objects", "incoming-", True))
CLONE_MARK = ".gitops-clone-"


@dataclass(frozen=True)
class Leftover:
    """One thing to remove: ``relative`` to ``base`` (the git directory, or the folder that holds ``dest``)."""

    base: str
    relative: str
    in_git_dir: bool = True

    def __str__(self) -> str:
        return os.path.join(self.base, self.relative)

    @property
    def is_objects(self) -> bool:
        return self.in_git_dir and self.relative.startswith("objects/")


def clone_prefix(dest: str) -> str:
    """Names of unfinished clones of ``dest`` start with this, followed by the tag of the process making it."""
    return f".{os.path.basename(dest)}{CLONE_MARK}"


def find_leftovers(dest: str, git_dir: str | None, owner: int) -> list[Leftover]:
    """What killed runs left: in the git directory (only ``owner``'s entries), and unfinished clones beside ``dest``."""
    found: list[Leftover] = []
    if git_dir is not None:
        try:
            folder = open_folder(git_dir, option="dest", readable=True)
        except (UnsafePath, OSError):
            folder = None
        if folder is not None:
            try:
                found += [Leftover(git_dir, name) for name in _TOP_LOCKS if _owned_file(folder, name, owner)]
                found += [Leftover(git_dir, path) for path in _locks_under(folder, "refs", owner)]
                found += [Leftover(git_dir, path) for path in _temp_objects(folder, owner)]
            finally:
                os.close(folder)
    found += _dead_clones(dest)
    return sorted(found, key=str)


def remove_leftovers(dest: str, git_dir: str | None, leftovers: t.Sequence[Leftover]) -> None:
    """Remove ``leftovers`` - only while we hold the checkout's lock, and only when no process is using the checkout."""
    users = processes_using(tuple(os.path.realpath(p) for p in (dest, git_dir) if p))
    if users:
        names = ", ".join(os.path.basename(item.relative) for item in leftovers)
        raise DestinationError(
            "dest",
            f"{dest} has lock files of an unfinished git run ({names}), and processes "
            f"{', '.join(map(str, users))} are still using it; nothing was removed. Try again when they are done.",
        )
    for item in leftovers:
        folder_path, name = os.path.split(os.path.join(item.base, item.relative))
        try:
            folder = _open_inside(item.base, os.path.dirname(item.relative)) if item.in_git_dir else open_folder(folder_path)
        except (UnsafePath, FileNotFoundError, NotADirectoryError):
            continue  # moved or replaced meanwhile: nothing of ours to remove there
        try:
            remove_tree(folder, name)
        finally:
            os.close(folder)


def _owned_file(folder: int, name: str, owner: int) -> bool:
    info = stat_entry(folder, name)
    return info is not None and stat.S_ISREG(info.st_mode) and info.st_uid == owner


def _locks_under(folder: int, relative: str, owner: int) -> list[str]:
    """``*.lock`` files under ``relative`` (refs/), walking folders without following a link."""
    try:
        child = open_child(folder, relative.rsplit("/", 1)[-1], readable=True)
    except (UnsafePath, OSError):
        return []
    found = []
    try:
        for name in os.listdir(child):
            info = stat_entry(child, name)
            if info is None or info.st_uid != owner:
                continue
            if stat.S_ISDIR(info.st_mode):
                found += _locks_under(child, f"{relative}/{name}", owner)
            elif stat.S_ISREG(info.st_mode) and name.endswith(".lock"):
                found.append(f"{relative}/{name}")
    finally:
        os.close(child)
    return found


def _temp_objects(folder: int, owner: int) -> list[str]:
    found = []
    for where, prefix, folders in _TEMP_OBJECTS:
        is_kind = stat.S_ISDIR if folders else stat.S_ISREG
        try:
            inside = _open_path(folder, where)
        except (UnsafePath, OSError):
            continue
        try:
            for name in os.listdir(inside):
                info = stat_entry(inside, name)
                if name.startswith(prefix) and info is not None and info.st_uid == owner and is_kind(info.st_mode):
                    found.append(f"{where}/{name}")
        finally:
            os.close(inside)
    return found


def _dead_clones(dest: str) -> list[Leftover]:
    """Clone folders beside ``dest`` whose making process is gone."""
    parent = os.path.dirname(os.path.realpath(dest))
    prefix = clone_prefix(os.path.realpath(dest))
    try:
        folder = open_folder(parent, readable=True)
    except (UnsafePath, OSError):
        return []
    try:
        names = [name for name in os.listdir(folder) if name.startswith(prefix)]
        dead = []
        for name in names:
            info = stat_entry(folder, name)
            tag = strip_prefix(name, prefix).rsplit("-", 1)[0]
            if info is not None and stat.S_ISDIR(info.st_mode) and tag_alive(tag) is False:
                dead.append(Leftover(parent, name, in_git_dir=False))
        return dead
    finally:
        os.close(folder)


def _open_path(folder: int, relative: str) -> int:
    """A readable descriptor of ``relative`` under ``folder``, each step refusing a link."""
    current = os.dup(folder)
    try:
        for name in relative.split("/"):
            child = open_child(current, name, readable=True)
            os.close(current)
            current = child
    except BaseException:
        os.close(current)
        raise
    return current


def _open_inside(git_dir: str, relative: str) -> int:
    top = open_folder(git_dir, readable=True)
    if not relative:
        return top
    try:
        return _open_path(top, relative)
    finally:
        os.close(top)
