# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Controller side of gitops_drift: with resolve_on_controller, every host compares with the same commit."""

from __future__ import annotations

from ansible_collections.fleetops.gitops.plugins.plugin_utils._action import PinningAction


class ActionModule(PinningAction):
    VERSION_KEY = "branch"
    VERSION_ALIAS = "version"
