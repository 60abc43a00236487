# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The checkouts role's health check and revert, run by a real ansible-playbook against real git.

The fleet test (role_checkouts_fleet) runs the rollout playbook with an HTTP check; these cover the command check,
the release layout, a host left at the new revision, check mode and the variables the role refuses.
"""

from __future__ import annotations

import os
import subprocess
import typing as t
from pathlib import Path

from ansible_collections.fleetops.gitops.tests.unit.plugins.plugin_utils.plays import play


def role(tmp_path: Path, upstream_url: str, **variables: t.Any) -> dict[str, t.Any]:
    checkout = {"repo": upstream_url, "dest": str(tmp_path / "app" / "current"), "layout": variables.pop("layout", "checkout")}
    return {
        "ansible.builtin.include_role": {"name": "fleetops.gitops.checkouts"},
        "vars": {"checkouts_list": [checkout], "checkouts_resolve_on_controller": False, **variables},
    }


def head(path: Path) -> str:
    return subprocess.run(["git", "-C", str(path), "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()


def unhealthy_with(tmp_path: Path, content: str) -> dict[str, t.Any]:
    """A command check that notes each call and fails while the checkout holds ``content``."""
    marks = tmp_path / "checked.log"
    app = tmp_path / "app" / "current" / "app.conf"
    script = f"echo checked >> {marks}; if grep -qx '{content}' {app}; then echo 'app.conf is {content}' >&2; exit 1; fi"
    return {"command": f"sh -c {script!r}", "retries": 1, "delay": 0}


def test_the_release_layout_is_rolled_back_to_the_release_it_had(upstream, tmp_path):
    variables = {"layout": "releases", "checkouts_revert_on_failure": True}
    upstream.commit({"app.conf": "fine\n"})
    assert play(tmp_path, 1, role(tmp_path, upstream.url, **variables)).returncode == 0
    old_release = os.readlink(tmp_path / "app" / "current")
    upstream.commit({"app.conf": "broken\n"})
    run = play(tmp_path, 1, role(tmp_path, upstream.url, checkouts_health_check=unhealthy_with(tmp_path, "broken"), **variables))
    assert run.returncode == 2, run.stdout + run.stderr
    assert os.readlink(tmp_path / "app" / "current") == old_release
    assert "exit 1: app.conf is broken after 2 tries" in run.stdout and "After the revert: exit 0 (healthy)" in run.stdout, run.stdout
    assert (tmp_path / "checked.log").read_text().count("checked") == 3  # two tries, then once after the revert


def test_without_revert_the_host_fails_and_keeps_the_new_revision(upstream, tmp_path):
    assert play(tmp_path, 1, role(tmp_path, upstream.url)).returncode == 0
    new = upstream.commit({"app.conf": "broken\n"})
    run = play(tmp_path, 1, role(tmp_path, upstream.url, checkouts_health_check=unhealthy_with(tmp_path, "broken")))
    assert run.returncode == 2, run.stdout + run.stderr
    assert head(tmp_path / "app" / "current") == new
    assert "Left at the new revisions (checkouts_revert_on_failure is false)" in run.stdout, run.stdout


def test_a_healthy_change_passes_and_nothing_changed_asks_nothing(upstream, tmp_path):
    assert play(tmp_path, 1, role(tmp_path, upstream.url)).returncode == 0
    upstream.commit({"app.conf": "fine\n"})
    check = unhealthy_with(tmp_path, "broken")
    shown = {"ansible.builtin.debug": {"msg": "HEALTH {{ checkouts_health.passed }} {{ checkouts_health.outcome }}"}}
    run = play(tmp_path, 1, [role(tmp_path, upstream.url, checkouts_health_check=check), shown])
    assert run.returncode == 0 and "HEALTH True exit 0" in run.stdout, run.stdout + run.stderr
    assert play(tmp_path, 1, role(tmp_path, upstream.url, checkouts_health_check=check)).returncode == 0  # a no-op
    assert (tmp_path / "checked.log").read_text().count("checked") == 1


def test_check_mode_never_runs_the_health_check(upstream, tmp_path):
    assert play(tmp_path, 1, role(tmp_path, upstream.url)).returncode == 0
    before = head(tmp_path / "app" / "current")
    upstream.commit({"app.conf": "broken\n"})
    run = play(tmp_path, 1, role(tmp_path, upstream.url, checkouts_health_check=unhealthy_with(tmp_path, "broken")), "--check")
    assert run.returncode == 0, run.stdout + run.stderr
    assert not (tmp_path / "checked.log").exists() and head(tmp_path / "app" / "current") == before


def test_a_check_with_both_a_url_and_a_command_or_neither_is_refused_before_any_change(upstream, tmp_path):
    for check in ({"url": "http://127.0.0.1:9/health", "command": "true"}, {"retries": 2}):
        run = play(tmp_path, 1, role(tmp_path, upstream.url, checkouts_health_check=check))
        assert run.returncode == 2 and "checkouts_health_check" in run.stdout, run.stdout + run.stderr
        assert not (tmp_path / "app").exists()
