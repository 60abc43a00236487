# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private: signed commits and tags, verified against the keys the user gives and nothing else.

Verdicts come from exit codes and git's signature status code (``%G?``), never
from reading gpg's or ssh-keygen's messages. Keys live in a private temporary
GNUPGHOME and allowed-signers file, so the host's keyrings and trust play no part.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import typing as t
from dataclasses import dataclass

from ansible_collections.fleetops.gitops.plugins.module_utils._errors import GitOpsError, InvalidOption
from ansible_collections.fleetops.gitops.plugins.module_utils._git import GitRunner
from ansible_collections.fleetops.gitops.plugins.module_utils._refs import TAG, Target

MODES = ("none", "commit", "tag", "both")
_GPG_TIMEOUT = 30


class SignatureError(GitOpsError):
    """The commit or tag is not signed by a key the user trusts; nothing was changed."""

    def details(self) -> dict[str, t.Any]:
        return {"option": "verify_commit"}


@dataclass(frozen=True)
class SignaturePolicy:
    """What must be signed (``mode``) and by whom: OpenPGP public keys and/or SSH allowed signers."""

    mode: str = "none"
    gpg_keys: tuple[str, ...] = ()
    allowed_signers: str | None = None

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise InvalidOption("verify_commit", f"must be one of {', '.join(MODES)}, not '{self.mode}'")
        if self.mode != "none" and not (self.gpg_keys or self.allowed_signers):
            raise InvalidOption("verify_commit", "needs gpg_keys or allowed_signers: the keys whose signatures count")

    @property
    def enabled(self) -> bool:
        return self.mode != "none"

    def check_target(self, target: Target) -> None:
        if self.mode in ("tag", "both") and target.kind != TAG:
            raise InvalidOption("verify_commit", f"'{self.mode}' needs version to be a tag, and {target.describe()} is not one")


def verify(git: GitRunner, path: str, target: Target, policy: SignaturePolicy) -> None:
    """Raise SignatureError unless ``target`` is signed as ``policy`` demands (its objects must be in ``path``)."""
    if not policy.enabled:
        return
    policy.check_target(target)
    folder = git.private_dir()
    try:
        config, env = _trust(folder, policy)
        if policy.mode in ("commit", "both"):
            ok = git.run([*config, "-C", path, "verify-commit", target.sha], env=env, ok=range(256)).rc == 0
            code = git.run([*config, "-C", path, "log", "-1", "--format=%G?", target.sha, "--"], env=env).stdout.strip()
            if not (ok and code == "G"):
                raise SignatureError(f"verify_commit: commit {target.sha} is {_VERDICTS.get(code, 'not verified')} "
                                     f"(git signature status '{code}'); the checkout was left as it was")
        if policy.mode in ("tag", "both"):
            if git.run([*config, "-C", path, "verify-tag", f"refs/tags/{target.name}"], env=env, ok=range(256)).rc != 0:
                raise SignatureError(f"verify_commit: tag '{target.name}' is not signed by a trusted key; the checkout was left as it was")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


_VERDICTS = {
    "N": "not signed", "B": "signed, but the signature is bad", "U": "signed by a key that is not trusted",
    "X": "signed, but the signature has expired", "Y": "signed by a key that has expired",
    "R": "signed by a revoked key", "E": "signed by an unknown key",
}


def _trust(folder: str, policy: SignaturePolicy) -> tuple[list[str], dict[str, str]]:
    """git -c options and environment that make the given keys - and only them - trusted."""
    config = ["-c", "gpg.minTrustLevel=fully"]
    home = os.path.join(folder, "gnupg")
    os.mkdir(home, 0o700)
    if policy.gpg_keys:
        _gpg(home, ["--import"], "\n".join(policy.gpg_keys))
        listing = _gpg(home, ["--with-colons", "--fingerprint", "--list-keys"], "")
        fingerprints = [line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr:")]
        _gpg(home, ["--import-ownertrust"], "".join(f"{fpr}:6:\n" for fpr in fingerprints))
    if policy.allowed_signers:
        signers = os.path.join(folder, "allowed_signers")
        with open(signers, "w", encoding="utf-8") as handle:
            handle.write(policy.allowed_signers.rstrip("\n") + "\n")
        config += ["-c", f"gpg.ssh.allowedSignersFile={signers}"]
    return config, {"GNUPGHOME": home}


def _gpg(home: str, args: list[str], data: str) -> str:
    gpg = shutil.which("gpg")
    if gpg is None:
        raise InvalidOption("gpg_keys", "gpg is not installed on the managed host")
    result = subprocess.run(  # noqa: S603 - argv list, no shell
        [gpg, "--batch", "--no-tty", "--quiet", "--homedir", home, *args], input=data.encode(), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, timeout=_GPG_TIMEOUT, check=False,
    )
    if result.returncode != 0:
        raise InvalidOption("gpg_keys", f"gpg could not read the keys (exit code {result.returncode})")
    return result.stdout.decode("utf-8", errors="replace")
