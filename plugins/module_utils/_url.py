# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private: repository URLs - which transport, which secret they carry, how to show them safely."""

from __future__ import annotations

import os
import re
import typing as t
from dataclasses import dataclass
from urllib.parse import unquote

from ansible_collections.fleetops.gitops.plugins.module_utils._errors import InvalidOption

MASK = "********"

# The transports git itself is allowed to use (GIT_ALLOW_PROTOCOL); ext::, fd:: and the rest never.
TRANSPORTS = ("https", "ssh", "git", "file")

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_HELPER = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)::")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_HOST = re.compile(r"^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~%-]+)(?::\d*)?$")  # host[:port] as a URL's authority ends
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

    @property
    def public(self) -> str:
        """The address with no credential in it, for what is shown as it is (reports): ``clean`` without the user name
        of an https URL (a credential there, for basic auth); an ssh login name (``git@``) is part of the address."""
        if self.transport != "https":
            return self.clean
        split = _split_userinfo(self.clean, "https")
        return split.prefix + split.tail

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


@dataclass(frozen=True)
class _Userinfo:
    """How a URL splits around its userinfo: ``prefix`` (``scheme://``), ``userinfo`` (None when absent), ``tail``.

    ``ambiguous`` marks an https/ssh URL whose password holds an unencoded '/' (its '@' comes after the path's
    first '/'): read either way it could leak, so it is refused, and the generous reading is masked.
    """

    prefix: str
    userinfo: str | None
    tail: str
    ambiguous: bool = False


def _split_userinfo(value: str, scheme: str) -> _Userinfo:
    """The userinfo of ``scheme://userinfo@host/path``: up to the last '@' before the first '/' after the scheme.

    The last '@' rather than the first, so that a password may hold '@'; '?', '#', ':' and quotes stay in it
    too. When that reading leaves no valid host, or finds none while a later '@' follows what cannot be a port,
    the password must hold an unencoded '/': the URL is ``ambiguous`` and read up to the last '@' of all.
    """
    start = len(scheme) + 3
    prefix, rest = value[:start], value[start:]
    authority = rest.split("/", 1)[0]
    at = authority.rfind("@")
    later = rest.rfind("@")
    if at != -1 and (_HOST.match(authority.rpartition("@")[2]) or later == at):
        return _Userinfo(prefix, *_around(rest, at))
    if later != -1 and (at != -1 or (":" in authority and not authority.rpartition(":")[2].isdigit())):
        return _Userinfo(prefix, *_around(rest, later), ambiguous=True)
    return _Userinfo(prefix, None, rest)


def _around(text: str, index: int) -> tuple[str, str]:
    """What comes before and after the character at ``index`` of ``text``."""
    after = index + 1
    return text[:index], text[after:]


def _parse_scheme_url(value: str, scheme: str, option: str) -> RepoUrl:
    transport = {"git+ssh": "ssh", "ssh+git": "ssh"}.get(scheme, scheme)
    if transport not in TRANSPORTS:
        raise InvalidOption(option, f"the '{scheme}' transport is not allowed; use one of {', '.join(TRANSPORTS)} or a local path")
    split = _split_userinfo(value, scheme)
    if split.ambiguous:
        raise InvalidOption(
            option,
            "the URL cannot be read one way only (a password with '/' in it?): percent-encode '/' as %2F in the password, or give it with the password option",
        )
    if split.tail.split("/", 1)[0].startswith("-"):
        raise InvalidOption(option, "the host must not start with '-': it would be read as an ssh option")
    prefix, userinfo, tail = split.prefix, split.userinfo, split.tail
    if userinfo is None:
        return RepoUrl(raw=value, transport=transport, clean=value, display=value)
    user, colon, password = userinfo.partition(":")
    if colon:
        clean, display, secret = f"{prefix}{user}@{tail}", f"{prefix}{user}:{MASK}@{tail}", unquote(password)
    elif transport == "https":
        # token-only userinfo: the token must not reach .git/config, so git gets the URL without it
        clean, display, secret = f"{prefix}{tail}", f"{prefix}{MASK}@{tail}", None
    else:
        return RepoUrl(raw=value, transport=transport, clean=value, display=value, username=user or None)
    return RepoUrl(raw=value, transport=transport, clean=clean, display=display, username=unquote(user) or None, password=secret)


def public_url(value: str) -> str | None:
    """``value`` as a report may show it (``RepoUrl.public``); None when it is no URL the modules take, which is then
    shown nowhere but in its (redacted) error."""
    try:
        return parse_repo_url(value).public
    except InvalidOption:
        return None


def _is_scp_like(value: str) -> bool:
    """git's own rule on POSIX hosts (url_is_local_not_ssh): a colon before the first slash."""
    colon = value.find(":")
    slash = value.find("/")
    return colon > 0 and (slash == -1 or colon < slash)


def _parse_scp_like(value: str, option: str) -> RepoUrl:
    at = value.find("@")
    slash = value.find("/")
    userinfo, rest = _around(value, at) if at != -1 and (slash == -1 or at < slash) else ("", value)
    host, _colon, path = rest.partition(":")
    if host.startswith("-"):
        raise InvalidOption(option, "the host must not start with '-': it would be read as an ssh option")
    user, colon, password = userinfo.partition(":")
    if colon:
        return RepoUrl(
            raw=value,
            transport="ssh",
            clean=f"{user}@{host}:{path}",
            display=f"{user}:{MASK}@{host}:{path}",
            username=user or None,
            password=password,
        )
    return RepoUrl(raw=value, transport="ssh", clean=value, display=value, username=user or None)


def _comparable(url: str) -> tuple[str, str, str]:
    """Reduce a clean URL to (transport, host, path) for equality, ignoring userinfo and '.git'."""
    scheme = _SCHEME.match(url)
    if scheme:
        transport = scheme.group(1).lower()
        start = scheme.end()
        authority, _slash, path = url[start:].partition("/")
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


def is_local(url: str) -> bool:
    """A repository git reaches on this host, through a local upload-pack: file:// URLs and paths."""
    scheme = _SCHEME.match(url)
    return scheme.group(1).lower() == "file" if scheme else not _is_scp_like(url)


def origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of an http(s) URL, as git names it to credential helpers; None for other transports."""
    scheme = _SCHEME.match(url)
    if scheme is None or scheme.group(1).lower() not in ("http", "https"):
        return None
    host = re.split(r"[/?#]", _split_userinfo(url, scheme.group(1)).tail, maxsplit=1)[0]
    return f"{scheme.group(1)}://{host}"


def secrets_in(value: str) -> tuple[str, ...]:
    """Every credential in a URL, as the URL parser splits it (raw and percent-decoded), without validating it.

    So even a refused URL can be masked. A password, or the userinfo of an http(s) URL without one (a token).
    """
    found: list[str] = []
    scheme = _SCHEME.match(value)
    if scheme:
        userinfo = _split_userinfo(value, scheme.group(1)).userinfo
        if userinfo is not None:
            user, colon, password = userinfo.partition(":")
            if colon:
                found += [password, unquote(password)]
            elif scheme.group(1).lower().startswith("http"):
                found += [user, unquote(user)]
    elif "@" in value:
        userinfo = value[: value.find("@")]
        if ":" in userinfo and "/" not in userinfo:
            found += [userinfo.split(":", 1)[1]]  # scp-like user:password@host:path
    return tuple(dict.fromkeys(secret for secret in found if secret))


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
