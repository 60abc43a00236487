# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private: signed commits and tags, verified against the keys the user gives and nothing else.

Verdicts come from exit codes and git's signature status code (``%G?``), never
from reading gpg's or ssh-keygen's messages. Keys live in a private temporary
GNUPGHOME and allowed-signers file, so the host's keyrings and trust play no part.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from ansible_collections.fleetops.gitops.plugins.module_utils._errors import GitCommandError, GitOpsError, InvalidOption
from ansible_collections.fleetops.gitops.plugins.module_utils._git import GitRunner
from ansible_collections.fleetops.gitops.plugins.module_utils._history import Where
from ansible_collections.fleetops.gitops.plugins.module_utils._private_dir import PrivateDir
from ansible_collections.fleetops.gitops.plugins.module_utils._refs import TAG, Target

MODES = ("none", "commit", "tag", "both")


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

    @classmethod
    def from_params(cls, params: t.Mapping[str, t.Any]) -> SignaturePolicy:
        """The policy the module options ``verify_commit``, ``gpg_keys`` and ``allowed_signers`` describe."""
        return cls(params.get("verify_commit") or "none", tuple(params.get("gpg_keys") or ()), params.get("allowed_signers"))

    @property
    def enabled(self) -> bool:
        return self.mode != "none"

    def check_target(self, target: Target) -> None:
        if self.mode in ("tag", "both") and target.kind != TAG:
            raise InvalidOption("verify_commit", f"'{self.mode}' needs version to be a tag, and {target.describe()} is not one")


def verify(git: GitRunner, where: Where, target: Target, policy: SignaturePolicy) -> None:
    """Raise SignatureError unless ``target`` is signed as ``policy`` demands (its objects must be in ``where``).

    What is verified is bound to what is deployed: ``target.sha`` is the commit checked out, and a tag counts
    only when the tag object verified points at exactly that commit.
    """
    if not policy.enabled:
        return
    policy.check_target(target)
    with git.private_dir() as folder:
        config, trust = _trust(git, folder, policy)
        env = dict(where.env, **trust)
        if policy.mode in ("commit", "both"):
            ok = git.run([*config, *where.args, "verify-commit", "--", target.sha], env=env, ok=range(256)).rc == 0
            code = git.run([*config, *where.args, "log", "-1", "--format=%G?", target.sha, "--"], env=env).stdout.strip()
            if not (ok and code == "G"):
                raise SignatureError(
                    f"verify_commit: commit {target.sha} is {_VERDICTS.get(code, 'not verified')} "
                    f"(git signature status '{code}'); the checkout was left as it was"
                )
        if policy.mode in ("tag", "both"):
            _verify_tag(git, where, target, config, env)


def _verify_tag(git: GitRunner, where: Where, target: Target, config: list[str], env: dict[str, str]) -> None:
    """The tag object is read once, then verified and followed by its id: a ref moved meanwhile changes nothing."""
    found = git.run([*where.args, "rev-parse", "--verify", "--quiet", "--end-of-options", f"refs/tags/{target.name}"], ok=(0, 1), env=where.env).stdout.strip()
    if not found or git.run([*config, *where.args, "verify-tag", "--", found], env=env, ok=range(256)).rc != 0:
        raise SignatureError(f"verify_commit: tag '{target.name}' is not signed by a trusted key; the checkout was left as it was")
    points_at = git.run([*where.args, "rev-parse", "--verify", "--end-of-options", f"{found}^{{commit}}"], env=where.env).stdout.strip()
    if points_at != target.sha:
        raise SignatureError(
            f"verify_commit: tag '{target.name}' is signed, but it points at {points_at}, not at {target.sha}, the commit "
            "that would be deployed (the remote answered differently when asked twice, or the pin is not that tag's); "
            "the checkout was left as it was"
        )


_VERDICTS = {
    "N": "not signed",
    "B": "signed, but the signature is bad",
    "U": "signed by a key that is not trusted",
    "X": "signed, but the signature has expired",
    "Y": "signed by a key that has expired",
    "R": "signed by a revoked key",
    "E": "signed by an unknown key",
}


def _trust(git: GitRunner, folder: PrivateDir, policy: SignaturePolicy) -> tuple[list[str], dict[str, str]]:
    """git -c options and environment that make the given keys - and only them - trusted.

    Every setting that decides whom a signature may come from is given on the command line, so no config
    file of the host or the checkout adds a signer: a private GNUPGHOME for OpenPGP and X.509, our own
    allowed-signers file for SSH (empty when no SSH signer is given) and no revocation list but ours.
    """
    home = folder.folder("gnupg")
    signers = folder.write("allowed_signers", (policy.allowed_signers or "").rstrip("\n") + "\n", 0o644)
    revoked = folder.write("revoked_signers", "", 0o644)
    config = ["-c", "gpg.minTrustLevel=fully", "-c", f"gpg.ssh.allowedSignersFile={signers}", "-c", f"gpg.ssh.revocationFile={revoked}"]
    if policy.gpg_keys:
        _gpg(git, home, ["--import"], "\n".join(policy.gpg_keys))
        listing = _gpg(git, home, ["--with-colons", "--fingerprint", "--list-keys"], "")
        fingerprints = [line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr:")]
        _gpg(git, home, ["--import-ownertrust"], "".join(f"{fpr}:6:\n" for fpr in fingerprints))
    return config, {"GNUPGHOME": home}


def _gpg(git: GitRunner, home: str, args: list[str], data: str) -> str:
    try:
        return git.gpg(["--homedir", home, *args], data, summary="gpg_keys").stdout
    except GitCommandError as error:
        raise InvalidOption("gpg_keys", f"gpg could not read the keys (exit code {error.rc})") from None
