# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A signature counts only for the exact commit deployed, and only when made by a key the task gives."""

from __future__ import annotations

from pathlib import Path

import pytest

from ansible_collections.fleetops.gitops.plugins.module_utils._signatures import SignatureError, SignaturePolicy
from ansible_collections.fleetops.gitops.plugins.module_utils.checkout import GitOpsSynchronizer
from ansible_collections.fleetops.gitops.tests.unit.helpers.git_fixtures import run_git


def _ssh_signed(upstream, signer: dict[str, str], *, tag: str | None = None, message: str = "signed") -> str:
    signing = ["-c", "gpg.format=ssh", "-c", f"user.signingkey={signer['key']}"]
    if tag:
        upstream.git(*signing, "tag", "-s", "-m", message, tag)
    else:
        upstream.git(*signing, "commit", "--quiet", "--allow-empty", "-S", "-m", message)
    return upstream.head()


@pytest.mark.parametrize("mode", ["tag", "both"])
@pytest.mark.parametrize("existing", [False, True], ids=["clone", "update"])
def test_a_verified_tag_must_point_at_the_commit_deployed(upstream, tmp_path, ssh_signer, mode, existing):
    """The commit checked out comes from ls-remote (or a controller pin), the tag verified from the fetch: a server
    that answers the two differently, or a pin that is not the tag's, must not get its commit deployed under the
    tag's signature. Here the pin names another commit (itself signed, so that 'both' fails on the tag alone)."""
    tagged = _ssh_signed(upstream, ssh_signer)
    _ssh_signed(upstream, ssh_signer, tag="v1")
    other = _ssh_signed(upstream, ssh_signer, message="not the release")
    policy = SignaturePolicy(mode, (), ssh_signer["signers"])
    dest = tmp_path / "app"
    if existing:
        GitOpsSynchronizer(upstream.url, str(dest), signatures=policy).run("v1")
    with pytest.raises(SignatureError, match=f"tag 'v1' is signed, but it points at {tagged}, not at {other}"):
        GitOpsSynchronizer(upstream.url, str(dest), signatures=policy).run("refs/tags/v1", revision=other)
    if existing:
        assert run_git("-C", str(dest), "rev-parse", "HEAD") == tagged
    else:
        assert not dest.exists()
    assert GitOpsSynchronizer(upstream.url, str(dest), signatures=policy).run("refs/tags/v1", revision=tagged).plan.after == tagged


@pytest.mark.parametrize("where", ["global", "checkout"])
def test_the_hosts_ssh_signer_settings_play_no_part(upstream, tmp_path, monkeypatch, ssh_signer, gpg_identity, where):
    """Only OpenPGP keys are given: a commit SSH-signed by a key that some config file lists must still fail."""
    signers_file = tmp_path / "host-allowed-signers"
    signers_file.write_text(ssh_signer["signers"])
    policy = SignaturePolicy("commit", (gpg_identity.public,))
    dest = tmp_path / "app"
    if where == "global":
        home = tmp_path / "home"
        home.mkdir()
        (home / ".gitconfig").write_text(f'[gpg "ssh"]\n\tallowedSignersFile = {signers_file}\n')
        monkeypatch.setenv("HOME", str(home))
    else:
        GitOpsSynchronizer(upstream.url, str(dest)).run("main")
        run_git("-C", str(dest), "config", "gpg.ssh.allowedSignersFile", str(signers_file))
    before = run_git("-C", str(dest), "rev-parse", "HEAD") if where == "checkout" else None
    signed = _ssh_signed(upstream, ssh_signer)
    with pytest.raises(SignatureError, match=f"commit {signed} is"):
        GitOpsSynchronizer(upstream.url, str(dest), signatures=policy).run("main")
    assert (run_git("-C", str(dest), "rev-parse", "HEAD") if where == "checkout" else None) == before
    assert where == "checkout" or not Path(dest).exists()
