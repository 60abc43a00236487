# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Test helper: real OpenPGP identities (gpg in a folder of their own) and SSH signing keys that sign real commits."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class GpgIdentity:
    """A key pair in its own GNUPGHOME; ``public`` is the armored public key a task gives as ``gpg_keys``."""

    home: Path
    email: str
    public: str

    def sign_commit(self, repository: Path, message: str = "signed") -> None:
        """An empty commit on the current branch of ``repository``, signed with this key."""
        env = dict(
            os.environ, GNUPGHOME=str(self.home), GIT_AUTHOR_NAME="S", GIT_AUTHOR_EMAIL=self.email, GIT_COMMITTER_NAME="S", GIT_COMMITTER_EMAIL=self.email
        )
        subprocess.run(
            ["git", "-C", str(repository), "-c", f"user.signingKey={self.email}", "commit", "--quiet", "--allow-empty", "-S", "-m", message],
            env=env,
            check=True,
        )

    def stop_agent(self) -> None:
        subprocess.run(["gpgconf", "--homedir", str(self.home), "--kill", "all"], check=False)


def make_gpg_identity(home: Path, email: str = "signer@example.invalid") -> GpgIdentity:
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    env = dict(os.environ, GNUPGHOME=str(home))
    subprocess.run(
        ["gpg", "--batch", "--passphrase", "", "--quick-gen-key", f"Signer <{email}>", "ed25519", "sign", "never"],
        env=env,
        check=True,
        stderr=subprocess.DEVNULL,
    )
    public = subprocess.run(["gpg", "--armor", "--export"], env=env, check=True, stdout=subprocess.PIPE, text=True).stdout
    return GpgIdentity(home, email, public)


def make_ssh_signer(folder: Path) -> dict[str, str]:
    """An SSH signing key in ``folder``: ``key`` (its path, for ``user.signingkey``) and ``signers`` (the line of an
    allowed-signers file that trusts it)."""
    key = folder / "signing"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    return {"key": str(key), "signers": f"signer@example.invalid {key.with_suffix('.pub').read_text()}"}
