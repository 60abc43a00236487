# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What is at a checkout path is read exactly, with one git process for a plain checkout, and nothing written."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from ansible_collections.fleetops.gitops.plugins.module_utils._checkout_state import CheckoutState, LocalChanges, corrupt_or, git_dir, read_checkout_state
from ansible_collections.fleetops.gitops.plugins.module_utils._errors import CorruptCheckout, DestinationError, GitCommandError
from ansible_collections.fleetops.gitops.plugins.module_utils._git import GitRunner
from ansible_collections.fleetops.gitops.plugins.module_utils._host_filters import drivers_in
from ansible_collections.fleetops.gitops.tests.unit.helpers.git_fixtures import run_git, snapshot


def _state(path: Path, remote: str = "origin") -> CheckoutState:
    with GitRunner() as git:
        return read_checkout_state(git, str(path), remote)


def _git(path: Path, *args: str) -> str:
    return run_git("-C", str(path), *args)


def _counting_from_now(git_counter, path: Path) -> None:
    """Start counting with the host's filter drivers known: they are asked once per process, by whichever read comes first."""
    _state(path)
    git_counter.reset()


# -- no checkout: described without git --------------------------------------------------------------------------


def test_a_missing_path_is_described_without_running_git(tmp_path, git_counter):
    path = str(tmp_path / "nothing")
    assert _state(tmp_path / "nothing") == CheckoutState(path, exists=False, empty=False, is_checkout=False, problem="")
    assert git_counter.commands() == []


def test_a_file_and_a_dangling_link_are_not_directories(tmp_path, git_counter):
    (tmp_path / "file").write_text("x\n")
    (tmp_path / "link").symlink_to(tmp_path / "gone")
    for name in ("file", "link"):
        assert _state(tmp_path / name) == CheckoutState(str(tmp_path / name), exists=True, problem="is not a directory")
    assert git_counter.commands() == []


def test_an_empty_folder_is_empty_and_has_no_problem(tmp_path, git_counter):
    (tmp_path / "empty").mkdir()
    assert _state(tmp_path / "empty") == CheckoutState(str(tmp_path / "empty"), exists=True, empty=True, problem="")
    assert git_counter.commands() == []


def test_a_folder_without_git_is_not_a_checkout(tmp_path, git_counter):
    (tmp_path / "plain" / "sub").mkdir(parents=True)
    (tmp_path / "plain" / "sub" / "precious.txt").write_text("x\n")
    state = _state(tmp_path / "plain")
    assert state == CheckoutState(str(tmp_path / "plain"), exists=True, empty=False, problem="is not a git checkout")
    assert state.git_dir is None
    assert git_counter.commands() == []


def test_an_empty_git_folder_is_not_a_checkout_in_gits_own_words(tmp_path):
    (tmp_path / "app" / ".git").mkdir(parents=True)
    assert _state(tmp_path / "app") == CheckoutState(
        str(tmp_path / "app"), exists=True, problem="is not a git checkout (fatal: not a git repository (or any of the parent directories): .git)"
    )


def test_a_git_file_pointing_nowhere_is_described_not_raised(tmp_path):
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / ".git").write_text(f"gitdir: {tmp_path / 'gone.git'}\n")
    state = _state(tmp_path / "app")
    assert (state.exists, state.is_checkout, state.problem) == (True, False, f"is not a git checkout (fatal: not a git repository: {tmp_path / 'gone.git'})")


# -- a checkout ------------------------------------------------------------------------------------------------


def test_a_clean_checkout_is_read_with_one_git_status_and_nothing_written(checkout, upstream, git_counter):
    head = upstream.head()
    before = snapshot(checkout)
    _counting_from_now(git_counter, checkout)
    state = _state(checkout)
    assert state == CheckoutState(
        str(checkout),
        exists=True,
        empty=False,
        is_checkout=True,
        head=head,
        branch="main",
        upstream="origin/main",
        remote_url=upstream.url,
        changes=LocalChanges(),
        problem="",
    )
    assert state.git_dir == str(checkout / ".git")
    assert git_counter.subcommands() == ["status"]  # the remote URL comes from .git/config itself
    assert snapshot(checkout) == before


def test_a_checkout_without_a_remote_of_that_name_has_no_remote_url(checkout, upstream, git_counter):
    head = upstream.head()
    _counting_from_now(git_counter, checkout)
    state = _state(checkout, remote="deploy")
    assert (state.is_checkout, state.head, state.branch, state.upstream, state.remote_url) == (True, head, "main", "origin/main", None)
    assert git_counter.subcommands() == ["status", "config"]  # the file does not name it: git is asked, to be sure


def test_the_remote_url_is_the_one_of_the_remote_asked_for(checkout, make_upstream):
    other = make_upstream("other")
    _git(checkout, "remote", "add", "deploy", other.url)
    assert _state(checkout, remote="deploy").remote_url == other.url


def test_a_detached_head_has_no_branch_and_no_upstream(checkout, upstream):
    _git(checkout, "checkout", "--quiet", "--detach")
    state = _state(checkout)
    assert (state.head, state.branch, state.upstream) == (upstream.head(), None, None)


def test_a_checkout_without_a_commit_has_no_head_but_its_branch(upstream, tmp_path):
    dest = tmp_path / "app"
    run_git("init", "--quiet", "--initial-branch=trunk", str(dest))
    _git(dest, "remote", "add", "origin", upstream.url)
    (dest / "a.txt").write_text("x\n")
    assert _state(dest) == CheckoutState(
        str(dest), exists=True, is_checkout=True, head=None, branch="trunk", remote_url=upstream.url, changes=LocalChanges((), ("a.txt",))
    )


def test_every_kind_of_change_is_modified_or_untracked(checkout):
    (checkout / "file0.txt").write_text("hand edit\n")  # modified in the working tree
    (checkout / "file1.txt").unlink()  # deleted
    (checkout / "staged.txt").write_text("x\n")
    _git(checkout, "add", "staged.txt")  # added to the index
    _git(checkout, "mv", "file2.txt", "moved.txt")  # a rename: its two paths, renames are not followed
    (checkout / "deep" / "er").mkdir(parents=True)
    (checkout / "deep" / "er" / "new.txt").write_text("x\n")  # every untracked file, not its folder
    (checkout / "with space.txt").write_text("x\n")
    (checkout / "new\nline.txt").write_text("x\n")
    (checkout / "runtime.log").write_text("ignored\n")
    run_git("init", "--quiet", str(checkout / "vendor"))  # a nested repository: left alone
    changes = _state(checkout).changes
    assert changes == LocalChanges(
        modified=("file0.txt", "file1.txt", "file2.txt", "moved.txt", "staged.txt"),
        untracked=("deep/er/new.txt", "new\nline.txt", "with space.txt"),
        nested=("vendor/",),
    )
    assert bool(changes) is True
    assert changes.to_dict() == {
        "modified": ["file0.txt", "file1.txt", "file2.txt", "moved.txt", "staged.txt"],
        "untracked": ["deep/er/new.txt", "new\nline.txt", "with space.txt"],
    }


def test_a_staged_edit_undone_in_the_working_tree_is_still_modified(checkout):
    (checkout / "file0.txt").write_text("staged\n")
    _git(checkout, "add", "file0.txt")
    (checkout / "file0.txt").write_text("content 0\n")
    assert _state(checkout).changes == LocalChanges(modified=("file0.txt",))


def test_a_merge_conflict_counts_as_modified(checkout):
    _git(checkout, "checkout", "--quiet", "-b", "other")
    (checkout / "file0.txt").write_text("theirs\n")
    _git(checkout, "commit", "--quiet", "-am", "theirs")
    _git(checkout, "checkout", "--quiet", "main")
    (checkout / "file0.txt").write_text("ours\n")
    _git(checkout, "commit", "--quiet", "-am", "ours")
    assert subprocess.run(["git", "-C", str(checkout), "merge", "--quiet", "other"], stdout=subprocess.DEVNULL, check=False).returncode == 1
    assert _state(checkout).changes == LocalChanges(modified=("file0.txt",))


def test_no_changes_is_false_and_empty_lists():
    assert (bool(LocalChanges()), LocalChanges().to_dict()) == (False, {"modified": [], "untracked": []})
    assert bool(LocalChanges(untracked=("a",))) is True


def test_an_unusual_config_is_read_by_git_and_its_filters_are_known(checkout, upstream, git_counter):
    (checkout / ".git" / "extra.conf").write_text('[remote "origin"]\n\turl = /elsewhere/repo.git\n[filter "crypt"]\n\tclean = cat\n')
    _git(checkout, "config", "include.path", "extra.conf")  # an include: only git can say what the file means
    host = _host_drivers()  # the host's own too (git-lfs sets filter.lfs in /etc/gitconfig)
    _counting_from_now(git_counter, checkout)
    with GitRunner() as git:
        state = read_checkout_state(git, str(checkout), "origin")
        assert git.filters == frozenset({"crypt"}) | host
    assert state.remote_url == "/elsewhere/repo.git"  # the last value wins, as with git config --get
    assert git_counter.subcommands() == ["config", "status"]


def _host_drivers() -> frozenset[str]:
    """The filter drivers of the host's own git config (system and global), which every checkout has too."""
    found = subprocess.run(["git", "config", "--name-only", "--get-regexp", r"^filter\."], cwd="/", capture_output=True, text=True, check=False)
    return drivers_in(found.stdout.split())


def test_the_filters_of_a_plain_config_are_known_before_git_status_runs(checkout, git_counter):
    _git(checkout, "config", "filter.lfs.smudge", "touch /tmp/never-run")
    host = _host_drivers()
    _counting_from_now(git_counter, checkout)
    with GitRunner() as git:
        read_checkout_state(git, str(checkout), "origin")
        assert git.filters == frozenset({"lfs"}) | host
    assert git_counter.subcommands() == ["status"]


def test_a_linked_worktree_is_a_checkout_of_the_same_remote(checkout, upstream, tmp_path):
    worktree = tmp_path / "linked"
    _git(checkout, "worktree", "add", "--quiet", "--detach", str(worktree))
    state = _state(worktree)
    assert (state.is_checkout, state.head, state.branch, state.remote_url) == (True, upstream.head(), None, upstream.url)
    assert state.git_dir == str(checkout / ".git" / "worktrees" / "linked")


def test_a_checkout_of_another_user_is_refused_with_the_owner_to_set(checkout, other_user):
    subprocess.run(["chown", "-R", other_user, str(checkout)], check=True)
    with pytest.raises(DestinationError) as caught:
        _state(checkout)
    assert caught.value.option == "owner"
    assert str(caught.value) == (
        f"owner: {checkout} belongs to {other_user} while git runs as root, and git refuses to work in another user's checkout: "
        f"set owner: {other_user} so that git runs as the checkout's owner"
    )


def test_a_corrupt_index_is_raised_and_named_a_damaged_checkout(checkout):
    (checkout / ".git" / "index").write_bytes(b"\0" * 100)
    with pytest.raises(GitCommandError) as caught:
        _state(checkout)
    assert caught.value.stderr == "error: bad signature 0x00000000\nfatal: index file corrupt\n"
    assert str(caught.value).startswith(f"cannot read the checkout at {checkout}: ")
    damaged = corrupt_or(caught.value, str(checkout))
    assert isinstance(damaged, CorruptCheckout)
    assert damaged.details() == {"option": "dest", "stderr": "error: bad signature 0x00000000\nfatal: index file corrupt\n"}
    assert str(damaged).startswith(f"dest: {checkout} is damaged, git cannot read it (error: bad signature 0x00000000; fatal: index file corrupt).")


# -- git_dir ---------------------------------------------------------------------------------------------------


def test_git_dir_is_the_git_folder_or_where_a_git_file_points(tmp_path):
    (tmp_path / "folder" / ".git").mkdir(parents=True)
    assert git_dir(str(tmp_path / "folder")) == str(tmp_path / "folder" / ".git")
    (tmp_path / "relative").mkdir()
    (tmp_path / "relative" / ".git").write_text("gitdir: ../store/relative.git\nignored second line\n")
    assert git_dir(str(tmp_path / "relative")) == str(tmp_path / "store" / "relative.git")
    (tmp_path / "absolute").mkdir()
    (tmp_path / "absolute" / ".git").write_text(f"gitdir:   {tmp_path}/store/./absolute.git  \n")
    assert git_dir(str(tmp_path / "absolute")) == str(tmp_path / "store" / "absolute.git")


def test_git_dir_is_none_without_git_or_for_a_git_file_that_is_not_one(tmp_path):
    (tmp_path / "none").mkdir()
    assert git_dir(str(tmp_path / "none")) is None
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / ".git").write_text("not a gitdir line\ngitdir: /x\n")
    assert git_dir(str(tmp_path / "junk")) is None
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / ".git").write_text("")
    assert git_dir(str(tmp_path / "empty")) is None


def test_git_dir_never_follows_a_link_to_a_git_file(tmp_path):
    (tmp_path / "target").write_text(f"gitdir: {tmp_path / 'store'}\n")
    (tmp_path / "linked").mkdir()
    os.symlink(tmp_path / "target", tmp_path / "linked" / ".git")
    assert git_dir(str(tmp_path / "linked")) is None


# -- corrupt_or ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "stderr",
    [
        "error: bad signature 0x00000000\nfatal: index file corrupt\n",
        "fatal: .git/index: index file smaller than expected\n",
        "fatal: bad index file sha1 signature\n",
        "error: object file .git/objects/ab/cdef is empty\nfatal: loose object abcdef (stored in .git/objects/ab/cdef) is corrupt\n",
        "fatal: bad object HEAD\n",
        "error: unable to read sha1 file of file0.txt (0123)\n",
        "fatal: missing blob 0123456789abcdef\n",
        "fatal: missing tree 0123456789abcdef\n",
        "error: Could not read 0123: invalid object\n",
        "fatal: Not a valid object name HEAD\n",
        "FATAL: PACK IS CORRUPTED\n",
    ],
)
def test_git_saying_it_cannot_read_its_objects_or_index_is_a_damaged_checkout(stderr):
    error = GitCommandError(["git", "status"], 128, stderr, "cannot read the checkout at /srv/app")
    damaged = corrupt_or(error, "/srv/app")
    assert isinstance(damaged, CorruptCheckout)
    assert (damaged.stderr, damaged.details()) == (stderr, {"option": "dest", "stderr": stderr})


@pytest.mark.parametrize(
    "stderr",
    [
        "fatal: Unable to create '/srv/app/.git/index.lock': File exists.\n",
        "fatal: not a git repository (or any of the parent directories): .git\n",
        "fatal: could not read Username for 'https://host': terminal prompts disabled\n",
        "error: Your local changes to the following files would be overwritten by checkout:\n\tfile0.txt\n",
        "fatal: unable to access 'https://host/x.git/': Could not resolve host: host\n",
        "",
    ],
)
def test_any_other_failure_is_returned_as_it_is(stderr):
    error = GitCommandError(["git", "checkout"], 128, stderr)
    assert corrupt_or(error, "/srv/app") is error
