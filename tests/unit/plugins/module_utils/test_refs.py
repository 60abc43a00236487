# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Versions: validation in Python, resolution on a real remote."""

from __future__ import annotations

import pytest

from ansible_collections.fleetops.gitops.plugins.module_utils._errors import InvalidOption, RefNotFound
from ansible_collections.fleetops.gitops.plugins.module_utils._git import GitRunner
from ansible_collections.fleetops.gitops.plugins.module_utils._refs import (
    BRANCH,
    COMMIT,
    TAG,
    Target,
    resolve,
    validate_ref_name,
    validate_remote_name,
)


@pytest.mark.parametrize("name", ["main", "release/2.4", "v1.0.0", "feature_x-y", "a" * 40])
def test_valid_names(name):
    validate_ref_name("version", name)


@pytest.mark.parametrize(
    "name",
    [
        "-x",
        "--upload-pack=x",
        "a..b",
        "a b",
        "a~1",
        "a^",
        "a:b",
        "a?",
        "a*",
        "a[b",
        "a\\b",
        "@",
        "a@{1}",
        "/a",
        "a/",
        "a//b",
        "a.",
        ".a",
        "a/.b",
        "a.lock",
        "a/b.lock/c",
        "a\rb",
        "a\x00b",
        "",
    ],
)
def test_invalid_names_are_refused(name):
    with pytest.raises(InvalidOption) as caught:
        validate_ref_name("version", name)
    assert caught.value.option == "version"


@pytest.mark.parametrize("name,ok", [("origin", True), ("up-stream.2", True), ("-x", False), ("a/b", False), ("a b", False)])
def test_remote_names(name, ok):
    if ok:
        validate_remote_name("remote", name)
    else:
        with pytest.raises(InvalidOption):
            validate_remote_name("remote", name)


def test_resolve_branch_tag_commit_and_default(upstream, git_counter):
    git = GitRunner(timeout=30)
    lightweight = upstream.tag("light", annotated=False)
    annotated = upstream.tag("v1")
    tip = upstream.commit()
    assert resolve(git, upstream.url, "main", shown_url="u") == Target(BRANCH, "main", tip)
    assert resolve(git, upstream.url, "refs/heads/main", shown_url="u") == Target(BRANCH, "main", tip)
    assert resolve(git, upstream.url, "v1", shown_url="u") == Target(TAG, "v1", annotated)  # peeled to the commit
    assert resolve(git, upstream.url, "refs/tags/light", shown_url="u") == Target(TAG, "light", lightweight)
    assert resolve(git, upstream.url, "HEAD", shown_url="u") == Target(BRANCH, "main", tip)
    git_counter.reset()
    assert resolve(git, upstream.url, "f" * 40, shown_url="u") == Target(COMMIT, None, "f" * 40)
    assert git_counter.commands() == []  # a SHA needs no query


def test_a_branch_wins_over_a_tag_of_the_same_name(upstream):
    old = upstream.tag("release")
    tip = upstream.commit()
    upstream.branch("release", "main")
    assert resolve(GitRunner(), upstream.url, "release", shown_url="u") == Target(BRANCH, "release", tip)
    assert resolve(GitRunner(), upstream.url, "refs/tags/release", shown_url="u") == Target(TAG, "release", old)


def test_hostile_ref_names_on_the_remote_are_read_as_data(upstream):
    upstream.git("update-ref", "refs/heads/--upload-pack=touch", "HEAD")
    with pytest.raises(RefNotFound):
        resolve(GitRunner(), upstream.url, "missing", shown_url="u")
    assert resolve(GitRunner(), upstream.url, "main", shown_url="u").kind == BRANCH


def test_missing_version(upstream):
    with pytest.raises(RefNotFound, match="^version: 'nope' does not exist on shown$"):
        resolve(GitRunner(), upstream.url, "nope", shown_url="shown")
