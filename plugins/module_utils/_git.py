# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private: the one place that runs git (and gpg, and the release layout's ``validate`` command).

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
import secrets
import shlex
import shutil
import signal
import subprocess
import time
import typing as t
from dataclasses import dataclass

from ansible_collections.fleetops.gitops.plugins.module_utils._access import RemoteAccess
from ansible_collections.fleetops.gitops.plugins.module_utils._errors import GitCommandError, GitNotFound, GitTimeout, InvalidOption
from ansible_collections.fleetops.gitops.plugins.module_utils._host_filters import host_filters, may_filter
from ansible_collections.fleetops.gitops.plugins.module_utils._identity import RunAs
from ansible_collections.fleetops.gitops.plugins.module_utils._private_dir import PrivateDir
from ansible_collections.fleetops.gitops.plugins.module_utils._program_keys import (
    COMMAND_LINE_OVERRIDES,
    ENVIRONMENT_OVERRIDES,
    LOCAL_UPLOAD_PACK,
    filter_overrides,
)
from ansible_collections.fleetops.gitops.plugins.module_utils._url import RepoUrl, is_local, origin_of, redact_text
from ansible_collections.fleetops.gitops.plugins.module_utils._watchdog import MARK_VARIABLE, Watchdog

DEFAULT_TIMEOUT = 300.0

# Variables that would point git at another repository, inject config or prompt: never inherited.
# fmt: off
_DROPPED_ENV = frozenset((
    "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_COMMON_DIR", "GIT_NAMESPACE",
    "GIT_CEILING_DIRECTORIES", "GIT_DISCOVERY_ACROSS_FILESYSTEM", "GIT_CONFIG", "GIT_CONFIG_PARAMETERS", "GIT_CONFIG_COUNT", "GIT_EXEC_PATH",
    "GIT_PREFIX", "GIT_QUARANTINE_PATH", "GIT_REPLACE_REF_BASE", "GIT_NO_REPLACE_OBJECTS", "GIT_SHALLOW_FILE", "GIT_ALLOW_PROTOCOL",
    "GIT_PROTOCOL_FROM_USER", "GIT_ASKPASS", "SSH_ASKPASS", "GIT_SSH", "GIT_SSH_COMMAND", "GIT_EDITOR", "GIT_PAGER", "GIT_EXTERNAL_DIFF",
    "GIT_TERMINAL_PROMPT", "GIT_FLUSH", "GIT_PROXY_COMMAND", "GNUPGHOME", "LANGUAGE",
))
# fmt: on
_DROPPED_PREFIXES = ("GIT_CONFIG_KEY_", "GIT_CONFIG_VALUE_", "GIT_TRACE")

# What makes git ask for credentials, and for which origin: a credential helper of ours, given on the command line
# after an empty value (which drops every helper configured in any file). It answers only for the origin the
# repository URL names (scheme, host and port), so a redirect to another origin gets nothing, and holds no
# secret itself: it reads them from its environment. GIT_ASKPASS refuses, so git never prompts anyone.
_CREDENTIAL_HELPER = """#!/bin/sh
# fleetops.gitops: answers git's credential requests for one origin only, from its environment.
test "$1" = get || exit 0
protocol='' host=''
while IFS= read -r line; do
  case $line in
    '') break ;;
    protocol=*) protocol=${line#protocol=} ;;
    host=*) host=${line#host=} ;;
  esac
done
test "$protocol://$host" = "$FLEETOPS_GITOPS_ORIGIN" || exit 0
test -z "$FLEETOPS_GITOPS_USERNAME" || printf 'username=%s\\n' "$FLEETOPS_GITOPS_USERNAME"
printf 'password=%s\\n' "$FLEETOPS_GITOPS_PASSWORD"
"""
_ANY_EXIT = range(-255, 256)  # negative: killed by that signal
_REDIRECT = re.compile(r"^warning: redirecting to (\S+)", re.MULTILINE)

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


@dataclass(frozen=True)
class Remote:
    """A repository URL, handed to ``fetch`` or ``ls-remote`` under a random remote name.

    git reads a URL given to those commands as a remote's name first: a ``[remote "<the URL>"]`` section in any
    config file would choose the URL fetched and the upload-pack program run. A random name matches no section;
    its URL is set on the command line. ``promisor``: the filter of a partial clone's fetch - the name is then a
    promisor remote on the command line too, so git writes no section for it in the repository's config.
    """

    url: str
    promisor: str | None = None


class Deadline:
    """An overall time budget shared by the git commands of one operation."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._end = time.monotonic() + seconds

    def remaining(self) -> float:
        return max(0.0, self._end - time.monotonic())


@dataclass(frozen=True)
class _Call:
    """One git command as asked for, before it becomes a process (again, when a network one is retried)."""

    args: t.Sequence[str | Remote]
    ok: t.Container[int]
    env: t.Mapping[str, str] | None
    summary: str
    network: bool
    data: str | None = None  # for stdin


@dataclass(frozen=True)
class _Invocation:
    """One process to start: what runs, what the error messages show of it (redacted), and what it may answer."""

    argv: list[str]
    shown: tuple[str, ...]
    env: dict[str, str]
    ok: t.Container[int] = (0,)
    summary: str = ""
    data: bytes | None = None  # for stdin
    cwd: str = "/"  # every path git gets is absolute; the module's folder may be closed to `owner`, or lie inside another repository


class GitRunner:
    """Runs git (and gpg) for one operation (one checkout), within one deadline.

    Use it as a context manager: the credential helper and any SSH key live in a
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
        origin: str | None = None,
    ) -> None:
        self.deadline = Deadline(timeout)
        self.access = access or RemoteAccess()
        self.run_as = run_as
        self.origin = origin  # the only origin (scheme://host:port) credentials are given to
        self.secrets = tuple(s for s in secrets if s) + self.access.secrets
        self.filters: frozenset[str] = frozenset()  # filter drivers a checkout's own config defines (see host_filters)
        self._files: PrivateDir | None = None
        self._helper: str | None = None
        self._env: dict[str, str] | None = None

    def __enter__(self) -> GitRunner:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        if self._files is not None:
            self._files.remove()
            self._files = None
        self._helper = self._env = None

    def redact(self, text: str) -> str:
        return redact_text(text, self.secrets)

    def run(
        self,
        args: t.Sequence[str | Remote],
        *,
        ok: t.Container[int] = (0,),
        env: t.Mapping[str, str] | None = None,
        summary: str = "",
        network: bool = False,
    ) -> GitResult:
        """Run ``git <args>``; raise GitCommandError unless the exit code is in ``ok``.

        A ``Remote`` in ``args`` becomes a random remote name whose URL is set on the command line.
        Only a ``network`` command may reach a transport: any other gets an empty allow-list, so that a partial
        clone's lazy fetch (a remote and its programs as the config files name them) can never start.
        A ``network`` command that fails for a transient reason (a refused or
        reset connection, an HTTP 5xx, ...) is tried again, ``access.retries``
        times, after 1, 2, 4... seconds, within the deadline; a permanent
        failure (authentication, not found) is not.
        """
        return self._retrying(_Call(args, ok, env, summary, network))

    def fetch_names(self, args: t.Sequence[str | Remote], names: t.Iterable[str], *, env: t.Mapping[str, str], summary: str) -> GitResult:
        """Run the network command ``git <args>`` (a ``fetch --stdin``) with ``names`` on its stdin, one per line:
        as many object names as a tree holds, more than a command line takes."""
        return self._retrying(_Call(args, (0,), env, summary, True, "".join(f"{name}\n" for name in names)))

    def _retrying(self, call: _Call) -> GitResult:
        attempt = 0
        while True:
            try:
                result = self._run_once(call)
                if call.network:
                    self._check_redirect(result, call.summary)
                return result
            except GitTimeout:
                raise
            except GitCommandError as error:
                pause = 2.0**attempt
                if not (call.network and attempt < self.access.retries and _transient(error.stderr) and self.deadline.remaining() > pause):
                    raise
            time.sleep(pause)
            attempt += 1

    def gpg(self, args: t.Sequence[str], data: str, *, summary: str) -> GitResult:
        """Run ``gpg --batch --no-tty <args>`` with ``data`` on stdin, as git runs (same user, deadline, watchdog)."""
        gpg = shutil.which("gpg")
        if gpg is None:
            raise InvalidOption("gpg_keys", "gpg is not installed on the managed host")
        argv = [gpg, "--batch", "--no-tty", "--quiet", *args]
        return self._execute(_Invocation(argv, ("gpg", *args), dict(self._environment()), summary=summary, data=data.encode()))

    def program(self, argv: t.Sequence[str], *, cwd: str, summary: str) -> GitResult:
        """Run a user's own command (``validate``) as git runs - same user, deadline and watchdog - in ``cwd``.

        It gets the host's environment less git's variables, and nothing of this runner's (no credential, no key);
        every exit code is returned, for the caller to judge.
        """
        env = {k: v for k, v in os.environ.items() if k not in _DROPPED_ENV and not k.startswith(_DROPPED_PREFIXES)}
        if self.run_as is not None:
            env.update(self.run_as.environment())
        shown = tuple(self.redact(word) for word in argv)
        return self._execute(_Invocation(list(argv), shown, env, ok=_ANY_EXIT, summary=summary, cwd=cwd))

    def _run_once(self, call: _Call) -> GitResult:
        drivers = self.filters | host_filters(self) if may_filter(call.args) else self.filters
        config = [*COMMAND_LINE_OVERRIDES, *filter_overrides(drivers), *self._limits()]
        words, shown = [], ["git"]
        for arg in call.args:
            if isinstance(arg, Remote):
                name = f"fleetops-gitops-{secrets.token_hex(8)}"
                config.append(f"remote.{name}.url={arg.url}")
                if is_local(arg.url):
                    config.append(f"remote.{name}.uploadpack={LOCAL_UPLOAD_PACK}")
                if arg.promisor:
                    config += [f"remote.{name}.promisor=true", f"remote.{name}.partialclonefilter={arg.promisor}"]
                words.append(name)
                shown.append(self.redact(arg.url))
            else:
                words.append(arg)
                shown.append(self.redact(arg))
        argv = [git_executable(), "--no-pager"]
        for item in config:
            argv += ["-c", item]
        environment = dict(self._environment(), FLEETOPS_GITOPS_ORIGIN=self.origin or "", **(call.env or {}))
        if not call.network:
            environment.update(GIT_ALLOW_PROTOCOL="", GIT_NO_LAZY_FETCH="1")  # no transport; a git that knows the variable does not try
        data = None if call.data is None else call.data.encode()
        return self._execute(_Invocation(argv + words, tuple(shown), environment, call.ok, call.summary, data))

    def _execute(self, command: _Invocation) -> GitResult:
        shown, data = command.shown, command.data
        summary = self.redact(command.summary)  # it may name the repository
        budget = self.deadline.remaining()
        if budget <= 0:
            raise GitTimeout(shown, None, f"not started: the {self.deadline.seconds:g} seconds of the timeout option were already used up", summary)
        watchdog = Watchdog.get()
        watchdog.starting()
        try:
            # Not AnsibleModule.run_command: this runner serves the Python API too, where there is no AnsibleModule,
            # and it needs what run_command lacks: a deadline, a session of git's own for the watchdog, the run-as user.
            proc = subprocess.Popen(  # noqa: S603 - argv list, no shell  # pylint: disable=ansible-bad-function
                command.argv,
                env={**command.env, MARK_VARIABLE: watchdog.mark},
                stdin=subprocess.DEVNULL if data is None else subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=command.cwd,
                start_new_session=True,
                **(self.run_as.popen_options() if self.run_as else {}),
            )
        except BaseException:
            watchdog.not_started()
            raise
        watchdog.watch(proc.pid)
        try:
            try:
                out, err = proc.communicate(data, timeout=budget)
            except subprocess.TimeoutExpired:
                _stop(proc)
                raise GitTimeout(
                    shown, None, f"no answer within the {self.deadline.seconds:g} seconds of the timeout option (git was stopped after {budget:.1f}s)", summary
                ) from None
        finally:
            watchdog.release(proc.pid)
        result = GitResult(shown, proc.returncode, _text(out), self.redact(_text(err)))
        if result.rc not in command.ok:
            raise GitCommandError(shown, result.rc, result.stderr, summary)
        return result

    def _check_redirect(self, result: GitResult, summary: str) -> None:
        """A redirect to another origin fails, unless ``follow_redirects`` is ``all``; credentials never go there."""
        if self.access.redirects != "same_origin" or self.origin is None:
            return
        for target in _REDIRECT.findall(result.stderr):
            if (origin_of(target) or "").lower() != self.origin.lower():
                raise GitCommandError(
                    result.args,
                    result.rc,
                    f"the server redirected to another origin, {self.redact(target)}; it was not followed "
                    "(no credential was sent there). Use that URL, or set follow_redirects: all",
                    summary,
                )

    def _limits(self) -> list[str]:
        low_speed_time = int(min(30, max(1, self.deadline.seconds / 2)))  # a stalled transfer fails well within the deadline
        limits = ["http.lowSpeedLimit=1000", f"http.lowSpeedTime={low_speed_time}"]
        if self.access.redirects == "none":
            limits.append("http.followRedirects=false")
        if self.access.password is not None:
            limits.append(f"credential.helper={shlex.quote(self._credential_helper())}")  # after the empty one: the only one
        return limits

    def environment(self) -> dict[str, str]:
        """What every git process of this runner starts with (built once: key files are written on first use)."""
        return self._environment()

    def _environment(self) -> dict[str, str]:
        """Built once per runner: the credential helper and key files are written on first use."""
        if self._env is not None:
            return self._env
        env = {k: v for k, v in os.environ.items() if k not in _DROPPED_ENV and not k.startswith(_DROPPED_PREFIXES)}
        access = self.access
        env.update(ENVIRONMENT_OVERRIDES)
        env.update(
            LC_ALL="C",
            LANG="C",
            GIT_TERMINAL_PROMPT="0",
            GIT_ASKPASS=_refuse(),
            GIT_ALLOW_PROTOCOL=":".join(access.transports),
            GIT_SSH_COMMAND=access.ssh_command(
                self.files().write("id", access.ssh_key.rstrip("\n") + "\n") if access.ssh_key else None,
                self.files().write("known_hosts", access.known_hosts.rstrip("\n") + "\n") if access.known_hosts else None,
                int(min(30, max(1, self.deadline.seconds))),
            ),
        )
        if self.run_as is not None:
            env.update(self.run_as.environment())
        if access.password is not None:
            env.update(FLEETOPS_GITOPS_USERNAME=access.username or "", FLEETOPS_GITOPS_PASSWORD=access.password)
        self._env = env
        return env

    def _credential_helper(self) -> str:
        if self._helper is None:
            self._helper = self.files().write("credential-helper", _CREDENTIAL_HELPER, 0o700)
        return self._helper

    def files(self) -> PrivateDir:
        """This runner's private folder (made on first use), for what git must read from a file."""
        if self._files is None:
            self._files = self.private_dir()
        return self._files

    def private_dir(self) -> PrivateDir:
        """A new private temporary folder that git (as ``run_as``, if set) can use; the caller removes it."""
        return PrivateDir(self.run_as.ids if self.run_as else None)


def runner_for(url: RepoUrl | None, timeout: float, run_as: RunAs | None = None, access: RemoteAccess | None = None) -> GitRunner:
    """A runner that can reach ``url`` as ``access`` says, and masks its secrets."""
    access = access or RemoteAccess()
    if url is None:
        return GitRunner(timeout=timeout, access=access, run_as=run_as)
    return GitRunner(timeout=timeout, access=access.for_url(url), secrets=url.secrets, run_as=run_as, origin=origin_of(url.clean))


def git_executable() -> str:
    """The git on PATH; a batch checks it once up front, so that a host without git fails once, not per item."""
    git = shutil.which("git")
    if git is None:
        raise GitNotFound("git is not installed or not on PATH of the managed host; install git first")
    return git


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
