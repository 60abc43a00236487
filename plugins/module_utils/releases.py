# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Public API: the clone/pull synchronizer in the release layout - each revision a complete tree, ``dest`` a link.

``ReleaseSynchronizer(repo_url, "/srv/app/current")`` keeps ``/srv/app/releases/<time>-<commit>`` folders, git
worktrees of one bare repository (``/srv/app/repo``), and points ``/srv/app/current`` at one of them with a single
``rename()``: the application reads the old tree or the new one, never a mix. A new release is validated before
it is published, a rollback is a switch back with no network, old releases are removed after a switch, and
every switch is appended to a history file. Local changes in a release are drift, as in a checkout: backed up,
refused or discarded as ``local_changes`` says. Deciding is read-only; check mode writes nothing anywhere.

Example::

    from ansible_collections.fleetops.gitops.plugins.module_utils.releases import ReleaseSynchronizer

    sync = ReleaseSynchronizer("https://git.example.com/app.git", "/srv/app/current", validate="test -f %s/index.html")
    sync.run("main")
    sync.run(rollback=True)
"""

from __future__ import annotations

import contextlib
import os
import typing as t
from dataclasses import replace
from datetime import datetime, timezone

from ansible_collections.fleetops.gitops.plugins.module_utils._at_risk import flagged_entries
from ansible_collections.fleetops.gitops.plugins.module_utils._backup import Keep, backup, drop_backups, stale_backups
from ansible_collections.fleetops.gitops.plugins.module_utils._checkout_state import CheckoutState, read_release_state
from ansible_collections.fleetops.gitops.plugins.module_utils._clone import clone_beside, clone_command, refuse_configured_remote
from ansible_collections.fleetops.gitops.plugins.module_utils._config_file import read_plain_config
from ansible_collections.fleetops.gitops.plugins.module_utils._errors import (
    DestinationError,
    GitOpsError,
    InvalidOption,
    LocalChangesError,
    ValidationFailed,
)
from ansible_collections.fleetops.gitops.plugins.module_utils._fetching import Fetch
from ansible_collections.fleetops.gitops.plugins.module_utils._files import open_folder, remove_tree
from ansible_collections.fleetops.gitops.plugins.module_utils._findings import change_findings, listing, short
from ansible_collections.fleetops.gitops.plugins.module_utils._git import GitRunner
from ansible_collections.fleetops.gitops.plugins.module_utils._history import Where, has_commit
from ansible_collections.fleetops.gitops.plugins.module_utils._locks import CheckoutLock
from ansible_collections.fleetops.gitops.plugins.module_utils._partial import recorded_filter
from ansible_collections.fleetops.gitops.plugins.module_utils._peek import peek_at
from ansible_collections.fleetops.gitops.plugins.module_utils._refs import COMMIT, Target, is_commit_sha
from ansible_collections.fleetops.gitops.plugins.module_utils._release_history import read_history, record_switch
from ansible_collections.fleetops.gitops.plugins.module_utils._release_layout import (
    Layout,
    Release,
    claim,
    claimed_by,
    current_release,
    exclude_shared,
    link_shared,
    list_releases,
    switch_link,
)
from ansible_collections.fleetops.gitops.plugins.module_utils._release_plan import (
    CLONE,
    NEW_RELEASE,
    NONE,
    RELEASE,
    SWITCH,
    ReleasePlan,
    ReleaseResult,
    Wanted,
    previous_of,
    retained_out,
)
from ansible_collections.fleetops.gitops.plugins.module_utils._repair import Leftover, find_leftovers, remove_leftovers
from ansible_collections.fleetops.gitops.plugins.module_utils._signatures import verify
from ansible_collections.fleetops.gitops.plugins.module_utils._state_file import Record, format_time, last_synced_at, record_sync
from ansible_collections.fleetops.gitops.plugins.module_utils._status import SyncState, SyncStatus
from ansible_collections.fleetops.gitops.plugins.module_utils._sync_plan import render_diff
from ansible_collections.fleetops.gitops.plugins.module_utils._url import redact_text
from ansible_collections.fleetops.gitops.plugins.module_utils.checkout import GitOpsSynchronizer

__all__ = ["ReleasePlan", "ReleaseResult", "ReleaseSynchronizer"]


class ReleaseSynchronizer(GitOpsSynchronizer):
    """Clone-or-update synchronizer for one ``dest`` in the release layout (``layout="releases"`` is implied)."""

    def __init__(self, repo_url: str, local_path: str, options: t.Any = None, **changes: t.Any) -> None:
        policy_fields = {
            name: changes.pop(name) for name in list(changes) if name in ("releases_dir", "validate", "validate_shell", "shared_paths", "keep_releases")
        }
        super().__init__(repo_url, local_path, options, **changes)
        policy = replace(self.options.releases, layout="releases", **policy_fields)
        self.options = replace(self.options, releases=policy)
        self.layout = Layout.of(self.dest, policy.releases_dir)
        self.dest = self.layout.dest

    def run(  # type: ignore[override]  # the same call, plus rollback
        self, version: str = "main", *, revision: str | None = None, check_mode: bool = False, diff: bool = False, rollback: bool = False
    ) -> ReleaseResult:
        """Plan, then (unless ``check_mode``) apply, holding ``dest``'s lock; see ``GitOpsSynchronizer.run``.

        ``rollback`` points ``dest`` at the release made before the current one (or at the kept release of
        ``revision``, or of ``version`` given as a commit SHA), asking no remote anything.
        """
        known: dict[str, str | None] = {}
        try:
            with self._runner() as git:
                wanted = Wanted(version, revision, rollback)
                if check_mode:
                    return self._predict(git, wanted, diff, known)
                with CheckoutLock(self.dest, self.options.lock_timeout):
                    plan = self._decide(git, wanted, known)
                    if plan.action == RELEASE:  # refused before the fetch when the objects tell already
                        self._check_shared_paths(git, Where(("--git-dir", self.layout.repo)), plan)
                    return self._deploy(git, plan, version, diff)
        except GitOpsError as error:
            error.revisions = (known.get("desired"), known.get("actual"))
            raise

    def plan(self, version: str = "main", *, revision: str | None = None) -> ReleasePlan:  # type: ignore[override]
        """Decide, read-only, what ``run(version)`` would do: check mode's plan."""
        return self.run(version, revision=revision, check_mode=True).plan

    # -- deciding, read-only ---------------------------------------------------

    def _predict(self, git: GitRunner, wanted: Wanted, diff: bool, known: dict[str, str | None]) -> ReleaseResult:
        plan = self._decide(git, wanted, known)
        left = [*plan.incomplete, *(str(item) for item in plan.leftovers)]
        warnings = [f"{self.dest}: would remove what an interrupted run left: {listing(left)}"] if left else []
        with self._objects_for(git, plan, look=True) as where:
            if plan.action in (CLONE, RELEASE):
                verify(git, where, plan.target, self.options.signatures)
                self._check_shared_paths(git, where, plan)
            rendered = render_diff(git, where, self.dest, plan) if diff else None  # type: ignore[arg-type]
        current = plan.current
        kept = [release for release in plan.releases if release not in plan.remove]
        if plan.action in (CLONE, RELEASE):
            kept.append(Release(NEW_RELEASE, self.layout.release_path(NEW_RELEASE), plan.target.sha, None))  # the newest
        after = plan.reuse or (kept[-1] if plan.action in (CLONE, RELEASE) else current)
        listed = [release.to_dict(after.name if after else None) for release in kept]
        status = SyncStatus(
            SyncState.DRIFTED if plan.changed else SyncState.IN_SYNC,
            plan.after,
            plan.before,
            last_synced_at(self.layout.worktree_dir(current.name)) if current else None,
            list(plan.findings) if plan.changed else [],
            release=after and after.path,
            previous_release=self._previous_path(kept, after),
            last_switch=self._last_switch(),
        )
        return ReleaseResult(
            plan,
            status,
            diff=rendered,
            warnings=warnings,
            removed_backups=list(plan.stale_backups),
            releases=listed,
        )

    def _decide(self, git: GitRunner, wanted: Wanted, known: dict[str, str | None]) -> ReleasePlan:
        """What the run would do: refuses (raises) as the policies say, before anything is written."""
        layout = self.layout
        name = current_release(layout)
        releases, incomplete = list_releases(layout, self.owner_uid)
        self._check_repository(git, bool(releases or name))
        by_name = {release.name: release for release in releases}
        if name is not None and name not in by_name:
            raise DestinationError("dest", f"{self.dest} links to {layout.release_path(name)}, which is not a complete release; it was left untouched")
        current = by_name.get(name) if name else None
        state = read_release_state(git, current.path) if current else CheckoutState(self.dest)
        known["actual"] = current.revision if current else None
        if wanted.rollback:
            target = self._rollback_target(releases, current, wanted.version, wanted.revision)
        else:
            target = self._target(git, wanted.version, wanted.revision)
        known["desired"] = target.sha
        reuse = None
        if current is not None and current.revision == target.sha and not _at_stake(current, state):
            action = NONE
        else:
            reuse = self._kept_release(git, releases, current, target.sha, wanted.rollback)
            action = SWITCH if reuse else CLONE if not os.path.lexists(layout.repo) else RELEASE
        if current is not None and action != NONE:  # edits git hides are at stake as soon as dest moves: as in a checkout
            hidden = flagged_entries(git, current.path)
            if hidden:
                state = replace(state, changes=replace(state.changes, modified=tuple(dict.fromkeys(state.changes.modified + hidden))))
        findings = self._findings(current, state, target)
        leftovers = tuple(find_leftovers(layout.repo, layout.repo if os.path.lexists(layout.repo) else None, self.owner_uid))
        plan = ReleasePlan(target, action, state, current, tuple(releases), reuse, incomplete=tuple(incomplete), findings=tuple(findings), leftovers=leftovers)
        if action == NONE:
            return plan
        if current is not None and _at_stake(current, state) and self.options.local_changes == "fail":
            moved = [state.head or ""] if state.head != current.revision else []
            raise LocalChangesError(current.path, dict(plan.local_changes, commits=moved))
        if os.path.lexists(layout.repo):
            stale = stale_backups(git, ("--git-dir", layout.repo), self.options.keep_backups, self.options.backup_max_age)
            plan = replace(plan, stale_backups=tuple(stale))
        return self._with_retention(git, plan)

    def _target(self, git: GitRunner, version: str, revision: str | None) -> Target:
        target = self._resolve(git, version, revision)
        self.options.signatures.check_target(target)
        return target

    def _rollback_target(self, releases: list[Release], current: Release | None, version: str, revision: str | None) -> Target:
        """The commit a rollback goes to, from the releases kept: no remote is asked."""
        wanted = revision or (version if is_commit_sha(version) else None)
        if wanted is not None:
            if not any(release.revision == wanted for release in releases):
                raise InvalidOption("rollback", f"no kept release of {self.dest} holds {wanted}; kept: {listing([r.revision for r in releases]) or 'none'}")
            return Target(COMMIT, None, wanted)
        previous = previous_of(releases, current.name) if current else None
        if previous is None:
            raise InvalidOption("rollback", f"{self.dest} has no release before the current one to roll back to")
        return Target(COMMIT, None, previous.revision)

    def _kept_release(self, git: GitRunner, releases: list[Release], current: Release | None, sha: str, rollback: bool) -> Release | None:
        """The newest kept release of ``sha`` with no local change (the current one is being replaced); rollback picks
        the one before the current when it holds ``sha``."""
        candidates = [release for release in releases if release.revision == sha and release != current]
        if rollback and current is not None:
            previous = previous_of(releases, current.name)
            if previous in candidates:
                candidates = [previous]
        for release in reversed(candidates):
            if not _at_stake(release, read_release_state(git, release.path)):
                return release
        return None

    def _with_retention(self, git: GitRunner, plan: ReleasePlan) -> ReleasePlan:
        names = [release.name for release in plan.releases]
        current = plan.reuse.name if plan.reuse else NEW_RELEASE
        if plan.reuse is None:
            names.append(NEW_RELEASE)  # the newest
        gone = set(retained_out(names, current, self.options.releases.keep_releases))
        remove = tuple(release for release in plan.releases if release.name in gone)
        dirty = tuple(release.path for release in remove if _at_stake(release, read_release_state(git, release.path)))
        if dirty and self.options.local_changes == "fail":
            kept = tuple(release for release in remove if release.path not in dirty)
            return replace(plan, remove=kept)  # a release with local changes is never removed under fail
        return replace(plan, remove=remove, dirty_removed=dirty)

    def _findings(self, current: Release | None, state: CheckoutState, target: Target) -> list[str]:
        if current is None:
            return [f"no release at {self.dest}"]
        findings = [] if current.revision == target.sha else [f"release {current.name} is at {short(current.revision)}, not at {short(target.sha)}"]
        if state.head != current.revision:
            findings.append(f"HEAD of the current release moved outside fleetops.gitops, to {short(state.head)}")
        return findings + change_findings(state.changes, " in the current release")

    def _check_repository(self, git: GitRunner, expected: bool) -> None:
        """The shared repository must be a bare repository of ``repo``; its config's filters apply to every release."""
        repo = self.layout.repo
        if not os.path.lexists(repo):
            if expected:
                raise DestinationError("dest", f"{self.dest} has releases but no shared repository at {repo}; it was left untouched")
            return
        plain = read_plain_config(repo, self.options.remote, bare=True)
        if plain is not None:
            git.filters |= plain.filters
            url = plain.remote_url
        else:
            url = git.run(["--git-dir", repo, "config", "--get", "--", f"remote.{self.options.remote}.url"], ok=(0, 1)).stdout.strip() or None
        if url is None or not self.url.same_repository(url):
            shown = redact_text(url, self.url.secrets) if url else "no repository"
            raise DestinationError("repo", f"{repo} is a repository of {shown}, not of {self.url.display}; it was left untouched")
        other = claimed_by(self.layout, self.owner_uid)
        if other not in (None, self.dest):
            raise DestinationError(
                "releases_dir",
                f"{self.layout.releases} holds the releases of {other}, not of {self.dest}: give each dest a releases_dir of its own",
            )

    @contextlib.contextmanager
    def _objects_for(self, git: GitRunner, plan: ReleasePlan, *, look: bool) -> t.Iterator[Where]:
        """Where the target's objects are: the shared repository, or (``look``, check mode) a peek that borrows them."""
        repo = Where(("--git-dir", self.layout.repo))
        if plan.action not in (CLONE, RELEASE) or not look or (plan.action == RELEASE and has_commit(git, repo, plan.target.sha)):
            yield repo
            return
        haves = (plan.current.revision,) if plan.current else ()
        repository = self.layout.repo if plan.action == RELEASE else None
        recorded = recorded_filter(git, repository, self.options.remote) if repository else self.options.filter
        with peek_at(Fetch(git, self.url, self.options.remote, filter=self._partial(recorded)), repository, plan.target, haves) as peek:
            yield peek

    def _check_shared_paths(self, git: GitRunner, where: Where, plan: ReleasePlan) -> None:
        """A shared path must not be in the repository: its link would hide (and drift from) the tracked file."""
        paths = self.options.releases.shared_paths
        if not paths or plan.action not in (CLONE, RELEASE) or not has_commit(git, where, plan.target.sha):
            return  # without the objects yet, the real run asks again once it has fetched them
        tracked = git.run([*where.args, "ls-tree", "-r", "--name-only", "-z", plan.target.sha, "--", *paths], env=where.env).stdout
        if tracked.strip("\0"):
            found = [path for path in paths if any(entry == path or entry.startswith(path + "/") for entry in tracked.split("\0"))]
            raise InvalidOption("shared_paths", f"{listing(found)} is in the repository at {short(plan.target.sha)}; a shared path must not be tracked")

    # -- doing -----------------------------------------------------------------

    def _deploy(self, git: GitRunner, plan: ReleasePlan, version: str, diff: bool) -> ReleaseResult:
        """Make (or pick) the release, switch ``dest`` to it, record the switch, then apply retention."""
        layout, current, target = self.layout, plan.current, plan.target
        if plan.leftovers:
            remove_leftovers(layout.repo, layout.repo, plan.leftovers)
        warnings = self._remove_incomplete(git, plan.incomplete, plan.leftovers)
        if plan.action == NONE:
            return self._result(plan, current, None, None, warnings)
        backup_ref = None
        if current is not None and _at_stake(current, plan.state) and self.options.local_changes == "backup":
            backup_ref = backup(git, current.path, _keep(current, plan.state, target.sha))
        release = plan.reuse if plan.reuse is not None else self._make_release(git, plan, version)
        rendered = render_diff(git, Where(("--git-dir", layout.repo)), self.dest, plan) if diff else None  # type: ignore[arg-type]
        switch_link(layout, release.path, self.owner)
        record_switch(layout.repo, {"action": plan.action, "from": current.path if current else None, "to": release.path, "revision": target.sha}, self.owner)
        for old in plan.remove:
            self._remove_release(git, old, old.path in plan.dirty_removed and self.options.local_changes == "backup", target.sha)
        drop_backups(git, ("--git-dir", layout.repo), plan.stale_backups)
        return self._result(plan, release, backup_ref, rendered, warnings)

    def _make_release(self, git: GitRunner, plan: ReleasePlan, version: str) -> Release:
        """A new worktree of the target in ``releases_dir``, its shared links made and validated; removed if any of
        that fails, so that a release that exists is one that passed."""
        layout, target = self.layout, plan.target
        if plan.action == CLONE:
            self._clone_repository(git, target)
        else:
            self._fetch(git, layout.repo, target, only_if_missing=True)
        verify(git, Where(("--git-dir", layout.repo)), target, self.options.signatures)
        self._check_shared_paths(git, Where(("--git-dir", layout.repo)), plan)
        exclude_shared(layout, self.options.releases.shared_paths, self.owner)
        os.close(open_folder(layout.releases, option="releases_dir", create=True, owner=self.owner))
        name = f"{datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%S.%fZ')}-{target.sha[:12]}"  # sorts by when it was made
        path = layout.release_path(name)
        git.run(["--git-dir", layout.repo, "worktree", "add", "--detach", "--quiet", "--", path, target.sha], summary=f"cannot make the release {path}")
        release = Release(name, path, target.sha, None)
        try:
            link_shared(layout, path, self.options.releases.shared_paths, self.owner)
            self._validate(git, path)
            when = record_sync(layout.worktree_dir(name), Record(target.sha, target.kind, target.name, version, self.url.display), owner=self.owner)
        except BaseException:
            self._remove_release(git, release, False, target.sha)
            raise
        return replace(release, created_at=format_time(when))

    def _clone_repository(self, git: GitRunner, target: Target) -> None:
        """The shared bare repository, cloned beside where it goes and renamed into place when complete."""
        refuse_configured_remote(git, self.options.remote)

        def make(work: str) -> None:
            args = clone_command(self.url.clean, self.options.remote, target, depth=self.options.depth, partial=self.options.filter, bare=True)
            git.run([*args, work], summary=f"cannot clone {self.url.display}", network=True)
            self._fetch(git, work, target, only_if_missing=True)
            claim(self.layout, work, self.owner)

        clone_beside(self.layout.repo, self.owner, make)

    def _validate(self, git: GitRunner, path: str) -> None:
        argv = self.options.releases.validate_argv(path)
        if argv is None:
            return
        try:
            result = git.program(argv, cwd=path, summary=f"cannot validate the release {path}")
        except OSError as error:
            raise ValidationFailed(self.dest, argv, None, str(error)) from None
        if result.rc != 0:
            raise ValidationFailed(self.dest, argv, result.rc, (result.stdout + result.stderr)[-4000:])

    def _remove_release(self, git: GitRunner, release: Release, keep_changes: bool, replaced_by: str) -> None:
        """Remove a release (its local changes kept in a backup ref first, when asked); the worktree's entry too."""
        if keep_changes:
            backup(git, release.path, _keep(release, read_release_state(git, release.path), replaced_by))
        removed = git.run(["--git-dir", self.layout.repo, "worktree", "remove", "--force", "--force", "--", release.path], ok=(0, 128))
        if removed.rc != 0:  # not a worktree git knows (made only in part): the folder, then what git kept of it
            folder = open_folder(self.layout.releases, option="releases_dir")
            try:
                remove_tree(folder, release.name)
            finally:
                os.close(folder)
            git.run(["--git-dir", self.layout.repo, "worktree", "prune"], summary="cannot prune the removed releases")

    def _remove_incomplete(self, git: GitRunner, names: t.Sequence[str], leftovers: t.Sequence[Leftover]) -> list[str]:
        for name in names:
            self._remove_release(git, Release(name, self.layout.release_path(name), "", None), False, "")
        left = [*names, *(str(item) for item in leftovers)]
        return [f"{self.dest}: removed what an interrupted run left: {listing(left)}"] if left else []

    def _result(self, plan: ReleasePlan, release: Release | None, backup_ref: str | None, diff: dict[str, str] | None, warnings: list[str]) -> ReleaseResult:
        releases, _incomplete = list_releases(self.layout, self.owner_uid)
        name = release.name if release else None
        path, previous = (release.path if release else None), self._previous_path(releases, release)
        synced = last_synced_at(self.layout.worktree_dir(name)) if name else None
        status = SyncStatus(SyncState.IN_SYNC, plan.after, plan.after, synced, release=path, previous_release=previous, last_switch=self._last_switch())
        listed = [item.to_dict(name) for item in releases]
        return ReleaseResult(plan, status, backup_ref, diff, warnings, list(plan.stale_backups), releases=listed)

    def _last_switch(self) -> dict[str, t.Any] | None:
        history = read_history(self.layout.repo)
        return history[-1] if history else None

    @staticmethod
    def _previous_path(releases: t.Sequence[Release], current: Release | None) -> str | None:
        previous = previous_of(releases, current.name) if current else None
        return previous.path if previous else None


def _at_stake(release: Release, state: CheckoutState) -> bool:
    """Whether replacing or removing the release's tree would lose something: local changes, or commits made on it."""
    return bool(state.changes) or state.head != release.revision


def _keep(release: Release, state: CheckoutState, replaced_by: str) -> Keep:
    """What to back up of a release before it is replaced or removed: its changes, and HEAD when it moved."""
    moved = (state.head,) if state.head and state.head != release.revision else ()
    return Keep(state.head, replaced_by, bool(state.changes), commits=moved, leave=state.changes.nested)
