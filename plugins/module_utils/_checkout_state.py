# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private: what is on disk at a checkout path, read with one git process (two for an unusual config), writing nothing."""

from __future__ import annotations

import os
import pwd
import re
from dataclasses import dataclass, field, replace

from ansible_collections.fleetops.gitops.plugins.module_utils._config_file import PlainConfig, config_bool, partial_filter, read_plain_config
from ansible_collections.fleetops.gitops.plugins.module_utils._errors import CorruptCheckout, DestinationError, GitCommandError, GitOpsError
from ansible_collections.fleetops.gitops.plugins.module_utils._git import GitRunner
from ansible_collections.fleetops.gitops.plugins.module_utils._host_filters import drivers_in
from ansible_collections.fleetops.gitops.plugins.module_utils._sparse import Sparse, read_sparse
from ansible_collections.fleetops.gitops.plugins.module_utils._text import strip_prefix


@dataclass(frozen=True)
class LocalChanges:
    """Work that a hard reset would remove: tracked files changed (staged or not) and untracked files.

    ``nested`` repositories (untracked folders with a .git of their own) are listed but are no change: the reset
    leaves them where they are, as it leaves ignored files.
    """

    modified: tuple[str, ...] = ()
    untracked: tuple[str, ...] = ()
    nested: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.modified or self.untracked)

    def to_dict(self) -> dict[str, list[str]]:
        return {"modified": list(self.modified), "untracked": list(self.untracked)}


@dataclass(frozen=True)
class CheckoutState:
    """A checkout as found: ``head`` is None when unborn, ``branch`` is None when detached."""

    path: str
    exists: bool = False
    empty: bool = False
    is_checkout: bool = False
    head: str | None = None
    branch: str | None = None
    upstream: str | None = None
    remote_url: str | None = None
    changes: LocalChanges = field(default_factory=LocalChanges)
    problem: str = ""
    sparse: Sparse = field(default_factory=Sparse)
    partial: str | None = None  # the partial clone filter of its remote; None: a full clone

    @property
    def git_dir(self) -> str | None:
        return git_dir(self.path) if self.is_checkout else None


def git_dir(path: str) -> str | None:
    """The checkout's git directory, following a ``.git`` file (``gitdir: ...``) as git does."""
    dot_git = os.path.join(path, ".git")
    if os.path.isdir(dot_git):
        return dot_git
    try:
        fd = os.open(dot_git, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    with os.fdopen(fd, encoding="utf-8", errors="replace") as handle:
        first = handle.readline(4096).strip()
    if not first.startswith("gitdir:"):
        return None
    target = strip_prefix(first, "gitdir:").strip()
    return os.path.normpath(os.path.join(path, target))


def read_checkout_state(git: GitRunner, path: str, remote: str, owner: int | None = None) -> CheckoutState:
    """Read ``path`` without writing anything (``--no-optional-locks`` keeps the index untouched).

    A missing path, a file, or a folder without ``.git`` is described, not raised;
    git failures other than "not a repository" are raised. ``owner``: whose the sparse-checkout file must be.
    """
    if not os.path.lexists(path):
        return CheckoutState(path)
    if not os.path.isdir(path):
        return CheckoutState(path, exists=True, problem="is not a directory")
    directory = git_dir(path)
    if directory is None:
        empty = not os.listdir(path)
        return CheckoutState(path, exists=True, empty=empty, problem="" if empty else "is not a git checkout")
    plain = read_plain_config(directory, remote)
    if plain is not None:
        git.filters |= plain.filters  # before the first command that may run a filter: status
    try:
        config = plain or config_from_git(git, path, remote)  # a .git file that points nowhere is "not a git repository" here
        status = _status(git, path)
    except GitCommandError as error:
        if "not a git repository" in error.stderr:
            return CheckoutState(path, exists=True, problem=f"is not a git checkout ({error.stderr.strip()})")
        if "dubious ownership" in error.stderr:
            raise _foreign_owner(path) from None
        raise
    url = config.remote_url
    if url is None and plain is not None:
        url = git.run(["-C", path, "config", "--get", "--", f"remote.{remote}.url"], ok=(0, 1)).stdout.strip()
    found = _parse_status(path, status, url or None)
    return replace(found, sparse=read_sparse(directory, config.sparse, config.cone, owner), partial=config.partial)


def read_release_state(git: GitRunner, path: str) -> CheckoutState:
    """A release of the release layout, read with one ``git status`` (see ``read_checkout_state``): its repository and
    remote are the layout's shared repository, whose config the caller has read already."""
    try:
        return _parse_status(path, _status(git, path), None)
    except GitCommandError as error:
        if "dubious ownership" in error.stderr:
            raise _foreign_owner(path) from None
        raise


def _status(git: GitRunner, path: str) -> str:
    return git.run(
        [
            "--no-optional-locks",
            "-C",
            path,
            "status",
            "--porcelain=v2",
            "--branch",
            "-z",
            "--untracked-files=all",
            "--no-ahead-behind",
            "--no-renames",
            "--ignore-submodules=all",
        ],
        summary=f"cannot read the checkout at {path}",
    ).stdout


def config_from_git(git: GitRunner, path: str, remote: str) -> PlainConfig:
    """The remote's URL and partial clone filter, the filter drivers and the sparse checkout's flags, as git reads
    them (every file, includes followed); one ``git config``.

    ``git config`` itself runs no program. Its answer sets the filter overrides of every later command.
    """
    keys = rf"^(remote\.{re.escape(remote)}\.(url|promisor|partialclonefilter)|filter\..*|core\.sparsecheckout(cone)?)$"
    out = git.run(
        ["-C", path, "config", "--null", "--get-regexp", "--", keys],
        ok=(0, 1),
        summary=f"cannot read the git config of {path}",
    ).stdout
    url, names, spec = None, [], None
    flags = {"core.sparsecheckout": False, "core.sparsecheckoutcone": False, "promisor": False}
    for entry in filter(None, out.split("\0")):
        name, newline, value = entry.partition("\n")
        key = name.lower()
        if key == f"remote.{remote.lower()}.url":
            url = value  # the last one wins, as with git config --get
        elif key == f"remote.{remote.lower()}.partialclonefilter":
            spec = value
        elif key == f"remote.{remote.lower()}.promisor":
            flags["promisor"] = bool(config_bool(value if newline else None))
        elif key in flags:
            flags[key] = bool(config_bool(value if newline else None))
        else:
            names.append(name)
    git.filters |= drivers_in(names)
    return PlainConfig(url, frozenset(), flags["core.sparsecheckout"], flags["core.sparsecheckoutcone"], partial_filter(flags["promisor"], spec))


_DAMAGE = re.compile(
    r"corrupt|bad object|unable to read|missing (blob|tree|commit)|index file smaller than expected"
    r"|bad signature 0x|bad index file|invalid object|loose object .* is corrupt|not a valid object name HEAD",
    re.IGNORECASE,
)


def corrupt_or(error: GitCommandError, path: str) -> GitOpsError:
    """The error to raise: a clear 'damaged checkout' one when git says it cannot read its objects or index."""
    if _DAMAGE.search(error.stderr):
        return CorruptCheckout(path, error.stderr)
    return error


def _foreign_owner(path: str) -> DestinationError:
    """git refuses a repository that another user owns; say whose it is and what to set."""
    owner = _user_name(os.stat(path).st_uid)
    return DestinationError(
        "owner",
        f"{path} belongs to {owner} while git runs as {_user_name(os.geteuid())}, and git refuses to work in "
        f"another user's checkout: set owner: {owner} so that git runs as the checkout's owner",
    )


def _user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


# porcelain v2: ordinary, renamed and unmerged entries carry 8, 9 and 10 fields before the path
_FIELDS_BEFORE_PATH = {"1 ": 8, "2 ": 9, "u ": 10}


def _parse_status(path: str, status: str, remote_url: str | None) -> CheckoutState:
    head = branch = upstream = None
    modified: list[str] = []
    untracked: list[str] = []
    nested: list[str] = []
    records = iter(status.split("\0"))
    for record in records:
        if record.startswith("# branch.oid "):
            oid = strip_prefix(record, "# branch.oid ")
            head = None if oid == "(initial)" else oid
        elif record.startswith("# branch.head "):
            name = strip_prefix(record, "# branch.head ")
            branch = None if name == "(detached)" else name
        elif record.startswith("# branch.upstream "):
            upstream = strip_prefix(record, "# branch.upstream ")
        elif record.startswith("? "):
            (nested if record.endswith("/") else untracked).append(record[2:])  # "dir/": a nested repository
        elif record[:2] in _FIELDS_BEFORE_PATH:
            modified.append(record.split(" ", _FIELDS_BEFORE_PATH[record[:2]])[-1])
            if record[0] == "2":
                next(records, None)  # a rename's original path is a record of its own
    return CheckoutState(
        path,
        exists=True,
        is_checkout=True,
        head=head,
        branch=branch,
        upstream=upstream,
        remote_url=remote_url,
        changes=LocalChanges(tuple(modified), tuple(untracked), tuple(nested)),
    )
