# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private: a checkout and its submodules, recursively, each kept by a synchronizer of its own.

The superproject is synced first; then each submodule its deployed commit records (see ``_submodules``) is a
checkout at ``<dest>/<path>``, at that commit, with the superproject's policies: ``local_changes`` (backed up in the
submodule's own refs, refused or discarded), timeouts, allowed transports, and its credentials for the same origin
only. In check mode each is planned as the real run would do it, with reads only; the superproject's commit is
looked at where its own plan looked. ``changed`` is true when the superproject or any submodule changed.
"""

from __future__ import annotations

import os
import typing as t
from dataclasses import dataclass, field, replace

from ansible_collections.fleetops.gitops.plugins.module_utils._errors import GitOpsError, InvalidOption
from ansible_collections.fleetops.gitops.plugins.module_utils._release_options import ReleasePolicy
from ansible_collections.fleetops.gitops.plugins.module_utils._signatures import SignaturePolicy
from ansible_collections.fleetops.gitops.plugins.module_utils._status import SyncState
from ansible_collections.fleetops.gitops.plugins.module_utils._submodules import MAX_DEPTH, Submodule, access_for, refuse_links, submodules_at
from ansible_collections.fleetops.gitops.plugins.module_utils._sync_plan import NONE, REFRESH
from ansible_collections.fleetops.gitops.plugins.module_utils.checkout import GitOpsSynchronizer, SyncResult


@dataclass
class TreeResult:
    """A checkout's result and its submodules', in path order."""

    result: SyncResult
    submodules: list[tuple[Submodule, TreeResult]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.result.changed or any(child.changed for _sub, child in self.submodules)

    @property
    def warnings(self) -> list[str]:
        return [*self.result.warnings, *(warning for _sub, child in self.submodules for warning in child.warnings)]

    def drift(self) -> list[str]:
        """Each submodule's drift, named by its path (those of submodules of submodules by their whole path)."""
        return _drift(self.submodules)

    def to_dict(self) -> dict[str, t.Any]:
        """The superproject's result, ``changed`` and ``status`` covering the submodules, which are listed under
        ``submodules`` (path, name, commit and their own result's keys)."""
        result = self.result.to_dict()
        result["changed"] = self.changed
        drift = self.drift()
        if drift:
            result["status"]["state"] = SyncState.DRIFTED.name
            result["status"]["drift_details"] = [*result["status"]["drift_details"], *drift]
        result["submodules"] = [_child_dict(sub, child) for sub, child in self.submodules]
        return result


def sync_tree(sync: GitOpsSynchronizer, version: str, *, revision: str | None = None, check_mode: bool = False, diff: bool = False) -> TreeResult:
    """Sync the checkout, then (with ``submodules``) each submodule of the commit it deployed, recursively."""
    return _sync(sync, version, revision, check_mode, diff, 0)


def submodule_drift(sync: GitOpsSynchronizer, commit: str) -> list[str]:
    """What a sync would change in the submodules ``commit`` (the checkout's, here) records - one at another commit,
    with local changes, or not cloned - each line naming the submodule; read-only, as check mode is."""
    with sync.target_objects(None, check_mode=False) as (git, where):
        found = submodules_at(git, where, commit, sync.url, sync.access.transports)
    return _drift(_children(sync, found, check_mode=True, depth=0, look_at_disk=True))


def _sync(sync: GitOpsSynchronizer, version: str, revision: str | None, check_mode: bool, diff: bool, depth: int) -> TreeResult:
    result = sync.run(version, revision=revision, check_mode=check_mode, diff=diff)
    tree = TreeResult(result)
    if not sync.options.submodules:
        return tree
    try:
        with sync.target_objects(result, check_mode=check_mode) as (git, where):
            found = submodules_at(git, where, result.plan.after, sync.url, sync.access.transports)
        # On disk as the real run finds it after the superproject's own switch: in check mode only when that leaves
        # the work tree as it is.
        tree.submodules = _children(sync, found, check_mode=check_mode, depth=depth, look_at_disk=not check_mode or result.plan.action in (NONE, REFRESH))
    except GitOpsError as error:
        error.revisions = (result.plan.after, result.plan.before if check_mode else result.plan.after)  # the superproject's
        raise
    return tree


def _children(sync: GitOpsSynchronizer, found: list[Submodule], *, check_mode: bool, depth: int, look_at_disk: bool) -> list[tuple[Submodule, TreeResult]]:
    """Each submodule synced (or planned) at its commit, recursively, in path order."""
    if found and depth >= MAX_DEPTH:
        raise InvalidOption("submodules", f"{sync.dest}: submodules nest deeper than {MAX_DEPTH} levels")
    children = []
    for sub in found:
        if look_at_disk:
            refuse_links(sync.dest, sub.path)
        child = GitOpsSynchronizer(sub.url.raw, os.path.join(sync.dest, sub.path), _options_for(sync, sub))
        children.append((sub, _sync(child, sub.commit, None, check_mode, False, depth + 1)))
    return children


def _drift(children: list[tuple[Submodule, TreeResult]]) -> list[str]:
    lines = []
    for sub, child in children:
        status = child.result.status
        lines += [f"submodule {sub.path}: {line}" for line in status.drift_details] if status.state != SyncState.IN_SYNC else []
        lines += [f"submodule {sub.path}/{line.partition(' ')[2]}" for line in child.drift()]
    return lines


def _options_for(sync: GitOpsSynchronizer, sub: Submodule) -> t.Any:
    """The superproject's policies, for a whole checkout of the submodule: no depth (its commit may be anywhere in
    its history), no sparse cone, filter, mode or signature policy (the superproject's signed commit names it)."""
    return replace(
        sync.options,
        depth=None,
        sparse=None,
        filter=None,
        mode=None,
        signatures=SignaturePolicy(),
        releases=ReleasePolicy(),
        access=access_for(sync.access, sync.url, sub.url),
    )


def _child_dict(sub: Submodule, child: TreeResult) -> dict[str, t.Any]:
    found = child.to_dict()
    keys = ("changed", "action", "before", "after", "backup_ref", "local_changes", "submodules")
    return {"path": sub.path, "name": sub.name, "url": sub.url.public, "commit": sub.commit, **{key: found[key] for key in keys}}
