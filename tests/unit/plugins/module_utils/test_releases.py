# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The release layout against real repositories: the switch, validation, shared paths, retention, rollback, check mode."""

from __future__ import annotations

import json
import os
import pwd
import subprocess
import sys
from pathlib import Path

import pytest

from ansible_collections.fleetops.gitops.plugins.module_utils._errors import DestinationError, InvalidOption, LocalChangesError, RefNotFound, ValidationFailed
from ansible_collections.fleetops.gitops.plugins.module_utils._status import SyncState
from ansible_collections.fleetops.gitops.plugins.module_utils.releases import ReleaseSynchronizer
from ansible_collections.fleetops.gitops.tests.unit.helpers.git_fixtures import run_git, snapshot


def _sync(upstream, base: Path, **options) -> ReleaseSynchronizer:
    return ReleaseSynchronizer(upstream.url, str(base / "current"), **options)


def _current(base: Path) -> str:
    return os.readlink(base / "current")


def _history(base: Path) -> list[dict]:
    return [json.loads(line) for line in (base / "repo" / "fleetops-gitops-history.jsonl").read_text().splitlines()]


def test_the_first_run_makes_the_repository_one_release_and_the_link(upstream, tmp_path):
    base = tmp_path / "srv" / "app"
    result = _sync(upstream, base).run("main")
    assert (result.changed, result.plan.action, result.plan.before, result.plan.after) == (True, "clone", None, upstream.head())
    release = _current(base)
    assert os.path.dirname(release) == str(base / "releases") and result.release == release
    assert (base / "current" / "file0.txt").read_text() == "content 0\n"
    assert run_git("-C", str(base / "current"), "rev-parse", "HEAD") == upstream.head()
    assert run_git("--git-dir", str(base / "repo"), "rev-parse", "--is-bare-repository") == "true"
    assert result.releases == [{"path": release, "revision": upstream.head(), "created_at": result.releases[0]["created_at"], "current": True}]
    assert result.previous_release is None and result.status.state is SyncState.IN_SYNC
    assert [(entry["from"], entry["to"], entry["revision"]) for entry in _history(base)] == [(None, release, upstream.head())]


def test_a_noop_runs_two_git_processes_and_writes_nothing(upstream, tmp_path, git_counter):
    base = tmp_path / "app"
    sync = _sync(upstream, base)
    sync.run("main")
    before = snapshot(base)
    git_counter.reset()
    result = sync.run("main")
    assert (result.changed, result.plan.action) == (False, "none")
    assert git_counter.subcommands() == ["status", "ls-remote"]
    assert snapshot(base) == before


def test_an_update_is_a_new_release_and_the_old_one_is_the_previous(upstream, tmp_path):
    base = tmp_path / "app"
    sync = _sync(upstream, base)
    first = sync.run("main").release
    upstream.commit({"file0.txt": "two\n"})
    result = sync.run("main")
    assert (result.changed, result.plan.action, result.previous_release) == (True, "update", first)
    assert (base / "current" / "file0.txt").read_text() == "two\n"
    assert (Path(first) / "file0.txt").read_text() == "content 0\n"  # the old tree, whole, beside it
    assert [item["current"] for item in result.releases] == [False, True]
    assert not (Path(first) / ".git").is_dir()  # a worktree: its objects are the shared repository's


_READER = r"""
import os, sys, time
dest, stop = sys.argv[1], sys.argv[2]
reads = 0
while not os.path.exists(stop):
    fd = os.open(dest, os.O_RDONLY | os.O_DIRECTORY)  # resolves the link once, as a process that opens it does
    try:
        names = sorted(name for name in os.listdir(fd) if name.startswith("file"))
        seen = set()
        for name in names:
            with open(os.open(name, os.O_RDONLY, dir_fd=fd)) as handle:
                seen.add(handle.read())
    finally:
        os.close(fd)
    if len(names) != 3 or len(seen) != 1:
        print(f"partial tree: {names} {sorted(seen)}")
        sys.exit(1)
    reads += 1
print(reads)
"""


def test_a_reader_sees_the_old_tree_or_the_new_one_never_a_mix(upstream, tmp_path):
    """A reader resolves dest and reads every file, in a loop, while dest switches between releases."""
    base = tmp_path / "app"
    sync = _sync(upstream, base, keep_releases=50)
    upstream.commit({f"file{n}.txt": "round 0\n" for n in range(3)})
    sync.run("main")
    stop = tmp_path / "stop"
    reader = subprocess.Popen([sys.executable, "-c", _READER, str(base / "current"), str(stop)], stdout=subprocess.PIPE, text=True)
    try:
        for number in range(1, 25):
            upstream.commit({f"file{n}.txt": f"round {number}\n" for n in range(3)})
            assert sync.run("main").changed
    finally:
        stop.touch()
        out = reader.communicate(timeout=60)[0]
    assert reader.returncode == 0, out
    assert int(out) > 0  # it did read, during the switches
    assert (base / "current" / "file1.txt").read_text() == "round 24\n"


def test_a_failing_validate_leaves_dest_where_it_was_and_removes_the_release(upstream, tmp_path):
    base = tmp_path / "app"
    _sync(upstream, base).run("main")
    before = _current(base)
    upstream.commit({"broken.txt": "yes\n"})
    sync = _sync(upstream, base, validate="sh -c 'test ! -e \"$1\"/broken.txt || { echo refused: broken; exit 3; }' - %s")
    with pytest.raises(ValidationFailed) as failed:
        sync.run("main")
    assert failed.value.rc == 3 and "refused: broken" in str(failed.value)
    assert _current(base) == before
    assert sorted(os.listdir(base / "releases")) == [os.path.basename(before)]
    listed = run_git("--git-dir", str(base / "repo"), "worktree", "list", "--porcelain")
    assert listed.count("\nworktree ") == 1 and before in listed  # the repository, then the one release: git forgot the other too
    assert len(_history(base)) == 1


def test_validate_runs_in_the_new_release_with_its_path_and_without_a_shell_unless_asked(upstream, tmp_path):
    base = tmp_path / "app"
    seen = tmp_path / "seen"
    sync = _sync(upstream, base, validate=f"cp file0.txt {seen}-%s-copy")  # %s inside a word; a shell would not matter here
    with pytest.raises(ValidationFailed):  # no such folder as "<seen>-<release>-copy"'s parent: cp fails
        sync.run("main")
    assert not (base / "current").exists()
    shell = _sync(upstream, base, validate=f"cd %s && cat file0.txt > {seen}", validate_shell=True)
    assert shell.run("main").changed
    assert seen.read_text() == "content 0\n"
    literal = _sync(upstream, tmp_path / "other", validate=f"test -e %s/file0.txt && touch {seen}.no-shell")
    with pytest.raises(ValidationFailed):  # without a shell, && is an argument of test
        literal.run("main")
    assert not Path(f"{seen}.no-shell").exists()


def test_shared_paths_link_into_the_shared_folder_of_every_release_and_are_no_drift(upstream, tmp_path):
    base = tmp_path / "app"
    sync = _sync(upstream, base, shared_paths=["logs", "public/uploads"])
    sync.run("main")
    (base / "current" / "logs" / "app.log").write_text("kept\n")
    assert os.readlink(base / "current" / "logs") == str(base / "shared" / "logs")
    assert (base / "shared" / "public" / "uploads").is_dir()
    again = sync.run("main")
    assert (again.changed, again.status.drift_details) == (False, [])  # the links are no untracked files
    upstream.commit({"file0.txt": "two\n"})
    sync.run("main")
    assert (base / "current" / "logs" / "app.log").read_text() == "kept\n"


def test_a_tracked_shared_path_is_refused_before_anything_is_made(upstream, tmp_path):
    base = tmp_path / "app"
    with pytest.raises(InvalidOption, match="shared_paths"):
        _sync(upstream, base, shared_paths=["file0.txt"]).run("main")
    assert not (base / "current").exists() and not (base / "releases").exists()


def test_retention_keeps_the_newest_and_never_the_current_or_the_one_before(upstream, tmp_path):
    base = tmp_path / "app"
    sync = _sync(upstream, base, keep_releases=2)
    made = [sync.run("main").release]
    for number in range(3):
        upstream.commit({"file0.txt": f"{number}\n"})
        made.append(sync.run("main").release)
    assert sorted(os.listdir(base / "releases")) == [os.path.basename(p) for p in made[-2:]]
    rolled = sync.run(rollback=True)
    assert (rolled.release, rolled.previous_release) == (made[-2], None)
    upstream.commit({"file0.txt": "new\n"})
    result = sync.run("main")  # the newest two stay: made[-2] goes, though the current until now
    assert [item["path"] for item in result.releases] == [made[-1], result.release]
    assert result.previous_release == made[-1]


def test_rollback_needs_no_network_and_reuses_the_kept_release(upstream, tmp_path, git_counter):
    base = tmp_path / "app"
    sync = _sync(upstream, base)
    first = sync.run("main")
    upstream.commit({"file0.txt": "two\n"})
    second = sync.run("main")
    upstream.path.rename(tmp_path / "gone")  # the remote stopped
    git_counter.reset()
    rolled = sync.run(rollback=True)
    assert (rolled.changed, rolled.plan.action, rolled.release, rolled.previous_release) == (True, "switch", first.release, None)
    assert "ls-remote" not in git_counter.subcommands() and "fetch" not in git_counter.subcommands()
    assert (base / "current" / "file0.txt").read_text() == "content 0\n"
    with pytest.raises(InvalidOption, match="no release before"):
        sync.run(rollback=True)
    forward = sync.run(rollback=True, revision=second.plan.after)  # by revision: the kept release, no new tree
    assert (forward.release, len(forward.releases)) == (second.release, 2)
    assert [entry["action"] for entry in _history(base)] == ["clone", "update", "switch", "switch"]
    assert forward.status.to_dict()["last_switch"] == _history(base)[-1]  # the status carries the newest line, for reports


def test_check_mode_predicts_every_step_and_writes_nothing(upstream, tmp_path):
    base = tmp_path / "app"
    sync = _sync(upstream, base, keep_releases=2, shared_paths=["logs"])

    def both(**call):
        before = snapshot(tmp_path)
        predicted = sync.run(check_mode=True, **call)
        assert snapshot(tmp_path) == before  # every file of the layout, the shared repository's .git too
        done = sync.run(**call)
        assert (predicted.changed, predicted.plan.action, predicted.plan.after) == (done.changed, done.plan.action, done.plan.after)
        assert len(predicted.plan.remove) == len(done.plan.remove)
        assert predicted.previous_release == done.previous_release
        if done.plan.action == "switch":
            assert predicted.release == done.release
        return predicted, done

    both(version="main")
    upstream.commit({"file0.txt": "two\n"})
    both(version="main")
    upstream.commit({"file0.txt": "three\n"})
    predicted, done = both(version="main")
    assert [release.path for release in predicted.plan.remove] == [release.path for release in done.plan.remove] != []
    both(rollback=True)
    predicted, done = both(version="main")  # forward again: the kept release of main's tip
    assert done.plan.action == "switch"
    both(version="main")  # nothing to do


def test_local_edits_in_the_current_release_are_drift_kept_or_refused(upstream, tmp_path):
    base = tmp_path / "app"
    sync = _sync(upstream, base)
    first = sync.run("main").release
    (base / "current" / "file0.txt").write_text("hand edit\n")
    (base / "current" / "notes.txt").write_text("mine\n")
    audit = sync.run("main", check_mode=True)
    assert audit.changed and audit.status.state is SyncState.DRIFTED
    assert audit.plan.local_changes["modified"] == ["file0.txt"] and audit.plan.local_changes["untracked"] == ["notes.txt"]
    with pytest.raises(LocalChangesError):
        _sync(upstream, base, local_changes="fail").run("main")
    assert _current(base) == first
    fixed = sync.run("main")  # the same revision, in a fresh release; the edits in a backup ref
    assert fixed.release != first and (base / "current" / "file0.txt").read_text() == "content 0\n"
    kept = run_git("--git-dir", str(base / "repo"), "show", f"{fixed.backup_ref}:file0.txt")
    assert kept == "hand edit"
    assert (Path(first) / "notes.txt").read_text() == "mine\n"  # and the old tree as it was


def test_a_folder_at_dest_is_refused_and_left_alone(upstream, tmp_path):
    base = tmp_path / "app"
    (base / "current").mkdir(parents=True)
    (base / "current" / "index.html").write_text("hand made\n")
    with pytest.raises(DestinationError, match="not the link of a release layout"):
        _sync(upstream, base).run("main")
    assert (base / "current" / "index.html").read_text() == "hand made\n"


def test_a_link_to_something_else_is_refused(upstream, tmp_path):
    base = tmp_path / "app"
    base.mkdir()
    os.symlink("/etc", base / "current")
    with pytest.raises(DestinationError, match="not a release"):
        _sync(upstream, base).run("main")
    assert os.readlink(base / "current") == "/etc"


def test_with_an_owner_git_runs_as_them_and_every_part_is_theirs_but_the_link(upstream, served, open_tmp, other_user):
    user = pwd.getpwnam(other_user)
    base = open_tmp / "srv" / "app"
    as_owner = f"sh -c 'test $(id -u) = {user.pw_uid}'"
    sync = ReleaseSynchronizer(served("git"), str(base / "current"), owner=other_user, shared_paths=["log"], validate=as_owner)
    result = sync.run("main")
    assert result.changed  # validate ran as the owner, or it would have refused the release
    for part in ("releases", "repo", "shared", "shared/log", os.path.relpath(result.release, base), "repo/fleetops-gitops-history.jsonl"):
        assert os.stat(base / part).st_uid == user.pw_uid, part
    assert os.lstat(base / "current").st_uid == os.geteuid()  # the link is root's: the owner cannot point it elsewhere
    upstream.commit({"file0.txt": "two\n"})
    served("git")  # publish the new commit
    assert sync.run("main").changed and sync.run(rollback=True).changed


def test_retention_never_removes_a_release_with_edits_under_fail_and_backs_them_up_under_backup(upstream, tmp_path):
    base = tmp_path / "app"
    made = [_sync(upstream, base).run("main").release]
    for number in range(2):
        upstream.commit({"file0.txt": f"{number}\n"})
        made.append(_sync(upstream, base).run("main").release)
    (Path(made[0]) / "file1.txt").write_text("edited in an old release\n")
    upstream.commit({"file0.txt": "next\n"})
    kept = _sync(upstream, base, keep_releases=2, local_changes="fail").run("main")
    assert made[0] in [item["path"] for item in kept.releases] and made[1] not in [item["path"] for item in kept.releases]
    upstream.commit({"file0.txt": "last\n"})
    backed = _sync(upstream, base, keep_releases=2).run("main")
    assert made[0] in backed.to_dict()["removed_releases"]
    refs = run_git("--git-dir", str(base / "repo"), "for-each-ref", "--format=%(refname)", "refs/gitops/backups/").split()
    assert any(run_git("--git-dir", str(base / "repo"), "show", f"{ref}:file1.txt") == "edited in an old release" for ref in refs)


def test_diff_lists_the_files_that_change_between_the_current_and_the_new_release(upstream, tmp_path):
    base = tmp_path / "app"
    sync = _sync(upstream, base)
    sync.run("main")
    upstream.commit({"file2.txt": "changed\n", "added.txt": "new\n"})
    predicted = sync.run("main", check_mode=True, diff=True).diff
    done = sync.run("main", diff=True).diff
    assert predicted["prepared"] == done["prepared"]
    assert "M\tfile2.txt" in done["prepared"] and "A\tadded.txt" in done["prepared"] and "file0.txt" not in done["prepared"]


def test_backup_retention_applies_to_the_shared_repository(upstream, tmp_path):
    base = tmp_path / "app"
    sync = _sync(upstream, base, backup_max_age=1)
    sync.run("main")
    head = upstream.head()
    old = "refs/gitops/backups/20200101T000000Z-" + head[:12]
    run_git("--git-dir", str(base / "repo"), "update-ref", old, head)
    upstream.commit({"file0.txt": "two\n"})
    predicted = sync.run("main", check_mode=True)
    result = sync.run("main")
    assert predicted.removed_backups == result.removed_backups == [old]
    assert run_git("--git-dir", str(base / "repo"), "for-each-ref", "refs/gitops/backups/") == ""


def test_two_dests_cannot_share_one_layout(upstream, tmp_path):
    base = tmp_path / "app"
    _sync(upstream, base).run("main")
    with pytest.raises(DestinationError, match="releases_dir: .* holds the releases of .*/current"):
        ReleaseSynchronizer(upstream.url, str(base / "staging")).run("main")  # its default releases_dir is the same folder
    assert not (base / "staging").exists()
    other = ReleaseSynchronizer(upstream.url, str(base / "staging"), releases_dir=str(tmp_path / "staging" / "releases"))
    assert other.run("main").changed


def test_a_commit_the_remote_lacks_fails_before_anything_is_made(upstream, tmp_path):
    base = tmp_path / "app"
    with pytest.raises(RefNotFound):
        _sync(upstream, base).run("0" * 40)
    assert not base.exists() or sorted(os.listdir(base)) == []
    assert _sync(upstream, base).plan("main").action == "clone"  # the Python API's plan is check mode's


def test_what_a_killed_run_left_is_named_in_check_mode_and_removed_by_the_next_run(upstream, tmp_path):
    base = tmp_path / "app"
    sync = _sync(upstream, base)
    sync.run("main")
    (base / "repo" / "packed-refs.lock").write_text("")  # git killed while it rewrote the refs
    (base / ".repo.gitops-clone-999999999.1-abcd").mkdir()  # a clone of the shared repository cut short (no such process)
    (base / "releases" / "20261204T000000.000000Z-0123456789ab").mkdir()  # a release that never got its record
    upstream.commit({"file0.txt": "two\n"})
    before = snapshot(tmp_path)
    audit = sync.run("main", check_mode=True)
    assert snapshot(tmp_path) == before
    assert any("packed-refs.lock" in warning and "20261204T000000" in warning for warning in audit.warnings)
    done = sync.run("main")
    assert done.changed and any("removed what an interrupted run left" in warning for warning in done.warnings)
    assert not (base / "repo" / "packed-refs.lock").exists() and not (base / ".repo.gitops-clone-999999999.1-abcd").exists()
    assert len(os.listdir(base / "releases")) == 2


def test_an_edit_git_hides_in_the_current_release_is_kept_or_refused_too(upstream, tmp_path):
    base = tmp_path / "app"
    sync = _sync(upstream, base)
    sync.run("main")
    run_git("-C", str(base / "current"), "update-index", "--assume-unchanged", "file2.txt")
    (base / "current" / "file2.txt").write_text("hidden edit\n")
    upstream.commit({"file0.txt": "two\n"})
    with pytest.raises(LocalChangesError, match="file2.txt"):
        _sync(upstream, base, local_changes="fail").run("main")
    done = sync.run("main")
    assert done.plan.local_changes["modified"] == ["file2.txt"]
    assert run_git("--git-dir", str(base / "repo"), "show", f"{done.backup_ref}:file2.txt") == "hidden edit"


def test_a_commit_made_in_the_current_release_is_drift_and_is_kept(upstream, tmp_path):
    base = tmp_path / "app"
    sync = _sync(upstream, base)
    sync.run("main")
    (base / "current" / "file0.txt").write_text("hot fix\n")
    run_git("-C", str(base / "current"), "-c", "user.name=ops", "-c", "user.email=ops@example.com", "commit", "--quiet", "-am", "hot fix")
    hot_fix = run_git("-C", str(base / "current"), "rev-parse", "HEAD")
    audit = sync.run("main", check_mode=True)
    assert audit.changed and any("HEAD of the current release moved" in line for line in audit.status.drift_details)
    with pytest.raises(LocalChangesError, match="local commits"):
        _sync(upstream, base, local_changes="fail").run("main")
    done = sync.run("main")  # the same revision, in a fresh tree; the hot fix in a backup ref
    assert (base / "current" / "file0.txt").read_text() == "content 0\n"
    assert run_git("--git-dir", str(base / "repo"), "rev-parse", done.backup_ref) == hot_fix
