# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A clone is built beside dest and renamed into place: an interrupted one never looks like a checkout."""

from __future__ import annotations

import os
import pwd

import pytest

from ansible_collections.fleetops.gitops.plugins.module_utils._clone import clone_beside
from ansible_collections.fleetops.gitops.plugins.module_utils._repair import clone_prefix


def test_the_folder_is_built_beside_dest_then_renamed_to_it(tmp_path):
    dest = tmp_path / "srv" / "app"  # its parent is made too
    seen = []

    def make(folder: str) -> None:
        seen.append(folder)
        assert os.path.dirname(folder) == str(dest.parent) and os.path.basename(folder).startswith(clone_prefix(str(dest)))
        assert not dest.exists()
        (dest.parent / os.path.basename(folder) / "file.txt").write_text("built\n")

    clone_beside(str(dest), None, make)
    assert len(seen) == 1 and (dest / "file.txt").read_text() == "built\n"
    assert os.listdir(dest.parent) == ["app"]


def test_an_interrupted_build_leaves_nothing_beside_dest(tmp_path):
    dest = tmp_path / "app"

    def make(folder: str) -> None:
        (tmp_path / os.path.basename(folder) / "half.txt").write_text("half a clone\n")
        raise KeyboardInterrupt  # a stop, not only an error: BaseException

    with pytest.raises(KeyboardInterrupt):
        clone_beside(str(dest), None, make)
    assert os.listdir(tmp_path) == []


def test_the_folders_it_makes_belong_to_the_owner(tmp_path, other_user):
    user = pwd.getpwnam(other_user)
    tmp_path.chmod(0o755)
    dest = tmp_path / "owned" / "app"
    clone_beside(str(dest), (user.pw_uid, user.pw_gid), lambda folder: None)
    for path in (dest.parent, dest):
        assert (path.stat().st_uid, path.stat().st_gid) == (user.pw_uid, user.pw_gid), path
