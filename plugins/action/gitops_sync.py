# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Controller side of gitops_sync: with resolve_on_controller, pin every host to the commit resolved once per play."""

from __future__ import annotations

from ansible_collections.fleetops.gitops.plugins.plugin_utils._action import PinningAction


class ActionModule(PinningAction):
    VERSION_KEY = "version"
    VERSION_ALIAS = "branch"
