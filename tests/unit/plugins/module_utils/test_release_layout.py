# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The release layout on disk: its parts, the atomic switch, the shared links and their excludes."""

from __future__ import annotations

import os
import pwd

import pytest

from ansible_collections.fleetops.gitops.plugins.module_utils._errors import DestinationError
from ansible_collections.fleetops.gitops.plugins.module_utils._files import UnsafePath
from ansible_collections.fleetops.gitops.plugins.module_utils._release_layout import (
    Layout,
    current_release,
    exclude_shared,
    link_shared,
    list_releases,
    switch_link,
)

NAME = "20261204T071500.123456Z-0123456789ab"


def test_the_parts_sit_beside_the_releases_folder(tmp_path):
    layout = Layout.of(str(tmp_path / "app" / "current"), None)
    assert (layout.releases, layout.repo, layout.shared) == tuple(str(tmp_path / "app" / part) for part in ("releases", "repo", "shared"))
    other = Layout.of(str(tmp_path / "www"), str(tmp_path / "data" / "releases"))
    assert other.repo == str(tmp_path / "data" / "repo")
    with pytest.raises(DestinationError):
        Layout.of(str(tmp_path / "app" / "repo"), None)


def test_dest_absent_is_no_release_and_anything_but_a_release_link_is_refused(tmp_path):
    layout = Layout.of(str(tmp_path / "app" / "current"), None)
    assert current_release(layout) is None
    (tmp_path / "app").mkdir()
    os.symlink(os.path.join(layout.releases, NAME), layout.dest)
    assert current_release(layout) == NAME
    os.unlink(layout.dest)
    os.symlink(os.path.join(layout.releases, "not-a-release"), layout.dest)
    with pytest.raises(DestinationError, match="not a release"):
        current_release(layout)


def test_the_switch_replaces_the_link_in_one_rename_and_leaves_nothing_beside_it(tmp_path):
    layout = Layout.of(str(tmp_path / "app" / "current"), None)
    switch_link(layout, "/srv/one", None)
    switch_link(layout, "/srv/two", None)
    assert os.readlink(layout.dest) == "/srv/two"
    assert os.listdir(tmp_path / "app") == ["current"]


def test_shared_links_are_made_and_what_the_shared_folder_holds_is_never_changed(tmp_path):
    layout = Layout.of(str(tmp_path / "app" / "current"), None)
    release = tmp_path / "app" / "releases" / NAME
    release.mkdir(parents=True)
    (tmp_path / "app" / "shared").mkdir()
    (tmp_path / "app" / "shared" / "config.local").write_text("mine\n")
    link_shared(layout, str(release), ["config.local", "public/uploads"], None)
    assert (release / "config.local").read_text() == "mine\n"
    assert os.readlink(release / "public" / "uploads") == str(tmp_path / "app" / "shared" / "public" / "uploads")
    assert (tmp_path / "app" / "shared" / "public" / "uploads").is_dir()
    with pytest.raises(DestinationError, match="exists in the release"):
        link_shared(layout, str(release), ["config.local"], None)


def test_a_shared_path_through_another_users_link_in_the_release_is_refused(tmp_path, other_user):
    layout = Layout.of(str(tmp_path / "app" / "current"), None)
    release = tmp_path / "app" / "releases" / NAME
    release.mkdir(parents=True)
    os.symlink("/etc", release / "public")  # the owner points a folder of the release elsewhere
    user = pwd.getpwnam(other_user)
    os.lchown(release / "public", user.pw_uid, user.pw_gid)
    with pytest.raises(UnsafePath):
        link_shared(layout, str(release), ["public/uploads"], None)
    assert not os.path.lexists("/etc/uploads")


def test_excludes_are_escaped_and_written_only_when_they_change(tmp_path):
    layout = Layout.of(str(tmp_path / "app" / "current"), None)
    exclude_shared(layout, ["log", "a*b"], None)
    exclude = tmp_path / "app" / "repo" / "info" / "exclude"
    assert exclude.read_text().splitlines()[1:] == ["/a\\*b", "/log"]
    os.utime(exclude, (1, 1))
    exclude_shared(layout, ["a*b", "log"], None)
    assert os.stat(exclude).st_mtime == 1


def test_release_folders_without_a_record_are_incomplete(tmp_path):
    layout = Layout.of(str(tmp_path / "app" / "current"), None)
    assert list_releases(layout, os.geteuid()) == ([], [])
    (tmp_path / "app" / "releases" / NAME).mkdir(parents=True)
    (tmp_path / "app" / "releases" / "notes").mkdir()
    assert list_releases(layout, os.geteuid()) == ([], [NAME])
