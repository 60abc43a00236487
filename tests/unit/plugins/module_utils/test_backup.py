# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A backup keeps everything a reset would destroy in one new ref, and changes nothing else in the repository."""

from __future__ import annotations

import os
import stat
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from ansible_collections.fleetops.gitops.plugins.module_utils import _backup
from ansible_collections.fleetops.gitops.plugins.module_utils._backup import BACKUP_NAMESPACE, Keep, backup, drop_backups, keep_commit, stale_backups
from ansible_collections.fleetops.gitops.plugins.module_utils._checkout_state import read_checkout_state
from ansible_collections.fleetops.gitops.plugins.module_utils._errors import GitCommandError
from ansible_collections.fleetops.gitops.plugins.module_utils._git import GitRunner
from ansible_collections.fleetops.gitops.tests.unit.helpers.git_fixtures import run_git, snapshot

TARGET = "b" * 40  # the revision the reset goes to: only named in the message, never looked up
STAMP = "20260102T030405Z"
IDENTITY = "fleetops.gitops <fleetops.gitops@localhost>"


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Names and messages carry the time: frozen, so that each is known exactly."""
    monkeypatch.setattr(_backup, "utc_now", lambda: datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc))


def _git(path: Path, *args: str) -> str:
    return run_git("-C", str(path), *args)


def _take(path: Path, keep: Keep) -> str | None:
    with GitRunner() as git:
        return backup(git, str(path), keep)


def _commit_here(path: Path, name: str, content: str = "made here\n") -> str:
    (path / name).write_text(content)
    _git(path, "add", name)
    _git(path, "commit", "--quiet", "-m", f"add {name}")
    return _git(path, "rev-parse", "HEAD")


def _parents(path: Path, commit: str) -> list[str]:
    return _git(path, "show", "--no-patch", "--format=%P", commit).split()


def _blob(path: Path, commit: str, name: str) -> str:
    return subprocess.run(["git", "-C", str(path), "cat-file", "blob", f"{commit}:{name}"], check=True, stdout=subprocess.PIPE, text=True).stdout


def _files(path: Path, commit: str) -> dict[str, str]:
    """Every file of ``commit``'s tree and its exact content."""
    entries = [entry for entry in _git(path, "ls-tree", "-r", "-z", commit).split("\0") if entry]
    return {entry.split("\t", 1)[1]: _blob(path, commit, entry.split("\t", 1)[1]) for entry in entries if entry.split()[1] == "blob"}


def _message(path: Path, commit: str) -> str:
    """The commit's message exactly, as ``commit-tree -m`` wrote it."""
    raw = subprocess.run(["git", "-C", str(path), "cat-file", "commit", commit], check=True, stdout=subprocess.PIPE, text=True).stdout
    return raw.split("\n\n", 1)[1]


def _people(path: Path, commit: str) -> tuple[str, str]:
    return _git(path, "show", "--no-patch", "--format=%an <%ae>", commit), _git(path, "show", "--no-patch", "--format=%cn <%ce>", commit)


def _is_object(name: str) -> bool:
    return name == ".git/objects" or name.startswith(".git/objects/")


def _changed(before: dict, after: dict) -> list[str]:
    """Entries added, removed or changed, a folder by its mode only; objects aside, after checking none changed or went."""
    kept = {name: entry[3] for name, entry in before.items() if _is_object(name) and not stat.S_ISDIR(entry[0])}
    assert {name: after.get(name, (0, 0, 0, "gone"))[3] for name in kept} == kept, "an object was changed or removed"

    def view(shot: dict) -> dict:
        return {name: (entry[0],) if stat.S_ISDIR(entry[0]) else entry for name, entry in shot.items() if not _is_object(name)}

    old, new = view(before), view(after)
    return sorted(name for name in set(old) | set(new) if old.get(name) != new.get(name))


def _only_the_new_ref(ref: str) -> list[str]:
    """What the first backup of a repository adds outside its objects: the ref, and the folders of the namespace."""
    return [".git/refs/gitops", ".git/refs/gitops/backups", f".git/{ref}"]


def _refs(path: Path) -> str:
    return _git(path, "for-each-ref", "--format=%(refname) %(objectname)", BACKUP_NAMESPACE)


# -- nothing to keep ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("keep", [Keep("a" * 40, TARGET), Keep(None, TARGET), Keep("a" * 40, TARGET, commits=("", ""))])
def test_nothing_to_keep_makes_no_ref_and_runs_no_git(checkout, git_counter, keep):
    before = snapshot(checkout)
    git_counter.reset()
    assert _take(checkout, keep) is None
    assert git_counter.commands() == []
    assert snapshot(checkout) == before


def test_ignored_files_alone_are_not_kept_without_changes(checkout, git_counter):
    """``ignored`` completes ``changes``; the caller sets ``changes`` whenever there are files to keep."""
    (checkout / "secret.log").write_text("mine\n")
    head = _git(checkout, "rev-parse", "HEAD")
    git_counter.reset()
    assert _take(checkout, Keep(head, TARGET, ignored=("secret.log",))) is None
    assert git_counter.commands() == []


# -- commits alone ---------------------------------------------------------------------------------------------


def test_one_commit_is_kept_by_a_ref_to_that_very_commit(checkout):
    local = _commit_here(checkout, "local.txt")
    before = snapshot(checkout)
    ref = _take(checkout, Keep(local, TARGET, commits=(local,)))
    assert ref == f"refs/gitops/backups/{STAMP}-{local[:12]}"
    assert _refs(checkout) == f"{ref} {local}"
    assert _changed(before, snapshot(checkout)) == _only_the_new_ref(ref)


def test_a_commit_listed_twice_or_beside_empty_ones_is_kept_once(checkout):
    local = _commit_here(checkout, "local.txt")
    ref = _take(checkout, Keep(local, TARGET, commits=("", local, local)))
    assert _refs(checkout) == f"{ref} {local}"


def test_several_commits_are_kept_by_one_commit_with_each_as_a_parent(checkout, upstream):
    first = _commit_here(checkout, "first.txt")
    _git(checkout, "checkout", "--quiet", "-b", "other", upstream.head())
    second = _commit_here(checkout, "second.txt")
    before = snapshot(checkout)
    ref = _take(checkout, Keep(second, TARGET, commits=(first, second, first)))
    commit = _git(checkout, "rev-parse", ref)
    assert ref == f"refs/gitops/backups/{STAMP}-{commit[:12]}"
    assert _parents(checkout, commit) == [first, second]
    assert _git(checkout, "rev-parse", f"{commit}^{{tree}}") == _git(checkout, "rev-parse", f"{first}^{{tree}}")
    assert _message(checkout, commit) == (
        f"fleetops.gitops backup of local commits at {STAMP}\n\nTaken before resetting {checkout} from {second} to {TARGET}.\n"
    )
    assert _people(checkout, commit) == (IDENTITY, IDENTITY)
    assert _changed(before, snapshot(checkout)) == _only_the_new_ref(ref)


# -- local changes ---------------------------------------------------------------------------------------------


def test_local_changes_are_a_commit_of_the_working_tree_on_head_and_the_index(checkout):
    head = _git(checkout, "rev-parse", "HEAD")
    (checkout / "file0.txt").write_text("hand edit\n")
    (checkout / "file1.txt").write_text("staged\n")
    _git(checkout, "add", "file1.txt")
    (checkout / "file1.txt").write_text("edited again after staging\n")
    (checkout / "file2.txt").unlink()
    (checkout / "notes").mkdir()
    (checkout / "notes" / "todo.txt").write_text("untracked work\n")
    (checkout / "runtime.log").write_text("ignored\n")

    ref = _take(checkout, Keep(head, TARGET, changes=True))

    commit = _git(checkout, "rev-parse", ref)
    assert ref == f"refs/gitops/backups/{STAMP}-{commit[:12]}"
    assert _files(checkout, commit) == {
        ".gitignore": "*.log\n",
        "file0.txt": "hand edit\n",
        "file1.txt": "edited again after staging\n",
        "notes/todo.txt": "untracked work\n",
    }
    head_parent, index = _parents(checkout, commit)
    assert head_parent == head and _parents(checkout, index) == [head]
    assert _files(checkout, index) == {".gitignore": "*.log\n", "file0.txt": "content 0\n", "file1.txt": "staged\n", "file2.txt": "content 2\n"}
    assert _message(checkout, commit) == f"fleetops.gitops backup of local changes at {STAMP}\n\nTaken before resetting {checkout} from {head} to {TARGET}.\n"
    assert _message(checkout, index) == (
        f"fleetops.gitops backup of index (staged content) at {STAMP}\n\nTaken before resetting {checkout} from {head} to {TARGET}.\n"
    )
    assert _people(checkout, commit) == _people(checkout, index) == (IDENTITY, IDENTITY)
    # the user's own index and working tree are as they were
    assert _git(checkout, "diff", "--cached", "--name-only") == "file1.txt"
    assert (checkout / "file1.txt").read_text() == "edited again after staging\n" and not (checkout / "file2.txt").exists()


def test_nothing_staged_still_gives_the_index_commit_at_heads_tree(checkout):
    head = _git(checkout, "rev-parse", "HEAD")
    (checkout / "file0.txt").write_text("hand edit\n")
    commit = _git(checkout, "rev-parse", _take(checkout, Keep(head, TARGET, changes=True)))
    head_parent, index = _parents(checkout, commit)
    assert (head_parent, _parents(checkout, index)) == (head, [head])
    assert _git(checkout, "rev-parse", f"{index}^{{tree}}") == _git(checkout, "rev-parse", f"{head}^{{tree}}")


def test_taking_the_snapshot_changes_nothing_but_the_new_ref(checkout):
    (checkout / "file0.txt").write_text("hand edit\n")
    (checkout / "file1.txt").unlink()
    (checkout / "new.txt").write_text("untracked\n")
    before = snapshot(checkout)
    ref = _take(checkout, Keep(_git(checkout, "rev-parse", "HEAD"), TARGET, changes=True))
    assert _changed(before, snapshot(checkout)) == _only_the_new_ref(ref)


def test_taking_the_snapshot_of_staged_content_changes_nothing_but_the_new_ref(checkout):
    (checkout / "file0.txt").write_text("staged\n")
    _git(checkout, "add", "file0.txt")
    before = snapshot(checkout)
    ref = _take(checkout, Keep(_git(checkout, "rev-parse", "HEAD"), TARGET, changes=True))
    assert _changed(before, snapshot(checkout)) == _only_the_new_ref(ref)
    assert _blob(checkout, f"{ref}^2", "file0.txt") == "staged\n"


def test_kept_commits_come_after_head_and_the_index_and_head_only_once(checkout):
    _git(checkout, "checkout", "--quiet", "-b", "other")
    other = _commit_here(checkout, "other.txt")
    _git(checkout, "checkout", "--quiet", "main")
    head = _git(checkout, "rev-parse", "HEAD")
    (checkout / "file0.txt").write_text("hand edit\n")
    commit = _git(checkout, "rev-parse", _take(checkout, Keep(head, TARGET, changes=True, commits=(head, other, "", other))))
    parents = _parents(checkout, commit)
    assert (len(parents), parents[0], _parents(checkout, parents[1]), parents[2]) == (3, head, [head], other)
    assert _files(checkout, commit)["file0.txt"] == "hand edit\n" and "other.txt" not in _files(checkout, commit)


def test_ignored_files_are_kept_only_when_named(checkout):
    head = _git(checkout, "rev-parse", "HEAD")
    (checkout / "secret.log").write_text("mine\n")
    (checkout / "noise.log").write_text("not asked for\n")
    (checkout / "logs").mkdir()
    (checkout / "logs" / "kept.log").write_text("a folder of them\n")
    (checkout / "file0.txt").write_text("hand edit\n")
    commit = _take(checkout, Keep(head, TARGET, changes=True, ignored=("secret.log", "logs/")))
    assert _files(checkout, commit) == {
        ".gitignore": "*.log\n",
        "file0.txt": "hand edit\n",
        "file1.txt": "content 1\n",
        "file2.txt": "content 2\n",
        "logs/kept.log": "a folder of them\n",
        "secret.log": "mine\n",
    }


def test_a_tracked_file_that_matches_gitignore_stays_in_the_snapshot(checkout):
    (checkout / "shipped.log").write_text("shipped\n")
    _git(checkout, "add", "--force", "shipped.log")
    _git(checkout, "commit", "--quiet", "-m", "a tracked file despite *.log")
    (checkout / "shipped.log").write_text("hand edit\n")
    ref = _take(checkout, Keep(_git(checkout, "rev-parse", "HEAD"), TARGET, changes=True))
    assert _files(checkout, ref)["shipped.log"] == "hand edit\n"


@pytest.mark.parametrize("flag,tag", [("--assume-unchanged", "h"), ("--skip-worktree", "S")])
def test_an_edit_an_index_flag_hides_is_kept_and_the_flag_left_alone(checkout, flag, tag):
    _git(checkout, "update-index", flag, "file1.txt")
    (checkout / "file1.txt").write_text("hidden hand edit\n")
    assert _git(checkout, "status", "--porcelain") == ""  # git itself does not see it
    ref = _take(checkout, Keep(_git(checkout, "rev-parse", "HEAD"), TARGET, changes=True))
    assert _files(checkout, ref)["file1.txt"] == "hidden hand edit\n"
    assert _git(checkout, "ls-files", "-v", "file1.txt") == f"{tag} file1.txt"


def test_an_edit_the_stat_cache_cannot_see_is_kept(checkout):
    """Same size, same modification time, ctime not trusted: only hashing the file shows the edit."""
    _git(checkout, "config", "core.trustctime", "false")
    target = checkout / "file0.txt"
    os.utime(target, (946684800, 946684800))  # long before the index was written: not racily clean
    _git(checkout, "update-index", "--refresh")  # the index records that time
    target.write_text("content X\n")  # as long as "content 0\n"
    os.utime(target, (946684800, 946684800))
    assert _git(checkout, "status", "--porcelain") == ""  # git's stat cache says nothing changed
    ref = _take(checkout, Keep(_git(checkout, "rev-parse", "HEAD"), TARGET, changes=True))
    assert _files(checkout, ref)["file0.txt"] == "content X\n"


def test_a_checkout_without_a_commit_is_kept_in_a_root_commit(tmp_path):
    dest = tmp_path / "app"
    run_git("init", "--quiet", "--initial-branch=main", str(dest))
    (dest / "a.txt").write_text("first file\n")
    _git(dest, "add", "a.txt")
    (dest / "b.txt").write_text("untracked\n")
    ref = _take(dest, Keep(None, TARGET, changes=True))
    assert _parents(dest, ref) == []  # no HEAD, so no index commit either
    assert _files(dest, ref) == {"a.txt": "first file\n", "b.txt": "untracked\n"}
    assert _message(dest, ref) == f"fleetops.gitops backup of local changes at {STAMP}\n\nTaken before resetting {dest} from (no commit) to {TARGET}.\n"
    assert _git(dest, "ls-files", "--stage", "a.txt").endswith(" 0\ta.txt") and _git(dest, "ls-files", "b.txt") == ""  # the index as it was


def test_a_snapshot_that_cannot_be_taken_fails_and_makes_no_ref(checkout):
    with pytest.raises(GitCommandError) as caught:
        _take(checkout, Keep("d" * 40, TARGET, changes=True))  # a HEAD the repository does not have
    assert str(caught.value).startswith(f"cannot snapshot local changes: git -C {checkout} read-tree {'d' * 40} (exit code 128): ")
    assert _refs(checkout) == ""


def test_a_nested_repository_without_a_commit_does_not_stop_the_backup(checkout):
    run_git("init", "--quiet", str(checkout / "vendor"))
    (checkout / "file0.txt").write_text("hand edit\n")
    with GitRunner() as git:
        nested = read_checkout_state(git, str(checkout), "origin").changes.nested
    assert nested == ("vendor/",)
    ref = _take(checkout, Keep(_git(checkout, "rev-parse", "HEAD"), TARGET, changes=True, leave=nested))
    assert _blob(checkout, ref, "file0.txt") == "hand edit\n"
    assert "vendor" not in _files(checkout, ref)  # left where it is, not copied


# -- keep_commit -----------------------------------------------------------------------------------------------


def test_keep_commit_names_the_ref_by_time_and_commit(checkout):
    head = _git(checkout, "rev-parse", "HEAD")
    with GitRunner() as git:
        ref = keep_commit(git, str(checkout), head, "local commits")
    assert (ref, _refs(checkout)) == (f"refs/gitops/backups/{STAMP}-{head[:12]}", f"refs/gitops/backups/{STAMP}-{head[:12]} {head}")


@pytest.mark.parametrize("packed", [False, True])
def test_keep_commit_never_overwrites_an_existing_ref(checkout, packed):
    head = _git(checkout, "rev-parse", "HEAD")
    older = _commit_here(checkout, "older.txt")
    taken = f"refs/gitops/backups/{STAMP}-{head[:12]}"
    _git(checkout, "update-ref", taken, older)  # what a backup in the same second left
    if packed:
        _git(checkout, "pack-refs", "--all")
    with GitRunner() as git, pytest.raises(GitCommandError) as caught:
        keep_commit(git, str(checkout), head, "local changes")
    assert (caught.value.rc, caught.value.cmd) == (
        128,
        ["git", "-C", str(checkout), "update-ref", "-m", "fleetops.gitops backup: local changes", taken, head, ""],
    )
    assert str(caught.value).startswith("cannot record the backup ref: ") and "reference already exists" in caught.value.stderr
    assert _refs(checkout) == f"{taken} {older}"


def test_the_same_commit_kept_twice_in_one_second_is_refused_the_second_time(checkout):
    local = _commit_here(checkout, "local.txt")
    ref = _take(checkout, Keep(local, TARGET, commits=(local,)))
    with pytest.raises(GitCommandError, match="^cannot record the backup ref: "):
        _take(checkout, Keep(local, TARGET, commits=(local,)))
    assert _refs(checkout) == f"{ref} {local}"


def _backups(path: Path, *stamps: str) -> list[str]:
    head = run_git("-C", str(path), "rev-parse", "HEAD")
    refs = [f"refs/gitops/backups/{stamp}-{head[:12]}" for stamp in stamps]
    for ref in refs:
        run_git("-C", str(path), "update-ref", ref, head)
    return refs


def test_retention_keeps_the_newest_backups_and_drops_old_ones_by_their_dates(checkout):
    now = _backup.utc_now()  # the frozen clock
    recent = [(now - timedelta(days=days)).strftime("%Y%m%dT%H%M%SZ") for days in (1, 2, 40)]
    refs = _backups(checkout, *recent)
    run_git("-C", str(checkout), "update-ref", "refs/gitops/backups/by-hand", "HEAD")  # a name of another form: never touched
    with GitRunner() as git:
        assert stale_backups(git, ("-C", str(checkout)), None, None) == []
        assert stale_backups(git, ("-C", str(checkout)), 2, None) == [refs[2]]
        assert stale_backups(git, ("-C", str(checkout)), None, 30) == [refs[2]]
        assert stale_backups(git, ("-C", str(checkout)), 1, 30) == sorted(refs[1:])
        drop_backups(git, ("-C", str(checkout)), refs[1:])
    left = run_git("-C", str(checkout), "for-each-ref", "--format=%(refname)", "refs/gitops/backups/").split()
    assert left == sorted([refs[0], "refs/gitops/backups/by-hand"])


def test_without_a_limit_retention_runs_no_git_at_all(checkout, git_counter):
    with GitRunner() as git:
        assert stale_backups(git, ("-C", str(checkout)), None, None) == []
    assert git_counter.subcommands() == []
