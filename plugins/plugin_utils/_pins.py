# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private, controller side: resolve each (repo, version) once per play and pin every host to that commit.

Ansible runs each host's task in a forked worker, so the per-play answers live
in a small file under the controller's temp folder, guarded by a lock: the
first worker asks the git server, the others read its answer.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import tempfile
import time
import typing as t
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.fleetops.gitops.plugins.module_utils._access import RemoteAccess
from ansible_collections.fleetops.gitops.plugins.module_utils._errors import GitOpsError
from ansible_collections.fleetops.gitops.plugins.module_utils._git import runner_for
from ansible_collections.fleetops.gitops.plugins.module_utils._refs import BRANCH, TAG, Target, is_commit_sha, resolve, validate_ref_name
from ansible_collections.fleetops.gitops.plugins.module_utils._url import parse_repo_url

CONTROLLER_TIMEOUT = 60.0
RESOLVERS = 16  # ls-remotes at once on the controller: each mostly waits on the network
_STALE_AFTER = 7 * 24 * 3600


class PlayPins:
    """The commits this play resolved, shared by every host's worker."""

    def __init__(self, play_id: str, directory: str | None = None) -> None:
        self.directory = directory or os.path.join(tempfile.gettempdir(), f"fleetops-gitops-{os.getuid()}")
        self.path = os.path.join(self.directory, f"pins-{play_id}.json")

    def targets(self, wanted: t.Iterable[tuple[str, str]], timeout: float = CONTROLLER_TIMEOUT,
                access: RemoteAccess | None = None) -> dict[tuple[str, str], Target | str]:
        """The Target of each (repo, version), or why it could not be resolved.

        The remote is asked only for what this play has not asked yet, failures included.
        """
        wanted = sorted(set(wanted))
        os.makedirs(self.directory, mode=0o700, exist_ok=True)
        with open(self.path + ".lock", "a", encoding="utf-8") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            known = self._read()
            missing = [pair for pair in wanted if _key(*pair) not in known]
            with ThreadPoolExecutor(max_workers=max(1, min(RESOLVERS, len(missing)))) as pool:
                answers = pool.map(lambda pair: _resolve(pair[0], pair[1], timeout, access), missing)
                known.update(zip((_key(*pair) for pair in missing), answers))
            if missing:
                self._write(known)
        return {pair: Target(**known[_key(*pair)]) if "error" not in known[_key(*pair)] else known[_key(*pair)]["error"]
                for pair in wanted}

    def _read(self) -> dict[str, dict[str, t.Any]]:
        try:
            with open(self.path, encoding="utf-8") as handle:
                return json.load(handle)
        except (OSError, ValueError):
            self._forget_old_plays()
            return {}

    def _write(self, known: dict[str, dict[str, t.Any]]) -> None:
        fd, temp = tempfile.mkstemp(dir=self.directory, prefix=".pins-")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(known, handle)
        os.replace(temp, self.path)

    def _forget_old_plays(self) -> None:
        for name in os.listdir(self.directory):
            path = os.path.join(self.directory, name)
            if name.startswith("pins-") and time.time() - os.path.getmtime(path) > _STALE_AFTER:
                os.unlink(path)


def _key(repo: str, version: str) -> str:
    """A digest, so that no credential in a URL is written to disk."""
    return hashlib.sha256(f"{repo}\0{version}".encode()).hexdigest()


def _resolve(repo: str, version: str, timeout: float, access: RemoteAccess | None) -> dict[str, t.Any]:
    try:
        url = parse_repo_url(repo)
        validate_ref_name("version", version)
        with runner_for(url, timeout, access=access) as git:
            target = resolve(git, url.clean, version, shown_url=url.display)
    except GitOpsError as error:
        return {"error": str(error)}
    return {"kind": target.kind, "name": target.name, "sha": target.sha}


def pin_checkouts(args: dict[str, t.Any], play_id: str, *, version_key: str, version_alias: str,
                  default_version: str = "main") -> tuple[dict[str, t.Any], list[str]]:
    """Module arguments with each checkout's version resolved (a full ref plus ``revision``), and the failures.

    A checkout that already names a commit, or sets ``revision``, or has no
    ``repo`` (gitops_drift reading the checkout's own remote), is left as is;
    so is one the controller could not resolve, whose reason is returned.
    """
    args = dict(args)
    items = [dict(item) for item in args.get("checkouts") or []]
    defaults = {"repo": args.get("repo"), "version": _version(args, version_key, version_alias) or default_version,
                "timeout": args.get("timeout") or CONTROLLER_TIMEOUT}
    forms = items or [args]
    todo = []
    for form in forms:
        repo = form.get("repo") or defaults["repo"]
        version = _version(form, version_key, version_alias) or defaults["version"]
        if repo and not form.get("revision") and not is_commit_sha(version):
            todo.append((form, repo, version))
    access = RemoteAccess.from_options(  # the call's credentials reach the controller's ls-remote too
        transports=args.get("allowed_transports"), username=args.get("username"), password=args.get("password"),
        token=args.get("token"), ssh_key=args.get("ssh_key"), known_hosts=args.get("known_hosts"),
        accept_new_hostkey=bool(args.get("accept_newhostkey")),
    )
    targets = PlayPins(play_id).targets(((repo, version) for _form, repo, version in todo), float(defaults["timeout"]), access)
    failures = []
    for form, repo, version in todo:
        target = targets[(repo, version)]
        if isinstance(target, str):
            failures.append(target)
            continue
        form.pop(version_alias, None)
        form[version_key] = {BRANCH: f"refs/heads/{target.name}", TAG: f"refs/tags/{target.name}"}.get(target.kind, target.sha)
        if version_key == "branch":
            form[version_key] = target.name or version  # gitops_drift takes a branch name
        form["revision"] = target.sha
    if items:
        args["checkouts"] = items
    return args, failures


def _version(form: t.Mapping[str, t.Any], key: str, alias: str) -> str | None:
    return form.get(key) or form.get(alias)
