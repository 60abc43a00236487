# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private: what a sync decided (the plan, read-only) and what it did (the result), and its ``--diff``."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field

from ansible_collections.fleetops.gitops.plugins.module_utils._at_risk import AtRisk
from ansible_collections.fleetops.gitops.plugins.module_utils._checkout_state import CheckoutState
from ansible_collections.fleetops.gitops.plugins.module_utils._findings import short
from ansible_collections.fleetops.gitops.plugins.module_utils._git import GitRunner
from ansible_collections.fleetops.gitops.plugins.module_utils._history import Distance, Where
from ansible_collections.fleetops.gitops.plugins.module_utils._refs import Target
from ansible_collections.fleetops.gitops.plugins.module_utils._repair import Leftover
from ansible_collections.fleetops.gitops.plugins.module_utils._sparse import Sparse, cone_pathspecs
from ansible_collections.fleetops.gitops.plugins.module_utils._state_file import Record
from ansible_collections.fleetops.gitops.plugins.module_utils._status import SyncStatus

CLONE = "clone"
UPDATE = "update"
REFRESH = "refresh"  # the same commit: HEAD's attachment, the local ref or the record follow; nothing changes
NONE = "none"
# How a commit the sync moves away from relates to the target, when the target's objects are at hand.
REWRITTEN = "rewritten"  # our last sync of this same branch, which the branch no longer contains
LOCAL_COMMITS = "local commits"  # it has commits someone made here, which the target does not contain


def divergence_of(distance: Distance | None, tip: str | None, record: Record | None, target: Target, *, shallow: bool) -> str | None:
    """None when the target contains ``tip``, when how they relate is unknown, or when the version changed on
    purpose (a rollback to an older tag, another branch); else why the target does not contain it.

    History is rewritten only when the same branch we last synced moved to a commit that does not contain it,
    and a shallow history proves nothing of the kind. Commits nobody synced are someone's work: kept or refused.
    """
    if tip is None or distance is None or distance[0] == 0:
        return None
    if record is not None and tip == record.revision:
        return REWRITTEN if record.followed_branch(target.branch) and not shallow else None
    return LOCAL_COMMITS


@dataclass(frozen=True)
class SyncPlan:
    """What a sync would do, decided without writing anything."""

    state: CheckoutState
    target: Target
    action: str
    findings: tuple[str, ...] = ()
    divergence: str | None = None  # of HEAD
    leftovers: tuple[Leftover, ...] = ()
    risk: AtRisk = AtRisk()
    record: Record | None = None  # what this collection last synced the checkout to
    shallow: bool = False

    @property
    def changed(self) -> bool:
        """The revision changes, local changes are removed, a clone is made or the mode set; not a REFRESH."""
        return self.action in (CLONE, UPDATE)

    @property
    def before(self) -> str | None:
        return self.state.head

    @property
    def after(self) -> str:
        return self.target.sha

    @property
    def branch_divergence(self) -> str | None:
        """Of the local branch the sync moves while HEAD is elsewhere."""
        return divergence_of(self.risk.branch_distance, self.risk.branch_tip, self.record, self.target, shallow=self.shallow)

    @property
    def local_changes(self) -> dict[str, list[str]]:
        """What the reset removes: tracked edits (hidden ones too), untracked files, ignored files written over."""
        changes = self.state.changes
        return {
            "modified": list(dict.fromkeys(changes.modified + self.risk.flagged)),
            "untracked": list(changes.untracked),
            "overwritten": list(self.risk.overwritten or ()),
        }


@dataclass
class SyncResult:
    """What a sync did (or, in check mode, would do)."""

    plan: SyncPlan
    status: SyncStatus
    backup_ref: str | None = None
    diff: dict[str, str] | None = None
    warnings: list[str] = field(default_factory=list)
    removed_backups: list[str] = field(default_factory=list)  # by keep_backups and backup_max_age

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
            "removed_backups": list(self.removed_backups),
        }
        if self.diff is not None:
            result["diff"] = self.diff
        return result


def render_diff(git: GitRunner, where: Where, dest: str, plan: SyncPlan, sparse: tuple[str, ...] | None = None) -> dict[str, str]:
    """Revisions, branch and local changes before and after, plus the files that change between them (with
    ``sparse``, only those the work tree holds)."""
    state, target = plan.state, plan.target
    before = [f"revision: {state.head}", f"branch: {state.branch or '(detached)'}"] if state.is_checkout else ["(no checkout)"]
    after = [f"revision: {target.sha}", f"branch: {target.branch or '(detached)'}"]
    if sparse is not None or state.sparse.enabled:
        before += [f"sparse checkout: {state.sparse.describe()}"] if state.is_checkout else []
        after.append(f"sparse checkout: {Sparse(sparse).describe()}")
    changes = plan.local_changes
    before += [f"{kind}: {p}" for kind in ("modified", "untracked", "overwritten") for p in changes[kind]]
    result = {
        "before_header": f"{dest} ({short(state.head)})",
        "after_header": f"{dest} ({short(target.sha)})",
        "before": "\n".join(before) + "\n",
        "after": "\n".join(after) + "\n",
    }
    if state.head and state.head != target.sha:
        files = git.run(
            [
                *where.args,
                "diff",
                "--name-status",
                "--no-renames",
                "--no-ext-diff",
                "--no-textconv",
                state.head,
                target.sha,
                "--",
                *(cone_pathspecs(sparse) if sparse is not None else ()),
            ],
            ok=(0, 128),
            env=where.env,
        )
        if files.rc == 0:
            result["prepared"] = f"files changed from {short(state.head)} to {short(target.sha)}:\n{files.stdout}"
        else:
            result["prepared"] = f"files changed from {short(state.head)} to {short(target.sha)}: not known\n"
    return result
