# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""revert_checkouts: from a call's results back to the revisions it replaced, in both layouts, with real git."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.fleetops.gitops.plugins.filter.revert_checkouts import revert_checkouts
from ansible_collections.fleetops.gitops.tests.unit.plugins.plugin_utils.plays import play

OLD = "1f0c3b9e2d4a5f6e7d8c9b0a1f2e3d4c5b6a7f8e"
NEW = "8f3c2a9d0b6e4f1a7c5d3e2b1a0f9e8d7c6b5a43"


def result(dest: str, changed: bool = True, before: str | None = OLD, **extra: object) -> dict[str, object]:
    return {"dest": dest, "changed": changed, "before": before, "after": NEW, **extra}


def test_each_changed_checkout_goes_back_to_its_commit_and_a_release_by_rollback():
    checkouts = [
        {"repo": "https://git.example.com/app.git", "dest": "/srv/app", "version": "main", "revision": NEW, "depth": 1},
        {"repo": "https://git.example.com/site.git", "dest": "/srv/site/current", "layout": "releases"},
        {"repo": "https://git.example.com/docs.git", "dest": "/srv/docs"},  # unchanged
        {"repo": "https://git.example.com/new.git", "dest": "/srv/new"},  # made by the call: nothing to go back to
        {"repo": "https://git.example.com/bad.git", "dest": "/srv/bad"},  # failed
    ]
    results = [
        result("/srv/app"),
        result("/srv/site/current"),
        result("/srv/docs", changed=False),
        result("/srv/new", before=None),
        result("/srv/bad", failed=True, msg="no such version"),
    ]
    assert revert_checkouts(checkouts, results) == [
        {"repo": "https://git.example.com/app.git", "dest": "/srv/app", "version": OLD, "depth": 1},
        {"repo": "https://git.example.com/site.git", "dest": "/srv/site/current", "layout": "releases", "version": OLD, "rollback": True},
    ]
    assert checkouts[0]["version"] == "main", "the list given is left as it was"


@pytest.mark.parametrize(
    ("checkouts", "results", "message"),
    [
        ([{"dest": "/srv/app"}], [], "1 checkouts but 0 results"),
        ([{"dest": "/srv/app"}], [result("/srv/other")], "item 1 is /srv/app but its result is for /srv/other"),
        ("/srv/app", [result("/srv/app")], "needs the checkouts list"),
        ([["/srv/app"]], [result("/srv/app")], "must be dictionaries"),
    ],
)
def test_results_of_another_list_are_refused(checkouts, results, message):
    with pytest.raises(AnsibleFilterError, match=message):
        revert_checkouts(checkouts, results)


def test_a_relative_dest_is_matched_by_position():
    """The host expands ~ and relative paths; only their order ties them to their results."""
    assert revert_checkouts([{"dest": "~/app"}], [result("/home/deploy/app")]) == [{"dest": "~/app", "version": OLD}]


def _head(path: Path) -> str:
    return subprocess.run(["git", "-C", str(path), "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()


def test_a_real_play_puts_both_layouts_back(upstream, tmp_path):
    """Deploy, then revert with the filter: the plain checkout is at its old commit again, and the release layout
    points at the release of that commit, kept on disk, with no new release made."""
    checkouts = [
        {"repo": upstream.url, "dest": str(tmp_path / "plain")},
        {"repo": upstream.url, "dest": str(tmp_path / "site" / "current"), "layout": "releases"},
    ]
    deploy = {"name": "Deploy", "fleetops.gitops.gitops_sync": {"checkouts": checkouts}, "register": "deployed"}
    old = upstream.head()
    assert play(tmp_path, 1, deploy).returncode == 0
    old_release = os.readlink(tmp_path / "site" / "current")
    new = upstream.commit({"app.conf": "new\n"})
    revert = {
        "name": "Put them back",
        "fleetops.gitops.gitops_sync": {"checkouts": "{{ checkouts | fleetops.gitops.revert_checkouts(deployed.results) }}"},
        "vars": {"checkouts": checkouts},
        "register": "reverted",
    }
    shown = {"name": "Show", "ansible.builtin.debug": {"msg": "REVERTED {{ reverted.changed_checkouts | length }}"}}
    run = play(tmp_path, 1, [{**deploy, "vars": {"checkouts": checkouts}}, revert, shown])
    assert run.returncode == 0, run.stdout + run.stderr
    assert "REVERTED 2" in run.stdout
    assert _head(tmp_path / "plain") == old != new
    assert os.readlink(tmp_path / "site" / "current") == old_release
    assert len(os.listdir(tmp_path / "site" / "releases")) == 2  # the old release and the new one, none made by the revert
