# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private, controller side: the action plugin both modules share."""

from __future__ import annotations

import typing as t

from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase

from ansible_collections.fleetops.gitops.plugins.module_utils._errors import GitOpsError
from ansible_collections.fleetops.gitops.plugins.plugin_utils._pins import pin_checkouts


class PinningAction(ActionBase):
    """Runs the module; with ``resolve_on_controller`` first resolves versions once per play, on the controller."""

    VERSION_KEY = "version"
    VERSION_ALIAS = "branch"

    def run(self, tmp: t.Any = None, task_vars: dict[str, t.Any] | None = None) -> dict[str, t.Any]:
        result = super().run(tmp, task_vars)
        args = dict(self._task.args)
        warnings = []
        rollback = boolean(args.get("rollback", False), strict=False)  # goes to a kept release: nothing to resolve
        if boolean(args.get("resolve_on_controller", False), strict=False) and not rollback and self._play_has_many_hosts(task_vars):
            play_id = self._task.get_play()._uuid  # pylint: disable=protected-access  # one pin file per play
            try:
                args, failures = pin_checkouts(args, play_id, version_key=self.VERSION_KEY, version_alias=self.VERSION_ALIAS)
            except GitOpsError as error:
                result.update(failed=True, msg=str(error), **error.details())
                return result
            for failure in failures:
                message = f"resolve_on_controller: the controller could not resolve a version: {failure}"
                if not (args.get("checkouts") and boolean(args.get("allow_partial_failure", False), strict=False)):
                    result.update(failed=True, msg=message)
                    return result
                warnings.append(message + "; each host resolves it itself")
        result.update(self._execute_module(module_args=args, task_vars=task_vars))
        for warning in warnings:
            self._display.warning(warning)
        return result

    @staticmethod
    def _play_has_many_hosts(task_vars: dict[str, t.Any] | None) -> bool:
        """One host has no other to agree with, and asks the remote as often itself: resolving first would only wait."""
        return len((task_vars or {}).get("ansible_play_hosts_all") or ()) != 1
