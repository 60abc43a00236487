# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private: what a checkout's config file says, read straight from it, to spare a git process per checkout.

A no-op run reads every checkout; ``git config`` for the remote's URL and the filter drivers would be a third
of its git processes. The file ``git clone`` writes is plain: sections and ``key = value`` lines. This reader
accepts only that form and answers None for anything else (includes, quoting, escapes, continuations,
comments after a value, a ``.git`` file), and the caller then asks git, so its answer is always the one git
gives. A ``config.worktree`` (``extensions.worktreeConfig``, which ``git sparse-checkout`` sets) is read after it,
in the same plain form, as git reads it.
"""

from __future__ import annotations

import os
import re
import typing as t
from dataclasses import dataclass

_MAX_SIZE = 64 * 1024
_SECTION = re.compile(r'\[([A-Za-z0-9-]+)(?: +"([^"\\]*)")?\]')  # no space inside the brackets but one before the subsection
_ENTRY = re.compile(r"([A-Za-z][A-Za-z0-9-]*)\s*(?:=\s*(.*))?")
_PLAIN_VALUE = re.compile(r'[^\s"\\#;](?:[^"\\#;]*[^\s"\\#;])?')
_NEEDS_GIT = frozenset({"include", "includeif"})  # sections that pull other files in


_TRUE = frozenset({"true", "yes", "on", "1"})
_FALSE = frozenset({"false", "no", "off", "0", ""})


@dataclass(frozen=True)
class PlainConfig:
    """``remote.<remote>.url`` (None when the file does not set it), the filter drivers the file defines,
    ``core.sparseCheckout`` and ``core.sparseCheckoutCone`` (false when unset), and ``partial``: the partial clone
    filter of the remote (``remote.<remote>.partialCloneFilter`` of a ``promisor`` remote), None for a full clone."""

    remote_url: str | None
    filters: frozenset[str]
    sparse: bool = False
    cone: bool = False
    partial: str | None = None


def partial_filter(promisor: bool | None, spec: str | None) -> str | None:
    """The filter a promisor remote's fetches use; git's own default for one without (``blob:none``, as lazy fetches)."""
    return (spec or "blob:none") if promisor else None


def config_bool(value: str | None) -> bool | None:
    """A boolean as git reads it (a key with no value is true); None for a value git would reject."""
    if value is None:
        return True
    text = value.lower()
    return True if text in _TRUE else False if text in _FALSE else None


def read_plain_config(git_dir: str, remote: str, *, bare: bool = False) -> PlainConfig | None:
    """What the checkout's own config files set, or None when git must be asked (a file is not in the plain form).

    ``config``, then ``config.worktree`` when ``extensions.worktreeConfig`` says git reads it too (``git
    sparse-checkout`` turns it on, and keeps its flags there). ``bare``: ``git_dir`` is a bare repository of ours
    (the release layout's), whatever its name.
    """
    if (os.path.basename(git_dir) != ".git" and not bare) or not os.path.isdir(git_dir):
        return None  # a linked worktree or a submodule: its config is elsewhere
    main = _parse(_read(os.path.join(git_dir, "config")), remote)
    if main is None or not main.worktree_config:
        return main and main.result()
    if main.format_version not in ("0", "1"):
        return None  # git honours the extension only in a repository that states its format
    extra = _parse(_read(os.path.join(git_dir, "config.worktree"), missing=""), remote)
    if extra is None or extra.worktree_config:
        return None
    return main.merged(extra).result()


def _read(path: str, missing: str | None = None) -> str | None:
    """The file's text (``missing`` when it does not exist); None when it cannot be read plainly: a link, not UTF-8, too big."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return missing
    except OSError:
        return None
    try:
        with os.fdopen(fd, encoding="utf-8") as handle:
            text = handle.read(_MAX_SIZE + 1)
    except (OSError, UnicodeDecodeError):
        return None
    return None if len(text) > _MAX_SIZE else text


@dataclass(frozen=True)
class _Parsed:
    """What one file sets (None: not set there), so that a later file's value can win, as in git."""

    url: str | None = None
    filters: frozenset[str] = frozenset()
    sparse: bool | None = None
    cone: bool | None = None
    worktree_config: bool = False
    format_version: str | None = None
    promisor: bool | None = None
    filter_spec: str | None = None

    def merged(self, later: _Parsed) -> _Parsed:
        def last(name: str) -> t.Any:
            value = getattr(later, name)
            return value if value is not None else getattr(self, name)

        return _Parsed(last("url"), self.filters | later.filters, last("sparse"), last("cone"), promisor=last("promisor"), filter_spec=last("filter_spec"))

    def result(self) -> PlainConfig:
        return PlainConfig(self.url, self.filters, bool(self.sparse), bool(self.cone), partial_filter(self.promisor, self.filter_spec))


def _parse(text: str | None, remote: str) -> _Parsed | None:
    if text is None:
        return None
    section: tuple[str, str | None] | None = None
    url = None
    filters = set()
    flags: dict[str, bool | None] = {"sparsecheckout": None, "sparsecheckoutcone": None, "worktreeconfig": None}
    version = promisor = spec = None
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
        if section == ("remote", remote) and key == "url":
            if value is None or not _PLAIN_VALUE.fullmatch(value):
                return None
            url = value  # the last one wins, as with git config --get
        if section == ("remote", remote) and key in ("promisor", "partialclonefilter"):
            if value is not None and not _PLAIN_VALUE.fullmatch(value):
                return None
            if key == "partialclonefilter":
                spec = value
            else:
                promisor = config_bool(value)
                if promisor is None:
                    return None
        if section == ("core", None) and key == "repositoryformatversion":
            version = value
        if (section == ("core", None) and key in ("sparsecheckout", "sparsecheckoutcone")) or (section == ("extensions", None) and key == "worktreeconfig"):
            flag = config_bool(value) if value is None or _PLAIN_VALUE.fullmatch(value) else None
            if flag is None:
                return None
            flags[key] = flag
    return _Parsed(url, frozenset(filters), flags["sparsecheckout"], flags["sparsecheckoutcone"], bool(flags["worktreeconfig"]), version, promisor, spec)
