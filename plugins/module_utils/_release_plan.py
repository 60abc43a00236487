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
from ansible_collections.fleetops.gitops.plugins.module_utils._repair import Leftover
from ansible_collections.fleetops.gitops.plugins.module_utils._sync_plan import SyncResult

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
    stale_backups: tuple[str, ...] = ()  # backup refs retention removes (keep_backups, backup_max_age)
    leftovers: tuple[Leftover, ...] = ()  # what a killed git left in the shared repository, or a clone of it half made
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
class ReleaseResult(SyncResult):
    """What a sync of the release layout did (or, in check mode, would do): a sync's result, and the releases."""

    plan: ReleasePlan  # type: ignore[assignment]  # the same questions answered, for the release layout
    releases: list[dict[str, t.Any]] = field(default_factory=list)

    @property
    def release(self) -> str | None:
        return self.status.release

    @property
    def previous_release(self) -> str | None:
        return self.status.previous_release

    def to_dict(self) -> dict[str, t.Any]:
        return dict(
            super().to_dict(),
            release=self.release,
            previous_release=self.previous_release,
            releases=self.releases,
            removed_releases=[release.path for release in self.plan.remove],
        )
