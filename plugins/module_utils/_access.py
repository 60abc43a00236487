# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private: how git may reach remotes - transports, credentials, SSH identity and host keys, retries."""

from __future__ import annotations

import shlex
import typing as t
from dataclasses import dataclass, replace

from ansible_collections.fleetops.gitops.plugins.module_utils._errors import InvalidOption
from ansible_collections.fleetops.gitops.plugins.module_utils._url import TRANSPORTS, RepoUrl, reject_control_characters

DEFAULT_RETRIES = 2
DEFAULT_TOKEN_USERNAME = "x-access-token"
# same_origin: redirects within the origin of the URL are followed, to another origin refused; all: followed
# (credentials still go to the URL's origin only); none: not followed at all.
REDIRECTS = ("same_origin", "all", "none")


@dataclass(frozen=True)
class RemoteAccess:
    """Everything about reaching a remote that is not the URL itself.

    Secrets (``password``, ``ssh_key``) reach git only through askpass and a
    0600 key file in a private temporary folder; never through argv, a URL or
    ``.git/config``.
    """

    transports: tuple[str, ...] = TRANSPORTS
    username: str | None = None
    password: str | None = None
    ssh_key: str | None = None
    known_hosts: str | None = None
    accept_new_hostkey: bool = False
    retries: int = DEFAULT_RETRIES
    redirects: str = "same_origin"

    def __post_init__(self) -> None:
        unknown = [name for name in self.transports if name not in TRANSPORTS]
        if unknown or not self.transports:
            raise InvalidOption("allowed_transports", f"must be a non-empty subset of {', '.join(TRANSPORTS)}, not {list(self.transports)}")
        if self.username:
            reject_control_characters("username", self.username)
        if self.password:
            reject_control_characters("password", self.password)  # a newline would be a line of the credential protocol
        if self.retries < 0:
            raise InvalidOption("retries", f"must be 0 or more, not {self.retries}")
        if self.redirects not in REDIRECTS:
            raise InvalidOption("follow_redirects", f"must be one of {', '.join(REDIRECTS)}, not '{self.redirects}'")
        if self.ssh_key is not None and "PRIVATE KEY" not in self.ssh_key:
            raise InvalidOption("ssh_key", "must be the text of a private key (-----BEGIN ... PRIVATE KEY-----), not a path")

    @classmethod
    def from_params(cls, params: t.Mapping[str, t.Any]) -> RemoteAccess:
        """The module options that say how to reach a remote (others in ``params`` are not looked at).

        A ``token`` is a password with a default user name, so the two are exclusive.
        """
        password, token = params.get("password"), params.get("token")
        if password and token:
            raise InvalidOption("token", "give either password or token, not both")
        if token:
            reject_control_characters("token", token)
        transports, retries = params.get("allowed_transports"), params.get("retries")
        return cls(
            transports=TRANSPORTS if transports is None else tuple(transports),
            username=params.get("username") or (DEFAULT_TOKEN_USERNAME if token else None),
            password=password or token or None,  # an empty one is none: it must not hide a password in the URL
            ssh_key=params.get("ssh_key"),
            known_hosts=params.get("known_hosts"),
            accept_new_hostkey=bool(params.get("accept_newhostkey")),
            retries=DEFAULT_RETRIES if retries is None else retries,
            redirects=params.get("follow_redirects") or "same_origin",
        )

    def for_url(self, url: RepoUrl) -> RemoteAccess:
        """This access, refusing a transport not allowed; what the options do not say is taken from the URL.

        The ``username`` option wins over a user name in the URL, a ``password``/``token`` over a password in it. In
        ``https://TOKEN@host/...`` the one word is the token: with a ``username`` option it is that user's password.
        """
        if url.transport not in self.transports:
            raise InvalidOption("repo", f"the '{url.transport}' transport is not in allowed_transports ({', '.join(self.transports)})")
        credentials = url.credentials
        from_url = credentials.password if credentials else None
        if credentials is not None and url.password is None and self.username:
            from_url = credentials.username  # the token of a token-only URL
        password = self.password if self.password is not None else from_url
        return replace(self, username=self.username or url.username, password=password)

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self.password, self.ssh_key) if s)

    def ssh_command(self, key_file: str | None, known_hosts_file: str | None, connect_timeout: int) -> str:
        """GIT_SSH_COMMAND: no prompts, strict host keys unless accept-new was chosen, our key only when given.

        It outranks core.sshCommand in any config file; the paths are ours and quoted.
        """
        parts = [
            "ssh",
            "-o",
            "BatchMode=yes",
            "-o",
            f"ConnectTimeout={connect_timeout}",
            "-o",
            f"StrictHostKeyChecking={'accept-new' if self.accept_new_hostkey else 'yes'}",
        ]
        if known_hosts_file:
            parts += ["-o", f"UserKnownHostsFile={known_hosts_file}", "-o", "GlobalKnownHostsFile=/dev/null"]
        if key_file:
            parts += ["-i", key_file, "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none"]
        return " ".join(shlex.quote(part) for part in parts)
