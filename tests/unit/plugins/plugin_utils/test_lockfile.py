# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The revision lockfile: recorded by update, deployed as it is by frozen (reruns, --limit, late hosts) with no
remote asked, a repository it lacks, where the remote went since (--check --diff), and files it cannot read."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from ansible_collections.fleetops.gitops.plugins.module_utils._errors import InvalidOption
from ansible_collections.fleetops.gitops.plugins.module_utils._refs import BRANCH, Target
from ansible_collections.fleetops.gitops.plugins.plugin_utils._lockfile import Lockfile
from ansible_collections.fleetops.gitops.tests.unit.plugins.plugin_utils.plays import play as _play
from ansible_collections.fleetops.gitops.tests.unit.plugins.plugin_utils.plays import sync as _sync

SHA = "8f3c2a9d0b6e4f1a7c5d3e2b1a0f9e8d7c6b5a43"


def _head(path: Path) -> str:
    return subprocess.run(["git", "-C", str(path), "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()


def test_a_lockfile_records_one_commit_then_deploys_it_to_reruns_limits_and_late_hosts(upstream, tmp_path, git_counter):
    lockfile = tmp_path / "revisions.yml"
    update = _sync(upstream.url, tmp_path, lockfile="revisions.yml", lockfile_mode="update")  # relative: the playbook's folder
    first = upstream.head()
    audit = _play(tmp_path, 2, update, "--check")
    assert audit.returncode == 0 and not lockfile.exists(), audit.stdout  # check mode deploys nothing, records nothing
    git_counter.reset()
    run = _play(tmp_path, 2, update)
    assert run.returncode == 0, run.stdout + run.stderr
    assert git_counter.subcommands().count("ls-remote") == 1 and _head(tmp_path / "host0") == _head(tmp_path / "host1") == first
    locked = yaml.safe_load(lockfile.read_text())
    entry = locked["repositories"][upstream.url]["HEAD"]
    assert (locked["format_version"], entry["commit"], entry["kind"], entry["name"]) == (1, first, "branch", "main")
    assert entry["resolved_by"] and entry["resolved_at"].endswith("Z")
    written = lockfile.read_bytes()
    assert _play(tmp_path, 2, update).returncode == 0 and lockfile.read_bytes() == written  # nothing moved: not rewritten

    upstream.commit()  # the remote moves; frozen hosts do not
    frozen = _sync(upstream.url, tmp_path, lockfile=str(lockfile), lockfile_mode="frozen")
    git_counter.reset()
    for hosts, options in ((3, ()), (3, ("--limit", "host1"))):  # a late host2, then a --limit retry
        run = _play(tmp_path, hosts, frozen, *options)
        assert run.returncode == 0, run.stdout + run.stderr
    assert "ls-remote" not in git_counter.subcommands(), git_counter.commands()  # no remote asked where the branch is
    assert {_head(tmp_path / f"host{n}") for n in range(3)} == {first}
    audit = _play(tmp_path, 3, frozen, "--check", "--diff")  # how the remote moved since the lockfile
    assert audit.returncode == 0 and "changed: [host" not in audit.stdout, audit.stdout + audit.stderr
    assert f"-{upstream.url} HEAD: {first}" in audit.stdout and f"+{upstream.url} HEAD: {upstream.head()}" in audit.stdout, audit.stdout

    run = _play(tmp_path, 3, update)  # update moves every host and the file
    assert run.returncode == 0, run.stdout + run.stderr
    assert {_head(tmp_path / f"host{n}") for n in range(3)} == {upstream.head()}
    assert yaml.safe_load(lockfile.read_text())["repositories"][upstream.url]["HEAD"]["commit"] == upstream.head()


def test_a_frozen_lockfile_without_the_repository_fails_the_task(upstream, make_upstream, tmp_path):
    other = make_upstream("other")
    lockfile = tmp_path / "revisions.yml"
    assert _play(tmp_path, 1, _sync(other.url, tmp_path / "others", lockfile=str(lockfile))).returncode == 0
    run = _play(tmp_path, 2, _sync(upstream.url, tmp_path / "ours", lockfile=str(lockfile), lockfile_mode="frozen"))
    assert run.returncode == 2
    assert run.stdout.count('"msg": "lockfile: the lockfile') == 2 and "has no commit for" in run.stdout, run.stdout
    assert not (tmp_path / "ours").exists()


def test_the_lockfile_keys_repositories_without_their_secrets(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    lockfile = Lockfile(str(tmp_path / "revisions.yml"))
    url = "https://deploy:s3cret@git.example.com/app.git"
    assert lockfile.record({(url, "main"): Target(BRANCH, "main", SHA)}, "2026-12-04T19:30:00Z") == [f"https://deploy@git.example.com/app.git main: {SHA}"]
    text = (tmp_path / "revisions.yml").read_text()
    assert "s3cret" not in text and "https://deploy@git.example.com/app.git:" in text  # the URL git is given
    assert lockfile.targets([(url, "main")]) == {(url, "main"): Target(BRANCH, "main", SHA)}
    assert lockfile.record({(url, "main"): Target(BRANCH, "main", SHA)}, "later") == []  # the same commit: untouched
    assert "later" not in (tmp_path / "revisions.yml").read_text()


@pytest.mark.parametrize(
    "text",
    [
        "format_version: 2\nrepositories: {}\n",
        "- a list\n",
        "repositories: {\n",
        "format_version: 1\nrepositories: [1]\n",
        "format_version: 1\nrepositories:\n  https://h/a.git: [main]\n",
    ],
    ids=["another format", "not a mapping", "not YAML", "repositories not a mapping", "versions not a mapping"],
)
def test_a_file_that_is_not_a_lockfile_is_refused(tmp_path, text):
    (tmp_path / "revisions.yml").write_text(text)
    with pytest.raises(InvalidOption, match="lockfile: "):
        Lockfile(str(tmp_path / "revisions.yml")).targets([("https://h/a.git", "main")])


def test_an_entry_that_names_no_commit_is_not_deployed(tmp_path):
    (tmp_path / "revisions.yml").write_text("format_version: 1\nrepositories:\n  https://h/a.git:\n    main: {commit: nope, kind: branch, name: main}\n")
    found = Lockfile(str(tmp_path / "revisions.yml")).targets([("https://h/a.git", "main")])[("https://h/a.git", "main")]
    assert isinstance(found, str) and "is not a commit SHA" in found


def test_an_empty_file_is_a_lockfile_to_fill(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    (tmp_path / "revisions.yml").write_text("")
    lockfile = Lockfile(str(tmp_path / "revisions.yml"))
    assert isinstance(lockfile.targets([("https://h/a.git", "main")])[("https://h/a.git", "main")], str)
    assert lockfile.record({("https://h/a.git", "main"): Target(BRANCH, "main", SHA)}, "now") == [f"https://h/a.git main: {SHA}"]
