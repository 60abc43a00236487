# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The revision skew: per repository, how many hosts run which commit, and which one was desired."""

from __future__ import annotations

from ansible_collections.fleetops.gitops.plugins.plugin_utils._report.records import CheckoutRecord
from ansible_collections.fleetops.gitops.plugins.plugin_utils._report.skew import CommitShare, revision_skew
from ansible_collections.fleetops.gitops.tests.unit.plugins.plugin_utils.report_samples import APP_REPO, DEPLOYED, DESIRED

OLD = "0" * 40


def _record(host: str, actual: str | None, desired: str | None = DESIRED, **fields: str) -> CheckoutRecord:
    values = {"path": "/srv/app", "repo": APP_REPO, "version": "main", **fields}
    return CheckoutRecord(host, desired_revision=desired, actual_revision=actual, **values)


def test_commits_are_counted_in_hosts_most_first_the_desired_one_marked():
    records = [
        _record("web10", DEPLOYED),
        _record("web2", DESIRED),
        _record("web1", DEPLOYED),
        _record("web1", DEPLOYED, path="/srv/app-copy"),  # the same host twice on one commit: one host
        _record("web3", OLD),
        _record("web4", None, version="v2"),  # a checkout that is missing
        _record("db1", DESIRED, repo="/srv/git/tools"),
        _record("db2", DESIRED, repo=""),  # no repository named: not in the view
    ]
    tools, app = revision_skew(records)  # in natural order of their URLs
    assert (app.repo, app.versions, app.hosts, app.skewed) == (APP_REPO, ("main", "v2"), 5, True)
    assert app.commits == (
        CommitShare(DEPLOYED, ("web1", "web10"), False),
        CommitShare(DESIRED, ("web2",), True),
        CommitShare(OLD, ("web3",), False),
        CommitShare(None, ("web4",), False),
    )
    assert (tools.repo, tools.commits, tools.skewed) == ("/srv/git/tools", (CommitShare(DESIRED, ("db1",), True),), False)


def test_a_desired_commit_no_host_runs_yet_is_listed_with_none():
    (app,) = revision_skew([_record("web1", DEPLOYED), _record("web2", DEPLOYED)])
    assert app.commits == (CommitShare(DEPLOYED, ("web1", "web2"), False), CommitShare(DESIRED, (), True))
    assert app.hosts == 2 and not app.skewed  # every host on one commit, if not the desired one


def test_no_repository_named_no_view():
    assert revision_skew([CheckoutRecord("web1", "/srv/app", actual_revision=DESIRED)]) == []
