# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private: sparse checkout in cone mode - the folders a work tree holds, as asked, as found, and as git sets them.

Cone mode only: a list of folders, each held whole, with the files directly in the root and in each folder on the
way to one (git-sparse-checkout(1)). No patterns: cone mode is what git recommends, what it reads fastest, and a
folder name can be checked here for what it must not be (outside the tree, in ``.git``, a pattern).

The folders found are read from the git directory's own files - the config's ``core.sparseCheckout`` and
``core.sparseCheckoutCone`` with the rest of the config, ``info/sparse-checkout`` here - so that a no-op costs no
git process more. A file in a form git's cone mode does not write (patterns, escapes) is a sparse checkout this
collection did not make: reported, and replaced by the next sync.
"""

from __future__ import annotations

import os
import posixpath
import typing as t
from dataclasses import dataclass

from ansible_collections.fleetops.gitops.plugins.module_utils._errors import InvalidOption
from ansible_collections.fleetops.gitops.plugins.module_utils._files import UnsafePath, open_child, open_folder, read_bytes
from ansible_collections.fleetops.gitops.plugins.module_utils._git import GitRunner

_PATTERN_CHARACTERS = frozenset("*?[]\\!#")  # a pattern's, or an escape's: cone mode takes folder names only


@dataclass(frozen=True)
class Sparse:
    """A work tree's sparse checkout as found: ``folders`` (cone mode), None for the whole tree; ``foreign`` for
    patterns this collection does not write (non-cone mode, or a file it cannot read as cone mode's)."""

    folders: tuple[str, ...] | None = None
    foreign: bool = False

    @property
    def enabled(self) -> bool:
        return self.foreign or self.folders is not None

    def describe(self) -> str:
        if self.foreign:
            return "sparse patterns that are not cone mode's folders"
        if self.folders is None:
            return "the whole tree"
        return f"the folders {', '.join(self.folders)}"


def cone_folders(option: str, value: t.Iterable[str] | None) -> tuple[str, ...] | None:
    """The folders of a ``sparse`` option, checked and in the one form git keeps them: sorted, without a trailing
    slash, and none inside another (git drops those, and a list that kept them would differ at every run)."""
    if value is None:
        return None
    if isinstance(value, (str, bytes)):
        raise InvalidOption(option, "must be a list of folders, not a single string")
    if not value:
        raise InvalidOption(option, "must name at least one folder; leave it unset for the whole tree")
    folders = set()
    for raw in value:
        name = str(raw).strip("/")
        parts = name.split("/")
        if not name or any(part in ("", ".", "..") for part in parts):
            raise InvalidOption(option, f"'{raw}' is not a folder inside the tree: give a relative path such as 'config' or 'app/static'")
        if any(part.lower() == ".git" for part in parts):
            raise InvalidOption(option, f"'{raw}' names a .git folder, which is never part of a work tree")
        if any(ord(character) < 32 or ord(character) == 127 for character in name) or _PATTERN_CHARACTERS & set(name):
            raise InvalidOption(option, f"'{raw}' is not a plain folder name: cone mode takes folders, not patterns or control characters")
        folders.add(name)
    return tuple(sorted(name for name in folders if not any(name.startswith(other + "/") for other in folders)))


def read_sparse(git_dir: str | None, enabled: bool, cone: bool, owner: int | None = None) -> Sparse:
    """The sparse checkout the config flags (``core.sparseCheckout``, ``core.sparseCheckoutCone``) and
    ``info/sparse-checkout`` describe; read by descriptor, a link or a file of another owner refused."""
    if git_dir is None or not enabled:
        return Sparse()
    if not cone:
        return Sparse(foreign=True)
    try:
        folder = open_folder(git_dir)
        try:
            info = open_child(folder, "info", owner=owner)
        finally:
            os.close(folder)
        try:
            data = read_bytes(info, "sparse-checkout", owner=owner)
        finally:
            os.close(info)
    except (UnsafePath, OSError):
        data = None
    return _parse_cone(data.decode("utf-8", "replace")) if data is not None else Sparse(foreign=True)


def _parse_cone(text: str) -> Sparse:
    """Cone mode's file: ``/*`` and ``!/*/`` first, then for each folder ``/F/``, and ``!/F/*/`` after a folder that
    is held only for the files directly in it (a parent of a held folder)."""
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    if lines[:2] != ["/*", "!/*/"]:
        return Sparse(foreign=True)
    shown, parents = [], set()
    for line in lines[2:]:
        if line.startswith("!/") and line.endswith("/*/"):
            parents.add(line[2:-3])
        elif line.startswith("/") and line.endswith("/") and len(line) > 2:
            shown.append(line[1:-1])
        else:
            return Sparse(foreign=True)
    folders = [name for name in shown if name not in parents]
    if parents - set(shown) or any(_PATTERN_CHARACTERS & set(name) for name in shown):
        return Sparse(foreign=True)
    return Sparse(tuple(sorted(folders)))


def sparse_findings(found: Sparse, wanted: tuple[str, ...] | None) -> list[str]:
    """The drift line of a work tree that holds other folders than ``sparse`` asks for (None: the whole tree)."""
    if not found.foreign and found.folders == wanted:
        return []
    return [f"sparse checkout holds {found.describe()}, expected {Sparse(wanted).describe()}"]


def set_sparse(git: GitRunner, path: str, wanted: tuple[str, ...] | None) -> None:
    """Make the work tree at ``path`` hold ``wanted`` (None: the whole tree again). Run on a clean tree: files
    leaving the cone are removed and those entering it written, from the index."""
    if wanted is None:
        git.run(["-C", path, "sparse-checkout", "disable"], summary=f"cannot turn off the sparse checkout of {path}")
    else:
        git.run(["-C", path, "sparse-checkout", "set", "--cone", "--", *wanted], summary=f"cannot set the sparse checkout of {path}")


def in_cone(name: str, folders: tuple[str, ...]) -> bool:
    """Whether the file ``name`` is in the work tree of a cone of ``folders``: in the root folder, in a folder on the
    way to one of them, or inside one of them."""
    parent = posixpath.dirname(name)
    return not parent or any(folder == parent or parent.startswith(folder + "/") or folder.startswith(parent + "/") for folder in folders)


def cone_pathspecs(folders: tuple[str, ...]) -> list[str]:
    """Pathspecs that match exactly the files a cone holds: each folder whole, and the files directly in the root and
    in each folder on the way to one (``glob`` magic: ``*`` does not cross a ``/``)."""
    specs = {":(glob)*"}
    for name in folders:
        specs.add(f":(glob){name}/**")
        parent = posixpath.dirname(name)
        while parent:
            specs.add(f":(glob){parent}/*")
            parent = posixpath.dirname(parent)
    return sorted(specs)
