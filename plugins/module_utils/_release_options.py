# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private: how a checkout is laid out on disk - in place (``checkout``), or as releases behind a link (``releases``).

Part of ``SyncOptions``; validated here, once, so that a bad value fails before any git runs.
"""

from __future__ import annotations

import os
import shlex
import typing as t
from dataclasses import dataclass

from ansible_collections.fleetops.gitops.plugins.module_utils._errors import InvalidOption
from ansible_collections.fleetops.gitops.plugins.module_utils._url import reject_control_characters

LAYOUTS = ("checkout", "releases")
DEFAULT_KEEP_RELEASES = 5
_RESERVED = (".git",)


@dataclass(frozen=True)
class ReleasePolicy:
    """The release layout's options (all but ``layout`` ignored with ``layout="checkout"``).

    ``validate`` is run in each new release before it is published: ``%s`` is its path. Split into argv as a shell
    would split it but run without one, unless ``validate_shell``. ``shared_paths`` are relative paths inside each
    release that are links into the shared folder, the same for every release.
    """

    layout: str = "checkout"
    releases_dir: str | None = None
    validate: str | None = None
    validate_shell: bool = False
    shared_paths: tuple[str, ...] = ()
    keep_releases: int = DEFAULT_KEEP_RELEASES

    def __post_init__(self) -> None:
        if self.layout not in LAYOUTS:
            raise InvalidOption("layout", f"must be one of {', '.join(LAYOUTS)}, not '{self.layout}'")
        if self.keep_releases < 2:
            raise InvalidOption("keep_releases", f"must be 2 or more (the current release and the one a rollback returns to), not {self.keep_releases}")
        if self.releases_dir is not None:
            reject_control_characters("releases_dir", self.releases_dir)
            if not os.path.isabs(self.releases_dir):
                raise InvalidOption("releases_dir", f"must be an absolute path, not '{self.releases_dir}'")
        if self.validate is not None:
            reject_control_characters("validate", self.validate)
            if not self.validate.strip():
                raise InvalidOption("validate", "must not be empty")
            if not self.validate_shell:
                try:
                    shlex.split(self.validate)
                except ValueError as error:
                    raise InvalidOption("validate", f"cannot be split into a command and its arguments ({error})") from None
        for path in self.shared_paths:
            _check_shared_path(path)

    @property
    def releases(self) -> bool:
        return self.layout == "releases"

    @classmethod
    def from_params(cls, params: t.Mapping[str, t.Any]) -> ReleasePolicy:
        given = {name: params[name] for name in ("layout", "releases_dir", "validate", "validate_shell", "keep_releases") if params.get(name) is not None}
        return cls(**given, shared_paths=tuple(os.path.normpath(path) for path in params.get("shared_paths") or ()))

    def validate_argv(self, release: str) -> list[str] | None:
        """The validation command for ``release``, as argv; None when there is none."""
        if self.validate is None:
            return None
        if self.validate_shell:
            return ["/bin/sh", "-c", self.validate.replace("%s", shlex.quote(release))]
        return [word.replace("%s", release) for word in shlex.split(self.validate)]


def _check_shared_path(path: str) -> None:
    reject_control_characters("shared_paths", path)
    parts = path.split("/")
    if not path or path.startswith("/") or any(part in ("", ".", "..") for part in parts) or parts[0] in _RESERVED:
        raise InvalidOption("shared_paths", f"'{path}' must be a relative path inside the release, without '..', and not .git")
