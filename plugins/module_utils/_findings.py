# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private: the drift findings, one readable line each, shared by the sync plan and the drift report."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from ansible_collections.fleetops.gitops.plugins.module_utils._checkout_state import CheckoutState, LocalChanges
from ansible_collections.fleetops.gitops.plugins.module_utils._history import Distance
from ansible_collections.fleetops.gitops.plugins.module_utils._url import RepoUrl, redact_text

_LISTED = 20


def short(sha: str | None) -> str:
    return sha[:12] if sha else "(none)"


def listing(paths: t.Sequence[str], limit: int = _LISTED) -> str:
    """At most ``limit`` names, then a count, so a huge untracked tree stays one readable line."""
    shown = ", ".join(paths[:limit])
    return f"{shown} and {len(paths) - limit} more" if len(paths) > limit else shown


@dataclass(frozen=True)
class Desired:
    """The checkout as it should be, and what the caller learned comparing it with the one found.

    ``branch`` is the branch HEAD should be on, or None when HEAD should be detached (a tag or a commit). The
    revision compared with ``revision`` is ``recorded`` (the one this collection last synced, the drift model's
    actual revision) when given, else HEAD; ``distance`` is between the two, asked by the caller, which needs it
    too (from the checkout's objects or a peek), and ``rewritten`` says the caller found the desired history
    rewritten (the same branch no longer holds it). ``head_distance`` is HEAD's from ``recorded``, when HEAD moved;
    ``url``, when given, is the repository the checkout's ``remote`` must name.
    """

    revision: str | None
    branch: str | None
    remote: str = "origin"
    distance: Distance | None = None
    rewritten: bool = False
    recorded: str | None = None
    head_distance: Distance | None = None
    url: RepoUrl | None = None


def find_drift(state: CheckoutState, desired: Desired) -> list[str]:
    """Everything that separates ``state`` from the ``desired`` checkout, one line each, saying what it compares."""
    if not state.exists:
        return [f"checkout is missing: {state.path} does not exist"]
    if state.empty:
        return [f"checkout is missing: {state.path} is an empty folder"]
    if not state.is_checkout:
        return [f"{state.path} {state.problem}"]
    findings = []
    if desired.url is not None and state.remote_url is None:
        findings.append(f"the checkout has no remote named '{desired.remote}'")
    elif desired.url is not None and not desired.url.same_repository(state.remote_url or ""):
        findings.append(f"remote URL differs: '{desired.remote}' is {redact_text(state.remote_url or '')}, expected {desired.url.display}")
    recorded, branch = desired.recorded, desired.branch
    actual, name = (recorded, "recorded") if recorded else (state.head, "HEAD")
    if state.head is None:
        findings.append("the checkout has no commit yet (an interrupted clone?)")
    elif desired.revision is not None and actual != desired.revision:
        findings.append(f"revision differs: {name} {short(actual)}, desired {short(desired.revision)} ({_describe(desired.distance, desired.rewritten)})")
    if recorded and state.head and state.head != recorded:
        findings.append(f"HEAD moved outside fleetops.gitops: recorded {short(recorded)}, HEAD {short(state.head)}{_moved(desired.head_distance)}")
    if branch is not None and state.branch is None:
        findings.append(f"detached HEAD, expected branch '{branch}'")
    elif branch is not None and state.branch != branch:
        findings.append(f"on branch '{state.branch}', expected '{branch}'")
    elif branch is None and state.branch is not None and desired.revision is not None:
        findings.append(f"on branch '{state.branch}', expected a detached HEAD at {short(desired.revision)}")
    return findings + change_findings(state.changes)


def change_findings(changes: LocalChanges, where: str = "") -> list[str]:
    """The drift lines of local changes (``where``: in what, when not the checkout itself)."""
    findings = []
    if changes.modified:
        findings.append(f"tracked files modified{where}: {listing(changes.modified)}")
    if changes.untracked:
        findings.append(f"untracked files{where}: {listing(changes.untracked)}")
    return findings


def _describe(distance: Distance | None, rewritten: bool) -> str:
    """The distance in words: (commits only the actual revision has, commits only the desired one has)."""
    if distance is None:
        return "distance unknown: the desired commit has not been fetched"
    ahead, behind = distance
    if ahead and rewritten:
        return f"history rewritten upstream: the deployed commit is no longer on the desired history ({_commits(behind)} behind, {ahead} ahead)"
    if ahead and behind:
        return f"diverged: {_commits(behind)} behind and {ahead} ahead"
    if ahead:
        return f"{_commits(ahead)} ahead: local commits not on the remote"
    return f"{_commits(behind)} behind"


def _moved(distance: Distance | None) -> str:
    """How HEAD relates to the recorded revision: (commits only HEAD has, commits only the recorded one has)."""
    if distance is None:
        return ""
    ahead, behind = distance
    if ahead and behind:
        return f" (diverged: HEAD has {_commits(ahead)} the recorded revision has not, and lacks {behind})"
    return f" (HEAD is {_commits(ahead)} ahead of it)" if ahead else f" (HEAD is {_commits(behind)} behind it)"


def _commits(count: int) -> str:
    return f"{count} commit" if count == 1 else f"{count} commits"
