# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Retention and the rollback target: which releases go, which one is the previous."""

from __future__ import annotations

import pytest

from ansible_collections.fleetops.gitops.plugins.module_utils._release_layout import Release
from ansible_collections.fleetops.gitops.plugins.module_utils._release_plan import previous_of, retained_out


@pytest.mark.parametrize(
    ("names", "current", "keep", "removed"),
    [
        (["a", "b", "c", "d"], "d", 2, ["a", "b"]),
        (["a", "b", "c", "d"], "d", 5, []),
        (["a", "b", "c", "d"], "b", 2, []),  # after a rollback to b: a is the one before it, c and d the newest
        (["a", "b", "c", "d", "e"], "b", 2, ["c"]),
        (["a"], "a", 2, []),
    ],
)
def test_retention_keeps_the_newest_the_current_and_the_one_before_it(names, current, keep, removed):
    assert retained_out(names, current, keep) == removed


def test_the_previous_release_is_the_one_made_before_the_current():
    releases = [Release(name, f"/r/{name}", name * 40, None) for name in "abc"]
    assert previous_of(releases, "c") == releases[1]
    assert previous_of(releases, "a") is None
    assert previous_of(releases, "z") is None
