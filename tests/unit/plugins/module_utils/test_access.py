# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""RemoteAccess: the values it refuses (naming the option), what it takes from a URL, and the ssh command it builds."""

from __future__ import annotations

import dataclasses
import subprocess
import typing as t

import pytest

from ansible_collections.fleetops.gitops.plugins.module_utils._access import DEFAULT_RETRIES, DEFAULT_TOKEN_USERNAME, REDIRECTS, RemoteAccess
from ansible_collections.fleetops.gitops.plugins.module_utils._errors import InvalidOption
from ansible_collections.fleetops.gitops.plugins.module_utils._url import TRANSPORTS, parse_repo_url

KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ==\n-----END OPENSSH PRIVATE KEY-----\n"


def _sh_words(command: str) -> list[str]:
    """The argv a POSIX shell makes of ``command``, as git's ``sh -c "$GIT_SSH_COMMAND ..."`` would."""
    out = subprocess.run(["sh", "-c", f"set -- {command}; printf '%s\\0' \"$@\""], check=True, stdout=subprocess.PIPE).stdout
    return out.decode().split("\0")[:-1]


@pytest.mark.parametrize(
    "fields, option, problem",
    [
        ({"transports": ()}, "allowed_transports", "must be a non-empty subset of https, ssh, git, file, not []"),
        ({"transports": ("https", "http")}, "allowed_transports", "must be a non-empty subset of https, ssh, git, file, not ['https', 'http']"),
        ({"transports": ("ext",)}, "allowed_transports", "must be a non-empty subset of https, ssh, git, file, not ['ext']"),
        ({"username": "deploy\nadmin"}, "username", "must not contain control characters (CR, LF, NUL, ...)"),
        ({"username": "deploy\x00"}, "username", "must not contain control characters (CR, LF, NUL, ...)"),
        ({"retries": -1}, "retries", "must be 0 or more, not -1"),
        ({"redirects": "some"}, "follow_redirects", "must be one of same_origin, all, none, not 'some'"),
        ({"ssh_key": "/root/.ssh/id_ed25519"}, "ssh_key", "must be the text of a private key (-----BEGIN ... PRIVATE KEY-----), not a path"),
        ({"ssh_key": ""}, "ssh_key", "must be the text of a private key (-----BEGIN ... PRIVATE KEY-----), not a path"),
    ],
)
def test_a_refused_value_names_the_module_option(fields: dict[str, t.Any], option: str, problem: str) -> None:
    with pytest.raises(InvalidOption) as caught:
        RemoteAccess(**fields)
    assert (caught.value.option, caught.value.problem, str(caught.value)) == (option, problem, f"{option}: {problem}")


@pytest.mark.parametrize(
    "fields",
    [
        {"transports": ("file",)},
        {"transports": TRANSPORTS},
        {"retries": 0},
        *({"redirects": redirects} for redirects in REDIRECTS),
        {"ssh_key": KEY},
        {"username": "deploy user@example.com"},
        {"username": ""},
        {"known_hosts": "not checked here: git reads it from a file"},
    ],
)
def test_the_edges_of_what_is_allowed_are_accepted(fields: dict[str, t.Any]) -> None:
    access = RemoteAccess(**fields)
    assert {name: getattr(access, name) for name in fields} == fields


def test_the_defaults_allow_every_transport_and_keep_no_credential() -> None:
    assert dataclasses.astuple(RemoteAccess()) == (TRANSPORTS, None, None, None, None, False, DEFAULT_RETRIES, "same_origin")


def test_from_params_reads_the_module_names_and_ignores_the_other_options() -> None:
    params = {
        "repo": "https://example.com/a.git",
        "dest": "/srv/a",
        "allowed_transports": ["ssh", "https"],
        "username": "deploy",
        "password": "pw",
        "ssh_key": KEY,
        "known_hosts": "host ssh-ed25519 AAAA",
        "accept_newhostkey": True,
        "retries": 5,
        "follow_redirects": "all",
    }
    assert RemoteAccess.from_params(params) == RemoteAccess(("ssh", "https"), "deploy", "pw", KEY, "host ssh-ed25519 AAAA", True, 5, "all")


def test_from_params_with_nothing_given_is_the_default() -> None:
    unset = {"allowed_transports": None, "retries": None, "follow_redirects": None, "accept_newhostkey": None, "password": None, "token": None}
    assert RemoteAccess.from_params({}) == RemoteAccess.from_params(unset) == RemoteAccess()


def test_zero_retries_is_a_value_not_a_missing_one() -> None:
    assert RemoteAccess.from_params({"retries": 0}).retries == 0


def test_a_token_is_a_password_with_a_default_user_name() -> None:
    assert (RemoteAccess.from_params({"token": "t0k"}).username, RemoteAccess.from_params({"token": "t0k"}).password) == (DEFAULT_TOKEN_USERNAME, "t0k")


def test_a_user_name_given_wins_over_the_tokens_default() -> None:
    access = RemoteAccess.from_params({"token": "t0k", "username": "ci-bot"})
    assert (access.username, access.password) == ("ci-bot", "t0k")


def test_a_password_and_a_token_together_are_refused_naming_token() -> None:
    with pytest.raises(InvalidOption, match=r"^token: give either password or token, not both$") as caught:
        RemoteAccess.from_params({"password": "pw", "token": "t0k"})
    assert caught.value.option == "token"


def test_from_params_validates_as_the_constructor_does() -> None:
    with pytest.raises(InvalidOption, match=r"^allowed_transports: must be a non-empty subset of https, ssh, git, file, not \['http'\]$"):
        RemoteAccess.from_params({"allowed_transports": ["http"]})


def test_a_user_and_password_in_the_url_are_used_when_no_option_gives_them() -> None:
    access = RemoteAccess().for_url(parse_repo_url("https://alice:s3cret@git.example.com/app.git"))
    assert (access.username, access.password) == ("alice", "s3cret")


def test_the_options_win_over_the_user_and_password_in_the_url() -> None:
    access = RemoteAccess(username="bob", password="from-option").for_url(parse_repo_url("https://alice:s3cret@git.example.com/app.git"))
    assert (access.username, access.password) == ("bob", "from-option")


@pytest.mark.parametrize(
    "given, expected",
    [
        ({"username": "bob"}, ("bob", "s3cret")),
        ({"password": "from-option"}, ("alice", "from-option")),
    ],
)
def test_each_option_wins_on_its_own_and_the_url_fills_in_the_other(given: dict[str, str], expected: tuple[str, str]) -> None:
    access = RemoteAccess(**given).for_url(parse_repo_url("https://alice:s3cret@git.example.com/app.git"))
    assert (access.username, access.password) == expected


def test_a_token_alone_in_an_https_url_is_the_user_name_with_an_empty_password() -> None:
    access = RemoteAccess().for_url(parse_repo_url("https://ghp_t0ken@git.example.com/app.git"))
    assert (access.username, access.password) == ("ghp_t0ken", "")


def test_an_ssh_login_name_in_the_url_is_taken_and_no_password_is_made_up() -> None:
    access = RemoteAccess().for_url(parse_repo_url("ssh://git@git.example.com/app.git"))
    assert (access.username, access.password) == ("git", None)


def test_for_url_keeps_everything_else_and_returns_an_equal_access_for_a_url_without_userinfo() -> None:
    access = RemoteAccess(transports=("https", "ssh"), ssh_key=KEY, known_hosts="h ssh-ed25519 AAAA", accept_new_hostkey=True, retries=0, redirects="none")
    assert access.for_url(parse_repo_url("https://git.example.com/app.git")) == access
    with_user = access.for_url(parse_repo_url("https://alice:pw@git.example.com/app.git"))
    assert with_user == dataclasses.replace(access, username="alice", password="pw")


@pytest.mark.parametrize(
    "url, transport",
    [
        ("git@git.example.com:team/app.git", "ssh"),
        ("git://git.example.com/app.git", "git"),
        ("/srv/git/app.git", "file"),
        ("file:///srv/git/app.git", "file"),
    ],
)
def test_a_transport_not_allowed_is_refused_naming_repo(url: str, transport: str) -> None:
    with pytest.raises(InvalidOption) as caught:
        RemoteAccess(transports=("https",)).for_url(parse_repo_url(url))
    assert (caught.value.option, caught.value.problem) == ("repo", f"the '{transport}' transport is not in allowed_transports (https)")


def test_a_transport_that_is_allowed_passes() -> None:
    assert RemoteAccess(transports=("ssh", "file")).for_url(parse_repo_url("/srv/git/app.git")).transports == ("ssh", "file")


@pytest.mark.parametrize(
    "fields, secrets",
    [
        ({}, ()),
        ({"username": "deploy"}, ()),  # a user name is not a secret
        ({"password": "pw"}, ("pw",)),
        ({"ssh_key": KEY}, (KEY,)),
        ({"password": "pw", "ssh_key": KEY}, ("pw", KEY)),
        ({"password": ""}, ()),  # nothing to mask
    ],
)
def test_the_secrets_are_the_password_and_the_key(fields: dict[str, str], secrets: tuple[str, ...]) -> None:
    assert RemoteAccess(**fields).secrets == secrets


def test_a_token_is_a_secret() -> None:
    assert RemoteAccess.from_params({"token": "t0k"}).secrets == ("t0k",)


def test_the_ssh_command_never_prompts_and_checks_host_keys_strictly() -> None:
    assert RemoteAccess().ssh_command(None, None, 7) == "ssh -o BatchMode=yes -o ConnectTimeout=7 -o StrictHostKeyChecking=yes"


def test_accept_new_hostkey_accepts_only_hosts_never_seen() -> None:
    command = RemoteAccess(accept_new_hostkey=True).ssh_command(None, None, 30)
    assert command == "ssh -o BatchMode=yes -o ConnectTimeout=30 -o StrictHostKeyChecking=accept-new"


def test_our_known_hosts_replace_the_hosts_and_our_key_is_the_only_identity() -> None:
    command = RemoteAccess().ssh_command("/tmp/run/id", "/tmp/run/known_hosts", 30)
    assert command == (
        "ssh -o BatchMode=yes -o ConnectTimeout=30 -o StrictHostKeyChecking=yes"
        " -o UserKnownHostsFile=/tmp/run/known_hosts -o GlobalKnownHostsFile=/dev/null"
        " -i /tmp/run/id -o IdentitiesOnly=yes -o IdentityAgent=none"
    )


def test_a_key_alone_adds_no_known_hosts_options_and_known_hosts_alone_no_identity() -> None:
    assert RemoteAccess().ssh_command("/k", None, 1).split(" ")[7:] == ["-i", "/k", "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none"]
    assert RemoteAccess().ssh_command(None, "/h", 1).split(" ")[7:] == ["-o", "UserKnownHostsFile=/h", "-o", "GlobalKnownHostsFile=/dev/null"]


def test_paths_in_the_ssh_command_are_quoted_for_the_shell_git_runs_it_with(tmp_path) -> None:
    key = f"{tmp_path}/it's a key; touch {tmp_path}/pwned $(id)`id`/id"
    known_hosts = f"{tmp_path}/known hosts\t$HOME"
    command = RemoteAccess().ssh_command(key, known_hosts, 30)
    assert "'\"'\"'" in command  # the quote in the path, closed and reopened
    assert _sh_words(command) == [
        *("ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=30", "-o", "StrictHostKeyChecking=yes"),
        *("-o", f"UserKnownHostsFile={known_hosts}", "-o", "GlobalKnownHostsFile=/dev/null"),
        *("-i", key, "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none"),
    ]
    assert not (tmp_path / "pwned").exists()


def test_an_empty_token_or_password_is_none_and_leaves_the_urls_password():
    url = parse_repo_url("https://alice:from-url@git.example.com/app.git")
    for given in ({"token": ""}, {"password": ""}):
        access = RemoteAccess.from_params(given)
        assert access.password is None, given
        assert access.for_url(url).password == "from-url", given


def test_a_token_only_url_with_a_username_option_gives_the_token_as_that_users_password():
    access = RemoteAccess.from_params({"username": "deploy"}).for_url(parse_repo_url("https://t0ken@git.example.com/app.git"))
    assert (access.username, access.password) == ("deploy", "t0ken")


@pytest.mark.parametrize("option", ["password", "token"])
def test_a_secret_with_a_line_break_is_refused_naming_its_option(option):
    with pytest.raises(InvalidOption) as caught:
        RemoteAccess.from_params({option: "s3cret\nusername=evil"})
    assert caught.value.option == option
