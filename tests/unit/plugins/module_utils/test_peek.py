# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A peek looks at commits the checkout does not have, and writes nothing in the checkout."""

from __future__ import annotations

import subprocess

import pytest

from ansible_collections.fleetops.gitops.plugins.module_utils._errors import RefNotFound
from ansible_collections.fleetops.gitops.plugins.module_utils._fetching import Fetch
from ansible_collections.fleetops.gitops.plugins.module_utils._git import GitRunner
from ansible_collections.fleetops.gitops.plugins.module_utils._history import distance_between, has_commit
from ansible_collections.fleetops.gitops.plugins.module_utils._peek import ahead_behind, alternate, peek_at
from ansible_collections.fleetops.gitops.plugins.module_utils._refs import BRANCH, COMMIT, Target
from ansible_collections.fleetops.gitops.plugins.module_utils._url import parse_repo_url
from ansible_collections.fleetops.gitops.tests.unit.helpers.git_fixtures import run_git, snapshot


def test_the_target_is_there_in_the_peek_and_the_checkout_is_untouched(upstream, checkout):
    base = upstream.head()
    new = upstream.commit()
    before = snapshot(checkout)
    with GitRunner() as git, peek_at(Fetch(git, parse_repo_url(upstream.url)), str(checkout / ".git"), Target(BRANCH, "main", new), (base,)) as where:
        assert has_commit(git, where, new) and has_commit(git, where, base)  # the checkout's own, borrowed
        assert distance_between(git, where, base, new) == (0, 1)
    assert snapshot(checkout) == before
    assert subprocess.run(["git", "-C", str(checkout), "cat-file", "-e", new], check=False).returncode != 0  # not in .git


def test_a_commit_the_remote_does_not_have_fails_as_a_real_fetch_would(upstream, checkout):
    missing = "0123456789abcdef0123456789abcdef01234567"
    url, target = parse_repo_url(upstream.url), Target(COMMIT, None, missing)
    refused = f"version: '{missing}' does not exist on "
    with GitRunner() as git, pytest.raises(RefNotFound, match=refused), peek_at(Fetch(git, url), str(checkout / ".git"), target):
        pytest.fail("the peek was made")


def test_ahead_behind_counts_both_ways_and_says_none_when_the_remote_cannot_answer(upstream, checkout, tmp_path):
    run_git("-C", str(checkout), "commit", "--quiet", "--allow-empty", "-m", "local")
    local = run_git("-C", str(checkout), "rev-parse", "HEAD")
    new = upstream.commit()
    with GitRunner() as git:
        assert ahead_behind(git, str(checkout / ".git"), local, parse_repo_url(upstream.url), new) == (1, 1)
        assert ahead_behind(git, str(checkout / ".git"), local, parse_repo_url(str(tmp_path / "gone")), new) is None


@pytest.mark.parametrize(
    "path, entry",
    [("/srv/app/.git/objects", "/srv/app/.git/objects"), ("/srv/a:b/.git/objects", '"/srv/a:b/.git/objects"'), ('/srv/a"b\\c', '"/srv/a\\"b\\\\c"')],
)
def test_an_alternate_with_a_colon_or_a_quote_is_c_quoted(path, entry):
    assert alternate(path) == entry
