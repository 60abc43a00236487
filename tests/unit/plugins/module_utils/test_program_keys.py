# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""No config key makes git run a program: one test per key of _program_keys.KEYS (git-config(1), git 2.30 to 2.47).

Each test plants its key - in the global config (HOME) before the clone and in the checkout's own config after it
- with a value that names a program writing a marker file, then runs everything this collection makes git do:
clone, a no-op, an update that backs up hand edits, staged and untracked files and an index flag, signature
checks of a commit and a tag, check mode with --diff, a drift report that peeks at the remote through alternates,
and a reset that discards. No marker may appear, and every operation must still succeed.
"""

from __future__ import annotations

import os
import typing as t
from pathlib import Path

import pytest

from ansible_collections.fleetops.gitops.plugins.module_utils._access import RemoteAccess
from ansible_collections.fleetops.gitops.plugins.module_utils._errors import DestinationError
from ansible_collections.fleetops.gitops.plugins.module_utils._program_keys import KEYS, ProgramKey
from ansible_collections.fleetops.gitops.plugins.module_utils._signatures import SignaturePolicy
from ansible_collections.fleetops.gitops.plugins.module_utils.checkout import GitOpsSynchronizer
from ansible_collections.fleetops.gitops.plugins.module_utils.drift import GitOpsSynchronizer as Drift
from ansible_collections.fleetops.gitops.tests.unit.helpers.git_fixtures import Upstream, run_git

_HOOKS = (
    "post-checkout",
    "post-index-change",
    "reference-transaction",
    "pre-auto-gc",
    "post-merge",
    "proc-receive",
    "fsmonitor-watchman",
    "sendemail-validate",
    "post-rewrite",
    "pre-commit",
)
# Keys whose <name> is filled in per case, and the companions some keys need to be reachable at all.
_NAMES = {
    "alias.<name>": ("status", "fetch", "checkout", "ls-remote", "clone", "add"),
    "pager.<name>": ("status", "log", "fetch", "diff", "ls-remote", "rev-list", "checkout"),
}
_COMPANIONS = {
    "diff.tool": {"difftool.evil.cmd": "{evil}"},
    "diff.guitool": {"difftool.evil.cmd": "{evil}"},
    "merge.tool": {"mergetool.evil.cmd": "{evil}"},
    "merge.guitool": {"mergetool.evil.cmd": "{evil}"},
    "man.viewer": {"man.evil.cmd": "{evil}"},
    "help.browser": {"browser.evil.cmd": "{evil}"},
    "web.browser": {"browser.evil.cmd": "{evil}"},
    "instaweb.browser": {"browser.evil.cmd": "{evil}"},
    "help.format": {"help.browser": "evil", "browser.evil.cmd": "{evil}"},
    "merge.<name>.recursive": {"merge.evil.driver": "{evil}"},
    "gc.recentObjectsHook": {"gc.auto": "1", "gc.autoDetach": "false"},
    "receive.procReceiveRefs": {},
}
# Values that are not a program path.
_VALUES = {
    "core.hooksPath": "{hooks}",
    "init.templateDir": "{template}",
    "remote.<name>.vcs": "evil",
    "remote.<name>.url": "{decoy}",
    "pull.twohead": "evil",
    "pull.octopus": "evil",
    "help.autoCorrect": "immediate",
    "gc.auto": "1",
    "maintenance.auto": "true",
    "merge.<name>.recursive": "evil",
    "diff.tool": "evil",
    "diff.guitool": "evil",
    "merge.tool": "evil",
    "merge.guitool": "evil",
    "man.viewer": "evil",
    "help.browser": "evil",
    "web.browser": "evil",
    "instaweb.browser": "evil",
    "help.format": "web",
    "receive.procReceiveRefs": "refs",
    "gpg.format": "x509",
    "credential.helper": "!{evil}",
    "credential.<name>.helper": "!{evil}",
    "alias.<name>": "!{evil}",
    "submodule.<name>.update": "!{evil}",
}
# The transport a key is consulted on (file:// otherwise).
_TRANSPORT = {"core.sshCommand": "ssh", "core.gitProxy": "git", "core.askPass": "https", "credential.helper": "https", "credential.<name>.helper": "https"}


def _write_program(path: Path, marks: Path) -> None:
    path.write_text(f'#!/bin/sh\ntouch "{marks}/$(basename "$0")"\nexit 1\n')
    path.chmod(0o755)


class Trap:
    """Marker-writing programs, and the config lines that point git at them for one key."""

    def __init__(self, root: Path, key: ProgramKey, upstream_url: str, https_url: str) -> None:
        self.marks = root / "marks"
        self.bin = root / "bin"
        for folder in (self.marks, self.bin, root / "hooks", root / "template" / "hooks"):
            folder.mkdir(parents=True)
        self.evil = self.bin / "evil-program"
        _write_program(self.evil, self.marks)
        for name in ("git-remote-evil", "git-merge-evil"):  # what remote.<name>.vcs and pull.twohead would start
            _write_program(self.bin / name, self.marks)
        for hook in _HOOKS:
            _write_program(root / "hooks" / hook, self.marks)
            _write_program(root / "template" / "hooks" / hook, self.marks)
        decoy = Upstream(root / "decoy")
        fill = {"evil": str(self.evil), "hooks": str(root / "hooks"), "template": str(root / "template"), "decoy": decoy.url}
        value = _VALUES.get(key.key, "{evil}").format(**fill)
        names = _NAMES.get(key.key) or {
            "remote": (upstream_url, "origin", https_url),
            "credential": ("https://127.0.0.1",),
        }.get(key.key.split(".", 1)[0], ("evil",))
        if key.key == "remote.<name>.url":  # remote.origin.url is what the checkout says it is a clone of: a
            names = (upstream_url, https_url)  # different one is refused, as test_checkout.py shows
        self.lines = {key.key.replace("<name>", name): value for name in names} if "<name>" in key.key else {key.key: value}
        for companion, companion_value in _COMPANIONS.get(key.key, {}).items():
            self.lines[companion] = companion_value.format(**fill)

    def plant(self, config_file: Path) -> None:
        for name, value in self.lines.items():
            run_git("config", "--file", str(config_file), "--add", "--", name, value)

    def unplant(self, config_file: Path, prefix: str) -> None:
        for name in [name for name in self.lines if name.startswith(prefix)]:
            run_git("config", "--file", str(config_file), "--unset-all", "--", name)

    def ran(self) -> list[str]:
        return sorted(os.listdir(self.marks))


def _url(transport: str, upstream: Upstream, served: t.Callable[[str], str], sshd: t.Any) -> str:
    if transport == "ssh":
        return sshd.url(str(upstream.path))
    if transport in ("git", "https"):
        return served(transport)
    return upstream.url


@pytest.mark.parametrize("key", KEYS, ids=[key.key for key in KEYS])
def test_no_config_key_makes_git_run_a_program(key, make_upstream, tmp_path, monkeypatch, request, ssh_signer, servers, git_counter):
    transport = _TRANSPORT.get(key.key, "file")
    upstream = make_upstream("upstream")
    upstream.git("config", "uploadpack.allowFilter", "true")  # served over file://, a partial clone is one
    (upstream.path / ".gitattributes").write_text("* filter=evil diff=evil merge=evil\n")
    upstream.git("add", ".gitattributes")
    upstream.git("commit", "--quiet", "-m", "attributes that name the drivers")
    sshd = request.getfixturevalue("sshd") if transport == "ssh" else None
    served = request.getfixturevalue("served") if transport in ("git", "https") else None
    trap = Trap(tmp_path / "trap", key, upstream.url, servers.https_url)
    home = tmp_path / "home"
    home.mkdir()
    trap.plant(home / ".gitconfig")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("PATH", f"{trap.bin}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("GIT_SSL_CAINFO", servers.ca_file)
    access = RemoteAccess.from_params(
        {
            "username": "alice",
            "password": "s3cret-pw",
            "ssh_key": Path(sshd.key).read_text() if sshd else None,
            "known_hosts": sshd.known_hosts if sshd else None,
        }
    )
    policy = SignaturePolicy("commit", (), ssh_signer["signers"])
    signing = ["-c", "gpg.format=ssh", "-c", f"user.signingkey={ssh_signer['key']}"]

    def publish() -> str:
        upstream.git(*signing, "commit", "--quiet", "--allow-empty", "-S", "-m", "signed")
        return _url(transport, upstream, served, sshd)

    url = publish()
    dest = tmp_path / "app"
    if any(name.startswith("remote.origin.") for name in trap.lines):
        with pytest.raises(DestinationError, match=f"the git configuration of this host sets remote.origin.{key.key.rsplit('.', 1)[1]}"):
            GitOpsSynchronizer(url, str(dest), access=access).run("main")  # a clone would read it: refused
        trap.unplant(home / ".gitconfig", "remote.origin.")
    sync = GitOpsSynchronizer(url, str(dest), access=access, signatures=policy)
    assert sync.run("main").changed  # clone
    (dest / "file0.txt").write_text("hand edit\n")  # (git of the test's own, before the trap)
    (dest / "file1.txt").write_text("staged\n")
    run_git("-C", str(dest), "add", "file1.txt")
    (dest / "untracked.txt").write_text("mine\n")
    run_git("-C", str(dest), "update-index", "--assume-unchanged", "file2.txt")
    (dest / "file2.txt").write_text("hidden edit\n")
    trap.plant(dest / ".git" / "config")
    (dest / ".git" / "objects" / "info" / "alternates").write_text(str(upstream.path / ".git" / "objects") + "\n")
    url = publish()
    assert GitOpsSynchronizer(url, str(dest), access=access, signatures=policy).run("main").backup_ref  # update + backup
    upstream.git(*signing, "tag", "-s", "-m", "release", "v1")
    url = publish()
    tagged = GitOpsSynchronizer(url, str(dest), access=access, signatures=SignaturePolicy("both", (), ssh_signer["signers"]))
    assert tagged.run("v1").plan.action == "refresh"  # the same commit: tag and commit signatures
    url = publish()
    checked = GitOpsSynchronizer(url, str(dest), access=access).run("main", check_mode=True, diff=True)
    assert checked.changed and "prepared" in checked.diff  # check mode, --diff
    drift = Drift(str(dest), "main", compare_to="remote", repo_url=url, access=access).sync_state()
    assert drift.drift_details  # a peek through alternates
    (dest / "file0.txt").write_text("discarded\n")
    assert GitOpsSynchronizer(url, str(dest), access=access, local_changes="discard").run("main").changed
    assert run_git("-C", str(dest), "rev-parse", "HEAD") == upstream.head() and (dest / "file0.txt").read_text() != "discarded\n"
    assert GitOpsSynchronizer(url, str(dest), access=access, sparse=["sub"]).run("main").changed  # sparse-checkout set
    (dest / "kept.txt").write_text("untracked in a sparse checkout\n")
    assert GitOpsSynchronizer(url, str(dest), access=access).run("main").backup_ref  # its backup, and disable
    assert not GitOpsSynchronizer(url, str(dest), access=access).run("main").changed  # a no-op
    partial = tmp_path / "partial"  # a partial clone, where git would fetch missing objects by itself
    assert GitOpsSynchronizer(url, str(partial), access=access, filter="blob:none", sparse=["sub"]).run("main").changed
    trap.plant(partial / ".git" / "config")
    url = publish()
    assert GitOpsSynchronizer(url, str(partial), access=access, sparse=["sub"]).run("main", check_mode=True, diff=True).changed
    assert GitOpsSynchronizer(url, str(partial), access=access).run("main").changed  # the files outside the cone fetched
    assert trap.ran() == [], f"{key.key} ran {trap.ran()}"
    assert not {"gc", "maintenance", "submodule"} & set(git_counter.subcommands())  # nor what runs more of them
