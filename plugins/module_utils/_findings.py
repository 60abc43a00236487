# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private: the drift findings, one readable line each, shared by the sync plan and the drift report."""

from __future__ import annotations

import typing as t

from ansible_collections.fleetops.gitops.plugins.module_utils._checkout_state import CheckoutState
from ansible_collections.fleetops.gitops.plugins.module_utils._git import GitRunner
from ansible_collections.fleetops.gitops.plugins.module_utils._history import Distance, distance_between
from ansible_collections.fleetops.gitops.plugins.module_utils._peek import ahead_behind
from ansible_collections.fleetops.gitops.plugins.module_utils._url import RepoUrl, redact_text

_LISTED = 20


def short(sha: str | None) -> str:
    return sha[:12] if sha else "(none)"


def listing(paths: t.Sequence[str], limit: int = _LISTED) -> str:
    """At most ``limit`` names, then a count, so a huge untracked tree stays one readable line."""
    shown = ", ".join(paths[:limit])
    return f"{shown} and {len(paths) - limit} more" if len(paths) > limit else shown


def find_drift(
    git: GitRunner,
    state: CheckoutState,
    *,
    desired: str | None,
    branch: str | None,
    remote: str,
    distance: Distance | None,
    expected_url: RepoUrl | None = None,
    last_revision: str | None = None,
    peek_url: str | None = None,
) -> list[str]:
    """Everything that separates ``state`` from the desired checkout.

    ``branch`` is the branch HEAD should be on, or None when HEAD should be
    detached (a tag or a commit). ``distance`` is ``local_distance``'s answer,
    asked by the caller, which needs it too. ``last_revision`` is the commit
    this collection last synced, used to tell rewritten upstream history apart.
    With ``peek_url``, a desired commit not fetched yet is looked at in a
    throwaway repository, so that the distance can still be told.
    """
    if not state.exists:
        return [f"checkout is missing: {state.path} does not exist"]
    if state.empty:
        return [f"checkout is missing: {state.path} is an empty folder"]
    if not state.is_checkout:
        return [f"{state.path} {state.problem}"]
    findings = []
    if expected_url is not None and state.remote_url is None:
        findings.append(f"the checkout has no remote named '{remote}'")
    elif expected_url is not None and not expected_url.same_repository(state.remote_url or ""):
        findings.append(f"remote URL differs: '{remote}' is {redact_text(state.remote_url or '')}, expected {expected_url.display}")
    if state.head is None:
        findings.append("the checkout has no commit yet (an interrupted clone?)")
    elif desired is not None and state.head != desired:
        findings.append(f"revision differs: deployed {short(state.head)}, desired {short(desired)} "
                        f"({_describe(git, state, desired, distance, last_revision, peek_url)})")
    if branch is not None and state.branch is None:
        findings.append(f"detached HEAD, expected branch '{branch}'")
    elif branch is not None and state.branch != branch:
        findings.append(f"on branch '{state.branch}', expected '{branch}'")
    elif branch is None and state.branch is not None and desired is not None:
        findings.append(f"on branch '{state.branch}', expected a detached HEAD at {short(desired)}")
    if state.changes.modified:
        findings.append(f"tracked files modified: {listing(state.changes.modified)}")
    if state.changes.untracked:
        findings.append(f"untracked files: {listing(state.changes.untracked)}")
    return findings


def local_distance(git: GitRunner, state: CheckoutState, desired: str | None) -> Distance | None:
    """How far HEAD is from ``desired`` in the checkout's own objects, with one ``git rev-list``.

    None when HEAD is the desired commit, or when either commit, or the history between them, is not here.
    """
    if not state.head or not desired or state.head == desired:
        return None
    return distance_between(git, state.path, state.head, desired)


def _describe(git: GitRunner, state: CheckoutState, desired: str, distance: Distance | None, last_revision: str | None,
              peek_url: str | None) -> str:
    """The distance in words: from the checkout's objects, else (with ``peek_url``) from a peek."""
    if distance is None and peek_url:
        distance = ahead_behind(git, state.git_dir or "", state.head or "", peek_url, desired)
    if distance is None:
        return "distance unknown: the desired commit has not been fetched"
    ahead, behind = distance
    if ahead and last_revision == state.head:
        return (f"history rewritten upstream: the deployed commit is no longer on the desired history "
                f"({behind} behind, {ahead} ahead)")
    if ahead and behind:
        return f"diverged: {_commits(behind)} behind and {ahead} ahead"
    if ahead:
        return f"{_commits(ahead)} ahead: local commits not on the remote"
    return f"{_commits(behind)} behind"


def _commits(count: int) -> str:
    return f"{count} commit" if count == 1 else f"{count} commits"
