# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one git runner: environment, hardening, deadlines and errors."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from ansible_collections.fleetops.gitops.plugins.module_utils._access import RemoteAccess
from ansible_collections.fleetops.gitops.plugins.module_utils._errors import GitCommandError, GitNotFound, GitTimeout
from ansible_collections.fleetops.gitops.plugins.module_utils._git import GitRunner


def _environment(git: GitRunner, *, network: bool = True) -> dict[str, str]:
    """The environment git gives its children, read through a shell alias run outside any repository."""
    out = git.run(["-C", "/", "-c", "alias.showenv=!env", "showenv"], network=network).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def test_environment_is_c_locale_without_prompts_or_inherited_redirections(monkeypatch):
    monkeypatch.setenv("LANG", "de_DE.UTF-8")
    monkeypatch.setenv("LANGUAGE", "de")
    monkeypatch.setenv("GIT_DIR", "/elsewhere")
    monkeypatch.setenv("GIT_CONFIG_PARAMETERS", "'core.fsmonitor'='touch /tmp/x'")
    monkeypatch.setenv("GIT_SSL_CAINFO", "/kept.pem")
    env = _environment(GitRunner())
    assert (env["LC_ALL"], env["LANG"], env["GIT_TERMINAL_PROMPT"]) == ("C", "C", "0")
    assert "LANGUAGE" not in env and "GIT_DIR" not in env
    assert "touch" not in env.get("GIT_CONFIG_PARAMETERS", "")
    assert env["GIT_ALLOW_PROTOCOL"] == "https:ssh:git:file"
    assert env["GIT_SSH_COMMAND"] == "ssh -o BatchMode=yes -o ConnectTimeout=30 -o StrictHostKeyChecking=yes"
    assert env["GIT_PROXY_COMMAND"] == ""
    assert env["GIT_SSL_CAINFO"] == "/kept.pem"
    assert os.path.basename(env["GIT_ASKPASS"]) == "false"


def test_only_a_network_command_may_reach_a_transport():
    """A partial clone's lazy fetch would reach the remote its config names: every other command gets no transport."""
    env = _environment(GitRunner(), network=False)
    assert (env["GIT_ALLOW_PROTOCOL"], env["GIT_NO_LAZY_FETCH"]) == ("", "1")
    assert "GIT_NO_LAZY_FETCH" not in _environment(GitRunner())


def _helper_answer(git: GitRunner, request: str) -> str:
    """What the credential helper git is given answers to ``request`` (the credential protocol's key=value lines)."""
    helpers = git.run(["-C", "/", "config", "--get-all", "credential.helper"]).stdout.splitlines()
    assert helpers[-2:-1] == [""] and len([h for h in helpers if h]) == 1  # every configured helper dropped, then ours
    return git.run(["-C", "/", "-c", f"alias.ask=!{helpers[-1]} get <<'EOF'\n{request}\nEOF", "ask"]).stdout


def test_credentials_reach_git_only_through_a_helper_for_one_origin_and_its_folder_is_removed():
    with GitRunner(access=RemoteAccess(username="alice", password="pw"), origin="https://git.example.com:8443") as git:
        env = _environment(git)
        assert os.path.basename(env["GIT_ASKPASS"]) == "false"
        assert env["FLEETOPS_GITOPS_PASSWORD"] == "pw"
        helper = git.run(["-C", "/", "config", "--get-all", "credential.helper"]).stdout.split()[-1]
        assert os.stat(helper).st_mode & 0o777 == 0o700 and "pw" not in Path(helper).read_text(encoding="utf-8")
        asked = _helper_answer(git, "protocol=https\nhost=git.example.com:8443\npath=x.git\n")
        assert asked == "username=alice\npassword=pw\n"
        for other in ("protocol=https\nhost=evil.example.com\n", "protocol=https\nhost=git.example.com\n", "protocol=http\nhost=git.example.com:8443\n"):
            assert _helper_answer(git, other) == ""
    assert not os.path.exists(os.path.dirname(helper))


def test_hooks_and_fsmonitor_of_the_checkout_never_run(upstream, tmp_path):
    marker = tmp_path / "pwned"
    hook = upstream.path / ".git" / "hooks" / "post-checkout"
    hook.write_text(f"#!/bin/sh\ntouch {marker}\n")
    hook.chmod(0o755)
    upstream.git("config", "core.fsmonitor", f"touch {marker}-fsmonitor; false")
    git = GitRunner()
    git.run(["-C", str(upstream.path), "status"])
    git.run(["-C", str(upstream.path), "checkout", "--quiet", "--detach"])
    assert not marker.exists() and not (tmp_path / "pwned-fsmonitor").exists()


def test_errors_carry_command_exit_code_and_redacted_stderr(tmp_path):
    git = GitRunner(secrets=["hunter2"])
    with pytest.raises(GitCommandError) as caught:
        git.run(["-C", str(tmp_path), "ls-remote", "https://u:hunter2@127.0.0.1:9/x"], summary="cannot list")
    error = caught.value
    assert error.rc == 128 and error.cmd[:2] == ["git", "-C"]
    assert "hunter2" not in str(error) and "hunter2" not in " ".join(error.cmd)
    assert str(error).startswith("cannot list: git -C")


def test_a_deadline_stops_a_hanging_command(servers):
    git = GitRunner(timeout=1)
    start = time.monotonic()
    with pytest.raises(GitTimeout):
        git.run(["ls-remote", f"{servers.blackhole_url}/x"], network=True)
    assert time.monotonic() - start < 5
    with pytest.raises(GitTimeout, match="already used up"):
        git.run(["version"])


def test_missing_git_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(GitNotFound, match="git is not installed"):
        GitRunner().run(["version"])
