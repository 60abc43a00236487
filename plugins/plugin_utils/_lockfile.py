# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private, controller side: the revision lockfile - for each repository and version, the commit to deploy.

``update`` resolves on the controller (once per play, as ``resolve_on_controller`` does) and records what changed;
``frozen`` deploys exactly what the file holds and asks no remote, so reruns, ``--limit`` retries and hosts added
later get the same commits, and promoting an environment is a reviewed commit of the file. The file is YAML sorted
by repository, one entry per version, and keeps an entry's ``resolved_at`` and ``resolved_by`` until its commit
moves: a rerun that finds nothing new leaves it byte for byte as it was.

Repositories are keyed by their URL as git is given it: without a password or token. The workers of one play (a fork per host) write under
one lock, in the controller user's private pins folder, and each write is a rename of a complete file.
"""

from __future__ import annotations

import getpass
import hashlib
import os
import socket
import typing as t

import yaml

from ansible_collections.fleetops.gitops.plugins.module_utils._errors import GitOpsError, InvalidOption
from ansible_collections.fleetops.gitops.plugins.module_utils._files import open_folder, read_bytes, write_atomic
from ansible_collections.fleetops.gitops.plugins.module_utils._locks import FileLock
from ansible_collections.fleetops.gitops.plugins.module_utils._refs import BRANCH, COMMIT, TAG, Target, is_commit_sha
from ansible_collections.fleetops.gitops.plugins.module_utils._state_file import format_time, utc_now
from ansible_collections.fleetops.gitops.plugins.module_utils._url import parse_repo_url
from ansible_collections.fleetops.gitops.plugins.plugin_utils._pins import Pinning, PlayPins, open_pins_folder

LOCKFILE_VERSION = 1
MODES = ("update", "frozen")
_OPTION = "lockfile"
_KINDS = (BRANCH, TAG, COMMIT)
_HEADER = "# fleetops.gitops revision lockfile: the commit each repository and version deploys with lockfile_mode: frozen.\n"

Wanted = tuple[str, str]  # (repo as the task gives it, version)


class Lockfile:
    """One lockfile on the controller."""

    def __init__(self, path: str) -> None:
        self.path = os.path.abspath(path)
        self.folder, self.name = os.path.split(self.path)

    def targets(self, wanted: t.Iterable[Wanted]) -> dict[Wanted, Target | str]:
        """What the file says of each (repo, version): its Target, or why it cannot deploy it."""
        entries = self._read()
        found: dict[Wanted, Target | str] = {}
        for repo, version in wanted:
            entry = entries.get(_repo_key(repo), {}).get(version)
            found[(repo, version)] = (
                _target(entry)
                if entry
                else f"the lockfile {self.path} has no commit for {parse_repo_url(repo).display} at '{version}': run with lockfile_mode: update first"
            )
        return found

    def record(self, targets: t.Mapping[Wanted, Target | str], now: str) -> list[str]:
        """Write the resolved targets the file does not hold yet (or holds at another commit); the entries changed."""
        resolved = {pair: target for pair, target in targets.items() if isinstance(target, Target)}
        if not resolved:
            return []
        lock_folder = open_pins_folder(option=_OPTION)
        try:
            digest = hashlib.sha256(self.path.encode()).hexdigest()[:32]
            with FileLock(lock_folder, f"lockfile-{digest}.lock", timeout=60.0, what=f"the lockfile {self.path}", option=_OPTION):
                entries = self._read()
                changed = []
                for (repo, version), target in sorted(resolved.items()):
                    versions = entries.setdefault(_repo_key(repo), {})
                    if (versions.get(version) or {}).get("commit") != target.sha:
                        versions[version] = {"commit": target.sha, "kind": target.kind, "name": target.name, "resolved_at": now, "resolved_by": _who()}
                        changed.append(f"{_repo_key(repo)} {version}: {target.sha}")
                if changed:
                    self._write(entries)
                return changed
        finally:
            os.close(lock_folder)

    def _read(self) -> dict[str, dict[str, dict[str, t.Any]]]:
        try:
            folder = open_folder(self.folder, option=_OPTION, readable=True)
        except GitOpsError:
            return {}
        try:
            raw = read_bytes(folder, self.name, limit=16 << 20, option=_OPTION)
        finally:
            os.close(folder)
        if raw is None:
            return {}
        try:
            data = yaml.safe_load(raw.decode("utf-8")) or {}
        except (ValueError, yaml.YAMLError) as error:
            raise InvalidOption(_OPTION, f"{self.path} is not a lockfile this collection can read: {error}") from None
        if data == {}:
            return {}  # an empty file: a lockfile to fill
        repositories = data.get("repositories") or {} if isinstance(data, dict) else None
        if not isinstance(data, dict) or data.get("format_version") != LOCKFILE_VERSION or not isinstance(repositories, dict):
            raise InvalidOption(_OPTION, f"{self.path} is not a lockfile of format_version {LOCKFILE_VERSION}")
        if not all(isinstance(versions, dict) for versions in repositories.values() if versions):
            raise InvalidOption(_OPTION, f"{self.path}: each repository must map versions to their entries")
        return {str(repo): dict(versions or {}) for repo, versions in repositories.items()}

    def _write(self, entries: t.Mapping[str, t.Mapping[str, t.Any]]) -> None:
        document = {"format_version": LOCKFILE_VERSION, "repositories": {repo: dict(sorted(entries[repo].items())) for repo in sorted(entries)}}
        text = _HEADER + yaml.safe_dump(_plain(document), default_flow_style=False, sort_keys=False, allow_unicode=True)
        folder = open_folder(self.folder, option=_OPTION, create=True, readable=True)
        try:
            write_atomic(folder, self.name, text.encode("utf-8"), mode=0o644)
        finally:
            os.close(folder)


def _target(entry: t.Any) -> Target | str:
    """The entry's Target: a branch or tag by its name, at the commit."""
    commit, kind, name = (entry.get("commit"), entry.get("kind"), entry.get("name")) if isinstance(entry, dict) else (None, None, None)
    if not (isinstance(commit, str) and is_commit_sha(commit) and kind in _KINDS and (kind == COMMIT or isinstance(name, str))):
        return f"the lockfile's entry {entry!r} is not a commit SHA with its kind (branch, tag or commit) and name"
    return Target(kind, name if kind != COMMIT else None, commit)


def _plain(value: t.Any) -> t.Any:
    """The document in Python's own types: task arguments are Ansible's (tagged) strings, which YAML cannot write."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, str):
        return str(value)
    return value


def _repo_key(repo: str) -> str:
    """The repository's URL as git is given it (no password, no token): what the file is keyed by, and shows."""
    return parse_repo_url(repo).clean


def _who() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = f"uid {os.geteuid()}"
    return f"{user}@{socket.gethostname()}"


def lock_checkouts(
    args: dict[str, t.Any], path: str, play_id: str, version_key: str, version_alias: str, *, check_mode: bool
) -> tuple[dict[str, t.Any], list[str]]:
    """Module arguments with each checkout pinned to its lockfile commit (see ``Pinning``), and what could not be.

    ``lockfile_mode: update`` resolves once per play on the controller and records what moved first - not in
    ``check_mode``, which deploys nothing and so records nothing; ``frozen`` takes the file as it is and asks no
    remote.
    """
    pinning = Pinning(args, version_key, version_alias)
    if _mode(args) == "frozen":
        return pinning.apply(Lockfile(path).targets(pinning.wanted))
    targets = PlayPins(play_id).targets(pinning.wanted, pinning.timeout, pinning.access())
    if not check_mode:
        Lockfile(path).record(targets, format_time(utc_now()) or "")
    return pinning.apply(targets)


def remote_moves(args: dict[str, t.Any], path: str, play_id: str, version_key: str, version_alias: str) -> dict[str, str]:
    """For ``--check --diff`` with a frozen lockfile: the lockfile's commit and the remote's, one line each, for every
    repository and version the remote has moved away from (the remote asked once per play, as in update mode)."""
    if _mode(args) != "frozen":
        return {}
    pinning = Pinning(args, version_key, version_alias)
    locked = Lockfile(path).targets(pinning.wanted)
    remote = PlayPins(play_id).targets(pinning.wanted, pinning.timeout, pinning.access())
    before, after = [], []
    for (repo, version), target in sorted(locked.items()):
        now = remote[(repo, version)]
        if isinstance(target, Target) and isinstance(now, Target) and now.sha != target.sha:
            before.append(f"{_repo_key(repo)} {version}: {target.sha}\n")
            after.append(f"{_repo_key(repo)} {version}: {now.sha}\n")
    return {"before_header": f"{path} (frozen)", "after_header": "the remote now", "before": "".join(before), "after": "".join(after)} if before else {}


def _mode(args: t.Mapping[str, t.Any]) -> str:
    mode = str(args.get("lockfile_mode") or "update")
    if mode not in MODES:
        raise InvalidOption("lockfile_mode", f"must be one of {', '.join(MODES)}, not '{mode}'")
    return mode
