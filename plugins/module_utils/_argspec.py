# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private: the argument spec both modules share; documented once in doc_fragments/gitops.py."""

from __future__ import annotations

import typing as t

from ansible_collections.fleetops.gitops.plugins.module_utils._git import DEFAULT_TIMEOUT
from ansible_collections.fleetops.gitops.plugins.module_utils.checkout import LOCAL_CHANGES


def common_argument_spec() -> dict[str, dict[str, t.Any]]:
    return {
        "remote": {"type": "str", "default": "origin"},
        "local_changes": {"type": "str", "default": "backup", "choices": list(LOCAL_CHANGES)},
        "timeout": {"type": "float", "default": DEFAULT_TIMEOUT},
    }


def facts(statuses: t.Mapping[str, t.Mapping[str, t.Any]]) -> dict[str, t.Any]:
    """``ansible_facts`` keyed by checkout path, the same shape for every module."""
    return {"gitops_status": dict(statuses)}
