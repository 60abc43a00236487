# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private, controller side: resolve each (repo, version) once per play and pin every host to that commit.

Ansible runs each host's task in a forked worker, so the per-play answers live in a small file, guarded by a
lock: the first worker asks the git server, the others read its answer. The file decides which commit every
host deploys, so it lives in a folder only the controller's user can write (their cache folder, or a private
folder in the temp folder, mode 0700, checked on every use), is written with ``O_EXCL`` and a rename, and is
read only when it is that user's own: another user of the controller cannot plant or rewrite a pin.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
import typing as t
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from ansible_collections.fleetops.gitops.plugins.module_utils._access import RemoteAccess
from ansible_collections.fleetops.gitops.plugins.module_utils._errors import GitOpsError
from ansible_collections.fleetops.gitops.plugins.module_utils._files import private_folder, read_bytes, remove_quietly, stat_entry, write_atomic
from ansible_collections.fleetops.gitops.plugins.module_utils._git import runner_for
from ansible_collections.fleetops.gitops.plugins.module_utils._locks import FileLock
from ansible_collections.fleetops.gitops.plugins.module_utils._refs import BRANCH, TAG, Target, is_commit_sha, resolve, validate_ref_name
from ansible_collections.fleetops.gitops.plugins.module_utils._url import parse_repo_url

CONTROLLER_TIMEOUT = 60.0
RESOLVERS = 16  # ls-remotes at once on the controller: each mostly waits on the network
_STALE_AFTER = 7 * 24 * 3600
_OPTION = "resolve_on_controller"


def pins_folder() -> str:
    """Where this controller user's pins live: ``$XDG_CACHE_HOME/fleetops-gitops`` (``~/.cache/...``)."""
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(os.path.abspath(cache), "fleetops-gitops")


def open_pins_folder(directory: str | None = None, option: str = _OPTION) -> int:
    """A descriptor of the private folder the controller's pins (and locks) live in, made when missing."""
    directory = directory or pins_folder()
    try:
        os.makedirs(os.path.dirname(directory), exist_ok=True)
        return private_folder(directory, option=option)
    except OSError:
        return private_folder(_fallback_folder(), option=option)


def _fallback_folder() -> str:
    """For a user without a writable home: a private folder of theirs in the temp folder (refused if another's)."""
    return os.path.join(tempfile.gettempdir(), f"fleetops-gitops-pins-{os.geteuid()}")


class PlayPins:
    """The commits this play resolved, shared by every host's worker."""

    def __init__(self, play_id: str, directory: str | None = None) -> None:
        self.directory = directory or pins_folder()
        self.name = f"pins-{play_id}.json"

    def targets(
        self, wanted: t.Iterable[tuple[str, str]], timeout: float = CONTROLLER_TIMEOUT, access: RemoteAccess | None = None
    ) -> dict[tuple[str, str], Target | str]:
        """The Target of each (repo, version), or why it could not be resolved.

        The remote is asked only for what this play has not asked yet, failures included.
        """
        wanted = sorted(set(wanted))
        folder = self._folder()
        try:
            with FileLock(folder, self.name + ".lock", timeout=timeout, what="this play's pins", option=_OPTION):
                known = self._read(folder)
                missing = [pair for pair in wanted if _key(*pair) not in known]
                with ThreadPoolExecutor(max_workers=max(1, min(RESOLVERS, len(missing)))) as pool:
                    answers = pool.map(lambda pair: _resolve(pair[0], pair[1], timeout, access), missing)
                    known.update(zip((_key(*pair) for pair in missing), answers))
                if missing:
                    write_atomic(folder, self.name, json.dumps(known).encode(), mode=0o600)
        finally:
            os.close(folder)
        return {pair: Target(**known[_key(*pair)]) if "error" not in known[_key(*pair)] else known[_key(*pair)]["error"] for pair in wanted}

    def _folder(self) -> int:
        return open_pins_folder(self.directory)

    def _read(self, folder: int) -> dict[str, dict[str, t.Any]]:
        raw = read_bytes(folder, self.name, owner=os.geteuid(), option=_OPTION)
        if raw is None:
            self._forget_old_plays(folder)
            return {}
        try:
            data = json.loads(raw.decode("utf-8"))
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    @staticmethod
    def _forget_old_plays(folder: int) -> None:
        listing = os.open(".", os.O_RDONLY | os.O_DIRECTORY, dir_fd=folder)
        try:
            names = os.listdir(listing)
        finally:
            os.close(listing)
        for name in names:
            info = stat_entry(folder, name)
            if name.startswith("pins-") and info is not None and time.time() - info.st_mtime > _STALE_AFTER:
                remove_quietly(folder, name)


def _key(repo: str, version: str) -> str:
    """A digest, so that no credential in a URL is written to disk."""
    return hashlib.sha256(f"{repo}\0{version}".encode()).hexdigest()


_ACCESS_ARGS = ("username", "password", "token", "ssh_key", "known_hosts", "accept_newhostkey", "follow_redirects")


def _resolve(repo: str, version: str, timeout: float, access: RemoteAccess | None) -> dict[str, t.Any]:
    try:
        url = parse_repo_url(repo)
        validate_ref_name("version", version)
        with runner_for(url, timeout, access=access) as git:
            target = resolve(git, url.clean, version, shown_url=url.display)
    except GitOpsError as error:
        return {"error": str(error)}
    return {"kind": target.kind, "name": target.name, "sha": target.sha}


@dataclass
class Pinning:
    """The checkouts of one task's arguments that a commit can be pinned for: those with a ``repo`` and a branch or
    tag (not a commit already, nor a ``revision``), each with the (repo, version) that names its commit."""

    args: dict[str, t.Any]
    version_key: str
    version_alias: str
    default_version: str = "HEAD"
    items: list[dict[str, t.Any]] = field(default_factory=list)
    todo: list[tuple[dict[str, t.Any], str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.args = dict(self.args)
        self.items = [dict(item) for item in self.args.get("checkouts") or []]
        repo, version = self.args.get("repo"), _version(self.args, self.version_key, self.version_alias) or self.default_version
        for form in self.items or [self.args]:
            form_repo = form.get("repo") or repo
            form_version = _version(form, self.version_key, self.version_alias) or version
            if form_repo and not form.get("revision") and not is_commit_sha(form_version):
                self.todo.append((form, form_repo, form_version))

    @property
    def wanted(self) -> list[tuple[str, str]]:
        return sorted({(repo, version) for _form, repo, version in self.todo})

    @property
    def timeout(self) -> float:
        return float(self.args.get("timeout") or CONTROLLER_TIMEOUT)

    def access(self) -> RemoteAccess:
        """The task's own credentials and host keys, as the module reads them (the rest of access keeps its defaults:
        the task arguments are not validated yet, and the module checks them again anyway)."""
        return RemoteAccess.from_params({key: self.args.get(key) for key in _ACCESS_ARGS})

    def apply(self, targets: t.Mapping[tuple[str, str], Target | str]) -> tuple[dict[str, t.Any], list[str]]:
        """The arguments with each checkout pinned (a full ref plus ``revision``), and why the others could not be."""
        failures = []
        for form, repo, version in self.todo:
            target = targets[(repo, version)]
            if isinstance(target, str):
                failures.append(target)
                continue
            form.pop(self.version_alias, None)
            form[self.version_key] = {BRANCH: f"refs/heads/{target.name}", TAG: f"refs/tags/{target.name}"}.get(target.kind, target.sha)
            if self.version_key == "branch":
                form[self.version_key] = target.name or version  # gitops_drift takes a branch name
            form["revision"] = target.sha
        args = dict(self.args)
        if self.items:
            args["checkouts"] = self.items
        return args, failures


def pin_checkouts(args: dict[str, t.Any], play_id: str, *, version_key: str, version_alias: str) -> tuple[dict[str, t.Any], list[str]]:
    """Module arguments with each checkout's version resolved once per play (see ``Pinning``), and the failures.

    A checkout that already names a commit, or sets ``revision``, or has no ``repo`` (gitops_drift reading the
    checkout's own remote), is left as is; so is one the controller could not resolve, whose reason is returned.
    """
    pinning = Pinning(args, version_key, version_alias)
    return pinning.apply(PlayPins(play_id).targets(pinning.wanted, pinning.timeout, pinning.access()))


def _version(form: t.Mapping[str, t.Any], key: str, alias: str) -> str | None:
    return form.get(key) or form.get(alias)
