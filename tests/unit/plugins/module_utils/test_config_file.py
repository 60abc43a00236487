# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What is read from a checkout's config file must be what git says, or None (then git is asked)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from ansible_collections.fleetops.gitops.plugins.module_utils._checkout_state import read_checkout_state
from ansible_collections.fleetops.gitops.plugins.module_utils._config_file import read_plain_config
from ansible_collections.fleetops.gitops.plugins.module_utils._git import GitRunner
from ansible_collections.fleetops.gitops.plugins.module_utils._host_filters import drivers_in
from ansible_collections.fleetops.gitops.plugins.module_utils._partial import recorded_filter
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
    "a url without a value": '[remote "origin"]\n\turl\n',
    "a header git refuses": '[remote "origin" ]\n\turl = https://h/a.git\n',
    "a tab before the subsection": '[remote\t"origin"]\n\turl = https://h/a.git\n',
    "a filter section without a name": "[filter]\n\tsmudge = x\n",
}


_WORKTREE_ON = '[core]\n\trepositoryformatversion = 0\n[extensions]\n\tworktreeConfig = true\n[remote "origin"]\n\turl = https://h/a.git\n'
WORKTREE = {  # config, config.worktree (None: absent)
    "the flags git sparse-checkout writes": (_WORKTREE_ON, "[core]\n\tsparseCheckout = true\n\tsparseCheckoutCone = true\n"),
    "a url the worktree file sets again": (_WORKTREE_ON, '[remote "origin"]\n\turl = https://h/b.git\n'),
    "flags the worktree file turns off": (_WORKTREE_ON + "[core]\n\tsparseCheckout = yes\n", "[core]\n\tsparseCheckout = off\n"),
    "no worktree file": (_WORKTREE_ON, None),
    "a worktree file git does not read": ('[remote "origin"]\n\turl = https://h/a.git\n', "[core]\n\tsparseCheckout = true\n"),
    "flags with no value": ("[core]\n\tsparseCheckout\n\tsparseCheckoutCone = 1\n", None),
    "a filter driver only the worktree file defines": (_WORKTREE_ON + '[filter "a"]\n\tclean = x\n', '[filter "wt"]\n\tsmudge = y\n'),
}
UNUSUAL_WORKTREE = {
    "an include in the worktree file": (_WORKTREE_ON, "[include]\n\tpath = other\n"),
    "a flag git would refuse": (_WORKTREE_ON, "[core]\n\tsparseCheckout = maybe\n"),
    "no format version": ("[extensions]\n\tworktreeConfig = true\n", "[core]\n\tsparseCheckout = true\n"),
}


def _checkout(tmp_path: Path, config: str, worktree: str | None = None) -> Path:
    run_git("init", "--quiet", str(tmp_path / "co"))
    (tmp_path / "co" / ".git" / "config").write_text(config)
    if worktree is not None:
        (tmp_path / "co" / ".git" / "config.worktree").write_text(worktree)
    return tmp_path / "co"


def _git_says(checkout: Path, *args: str, scope: str = "--local") -> str | None:
    env = {"PATH": os.environ["PATH"], "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1"}
    done = subprocess.run(["git", "-C", str(checkout), "config", *filter(None, (scope,)), *args], capture_output=True, text=True, check=False, env=env)
    return done.stdout.strip() if done.returncode == 0 else None


@pytest.mark.parametrize(("config", "worktree"), WORKTREE.values(), ids=WORKTREE.keys())
def test_the_worktree_file_is_read_after_the_config_as_git_reads_it(config, worktree, tmp_path):
    checkout = _checkout(tmp_path, config, worktree)
    ours = read_plain_config(str(checkout / ".git"), "origin")
    assert ours is not None and ours.remote_url == _git_says(checkout, "--get", "remote.origin.url", scope="")
    for name, value in (("core.sparseCheckout", ours.sparse), ("core.sparseCheckoutCone", ours.cone)):
        assert value is ((_git_says(checkout, "--bool", "--get", name, scope="") or "false") == "true"), name
    assert ours.filters == drivers_in((_git_says(checkout, "--name-only", "--get-regexp", r"^filter\.", scope="") or "").split())


@pytest.mark.parametrize(("config", "worktree"), UNUSUAL_WORKTREE.values(), ids=UNUSUAL_WORKTREE.keys())
def test_an_unusual_worktree_file_is_left_to_git(config, worktree, tmp_path):
    assert read_plain_config(str(_checkout(tmp_path, config, worktree) / ".git"), "origin") is None


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


_ORIGIN = '[core]\n\trepositoryformatversion = 1\n[remote "origin"]\n\turl = https://h/a.git\n'
PARTIAL = {  # config, the filter of origin's fetches
    "as git clone --filter writes it": (_ORIGIN + "\tpromisor = true\n\tpartialclonefilter = tree:0\n", "tree:0"),
    "a promisor without a filter": (_ORIGIN + "\tpromisor\n", "blob:none"),
    "a filter of a remote that is no promisor": (_ORIGIN + "\tpartialclonefilter = blob:none\n", None),
    "a promisor turned off again": (_ORIGIN + '\tpromisor = true\n\tpartialclonefilter = blob:none\n[remote "origin"]\n\tpromisor = false\n', None),
    "another remote's": (_ORIGIN + '[remote "upstream"]\n\tpromisor = true\n', None),
}


@pytest.mark.parametrize(("config", "expected"), PARTIAL.values(), ids=PARTIAL.keys())
def test_the_partial_clone_filter_is_read_as_git_reads_it(config, expected, tmp_path):
    """The plain reader, and git's answer when the file is left to git (an include), agree."""
    checkout = _checkout(tmp_path, config)
    plain = read_plain_config(str(checkout / ".git"), "origin")
    assert plain is not None and plain.partial == expected
    (tmp_path / "empty.config").write_text("")
    run_git("-C", str(checkout), "config", "--add", "include.path", str(tmp_path / "empty.config"))
    assert read_plain_config(str(checkout / ".git"), "origin") is None
    with GitRunner() as git:
        assert recorded_filter(git, str(checkout), "origin") == expected
        assert read_checkout_state(git, str(checkout), "origin").partial == expected
