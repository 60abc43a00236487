# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Questions about commits, asked of real repositories: is it here, what is it, how far apart are two, is it shallow."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass
from pathlib import Path

import pytest

from ansible_collections.fleetops.gitops.plugins.module_utils._git import GitRunner
from ansible_collections.fleetops.gitops.plugins.module_utils._history import Where, distance_between, has_commit, how_far, object_type
from ansible_collections.fleetops.gitops.tests.unit.helpers.git_fixtures import GitCounter, Upstream, run_git

MISSING = "0123456789abcdef0123456789abcdef01234567"


@dataclass(frozen=True)
class History:
    """base - a1 - a2 on main, base - s1 on side, an annotated tag on a1 and one on a tree; and a repository of its own."""

    upstream: Upstream
    base: str
    a1: str
    a2: str
    s1: str
    where: Where


@pytest.fixture
def history(upstream: Upstream) -> History:
    base = upstream.head()
    a1 = upstream.commit(message="a1")
    a2 = upstream.commit(message="a2")
    upstream.branch("side", base)
    s1 = upstream.commit(branch="side", message="s1")
    upstream.tag("v1", a1)
    upstream.git("tag", "-a", "-m", "a tree", "tree-tag", f"{a2}^{{tree}}")
    return History(upstream, base, a1, a2, s1, Where.checkout(str(upstream.path)))


@pytest.fixture
def git() -> t.Iterator[GitRunner]:
    with GitRunner() as runner:
        yield runner


def test_the_distance_is_the_commits_only_the_first_has_and_only_the_second_has(history: History, git: GitRunner) -> None:
    h = history
    assert distance_between(git, h.where, h.a2, h.s1) == (2, 1)
    assert distance_between(git, h.where, h.s1, h.a2) == (1, 2)
    assert distance_between(git, h.where, h.base, h.a2) == (0, 2)
    assert distance_between(git, h.where, h.a2, h.a1) == (1, 0)
    assert distance_between(git, h.where, h.a2, h.a2) == (0, 0)


def test_any_revision_git_reads_is_a_side_of_the_distance(history: History, git: GitRunner) -> None:
    assert distance_between(git, history.where, "main", "side") == (2, 1)
    assert distance_between(git, history.where, "v1", history.a2[:10]) == (0, 1)


def test_a_commit_that_is_not_there_has_no_distance(history: History, git: GitRunner) -> None:
    assert distance_between(git, history.where, history.a2, MISSING) is None
    assert distance_between(git, history.where, MISSING, history.a2) is None
    assert distance_between(git, history.where, "no-such-branch", history.a2) is None


def test_histories_with_nothing_in_common_are_all_the_commits_of_each(history: History, git: GitRunner) -> None:
    alone = history.upstream.git("commit-tree", "-m", "a root of its own", f"{history.a2}^{{tree}}")
    assert distance_between(git, history.where, alone, history.a2) == (1, 3)


def test_the_distance_is_one_git_process(history: History, git: GitRunner, git_counter: GitCounter) -> None:
    distance_between(git, history.where, history.a2, history.s1)
    assert git_counter.subcommands() == ["rev-list"]


@pytest.mark.parametrize("actual, desired", [(None, "a2"), ("a2", None), ("", "a2"), ("a2", ""), (None, None), ("a2", "a2")])
def test_how_far_is_none_and_asks_no_git_when_a_side_is_unknown_or_both_are_the_same(
    history: History, git: GitRunner, git_counter: GitCounter, actual: str | None, desired: str | None
) -> None:
    sha = {"a2": history.a2, None: None, "": ""}
    assert how_far(git, history.where, sha[actual], sha[desired]) is None
    assert git_counter.subcommands() == []


def test_how_far_is_the_distance_from_the_deployed_commit_to_the_desired_one(history: History, git: GitRunner) -> None:
    assert how_far(git, history.where, history.base, history.a2) == (0, 2)
    assert how_far(git, history.where, history.s1, history.a2) == (1, 2)
    assert how_far(git, history.where, history.a2, MISSING) is None


def test_has_commit_is_true_for_a_commit_and_what_names_one(history: History, git: GitRunner) -> None:
    h = history
    assert [has_commit(git, h.where, name) for name in (h.a2, h.s1, h.a2[:12], "v1", h.upstream.git("rev-parse", "v1"), "side")] == [True] * 6


def test_has_commit_is_false_for_other_objects_and_what_is_not_there(history: History, git: GitRunner) -> None:
    h = history
    tree, blob = h.upstream.git("rev-parse", f"{h.a2}^{{tree}}"), h.upstream.git("rev-parse", f"{h.a2}:file0.txt")
    names = (tree, blob, "tree-tag", MISSING, "no-such-branch", "")
    assert [has_commit(git, h.where, name) for name in names] == [False] * 6


def test_object_type_peels_tags(history: History, git: GitRunner) -> None:
    h = history
    h.upstream.git("tag", "lightweight", h.a1)
    tree, blob = h.upstream.git("rev-parse", f"{h.a2}^{{tree}}"), h.upstream.git("rev-parse", f"{h.a2}:file0.txt")
    names = (h.a2, h.upstream.git("rev-parse", "v1"), "lightweight", tree, blob, h.upstream.git("rev-parse", "tree-tag"))
    assert [object_type(git, h.where, name) for name in names] == ["commit", "commit", "commit", "tree", "blob", "tree"]


def test_object_type_of_what_is_not_there_is_none(history: History, git: GitRunner) -> None:
    assert [object_type(git, history.where, name) for name in (MISSING, "no-such-branch")] == [None, None]


def test_a_peek_repository_answers_with_the_objects_it_borrows(history: History, git: GitRunner, tmp_path: Path) -> None:
    """A ``Where`` with ``--git-dir`` and GIT_ALTERNATE_OBJECT_DIRECTORIES in its env, as ``_peek`` makes one."""
    peek = tmp_path / "peek.git"
    run_git("init", "--quiet", "--bare", str(peek))
    borrowing = Where(("--git-dir", str(peek)), {"GIT_ALTERNATE_OBJECT_DIRECTORIES": str(history.upstream.path / ".git" / "objects")})
    alone = Where(("--git-dir", str(peek)))
    h = history
    assert (has_commit(git, borrowing, h.a2), object_type(git, borrowing, h.a2), distance_between(git, borrowing, h.a2, h.s1)) == (True, "commit", (2, 1))
    assert (has_commit(git, alone, h.a2), object_type(git, alone, h.a2), distance_between(git, alone, h.a2, h.s1)) == (False, None, None)


def test_a_checkout_is_reached_with_minus_c_and_no_environment(tmp_path: Path) -> None:
    where = Where.checkout(str(tmp_path / "app"))
    assert (where.args, dict(where.env), where.shallow) == (("-C", str(tmp_path / "app")), {}, False)


def test_a_shallow_clone_is_known_as_shallow_from_its_git_dir(history: History, tmp_path: Path) -> None:
    shallow, full = tmp_path / "shallow", tmp_path / "full"
    run_git("clone", "--quiet", "--depth", "1", history.upstream.url, str(shallow))
    run_git("clone", "--quiet", history.upstream.url, str(full))
    assert Where.checkout(str(shallow), str(shallow / ".git")).shallow is True
    assert Where.checkout(str(full), str(full / ".git")).shallow is False
    assert Where.checkout(str(shallow)).shallow is False  # without its git dir, nothing is claimed


def test_in_a_shallow_history_the_distance_counts_only_what_is_there(history: History, git: GitRunner, tmp_path: Path) -> None:
    """Why ``shallow`` matters: with the common ancestor cut off, each tip looks like a history of its own."""
    clone = tmp_path / "shallow"
    run_git("clone", "--quiet", "--depth", "1", history.upstream.url, str(clone))
    run_git("-C", str(clone), "fetch", "--quiet", "--depth", "1", "origin", "side")
    where = Where.checkout(str(clone), str(clone / ".git"))
    assert where.shallow
    assert distance_between(git, where, history.a2, history.s1) == (1, 1)  # (2, 1) in the full history
    assert distance_between(git, where, history.a2, history.base) is None  # cut off: not in the repository
