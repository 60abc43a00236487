# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Test helper: real OpenPGP identities (gpg in a folder of their own) and SSH signing keys that sign real commits."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
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
        """Stop this identity's gpg-agent and remove its folder."""
        subprocess.run(["gpgconf", "--homedir", str(self.home), "--kill", "all"], check=False)
        shutil.rmtree(self.home, ignore_errors=True)


def make_gpg_identity(email: str = "signer@example.invalid") -> GpgIdentity:
    """A fresh key pair in a GNUPGHOME of its own under /tmp.

    The folder is short on purpose: gpg-agent's socket lives in it, and a socket path longer than 107 bytes (pytest's
    temporary folders under ansible-test's deep tests/output are longer) makes every secret-key operation fail. The
    agent is started and asked to answer before the key is made, because gpg's own autostart waits only a few seconds
    for it, which a loaded CI machine running one test worker per core can exceed; a failure says what gpg printed.
    """
    home = Path(tempfile.mkdtemp(prefix="gnupg-", dir="/tmp"))
    env = dict(os.environ, GNUPGHOME=str(home))
    generate = ["gpg", "--batch", "--no-tty", "--pinentry-mode", "loopback", "--passphrase", ""]
    generate += ["--quick-gen-key", f"Signer <{email}>", "ed25519", "sign", "never"]
    for attempt in range(3):
        subprocess.run(["gpgconf", "--homedir", str(home), "--launch", "gpg-agent"], env=env, check=False, timeout=60)
        subprocess.run(["gpg-connect-agent", "--no-autostart", "/bye"], env=env, check=False, capture_output=True, timeout=60)
        made = subprocess.run(generate, env=env, capture_output=True, text=True, timeout=120, check=False)
        if made.returncode == 0:
            break
        subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"], check=False)
        if attempt == 2:
            raise RuntimeError(f"gpg could not make a key (exit {made.returncode}): {made.stderr}")
    public = subprocess.run(["gpg", "--armor", "--export"], env=env, check=True, stdout=subprocess.PIPE, text=True).stdout
    return GpgIdentity(home, email, public)


def make_ssh_signer(folder: Path) -> dict[str, str]:
    """An SSH signing key in ``folder``: ``key`` (its path, for ``user.signingkey``) and ``signers`` (the line of an
    allowed-signers file that trusts it)."""
    key = folder / "signing"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    return {"key": str(key), "signers": f"signer@example.invalid {key.with_suffix('.pub').read_text()}"}
