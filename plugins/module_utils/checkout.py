# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Public API: the clone/pull synchronizer.

``GitOpsSynchronizer(repo_url, local_path)`` keeps one checkout at a branch,
tag or commit: it clones when the path is absent, else fetches and hard-resets.
Deciding is read-only (``plan()``); a checkout already in step costs two git
processes (three when its config is unusual) and writes nothing. Local changes (and local commits) are backed up
to a ref under ``refs/gitops/backups/`` before a reset, unless told to discard
them or fail. One run per checkout at a time; what a killed run left behind is
repaired; a corrupted checkout is reported, never deleted.

Example::

    from ansible_collections.fleetops.gitops.plugins.module_utils.checkout import GitOpsSynchronizer

    sync = GitOpsSynchronizer("https://git.example.com/app.git", "/srv/app")
    if sync.sync("main"):
        print(sync.get_version())
"""

from __future__ import annotations

import errno
import logging
import os
import secrets
import shutil
import stat
import typing as t
from dataclasses import dataclass, field

from ansible_collections.fleetops.gitops.plugins.module_utils._access import RemoteAccess
from ansible_collections.fleetops.gitops.plugins.module_utils._backup import backup_local_changes, keep_commit
from ansible_collections.fleetops.gitops.plugins.module_utils._checkout_state import CheckoutState, corrupt_or, git_dir, read_checkout_state
from ansible_collections.fleetops.gitops.plugins.module_utils._errors import (
    DestinationError, GitCommandError, GitOpsError, HistoryRewritten, InvalidOption, LocalChangesError, RefNotFound,
)
from ansible_collections.fleetops.gitops.plugins.module_utils._findings import Distance, find_drift, local_distance, short
from ansible_collections.fleetops.gitops.plugins.module_utils._git import DEFAULT_TIMEOUT, GitRunner, runner_for
from ansible_collections.fleetops.gitops.plugins.module_utils._identity import resolve_run_as
from ansible_collections.fleetops.gitops.plugins.module_utils._locks import DEFAULT_LOCK_TIMEOUT, CheckoutLock, leftovers, remove_leftovers
from ansible_collections.fleetops.gitops.plugins.module_utils._refs import (
    BRANCH, COMMIT, TAG, Target, is_commit_sha, resolve, validate_ref_name, validate_remote_name,
)
from ansible_collections.fleetops.gitops.plugins.module_utils._signatures import SignaturePolicy, verify
from ansible_collections.fleetops.gitops.plugins.module_utils._state_file import last_synced_at, read_state, record_sync
from ansible_collections.fleetops.gitops.plugins.module_utils._status import SyncState, SyncStatus
from ansible_collections.fleetops.gitops.plugins.module_utils._url import parse_repo_url, redact_text, reject_control_characters, reject_option_like

log = logging.getLogger(__name__)

LOCAL_CHANGES = ("backup", "discard", "fail")
ON_REWRITE = ("follow", "fail")
CLONE = "clone"
UPDATE = "update"
NONE = "none"
# How HEAD relates to the target, when the target's objects are at hand.
REWRITTEN = "rewritten"          # HEAD was our last sync, and the remote no longer has it in its history
LOCAL_COMMITS = "local commits"  # HEAD has commits someone made here, which the target does not contain


@dataclass(frozen=True)
class SyncPlan:
    """What a sync would do, decided without writing anything."""

    state: CheckoutState
    target: Target
    action: str
    findings: tuple[str, ...] = ()
    divergence: str | None = None
    leftovers: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return self.action != NONE

    @property
    def before(self) -> str | None:
        return self.state.head

    @property
    def after(self) -> str:
        return self.target.sha


@dataclass
class SyncResult:
    """What a sync did (or, in check mode, would do)."""

    plan: SyncPlan
    status: SyncStatus
    backup_ref: str | None = None
    diff: dict[str, str] | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.plan.changed

    def to_dict(self) -> dict[str, t.Any]:
        plan = self.plan
        result = {
            "changed": plan.changed,
            "action": plan.action,
            "before": plan.before,
            "after": plan.after,
            "kind": plan.target.kind,
            "backup_ref": self.backup_ref,
            "local_changes": plan.state.changes.to_dict(),
            "status": self.status.to_dict(),
        }
        if self.diff is not None:
            result["diff"] = self.diff
        return result


class GitOpsSynchronizer:
    """Clone-or-update synchronizer for one checkout of one repository."""

    def __init__(
        self,
        repo_url: str,
        local_path: str,
        *,
        remote: str = "origin",
        depth: int | None = None,
        local_changes: str = "backup",
        timeout: float = DEFAULT_TIMEOUT,
        owner: str | None = None,
        group: str | None = None,
        mode: int | None = None,
        access: RemoteAccess | None = None,
        signatures: SignaturePolicy | None = None,
        on_rewrite: str = "follow",
        lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    ) -> None:
        self.url = parse_repo_url(repo_url, "repo")
        reject_control_characters("dest", local_path)
        reject_option_like("dest", local_path)
        if not local_path.strip():
            raise InvalidOption("dest", "must not be empty")
        validate_remote_name("remote", remote)
        if depth is not None and depth < 1:
            raise InvalidOption("depth", f"must be a positive number of commits, not {depth}")
        _choice("local_changes", local_changes, LOCAL_CHANGES)
        _choice("on_rewrite", on_rewrite, ON_REWRITE)
        if timeout <= 0:
            raise InvalidOption("timeout", f"must be a positive number of seconds, not {timeout}")
        if mode is not None and not 0 <= mode <= 0o7777:
            raise InvalidOption("mode", f"must be a permission mode such as 0750, not {mode}")
        self.access = (access or RemoteAccess()).for_url(self.url)
        self.dest = os.path.abspath(os.path.expanduser(local_path))
        self.remote = remote
        self.depth = depth
        self.local_changes = local_changes
        self.timeout = timeout
        self.mode = mode
        self.run_as = resolve_run_as(owner, group)
        self.signatures = signatures or SignaturePolicy()
        self.on_rewrite = on_rewrite
        self.lock_timeout = lock_timeout

    # -- the spec's interface -------------------------------------------------

    def sync(self, branch: str = "main") -> bool:
        """Clone or fetch and hard-reset to ``branch``; False (error logged) when it fails."""
        try:
            self.run(branch)
        except GitOpsError as error:
            log.error("sync of %s failed: %s", self.dest, error)
            return False
        return True

    def get_version(self) -> str | None:
        """The commit SHA at the checkout's HEAD; None (warning logged) on any failure."""
        try:
            with self._runner() as git:
                return git.run(["-C", self.dest, "rev-parse", "--verify", "--end-of-options", "HEAD^{commit}"],
                               summary=f"cannot read HEAD of {self.dest}").stdout.strip()
        except (GitOpsError, OSError) as error:
            log.warning("cannot read the version of %s: %s", self.dest, error)
            return None

    # -- the richer interface the modules use --------------------------------

    def plan(self, version: str = "main", *, revision: str | None = None) -> SyncPlan:
        """Decide, read-only, what ``run(version)`` would do."""
        with self._runner() as git:
            return self._plan(git, version, revision)

    def run(self, version: str = "main", *, revision: str | None = None, check_mode: bool = False,
            diff: bool = False) -> SyncResult:
        """Plan, then (unless ``check_mode``) apply, holding the checkout's lock.

        ``revision`` pins the commit ``version`` must be at: HEAD stays on a
        branch ``version`` but at exactly this commit. With ``version`` given
        as ``refs/heads/NAME`` or ``refs/tags/NAME`` the remote is not asked at all.
        """
        with self._runner() as git:
            if check_mode:
                return self._check(git, version, revision, diff)
            with CheckoutLock(self.dest, self.lock_timeout):
                plan = self._plan(git, version, revision)
                warnings = self._repair(plan)
                try:
                    backup_ref = self._apply(git, plan, version)
                except GitCommandError as error:
                    raise corrupt_or(error, self.dest) from None
            status = SyncStatus(SyncState.IN_SYNC, plan.after, plan.after, last_synced_at(git_dir(self.dest)))
            result = SyncResult(plan, status, backup_ref=backup_ref, warnings=warnings)
            if diff:
                result.diff = self._diff(git, plan)
            return result

    # -- internals -------------------------------------------------------------

    def _runner(self) -> GitRunner:
        return runner_for(self.url, self.timeout, self.run_as, self.access)

    def _check(self, git: GitRunner, version: str, revision: str | None, diff: bool) -> SyncResult:
        plan = self._plan(git, version, revision)
        warnings = [f"{self.dest}: would remove what an interrupted git run left: {', '.join(plan.leftovers)}"] if plan.leftovers else []
        if plan.changed and self.signatures.enabled:
            if plan.state.is_checkout and _has_commit(git, self.dest, plan.after):
                verify(git, self.dest, plan.target, self.signatures)
            else:
                warnings.append(f"{self.dest}: the signature of {short(plan.after)} is checked when it is fetched, "
                                "which check mode never does")
        status = SyncStatus(SyncState.DRIFTED if plan.changed else SyncState.IN_SYNC, plan.after, plan.before,
                            last_synced_at(plan.state.git_dir), list(plan.findings))
        return SyncResult(plan, status, diff=self._diff(git, plan) if diff else None, warnings=warnings)

    def _resolve(self, git: GitRunner, version: str, revision: str | None) -> Target:
        validate_ref_name("version", version)
        if revision is None:
            return resolve(git, self.url.clean, version, shown_url=self.url.display)
        if not is_commit_sha(revision):
            raise InvalidOption("revision", f"must be a full commit SHA, not '{revision}'")
        if is_commit_sha(version):
            if version != revision:
                raise InvalidOption("revision", f"{revision} contradicts version {version}")
            return Target(COMMIT, None, revision)
        for prefix, kind in (("refs/heads/", BRANCH), ("refs/tags/", TAG)):
            if version.startswith(prefix):
                return Target(kind, version[len(prefix):], revision)
        found = resolve(git, self.url.clean, version, shown_url=self.url.display)
        return Target(found.kind, found.name, revision)

    def _plan(self, git: GitRunner, version: str, revision: str | None) -> SyncPlan:
        try:
            state = read_checkout_state(git, self.dest, self.remote)
        except GitCommandError as error:
            raise corrupt_or(error, self.dest) from None
        found = tuple(leftovers(self.dest, state.git_dir))
        if not state.exists or state.empty:
            target = self._resolve(git, version, revision)
            self.signatures.check_target(target)
            findings = find_drift(git, state, desired=target.sha, branch=target.branch, remote=self.remote, distance=None)
            return SyncPlan(state, target, CLONE, tuple(findings), leftovers=found)
        if not state.is_checkout:
            raise DestinationError("dest", f"{self.dest} {state.problem}; it was left untouched. "
                                           "Point dest at an absent or empty folder, or move it away yourself.")
        if state.remote_url is None:
            raise DestinationError("dest", f"{self.dest} is a git checkout with no remote named '{self.remote}'; it was left untouched")
        if not self.url.same_repository(state.remote_url):
            raise DestinationError("repo", f"{self.dest} is a checkout of {redact_text(state.remote_url, self.url.secrets)}, "
                                           f"not of {self.url.display}; it was left untouched")
        target = self._resolve(git, version, revision)
        self.signatures.check_target(target)
        last_revision = read_state(state.git_dir).get("revision")
        distance = local_distance(git, state, target.sha)  # None too when the target is not fetched yet
        findings = find_drift(git, state, desired=target.sha, branch=target.branch, remote=self.remote, distance=distance,
                              last_revision=last_revision)
        findings += self._mode_findings()
        divergence = _divergence(distance, state.head, last_revision)
        self._refuse(state, divergence)
        return SyncPlan(state, target, UPDATE if findings else NONE, tuple(findings), divergence, found)

    def _refuse(self, state: CheckoutState, divergence: str | None) -> None:
        """Stop before anything changes when the policy says so - in check mode exactly as in a real run."""
        commits = [state.head or ""] if divergence == LOCAL_COMMITS else []
        if (state.changes or commits) and self.local_changes == "fail":
            raise LocalChangesError(self.dest, state.changes.modified, state.changes.untracked, commits)
        if divergence == REWRITTEN and self.on_rewrite == "fail":
            raise HistoryRewritten(self.dest, state.head or "")

    def _repair(self, plan: SyncPlan) -> list[str]:
        if not plan.leftovers:
            return []
        remove_leftovers(self.dest, plan.state.git_dir, plan.leftovers)
        return [f"{self.dest}: removed what an interrupted git run left: {', '.join(plan.leftovers)}"]

    def _apply(self, git: GitRunner, plan: SyncPlan, version: str) -> str | None:
        if plan.action == CLONE:
            self._clone(git, plan.target, version)
            return None
        if plan.action == NONE:
            return None
        state, target = plan.state, plan.target
        divergence = plan.divergence
        if state.head != target.sha:
            distance = self._fetch(git, self.dest, target, state=state)
            verify(git, self.dest, target, self.signatures)
            if divergence is None:
                divergence = _divergence(distance, state.head, read_state(state.git_dir).get("revision"))
                self._refuse(state, divergence)
        backup_ref = None
        if state.changes and self.local_changes == "backup":
            backup_ref = backup_local_changes(git, self.dest, state.head, target.sha)
        elif divergence and (divergence == REWRITTEN or self.local_changes == "backup"):
            backup_ref = keep_commit(git, self.dest, state.head or "", divergence)
        self._switch(git, self.dest, target, state.upstream)
        if state.changes.untracked:
            git.run(["-C", self.dest, "clean", "-d", "--force", "--quiet", "--"], summary="cannot remove untracked files")
        self._apply_mode(self.dest)
        record_sync(state.git_dir or "", target.sha, repo=self.url.display, version=version, chown=git.give)
        return backup_ref

    def _mode_findings(self) -> list[str]:
        current = stat.S_IMODE(os.stat(self.dest).st_mode)
        if self.mode is None or current == self.mode:
            return []
        return [f"mode of {self.dest} is {current:04o}, expected {self.mode:04o}"]

    def _apply_mode(self, path: str) -> None:
        if self.mode is not None and stat.S_IMODE(os.stat(path).st_mode) != self.mode:
            os.chmod(path, self.mode)

    def _clone(self, git: GitRunner, target: Target, version: str) -> None:
        """Clone next to ``dest`` and rename into place, so an interrupted clone never looks like a checkout."""
        final = os.path.realpath(self.dest)  # a symlink at dest stays a symlink; its target gets the clone
        _make_parents(os.path.dirname(final), git.give)
        in_place = os.path.isdir(final) and os.path.ismount(final)
        work = final if in_place else _sibling_dir(final)
        git.give(work)
        try:
            args = ["clone", "--quiet", "--no-checkout", "--origin", self.remote]
            if self.depth:
                args += ["--depth", str(self.depth)]
            if target.kind != COMMIT:
                args += ["--branch", target.name or ""]
            git.run([*args, "--", self.url.clean, work], summary=f"cannot clone {self.url.display}", network=True)
            self._fetch(git, work, target, only_if_missing=True)
            verify(git, work, target, self.signatures)
            self._switch(git, work, target, f"{self.remote}/{target.name}")
            self._apply_mode(work)
            record_sync(os.path.join(work, ".git"), target.sha, repo=self.url.display, version=version, chown=git.give)
            if not in_place:
                os.rename(work, final)
        except BaseException:
            if not in_place:
                shutil.rmtree(work, ignore_errors=True)
            raise

    def _fetch(self, git: GitRunner, path: str, target: Target, *, state: CheckoutState | None = None,
               only_if_missing: bool = False) -> Distance | None:
        """Fetch the target's ref from the URL, then make sure its commit is here (a pinned one may need its SHA).

        Returns the distance from the checkout's HEAD (``state``) to the target, which also proves that the commit
        is here: one git process for both.
        Fetching from the URL rather than the remote's name means no remote.*
        setting of the checkout (uploadpack, proxy...) is read. A fetch cut
        short leaves no temporary pack behind.
        """

        def here() -> tuple[bool, Distance | None]:
            distance = local_distance(git, state, target.sha) if state is not None else None
            return distance is not None or _has_commit(git, path, target.sha), distance

        if only_if_missing or target.kind == COMMIT:
            present, distance = here()
            if present:
                return distance
        args = ["-C", path, "fetch", "--quiet", "--no-tags", "--no-write-fetch-head"]
        if self.depth:
            args += ["--depth", str(self.depth)]
        summary = f"cannot fetch {target.describe()} from {self.url.display}"
        try:
            git.run([*args, "--", self.url.clean, target.refspec(self.remote)], summary=summary, network=True)
            present, distance = here()
            if present:
                return distance
            if target.kind != COMMIT:
                git.run([*args, "--", self.url.clean, target.sha], ok=(0, 1, 128), summary=summary, network=True)
        except GitCommandError:
            pack_leftovers = [p for p in leftovers(path, git_dir(path)) if os.sep + "objects" + os.sep in p]
            if pack_leftovers:
                remove_leftovers(path, git_dir(path), pack_leftovers)
            raise
        present, distance = here()
        if not present:
            option = "version" if target.kind == COMMIT else "revision"
            raise RefNotFound(option, target.sha, self.url.display,
                              "" if target.kind == COMMIT else f"the commit {target.describe()} was resolved to")
        return distance

    def _switch(self, git: GitRunner, path: str, target: Target, upstream: str | None) -> None:
        """Point HEAD at the target (on its branch, or detached) and force the working tree to match."""
        if target.kind == BRANCH:
            git.run(["-C", path, "checkout", "--quiet", "--force", "-B", target.name or "", target.sha, "--"],
                    summary=f"cannot check out {target.describe()}")
            if upstream != f"{self.remote}/{target.name}":
                git.run(["-C", path, "config", "--", f"branch.{target.name}.remote", self.remote])
                git.run(["-C", path, "config", "--", f"branch.{target.name}.merge", f"refs/heads/{target.name}"])
        else:
            git.run(["-C", path, "checkout", "--quiet", "--force", "--detach", target.sha, "--"],
                    summary=f"cannot check out {target.describe()}")

    def _diff(self, git: GitRunner, plan: SyncPlan) -> dict[str, str]:
        """Revisions, branch and local changes before and after, plus the files that change between them."""
        state, target = plan.state, plan.target
        before = [f"revision: {state.head}", f"branch: {state.branch or '(detached)'}"] if state.is_checkout else ["(no checkout)"]
        before += [f"modified: {p}" for p in state.changes.modified] + [f"untracked: {p}" for p in state.changes.untracked]
        after = [f"revision: {target.sha}", f"branch: {target.branch or '(detached)'}"]
        result = {
            "before_header": f"{self.dest} ({short(state.head)})",
            "after_header": f"{self.dest} ({short(target.sha)})",
            "before": "\n".join(before) + "\n",
            "after": "\n".join(after) + "\n",
        }
        if state.head and state.head != target.sha:
            files = git.run(["-C", self.dest, "diff", "--name-status", "--no-renames", "--no-ext-diff", "--no-textconv",
                             state.head, target.sha, "--"], ok=(0, 128))
            if files.rc == 0:
                result["prepared"] = f"files changed from {short(state.head)} to {short(target.sha)}:\n{files.stdout}"
            else:
                result["prepared"] = (f"files changed from {short(state.head)} to {short(target.sha)}: not known yet, "
                                      "the new commit has not been fetched (check mode never fetches)\n")
        return result


def _choice(option: str, value: str, choices: t.Sequence[str]) -> None:
    if value not in choices:
        raise InvalidOption(option, f"must be one of {', '.join(choices)}, not '{value}'")


def _divergence(distance: Distance | None, head: str | None, last_revision: str | None) -> str | None:
    """None when the target moves HEAD forward (or how they relate is unknown); else why not."""
    if distance is None or distance[0] == 0:
        return None
    return REWRITTEN if head == last_revision else LOCAL_COMMITS


def _make_parents(path: str, give: t.Callable[[str], None]) -> None:
    """Create the missing folders of ``path``, each handed to the user git runs as."""
    missing = []
    while not os.path.isdir(path):
        missing.append(path)
        path = os.path.dirname(path)
    for folder in reversed(missing):
        try:
            os.mkdir(folder)
        except FileExistsError:
            continue  # made meanwhile by a parallel clone
        give(folder)


def _has_commit(git: GitRunner, path: str, sha: str) -> bool:
    return git.run(["-C", path, "cat-file", "-e", f"{sha}^{{commit}}"], ok=(0, 1, 128)).rc == 0


def _sibling_dir(dest: str) -> str:
    """A new folder next to ``dest``, on the same filesystem so the final rename is atomic."""
    parent, name = os.path.split(dest)
    while True:
        path = os.path.join(parent, f".{name}.gitops-clone-{os.getpid()}-{secrets.token_hex(4)}")
        try:
            os.mkdir(path)
            return path
        except OSError as error:
            if error.errno != errno.EEXIST:
                raise
