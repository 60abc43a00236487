# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private: repository URLs - which transport, which secret they carry, how to show them safely."""

from __future__ import annotations

import os
import re
import typing as t
from dataclasses import dataclass

from ansible_collections.fleetops.gitops.plugins.module_utils._errors import InvalidOption

MASK = "********"

# The transports git itself is allowed to use (GIT_ALLOW_PROTOCOL); ext::, fd:: and the rest never.
TRANSPORTS = ("https", "ssh", "git", "file")

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_HELPER = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)::")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# user[:password]@ right after a scheme, anywhere in free text (git's stderr, messages).
_USERINFO_IN_TEXT = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^/@\s:'\"]*)(?::(?P<password>[^/@\s'\"]*))?@")


def reject_control_characters(option: str, value: str) -> None:
    """CR, LF, NUL and friends would split git config lines or argv; refuse them everywhere."""
    if _CONTROL.search(value):
        raise InvalidOption(option, "must not contain control characters (CR, LF, NUL, ...)")


def reject_option_like(option: str, value: str) -> None:
    """A value starting with '-' would be read by git as an option (argument injection)."""
    if value.startswith("-"):
        raise InvalidOption(option, f"must not start with '-' (got '{redact_text(value)}'): it would be read as a git option")


@dataclass(frozen=True)
class Credentials:
    """What git may ask for over https; handed over by askpass, never in a URL, argv or config."""

    username: str | None = None
    password: str | None = None


@dataclass(frozen=True)
class RepoUrl:
    """A repository address split into what git may see, what may be shown, and the secret.

    ``clean`` goes to git and into ``.git/config``; ``display`` goes into output;
    ``username``/``password`` reach git only through the askpass program.
    """

    raw: str
    transport: str
    clean: str
    display: str
    username: str | None = None
    password: str | None = None

    @property
    def secrets(self) -> tuple[str, ...]:
        """Values that must never appear in output."""
        return secrets_in(self.raw)

    @property
    def credentials(self) -> Credentials | None:
        """The secret part of the URL, for askpass; None when the URL carries none."""
        if self.password is not None or (self.transport == "https" and self.username and self.clean != self.raw):
            return Credentials(self.username, self.password or "")
        return None

    def same_repository(self, other: str) -> bool:
        """True when ``other`` (e.g. a checkout's configured URL) names the same repository."""
        return _comparable(self.clean) == _comparable(parse_repo_url(other, "remote URL").clean)


def parse_repo_url(value: str, option: str = "repo") -> RepoUrl:
    """Validate ``value`` and split credentials out of it.

    Raises InvalidOption for option-like values, control characters and
    transports outside TRANSPORTS (``ext::``, ``fd::``, plain ``http``...).
    """
    reject_control_characters(option, value)
    reject_option_like(option, value)
    if not value.strip():
        raise InvalidOption(option, "must not be empty")

    helper = _HELPER.match(value)
    if helper:
        raise InvalidOption(option, f"the '{helper.group(1)}::' transport is not allowed; use one of {', '.join(TRANSPORTS)} or a local path")

    scheme = _SCHEME.match(value)
    if scheme:
        return _parse_scheme_url(value, scheme.group(1).lower(), option)
    if _is_scp_like(value):
        return _parse_scp_like(value, option)
    return RepoUrl(raw=value, transport="file", clean=value, display=value)


def _parse_scheme_url(value: str, scheme: str, option: str) -> RepoUrl:
    transport = {"git+ssh": "ssh", "ssh+git": "ssh"}.get(scheme, scheme)
    if transport not in TRANSPORTS:
        raise InvalidOption(option, f"the '{scheme}' transport is not allowed; use one of {', '.join(TRANSPORTS)} or a local path")
    rest = value[len(scheme) + 3:]
    authority, slash, path = rest.partition("/")
    userinfo, at, hostport = authority.rpartition("@")
    if hostport.startswith("-"):
        raise InvalidOption(option, "the host must not start with '-': it would be read as an ssh option")
    prefix = value[: len(scheme) + 3]
    if not at:
        return RepoUrl(raw=value, transport=transport, clean=value, display=value)
    user, colon, password = userinfo.partition(":")
    tail = f"{hostport}{slash}{path}"
    if colon:
        return RepoUrl(
            raw=value, transport=transport, clean=f"{prefix}{user}@{tail}",
            display=f"{prefix}{user}:{MASK}@{tail}", username=user or None, password=password,
        )
    if transport == "https":
        # token-only userinfo: the token must not reach .git/config, so git gets the URL without it
        return RepoUrl(
            raw=value, transport=transport, clean=f"{prefix}{tail}",
            display=f"{prefix}{MASK}@{tail}", username=user or None,
        )
    return RepoUrl(raw=value, transport=transport, clean=value, display=value, username=user or None)


def _is_scp_like(value: str) -> bool:
    """git's own rule: a colon before the first slash, and not a Windows drive letter."""
    colon = value.find(":")
    slash = value.find("/")
    return colon > 1 and (slash == -1 or colon < slash)


def _parse_scp_like(value: str, option: str) -> RepoUrl:
    at = value.find("@")
    slash = value.find("/")
    userinfo, rest = (value[:at], value[at + 1:]) if at != -1 and (slash == -1 or at < slash) else ("", value)
    host, _colon, path = rest.partition(":")
    if host.startswith("-"):
        raise InvalidOption(option, "the host must not start with '-': it would be read as an ssh option")
    user, colon, password = userinfo.partition(":")
    if colon:
        return RepoUrl(
            raw=value, transport="ssh", clean=f"{user}@{host}:{path}",
            display=f"{user}:{MASK}@{host}:{path}", username=user or None, password=password,
        )
    return RepoUrl(raw=value, transport="ssh", clean=value, display=value, username=user or None)


def _comparable(url: str) -> tuple[str, str, str]:
    """Reduce a clean URL to (transport, host, path) for equality, ignoring userinfo and '.git'."""
    scheme = _SCHEME.match(url)
    if scheme:
        transport = scheme.group(1).lower()
        authority, _slash, path = url[len(scheme.group(0)):].partition("/")
        host = authority.rpartition("@")[2].lower()
        if transport == "file":
            return ("file", "", _local_path(path if path.startswith("/") else "/" + path))
        return (transport, host, _strip_suffixes(path))
    if _is_scp_like(url):
        authority, _sep, path = url.partition(":")
        return ("ssh", authority.rpartition("@")[2].lower(), _strip_suffixes(path))
    return ("file", "", _local_path(url))


def _strip_suffixes(path: str) -> str:
    path = path.rstrip("/")
    return path[:-4] if path.endswith(".git") else path


def _local_path(path: str) -> str:
    return _strip_suffixes(os.path.realpath(os.path.expanduser(path)))


def secrets_in(value: str) -> tuple[str, ...]:
    """Every credential in a URL, found without validating it, so even a refused URL can be masked."""
    found = []
    for match in _USERINFO_IN_TEXT.finditer(value):
        if match.group("password"):
            found.append(match.group("password"))
        elif match.group("scheme").lower().startswith("http") and match.group("user"):
            found.append(match.group("user"))  # token-only userinfo
    if "://" not in value and "@" in value:
        userinfo = value[: value.find("@")]
        if ":" in userinfo and "/" not in userinfo:
            found.append(userinfo.split(":", 1)[1])  # scp-like user:password@host:path
    return tuple(s for s in found if s)


def redact_text(text: str, secrets: t.Iterable[str] = ()) -> str:
    """Mask every credential in ``text``: the known ``secrets`` and any userinfo in URLs.

    Passwords in ``user:password@`` are masked for every scheme; a lone
    userinfo is masked for http(s), where it is a token, and kept for ssh/git
    (a login name such as ``git``).
    """
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, MASK)

    def _mask(match: t.Match[str]) -> str:
        scheme, user, password = match.group("scheme"), match.group("user"), match.group("password")
        if password is not None:
            return f"{scheme}{user}:{MASK}@"
        if scheme.lower().startswith("http"):
            return f"{scheme}{MASK}@"
        return match.group(0)

    return _USERINFO_IN_TEXT.sub(_mask, text)
