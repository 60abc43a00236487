# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Plays of a task on local hosts, run by a real ansible-playbook, for the tests of the controller side."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import typing as t
from pathlib import Path

from ansible_collections.fleetops.gitops.plugins.plugin_utils import _action

# The folder that holds ansible_collections/ (links not followed): the collection as ansible-playbook loads it.
COLLECTIONS = Path(_action.__file__).parents[5]


def play(tmp_path: Path, hosts: int, task: dict[str, t.Any] | list[dict[str, t.Any]], *options: str) -> subprocess.CompletedProcess[str]:
    """One play of ``task`` (or of a list of tasks) on ``hosts`` local hosts (each with its own checkout, host<N>), run
    by ansible-playbook with ``options`` (``--limit host1``)."""
    inventory = tmp_path / "inventory.ini"
    inventory.write_text("".join(f"host{n} ansible_connection=local ansible_python_interpreter={sys.executable}\n" for n in range(hosts)))
    playbook = tmp_path / "play.yml"
    playbook.write_text(json.dumps([{"hosts": "all", "gather_facts": False, "tasks": task if isinstance(task, list) else [task]}]))
    env = dict(
        os.environ,
        ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS),
        ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
        ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-local"),
        ANSIBLE_REMOTE_TEMP=str(tmp_path / "ansible-remote"),
        ANSIBLE_NOCOLOR="1",
        XDG_CACHE_HOME=str(tmp_path / "cache"),  # where the controller keeps a play's pins
    )
    return subprocess.run(
        [sys.executable, "-m", "ansible.cli.playbook", "-i", str(inventory), str(playbook), *options],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
        timeout=600,
    )


def sync(url: str, tmp_path: Path, **options: t.Any) -> dict[str, t.Any]:
    return {"fleetops.gitops.gitops_sync": dict(repo=url, dest=str(tmp_path / "{{ inventory_hostname }}"), **options)}
