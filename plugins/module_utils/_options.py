# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private: the options of one checkout's sync (and drift report), typed, defaulted and validated in one place.

Built once - from a module's parameters (``from_params``) or by a Python caller - and passed whole. The
defaults here are the modules' defaults: the argument specs take theirs from the same constants.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, fields

from ansible_collections.fleetops.gitops.plugins.module_utils._access import RemoteAccess
from ansible_collections.fleetops.gitops.plugins.module_utils._errors import InvalidOption
from ansible_collections.fleetops.gitops.plugins.module_utils._git import DEFAULT_TIMEOUT
from ansible_collections.fleetops.gitops.plugins.module_utils._locks import DEFAULT_LOCK_TIMEOUT
from ansible_collections.fleetops.gitops.plugins.module_utils._partial import filter_spec
from ansible_collections.fleetops.gitops.plugins.module_utils._refs import is_commit_sha, validate_remote_name
from ansible_collections.fleetops.gitops.plugins.module_utils._release_options import ReleasePolicy
from ansible_collections.fleetops.gitops.plugins.module_utils._signatures import SignaturePolicy
from ansible_collections.fleetops.gitops.plugins.module_utils._sparse import cone_folders

LOCAL_CHANGES = ("backup", "discard", "fail")
ON_REWRITE = ("follow", "fail")
COMPARE_TO = ("remote", "local")
_COMPOUND = ("access", "signatures", "releases", "mode")  # built from several parameters, or parsed
HEAD_TIMEOUT = 10.0  # the spec's deadline for reading the desired revision: the Python drift API's default timeout


@dataclass(frozen=True)
class SyncOptions:
    """How one checkout is kept in step with its repository."""

    remote: str = "origin"
    depth: int | None = None
    local_changes: str = "backup"
    on_rewrite: str = "follow"
    timeout: float = DEFAULT_TIMEOUT
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT  # 0: do not wait for another run
    owner: str | None = None
    group: str | None = None
    mode: int | None = None
    keep_backups: int | None = None  # None: every backup ref is kept
    backup_max_age: int | None = None  # days
    sparse: tuple[str, ...] | None = None  # cone mode's folders; None: the whole tree
    filter: str | None = None  # a partial clone's filter (blob:none, tree:0, blob:limit=<n>); None: a full clone
    submodules: bool = False  # keep every submodule (recursively) at the commit the superproject records
    access: RemoteAccess = RemoteAccess()
    signatures: SignaturePolicy = SignaturePolicy()
    releases: ReleasePolicy = ReleasePolicy()

    def __post_init__(self) -> None:
        validate_remote_name("remote", self.remote)
        if self.depth is not None and self.depth < 1:
            raise InvalidOption("depth", f"must be a positive number of commits, not {self.depth}")
        _choice("local_changes", self.local_changes, LOCAL_CHANGES)
        _choice("on_rewrite", self.on_rewrite, ON_REWRITE)
        if self.timeout <= 0:
            raise InvalidOption("timeout", f"must be a positive number of seconds, not {self.timeout}")
        if self.lock_timeout < 0:
            raise InvalidOption("lock_timeout", f"must be 0 or more seconds, not {self.lock_timeout}")
        for name in ("keep_backups", "backup_max_age"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise InvalidOption(name, f"must be 1 or more, not {getattr(self, name)}; leave it unset to keep every backup")
        if self.mode is not None and not 0 <= self.mode <= 0o7777:
            raise InvalidOption("mode", f"must be a permission mode such as 0750, not {self.mode:o}")
        object.__setattr__(self, "sparse", cone_folders("sparse", self.sparse))  # a list given, kept as git keeps it
        if self.sparse is not None and self.releases.releases:
            raise InvalidOption("sparse", "works with layout: checkout only; the release layout makes whole trees")
        object.__setattr__(self, "filter", filter_spec("filter", self.filter))
        if self.submodules and self.releases.releases:
            raise InvalidOption("submodules", "works with layout: checkout only; the release layout does not recurse into submodules")

    @classmethod
    def from_params(cls, params: t.Mapping[str, t.Any]) -> SyncOptions:
        """The options of one checkout, from the module's parameters (of the single form, or of one item).

        A parameter left unset (None) takes the default here, so ``lock_timeout: 0`` stays 0.
        """
        given = {name: params[name] for name in SyncOptions.field_names() if name not in _COMPOUND and params.get(name) is not None}
        return SyncOptions(
            **given,
            mode=parse_mode(params.get("mode")),
            access=RemoteAccess.from_params(params),
            signatures=SignaturePolicy.from_params(params),
            releases=ReleasePolicy.from_params(params),
        )

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(field.name for field in fields(cls))

    def as_kwargs(self) -> dict[str, t.Any]:
        """The sync options as keyword arguments (for a subclass built from them)."""
        return {name: getattr(self, name) for name in SyncOptions.field_names()}


@dataclass(frozen=True)
class DriftOptions(SyncOptions):
    """A drift report's options besides those of the sync its reconcile runs.

    The desired revision comes from the remote (``compare_to="remote"``: ``repo_url``, else the checkout's own
    remote) for the modules and the Python API alike; ``"local"`` reads the local branch with no network.
    ``revision`` is one resolved elsewhere (a controller pin). The Python API's ``timeout`` defaults to the spec's
    10 seconds; the modules' ``timeout`` option gives its own.
    """

    timeout: float = HEAD_TIMEOUT
    compare_to: str = "remote"
    repo_url: str | None = None
    revision: str | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        _choice("compare_to", self.compare_to, COMPARE_TO)
        if self.revision is not None and not is_commit_sha(self.revision):
            raise InvalidOption("revision", f"must be a full commit SHA, not '{self.revision}'")

    @classmethod
    def from_params(cls, params: t.Mapping[str, t.Any]) -> DriftOptions:
        """The options of one drift report, from gitops_drift's parameters (of the single form, or of one item)."""
        sync = SyncOptions.from_params(params)
        return cls(**sync.as_kwargs(), compare_to=params.get("compare_to") or "remote", repo_url=params.get("repo"), revision=params.get("revision"))

    def sync_options(self) -> SyncOptions:
        """The options of the sync a reconcile runs."""
        return SyncOptions(**self.as_kwargs())


def parse_mode(value: t.Any) -> int | None:
    """A folder mode as Ansible users write it: '0750' or '750' (octal text), or an int already converted."""
    if value is None or isinstance(value, int):
        return value
    text = str(value)
    if not text.isdigit() or any(digit in "89" for digit in text) or len(text) > 5:
        raise InvalidOption("mode", f"must be an octal mode such as '0750', not '{text}'")
    return int(text, 8)


def _choice(option: str, value: str, choices: t.Sequence[str]) -> None:
    if value not in choices:
        raise InvalidOption(option, f"must be one of {', '.join(choices)}, not '{value}'")
