# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: revert_checkouts
short_description: The checkouts a gitops_sync call changed, each pointed back at the revision it had before
version_added: 1.1.0
description:
  - Takes the list given as C(checkouts) to M(fleetops.gitops.gitops_sync) and the C(results) that call returned, and
    gives the items to pass to a second call that puts every changed checkout back where it was - C(version) set to
    the commit it had before the call (its C(before)), and, for a checkout with C(layout=releases), C(rollback=true),
    so that the release of that commit becomes current again in one atomic switch, with no network.
  - A checkout that did not change, that failed, or that the call made (it had no revision before) is left out; the
    role R(fleetops.gitops.checkouts,ansible_collections.fleetops.gitops.checkouts_role) reports the new ones as
    having nothing to go back to.
  - The results must be those of this very list, in its order; the filter fails when their number or their paths
    do not match.
author:
  - fleetops.gitops developers (@fleetops)
options:
  _input:
    description: The C(checkouts) list of the call that changed the checkouts.
    type: list
    elements: dict
    required: true
  results:
    description: The C(results) that call returned (one per item of the list, in its order).
    type: list
    elements: dict
    required: true
seealso:
  - module: fleetops.gitops.gitops_sync
"""

EXAMPLES = r"""
- name: Deploy the checkouts
  fleetops.gitops.gitops_sync:
    checkouts: "{{ my_checkouts }}"
  register: deployed

- name: Put them back when the service does not come up
  fleetops.gitops.gitops_sync:
    checkouts: "{{ my_checkouts | fleetops.gitops.revert_checkouts(deployed.results) }}"
    resolve_on_controller: false
  when: service_is_down
"""

RETURN = r"""
_value:
  description:
    - The items of the changed checkouts, each with C(version) set to its commit before the call (C(revision) removed),
      and C(rollback=true) for the release layout; empty when nothing changed.
  type: list
  elements: dict
"""

import os
import typing as t
from collections.abc import Mapping, Sequence

from ansible.errors import AnsibleFilterError


def revert_checkouts(checkouts: t.Any, results: t.Any) -> list[dict[str, t.Any]]:
    """The items that undo a call's changes: the revision each checkout had is in its result, not in the list."""
    if not _is_list(checkouts) or not _is_list(results):
        raise AnsibleFilterError("revert_checkouts: needs the checkouts list and the results of its gitops_sync call")
    if len(checkouts) != len(results):
        raise AnsibleFilterError(f"revert_checkouts: {len(checkouts)} checkouts but {len(results)} results; they must be those of one call")
    reverts = []
    for number, (item, result) in enumerate(zip(checkouts, results), start=1):
        if not isinstance(item, Mapping) or not isinstance(result, Mapping):
            raise AnsibleFilterError(f"revert_checkouts: item {number} and its result must be dictionaries")
        _same_checkout(number, item, result)
        before = result.get("before")
        if not result.get("changed") or result.get("failed") or not before:
            continue
        revert = {key: value for key, value in item.items() if key != "revision"}
        revert["version"] = str(before)
        if revert.get("layout") == "releases":
            revert["rollback"] = True
        reverts.append(revert)
    return reverts


def _same_checkout(number: int, item: Mapping[str, t.Any], result: Mapping[str, t.Any]) -> None:
    """Results of another list would put the wrong checkout on a commit of another repository: refuse them. Only an
    absolute path can be compared here; the host expands the others."""
    dest, reported = item.get("dest"), result.get("dest")
    if isinstance(dest, str) and os.path.isabs(dest) and isinstance(reported, str) and os.path.normpath(dest) != os.path.normpath(reported):
        raise AnsibleFilterError(f"revert_checkouts: item {number} is {dest} but its result is for {reported}; they must be those of one call")


def _is_list(value: t.Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))


class FilterModule:
    """fleetops.gitops's filters."""

    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {"revert_checkouts": revert_checkouts}
