# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""File operations for root in folders other users can write: links of others are never followed."""

from __future__ import annotations

import os
import pwd
import subprocess
from pathlib import Path

import pytest

from ansible_collections.fleetops.gitops.plugins.module_utils._files import (
    UnsafePath,
    open_folder,
    private_folder,
    read_bytes,
    remove_tree,
    resolve,
    write_atomic,
)


@pytest.mark.parametrize("problem", ["another user's", "open to others", "a link"])
def test_a_private_folder_at_a_name_someone_took_first_is_refused(tmp_path, other_user, problem):
    """How the lock folders of users other than root (and the controller's pins folder) are checked on every use."""
    path = tmp_path / "locks"
    if problem == "a link":
        (tmp_path / "real").mkdir(mode=0o700)
        path.symlink_to(tmp_path / "real")
    else:
        path.mkdir(mode=0o700)
        if problem == "another user's":
            subprocess.run(["chown", other_user, str(path)], check=True)
        else:
            path.chmod(0o777)
    expected = {"another user's": f"belongs to {other_user}", "open to others": "is open to other users", "a link": "is not a folder"}[problem]
    with pytest.raises(UnsafePath, match=expected):
        private_folder(str(path), option="dest")
    fd = private_folder(str(tmp_path / "new"), option="dest")  # made when absent, 0700
    os.close(fd)
    assert (tmp_path / "new").stat().st_mode & 0o777 == 0o700


def _link_of(user: str, target: Path, link: Path) -> None:
    """A symbolic link that belongs to ``user``, as if they had made it."""
    link.symlink_to(target)
    info = pwd.getpwnam(user)
    os.lchown(link, info.pw_uid, info.pw_gid)


def test_links_are_followed_only_when_root_or_we_made_them(tmp_path, other_user):
    real = tmp_path / "real"
    (real / "inside").mkdir(parents=True)
    (tmp_path / "ours").symlink_to(real)
    theirs = tmp_path / "theirs"
    _link_of(other_user, real, theirs)
    fd = open_folder(str(tmp_path / "ours" / "inside"))
    assert os.fstat(fd).st_ino == (real / "inside").stat().st_ino
    os.close(fd)
    assert resolve(str(tmp_path / "ours" / "inside" / "missing")) == str(real / "inside" / "missing")
    for path in (theirs, theirs / "inside"):  # as the last name, and on the way
        with pytest.raises(UnsafePath, match=f"symbolic link that belongs to {other_user}"):
            open_folder(str(path))
        with pytest.raises(UnsafePath, match=f"symbolic link that belongs to {other_user}"):
            resolve(str(path / "x"))


def test_what_stands_at_a_name_is_replaced_never_followed(tmp_path, other_user):
    folder_path = tmp_path / "shared"
    folder_path.mkdir(mode=0o777)
    victim = tmp_path / "victim"
    victim.write_text("root's\n")
    victim.chmod(0o600)
    _link_of(other_user, victim, folder_path / "state.json")
    folder = open_folder(str(folder_path), readable=True)
    try:
        assert read_bytes(folder, "state.json") is None  # a link is not read
        write_atomic(folder, "state.json", b"{}\n", mode=0o644, owner=(0, 0))
        assert (folder_path / "state.json").read_text() == "{}\n" and not (folder_path / "state.json").is_symlink()
        os.chown(folder_path / "state.json", 1, 1)
        with pytest.raises(UnsafePath, match="belongs to"):
            read_bytes(folder, "state.json", owner=0)
        (folder_path / "tree" / "sub").mkdir(parents=True)
        (folder_path / "tree" / "sub" / "out").symlink_to(tmp_path)
        remove_tree(folder, "tree")
    finally:
        os.close(folder)
    assert victim.read_text() == "root's\n" and victim.stat().st_mode & 0o777 == 0o600 and victim.stat().st_uid == 0
    assert not (folder_path / "tree").exists() and tmp_path.exists() and victim.exists()
