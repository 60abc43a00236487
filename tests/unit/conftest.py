# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures: real upstream repositories in temp folders, real servers on 127.0.0.1, a git process counter."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import typing as t
from pathlib import Path

import pytest

from ansible_collections.fleetops.gitops.tests.unit.helpers.git_fixtures import GitCounter, Upstream, load_gitserve, run_git
from ansible_collections.fleetops.gitops.tests.unit.helpers.signing import GpgIdentity, make_gpg_identity, make_ssh_signer


@pytest.fixture(autouse=True, scope="session")
def nothing_is_written_into_the_current_folder() -> t.Iterator[None]:
    """No test, and no git a test starts, leaves a file in the folder the tests run from (the collection's root).

    Empty files named ``get`` and ``store`` once appeared there: a credential helper planted as ``!touch``, which git
    runs with the operation as its argument, in git's working folder.
    """
    before = set(os.listdir("."))
    yield
    added = sorted(set(os.listdir(".")) - before - {".pytest_cache"})
    assert not added, f"the tests wrote into {os.getcwd()}: {added}"


@pytest.fixture
def upstream(tmp_path: Path) -> Upstream:
    return Upstream(tmp_path / "upstream")


@pytest.fixture
def checkout(upstream: Upstream, tmp_path: Path) -> Path:
    """A plain ``git clone`` of ``upstream`` at tmp_path/app: on main, remote origin, nothing changed, nothing recorded."""
    dest = tmp_path / "app"
    run_git("clone", "--quiet", upstream.url, str(dest))
    return dest


@pytest.fixture
def open_tmp() -> t.Iterator[Path]:
    """A temp folder other users can enter (pytest's own are 0700 under root's)."""
    path = Path(tempfile.mkdtemp(prefix="fleetops-gitops-test-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path)


@pytest.fixture
def make_upstream(tmp_path: Path) -> t.Callable[[str], Upstream]:
    return lambda name: Upstream(tmp_path / name)


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> t.Iterator[t.Any]:
    """git daemon, HTTPS smart HTTP (user alice, password s3cret-pw) and a black hole, for the whole session."""
    root = tmp_path_factory.mktemp("served")
    with load_gitserve().GitServers(str(root), auth="alice:s3cret-pw") as running:
        yield running


@pytest.fixture
def served(servers: t.Any, upstream: Upstream) -> t.Callable[[str], str]:
    """Publish ``upstream`` under the servers' root; returns a function giving its URL for a scheme."""
    name = f"{upstream.path.parent.name}.git"
    target = Path(servers.root) / name
    run_git("clone", "--quiet", "--mirror", str(upstream.path), str(target))

    def url(scheme: str) -> str:
        run_git("--git-dir", str(target), "fetch", "--quiet", "--prune", "origin", "+refs/*:refs/*")
        return f"{servers.git_url}/{name}" if scheme == "git" else f"{servers.https_url}/{name}"

    return url


@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> t.Iterator[t.Any]:
    """sshd on 127.0.0.1 with a client key for root; git over ssh reaches any local path through it."""
    if os.geteuid() != 0 or not os.path.exists("/usr/sbin/sshd"):
        pytest.skip("needs root and openssh-server")
    with load_gitserve().SshServer(str(tmp_path_factory.mktemp("sshd") / "ssh")) as server:
        yield server


@pytest.fixture(scope="session")
def gpg_identity() -> t.Iterator[GpgIdentity]:
    """One OpenPGP key pair for the session (making one takes a while); its gpg-agent is stopped at the end."""
    identity = make_gpg_identity()
    yield identity
    identity.stop_agent()


@pytest.fixture(scope="session")
def ssh_signer(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """One SSH signing key for the session (see make_ssh_signer)."""
    return make_ssh_signer(tmp_path_factory.mktemp("ssh-signer"))


@pytest.fixture
def servers_reset(servers: t.Any) -> t.Iterator[t.Any]:
    """The shared servers, with any fault or throttle a test sets cleared afterwards."""
    yield servers
    servers.reset_faults()


@pytest.fixture(scope="session")
def other_user() -> str:
    """A user other than root to own checkouts; made on the spot (as CI runs as root), else the test skips."""
    name = "fleetops-gitops-test"
    if os.geteuid() != 0:
        pytest.skip("running git as another user needs root")
    if subprocess.run(["id", name], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False).returncode != 0:
        subprocess.run(["useradd", "--create-home", "--shell", "/bin/sh", name], check=True)
    return name


@pytest.fixture
def git_counter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> GitCounter:
    directory = tmp_path / "counter-bin"
    directory.mkdir()
    counter = GitCounter(directory)
    monkeypatch.setenv("PATH", f"{directory}{os.pathsep}{os.environ['PATH']}")
    return counter
