# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private: what one checkout means for each module - its options built once, its synchronizer run once."""

from __future__ import annotations

import typing as t

from ansible_collections.fleetops.gitops.plugins.module_utils._batch import ItemOutcome
from ansible_collections.fleetops.gitops.plugins.module_utils._errors import InvalidOption
from ansible_collections.fleetops.gitops.plugins.module_utils._options import DriftOptions, SyncOptions
from ansible_collections.fleetops.gitops.plugins.module_utils._submodule_sync import sync_tree
from ansible_collections.fleetops.gitops.plugins.module_utils.checkout import GitOpsSynchronizer as CheckoutSynchronizer
from ansible_collections.fleetops.gitops.plugins.module_utils.drift import GitOpsSynchronizer as DriftSynchronizer
from ansible_collections.fleetops.gitops.plugins.module_utils.releases import ReleaseSynchronizer


def sync_one(spec: t.Mapping[str, t.Any], check_mode: bool, diff: bool) -> ItemOutcome:
    """gitops_sync for one checkout."""
    options = SyncOptions.from_params(spec)
    if options.releases.releases:
        releases = ReleaseSynchronizer(spec["repo"], spec["dest"], options)
        done = releases.run(spec["version"], revision=spec.get("revision"), check_mode=check_mode, diff=diff, rollback=bool(spec.get("rollback")))
        return ItemOutcome(releases.dest, done.to_dict(), done.warnings)
    if spec.get("rollback"):
        raise InvalidOption("rollback", "needs layout: releases (a checkout keeps no earlier release to go back to)")
    sync = CheckoutSynchronizer(spec["repo"], spec["dest"], options)
    if options.submodules:
        tree = sync_tree(sync, spec["version"], revision=spec.get("revision"), check_mode=check_mode, diff=diff)
        return ItemOutcome(sync.dest, tree.to_dict(), tree.warnings)
    result = sync.run(spec["version"], revision=spec.get("revision"), check_mode=check_mode, diff=diff)
    return ItemOutcome(sync.dest, result.to_dict(), result.warnings)


def drift_one(spec: t.Mapping[str, t.Any], check_mode: bool, diff: bool) -> ItemOutcome:
    """gitops_drift for one checkout."""
    drift = DriftSynchronizer(spec["path"], spec["branch"], DriftOptions.from_params(spec))
    outcome = drift.run(reconcile=spec["reconcile"], check_mode=check_mode, diff=diff)
    return ItemOutcome(drift.repo_path, outcome.to_dict(), outcome.warnings)
