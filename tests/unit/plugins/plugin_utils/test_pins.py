# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Controller-side pins: one resolution per play, shared by every host's worker."""

from __future__ import annotations

import os

from ansible_collections.fleetops.gitops.plugins.module_utils._refs import BRANCH, TAG, Target
from ansible_collections.fleetops.gitops.plugins.plugin_utils import _pins
from ansible_collections.fleetops.gitops.plugins.plugin_utils._pins import PlayPins, pin_checkouts


def test_a_play_asks_the_remote_once_per_repository_and_version(upstream, tmp_path, git_counter):
    head = upstream.head()
    git_counter.reset()
    first = PlayPins("play-1", str(tmp_path)).targets([(upstream.url, "main")])
    assert first == {(upstream.url, "main"): Target(BRANCH, "main", head)}
    assert len(git_counter.commands()) == 1
    moved = upstream.commit()  # the branch moves during the play: the play keeps its commit
    git_counter.reset()
    again = PlayPins("play-1", str(tmp_path)).targets([(upstream.url, "main"), (upstream.url, "main")])
    assert again == first and git_counter.commands() == []
    assert PlayPins("play-2", str(tmp_path)).targets([(upstream.url, "main")])[(upstream.url, "main")].sha == moved


def test_failures_are_remembered_too(tmp_path, git_counter):
    missing = str(tmp_path / "nothing")
    for _attempt in range(2):
        answer = PlayPins("play", str(tmp_path)).targets([(missing, "main")])[(missing, "main")]
        assert isinstance(answer, str) and "cannot list the remote's refs" in answer
    assert len(git_counter.commands()) == 1


def test_no_credential_is_written_to_the_pin_file(tmp_path):
    PlayPins("play", str(tmp_path)).targets([("https://alice:s3cret@127.0.0.1:9/x.git", "main")], timeout=5)
    for name in os.listdir(tmp_path):
        assert "s3cret" not in (tmp_path / name).read_text()


def test_pin_checkouts_single_and_batch(upstream, tmp_path, monkeypatch):
    monkeypatch.setattr(_pins.tempfile, "gettempdir", lambda: str(tmp_path))
    tagged = upstream.tag("v1")
    args, failures = pin_checkouts({"repo": upstream.url, "dest": "/srv/a", "branch": "main"}, "p", version_key="version",
                                   version_alias="branch")
    assert failures == [] and args == {"repo": upstream.url, "dest": "/srv/a", "version": "refs/heads/main", "revision": upstream.head()}
    args, failures = pin_checkouts(
        {"version": "v1", "checkouts": [{"repo": upstream.url, "dest": "/a"}, {"repo": upstream.url, "dest": "/b", "version": "main"},
                                        {"repo": upstream.url, "dest": "/c", "version": "f" * 40}]},
        "p", version_key="version", version_alias="branch")
    assert [(i.get("version"), i.get("revision")) for i in args["checkouts"]] == [
        ("refs/tags/v1", tagged), ("refs/heads/main", upstream.head()), ("f" * 40, None)]
    assert Target(TAG, "v1", tagged).kind == "tag"


def test_pin_checkouts_for_drift_keeps_a_branch_name(upstream, tmp_path, monkeypatch):
    monkeypatch.setattr(_pins.tempfile, "gettempdir", lambda: str(tmp_path))
    args, _failures = pin_checkouts({"checkouts": [{"path": "/a", "repo": upstream.url}, {"path": "/b"}]}, "p",
                                    version_key="branch", version_alias="version")
    assert args["checkouts"] == [{"path": "/a", "repo": upstream.url, "branch": "main", "revision": upstream.head()},
                                 {"path": "/b"}]
