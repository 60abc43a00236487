# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Test helpers: real upstream repositories in temp folders, a git process counter, tree snapshots."""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import stat
import subprocess
import typing as t
from pathlib import Path

GITSERVE = Path(__file__).resolve().parents[2] / "integration" / "targets" / "setup_gitops" / "files" / "gitserve.py"


def realworld_folder() -> Path | None:
    """../shared/realworld (bundles of real projects' histories), found from this file (the tests also run from an
    installed copy of the collection); None where this machine has not got it."""
    for folder in Path(__file__).resolve().parents:
        if (folder / "shared" / "realworld").is_dir():
            return folder / "shared" / "realworld"
    return None


_IDENTITY = {
    "GIT_AUTHOR_NAME": "Upstream",
    "GIT_AUTHOR_EMAIL": "upstream@example.invalid",
    "GIT_COMMITTER_NAME": "Upstream",
    "GIT_COMMITTER_EMAIL": "upstream@example.invalid",
}


def run_git(*args: str, cwd: str | os.PathLike[str] | None = None) -> str:
    """git for the tests' own fixtures: no system or global config, so a test that plants one affects only the code under test."""
    env = dict(os.environ, GIT_CONFIG_GLOBAL="/dev/null", GIT_CONFIG_NOSYSTEM="1", **_IDENTITY)
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, stdout=subprocess.PIPE, text=True).stdout.strip()


class Upstream:
    """A repository the tests commit to directly, as a developer pushing would."""

    def __init__(self, path: Path, files: int = 3) -> None:
        self.path = path
        run_git("init", "--quiet", "--initial-branch=main", str(path))
        for number in range(files):
            (path / f"file{number}.txt").write_text(f"content {number}\n")
        (path / ".gitignore").write_text("*.log\n")
        self._commit_all("initial")

    @property
    def url(self) -> str:
        return self.path.as_uri()

    def git(self, *args: str) -> str:
        return run_git(*args, cwd=self.path)

    def _commit_all(self, message: str) -> str:
        self.git("add", "--all")
        self.git("commit", "--quiet", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD")

    def commit(self, files: t.Mapping[str, str] | None = None, message: str = "change", branch: str = "main") -> str:
        """Add a commit to ``branch`` (writing ``files``) and return its SHA."""
        self.git("checkout", "--quiet", branch)
        for name, content in (files or {f"change-{self.git('rev-list', '--count', 'HEAD')}.txt": "new\n"}).items():
            target = self.path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content)
        sha = self._commit_all(message)
        self.git("checkout", "--quiet", "main")
        return sha

    def head(self, ref: str = "main") -> str:
        return self.git("rev-parse", f"{ref}^{{commit}}")

    def tag(self, name: str, ref: str = "main", annotated: bool = True) -> str:
        self.git("tag", *(["-a", "-m", name] if annotated else []), name, ref)
        return self.head(name)

    def branch(self, name: str, ref: str = "main") -> str:
        self.git("branch", name, ref)
        return self.head(name)

    def rewrite(self, branch: str = "main") -> str:
        """Replace the tip of ``branch`` by another commit: what a force-push does to a remote."""
        self.git("checkout", "--quiet", branch)
        self.git("reset", "--quiet", "--hard", "HEAD~1")
        (self.path / "rewritten.txt").write_text("rewritten\n")
        sha = self._commit_all("rewritten history")
        self.git("checkout", "--quiet", "main")
        return sha


_SERVED = ("upload-pack",)


def _subcommand(words: list[str]) -> str:
    """The git subcommand of a logged command line (its arguments; options and their values skipped)."""
    words = list(words)
    while words and words[0].startswith("-"):
        del words[: 2 if words[0] in ("-c", "-C", "--git-dir") else 1]
    return words[0] if words else ""


class GitCounter:
    """A logging ``git`` early in PATH: counts the git processes the code under test starts."""

    def __init__(self, directory: Path) -> None:
        self.log = directory / "git.log"
        self.ssh_log = directory / "git-ssh-command.log"
        real = subprocess.run(["sh", "-c", "command -v git"], check=True, stdout=subprocess.PIPE, text=True).stdout.strip()
        wrapper = directory / "git"
        wrapper.write_text(
            f'#!/bin/sh\n{{ printf "%s\\037" "$@"; printf "\\n"; }} >> "{self.log}"\n'  # \037 ends each argument
            f'printf "%s\\n" "${{GIT_SSH_COMMAND:-}}" >> "{self.ssh_log}"\nexec "{real}" "$@"\n'
        )
        wrapper.chmod(0o755)
        self.reset()

    def _argvs(self) -> list[list[str]]:
        """Each git process of the code under test, as its arguments; the upload-pack serving a local remote is the server's."""
        argvs = [line.split("\037")[:-1] for line in self.log.read_text().splitlines() if line]
        return [argv for argv in argvs if _subcommand(argv) not in _SERVED]

    def commands(self) -> list[str]:
        return [" ".join(argv) for argv in self._argvs()]

    def subcommands(self) -> list[str]:
        """``status`` for ``-c a=b -C dir --no-optional-locks status ...``: what each process was asked to do."""
        return [_subcommand(argv) for argv in self._argvs()]

    def ssh_commands(self) -> list[str]:
        """The GIT_SSH_COMMAND each git process was given (those that had one)."""
        return [line for line in self.ssh_log.read_text().splitlines() if line]

    def reset(self) -> None:
        self.log.write_text("")
        self.ssh_log.write_text("")


def snapshot(path: Path) -> dict[str, tuple[int, int, int, str]]:
    """Every entry under ``path``, ``.git`` included: mode, size, mtime and content hash."""
    result = {}
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            full = os.path.join(root, name)
            info = os.lstat(full)
            digest = ""
            if stat.S_ISREG(info.st_mode):
                with open(full, "rb") as handle:
                    digest = hashlib.sha256(handle.read()).hexdigest()
            result[os.path.relpath(full, path)] = (info.st_mode, info.st_size, info.st_mtime_ns, digest)
    return result


def as_user(user: str, *command: str) -> None:
    """Run ``command`` as ``user`` (the tests run as root): what another user of the host can do."""
    subprocess.run(["runuser", "-u", user, "--", *command], check=True)


@contextlib.contextmanager
def moved_aside(path: Path) -> t.Iterator[None]:
    """Host state a test must replace (a folder an earlier version left in /tmp or /run/lock): kept aside, restored."""
    aside = path.with_name(path.name + ".moved-aside-by-test")
    if os.path.lexists(path):
        os.rename(path, aside)
    try:
        yield
    finally:
        if os.path.lexists(aside):
            os.rename(aside, path)


def load_gitserve() -> t.Any:
    """The servers of the integration tests, imported from their script."""
    spec = importlib.util.spec_from_file_location("gitserve", GITSERVE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
