# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A checkout with submodules (``submodules: true``), against real repositories and real servers: recursion,
``changed`` only when a commit changed, drift inside submodules, local changes there, and whose credentials go where."""

from __future__ import annotations

import typing as t
from pathlib import Path

import pytest

from ansible_collections.fleetops.gitops.plugins.module_utils import _submodule_sync
from ansible_collections.fleetops.gitops.plugins.module_utils._access import RemoteAccess
from ansible_collections.fleetops.gitops.plugins.module_utils._errors import GitOpsError, InvalidOption, LocalChangesError
from ansible_collections.fleetops.gitops.plugins.module_utils._submodule_sync import sync_tree
from ansible_collections.fleetops.gitops.plugins.module_utils.checkout import GitOpsSynchronizer
from ansible_collections.fleetops.gitops.plugins.module_utils.drift import GitOpsSynchronizer as Drift
from ansible_collections.fleetops.gitops.tests.unit.helpers.git_fixtures import Upstream, run_git, snapshot
from ansible_collections.fleetops.gitops.tests.unit.plugins.module_utils.test_submodules import entry, record


def bump(upstream: Upstream, path: str, commit: str) -> str:
    """Record ``commit`` at the submodule ``path`` of ``upstream``, as a developer updating a submodule does."""
    upstream.git("update-index", "--cacheinfo", f"160000,{commit},{path}")
    upstream.git("commit", "--quiet", "-m", f"{path} at {commit[:7]}")
    return upstream.head()


@pytest.fixture
def nested(make_upstream) -> tuple[Upstream, Upstream, Upstream]:
    """app records lib at vendor/lib; lib records util at util: a submodule with a submodule of its own."""
    app, lib, util = make_upstream("app"), make_upstream("lib"), make_upstream("util")
    record(lib, entry("util", "util", "../util"), {"util": util.head()})
    record(app, entry("lib", "vendor/lib", "../lib"), {"vendor/lib": lib.head()})
    return app, lib, util


def head(path: Path) -> str:
    return run_git("-C", str(path), "rev-parse", "HEAD")


def test_every_submodule_is_cloned_at_its_commit_and_a_rerun_changes_nothing(nested, tmp_path):
    app, lib, util = nested
    dest = tmp_path / "deploy"
    sync = GitOpsSynchronizer(app.url, str(dest), submodules=True)
    first = sync_tree(sync, "main")
    assert first.changed and head(dest / "vendor/lib") == lib.head() and head(dest / "vendor/lib/util") == util.head()
    assert [s["action"] for s in first.to_dict()["submodules"]] == ["clone"]
    assert [s["action"] for s in first.to_dict()["submodules"][0]["submodules"]] == ["clone"]
    assert run_git("-C", str(dest), "status", "--porcelain") == ""  # the superproject sees its gitlinks at their commits
    again = sync_tree(sync, "main")
    assert not again.changed and again.to_dict()["status"]["state"] == "IN_SYNC"


def test_only_a_submodule_that_moved_is_changed_and_check_mode_says_so_first(nested, tmp_path):
    app, lib, util = nested
    dest = tmp_path / "deploy"
    sync = GitOpsSynchronizer(app.url, str(dest), submodules=True)
    sync_tree(sync, "main")
    newer = util.commit({"util.txt": "2\n"})
    bump(app, "vendor/lib", bump(lib, "util", newer))
    before = snapshot(dest)
    predicted = sync_tree(sync, "main", check_mode=True)
    assert snapshot(dest) == before, "check mode wrote nothing, in any .git either"
    details = predicted.to_dict()["status"]["drift_details"]
    assert predicted.changed and any(line.startswith("submodule vendor/lib: revision differs") for line in details), details
    assert any(line.startswith("submodule vendor/lib/util: revision differs") for line in details), details
    done = sync_tree(sync, "main")
    assert done.changed and head(dest / "vendor/lib/util") == newer
    assert not sync_tree(sync, "main").changed


def test_a_hand_edit_inside_a_submodule_is_drift_and_is_backed_up_there(nested, tmp_path):
    app, _lib, _util = nested
    dest = tmp_path / "deploy"
    sync = GitOpsSynchronizer(app.url, str(dest), submodules=True)
    sync_tree(sync, "main")
    (dest / "vendor/lib/file0.txt").write_text("hand edit\n")
    audit = sync_tree(sync, "main", check_mode=True).to_dict()
    assert audit["changed"] and audit["status"]["state"] == "DRIFTED"
    assert "submodule vendor/lib: tracked files modified: file0.txt" in audit["status"]["drift_details"]
    done = sync_tree(sync, "main").to_dict()
    ref = done["submodules"][0]["backup_ref"]
    assert done["changed"] and ref and (dest / "vendor/lib/file0.txt").read_text() == "content 0\n"
    assert run_git("-C", str(dest / "vendor/lib"), "show", f"{ref}:file0.txt") == "hand edit"


def test_local_changes_fail_refuses_in_check_mode_and_in_the_run_leaving_the_submodule(nested, tmp_path):
    app, _lib, _util = nested
    dest = tmp_path / "deploy"
    sync_tree(GitOpsSynchronizer(app.url, str(dest), submodules=True), "main")
    (dest / "vendor/lib/file0.txt").write_text("hand edit\n")
    strict = GitOpsSynchronizer(app.url, str(dest), submodules=True, local_changes="fail")
    for check_mode in (True, False):
        with pytest.raises(LocalChangesError, match="vendor/lib"):
            sync_tree(strict, "main", check_mode=check_mode)
    assert (dest / "vendor/lib/file0.txt").read_text() == "hand edit\n"


def test_an_uninitialised_submodule_is_drift_and_is_cloned(nested, tmp_path):
    app, lib, _util = nested
    dest = tmp_path / "deploy"
    run_git("clone", "--quiet", app.url, str(dest))  # a plain clone: vendor/lib is an empty folder
    sync = GitOpsSynchronizer(app.url, str(dest), submodules=True)
    audit = sync_tree(sync, "main", check_mode=True).to_dict()
    assert audit["changed"] and any(line.startswith("submodule vendor/lib: ") for line in audit["status"]["drift_details"])
    assert sync_tree(sync, "main").changed and head(dest / "vendor/lib") == lib.head()


def test_without_submodules_nothing_is_recursed(nested, tmp_path):
    app, _lib, _util = nested
    dest = tmp_path / "deploy"
    result = sync_tree(GitOpsSynchronizer(app.url, str(dest)), "main")
    assert "submodules" not in result.to_dict() or result.to_dict()["submodules"] == []
    assert list((dest / "vendor/lib").iterdir()) == []


def test_the_credentials_reach_a_submodule_of_the_same_origin_and_no_other(make_upstream, servers, tmp_path, monkeypatch):
    """Over HTTPS with basic auth: a relative submodule (same server) is cloned with the task's credentials; one on
    another origin is asked without them - it fails there, and the other server never saw the password."""
    monkeypatch.setenv("GIT_SSL_CAINFO", servers.ca_file)
    lib, app = make_upstream("lib"), make_upstream("app")
    names = _publish(servers, lib, "sm-lib")
    record(app, entry("lib", "lib", "../sm-lib.git") + entry("far", "zz-far", f"{servers.other_https_url}/{names}"), {"lib": lib.head(), "zz-far": lib.head()})
    _publish(servers, app, "sm-app")
    servers.other_authorizations.clear()
    access = RemoteAccess(username="alice", password="s3cret-pw")
    sync = GitOpsSynchronizer(f"{servers.https_url}/sm-app.git", str(tmp_path / "deploy"), submodules=True, access=access)
    with pytest.raises(GitOpsError, match="zz-far"):  # in path order: after lib
        sync_tree(sync, "main")
    assert head(tmp_path / "deploy" / "lib") == lib.head()  # the same origin: cloned with the credentials
    assert "alice:s3cret-pw" not in servers.other_credentials()
    assert servers.other_requests, "the other origin was asked"


def test_the_checkouts_config_cannot_name_a_program_or_another_url_for_a_submodule(nested, tmp_path):
    """git submodule would take submodule.<name>.url and .update from .git/config, which the owner can write: they
    are never read here (the list comes from the commit), so neither a planted program nor a planted URL is used."""
    app, lib, _util = nested
    dest = tmp_path / "deploy"
    sync = GitOpsSynchronizer(app.url, str(dest), submodules=True)
    run_git("clone", "--quiet", app.url, str(dest))
    marks = [tmp_path / "update-ran", tmp_path / "url-ran"]
    run_git("-C", str(dest), "config", "submodule.lib.update", f"!touch {marks[0]}")
    run_git("-C", str(dest), "config", "submodule.lib.url", f"ext::sh -c touch% {marks[1]}")
    run_git("-C", str(dest), "config", "submodule.lib.active", "true")
    for check_mode in (True, False):
        sync_tree(sync, "main", check_mode=check_mode)
    assert not any(mark.exists() for mark in marks)
    assert head(dest / "vendor/lib") == lib.head() and run_git("-C", str(dest / "vendor/lib"), "remote", "get-url", "origin") == lib.url


def test_submodules_nest_only_so_deep(nested, tmp_path, monkeypatch):
    monkeypatch.setattr(_submodule_sync, "MAX_DEPTH", 1)  # the fixture nests two levels
    app, _lib, _util = nested
    with pytest.raises(InvalidOption, match="submodules nest deeper than 1 levels"):
        sync_tree(GitOpsSynchronizer(app.url, str(tmp_path / "deploy"), submodules=True), "main", check_mode=True)


def test_a_drift_report_names_each_submodule_and_a_reconcile_fixes_them(nested, tmp_path):
    app, lib, _util = nested
    dest = tmp_path / "deploy"
    run_git("clone", "--quiet", app.url, str(dest))  # a plain clone: the submodules are not there
    drift = Drift(str(dest), "main", submodules=True)
    found = drift.run().to_dict()
    assert found["changed"] and any(line.startswith("submodule vendor/lib: ") for line in found["drift_details"]), found
    assert not Drift(str(dest), "main").run().to_dict()["changed"]  # without submodules: in sync
    done = drift.run(reconcile=True).to_dict()
    assert done["reconciled"] and head(dest / "vendor/lib") == lib.head()
    (dest / "vendor/lib/util/file1.txt").write_text("hand edit\n")
    again = drift.run().to_dict()
    assert "submodule vendor/lib/util: tracked files modified: file1.txt" in again["drift_details"], again


def _publish(servers: t.Any, upstream: Upstream, name: str) -> str:
    run_git("clone", "--quiet", "--bare", str(upstream.path), str(Path(servers.root) / f"{name}.git"))
    return f"{name}.git"
