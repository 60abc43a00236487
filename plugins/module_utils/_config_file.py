# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private: what a checkout's config file says, read straight from it, to spare a git process per checkout.

A no-op run reads every checkout; ``git config`` for the remote's URL and the filter drivers would be a third
of its git processes. The file ``git clone`` writes is plain: sections and ``key = value`` lines. This reader
accepts only that form and answers None for anything else (includes, quoting, escapes, continuations,
comments after a value, per-worktree config, a ``.git`` file), and the caller then asks git, so its answer is
always the one git gives.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

_MAX_SIZE = 64 * 1024
_SECTION = re.compile(r'\[([A-Za-z0-9-]+)(?: +"([^"\\]*)")?\]')  # no space inside the brackets but one before the subsection
_ENTRY = re.compile(r"([A-Za-z][A-Za-z0-9-]*)\s*(?:=\s*(.*))?")
_PLAIN_VALUE = re.compile(r'[^\s"\\#;](?:[^"\\#;]*[^\s"\\#;])?')
_NEEDS_GIT = frozenset({"include", "includeif"})  # sections that pull other files in


@dataclass(frozen=True)
class PlainConfig:
    """``remote.<remote>.url`` (None when the file does not set it) and the filter drivers the file defines."""

    remote_url: str | None
    filters: frozenset[str]


def read_plain_config(git_dir: str, remote: str, *, bare: bool = False) -> PlainConfig | None:
    """What the checkout's own config file sets, or None when git must be asked (the file is not in the plain form).

    ``bare``: ``git_dir`` is a bare repository of ours (the release layout's), whatever its name.
    """
    path = os.path.join(git_dir, "config")
    if (os.path.basename(git_dir) != ".git" and not bare) or not os.path.isdir(git_dir):
        return None  # a linked worktree or a submodule: its config is elsewhere
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        with os.fdopen(fd, encoding="utf-8") as handle:
            text = handle.read(_MAX_SIZE + 1)
    except (OSError, UnicodeDecodeError):
        return None
    return None if len(text) > _MAX_SIZE else _parse(text, remote)


def _parse(text: str, remote: str) -> PlainConfig | None:
    section: tuple[str, str | None] | None = None
    url = None
    filters = set()
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.endswith("\\"):
            return None  # a continuation: the next line belongs to this value
        if line.startswith("["):
            header = _SECTION.fullmatch(line)
            if header is None:
                return None  # a comment or an entry after the header, or the old [remote.name] form
            section = (header.group(1).lower(), header.group(2))
            if section[0] in _NEEDS_GIT:
                return None
            if section[0] == "filter":
                if section[1] is None:
                    return None
                filters.add(section[1])
            continue
        entry = _ENTRY.fullmatch(line)
        if entry is None or section is None:
            return None
        key, value = entry.group(1).lower(), entry.group(2)
        if section == ("extensions", None) and key == "worktreeconfig":
            return None  # config.worktree is read after this file
        if section == ("remote", remote) and key == "url":
            if value is None or not _PLAIN_VALUE.fullmatch(value):
                return None
            url = value  # the last one wins, as with git config --get
    return PlainConfig(url, frozenset(filters))
