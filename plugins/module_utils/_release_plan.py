# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private: what a sync of the release layout decided (read-only) and what it did, and which releases retention drops."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field

from ansible_collections.fleetops.gitops.plugins.module_utils._checkout_state import CheckoutState
from ansible_collections.fleetops.gitops.plugins.module_utils._refs import Target
from ansible_collections.fleetops.gitops.plugins.module_utils._release_layout import Release
from ansible_collections.fleetops.gitops.plugins.module_utils._status import SyncStatus

CLONE = "clone"  # the shared repository and the first release
RELEASE = "update"  # a new release of the target, then the switch
SWITCH = "switch"  # to a release that is kept already: a rollback, or a revision deployed before
NONE = "none"
NEW_RELEASE = "(new release)"  # the name a release gets only when it is made


@dataclass(frozen=True)
class Wanted:
    """What the run was asked for: a version (with its pinned revision), or a rollback."""

    version: str = "main"
    revision: str | None = None
    rollback: bool = False


@dataclass(frozen=True)
class ReleasePlan:
    """What a sync of the release layout would do, decided without writing anything."""

    target: Target
    action: str
    state: CheckoutState  # of the current release (of ``dest`` alone when there is none)
    current: Release | None
    releases: tuple[Release, ...]
    reuse: Release | None = None  # the kept release a SWITCH points dest at
    remove: tuple[Release, ...] = ()  # what retention removes after the switch
    dirty_removed: tuple[str, ...] = ()  # of ``remove``: the paths with local changes (backed up first, unless discarded)
    incomplete: tuple[str, ...] = ()  # release folders a killed run left without a record
    findings: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return self.action != NONE

    @property
    def before(self) -> str | None:
        return self.current.revision if self.current else None

    @property
    def after(self) -> str:
        return self.target.sha

    @property
    def local_changes(self) -> dict[str, list[str]]:
        changes = self.state.changes
        return {"modified": list(changes.modified), "untracked": list(changes.untracked), "overwritten": []}


def previous_of(releases: t.Sequence[Release], current: str | None) -> Release | None:
    """The release made before ``current``: where a rollback goes."""
    names = [release.name for release in releases]
    if current not in names:
        return None
    index = names.index(current)
    return releases[index - 1] if index > 0 else None


def retained_out(names: t.Sequence[str], current: str, keep: int) -> list[str]:
    """Of ``names`` (oldest first, ``current`` among them), those retention removes: all but the ``keep`` newest,
    never ``current`` nor the one before it."""
    index = list(names).index(current)
    protected = {current, names[index - 1] if index > 0 else current}
    newest = set(names[-keep:])
    return [name for name in names if name not in newest and name not in protected]


@dataclass
class ReleaseResult:
    """What a sync of the release layout did (or, in check mode, would do)."""

    plan: ReleasePlan
    status: SyncStatus
    release: str | None
    previous_release: str | None
    releases: list[dict[str, t.Any]]
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
            "local_changes": plan.local_changes,
            "status": self.status.to_dict(),
            "release": self.release,
            "previous_release": self.previous_release,
            "releases": self.releases,
            "removed_releases": [release.path for release in plan.remove],
        }
        if self.diff is not None:
            result["diff"] = self.diff
        return result
