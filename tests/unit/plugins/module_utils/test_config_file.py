# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What is read from a checkout's config file must be what git says, or None (then git is asked)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ansible_collections.fleetops.gitops.plugins.module_utils._config_file import read_plain_config
from ansible_collections.fleetops.gitops.plugins.module_utils._host_filters import drivers_in
from ansible_collections.fleetops.gitops.tests.unit.helpers.git_fixtures import run_git

PLAIN = {
    "as git clone writes it": '[core]\n\tbare = false\n[remote "origin"]\n\turl = file:///srv/up.git\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n',
    "other spellings git accepts": '# comment\n; another\n[Remote  "origin"]\nURL=https://h/a b.git   \n[branch "main"]\n\tremote\n',
    "the last of two values": '[remote "origin"]\n\turl = https://h/first.git\n[remote "origin"]\n\turl = https://h/last.git\n',
    "another remote only": '[remote "upstream"]\n\turl = https://h/up.git\n',
    "filter drivers": '[filter "lfs"]\n\tsmudge = git-lfs smudge -- %f\n[Filter "My.Driver"]\n\tclean = x\n[remote "origin"]\n\turl = https://h/a.git\n',
}
UNUSUAL = {
    "an include": '[include]\n\tpath = other\n[remote "origin"]\n\turl = https://h/a.git\n',
    "an includeIf": '[includeIf "gitdir:/x/"]\n\tpath = other\n[remote "origin"]\n\turl = https://h/a.git\n',
    "a quoted value": '[remote "origin"]\n\turl = "https://h/a.git"\n',
    "an escape": '[remote "origin"]\n\turl = https://h/a\\tb.git\n',
    "a continuation": '[remote "origin"]\n\turl = https://h/\\\na.git\n',
    "a comment after the value": '[remote "origin"]\n\turl = https://h/a.git # old\n',
    "an entry on the header line": '[remote "origin"] url = https://h/a.git\n',
    "the old dotted form": "[remote.origin]\n\turl = https://h/a.git\n",
    "per-worktree config": '[extensions]\n\tworktreeConfig = true\n[remote "origin"]\n\turl = https://h/a.git\n',
    "a url without a value": '[remote "origin"]\n\turl\n',
    "a header git refuses": '[remote "origin" ]\n\turl = https://h/a.git\n',
    "a tab before the subsection": '[remote\t"origin"]\n\turl = https://h/a.git\n',
    "a filter section without a name": "[filter]\n\tsmudge = x\n",
}


def _checkout(tmp_path: Path, config: str) -> Path:
    run_git("init", "--quiet", str(tmp_path / "co"))
    (tmp_path / "co" / ".git" / "config").write_text(config)
    return tmp_path / "co"


def _git_says(checkout: Path, *args: str) -> str | None:
    done = subprocess.run(["git", "-C", str(checkout), "config", "--local", *args], capture_output=True, text=True, check=False)
    return done.stdout.strip() if done.returncode == 0 else None


@pytest.mark.parametrize("config", PLAIN.values(), ids=PLAIN.keys())
def test_a_plain_config_gives_what_git_gives(config, tmp_path):
    checkout = _checkout(tmp_path, config)
    ours = read_plain_config(str(checkout / ".git"), "origin")
    assert ours is not None and ours.remote_url == _git_says(checkout, "--get", "remote.origin.url")
    assert ours.remote_url is not None or "upstream" in config
    assert ours.filters == drivers_in((_git_says(checkout, "--name-only", "--get-regexp", r"^filter\.") or "").split())


@pytest.mark.parametrize("config", UNUSUAL.values(), ids=UNUSUAL.keys())
def test_anything_unusual_is_left_to_git(config, tmp_path):
    assert read_plain_config(str(_checkout(tmp_path, config) / ".git"), "origin") is None


def test_a_git_file_or_a_missing_config_is_left_to_git(tmp_path):
    (tmp_path / "linked").mkdir()
    (tmp_path / "linked" / ".git").write_text("gitdir: /elsewhere\n")
    assert read_plain_config(str(tmp_path / "linked" / ".git"), "origin") is None
    assert read_plain_config(str(tmp_path / "nothing" / ".git"), "origin") is None
