# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Controller-side pins: one resolution per play, shared by every host's worker."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from ansible_collections.fleetops.gitops.plugins.module_utils._refs import BRANCH, Target
from ansible_collections.fleetops.gitops.plugins.plugin_utils import _pins
from ansible_collections.fleetops.gitops.plugins.plugin_utils._pins import PlayPins, pin_checkouts
from ansible_collections.fleetops.gitops.tests.unit.helpers.git_fixtures import as_user, moved_aside


@pytest.fixture(autouse=True)
def cache_home(tmp_path, monkeypatch) -> Path:
    """The controller user's cache folder, where pins live, in this test's own folder."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    return cache


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
        assert isinstance(answer, str) and "cannot resolve version 'main' on " in answer
    assert len(git_counter.commands()) == 1


def test_no_credential_is_written_to_the_pin_file(tmp_path):
    PlayPins("play", str(tmp_path)).targets([("https://alice:s3cret@127.0.0.1:9/x.git", "main")], timeout=5)
    for name in os.listdir(tmp_path):
        assert "s3cret" not in (tmp_path / name).read_text()


def test_pin_checkouts_single_and_batch(upstream):
    tagged = upstream.tag("v1")
    args, failures = pin_checkouts({"repo": upstream.url, "dest": "/srv/a", "branch": "main"}, "p", version_key="version", version_alias="branch")
    assert failures == [] and args == {"repo": upstream.url, "dest": "/srv/a", "version": "refs/heads/main", "revision": upstream.head()}
    args, failures = pin_checkouts(
        {
            "version": "v1",
            "checkouts": [
                {"repo": upstream.url, "dest": "/a"},
                {"repo": upstream.url, "dest": "/b", "version": "main"},
                {"repo": upstream.url, "dest": "/c", "version": "f" * 40},
            ],
        },
        "p",
        version_key="version",
        version_alias="branch",
    )
    assert [(i.get("version"), i.get("revision")) for i in args["checkouts"]] == [
        ("refs/tags/v1", tagged),
        ("refs/heads/main", upstream.head()),
        ("f" * 40, None),
    ]


def test_pin_checkouts_for_drift_keeps_a_branch_name(upstream):
    args, _failures = pin_checkouts({"checkouts": [{"path": "/a", "repo": upstream.url}, {"path": "/b"}]}, "p", version_key="branch", version_alias="version")
    assert args["checkouts"] == [{"path": "/a", "repo": upstream.url, "branch": "main", "revision": upstream.head()}, {"path": "/b"}]


# -- another user of the controller cannot choose what the fleet deploys ---------------------------------------------


def test_pins_another_controller_user_writes_are_never_read(upstream, cache_home, other_user):
    """Earlier versions kept pins in a folder under /tmp that any user could make first and rewrite between hosts,
    sending the rest of the fleet to an old commit. Here another user owns that folder and, after the first host
    resolved the branch, plants there the play's pin to the commit before: the second host must still get the head."""
    old = upstream.head()
    head = upstream.commit()
    folder = Path(tempfile.gettempdir()) / f"fleetops-gitops-{os.getuid()}"
    with moved_aside(folder):
        as_user(other_user, "mkdir", "-m", "0777", str(folder))
        try:
            args = {"repo": upstream.url, "dest": "/srv/a", "version": "main"}
            first, _failures = pin_checkouts(args, "play-x", version_key="version", version_alias="branch")
            forged = json.dumps({_pins._key(upstream.url, "main"): {"kind": "branch", "name": "main", "sha": old}})
            as_user(other_user, "sh", "-c", f"printf '%s' '{forged}' > {folder}/forged && mv -f {folder}/forged {folder}/pins-play-x.json")
            second, _failures = pin_checkouts(args, "play-x", version_key="version", version_alias="branch")
            assert first["revision"] == second["revision"] == head
        finally:
            shutil.rmtree(folder)


@pytest.mark.parametrize("planted", ["the pins folder", "a pin file"])
def test_pins_that_are_not_the_controller_users_are_refused(upstream, cache_home, other_user, planted):
    from ansible_collections.fleetops.gitops.plugins.module_utils._files import UnsafePath  # pylint: disable=import-outside-toplevel

    pins = Path(_pins.pins_folder())
    assert pins == cache_home / "fleetops-gitops"
    cache_home.mkdir()
    if planted == "the pins folder":
        pins.mkdir(mode=0o700)
        subprocess.run(["chown", other_user, str(pins)], check=True)
        expected = f"belongs to {other_user}"
    else:
        pins.mkdir(mode=0o700)
        (pins / "pins-p.json").write_text(json.dumps({}))
        subprocess.run(["chown", other_user, str(pins / "pins-p.json")], check=True)
        expected = f"pins-p.json belongs to {other_user}"
    with pytest.raises(UnsafePath, match=expected):
        PlayPins("p").targets([(upstream.url, "main")])
