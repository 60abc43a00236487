# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A target's commit comes into a repository one same way, and what is not a commit, or not there, is named."""

from __future__ import annotations

import pytest

from ansible_collections.fleetops.gitops.plugins.module_utils._errors import InvalidOption, RefNotFound
from ansible_collections.fleetops.gitops.plugins.module_utils._fetching import Fetch
from ansible_collections.fleetops.gitops.plugins.module_utils._git import GitRunner
from ansible_collections.fleetops.gitops.plugins.module_utils._history import Where, has_commit
from ansible_collections.fleetops.gitops.plugins.module_utils._refs import BRANCH, COMMIT, TAG, Target
from ansible_collections.fleetops.gitops.plugins.module_utils._url import parse_repo_url
from ansible_collections.fleetops.gitops.tests.unit.helpers.git_fixtures import run_git


def _fetch(upstream, checkout, target: Target) -> Where:
    where = Where.checkout(str(checkout))
    with GitRunner() as git:
        Fetch(git, parse_repo_url(upstream.url)).target(where, target, lambda: has_commit(git, where, target.sha))
    return where


def test_a_branch_updates_its_remote_tracking_ref_only(upstream, checkout, git_counter):
    new = upstream.commit()
    git_counter.reset()
    _fetch(upstream, checkout, Target(BRANCH, "main", new))
    assert git_counter.subcommands() == ["fetch", "rev-list"]  # the fetch, then: is the commit here
    assert run_git("-C", str(checkout), "rev-parse", "refs/remotes/origin/main") == new
    assert run_git("-C", str(checkout), "rev-parse", "HEAD") != new


def test_a_commit_already_here_is_not_fetched(upstream, checkout, git_counter):
    head = upstream.head()
    git_counter.reset()
    _fetch(upstream, checkout, Target(COMMIT, None, head))
    assert git_counter.subcommands() == ["rev-list"]


def test_a_commit_the_remote_does_not_have_is_named_as_the_version(upstream, checkout):
    missing = "0123456789abcdef0123456789abcdef01234567"
    with pytest.raises(RefNotFound, match=f"^version: '{missing}' does not exist on file://") as caught:
        _fetch(upstream, checkout, Target(COMMIT, None, missing))
    assert caught.value.option == "version"


def test_a_pinned_revision_not_on_the_branch_is_named_as_the_revision(upstream, checkout):
    missing = "0123456789abcdef0123456789abcdef01234567"
    with pytest.raises(RefNotFound, match=r"^revision: .* \(the commit branch 'main' \(0123456789ab.*\) was resolved to\)") as caught:
        _fetch(upstream, checkout, Target(BRANCH, "main", missing))
    assert caught.value.option == "revision"


def test_a_tag_of_a_blob_is_refused_as_nothing_to_check_out(upstream, checkout):
    blob = upstream.git("hash-object", "-w", "file0.txt")
    upstream.git("tag", "-a", "-m", "a blob", "v-blob", blob)
    with pytest.raises(InvalidOption, match=r"^version: tag 'v-blob' .* points at a blob, not at a commit"):
        _fetch(upstream, checkout, Target(TAG, "v-blob", blob))
