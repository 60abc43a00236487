# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What a commit says its submodules are, and the hostile .gitmodules refused before anything is cloned.

The superprojects are made with git's plumbing, so that a test can record any gitlink and write any .gitmodules,
as a hostile repository would; every sync runs real git against them.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from ansible_collections.fleetops.gitops.plugins.module_utils import _submodules
from ansible_collections.fleetops.gitops.plugins.module_utils._access import RemoteAccess
from ansible_collections.fleetops.gitops.plugins.module_utils._errors import GitOpsError, InvalidOption
from ansible_collections.fleetops.gitops.plugins.module_utils._git import runner_for
from ansible_collections.fleetops.gitops.plugins.module_utils._history import Where
from ansible_collections.fleetops.gitops.plugins.module_utils._submodule_sync import sync_tree
from ansible_collections.fleetops.gitops.plugins.module_utils._submodules import access_for, submodules_at
from ansible_collections.fleetops.gitops.plugins.module_utils._url import TRANSPORTS, parse_repo_url
from ansible_collections.fleetops.gitops.plugins.module_utils.checkout import GitOpsSynchronizer
from ansible_collections.fleetops.gitops.tests.unit.helpers.git_fixtures import Upstream, snapshot


def record(upstream: Upstream, gitmodules: str | None, links: dict[str, str]) -> str:
    """Commit to ``upstream`` a .gitmodules with this text (None: none) and these gitlinks (path -> commit)."""
    if gitmodules is not None:
        (upstream.path / ".gitmodules").write_text(gitmodules)
        upstream.git("add", ".gitmodules")
    for path, sha in links.items():
        upstream.git("update-index", "--add", "--cacheinfo", f"160000,{sha},{path}")
    upstream.git("commit", "--quiet", "-m", "submodules")
    return upstream.head()


def entry(name: str, path: str, url: str) -> str:
    return f'[submodule "{name}"]\n\tpath = {path}\n\turl = {url}\n'


@pytest.fixture
def lib(make_upstream) -> Upstream:
    return make_upstream("lib")


def listed(upstream: Upstream, commit: str, transports: tuple[str, ...] = TRANSPORTS) -> list[tuple[str, str, str, str]]:
    with runner_for(parse_repo_url(upstream.url), 30, None, None) as git:
        found = submodules_at(git, Where.checkout(str(upstream.path)), commit, parse_repo_url(upstream.url), transports)
    return [(sub.name, sub.path, sub.url.clean, sub.commit) for sub in found]


def test_the_list_comes_from_the_commit_with_relative_urls_resolved(upstream, lib):
    commit = record(upstream, entry("lib", "vendor/lib", "../lib") + entry("abs", "abs", lib.url), {"vendor/lib": lib.head(), "abs": lib.head()})
    assert listed(upstream, commit) == [("abs", "abs", lib.url, lib.head()), ("lib", "vendor/lib", lib.url, lib.head())]
    assert listed(upstream, upstream.head("HEAD~1")) == []  # the commit before records none


@pytest.mark.parametrize(
    ("parent", "relative", "resolved"),
    [
        ("https://git.example.com/team/app.git", "../lib.git", "https://git.example.com/team/lib.git"),
        ("https://git.example.com/team/app.git", "./lib.git", "https://git.example.com/team/app.git/lib.git"),
        ("git@git.example.com:team/app.git", "../../other/lib", "git@git.example.com:other/lib"),
        ("ssh://git@git.example.com:2222/team/app", "../lib", "ssh://git@git.example.com:2222/team/lib"),
        ("/srv/git/app", "../lib", "/srv/git/lib"),
    ],
)
def test_relative_urls_resolve_as_git_resolves_them(parent, relative, resolved):
    assert _submodules._relative_to(relative, parse_repo_url(parent)) == resolved  # pylint: disable=protected-access


def test_a_relative_url_that_climbs_above_its_parent_is_refused():
    with pytest.raises(InvalidOption, match="climbs above"):
        _submodules._relative_to("../../../lib", parse_repo_url("git@git.example.com:app.git"))  # pylint: disable=protected-access


@pytest.mark.parametrize(
    ("gitmodules", "refused"),
    [
        (entry("evil", "lib", "-uhack"), "must not start with '-'"),
        (entry("evil", "lib", "ext::sh -c touch% /tmp/pwned"), "'ext::' transport is not allowed"),
        (entry("evil", "lib", "fd::17"), "'fd::' transport is not allowed"),
        (entry("../../escape", "lib", "../lib"), "an empty or '..' component"),
        (entry("other", "elsewhere", "../lib"), "that .gitmodules does not name"),
        ('[submodule "lib"]\n\tpath = lib\n', "has no url"),
        (None, "has no readable .gitmodules"),
    ],
)
def test_a_hostile_gitmodules_is_refused_before_any_submodule_is_cloned(gitmodules, refused, upstream, lib, tmp_path):
    """Our own reading refuses each entry. A sync refuses it too, in check mode and in the real run alike - at the
    fetch already for what git's fsck of .gitmodules knows (a URL or name git calls disallowed), else when the
    submodules are read; no submodule is cloned either way."""
    commit = record(upstream, gitmodules, {"lib": lib.head()})
    with pytest.raises(InvalidOption, match=refused):
        listed(upstream, commit)
    sync = GitOpsSynchronizer(upstream.url, str(tmp_path / "app"), submodules=True)
    for check_mode in (True, False):
        with pytest.raises(GitOpsError, match=f"{re.escape(refused)}|disallowed submodule|fsck error") as caught:
            sync_tree(sync, "main", check_mode=check_mode)
        assert caught.value.revisions[0] == commit
    assert not Path("/tmp/pwned").exists()
    assert not (tmp_path / "app").exists() or os.listdir(tmp_path / "app" / "lib") == []


@pytest.mark.parametrize("path", ["../outside", "/etc/x", "-x", "a/../b", ".git/hooks", "a/.GIT/x", "a//b", "a\\b", "./a"])
def test_a_path_outside_the_work_tree_or_into_git_is_refused(path):
    """git does not record such gitlinks; a .gitmodules entry that names one is refused all the same."""
    with pytest.raises(InvalidOption, match="not a plain relative path"):
        _submodules._check_path("evil", path)  # pylint: disable=protected-access


def test_file_transport_for_a_submodule_only_when_file_is_allowed(served, upstream, lib, tmp_path, monkeypatch, servers):
    monkeypatch.setenv("GIT_SSL_CAINFO", servers.ca_file)
    record(upstream, entry("lib", "lib", lib.url), {"lib": lib.head()})
    sync = GitOpsSynchronizer(served("git"), str(tmp_path / "app"), submodules=True, access=_access(("git",)))
    with pytest.raises(InvalidOption, match="'file' transport, which is not in allowed_transports"):
        sync_tree(sync, "main", check_mode=True)


def test_credentials_go_to_submodules_of_the_same_origin_only():
    parent = parse_repo_url("https://alice:pw@git.example.com/team/app.git")
    access = _access(TRANSPORTS, username="alice", password="pw", ssh_key="-----BEGIN OPENSSH PRIVATE KEY-----\nx\n")
    same = access_for(access, parent, parse_repo_url("https://git.example.com/team/lib.git"))
    other = access_for(access, parent, parse_repo_url("https://evil.example.net/lib.git"))
    port = access_for(access, parent, parse_repo_url("https://git.example.com:8443/team/lib.git"))
    assert (same.username, same.password, same.ssh_key) == (access.username, access.password, access.ssh_key)
    assert all((found.username, found.password, found.ssh_key) == (None, None, None) for found in (other, port))


def test_a_link_at_a_submodule_path_is_never_followed(upstream, lib, tmp_path):
    """Someone who can write the work tree points a submodule's folder elsewhere (git leaves a gitlink's path alone):
    refused, nothing written there, in check mode as in the real run."""
    app, elsewhere = _deployed_with_link(upstream, lib, tmp_path, "vendor/lib")
    sync = GitOpsSynchronizer(upstream.url, str(app), submodules=True)
    for check_mode in (True, False):
        with pytest.raises(InvalidOption, match="passes through 'vendor/lib'.*which is a link"):
            sync_tree(sync, "main", check_mode=check_mode)
    assert os.listdir(elsewhere) == []


def test_a_link_above_a_submodule_is_undone_by_the_superproject_first(upstream, lib, tmp_path):
    """A link in place of a tracked folder is a local change of the superproject: its switch puts the folder back
    (backed up), and the submodule is cloned there, never through the link."""
    app, elsewhere = _deployed_with_link(upstream, lib, tmp_path, "vendor")
    sync = GitOpsSynchronizer(upstream.url, str(app), submodules=True)
    assert sync_tree(sync, "main", check_mode=True).changed
    done = sync_tree(sync, "main")
    assert done.changed and not (app / "vendor").is_symlink() and (app / "vendor" / "lib" / "file0.txt").is_file()
    assert os.listdir(elsewhere) == []


def _deployed_with_link(upstream: Upstream, lib: Upstream, tmp_path: Path, linked: str) -> tuple[Path, Path]:
    record(upstream, entry("lib", "vendor/lib", "../lib") + "", {"vendor/lib": lib.head()})
    (upstream.path / "vendor").mkdir(exist_ok=True)
    (upstream.path / "vendor" / "README").write_text("vendored code\n")
    upstream.git("add", "vendor/README")
    upstream.git("commit", "--quiet", "-m", "a tracked file beside the submodule")
    app, elsewhere = tmp_path / "app", tmp_path / "elsewhere"
    sync_tree(GitOpsSynchronizer(upstream.url, str(app), submodules=True), "main")
    elsewhere.mkdir()
    shutil.move(str(app / linked), str(tmp_path / "moved"))
    (app / linked).symlink_to(elsewhere)
    return app, elsewhere


def test_check_mode_writes_nothing_and_predicts_the_run(upstream, lib, tmp_path):
    record(upstream, entry("lib", "vendor/lib", "../lib"), {"vendor/lib": lib.head()})
    sync = GitOpsSynchronizer(upstream.url, str(tmp_path / "app"), submodules=True)
    sync_tree(sync, "main")
    new = lib.commit({"lib.txt": "two\n"})
    upstream.git("update-index", "--cacheinfo", f"160000,{new},vendor/lib")
    upstream.git("commit", "--quiet", "-m", "bump lib")
    before = snapshot(tmp_path / "app")
    predicted = sync_tree(sync, "main", check_mode=True)
    assert snapshot(tmp_path / "app") == before
    done = sync_tree(sync, "main")
    assert predicted.changed and done.changed
    assert [(s["path"], s["action"], s["after"]) for s in predicted.to_dict()["submodules"]] == [("vendor/lib", "update", new)]
    assert [(s["path"], s["action"], s["after"]) for s in done.to_dict()["submodules"]] == [("vendor/lib", "update", new)]
    assert (tmp_path / "app" / "vendor" / "lib" / "lib.txt").read_text() == "two\n"


def _access(transports: tuple[str, ...], **secrets: str) -> RemoteAccess:
    return RemoteAccess(transports=transports, **secrets)
