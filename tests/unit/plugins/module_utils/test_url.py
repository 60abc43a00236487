# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Repository URLs: transports, credentials, redaction and comparison."""

from __future__ import annotations

import pytest

from ansible_collections.fleetops.gitops.plugins.module_utils._errors import InvalidOption
from ansible_collections.fleetops.gitops.plugins.module_utils._url import parse_repo_url, public_url, redact_text, secrets_in


@pytest.mark.parametrize(
    "url,transport",
    [
        ("https://git.example.com/app.git", "https"),
        ("ssh://git@git.example.com:2222/app.git", "ssh"),
        ("git+ssh://git@git.example.com/app.git", "ssh"),
        ("git@git.example.com:team/app.git", "ssh"),
        ("git://git.example.com/app.git", "git"),
        ("file:///srv/git/app.git", "file"),
        ("/srv/git/app.git", "file"),
        ("../relative/app", "file"),
    ],
)
def test_allowed_transports(url, transport):
    parsed = parse_repo_url(url)
    assert (parsed.transport, parsed.clean, parsed.display, parsed.secrets) == (transport, url, url, ())


@pytest.mark.parametrize(
    "url,problem",
    [
        ("ext::sh -c touch% /tmp/pwned", "'ext::' transport is not allowed"),
        ("fd::3", "'fd::' transport is not allowed"),
        ("http://git.example.com/app.git", "'http' transport is not allowed"),
        ("ftp://git.example.com/app.git", "'ftp' transport is not allowed"),
        ("--upload-pack=touch /tmp/x", "must not start with '-'"),
        ("-u/tmp/x", "must not start with '-'"),
        ("ssh://-oProxyCommand=touch%20/tmp/x/app", "host must not start with '-'"),
        ("-oProxyCommand=x:app", "must not start with '-'"),
        ("https://git.example.com/app\n.git", "control characters"),
        ("https://git.example.com/a\x00pp", "control characters"),
        ("", "must not be empty"),
    ],
)
def test_refused_urls_name_the_option(url, problem):
    with pytest.raises(InvalidOption, match="^repo: .*" + problem.replace("(", r"\(")) as caught:
        parse_repo_url(url)
    assert caught.value.option == "repo"


def test_user_and_password_are_split_out():
    parsed = parse_repo_url("https://alice:s3cret@git.example.com/app.git")
    assert parsed.clean == "https://alice@git.example.com/app.git"
    assert parsed.display == "https://alice:********@git.example.com/app.git"
    assert (parsed.credentials.username, parsed.credentials.password) == ("alice", "s3cret")
    assert parsed.secrets == ("s3cret",)


def test_a_token_alone_is_a_secret_too():
    parsed = parse_repo_url("https://ghp_abc123@github.com/org/app.git")
    assert parsed.clean == "https://github.com/org/app.git"
    assert parsed.display == "https://********@github.com/org/app.git"
    assert parsed.credentials.username == "ghp_abc123" and parsed.secrets == ("ghp_abc123",)


def test_an_ssh_login_name_is_not_a_secret():
    parsed = parse_repo_url("ssh://git@git.example.com/app.git")
    assert parsed.credentials is None and parsed.secrets == ()


def test_scp_like_password_is_masked():
    parsed = parse_repo_url("deploy:hunter2@git.example.com:team/app.git")
    assert parsed.transport == "ssh" and parsed.display == "deploy:********@git.example.com:team/app.git"
    assert parsed.clean == "deploy@git.example.com:team/app.git" and parsed.secrets == ("hunter2",)


@pytest.mark.parametrize(
    "url,public",
    [
        ("https://alice:s3cret@git.example.com/app.git", "https://git.example.com/app.git"),
        ("https://ghp_abc123@github.com/org/app.git", "https://github.com/org/app.git"),
        ("https://alice:p@ss@git.example.com:8443/app.git", "https://git.example.com:8443/app.git"),
        ("ssh://deploy:hunter2@git.example.com/app.git", "ssh://deploy@git.example.com/app.git"),
        ("deploy:hunter2@git.example.com:team/app.git", "deploy@git.example.com:team/app.git"),
        ("git@git.example.com:team/app.git", "git@git.example.com:team/app.git"),
        ("/srv/git/app.git", "/srv/git/app.git"),
        ("https://alice:pa/ss@git.example.com/app.git", None),  # refused (ambiguous): shown nowhere
        ("ext::sh -c evil", None),
    ],
)
def test_the_public_url_carries_no_credential(url, public):
    """What reports show as it is: no password anywhere, no user name of an https URL (basic auth's, or a token)."""
    assert public_url(url) == public


@pytest.mark.parametrize(
    "text,expected",
    [
        ("fatal: unable to access 'https://alice:s3cret@host/x/'", "fatal: unable to access 'https://alice:********@host/x/'"),
        ("remote https://tok3n@host/x", "remote https://********@host/x"),
        ("ssh://git@host/x stays", "ssh://git@host/x stays"),
        ("ssh://bob:pw@host/x", "ssh://bob:********@host/x"),
        ("the secret hunter2 in prose", "the secret ******** in prose"),
    ],
)
def test_redact_text(text, expected):
    assert redact_text(text, ["hunter2"]) == expected


def test_secrets_are_found_even_in_refused_urls():
    assert secrets_in("http://alice:pw1@host/x") == ("pw1",)
    assert secrets_in("ftp://tok@host/x") == ()
    assert secrets_in("https://tok@host/x") == ("tok",)
    assert secrets_in("deploy:pw2@host:path") == ("pw2",)


@pytest.mark.parametrize(
    "a,b,same",
    [
        ("https://host/team/app.git", "https://host/team/app", True),
        ("https://alice:pw@host/team/app.git", "https://host/team/app.git/", True),
        ("https://HOST/team/app.git", "https://host/team/app.git", True),
        ("https://host/team/app.git", "https://host/team/other.git", False),
        ("https://host/team/app.git", "ssh://host/team/app.git", False),
        ("git@host:team/app.git", "git@host:team/app", True),
        ("file:///srv/git/app", "/srv/git/app/", True),
        ("/srv/git/app", "/srv/git/other", False),
    ],
)
def test_same_repository(a, b, same):
    assert parse_repo_url(a).same_repository(b) is same
