# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Each error says what went wrong in its message, and gives a playbook the keys to branch on in details()."""

from __future__ import annotations

import json

import pytest

from ansible_collections.fleetops.gitops.plugins.module_utils._errors import (
    CorruptCheckout,
    DestinationError,
    DriftUnknown,
    GitCommandError,
    GitNotFound,
    GitOpsError,
    GitTimeout,
    HistoryRewritten,
    InvalidOption,
    LocalChangesError,
    RefNotFound,
)


def test_the_base_error_has_no_details_and_no_revisions():
    error = GitOpsError("something")
    assert (str(error), error.details(), error.revisions) == ("something", {}, (None, None))


def test_revisions_set_on_one_error_stay_on_it():
    first, second = GitOpsError("a"), GitOpsError("b")
    first.revisions = ("a" * 40, "b" * 40)
    assert (first.revisions, second.revisions, GitOpsError.revisions) == (("a" * 40, "b" * 40), (None, None), (None, None))


def test_an_invalid_option_names_the_option_first():
    error = InvalidOption("depth", "must be 1 or more")
    assert (str(error), error.option, error.problem, error.details()) == ("depth: must be 1 or more", "depth", "must be 1 or more", {"option": "depth"})


def test_git_not_found_says_git_is_missing_for_the_roles_rescue():
    error = GitNotFound("git is not installed")
    assert (str(error), error.details()) == ("git is not installed", {"git_missing": True})


def test_a_failed_command_shows_the_command_its_exit_code_and_its_stripped_stderr():
    error = GitCommandError(("git", "-C", "/srv/app", "fetch"), 128, "fatal: no such remote\n\n", "cannot fetch")
    assert str(error) == "cannot fetch: git -C /srv/app fetch (exit code 128): fatal: no such remote"
    assert error.details() == {"cmd": ["git", "-C", "/srv/app", "fetch"], "rc": 128, "stderr": "fatal: no such remote\n\n"}
    assert error.cmd == ["git", "-C", "/srv/app", "fetch"]  # a list, whatever sequence it was given


def test_a_failed_command_without_stderr_or_summary_ends_at_the_exit_code():
    error = GitCommandError(["git", "status"], 1, "  \n")
    assert str(error) == "git command failed: git status (exit code 1)"
    assert error.details() == {"cmd": ["git", "status"], "rc": 1, "stderr": "  \n"}


def test_a_command_with_no_exit_code_is_explained_by_its_reason_alone():
    """rc None: never started, or stopped; the message is the reason, the command stays in details."""
    error = GitCommandError(["git", "ls-remote", "https://host/x"], None, "no answer within 5 seconds\n", "cannot resolve version")
    assert str(error) == "cannot resolve version: no answer within 5 seconds"
    assert error.details() == {"cmd": ["git", "ls-remote", "https://host/x"], "rc": None, "stderr": "no answer within 5 seconds\n"}
    assert str(GitCommandError(["git"], None, "stopped")) == "git command failed: stopped"


def test_a_timeout_is_a_command_error_with_the_same_details():
    error = GitTimeout(["git", "fetch"], None, "not started: the 1 seconds of the timeout option were already used up", "cannot fetch")
    assert isinstance(error, GitCommandError)
    assert str(error) == "cannot fetch: not started: the 1 seconds of the timeout option were already used up"
    assert error.details() == {"cmd": ["git", "fetch"], "rc": None, "stderr": "not started: the 1 seconds of the timeout option were already used up"}


@pytest.mark.parametrize(
    "cause,details",
    [
        (GitNotFound("git is not installed"), {"git_missing": True}),
        (GitCommandError(["git", "status"], 128, "fatal: x"), {"cmd": ["git", "status"], "rc": 128, "stderr": "fatal: x"}),
        (InvalidOption("branch", "bad"), {"option": "branch"}),
        (GitOpsError("plain"), {}),
        (None, {}),
    ],
)
def test_drift_unknown_takes_its_causes_details(cause, details):
    error = DriftUnknown("cannot tell whether /srv/app drifted: x", cause)
    assert (str(error), error.cause, error.details()) == ("cannot tell whether /srv/app drifted: x", cause, details)


def test_drift_unknown_without_a_cause_has_none():
    error = DriftUnknown("cannot tell")
    assert (error.cause, error.details()) == (None, {})


def test_a_missing_ref_names_the_option_the_version_and_the_repository():
    error = RefNotFound("version", "v9", "https://host/app.git")
    assert (str(error), error.option, error.details()) == ("version: 'v9' does not exist on https://host/app.git", "version", {"option": "version"})


def test_a_missing_ref_adds_its_hint_in_parentheses():
    error = RefNotFound("revision", "abc123", "/srv/up", "a commit needs its full SHA")
    assert (str(error), error.details()) == ("revision: 'abc123' does not exist on /srv/up (a commit needs its full SHA)", {"option": "revision"})


def test_a_destination_error_names_the_option_it_blames():
    error = DestinationError("owner", "/srv/app belongs to alice")
    assert (str(error), error.option, error.details()) == ("owner: /srv/app belongs to alice", "owner", {"option": "owner"})


def test_local_changes_list_every_kind_of_loss_and_the_ways_out():
    error = LocalChangesError(
        "/srv/app",
        {
            "modified": ["a.txt", "b.txt"],
            "untracked": ["new.txt"],
            "overwritten": ["secrets.env"],
            "commits": ["c" * 40, f"{'d' * 40} (branch main)"],
            "flagged": ["b.txt"],
        },
    )
    assert str(error) == (
        "local_changes=fail: /srv/app has local changes (modified: a.txt, b.txt (b.txt marked assume-unchanged or skip-worktree); "
        f"untracked: new.txt; ignored files the new revision would overwrite: secrets.env; local commits not on the remote, up to {'c' * 40}, "
        f"{'d' * 40} (branch main)); nothing was changed. Use local_changes=backup to keep them in a backup ref, or local_changes=discard to drop them."
    )
    assert error.details() == {
        "modified": ["a.txt", "b.txt"],
        "untracked": ["new.txt"],
        "overwritten": ["secrets.env"],
        "commits": ["c" * 40, f"{'d' * 40} (branch main)"],
    }


def test_local_changes_name_only_the_kinds_found_and_take_any_sequence():
    error = LocalChangesError("/srv/app", {"untracked": ("new.txt",), "flagged": ("new.txt",)})
    assert str(error) == (
        "local_changes=fail: /srv/app has local changes (untracked: new.txt); nothing was changed. "
        "Use local_changes=backup to keep them in a backup ref, or local_changes=discard to drop them."
    )
    assert error.details() == {"modified": [], "untracked": ["new.txt"], "overwritten": [], "commits": []}


def test_a_rewritten_history_names_the_commit_and_the_option():
    error = HistoryRewritten("/srv/app", "e" * 40)
    assert str(error) == (
        f"on_rewrite=fail: the history of the remote was rewritten (force-pushed): /srv/app is at {'e' * 40}, which the new revision does not "
        "contain; nothing was changed. Set on_rewrite=follow to follow it (the old commit is kept in a backup ref)."
    )
    assert (error.head, error.details()) == ("e" * 40, {"option": "on_rewrite"})


def test_a_corrupt_checkout_quotes_each_line_of_git_once_and_says_how_to_repair():
    stderr = "error: bad signature 0x00000000\n\n  fatal: index file corrupt  \nerror: bad signature 0x00000000\n"
    error = CorruptCheckout("/srv/app", stderr)
    assert str(error) == (
        "dest: /srv/app is damaged, git cannot read it (error: bad signature 0x00000000; fatal: index file corrupt). Nothing was deleted. "
        "To repair, see what is missing with 'git -C /srv/app fsck --full'; or move the folder aside (mv /srv/app /srv/app.damaged) and run "
        "again to clone it afresh, then copy back what you need from the damaged copy."
    )
    assert error.details() == {"option": "dest", "stderr": stderr}


@pytest.mark.parametrize(
    "error",
    [
        InvalidOption("a", "b"),
        GitNotFound("x"),
        GitCommandError(["git"], 1, "e"),
        GitTimeout(["git"], None, "e"),
        DriftUnknown("x", GitNotFound("y")),
        RefNotFound("version", "v", "r"),
        DestinationError("dest", "m"),
        LocalChangesError("/d", {"modified": ["a"]}),
        HistoryRewritten("/d", "h"),
        CorruptCheckout("/d", "corrupt"),
    ],
    ids=lambda error: type(error).__name__,
)
def test_every_error_is_a_gitops_error_with_json_safe_details(error):
    assert isinstance(error, GitOpsError)
    assert json.loads(json.dumps(error.details())) == error.details()
