# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Hostile input, faults, concurrency, credentials and signatures: one test per case of docs/docsite/rst/guide_security.rst.

Everything runs real git against real servers on 127.0.0.1 (git daemon, HTTPS
with basic auth, sshd); faults are real too - processes killed with SIGKILL,
a full filesystem, a flaky or stalled server.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import typing as t
from pathlib import Path

import pytest

from ansible_collections.fleetops.gitops.plugins.module_utils._access import RemoteAccess
from ansible_collections.fleetops.gitops.plugins.module_utils._errors import (
    CorruptCheckout,
    DestinationError,
    GitCommandError,
    GitTimeout,
    HistoryRewritten,
    InvalidOption,
    LocalChangesError,
)
from ansible_collections.fleetops.gitops.plugins.module_utils._git import GitRunner
from ansible_collections.fleetops.gitops.plugins.module_utils._locks import CheckoutLock
from ansible_collections.fleetops.gitops.plugins.module_utils._private_dir import PRIVATE_PREFIX
from ansible_collections.fleetops.gitops.plugins.module_utils._processes import this_process
from ansible_collections.fleetops.gitops.plugins.module_utils._signatures import SignatureError, SignaturePolicy
from ansible_collections.fleetops.gitops.plugins.module_utils.checkout import GitOpsSynchronizer
from ansible_collections.fleetops.gitops.plugins.module_utils.drift import GitOpsSynchronizer as Drift
from ansible_collections.fleetops.gitops.tests.unit.helpers.git_fixtures import run_git, snapshot
from ansible_collections.fleetops.gitops.tests.unit.helpers.signing import make_gpg_identity


def _git(path: Path, *args: str) -> str:
    return run_git("-C", str(path), *args)


def _private_dirs() -> set[str]:
    """This process's private folders (tests in other workers make and remove their own meanwhile)."""
    mine = f"{PRIVATE_PREFIX}{this_process()}-"
    return {name for name in os.listdir(tempfile.gettempdir()) if name.startswith(mine)}


# -- hostile values --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "option,value",
    [
        ("repo", "--upload-pack=touch /tmp/pwned"),
        ("repo", "-u/tmp/x"),
        ("repo", "-cx=y"),
        ("version", "--orphan=x"),
        ("version", "-cx=y"),
        ("remote", "--mirror"),
        ("remote", "-ux"),
        ("dest", "-C/tmp"),
        ("dest", "--git-dir=/tmp"),
        ("revision", "-" + "a" * 39),
        ("repo", "https://host/a\rb"),
        ("version", "main\nx"),
        ("dest", "/srv/a\x00b"),
        ("remote", "ori\ngin"),
    ],
)
def test_hostile_values_are_refused_before_git_runs(upstream, tmp_path, git_counter, option, value):
    args = {"repo": upstream.url, "dest": str(tmp_path / "app"), "version": "main", "remote": "origin", "revision": None}
    args[option] = value
    with pytest.raises(InvalidOption) as caught:
        GitOpsSynchronizer(args["repo"], args["dest"], remote=args["remote"]).run(args["version"], revision=args["revision"])
    assert caught.value.option == option and git_counter.commands() == []
    assert not (tmp_path / "app").exists() and not Path("/tmp/pwned").exists()


def test_a_narrowed_transport_list_is_enforced_by_us_and_by_git(upstream, tmp_path):
    with pytest.raises(InvalidOption, match="'file' transport is not in allowed_transports"):
        GitOpsSynchronizer(upstream.url, str(tmp_path / "app"), access=RemoteAccess(transports=("https",)))
    with pytest.raises(GitCommandError, match="transport 'file' not allowed"):
        GitRunner(access=RemoteAccess(transports=("https",))).run(["ls-remote", "--", upstream.url])


def test_shell_metacharacters_are_plain_characters(make_upstream, tmp_path):
    marker = tmp_path / "pwned"
    weird = make_upstream(f"up $(touch {marker}); `touch {marker}` | x & y")
    dest = tmp_path / f"app; touch {marker} #"
    result = GitOpsSynchronizer(str(weird.path), str(dest)).run("main")
    assert result.changed and (dest / "file0.txt").exists() and not marker.exists()


def test_hostile_ref_names_on_the_remote_stay_data(upstream, tmp_path):
    upstream.git("update-ref", "refs/heads/--upload-pack=touch", "HEAD")
    upstream.git("update-ref", "refs/tags/-c", "HEAD")
    dest = tmp_path / "app"
    assert GitOpsSynchronizer(upstream.url, str(dest)).run("main").changed
    assert Drift(str(dest), "main", compare_to="remote").sync_state().drift_details == []


def _plant_command_config(config_file: Path, marker: Path) -> None:
    """Every config key we know of that makes git run a program, each pointing at a marker-writing command."""
    with config_file.open("a") as handle:
        handle.write(
            textwrap.dedent(f"""
            [core]
                fsmonitor = touch {marker}-fsmonitor; false
                hooksPath = {marker.parent}/evil-hooks
                sshCommand = touch {marker}-sshcommand; false
                gitProxy = touch {marker}-gitproxy; false
                askPass = touch {marker}-askpass; false
            [credential]
                helper = !touch {marker}-credential; false
            [remote "origin"]
                uploadpack = touch {marker}-uploadpack; git-upload-pack
            [gpg]
                program = touch {marker}-gpg; false
        """)
        )


@pytest.mark.parametrize("transport", ["file", "git", "https"])
@pytest.mark.parametrize("where", ["checkout", "global"])
def test_config_that_runs_commands_never_runs(upstream, served, servers, tmp_path, monkeypatch, where, transport):
    marker = tmp_path / "pwned"
    hooks = tmp_path / "evil-hooks"
    hooks.mkdir()
    for hook in ("post-checkout", "reference-transaction", "post-merge", "pre-auto-gc"):
        (hooks / hook).write_text(f"#!/bin/sh\ntouch {marker}-hook-{hook}\n")
        (hooks / hook).chmod(0o755)
    monkeypatch.setenv("GIT_SSL_CAINFO", servers.ca_file)
    url = {"file": upstream.url, "git": served("git"), "https": served("https")}[transport]
    access = RemoteAccess.from_params({"username": "alice", "password": "s3cret-pw"})  # https asks, so a helper would be run
    dest = tmp_path / "app"
    GitOpsSynchronizer(url, str(dest), access=access).run("main")
    (dest / ".git" / "hooks").mkdir(exist_ok=True)  # no template was copied: plant the hooks by hand
    for hook in ("post-checkout", "reference-transaction"):
        (dest / ".git" / "hooks" / hook).write_text(f"#!/bin/sh\ntouch {marker}-githooks-{hook}\n")
        (dest / ".git" / "hooks" / hook).chmod(0o755)
    if where == "checkout":
        _plant_command_config(dest / ".git" / "config", marker)
    else:
        home = tmp_path / "home"
        home.mkdir()
        _plant_command_config(home / ".gitconfig", marker)
        monkeypatch.setenv("HOME", str(home))
    for _round in range(2):
        upstream.commit()
        url = {"file": upstream.url, "git": served("git"), "https": served("https")}[transport]
        (dest / "file0.txt").write_text("hand edit\n")
        assert GitOpsSynchronizer(url, str(dest), access=access).run("main").changed  # ls-remote, fetch, backup, checkout
    upstream.commit()
    url = {"file": upstream.url, "git": served("git"), "https": served("https")}[transport]
    assert Drift(str(dest), "main", compare_to="remote", access=access).run(reconcile=True).drifted
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("pwned")) == []


def test_hostile_submodules_are_refused_by_the_object_checks(upstream, tmp_path):
    dest = tmp_path / "app"
    sync = GitOpsSynchronizer(upstream.url, str(dest))
    sync.run("main")
    before = snapshot(dest)
    blob = subprocess.run(
        ["git", "-C", str(upstream.path), "hash-object", "-w", "--stdin"],
        check=True,
        text=True,
        input='[submodule "../../evil"]\n\tpath = evil\n\turl = -oProxyCommand=touch /tmp/pwned-sub\n',
        stdout=subprocess.PIPE,
    ).stdout.strip()
    upstream.git("update-index", "--add", "--cacheinfo", f"100644,{blob},.gitmodules")
    upstream.git("commit", "--quiet", "-m", "hostile submodule")
    with pytest.raises(GitCommandError, match="gitmodules"):
        sync.run("main")
    assert _git(dest, "rev-parse", "HEAD") != upstream.head() and not Path("/tmp/pwned-sub").exists()
    assert {k: v for k, v in snapshot(dest).items() if "objects" not in k and "FETCH" not in k and ".lock" not in k} == {
        k: v for k, v in before.items() if "objects" not in k
    }


# -- credentials -------------------------------------------------------------------------------------------------


def test_a_password_reaches_git_only_through_the_credential_helper(upstream, served, servers, tmp_path, git_counter, monkeypatch):
    monkeypatch.setenv("GIT_SSL_CAINFO", servers.ca_file)
    dest = tmp_path / "app"
    access = RemoteAccess.from_params({"username": "alice", "password": "s3cret-pw"})
    result = GitOpsSynchronizer(served("https"), str(dest), access=access).run("main", diff=True)
    assert result.changed and _git(dest, "rev-parse", "HEAD") == upstream.head()
    assert not any("s3cret-pw" in command for command in git_counter.commands())  # argv is what /proc/*/cmdline shows
    assert "s3cret-pw" not in (dest / ".git" / "config").read_text() + json.dumps(result.to_dict())
    with pytest.raises(GitCommandError) as caught:
        GitOpsSynchronizer(served("https"), str(tmp_path / "b"), access=RemoteAccess.from_params({"token": "wrong-t0ken"})).run("main")
    assert "wrong-t0ken" not in str(caught.value) + json.dumps(caught.value.details())


@pytest.mark.parametrize(
    "url",
    ["https://u:pw-in-url@127.0.0.1:9/x.git", "https://t0ken-in-url@127.0.0.1:9/x.git", "ssh://u:pw-in-url@127.0.0.1:9/x.git", "u:pw-in-url@127.0.0.1:x.git"],
)
def test_a_secret_in_any_url_form_is_masked_everywhere(url, tmp_path):
    sync = GitOpsSynchronizer(url, str(tmp_path / "app"), timeout=10)
    with pytest.raises(GitCommandError) as caught:
        sync.run("main")
    assert "-in-url" not in str(caught.value) + json.dumps(caught.value.details(), default=str)


def test_an_ssh_key_is_used_from_a_private_file_that_is_removed(upstream, sshd, tmp_path, git_counter):
    before = _private_dirs()
    dest = tmp_path / "app"
    access = RemoteAccess.from_params({"ssh_key": Path(sshd.key).read_text(), "known_hosts": sshd.known_hosts})
    assert GitOpsSynchronizer(sshd.url(str(upstream.path)), str(dest), access=access).run("main").changed
    assert _git(dest, "rev-parse", "HEAD") == upstream.head()
    assert _private_dirs() == before
    keys = {shlex.split(command)[shlex.split(command).index("-i") + 1] for command in git_counter.ssh_commands()}
    assert len(keys) == 1 and os.path.basename(os.path.dirname(next(iter(keys)))) not in before
    assert all(key.startswith(os.path.join(tempfile.gettempdir(), f"{PRIVATE_PREFIX}{this_process()}-")) for key in keys)
    assert not any(os.path.exists(key) for key in keys)  # the private copy of the key is gone
    assert not any("PRIVATE KEY" in command for command in git_counter.commands() + git_counter.ssh_commands())


def test_host_keys_are_checked_strictly(upstream, sshd, tmp_path):
    key = Path(sshd.key).read_text()
    wrong = f"[127.0.0.1]:{sshd.port} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDrQB3r3pUcUrKWyB4VduZEe8v0oAoLrCBiz2yfEldcd\n"
    elsewhere = "[192.0.2.1]:22 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDrQB3r3pUcUrKWyB4VduZEe8v0oAoLrCBiz2yfEldcd\n"
    url = sshd.url(str(upstream.path))

    def sync(name: str, known_hosts: str, accept_new: bool = False) -> bool:
        access = RemoteAccess.from_params({"ssh_key": key, "known_hosts": known_hosts, "accept_newhostkey": accept_new})
        return GitOpsSynchronizer(url, str(tmp_path / name), access=access).run("main").changed

    for name, known_hosts, accept_new in (("changed", wrong, False), ("changed-new", wrong, True), ("unknown", elsewhere, False)):
        with pytest.raises(GitCommandError, match="Host key verification failed"):
            sync(name, known_hosts, accept_new)
    assert sync("accepted", elsewhere, accept_new=True)  # a host never seen before, and accept_newhostkey
    assert sync("known", sshd.known_hosts)
    assert "StrictHostKeyChecking=yes" in RemoteAccess().ssh_command(None, None, 5)


def test_core_sshcommand_in_a_checkout_never_runs(upstream, sshd, tmp_path):
    marker = tmp_path / "pwned-ssh"
    dest = tmp_path / "app"
    access = RemoteAccess.from_params({"ssh_key": Path(sshd.key).read_text(), "known_hosts": sshd.known_hosts})
    sync = GitOpsSynchronizer(sshd.url(str(upstream.path)), str(dest), access=access)
    sync.run("main")
    _git(dest, "config", "core.sshCommand", f"touch {marker}; ssh")
    upstream.commit()
    assert sync.run("main").changed and not marker.exists()


def test_another_users_checkout_needs_owner_never_a_wildcard(upstream, served, tmp_path, other_user):
    dest = Path(tempfile.mkdtemp(prefix="fleetops-gitops-test-")) / "app"
    dest.parent.chmod(0o755)
    try:
        GitOpsSynchronizer(served("git"), str(dest), owner=other_user).run("main")
        with pytest.raises(DestinationError, match=f"set owner: {other_user}"):
            GitOpsSynchronizer(served("git"), str(dest)).run("main")
        assert "safe.directory" not in (dest / ".git" / "config").read_text()
    finally:
        subprocess.run(["rm", "-rf", str(dest.parent)], check=True)


# -- faults ------------------------------------------------------------------------------------------------------

_CHILD = """
from ansible_collections.fleetops.gitops.plugins.module_utils.checkout import GitOpsSynchronizer
GitOpsSynchronizer({url!r}, {dest!r}, timeout=120).run("main")
"""


def _kill_during(url: str, dest: Path, ready: t.Callable[[], bool]) -> None:
    """Run a sync in a child process; SIGKILL it and every git it started as soon as ``ready()`` holds."""
    importable = dict(os.environ, PYTHONPATH=os.pathsep.join(path for path in sys.path if path))  # as in this test
    child = subprocess.Popen([sys.executable, "-c", _CHILD.format(url=url, dest=str(dest))], env=importable, start_new_session=True)
    end = time.monotonic() + 60
    while not ready():
        assert child.poll() is None and time.monotonic() < end, "the sync ended before the fault could be injected"
        time.sleep(0.005)
    # git first, as a crash would: the module's watchdog stops what the module leaves running, with a SIGTERM
    # that lets git remove its lock files, and the leftovers of a hard crash are what the next run must repair.
    for pid in [pid for pid in _git_processes_under(dest.parent) if pid != child.pid] + [child.pid]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    child.wait()


def _git_processes_under(parent: Path) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                cwd = os.readlink(f"/proc/{entry}/cwd")
            except OSError:
                continue
            if "git" in cmdline and (str(parent) in cmdline or cwd.startswith(str(parent))):
                found.append(int(entry))
    return found


def _big(upstream, files: int = 0, megabytes: int = 0) -> str:
    content = {f"many/f{n:05}.txt": f"{n}\n" for n in range(files)}
    if megabytes:
        content["blob.bin"] = os.urandom(megabytes * 1024 * 1024).hex()
    return upstream.commit(content)


@pytest.fixture
def https_url(served, servers_reset, monkeypatch) -> t.Callable[[], str]:
    """The upstream over HTTPS with basic auth, trusted through GIT_SSL_CAINFO; call it again to publish new commits."""
    monkeypatch.setenv("GIT_SSL_CAINFO", servers_reset.ca_file)
    return lambda: served("https").replace("https://", "https://alice:s3cret-pw@")


def _no_leftovers(dest: Path) -> None:
    git_dir = dest / ".git"
    assert not list(git_dir.rglob("*.lock")) and not list((git_dir / "objects" / "pack").glob("tmp_*"))
    assert not [p for p in dest.parent.iterdir() if ".gitops-clone-" in p.name]


def test_a_clone_killed_midway_is_redone(upstream, https_url, servers_reset, tmp_path):
    _big(upstream, megabytes=2)
    url = https_url()
    servers_reset.throttle(400_000)
    dest = tmp_path / "app"
    _kill_during(
        url,
        dest,
        lambda: any(".gitops-clone-" in p.name for p in tmp_path.iterdir()) and any(tmp_path.glob(".app.gitops-clone-*/.git/objects/pack/tmp_pack_*")),
    )
    assert not dest.exists() and any(".gitops-clone-" in p.name for p in tmp_path.iterdir())
    servers_reset.throttle(0)
    result = GitOpsSynchronizer(url, str(dest)).run("main")
    assert result.changed and _git(dest, "rev-parse", "HEAD") == upstream.head() and _git(dest, "status", "--porcelain") == ""
    _no_leftovers(dest)


def test_a_fetch_killed_midway_is_redone(upstream, https_url, servers_reset, tmp_path):
    url = https_url()
    dest = tmp_path / "app"
    GitOpsSynchronizer(url, str(dest)).run("main")
    new = _big(upstream, megabytes=2)
    https_url()
    servers_reset.throttle(400_000)
    _kill_during(url, dest, lambda: any((dest / ".git" / "objects" / "pack").glob("tmp_pack_*")))
    assert any((dest / ".git" / "objects" / "pack").glob("tmp_pack_*"))
    servers_reset.throttle(0)
    result = GitOpsSynchronizer(url, str(dest)).run("main")
    assert result.plan.after == new == _git(dest, "rev-parse", "HEAD") and _git(dest, "status", "--porcelain") == ""
    _no_leftovers(dest)


def test_a_checkout_killed_midway_is_repaired_and_nothing_is_lost(upstream, tmp_path):
    dest = tmp_path / "app"
    GitOpsSynchronizer(upstream.url, str(dest)).run("main")
    new = _big(upstream, files=20000)
    _kill_during(upstream.url, dest, (dest / ".git" / "index.lock").exists)
    assert (dest / ".git" / "index.lock").exists()
    result = GitOpsSynchronizer(upstream.url, str(dest)).run("main")
    assert result.plan.after == new == _git(dest, "rev-parse", "HEAD") and _git(dest, "status", "--porcelain") == ""
    assert any("interrupted git run" in warning for warning in result.warnings)
    _no_leftovers(dest)


def test_lock_files_in_use_are_not_removed(upstream, tmp_path):
    dest = tmp_path / "app"
    GitOpsSynchronizer(upstream.url, str(dest)).run("main")
    upstream.commit()
    (dest / ".git" / "index.lock").write_text("")
    holder = subprocess.Popen(["sleep", "30"], cwd=dest)  # a process working in the checkout, like a running git
    try:
        with pytest.raises(DestinationError, match=f"processes {holder.pid} are still using it; nothing was removed"):
            GitOpsSynchronizer(upstream.url, str(dest)).run("main")
        assert (dest / ".git" / "index.lock").exists()
    finally:
        holder.kill()
        holder.wait()


def _held(dest: Path) -> bool:
    """Whether a run holds the checkout's lock (taking it for an instant when nobody does)."""
    try:
        with CheckoutLock(str(dest), 0):
            return False
    except DestinationError:
        return True


def test_two_runs_on_one_checkout_take_turns(upstream, https_url, servers_reset, tmp_path):
    """The first run is held back (a throttled clone) until the second has waited its lock_timeout and given up;
    then the transfer is let go, and a third run that waits long enough runs after it."""
    _big(upstream, megabytes=1)
    url = https_url()
    servers_reset.throttle(5_000)  # above the low-speed limit, far too slow to finish on its own
    dest = tmp_path / "app"
    first = threading.Thread(target=GitOpsSynchronizer(url, str(dest)).run, args=("main",))
    first.start()
    try:
        for _attempt in range(3000):  # bounded: 30 s for the first run to take its lock
            if _held(dest):
                break
            time.sleep(0.01)
        else:
            pytest.fail("the first run never took the checkout's lock")
        with pytest.raises(DestinationError, match="another run is working on .*; waited 1s"):
            GitOpsSynchronizer(url, str(dest), lock_timeout=1).run("main")
        results: list = []
        waiting = threading.Thread(target=lambda: results.append(GitOpsSynchronizer(url, str(dest), lock_timeout=120).run("main")))
        waiting.start()
    finally:
        servers_reset.reset_faults()  # the first run's transfer goes on at full speed
    first.join()
    waiting.join()
    assert results[0].changed is False and _git(dest, "rev-parse", "HEAD") == upstream.head()


def test_transient_failures_are_retried_and_permanent_ones_are_not(https_url, servers_reset, tmp_path):
    url = https_url()
    servers_reset.fail_next(503, 502)
    assert GitOpsSynchronizer(url, str(tmp_path / "a"), access=RemoteAccess(retries=2)).run("main").changed
    servers_reset.fail_next(503)
    with pytest.raises(GitCommandError, match="503"):
        GitOpsSynchronizer(url, str(tmp_path / "b"), access=RemoteAccess(retries=0)).run("main")
    asked = len(servers_reset.http_requests)
    servers_reset.fail_next(404, 404, 404)
    with pytest.raises(GitCommandError, match="404|not found"):
        GitOpsSynchronizer(url, str(tmp_path / "c"), access=RemoteAccess(retries=2)).run("main")
    assert len(servers_reset.http_requests) - asked == 1


def test_a_stalled_transfer_fails_on_the_low_speed_limit(upstream, https_url, servers_reset, tmp_path):
    _big(upstream, megabytes=1)
    url = https_url()
    servers_reset.throttle(200)
    with pytest.raises(GitCommandError) as caught:
        GitOpsSynchronizer(url, str(tmp_path / "app"), timeout=20, access=RemoteAccess(retries=0)).run("main")
    # curl's low-speed limit (under 1000 bytes/s for half the timeout) ends it, not the deadline
    assert not isinstance(caught.value, GitTimeout), str(caught.value)
    assert "Operation too slow" in caught.value.stderr and "the last 10 seconds" in caught.value.stderr
    assert not (tmp_path / "app").exists() and not [p for p in tmp_path.iterdir() if ".gitops-clone-" in p.name]


def test_rewritten_history_is_named_and_can_be_refused(upstream, tmp_path):
    dest = tmp_path / "app"
    upstream.commit()
    sync = GitOpsSynchronizer(upstream.url, str(dest), on_rewrite="fail")
    sync.run("main")
    deployed = upstream.head()
    upstream.rewrite()
    details = Drift(str(dest), "main", compare_to="remote").sync_state().drift_details  # without fetching into it
    assert "history rewritten upstream" in details[0]
    with pytest.raises(HistoryRewritten, match="on_rewrite=fail"):
        sync.run("main")
    assert _git(dest, "rev-parse", "HEAD") == deployed
    followed = GitOpsSynchronizer(upstream.url, str(dest)).run("main")
    assert followed.changed and _git(dest, "rev-parse", f"{followed.backup_ref}") == deployed


def test_local_commits_are_kept_or_refused(upstream, tmp_path):
    dest = tmp_path / "app"
    GitOpsSynchronizer(upstream.url, str(dest)).run("main")
    (dest / "local.txt").write_text("x\n")
    _git(dest, "add", "local.txt")
    _git(dest, "commit", "--quiet", "-m", "made here")
    local = _git(dest, "rev-parse", "HEAD")
    upstream.commit()
    run_git("-C", str(dest), "fetch", "--quiet", "origin")  # with the new commit at hand, check mode knows too
    for check_mode in (True, False):
        with pytest.raises(LocalChangesError, match="local commits not on the remote") as caught:
            GitOpsSynchronizer(upstream.url, str(dest), local_changes="fail").run("main", check_mode=check_mode)
        assert caught.value.commits == [local]
    kept = GitOpsSynchronizer(upstream.url, str(dest)).run("main")
    assert _git(dest, "rev-parse", kept.backup_ref) == local and _git(dest, "rev-parse", "HEAD") == upstream.head()


def test_a_damaged_checkout_is_reported_and_kept(upstream, tmp_path):
    dest = tmp_path / "app"
    GitOpsSynchronizer(upstream.url, str(dest)).run("main")
    pack = next((dest / ".git" / "objects" / "pack").glob("*.pack"))
    pack.chmod(0o644)
    pack.write_bytes(pack.read_bytes()[:40])  # a damaged disk or an interrupted copy: the objects are gone
    upstream.commit()
    for check_mode in (True, False):
        with pytest.raises(CorruptCheckout, match="is damaged, git cannot read it.*Nothing was deleted.*fsck --full"):
            GitOpsSynchronizer(upstream.url, str(dest)).run("main", check_mode=check_mode)
    assert (dest / "file0.txt").exists() and pack.exists()


def test_a_full_disk_gives_a_clear_error_and_no_leftover_packs(upstream, tmp_path):
    mount = tmp_path / "small"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)], check=False).returncode:
        pytest.skip("mounting a small tmpfs needs root")
    try:
        dest = mount / "app"
        GitOpsSynchronizer(upstream.url, str(dest)).run("main")
        _big(upstream, megabytes=4)
        with pytest.raises(GitCommandError, match="No space left on device"):
            GitOpsSynchronizer(upstream.url, str(dest)).run("main")
        assert not list((dest / ".git" / "objects" / "pack").glob("tmp_*"))
        assert _git(dest, "status", "--porcelain") == ""
    finally:
        subprocess.run(["umount", str(mount)], check=True)


# -- signed commits ----------------------------------------------------------------------------------------------


def test_gpg_signed_commits_pass_and_others_fail(upstream, tmp_path, gpg_identity):
    policy = SignaturePolicy("commit", (gpg_identity.public,))
    gpg_identity.sign_commit(upstream.path)
    signed = upstream.head()
    assert GitOpsSynchronizer(upstream.url, str(tmp_path / "a"), signatures=policy).run("main").plan.after == signed
    upstream.commit()  # unsigned
    with pytest.raises(SignatureError, match="is not signed"):
        GitOpsSynchronizer(upstream.url, str(tmp_path / "a"), signatures=policy).run("main")
    assert _git(tmp_path / "a", "rev-parse", "HEAD") == signed
    gpg_identity.sign_commit(upstream.path)
    stranger = make_gpg_identity("other@example.invalid")
    try:
        with pytest.raises(SignatureError, match="unknown key|not trusted"):
            GitOpsSynchronizer(upstream.url, str(tmp_path / "b"), signatures=SignaturePolicy("commit", (stranger.public,))).run("main")
    finally:
        stranger.stop_agent()
    assert not (tmp_path / "b").exists()


def test_ssh_signed_commits_and_tags(upstream, tmp_path):
    key = tmp_path / "signing"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    other = tmp_path / "other"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    signing = ["-c", "gpg.format=ssh", "-c", f"user.signingkey={key}"]
    upstream.git(*signing, "commit", "--quiet", "--allow-empty", "-S", "-m", "ssh-signed")
    upstream.git(*signing, "tag", "-s", "-m", "release", "v1")
    upstream.git("commit", "--quiet", "--allow-empty", "-m", "unsigned")
    upstream.git(*signing, "tag", "-s", "-m", "signed tag on an unsigned commit", "v2")
    trusted = f"signer@example.invalid {key.with_suffix('.pub').read_text()}"
    untrusted = f"signer@example.invalid {other.with_suffix('.pub').read_text()}"

    def run(version: str, mode: str, signers: str, name: str):
        return GitOpsSynchronizer(upstream.url, str(tmp_path / name), signatures=SignaturePolicy(mode, (), signers)).run(version)

    assert run("v1", "both", trusted, "a").changed
    assert run("v2", "tag", trusted, "b").changed
    with pytest.raises(SignatureError, match="is not signed"):
        run("v2", "commit", trusted, "c")  # a signed tag does not vouch for an unsigned commit
    with pytest.raises(SignatureError, match="is not signed"):
        run("v2", "both", trusted, "d")
    with pytest.raises(SignatureError, match="not trusted|not signed by a trusted key"):
        run("v1", "both", untrusted, "e")
    with pytest.raises(InvalidOption, match="needs version to be a tag"):
        run("main", "tag", trusted, "f")
    with pytest.raises(InvalidOption, match="needs gpg_keys or allowed_signers"):
        SignaturePolicy("commit")
