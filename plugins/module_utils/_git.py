# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private: the one place that runs git.

Every git process of this collection starts here: argv lists (never a shell),
a C locale, no prompts, an allow-list of transports given to git itself,
nothing from a checkout's or the system's config that could run a program,
objects checked on fetch, a deadline with low-speed limits, retries of
transient network errors, and errors whose command and stderr have every
credential masked.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import typing as t
from dataclasses import dataclass

from ansible_collections.fleetops.gitops.plugins.module_utils._access import RemoteAccess
from ansible_collections.fleetops.gitops.plugins.module_utils._errors import GitCommandError, GitNotFound, GitTimeout
from ansible_collections.fleetops.gitops.plugins.module_utils._identity import RunAs
from ansible_collections.fleetops.gitops.plugins.module_utils._locks import pid_alive
from ansible_collections.fleetops.gitops.plugins.module_utils._url import RepoUrl, redact_text

DEFAULT_TIMEOUT = 300.0
PRIVATE_PREFIX = "fleetops-gitops-"

# Variables that would point git at another repository, inject config or prompt: never inherited.
_DROPPED_ENV = frozenset((
    "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR", "GIT_NAMESPACE", "GIT_CEILING_DIRECTORIES", "GIT_DISCOVERY_ACROSS_FILESYSTEM",
    "GIT_CONFIG", "GIT_CONFIG_PARAMETERS", "GIT_CONFIG_COUNT", "GIT_EXEC_PATH", "GIT_PREFIX",
    "GIT_QUARANTINE_PATH", "GIT_REPLACE_REF_BASE", "GIT_NO_REPLACE_OBJECTS", "GIT_SHALLOW_FILE",
    "GIT_ALLOW_PROTOCOL", "GIT_PROTOCOL_FROM_USER", "GIT_ASKPASS", "SSH_ASKPASS", "GIT_SSH", "GIT_SSH_COMMAND",
    "GIT_EDITOR", "GIT_PAGER", "GIT_EXTERNAL_DIFF", "GIT_TERMINAL_PROMPT", "GIT_FLUSH", "GIT_PROXY_COMMAND",
    "GNUPGHOME", "LANGUAGE",
))
_DROPPED_PREFIXES = ("GIT_CONFIG_KEY_", "GIT_CONFIG_VALUE_", "GIT_TRACE")

# Config given on the command line outranks every config file (system, global, the checkout's own), so
# nothing there can make these git processes run a program of its choosing. The environment set in
# _environment() covers the rest: GIT_SSH_COMMAND (over core.sshCommand), GIT_ASKPASS (over core.askPass),
# GIT_PROXY_COMMAND (over core.gitProxy, where the first config entry would win). Fetches name the URL, not
# the remote, so remote.<name>.uploadpack is never read.
_HARDENING = (
    "core.fsmonitor=false",
    "core.hooksPath=/dev/null",
    "credential.helper=",
    "gpg.program=gpg",
    "gpg.openpgp.program=gpg",
    "gpg.ssh.program=ssh-keygen",
    "gpg.x509.program=gpgsm",
    "transfer.fsckObjects=true",
    "advice.detachedHead=false",
)

_ASKPASS = """#!/bin/sh
# fleetops.gitops: answers git's credential prompts from its environment; holds no secret itself.
case "$1" in
  Username*) printf '%s\\n' "$FLEETOPS_GITOPS_USERNAME" ;;
  *) printf '%s\\n' "$FLEETOPS_GITOPS_PASSWORD" ;;
esac
"""

# stderr of a network command that failed for a reason worth another try (checked after _PERMANENT).
_TRANSIENT = re.compile(
    r"connection (refused|reset|timed out)|timed out|could not resolve host|temporary failure in name resolution"
    r"|early eof|the remote end hung up unexpectedly|rpc failed|returned error: 5\d\d|empty reply from server"
    r"|transfer closed|unexpected disconnect|ssl_error_syscall|gnutls_handshake|broken pipe|network is unreachable",
    re.IGNORECASE,
)
_PERMANENT = re.compile(
    r"authentication failed|could not read (username|password)|permission denied|host key verification failed"
    r"|returned error: 4\d\d|not found|does not appear to be a git repository|repository .* does not exist"
    r"|not allowed|no space left on device",
    re.IGNORECASE,
)


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

    Use it as a context manager: the askpass program and any SSH key live in a
    private temporary folder that is removed on exit, whatever happens (and a
    folder left by a killed run is removed by the next one).
    """

    def __init__(
        self,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        access: RemoteAccess | None = None,
        secrets: t.Iterable[str] = (),
        run_as: RunAs | None = None,
    ) -> None:
        self.deadline = Deadline(timeout)
        self.access = access or RemoteAccess()
        self.run_as = run_as
        self.secrets = tuple(s for s in secrets if s) + self.access.secrets
        self._tempdir: str | None = None
        self._env: dict[str, str] | None = None

    def __enter__(self) -> GitRunner:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        if self._tempdir is not None:
            shutil.rmtree(self._tempdir, ignore_errors=True)
            self._tempdir = None
        self._env = None

    def redact(self, text: str) -> str:
        return redact_text(text, self.secrets)

    def run(
        self,
        args: t.Sequence[str],
        *,
        ok: t.Container[int] = (0,),
        env: t.Mapping[str, str] | None = None,
        summary: str = "",
        network: bool = False,
    ) -> GitResult:
        """Run ``git <args>``; raise GitCommandError unless the exit code is in ``ok``.

        A ``network`` command that fails for a transient reason (a refused or
        reset connection, an HTTP 5xx, ...) is tried again, ``access.retries``
        times, after 1, 2, 4... seconds, within the deadline; a permanent
        failure (authentication, not found) is not.
        """
        attempt = 0
        while True:
            try:
                return self._run_once(args, ok=ok, env=env, summary=summary)
            except GitTimeout:
                raise
            except GitCommandError as error:
                pause = 2.0 ** attempt
                if not (network and attempt < self.access.retries and _transient(error.stderr)
                        and self.deadline.remaining() > pause):
                    raise
            time.sleep(pause)
            attempt += 1

    def _run_once(self, args: t.Sequence[str], *, ok: t.Container[int], env: t.Mapping[str, str] | None,
                  summary: str) -> GitResult:
        argv = [git_executable()]
        for item in self._config():
            argv += ["-c", item]
        argv += list(args)
        budget = self.deadline.remaining()
        shown = tuple(self.redact(a) for a in ["git", *args])
        if budget <= 0:
            raise GitTimeout(shown, None, f"not started: the {self.deadline.seconds:g}s timeout was already used up", summary)
        environment = dict(self._environment(), **(env or {}))
        proc = subprocess.Popen(  # noqa: S603 - argv list, no shell
            argv, env=environment, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            cwd="/",  # every path is absolute; the module's folder may be closed to `owner`, or lie inside another repository
            start_new_session=True, **(self.run_as.popen_options() if self.run_as else {}),
        )
        try:
            out, err = proc.communicate(timeout=budget)
        except subprocess.TimeoutExpired:
            _stop(proc)
            raise GitTimeout(shown, None, f"stopped after {budget:.1f}s: the operation's {self.deadline.seconds:g}s timeout ran out",
                             summary) from None
        result = GitResult(shown, proc.returncode, _text(out), self.redact(_text(err)))
        if result.rc not in ok:
            raise GitCommandError(shown, result.rc, result.stderr, summary)
        return result

    def _config(self) -> list[str]:
        low_speed_time = int(min(30, max(1, self.deadline.seconds / 2)))  # a stalled transfer fails well within the deadline
        return [*_HARDENING, "http.lowSpeedLimit=1000", f"http.lowSpeedTime={low_speed_time}"]

    def _environment(self) -> dict[str, str]:
        """Built once per runner: the askpass program and key files are written on first use."""
        if self._env is not None:
            return self._env
        env = {k: v for k, v in os.environ.items() if k not in _DROPPED_ENV and not k.startswith(_DROPPED_PREFIXES)}
        access = self.access
        needs_files = access.password is not None or access.ssh_key or access.known_hosts
        folder = self._private() if needs_files else None
        env.update(
            LC_ALL="C", LANG="C", GIT_TERMINAL_PROMPT="0", GIT_PROXY_COMMAND="",
            GIT_ALLOW_PROTOCOL=":".join(access.transports),
            GIT_ASKPASS=self._write(folder, "askpass", _ASKPASS, 0o700) if access.password is not None else _refuse(),
            GIT_SSH_COMMAND=access.ssh_command(
                self._write(folder, "id", access.ssh_key.rstrip("\n") + "\n", 0o600) if access.ssh_key else None,
                self._write(folder, "known_hosts", access.known_hosts.rstrip("\n") + "\n", 0o600) if access.known_hosts else None,
                int(min(30, max(1, self.deadline.seconds))),
            ),
        )
        if self.run_as is not None:
            env.update(self.run_as.environment())
        if access.password is not None:
            env.update(FLEETOPS_GITOPS_USERNAME=access.username or "", FLEETOPS_GITOPS_PASSWORD=access.password)
        self._env = env
        return env

    def _private(self) -> str:
        if self._tempdir is None:
            self._tempdir = self.private_dir()
        return self._tempdir

    def _write(self, folder: str | None, name: str, content: str, mode: int) -> str:
        path = os.path.join(folder or self._private(), name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        with os.fdopen(fd, "w") as handle:
            handle.write(content)
        self.give(path)
        return path

    def private_dir(self) -> str:
        """A new 0700 temporary folder that git (as ``run_as``, if set) can use; the caller removes it."""
        sweep_private_dirs()
        path = tempfile.mkdtemp(prefix=f"{PRIVATE_PREFIX}{os.getpid()}-")
        self.give(path)
        return path

    def give(self, path: str) -> None:
        """Hand something we created over to the user git runs as."""
        if self.run_as is not None:
            self.run_as.give(path)


def runner_for(url: RepoUrl | None, timeout: float, run_as: RunAs | None = None,
               access: RemoteAccess | None = None) -> GitRunner:
    """A runner that can reach ``url`` as ``access`` says, and masks its secrets."""
    access = access or RemoteAccess()
    if url is None:
        return GitRunner(timeout=timeout, access=access, run_as=run_as)
    return GitRunner(timeout=timeout, access=access.for_url(url), secrets=url.secrets, run_as=run_as)


def git_executable() -> str:
    """The git on PATH; a batch checks it once up front, so that a host without git fails once, not per item."""
    git = shutil.which("git")
    if git is None:
        raise GitNotFound("git is not installed or not on PATH of the managed host; install git first")
    return git


def sweep_private_dirs() -> None:
    """Remove private folders of runs that were killed before they could clean up (their PID is gone)."""
    base = tempfile.gettempdir()
    try:
        names = os.listdir(base)
    except OSError:
        return
    for name in names:
        if not name.startswith(PRIVATE_PREFIX):
            continue
        pid = name[len(PRIVATE_PREFIX):].split("-", 1)[0]
        if pid.isdigit() and not pid_alive(pid):
            shutil.rmtree(os.path.join(base, name), ignore_errors=True)


def _transient(stderr: str) -> bool:
    return not _PERMANENT.search(stderr) and bool(_TRANSIENT.search(stderr))


def _refuse() -> str:
    """An askpass that answers nothing, so that git fails at once instead of asking anyone."""
    return shutil.which("false") or "/bin/false"


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
