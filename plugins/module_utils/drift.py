# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Public API: the drift-detection synchronizer.

``GitOpsSynchronizer(repo_path, target_branch)`` compares the desired revision
(the tip of the target branch on the checkout's remote, or with
``compare_to="local"`` the local branch ref, read with no network) with the
revision actually deployed (the one the last sync recorded; HEAD when none
was), reports each difference as a readable line, and records
reconciliations. Reading never writes and never raises for a missing or
foreign path: such a path gives a status.

Example::

    from ansible_collections.fleetops.gitops.plugins.module_utils.drift import GitOpsSynchronizer

    status = GitOpsSynchronizer("/srv/app", "main").sync_state()
    print(status.state.name, status.drift_details)
"""

from __future__ import annotations

import logging
import os
import typing as t
from dataclasses import dataclass, field, replace

from ansible_collections.fleetops.gitops.plugins.module_utils._checkout_state import CheckoutState, git_dir, read_checkout_state
from ansible_collections.fleetops.gitops.plugins.module_utils._errors import DriftUnknown, GitOpsError, InvalidOption
from ansible_collections.fleetops.gitops.plugins.module_utils._findings import Desired, find_drift
from ansible_collections.fleetops.gitops.plugins.module_utils._git import GitRunner, runner_for
from ansible_collections.fleetops.gitops.plugins.module_utils._history import Where, how_far
from ansible_collections.fleetops.gitops.plugins.module_utils._identity import resolve_run_as
from ansible_collections.fleetops.gitops.plugins.module_utils._options import DriftOptions
from ansible_collections.fleetops.gitops.plugins.module_utils._peek import ahead_behind
from ansible_collections.fleetops.gitops.plugins.module_utils._refs import BRANCH, Target, resolve, validate_ref_name
from ansible_collections.fleetops.gitops.plugins.module_utils._release_layout import Layout, current_release
from ansible_collections.fleetops.gitops.plugins.module_utils._sparse import sparse_findings
from ansible_collections.fleetops.gitops.plugins.module_utils._state_file import Record, last_synced_at, record_sync, utc_now
from ansible_collections.fleetops.gitops.plugins.module_utils._status import SyncState, SyncStatus
from ansible_collections.fleetops.gitops.plugins.module_utils._submodule_sync import submodule_drift, sync_tree
from ansible_collections.fleetops.gitops.plugins.module_utils._sync_plan import REWRITTEN, divergence_of
from ansible_collections.fleetops.gitops.plugins.module_utils._text import strip_prefix
from ansible_collections.fleetops.gitops.plugins.module_utils._url import RepoUrl, origin_of, parse_repo_url
from ansible_collections.fleetops.gitops.plugins.module_utils.checkout import GitOpsSynchronizer as CheckoutSynchronizer
from ansible_collections.fleetops.gitops.plugins.module_utils.checkout import SyncResult
from ansible_collections.fleetops.gitops.plugins.module_utils.releases import ReleaseSynchronizer

__all__ = ["DriftOptions", "DriftResult", "GitOpsSynchronizer", "SyncState", "SyncStatus"]

log = logging.getLogger(__name__)

DEFAULT_BRANCH = "HEAD"  # as a branch: the remote's default branch (the modules' default; the spec's is main)


@dataclass
class DriftResult:
    """What ``run()`` found and, when asked to reconcile, what the sync did."""

    found: SyncStatus
    status: SyncStatus
    sync: SyncResult | None = None
    diff: dict[str, str] | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def drifted(self) -> bool:
        return self.found.state is SyncState.DRIFTED

    def to_dict(self) -> dict[str, t.Any]:
        result = {
            "changed": self.drifted,
            "drifted": self.drifted,
            "drift_details": list(self.found.drift_details),
            "reconciled": self.sync is not None,
            "status": self.status.to_dict(),
        }
        if self.sync is not None:
            result.update(before=self.sync.plan.before, after=self.sync.plan.after, backup_ref=self.sync.backup_ref)
        if self.diff is not None:
            result["diff"] = self.diff
        return result


class GitOpsSynchronizer:
    """Drift detection for one checkout against the head of its target branch.

    ``compare_to="remote"`` (the default, as in gitops_drift) asks the remote (``repo_url``, else the checkout's
    configured ``remote``) with one read-only ``git ls-remote``; ``"local"`` reads the local branch ref.
    """

    def __init__(self, repo_path: str, target_branch: str = "main", options: DriftOptions | None = None, **changes: t.Any) -> None:
        """``options`` say how (``compare_to="remote"`` and the spec's 10-second timeout when absent); keyword
        arguments naming its fields change a few (``compare_to="local"``), validated as the options are."""
        validate_ref_name("branch", target_branch)
        self.options = replace(options or DriftOptions(), **changes)
        self.repo_path = os.path.abspath(os.path.expanduser(repo_path))
        self.target_branch = target_branch
        self.branch: str | None = None if target_branch == DEFAULT_BRANCH else target_branch  # HEAD: known once asked
        self.repo_url: RepoUrl | None = parse_repo_url(self.options.repo_url) if self.options.repo_url else None
        self.run_as = resolve_run_as(self.options.owner, self.options.group)
        self.last_error: str | None = None
        self.failure: GitOpsError | None = None  # the error behind last_error, kept whole for the modules
        self.checkout: CheckoutState | None = None
        self._status = SyncStatus(last_synced_at=last_synced_at(git_dir(repo_path)))

    def sync_state(self) -> SyncStatus:
        """Read the desired revision and the actual one, and every other difference; never raises for git trouble.

        The actual revision is the one tracked: the record ``reconcile()`` and every sync of gitops_sync write in the
        checkout's git directory; HEAD only when nothing was ever recorded. HEAD elsewhere is a finding of its own.
        Without a desired revision (no branch to read) the state is UNKNOWN, never DRIFTED.
        """
        self.last_error, self.failure = None, None
        with self._runner() as git:
            try:
                if self.options.releases.releases:
                    current_release(Layout.of(self.repo_path, self.options.releases.releases_dir))  # refuses all but a release's link
                state = read_checkout_state(git, self.repo_path, self.options.remote, self.run_as.uid if self.run_as else None)
                self.checkout = state
                self._trust_configured_origin(git, state)
                desired = self._get_head_revision(git, state)
                record = Record.read(state.git_dir, self.run_as.uid if self.run_as else None) if state.is_checkout else None
                actual = record.revision if record else state.head
                url = (self.repo_url or self._configured_url(state)) if self.options.compare_to == "remote" else None
                where = Where.checkout(self.repo_path, state.git_dir)
                distance = how_far(git, where, actual, desired)
                if distance is None and url is not None and actual and desired and actual != desired:
                    distance = ahead_behind(git, state.git_dir or "", actual, url, desired, state.partial)  # not fetched yet: a peek
                divergence = divergence_of(distance, actual, record, Target(BRANCH, self.branch, desired or ""), shallow=where.shallow)
                moved = how_far(git, where, state.head, actual) if record else None
                findings = find_drift(
                    state,
                    Desired(
                        desired,
                        None if self.options.releases.releases else self.branch,  # a release is a detached HEAD at its commit
                        self.options.remote,
                        distance,
                        divergence == REWRITTEN,
                        record.revision if record else None,
                        moved,
                        self.repo_url,
                    ),
                )
                if state.is_checkout:
                    findings += sparse_findings(state.sparse, self.options.sparse)  # what a reconcile would set
                if state.is_checkout and state.head and self.options.submodules:
                    findings += submodule_drift(self._checkout_synchronizer(), state.head)
            except GitOpsError as error:
                self._fail(str(error), error)
                self._status = SyncStatus(SyncState.ERROR, None, None, self._status.last_synced_at, [str(error)])
                return self._status
        if desired is None:
            state_name = SyncState.UNKNOWN
            findings.append(f"desired revision unknown: {self.last_error or 'no branch to compare with'}")
        else:
            state_name = SyncState.DRIFTED if findings else SyncState.IN_SYNC
        self._status = SyncStatus(state_name, desired, actual, last_synced_at(state.git_dir), findings)
        return self._status

    def detect_drift(self) -> bool:
        """True iff the desired and the actual (tracked) revision differ, read afresh; False when desired is unknown."""
        status = self.sync_state()
        return status.desired_revision is not None and status.desired_revision != status.actual_revision

    def reconcile(self, deploy: t.Callable[[str], str] | None = None) -> SyncStatus:
        """Make the actual revision the desired one and record when.

        Without ``deploy`` this changes tracking state only (the record in the
        checkout's git directory), as a deployment tool would after deploying
        by other means. With ``deploy`` (a callable taking the desired revision
        and returning the revision deployed), the deployment happens first.
        """
        if self._status.desired_revision is None:
            self.sync_state()
        desired = self._status.desired_revision
        if desired is None:
            self._status = replace(
                self._status, state=SyncState.ERROR, drift_details=[f"cannot reconcile: the desired revision is unknown ({self.last_error or 'no target'})"]
            )
            return self._status
        self._status = replace(self._status, state=SyncState.SYNCING)
        if deploy is not None:
            try:
                actual = deploy(desired)
            except GitOpsError as error:
                self._status = replace(self._status, state=SyncState.ERROR, drift_details=[str(error)])
                raise
            when = last_synced_at(git_dir(self.repo_path)) or utc_now()
        else:
            actual = desired
            directory = git_dir(self.repo_path)
            owner = self.run_as.ids if self.run_as else None
            when = record_sync(directory, Record(desired, BRANCH, self.branch, self.target_branch), owner=owner) if directory else utc_now()
        self._status = SyncStatus(SyncState.IN_SYNC, desired, actual, when, [])
        return self._status

    def run(self, *, reconcile: bool = False, check_mode: bool = False, diff: bool = False) -> DriftResult:
        """Detect drift and, if asked (and not in check mode), reconcile through the clone/pull synchronizer.

        Raises GitOpsError when drift cannot be judged (the desired revision is
        unknown), so an audit never reports "in sync" for a checkout it could not read.
        """
        found = self.sync_state()
        if found.state in (SyncState.UNKNOWN, SyncState.ERROR):
            error = DriftUnknown(f"cannot tell whether {self.repo_path} drifted: {self.last_error}", self.failure)
            error.revisions = (found.desired_revision, found.actual_revision)
            raise error from self.failure
        result = DriftResult(found, found)
        if found.desired_revision is None and self.last_error:
            result.warnings.append(f"{self.repo_path}: drift found, but the desired revision is unknown: {self.last_error}")
        if found.state is not SyncState.DRIFTED or not (reconcile or diff):
            return result
        if found.desired_revision is None:
            if reconcile:
                raise GitOpsError(f"cannot reconcile {self.repo_path}: the desired revision is unknown ({self.last_error})")
            return result
        checkout = self._checkout_synchronizer()
        ref = f"refs/heads/{self.branch}"
        if check_mode or not reconcile:
            # planning the sync read-only also fails where the real run would (local_changes=fail)
            result.diff = sync_tree(checkout, ref, revision=found.desired_revision, check_mode=True, diff=diff).result.diff
            return result

        def deploy(desired: str) -> str:
            result.sync = sync_tree(checkout, ref, revision=desired, diff=diff).result
            return result.sync.plan.after

        result.status = self.reconcile(deploy)
        result.diff = result.sync.diff if result.sync else None
        return result

    def _checkout_synchronizer(self) -> CheckoutSynchronizer:
        url = self.repo_url or self._configured_url(self.checkout)
        if url is None:
            raise InvalidOption("repo", f"is required to reconcile {self.repo_path}: there is no checkout to read the remote URL from")
        if self.options.releases.releases:
            return ReleaseSynchronizer(url.raw, self.repo_path, self.options.sync_options())
        return CheckoutSynchronizer(url.raw, self.repo_path, self.options.sync_options())

    def get_sync_status(self) -> SyncStatus:
        """The last known status, without asking git again."""
        return self._status

    def _get_head_revision(self, git: GitRunner | None = None, state: CheckoutState | None = None) -> str | None:
        """The desired revision: head of the target branch; None (with a warning logged) on any failure.

        A ``revision`` given to the constructor (resolved once, elsewhere) is the answer without asking git.
        """
        if self.options.revision is not None:
            return self.options.revision
        if git is None:
            with self._runner() as own:
                return self._get_head_revision(own, state)
        try:
            if state is None:  # called on its own (the spec's method): the checkout says which remote to ask
                state = read_checkout_state(git, self.repo_path, self.options.remote, self.run_as.uid if self.run_as else None)
                self._trust_configured_origin(git, state)
            if self.options.compare_to == "remote":
                url = self.repo_url or self._configured_url(state)
                if url is None:
                    self._fail("no repository URL to ask: give repo, or a checkout with a configured remote")
                    return None
                asked = f"refs/heads/{self.branch}" if self.branch else DEFAULT_BRANCH
                target = resolve(git, url.clean, asked, shown_url=url.display, option="branch")
                self.branch = target.name if target.kind == BRANCH else self.branch
                return target.sha if target.kind == BRANCH else None
            if state is not None and not state.is_checkout:
                return None
            if self.branch is None:
                self.branch = self._local_default_branch(git)
                if self.branch is None:
                    return None
            result = git.run(["-C", self.repo_path, "rev-parse", "--verify", "--quiet", "--end-of-options", f"refs/heads/{self.branch}^{{commit}}"], ok=(0, 1))
            if result.rc != 0:
                self._fail(f"the local branch '{self.branch}' does not exist")
                return None
            return result.stdout.strip()
        except GitOpsError as error:
            self._fail(str(error), error)
            return None

    def _local_default_branch(self, git: GitRunner) -> str | None:
        """The remote's default branch as the checkout last heard of it (``refs/remotes/<remote>/HEAD``), with no network."""
        found = git.run(["-C", self.repo_path, "symbolic-ref", "--quiet", "--", f"refs/remotes/{self.options.remote}/HEAD"], ok=(0, 1, 128)).stdout.strip()
        prefix = f"refs/remotes/{self.options.remote}/"
        if not found.startswith(prefix):
            self._fail(f"the checkout does not know the default branch of '{self.options.remote}' (no refs/remotes/{self.options.remote}/HEAD): give branch")
            return None
        return strip_prefix(found, prefix)

    def _trust_configured_origin(self, git: GitRunner, state: CheckoutState) -> None:
        """Without ``repo``, credentials may go to the origin the checkout's own config names - unless git runs as the
        checkout's owner, who could point that config anywhere (credentials are then given only with ``repo``)."""
        if self.repo_url is None and self.run_as is None:
            configured = self._configured_url(state)
            git.origin = origin_of(configured.clean) if configured else None

    def _configured_url(self, state: CheckoutState | None) -> RepoUrl | None:
        if state is None or not state.remote_url:
            return None
        try:
            return parse_repo_url(state.remote_url, f"remote.{self.options.remote}.url")
        except InvalidOption as error:
            self._fail(str(error), error)
            return None

    def _runner(self) -> GitRunner:
        return runner_for(self.repo_url, self.options.timeout, self.run_as, self.options.access)

    def _fail(self, message: str, error: GitOpsError | None = None) -> None:
        self.last_error, self.failure = message, error
        log.warning("%s: %s", self.repo_path, message)
