# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private: what a ``version`` means - a branch, a tag or a commit - and what it points to on a remote."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ansible_collections.fleetops.gitops.plugins.module_utils._errors import InvalidOption, RefNotFound
from ansible_collections.fleetops.gitops.plugins.module_utils._git import GitRunner, Remote
from ansible_collections.fleetops.gitops.plugins.module_utils._text import strip_prefix
from ansible_collections.fleetops.gitops.plugins.module_utils._url import reject_control_characters, reject_option_like

BRANCH = "branch"
TAG = "tag"
COMMIT = "commit"

_SHA = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
_REMOTE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_FORBIDDEN_IN_REF = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]")


@dataclass(frozen=True)
class Target:
    """A version resolved to one commit: ``kind`` says whether HEAD stays on a branch or detaches."""

    kind: str
    name: str | None
    sha: str

    @property
    def branch(self) -> str | None:
        return self.name if self.kind == BRANCH else None

    def refspec(self, remote: str) -> str:
        """What ``git fetch`` asks for to bring this commit, updating the matching local ref."""
        if self.kind == BRANCH:
            return f"+refs/heads/{self.name}:refs/remotes/{remote}/{self.name}"
        if self.kind == TAG:
            return f"+refs/tags/{self.name}:refs/tags/{self.name}"
        return self.sha

    def describe(self) -> str:
        if self.kind == COMMIT:
            return f"commit {self.sha}"
        return f"{self.kind} '{self.name}' ({self.sha})"


def is_commit_sha(value: str) -> bool:
    return bool(_SHA.match(value))


def validate_ref_name(option: str, value: str) -> None:
    """Apply git's check-ref-format rules in Python, so a bad name never reaches a git process."""
    reject_control_characters(option, value)
    reject_option_like(option, value)
    problem = _ref_name_problem(value)
    if problem:
        raise InvalidOption(option, f"'{value}' is not a valid git branch, tag or commit: {problem}")


def _ref_name_problem(value: str) -> str:
    if not value:
        return "it is empty"
    if value == "@" or "@{" in value:
        return "it must not be '@' or contain '@{'"
    if _FORBIDDEN_IN_REF.search(value):
        return "it contains a space, a control character or one of ~ ^ : ? * [ \\"
    if ".." in value or "//" in value or value.startswith("/") or value.endswith(("/", ".")):
        return "it contains '..' or '//', or starts or ends with '/' or '.'"
    for part in value.split("/"):
        if part.startswith(".") or part.endswith(".lock"):
            return "a part starts with '.' or ends with '.lock'"
    return ""


def validate_remote_name(option: str, value: str) -> None:
    reject_control_characters(option, value)
    reject_option_like(option, value)
    if not _REMOTE_NAME.match(value):
        raise InvalidOption(option, f"'{value}' is not a valid remote name (letters, digits, '.', '_' and '-')")


def resolve(git: GitRunner, url: str, version: str, *, shown_url: str, option: str = "version") -> Target:
    """Ask the remote, read-only, which commit ``version`` names; one ``git ls-remote``.

    A full commit SHA needs no query: whether the remote has it shows at fetch time.
    """
    if is_commit_sha(version):
        return Target(COMMIT, None, version)
    if version == "HEAD":
        return _resolve_default_branch(git, url, shown_url, option)
    name = strip_prefix(strip_prefix(version, "refs/heads/"), "refs/tags/")
    wanted = [f"refs/heads/{name}", f"refs/tags/{name}", f"refs/tags/{name}^{{}}"]
    if version.startswith("refs/tags/"):
        wanted = wanted[1:]
    elif version.startswith("refs/heads/"):
        wanted = wanted[:1]
    refs = _ls_remote(git, url, wanted, f"cannot resolve {option} '{name}' on {shown_url}")
    if f"refs/heads/{name}" in refs:
        return Target(BRANCH, name, refs[f"refs/heads/{name}"])
    tag = refs.get(f"refs/tags/{name}^{{}}") or refs.get(f"refs/tags/{name}")
    if tag:
        return Target(TAG, name, tag)
    hint = "branches and tags are matched by name; a commit needs its full SHA" if re.match(r"^[0-9a-f]{4,39}$", version) else ""
    raise RefNotFound(option, version, shown_url, hint)


def _resolve_default_branch(git: GitRunner, url: str, shown_url: str, option: str) -> Target:
    out = git.run(
        ["ls-remote", "--symref", "--", Remote(url), "HEAD"], network=True, summary=f"cannot resolve {option} 'HEAD' (the default branch) on {shown_url}"
    ).stdout
    branch = sha = None
    for line in out.splitlines():
        if line.startswith("ref: refs/heads/") and line.endswith("\tHEAD"):
            branch = strip_prefix(line.partition("\t")[0], "ref: refs/heads/")  # a ref name holds no tab
        elif line.endswith("\tHEAD"):
            sha = line.split("\t", 1)[0]
    if not sha:
        raise RefNotFound(option, "HEAD", shown_url, "the remote has no default branch")
    return Target(BRANCH, branch, sha) if branch else Target(COMMIT, None, sha)


def _ls_remote(git: GitRunner, url: str, patterns: list[str], summary: str) -> dict[str, str]:
    out = git.run(["ls-remote", "--", Remote(url), *patterns], summary=summary, network=True).stdout
    refs = {}
    for line in out.splitlines():
        sha, _tab, ref = line.partition("\t")
        refs[ref] = sha
    return refs
