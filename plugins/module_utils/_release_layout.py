# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private: the release layout on disk - where each part lives, what is there, and the atomic switch of ``dest``.

Beside ``releases_dir`` (default: a ``releases`` folder beside ``dest``) live ``repo``, the one bare repository
every release is a git worktree of (so objects are never copied per release), and ``shared``, what
``shared_paths`` link to. ``dest`` is a symbolic link to the current release, replaced by ``rename()`` of a new
link over it: a reader resolves the old release or the new one, never a mix. The folders may belong to the
checkout's owner, so every change here goes through folder descriptors (see ``_files``), never a path that the
owner could turn into a link between two system calls.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import stat
import typing as t
from dataclasses import dataclass

from ansible_collections.fleetops.gitops.plugins.module_utils._errors import DestinationError
from ansible_collections.fleetops.gitops.plugins.module_utils._files import (
    UnsafePath,
    fsync_folder,
    make_folder,
    open_folder,
    open_parent,
    read_bytes,
    remove_quietly,
    resolve,
    stat_entry,
    write_atomic,
)
from ansible_collections.fleetops.gitops.plugins.module_utils._state_file import STATE_FILE, Record, format_time, last_synced_at

LAYOUT_FILE = "fleetops-gitops-layout.json"  # in the shared repository: the dest it serves
RELEASE_NAME = re.compile(r"\d{8}T\d{6}\.\d{6}Z-[0-9a-f]{12}")
_EXCLUDE_HEADER = "# fleetops.gitops: shared_paths, links into the shared folder, are no local change\n"
_GLOB = re.compile(r"[\\*?\[\]!# ]")


@dataclass(frozen=True)
class Release:
    """One kept release: its folder's name and path, the commit it holds and when it was made."""

    name: str
    path: str
    revision: str
    created_at: str | None

    def to_dict(self, current: str | None) -> dict[str, t.Any]:
        return {"path": self.path, "revision": self.revision, "created_at": self.created_at, "current": self.name == current}


@dataclass(frozen=True)
class Layout:
    """Where the parts of one ``dest``'s release layout are (absolute paths, links of root's own resolved)."""

    dest: str
    releases: str
    repo: str
    shared: str

    @classmethod
    def of(cls, dest: str, releases_dir: str | None) -> Layout:
        parent = resolve(os.path.dirname(dest))
        releases = resolve(releases_dir, option="releases_dir") if releases_dir else os.path.join(parent, "releases")
        base = os.path.dirname(releases)
        layout = cls(os.path.join(parent, os.path.basename(dest)), releases, os.path.join(base, "repo"), os.path.join(base, "shared"))
        if layout.dest in (layout.releases, layout.repo, layout.shared) or os.path.dirname(layout.dest) == layout.releases:
            raise DestinationError(
                "dest", f"{dest} is a part of its own release layout ({layout.releases}, {layout.repo}, {layout.shared}); name the link otherwise"
            )
        return layout

    def release_path(self, name: str) -> str:
        return os.path.join(self.releases, name)

    def worktree_dir(self, name: str) -> str:
        """The release's git directory: the worktree's entry in the shared repository."""
        return os.path.join(self.repo, "worktrees", name)


def current_release(layout: Layout) -> str | None:
    """The name of the release ``dest`` links to; None when ``dest`` is absent. Anything else there is refused."""
    if not os.path.lexists(os.path.dirname(layout.dest)):
        return None
    folder, name = open_parent(layout.dest)
    try:
        info = stat_entry(folder, name)
        if info is None:
            return None
        if not stat.S_ISLNK(info.st_mode):
            raise DestinationError(
                "dest",
                f"{layout.dest} is a {'folder' if stat.S_ISDIR(info.st_mode) else 'file'}, not the link of a release layout; it was left "
                "untouched. Move it away, or keep layout: checkout for it",
            )
        target = os.readlink(name, dir_fd=folder)
    finally:
        os.close(folder)
    path = os.path.normpath(os.path.join(os.path.dirname(layout.dest), target))
    if os.path.dirname(path) != layout.releases or not RELEASE_NAME.fullmatch(os.path.basename(path)):
        raise DestinationError("dest", f"{layout.dest} links to {target}, which is not a release in {layout.releases}; it was left untouched")
    return os.path.basename(path)


def claim(layout: Layout, work: str, owner: tuple[int, int] | None) -> None:
    """Write in a new shared repository (``work``, not yet in place) which ``dest`` the layout belongs to."""
    folder = open_folder(work, readable=True)
    try:
        write_atomic(folder, LAYOUT_FILE, (json.dumps({"dest": layout.dest}) + "\n").encode(), owner=owner)
    finally:
        os.close(folder)


def claimed_by(layout: Layout, owner: int) -> str | None:
    """The ``dest`` the shared repository was made for; None when it does not say."""
    try:
        folder = open_folder(layout.repo)
    except (UnsafePath, OSError):
        return None
    try:
        raw = read_bytes(folder, LAYOUT_FILE, owner=owner, option="releases_dir")
    finally:
        os.close(folder)
    try:
        dest = json.loads(raw.decode("utf-8")).get("dest") if raw else None
    except (ValueError, AttributeError):
        return None
    return dest if isinstance(dest, str) else None


def list_releases(layout: Layout, owner: int) -> tuple[list[Release], list[str]]:
    """(the complete releases, oldest first; the names of release folders an interrupted run left without a record).

    A release whose record is there but cannot be read as ``owner``'s is neither: it is left alone.
    """
    try:
        folder = open_folder(layout.releases, option="releases_dir", readable=True)
    except UnsafePath:
        if not os.path.lexists(layout.releases):
            return [], []
        raise
    try:
        names = sorted(name for name in os.listdir(folder) if RELEASE_NAME.fullmatch(name))
    finally:
        os.close(folder)
    releases, incomplete = [], []
    for name in names:
        record = Record.read(layout.worktree_dir(name), owner)
        if record is None:
            if not os.path.lexists(os.path.join(layout.worktree_dir(name), STATE_FILE)):
                incomplete.append(name)
            continue
        when = last_synced_at(layout.worktree_dir(name))
        releases.append(Release(name, layout.release_path(name), record.revision, format_time(when)))
    return releases, incomplete


def switch_link(layout: Layout, release: str, owner: tuple[int, int] | None) -> None:
    """Point ``dest`` at ``release`` in one ``rename()``: a new link beside it, renamed over it, the folder fsynced.

    Missing folders above ``dest`` are made for ``owner``; the link itself is ours.
    """
    parent, name = os.path.split(layout.dest)
    folder = open_folder(parent, create=True, owner=owner)
    temp = f".{name}.fleetops-gitops-{secrets.token_hex(6)}"
    try:
        os.symlink(release, temp, dir_fd=folder)  # fails if anything stands at the random name
        try:
            os.rename(temp, name, src_dir_fd=folder, dst_dir_fd=folder)
        except BaseException:
            remove_quietly(folder, temp)
            raise
        fsync_folder(folder)
    finally:
        os.close(folder)


def link_shared(layout: Layout, release: str, paths: t.Sequence[str], owner: tuple[int, int] | None) -> None:
    """Make each of ``paths`` in ``release`` a link into the shared folder, making the shared entry (an empty folder)
    the first time; what is already in the shared folder is never changed."""
    for path in paths:
        parent, name = os.path.split(path)
        shared = open_folder(os.path.join(layout.shared, parent), option="shared_paths", create=True, owner=owner)
        try:
            if stat_entry(shared, name) is None:
                os.close(make_folder(shared, name, mode=None, owner=owner))
        finally:
            os.close(shared)
        inside = open_folder(os.path.join(release, parent), option="shared_paths", create=True, owner=owner)
        try:
            if stat_entry(inside, name) is not None:
                raise DestinationError("shared_paths", f"{path} exists in the release {release}; a shared path must not be in the repository")
            os.symlink(os.path.join(layout.shared, path), name, dir_fd=inside)
        finally:
            os.close(inside)


def exclude_shared(layout: Layout, paths: t.Sequence[str], owner: tuple[int, int] | None) -> None:
    """List ``paths`` in the shared repository's ``info/exclude`` (read by every worktree), so that their links are no
    untracked files; written only when the list changed."""
    wanted = (_EXCLUDE_HEADER + "".join(f"/{_pattern(path)}\n" for path in sorted(paths))).encode()
    folder = open_folder(os.path.join(layout.repo, "info"), create=True, owner=owner)
    try:
        if read_bytes(folder, "exclude") != wanted:
            write_atomic(folder, "exclude", wanted, owner=owner)
    finally:
        os.close(folder)


def _pattern(path: str) -> str:
    """``path`` as an ignore pattern that matches it alone: every glob character escaped."""
    return _GLOB.sub(lambda found: "\\" + found.group(0), path)
