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

import contextlib
import logging
import os
import typing as t
from dataclasses import replace

from ansible_collections.fleetops.gitops.plugins.module_utils._at_risk import AtRisk, flagged_entries, moved_branch, overwritten_paths
from ansible_collections.fleetops.gitops.plugins.module_utils._backup import Keep, backup, drop_backups, stale_backups
from ansible_collections.fleetops.gitops.plugins.module_utils._checkout_state import CheckoutState, corrupt_or, git_dir, read_checkout_state
from ansible_collections.fleetops.gitops.plugins.module_utils._clone import clone_beside, clone_command, refuse_configured_remote
from ansible_collections.fleetops.gitops.plugins.module_utils._dest_mode import apply_mode, mode_findings
from ansible_collections.fleetops.gitops.plugins.module_utils._errors import (
    DestinationError,
    GitCommandError,
    GitOpsError,
    HistoryRewritten,
    InvalidOption,
    LocalChangesError,
)
from ansible_collections.fleetops.gitops.plugins.module_utils._fetching import Fetch
from ansible_collections.fleetops.gitops.plugins.module_utils._files import resolve
from ansible_collections.fleetops.gitops.plugins.module_utils._findings import Desired, find_drift, listing, short
from ansible_collections.fleetops.gitops.plugins.module_utils._git import GitRunner, runner_for
from ansible_collections.fleetops.gitops.plugins.module_utils._history import Distance, Where, has_commit, how_far
from ansible_collections.fleetops.gitops.plugins.module_utils._identity import resolve_run_as
from ansible_collections.fleetops.gitops.plugins.module_utils._locks import CheckoutLock
from ansible_collections.fleetops.gitops.plugins.module_utils._options import SyncOptions
from ansible_collections.fleetops.gitops.plugins.module_utils._partial import complete, cone_of_switch, recorded_filter
from ansible_collections.fleetops.gitops.plugins.module_utils._peek import peek_at
from ansible_collections.fleetops.gitops.plugins.module_utils._refs import (
    BRANCH,
    COMMIT,
    TAG,
    Target,
    is_commit_sha,
    validate_ref_name,
)
from ansible_collections.fleetops.gitops.plugins.module_utils._refs import (
    resolve as resolve_version,
)
from ansible_collections.fleetops.gitops.plugins.module_utils._repair import find_leftovers, remove_leftovers
from ansible_collections.fleetops.gitops.plugins.module_utils._signatures import verify
from ansible_collections.fleetops.gitops.plugins.module_utils._sparse import set_sparse, sparse_findings
from ansible_collections.fleetops.gitops.plugins.module_utils._state_file import Record, last_synced_at, record_sync
from ansible_collections.fleetops.gitops.plugins.module_utils._status import SyncState, SyncStatus
from ansible_collections.fleetops.gitops.plugins.module_utils._sync_plan import (
    CLONE,
    LOCAL_COMMITS,
    NONE,
    REFRESH,
    REWRITTEN,
    UPDATE,
    SyncPlan,
    SyncResult,
    divergence_of,
    render_diff,
)
from ansible_collections.fleetops.gitops.plugins.module_utils._text import strip_prefix
from ansible_collections.fleetops.gitops.plugins.module_utils._url import parse_repo_url, redact_text, reject_control_characters, reject_option_like

__all__ = ["GitOpsSynchronizer", "SyncOptions", "SyncPlan", "SyncResult"]

log = logging.getLogger(__name__)


class GitOpsSynchronizer:
    """Clone-or-update synchronizer for one checkout of one repository."""

    def __init__(self, repo_url: str, local_path: str, options: SyncOptions | None = None, **changes: t.Any) -> None:
        """``options`` say how (the modules' defaults when absent); keyword arguments naming its fields change a few
        (``local_changes="fail"``), validated as the options are."""
        self.options = replace(options or SyncOptions(), **changes)
        self.url = parse_repo_url(repo_url, "repo")
        reject_control_characters("dest", local_path)
        reject_option_like("dest", local_path)
        if not local_path.strip():
            raise InvalidOption("dest", "must not be empty")
        self.access = self.options.access.for_url(self.url)
        self.dest = os.path.abspath(os.path.expanduser(local_path))
        self.run_as = resolve_run_as(self.options.owner, self.options.group)
        self.owner = self.run_as.ids if self.run_as else None  # who files we make for the checkout belong to
        self.owner_uid = self.run_as.uid if self.run_as else os.geteuid()

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
                return git.run(
                    ["-C", self.dest, "rev-parse", "--verify", "--end-of-options", "HEAD^{commit}"], summary=f"cannot read HEAD of {self.dest}"
                ).stdout.strip()
        except (GitOpsError, OSError) as error:
            log.warning("cannot read the version of %s: %s", self.dest, error)
            return None

    # -- the richer interface the modules use --------------------------------

    def plan(self, version: str = "main", *, revision: str | None = None) -> SyncPlan:
        """Decide, read-only, what ``run(version)`` would do (the target looked at in a peek when not here yet)."""
        with self._runner() as git:
            return self._check(git, version, revision, diff=False).plan

    def run(self, version: str = "main", *, revision: str | None = None, check_mode: bool = False, diff: bool = False) -> SyncResult:
        """Plan, then (unless ``check_mode``) apply, holding the checkout's lock.

        ``revision`` pins the commit ``version`` must be at: HEAD stays on a
        branch ``version`` but at exactly this commit. With ``version`` given
        as ``refs/heads/NAME`` or ``refs/tags/NAME`` the remote is not asked at all.
        A failure carries what was known (``error.revisions``: desired, actual) for the status it reports.
        """
        known: dict[str, str | None] = {}
        try:
            with self._runner() as git:
                if check_mode:
                    return self._check(git, version, revision, diff, known)
                with CheckoutLock(self.dest, self.options.lock_timeout):
                    state, target = self._read(git, version, revision, known)
                    with self._objects(git, state, target, self._may_refuse(state, target)) as where:
                        plan = self._plan(git, state, target, where)  # a refused run decided before its fetch: it wrote nothing
                    warnings = self._repair(plan)
                    stale = self._stale_backups(git, plan)
                    try:
                        plan, backup_ref = self._apply(git, plan, version)
                        drop_backups(git, ("-C", self.dest), stale)
                    except GitCommandError as error:
                        raise corrupt_or(error, self.dest) from None
                status = SyncStatus(SyncState.IN_SYNC, plan.after, plan.after, last_synced_at(git_dir(self.dest)))
                result = SyncResult(plan, status, backup_ref=backup_ref, warnings=warnings, removed_backups=stale)
                if diff:
                    result.diff = render_diff(git, Where.checkout(self.dest), self.dest, plan, self.options.sparse)
                return result
        except GitOpsError as error:
            error.revisions = (known.get("desired"), known.get("actual"))
            raise

    @contextlib.contextmanager
    def target_objects(self, result: SyncResult | None, *, check_mode: bool) -> t.Iterator[tuple[GitRunner, Where]]:
        """A runner, and where the objects of the commit ``result`` deployed are: the checkout after a real run (or
        with no ``result``); in check mode, the checkout, or a peek that fetched them as the real run would (nothing
        written here)."""
        with contextlib.ExitStack() as stack:
            git = stack.enter_context(self._runner())
            where = Where.checkout(self.dest)
            if check_mode and result is not None:
                where = stack.enter_context(self._objects(git, result.plan.state, result.plan.target, True))
            yield git, where

    # -- internals -------------------------------------------------------------

    def _runner(self) -> GitRunner:
        return runner_for(self.url, self.options.timeout, self.run_as, self.access)

    def _check(self, git: GitRunner, version: str, revision: str | None, diff: bool, known: dict[str, str | None] | None = None) -> SyncResult:
        """The plan with the target looked at where the real run would have it: in a peek when it is not here yet."""
        state, target = self._read(git, version, revision, {} if known is None else known)
        with self._objects(git, state, target, self._worth_a_look(state, target, revision is not None, diff)) as where:
            plan = self._plan(git, state, target, where)
            warnings = [f"{self.dest}: would remove what an interrupted git run left: {listing([str(p) for p in plan.leftovers])}"] if plan.leftovers else []
            if plan.changed or (plan.action == REFRESH and plan.findings):
                verify(git, where, plan.target, self.options.signatures)  # in the objects the real run would check
            status = SyncStatus(
                SyncState.DRIFTED if plan.changed else SyncState.IN_SYNC,
                plan.after,
                plan.before,
                last_synced_at(plan.state.git_dir),
                list(plan.findings) if plan.changed else [],
            )
            rendered = render_diff(git, where, self.dest, plan, self.options.sparse) if diff else None
            return SyncResult(plan, status, diff=rendered, warnings=warnings, removed_backups=self._stale_backups(git, plan))

    @contextlib.contextmanager
    def _objects(self, git: GitRunner, state: CheckoutState, target: Target, look: bool) -> t.Iterator[Where]:
        """Where the plan finds the target's objects: the checkout, or (``look``, and the target not here) a peek
        that fetched them as the real run would, failing as it would."""
        where = Where.checkout(self.dest, state.git_dir)
        tag_object = target.kind == TAG and self.options.signatures.mode in ("tag", "both")  # verified as fetched
        if not look or (state.is_checkout and not tag_object and (state.head == target.sha or has_commit(git, where, target.sha))):
            yield where
        else:
            fetch = Fetch(git, self.url, self.options.remote, filter=self._partial(state.partial if state.is_checkout else self.options.filter))
            with peek_at(fetch, state.git_dir if state.is_checkout else None, target, (state.head or "",)) as peek:
                yield replace(peek, shallow=where.shallow)

    def _worth_a_look(self, state: CheckoutState, target: Target, pinned: bool, diff: bool) -> bool:
        """Whether check mode must see the target's objects to predict the real run exactly.

        A commit asked for by its SHA (ls-remote has not named it) may not exist; a tag may not name a commit;
        refusals (``fail`` policies), signatures and ``--diff`` depend on the objects. Otherwise - a branch that
        moved, the common audit - the plan, "changed", is exact without them, and costs no fetch.
        """
        if state.head == target.sha:
            return target.kind == TAG and self.options.signatures.mode in ("tag", "both")
        if target.kind == TAG or (target.kind == COMMIT and not pinned) or self.options.signatures.enabled:
            return True
        return state.is_checkout and (diff or self._may_refuse(state, target))

    def _stale_backups(self, git: GitRunner, plan: SyncPlan) -> list[str]:
        """Old backup refs that a run which changes the checkout removes (``keep_backups``, ``backup_max_age``)."""
        if not plan.changed or not plan.state.is_checkout:
            return []
        return stale_backups(git, ("-C", self.dest), self.options.keep_backups, self.options.backup_max_age)

    def _may_refuse(self, state: CheckoutState, target: Target) -> bool:
        """Whether a run may refuse once it sees the target's objects (a real run then looks before fetching)."""
        return state.is_checkout and state.head != target.sha and "fail" in (self.options.local_changes, self.options.on_rewrite)

    def _read(self, git: GitRunner, version: str, revision: str | None, known: dict[str, str | None]) -> tuple[CheckoutState, Target]:
        """The checkout as found and the commit ``version`` names; refuses a dest that is not a checkout of ``repo``."""
        try:
            state = read_checkout_state(git, self.dest, self.options.remote, self.owner_uid)
        except GitCommandError as error:
            raise corrupt_or(error, self.dest) from None
        known["actual"] = state.head
        if state.exists and not state.empty:
            if not state.is_checkout:
                raise DestinationError(
                    "dest", f"{self.dest} {state.problem}; it was left untouched. Point dest at an absent or empty folder, or move it away yourself."
                )
            if state.remote_url is None:
                raise DestinationError("dest", f"{self.dest} is a git checkout with no remote named '{self.options.remote}'; it was left untouched")
            if not self.url.same_repository(state.remote_url):
                raise DestinationError(
                    "repo", f"{self.dest} is a checkout of {redact_text(state.remote_url, self.url.secrets)}, not of {self.url.display}; it was left untouched"
                )
        target = self._resolve(git, version, revision)
        known["desired"] = target.sha
        self.options.signatures.check_target(target)
        return state, target

    def _resolve(self, git: GitRunner, version: str, revision: str | None) -> Target:
        validate_ref_name("version", version)
        if revision is None:
            return resolve_version(git, self.url.clean, version, shown_url=self.url.display)
        if not is_commit_sha(revision):
            raise InvalidOption("revision", f"must be a full commit SHA, not '{revision}'")
        if is_commit_sha(version):
            if version != revision:
                raise InvalidOption("revision", f"{revision} contradicts version {version}")
            return Target(COMMIT, None, revision)
        for prefix, kind in (("refs/heads/", BRANCH), ("refs/tags/", TAG)):
            if version.startswith(prefix):
                return Target(kind, strip_prefix(version, prefix), revision)
        found = resolve_version(git, self.url.clean, version, shown_url=self.url.display)
        return Target(found.kind, found.name, revision)

    def _plan(self, git: GitRunner, state: CheckoutState, target: Target, where: Where) -> SyncPlan:
        """What a sync would do, from the objects in ``where``; refuses (raises) as the policies say."""
        found = tuple(find_leftovers(self.dest, state.git_dir, self.owner_uid))
        if not state.is_checkout:
            findings = find_drift(state, Desired(target.sha, target.branch, self.options.remote))
            return SyncPlan(state, target, CLONE, tuple(findings), leftovers=found)
        record = Record.read(state.git_dir, self.owner_uid)
        distance = how_far(git, where, state.head, target.sha)  # None too when the target is not there
        divergence = divergence_of(distance, state.head, record, target, shallow=where.shallow)
        findings = find_drift(state, Desired(target.sha, target.branch, self.options.remote, distance, divergence == REWRITTEN))
        mode = mode_findings(self.dest, self.options.mode)
        sparse = sparse_findings(state.sparse, self.options.sparse)
        changing = state.head != target.sha or bool(state.changes) or bool(mode) or bool(sparse)
        action = UPDATE if changing else REFRESH if findings or (record and record.revision != state.head) else NONE
        plan = SyncPlan(state, target, action, tuple(findings + mode + sparse), divergence, found, record=record, shallow=where.shallow)
        if plan.action == UPDATE:
            plan = self._with_risk(git, plan, where, distance, flagged_entries(git, self.dest))
        self._refuse(plan)
        return plan

    def _with_risk(self, git: GitRunner, plan: SyncPlan, where: Where, distance: Distance | None, flagged: tuple[str, ...]) -> SyncPlan:
        """The plan, with what the switch would destroy besides ``git status``'s changes, as far as the objects in
        ``where`` tell: with the target not there, ``risk.overwritten`` is None and the branch's distance unknown."""
        state, target = plan.state, plan.target
        present = state.head == target.sha or distance is not None  # else fetched first, and looked at again then
        tip, tip_distance = moved_branch(git, where, self.dest, state.branch, target.branch, target.sha)
        overwritten: tuple[str, ...] | None = ()
        if state.head and state.head != target.sha:
            overwritten = overwritten_paths(git, where, self.dest, state.head, target.sha, set(state.changes.untracked)) if present else None
        risk = AtRisk(flagged, overwritten, target.branch if tip else None, tip, tip_distance)
        findings = list(plan.findings)
        if risk.flagged:
            findings.append(f"files whose edits git hides (assume-unchanged or skip-worktree): {listing(risk.flagged)}")
        if risk.overwritten:
            findings.append(f"ignored files the new revision would overwrite: {listing(risk.overwritten)}")
        if divergence_of(tip_distance, tip, plan.record, target, shallow=plan.shallow):
            findings.append(f"local branch '{risk.branch}' has commits the new revision does not contain, up to {short(tip)}")
        return replace(plan, risk=risk, findings=tuple(dict.fromkeys(findings)))

    def _refuse(self, plan: SyncPlan) -> None:
        """Stop before anything changes when the policy says so - in check mode exactly as in a real run."""
        state, risk = plan.state, plan.risk
        commits = [state.head or ""] if plan.divergence == LOCAL_COMMITS else []
        if plan.branch_divergence == LOCAL_COMMITS:
            commits.append(f"{risk.branch_tip} (branch {risk.branch})")
        if self.options.local_changes == "fail" and (state.changes or risk.flagged or risk.overwritten or commits):
            raise LocalChangesError(self.dest, dict(plan.local_changes, commits=commits, flagged=risk.flagged))
        if REWRITTEN in (plan.divergence, plan.branch_divergence) and self.options.on_rewrite == "fail":
            raise HistoryRewritten(self.dest, (state.head if plan.divergence == REWRITTEN else risk.branch_tip) or "")

    def _repair(self, plan: SyncPlan) -> list[str]:
        if not plan.leftovers:
            return []
        remove_leftovers(self.dest, plan.state.git_dir, plan.leftovers)
        return [f"{self.dest}: removed what an interrupted git run left: {listing([str(p) for p in plan.leftovers])}"]

    def _apply(self, git: GitRunner, plan: SyncPlan, version: str) -> tuple[SyncPlan, str | None]:
        """Do what the plan says; the plan as the fetched objects completed it, and the backup ref if one was made."""
        if plan.action == CLONE:
            self._clone(git, plan.target, version)
            return plan, None
        if plan.action == NONE:
            return plan, None
        state, target = plan.state, plan.target
        if plan.action == REFRESH:
            if plan.findings:  # HEAD's attachment: the same commit, with its local ref (a tag's signature counts too)
                self._fetch(git, self.dest, target, state=state)
                verify(git, Where.checkout(self.dest), target, self.options.signatures)
                self._switch(git, self.dest, target, state.upstream)
            self._record(state.git_dir or "", target, version)
            return plan, None
        if state.head != target.sha:
            distance = self._fetch(git, self.dest, target, state=state)
            verify(git, Where.checkout(self.dest), target, self.options.signatures)
            if plan.risk.overwritten is None or (plan.risk.branch_tip and plan.risk.branch_distance is None):
                where = Where.checkout(self.dest, state.git_dir)
                unknown = replace(plan, divergence=divergence_of(distance, state.head, plan.record, target, shallow=where.shallow))
                plan = self._with_risk(git, unknown, where, distance, plan.risk.flagged)
                self._refuse(plan)  # what only the fetched objects could tell
        risk = plan.risk
        keep = [
            tip
            for tip, why in ((state.head, plan.divergence), (risk.branch_tip, plan.branch_divergence))
            if why == REWRITTEN or (why == LOCAL_COMMITS and self.options.local_changes == "backup")
        ]
        changes = bool(state.changes or risk.flagged or risk.overwritten) and self.options.local_changes == "backup"
        backup_ref = backup(
            git,
            self.dest,
            Keep(state.head, target.sha, changes, risk.overwritten or (), tuple(keep), state.changes.nested, state.sparse if state.sparse.enabled else None),
        )
        for flag in ("--no-assume-unchanged", "--no-skip-worktree") if risk.flagged else ():  # one flag per update-index
            git.run(["-C", self.dest, "update-index", flag, "--", *risk.flagged], summary="cannot clear the index flags")
        self._switch(git, self.dest, target, state.upstream)
        if state.changes.untracked:
            git.run(["-C", self.dest, "clean", "-d", "--force", "--quiet", "--"], summary="cannot remove untracked files")
        if sparse_findings(state.sparse, self.options.sparse):  # on the clean tree: nothing of the user's is in the way
            if state.head == target.sha and state.partial:  # else the fetch brought the new cone's files
                complete(git, Where.checkout(self.dest), self.url, target.sha, self.options.sparse)
            set_sparse(git, self.dest, self.options.sparse)
        apply_mode(self.dest, self.options.mode)
        self._record(state.git_dir or "", target, version)
        return plan, backup_ref

    def _record(self, directory: str, target: Target, version: str) -> None:
        record_sync(directory, Record(target.sha, target.kind, target.name, version, self.url.display), owner=self.owner)

    def _clone(self, git: GitRunner, target: Target, version: str) -> None:
        """Clone beside ``dest`` and rename into place, so an interrupted clone never looks like a checkout."""
        refuse_configured_remote(git, self.options.remote)

        def make(work: str) -> None:
            args = clone_command(self.url.clean, self.options.remote, target, depth=self.options.depth, partial=self.options.filter)
            git.run([*args, work], summary=f"cannot clone {self.url.display}", network=True)
            self._fetch(git, work, target, only_if_missing=True)
            verify(git, Where.checkout(work), target, self.options.signatures)
            if self.options.sparse is not None:  # before the first checkout: no file outside the cone is ever written
                set_sparse(git, work, self.options.sparse)
            self._switch(git, work, target, f"{self.options.remote}/{target.name}")
            apply_mode(work, self.options.mode)
            self._record(os.path.join(work, ".git"), target, version)

        clone_beside(resolve(self.dest), self.owner, make)  # a link at dest stays a link (if root's): its target gets the clone

    def _fetch(self, git: GitRunner, path: str, target: Target, *, state: CheckoutState | None = None, only_if_missing: bool = False) -> Distance | None:
        """Fetch the target into ``path``; the distance from the checkout's HEAD (``state``) to it, which also proves
        the commit is here: one git process for both. A fetch cut short leaves no temporary pack behind. A partial
        clone also gets the objects the filter left out that checking the target out needs."""
        where = Where.checkout(path)
        distance: Distance | None = None
        partial = self._partial(state.partial if state is not None else recorded_filter(git, path, self.options.remote))

        def present() -> bool:
            nonlocal distance
            distance = how_far(git, where, state.head, target.sha) if state is not None else None
            return distance is not None or has_commit(git, where, target.sha)

        try:
            if not (only_if_missing and present()):
                Fetch(git, self.url, self.options.remote, self.options.depth, partial).target(where, target, present, missing=only_if_missing)
            if partial:
                complete(git, where, self.url, target.sha, cone_of_switch(state.sparse, self.options.sparse) if state else self.options.sparse)
        except GitCommandError:
            git_dir = os.path.join(path, ".git")
            packs = [item for item in find_leftovers(path, git_dir, self.owner_uid) if item.is_objects]
            if packs:
                remove_leftovers(path, git_dir, packs)
            raise
        return distance

    def _partial(self, recorded: str | None) -> str | None:
        """The filter fetches into a repository whose own is ``recorded`` use (None: everything): the ``filter``
        option, once the repository is a partial clone (or for a clone to make); a full clone stays one."""
        return (self.options.filter or recorded) if recorded else None

    def _switch(self, git: GitRunner, path: str, target: Target, upstream: str | None) -> None:
        """Point HEAD at the target (on its branch, or detached) and force the working tree to match."""
        if target.kind == BRANCH:
            git.run(["-C", path, "checkout", "--quiet", "--force", "-B", target.name or "", target.sha, "--"], summary=f"cannot check out {target.describe()}")
            if upstream != f"{self.options.remote}/{target.name}":
                git.run(["-C", path, "config", "--", f"branch.{target.name}.remote", self.options.remote])
                git.run(["-C", path, "config", "--", f"branch.{target.name}.merge", f"refs/heads/{target.name}"])
        else:
            git.run(["-C", path, "checkout", "--quiet", "--force", "--detach", target.sha, "--"], summary=f"cannot check out {target.describe()}")
