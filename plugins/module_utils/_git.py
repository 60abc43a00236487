# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private: the one place that runs git.

Every git process of this collection starts here: argv lists (never a shell),
a C locale, no prompts, an allow-list of transports given to git itself,
hooks and fsmonitor switched off, a deadline, and errors whose command and
stderr have every credential masked.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
import typing as t
from dataclasses import dataclass

from ansible_collections.fleetops.gitops.plugins.module_utils._errors import GitCommandError, GitNotFound, GitTimeout
from ansible_collections.fleetops.gitops.plugins.module_utils._identity import RunAs
from ansible_collections.fleetops.gitops.plugins.module_utils._url import TRANSPORTS, Credentials, RepoUrl, redact_text

DEFAULT_TIMEOUT = 300.0

# Variables that would point git at another repository, inject config or prompt: never inherited.
_DROPPED_ENV = frozenset((
    "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR", "GIT_NAMESPACE", "GIT_CEILING_DIRECTORIES", "GIT_DISCOVERY_ACROSS_FILESYSTEM",
    "GIT_CONFIG", "GIT_CONFIG_PARAMETERS", "GIT_CONFIG_COUNT", "GIT_EXEC_PATH", "GIT_PREFIX",
    "GIT_QUARANTINE_PATH", "GIT_REPLACE_REF_BASE", "GIT_NO_REPLACE_OBJECTS", "GIT_SHALLOW_FILE",
    "GIT_ALLOW_PROTOCOL", "GIT_PROTOCOL_FROM_USER", "GIT_ASKPASS", "SSH_ASKPASS", "GIT_SSH", "GIT_SSH_COMMAND",
    "GIT_EDITOR", "GIT_PAGER", "GIT_EXTERNAL_DIFF", "GIT_TERMINAL_PROMPT", "GIT_FLUSH", "LANGUAGE",
))
_DROPPED_PREFIXES = ("GIT_CONFIG_KEY_", "GIT_CONFIG_VALUE_", "GIT_TRACE")

# Config given on the command line outranks every config file, the checkout's included:
# nothing in a checkout can make these git processes run a program of its choosing.
_HARDENING = (
    "core.fsmonitor=false",
    "core.hooksPath=/dev/null",
    "advice.detachedHead=false",
)

_ASKPASS = """#!/bin/sh
# fleetops.gitops: answers git's credential prompts from its environment; holds no secret itself.
case "$1" in
  Username*) printf '%s\\n' "$FLEETOPS_GITOPS_USERNAME" ;;
  *) printf '%s\\n' "$FLEETOPS_GITOPS_PASSWORD" ;;
esac
"""


@dataclass(frozen=True)
class GitResult:
    args: tuple[str, ...]
    rc: int
    stdout: str
    stderr: str


class Deadline:
    """An overall time budget shared by the git commands of one operation."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._end = time.monotonic() + seconds

    def remaining(self) -> float:
        return max(0.0, self._end - time.monotonic())


class GitRunner:
    """Runs git for one operation (one checkout), within one deadline.

    Use it as a context manager when it carries credentials: the askpass
    program lives in a private temporary folder removed on exit.
    """

    def __init__(
        self,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        credentials: Credentials | None = None,
        secrets: t.Iterable[str] = (),
        transports: t.Sequence[str] = TRANSPORTS,
        run_as: RunAs | None = None,
    ) -> None:
        self.deadline = Deadline(timeout)
        self.run_as = run_as
        self.credentials = credentials
        self.secrets = tuple(s for s in secrets if s)
        if credentials is not None:
            self.secrets += tuple(s for s in (credentials.password,) if s)
        self.transports = tuple(transports)
        self._tempdir: str | None = None

    def __enter__(self) -> GitRunner:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        if self._tempdir is not None:
            shutil.rmtree(self._tempdir, ignore_errors=True)
            self._tempdir = None

    def redact(self, text: str) -> str:
        return redact_text(text, self.secrets)

    def run(
        self,
        args: t.Sequence[str],
        *,
        cwd: str | None = None,
        timeout: float | None = None,
        ok: t.Container[int] = (0,),
        env: t.Mapping[str, str] | None = None,
        summary: str = "",
    ) -> GitResult:
        """Run ``git <args>``; raise GitCommandError unless the exit code is in ``ok``.

        ``timeout`` caps this command below the runner's deadline.
        """
        git = shutil.which("git")
        if git is None:
            raise GitNotFound("git is not installed or not on PATH of the managed host; install git first")
        argv = [git]
        for item in self._config():
            argv += ["-c", item]
        argv += list(args)
        budget = self.deadline.remaining() if timeout is None else min(timeout, self.deadline.remaining())
        shown = tuple(self.redact(a) for a in ["git", *args])
        if budget <= 0:
            raise GitTimeout(shown, None, f"not started: the {self.deadline.seconds:g}s timeout was already used up", summary)
        proc = subprocess.Popen(  # noqa: S603 - argv list, no shell
            argv, cwd=cwd, env=self._environment(env), stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
            **(self.run_as.popen_options() if self.run_as else {}),
        )
        try:
            out, err = proc.communicate(timeout=budget)
        except subprocess.TimeoutExpired:
            _stop(proc)
            raise GitTimeout(shown, None, f"stopped after {budget:.1f}s: the operation's {self.deadline.seconds:g}s timeout ran out", summary) from None
        result = GitResult(shown, proc.returncode, _text(out), self.redact(_text(err)))
        if result.rc not in ok:
            raise GitCommandError(shown, result.rc, result.stderr, summary)
        return result

    def _config(self) -> list[str]:
        items = list(_HARDENING)
        if self.credentials is not None:
            items.append("credential.helper=")  # no configured helper may store what we hand over
        return items

    def _environment(self, extra: t.Mapping[str, str] | None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in _DROPPED_ENV and not k.startswith(_DROPPED_PREFIXES)}
        env.update(
            LC_ALL="C", LANG="C", GIT_TERMINAL_PROMPT="0",
            GIT_ALLOW_PROTOCOL=":".join(self.transports),
            GIT_SSH_COMMAND="ssh -o BatchMode=yes",
            GIT_ASKPASS=self._askpass(),
        )
        if self.run_as is not None:
            env.update(self.run_as.environment())
        if self.credentials is not None:
            env["FLEETOPS_GITOPS_USERNAME"] = self.credentials.username or ""
            env["FLEETOPS_GITOPS_PASSWORD"] = self.credentials.password or ""
        if extra:
            env.update(extra)
        return env

    def _askpass(self) -> str:
        """Path of the program git asks for credentials: ours, or one that always refuses."""
        if self.credentials is None:
            return shutil.which("false") or "/bin/false"
        if self._tempdir is None:
            self._tempdir = self.private_dir()
            path = os.path.join(self._tempdir, "askpass")
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o700)
            with os.fdopen(fd, "w") as handle:
                handle.write(_ASKPASS)
            self.give(path)
        return os.path.join(self._tempdir, "askpass")

    def private_dir(self) -> str:
        """A new 0700 temporary folder that git (as ``run_as``, if set) can use; the caller removes it."""
        path = tempfile.mkdtemp(prefix="fleetops-gitops-")
        self.give(path)
        return path

    def give(self, path: str) -> None:
        """Hand something we created over to the user git runs as."""
        if self.run_as is not None:
            self.run_as.give(path)


def runner_for(url: RepoUrl | None, timeout: float, run_as: RunAs | None = None) -> GitRunner:
    """A runner that can authenticate to ``url`` and masks its secrets."""
    if url is None:
        return GitRunner(timeout=timeout, run_as=run_as)
    return GitRunner(timeout=timeout, credentials=url.credentials, secrets=url.secrets, run_as=run_as)


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def _stop(proc: subprocess.Popen) -> None:
    """Stop git and its children (ssh, remote helpers): TERM lets git drop its lock files, KILL follows."""
    for sig, grace in ((signal.SIGTERM, 2.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            proc.communicate(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue
