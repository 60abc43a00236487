# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures of the report tests."""

from __future__ import annotations

import pytest

from ansible_collections.fleetops.gitops.plugins.plugin_utils._report import FleetReport
from ansible_collections.fleetops.gitops.tests.unit.plugins.plugin_utils.report_samples import fill_sample


@pytest.fixture
def sample_report() -> FleetReport:
    """Four hosts, seven checkouts: 3 in sync, 2 drifted, 1 error, 1 unknown."""
    return fill_sample(FleetReport())
