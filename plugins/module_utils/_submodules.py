# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private: a checkout's submodules (``submodules: true``), read from the commit the superproject deploys.

The list comes from that commit only - its gitlinks (``ls-tree``) and its ``.gitmodules`` blob (``git config
--blob``, no includes) - never from the work tree or ``.git/config``, which the checkout's owner can write. The
repository is not trusted either, so each entry passes the checks ``repo`` does: its URL (a relative one resolves
against the superproject's) is parsed as ``repo`` is, and its transport must be in ``allowed_transports``; its path
must be a gitlink of that commit, relative, inside the work tree, with no ``..`` and no ``.git``, and no link on
the way to it on disk. Each submodule then is a checkout of its own (``GitOpsSynchronizer``) at the commit the
superproject records, with its own ``.git`` at its path: never ``git submodule``, whose ``submodule.<name>.update``
may name a program, and never ``.git/modules``.
"""

from __future__ import annotations

import os
import posixpath
import stat
import typing as t
from dataclasses import dataclass, replace

from ansible_collections.fleetops.gitops.plugins.module_utils._access import RemoteAccess
from ansible_collections.fleetops.gitops.plugins.module_utils._errors import InvalidOption
from ansible_collections.fleetops.gitops.plugins.module_utils._git import GitRunner
from ansible_collections.fleetops.gitops.plugins.module_utils._history import Where
from ansible_collections.fleetops.gitops.plugins.module_utils._refs import is_commit_sha
from ansible_collections.fleetops.gitops.plugins.module_utils._url import RepoUrl, origin_of, parse_repo_url, reject_control_characters

MAX_DEPTH = 8
"""Submodules of submodules, this deep at most: a repository that names itself would otherwise recurse forever."""

_GITLINK = "160000"
_OPTION = "submodules"


@dataclass(frozen=True)
class Submodule:
    """One submodule of a commit: its name and path in ``.gitmodules``, its URL (resolved), the commit recorded."""

    name: str
    path: str
    url: RepoUrl
    commit: str


def submodules_at(git: GitRunner, where: Where, commit: str, parent: RepoUrl, transports: t.Sequence[str]) -> list[Submodule]:
    """The submodules ``commit`` records, in path order; refuses (InvalidOption) any entry that fails a check."""
    links = _gitlinks(git, where, commit)
    if not links:
        return []
    declared = _declared(git, where, commit)
    by_path = {}
    for name, keys in declared.items():
        if "path" in keys:
            by_path.setdefault(keys["path"], name)
    found = []
    for path, sha in sorted(links.items()):
        name = by_path.get(path)
        if name is None:
            raise InvalidOption(_OPTION, f"{commit[:12]} records a submodule at '{path}' that .gitmodules does not name")
        _check_name(name)
        _check_path(name, path)
        url = declared[name].get("url")
        if not url:
            raise InvalidOption(_OPTION, f"submodule '{name}' has no url in .gitmodules")
        found.append(Submodule(name, path, _submodule_url(name, url, parent, transports), sha))
    return found


def refuse_links(dest: str, path: str) -> None:
    """Refuse a submodule path that passes through a link (or anything but folders) in the superproject's work tree:
    its checkout would be written elsewhere. The path itself may be absent, an empty folder or a checkout."""
    here = dest
    parts = path.split("/")
    for number, part in enumerate(parts, start=1):
        here = os.path.join(here, part)
        try:
            info = os.lstat(here)
        except FileNotFoundError:
            return
        if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
            what = "a link" if stat.S_ISLNK(info.st_mode) else "not a folder"
            shown = "/".join(parts[:number])
            raise InvalidOption(_OPTION, f"submodule path '{path}' passes through '{shown}' in {dest}, which is {what}; it was left untouched")


def access_for(access: RemoteAccess, parent: RepoUrl, url: RepoUrl) -> RemoteAccess:
    """``access`` (the superproject's, its URL's credentials included) for a submodule of the same origin (scheme,
    host and port); without credentials nor SSH key for another one, which must not learn them."""
    if _origin(parent) == _origin(url):
        return access
    return replace(access, username=None, password=None, ssh_key=None)


def _gitlinks(git: GitRunner, where: Where, commit: str) -> dict[str, str]:
    listing = git.run(
        [*where.args, "ls-tree", "-r", "-z", "--full-tree", "--end-of-options", commit],
        env=where.env,
        summary=f"cannot list the tree of {commit[:12]}",
    ).stdout
    links = {}
    for entry in filter(None, listing.split("\0")):
        meta, _tab, path = entry.partition("\t")
        mode, _kind, sha = meta.split(" ")
        if mode == _GITLINK and is_commit_sha(sha):
            links[path] = sha
    return links


def _declared(git: GitRunner, where: Where, commit: str) -> dict[str, dict[str, str]]:
    """``.gitmodules`` of the commit: submodule name -> its keys (path, url...), the last value of a key winning."""
    result = git.run(
        [*where.args, "config", "--blob", f"{commit}:.gitmodules", "--no-includes", "--null", "--list"],
        ok=(0, 1, 128),
        env=where.env,
        summary=f"cannot read .gitmodules of {commit[:12]}",
    )
    if result.rc != 0:
        raise InvalidOption(_OPTION, f"{commit[:12]} records submodules but has no readable .gitmodules: {result.stderr.strip()[:200]}")
    declared: dict[str, dict[str, str]] = {}
    for entry in filter(None, result.stdout.split("\0")):
        key, _newline, value = entry.partition("\n")
        section, _dot, rest = key.partition(".")
        name, _dot, field = rest.rpartition(".")
        if section == "submodule" and name:
            declared.setdefault(name, {})[field] = value
    return declared


def _check_name(name: str) -> None:
    """git's own rule for names (they become folder names): no empty or '..' component."""
    reject_control_characters(_OPTION, name)
    if any(part in ("", "..") for part in name.replace("\\", "/").split("/")):
        raise InvalidOption(_OPTION, f"submodule name '{name}' is not allowed (an empty or '..' component)")


def _check_path(name: str, path: str) -> None:
    reject_control_characters(_OPTION, path)
    parts = path.split("/")
    if path.startswith(("/", "-")) or "\\" in path or any(part in ("", ".", "..") or part.lower() == ".git" for part in parts):
        raise InvalidOption(_OPTION, f"submodule '{name}' has path '{path}', which is not a plain relative path inside the work tree")


def _submodule_url(name: str, raw: str, parent: RepoUrl, transports: t.Sequence[str]) -> RepoUrl:
    value = _relative_to(raw, parent) if raw.startswith(("./", "../")) else raw
    url = parse_repo_url(value, f"submodule '{name}' url")
    if url.transport not in transports:
        raise InvalidOption(_OPTION, f"submodule '{name}' uses the '{url.transport}' transport, which is not in allowed_transports ({', '.join(transports)})")
    return url


def _relative_to(raw: str, parent: RepoUrl) -> str:
    """A relative submodule URL against the superproject's, as git resolves it: each '../' drops one component of
    the parent's path. The parent's credentials are not carried over (``access_for`` decides who gets them)."""
    prefix, path = _split_address(parent.clean.rstrip("/"))
    joined = posixpath.normpath(posixpath.join(path, raw))
    if joined == ".." or joined.startswith("../"):
        raise InvalidOption(_OPTION, f"submodule url '{raw}' climbs above the superproject's address {parent.display}")
    return prefix + joined


def _split_address(url: str) -> tuple[str, str]:
    """(scheme and host part, path) of a scheme URL or an scp-like one; ("", path) for a local path."""
    scheme, sep, rest = url.partition("://")
    if sep:
        host, slash, path = rest.partition("/")
        return f"{scheme}://{host}", slash + path
    host, colon, path = url.partition(":")
    if colon and "/" not in host:
        return f"{host}:", path
    return "", url


def _origin(url: RepoUrl) -> tuple[str, str]:
    """(transport, host[:port]) - without the login name, which does not change whose server it is; for https the
    origin the credential helper answers (``origin_of``)."""
    prefix, _path = _split_address(url.clean)
    host = prefix.partition("://")[2] if "://" in prefix else prefix
    return url.transport, origin_of(url.clean) or host.rpartition("@")[2].rstrip(":")
