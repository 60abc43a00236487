# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The switch history: appended one line at a time, read back, and never written through something planted."""

from __future__ import annotations

import os
import pwd

import pytest

from ansible_collections.fleetops.gitops.plugins.module_utils import _release_history
from ansible_collections.fleetops.gitops.plugins.module_utils._files import UnsafePath
from ansible_collections.fleetops.gitops.plugins.module_utils._release_history import HISTORY_FILE, read_history, record_switch


def test_each_switch_is_one_line_appended_and_read_back_oldest_first(tmp_path):
    first = record_switch(str(tmp_path), {"from": None, "to": "/r/a", "revision": "a" * 40, "action": "clone"}, None)
    record_switch(str(tmp_path), {"from": "/r/a", "to": "/r/b", "revision": "b" * 40, "action": "update"}, None)
    assert [entry["to"] for entry in read_history(str(tmp_path))] == ["/r/a", "/r/b"]
    assert first["user"] and first["time"].endswith("Z")
    assert len((tmp_path / HISTORY_FILE).read_text().splitlines()) == 2


def test_only_the_tail_is_read_and_a_torn_line_is_skipped(tmp_path, monkeypatch):
    monkeypatch.setattr(_release_history, "_TAIL", 200)
    for number in range(20):
        record_switch(str(tmp_path), {"to": f"/r/{number}"}, None)
    with open(tmp_path / HISTORY_FILE, "a") as handle:
        handle.write('{"to": "/r/torn"')  # a crash in the middle of a write
    entries = read_history(str(tmp_path))
    assert entries and entries[-1]["to"] == "/r/19" and len(entries) < 20


def test_a_history_file_of_another_user_is_refused(tmp_path, other_user):
    path = tmp_path / HISTORY_FILE
    path.write_text("")
    user = pwd.getpwnam(other_user)
    os.chown(path, user.pw_uid, user.pw_gid)
    with pytest.raises(UnsafePath):
        record_switch(str(tmp_path), {"to": "/r/a"}, None)
    assert path.read_text() == ""


def test_a_link_or_a_fifo_planted_at_the_history_is_never_written_through(tmp_path):
    target = tmp_path / "elsewhere"
    target.write_text("")
    os.symlink(target, tmp_path / HISTORY_FILE)
    with pytest.raises(OSError, match="Too many levels of symbolic links"):  # O_NOFOLLOW
        record_switch(str(tmp_path), {"to": "/r/a"}, None)
    assert target.read_text() == ""
    os.unlink(tmp_path / HISTORY_FILE)
    os.mkfifo(tmp_path / HISTORY_FILE)
    with pytest.raises(OSError, match="No such device or address"):  # O_NONBLOCK with no reader: refused at once, never blocks
        record_switch(str(tmp_path), {"to": "/r/a"}, None)


def test_the_file_made_for_an_owner_is_theirs(tmp_path, other_user):
    user = pwd.getpwnam(other_user)
    record_switch(str(tmp_path), {"to": "/r/a"}, (user.pw_uid, user.pw_gid))
    assert os.stat(tmp_path / HISTORY_FILE).st_uid == user.pw_uid
    record_switch(str(tmp_path), {"to": "/r/b"}, (user.pw_uid, user.pw_gid))  # and it appends to it
    assert len(read_history(str(tmp_path))) == 2
