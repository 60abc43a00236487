# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The action plugins of both modules, run by a real ansible-playbook: resolve_on_controller pins every host to one
commit asked once per play on the controller, and skips the controller when the play has one host."""

from __future__ import annotations

import subprocess

import pytest

from ansible_collections.fleetops.gitops.tests.unit.plugins.plugin_utils.plays import play as _play
from ansible_collections.fleetops.gitops.tests.unit.plugins.plugin_utils.plays import sync as _sync


@pytest.mark.parametrize(
    "hosts, resolve, asked",
    [
        (2, True, 1),  # once, on the controller; each host is given refs/heads/main at that commit and asks nothing
        (2, False, 2),  # each host asks for itself
        (1, True, 1),  # one host: the controller would only ask what the host asks anyway
    ],
)
def test_resolve_on_controller_asks_the_remote_once_per_play(upstream, tmp_path, git_counter, hosts, resolve, asked):
    git_counter.reset()
    run = _play(tmp_path, hosts, _sync(upstream.url, tmp_path, resolve_on_controller=resolve))
    assert run.returncode == 0, run.stdout + run.stderr
    assert git_counter.subcommands().count("ls-remote") == asked, git_counter.commands()
    for n in range(hosts):
        head = subprocess.run(["git", "-C", str(tmp_path / f"host{n}"), "rev-parse", "HEAD"], capture_output=True, text=True, check=True)
        assert head.stdout.strip() == upstream.head()


def test_a_version_the_controller_cannot_resolve_fails_the_task_on_every_host(upstream, tmp_path):
    run = _play(tmp_path, 2, _sync(upstream.url, tmp_path, version="no-such-branch", resolve_on_controller=True))
    assert run.returncode == 2
    failed = 'FAILED! => {"changed": false, "msg": "resolve_on_controller: the controller could not resolve a version'
    assert run.stdout.count(failed) == 2, run.stdout
    assert not (tmp_path / "host0").exists() and not (tmp_path / "host1").exists()


def test_with_allow_partial_failure_the_hosts_resolve_what_the_controller_could_not(upstream, tmp_path):
    items = [
        {"repo": upstream.url, "dest": str(tmp_path / "{{ inventory_hostname }}" / "good")},
        {"repo": upstream.url, "dest": str(tmp_path / "{{ inventory_hostname }}" / "bad"), "version": "no-such-branch"},
    ]
    run = _play(tmp_path, 2, {"fleetops.gitops.gitops_sync": {"checkouts": items, "resolve_on_controller": True, "allow_partial_failure": True}})
    assert run.returncode == 0, run.stdout + run.stderr
    assert "each host resolves it itself" in " ".join((run.stdout + run.stderr).split())  # 2.17 wraps warnings
    for n in range(2):
        assert (tmp_path / f"host{n}" / "good" / "file0.txt").exists() and not (tmp_path / f"host{n}" / "bad").exists()


def test_gitops_drift_is_pinned_by_its_branch(upstream, tmp_path, git_counter):
    """The controller needs the URL (``repo``): without it, only each host's checkout knows where to ask."""
    for n in range(2):
        subprocess.run(["git", "clone", "--quiet", upstream.url, str(tmp_path / f"host{n}")], check=True)
    upstream.commit()
    git_counter.reset()
    drift = {"path": str(tmp_path / "{{ inventory_hostname }}"), "repo": upstream.url, "branch": "main", "resolve_on_controller": True}
    task = {"fleetops.gitops.gitops_drift": drift, "check_mode": True}
    run = _play(tmp_path, 2, task)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.count("changed: [host") == 2  # both drifted, against the one commit the controller read
    assert git_counter.subcommands().count("ls-remote") == 1, "\n".join(c for c in git_counter.commands() if "ls-remote" in c)
