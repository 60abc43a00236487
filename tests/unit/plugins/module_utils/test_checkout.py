# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The clone/pull synchronizer against real repositories over file://, git:// and https://."""

from __future__ import annotations

import json
import os
import pwd
from datetime import datetime, timezone
from pathlib import Path

import pytest

from ansible_collections.fleetops.gitops.plugins.module_utils import _backup
from ansible_collections.fleetops.gitops.plugins.module_utils._errors import (
    DestinationError,
    GitCommandError,
    GitTimeout,
    InvalidOption,
    LocalChangesError,
    RefNotFound,
)
from ansible_collections.fleetops.gitops.plugins.module_utils.checkout import GitOpsSynchronizer
from ansible_collections.fleetops.gitops.plugins.module_utils.drift import SyncState
from ansible_collections.fleetops.gitops.tests.unit.helpers.git_fixtures import run_git, snapshot


def _git(path: Path, *args: str) -> str:
    return run_git("-C", str(path), *args)


def test_clone_puts_head_on_the_branch_with_its_upstream(upstream, tmp_path):
    dest = tmp_path / "srv" / "app"
    result = GitOpsSynchronizer(upstream.url, str(dest)).run("main")
    assert (result.changed, result.plan.action, result.plan.before) == (True, "clone", None)
    assert result.plan.after == upstream.head() == _git(dest, "rev-parse", "HEAD")
    assert _git(dest, "symbolic-ref", "HEAD") == "refs/heads/main"
    assert _git(dest, "rev-parse", "--abbrev-ref", "main@{upstream}") == "origin/main"
    assert result.status.state is SyncState.IN_SYNC and result.status.last_synced_at is not None
    record = json.loads((dest / ".git" / "fleetops-gitops.json").read_text())
    assert record["revision"] == upstream.head()
    assert [p.name for p in dest.parent.iterdir()] == ["app"]  # no clone leftovers beside it


def test_a_noop_runs_two_git_processes_and_writes_nothing(upstream, tmp_path, git_counter):
    dest = tmp_path / "app"
    sync = GitOpsSynchronizer(upstream.url, str(dest))
    sync.run("main")
    before = snapshot(dest)
    git_counter.reset()
    result = sync.run("main")
    assert result.changed is False and result.plan.action == "none"
    assert git_counter.subcommands() == ["status", "ls-remote"]  # the remote URL is read from .git/config
    assert snapshot(dest) == before


def test_a_noop_over_git_daemon_is_two_processes_too(upstream, served, tmp_path, git_counter):
    dest = tmp_path / "app"
    sync = GitOpsSynchronizer(served("git"), str(dest))
    assert sync.run("main").changed
    before = snapshot(dest)
    git_counter.reset()
    assert sync.run("main").changed is False
    assert git_counter.subcommands() == ["status", "ls-remote"]
    assert snapshot(dest) == before


def test_an_update_runs_eight_git_processes(upstream, tmp_path, git_counter):
    """read (status, ls-remote, rev-list), what the switch would destroy (ls-files for hidden edits), fetch, one
    rev-list that both proves the commit is here and says HEAD moves forward, the ignored files the new commit would
    overwrite (diff), checkout; the benchmark's update scenario multiplies this by every checkout."""
    dest = tmp_path / "app"
    sync = GitOpsSynchronizer(upstream.url, str(dest))
    sync.run("main")
    upstream.commit({"file0.txt": "next\n"})
    git_counter.reset()
    assert sync.run("main").changed
    assert git_counter.subcommands() == ["status", "ls-remote", "rev-list", "ls-files", "fetch", "rev-list", "diff", "checkout"]


def test_check_mode_on_absent_dest_creates_nothing(upstream, tmp_path):
    dest = tmp_path / "parent" / "app"
    result = GitOpsSynchronizer(upstream.url, str(dest)).run("main", check_mode=True)
    assert result.changed and result.plan.after == upstream.head()
    assert result.status.state is SyncState.DRIFTED
    assert not (tmp_path / "parent").exists()


def test_check_mode_predicts_the_real_run_and_touches_nothing(upstream, tmp_path):
    dest = tmp_path / "app"
    sync = GitOpsSynchronizer(upstream.url, str(dest))
    sync.run("main")
    new = upstream.commit({"file0.txt": "upstream edit\n"})
    (dest / "file1.txt").write_text("hand edit\n")
    (dest / "stray.txt").write_text("untracked\n")
    before = snapshot(dest)

    check = sync.run("main", check_mode=True, diff=True)
    assert check.changed and check.plan.after == new
    assert snapshot(dest) == before
    assert check.plan.state.changes.modified == ("file1.txt",)
    assert check.plan.state.changes.untracked == ("stray.txt",)

    real = sync.run("main")
    assert real.changed and real.plan.after == check.plan.after == _git(dest, "rev-parse", "HEAD")
    assert sync.run("main", check_mode=True).changed is False
    assert sync.run("main").changed is False


@pytest.mark.parametrize("edit", ["modified", "untracked", "staged", "deleted"])
def test_each_kind_of_local_change_counts_in_check_mode(upstream, tmp_path, edit):
    dest = tmp_path / "app"
    sync = GitOpsSynchronizer(upstream.url, str(dest))
    sync.run("main")
    if edit == "modified":
        (dest / "file0.txt").write_text("x\n")
    elif edit == "untracked":
        (dest / "new.txt").write_text("x\n")
    elif edit == "staged":
        (dest / "file0.txt").write_text("x\n")
        _git(dest, "add", "file0.txt")
    else:
        (dest / "file0.txt").unlink()
    before = snapshot(dest)
    assert sync.run("main", check_mode=True).changed
    assert snapshot(dest) == before
    assert sync.run("main").changed
    assert _git(dest, "status", "--porcelain") == ""


def test_ignored_files_and_nested_repositories_are_left_alone(upstream, tmp_path):
    dest = tmp_path / "app"
    sync = GitOpsSynchronizer(upstream.url, str(dest))
    sync.run("main")
    (dest / "app.log").write_text("runtime data\n")
    run_git("init", "--quiet", str(dest / "vendor"))
    assert sync.run("main", check_mode=True).changed is False
    upstream.commit()
    assert sync.run("main").changed
    assert (dest / "app.log").read_text() == "runtime data\n"
    assert (dest / "vendor" / ".git").is_dir()


def test_update_follows_a_new_upstream_commit(upstream, tmp_path):
    dest = tmp_path / "app"
    sync = GitOpsSynchronizer(upstream.url, str(dest))
    first = sync.run("main")
    record = dest / ".git" / "fleetops-gitops.json"
    record.write_text(json.dumps(dict(json.loads(record.read_text()), last_synced_at="2000-01-01T00:00:00Z")))
    new = upstream.commit({"added.txt": "hello\n"})
    result = sync.run("main", diff=True)
    assert (result.changed, result.plan.action, result.plan.before, result.plan.after) == (True, "update", first.plan.after, new)
    assert (dest / "added.txt").read_text() == "hello\n"
    assert _git(dest, "rev-parse", "origin/main") == new
    assert result.status.last_synced_at >= first.status.last_synced_at and result.status.last_synced_at.year > 2000
    assert "A\tadded.txt" in result.diff["prepared"]
    assert result.diff["before"].startswith(f"revision: {first.plan.after}")


def test_check_mode_diff_lists_the_files_without_fetching_into_the_checkout(upstream, tmp_path):
    """The new commit is looked at in a throwaway repository that borrows the checkout's objects: .git is not touched."""
    dest = tmp_path / "app"
    sync = GitOpsSynchronizer(upstream.url, str(dest))
    sync.run("main")
    upstream.commit({"new.txt": "x\n", "file0.txt": "changed\n"})
    before = snapshot(dest)
    diff = sync.run("main", check_mode=True, diff=True).diff
    assert diff["prepared"].splitlines()[1:] == ["M\tfile0.txt", "A\tnew.txt"]
    assert snapshot(dest) == before


def test_annotated_tag_detaches_head_at_the_tagged_commit(upstream, tmp_path):
    tagged = upstream.tag("v1.0")
    upstream.commit()
    dest = tmp_path / "app"
    result = GitOpsSynchronizer(upstream.url, str(dest)).run("v1.0")
    assert (result.plan.target.kind, result.plan.after) == ("tag", tagged)
    assert _git(dest, "rev-parse", "HEAD") == tagged
    assert _git(dest, "rev-parse", "--abbrev-ref", "HEAD") == "HEAD"  # detached


def test_switching_from_a_branch_to_a_tag_and_back(upstream, tmp_path):
    tagged = upstream.tag("v1.0")
    tip = upstream.commit()
    dest = tmp_path / "app"
    sync = GitOpsSynchronizer(upstream.url, str(dest))
    sync.run("main")
    assert sync.run("v1.0").plan.after == tagged
    assert _git(dest, "rev-parse", "main") == tip  # the local branch is not moved to the tag
    assert sync.run("v1.0").changed is False
    back = sync.run("main")
    assert back.changed and _git(dest, "symbolic-ref", "HEAD") == "refs/heads/main"


@pytest.mark.parametrize("scheme", ["file", "git"])
def test_a_commit_that_is_no_branch_tip_is_fetched_by_its_sha(upstream, served, tmp_path, scheme):
    old = upstream.commit()
    upstream.commit()
    url = upstream.url if scheme == "file" else served("git")
    dest = tmp_path / "app"
    sync = GitOpsSynchronizer(url, str(dest))
    assert sync.run(old).plan.target.kind == "commit"
    assert _git(dest, "rev-parse", "HEAD") == old
    assert sync.run(old).changed is False


def test_version_head_follows_the_remote_default_branch(upstream, tmp_path):
    upstream.git("branch", "-m", "main", "trunk")
    dest = tmp_path / "app"
    result = GitOpsSynchronizer(upstream.url, str(dest)).run("HEAD")
    assert result.plan.target.branch == "trunk"
    assert _git(dest, "symbolic-ref", "HEAD") == "refs/heads/trunk"


def test_backup_keeps_every_local_change_in_a_ref(upstream, tmp_path):
    dest = tmp_path / "app"
    sync = GitOpsSynchronizer(upstream.url, str(dest))
    sync.run("main")
    (dest / "file0.txt").write_text("hand edit\n")
    (dest / "notes").mkdir()
    (dest / "notes" / "todo.txt").write_text("untracked work\n")
    (dest / "file1.txt").unlink()
    (dest / "file2.txt").write_text("staged edit\n")
    _git(dest, "add", "file2.txt")
    (dest / "file2.txt").write_text("edited again after staging\n")
    result = sync.run("main")
    assert result.changed and result.backup_ref.startswith("refs/gitops/backups/")
    assert _git(dest, "status", "--porcelain") == ""
    assert _git(dest, "show", f"{result.backup_ref}:file0.txt") == "hand edit"
    assert _git(dest, "show", f"{result.backup_ref}:notes/todo.txt") == "untracked work"
    assert "file1.txt" not in _git(dest, "ls-tree", "--name-only", result.backup_ref)
    assert _git(dest, "rev-parse", f"{result.backup_ref}^") == upstream.head()
    # the user's index is kept as it was, as the second parent (built beside it, not in it): the staged version too
    assert _git(dest, "show", f"{result.backup_ref}:file2.txt") == "edited again after staging"
    assert _git(dest, "show", f"{result.backup_ref}^2:file2.txt") == "staged edit"


def test_discard_drops_local_changes_without_a_backup(upstream, tmp_path):
    dest = tmp_path / "app"
    sync = GitOpsSynchronizer(upstream.url, str(dest), local_changes="discard")
    sync.run("main")
    (dest / "file0.txt").write_text("hand edit\n")
    (dest / "stray.txt").write_text("x\n")
    result = sync.run("main")
    assert result.changed and result.backup_ref is None
    assert (dest / "file0.txt").read_text() == "content 0\n" and not (dest / "stray.txt").exists()
    assert _git(dest, "for-each-ref", "refs/gitops/") == ""


@pytest.mark.parametrize("check_mode", [True, False])
def test_fail_lists_the_files_and_changes_nothing(upstream, tmp_path, check_mode):
    dest = tmp_path / "app"
    GitOpsSynchronizer(upstream.url, str(dest)).run("main")
    upstream.commit()
    (dest / "file0.txt").write_text("hand edit\n")
    (dest / "stray.txt").write_text("x\n")
    before = snapshot(dest)
    with pytest.raises(LocalChangesError) as caught:
        GitOpsSynchronizer(upstream.url, str(dest), local_changes="fail").run("main", check_mode=check_mode)
    assert caught.value.modified == ["file0.txt"] and caught.value.untracked == ["stray.txt"]
    assert "file0.txt" in str(caught.value) and "stray.txt" in str(caught.value)
    assert snapshot(dest) == before


@pytest.mark.parametrize("check_mode", [True, False])
def test_a_version_missing_on_the_remote_fails_and_creates_nothing(upstream, tmp_path, check_mode):
    dest = tmp_path / "app"
    with pytest.raises(RefNotFound, match="version: 'no-such-branch' does not exist"):
        GitOpsSynchronizer(upstream.url, str(dest)).run("no-such-branch", check_mode=check_mode)
    assert not dest.exists()


def test_a_short_sha_gets_a_hint(upstream, tmp_path):
    with pytest.raises(RefNotFound, match="full SHA"):
        GitOpsSynchronizer(upstream.url, str(tmp_path / "app")).run(upstream.head()[:8])


@pytest.mark.parametrize(
    "option,kwargs,version",
    [
        ("repo", {"repo_url": "--upload-pack=touch /tmp/pwned"}, "main"),
        ("repo", {"repo_url": "-u/tmp/x"}, "main"),
        ("dest", {"local_path": "-C/tmp"}, "main"),
        ("remote", {"remote": "--mirror"}, "main"),
        ("version", {}, "--orphan=x"),
        ("version", {}, "main\nx"),
        ("repo", {"repo_url": "ext::sh -c touch% /tmp/pwned"}, "main"),
    ],
)
def test_option_like_and_hostile_values_are_refused_before_git_runs(upstream, tmp_path, git_counter, option, kwargs, version):
    args = {"repo_url": upstream.url, "local_path": str(tmp_path / "app")}
    args.update({k: v for k, v in kwargs.items() if k in args})
    extra = {k: v for k, v in kwargs.items() if k not in args}
    with pytest.raises(InvalidOption) as caught:
        GitOpsSynchronizer(args["repo_url"], args["local_path"], **extra).run(version)
    assert caught.value.option == option
    assert git_counter.commands() == []
    assert not (tmp_path / "app").exists()


def test_dest_that_is_not_a_checkout_is_never_touched(upstream, tmp_path):
    dest = tmp_path / "app"
    dest.mkdir()
    (dest / "precious.txt").write_text("keep me\n")
    before = snapshot(dest)
    for check_mode in (True, False):
        with pytest.raises(DestinationError, match="is not a git checkout; it was left untouched") as caught:
            GitOpsSynchronizer(upstream.url, str(dest)).run("main", check_mode=check_mode)
        assert caught.value.option == "dest"
    assert snapshot(dest) == before


def test_dest_that_is_a_checkout_of_another_remote_is_never_touched(upstream, make_upstream, tmp_path):
    other = make_upstream("other")
    dest = tmp_path / "app"
    GitOpsSynchronizer(other.url, str(dest)).run("main")
    before = snapshot(dest)
    with pytest.raises(DestinationError, match="is a checkout of .*other.*, not of") as caught:
        GitOpsSynchronizer(upstream.url, str(dest)).run("main")
    assert caught.value.option == "repo"
    assert snapshot(dest) == before


def test_the_same_repository_under_another_spelling_is_accepted(upstream, tmp_path):
    dest = tmp_path / "app"
    GitOpsSynchronizer(upstream.url, str(dest)).run("main")
    assert GitOpsSynchronizer(str(upstream.path) + "/", str(dest)).run("main").changed is False


def test_an_empty_folder_and_a_symlink_to_one_are_cloned_into(upstream, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    GitOpsSynchronizer(upstream.url, str(empty)).run("main")
    assert (empty / "file0.txt").exists()
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "link"
    link.symlink_to(real)
    GitOpsSynchronizer(upstream.url, str(link)).run("main")
    assert link.is_symlink() and (real / "file0.txt").exists()


def test_a_refused_connection_is_tried_again_then_fails(tmp_path, git_counter):
    """Refused is transient (a git server restarting): ``retries`` (2) more attempts, then the error, nothing made."""
    with pytest.raises(GitCommandError) as caught:
        GitOpsSynchronizer("git://127.0.0.1:9/nothing.git", str(tmp_path / "app"), timeout=30).run("main")
    assert caught.value.rc == 128 and "ls-remote" in caught.value.cmd and "Connection refused" in caught.value.stderr
    assert git_counter.subcommands() == ["ls-remote"] * 3
    assert not (tmp_path / "app").exists()


def test_a_remote_that_hangs_fails_within_the_timeout(servers, tmp_path):
    with pytest.raises(GitTimeout, match=r"no answer within the 2 seconds of the timeout option \(git was stopped after [0-9.]+s\)"):
        GitOpsSynchronizer(f"{servers.blackhole_url}/hang.git", str(tmp_path / "app"), timeout=2).run("main")
    assert not (tmp_path / "app").exists()


def test_credentials_in_an_https_url_never_reach_config_or_output(upstream, served, servers, tmp_path, monkeypatch):
    monkeypatch.setenv("GIT_SSL_CAINFO", servers.ca_file)
    url = served("https").replace("https://", "https://alice:s3cret-pw@")
    dest = tmp_path / "app"
    result = GitOpsSynchronizer(url, str(dest)).run("main", diff=True)
    assert result.changed and _git(dest, "rev-parse", "HEAD") == upstream.head()
    assert "s3cret-pw" not in (dest / ".git" / "config").read_text()
    assert "s3cret-pw" not in json.dumps(result.to_dict())
    upstream.commit()
    served("https")  # publish the new commit
    assert GitOpsSynchronizer(url, str(dest)).run("main").changed  # fetch authenticates through the credential helper too
    with pytest.raises(GitCommandError) as caught:
        GitOpsSynchronizer(url.replace("s3cret-pw", "wrong-pw"), str(tmp_path / "other")).run("main")
    text = str(caught.value) + json.dumps(caught.value.details())
    assert "wrong-pw" not in text and "********" in text


def test_a_token_only_url_is_masked_in_errors(served, servers, tmp_path, monkeypatch):
    monkeypatch.setenv("GIT_SSL_CAINFO", servers.ca_file)
    url = served("https").replace("https://", "https://ghp_tokenvalue123@")
    with pytest.raises(GitCommandError) as caught:
        GitOpsSynchronizer(url, str(tmp_path / "app")).run("main")
    assert "ghp_tokenvalue123" not in str(caught.value) + json.dumps(caught.value.details())


def test_a_force_pushed_upstream_is_followed(upstream, tmp_path):
    dest = tmp_path / "app"
    sync = GitOpsSynchronizer(upstream.url, str(dest))
    upstream.commit()
    sync.run("main")
    rewritten = upstream.rewrite()
    result = sync.run("main")
    assert result.changed and _git(dest, "rev-parse", "HEAD") == rewritten
    assert (dest / "rewritten.txt").exists()


def test_shallow_clone_and_update(upstream, tmp_path):
    for number in range(3):
        upstream.commit({f"history-{number}.txt": "x\n"})
    dest = tmp_path / "app"
    sync = GitOpsSynchronizer(upstream.url, str(dest), depth=1)
    sync.run("main")
    assert _git(dest, "rev-list", "--count", "HEAD") == "1"
    new = upstream.commit()
    assert sync.run("main").plan.after == new == _git(dest, "rev-parse", "HEAD")


def test_a_checkout_on_another_branch_is_switched_back(upstream, tmp_path):
    dest = tmp_path / "app"
    sync = GitOpsSynchronizer(upstream.url, str(dest))
    sync.run("main")
    _git(dest, "checkout", "--quiet", "-b", "hotfix")
    check = sync.run("main", check_mode=True)  # the same commit: HEAD's attachment is not a change
    assert not check.changed and check.plan.action == "refresh" and any("on branch 'hotfix'" in f for f in check.plan.findings)
    done = sync.run("main")
    assert not done.changed and done.plan.action == "refresh"
    assert _git(dest, "symbolic-ref", "HEAD") == "refs/heads/main"
    assert sync.run("main").plan.action == "none"


def test_spec_interface_sync_and_get_version(upstream, tmp_path, caplog):
    dest = tmp_path / "app"
    sync = GitOpsSynchronizer(upstream.url, str(dest))
    assert sync.get_version() is None and "cannot read the version" in caplog.text
    assert sync.sync() is True
    assert sync.get_version() == upstream.head()
    assert sync.sync("missing-branch") is False
    assert "missing-branch" in caplog.text


def test_owner_runs_git_as_that_user_and_owns_everything(served, open_tmp, other_user):
    user = pwd.getpwnam(other_user)
    dest = open_tmp / "srv" / "team" / "app"
    sync = GitOpsSynchronizer(served("git"), str(dest), owner=other_user)
    assert sync.run("main").changed
    owners = {os.lstat(os.path.join(root, name)).st_uid for root, dirs, files in os.walk(dest) for name in dirs + files}
    assert owners == {user.pw_uid}
    assert (dest.parent.stat().st_uid, (open_tmp / "srv").stat().st_uid) == (user.pw_uid, user.pw_uid)
    (dest / "file0.txt").write_text("hand edit\n")
    result = sync.run("main")
    assert result.backup_ref
    assert run_git("-c", f"safe.directory={dest}", "-C", str(dest), "status", "--porcelain") == ""
    assert sync.run("main").changed is False
    with pytest.raises(DestinationError, match=f"belongs to {other_user} .* set owner: {other_user}") as caught:
        GitOpsSynchronizer(served("git"), str(dest)).run("main")
    assert caught.value.option == "owner"


def test_owner_needs_no_access_to_the_current_folder(served, open_tmp, other_user, tmp_path, monkeypatch):
    """The module may run from a folder the owner cannot enter (root's temp folder): git must not start there."""
    monkeypatch.chdir(tmp_path)  # pytest's tmp_path is 0700 under root's
    dest = open_tmp / "app"
    sync = GitOpsSynchronizer(served("git"), str(dest), owner=other_user)
    assert sync.run("main").changed  # its `git ls-remote` takes no -C
    assert sync.run("main", check_mode=True).changed is False


def test_an_unknown_owner_is_refused(upstream, tmp_path):
    with pytest.raises(InvalidOption, match="owner: there is no user 'no-such-user-here'"):
        GitOpsSynchronizer(upstream.url, str(tmp_path / "app"), owner="no-such-user-here")


def test_mode_is_part_of_the_desired_state(upstream, tmp_path):
    dest = tmp_path / "app"
    sync = GitOpsSynchronizer(upstream.url, str(dest), mode=0o750)
    sync.run("main")
    assert dest.stat().st_mode & 0o7777 == 0o750
    dest.chmod(0o755)
    check = sync.run("main", check_mode=True)
    assert check.changed and check.plan.findings == (f"mode of {dest} is 0755, expected 0750",)
    assert dest.stat().st_mode & 0o7777 == 0o755
    assert sync.run("main").changed and dest.stat().st_mode & 0o7777 == 0o750
    assert sync.run("main").changed is False


def test_a_pinned_revision_keeps_head_on_the_branch_without_asking_the_remote(upstream, tmp_path, git_counter):
    old = upstream.head()
    upstream.commit()
    dest = tmp_path / "app"
    sync = GitOpsSynchronizer(upstream.url, str(dest))
    result = sync.run("refs/heads/main", revision=old)
    assert (result.plan.target.kind, result.plan.after) == ("branch", old)
    assert _git(dest, "symbolic-ref", "HEAD") == "refs/heads/main" and _git(dest, "rev-parse", "HEAD") == old
    git_counter.reset()
    assert sync.run("refs/heads/main", revision=old, check_mode=True).changed is False
    assert not any("ls-remote" in command for command in git_counter.commands())
    assert sync.run("main", revision=upstream.head()).plan.after == upstream.head()  # a bare name asks for the kind


def test_a_pinned_revision_the_remote_does_not_have_fails_clearly(upstream, tmp_path):
    dest = tmp_path / "app"
    sync = GitOpsSynchronizer(upstream.url, str(dest))
    sync.run("main")
    upstream.commit()
    with pytest.raises(RefNotFound, match="^revision: '" + "b" * 40 + "' does not exist on .*resolved to"):
        sync.run("refs/heads/main", revision="b" * 40)
    with pytest.raises(InvalidOption, match="revision: must be a full commit SHA"):
        sync.run("main", revision="abc")


def test_an_edit_in_the_same_instant_as_the_sync_is_still_backed_up(upstream, tmp_path):
    """Same size, same timestamp tick: only git's racy-clean check can see it, and the backup must not defeat it."""
    dest = tmp_path / "app"
    sync = GitOpsSynchronizer(upstream.url, str(dest))
    for round_ in range(5):
        sync.run("main")
        (dest / "file0.txt").write_text(f"edit no {round_}\n"[:10])  # "content 0\n" is 10 bytes too
        result = sync.run("main")
        assert result.backup_ref, f"round {round_}: the edit was not seen"
        assert _git(dest, "show", f"{result.backup_ref}:file0.txt") == f"edit no {round_}\n"[:10].strip()


def test_a_tracked_file_that_matches_gitignore_is_backed_up_too(upstream, tmp_path):
    (upstream.path / "tracked.log").write_text("shipped\n")
    upstream.git("add", "--force", "tracked.log")
    upstream.git("commit", "--quiet", "-m", "a tracked file despite *.log in .gitignore")
    dest = tmp_path / "app"
    sync = GitOpsSynchronizer(upstream.url, str(dest))
    sync.run("main")
    (dest / "tracked.log").write_text("hand edit\n")
    result = sync.run("main")
    assert _git(dest, "show", f"{result.backup_ref}:tracked.log") == "hand edit"
    assert (dest / "tracked.log").read_text() == "shipped\n"


def test_keep_backups_bounds_the_backup_refs_and_check_mode_predicts_which_go(upstream, tmp_path, monkeypatch):
    ticks = iter(range(100))  # one second per backup: their names, and so their order, differ
    monkeypatch.setattr(_backup, "utc_now", lambda: datetime(2026, 1, 1, 0, 0, next(ticks), tzinfo=timezone.utc))
    dest = tmp_path / "app"
    sync = GitOpsSynchronizer(upstream.url, str(dest), keep_backups=1)
    sync.run("main")
    made = []
    for number in range(3):
        (dest / "file0.txt").write_text(f"edit {number}\n")
        upstream.commit({"file1.txt": f"{number}\n"})
        predicted = sync.run("main", check_mode=True)
        result = sync.run("main")
        assert predicted.removed_backups == result.removed_backups == made[:-1]
        made.append(result.backup_ref)
    left = _git(dest, "for-each-ref", "--format=%(refname)", "refs/gitops/backups/").split()
    assert left == made[-2:]  # the one kept and the one this run made
    assert GitOpsSynchronizer(upstream.url, str(dest)).run("main").removed_backups == []  # no limit: none removed
