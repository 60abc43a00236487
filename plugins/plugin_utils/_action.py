# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private, controller side: the action plugin both modules share."""

from __future__ import annotations

import os
import typing as t

from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase

from ansible_collections.fleetops.gitops.plugins.module_utils._errors import GitOpsError
from ansible_collections.fleetops.gitops.plugins.plugin_utils._lockfile import lock_checkouts, remote_moves
from ansible_collections.fleetops.gitops.plugins.plugin_utils._pins import pin_checkouts


class PinningAction(ActionBase):
    """Runs the module; with ``lockfile`` or ``resolve_on_controller`` first pins each checkout to one commit on the
    controller, for every host of the play."""

    VERSION_KEY = "version"
    VERSION_ALIAS = "branch"

    def run(self, tmp: t.Any = None, task_vars: dict[str, t.Any] | None = None) -> dict[str, t.Any]:
        result = super().run(tmp, task_vars)
        args = dict(self._task.args)
        warnings = []
        try:
            args, failures, source = self._pinned(args, task_vars)
        except GitOpsError as error:
            result.update(failed=True, msg=str(error), **error.details())
            return result
        for failure in failures:
            message = f"lockfile: {failure}" if source == "lockfile" else f"{source}: the controller could not resolve a version: {failure}"
            if source == "lockfile" or not (args.get("checkouts") and boolean(args.get("allow_partial_failure", False), strict=False)):
                result.update(failed=True, msg=message)  # a lockfile's commit is the one to deploy, or none
                return result
            warnings.append(message + "; each host resolves it itself")
        result.update(self._execute_module(module_args=args, task_vars=task_vars))
        if source == "lockfile" and self._task.check_mode and self._task.diff:
            self._show_moves(result, task_vars)
        for warning in warnings:
            self._display.warning(warning)
        return result

    def _pinned(self, args: dict[str, t.Any], task_vars: dict[str, t.Any] | None) -> tuple[dict[str, t.Any], list[str], str]:
        """The arguments with the checkouts pinned by the lockfile or on the controller, what could not be, and which."""
        if boolean(args.get("rollback", False), strict=False):  # goes to a kept release: nothing to resolve
            return args, [], ""
        play_id = self._task.get_play()._uuid  # pylint: disable=protected-access  # one pin file per play
        if args.get("lockfile"):
            path = self._lockfile_path(args["lockfile"], task_vars)
            return (*lock_checkouts(args, path, play_id, self.VERSION_KEY, self.VERSION_ALIAS, check_mode=bool(self._task.check_mode)), "lockfile")
        if boolean(args.get("resolve_on_controller", False), strict=False) and self._play_has_many_hosts(task_vars):
            return (*pin_checkouts(args, play_id, version_key=self.VERSION_KEY, version_alias=self.VERSION_ALIAS), "resolve_on_controller")
        return args, [], ""

    def _show_moves(self, result: dict[str, t.Any], task_vars: dict[str, t.Any] | None) -> None:
        """``--check --diff`` with a frozen lockfile: where the remote has gone since, in the result's diff and, once
        per play (by its first host), on the screen - Ansible shows no diff of a task that changes nothing."""
        args, task_vars = dict(self._task.args), task_vars or {}
        play_id = self._task.get_play()._uuid  # pylint: disable=protected-access
        try:
            moved = remote_moves(args, self._lockfile_path(args["lockfile"], task_vars), play_id, self.VERSION_KEY, self.VERSION_ALIAS)
        except GitOpsError as error:
            self._display.warning(f"lockfile: could not compare with the remote: {error}")
            return
        if not moved:
            return
        earlier = result.get("diff")
        result["diff"] = [*(earlier if isinstance(earlier, list) else [earlier] if earlier else []), moved]
        if task_vars.get("inventory_hostname") == next(iter(task_vars.get("ansible_play_hosts") or []), None):
            lines = [f"--- {moved['before_header']}", f"+++ {moved['after_header']}"]
            lines += [f"-{line}" for line in moved["before"].splitlines()] + [f"+{line}" for line in moved["after"].splitlines()]
            self._display.display("\n".join(lines))

    @staticmethod
    def _lockfile_path(path: str, task_vars: dict[str, t.Any] | None) -> str:
        """A relative lockfile path is the playbook's, as a playbook's own files are."""
        path = os.path.expanduser(str(path))
        return path if os.path.isabs(path) else os.path.join(str((task_vars or {}).get("playbook_dir") or os.getcwd()), path)

    @staticmethod
    def _play_has_many_hosts(task_vars: dict[str, t.Any] | None) -> bool:
        """One host has no other to agree with, and asks the remote as often itself: resolving first would only wait."""
        return len((task_vars or {}).get("ansible_play_hosts_all") or ()) != 1
