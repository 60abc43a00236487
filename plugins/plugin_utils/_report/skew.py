# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private, controller side: the revision skew of a fleet - per repository, which commit how many hosts run.

A rollout half done, a host a play skipped, a branch that moved between two plays: each shows as more than one
commit for one repository. Only checkouts whose status names their repository count (``CheckoutRecord.repo``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ansible_collections.fleetops.gitops.plugins.plugin_utils._report.records import CheckoutRecord, natural_key


@dataclass(frozen=True)
class CommitShare:
    """One commit of a repository and the hosts running it; ``revision`` None: hosts whose revision is unknown."""

    revision: str | None
    hosts: tuple[str, ...]  # in natural order (web2 before web10)
    desired: bool  # the desired revision of at least one of the repository's checkouts


@dataclass(frozen=True)
class RepositorySkew:
    """The commits of one repository across the fleet, the most hosts first."""

    repo: str
    versions: tuple[str, ...]  # the versions its checkouts were asked for (main, v2.4.1...), sorted
    commits: tuple[CommitShare, ...]

    @property
    def hosts(self) -> int:
        """How many hosts have a checkout of the repository (a host with two counts once)."""
        return len({host for share in self.commits for host in share.hosts})

    @property
    def skewed(self) -> bool:
        """True when its hosts run more than one commit (an unknown revision counts as one)."""
        return sum(1 for share in self.commits if share.hosts) > 1


def revision_skew(records: Iterable[CheckoutRecord]) -> list[RepositorySkew]:
    """Per repository (in natural order), its commits: the most hosts first, then the desired one, then by SHA; the
    unknown revision last. A desired commit no host runs is listed too, with no hosts."""
    grouped: dict[str, list[CheckoutRecord]] = {}
    for record in records:
        if record.repo:
            grouped.setdefault(record.repo, []).append(record)
    return [_repository(repo, grouped[repo]) for repo in sorted(grouped, key=natural_key)]


def _repository(repo: str, records: list[CheckoutRecord]) -> RepositorySkew:
    hosts: dict[str | None, set[str]] = {}
    for record in records:
        hosts.setdefault(record.actual_revision, set()).add(record.host)
    desired = {record.desired_revision for record in records if record.desired_revision}
    for revision in desired:
        hosts.setdefault(revision, set())
    shares = [CommitShare(revision, tuple(sorted(names, key=natural_key)), revision in desired) for revision, names in hosts.items()]
    shares.sort(key=lambda share: (share.revision is None, -len(share.hosts), not share.desired, share.revision or ""))
    versions = tuple(sorted({record.version for record in records if record.version}))
    return RepositorySkew(repo, versions, tuple(shares))
