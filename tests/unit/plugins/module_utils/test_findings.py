# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Each difference between a checkout read from disk and the desired one is one exact line, in a fixed order."""

from __future__ import annotations

from pathlib import Path

import pytest

from ansible_collections.fleetops.gitops.plugins.module_utils._checkout_state import CheckoutState, read_checkout_state
from ansible_collections.fleetops.gitops.plugins.module_utils._findings import Desired, find_drift, listing, short
from ansible_collections.fleetops.gitops.plugins.module_utils._git import GitRunner
from ansible_collections.fleetops.gitops.plugins.module_utils._url import parse_repo_url
from ansible_collections.fleetops.gitops.tests.unit.helpers.git_fixtures import run_git

ELSEWHERE = "f" * 40  # a desired revision find_drift only compares, never looks up


def _state(path: Path, remote: str = "origin") -> CheckoutState:
    with GitRunner() as git:
        return read_checkout_state(git, str(path), remote)


def _git(path: Path, *args: str) -> str:
    return run_git("-C", str(path), *args)


def _commit_here(path: Path, name: str = "local.txt") -> str:
    (path / name).write_text("made here\n")
    _git(path, "add", name)
    _git(path, "commit", "--quiet", "-m", f"add {name}")
    return _git(path, "rev-parse", "HEAD")


# -- short and listing -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("sha,shown", [("0123456789abcdef" * 2 + "01234567", "0123456789ab"), ("abc", "abc"), (None, "(none)"), ("", "(none)")])
def test_short_keeps_twelve_characters_and_names_a_missing_commit(sha, shown):
    assert short(sha) == shown


def test_listing_joins_up_to_twenty_names():
    names = [f"f{number:02}" for number in range(20)]
    assert listing(names) == ", ".join(names)
    assert listing([]) == ""
    assert listing(["only"]) == "only"


def test_listing_cuts_after_the_limit_with_a_count():
    names = [f"f{number:02}" for number in range(23)]
    assert listing(names) == ", ".join(names[:20]) + " and 3 more"
    assert listing(["a", "b", "c"], limit=2) == "a, b and 1 more"
    assert listing(("a", "b"), limit=2) == "a, b"


def test_desired_defaults_to_origin_and_knows_nothing_else():
    assert Desired(ELSEWHERE, "main") == Desired(
        ELSEWHERE, "main", remote="origin", distance=None, rewritten=False, recorded=None, head_distance=None, url=None
    )


# -- no checkout -----------------------------------------------------------------------------------------------


def test_a_missing_path_is_the_one_finding(tmp_path, upstream):
    path = tmp_path / "nothing"
    desired = Desired(ELSEWHERE, "main", url=parse_repo_url(upstream.url))
    assert find_drift(_state(path), desired) == [f"checkout is missing: {path} does not exist"]


def test_an_empty_folder_is_a_missing_checkout(tmp_path):
    (tmp_path / "empty").mkdir()
    assert find_drift(_state(tmp_path / "empty"), Desired(ELSEWHERE, "main")) == [f"checkout is missing: {tmp_path / 'empty'} is an empty folder"]


def test_a_folder_or_file_that_is_no_checkout_says_what_it_is(tmp_path):
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "a.txt").write_text("x\n")
    (tmp_path / "file").write_text("x\n")
    assert find_drift(_state(tmp_path / "plain"), Desired(ELSEWHERE, "main")) == [f"{tmp_path / 'plain'} is not a git checkout"]
    assert find_drift(_state(tmp_path / "file"), Desired(ELSEWHERE, "main")) == [f"{tmp_path / 'file'} is not a directory"]


# -- a checkout ------------------------------------------------------------------------------------------------


def test_a_checkout_as_desired_has_no_findings(checkout, upstream):
    head = upstream.head()
    assert find_drift(_state(checkout), Desired(head, "main", url=parse_repo_url(upstream.url))) == []
    assert find_drift(_state(checkout), Desired(head, "main", url=parse_repo_url(f"{upstream.path}/"))) == []  # another spelling
    assert find_drift(_state(checkout), Desired(None, None)) == []  # nothing desired: nothing to differ


def test_a_remote_of_another_repository_is_named_with_both_urls(checkout, upstream, make_upstream):
    other = make_upstream("other")
    findings = find_drift(_state(checkout), Desired(upstream.head(), "main", url=parse_repo_url(str(other.path))))
    assert findings == [f"remote URL differs: 'origin' is {upstream.url}, expected {other.path}"]


@pytest.mark.parametrize(
    "configured,shown",
    [
        ("https://alice:s3cret-pw@git.example.com/app.git", "https://alice:********@git.example.com/app.git"),
        ("https://ghp_tokenvalue123@git.example.com/app.git", "https://********@git.example.com/app.git"),
    ],
)
def test_credentials_in_the_checkouts_remote_url_are_masked(checkout, upstream, configured, shown):
    _git(checkout, "remote", "set-url", "origin", configured)
    findings = find_drift(_state(checkout), Desired(upstream.head(), "main", url=parse_repo_url(upstream.url)))
    assert findings == [f"remote URL differs: 'origin' is {shown}, expected {upstream.url}"]


def test_a_checkout_without_the_remote_says_so_only_when_a_url_is_desired(checkout, upstream):
    state = _state(checkout, remote="deploy")
    assert find_drift(state, Desired(upstream.head(), "main", remote="deploy", url=parse_repo_url(upstream.url))) == [
        "the checkout has no remote named 'deploy'"
    ]
    assert find_drift(state, Desired(upstream.head(), "main", remote="deploy")) == []


def test_a_checkout_without_a_commit_is_an_interrupted_clone(upstream, tmp_path):
    dest = tmp_path / "app"
    run_git("init", "--quiet", "--initial-branch=main", str(dest))
    _git(dest, "remote", "add", "origin", upstream.url)
    state = _state(dest)
    assert (state.head, state.branch) == (None, "main")
    for desired in (Desired(upstream.head(), "main"), Desired(upstream.head(), "main", recorded=upstream.head(), distance=(0, 1))):
        assert find_drift(state, desired) == ["the checkout has no commit yet (an interrupted clone?)"]


def test_a_revision_that_differs_compares_head_when_nothing_was_recorded(checkout, upstream):
    head = upstream.head()
    findings = find_drift(_state(checkout), Desired(ELSEWHERE, "main", distance=(0, 1)))
    assert findings == [f"revision differs: HEAD {head[:12]}, desired {ELSEWHERE[:12]} (1 commit behind)"]


def test_no_desired_revision_means_no_revision_finding(checkout):
    _commit_here(checkout)
    assert find_drift(_state(checkout), Desired(None, "main", distance=(1, 0))) == []


@pytest.mark.parametrize(
    "distance,rewritten,words",
    [
        ((0, 1), False, "1 commit behind"),
        ((0, 2), False, "2 commits behind"),
        ((1, 0), False, "1 commit ahead: local commits not on the remote"),
        ((3, 0), False, "3 commits ahead: local commits not on the remote"),
        ((1, 1), False, "diverged: 1 commit behind and 1 ahead"),
        ((2, 3), False, "diverged: 3 commits behind and 2 ahead"),
        ((2, 3), True, "history rewritten upstream: the deployed commit is no longer on the desired history (3 commits behind, 2 ahead)"),
        ((1, 0), True, "history rewritten upstream: the deployed commit is no longer on the desired history (0 commits behind, 1 ahead)"),
        ((0, 2), True, "2 commits behind"),  # nothing only the deployed commit has: nothing was rewritten away
        (None, False, "distance unknown: the desired commit has not been fetched"),
        (None, True, "distance unknown: the desired commit has not been fetched"),
    ],
)
def test_the_distance_in_words(checkout, upstream, distance, rewritten, words):
    findings = find_drift(_state(checkout), Desired(ELSEWHERE, "main", distance=distance, rewritten=rewritten))
    assert findings == [f"revision differs: HEAD {upstream.head()[:12]}, desired {ELSEWHERE[:12]} ({words})"]


def test_a_recorded_revision_is_what_the_desired_one_is_compared_with(checkout, upstream):
    recorded = upstream.head()
    findings = find_drift(_state(checkout), Desired(ELSEWHERE, "main", recorded=recorded, distance=(0, 4)))
    assert findings == [f"revision differs: recorded {recorded[:12]}, desired {ELSEWHERE[:12]} (4 commits behind)"]
    assert find_drift(_state(checkout), Desired(recorded, "main", recorded=recorded)) == []


@pytest.mark.parametrize(
    "head_distance,words",
    [
        (None, ""),
        ((1, 0), " (HEAD is 1 commit ahead of it)"),
        ((2, 0), " (HEAD is 2 commits ahead of it)"),
        ((0, 1), " (HEAD is 1 commit behind it)"),
        ((0, 3), " (HEAD is 3 commits behind it)"),
        ((1, 1), " (diverged: HEAD has 1 commit the recorded revision has not, and lacks 1)"),
        ((2, 5), " (diverged: HEAD has 2 commits the recorded revision has not, and lacks 5)"),
    ],
)
def test_head_moved_away_from_the_recorded_revision_in_words(checkout, upstream, head_distance, words):
    recorded = upstream.head()
    head = _commit_here(checkout)
    findings = find_drift(_state(checkout), Desired(recorded, "main", recorded=recorded, head_distance=head_distance))
    assert findings == [f"HEAD moved outside fleetops.gitops: recorded {recorded[:12]}, HEAD {head[:12]}{words}"]


def test_a_stale_record_and_a_moved_head_are_two_findings(checkout, upstream):
    recorded = upstream.head()
    head = _commit_here(checkout)
    findings = find_drift(_state(checkout), Desired(ELSEWHERE, "main", recorded=recorded, distance=(0, 1), head_distance=(1, 0)))
    assert findings == [
        f"revision differs: recorded {recorded[:12]}, desired {ELSEWHERE[:12]} (1 commit behind)",
        f"HEAD moved outside fleetops.gitops: recorded {recorded[:12]}, HEAD {head[:12]} (HEAD is 1 commit ahead of it)",
    ]


def test_a_detached_head_where_a_branch_is_desired(checkout, upstream):
    _git(checkout, "checkout", "--quiet", "--detach")
    assert find_drift(_state(checkout), Desired(upstream.head(), "main")) == ["detached HEAD, expected branch 'main'"]
    assert find_drift(_state(checkout), Desired(upstream.head(), None)) == []  # a tag or a commit: detached is right


def test_another_branch_where_a_branch_is_desired(checkout, upstream):
    _git(checkout, "checkout", "--quiet", "-b", "hotfix")
    assert find_drift(_state(checkout), Desired(upstream.head(), "main")) == ["on branch 'hotfix', expected 'main'"]


def test_a_branch_where_a_detached_head_is_desired_only_with_a_revision(checkout, upstream):
    head = upstream.head()
    assert find_drift(_state(checkout), Desired(head, None)) == [f"on branch 'main', expected a detached HEAD at {head[:12]}"]
    assert find_drift(_state(checkout), Desired(None, None)) == []


def test_modified_and_untracked_files_are_listed_as_git_status_orders_them(checkout, upstream):
    (checkout / "file2.txt").write_text("hand edit\n")
    (checkout / "file0.txt").unlink()
    (checkout / "file1.txt").write_text("staged\n")
    _git(checkout, "add", "file1.txt")
    (checkout / "notes").mkdir()
    (checkout / "notes" / "todo.txt").write_text("x\n")
    (checkout / "a-stray.txt").write_text("x\n")
    (checkout / "ignored.log").write_text("x\n")
    assert find_drift(_state(checkout), Desired(upstream.head(), "main")) == [
        "tracked files modified: file0.txt, file1.txt, file2.txt",
        "untracked files: a-stray.txt, notes/todo.txt",
    ]


def test_a_long_list_of_files_stays_one_line(checkout, upstream):
    for number in range(25):
        (checkout / f"stray{number:02}.txt").write_text("x\n")
    shown = ", ".join(f"stray{number:02}.txt" for number in range(20))
    assert find_drift(_state(checkout), Desired(upstream.head(), "main")) == [f"untracked files: {shown} and 5 more"]


def test_every_finding_at_once_comes_in_a_fixed_order(checkout, upstream, make_upstream):
    other = make_upstream("other")
    recorded = upstream.head()
    head = _commit_here(checkout)
    _git(checkout, "checkout", "--quiet", "-b", "hotfix")
    (checkout / "file0.txt").write_text("hand edit\n")
    (checkout / "stray.txt").write_text("x\n")
    desired = Desired(ELSEWHERE, "main", distance=(0, 2), recorded=recorded, head_distance=(1, 0), url=parse_repo_url(other.url))
    assert find_drift(_state(checkout), desired) == [
        f"remote URL differs: 'origin' is {upstream.url}, expected {other.url}",
        f"revision differs: recorded {recorded[:12]}, desired {ELSEWHERE[:12]} (2 commits behind)",
        f"HEAD moved outside fleetops.gitops: recorded {recorded[:12]}, HEAD {head[:12]} (HEAD is 1 commit ahead of it)",
        "on branch 'hotfix', expected 'main'",
        "tracked files modified: file0.txt",
        "untracked files: stray.txt",
    ]
